"""What Terminate must leave behind (CONTRACT.md §3.4, RS-2): no worker of the cancelled
operation, and an instance that Online brings back."""

from __future__ import annotations

from conformance.monitor.trace import CALL, MONITOR, Trace, TraceEvent
from conformance.resapi import ERROR_IO_PENDING, ERROR_SUCCESS, error_name
from conformance.suite.checks.entry_points import ALL, is_dword
from conformance.suite.context import RunContext, Violation, counted
from conformance.suite.registry import check


def onlines_after_terminate(trace: Trace, came_online: bool = False) -> list[TraceEvent]:
    """The first Online of each resource after each of its Terminate calls; with
    ``came_online``, only for resources that had been online before that Terminate."""
    found: list[TraceEvent] = []
    waiting: set[str | None] = set()
    online_before: set[str | None] = set()
    for event in trace:
        if event.kind == MONITOR and _reached_online(event):
            online_before.add(event.resource)
        if event.kind != CALL:
            continue
        if event.name == "Terminate" and (not came_online or event.resource in online_before):
            waiting.add(event.resource)
        elif event.name == "Online" and event.resource in waiting:
            waiting.discard(event.resource)
            found.append(event)
    return found


def _reached_online(event: TraceEvent) -> bool:
    return event.name == "state" and event.data.get("state") == "ClusterResourceOnline"


@check("Terminate.stops-workers")
def stops_workers(ctx: RunContext) -> str:
    run = ctx.scenario("terminate-pending")
    pended = run.notes.get("pended")
    if not pended:
        raise ctx.nothing_to_judge(
            "no pending operation to terminate: "
            + run.notes.get("no_pending", "the scenario did not get that far"),
            [run],
        )
    for left in run.notes["lingering"]:
        terminate: TraceEvent = left["terminate"]
        raise Violation(
            f"threads started for the pending {left['entry']} were still running 1 s after "
            "Terminate returned; Terminate must end every worker of the resource (RS-2)",
            run.traces[0],
            [terminate],
            left["stacks"],
        )
    return f"no thread of the cancelled operation outlived Terminate ({', '.join(pended)})"


@check("Terminate.instance-usable")
def instance_usable(ctx: RunContext) -> str:
    runs = ctx.scenarios(*ALL)
    judged = 0
    for run in runs:
        for trace in run.traces:
            events = list(trace)
            for online in onlines_after_terminate(trace, came_online=True):
                if online.end is None or online.error or not is_dword(online.result):
                    continue  # Online.returns and Online.return-code judge those
                judged += 1
                if online.result not in (ERROR_SUCCESS, ERROR_IO_PENDING):
                    raise Violation(
                        f"after Terminate, Online returned {error_name(online.result)}",
                        trace,
                        [online],
                    )
                op = online.data.get("op")
                reached = any(
                    e.kind == MONITOR and _reached_online(e) and e.data.get("op") == op
                    for e in events
                )
                if not reached:
                    raise Violation(
                        "after Terminate, Online did not bring the instance online again",
                        trace,
                        [online],
                    )
    if not judged:
        raise ctx.nothing_to_judge(
            "no Online followed a Terminate of an instance that had been online", runs
        )
    return f"{counted(judged, 'Online call')} after Terminate brought the instance online again"
