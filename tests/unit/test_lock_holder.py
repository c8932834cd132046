"""The "Lock Holder" reference type, driven through the reference monitor in-process.

It holds a real ``flock`` on a real file and advertises it on a real TCP port, so these tests
look at real things: a second ``flock`` on the same file (refused while held), the lock file
itself, the port (through the companion's probe), this process's threads and file
descriptors (``/proc/self/fd``), and the monitor's trace.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conformance.companion import ProbeContext
from conformance.monitor.monitor import Resource, ResourceMonitor, StartupFailed
from conformance.proplist import Property, build_property_list, parse_property_list
from conformance.resapi import (
    CLRES_VERSION_V2_00,
    CLRES_VERSION_V4_00,
    CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_TYPE_UNKNOWN,
    CLUSCTL_RESOURCE_UNKNOWN,
    ERROR_BAD_CONFIGURATION,
    ERROR_CLUSTER_RESNAME_NOT_FOUND,
    ERROR_INVALID_FUNCTION,
    ERROR_IO_PENDING,
    ERROR_RESOURCE_PROPERTIES_STORED,
    ERROR_REVISION_MISMATCH,
    ERROR_SUCCESS,
    ClusterResourceDontRestart,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOfflinePending,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
    ClusterResourceRestartNotify,
    state_name,
)
from conformance.runtime.threads import stacks, target_threads
from conformance.runtime.trace import MONITOR
from conformance.targets import Target, load_target
from reference_impls._lock_entity import is_locked
from reference_impls.lock_holder import ERROR_LOCK_VIOLATION, WSAEADDRINUSE

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="flock semantics and /proc/self/fd are Linux's"
)

DLL = Path(__file__).resolve().parents[2] / "reference_impls" / "lock_holder.py"
#: Poll intervals of 200/400 ms (scaled); no restart after a failure unless a test asks for one.
FAST_POLLS = {
    "LooksAlivePollInterval": 2000,
    "IsAlivePollInterval": 4000,
    "RestartAction": ClusterResourceDontRestart,
}
#: What every entry point must stay under (RM-5), Terminate and Close above all (TE-5, CL-6).
BUDGET_S = 0.3


@pytest.fixture(scope="module")
def target() -> Target:
    return load_target(str(DLL), hosting="in-process")  # the DLL itself, in this process


@pytest.fixture
def monitor(target: Target) -> Iterator[ResourceMonitor]:
    m = ResourceMonitor(target.new_host(), target.resource_type)
    try:
        m.startup()
        yield m
    finally:
        m.shutdown()


def _open(
    target: Target, monitor: ResourceMonitor, name: str, common: dict[str, int] | None = None
) -> tuple[Resource, ProbeContext]:
    props = target.companion.properties_for(name)
    resource = monitor.open(name, props, common=FAST_POLLS if common is None else common)
    assert resource.opened, (
        f"Open of {name} should return a RESID, got last error {resource.open_error}"
    )
    return resource, ProbeContext(name, props)


def _path(ctx: ProbeContext) -> str:
    return str(ctx.properties["LockPath"])


def _second_flock(path: str) -> bool:
    """Try to take the lock the way another holder would; True if it was granted."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def _port_free(port: int) -> bool:
    """True when nothing listens on ``port`` any more (we can bind it ourselves)."""
    try:
        with socket.create_server(("127.0.0.1", port)):
            return True
    except OSError:
        return False


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        time.sleep(0.002)
    return True


def _assert_nothing_left(
    threads_before: set[threading.Thread], fds_before: set[str], ctx: ProbeContext, after: str
) -> None:
    left = target_threads(threads_before)
    assert not left, f"no thread of the instance should run after {after}: {stacks(left)}"
    assert _fds() <= fds_before, (
        f"{after} should close every descriptor the instance opened; new: {_fds() - fds_before}"
    )
    assert not is_locked(_path(ctx)), f"{after} should drop the flock on {_path(ctx)}"
    assert not os.path.exists(_path(ctx)), f"{after} should delete the lock file it held"
    assert _port_free(int(ctx.properties["Port"])), f"{after} should close the listening socket"


