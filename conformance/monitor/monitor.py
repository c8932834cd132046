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

This module is the facade and the plumbing every room shares (the host, the trace, the locks,
making one call, stopping for good). The rooms, one concern each: `lifecycle` (Online,
Offline, Terminate, restarts), `supervisor` (the timers, on an injectable `clock`),
`reports` (what the target calls back), `control` (control codes), `quorum` (Arbitrate,
Release); `states` is the transition table they move resources along.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from conformance import resutils
from conformance.clusapi import HKEY, ClusterDatabase, InMemoryClusterDatabase
from conformance.monitor.clock import Clock, RealClock
from conformance.monitor.control import ControlResult, Controls, dword
from conformance.monitor.errors import (
    EntryPointHung,
    EntryPointNull,
    HostCrashed,
    MonitorError,
    OperationPending,
    RunAbandoned,
    StartupFailed,
)
from conformance.monitor.host import CallOutcome, Host
from conformance.monitor.lifecycle import Lifecycle
from conformance.monitor.policy import Policy
from conformance.monitor.quorum import Quorum
from conformance.monitor.reports import LOG_ENTRY_LIMIT, Reports
from conformance.monitor.resource import OUT_FILL, Resource
from conformance.monitor.supervisor import Supervisor
from conformance.resapi import (
    CLRES_VERSION_V1_00,
    ERROR_SUCCESS,
    REG_BINARY,
    REG_DWORD,
    REG_MULTI_SZ,
    REG_QWORD,
    REG_SZ,
    RESOURCE_HANDLE,
    V1_ENTRY_POINTS,
    ClusterResourceFailed,
    ClusterResourceOffline,
    error_name,
    observe_last_error,
)
from conformance.runtime.script_events import observe_script
from conformance.runtime.threads import all_stacks, spawn
from conformance.runtime.trace import CALL, Trace, TraceEvent

#: The facade's public names: what scenarios, checks and tests use of the monitor.
__all__ = [
    "LOG_ENTRY_LIMIT",
    "OUT_FILL",
    "ControlResult",
    "EntryPointHung",
    "EntryPointNull",
    "HostCrashed",
    "MonitorError",
    "OperationPending",
    "Resource",
    "ResourceMonitor",
    "RunAbandoned",
    "StartupFailed",
    "dword",
]

#: Entries the monitor's cluster log keeps (the latest ones; memory stays bounded).
CLUSTER_LOG_KEPT = 10_000
#: Evidence kept when a call outlives DeadlockTimeout: per thread, and in all.
STACKS_LIMIT = 6000


