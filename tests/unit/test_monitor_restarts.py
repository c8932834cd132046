"""The restart policy on the fake clock (FP-8..FP-12, FP-18..FP-20): after a failure, Online
again after RestartDelay, at most RestartThreshold times per RestartPeriod, then one last
attempt after RetryPeriodOnFailure; ClusterResourceDontRestart and Close cancel it."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.monitor.monitor import Resource, ResourceMonitor
from conformance.resapi import (
    ClusterResourceDontRestart,
    ClusterResourceFailed,
    ClusterResourceRestartNoNotify,
    ClusterResourceRestartNotify,
)

if __package__:  # tests/unit became a package
    from .monitor_rig import TINY, Rig, monitor_events, ms, timers
    from .monitor_rig import rig_fixture as rig_fixture
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import TINY, Rig, monitor_events, ms, timers
    from monitor_rig import rig_fixture as rig_fixture
    from scripted_dll import ScriptedDLL

#: IsAlivePollInterval (each Online fails at its first IsAlive) and the documented
#: RestartDelay, in seconds of the fake clock.
IA, DELAY = 5.0, 0.5
#: RetryPeriodOnFailure, when a test has one.
RETRY = 60.0
#: Long enough for anything left to happen: every timer a test set, several times over.
LATER = 10 * (IA + DELAY)


def restart_policy(
    action: int, threshold: int, period: float, retry: float | None, delay: float = DELAY
) -> dict[str, Any]:
    return {
        **timers(ia=IA),
        "RestartAction": action,
        "RestartThreshold": threshold,
        "RestartPeriod": ms(period),
        "RestartDelay": ms(delay),
        "RetryPeriodOnFailure": 0xFFFFFFFF if retry is None else ms(retry),
    }


def open_failing(rig: Rig, common: dict[str, Any]) -> tuple[ScriptedDLL, ResourceMonitor, Resource]:
    """A resource whose IsAlive always says FALSE: every Online fails at its first IsAlive."""
    dll = ScriptedDLL(IsAlive=False)
    monitor = rig.monitor(dll)
    resource = monitor.open("r1", {}, common=common)
    resource.online()
    return dll, monitor, resource


def test_a_failed_resource_restarts_after_restart_delay(rig):
    dll = ScriptedDLL(LooksAlive=False, IsAlive=False)
    monitor = rig.monitor(dll)
    restart = {"RestartAction": ClusterResourceRestartNoNotify, "RestartDelay": ms(DELAY)}
    resource = monitor.open("r1", {}, common={**timers(la=5.0, ia=60.0), **restart})
    resource.online()
    rig.advance(5.0)
    assert resource.state == ClusterResourceFailed
    rig.advance(DELAY - TINY)
    assert len(monitor.trace.calls("Online")) == 1, "no restart before RestartDelay"
    rig.advance(TINY)
    assert len(monitor.trace.calls("Online")) == 2, "Online again after RestartDelay (FP-8)"


@pytest.mark.parametrize("action", [ClusterResourceRestartNoNotify, ClusterResourceRestartNotify])
def test_restarts_up_to_the_threshold_then_stays_failed(rig, action):
    dll, monitor, resource = open_failing(rig, restart_policy(action, 2, 3600.0, None))
    for failure in (1, 2, 3):
        rig.advance(IA)
        assert len(dll.wait_calls("Terminate", count=failure, finished=True)) == failure, (
            f"failure {failure} expected"
        )
        rig.advance(DELAY - TINY)
        assert len(dll.calls_of("Online")) == failure, "no restart before RestartDelay"
        rig.advance(TINY)
    rig.advance(LATER)
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
        rig, restart_policy(ClusterResourceDontRestart, 3, 3600.0, None)
    )
    rig.advance(IA)
    assert dll.wait_calls("Terminate", finished=True), "IsAlive FALSE should lead to Terminate"
    rig.advance(LATER)
    assert len(dll.calls_of("Online")) == 1, "ClusterResourceDontRestart: no restart (FP-8)"
    assert not monitor_events(monitor, "restart"), "no restart should be traced"


def test_failures_outside_the_restart_period_do_not_count(rig):
    dll, monitor, resource = open_failing(
        rig, restart_policy(ClusterResourceRestartNotify, 1, 0.0, None)
    )
    for _ in range(4):
        rig.advance(IA)
        rig.advance(DELAY)
    assert len(dll.calls_of("Online")) == 5, (
        "RestartPeriod 0: every failure starts a new window, so restarts never run out (FP-10)"
    )
    assert not monitor_events(monitor, "restart threshold exceeded"), "never exceeded"
    resource.close()


def test_one_last_attempt_after_retry_period_on_failure(rig):
    dll, monitor, resource = open_failing(
        rig, restart_policy(ClusterResourceRestartNotify, 1, 3600.0, RETRY)
    )
    rig.advance(IA)
    rig.advance(DELAY)
    assert len(dll.calls_of("Online")) == 2, "threshold 1: one restart after the first failure"
    rig.advance(IA)
    rig.advance(RETRY - TINY)
    assert len(dll.calls_of("Online")) == 2, (
        "beyond the threshold, the last attempt waits for RetryPeriodOnFailure"
    )
    rig.advance(TINY)
    assert len(dll.calls_of("Online")) == 3, "one last attempt after RetryPeriodOnFailure"
    rig.advance(IA)
    assert dll.wait_calls("Terminate", count=3, finished=True), "three failures expected"
    rig.advance(2 * RETRY)
    kinds = [e.data["kind"] for e in monitor_events(monitor, "restart")]
    assert kinds == ["restart", "retry"], (
        "threshold 1: one restart, then after RetryPeriodOnFailure one last attempt, then the "
        f"resource stays failed (FP-20); got {kinds}"
    )
    assert len(dll.calls_of("Online")) == 3 and resource.state == ClusterResourceFailed


def test_closing_cancels_a_planned_restart(rig):
    delay = 30.0
    common = restart_policy(ClusterResourceRestartNotify, 3, 3600.0, None, delay=delay)
    dll, _monitor, resource = open_failing(rig, common)
    rig.advance(IA)
    assert dll.wait_calls("Terminate", finished=True), "IsAlive FALSE should lead to Terminate"
    rig.advance(delay - TINY)  # the restart is still ahead
    resource.close()
    rig.advance(2 * delay)
    assert len(dll.calls_of("Online")) == 1, "no restart after Close"
