"""The reference Resource Monitor on its own, driven by scripted fake DLLs.

Pacemaker tests its executor with the Dummy agent; these tests drive `ResourceMonitor` with
`ScriptedDLL` (tests/unit/scripted_dll.py), whose entry points do exactly what each test
scripts and record every call with its thread and perf_counter start/end. No fixture DLL and
no reference implementation is involved: a failure here is the monitor's.

Timing: the policy's time scale is 1/1000, so a common property of N ms becomes N µs; the
``timers()`` helper turns seconds into the property value. Resources are "quiet" (30 s timers)
unless a test asks for polling or a short PendingTimeout. Tests assert orderings and counts and
wait for conditions with deadlines of several seconds; only lower bounds of durations that the
test itself guarantees (a worker that sleeps) are asserted, never tight wall-clock figures.
DeadlockTimeout has a 2 s floor (Policy.deadlock_seconds), so the hang tests take ~2 s.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from conformance.clusapi import HKEY, ClusterRegOpenKey, ClusterRegQueryValue
from conformance.monitor.host import InProcessHost
from conformance.monitor.monitor import (
    LOG_ENTRY_LIMIT,
    OUT_FILL,
    RESOURCE_HANDLE,
    EntryPointHung,
    EntryPointNull,
    MonitorError,
    OperationPending,
    Resource,
    ResourceMonitor,
    StartupFailed,
)
from conformance.monitor.policy import Policy
from conformance.resapi import (
    CLRES_VERSION_V1_00,
    CLRES_VERSION_V2_00,
    CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_UNKNOWN,
    ERROR_ACCESS_DENIED,
    ERROR_BAD_CONFIGURATION,
    ERROR_GEN_FAILURE,
    ERROR_IO_PENDING,
    ERROR_MORE_DATA,
    ERROR_REVISION_MISMATCH,
    ERROR_SUCCESS,
    HANDLE,
    LOG_INFORMATION,
    LOG_WARNING,
    REG_BINARY,
    REG_DWORD,
    REG_MULTI_SZ,
    REG_SZ,
    RESOURCE_STATUS,
    ClusterResourceDontRestart,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOfflinePending,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
    ClusterResourceRestartNoNotify,
    ClusterResourceRestartNotify,
    ClusterResourceStateUnknown,
    ResourceExitStateContinue,
    ResourceExitStateTerminate,
    SetLastError,
)
from conformance.runtime import trace as trace_module
from conformance.runtime.trace import CALL, CALLBACK, MONITOR, Trace, TraceEvent

if __package__:  # tests/unit became a package
    from .scripted_dll import Call, ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from scripted_dll import Call, ScriptedDLL

#: The policy's time scale: documented defaults shrink 1000-fold (PendingTimeout 180 ms).
SCALE = 0.001
#: A timer that never fires during a test.
QUIET = 30.0
#: How long a test waits for something that should happen (the machine may be busy).
WAIT = 5.0
#: How long a test watches for something that must NOT happen.
WATCH = 0.15


def ms(seconds: float) -> int:
    """The unscaled property value (ms) that the policy turns into ``seconds``."""
    return round(seconds * 1000 / SCALE)


def timers(la: float = QUIET, ia: float = QUIET, pending: float = QUIET) -> dict[str, int]:
    """Resource-level common properties that become the given seconds; no restarts (the
    restart tests set the restart policy themselves)."""
    return {
        "LooksAlivePollInterval": ms(la),
        "IsAlivePollInterval": ms(ia),
        "PendingTimeout": ms(pending),
        "RestartAction": ClusterResourceDontRestart,
    }


def wait_for(predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() >= deadline:
            return False
        time.sleep(0.002)
    return True


def monitor_events(monitor: ResourceMonitor, name: str) -> list[TraceEvent]:
    return [e for e in monitor.trace if e.kind == MONITOR and e.name == name]


def names(calls: list[Call]) -> list[str]:
    return [c.name for c in calls]


def overlapping(calls: list[Call]) -> list[tuple[str, str]]:
    return [
        (f"{a.name}@{a.start:.4f}", f"{b.name}@{b.start:.4f}")
        for i, a in enumerate(calls)
        for b in calls[i + 1 :]
        if a.overlaps(b)
    ]


class Driver:
    """A scenario thread: runs one monitor operation and keeps its result or exception."""

    def __init__(self, fn: Callable[..., Any], *args: Any, name: str):
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(fn, args), name=name, daemon=True)
        self.thread.start()

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self.result = fn(*args)
        except BaseException as exc:
            self.error = exc

    def join(self, timeout: float = WAIT) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"{self.thread.name} should have finished by now"
        assert self.error is None, f"{self.thread.name} should not raise, got {self.error!r}"
        return self.result


class Rig:
    """Builds monitors on scripted DLLs and cleans every one of them up."""

    def __init__(self) -> None:
        self.monitors: list[tuple[ResourceMonitor, ScriptedDLL]] = []

    def monitor(
        self, dll: ScriptedDLL, *, async_failure: str = "IsAlive", startup: bool = True
    ) -> ResourceMonitor:
        policy = Policy(time_scale=SCALE, async_failure=async_failure)
        monitor = ResourceMonitor(InProcessHost(dll.module()), "Scripted", policy)
        self.monitors.append((monitor, dll))
        if startup:
            monitor.startup()
        return monitor

    def open(
        self,
        monitor: ResourceMonitor,
        name: str = "r1",
        properties: dict[str, Any] | None = None,
        **timer_seconds: float,
    ) -> Resource:
        return monitor.open(name, properties or {}, common=timers(**timer_seconds))

    def thread(self, fn: Callable[..., Any], *args: Any, name: str = "scenario") -> Driver:
        return Driver(fn, *args, name=name)

    def close(self) -> None:
        for monitor, dll in self.monitors:
            dll.release_all()
            monitor.shutdown()


@pytest.fixture
def rig():
    rig = Rig()
    yield rig
    rig.close()


def pending_then(
    final: int, *steps: threading.Event, last: threading.Event | None = None
) -> Callable[..., int]:
    """Online/Offline that returns ERROR_IO_PENDING. Its worker waits until the call has
    returned, then reports one pending update per step (waiting for that step's Event first),
    waits for ``last`` if given, and reports the final state. It stops as soon as a report is
    answered ResourceExitStateTerminate."""

    def entry(dll: ScriptedDLL, resid: str, *_: Any) -> int:
        name = resid.split(":", 1)[1]
        me = threading.get_ident()
        [call] = [c for c in dll.calls_of() if c.thread_id == me and c.end is None]
        interim = ClusterResourceOnlinePending
        if final == ClusterResourceOffline:
            interim = ClusterResourceOfflinePending

        def work() -> None:
            dll.wait_until(lambda: call.end is not None)
            for checkpoint, step in enumerate(steps, start=1):
                dll.block(step)
                if dll.report(name, interim, checkpoint) != ResourceExitStateContinue:
                    return
            if last is not None:
                dll.block(last)
            dll.report(name, final, len(steps) + 1)

        dll.spawn(work, name=f"worker-{name}")
        return ERROR_IO_PENDING

    return entry


# ================================================================================================
# Startup (ST-1, ST-2, ST-7)
# ================================================================================================
def test_startup_is_called_once_with_the_version_range_and_the_callbacks(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll, startup=False)
    monitor.startup(CLRES_VERSION_V1_00, CLRES_VERSION_V2_00)
    rig.open(monitor, "r1")
    rig.open(monitor, "r2")

    startups = dll.calls_of("Startup")
    assert len(startups) == 1, (
        f"Startup should be called once per type (ST-2), got {names(startups)}"
    )
    resource_type, low, high, set_status, log_event = startups[0].args
    assert (resource_type, low, high) == ("Scripted", CLRES_VERSION_V1_00, CLRES_VERSION_V2_00), (
        "Startup should receive the resource type name and the version range asked for"
    )
    assert (
        set_status == monitor.reports.SetResourceStatus and log_event == monitor.reports.LogEvent
    ), "Startup should receive the monitor's SetResourceStatus and LogEvent callbacks"
    [event] = monitor.trace.calls("Startup")
    assert event.args == {
        "ResourceType": "Scripted",
        "MinVersionSupported": CLRES_VERSION_V1_00,
        "MaxVersionSupported": CLRES_VERSION_V2_00,
    }, "the trace should record Startup's arguments"
    assert event.result == ERROR_SUCCESS and event.data["table_version"] == CLRES_VERSION_V1_00, (
        "the trace should record Startup's status and the table version"
    )
    assert names(dll.calls_of())[:3] == ["Startup", "Open", "Open"], (
        "Startup should come before every Open (CX-5)"
    )


def test_a_second_startup_raises_and_does_not_call_the_dll(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    with pytest.raises(MonitorError, match="once"):
        monitor.startup()
    assert len(dll.calls_of("Startup")) == 1, "a refused second Startup should not reach the DLL"
    assert len(monitor.trace.calls("Startup")) == 1, "a refused Startup should not be traced"


def test_startup_with_a_nonzero_status_fails(rig):
    dll = ScriptedDLL(Startup=lambda dll, *args: (ERROR_REVISION_MISMATCH, None))
    monitor = rig.monitor(dll, startup=False)
    with pytest.raises(StartupFailed) as info:
        monitor.startup(0x900, 0x900)
    assert info.value.event is not None, "StartupFailed should carry the Startup trace event"
    assert info.value.event.result == ERROR_REVISION_MISMATCH, (
        "the trace should show the status Startup returned"
    )
    assert info.value.event.data["shaped"] is True, "(status, table) is the documented shape"
    assert "null_entry_points" not in info.value.event.data, (
        "null entry points are only judged for a successful Startup"
    )


@pytest.mark.parametrize(
    "returned",
    [
        pytest.param(lambda dll: dll.table(), id="bare-table"),
        pytest.param(lambda dll: ERROR_SUCCESS, id="bare-status"),
        pytest.param(lambda dll: None, id="None"),
        pytest.param(lambda dll: (ERROR_SUCCESS, dll.table(), "extra"), id="3-tuple"),
    ],
)
def test_startup_returning_no_status_table_tuple_fails(rig, returned):
    dll = ScriptedDLL(Startup=lambda dll, *args: returned(dll))
    monitor = rig.monitor(dll, startup=False)
    with pytest.raises(StartupFailed) as info:
        monitor.startup()
    assert info.value.event.data["shaped"] is False, (
        "the trace should say Startup did not return (status, table)"
    )


def test_startup_that_raises_fails_with_the_error_in_the_trace(rig):
    def startup(dll, *args):
        raise RuntimeError("no table today")

    monitor = rig.monitor(ScriptedDLL(Startup=startup), startup=False)
    with pytest.raises(StartupFailed) as info:
        monitor.startup()
    assert "RuntimeError: no table today" in (info.value.event.error or ""), (
        "the trace should keep the exception Startup raised"
    )


def test_startup_with_a_table_version_out_of_range_fails(rig):
    dll = ScriptedDLL(version=0x900)
    monitor = rig.monitor(dll, startup=False)
    try:
        monitor.startup(CLRES_VERSION_V1_00, CLRES_VERSION_V1_00)
        refused = False
    except StartupFailed:
        refused = True
    assert refused, "a table of version 0x900 for the range 0x100..0x100 cannot be loaded (ST-8)"


def test_startup_records_the_null_entry_points(rig):
    dll = ScriptedDLL(null=("Arbitrate", "Release", "ResourceTypeControl"))
    monitor = rig.monitor(dll)
    [event] = monitor.trace.calls("Startup")
    assert event.data["null_entry_points"] == ["Arbitrate", "Release", "ResourceTypeControl"], (
        "the Startup event should list the NULL entry points in table order"
    )


def test_a_null_entry_point_is_not_called(rig):
    dll = ScriptedDLL(null=("LooksAlive",))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online()
    with pytest.raises(EntryPointNull, match="NULL"):
        resource.looks_alive()
    assert not monitor.trace.calls("LooksAlive"), (
        "a NULL entry point is never called, so the trace should hold no LooksAlive call"
    )
    [refused] = monitor_events(monitor, "not called")
    assert refused.data["entry"] == "LooksAlive", "the trace should say which entry was NULL"


def test_the_schedule_skips_a_null_poll_routine(rig):
    dll = ScriptedDLL(null=("LooksAlive",))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=0.005, ia=0.02)
    resource.online()
    assert resource.wait_polls("IsAlive", 3, WAIT), "IsAlive should still be polled"
    assert resource.state == ClusterResourceOnline, "a NULL LooksAlive is no failure to poll"
    assert not monitor_events(monitor, "not called"), "the schedule should not try LooksAlive"


# ================================================================================================
# Open (OP-1, OP-2)
# ================================================================================================
def test_open_creates_the_key_with_the_properties_under_parameters(rig):
    properties = {"Port": 8080, "Path": "C:\\data", "Blob": b"\x01\x02", "Names": ["a", "b"]}
    seen: dict[str, Any] = {}

    def open_(dll, name, key, handle):
        seen.update(name=name, key=key, handle=handle)
        status, params = ClusterRegOpenKey(key, "Parameters")
        seen["open_status"] = status
        for prop in properties:
            seen[prop] = ClusterRegQueryValue(params, prop)
        return "resid:" + name

    dll = ScriptedDLL(Open=open_)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, "web", properties)

    assert resource.opened and resource.resid == "resid:web", "Open's RESID should be kept"
    assert seen["name"] == "web", "Open should receive the resource name"
    assert isinstance(seen["key"], HKEY) and seen["key"].path == "Resources\\web", (
        "Open should receive the resource's own cluster-database key"
    )
    assert seen["handle"] == resource.handle, "Open should receive the resource's handle"
    assert seen["open_status"] == ERROR_SUCCESS, "the key should have a Parameters subkey"
    expected_types = {"Port": REG_DWORD, "Path": REG_SZ, "Blob": REG_BINARY, "Names": REG_MULTI_SZ}
    for prop, value in properties.items():
        assert seen[prop] == (ERROR_SUCCESS, expected_types[prop], value), (
            f"private property {prop} should be in Parameters with its value and type"
        )
    assert resource.properties() == properties, "Resource.properties() should read Parameters"
    reads = [e for e in monitor.trace.callbacks() if e.name.startswith("ClusterReg")]
    assert reads and all(e.context == "Open" and e.resource == "web" for e in reads), (
        "cluster-database access made inside Open should be traced with context 'Open'"
    )


def test_open_returning_null_leaves_the_resource_unopened_with_the_last_error(rig):
    def open_(dll, name, key, handle):
        SetLastError(ERROR_BAD_CONFIGURATION)

    dll = ScriptedDLL(Open=open_)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, "r1", la=0.01, ia=0.01)

    assert not resource.opened and resource.resid is None, "a NULL RESID means not opened"
    assert resource.open_error == ERROR_BAD_CONFIGURATION, "Open's SetLastError code should be kept"
    [error] = monitor.trace.callbacks("SetLastError")
    assert (error.context, error.resource, error.args["dwErrCode"]) == (
        "Open",
        "r1",
        ERROR_BAD_CONFIGURATION,
    ), "SetLastError should be traced with context 'Open', the resource and the code"
    [event] = monitor.trace.calls("Open")
    assert event.data.get("null_resid") is True, "the Open event should be marked null_resid"
    with pytest.raises(MonitorError):
        resource.online()
    time.sleep(WATCH)
    assert names(dll.calls_of()) == ["Startup", "Open"], (
        "nothing (no Online, no polls) should reach the DLL for a resource Open refused"
    )


# ================================================================================================
# Online / Offline (ON-1..3, OF-1..2, PO-3, RS-2)
# ================================================================================================
def test_online_success_goes_online_and_starts_polling(rig):
    at_entry: list[Any] = []

    def online(dll, resid, event_handle):
        at_entry.append((type(event_handle), event_handle.value))
        return ERROR_SUCCESS

    dll = ScriptedDLL(Online=online)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=0.01, ia=0.03)
    assert resource.online() == ClusterResourceOnline, "online() should report Online"
    assert at_entry == [(HANDLE, None)], "Online should get an EventHandle that is NULL on entry"
    assert resource.state == ClusterResourceOnline, "Online returning 0 means Online (ON-2)"
    assert resource.wait_polls("LooksAlive", 2, WAIT), "LooksAlive polling should start"
    assert resource.wait_polls("IsAlive", 1, WAIT), "IsAlive polling should start"
    states = [e.data.get("state") for e in monitor_events(monitor, "state")]
    assert "ClusterResourceOnline" in states, "the trace should record the state change"


def test_online_pending_until_the_worker_reports_online(rig):
    step1, step2, final = threading.Event(), threading.Event(), threading.Event()
    dll = ScriptedDLL(Online=pending_then(ClusterResourceOnline, step1, step2, last=final))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=0.01, ia=0.01)

    assert resource.online(wait=False) == ClusterResourceOnlinePending, (
        "ERROR_IO_PENDING should move the resource to OnlinePending at once (PO-3)"
    )
    for count, step in ((1, step1), (2, step2)):
        step.set()
        assert dll.wait_until(lambda n=count: len(dll.reports) >= n), f"report {count} expected"
        assert resource.state == ClusterResourceOnlinePending, (
            f"the resource should stay OnlinePending after pending report {count}"
        )
        assert dll.reports[-1].answer == ResourceExitStateContinue, (
            "a report while pending should be answered ResourceExitStateContinue"
        )
    assert not dll.calls_of("LooksAlive", "IsAlive"), "no polling while OnlinePending"
    final.set()
    assert resource.wait_state({ClusterResourceOnline}, WAIT), "the final report brings it Online"
    assert [r.answer for r in dll.reports] == [ResourceExitStateContinue] * 3, (
        "every report of a pending operation should be answered Continue, the final one too"
    )
    phases = [e.data["phase"] for e in monitor.trace.callbacks("SetResourceStatus")]
    assert phases == ["pending"] * 3, "reports after Online returned should have phase 'pending'"
    assert not dll.calls_of("Terminate"), "a pending Online that completes is not terminated"


def test_offline_pending_until_the_worker_reports_offline(rig):
    step, final = threading.Event(), threading.Event()
    dll = ScriptedDLL(Offline=pending_then(ClusterResourceOffline, step, last=final))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online()
    assert resource.offline(wait=False) == ClusterResourceOfflinePending, (
        "Offline returning ERROR_IO_PENDING should move the resource to OfflinePending (PO-3)"
    )
    step.set()
    assert dll.wait_until(lambda: len(dll.reports) >= 1), "the pending report should arrive"
    assert resource.state == ClusterResourceOfflinePending, "still OfflinePending after it"
    final.set()
    assert resource.wait_state({ClusterResourceOffline}, WAIT), "the final report: Offline"
    assert [r.answer for r in dll.reports] == [ResourceExitStateContinue] * 2, (
        "reports of a pending Offline should be answered Continue"
    )


@pytest.mark.parametrize("then", ["Online", "Offline"])
def test_no_state_change_is_asked_while_one_is_pending(rig, then):
    final = threading.Event()
    dll = ScriptedDLL(Online=pending_then(ClusterResourceOnline, last=final))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online(wait=False)

    with pytest.raises(OperationPending, match="Online is pending"):
        getattr(resource, then.lower())()
    assert [e.name for e in monitor.trace.calls() if e.name in ("Online", "Offline")] == [
        "Online"
    ], f"{then} should not be called while Online is pending (MS-CMRP: ERROR_INVALID_STATE)"
    refused = [e for e in monitor.trace if e.kind == MONITOR and e.name == "not called"]
    assert refused and refused[-1].data["entry"] == then, "the refusal should be in the trace"
    final.set()
    assert resource.wait_state({ClusterResourceOnline}, WAIT), "the pending Online still ends"
    resource.offline()
    assert resource.state == ClusterResourceOffline, "once it ended, Offline is called again"


def _fails_with_code(dll, *args):
    return ERROR_ACCESS_DENIED


def _fails_by_raising(dll, *args):
    raise OSError("device gone")


@pytest.mark.parametrize("entry", ["Online", "Offline"])
@pytest.mark.parametrize(
    "behaviour, why",
    [(_fails_with_code, "5 (ERROR_ACCESS_DENIED)"), (_fails_by_raising, "OSError: device gone")],
    ids=["error-code", "raises"],
)
def test_failing_online_or_offline_is_logged_failed_and_terminated(rig, entry, behaviour, why):
    dll = ScriptedDLL(**{entry: behaviour})
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    if entry == "Offline":
        resource.online()
    operation = resource.online if entry == "Online" else resource.offline
    assert operation() == ClusterResourceFailed, f"a failing {entry} leaves the resource Failed"
    assert resource.state == ClusterResourceFailed, f"{entry} failed: state Failed (ON-3/OF-2)"

    failed_call = dll.calls_of(entry)[-1]
    terminates = dll.calls_of("Terminate")
    assert len(terminates) == 1, f"a failing {entry} should be followed by one Terminate"
    assert terminates[0].start >= failed_call.end, f"Terminate should come after {entry} returned"
    lines = [line for line in monitor.cluster_log if f"{entry} failed" in line]
    assert len(lines) == 1 and why in lines[0] and "r1" in lines[0], (
        f"the cluster log should get one line naming the resource and why {entry} failed"
    )
    [log] = [e for e in monitor_events(monitor, "log") if f"{entry} failed" in e.data["message"]]
    [terminate] = monitor.trace.calls("Terminate")
    assert log.seq < terminate.seq, "the event should be logged before Terminate is called"
    assert terminate.data["reason"] == f"{entry} failed", "Terminate's reason should be traced"


# ================================================================================================
# PendingTimeout (PO-6, FP-5)
# ================================================================================================
@pytest.mark.parametrize("entry", ["Online", "Offline"])
def test_pending_timeout_after_a_quiet_gap_terminates(rig, entry):
    pending_timeout = 0.15
    first, resume = threading.Event(), threading.Event()
    first.set()
    final = ClusterResourceOnline if entry == "Online" else ClusterResourceOffline
    dll = ScriptedDLL(**{entry: pending_then(final, first, resume)})
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, pending=pending_timeout)
    if entry == "Offline":
        dll.script("Online", ERROR_SUCCESS)
        resource.online()

    operation = resource.online if entry == "Online" else resource.offline
    operation(wait=False)
    assert dll.wait_until(lambda: len(dll.reports) == 1), "the worker's one report should arrive"
    assert wait_for(lambda: dll.calls_of("Terminate") and dll.calls_of("Terminate")[0].end), (
        "Terminate should be called once PendingTimeout passes without a report"
    )
    assert resource.wait_state({ClusterResourceFailed}, WAIT), (
        "a pending operation that timed out leaves the resource Failed"
    )
    [expired] = monitor_events(monitor, "PendingTimeout expired")
    [report] = monitor.trace.callbacks("SetResourceStatus")
    assert expired.start - report.start >= 0.9 * pending_timeout, (
        "PendingTimeout should not expire before the gap since the last report reached it"
    )
    [terminate] = monitor.trace.calls("Terminate")
    assert expired.seq < terminate.seq and terminate.data["reason"] == "PendingTimeout", (
        "the trace should show the expiry, then Terminate with reason PendingTimeout"
    )

    resume.set()  # the old worker wakes up and reports: it must be told to stop
    assert dll.wait_until(lambda: len(dll.reports) == 2), "the old worker's late report expected"
    assert dll.reports[1].answer == ResourceExitStateTerminate, (
        "a report after Terminate should be answered ResourceExitStateTerminate (RS-2)"
    )
    assert len(dll.calls_of("Terminate")) == 1, "one Terminate for one timeout"


def test_pending_timeout_is_a_gap_not_a_total(rig):
    """PO-6: a DLL that reports within every PendingTimeout may stay pending for longer."""
    pending_timeout, every, total = 0.3, 0.02, 0.7

    def online(dll, resid, event_handle):
        def work():
            started = time.perf_counter()
            checkpoint = 0
            while time.perf_counter() - started < total:
                checkpoint += 1
                if dll.report("r1", ClusterResourceOnlinePending, checkpoint):
                    return
                time.sleep(every)
            dll.report("r1", ClusterResourceOnline, checkpoint + 1)

        dll.spawn(work, name="worker-r1")
        return ERROR_IO_PENDING

    dll = ScriptedDLL(Online=online)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, pending=pending_timeout)
    assert resource.online() == ClusterResourceOnline, (
        "a worker that keeps reporting within PendingTimeout should reach Online"
    )
    reports = monitor.trace.callbacks("SetResourceStatus")
    span = reports[-1].start - monitor.trace.calls("Online")[0].start
    assert span > 2 * pending_timeout, "the operation should have been pending for > 2 timeouts"
    assert not monitor_events(monitor, "PendingTimeout expired"), (
        "PendingTimeout is the gap between updates, not a cap on the total (PO-6)"
    )
    assert not dll.calls_of("Terminate"), "no Terminate for a worker that kept reporting"
    assert all(r.answer == ResourceExitStateContinue for r in dll.reports), (
        "every report should be answered Continue"
    )


# ================================================================================================
# Polling (LA-2, LA-3, LA-8, IA-2, IA-4, AF-2, CX-5)
# ================================================================================================
def test_no_polling_before_online_or_while_pending(rig):
    go = threading.Event()
    dll = ScriptedDLL(Online=pending_then(ClusterResourceOnline, last=go))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=0.01, ia=0.01)
    time.sleep(WATCH)
    assert not dll.calls_of("LooksAlive", "IsAlive"), "no polling before Online (CX-5)"
    resource.online(wait=False)
    time.sleep(WATCH)
    assert not dll.calls_of("LooksAlive", "IsAlive"), "no polling while OnlinePending"
    go.set()
    assert resource.wait_state({ClusterResourceOnline}, WAIT), "the worker brings it Online"
    assert resource.wait_polls("LooksAlive", 1, WAIT), "polling should start once Online"
    first_poll = dll.calls_of("LooksAlive", "IsAlive")[0]
    assert first_poll.start > dll.reports[-1].at, "the first poll should follow the final report"


def test_no_polling_after_offline(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=0.01, ia=0.02)
    resource.online()
    assert resource.wait_polls("LooksAlive", 2, WAIT), "LooksAlive polls expected while Online"
    assert resource.wait_polls("IsAlive", 1, WAIT), "IsAlive polls expected while Online"
    assert resource.offline() == ClusterResourceOffline, "Offline returning 0 means Offline"
    offline = dll.calls_of("Offline")[0]
    time.sleep(WATCH)
    late = [c for c in dll.calls_of("LooksAlive", "IsAlive") if c.start >= offline.start]
    assert not late, f"no LooksAlive/IsAlive once Offline was called, got {names(late)}"


def test_looks_alive_false_calls_is_alive_at_once(rig):
    answers = iter([True, False])

    def looks_alive(dll, resid):
        return next(answers, True)

    dll = ScriptedDLL(LooksAlive=looks_alive)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=0.02)  # IsAlive's own timer is quiet
    resource.online()
    assert dll.wait_calls("IsAlive", finished=True), (
        "LooksAlive FALSE should be followed by IsAlive"
    )
    polls = dll.calls_of("LooksAlive", "IsAlive")
    falsy = next(i for i, c in enumerate(polls) if c.name == "LooksAlive" and c.result is False)
    assert polls[falsy + 1].name == "IsAlive", (
        f"IsAlive should be the very next call after LooksAlive FALSE (LA-3), got {names(polls)}"
    )
    assert resource.state == ClusterResourceOnline, "IsAlive TRUE keeps the resource Online"
    assert not dll.calls_of("Terminate"), "no Terminate when IsAlive confirms the resource"
    assert resource.wait_polls("LooksAlive", falsy + 3, WAIT), "LooksAlive polling goes on"


@pytest.mark.parametrize("via", ["IsAlive-poll", "LooksAlive-then-IsAlive"])
def test_is_alive_false_fails_the_resource_and_terminates(rig, via):
    dll = ScriptedDLL(IsAlive=False, LooksAlive=via == "IsAlive-poll")
    monitor = rig.monitor(dll)
    poll = {"ia": 0.02} if via == "IsAlive-poll" else {"la": 0.02}
    resource = rig.open(monitor, **poll)
    resource.online()
    assert dll.wait_calls("Terminate", finished=True), "IsAlive FALSE should lead to Terminate"
    assert resource.wait_state({ClusterResourceFailed}, WAIT), "IsAlive FALSE means Failed (IA-4)"
    is_alive = dll.calls_of("IsAlive")
    terminate = dll.calls_of("Terminate")
    assert len(is_alive) == 1 and terminate[0].start >= is_alive[0].end, (
        "Terminate should follow the one IsAlive that answered FALSE"
    )
    [failed] = [
        e for e in monitor_events(monitor, "state") if e.data["state"] == "ClusterResourceFailed"
    ]
    [call] = monitor.trace.calls("Terminate")
    assert failed.seq < call.seq and call.data["reason"] == "IsAlive did not return TRUE", (
        "the trace should show ClusterResourceFailed first, then Terminate with the reason"
    )
    polls = len(dll.calls_of("LooksAlive", "IsAlive"))
    time.sleep(WATCH)
    assert len(dll.calls_of("LooksAlive", "IsAlive")) == polls, "no polling once Failed"


def test_a_failure_terminate_ends_before_the_next_online_starts(rig):
    terminate_may_end = threading.Event()

    def terminate(dll, resid):
        dll.block(terminate_may_end)

    dll = ScriptedDLL(IsAlive=lambda dll, resid: len(dll.calls_of("IsAlive")) > 1)
    dll.script("Terminate", terminate)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, ia=0.02)
    resource.online()
    assert dll.wait_calls("Terminate"), "IsAlive FALSE should lead to Terminate"
    settled = {ClusterResourceFailed, ClusterResourceOnline}

    def wait_settled() -> tuple[bool, float]:
        return resource.wait_state(settled, WAIT), time.perf_counter()

    waiter = rig.thread(wait_settled, name="waiter")
    online = rig.thread(resource.online, name="next-online")
    time.sleep(WATCH)
    assert not dll.calls_of("Online")[1:], (
        "the next Online must wait until the failure's Terminate has returned"
    )
    terminate_may_end.set()
    assert online.join() == ClusterResourceOnline, "the next Online should then succeed"
    done, returned_at = waiter.join()
    [term] = dll.calls_of("Terminate")
    assert done and returned_at >= term.end, (
        "wait_state should return only once the failure's Terminate has returned"
    )
    second = dll.calls_of("Online")[1]
    assert term.end is not None and second.start >= term.end, (
        "a late Terminate must never overlap the next Online"
    )


def _online_failing_when(release: threading.Event) -> Callable[..., int]:
    def online(dll, resid, event_handle):
        dll.block(release)
        return ERROR_GEN_FAILURE

    return online


@pytest.mark.parametrize("then", ["offline", "close"])
def test_a_failure_terminate_decided_while_the_next_call_waits_runs_first(rig, then):
    """The next call was asked for before Online failed: it must still wait for the
    Terminate that failure decides, and never overlap it (CX-2, TE-4)."""
    online_may_fail = threading.Event()
    terminate_may_end = threading.Event()
    dll = ScriptedDLL(Online=_online_failing_when(online_may_fail))
    dll.script("Terminate", lambda dll, resid: dll.block(terminate_may_end))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    online = rig.thread(resource.online, name="failing-online")
    assert dll.wait_calls("Online"), "Online should start"
    following = rig.thread(getattr(resource, then), name=f"next-{then}")
    time.sleep(WATCH)  # the next call now waits for the monitor's lock
    online_may_fail.set()
    assert dll.wait_calls("Terminate"), "a failed Online should lead to Terminate (ON-3)"
    time.sleep(WATCH)
    assert not dll.calls_of("Offline", "Close"), (
        f"{then.capitalize()} must wait until the failure's Terminate has returned"
    )
    terminate_may_end.set()
    online.join()
    following.join()
    [term] = dll.calls_of("Terminate")
    [after] = dll.calls_of("Offline", "Close")
    assert term.end is not None and after.start >= term.end, (
        f"{after.name} started before the failure's Terminate returned"
    )


def test_a_stale_is_alive_false_does_not_fail_the_next_online(rig):
    """IsAlive said FALSE, but before the monitor acted on it the resource went offline and
    online again: that answer was about the previous Online and must not fail this one."""
    dll = ScriptedDLL(IsAlive=lambda dll, resid: len(dll.calls_of("IsAlive")) > 1)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, ia=0.02)
    real_fail = monitor.supervisor._fail

    def late_fail(res: Resource, why: str, generation: int) -> None:
        res.offline()
        res.online()
        real_fail(res, why, generation)

    monitor.supervisor._fail = late_fail  # type: ignore[method-assign]
    resource.online()
    assert wait_for(lambda: len(dll.calls_of("Online")) == 2), "the second Online should run"
    time.sleep(WATCH)
    assert not dll.calls_of("Terminate"), "a stale FALSE must not Terminate the new Online"
    assert resource.state == ClusterResourceOnline, "the new Online stays online"


def test_a_failure_event_that_hangs_blocks_nothing_but_its_own_check(rig):
    """The DLL's event object is the DLL's code: if asking it hangs, Offline and Close still
    work."""
    release = threading.Event()

    class HangingEvent:
        def is_set(self) -> bool:
            release.wait(30)
            return False

    def online(dll, resid, event_handle):
        event_handle.value = HangingEvent()
        return ERROR_SUCCESS

    dll = ScriptedDLL(Online=online)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online()
    time.sleep(WATCH)  # the supervisor now waits inside is_set()
    try:
        assert rig.thread(resource.offline, name="offline").join() == ClusterResourceOffline, (
            "Offline should complete while the DLL's event object hangs"
        )
        rig.thread(resource.close, name="close").join()
    finally:
        release.set()


def test_a_slow_looks_alive_does_not_starve_is_alive(rig):
    def looks_alive(dll, resid):
        time.sleep(0.03)  # longer than its own poll interval
        return True

    dll = ScriptedDLL(LooksAlive=looks_alive)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=0.005, ia=0.02)
    resource.online()
    assert resource.wait_polls("IsAlive", 3, WAIT), (
        "IsAlive must still be polled when LooksAlive takes longer than its interval: "
        f"{len(dll.calls_of('IsAlive'))} IsAlive polls, {len(dll.calls_of('LooksAlive'))} "
        "LooksAlive polls"
    )


@pytest.mark.parametrize("answer, online", [(2, True), ("yes", True), (0, False), (None, False)])
def test_a_returned_bool_is_read_as_c_reads_it(rig, answer, online):
    dll = ScriptedDLL(IsAlive=answer)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, ia=0.01)
    resource.online()
    if online:
        assert resource.wait_polls("IsAlive", 3, WAIT), "IsAlive should be polled"
        assert resource.state == ClusterResourceOnline, f"{answer!r} is nonzero: TRUE"
    else:
        assert dll.wait_calls("Terminate", finished=True), f"{answer!r} is FALSE: Terminate"
        assert resource.wait_state({ClusterResourceFailed}, WAIT), f"{answer!r}: Failed"


# ================================================================================================
# Restart policy (FP-8..FP-12, FP-18..FP-20)
# ================================================================================================
def restart_policy(action: int, threshold: int, period: float, retry: float | None) -> dict:
    return {
        **timers(ia=0.02),
        "RestartAction": action,
        "RestartThreshold": threshold,
        "RestartPeriod": ms(period),
        "RestartDelay": ms(0.01),
        "RetryPeriodOnFailure": 0xFFFFFFFF if retry is None else ms(retry),
    }


def open_failing(rig, common: dict) -> tuple[ScriptedDLL, ResourceMonitor, Resource]:
    """A resource whose IsAlive always says FALSE: every Online ends in a failure."""
    dll = ScriptedDLL(IsAlive=False)
    monitor = rig.monitor(dll)
    resource = monitor.open("r1", {}, common=common)
    resource.online()
    return dll, monitor, resource


@pytest.mark.parametrize("action", [ClusterResourceRestartNoNotify, ClusterResourceRestartNotify])
def test_restarts_up_to_the_threshold_then_stays_failed(rig, action):
    dll, monitor, resource = open_failing(rig, restart_policy(action, 2, 30.0, None))
    assert dll.wait_calls("Terminate", count=3, finished=True), "three failures expected"
    time.sleep(WATCH)
    assert len(dll.calls_of("Online")) == 3, (
        "RestartThreshold 2: the first Online and two restarts, then no more (FP-9, FP-18); "
        f"got {len(dll.calls_of('Online'))} Online calls"
    )
    assert resource.state == ClusterResourceFailed, "beyond the threshold it stays Failed"
    [exceeded] = monitor_events(monitor, "restart threshold exceeded")
    expected = "the group would fail over" if action == ClusterResourceRestartNotify else "stays"
    assert expected in exceeded.data["then"], (
        f"RestartAction {action}: the trace should say {expected!r} (FP-19)"
    )
    restarts = monitor_events(monitor, "restart")
    assert [e.data["kind"] for e in restarts] == ["restart", "restart"], "two restarts traced"
    terminates = dll.calls_of("Terminate")
    onlines = dll.calls_of("Online")
    for term, online in zip(terminates, onlines[1:], strict=False):
        assert online.start >= term.end, "each restart comes after the failure's Terminate"


def test_dont_restart_leaves_the_resource_failed(rig):
    dll, monitor, _resource = open_failing(
        rig, restart_policy(ClusterResourceDontRestart, 3, 30.0, None)
    )
    assert dll.wait_calls("Terminate", finished=True), "IsAlive FALSE should lead to Terminate"
    time.sleep(WATCH)
    assert len(dll.calls_of("Online")) == 1, "ClusterResourceDontRestart: no restart (FP-8)"
    assert not monitor_events(monitor, "restart"), "no restart should be traced"


def test_failures_outside_the_restart_period_do_not_count(rig):
    dll, monitor, resource = open_failing(
        rig, restart_policy(ClusterResourceRestartNotify, 1, 0.0, None)
    )
    assert dll.wait_calls("Online", count=5), (
        "RestartPeriod 0: every failure starts a new window, so restarts never run out (FP-10)"
    )
    assert not monitor_events(monitor, "restart threshold exceeded"), "never exceeded"
    resource.close()


def test_one_last_attempt_after_retry_period_on_failure(rig):
    dll, monitor, resource = open_failing(
        rig, restart_policy(ClusterResourceRestartNotify, 1, 30.0, 0.05)
    )
    assert dll.wait_calls("Terminate", count=3, finished=True), "three failures expected"
    time.sleep(WATCH)
    kinds = [e.data["kind"] for e in monitor_events(monitor, "restart")]
    assert kinds == ["restart", "retry"], (
        "threshold 1: one restart, then after RetryPeriodOnFailure one last attempt, then the "
        f"resource stays failed (FP-20); got {kinds}"
    )
    assert len(dll.calls_of("Online")) == 3 and resource.state == ClusterResourceFailed


def test_closing_cancels_a_planned_restart(rig):
    common = restart_policy(ClusterResourceRestartNotify, 3, 30.0, None)
    common["RestartDelay"] = ms(0.3)
    dll, _monitor, resource = open_failing(rig, common)
    assert dll.wait_calls("Terminate", finished=True), "IsAlive FALSE should lead to Terminate"
    resource.close()
    time.sleep(0.3 + WATCH)
    assert len(dll.calls_of("Online")) == 1, "no restart after Close"


def _online_with_event(event: threading.Event) -> Callable[..., int]:
    def online(dll, resid, event_handle):
        event_handle.value = event
        return ERROR_SUCCESS

    return online


def test_looks_alive_is_never_called_when_online_returned_an_event_handle(rig):
    dll = ScriptedDLL(Online=_online_with_event(threading.Event()))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=0.01, ia=0.03)
    resource.online()
    assert resource.wait_polls("IsAlive", 3, WAIT), "IsAlive polling cannot be switched off (IA-2)"
    assert not dll.calls_of("LooksAlive"), "no LooksAlive with an EventHandle (LA-8)"


@pytest.mark.parametrize("policy", ["IsAlive", "Terminate"])
def test_signalled_failure_event_follows_the_policy(rig, policy):
    failure = threading.Event()
    dll = ScriptedDLL(Online=_online_with_event(failure), IsAlive=False)
    monitor = rig.monitor(dll, async_failure=policy)
    resource = rig.open(monitor, la=0.01)
    resource.online()
    time.sleep(WATCH)
    assert not dll.calls_of("LooksAlive", "IsAlive", "Terminate"), (
        "nothing should happen before the event is signalled (quiet IsAlive, LA-8)"
    )
    failure.set()
    assert dll.wait_calls("Terminate", finished=True), "the signalled event should end in Terminate"
    assert resource.wait_state({ClusterResourceFailed}, WAIT), "the resource should be Failed"
    polls = [c for c in dll.calls_of() if c.name in ("LooksAlive", "IsAlive", "Terminate")]
    if policy == "IsAlive":
        assert names(polls) == ["IsAlive", "Terminate"], (
            f"policy 'IsAlive': IsAlive first, then Terminate when it says FALSE; got {names(polls)}"
        )
    else:
        assert names(polls) == ["Terminate"], (
            f"policy 'Terminate': Terminate at once, no IsAlive; got {names(polls)}"
        )
    [signalled] = monitor_events(monitor, "failure event signalled")
    assert signalled.data["policy"] == policy, "the trace should name the policy applied"


def test_looks_alive_stays_off_after_a_false_alarm(rig):
    failure = threading.Event()
    dll = ScriptedDLL(Online=_online_with_event(failure), IsAlive=True)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=0.01)
    resource.online()
    failure.set()
    assert dll.wait_calls("IsAlive", finished=True), "the signalled event should trigger IsAlive"
    time.sleep(WATCH)
    assert resource.state == ClusterResourceOnline, "IsAlive TRUE keeps the resource Online"
    assert not dll.calls_of("LooksAlive"), (
        "Online returned an EventHandle, so LooksAlive must never be called for this "
        f"instance (LA-8), not even after a false alarm; got {len(dll.calls_of('LooksAlive'))}"
    )


# ================================================================================================
# Concurrency (RM-4, CX-1..3, TE-4, TE-6)
# ================================================================================================
def test_a_slow_poll_and_a_scenario_offline_never_overlap(rig):
    release = threading.Event()

    def looks_alive(dll, resid):
        if len(dll.calls_of("LooksAlive")) == 1:
            dll.block(release)
        return True

    dll = ScriptedDLL(LooksAlive=looks_alive)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=0.01)
    resource.online()
    assert dll.wait_calls("LooksAlive"), "the first LooksAlive poll should start"
    offline = rig.thread(resource.offline, name="scenario-offline")
    time.sleep(WATCH)
    assert not dll.calls_of("Offline"), "Offline should wait while LooksAlive runs (RM-4)"
    release.set()
    assert offline.join() == ClusterResourceOffline, "Offline should complete after the poll"
    [poll] = dll.calls_of("LooksAlive")[:1]
    [off] = dll.calls_of("Offline")
    assert off.start >= poll.end, "Offline should start only after LooksAlive returned"
    serial = [c for c in dll.calls_of() if c.name != "Terminate"]
    assert not overlapping(serial), "no two entry points but Terminate may overlap (CX-3)"


def test_no_two_entry_points_but_terminate_overlap_under_load(rig):
    def briefly(result: Any) -> Callable[..., Any]:
        def entry(dll, *args):
            time.sleep(0.001)
            return result

        return entry

    def pending_online(dll, resid, event_handle):
        name = resid.split(":", 1)[1]

        def work():
            time.sleep(0.003)
            dll.report(name, ClusterResourceOnline, 1)

        dll.spawn(work, name=f"worker-{name}")
        return ERROR_IO_PENDING

    dll = ScriptedDLL(
        Online=pending_online,
        Offline=briefly(ERROR_SUCCESS),
        LooksAlive=briefly(True),
        IsAlive=briefly(True),
        Close=briefly(None),
        Terminate=briefly(None),
    )
    monitor = rig.monitor(dll)
    cycling = [rig.open(monitor, name, la=0.003, ia=0.007, pending=2.0) for name in ("r1", "r2")]

    def cycle(resource: Resource) -> None:
        for _ in range(6):
            resource.online()
            time.sleep(0.02)
            resource.offline()

    def reopen() -> None:
        for i in range(6):
            rig.open(monitor, f"r3-{i}").close()
            time.sleep(0.01)

    def terminate() -> None:
        for _ in range(6):
            time.sleep(0.015)
            cycling[0].terminate()

    drivers = [rig.thread(cycle, r, name=f"scenario-{r.name}") for r in cycling]
    drivers += [rig.thread(reopen, name="scenario-r3"), rig.thread(terminate, name="terminator")]
    for driver in drivers:
        driver.join(30)

    calls = dll.calls_of()
    assert dll.calls_of("LooksAlive", "IsAlive"), "the load should include polls"
    serial = [c for c in calls if c.name != "Terminate"]
    assert not overlapping(serial), (
        f"every entry point but Terminate should be serialised (RM-4, CX-3): {overlapping(serial)}"
    )
    lifecycle = [c for c in calls if c.name in ("Startup", "Open", "Close")]
    clashes = [
        (t.name, c.name) for t in dll.calls_of("Terminate") for c in lifecycle if t.overlaps(c)
    ]
    assert not clashes, f"Terminate should never overlap Startup/Open/Close (CX-2): {clashes}"


@pytest.mark.parametrize("entry", ["Online", "Offline", "LooksAlive", "IsAlive"])
def test_terminate_runs_while_a_slow_entry_point_is_still_running(rig, entry):
    release = threading.Event()

    def slow(dll, *args):
        dll.block(release)
        return True if entry in ("LooksAlive", "IsAlive") else ERROR_SUCCESS

    dll = ScriptedDLL(**{entry: slow})
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    if entry != "Online":
        dll.script("Online", ERROR_SUCCESS)
        resource.online()
    operation = {
        "Online": resource.online,
        "Offline": resource.offline,
        "LooksAlive": resource.looks_alive,
        "IsAlive": resource.is_alive,
    }[entry]
    scenario = rig.thread(operation, name=f"scenario-{entry}")
    terminator = None
    try:
        assert dll.wait_calls(entry), f"{entry} should start"
        slow_call = dll.calls_of(entry)[-1]
        terminator = rig.thread(resource.terminate, name="terminator")
        assert dll.wait_calls("Terminate", finished=True), (
            f"Terminate should run to completion while {entry} is still running (CX-1, TE-4)"
        )
        assert slow_call.end is None, f"{entry} should still be running when Terminate returned"
    finally:
        release.set()
    scenario.join()
    terminator.join()
    [terminate] = dll.calls_of("Terminate")
    assert slow_call.start < terminate.start and terminate.end < slow_call.end, (
        f"Terminate should have run inside {entry}'s call"
    )
    assert resource.state != ClusterResourceOnline, (
        f"after Terminate the resource is offline (TE-2), whatever the late {entry} returned"
    )


@pytest.mark.parametrize("entry", ["Open", "Close"])
def test_terminate_never_overlaps_open_or_close(rig, entry):
    release = threading.Event()
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    online = rig.open(monitor, "r1")
    online.online()

    if entry == "Open":
        default_open = dll.behaviour["Open"]

        def slow_open(dll, name, key, handle):
            dll.block(release)
            return default_open(dll, name, key, handle)

        dll.script("Open", slow_open)
        scenario = rig.thread(rig.open, monitor, "r2", name="scenario-open")
    else:
        other = rig.open(monitor, "r2")
        dll.script("Close", lambda dll, resid: dll.block(release))
        scenario = rig.thread(other.close, name="scenario-close")
    terminator = None
    try:
        assert dll.wait_calls(entry), f"{entry} of r2 should start"
        terminator = rig.thread(online.terminate, name="terminator")
        time.sleep(WATCH)
        assert not dll.calls_of("Terminate"), (
            f"Terminate (of r1) should wait while {entry} (of r2) runs (CX-2, TE-6)"
        )
    finally:
        release.set()
    scenario.join()
    terminator.join()
    [slow] = dll.calls_of(entry)[-1:]
    [terminate] = dll.calls_of("Terminate")
    assert terminate.start >= slow.end, f"Terminate should start after {entry} returned"


# ================================================================================================
# SetResourceStatus answers (RS-2, TE-7, PO-4)
# ================================================================================================
def test_a_report_after_terminate_is_told_to_terminate(rig):
    first, later = threading.Event(), threading.Event()
    dll = ScriptedDLL(Online=pending_then(ClusterResourceOnline, first, later))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online(wait=False)
    first.set()  # report only once the monitor has seen ERROR_IO_PENDING
    assert dll.wait_until(lambda: len(dll.reports) == 1), "the first pending report expected"
    assert dll.reports[0].answer == ResourceExitStateContinue, "answered Continue while pending"
    resource.terminate()
    later.set()
    assert dll.wait_until(lambda: len(dll.reports) == 2), "the old worker's report expected"
    assert dll.reports[1].answer == ResourceExitStateTerminate, (
        "after Terminate, SetResourceStatus should answer ResourceExitStateTerminate (RS-2)"
    )
    reports = monitor.trace.callbacks("SetResourceStatus")
    assert [e.data["phase"] for e in reports] == ["pending", "after-terminate"], (
        "the trace should mark the late report with phase 'after-terminate'"
    )
    assert reports[1].data["known_handle"] is True, "the handle is still the resource's"
    assert reports[1].result == ResourceExitStateTerminate, "the trace should keep the answer"
    assert resource.state == ClusterResourceOffline and resource.pending is None, (
        "a requested Terminate leaves the resource Offline with nothing pending"
    )


def test_a_report_while_nothing_is_pending_is_marked_not_pending(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online()
    worker = dll.spawn(lambda: dll.report("r1", ClusterResourceOnline, 1), name="stray-worker")
    worker.join(WAIT)
    [event] = monitor.trace.callbacks("SetResourceStatus")
    assert (event.data["known_handle"], event.data["phase"]) == (True, "not-pending"), (
        "a report after a synchronous Online should be traced as 'not-pending' (PO-4)"
    )
    assert event.context is None and event.thread == "stray-worker", (
        "a worker's report has no entry-point context and names the worker thread"
    )
    assert resource.state == ClusterResourceOnline, "a stray report should not change the state"


def test_a_report_with_an_unknown_handle(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    stranger = RESOURCE_HANDLE(resource.handle.value + 1000)
    answer = dll.SetResourceStatus(stranger, RESOURCE_STATUS(ClusterResourceOnline))
    assert answer == ResourceExitStateTerminate, "an unknown handle is told to terminate"
    [event] = monitor.trace.callbacks("SetResourceStatus")
    assert event.data["known_handle"] is False and event.resource is None, (
        "the trace should mark a report with an unknown handle known_handle=False"
    )
    assert resource.state == ClusterResourceOffline, "it should not touch any resource"


def test_a_report_with_an_unknown_handle_is_traced_as_complete(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    rig.open(monitor)
    dll.SetResourceStatus(RESOURCE_HANDLE(1), RESOURCE_STATUS(ClusterResourceOnline))
    [event] = monitor.trace.callbacks("SetResourceStatus")
    assert event.end is not None and event.start <= event.end, (
        "every answered SetResourceStatus should have an end, like the known-handle ones"
    )


# ================================================================================================
# DeadlockTimeout (FP-6, RM-8)
# ================================================================================================
def online_that_never_returns(dll, resid, event_handle):
    dll.block(threading.Event(), timeout=60)
    return ERROR_SUCCESS


def online_hung_among_many_threads(dll, resid, event_handle):
    dll.block(threading.Event(), timeout=60)
    return ERROR_SUCCESS


def _wedge(dll: ScriptedDLL) -> SimpleNamespace:
    monitor = ResourceMonitor(InProcessHost(dll.module()), "Scripted", Policy(time_scale=SCALE))
    monitor.startup()
    resource = monitor.open("r1", {}, common=timers())
    started = time.perf_counter()
    error = None
    try:
        resource.online()
    except EntryPointHung as exc:
        error = exc
    elapsed = time.perf_counter() - started
    return SimpleNamespace(
        dll=dll, monitor=monitor, resource=resource, error=error, elapsed=elapsed
    )


def _unwedge(wedged: SimpleNamespace) -> None:
    wedged.dll.release_all()
    wedged.monitor.shutdown()
    wedged.monitor.host.close()


@pytest.fixture(scope="module")
def wedged():
    """A monitor whose Online never returned (shared: waiting for DeadlockTimeout takes 2 s)."""
    wedged = _wedge(ScriptedDLL(Online=online_that_never_returns))
    yield wedged
    _unwedge(wedged)


def test_a_hung_entry_point_wedges_the_monitor(wedged):
    monitor, resource, dll = wedged.monitor, wedged.resource, wedged.dll
    deadline = monitor.policy.deadlock_seconds
    assert deadline == 2.0, "DeadlockTimeout scaled below 2 s should be floored at 2 s"
    assert isinstance(wedged.error, EntryPointHung), "a call that never returns: EntryPointHung"
    assert deadline - 0.05 <= wedged.elapsed < deadline + 3.0, (
        f"EntryPointHung should come at about DeadlockTimeout ({deadline} s), "
        f"took {wedged.elapsed:.2f} s"
    )
    event = wedged.error.event
    assert event is not None and event.name == "Online" and event.end is None, (
        "the hung call's trace event should have end None"
    )
    assert "did not return" in event.describe(), "the excerpt line should say it did not return"
    assert "in online_that_never_returns" in event.data.get("stacks", ""), (
        "the event's stacks should show the hung function"
    )
    assert event.data["deadlock_timeout_s"] == deadline, "the stacks come with the deadline"
    assert monitor.wedged is event, "the monitor should remember what wedged it"
    assert dll.calls_of("Online")[0].end is None, "the DLL's Online is indeed still running"

    for later in (resource.offline, resource.looks_alive, lambda: monitor.open("r2")):
        started = time.perf_counter()
        with pytest.raises(EntryPointHung):
            later()
        assert time.perf_counter() - started < 1.0, "later calls should fail immediately"
    assert names(dll.calls_of()) == ["Startup", "Open", "Online"], (
        "no call should reach the DLL once the monitor is wedged"
    )
    shutdown = Driver(monitor.shutdown, name="shutdown")
    shutdown.join(WAIT)  # asserts it returned, and without raising


def test_a_refused_call_is_not_traced_as_a_hung_call(wedged):
    before = {e.seq for e in wedged.monitor.trace}
    with pytest.raises(EntryPointHung):
        wedged.resource.terminate()
    new = [e for e in wedged.monitor.trace if e.seq not in before and e.kind == CALL]
    unreturned = [e.name for e in new if e.end is None and e.error is None]
    assert not unreturned, (
        f"a call refused because the monitor is wedged must not look like a hung call: {unreturned}"
    )


def test_the_hung_stack_survives_many_other_threads():
    stop = threading.Event()
    parked = [
        threading.Thread(target=stop.wait, name=f"parked-{i}", daemon=True) for i in range(12)
    ]
    for thread in parked:
        thread.start()
    wedged = _wedge(ScriptedDLL(Online=online_hung_among_many_threads))
    try:
        assert isinstance(wedged.error, EntryPointHung), "the call should be declared hung"
        assert "in online_hung_among_many_threads" in wedged.error.event.data["stacks"], (
            "the stacks evidence should always include the hung call's own thread"
        )
    finally:
        stop.set()
        _unwedge(wedged)


# ================================================================================================
# LogEvent (LG-1..3)
# ================================================================================================
@pytest.mark.parametrize(
    "format_string, args, expected",
    [
        ("plain text", (), "plain text"),
        ("port %1 opened", ("8080",), "port 8080 opened"),
        ("%1!u! bytes", (42,), "42 bytes"),
        ("%2 before %1", ("one", "two"), "two before one"),
        ("code 0x%1!x!", (255,), "code 0xff"),
        ("missing %3", ("a",), "missing %3"),
    ],
)
def test_log_event_formats_inserts(rig, format_string, args, expected):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    rig.open(monitor, "web")
    dll.LogEvent(dll.handles["web"], LOG_INFORMATION, format_string, *args)
    line = monitor.cluster_log[-1]
    assert line.startswith("Scripted") and line.endswith(f"web: {expected}"), (
        f"the cluster log entry should be the type, the resource and {expected!r}; got {line!r}"
    )
    [event] = monitor.trace.callbacks("LogEvent")
    assert event.data["message"] == expected and event.data["known_handle"] is True, (
        "the trace should keep the formatted message"
    )
    assert event.args["LogLevel"] == LOG_INFORMATION, "the trace should keep the log level"


def test_log_event_entries_are_limited_to_500_characters(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    rig.open(monitor)
    dll.LogEvent(dll.handles["r1"], LOG_WARNING, "%1", "x" * 2000)
    assert LOG_ENTRY_LIMIT == 500, "LG-3 limits an entry to 500 characters"
    assert len(monitor.cluster_log[-1]) == 500, "the cluster log entry should be cut to 500"
    [event] = monitor.trace.callbacks("LogEvent")
    assert len(event.data["message"]) == 500, "the traced message should be cut to 500 too"
    assert event.data["entry_length"] == len("Scripted\\nr1: ") + 2000, (
        "the trace should keep the entry's full length, for LogEvent.entry-length"
    )


@pytest.mark.parametrize("set_first", [True, False])
def test_an_unknown_state_report_keeps_the_reporting_threads_last_error(rig, set_first):
    """RS-6: the monitor reads GetLastError on the thread that reported ClusterResourceStateUnknown."""

    def online(dll, resid, event_handle):
        name = resid.split(":", 1)[1]

        def work() -> None:
            if set_first:
                SetLastError(ERROR_ACCESS_DENIED)
            dll.report(name, ClusterResourceStateUnknown, 1)
            dll.report(name, ClusterResourceOnline, 2)

        dll.spawn(work, name="worker")
        return ERROR_IO_PENDING

    dll = ScriptedDLL(Online=online)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    assert resource.online() == ClusterResourceOnline, "the pending Online should complete"
    unknown = [
        e
        for e in monitor.trace.callbacks("SetResourceStatus")
        if e.args["ResourceState"] == ClusterResourceStateUnknown
    ]
    expected = ERROR_ACCESS_DENIED if set_first else ERROR_SUCCESS
    assert [e.data.get("last_error") for e in unknown] == [expected], (
        f"the report should carry the worker's last error {expected}; got {unknown}"
    )


def test_handles_are_compared_by_value(rig):
    dll = ScriptedDLL(Online=pending_then(ClusterResourceOnline))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    copy = RESOURCE_HANDLE(resource.handle.value)
    assert copy is not resource.handle, "the test needs a distinct but equal handle object"
    dll.LogEvent(copy, LOG_INFORMATION, "by value")
    dll.handles["r1"] = copy  # the worker reports with the copy
    assert resource.online() == ClusterResourceOnline, "a report with an equal handle counts"
    [log] = monitor.trace.callbacks("LogEvent")
    [report] = monitor.trace.callbacks("SetResourceStatus")
    assert log.data["known_handle"] and log.resource == "r1", "LogEvent should match by value"
    assert report.data["known_handle"] and report.resource == "r1", (
        "SetResourceStatus should match the handle by value"
    )
    dll.LogEvent(RESOURCE_HANDLE(resource.handle.value + 1), LOG_INFORMATION, "stranger")
    stranger = monitor.trace.callbacks("LogEvent")[-1]
    assert stranger.data["known_handle"] is False and stranger.resource is None, (
        "a different handle value should be unknown"
    )


@pytest.mark.parametrize(
    "format_string, args, expected",
    [
        ("100%% done", (), "100% done"),
        ("%1!X!", (255,), "FF"),
        ("%1!08x!", (255,), "000000ff"),
    ],
    ids=["percent-escape", "upper-hex", "width"],
)
def test_log_event_follows_format_message_syntax(rig, format_string, args, expected):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    rig.open(monitor)
    dll.LogEvent(dll.handles["r1"], LOG_INFORMATION, format_string, *args)
    [event] = monitor.trace.callbacks("LogEvent")
    assert event.data["message"] == expected, (
        f"LogEvent uses FormatMessage syntax (LG-1): {format_string!r} should give {expected!r}, "
        f"got {event.data['message']!r}"
    )


# ================================================================================================
# The trace (principle 2)
# ================================================================================================
def test_the_trace_records_times_threads_and_callback_contexts(rig):
    returned = threading.Event()  # set once the monitor has seen ERROR_IO_PENDING

    def online(dll, resid, event_handle):
        dll.LogEvent(dll.handles["r1"], LOG_INFORMATION, "coming online")
        dll.report("r1", ClusterResourceOnlinePending, 1)  # from inside Online (PO-4 says no)

        def work():
            dll.block(returned)
            dll.report("r1", ClusterResourceOnlinePending, 2)
            dll.report("r1", ClusterResourceOnline, 3)

        dll.spawn(work, name="worker-r1")
        return ERROR_IO_PENDING

    dll = ScriptedDLL(Online=online)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    assert resource.online(wait=False) == ClusterResourceOnlinePending, "Online is pending"
    returned.set()
    assert resource.wait_state({ClusterResourceOnline}, WAIT), "the worker brings it Online"
    resource.offline()
    trace = monitor.trace
    events = list(trace)

    assert [e.seq for e in events] == sorted({e.seq for e in events}), "seq is strictly ordered"
    for event in events:
        assert event.start >= 0 and event.thread, f"every event has a start and a thread: {event}"
        if event.end is not None:
            assert event.start <= event.end, f"start <= end on the monotonic clock: {event}"
    calls = trace.calls()
    assert all(e.end is not None for e in calls), "every call here returned, so has an end"

    [online_event] = trace.calls("Online")
    [online_call] = dll.calls_of("Online")
    origin = trace.origin
    assert origin + online_event.start <= online_call.start, (
        "the call starts after the trace's start"
    )
    assert online_call.end <= origin + online_event.end, (
        "... and the DLL's end is inside the trace's"
    )
    assert online_event.thread == online_call.thread_name, "the call's thread should be traced"

    [log] = trace.callbacks("LogEvent")
    in_call, pending, final = trace.callbacks("SetResourceStatus")
    for event in (log, in_call):
        assert event.context == "Online" and event.thread == online_call.thread_name, (
            f"a {event.name} made inside Online's own thread should have context 'Online'"
        )
    assert in_call.data["phase"] == "in-call", "a report before Online returned is 'in-call'"
    assert "from Online" in in_call.describe(), "the excerpt line should name the entry point"
    for event in (pending, final):
        assert event.context is None and event.thread == "worker-r1", (
            "a report from the DLL's worker thread should have context None and its thread name"
        )
        assert event.data["phase"] == "pending", "a report after ERROR_IO_PENDING is 'pending'"
    assert "from worker thread" in pending.describe(), "the excerpt line should say worker"
    assert online_event.start < in_call.start < online_event.end < pending.start, (
        "callback times should interleave with the call as they happened"
    )


def test_excerpt_marks_the_focus_events(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online()
    for i in range(6):
        dll.LogEvent(dll.handles["r1"], LOG_INFORMATION, f"line {i}")
    resource.offline()
    trace = monitor.trace
    [online] = trace.calls("Online")
    [offline] = trace.calls("Offline")

    lines = trace.excerpt([online], context=1)
    marked = [line for line in lines if line.startswith(">>")]
    assert len(marked) == 1 and online.describe() in marked[0], (
        "exactly the focus event should be marked '>>'"
    )
    assert len(lines) == 3 and all(line.startswith(("  ", ">>")) for line in lines), (
        "context=1 should give the focus event and one neighbour on each side"
    )
    apart = trace.excerpt([online, offline], context=1)
    assert sum(line.startswith(">>") for line in apart) == 2, "both focus events marked"
    assert "   ..." in apart, "a gap between far-apart focus events should be shown as '...'"
    assert trace.excerpt([]) == [], "no focus, no excerpt"


# ================================================================================================
# Call order around Startup and Close (CX-5, CL-2)
# ================================================================================================
def test_nothing_reaches_the_dll_after_close(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.close()
    for operation in (resource.online, resource.terminate, resource.looks_alive, resource.close):
        with contextlib.suppress(MonitorError):
            operation()
    assert names(dll.calls_of()) == ["Startup", "Open", "Close"], (
        f"Close ends the instance: no entry point may be called for it after Close, got "
        f"{names(dll.calls_of())}"
    )


@pytest.mark.parametrize("how", ["never-started", "startup-failed"])
def test_open_without_a_successful_startup_is_refused_cleanly(rig, how):
    dll = ScriptedDLL(Startup=lambda dll, *args: (ERROR_GEN_FAILURE, None))
    monitor = rig.monitor(dll, startup=False)
    if how == "startup-failed":
        with pytest.raises(StartupFailed):
            monitor.startup()
    with pytest.raises(MonitorError) as info:
        monitor.open("r1")
    assert "NULL" not in str(info.value), (
        f"the error should say Startup has not succeeded, not blame the table: {info.value}"
    )
    assert not monitor.trace.calls("Open"), (
        "an Open that was never made should not be in the trace (it would fail FT checks)"
    )


def test_a_callback_flood_is_answered_but_only_partly_recorded(monkeypatch):
    """Memory stays bounded: past the limit, callbacks are counted, not kept."""
    monkeypatch.setattr(trace_module, "CALLBACK_LIMIT", 50)
    trace = Trace()
    for i in range(120):
        trace.instant(CALLBACK, "LogEvent", args={"i": i})
    kept = trace.callbacks("LogEvent")
    assert len(kept) == 50, f"the first 50 LogEvent callbacks should be kept, got {len(kept)}"
    assert trace.dropped() == {"LogEvent": 70}, "the others should be counted"
    [note] = [e for e in trace if e.name == "callbacks no longer recorded"]
    assert note.data == {"callback": "LogEvent", "recorded": 50}, "once, saying what was dropped"


# ================================================================================================
# ResourceControl / ResourceTypeControl (RC-1, RT-1, RM-4)
# ================================================================================================
def _writes(data: bytes, grow: bytes = b"") -> Callable[..., Any]:
    def control(dll, first, code, in_buffer, out_buffer):
        dll.seen = (code, in_buffer, None if out_buffer is None else len(out_buffer))
        if out_buffer is None or len(out_buffer) < len(data):
            return ERROR_MORE_DATA, len(data)
        out_buffer[: len(data)] = data
        out_buffer.extend(grow)
        return ERROR_SUCCESS, len(data)

    return control


def test_resource_control_gets_its_buffers_and_the_caller_sees_what_it_wrote(rig):
    dll = ScriptedDLL(ResourceControl=_writes(b"\1\0\0\0"))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    result = resource.control(CLUSCTL_RESOURCE_GET_CHARACTERISTICS, b"in", 16)
    assert dll.seen == (CLUSCTL_RESOURCE_GET_CHARACTERISTICS, b"in", 16), (
        f"the DLL should get the code, the InBuffer and a 16-byte OutBuffer, got {dll.seen}"
    )
    assert (result.status, result.bytes_returned, result.data) == (0, 4, b"\1\0\0\0")
    assert result.written == 4 and not result.overran, "four bytes written, within the buffer"
    assert result.out == b"\1\0\0\0" + bytes([OUT_FILL]) * 12, "the rest still holds the fill"
    event = result.event
    assert repr(event.args["ControlCode"]) == "CLUSCTL_RESOURCE_GET_CHARACTERISTICS (0x01000005)"
    assert "CLUSCTL_RESOURCE_GET_CHARACTERISTICS" in event.describe(), (
        f"the trace should name the control code, not only show hex: {event.describe()}"
    )


def test_a_null_out_buffer_is_none_and_an_empty_one_is_a_zero_length_bytearray(rig):
    dll = ScriptedDLL(ResourceControl=_writes(b"\1\0\0\0"))
    resource = rig.open(rig.monitor(dll))
    null = resource.control(CLUSCTL_RESOURCE_GET_CHARACTERISTICS, None, None)
    assert dll.seen[2] is None and null.out is None, "OutBufferSize None passes NULL"
    empty = resource.control(CLUSCTL_RESOURCE_GET_CHARACTERISTICS, None, 0)
    assert dll.seen[2] == 0 and empty.out == b"", "size 0 passes an empty, non-NULL buffer"
    assert (empty.status, empty.bytes_returned) == (ERROR_MORE_DATA, 4)


def test_a_dll_that_grows_its_out_buffer_is_seen_as_writing_past_it(rig):
    dll = ScriptedDLL(ResourceControl=_writes(b"ab\0\0", grow=b"\0\0"))
    result = rig.open(rig.monitor(dll)).control(CLUSCTL_RESOURCE_GET_CHARACTERISTICS, None, 4)
    assert result.overran and result.grown_to == 6, "a longer bytearray is a write past the end"
    assert (result.out, result.overrun) == (b"ab\0\0", b"\0\0"), (
        "the caller's buffer holds the first OutBufferSize bytes; the rest went past its end"
    )


def test_a_dll_that_shortens_its_out_buffer_wrote_that_many_bytes(rig):
    def shorten(dll, first, code, in_buffer, out_buffer):
        out_buffer[:] = b"\1\2"
        return ERROR_SUCCESS, 2

    result = rig.open(rig.monitor(ScriptedDLL(ResourceControl=shorten))).control(
        CLUSCTL_RESOURCE_GET_CHARACTERISTICS, None, 8
    )
    assert not result.overran, "a shorter bytearray writes within the buffer"
    assert result.out == b"\1\2" + bytes([OUT_FILL]) * 6 and result.data == b"\1\2"


@pytest.mark.parametrize("returned", [(0, None), ("0", 4), (0, 2**70), [0, 4], (0, 4, 0)])
def test_odd_results_are_kept_for_the_checks_to_judge(rig, returned):
    dll = ScriptedDLL(ResourceControl=returned)
    result = rig.open(rig.monitor(dll)).control(CLUSCTL_RESOURCE_UNKNOWN, None, 4)
    assert result.returned, f"{returned!r} is a value, not a crash"
    assert result.shaped == (type(returned) is tuple and len(returned) == 2)


def test_resource_type_control_gets_the_type_name(rig):
    dll = ScriptedDLL(ResourceTypeControl=_writes(b"\0\0\0\0"))
    monitor = rig.monitor(dll)
    result = monitor.type_control(CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS, None, 8)
    [call] = dll.calls_of("ResourceTypeControl")
    assert call.args[0] == "Scripted", "the first argument is the type name (RT-1)"
    assert result.event.args["ResourceTypeName"] == "Scripted" and result.bytes_returned == 4


def test_resource_control_is_serialised_but_may_overlap_terminate(rig):
    inside = threading.Event()

    def slow(dll, *args):
        inside.set()
        time.sleep(0.2)
        return ERROR_SUCCESS, 0

    dll = ScriptedDLL(ResourceControl=slow)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    control = rig.thread(resource.control, CLUSCTL_RESOURCE_UNKNOWN, name="control")
    assert inside.wait(WAIT), "ResourceControl should have started"
    poll = rig.thread(resource.is_alive, name="poll")
    resource.terminate()
    control.join()
    poll.join()
    [rc], [term], [alive] = (dll.calls_of(n) for n in ("ResourceControl", "Terminate", "IsAlive"))
    assert rc.overlaps(term), "Terminate may run while ResourceControl does (CX-1)"
    assert not rc.overlaps(alive), "IsAlive waits for ResourceControl (RM-4)"


def open_that_logs(dll, name, key, handle):
    dll.LogEvent(handle, LOG_INFORMATION, "opening %1", name)
    return None if name == "refused" else f"resid:{name}"


def test_the_handle_is_known_from_the_start_of_open_until_close(rig):
    """The DLL has its ResourceHandle as soon as Open is called (the ClipBook sample logs from
    Open), and loses it when Close returns or when Open returned NULL."""
    dll = ScriptedDLL(Open=open_that_logs)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    [during_open] = monitor.trace.callbacks("LogEvent")
    assert during_open.data["known_handle"] and during_open.resource == "r1", (
        "a LogEvent from Open with the handle Open was given should be known"
    )
    refused = rig.open(monitor, "refused")
    assert not refused.opened, "the scripted Open returns NULL for 'refused'"
    for gone in (refused, resource):
        if gone is resource:
            resource.close()
        dll.LogEvent(gone.handle, LOG_INFORMATION, "after")
        after = monitor.trace.callbacks("LogEvent")[-1]
        assert after.data["known_handle"] is False, (
            f"the handle of {gone.name} should be unknown once Open returned NULL or Close returned"
        )


def test_an_exception_is_named_so_that_it_can_be_found():
    import struct

    from conformance.monitor.host import error_text

    with pytest.raises(struct.error) as raised:
        struct.unpack("<I", b"")
    assert error_text(raised.value).startswith("struct.error: "), (
        "an exception of a module should carry the module's name, not a bare 'error'"
    )
    assert error_text(ValueError("x")) == "ValueError: x", "builtins keep their plain name"
    assert len(error_text(ValueError("x" * 2000))) == 500, "the text is bounded"


def arbitrate_then_lose(dll, resid, lost):
    dll.lost = lost
    return ERROR_SUCCESS


def test_arbitrate_release_and_lost_quorum(rig):
    dll = ScriptedDLL(null=(), Arbitrate=arbitrate_then_lose)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    assert resource.arbitrate() == ERROR_SUCCESS and resource.quorum_owner, "Arbitrate won"
    [call] = monitor.trace.calls("Arbitrate")
    assert call.args["LostQuorumResource"] == "PQUORUM_RESOURCE_LOST", call.args
    dll.lost(resource.handle)
    [lost] = monitor.trace.callbacks("LostQuorumResource")
    assert lost.data["known_handle"] and not resource.quorum_owner, (
        "LostQuorumResource with the instance's handle ends its ownership"
    )
    resource.arbitrate()
    assert resource.release() == ERROR_SUCCESS and not resource.quorum_owner, (
        "a successful Release ends the ownership too"
    )


def test_a_type_without_arbitrate_is_not_asked_to_arbitrate(rig):
    dll = ScriptedDLL()  # Arbitrate and Release are NULL
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    with pytest.raises(MonitorError, match="not quorum-capable"):
        resource.arbitrate()
    resource.online()
    assert not monitor.trace.calls("Arbitrate"), "Online of a non-quorum type arbitrates not"


def test_a_quorum_capable_type_arbitrates_before_online(rig):
    dll = ScriptedDLL(null=())
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online()
    names = [
        e.name for e in monitor.trace if e.kind == "call" and e.name in ("Arbitrate", "Online")
    ]
    assert names == ["Arbitrate", "Online"] and resource.quorum_owner, (
        f"the node arbitrates, then brings the quorum resource online; got {names}"
    )
