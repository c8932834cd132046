"""What the DLL asks of the monitor and of ResUtils: LogEvent entries (docs/contract.md §9,
LG-*) and ClusWorker structures (§3.5, WK-1)."""

from __future__ import annotations

from conformance.monitor.monitor import LOG_ENTRY_LIMIT
from conformance.resapi import ERROR_INVALID_PARAMETER, LOG_LEVEL
from conformance.runtime.trace import CALLBACK, Trace, TraceEvent, short_repr
from conformance.suite.checks.entry_points import ALL
from conformance.suite.context import RunContext, Violation, counted
from conformance.suite.registry import check

LEVELS = {int(level) for level in LOG_LEVEL}


def _is_level(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in LEVELS


def _log_entries(ctx: RunContext) -> list[tuple[Trace, TraceEvent]]:
    runs = ctx.scenarios(*ALL)
    entries = [(t, e) for run in runs for t, e in run.events(CALLBACK, "LogEvent")]
    if not entries:
        raise ctx.nothing_to_judge("the DLL never called LogEvent", runs)
    return entries


@check("LogEvent.level")
def log_level(ctx: RunContext) -> str:
    entries = _log_entries(ctx)
    for trace, event in entries:
        level = event.args.get("LogLevel")
        if not _is_level(level):
            where = "resapi.h's LOG_LEVEL" if ctx.target.dll else "conformance.resapi"
            raise Violation(
                f"LogEvent was given LogLevel {short_repr(level)}; use LOG_INFORMATION, "
                f"LOG_WARNING, LOG_ERROR or LOG_SEVERE ({where}: 0 to 3)",
                trace,
                [event],
            )
    return f"{counted(len(entries), 'LogEvent call')} with a documented LOG_LEVEL"


@check("LogEvent.entry-length")
def log_entry_length(ctx: RunContext) -> str:
    entries = _log_entries(ctx)
    longest = max(e.data.get("entry_length", 0) for _, e in entries)
    for trace, event in entries:
        length = event.data.get("entry_length", 0)
        if length > LOG_ENTRY_LIMIT:
            raise Violation(
                f"a LogEvent entry is {length} characters long; the cluster log keeps "
                f"{LOG_ENTRY_LIMIT}, so its last {length - LOG_ENTRY_LIMIT} are lost",
                trace,
                [event],
            )
    return f"{counted(len(entries), 'entry', 'entries')} of at most {longest} characters"


@check("ClusWorker.fresh-structure")
def fresh_worker(ctx: RunContext) -> str:
    runs = ctx.scenarios(*ALL)
    created = [(t, e) for run in runs for t, e in run.events(CALLBACK, "ClusWorkerCreate")]
    if not created:
        raise ctx.nothing_to_judge("the DLL never called ClusWorkerCreate", runs)
    for trace, event in created:
        if event.result == ERROR_INVALID_PARAMETER and event.data.get("refused"):
            raise Violation(
                f"ClusWorkerCreate was refused: {event.data['refused']}",
                trace,
                [event],
            )
    return f"{counted(len(created), 'ClusWorkerCreate call')}, each with a fresh CLUS_WORKER"
