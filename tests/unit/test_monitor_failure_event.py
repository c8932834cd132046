"""The failure event an Online hands back (LA-8, AF-2, §11 item 1) on the fake clock: with it,
LooksAlive is never called; once it is signalled, the monitor acts within its check period
(EVENT_CHECK_S) as the policy says; asking the DLL's event object blocks nothing else."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from conformance.monitor.supervisor import EVENT_CHECK_S
from conformance.resapi import (
    ERROR_SUCCESS,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOnline,
)

if __package__:  # tests/unit became a package
    from .monitor_rig import WAIT, monitor_events, names
    from .monitor_rig import rig_fixture as rig_fixture
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import WAIT, monitor_events, names
    from monitor_rig import rig_fixture as rig_fixture
    from scripted_dll import ScriptedDLL

#: Poll intervals of the fake clock.
LA, IA = 5.0, 15.0


def _online_with_event(event: threading.Event) -> Callable[..., int]:
    def online(dll, resid, event_handle):
        event_handle.value = event
        return ERROR_SUCCESS

    return online


def test_looks_alive_is_never_called_when_online_returned_an_event_handle(rig):
    dll = ScriptedDLL(Online=_online_with_event(threading.Event()))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=LA, ia=IA)
    resource.online()
    for _ in range(3):
        rig.advance(IA)
    assert len(dll.calls_of("IsAlive")) == 3, "IsAlive polling cannot be switched off (IA-2)"
    assert not dll.calls_of("LooksAlive"), "no LooksAlive with an EventHandle (LA-8)"


@pytest.mark.parametrize("policy", ["IsAlive", "Terminate"])
def test_signalled_failure_event_follows_the_policy(rig, policy):
    failure = threading.Event()
    dll = ScriptedDLL(Online=_online_with_event(failure), IsAlive=False)
    monitor = rig.monitor(dll, async_failure=policy)
    resource = rig.open(monitor, la=LA)
    resource.online()
    rig.advance(3 * LA)
    assert not dll.calls_of("LooksAlive", "IsAlive", "Terminate"), (
        "nothing should happen before the event is signalled (quiet IsAlive, LA-8)"
    )
    failure.set()
    rig.advance(EVENT_CHECK_S)
    assert dll.wait_calls("Terminate", finished=True), (
        "the signalled event should end in Terminate within one check period"
    )
    assert resource.wait_state({ClusterResourceFailed}, WAIT), "the resource should be Failed"
    polled = [c for c in dll.calls_of() if c.name in ("LooksAlive", "IsAlive", "Terminate")]
    if policy == "IsAlive":
        assert names(polled) == ["IsAlive", "Terminate"], (
            f"policy 'IsAlive': IsAlive first, then Terminate when it says FALSE; got {names(polled)}"
        )
    else:
        assert names(polled) == ["Terminate"], (
            f"policy 'Terminate': Terminate at once, no IsAlive; got {names(polled)}"
        )
    [signalled] = monitor_events(monitor, "failure event signalled")
    assert signalled.data["policy"] == policy, "the trace should name the policy applied"


def test_looks_alive_stays_off_after_a_false_alarm(rig):
    failure = threading.Event()
    dll = ScriptedDLL(Online=_online_with_event(failure), IsAlive=True)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=LA)
    resource.online()
    failure.set()
    rig.advance(EVENT_CHECK_S)
    assert dll.wait_calls("IsAlive", finished=True), "the signalled event should trigger IsAlive"
    rig.advance(3 * LA)
    assert resource.state == ClusterResourceOnline, "IsAlive TRUE keeps the resource Online"
    assert not dll.calls_of("LooksAlive"), (
        "Online returned an EventHandle, so LooksAlive must never be called for this "
        f"instance (LA-8), not even after a false alarm; got {len(dll.calls_of('LooksAlive'))}"
    )


def test_a_failure_event_that_hangs_blocks_nothing_but_its_own_check(rig):
    """The DLL's event object is the DLL's code: if asking it hangs, Offline and Close still
    work."""
    asked, release = threading.Event(), threading.Event()

    class HangingEvent:
        def is_set(self) -> bool:
            asked.set()
            release.wait(30)
            return False

    def online(dll, resid, event_handle):
        event_handle.value = HangingEvent()
        return ERROR_SUCCESS

    dll = ScriptedDLL(Online=online)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online()
    try:
        # no time passes: the supervisor looks at a new event at once (and hangs there);
        # the rig's clock is not moved again, since its supervisor does not go back to sleep
        assert asked.wait(WAIT), "the supervisor should ask the DLL's event object"
        assert rig.thread(resource.offline, name="offline").join() == ClusterResourceOffline, (
            "Offline should complete while the DLL's event object hangs"
        )
        rig.thread(resource.close, name="close").join()
    finally:
        release.set()