def test_startup_refuses_other_type_names_and_versions(target: Target) -> None:
    for type_name, low, high, expected in (
        ("Process Application", 0x100, 0x100, ERROR_CLUSTER_RESNAME_NOT_FOUND),
        ("Lock Holder", CLRES_VERSION_V2_00, CLRES_VERSION_V4_00, ERROR_REVISION_MISMATCH),
    ):
        m = ResourceMonitor(target.new_host(), type_name)
        try:
            with pytest.raises(StartupFailed) as failed:
                m.startup(low, high)
            assert failed.value.event is not None, "StartupFailed should carry the Startup event"
            assert failed.value.event.result == expected, (
                f"Startup({type_name!r}, 0x{low:x}, 0x{high:x}) should return {expected}, "
                f"got {failed.value.event.result!r}"
            )
        finally:
            m.shutdown()


def test_online_holds_the_lock_and_offline_releases_it(
    target: Target, monitor: ResourceMonitor
) -> None:
    r, ctx = _open(target, monitor, "lock1")
    threads, fds = set(threading.enumerate()), _fds()
    path = _path(ctx)
    assert not os.path.exists(path), "Open should not create the lock file: offline (OP-7)"
    assert not target.companion.probe(ctx), "nothing should answer on the port after Open"
    assert r.online() == ClusterResourceOnline, (
        f"Online should end ClusterResourceOnline, got {state_name(r.state)}; log: {monitor.cluster_log}"
    )
    assert is_locked(path), f"{path} should be flock-ed while online"
    assert not _second_flock(path), "a second flock on the lock file must be refused while online"
    assert target.companion.probe(ctx), "the companion probe should get PONG once online"
    assert r.looks_alive() is True, "LooksAlive should be True while the lock is held"
    assert r.is_alive() is True, "IsAlive should be True while the lock is held and PING answered"
    assert r.offline() == ClusterResourceOffline, (
        f"Offline should end ClusterResourceOffline, got {state_name(r.state)}"
    )
    _assert_nothing_left(threads, fds, ctx, "Offline")
    assert _second_flock(path), "once offline, another holder should get the lock at once"
    os.unlink(path)  # the file our own second holder just created
    assert r.is_alive() is False, "IsAlive should be False once offline"
    r.close()


def test_online_returns_pending_and_a_failure_event(
    target: Target, monitor: ResourceMonitor
) -> None:
    r, _ctx = _open(target, monitor, "lock1")
    assert r.online() == ClusterResourceOnline, f"Online should succeed, got {state_name(r.state)}"
    online = monitor.trace.calls("Online")[-1]
    assert online.result == ERROR_IO_PENDING, (
        f"Online should return ERROR_IO_PENDING, got {online.result!r}"
    )
    event = r.event_handle
    assert event is not None and callable(getattr(event, "is_set", None)), (
        f"Online should set EventHandle.value to a failure event, trace has {online.data}"
    )
    assert not event.is_set(), "the failure event must be nonsignalled while all is well (ON-1)"
    assert r.looks_alive_off, "the monitor should turn LooksAlive polling off (LA-8)"


def test_event_handle_means_isalive_polls_only(target: Target, monitor: ResourceMonitor) -> None:
    r, _ctx = _open(target, monitor, "lock1")
    assert r.online() == ClusterResourceOnline, f"Online should succeed, got {state_name(r.state)}"
    assert r.wait_polls("IsAlive", 2, timeout=5.0), "the monitor should poll IsAlive (IA-2)"
    polls = [e for e in monitor.trace.calls() if e.data.get("poll")]
    assert {e.name for e in polls} == {"IsAlive"}, (
        f"with an EventHandle only IsAlive is polled (LA-8), got {[e.name for e in polls]}"
    )
    assert all(e.result is True for e in polls), "every IsAlive poll should answer TRUE"
    slow = [e.duration for e in polls if e.duration is None or e.duration >= BUDGET_S]
    assert not slow, f"IsAlive should answer well within 300 ms (IA-6), took {slow}"


def test_pending_reports_count_up_from_the_worker(target: Target, monitor: ResourceMonitor) -> None:
    r, _ctx = _open(target, monitor, "lock1")
    assert r.online() == ClusterResourceOnline, f"Online should succeed, got {state_name(r.state)}"
    assert r.offline() == ClusterResourceOffline, (
        f"Offline should succeed, got {state_name(r.state)}"
    )
    for call in monitor.trace.calls("Online") + monitor.trace.calls("Offline"):
        assert call.result == ERROR_IO_PENDING, f"{call.name} should return ERROR_IO_PENDING"
        reports = [
            e
            for e in monitor.trace.callbacks("SetResourceStatus")
            if e.data.get("op") == call.data["op"]
        ]
        checkpoints = [e.args["CheckPoint"] for e in reports]
        assert checkpoints == list(range(1, len(reports) + 1)), (
            f"{call.name}'s CheckPoints should count 1, 2, 3, ... (RS-5), got {checkpoints}"
        )
        assert len(reports) >= 2, f"{call.name} should report pending before the final state"
        assert all(e.context is None for e in reports), (
            f"{call.name}'s reports should all come from the worker thread (PO-2)"
        )
        assert all(e.start > call.end for e in reports), (
            f"{call.name}'s reports should come after it returned ERROR_IO_PENDING (PO-4)"
        )
        times = [call.end, *(e.start for e in reports)]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert max(gaps) < 0.2, (
            f"{call.name} should report every ~50 ms (scheduler slack allowed), gaps were {gaps}"
        )


