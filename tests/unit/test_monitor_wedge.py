"""DeadlockTimeout (FP-6, RM-8): a call that does not return wedges the monitor, with the hung
thread's stack as evidence, and every later call is refused at once. Real time: the policy
floors DeadlockTimeout at 2 s, so the tests that wait for it take ~2 s each (sharing one wedged
monitor would not save that under xdist, which may run them on two workers)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from conformance.monitor.host import InProcessHost
from conformance.monitor.monitor import EntryPointHung, ResourceMonitor
from conformance.monitor.policy import Policy
from conformance.resapi import ERROR_SUCCESS
from conformance.runtime.trace import CALL

if __package__:  # tests/unit became a package
    from .monitor_rig import WAIT, Driver, names, timers
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import WAIT, Driver, names, timers
    from scripted_dll import ScriptedDLL

#: A time scale that makes the documented DeadlockTimeout (300 s) 0.3 s: below the floor.
SCALE = 0.001
#: The deadline of a `_Hurried` policy, in real seconds.
HURRIED_S = 0.3


def online_that_never_returns(dll, resid, event_handle):
    dll.block(threading.Event(), timeout=60)
    return ERROR_SUCCESS


def online_hung_among_many_threads(dll, resid, event_handle):
    dll.block(threading.Event(), timeout=60)
    return ERROR_SUCCESS


class _Hurried(Policy):
    """DeadlockTimeout without its 2 s floor. The floor gives a call that may yet return a fair
    chance on a busy machine; a call that never returns needs none, when the test is not about
    the deadline (whether or not the call has even started by then, the monitor is wedged)."""

    @property
    def deadlock_seconds(self) -> float:
        return HURRIED_S


def _wedge(dll: ScriptedDLL, hurried: bool = False) -> SimpleNamespace:
    monitor = ResourceMonitor(InProcessHost(dll.module()), "Scripted", Policy(time_scale=SCALE))
    monitor.startup()
    resource = monitor.open("r1", {}, common=timers())  # no poll: it never gets Online
    if hurried:  # Startup and Open had the floor; only the Online that hangs does without
        monitor.policy = _Hurried(time_scale=SCALE)
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


@pytest.fixture
def wedged():
    """A monitor whose Online never returned, after DeadlockTimeout (2 s)."""
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


def test_a_refused_call_is_not_traced_as_a_hung_call():
    wedged = _wedge(ScriptedDLL(Online=online_that_never_returns), hurried=True)
    try:
        assert isinstance(wedged.error, EntryPointHung), "the monitor should be wedged"
        before = {e.seq for e in wedged.monitor.trace}
        with pytest.raises(EntryPointHung):
            wedged.resource.terminate()
        new = [e for e in wedged.monitor.trace if e.seq not in before and e.kind == CALL]
        unreturned = [e.name for e in new if e.end is None and e.error is None]
        assert not unreturned, (
            "a call refused because the monitor is wedged must not look like a hung call: "
            f"{unreturned}"
        )
    finally:
        _unwedge(wedged)


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
