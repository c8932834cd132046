"""The reference Resource Monitor: a faithful model of how the RM drives a resource DLL.

What it does, and where the docs say so:

* Startup once per monitor (one type), before anything else (ST-2, CX-5).
* Open with the resource's cluster-database key and a ResourceHandle (OP-1).
* Online/Offline: ERROR_SUCCESS completes at once; ERROR_IO_PENDING moves the resource to
  OnlinePending/OfflinePending (PO-3) and SetResourceStatus reports drive it on; if
  PendingTimeout passes with no update, Terminate (PO-6). Any other return: log an event and
  call Terminate (ON-3, OF-2).
* Polling only while Online: LooksAlive every LooksAlivePollInterval (never when Online
  returned an EventHandle, LA-8); FALSE -> IsAlive at once (LA-3); IsAlive every
  IsAlivePollInterval (IA-2); FALSE -> ClusterResourceFailed and Terminate (IA-4).
* Concurrency: every entry point except Terminate is serialised (RM-4, CX-3); Terminate may
  overlap anything but Startup, Open and Close (CX-1, CX-2).
* After Terminate, SetResourceStatus answers ResourceExitStateTerminate (RS-2).
* A failure's Terminate (IsAlive FALSE, PendingTimeout, an error from Online/Offline) is
  decided and carried out before anything else happens to the resource: the next Online
  waits for it, so a late Terminate never hits a later operation.
* Nothing is called before Startup succeeded, for a NULL entry point, after Close, or once a
  call outlived DeadlockTimeout (the monitor is then wedged); refused calls are not traced as
  calls.
* A BOOL is read as C reads it: nonzero is TRUE (`resapi.BOOL_is_TRUE`).
* Restart policy (FP-8..FP-12, FP-18..FP-20): after a failure, unless RestartAction is
  ClusterResourceDontRestart, Online again after RestartDelay, at most RestartThreshold times
  per RestartPeriod; beyond that the group would fail over (one node here), so the resource
  stays failed for RetryPeriodOnFailure and gets one last Online. Anything the scenario asks
  for cancels a planned restart.

Everything goes into the `Trace`. The monitor judges nothing: checks read the trace.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance import resutils
from conformance.clusapi import HKEY, ClusterDatabase, InMemoryClusterDatabase
from conformance.logformat import format_message
from conformance.monitor.host import CallOutcome, Host, QuorumLost, current_entry
from conformance.monitor.policy import Policy
from conformance.protocol.values import plain
from conformance.resapi import (
    CLRES_VERSION_V1_00,
    DWORD_MAX,
    ERROR_IO_PENDING,
    ERROR_SUCCESS,
    HANDLE,
    REG_BINARY,
    REG_DWORD,
    REG_MULTI_SZ,
    REG_QWORD,
    REG_SZ,
    RESOURCE_HANDLE,
    V1_ENTRY_POINTS,
    BOOL_is_TRUE,
    ClusterResourceDontRestart,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOfflinePending,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
    ClusterResourceRestartNotify,
    ClusterResourceStateUnknown,
    ControlCode,
    GetLastError,
    ResourceExitStateContinue,
    ResourceExitStateTerminate,
    error_name,
    observe_last_error,
    state_name,
)
from conformance.runtime.script_events import observe_script
from conformance.runtime.threads import all_stacks, spawn
from conformance.runtime.trace import CALL, CALLBACK, Trace, TraceEvent

#: The largest LogEvent entry the cluster log keeps (LG-3).
LOG_ENTRY_LIMIT = 500
#: Entries the monitor's cluster log keeps (the latest ones; memory stays bounded).
CLUSTER_LOG_KEPT = 10_000
#: How often a signalled failure event is looked for (the monitor waits on it, LA-8).
EVENT_CHECK_S = 0.01
#: Evidence kept when a call outlives DeadlockTimeout: per thread, and in all.
STACKS_LIMIT = 6000
_NOT_CALLED = object()
#: What an OutBuffer holds before a control call (anything the DLL writes is told apart).
OUT_FILL = 0xA5
#: Bytes of an OutBuffer kept in the trace.
CONTROL_OUT_SHOWN = 1024
#: The largest OutBuffer the monitor hands a DLL, and what it keeps of a write past one.
CONTROL_OUT_LIMIT = 1 << 20
OVERRUN_KEPT = 4096


class MonitorError(Exception):
    """The scenario cannot go on; ``event`` is the trace event that shows why."""

    def __init__(self, message: str, event: TraceEvent | None = None):
        super().__init__(message)
        self.event = event


class EntryPointHung(MonitorError):
    """An entry point did not return within DeadlockTimeout; the monitor is now unusable."""


class RunAbandoned(MonitorError):
    """The harness gave up on the run (its wall-clock budget was spent): nothing is blamed."""


class HostCrashed(MonitorError):
    """The target ended its host process (isolated hosting); nothing more can be called."""


class OperationPending(MonitorError):
    """Online or Offline was asked while the other (or the same) is pending. The cluster
    service refuses a state change until a pending one ends ([MS-CMRP] ApiOfflineResource:
    ERROR_INVALID_STATE unless the resource is Online, Offline or Failed); it cuts one short
    only with Terminate."""


class EntryPointNull(MonitorError):
    """The scenario needs an entry point that the function table leaves NULL."""


class StartupFailed(MonitorError):
    """Startup gave no usable table; ``cause`` is ``"status"`` (it failed, raised or gave
    something else than a status and a table) or ``"table-version"`` (ST-8)."""

    def __init__(self, message: str, event: TraceEvent | None = None, cause: str = "status"):
        super().__init__(message, event)
        self.cause = cause


@dataclass
class PendingOperation:
    """One Online or Offline call and the status reports that belong to it."""

    op: int
    entry: str
    target: int  # the state a successful operation ends in
    in_call: bool = True  # the Online/Offline call has not returned yet
    returned_pending: bool = False
    last_update: float = 0.0
    done: bool = False
    terminated: bool = False


@dataclass
class ControlResult:
    """What a ResourceControl or ResourceTypeControl call left behind, as its caller sees it."""

    event: TraceEvent
    returned: bool  # came back (did not raise, hang or end the host)
    status: Any  # the status, when the result had the pinned shape (judge with `dword`)
    bytes_returned: Any
    out: bytes | None  # the caller's OutBuffer after the call (None: the call had none)
    out_size: int | None  # OutBufferSize (None: a NULL OutBuffer)
    fill: int  # the byte the OutBuffer was filled with before the call
    grown_to: int | None = None  # the length the DLL made its bytearray, past OutBufferSize
    overrun: bytes = b""  # what it wrote past the end (the first OVERRUN_KEPT bytes)

    @property
    def shaped(self) -> bool:
        """The result was ``(status, BytesReturned)``, as the pinned mapping says."""
        return self.event.data.get("shaped", False)

    @property
    def overran(self) -> bool:
        """The DLL made the OutBuffer longer: in C, a write past the end of the caller's
        buffer. (A shorter bytearray is read as a write of that many bytes.)"""
        return self.grown_to is not None

    @property
    def written(self) -> int:
        """How far into the OutBuffer the DLL wrote: the end of the last byte that differs
        from the fill (a lower bound: a written byte may equal the fill)."""
        return len(self.out.rstrip(bytes([self.fill]))) if self.out else 0

    @property
    def data(self) -> bytes:
        """The output the caller reads: BytesReturned bytes of the OutBuffer."""
        if self.out is None or dword(self.bytes_returned) is None:
            return b""
        return self.out[: min(self.bytes_returned, len(self.out))]


def dword(value: Any) -> int | None:
    """``value`` when it is a DWORD (an int in 0..0xFFFFFFFF, not a bool), else None."""
    return value if type(value) is int and 0 <= value <= DWORD_MAX else None


@dataclass
class Resource:
    monitor: ResourceMonitor
    name: str
    handle: RESOURCE_HANDLE
    key: HKEY
    common: dict[str, int] = field(default_factory=dict)
    resid: Any = None
    opened: bool = False
    in_open: bool = False  # Open is running: the DLL has the handle, not yet a RESID
    quorum_owner: bool = False  # Arbitrate succeeded, and no Release or LostQuorumResource since
    closing: bool = False
    closed: bool = False
    open_error: int | None = None
    state: int = ClusterResourceOffline
    pending: PendingOperation | None = None
    generation: int = 0  # counts Online/Offline calls: a stale decision checks it
    terminated_at: float | None = None  # perf_counter of the last Terminate
    terminating: int = 0  # Terminate calls decided and not yet returned
    event_handle: Any = None
    looks_alive_off: bool = False  # Online returned an EventHandle (LA-8)
    failures: list[float] = field(default_factory=list)  # perf_counter of each failure
    restart_plan: tuple[str, float] | None = None  # ("restart" | "retry", delay s) after Terminate
    restart_at: float | None = None
    retried: bool = False  # the one last attempt after RetryPeriodOnFailure was made
    polls: dict[str, int] = field(default_factory=lambda: {"LooksAlive": 0, "IsAlive": 0})
    #: Every change of the fields above is made under ``cond`` and announced on it.
    cond: threading.Condition = field(init=False)
    #: The supervisor's own condition, on the same lock: waking it on every change would cost
    #: a thread switch per call, so `ResourceMonitor._changed` wakes it only when it must act
    #: before the time it sleeps until (``sleeping_until``; None while it is awake).
    timer: threading.Condition = field(init=False)
    sleeping_until: float | None = None
    polls_for: int | None = None  # the Online (generation) the supervisor's poll times are for

    def __post_init__(self) -> None:
        lock = threading.RLock()
        self.cond, self.timer = threading.Condition(lock), threading.Condition(lock)

    # --- the operations a scenario asks for --------------------------------------------------
    def online(self, wait: bool = True, timeout: float | None = None) -> int:
        return self.monitor._online_offline(self, "Online", wait, timeout)

    def offline(self, wait: bool = True, timeout: float | None = None) -> int:
        return self.monitor._online_offline(self, "Offline", wait, timeout)

    def terminate(self) -> None:
        self.monitor._terminate(self, reason="requested")

    def close(self) -> None:
        self.monitor._close(self)

    def looks_alive(self) -> Any:
        return self.monitor._poll_call(self, "LooksAlive")

    def is_alive(self) -> Any:
        return self.monitor._poll_call(self, "IsAlive")

    def control(
        self,
        ControlCode: int,
        InBuffer: bytes | None = None,
        OutBufferSize: int | None = None,
        fill: int = OUT_FILL,
    ) -> ControlResult:
        """ResourceControl; ``OutBufferSize`` None passes a NULL OutBuffer."""
        self.monitor._require_open(self)
        return self.monitor._control(
            "ResourceControl", self, self.resid, ControlCode, InBuffer, OutBufferSize, fill
        )

    def arbitrate(self) -> Any:
        """Arbitrate (AR-2); the status it returned, or None if it did not return."""
        return self.monitor._arbitrate(self)

    def release(self) -> Any:
        """Release (RL-1); the status it returned, or None if it did not return."""
        return self.monitor._release(self)

    def poll_while_up(self, entry: str) -> bool:
        """LooksAlive or IsAlive, only while the resource is Online with nothing pending, or
        while a Terminate of it runs (the two may overlap, TE-4). True if the call was made."""
        return self.monitor._poll_call(self, entry, while_up=True) is not _NOT_CALLED

    def wait_state(self, states: set[int], timeout: float) -> bool:
        """Wait until the resource is in one of ``states``, nothing is pending and no
        Terminate is under way."""
        deadline = time.perf_counter() + timeout
        with self.cond:
            while not (self.state in states and self.pending is None and not self.terminating):
                left = deadline - time.perf_counter()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def wait_polls(self, entry: str, count: int, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        with self.cond:
            while self.polls[entry] < count:
                left = deadline - time.perf_counter()
                if left <= 0 or self.state != ClusterResourceOnline:
                    return self.polls[entry] >= count
                self.cond.wait(left)
            return True

    def setting(self, name: str) -> int:
        """A common property: the resource's own value, else the documented default."""
        return int(self.common.get(name, getattr(self.monitor.policy, name)))

    def interval(self, name: str) -> float:
        """A timer property (poll intervals, PendingTimeout, restart timers), scaled, in s."""
        return self.monitor.policy.seconds(self.setting(name))

    def properties(self) -> dict[str, Any]:
        """The private properties in the resource's ``Parameters`` key, as the DLL sees them."""
        values = self.monitor.db.values(f"{self.key.path}\\Parameters")
        return {name: value for name, (_type, value) in values.items()}


