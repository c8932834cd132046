"""The "Process Application" reference type, driven through the reference monitor in-process.

It manages a real child process, so these tests look at real things: the TCP port (through
the companion's probe), the process table (``/proc``), and the monitor's trace.
"""

from __future__ import annotations

import itertools
import os
import socket
import sys
import time
from collections.abc import Iterator
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
    ERROR_PROCESS_ABORTED,
    ERROR_RESOURCE_PROPERTIES_STORED,
    ERROR_REVISION_MISMATCH,
    ERROR_SUCCESS,
    ClusterResourceDontRestart,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
    state_name,
)
from conformance.targets import Target, load_target

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="looks at child processes through /proc"
)

DLL = Path(__file__).resolve().parents[2] / "reference_impls" / "process_app.py"
#: No restarts: a test decides when an instance comes back (the monitor's default restarts).
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


def _open(target: Target, monitor: ResourceMonitor, name: str) -> tuple[Resource, ProbeContext]:
    props = target.companion.properties_for(name)
    resource = monitor.open(name, props, common=FAST_POLLS)
    assert resource.opened, (
        f"Open of {name} should return a RESID, got last error {resource.open_error}"
    )
    return resource, ProbeContext(name, props)


def _children() -> set[int]:
    """Pids of this process's children, running or zombie (not yet reaped)."""
    me = os.getpid()
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # it ended while we looked
        if int(fields[1]) == me:
            found.add(int(stat.parent.name))
    return found


def _service_pid(port: int) -> int:
    """The pid of the child serving ``port``."""
    for pid in _children():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "_tcp_service.py" in cmdline and f" --port {port} " in cmdline:
            return pid
    raise AssertionError(f"expected a child process serving port {port}, found none")