def _replace(path: str) -> None:
    """Put another file in the lock file's place: same name, different inode."""
    fresh = f"{path}.new"
    Path(fresh).write_text("someone else\n")
    os.replace(fresh, path)


def _close_listener(r: Resource) -> None:
    """Close the instance's listening socket under it (white box: no outside way to do so)."""
    r.resid.held._listener.close()


@pytest.mark.parametrize(
    "how", ["breaker", "replaced", "server-closed"], ids=["deleted", "replaced", "server-closed"]
)
def test_lost_lock_signals_the_event_and_isalive_says_false(
    target: Target, monitor: ResourceMonitor, how: str
) -> None:
    r, ctx = _open(target, monitor, "lock1")
    assert r.online() == ClusterResourceOnline, f"Online should succeed, got {state_name(r.state)}"
    event = r.event_handle
    assert event is not None, "Online should return a failure event"
    threads = target_threads(set())
    if how == "breaker":
        target.companion.breaker(ctx)
        assert not target.companion.probe(ctx), "the probe should say not held once broken"
    elif how == "replaced":
        _replace(_path(ctx))
    else:
        _close_listener(r)
    assert _wait(event.is_set, 1.0), f"the watcher should signal the failure event ({how})"
    assert r.wait_state({ClusterResourceFailed}, timeout=5.0), (
        f"the monitor should confirm with IsAlive and fail the resource, "
        f"state is {state_name(r.state)}"
    )
    events = list(monitor.trace)
    signalled = next(e for e in events if e.kind == MONITOR and e.name == "failure event signalled")
    after = [e for e in events if e.seq > signalled.seq and e.kind == "call"]
    assert [e.name for e in after[:2]] == ["IsAlive", "Terminate"], (
        f"the event should make the monitor call IsAlive, then Terminate; got {after[:2]}"
    )
    assert after[0].result is False, "IsAlive should say FALSE once the lock is lost (IA-4)"
    assert after[1].data.get("reason") == "failure event", "Terminate should follow the event"
    assert any("IsAlive:" in line for line in monitor.cluster_log), (
        f"IsAlive should log why it says FALSE; log: {monitor.cluster_log}"
    )
    assert not [t for t in threads if t.is_alive() and t.name.startswith("lock-holder-")], (
        "the failure's Terminate should end the watcher and server threads"
    )
    if how == "replaced":
        assert os.path.exists(_path(ctx)), "Terminate must not delete a lock file that is not ours"
        os.unlink(_path(ctx))
    assert r.online() == ClusterResourceOnline, (
        f"the resource should come online again after the failure, got {state_name(r.state)}"
    )
    assert r.event_handle is not None and r.event_handle is not event, (
        "each Online should return a fresh failure event"
    )
    assert not r.event_handle.is_set(), "the new failure event should be nonsignalled"
    assert target.companion.probe(ctx), "the lock should be held again"


def test_online_again_keeps_the_lock_and_reports_through_the_new_event(
    target: Target, monitor: ResourceMonitor
) -> None:
    r, ctx = _open(target, monitor, "lock1")
    assert r.online() == ClusterResourceOnline, f"Online should succeed, got {state_name(r.state)}"
    first = r.event_handle
    threads = {t for t in target_threads(set()) if t.name.startswith("lock-holder-")}
    assert r.online() == ClusterResourceOnline, (
        f"a second Online should succeed too, got {state_name(r.state)}; log: {monitor.cluster_log}"
    )
    second = r.event_handle
    assert second is not None and second is not first, "each Online returns its own event"
    now = {t for t in target_threads(set()) if t.name.startswith("lock-holder-")}
    assert now == threads, "the second Online should keep the entity it holds, not start another"
    target.companion.breaker(ctx)
    assert _wait(second.is_set, 1.0), "the failure should be reported through the new event"
    assert first is not None and not first.is_set(), "the old event is no longer used"


