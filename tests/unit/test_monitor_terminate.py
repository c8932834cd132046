"""Terminate (TE-1, TE-4, TE-6, CX-1, CX-2): it may overlap any entry point but Startup, Open
and Close, and a failure's Terminate is carried out before anything else happens to the
resource. Calls block in real time here; a thread waiting for the monitor is seen waiting
(`blocked_in`) before the test says nothing happened yet."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from conformance.resapi import (
    ERROR_GEN_FAILURE,
    ERROR_SUCCESS,
    ClusterResourceFailed,
    ClusterResourceOnline,
)

if __package__:  # tests/unit became a package
    from .monitor_rig import WAIT, wait_for
    from .monitor_rig import rig_fixture as rig_fixture
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import WAIT, wait_for
    from monitor_rig import rig_fixture as rig_fixture
    from scripted_dll import ScriptedDLL

#: IsAlivePollInterval, seconds of the fake clock.
IA = 5.0


def test_a_failure_terminate_ends_before_the_next_online_starts(rig):
    terminate_may_end = threading.Event()

    def terminate(dll, resid):
        dll.block(terminate_may_end)

    dll = ScriptedDLL(IsAlive=lambda dll, resid: len(dll.calls_of("IsAlive")) > 1)
    dll.script("Terminate", terminate)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, ia=IA)
    resource.online()
    # the supervisor stays in the Terminate it decides: time passes on a thread of its own
    clock = rig.thread(rig.advance, IA, name="clock")
    assert dll.wait_calls("Terminate"), "IsAlive FALSE should lead to Terminate"
    settled = {ClusterResourceFailed, ClusterResourceOnline}

    def wait_settled() -> tuple[bool, float]:
        return resource.wait_state(settled, WAIT), time.perf_counter()

    waiter = rig.thread(wait_settled, name="waiter")
    online = rig.thread(resource.online, name="next-online")
    assert wait_for(
        lambda: (
            (
                online.blocked_in("lifecycle.online_offline") == "condition"
                and waiter.blocked_in("resource.wait_state") == "condition"
            )
            or len(dll.calls_of("Online")) > 1
        )
    ), "the next Online and the waiter should wait for the monitor"
    assert not dll.calls_of("Online")[1:], (
        "the next Online must wait until the failure's Terminate has returned"
    )
    terminate_may_end.set()
    assert online.join() == ClusterResourceOnline, "the next Online should then succeed"
    done, returned_at = waiter.join()
    clock.join()
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
    where = "lifecycle.online_offline" if then == "offline" else "monitor.close"
    assert wait_for(lambda: following.blocked_in(where) == "lock"), (
        f"{then.capitalize()} should wait for the monitor's lock, which the running Online holds"
    )
    online_may_fail.set()
    assert dll.wait_calls("Terminate"), "a failed Online should lead to Terminate (ON-3)"
    assert wait_for(
        lambda: following.blocked_in(where) == "condition" or dll.calls_of("Offline", "Close")
    ), f"{then.capitalize()} should wait for the failure's Terminate"
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
        assert wait_for(
            lambda: (
                terminator.blocked_in("lifecycle.run_terminate") == "lock"
                or dll.calls_of("Terminate")
            )
        ), "Terminate (of r1) should wait for the monitor's lifecycle lock"
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
