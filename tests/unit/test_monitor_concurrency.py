"""Serialisation (RM-4, CX-1..3): no two entry points but Terminate overlap, whoever asks for
them (the scenario, the monitor's own polls, other resources). Calls block in real time here;
a thread waiting for the monitor's lock is seen waiting (`blocked_in`) before the test says
the call it asked for has not been made."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from conformance.monitor.monitor import Resource
from conformance.resapi import (
    CLUSCTL_RESOURCE_UNKNOWN,
    ERROR_IO_PENDING,
    ERROR_SUCCESS,
    ClusterResourceOffline,
    ClusterResourceOnline,
)

if __package__:  # tests/unit became a package
    from .monitor_rig import WAIT, overlapping, wait_for
    from .monitor_rig import rig_fixture as rig_fixture
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import WAIT, overlapping, wait_for
    from monitor_rig import rig_fixture as rig_fixture
    from scripted_dll import ScriptedDLL

#: LooksAlivePollInterval, seconds of the fake clock.
LA = 5.0


def test_a_slow_poll_and_a_scenario_offline_never_overlap(rig):
    release = threading.Event()

    def looks_alive(dll, resid):
        if len(dll.calls_of("LooksAlive")) == 1:
            dll.block(release)
        return True

    dll = ScriptedDLL(LooksAlive=looks_alive)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=LA)
    resource.online()
    # the supervisor stays in the poll it makes: time passes on a thread of its own
    clock = rig.thread(rig.advance, LA, name="clock")
    assert dll.wait_calls("LooksAlive"), "the first LooksAlive poll should start"
    offline = rig.thread(resource.offline, name="scenario-offline")
    assert wait_for(
        lambda: offline.blocked_in("lifecycle.online_offline") == "lock" or dll.calls_of("Offline")
    ), "Offline should wait for the monitor's lock"
    assert not dll.calls_of("Offline"), "Offline should wait while LooksAlive runs (RM-4)"
    release.set()
    assert offline.join() == ClusterResourceOffline, "Offline should complete after the poll"
    clock.join()
    [poll] = dll.calls_of("LooksAlive")[:1]
    [off] = dll.calls_of("Offline")
    assert off.start >= poll.end, "Offline should start only after LooksAlive returned"
    serial = [c for c in dll.calls_of() if c.name != "Terminate"]
    assert not overlapping(serial), "no two entry points but Terminate may overlap (CX-3)"


def test_no_two_entry_points_but_terminate_overlap_under_load(rig):
    """Real time and real threads: the point is calls racing for the monitor's locks."""

    def briefly(result: Any) -> Callable[..., Any]:
        def entry(dll, *args):
            time.sleep(0.001)  # a call that takes a moment, so that others may race it
            return result

        return entry

    def pending_online(dll, resid, event_handle):
        name = resid.split(":", 1)[1]

        def work():
            time.sleep(0.003)  # the report comes later than the call's return, as a worker's
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
    monitor = rig.monitor(dll, real_time=True)
    cycling = [rig.open(monitor, name, la=0.003, ia=0.007, pending=2.0) for name in ("r1", "r2")]

    # the sleeps below pace the scenario threads, so that their calls interleave with the
    # polls the monitor makes in real time: they prove nothing by themselves
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


def test_resource_control_is_serialised_but_may_overlap_terminate(rig):
    inside, release = threading.Event(), threading.Event()

    def slow(dll, *args):
        inside.set()
        dll.block(release)
        return ERROR_SUCCESS, 0

    dll = ScriptedDLL(ResourceControl=slow)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    control = rig.thread(resource.control, CLUSCTL_RESOURCE_UNKNOWN, name="control")
    try:
        assert inside.wait(WAIT), "ResourceControl should have started"
        poll = rig.thread(resource.is_alive, name="poll")
        assert wait_for(
            lambda: poll.blocked_in("lifecycle.poll_call") == "lock" or dll.calls_of("IsAlive")
        ), "IsAlive should wait for the monitor's lock"
        resource.terminate()  # returns while ResourceControl still runs
        assert not dll.calls_of("IsAlive"), "IsAlive should still wait for ResourceControl"
    finally:
        release.set()
    control.join()
    poll.join()
    [rc], [term], [alive] = (dll.calls_of(n) for n in ("ResourceControl", "Terminate", "IsAlive"))
    assert rc.overlaps(term), "Terminate may run while ResourceControl does (CX-1)"
    assert not rc.overlaps(alive), "IsAlive waits for ResourceControl (RM-4)"
