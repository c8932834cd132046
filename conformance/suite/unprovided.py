"""Verdicts that rest on a function rescheck does not provide yet.

A compiled DLL may import documented Cluster API and ResUtil functions that rescheck's own
``clusapi.dll`` and ``resutils.dll`` export only as stubs: they answer
ERROR_CALL_NOT_IMPLEMENTED (`conformance.native.build.stubbed_functions`), and the trace marks
each such call ``unprovided`` (`conformance.monitor.reports`). What the DLL did after that
answer is not evidence against it (DESIGN principle 8): a real cluster would have answered
otherwise. The policy, the smallest faithful one: a rule that fails on a trace in which the DLL
called such a function before the failure's last piece of evidence is "not judged", with the
function and the entry point it was called in as the reason; it is the trace of one host
process, whose instances share the DLL's state. A rule that passes on such a trace passes, with
a note that it did so with the stub's answer. The run's ``info`` lists every such call.
"""

from __future__ import annotations

from collections.abc import Iterable

from conformance.runtime.trace import CALLBACK, Trace, TraceEvent

#: The most calls the run's ``info`` lists (one per function and entry point).
INFO_LIMIT = 64


def stub_calls(events: Iterable[TraceEvent]) -> list[TraceEvent]:
    """The calls of unprovided functions among ``events``."""
    return [e for e in events if e.kind == CALLBACK and e.data.get("unprovided")]


def before_violation(trace: Trace | None, evidence: list[TraceEvent]) -> list[TraceEvent]:
    """The stub calls of ``trace`` made before the evidence's last event ended (during an
    evidence call too); all of them when the evidence names no event."""
    if trace is None:
        return []
    last = max((e.start if e.end is None else e.end for e in evidence), default=None)
    return [e for e in stub_calls(trace) if last is None or e.start <= last]


def where(event: TraceEvent) -> str:
    """``ResUtilVerifyService (in Online)``: a stub call, for a message and the run's info."""
    if event.context is None:
        return f"{event.name} (on a thread of the DLL's own)"
    return f"{event.name} (in {event.context})"


def called(calls: list[TraceEvent]) -> str:
    """``the DLL called X (in Open of res-1), which rescheck does not provide yet``."""
    seen: list[str] = []
    for event in calls:
        if where(event) not in seen:
            seen.append(where(event))
    shown = ", ".join(seen[:3]) + (f" and {len(seen) - 3} more" if len(seen) > 3 else "")
    return f"the DLL called {shown}, which rescheck does not provide yet"


def not_judged(calls: list[TraceEvent], message: str) -> str:
    """The message of a failure that rests on a stub's answer."""
    return (
        f"not judged: {called(calls)} (it answered ERROR_CALL_NOT_IMPLEMENTED, and the failure "
        f"may follow from that answer): {message}"
    )


def passed_with(calls: list[TraceEvent], message: str) -> str:
    """The message of a pass on a trace with stub calls."""
    return f"{message} (note: {called(calls)}; this held with its ERROR_CALL_NOT_IMPLEMENTED)"


def info(events: Iterable[TraceEvent]) -> list[str]:
    """The run's stub calls for ``results.json``'s ``info``: one line per function and entry
    point, at most `INFO_LIMIT`."""
    lines: list[str] = []
    for event in stub_calls(events):
        line = where(event)
        if line not in lines:
            lines.append(line)
            if len(lines) == INFO_LIMIT:
                break
    return lines