class ResourceMonitor:
    """One Resource Monitor hosting one resource type through a `Host`."""

    def __init__(
        self,
        host: Host,
        resource_type: str,
        policy: Policy | None = None,
        trace: Trace | None = None,
        database: ClusterDatabase | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.host = host
        self.resource_type = resource_type
        self.policy = policy or Policy()
        self.trace = trace or Trace()
        self.db = database or InMemoryClusterDatabase()
        self.clock: Clock = clock or RealClock()
        self.db.create_key(f"ResourceTypes\\{resource_type}\\Parameters")
        self.cluster_log: deque[str] = deque(maxlen=CLUSTER_LOG_KEPT)
        self.resources: list[Resource] = []
        self.wedged: TraceEvent | None = None
        self.serial = threading.Lock()  # every entry point but Terminate (RM-4)
        self.lifecycle_lock = threading.Lock()  # Startup/Open/Close never overlap Terminate (CX-2)
        self.stopping = threading.Event()
        self.started = False  # Startup returned a usable table
        self._handles = itertools.count(0x5EED0001)
        self._ops = itertools.count(1)
        self._startup_called = False
        self._shut_down = False
        self.reports = Reports(self)
        self.lifecycle = Lifecycle(self)
        self.supervisor = Supervisor(self)
        self.controls = Controls(self)
        self.quorum = Quorum(self)
        self._unobserve = [
            observe_last_error(self.reports.set_last_error),
            resutils.observe_calls(self.reports.resutils_call),
            observe_script(self.reports.script),
        ]

    @property
    def quorum_capable(self) -> bool:
        """The table has both Arbitrate and Release (AR-1, AR-8)."""
        return self.host.has("Arbitrate") and self.host.has("Release")

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
        with self.serial, self.lifecycle_lock:
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
                self.reports,
                self.policy.deadlock_seconds,
            )
        self.finish(event, outcome)
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
        self.started = True
        return outcome

    # --- Open / Close ------------------------------------------------------------------------
    def open(
        self,
        name: str,
        properties: Mapping[str, Any] | None = None,
        common: Mapping[str, int] | None = None,
    ) -> Resource:
        """Create the resource's key (private properties under ``Parameters``) and call Open."""
        if not self.started:
            raise MonitorError("Open needs a Startup that returned a usable function table (CX-5)")
        self.refuse_if_wedged()
        path = f"Resources\\{name}"
        self.db.create_key(f"{path}\\Parameters")
        for prop, value in (properties or {}).items():
            self.db.set_value(f"{path}\\Parameters", prop, _reg_type(value), value)
        key = HKEY(self.db, path, self.reports.database_access(name))
        resource = Resource(
            self, name, RESOURCE_HANDLE(next(self._handles)), key, dict(common or {})
        )
        self.resources.append(resource)
        resource.in_open = True  # the handle is the DLL's from now on: Open may log with it
        try:
            with self.serial, self.lifecycle_lock:
                event, outcome = self.invoke(
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
        self.clock.arriving()
        spawn(self.supervisor.run, (resource,), f"rm-{name}")
        return resource

    def close(self, resource: Resource) -> None:
        self.require_open(resource)
        with resource.cond:
            resource.closing = True
            resource.restart_at = resource.restart_plan = None
            self.changed(resource)
        try:
            with self.serial:
                with resource.cond:  # a Terminate decided before Close runs first, never after
                    resource.cond.wait_for(
                        lambda: not resource.terminating, self.policy.deadlock_seconds
                    )
                with self.lifecycle_lock:
                    self.invoke("Close", resource.name, *self.resid(resource))
        finally:
            resource.closed = True

    def changed(self, resource: Resource) -> None:
        """Announce a change of ``resource`` (under its lock) to whoever waits for one, and to
        its supervisor when the change may need it before the time it sleeps until."""
        resource.cond.notify_all()
        until = resource.sleeping_until
        if until is not None and self.supervisor.next_wake(resource) < until:
            self.clock.notify(resource.timer)

    def next_op(self) -> int:
        return next(self._ops)

    # --- what a scenario asks of the type ----------------------------------------------------
    def type_control(
        self,
        ControlCode: int,
        InBuffer: bytes | None = None,
        OutBufferSize: int | None = None,
        fill: int = OUT_FILL,
    ) -> ControlResult:
        """ResourceTypeControl for this monitor's type; ``OutBufferSize`` None is NULL."""
        return self.controls.type_control(ControlCode, InBuffer, OutBufferSize, fill)

    # --- plumbing ----------------------------------------------------------------------------
    def invoke(
        self,
        entry: str,
        resource: str | None,
        args: dict[str, Any],
        call_args: tuple[Any, ...],
        data: dict[str, Any] | None = None,
    ) -> tuple[TraceEvent, CallOutcome]:
        """Trace and make one call; the caller holds the locks the entry point needs, so the
        trace shows the call when it really starts. A refused call is not traced as a call."""
        self.refuse_if_wedged()
        if not self.host.has(entry):
            self.trace.monitor("not called", resource, entry=entry, why="NULL in the table")
            raise EntryPointNull(f"{entry} is NULL in the function table")
        event = self.trace.add(CALL, entry, resource=resource, args=args, data=dict(data or {}))
        outcome = self.host.call(entry, call_args, self.policy.deadlock_seconds, resource)
        self.finish(event, outcome)
        return event, outcome

    @staticmethod
    def resid(resource: Resource) -> tuple[dict[str, Any], tuple[Any, ...]]:
        return {"ResourceId": resource.resid}, (resource.resid,)

    def refuse_if_wedged(self) -> None:
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

    def finish(self, event: TraceEvent, outcome: CallOutcome) -> None:
        """Record how the call went; raise when it leaves the monitor unusable: the run was
        abandoned meanwhile, the host process ended, or the call did not return."""
        self._record(event, outcome)
        if self.wedged is not None and "abandoned" in self.wedged.data:
            event.data["abandoned"] = True  # cut short by rescheck: not the target's doing
            self.refuse_if_wedged()
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
        self.stopping.set()
        for resource in self.resources:
            with resource.cond:
                self.changed(resource)

    def require_open(self, resource: Resource) -> None:
        if not resource.opened:
            raise MonitorError(f"{resource.name} was not opened")
        if resource.closing or resource.closed:
            raise MonitorError(f"{resource.name} is closed; nothing is called for it after Close")

    def by_handle(self, handle: Any) -> Resource | None:
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

    def log(self, resource: Resource, message: str) -> None:
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
            self.stopping.set()
            for resource in self.resources:
                with resource.cond:
                    self.changed(resource)
            for unobserve in self._unobserve:
                unobserve()
            self.host.close()  # a call that never returned keeps its thread; the idle ones end

    def __enter__(self) -> ResourceMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


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
