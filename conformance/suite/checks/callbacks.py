"""What the DLL asks of the monitor and of ResUtils: the ResourceHandle its callbacks carry
(OP-3), a status report's last error (RS-6), LogEvent entries (docs/contract.md §9, LG-*) and
ClusWorker structures (§3.5, WK-1)."""

from __future__ import annotations

from conformance.monitor.monitor import LOG_ENTRY_LIMIT
from conformance.resapi import ERROR_INVALID_PARAMETER, ERROR_SUCCESS, LOG_LEVEL
from conformance.rules import RECOMMENDED, REQUIRED
from conformance.runtime.trace import CALLBACK, Trace, TraceEvent, short_repr
from conformance.suite.checks.entry_points import ALL
from conformance.suite.checks.pending import status_reports
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


@check(
    "Callbacks.resource-handle",
    REQUIRED,
    entry_points=("Open",),
    statement=(
        "SetResourceStatus and LogEvent receive the ResourceHandle that Open was given, for an "
        "instance that is still open."
    ),
    doc="S:nc-resapi-popen_routine",
    contract=("OP-3", "RS-1", "LG-1", "ID-2"),
    scenarios=ALL,
    trace_only=True,
)
def resource_handle(ctx: RunContext) -> str:
    runs = ctx.scenarios(*ALL)
    seen = 0
    for run in runs:
        for trace, event in run.events(CALLBACK):
            if event.name not in ("SetResourceStatus", "LogEvent"):
                continue
            seen += 1
            if not event.data.get("known_handle"):
                raise Violation(
                    f"{event.name} was called with {short_repr(event.args.get('ResourceHandle'))}, which is not "
                    "the ResourceHandle of an open instance",
                    trace,
                    [event],
                )
    if not seen:
        raise ctx.nothing_to_judge("the DLL made no SetResourceStatus or LogEvent call", runs)
    return f"{seen} callbacks carried the handle from Open"


@check(
    "SetResourceStatus.unknown-last-error",
    REQUIRED,
    entry_points=("Online", "Offline"),
    statement=(
        "Before a status report of ClusterResourceStateUnknown, the reporting thread calls "
        "SetLastError with the error, so that the monitor can learn it with GetLastError."
    ),
    doc="S:ns-resapi-resource_status",
    contract=("RS-6",),
    policy=(
        "The page says the DLL 'should call the function SetLastError', in the same words it uses "
        "for CheckPoint; the monitor has no other way to learn the error, and docs/contract.md "
        "reads it as required. Judged on the reporting thread's last-error value when the report "
        "arrives: ERROR_SUCCESS (0) there is the violation."
    ),
    scenarios=ALL,
)
def unknown_last_error(ctx: RunContext) -> str:
    runs, reports = status_reports(ctx)
    unknown = [(t, e) for t, e in reports if "last_error" in e.data]  # Unknown, while pending
    if not unknown:
        raise ctx.nothing_to_judge("the DLL never reported ClusterResourceStateUnknown", runs)
    for trace, event in unknown:
        if event.data.get("last_error") == ERROR_SUCCESS:
            raise Violation(
                "a worker reported ClusterResourceStateUnknown without calling SetLastError "
                "first; the monitor's GetLastError read ERROR_SUCCESS",
                trace,
                [event],
            )
    return (
        f"{counted(len(unknown), 'report')} of ClusterResourceStateUnknown, each after SetLastError"
    )


@check(
    "LogEvent.level",
    REQUIRED,
    entry_points=("Open", "Online", "Offline", "Terminate", "Close"),
    statement=(
        "LogEvent is given a LOG_LEVEL: LOG_INFORMATION, LOG_WARNING, LOG_ERROR or LOG_SEVERE (0 "
        "to 3)."
    ),
    doc="S:nc-resapi-plog_event_routine",
    contract=("LG-2", "LG-1"),
    policy=(
        "The page defines LOG_LEVEL and gives no level of its own (docs/contract.md marks it "
        "Ref); as with BOOL returns, the signature is the contract: a value outside the four "
        "documented ones cannot be classified in the cluster log, so rescheck requires it."
    ),
    scenarios=ALL,
    trace_only=True,
)
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


@check(
    "LogEvent.entry-length",
    RECOMMENDED,
    entry_points=("Open", "Online", "Offline", "Terminate", "Close"),
    statement=(
        "Each cluster-log entry (resource type, line break, resource name, ': ' and the message) "
        "fits the documented 500 characters; a longer one is cut."
    ),
    doc="S:nc-resapi-plog_event_routine",
    contract=("LG-3",),
    policy=(
        "The page states the 500-character limit as what the cluster log does, not as a duty of "
        "the DLL, and gives no level. What is cut is lost to whoever reads the log, so rescheck "
        "reports it as recommended: it warns and never makes a run non-compliant."
    ),
    scenarios=ALL,
)
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


@check(
    "ClusWorker.fresh-structure",
    REQUIRED,
    entry_points=("Online", "Offline"),
    statement=(
        "ClusWorkerCreate is given a zero-initialised CLUS_WORKER, never one that already started "
        "a thread."
    ),
    doc="S:nf-resapi-clusworkercreate",
    contract=("WK-1",),
    policy=(
        "rescheck's ClusWorkerCreate refuses a CLUS_WORKER whose hThread is set "
        "(ERROR_INVALID_PARAMETER) and records it; Windows leaves the behaviour undefined. Only "
        "that kind of non-fresh structure can be seen."
    ),
    scenarios=ALL,
)
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
