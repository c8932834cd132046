"""What a target tells the monitor (RS-1..RS-6, PO-4, LG-1..LG-3): SetResourceStatus answered
by phase (in the call, pending, after Terminate, nothing pending, an unknown handle), the
last error of the reporting thread, handles compared by value, and LogEvent formatted and cut
as the cluster log keeps it."""

from __future__ import annotations

import threading

import pytest

from conformance.monitor.monitor import LOG_ENTRY_LIMIT, RESOURCE_HANDLE
from conformance.resapi import (
    ERROR_ACCESS_DENIED,
    ERROR_IO_PENDING,
    ERROR_SUCCESS,
    LOG_INFORMATION,
    LOG_WARNING,
    RESOURCE_STATUS,
    ClusterResourceOffline,
    ClusterResourceOnline,
    ClusterResourceStateUnknown,
    ResourceExitStateContinue,
    ResourceExitStateTerminate,
    SetLastError,
)

if __package__:  # tests/unit became a package
    from .monitor_rig import WAIT, pending_then
    from .monitor_rig import rig_fixture as rig_fixture
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import WAIT, pending_then
    from monitor_rig import rig_fixture as rig_fixture
    from scripted_dll import ScriptedDLL


def test_a_report_after_terminate_is_told_to_terminate(rig):
    first, later = threading.Event(), threading.Event()
    dll = ScriptedDLL(Online=pending_then(ClusterResourceOnline, first, later))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online(wait=False)
    first.set()  # report only once the monitor has seen ERROR_IO_PENDING
    assert dll.wait_until(lambda: len(dll.reports) == 1), "the first pending report expected"
    assert dll.reports[0].answer == ResourceExitStateContinue, "answered Continue while pending"
    resource.terminate()
    later.set()
    assert dll.wait_until(lambda: len(dll.reports) == 2), "the old worker's report expected"
    assert dll.reports[1].answer == ResourceExitStateTerminate, (
        "after Terminate, SetResourceStatus should answer ResourceExitStateTerminate (RS-2)"
    )
    reports = monitor.trace.callbacks("SetResourceStatus")
    assert [e.data["phase"] for e in reports] == ["pending", "after-terminate"], (
        "the trace should mark the late report with phase 'after-terminate'"
    )
    assert reports[1].data["known_handle"] is True, "the handle is still the resource's"
    assert reports[1].result == ResourceExitStateTerminate, "the trace should keep the answer"
    assert resource.state == ClusterResourceOffline and resource.pending is None, (
        "a requested Terminate leaves the resource Offline with nothing pending"
    )


