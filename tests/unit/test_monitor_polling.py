"""Polling on the fake clock (LA-2, LA-3, IA-2, IA-4, CX-5): LooksAlive and IsAlive only while
Online, each once per interval and not before; LooksAlive FALSE asks IsAlive at once; IsAlive
FALSE fails the resource and Terminate follows; a BOOL is read as C reads it."""

from __future__ import annotations

import threading

import pytest

from conformance.monitor.monitor import Resource
from conformance.resapi import ClusterResourceFailed, ClusterResourceOffline, ClusterResourceOnline

if __package__:  # tests/unit became a package
    from .monitor_rig import TINY, WAIT, monitor_events, names, pending_then, polls
    from .monitor_rig import rig_fixture as rig_fixture
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import TINY, WAIT, monitor_events, names, pending_then, polls
    from monitor_rig import rig_fixture as rig_fixture
    from scripted_dll import ScriptedDLL

#: Poll intervals of the fake clock (the documented 5 s and 60 s).
LA, IA = 5.0, 60.0
#: A short IsAlivePollInterval, for the tests about IsAlive alone.
SHORT = 5.0


def test_looks_alive_runs_once_per_interval_and_not_before(rig):
    monitor = rig.monitor(ScriptedDLL())
    resource = rig.open(monitor, la=LA, ia=IA)
    resource.online()
    assert resource.state == ClusterResourceOnline
    rig.advance(LA - TINY)
    assert polls(monitor, "LooksAlive") == 0, "no LooksAlive before LooksAlivePollInterval"
    rig.advance(TINY)
    assert polls(monitor, "LooksAlive") == 1, "one LooksAlive once the interval has passed"
    for n in range(2, 6):
        rig.advance(LA)
        assert polls(monitor, "LooksAlive") == n, f"poll {n} comes one interval after poll {n - 1}"
    assert polls(monitor, "IsAlive") == 0, "IsAlive waits for its own, longer interval"
    rig.advance(IA - 5 * LA)
    assert polls(monitor, "IsAlive") == 1, "IsAlive once IsAlivePollInterval has passed"


def test_no_polling_before_online_or_while_pending(rig):
    go = threading.Event()
    dll = ScriptedDLL(Online=pending_then(ClusterResourceOnline, last=go))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=LA, ia=LA)
    rig.advance(3 * LA)
    assert not dll.calls_of("LooksAlive", "IsAlive"), "no polling before Online (CX-5)"
    resource.online(wait=False)
    rig.advance(3 * LA)
    assert not dll.calls_of("LooksAlive", "IsAlive"), "no polling while OnlinePending"
    go.set()
    assert resource.wait_state({ClusterResourceOnline}, WAIT), "the worker brings it Online"
    rig.advance(LA - TINY)
    assert not dll.calls_of("LooksAlive", "IsAlive"), "the first poll one interval after Online"
    rig.advance(TINY)
    assert dll.calls_of("LooksAlive"), "polling should start once Online"
    first_poll = dll.calls_of("LooksAlive", "IsAlive")[0]
    assert first_poll.start > dll.reports[-1].at, "the first poll should follow the final report"


def test_no_polling_after_offline(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=LA, ia=2 * LA)
    resource.online()
    rig.advance(LA)
    rig.advance(LA)
    assert len(dll.calls_of("LooksAlive")) == 2, "LooksAlive polls expected while Online"
    assert len(dll.calls_of("IsAlive")) == 1, "IsAlive polls expected while Online"
    assert resource.offline() == ClusterResourceOffline, "Offline returning 0 means Offline"
    offline = dll.calls_of("Offline")[0]
    rig.advance(3 * 2 * LA)  # both intervals pass, three times over
    late = [c for c in dll.calls_of("LooksAlive", "IsAlive") if c.start >= offline.start]
    assert not late, f"no LooksAlive/IsAlive once Offline was called, got {names(late)}"


def test_looks_alive_false_asks_is_alive_at_once_and_false_fails(rig):
    dll = ScriptedDLL(LooksAlive=False, IsAlive=False)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=LA, ia=IA)
    resource.online()
    rig.advance(LA)
    assert [e.name for e in monitor.trace.calls() if e.name in ("LooksAlive", "IsAlive")] == [
        "LooksAlive",
        "IsAlive",
    ], "a LooksAlive FALSE is followed by IsAlive at once (LA-3)"
    assert resource.state == ClusterResourceFailed, "an IsAlive FALSE fails the resource (IA-4)"
    assert monitor.trace.calls("Terminate"), "and the monitor calls Terminate (IA-4)"