def test_restart_policy_brings_the_lock_back(target: Target, monitor: ResourceMonitor) -> None:
    """After the failure's Terminate the monitor restarts the instance (FP-18); the same
    instance takes the lock again, with a fresh failure event."""
    restarting = {**FAST_POLLS, "RestartAction": ClusterResourceRestartNotify}
    r, ctx = _open(target, monitor, "lock1", common=restarting)
    assert r.online() == ClusterResourceOnline, f"Online should succeed, got {state_name(r.state)}"
    event = r.event_handle
    target.companion.breaker(ctx)

    def back() -> bool:
        onlines = monitor.trace.calls("Online")
        return len(onlines) == 2 and r.wait_state({ClusterResourceOnline}, 0.01)

    assert _wait(back, 5.0), (
        f"the monitor should restart the failed instance, state {state_name(r.state)}; "
        f"log: {monitor.cluster_log}"
    )
    assert event is not None and event.is_set(), "the first Online's event should be signalled"
    assert r.event_handle is not None and not r.event_handle.is_set(), (
        "the restart's Online should return a fresh, nonsignalled failure event"
    )
    assert target.companion.probe(ctx) and r.is_alive() is True, "the lock should be held again"


def test_terminate_while_online_leaves_nothing(target: Target, monitor: ResourceMonitor) -> None:
    r, ctx = _open(target, monitor, "lock1")
    threads, fds = set(threading.enumerate()), _fds()
    assert r.online() == ClusterResourceOnline, f"Online should succeed, got {state_name(r.state)}"
    assert target_threads(threads), "the instance should run its server and watcher threads"
    assert _fds() - fds, "the instance should hold descriptors (lock file, sockets)"
    event = r.event_handle
    started = time.perf_counter()
    r.terminate()
    took = time.perf_counter() - started
    assert took < BUDGET_S, (
        f"Terminate should return within 300 ms (TE-5), took {took * 1000:.0f} ms"
    )
    _assert_nothing_left(threads, fds, ctx, "Terminate")
    assert event is not None and not event.is_set(), "Terminate is no failure: no event"
    r.terminate()  # twice in a row, and with nothing held: must simply return
    assert monitor.trace.calls("Terminate")[-1].error is None, "a second Terminate should not raise"
    assert r.state == ClusterResourceOffline, (
        f"a requested Terminate leaves the resource offline, got {state_name(r.state)}"
    )


@pytest.mark.parametrize("when", ["before-lock", "lock-held"])
def test_terminate_during_pending_online_stops_everything(
    target: Target, monitor: ResourceMonitor, when: str
) -> None:
    """Terminate on the first report (before the lock is taken) or once it is held."""
    r, ctx = _open(target, monitor, "lock1")
    threads, fds = set(threading.enumerate()), _fds()
    r.online(wait=False)

    def ready() -> bool:
        if when == "lock-held":
            return any(t.name.startswith("lock-holder-") for t in target_threads(threads))
        return bool(monitor.trace.callbacks("SetResourceStatus"))

    assert _wait(ready, 2.0), f"Online's worker should get to {when}"
    assert r.state == ClusterResourceOnlinePending, (
        f"Online should still be pending, got {state_name(r.state)}"
    )
    r.terminate()
    terminate = monitor.trace.calls("Terminate")[-1]
    assert terminate.duration is not None and terminate.duration < BUDGET_S, (
        f"Terminate should return within 300 ms even while Online is pending, took {terminate.duration}"
    )
    _assert_nothing_left(threads, fds, ctx, "Terminate of a pending Online")
    time.sleep(0.3)  # time for a stray worker to misbehave
    late = [
        e
        for e in monitor.trace.callbacks()
        if e.name in ("SetResourceStatus", "LogEvent") and e.start > terminate.end
    ]
    assert not late, f"no worker should report or log after Terminate returned (RS-2): {late}"
    assert not os.path.exists(_path(ctx)), "no stray worker should take the lock after Terminate"


