"""The monitor's timers driven by a `FakeClock`: time passes when the test says so, and
`advance` returns once the monitor has done everything due, so "nothing happened" is a fact
of the run, not a sleep that hopes it waited long enough (issue 21)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.monitor.clock import FakeClock
from conformance.monitor.host import InProcessHost
from conformance.monitor.monitor import Resource, ResourceMonitor
from conformance.monitor.policy import Policy
from conformance.resapi import (
    ERROR_IO_PENDING,
    ClusterResourceDontRestart,
    ClusterResourceFailed,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
    ClusterResourceRestartNoNotify,
)
from conformance.runtime.trace import MONITOR

if __package__:
    from .scripted_dll import ScriptedDLL
else:
    from scripted_dll import ScriptedDLL

#: Seconds of the fake clock; the policy keeps documented units (time scale 1).
LA, IA, PENDING = 5.0, 60.0, 180.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def monitors() -> Any:
    made: list[tuple[ResourceMonitor, ScriptedDLL]] = []
    yield made
    for monitor, dll in made:
        dll.release_all()
        monitor.shutdown()


def open_online(
    monitors: list[Any], clock: FakeClock, dll: ScriptedDLL, **common: int
) -> tuple[ResourceMonitor, Resource]:
    monitor = ResourceMonitor(
        InProcessHost(dll.module()), "Scripted", Policy(time_scale=1.0), clock=clock
    )
    monitors.append((monitor, dll))
    monitor.startup()
    timers = {
        "LooksAlivePollInterval": int(LA * 1000),
        "IsAlivePollInterval": int(IA * 1000),
        "PendingTimeout": int(PENDING * 1000),
        "RestartAction": ClusterResourceDontRestart,
        **common,
    }
    resource = monitor.open("r1", {}, common=timers)
    resource.online(wait=False)
    clock.settle()
    return monitor, resource


def polls(monitor: ResourceMonitor, entry: str) -> int:
    return len([e for e in monitor.trace.calls(entry) if e.data.get("poll")])


def test_looks_alive_runs_once_per_interval_and_not_before(monitors, clock) -> None:
    monitor, resource = open_online(monitors, clock, ScriptedDLL())
    assert resource.state == ClusterResourceOnline
    clock.advance(LA - 0.001)
    assert polls(monitor, "LooksAlive") == 0, "no LooksAlive before LooksAlivePollInterval"
    clock.advance(0.001)
    assert polls(monitor, "LooksAlive") == 1, "one LooksAlive once the interval has passed"
    for n in range(2, 6):
        clock.advance(LA)
        assert polls(monitor, "LooksAlive") == n, f"poll {n} comes one interval after poll {n - 1}"
    assert polls(monitor, "IsAlive") == 0, "IsAlive waits for its own, longer interval"
    clock.advance(IA - 5 * LA)
    assert polls(monitor, "IsAlive") == 1, "IsAlive once IsAlivePollInterval has passed"


def test_looks_alive_false_asks_is_alive_at_once_and_false_fails(monitors, clock) -> None:
    dll = ScriptedDLL(LooksAlive=False, IsAlive=False)
    monitor, resource = open_online(monitors, clock, dll)
    clock.advance(LA)
    assert [e.name for e in monitor.trace.calls() if e.name in ("LooksAlive", "IsAlive")] == [
        "LooksAlive",
        "IsAlive",
    ], "a LooksAlive FALSE is followed by IsAlive at once (LA-3)"
    assert resource.state == ClusterResourceFailed, "an IsAlive FALSE fails the resource (IA-4)"
    assert monitor.trace.calls("Terminate"), "and the monitor calls Terminate (IA-4)"


def test_pending_timeout_fires_exactly_when_it_is_due(monitors, clock) -> None:
    monitor, resource = open_online(monitors, clock, ScriptedDLL(Online=ERROR_IO_PENDING))
    assert resource.state == ClusterResourceOnlinePending
    clock.advance(PENDING - 0.001)
    assert not monitor.trace.calls("Terminate"), "no Terminate before PendingTimeout"
    assert resource.state == ClusterResourceOnlinePending
    clock.advance(0.001)
    expired = [e for e in monitor.trace if e.kind == MONITOR and e.name == "PendingTimeout expired"]
    assert expired and monitor.trace.calls("Terminate"), "PendingTimeout ends in Terminate (PO-6)"
    assert resource.state == ClusterResourceFailed


def test_a_failed_resource_restarts_after_restart_delay(monitors, clock) -> None:
    dll = ScriptedDLL(LooksAlive=False, IsAlive=False)
    restart = {"RestartAction": ClusterResourceRestartNoNotify, "RestartDelay": 500}
    monitor, resource = open_online(monitors, clock, dll, **restart)
    clock.advance(LA)
    assert resource.state == ClusterResourceFailed
    clock.advance(0.499)
    assert len(monitor.trace.calls("Online")) == 1, "no restart before RestartDelay"
    clock.advance(0.001)
    assert len(monitor.trace.calls("Online")) == 2, "Online again after RestartDelay (FP-8)"
