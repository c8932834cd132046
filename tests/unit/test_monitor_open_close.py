"""Open and Close (OP-1, OP-2, CL-2): the resource's key and handle, an Open that returns
NULL, and nothing reaching the DLL for an instance that was refused or closed."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from conformance.clusapi import HKEY, ClusterRegOpenKey, ClusterRegQueryValue
from conformance.monitor.monitor import MonitorError
from conformance.resapi import (
    ERROR_BAD_CONFIGURATION,
    ERROR_SUCCESS,
    LOG_INFORMATION,
    REG_BINARY,
    REG_DWORD,
    REG_MULTI_SZ,
    REG_SZ,
    SetLastError,
)

if __package__:  # tests/unit became a package
    from .monitor_rig import names
    from .monitor_rig import rig_fixture as rig_fixture
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import names
    from monitor_rig import rig_fixture as rig_fixture
    from scripted_dll import ScriptedDLL


def test_open_creates_the_key_with_the_properties_under_parameters(rig):
    properties = {"Port": 8080, "Path": "C:\\data", "Blob": b"\x01\x02", "Names": ["a", "b"]}
    seen: dict[str, Any] = {}

    def open_(dll, name, key, handle):
        seen.update(name=name, key=key, handle=handle)
        status, params = ClusterRegOpenKey(key, "Parameters")
        seen["open_status"] = status
        for prop in properties:
            seen[prop] = ClusterRegQueryValue(params, prop)
        return "resid:" + name

    dll = ScriptedDLL(Open=open_)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, "web", properties)

    assert resource.opened and resource.resid == "resid:web", "Open's RESID should be kept"
    assert seen["name"] == "web", "Open should receive the resource name"
    assert isinstance(seen["key"], HKEY) and seen["key"].path == "Resources\\web", (
        "Open should receive the resource's own cluster-database key"
    )
    assert seen["handle"] == resource.handle, "Open should receive the resource's handle"
    assert seen["open_status"] == ERROR_SUCCESS, "the key should have a Parameters subkey"
    expected_types = {"Port": REG_DWORD, "Path": REG_SZ, "Blob": REG_BINARY, "Names": REG_MULTI_SZ}
    for prop, value in properties.items():
        assert seen[prop] == (ERROR_SUCCESS, expected_types[prop], value), (
            f"private property {prop} should be in Parameters with its value and type"
        )
    assert resource.properties() == properties, "Resource.properties() should read Parameters"
    reads = [e for e in monitor.trace.callbacks() if e.name.startswith("ClusterReg")]
    assert reads and all(e.context == "Open" and e.resource == "web" for e in reads), (
        "cluster-database access made inside Open should be traced with context 'Open'"
    )


def test_open_returning_null_leaves_the_resource_unopened_with_the_last_error(rig):
    def open_(dll, name, key, handle):
        SetLastError(ERROR_BAD_CONFIGURATION)

    dll = ScriptedDLL(Open=open_)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor, "r1", la=5.0, ia=5.0)

    assert not resource.opened and resource.resid is None, "a NULL RESID means not opened"
    assert resource.open_error == ERROR_BAD_CONFIGURATION, "Open's SetLastError code should be kept"
    [error] = monitor.trace.callbacks("SetLastError")
    assert (error.context, error.resource, error.args["dwErrCode"]) == (
        "Open",
        "r1",
        ERROR_BAD_CONFIGURATION,
    ), "SetLastError should be traced with context 'Open', the resource and the code"
    [event] = monitor.trace.calls("Open")
    assert event.data.get("null_resid") is True, "the Open event should be marked null_resid"
    with pytest.raises(MonitorError):
        resource.online()
    rig.advance(3 * 5.0)  # both poll intervals pass, three times over
    assert names(dll.calls_of()) == ["Startup", "Open"], (
        "nothing (no Online, no polls) should reach the DLL for a resource Open refused"
    )


def test_nothing_reaches_the_dll_after_close(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.close()
    for operation in (resource.online, resource.terminate, resource.looks_alive, resource.close):
        with contextlib.suppress(MonitorError):
            operation()
    assert names(dll.calls_of()) == ["Startup", "Open", "Close"], (
        f"Close ends the instance: no entry point may be called for it after Close, got "
        f"{names(dll.calls_of())}"
    )


def open_that_logs(dll, name, key, handle):
    dll.LogEvent(handle, LOG_INFORMATION, "opening %1", name)
    return None if name == "refused" else f"resid:{name}"


def test_the_handle_is_known_from_the_start_of_open_until_close(rig):
    """The DLL has its ResourceHandle as soon as Open is called (the ClipBook sample logs from
    Open), and loses it when Close returns or when Open returned NULL."""
    dll = ScriptedDLL(Open=open_that_logs)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    [during_open] = monitor.trace.callbacks("LogEvent")
    assert during_open.data["known_handle"] and during_open.resource == "r1", (
        "a LogEvent from Open with the handle Open was given should be known"
    )
    refused = rig.open(monitor, "refused")
    assert not refused.opened, "the scripted Open returns NULL for 'refused'"
    for gone in (refused, resource):
        if gone is resource:
            resource.close()
        dll.LogEvent(gone.handle, LOG_INFORMATION, "after")
        after = monitor.trace.callbacks("LogEvent")[-1]
        assert after.data["known_handle"] is False, (
            f"the handle of {gone.name} should be unknown once Open returned NULL or Close returned"
        )


def test_the_fake_clock_settles_once_a_supervisor_has_ended(rig):
    """A closed resource's supervisor leaves the clock, so `FakeClock.advance` no longer
    waits for it; an opened one is waited for before its first sleep."""
    monitor = rig.monitor(ScriptedDLL())
    first = rig.open(monitor, "r1", la=5.0)
    first.online()
    first.close()
    second = rig.open(monitor, "r2", la=5.0)
    second.online()
    rig.advance(5.0)
    assert [e.resource for e in monitor.trace.calls("LooksAlive")] == ["r2"], (
        "only the open resource is polled, once, and the clock settles with r1's supervisor gone"
    )
