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

Everything goes into the `Trace`. The monitor judges nothing: checks read the trace.
"""

from __future__ import annotations

import itertools
import re
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.clusapi import HKEY, ClusterDatabase, InMemoryClusterDatabase
from conformance.monitor.host import CallOutcome, Host, current_entry
from conformance.monitor.policy import Policy
from conformance.monitor.trace import CALL, CALLBACK, Trace, TraceEvent
from conformance.resapi import (
    CLRES_VERSION_V1_00,
    ERROR_IO_PENDING,
    ERROR_SUCCESS,
    HANDLE,
    REG_BINARY,
    REG_DWORD,
    REG_MULTI_SZ,
    REG_QWORD,
    REG_SZ,
    V1_ENTRY_POINTS,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOfflinePending,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
    ResourceExitStateContinue,
    ResourceExitStateTerminate,
    error_name,
    observe_last_error,
    state_name,
)

#: The largest LogEvent entry the cluster log keeps (LG-3).
LOG_ENTRY_LIMIT = 500


class MonitorError(Exception):
    """The scenario cannot go on; ``event`` is the trace event that shows why."""

    def __init__(self, message: str, event: TraceEvent | None = None):
        super().__init__(message)
        self.event = event


class EntryPointHung(MonitorError):
    """An entry point did not return within DeadlockTimeout; the monitor is now unusable."""


class StartupFailed(MonitorError):
    pass


class RESOURCE_HANDLE:
    """The handle the monitor gives Open; the DLL passes it back in callbacks (OP-3)."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RESOURCE_HANDLE) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("RESOURCE_HANDLE", self.value))

    def __repr__(self) -> str:
        return f"RESOURCE_HANDLE(0x{self.value:x})"


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
class Resource:
    monitor: ResourceMonitor
    name: str
    handle: RESOURCE_HANDLE
    key: HKEY
    common: dict[str, int] = field(default_factory=dict)
    resid: Any = None
    opened: bool = False
    closing: bool = False
    closed: bool = False
    open_error: int | None = None
    state: int = ClusterResourceOffline
    pending: PendingOperation | None = None
    terminated_at: float | None = None  # perf_counter of the last Terminate
    event_handle: Any = None
    polls: dict[str, int] = field(default_factory=lambda: {"LooksAlive": 0, "IsAlive": 0})
    cond: threading.Condition = field(default_factory=threading.Condition)
    supervisor: threading.Thread | None = None

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

    def wait_state(self, states: set[int], timeout: float) -> bool:
        """Wait until the resource is in one of ``states`` and nothing is pending."""
        deadline = time.perf_counter() + timeout
        with self.cond:
            while not (self.state in states and self.pending is None):
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

    def interval(self, name: str) -> float:
        """A poll interval or PendingTimeout for this resource, scaled, in seconds."""
        policy = self.monitor.policy
        value = self.common.get(name, getattr(policy, name))
        return policy.seconds(value)

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
        self.cluster_log: list[str] = []
        self.resources: list[Resource] = []
        self.wedged: TraceEvent | None = None
        self._serial = threading.Lock()  # every entry point but Terminate (RM-4)
        self._lifecycle = threading.Lock()  # Startup/Open/Close never overlap Terminate (CX-2)
        self._handles = itertools.count(0x5EED0001)
        self._ops = itertools.count(1)
        self._stopping = threading.Event()
        self._started = False
        self._shut_down = False
        self._unobserve = observe_last_error(self._on_set_last_error)

    # --- Startup -----------------------------------------------------------------------------
    def startup(
        self,
        MinVersionSupported: int = CLRES_VERSION_V1_00,
        MaxVersionSupported: int = CLRES_VERSION_V1_00,
    ) -> CallOutcome:
        """Call Startup once (ST-2); raise StartupFailed unless it returned a usable table."""
        if self._started:
            raise MonitorError("Startup is called once per resource type and monitor (ST-2)")
        self._started = True
        event = self.trace.add(
            CALL,
            "Startup",
            args={
                "ResourceType": self.resource_type,
                "MinVersionSupported": MinVersionSupported,
                "MaxVersionSupported": MaxVersionSupported,
            },
        )
        with self._serial, self._lifecycle:
            outcome = self.host.startup(
                self.resource_type,
                MinVersionSupported,
                MaxVersionSupported,
                self,
                self.policy.deadlock_seconds,
            )
        self._finish(event, outcome)
        if outcome.end is None:
            self._wedge(event)
        value = outcome.value
        shaped = isinstance(value, tuple) and len(value) == 2
        status = value[0] if shaped else None
        event.result = status if shaped else value
        event.data["shaped"] = shaped
        event.data["table_version"] = self.host.table_version()
        if shaped and status == ERROR_SUCCESS:
            event.data["null_entry_points"] = [e for e in V1_ENTRY_POINTS if not self.host.has(e)]
        if not outcome.returned or not shaped or status != ERROR_SUCCESS:
            raise StartupFailed(f"Startup returned {error_name(status)}", event)
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
                if state in (ClusterResourceOnline, ClusterResourceOffline, ClusterResourceFailed):
                    op.done = True
                    resource.state = int(state)
                    if not op.in_call:
                        resource.pending = None
                    if state == ClusterResourceOnline:
                        self._online_reached(resource, op)
                resource.cond.notify_all()
        event.data.update(known_handle=True, phase=phase)
        event.result = int(exit_state)
        event.end = self.trace.now()
        return exit_state

    def LogEvent(self, ResourceHandle: Any, LogLevel: Any, FormatString: Any, *args: Any) -> None:
        context = current_entry()
        resource = self._by_handle(ResourceHandle)
        message = _format_message(FormatString, args)
        entry = f"{self.resource_type}\\n{resource.name if resource else '?'}: {message}"
        self.cluster_log.append(entry[:LOG_ENTRY_LIMIT])
        self.trace.add(
            CALLBACK,
            "LogEvent",
            resource=resource.name if resource else None,
            context=context[0] if context else None,
            args={
                "ResourceHandle": ResourceHandle,
                "LogLevel": LogLevel,
                "FormatString": FormatString,
            },
            data={"known_handle": resource is not None, "message": message[:LOG_ENTRY_LIMIT]},
        )

    def _on_set_last_error(self, code: int) -> None:
        context = current_entry()
        ours = {r.name for r in self.resources}
        if context is None or (context[0] != "Startup" and context[1] not in ours):
            return  # another monitor's target, or a worker thread: not evidence for us
        self.trace.add(
            CALLBACK,
            "SetLastError",
            resource=context[1] if context else None,
            context=context[0] if context else None,
            args={"dwErrCode": code},
        )

    def _on_database_access(self, resource: str) -> Any:
        def observe(op: str, path: str, name: str | None, write: bool) -> None:
            context = current_entry()
            self.trace.add(
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
        path = f"Resources\\{name}"
        self.db.create_key(f"{path}\\Parameters")
        for prop, value in (properties or {}).items():
            self.db.set_value(f"{path}\\Parameters", prop, _reg_type(value), value)
        key = HKEY(self.db, path, self._on_database_access(name))
        resource = Resource(
            self, name, RESOURCE_HANDLE(next(self._handles)), key, dict(common or {})
        )
        self.resources.append(resource)
        event = self.trace.add(
            CALL,
            "Open",
            resource=name,
            args={"ResourceName": name, "ResourceKey": key, "ResourceHandle": resource.handle},
        )
        with self._serial, self._lifecycle:
            outcome = self._call(event, "Open", (name, key, resource.handle), name)
        resid = outcome.value if outcome.returned else None
        if resid is None or resid is False or resid == 0:
            resource.open_error = self._last_error_during(event)
            event.data["null_resid"] = True
            return resource
        resource.resid = resid
        resource.opened = True
        resource.supervisor = threading.Thread(
            target=self._supervise, args=(resource,), name=f"rm-{name}", daemon=True
        )
        resource.supervisor.start()
        return resource

    def _close(self, resource: Resource) -> None:
        self._require_open(resource)
        event = self.trace.add(
            CALL, "Close", resource=resource.name, args={"ResourceId": resource.resid}
        )
        with resource.cond:
            resource.closing = True
            resource.cond.notify_all()
        try:
            with self._serial, self._lifecycle:
                self._call(event, "Close", (resource.resid,), resource.name)
        finally:
            resource.closed = True

    # --- Online / Offline --------------------------------------------------------------------
    def _online_offline(
        self, resource: Resource, entry: str, wait: bool, timeout: float | None
    ) -> int:
        self._require_open(resource)
        online = entry == "Online"
        target = ClusterResourceOnline if online else ClusterResourceOffline
        op = PendingOperation(next(self._ops), entry, target, last_update=time.perf_counter())
        args: dict[str, Any] = {"ResourceId": resource.resid}
        call_args: tuple[Any, ...] = (resource.resid,)
        event_handle = None
        if online:
            event_handle = HANDLE()
            args["EventHandle"] = event_handle
            call_args = (resource.resid, event_handle)
        event = self.trace.add(CALL, entry, resource=resource.name, args=args, data={"op": op.op})
        with self._serial:
            with resource.cond:
                resource.pending = op
                resource.terminated_at = None
                resource.event_handle = None
            outcome = self._call(event, entry, call_args, resource.name)
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
                    resource.state = target
                    if online:
                        self._online_reached(resource, op)
                else:
                    op.done = True
                    resource.pending = None
                    resource.state = ClusterResourceFailed
                if online and event_handle is not None and event_handle.value is not None:
                    resource.event_handle = event_handle.value
                    event.data["EventHandle"] = repr(event_handle.value)
                resource.cond.notify_all()
        if status not in (ERROR_SUCCESS, ERROR_IO_PENDING):
            why = outcome.error or f"returned {error_name(status)}"
            self._log(resource, f"{entry} failed: {why}")  # LG-4, ON-3 / OF-2
            self._terminate(resource, reason=f"{entry} failed")
            return resource.state
        if wait and status == ERROR_IO_PENDING:
            limit = timeout if timeout is not None else self._pending_wait_limit(resource)
            with resource.cond:
                settled = resource.cond.wait_for(lambda: resource.pending is not op, limit)
            if not settled:
                self.trace.monitor("gave up waiting", resource.name, op=op.op, seconds=limit)
        return resource.state

    def _pending_wait_limit(self, resource: Resource) -> float:
        return max(10.0, 20 * resource.interval("PendingTimeout"))

    def _online_reached(self, resource: Resource, op: PendingOperation) -> None:
        resource.polls = {"LooksAlive": 0, "IsAlive": 0}
        self.trace.monitor("state", resource.name, state="ClusterResourceOnline", op=op.op)

    # --- Terminate ---------------------------------------------------------------------------
    def _terminate(self, resource: Resource, reason: str) -> None:
        self._require_open(resource)
        with resource.cond:
            failed = resource.state == ClusterResourceFailed
            if resource.pending is not None:
                resource.pending.done = True
                resource.pending.terminated = True
                resource.pending = None
            resource.terminated_at = time.perf_counter()
            resource.cond.notify_all()
        event = self.trace.add(
            CALL,
            "Terminate",
            resource=resource.name,
            args={"ResourceId": resource.resid},
            data={"reason": reason},
        )
        with self._lifecycle:
            self._call(event, "Terminate", (resource.resid,), resource.name)
        with resource.cond:
            resource.state = (
                ClusterResourceFailed if failed or reason != "requested" else ClusterResourceOffline
            )
            resource.terminated_at = time.perf_counter()
            resource.cond.notify_all()

    # --- polling -----------------------------------------------------------------------------
    def _poll_call(self, resource: Resource, entry: str) -> Any:
        self._require_open(resource)
        event = self.trace.add(
            CALL, entry, resource=resource.name, args={"ResourceId": resource.resid}
        )
        with self._serial:
            outcome = self._call(event, entry, (resource.resid,), resource.name)
        with resource.cond:
            resource.polls[entry] += 1
            resource.cond.notify_all()
        return outcome.value if outcome.returned else None

    def _supervise(self, resource: Resource) -> None:
        """Per-resource timers: PendingTimeout while pending, polls while Online."""
        next_la = next_ia = None
        try:
            while not self._stopping.is_set() and self.wedged is None:
                with resource.cond:
                    if resource.closing:
                        return
                    now = time.perf_counter()
                    op = resource.pending
                    wake: float | None = None
                    action = None
                    if op is not None and op.returned_pending and not op.done:
                        next_la = next_ia = None
                        deadline = op.last_update + resource.interval("PendingTimeout")
                        if now >= deadline:
                            action = "pending-timeout"
                        else:
                            wake = deadline
                    elif resource.state == ClusterResourceOnline and op is None:
                        if next_ia is None:
                            next_la = now + resource.interval("LooksAlivePollInterval")
                            next_ia = now + resource.interval("IsAlivePollInterval")
                        if resource.event_handle is not None and _signalled(resource.event_handle):
                            action = "event"
                        elif (
                            resource.event_handle is None and next_la is not None and now >= next_la
                        ):
                            action = "LooksAlive"
                        elif now >= next_ia:
                            action = "IsAlive"
                        else:
                            wake = (
                                next_ia
                                if resource.event_handle is not None
                                else min(next_la, next_ia)
                            )
                            if resource.event_handle is not None:
                                wake = min(wake, now + 0.01)
                    else:
                        next_la = next_ia = None
                    if action is None:
                        resource.cond.wait(None if wake is None else max(0.0, wake - now))
                        continue
                if action == "pending-timeout":
                    self.trace.monitor(
                        "PendingTimeout expired", resource.name, op=op.op if op else None
                    )
                    with resource.cond:
                        resource.state = ClusterResourceFailed
                    self._terminate(resource, reason="PendingTimeout")
                elif action == "event":
                    self.trace.monitor(
                        "failure event signalled", resource.name, policy=self.policy.async_failure
                    )
                    resource.event_handle = None
                    if self.policy.async_failure == "Terminate" or not self._poll_once(
                        resource, "IsAlive"
                    ):
                        self._fail(resource, "failure event")
                elif action == "LooksAlive":
                    next_la = time.perf_counter() + resource.interval("LooksAlivePollInterval")
                    if not self._poll_once(resource, "LooksAlive") and not self._poll_once(
                        resource, "IsAlive"
                    ):
                        self._fail(resource, "IsAlive returned FALSE")  # LA-3 then IA-4
                elif action == "IsAlive":
                    next_ia = time.perf_counter() + resource.interval("IsAlivePollInterval")
                    if not self._poll_once(resource, "IsAlive"):
                        self._fail(resource, "IsAlive returned FALSE")
        except MonitorError:
            return

    def _poll_once(self, resource: Resource, entry: str) -> bool:
        """One scheduled poll; True when the resource answered TRUE (or stopped being Online)."""
        with self._serial:
            with resource.cond:
                if resource.closing or resource.state != ClusterResourceOnline or resource.pending:
                    return True
            event = self.trace.add(
                CALL,
                entry,
                resource=resource.name,
                args={"ResourceId": resource.resid},
                data={"poll": True},
            )
            outcome = self._call(event, entry, (resource.resid,), resource.name)
        with resource.cond:
            resource.polls[entry] += 1
            resource.cond.notify_all()
        return bool(outcome.returned and outcome.value in (True, 1))

    def _fail(self, resource: Resource, why: str) -> None:
        with resource.cond:
            if resource.state != ClusterResourceOnline:
                return
            resource.state = ClusterResourceFailed
        self.trace.monitor("state", resource.name, state="ClusterResourceFailed", why=why)
        self._terminate(resource, reason=why)

    # --- plumbing ----------------------------------------------------------------------------
    def _call(
        self, event: TraceEvent, entry: str, args: tuple[Any, ...], resource: str | None
    ) -> CallOutcome:
        if self.wedged is not None:
            raise EntryPointHung(
                f"the monitor is wedged by an earlier {self.wedged.name} call", self.wedged
            )
        if not self.host.has(entry):
            event.error = f"the function table has no {entry} (NULL)"
            event.end = event.start
            raise MonitorError(f"{entry} is NULL in the function table", event)
        outcome = self.host.call(entry, args, self.policy.deadlock_seconds, resource)
        self._finish(event, outcome)
        if outcome.end is None:
            self._wedge(event)
        return outcome

    def _finish(self, event: TraceEvent, outcome: CallOutcome) -> None:
        if outcome.start:
            event.start = outcome.start - self.trace.origin
        event.thread = outcome.thread or event.thread
        if outcome.end is not None:
            event.end = outcome.end - self.trace.origin
        event.result = outcome.value
        event.error = outcome.error
        if outcome.error_traceback:
            event.data["traceback"] = outcome.error_traceback

    def _wedge(self, event: TraceEvent) -> None:
        """An entry point outlived DeadlockTimeout: keep the stacks as evidence and stop."""
        stacks = []
        for ident, frame in sys._current_frames().items():
            name = next((t.name for t in threading.enumerate() if t.ident == ident), str(ident))
            stacks.append(f"Thread {name}:\n" + "".join(traceback.format_stack(frame)[-8:]))
        event.data["stacks"] = "\n".join(stacks)[-6000:]
        event.data["deadlock_timeout_s"] = self.policy.deadlock_seconds
        self.wedged = event
        self._stopping.set()
        raise EntryPointHung(
            f"{event.name} did not return within DeadlockTimeout "
            f"({self.policy.deadlock_seconds:.1f} s, scaled)",
            event,
        )

    def _require_open(self, resource: Resource) -> None:
        if not resource.opened:
            raise MonitorError(f"{resource.name} was not opened")

    def _by_handle(self, handle: Any) -> Resource | None:
        for resource in self.resources:
            if resource.handle == handle and resource.opened and not resource.closed:
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
                if not resource.opened or resource.closed or self.wedged is not None:
                    continue
                if (
                    resource.state not in (ClusterResourceOffline, ClusterResourceFailed)
                    or resource.pending
                ):
                    resource.terminate()
                resource.close()
        except MonitorError:
            pass
        finally:
            self._stopping.set()
            for resource in self.resources:
                with resource.cond:
                    resource.cond.notify_all()
            self._unobserve()
            if self.wedged is None:
                self.host.close()

    def __enter__(self) -> ResourceMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def describe_state(self, resource: Resource) -> str:
        return state_name(resource.state)


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


_INSERT = re.compile(r"%(\d+)(?:!([^!]*)!)?")


def _format_message(format_string: Any, args: tuple[Any, ...]) -> str:
    """FormatMessage-style inserts (``%1``, ``%1!u!``), as LogEvent documents (LG-1)."""
    text = str(format_string)

    def insert(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        if 0 <= index < len(args):
            spec = match.group(2)
            value = args[index]
            if spec and spec[-1:] in "diuxX" and isinstance(value, int):
                return format(value, "x" if spec[-1] in "xX" else "d")
            return str(value)
        return match.group(0)

    text = _INSERT.sub(insert, text)
    if "%" not in str(format_string) and args:
        text += " " + " ".join(str(a) for a in args)
    return text