def test_looks_alive_false_calls_is_alive_at_once(rig):
    answers = iter([True, False])

    def looks_alive(dll, resid):
        return next(answers, True)

    dll = ScriptedDLL(LooksAlive=looks_alive)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=LA)  # IsAlive's own timer is quiet
    resource.online()
    rig.advance(LA)
    rig.advance(LA)
    assert dll.wait_calls("IsAlive", finished=True), (
        "LooksAlive FALSE should be followed by IsAlive"
    )
    polled = dll.calls_of("LooksAlive", "IsAlive")
    falsy = next(i for i, c in enumerate(polled) if c.name == "LooksAlive" and c.result is False)
    assert polled[falsy + 1].name == "IsAlive", (
        f"IsAlive should be the very next call after LooksAlive FALSE (LA-3), got {names(polled)}"
    )
    assert resource.state == ClusterResourceOnline, "IsAlive TRUE keeps the resource Online"
    assert not dll.calls_of("Terminate"), "no Terminate when IsAlive confirms the resource"
    rig.advance(LA)
    rig.advance(LA)
    assert len(dll.calls_of("LooksAlive")) == falsy + 3, "LooksAlive polling goes on"


@pytest.mark.parametrize("via", ["IsAlive-poll", "LooksAlive-then-IsAlive"])
def test_is_alive_false_fails_the_resource_and_terminates(rig, via):
    dll = ScriptedDLL(IsAlive=False, LooksAlive=via == "IsAlive-poll")
    monitor = rig.monitor(dll)
    poll = {"ia": SHORT} if via == "IsAlive-poll" else {"la": SHORT}
    resource = rig.open(monitor, **poll)
    resource.online()
    rig.advance(SHORT - TINY)
    assert not dll.calls_of("Terminate"), "no poll, so no failure, before the interval"
    rig.advance(TINY)
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
    count = len(dll.calls_of("LooksAlive", "IsAlive"))
    rig.advance(5 * SHORT)
    assert len(dll.calls_of("LooksAlive", "IsAlive")) == count, "no polling once Failed"


def test_a_stale_is_alive_false_does_not_fail_the_next_online(rig):
    """IsAlive said FALSE, but before the monitor acted on it the resource went offline and
    online again: that answer was about the previous Online and must not fail this one."""
    dll = ScriptedDLL(IsAlive=lambda dll, resid: len(dll.calls_of("IsAlive")) > 1)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, ia=SHORT)
    real_fail = monitor.supervisor._fail

    def late_fail(res: Resource, why: str, generation: int) -> None:
        res.offline()
        res.online()
        real_fail(res, why, generation)

    monitor.supervisor._fail = late_fail  # type: ignore[method-assign]
    resource.online()
    rig.advance(SHORT)  # the FALSE, the Offline and Online in between, the stale decision
    assert len(dll.calls_of("Online")) == 2, "the second Online should run"
    assert not dll.calls_of("Terminate"), "a stale FALSE must not Terminate the new Online"
    assert resource.state == ClusterResourceOnline, "the new Online stays online"
    rig.advance(SHORT)
    assert len(dll.calls_of("IsAlive")) == 2 and resource.state == ClusterResourceOnline, (
        "the new Online is polled on its own schedule, and IsAlive TRUE keeps it Online"
    )


def test_a_slow_looks_alive_does_not_starve_is_alive(rig):
    la, ia = 5.0, 20.0

    def looks_alive(dll, resid):
        rig.clock.jump(6 * la)  # the call takes longer than its own poll interval
        return True

    dll = ScriptedDLL(LooksAlive=looks_alive)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=la, ia=ia)
    resource.online()
    for _ in range(3):
        rig.advance(la)
    assert len(dll.calls_of("IsAlive")) >= 3, (
        "IsAlive must still be polled when LooksAlive takes longer than its interval: "
        f"{len(dll.calls_of('IsAlive'))} IsAlive polls, {len(dll.calls_of('LooksAlive'))} "
        "LooksAlive polls"
    )


@pytest.mark.parametrize("answer, online", [(2, True), ("yes", True), (0, False), (None, False)])
def test_a_returned_bool_is_read_as_c_reads_it(rig, answer, online):
    dll = ScriptedDLL(IsAlive=answer)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, ia=SHORT)
    resource.online()
    if online:
        for _ in range(3):
            rig.advance(SHORT)
        assert len(dll.calls_of("IsAlive")) == 3, "IsAlive should be polled"
        assert resource.state == ClusterResourceOnline, f"{answer!r} is nonzero: TRUE"
    else:
        rig.advance(SHORT)
        assert dll.wait_calls("Terminate", finished=True), f"{answer!r} is FALSE: Terminate"
        assert resource.wait_state({ClusterResourceFailed}, WAIT), f"{answer!r}: Failed"
