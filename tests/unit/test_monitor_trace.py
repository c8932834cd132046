"""The trace the monitor keeps (principle 2): times, threads and the entry point a callback
was made from, interleaved as they happened; excerpts around focus events; a bounded record
of a callback flood; exceptions named so that they can be found."""

from __future__ import annotations

import threading

import pytest

from conformance.resapi import (
    ERROR_IO_PENDING,
    LOG_INFORMATION,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
)
from conformance.runtime import trace as trace_module
from conformance.runtime.trace import CALLBACK, Trace

if __package__:  # tests/unit became a package
    from .monitor_rig import WAIT
    from .monitor_rig import rig_fixture as rig_fixture
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import WAIT
    from monitor_rig import rig_fixture as rig_fixture
    from scripted_dll import ScriptedDLL


def test_the_trace_records_times_threads_and_callback_contexts(rig):
    returned = threading.Event()  # set once the monitor has seen ERROR_IO_PENDING

    def online(dll, resid, event_handle):
        dll.LogEvent(dll.handles["r1"], LOG_INFORMATION, "coming online")
        dll.report("r1", ClusterResourceOnlinePending, 1)  # from inside Online (PO-4 says no)

        def work():
            dll.block(returned)
            dll.report("r1", ClusterResourceOnlinePending, 2)
            dll.report("r1", ClusterResourceOnline, 3)

        dll.spawn(work, name="worker-r1")
        return ERROR_IO_PENDING

    dll = ScriptedDLL(Online=online)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    assert resource.online(wait=False) == ClusterResourceOnlinePending, "Online is pending"
    returned.set()
    assert resource.wait_state({ClusterResourceOnline}, WAIT), "the worker brings it Online"
    resource.offline()
    trace = monitor.trace
    events = list(trace)

    assert [e.seq for e in events] == sorted({e.seq for e in events}), "seq is strictly ordered"
    for event in events:
        assert event.start >= 0 and event.thread, f"every event has a start and a thread: {event}"
        if event.end is not None:
            assert event.start <= event.end, f"start <= end on the monotonic clock: {event}"
    calls = trace.calls()
    assert all(e.end is not None for e in calls), "every call here returned, so has an end"

    [online_event] = trace.calls("Online")
    [online_call] = dll.calls_of("Online")
    origin = trace.origin
    assert origin + online_event.start <= online_call.start, (
        "the call starts after the trace's start"
    )
    assert online_call.end <= origin + online_event.end, (
        "... and the DLL's end is inside the trace's"
    )
    assert online_event.thread == online_call.thread_name, "the call's thread should be traced"

    [log] = trace.callbacks("LogEvent")
    in_call, pending, final = trace.callbacks("SetResourceStatus")
    for event in (log, in_call):
        assert event.context == "Online" and event.thread == online_call.thread_name, (
            f"a {event.name} made inside Online's own thread should have context 'Online'"
        )
    assert in_call.data["phase"] == "in-call", "a report before Online returned is 'in-call'"
    assert "from Online" in in_call.describe(), "the excerpt line should name the entry point"
    for event in (pending, final):
        assert event.context is None and event.thread == "worker-r1", (
            "a report from the DLL's worker thread should have context None and its thread name"
        )
        assert event.data["phase"] == "pending", "a report after ERROR_IO_PENDING is 'pending'"
    assert "from worker thread" in pending.describe(), "the excerpt line should say worker"
    assert online_event.start < in_call.start < online_event.end < pending.start, (
        "callback times should interleave with the call as they happened"
    )


def test_excerpt_marks_the_focus_events(rig):
    dll = ScriptedDLL()
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online()
    for i in range(6):
        dll.LogEvent(dll.handles["r1"], LOG_INFORMATION, f"line {i}")
    resource.offline()
    trace = monitor.trace
    [online] = trace.calls("Online")
    [offline] = trace.calls("Offline")

    lines = trace.excerpt([online], context=1)
    marked = [line for line in lines if line.startswith(">>")]
    assert len(marked) == 1 and online.describe() in marked[0], (
        "exactly the focus event should be marked '>>'"
    )
    assert len(lines) == 3 and all(line.startswith(("  ", ">>")) for line in lines), (
        "context=1 should give the focus event and one neighbour on each side"
    )
    apart = trace.excerpt([online, offline], context=1)
    assert sum(line.startswith(">>") for line in apart) == 2, "both focus events marked"
    assert "   ..." in apart, "a gap between far-apart focus events should be shown as '...'"
    assert trace.excerpt([]) == [], "no focus, no excerpt"


def test_a_callback_flood_is_answered_but_only_partly_recorded(monkeypatch):
    """Memory stays bounded: past the limit, callbacks are counted, not kept."""
    monkeypatch.setattr(trace_module, "CALLBACK_LIMIT", 50)
    trace = Trace()
    for i in range(120):
        trace.instant(CALLBACK, "LogEvent", args={"i": i})
    kept = trace.callbacks("LogEvent")
    assert len(kept) == 50, f"the first 50 LogEvent callbacks should be kept, got {len(kept)}"
    assert trace.dropped() == {"LogEvent": 70}, "the others should be counted"
    [note] = [e for e in trace if e.name == "callbacks no longer recorded"]
    assert note.data == {"callback": "LogEvent", "recorded": 50}, "once, saying what was dropped"


def test_an_exception_is_named_so_that_it_can_be_found():
    import struct

    from conformance.monitor.host import error_text

    with pytest.raises(struct.error) as raised:
        struct.unpack("<I", b"")
    assert error_text(raised.value).startswith("struct.error: "), (
        "an exception of a module should carry the module's name, not a bare 'error'"
    )
    assert error_text(ValueError("x")) == "ValueError: x", "builtins keep their plain name"
    assert len(error_text(ValueError("x" * 2000))) == 500, "the text is bounded"
