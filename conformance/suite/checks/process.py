"""The Resource Monitor process the DLL is loaded in (docs/contract.md §9): the entry points that
RM-7 names do not write to the cluster database, and the process survives the DLL (RM-1): no
exception may escape a thread of the DLL either (in C, that ends the process)."""

from __future__ import annotations

from conformance.rules import REQUIRED
from conformance.runtime.trace import CALL, CALLBACK, TraceEvent
from conformance.suite.checks.entry_points import ALL
from conformance.suite.context import NotApplicable, RunContext, Violation, counted
from conformance.suite.registry import check

#: Entry points that must not write to the cluster database (RM-7, "some entry points okay").
NO_WRITE_ENTRIES = ("Open", "Close", "Online", "Offline", "Terminate")
#: Every scenario whose host process the DLL might end.
HOSTING = (*ALL, "entity", "terminate-concurrent")


@check(
    "ClusterDatabase.no-writes-in-entry-points",
    REQUIRED,
    entry_points=NO_WRITE_ENTRIES,
    statement=(
        "Open, Close, Online, Offline and Terminate do not write to the cluster database "
        "(ClusterReg* writes); a worker thread may."
    ),
    doc="W:function-calls-to-avoid-in-resource-dlls",
    contract=("RM-7",),
    scenarios=ALL,
    trace_only=True,
)
def no_database_writes(ctx: RunContext) -> str:
    runs = ctx.scenarios(*ALL)
    called = sum(len(run.calls(entry)) for run in runs for entry in NO_WRITE_ENTRIES)
    if not called:
        raise ctx.nothing_to_judge(f"none of {', '.join(NO_WRITE_ENTRIES)} was called", runs)
    for run in runs:
        for trace, event in run.events(CALLBACK):
            if event.data.get("write") and event.context in NO_WRITE_ENTRIES:
                raise Violation(
                    f"{event.name} on {event.args.get('key')!r} was called from {event.context}; "
                    "cluster-database writes belong on a worker thread or in other entry points",
                    trace,
                    [event],
                )
    return (
        f"no cluster-database write from {', '.join(NO_WRITE_ENTRIES)} ({counted(called, 'call')})"
    )


@check(
    "Process.survives",
    REQUIRED,
    entry_points=("Online", "Offline", "Terminate", "LooksAlive", "IsAlive", "Open", "Close"),
    statement=(
        "The DLL never ends the Resource Monitor process it is loaded in: no exit, abort or fatal "
        "signal, from an entry point or from a thread of its own, and no exception escapes a "
        "thread of its own (in a DLL written in C, that ends the process)."
    ),
    doc="W:resource-monitor",
    contract=("RM-1", "RM-2"),
    policy=(
        "The Resource Monitor runs DLLs in a process of its own so that a failing DLL cannot take "
        "the Cluster service down (RM-1); a DLL that ends that process takes every resource it "
        "hosts with it. As for entry points that raise, no page gives a level, and rescheck "
        "treats it as required. Judged only with isolated hosting (the default): in-process, the "
        "crash would end rescheck too."
    ),
    scenarios=HOSTING,
    trace_only=True,
)
def process_survives(ctx: RunContext) -> str:
    if ctx.target.hosting != "isolated":
        raise NotApplicable(
            "in-process hosting: a DLL that ends the process would end rescheck too; run with "
            "isolated hosting (the default) to judge it"
        )
    runs = ctx.scenarios(*HOSTING)
    for run in runs:
        for trace in run.traces:
            for event in trace:
                if "escaped" in event.data:
                    raise Violation(
                        f"an exception escaped the DLL's thread {event.data['thread']!r} "
                        f"({event.data['escaped']}){event.raised_at}; in a DLL written in C an unhandled "
                        "exception ends the Resource Monitor process",
                        trace,
                        [event],
                    )
                how = event.data.get("crashed")
                if how is None:
                    continue
                where = (
                    f"while {event.name} ran"
                    if event.kind == CALL
                    else "between calls (a thread of the DLL ended it)"
                )
                raise Violation(
                    f"the host process ended ({how}) {where}",
                    trace,
                    [event],
                    [*_output_lines(event)],
                )
    return f"the host process survived {counted(len(runs), 'scenario')}"


def _output_lines(event: TraceEvent) -> list[str]:
    text = str(event.data.get("output") or event.data.get("traceback") or "")
    return ["What the host process wrote last:", *text.splitlines()[-30:]] if text else []