def test_a_report_while_nothing_is_pending_is_marked_not_pending(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online()
    worker = dll.spawn(lambda: dll.report("r1", ClusterResourceOnline, 1), name="stray-worker")
    worker.join(WAIT)
    [event] = monitor.trace.callbacks("SetResourceStatus")
    assert (event.data["known_handle"], event.data["phase"]) == (True, "not-pending"), (
        "a report after a synchronous Online should be traced as 'not-pending' (PO-4)"
    )
    assert event.context is None and event.thread == "stray-worker", (
        "a worker's report has no entry-point context and names the worker thread"
    )
    assert resource.state == ClusterResourceOnline, "a stray report should not change the state"


def test_a_report_with_an_unknown_handle(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    stranger = RESOURCE_HANDLE(resource.handle.value + 1000)
    answer = dll.SetResourceStatus(stranger, RESOURCE_STATUS(ClusterResourceOnline))
    assert answer == ResourceExitStateTerminate, "an unknown handle is told to terminate"
    [event] = monitor.trace.callbacks("SetResourceStatus")
    assert event.data["known_handle"] is False and event.resource is None, (
        "the trace should mark a report with an unknown handle known_handle=False"
    )
    assert resource.state == ClusterResourceOffline, "it should not touch any resource"


def test_a_report_with_an_unknown_handle_is_traced_as_complete(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    rig.open(monitor)
    dll.SetResourceStatus(RESOURCE_HANDLE(1), RESOURCE_STATUS(ClusterResourceOnline))
    [event] = monitor.trace.callbacks("SetResourceStatus")
    assert event.end is not None and event.start <= event.end, (
        "every answered SetResourceStatus should have an end, like the known-handle ones"
    )


@pytest.mark.parametrize("set_first", [True, False])
def test_an_unknown_state_report_keeps_the_reporting_threads_last_error(rig, set_first):
    """RS-6: the monitor reads GetLastError on the thread that reported ClusterResourceStateUnknown."""

    def online(dll, resid, event_handle):
        name = resid.split(":", 1)[1]

        def work() -> None:
            if set_first:
                SetLastError(ERROR_ACCESS_DENIED)
            dll.report(name, ClusterResourceStateUnknown, 1)
            dll.report(name, ClusterResourceOnline, 2)

        dll.spawn(work, name="worker")
        return ERROR_IO_PENDING

    dll = ScriptedDLL(Online=online)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    assert resource.online() == ClusterResourceOnline, "the pending Online should complete"
    unknown = [
        e
        for e in monitor.trace.callbacks("SetResourceStatus")
        if e.args["ResourceState"] == ClusterResourceStateUnknown
    ]
    expected = ERROR_ACCESS_DENIED if set_first else ERROR_SUCCESS
    assert [e.data.get("last_error") for e in unknown] == [expected], (
        f"the report should carry the worker's last error {expected}; got {unknown}"
    )


def test_handles_are_compared_by_value(rig):
    dll = ScriptedDLL(Online=pending_then(ClusterResourceOnline))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    copy = RESOURCE_HANDLE(resource.handle.value)
    assert copy is not resource.handle, "the test needs a distinct but equal handle object"
    dll.LogEvent(copy, LOG_INFORMATION, "by value")
    dll.handles["r1"] = copy  # the worker reports with the copy
    assert resource.online() == ClusterResourceOnline, "a report with an equal handle counts"
    [log] = monitor.trace.callbacks("LogEvent")
    [report] = monitor.trace.callbacks("SetResourceStatus")
    assert log.data["known_handle"] and log.resource == "r1", "LogEvent should match by value"
    assert report.data["known_handle"] and report.resource == "r1", (
        "SetResourceStatus should match the handle by value"
    )
    dll.LogEvent(RESOURCE_HANDLE(resource.handle.value + 1), LOG_INFORMATION, "stranger")
    stranger = monitor.trace.callbacks("LogEvent")[-1]
    assert stranger.data["known_handle"] is False and stranger.resource is None, (
        "a different handle value should be unknown"
    )


@pytest.mark.parametrize(
    "format_string, args, expected",
    [
        ("plain text", (), "plain text"),
        ("port %1 opened", ("8080",), "port 8080 opened"),
        ("%1!u! bytes", (42,), "42 bytes"),
        ("%2 before %1", ("one", "two"), "two before one"),
        ("code 0x%1!x!", (255,), "code 0xff"),
        ("missing %3", ("a",), "missing %3"),
    ],
)
def test_log_event_formats_inserts(rig, format_string, args, expected):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    rig.open(monitor, "web")
    dll.LogEvent(dll.handles["web"], LOG_INFORMATION, format_string, *args)
    line = monitor.cluster_log[-1]
    assert line.startswith("Scripted") and line.endswith(f"web: {expected}"), (
        f"the cluster log entry should be the type, the resource and {expected!r}; got {line!r}"
    )
    [event] = monitor.trace.callbacks("LogEvent")
    assert event.data["message"] == expected and event.data["known_handle"] is True, (
        "the trace should keep the formatted message"
    )
    assert event.args["LogLevel"] == LOG_INFORMATION, "the trace should keep the log level"


def test_log_event_entries_are_limited_to_500_characters(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    rig.open(monitor)
    dll.LogEvent(dll.handles["r1"], LOG_WARNING, "%1", "x" * 2000)
    assert LOG_ENTRY_LIMIT == 500, "LG-3 limits an entry to 500 characters"
    assert len(monitor.cluster_log[-1]) == 500, "the cluster log entry should be cut to 500"
    [event] = monitor.trace.callbacks("LogEvent")
    assert len(event.data["message"]) == 500, "the traced message should be cut to 500 too"
    assert event.data["entry_length"] == len("Scripted\\nr1: ") + 2000, (
        "the trace should keep the entry's full length, for LogEvent.entry-length"
    )


@pytest.mark.parametrize(
    "format_string, args, expected",
    [
        ("100%% done", (), "100% done"),
        ("%1!X!", (255,), "FF"),
        ("%1!08x!", (255,), "000000ff"),
    ],
    ids=["percent-escape", "upper-hex", "width"],
)
def test_log_event_follows_format_message_syntax(rig, format_string, args, expected):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    rig.open(monitor)
    dll.LogEvent(dll.handles["r1"], LOG_INFORMATION, format_string, *args)
    [event] = monitor.trace.callbacks("LogEvent")
    assert event.data["message"] == expected, (
        f"LogEvent uses FormatMessage syntax (LG-1): {format_string!r} should give {expected!r}, "
        f"got {event.data['message']!r}"
    )