def test_terminate_during_pending_offline_stops_everything(
    target: Target, monitor: ResourceMonitor
) -> None:
    r, ctx = _open(target, monitor, "lock1")
    threads, fds = set(threading.enumerate()), _fds()
    assert r.online() == ClusterResourceOnline, f"Online should succeed, got {state_name(r.state)}"
    seen = len(monitor.trace.callbacks("SetResourceStatus"))
    r.offline(wait=False)
    assert _wait(lambda: len(monitor.trace.callbacks("SetResourceStatus")) > seen, 2.0), (
        "Offline's worker should report OfflinePending"
    )
    assert r.state == ClusterResourceOfflinePending, (
        f"Offline should still be pending, got {state_name(r.state)}"
    )
    r.terminate()
    terminate = monitor.trace.calls("Terminate")[-1]
    assert terminate.duration is not None and terminate.duration < BUDGET_S, (
        f"Terminate should return within 300 ms, took {terminate.duration}"
    )
    _assert_nothing_left(threads, fds, ctx, "Terminate of a pending Offline")


def test_close_after_online_leaves_nothing(target: Target, monitor: ResourceMonitor) -> None:
    r, ctx = _open(target, monitor, "lock1")
    threads, fds = set(threading.enumerate()), _fds()
    assert r.online() == ClusterResourceOnline, f"Online should succeed, got {state_name(r.state)}"
    r.close()
    close = monitor.trace.calls("Close")[-1]
    assert close.duration is not None and close.duration < BUDGET_S, (
        f"Close should return within 300 ms (CL-6), took {close.duration}"
    )
    _assert_nothing_left(threads, fds, ctx, "Close of an online instance (CL-3)")


def test_repeated_cycles_leave_nothing_behind(target: Target, monitor: ResourceMonitor) -> None:
    threads, fds = set(threading.enumerate()), _fds()
    for cycle in range(5):
        r, ctx = _open(target, monitor, f"cycle{cycle}")
        assert r.online() == ClusterResourceOnline, f"cycle {cycle}: Online should succeed"
        assert r.is_alive() is True, f"cycle {cycle}: IsAlive should be True while online"
        assert r.offline() == ClusterResourceOffline, f"cycle {cycle}: Offline should succeed"
        r.close()
        _assert_nothing_left(threads, fds, ctx, f"cycle {cycle}'s Close (CL-4)")


def test_two_instances_are_independent(target: Target, monitor: ResourceMonitor) -> None:
    r1, ctx1 = _open(target, monitor, "lock1")
    r2, ctx2 = _open(target, monitor, "lock2")
    assert ctx1.properties["Port"] != ctx2.properties["Port"], "each instance gets its own port"
    assert _path(ctx1) != _path(ctx2), "each instance gets its own lock file"
    assert r1.online() == ClusterResourceOnline, f"lock1 should come online, got {r1.state}"
    assert r2.online() == ClusterResourceOnline, f"lock2 should come online, got {r2.state}"
    assert r1.event_handle is not r2.event_handle, "each instance gets its own failure event"
    event2 = r2.event_handle
    target.companion.breaker(ctx1)
    assert r1.wait_state({ClusterResourceFailed}, timeout=5.0), (
        f"lock1 should fail once its lock file is gone, got {state_name(r1.state)}"
    )
    assert event2 is not None and not event2.is_set(), "lock2's event must not fire for lock1"
    assert r2.state == ClusterResourceOnline, f"lock2 should stay online, got {r2.state}"
    assert r2.is_alive() is True, "lock2's IsAlive should be unaffected by lock1's failure"
    assert is_locked(_path(ctx2)) and target.companion.probe(ctx2), "lock2 should still be held"
    assert not target.companion.probe(ctx1), "lock1 should be released after its Terminate"
    assert r2.offline() == ClusterResourceOffline, f"lock2 should go offline, got {r2.state}"
    assert r1.is_alive() is False and r2.is_alive() is False, "both are now offline"


def test_a_held_lock_keeps_another_holder_out(monitor: ResourceMonitor, tmp_path: Path) -> None:
    """Two instances configured with the same LockPath: the lock really is exclusive."""
    from reference_impls.process_app_companion import free_port

    path = str(tmp_path / "shared.lock")
    first = monitor.open("first", {"LockPath": path, "Port": free_port()}, common=FAST_POLLS)
    second = monitor.open(
        "second",
        {"LockPath": path, "Port": free_port(), "LockTimeoutMs": 300},
        common=FAST_POLLS,
    )
    assert first.online() == ClusterResourceOnline, f"first should hold {path}"
    assert second.online() == ClusterResourceFailed, (
        f"second should fail while first holds the lock, got {state_name(second.state)}"
    )
    op = monitor.trace.calls("Online")[-1].data["op"]
    reports = [e for e in monitor.trace.callbacks("SetResourceStatus") if e.data.get("op") == op]
    assert len(reports) >= 4, "second should keep reporting OnlinePending while it waits"
    assert any(str(ERROR_LOCK_VIOLATION) in line for line in monitor.cluster_log), (
        f"second should log ERROR_LOCK_VIOLATION ({ERROR_LOCK_VIOLATION}); log: {monitor.cluster_log}"
    )
    assert first.state == ClusterResourceOnline and first.is_alive() is True, (
        "first should be untouched by second's attempt"
    )
    assert first.offline() == ClusterResourceOffline, "first should let go"
    assert second.online() == ClusterResourceOnline, "second should get the lock once it is free"
    assert is_locked(path), "second should now hold it"


