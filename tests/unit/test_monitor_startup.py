"""The monitor's Startup (ST-1, ST-2, ST-7, ST-8, CX-5) and NULL entry points: what is called
once, what a failed Startup refuses, and what is never called."""

from __future__ import annotations

import pytest

from conformance.monitor.monitor import EntryPointNull, MonitorError, StartupFailed
from conformance.resapi import (
    CLRES_VERSION_V1_00,
    CLRES_VERSION_V2_00,
    ERROR_GEN_FAILURE,
    ERROR_REVISION_MISMATCH,
    ERROR_SUCCESS,
    ClusterResourceOnline,
)

if __package__:  # tests/unit became a package
    from .monitor_rig import TINY, monitor_events, names
    from .monitor_rig import rig_fixture as rig_fixture
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import TINY, monitor_events, names
    from monitor_rig import rig_fixture as rig_fixture
    from scripted_dll import ScriptedDLL


def test_startup_is_called_once_with_the_version_range_and_the_callbacks(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll, startup=False)
    monitor.startup(CLRES_VERSION_V1_00, CLRES_VERSION_V2_00)
    rig.open(monitor, "r1")
    rig.open(monitor, "r2")

    startups = dll.calls_of("Startup")
    assert len(startups) == 1, (
        f"Startup should be called once per type (ST-2), got {names(startups)}"
    )
    resource_type, low, high, set_status, log_event = startups[0].args
    assert (resource_type, low, high) == ("Scripted", CLRES_VERSION_V1_00, CLRES_VERSION_V2_00), (
        "Startup should receive the resource type name and the version range asked for"
    )
    assert (
        set_status == monitor.reports.SetResourceStatus and log_event == monitor.reports.LogEvent
    ), "Startup should receive the monitor's SetResourceStatus and LogEvent callbacks"
    [event] = monitor.trace.calls("Startup")
    assert event.args == {
        "ResourceType": "Scripted",
        "MinVersionSupported": CLRES_VERSION_V1_00,
        "MaxVersionSupported": CLRES_VERSION_V2_00,
    }, "the trace should record Startup's arguments"
    assert event.result == ERROR_SUCCESS and event.data["table_version"] == CLRES_VERSION_V1_00, (
        "the trace should record Startup's status and the table version"
    )
    assert names(dll.calls_of())[:3] == ["Startup", "Open", "Open"], (
        "Startup should come before every Open (CX-5)"
    )


def test_a_second_startup_raises_and_does_not_call_the_dll(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    with pytest.raises(MonitorError, match="once"):
        monitor.startup()
    assert len(dll.calls_of("Startup")) == 1, "a refused second Startup should not reach the DLL"
    assert len(monitor.trace.calls("Startup")) == 1, "a refused Startup should not be traced"


def test_startup_with_a_nonzero_status_fails(rig):
    dll = ScriptedDLL(Startup=lambda dll, *args: (ERROR_REVISION_MISMATCH, None))
    monitor = rig.monitor(dll, startup=False)
    with pytest.raises(StartupFailed) as info:
        monitor.startup(0x900, 0x900)
    assert info.value.event is not None, "StartupFailed should carry the Startup trace event"
    assert info.value.event.result == ERROR_REVISION_MISMATCH, (
        "the trace should show the status Startup returned"
    )
    assert info.value.event.data["shaped"] is True, "(status, table) is the documented shape"
    assert "null_entry_points" not in info.value.event.data, (
        "null entry points are only judged for a successful Startup"
    )


@pytest.mark.parametrize(
    "returned",
    [
        pytest.param(lambda dll: dll.table(), id="bare-table"),
        pytest.param(lambda dll: ERROR_SUCCESS, id="bare-status"),
        pytest.param(lambda dll: None, id="None"),
        pytest.param(lambda dll: (ERROR_SUCCESS, dll.table(), "extra"), id="3-tuple"),
    ],
)
def test_startup_returning_no_status_table_tuple_fails(rig, returned):
    dll = ScriptedDLL(Startup=lambda dll, *args: returned(dll))
    monitor = rig.monitor(dll, startup=False)
    with pytest.raises(StartupFailed) as info:
        monitor.startup()
    assert info.value.event.data["shaped"] is False, (
        "the trace should say Startup did not return (status, table)"
    )


def test_startup_that_raises_fails_with_the_error_in_the_trace(rig):
    def startup(dll, *args):
        raise RuntimeError("no table today")

    monitor = rig.monitor(ScriptedDLL(Startup=startup), startup=False)
    with pytest.raises(StartupFailed) as info:
        monitor.startup()
    assert "RuntimeError: no table today" in (info.value.event.error or ""), (
        "the trace should keep the exception Startup raised"
    )


def test_startup_with_a_table_version_out_of_range_fails(rig):
    dll = ScriptedDLL(version=0x900)
    monitor = rig.monitor(dll, startup=False)
    try:
        monitor.startup(CLRES_VERSION_V1_00, CLRES_VERSION_V1_00)
        refused = False
    except StartupFailed:
        refused = True
    assert refused, "a table of version 0x900 for the range 0x100..0x100 cannot be loaded (ST-8)"


@pytest.mark.parametrize("how", ["never-started", "startup-failed"])
def test_open_without_a_successful_startup_is_refused_cleanly(rig, how):
    dll = ScriptedDLL(Startup=lambda dll, *args: (ERROR_GEN_FAILURE, None))
    monitor = rig.monitor(dll, startup=False)
    if how == "startup-failed":
        with pytest.raises(StartupFailed):
            monitor.startup()
    with pytest.raises(MonitorError) as info:
        monitor.open("r1")
    assert "NULL" not in str(info.value), (
        f"the error should say Startup has not succeeded, not blame the table: {info.value}"
    )
    assert not monitor.trace.calls("Open"), (
        "an Open that was never made should not be in the trace (it would fail FT checks)"
    )


def test_startup_records_the_null_entry_points(rig):
    dll = ScriptedDLL(null=("Arbitrate", "Release", "ResourceTypeControl"))
    monitor = rig.monitor(dll)
    [event] = monitor.trace.calls("Startup")
    assert event.data["null_entry_points"] == ["Arbitrate", "Release", "ResourceTypeControl"], (
        "the Startup event should list the NULL entry points in table order"
    )


def test_a_null_entry_point_is_not_called(rig):
    dll = ScriptedDLL(null=("LooksAlive",))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online()
    with pytest.raises(EntryPointNull, match="NULL"):
        resource.looks_alive()
    assert not monitor.trace.calls("LooksAlive"), (
        "a NULL entry point is never called, so the trace should hold no LooksAlive call"
    )
    [refused] = monitor_events(monitor, "not called")
    assert refused.data["entry"] == "LooksAlive", "the trace should say which entry was NULL"


def test_the_schedule_skips_a_null_poll_routine(rig):
    la, ia = 5.0, 20.0
    dll = ScriptedDLL(null=("LooksAlive",))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, la=la, ia=ia)
    resource.online()
    rig.advance(ia - TINY)
    assert not dll.calls_of("IsAlive"), "no IsAlive before IsAlivePollInterval"
    rig.advance(TINY)
    for count in (1, 2, 3):
        assert len(dll.calls_of("IsAlive")) == count, (
            f"IsAlive should still be polled, once per interval (poll {count})"
        )
        rig.advance(ia)
    assert resource.state == ClusterResourceOnline, "a NULL LooksAlive is no failure to poll"
    assert not monitor_events(monitor, "not called"), "the schedule should not try LooksAlive"