class ResourceMonitor:
    """One Resource Monitor hosting one resource type through a `Host`."""

    def __init__(
        self,
        host: Host,
        resource_type: str,
        policy: Policy | None = None,
        trace: Trace | None = None,
        database: ClusterDatabase | None = None,
    ) -> None:
        self.host = host
        self.resource_type = resource_type
        self.policy = policy or Policy()
        self.trace = trace or Trace()
        self.db = database or InMemoryClusterDatabase()
        #: The cluster database's root, as OpenCluster gives it to the DLL; the type's key
        #: (with its ``Parameters``) exists, as it does for a registered type (PL-10)
        self.cluster_root = HKEY(self.db, "", self._on_database_access(None))
        self.db.create_key(f"ResourceTypes\\{resource_type}\\Parameters")
        self.cluster_log: deque[str] = deque(maxlen=CLUSTER_LOG_KEPT)
        self.resources: list[Resource] = []
        self.wedged: TraceEvent | None = None
        self._serial = threading.Lock()  # every entry point but Terminate (RM-4)
        self._lifecycle = threading.Lock()  # Startup/Open/Close never overlap Terminate (CX-2)
        self._handles = itertools.count(0x5EED0001)
        self._ops = itertools.count(1)
        self._stopping = threading.Event()
        self._startup_called = False
        self._started = False  # Startup returned a usable table
        self._shut_down = False
        self._unobserve = [
            observe_last_error(self._on_set_last_error),
            resutils.observe_calls(self._on_resutils_call),
            observe_script(self._on_script),
        ]

    # --- Startup -----------------------------------------------------------------------------
    def startup(
        self,
        MinVersionSupported: int = CLRES_VERSION_V1_00,
        MaxVersionSupported: int = CLRES_VERSION_V1_00,
    ) -> CallOutcome:
        """Call Startup once (ST-2); raise StartupFailed unless it returned a usable table."""
        if self._startup_called:
            raise MonitorError("Startup is called once per resource type and monitor (ST-2)")
        self._startup_called = True
        with self._serial, self._lifecycle:
            event = self.trace.add(
                CALL,
                "Startup",
                args={
                    "ResourceType": self.resource_type,
                    "MinVersionSupported": MinVersionSupported,
                    "MaxVersionSupported": MaxVersionSupported,
                },
            )
            outcome = self.host.startup(
                self.resource_type,
                MinVersionSupported,
                MaxVersionSupported,
                self,
                self.policy.deadlock_seconds,
            )
        self._finish(event, outcome)
        value = outcome.value
        shaped = isinstance(value, tuple) and len(value) == 2
        status = value[0] if shaped else None
        event.result = status if shaped else value
        event.data["shaped"] = shaped
        version = self.host.table_version()
        event.data["table_version"] = version
        event.data["table_size"] = self.host.table_size()
        if shaped and status == ERROR_SUCCESS:
            event.data["null_entry_points"] = [e for e in V1_ENTRY_POINTS if not self.host.has(e)]
        if not outcome.returned or not shaped or status != ERROR_SUCCESS:
            said = f"raised {event.error}" if event.error else f"returned {error_name(status)}"
            raise StartupFailed(f"Startup {said}", event)
        if not (isinstance(version, int) and MinVersionSupported <= version <= MaxVersionSupported):
            raise StartupFailed(
                f"the function table's Version {version!r} is outside the offered range "
                f"0x{MinVersionSupported:x}..0x{MaxVersionSupported:x}; it cannot be loaded (ST-8)",
                event,
                cause="table-version",
            )
        self._started = True
        return outcome

    # --- callbacks from the target -----------------------------------------------------------
    def SetResourceStatus(self, ResourceHandle: Any, ResourceStatus: Any) -> int:
        now = time.perf_counter()
        context = current_entry()
        fields = {}
        for name in ("ResourceState", "CheckPoint", "WaitHint", "EventHandle"):
            fields[name] = getattr(ResourceStatus, name, "<missing>")
        resource = self._by_handle(ResourceHandle)
        event = self.trace.add(
            CALLBACK,
            "SetResourceStatus",
            resource=resource.name if resource else None,
            context=context[0] if context else None,
            args={"ResourceHandle": ResourceHandle, **fields},
        )
        if resource is None:
            event.data.update(known_handle=False, phase="unknown-handle")
            event.result = int(ResourceExitStateTerminate)
            event.end = self.trace.now()
            return ResourceExitStateTerminate
        with resource.cond:
            op = resource.pending
            if op is None or op.done:
                phase = "after-terminate" if resource.terminated_at is not None else "not-pending"
                exit_state = ResourceExitStateTerminate
            else:
                phase = "in-call" if op.in_call else "pending"
                exit_state = ResourceExitStateContinue
                op.last_update = now
                event.data["op"] = op.op
                state = fields["ResourceState"]
                if state == ClusterResourceStateUnknown:
                    event.data["last_error"] = GetLastError()  # the reporting thread's (RS-6)
                if state in (ClusterResourceOnline, ClusterResourceOffline, ClusterResourceFailed):
                    op.done = True
                    resource.state = int(state)
                    if not op.in_call:
                        resource.pending = None
                    if state == ClusterResourceOnline:
                        self._online_reached(resource, op)
                self._changed(resource)
        event.data.update(known_handle=True, phase=phase)
        event.result = int(exit_state)
        event.end = self.trace.now()
        return exit_state

    def LogEvent(self, ResourceHandle: Any, LogLevel: Any, FormatString: Any, *args: Any) -> None:
        message, length = format_message(FormatString, args)
        self.log_event(ResourceHandle, LogLevel, FormatString, message, length)

    def log_event(
        self, ResourceHandle: Any, LogLevel: Any, FormatString: Any, message: str, length: int
    ) -> None:
        """A LogEvent whose message was formatted where the target runs (`logformat`)."""
        context = current_entry()
        resource = self._by_handle(ResourceHandle)
        prefix = f"{self.resource_type}\\n{resource.name if resource else '?'}: "
        entry = prefix + message
        self.cluster_log.append(entry[:LOG_ENTRY_LIMIT])  # LG-3
        self.trace.instant(
            CALLBACK,
            "LogEvent",
            resource=resource.name if resource else None,
            context=context[0] if context else None,
            args={
                "ResourceHandle": ResourceHandle,
                "LogLevel": LogLevel,
                "FormatString": FormatString,
            },
            data={
                "known_handle": resource is not None,
                "message": message[:LOG_ENTRY_LIMIT],
                "entry_length": len(prefix) + length,
            },
        )

    def LostQuorumResource(self, ResourceHandle: Any) -> None:
        """The DLL lost control of the quorum it had won (AR-6): the instance no longer owns
        it, as far as the monitor knows."""
        context = current_entry()
        resource = self._by_handle(ResourceHandle)
        self.trace.instant(
            CALLBACK,
            "LostQuorumResource",
            resource=resource.name if resource else None,
            context=context[0] if context else None,
            args={"ResourceHandle": ResourceHandle},
            data={"known_handle": resource is not None},
        )
        if resource is not None:
            with resource.cond:
                resource.quorum_owner = False
                self._changed(resource)

    def _on_set_last_error(self, code: int) -> None:
        context = current_entry()
        ours = {r.name for r in self.resources}
        if context is None or (context[0] != "Startup" and context[1] not in ours):
            return  # another monitor's target, or a worker thread: not evidence for us
        self.trace.instant(
            CALLBACK,
            "SetLastError",
            resource=context[1] if context else None,
            context=context[0] if context else None,
            args={"dwErrCode": code},
        )

    def _on_resutils_call(self, function: str, result: int, why: str | None) -> None:
        context = current_entry()
        if context is not None and context[1] not in {r.name for r in self.resources}:
            return  # another monitor's target; a worker thread's call is kept (RM-7, WK-1)
        self.trace.instant(
            CALLBACK,
            function,
            resource=context[1] if context else None,
            context=context[0] if context else None,
            result=result,
            data={"refused": why} if why else {},
        )

    def _on_script(self, resource: str, what: str, data: dict[str, Any]) -> None:
        """The Generic Script DLL's account of its script (``ScriptLoad``, ``ScriptCall``,
        ``ScriptUnload``, ``ScriptObject``): what the GS rules judge."""
        if resource not in {r.name for r in self.resources}:
            return  # another monitor's instance
        shown = {k: v for k, v in data.items() if v is not None and k not in ("row", "succeeded")}
        self.trace.instant(
            CALLBACK, f"Script{what.capitalize()}", resource=resource, args=shown, data=data
        )

    def _on_database_access(self, resource: str | None) -> Any:
        def observe(op: str, path: str, name: str | None, write: bool) -> None:
            context = current_entry()
            self.trace.instant(
                CALLBACK,
                op,
                resource=resource,
                context=context[0] if context else None,
                args={"key": path, "name": name},
                data={"write": write},
            )

        return observe

    # --- Open / Close ------------------------------------------------------------------------
    def open(
        self,
        name: str,
        properties: Mapping[str, Any] | None = None,
        common: Mapping[str, int] | None = None,
    ) -> Resource:
        """Create the resource's key (private properties under ``Parameters``) and call Open."""
        if not self._started:
            raise MonitorError("Open needs a Startup that returned a usable function table (CX-5)")
        self._refuse_if_wedged()
        path = f"Resources\\{name}"
        self.db.create_key(f"{path}\\Parameters")
        for prop, value in (properties or {}).items():
            self.db.set_value(f"{path}\\Parameters", prop, _reg_type(value), value)
        key = HKEY(self.db, path, self._on_database_access(name))
        resource = Resource(
            self, name, RESOURCE_HANDLE(next(self._handles)), key, dict(common or {})
        )
        self.resources.append(resource)
        resource.in_open = True  # the handle is the DLL's from now on: Open may log with it
        try:
            with self._serial, self._lifecycle:
                event, outcome = self._invoke(
                    "Open",
                    name,
                    {"ResourceName": name, "ResourceKey": key, "ResourceHandle": resource.handle},
                    (name, key, resource.handle),
                )
        finally:
            resource.in_open = False
        resid = outcome.value if outcome.returned else None
        if resid is None or resid is False or resid == 0:
            resource.open_error = self._last_error_during(event)
            event.data["null_resid"] = True
            return resource
        resource.resid = resid
        resource.opened = True
        spawn(self._supervise, (resource,), f"rm-{name}")
        return resource

    def _close(self, resource: Resource) -> None:
        self._require_open(resource)
        with resource.cond:
            resource.closing = True
            resource.restart_at = resource.restart_plan = None
            self._changed(resource)
        try:
            with self._serial:
                with resource.cond:  # a Terminate decided before Close runs first, never after
                    resource.cond.wait_for(
                        lambda: not resource.terminating, self.policy.deadlock_seconds
                    )
                with self._lifecycle:
                    self._invoke("Close", resource.name, *self._resid(resource))
        finally:
            resource.closed = True

    # --- Online / Offline --------------------------------------------------------------------
    def _online_offline(
        self,
        resource: Resource,
        entry: str,
        wait: bool,
        timeout: float | None,
        only_if: Callable[[], bool] | None = None,
    ) -> int:
        """Call Online or Offline; ``only_if`` (checked under the resource's lock once the
        call may start) cancels a call the monitor decided earlier whose reason has passed."""
        self._require_open(resource)
        online = entry == "Online"
        if only_if is None:
            with resource.cond:
                resource.restart_at = resource.restart_plan = None  # the scenario decides now
        args, call_args = self._resid(resource)
        event_handle = None
        if online:
            event_handle = HANDLE()
            args["EventHandle"] = event_handle
            call_args = (resource.resid, event_handle)
        failure = False
        with self._serial:
            self._require_open(resource)
            self._refuse_if_wedged()
            if online and self.quorum_capable:
                # as the cluster service does, a node arbitrates before it brings a quorum
                # resource online (every time: Offline and Terminate may have released it);
                # Online then answers for a node that lost (AR-7). After any Terminate, as
                # everything new.
                with resource.cond:
                    resource.cond.wait_for(
                        lambda: not resource.terminating, self.policy.deadlock_seconds
                    )
                    idle = resource.pending is None or resource.pending.done
                    go = idle and (only_if is None or only_if())
                if go:
                    self._quorum_invoke(resource, "Arbitrate", True)
            with resource.cond:
                # a failure's Terminate is carried out before anything new starts
                resource.cond.wait_for(
                    lambda: not resource.terminating, self.policy.deadlock_seconds
                )
                if only_if is not None and not only_if():
                    return resource.state
                current = resource.pending
                if current is not None and not current.done:
                    event = self.trace.monitor(
                        "not called", resource.name, entry=entry, why=f"{current.entry} is pending"
                    )
                    raise OperationPending(
                        f"{entry} of {resource.name} refused: {current.entry} is pending", event
                    )
                op = PendingOperation(
                    next(self._ops),
                    entry,
                    ClusterResourceOnline if online else ClusterResourceOffline,
                    last_update=time.perf_counter(),
                )
                resource.pending = op
                resource.generation += 1
                resource.terminated_at = None
                resource.event_handle = None
                resource.looks_alive_off = False
                resource.restart_at = resource.restart_plan = None
            try:
                event, outcome = self._invoke(
                    entry, resource.name, args, call_args, data={"op": op.op}
                )
            except MonitorError:
                with resource.cond:
                    if resource.pending is op:
                        resource.pending = None
                    self._changed(resource)
                raise
            status = outcome.value if outcome.returned else None
            with resource.cond:
                op.in_call = False
                if op.terminated:
                    pass  # Terminate ran meanwhile and decides the state
                elif status == ERROR_IO_PENDING:
                    op.returned_pending = True
                    op.last_update = max(op.last_update, time.perf_counter())
                    if op.done:  # a worker already reported the final state
                        resource.pending = None
                    else:
                        resource.state = (
                            ClusterResourceOnlinePending
                            if online
                            else ClusterResourceOfflinePending
                        )
                elif status == ERROR_SUCCESS:
                    op.done = True
                    resource.pending = None
                    resource.state = op.target
                    if online:
                        self._online_reached(resource, op)
                else:
                    op.done = True
                    resource.pending = None
                    failure = True
                    failed = self._begin_terminate(resource, f"{entry} failed", failure=True)
                if online and not failure and event_handle.value is not None:
                    resource.event_handle = event_handle.value
                    resource.looks_alive_off = True
                    event.data["EventHandle"] = repr(event_handle.value)
                self._changed(resource)
        if failure:
            try:
                why = outcome.error or f"returned {error_name(status)}"
                self._log(resource, f"{entry} failed: {why}")  # LG-4, ON-3 / OF-2
            finally:
                self._run_terminate(resource, f"{entry} failed", failed)
            return resource.state
        if wait and status == ERROR_IO_PENDING:
            limit = timeout if timeout is not None else self._pending_wait_limit(resource)
            with resource.cond:
                settled = resource.cond.wait_for(
                    lambda: resource.pending is not op and not resource.terminating, limit
                )
            if not settled:
                self.trace.monitor("gave up waiting", resource.name, op=op.op, seconds=limit)
        return resource.state

    def _pending_wait_limit(self, resource: Resource) -> float:
        return max(10.0, 20 * resource.interval("PendingTimeout"))

    def _online_reached(self, resource: Resource, op: PendingOperation) -> None:
        resource.polls = {"LooksAlive": 0, "IsAlive": 0}
        self.trace.monitor("state", resource.name, state="ClusterResourceOnline", op=op.op)

    # --- Terminate ---------------------------------------------------------------------------
    def _terminate(
        self,
        resource: Resource,
        reason: str,
        failure: bool = False,
        unless: Callable[[], bool] | None = None,
    ) -> bool:
        """Decide and carry out a Terminate; ``unless`` (checked under the resource's lock)
        cancels it when the situation that called for it has passed. True if it ran."""
        self._require_open(resource)
        self._refuse_if_wedged()
        with resource.cond:
            if resource.closing or (unless is not None and unless()):
                return False  # Close came first: nothing is called after it
            failed = self._begin_terminate(resource, reason, failure)
        self._run_terminate(resource, reason, failed)
        return True

    def _begin_terminate(self, resource: Resource, reason: str, failure: bool) -> bool:
        """The decision, made while holding ``resource.cond``: from here on reports are told to
        terminate and nothing new starts until `_run_terminate` ends. True if the resource
        failed."""
        failed = failure or resource.state == ClusterResourceFailed
        resource.restart_at = resource.restart_plan = None
        if failure and resource.state != ClusterResourceFailed:
            resource.state = ClusterResourceFailed
            self.trace.monitor("state", resource.name, state="ClusterResourceFailed", why=reason)
            self._plan_restart(resource)
        if resource.pending is not None:
            resource.pending.done = True
            resource.pending.terminated = True
            resource.pending = None
        resource.terminating += 1
        resource.terminated_at = time.perf_counter()
        self._changed(resource)
        return failed

    def _plan_restart(self, resource: Resource) -> None:
        """Decide, holding ``resource.cond``, what follows a failure (FP-8..FP-10, FP-18..20)."""
        now = time.perf_counter()
        resource.failures.append(now)
        action = resource.setting("RestartAction")
        if action == ClusterResourceDontRestart:
            return
        period = resource.interval("RestartPeriod")
        recent = [t for t in resource.failures if now - t <= period]
        if len(recent) <= resource.setting("RestartThreshold"):
            resource.restart_plan = ("restart", resource.interval("RestartDelay"))
            return
        self.trace.monitor(
            "restart threshold exceeded",
            resource.name,
            failures=len(recent),
            RestartAction=action,
            then="the group would fail over"
            if action == ClusterResourceRestartNotify
            else "the group stays",
        )
        retry = resource.setting("RetryPeriodOnFailure")
        if not resource.retried and retry != DWORD_MAX:
            resource.restart_plan = ("retry", resource.interval("RetryPeriodOnFailure"))

    def _run_terminate(self, resource: Resource, reason: str, failed: bool) -> None:
        args, call_args = self._resid(resource)
        try:
            with self._lifecycle:
                self._invoke("Terminate", resource.name, args, call_args, data={"reason": reason})
        finally:
            with resource.cond:
                resource.state = ClusterResourceFailed if failed else ClusterResourceOffline
                resource.terminated_at = time.perf_counter()
                resource.terminating -= 1
                if resource.restart_plan is not None and not resource.terminating:
                    resource.restart_at = resource.terminated_at + resource.restart_plan[1]
                self._changed(resource)

    # --- control codes -----------------------------------------------------------------------
    def type_control(
        self,
        ControlCode: int,
        InBuffer: bytes | None = None,
        OutBufferSize: int | None = None,
        fill: int = OUT_FILL,
    ) -> ControlResult:
        """ResourceTypeControl for this monitor's type; ``OutBufferSize`` None is NULL."""
        if not self._started:
            raise MonitorError("ResourceTypeControl needs a Startup that returned a table")
        return self._control(
            "ResourceTypeControl",
            None,
            self.resource_type,
            ControlCode,
            InBuffer,
            OutBufferSize,
            fill,
        )

    def _control(
        self,
        entry: str,
        resource: Resource | None,
        first: Any,
        code: int,
        in_buffer: bytes | None,
        out_size: int | None,
        fill: int,
    ) -> ControlResult:
        """One control call, serialised like every entry point but Terminate (RM-4). The
        OutBuffer is filled with ``fill`` first, so what the DLL wrote can be told apart."""
        if out_size is not None and not 0 <= out_size <= CONTROL_OUT_LIMIT:
            raise MonitorError(f"OutBufferSize {out_size} is outside 0..{CONTROL_OUT_LIMIT}")
        out = None if out_size is None else bytearray([fill]) * out_size
        args = {
            "ResourceId" if resource is not None else "ResourceTypeName": first,
            "ControlCode": ControlCode(code),
            "InBufferSize": None if in_buffer is None else len(in_buffer),
            "OutBufferSize": out_size,
        }
        data = {"code": code, "InBuffer": None if in_buffer is None else in_buffer.hex()[:1024]}
        with self._serial:
            if resource is not None:  # a Close that took the lock first ends the instance
                self._require_open(resource)
            event, outcome = self._invoke(
                entry,
                resource.name if resource is not None else None,
                args,
                (first, code, in_buffer, out),
                data,
            )
        value = outcome.value if outcome.returned else None
        shaped = type(value) is tuple and len(value) == 2
        event.data["shaped"] = shaped
        status, returned = (_plain_value(v) for v in value) if shaped else (None, None)
        result = ControlResult(event, outcome.returned, status, returned, None, out_size, fill)
        if out is not None and out_size is not None:
            # the caller's buffer: what the DLL left in it (a shorter bytearray is a write of
            # that many bytes; the rest still holds the fill), and what went past its end
            kept = bytes(out[: out_size + OVERRUN_KEPT])
            result.out = kept[:out_size].ljust(out_size, bytes([fill]))
            if len(out) > out_size:
                result.grown_to, result.overrun = len(out), kept[out_size:]
                event.data["OutBuffer grown to"] = len(out)
            event.data["OutBuffer"] = result.out[:CONTROL_OUT_SHOWN].hex()
        return result

    # --- polling -----------------------------------------------------------------------------
    @property
    def quorum_capable(self) -> bool:
        """The table has both Arbitrate and Release (AR-1, AR-8)."""
        return self.host.has("Arbitrate") and self.host.has("Release")

    def _arbitrate(self, resource: Resource) -> Any:
        """Arbitrate for the quorum (AR-2), serialised like every entry point but Terminate;
        the DLL gets the monitor's LostQuorumResource routine. ERROR_SUCCESS makes the
        instance the owner, as far as the monitor knows."""
        return self._quorum_call(resource, "Arbitrate", True)

    def _release(self, resource: Resource) -> Any:
        """Release the quorum (RL-1): on ERROR_SUCCESS the instance no longer owns it."""
        return self._quorum_call(resource, "Release", False)

    def _quorum_call(self, resource: Resource, entry: str, owner_on_success: bool) -> Any:
        self._require_open(resource)
        if not self.host.has(entry):
            raise MonitorError(
                f"{entry} is NULL in the function table: the type is not quorum-capable (AR-1)"
            )
        with self._serial:
            return self._quorum_invoke(resource, entry, owner_on_success)

    def _quorum_invoke(self, resource: Resource, entry: str, owner_on_success: bool) -> Any:
        """Arbitrate or Release, with ``_serial`` held."""
        args, call = self._resid(resource)
        if entry == "Arbitrate":
            args = {**args, "LostQuorumResource": "PQUORUM_RESOURCE_LOST"}
            call = (*call, QuorumLost(self.LostQuorumResource))
        _, outcome = self._invoke(entry, resource.name, args, call)
        status = outcome.value if outcome.returned else None
        if dword(status) == ERROR_SUCCESS:
            with resource.cond:
                resource.quorum_owner = owner_on_success
                self._changed(resource)
        return status

    def _poll_call(self, resource: Resource, entry: str, while_up: bool = False) -> Any:
        """A LooksAlive or IsAlive the scenario asks for (outside the schedule)."""
        self._require_open(resource)
        with self._serial:
            if while_up:
                with resource.cond:
                    online = resource.state == ClusterResourceOnline and resource.pending is None
                    if not (online or resource.terminating):
                        return _NOT_CALLED
            _, outcome = self._invoke(entry, resource.name, *self._resid(resource))
        with resource.cond:
            resource.polls[entry] += 1
            self._changed(resource)
        return outcome.value if outcome.returned else None

    def _changed(self, resource: Resource) -> None:
        """Announce a change of ``resource`` (under its lock) to whoever waits for one, and to
        its supervisor when the change may need it before the time it sleeps until."""
        resource.cond.notify_all()
        until = resource.sleeping_until
        if until is not None and self._next_wake(resource) < until:
            resource.timer.notify()

    def _next_wake(self, resource: Resource) -> float:
        """The earliest time the supervisor may have to act (a lower bound of what
        `_supervise` decides from the same state; -inf: at once)."""
        if self._stopping.is_set() or self.wedged is not None or resource.closing:
            return float("-inf")
        op = resource.pending
        if resource.terminating:
            return float("inf")
        if op is not None and op.returned_pending and not op.done:
            return op.last_update + resource.interval("PendingTimeout")
        if resource.state == ClusterResourceFailed and resource.restart_at is not None:
            return resource.restart_at
        if resource.state == ClusterResourceOnline and op is None:
            if resource.polls_for != resource.generation or resource.event_handle is not None:
                return float("-inf")  # its poll times are for another Online, or none yet
            return float("inf")  # it sleeps until the next poll it scheduled: still right
        return float("inf")

    def _supervise(self, resource: Resource) -> None:
        """Per-resource timers: PendingTimeout while pending, polls while Online. Each poll is
        scheduled from the end of the previous one, and the one due first runs first."""
        due: dict[str, float] | None = None
        generation = -1  # the Online the schedule in ``due`` belongs to
        try:
            while not self._stopping.is_set() and self.wedged is None:
                # the DLL's event is asked outside the lock: its code may be slow
                handle = resource.event_handle
                fired = handle is not None and _signalled(handle)
                with resource.cond:
                    if resource.closing:
                        return
                    now = time.perf_counter()
                    op = resource.pending
                    wake: float | None = None
                    action = None
                    if resource.generation != generation:
                        due, generation = None, resource.generation
                    resource.polls_for = None
                    if resource.terminating:
                        due = None
                    elif op is not None and op.returned_pending and not op.done:
                        due = None
                        deadline = op.last_update + resource.interval("PendingTimeout")
                        if now >= deadline:
                            action = "pending-timeout"
                        else:
                            wake = deadline
                    elif (
                        resource.state == ClusterResourceFailed and resource.restart_at is not None
                    ):
                        due = None
                        if now >= resource.restart_at:
                            action = "restart"
                        else:
                            wake = resource.restart_at
                    elif resource.state == ClusterResourceOnline and op is None:
                        if due is None:
                            due = self._first_polls(resource, now)
                        resource.polls_for = generation
                        ready = sorted((at, entry) for entry, at in due.items() if at <= now)
                        if fired and resource.event_handle is handle:
                            action = "event"
                            resource.event_handle = None  # LooksAlive stays off (LA-8)
                        elif ready:
                            action = ready[0][1]
                        else:
                            wake = min(due.values(), default=None)
                            if resource.event_handle is not None:
                                wake = min(wake or now + EVENT_CHECK_S, now + EVENT_CHECK_S)
                    else:
                        due = None
                    if action is None:
                        resource.sleeping_until = float("inf") if wake is None else wake
                        try:
                            resource.timer.wait(None if wake is None else max(0.0, wake - now))
                        finally:
                            resource.sleeping_until = None
                        continue
                if action == "pending-timeout":
                    self._pending_timeout(resource, op)
                elif action == "restart":
                    self._restart(resource)
                elif action == "event":
                    self.trace.monitor(
                        "failure event signalled", resource.name, policy=self.policy.async_failure
                    )
                    if self.policy.async_failure == "Terminate" or not self._poll_once(
                        resource, "IsAlive"
                    ):
                        self._fail(resource, "failure event", generation)
                else:
                    alive = self._poll_once(resource, action)
                    assert due is not None
                    due[action] = time.perf_counter() + resource.interval(f"{action}PollInterval")
                    if not alive and action == "LooksAlive":
                        alive = self._poll_once(resource, "IsAlive")  # LA-3
                    if not alive:
                        self._fail(resource, "IsAlive did not return TRUE", generation)  # IA-4
        except MonitorError:
            return

    def _restart(self, resource: Resource) -> None:
        with resource.cond:
            plan = resource.restart_plan
            if plan is None or resource.restart_at is None or resource.terminating:
                return
            attempt = len(resource.failures)
        self.trace.monitor("restart", resource.name, kind=plan[0], after_failures=attempt)

        def still_planned() -> bool:
            if resource.restart_plan is not plan or resource.state != ClusterResourceFailed:
                return False  # the scenario or a later failure decided otherwise meanwhile
            resource.retried = resource.retried or plan[0] == "retry"
            return True

        self._online_offline(resource, "Online", wait=False, timeout=None, only_if=still_planned)

    def _first_polls(self, resource: Resource, now: float) -> dict[str, float]:
        entries = [e for e in ("LooksAlive", "IsAlive") if self.host.has(e)]
        if resource.looks_alive_off and "LooksAlive" in entries:
            entries.remove("LooksAlive")
        return {e: now + resource.interval(f"{e}PollInterval") for e in entries}

    def _pending_timeout(self, resource: Resource, op: PendingOperation | None) -> None:
        """PendingTimeout passed without a report: fail and Terminate (PO-6), unless a report
        arrived meanwhile."""
        with resource.cond:
            if (
                op is None
                or resource.closing
                or resource.pending is not op
                or op.done
                or resource.terminating
                or time.perf_counter() < op.last_update + resource.interval("PendingTimeout")
            ):
                return
            self.trace.monitor("PendingTimeout expired", resource.name, op=op.op)
            failed = self._begin_terminate(resource, "PendingTimeout", failure=True)
        self._run_terminate(resource, "PendingTimeout", failed)

    def _poll_once(self, resource: Resource, entry: str) -> bool:
        """One scheduled poll; False only when it ran and the answer was not TRUE."""
        with self._serial:
            with resource.cond:
                if (
                    resource.closing
                    or resource.state != ClusterResourceOnline
                    or resource.pending is not None
                    or resource.terminating
                    or not self.host.has(entry)
                ):
                    return True
            _, outcome = self._invoke(
                entry, resource.name, *self._resid(resource), data={"poll": True}
            )
        with resource.cond:
            resource.polls[entry] += 1
            self._changed(resource)
        return outcome.returned and BOOL_is_TRUE(outcome.value)

    def _fail(self, resource: Resource, why: str, generation: int) -> None:
        """Fail an online resource, unless it is no longer the same Online (``generation``
        from before the poll that found the failure)."""
        with contextlib.suppress(MonitorError):  # closed meanwhile
            self._terminate(
                resource,
                why,
                failure=True,
                unless=lambda: (
                    resource.state != ClusterResourceOnline
                    or resource.pending is not None
                    or resource.generation != generation
                    or bool(resource.terminating)
                ),
            )

    # --- plumbing ----------------------------------------------------------------------------
    def _invoke(
        self,
        entry: str,
        resource: str | None,
        args: dict[str, Any],
        call_args: tuple[Any, ...],
        data: dict[str, Any] | None = None,
    ) -> tuple[TraceEvent, CallOutcome]:
        """Trace and make one call; the caller holds the locks the entry point needs, so the
        trace shows the call when it really starts. A refused call is not traced as a call."""
        self._refuse_if_wedged()
        if not self.host.has(entry):
            self.trace.monitor("not called", resource, entry=entry, why="NULL in the table")
            raise EntryPointNull(f"{entry} is NULL in the function table")
        event = self.trace.add(CALL, entry, resource=resource, args=args, data=dict(data or {}))
        outcome = self.host.call(entry, call_args, self.policy.deadlock_seconds, resource)
        self._finish(event, outcome)
        return event, outcome

    @staticmethod
    def _resid(resource: Resource) -> tuple[dict[str, Any], tuple[Any, ...]]:
        return {"ResourceId": resource.resid}, (resource.resid,)

    def _refuse_if_wedged(self) -> None:
        if self.wedged is not None and "abandoned" in self.wedged.data:
            raise RunAbandoned(f"rescheck stopped the run: {self.wedged.data['abandoned']}")
        if self.wedged is not None and "crashed" in self.wedged.data:
            raise HostCrashed(
                f"the host process has ended ({self.wedged.data['crashed']})", self.wedged
            )
        if self.wedged is not None:
            raise EntryPointHung(
                f"the monitor is wedged: an earlier {self.wedged.name} call did not return",
                self.wedged,
            )

    def _finish(self, event: TraceEvent, outcome: CallOutcome) -> None:
        """Record how the call went; raise when it leaves the monitor unusable: the run was
        abandoned meanwhile, the host process ended, or the call did not return."""
        self._record(event, outcome)
        if self.wedged is not None and "abandoned" in self.wedged.data:
            event.data["abandoned"] = True  # cut short by rescheck: not the target's doing
            self._refuse_if_wedged()
        if outcome.crashed is not None:
            self._crash(event, outcome.crashed)
        if outcome.end is None:
            self._wedge(event, outcome.stacks)

    def _record(self, event: TraceEvent, outcome: CallOutcome) -> None:
        if outcome.start:
            event.start = outcome.start - self.trace.origin
        event.thread = outcome.thread or event.thread
        if outcome.end is not None:
            event.end = outcome.end - self.trace.origin
        event.result = outcome.value
        event.error = outcome.error
        if outcome.error_traceback:
            event.data["traceback"] = outcome.error_traceback

    def _wedge(self, event: TraceEvent, host_stacks: str | None = None) -> None:
        """An entry point outlived DeadlockTimeout: keep the stacks as evidence (the hung
        thread's first; an isolated host dumps its own) and stop."""
        event.data["stacks"] = (host_stacks or all_stacks(event.thread))[:STACKS_LIMIT]
        event.data["deadlock_timeout_s"] = self.policy.deadlock_seconds
        self._stop(event)
        raise EntryPointHung(
            f"{event.name} did not return within DeadlockTimeout "
            f"({self.policy.deadlock_seconds:.1f} s, scaled)",
            event,
        )

    def _crash(self, event: TraceEvent, how: str) -> None:
        """The host process ended during the call: the resource type is gone (HostCrashed)."""
        event.data["crashed"] = how
        self._stop(event)
        raise HostCrashed(f"{event.name} ended the host process ({how})", event)

    def thread_raised(self, thread: str, error: str, traceback_text: str) -> None:
        """An exception escaped a thread of the target: a C DLL's process would end here."""
        self.trace.monitor(
            "exception escaped a thread of the target",
            current_entry()[1] if current_entry() else None,
            thread=thread,
            escaped=error,
            traceback=traceback_text,
        )

    def abandon(self, why: str) -> None:
        """Stop now, for a reason of the harness's: refuse every call from here on and close
        the host (an isolated host's process is killed, so calls in flight come back)."""
        if self.wedged is None:
            self._stop(self.trace.monitor("abandoned", None, abandoned=why))
        self.host.close()

    def host_exited(self, how: str, output: str) -> None:
        """The host process ended between calls: a thread of the target killed it."""
        if self.wedged is not None or self._shut_down:
            return
        self._stop(self.trace.monitor("host process ended", None, crashed=how, output=output))

    def _stop(self, event: TraceEvent) -> None:
        """From ``event`` on, nothing more is called (see `_refuse_if_wedged`) and every wait
        on a resource ends."""
        self.wedged = event
        self._stopping.set()
        for resource in self.resources:
            with resource.cond:
                self._changed(resource)

    def _require_open(self, resource: Resource) -> None:
        if not resource.opened:
            raise MonitorError(f"{resource.name} was not opened")
        if resource.closing or resource.closed:
            raise MonitorError(f"{resource.name} is closed; nothing is called for it after Close")

    def _by_handle(self, handle: Any) -> Resource | None:
        for resource in self.resources:
            live = (resource.opened or resource.in_open) and not resource.closed
            if live and resource.handle == handle:
                return resource
        return None

    def _last_error_during(self, event: TraceEvent) -> int | None:
        errors = [
            e
            for e in self.trace.callbacks("SetLastError")
            if e.context == event.name and e.resource == event.resource and e.seq > event.seq
        ]
        return errors[-1].args["dwErrCode"] if errors else None

    def _log(self, resource: Resource, message: str) -> None:
        self.cluster_log.append(
            f"{self.resource_type}\\n{resource.name}: {message}"[:LOG_ENTRY_LIMIT]
        )
        self.trace.monitor("log", resource.name, message=message)

    def shutdown(self) -> None:
        """Terminate what still runs and Close every open resource; idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        try:
            for resource in self.resources:
                if not resource.opened or resource.closing or self.wedged is not None:
                    continue
                with contextlib.suppress(MonitorError):
                    if (
                        resource.state not in (ClusterResourceOffline, ClusterResourceFailed)
                        or resource.pending
                    ):
                        resource.terminate()
                    resource.close()
        finally:
            self._stopping.set()
            for resource in self.resources:
                with resource.cond:
                    self._changed(resource)
            for unobserve in self._unobserve:
                unobserve()
            self.host.close()  # a call that never returned keeps its thread; the idle ones end

    def __enter__(self) -> ResourceMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def describe_state(self, resource: Resource) -> str:
        return state_name(resource.state)


def _plain_value(value: Any) -> Any:
    """A value as plain data (a hostile subclass of int reduced to its int), else itself."""
    try:
        is_plain, sent = plain(value)
    except Exception:
        return value
    return sent if is_plain else value


def _signalled(handle: Any) -> bool:
    is_set = getattr(handle, "is_set", None)
    try:
        return bool(is_set()) if callable(is_set) else False
    except Exception:
        return False


def _reg_type(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, int) and 0 <= value <= 0xFFFFFFFF):
        return REG_DWORD
    if isinstance(value, int):
        return REG_QWORD
    if isinstance(value, (bytes, bytearray)):
        return REG_BINARY
    if isinstance(value, (list, tuple)):
        return REG_MULTI_SZ
    return REG_SZ