def test_bad_properties_make_online_fail(monitor: ResourceMonitor, tmp_path: Path) -> None:
    threads, fds = set(threading.enumerate()), _fds()
    for name, props in (
        ("noport", {"LockPath": str(tmp_path / "a.lock")}),
        ("nopath", {"Port": 1}),
        ("relative", {"LockPath": "relative.lock", "Port": 1}),
    ):
        r = monitor.open(name, props, common=FAST_POLLS)
        assert r.opened, "Open should succeed: the properties are only read by Online's worker"
        assert r.online() == ClusterResourceFailed, (
            f"{name}: Online should end ClusterResourceFailed, got {state_name(r.state)}"
        )
    assert sum(str(ERROR_BAD_CONFIGURATION) in line for line in monitor.cluster_log) == 3, (
        f"the DLL should log ERROR_BAD_CONFIGURATION each time; log: {monitor.cluster_log}"
    )
    assert not list(tmp_path.iterdir()), "no lock file should be created"
    assert not target_threads(threads) and _fds() <= fds, "nothing should be left running"


def test_port_in_use_makes_online_fail_and_drops_the_lock(
    monitor: ResourceMonitor, tmp_path: Path
) -> None:
    path = str(tmp_path / "busy.lock")
    with socket.create_server(("127.0.0.1", 0)) as squatter:  # the port is taken: bind fails
        port = squatter.getsockname()[1]
        r = monitor.open("busy", {"LockPath": path, "Port": port}, common=FAST_POLLS)
        assert r.online() == ClusterResourceFailed, (
            f"Online should fail when the port is taken, got {state_name(r.state)}"
        )
    assert any(str(WSAEADDRINUSE) in line for line in monitor.cluster_log), (
        f"the DLL should log WSAEADDRINUSE ({WSAEADDRINUSE}); log: {monitor.cluster_log}"
    )
    assert not is_locked(path), "a failed Online should not keep the lock"
    assert not os.path.exists(path), "a failed Online should delete the lock file it created"


def test_control_codes(target: Target, monitor: ResourceMonitor) -> None:
    r, _ctx = _open(target, monitor, "lock1")
    assert r.control(CLUSCTL_RESOURCE_UNKNOWN).status == ERROR_SUCCESS, "CC-1"
    chars = r.control(CLUSCTL_RESOURCE_GET_CHARACTERISTICS, None, 4)
    assert (chars.status, chars.data) == (ERROR_SUCCESS, bytes(4)), "no characteristic (CC-2)"
    type_unknown = monitor.type_control(CLUSCTL_RESOURCE_TYPE_UNKNOWN)
    assert type_unknown.status == ERROR_SUCCESS, "it answers a type code, so UNKNOWN (CC-30)"
    odd = r.control(CLUSCTL_RESOURCE_UNKNOWN | 0x3C00, None, 64)
    assert odd.status == ERROR_INVALID_FUNCTION, "an unknown code gets default processing"


def test_a_property_set_while_online_applies_at_the_next_online(
    target: Target, monitor: ResourceMonitor
) -> None:
    r, _ctx = _open(target, monitor, "lock1-props")
    change = build_property_list([Property.of("LockTimeoutMs", 4000)])
    offline = r.control(CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES, change)
    assert offline.status == ERROR_SUCCESS, f"offline, a SET applies at once: {offline.status}"
    got = r.control(CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES, None, 4096)
    values = {p.name: p.value for p in parse_property_list(got.data)}
    assert values["LockTimeoutMs"] == 4000, f"GET shows what SET stored: {values}"
    assert r.online() == ClusterResourceOnline
    online = r.control(CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES, change)
    assert online.status == ERROR_RESOURCE_PROPERTIES_STORED, (
        f"online, a change waits for the next Online (RC-7): {online.status}"
    )
    r.offline()
    r.close()
