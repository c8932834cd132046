"""Online and Offline (ON-1..3, OF-1..2, PO-3, RS-2): what each return moves the resource to,
a pending operation driven by the worker's reports, and a failing call logged and
terminated."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from conformance.monitor.monitor import OperationPending
from conformance.resapi import (
    ERROR_ACCESS_DENIED,
    ERROR_SUCCESS,
    HANDLE,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOfflinePending,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
    ResourceExitStateContinue,
)
from conformance.runtime.trace import MONITOR

if __package__:  # tests/unit became a package
    from .monitor_rig import TINY, WAIT, monitor_events, pending_then
    from .monitor_rig import rig_fixture as rig_fixture
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import TINY, WAIT, monitor_events, pending_then
    from monitor_rig import rig_fixture as rig_fixture
    from scripted_dll import ScriptedDLL

#: Poll intervals of the fake clock, in seconds.
LA, IA = 5.0, 12.0


def test_online_success_goes_online_and_starts_polling(rig):
    at_entry: list[Any] = []

    def online(dll, resid, event_handle):
        at_entry.append((type(event_handle), event_handle.value))
        return ERROR_SUCCESS

    dll = ScriptedDLL(Online=online)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=LA, ia=IA)
    assert resource.online() == ClusterResourceOnline, "online() should report Online"
    assert at_entry == [(HANDLE, None)], "Online should get an EventHandle that is NULL on entry"
    assert resource.state == ClusterResourceOnline, "Online returning 0 means Online (ON-2)"
    rig.advance(LA - TINY)
    assert not dll.calls_of("LooksAlive", "IsAlive"), "no poll before its interval has passed"
    rig.advance(TINY)
    rig.advance(LA)
    assert len(dll.calls_of("LooksAlive")) == 2, "LooksAlive polling should start"
    rig.advance(IA - 2 * LA)
    assert len(dll.calls_of("IsAlive")) == 1, "IsAlive polling should start"
    states = [e.data.get("state") for e in monitor_events(monitor, "state")]
    assert "ClusterResourceOnline" in states, "the trace should record the state change"


def test_online_pending_until_the_worker_reports_online(rig):
    step1, step2, final = threading.Event(), threading.Event(), threading.Event()
    dll = ScriptedDLL(Online=pending_then(ClusterResourceOnline, step1, step2, last=final))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=LA, ia=LA)

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
    rig.advance(3 * LA)  # the poll intervals pass three times over, well within PendingTimeout
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
