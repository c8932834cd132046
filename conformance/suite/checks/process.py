"""The process the DLL is loaded in (docs/contract.md §9, RM-1): it must survive the DLL, and no
exception may escape a thread of the DLL (in C, that ends the process)."""

from __future__ import annotations

from conformance.runtime.trace import CALL, TraceEvent
from conformance.suite.checks.entry_points import ALL
from conformance.suite.context import NotApplicable, RunContext, Violation, counted
from conformance.suite.registry import check


@check("Process.survives")
def process_survives(ctx: RunContext) -> str:
    if ctx.target.hosting != "isolated":
        raise NotApplicable(
            "in-process hosting: a DLL that ends the process would end rescheck too; run with "
            "isolated hosting (the default) to judge it"
        )
    runs = ctx.scenarios(*ALL, "entity", "terminate-concurrent")
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