def _wait_gone(pid: int, timeout: float) -> bool:
    """True once ``pid`` is no child of ours any more (exited and reaped)."""
    deadline = time.perf_counter() + timeout
    while pid in _children():
        if time.perf_counter() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_startup_refuses_other_type_names_and_versions(target: Target) -> None:
    for type_name, low, high, expected in (
        ("Generic Application", 0x100, 0x100, ERROR_CLUSTER_RESNAME_NOT_FOUND),
        ("Process Application", CLRES_VERSION_V2_00, CLRES_VERSION_V4_00, ERROR_REVISION_MISMATCH),
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
    m = ResourceMonitor(target.new_host(), "PROCESS APPLICATION")
    try:
        m.startup()  # type names compare case-insensitively (ST-9); raises if refused
    finally:
        m.shutdown()


def test_online_then_offline_runs_and_stops_the_process(
    target: Target, monitor: ResourceMonitor
) -> None:
    before = _children()
    r, ctx = _open(target, monitor, "app1")
    assert not target.companion.probe(ctx), "nothing should answer on the port after Open (OP-7)"
    assert r.online() == ClusterResourceOnline, (
        f"Online should end ClusterResourceOnline, got {state_name(r.state)}; log: {monitor.cluster_log}"
    )
    assert target.companion.probe(ctx), "the companion probe should get PONG once Online"
    assert r.looks_alive() is True, "LooksAlive should be True while the process runs"
    assert r.is_alive() is True, "IsAlive should be True while the process answers PING"
    pid = _service_pid(ctx.properties["Port"])
    assert r.offline() == ClusterResourceOffline, (
        f"Offline should end ClusterResourceOffline, got {state_name(r.state)}"
    )
    assert not target.companion.probe(ctx), "nothing should answer on the port after Offline"
    assert pid not in _children(), f"process {pid} should be stopped and reaped by Offline"
    assert any("exit code 0" in line for line in monitor.cluster_log), (
        f"the process should exit cleanly on SIGTERM and the DLL log it; log: {monitor.cluster_log}"
    )
    r.close()
    assert _children() == before, "no child process should be left after Offline and Close"


def test_pending_reports_count_up_from_the_worker(target: Target, monitor: ResourceMonitor) -> None:
    r, _ctx = _open(target, monitor, "app1")
    assert r.online() == ClusterResourceOnline, f"Online should succeed, got {state_name(r.state)}"
    assert r.offline() == ClusterResourceOffline, (
        f"Offline should succeed, got {state_name(r.state)}"
    )
    for call in monitor.trace.calls("Online") + monitor.trace.calls("Offline"):
        reports = [
            e
            for e in monitor.trace.callbacks("SetResourceStatus")
            if e.data.get("op") == call.data["op"]
        ]
        checkpoints = [e.args["CheckPoint"] for e in reports]
        assert checkpoints == list(range(1, len(reports) + 1)), (
            f"{call.name}'s CheckPoints should count 1, 2, 3, ... (RS-5), got {checkpoints}"
        )
        assert all(e.context is None for e in reports), (
            f"{call.name}'s reports should all come from the worker thread (PO-2)"
        )
        times = [call.end, *(e.start for e in reports)]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert max(gaps) < 0.2, (
            f"{call.name} should report every ~100 ms (scheduler slack allowed), gaps were {gaps}"
        )


def test_crash_is_noticed_by_isalive_and_terminated(
    target: Target, monitor: ResourceMonitor
) -> None:
    r, ctx = _open(target, monitor, "app1")
    assert r.online() == ClusterResourceOnline, f"Online should succeed, got {state_name(r.state)}"
    pid = _service_pid(ctx.properties["Port"])
    target.companion.breaker(ctx)
    assert r.wait_state({ClusterResourceFailed}, timeout=5.0), (
        f"the monitor's polling should find the crash and mark the resource ClusterResourceFailed, "
        f"state is {state_name(r.state)}"
    )
    assert r.is_alive() is False, "IsAlive should be False once the process crashed"
    assert _wait_gone(pid, 1.0), f"the crashed process {pid} should be reaped"
    reasons = [e.data.get("reason") for e in monitor.trace.calls("Terminate")]
    assert reasons == ["IsAlive did not return TRUE"], (
        "the monitor should call Terminate once, because IsAlive returned FALSE (IA-4)"
    )
    assert r.online() == ClusterResourceOnline, (
        f"the resource should come online again after the failure, got {state_name(r.state)}"
    )
    assert target.companion.probe(ctx), "the restarted process should answer PING"


def test_terminate_while_online_kills_the_process_at_once(
    target: Target, monitor: ResourceMonitor
) -> None:
    r, ctx = _open(target, monitor, "app1")
    assert r.online() == ClusterResourceOnline, f"Online should succeed, got {state_name(r.state)}"
    pid = _service_pid(ctx.properties["Port"])
    started = time.perf_counter()
    r.terminate()
    took = time.perf_counter() - started
    assert took < BUDGET_S, (
        f"Terminate should return within 300 ms (TE-5), took {took * 1000:.0f} ms"
    )
    assert pid not in _children(), f"Terminate should kill and reap process {pid} before returning"
    assert not target.companion.probe(ctx), "nothing should answer on the port after Terminate"
    r.terminate()  # twice in a row, and with nothing running: must simply return
    assert monitor.trace.calls("Terminate")[-1].error is None, "a second Terminate should not raise"
    assert r.state == ClusterResourceOffline, (
        f"a requested Terminate leaves the resource offline, got {state_name(r.state)}"
    )


@pytest.mark.parametrize("started", [False, True], ids=["before-start", "after-start"])
def test_terminate_during_pending_online_stops_the_worker(
    target: Target, monitor: ResourceMonitor, started: bool
) -> None:
    """Terminate on the first report (before the process starts) or once the process exists."""
    before = _children()
    r, ctx = _open(target, monitor, "app1")
    r.online(wait=False)

    def ready() -> bool:
        if started:
            return bool(_children() - before)
        return bool(monitor.trace.callbacks("SetResourceStatus"))

    deadline = time.perf_counter() + 2.0
    while not ready() and time.perf_counter() < deadline:
        time.sleep(0.002)
    assert r.state == ClusterResourceOnlinePending, (
        f"Online should still be pending, got {state_name(r.state)}"
    )
    r.terminate()
    terminate = monitor.trace.calls("Terminate")[-1]
    assert terminate.duration is not None and terminate.duration < BUDGET_S, (
        f"Terminate should return within 300 ms even while Online is pending, took {terminate.duration}"
    )
    time.sleep(0.3)  # time for a stray worker to misbehave
    late = [
        e
        for e in monitor.trace.callbacks()
        if e.name in ("SetResourceStatus", "LogEvent") and e.start > terminate.end
    ]
    assert not late, f"no worker should report or log after Terminate returned (RS-2): {late}"
    assert _children() == before, "Terminate should leave no process of the pending Online behind"
    assert not target.companion.probe(ctx), "nothing should answer on the port after Terminate"


def test_close_after_online_leaves_no_child_process(
    target: Target, monitor: ResourceMonitor
) -> None:
    before = _children()
    r, ctx = _open(target, monitor, "app1")
    assert r.online() == ClusterResourceOnline, f"Online should succeed, got {state_name(r.state)}"
    pid = _service_pid(ctx.properties["Port"])
    r.close()
    close = monitor.trace.calls("Close")[-1]
    assert close.duration is not None and close.duration < BUDGET_S, (
        f"Close should return within 300 ms (CL-6), took {close.duration}"
    )
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # ProcessLookupError only once it is reaped, not as a zombie
    assert _children() == before, "Close of an online resource should Terminate it first (CL-3)"


def test_two_instances_are_independent(target: Target, monitor: ResourceMonitor) -> None:
    r1, ctx1 = _open(target, monitor, "app1")
    r2, ctx2 = _open(target, monitor, "app2")
    assert ctx1.properties["Port"] != ctx2.properties["Port"], (
        "each instance should get its own port"
    )
    assert r1.online() == ClusterResourceOnline, (
        f"app1 should come online, got {state_name(r1.state)}"
    )
    assert r2.online() == ClusterResourceOnline, (
        f"app2 should come online, got {state_name(r2.state)}"
    )
    assert r1.offline() == ClusterResourceOffline, (
        f"app1 should go offline, got {state_name(r1.state)}"
    )
    assert not target.companion.probe(ctx1), "app1's port should be silent after its Offline"
    assert target.companion.probe(ctx2), "app2 should still answer after app1's Offline"
    assert r2.is_alive() is True, "app2's IsAlive should be unaffected by app1's Offline"
    assert r1.is_alive() is False, "app1's IsAlive should be False after its Offline"


def test_missing_port_makes_online_fail(monitor: ResourceMonitor) -> None:
    before = _children()
    r = monitor.open("noport", {}, common=FAST_POLLS)
    assert r.opened, "Open should succeed: Port is only read by Online's worker"
    assert r.online() == ClusterResourceFailed, (
        f"Online without Port should end ClusterResourceFailed, got {state_name(r.state)}"
    )
    assert any(str(ERROR_BAD_CONFIGURATION) in line for line in monitor.cluster_log), (
        f"the DLL should log ERROR_BAD_CONFIGURATION ({ERROR_BAD_CONFIGURATION}), "
        f"log: {monitor.cluster_log}"
    )
    assert _children() == before, "no process should be started without a Port"


def test_process_that_exits_early_makes_online_fail(monitor: ResourceMonitor) -> None:
    before = _children()
    with socket.create_server(("127.0.0.1", 0)) as squatter:  # the port is taken: bind fails
        port = squatter.getsockname()[1]
        r = monitor.open("busy", {"Port": port}, common=FAST_POLLS)
        assert r.online() == ClusterResourceFailed, (
            f"Online should end ClusterResourceFailed when the process exits, got {state_name(r.state)}"
        )
    assert any(str(ERROR_PROCESS_ABORTED) in line for line in monitor.cluster_log), (
        f"the DLL should log ERROR_PROCESS_ABORTED ({ERROR_PROCESS_ABORTED}), log: {monitor.cluster_log}"
    )
    assert _children() == before, "the exited process should be reaped"


def test_control_codes(target: Target, monitor: ResourceMonitor) -> None:
    r, _ctx = _open(target, monitor, "app1")
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
    r, _ctx = _open(target, monitor, "app1-props")
    change = build_property_list([Property.of("StartTimeoutMs", 4000)])
    offline = r.control(CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES, change)
    assert offline.status == ERROR_SUCCESS, f"offline, a SET applies at once: {offline.status}"
    got = r.control(CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES, None, 4096)
    values = {p.name: p.value for p in parse_property_list(got.data)}
    assert values["StartTimeoutMs"] == 4000, f"GET shows what SET stored: {values}"
    assert r.online() == ClusterResourceOnline
    online = r.control(CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES, change)
    assert online.status == ERROR_RESOURCE_PROPERTIES_STORED, (
        f"online, a change waits for the next Online (RC-7): {online.status}"
    )
    r.offline()
    r.close()
