"""PendingTimeout (PO-6, FP-5) on the fake clock: a pending Online or Offline with no report
for PendingTimeout fails and is terminated, at that moment and not before; a report restarts
the timer, so the limit is the gap between reports, not the total."""

from __future__ import annotations

import threading

import pytest

from conformance.resapi import (
    ERROR_IO_PENDING,
    ERROR_SUCCESS,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOfflinePending,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
    ResourceExitStateContinue,
    ResourceExitStateTerminate,
)

if __package__:  # tests/unit became a package
    from .monitor_rig import TINY, WAIT, monitor_events, pending_then
    from .monitor_rig import rig_fixture as rig_fixture
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import TINY, WAIT, monitor_events, pending_then
    from monitor_rig import rig_fixture as rig_fixture
    from scripted_dll import ScriptedDLL

#: PendingTimeout, seconds of the fake clock (the documented 3 minutes).
PENDING = 180.0


def test_pending_timeout_fires_exactly_when_it_is_due(rig):
    dll = ScriptedDLL(Online=ERROR_IO_PENDING)  # no worker: nothing ever reports
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=5.0, ia=60.0, pending=PENDING)
    resource.online(wait=False)
    assert resource.state == ClusterResourceOnlinePending
    rig.advance(PENDING - TINY)
    assert not monitor.trace.calls("Terminate"), "no Terminate before PendingTimeout"
    assert resource.state == ClusterResourceOnlinePending
    rig.advance(TINY)
    expired = monitor_events(monitor, "PendingTimeout expired")
    assert expired and monitor.trace.calls("Terminate"), "PendingTimeout ends in Terminate (PO-6)"
    assert resource.state == ClusterResourceFailed


@pytest.mark.parametrize("entry", ["Online", "Offline"])
def test_pending_timeout_after_a_quiet_gap_terminates(rig, entry):
    first, resume = threading.Event(), threading.Event()
    final = ClusterResourceOnline if entry == "Online" else ClusterResourceOffline
    pending = ClusterResourceOnlinePending if entry == "Online" else ClusterResourceOfflinePending
    dll = ScriptedDLL(**{entry: pending_then(final, first, resume)})
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, pending=PENDING)
    if entry == "Offline":
        dll.script("Online", ERROR_SUCCESS)
        resource.online()

    operation = resource.online if entry == "Online" else resource.offline
    operation(wait=False)
    rig.advance(PENDING / 2)  # the worker reports half a PendingTimeout after the call
    first.set()
    assert dll.wait_until(lambda: len(dll.reports) == 1), "the worker's one report should arrive"
    rig.advance(PENDING - TINY)
    assert not dll.calls_of("Terminate") and resource.state == pending, (
        "PendingTimeout counts from the last report: no Terminate before it has passed since"
    )
    assert not monitor_events(monitor, "PendingTimeout expired"), "nor an expiry in the trace"
    rig.advance(TINY)
    assert dll.calls_of("Terminate") and dll.calls_of("Terminate")[0].end, (
        "Terminate should be called once PendingTimeout passes without a report"
    )
    assert resource.wait_state({ClusterResourceFailed}, WAIT), (
        "a pending operation that timed out leaves the resource Failed"
    )
    [expired] = monitor_events(monitor, "PendingTimeout expired")
    [report] = monitor.trace.callbacks("SetResourceStatus")
    assert report.seq < expired.seq, "the expiry follows the gap since the last report"
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
    steps = [threading.Event() for _ in range(3)]
    final = threading.Event()
    dll = ScriptedDLL(Online=pending_then(ClusterResourceOnline, *steps, last=final))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, pending=PENDING)
    started = rig.clock.now()
    assert resource.online(wait=False) == ClusterResourceOnlinePending, "Online is pending"
    for count, step in enumerate(steps, start=1):
        rig.advance(PENDING - TINY)
        assert not dll.calls_of("Terminate"), (
            f"no Terminate while each report comes within PendingTimeout (before report {count})"
        )
        step.set()
        assert dll.wait_until(lambda n=count: len(dll.reports) == n), f"report {count} expected"
    rig.advance(PENDING - TINY)
    final.set()
    assert resource.wait_state({ClusterResourceOnline}, WAIT), (
        "a worker that keeps reporting within PendingTimeout should reach Online"
    )
    assert rig.clock.now() - started > 2 * PENDING, (
        "the operation should have been pending for > 2 timeouts"
    )
    assert not monitor_events(monitor, "PendingTimeout expired"), (
        "PendingTimeout is the gap between updates, not a cap on the total (PO-6)"
    )
    assert not dll.calls_of("Terminate"), "no Terminate for a worker that kept reporting"
    assert all(r.answer == ResourceExitStateContinue for r in dll.reports), (
        "every report should be answered Continue"
    )
