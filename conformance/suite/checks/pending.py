"""Pending operations and SetResourceStatus (docs/contract.md §3.3, §4)."""

from __future__ import annotations

from conformance.resapi import (
    ERROR_IO_PENDING,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOfflinePending,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
    ClusterResourceStateUnknown,
    state_name,
)
from conformance.rules import REQUIRED
from conformance.runtime.trace import MONITOR, Trace, TraceEvent, short_repr
from conformance.suite.checks.entry_points import ALL
from conformance.suite.context import RunContext, ScenarioRun, Violation, counted
from conformance.suite.registry import check

#: The states a report may carry during each operation (RS-3, PO-5).
ALLOWED = {
    "Online": {
        ClusterResourceOnlinePending,
        ClusterResourceOnline,
        ClusterResourceFailed,
        ClusterResourceStateUnknown,
    },
    "Offline": {
        ClusterResourceOfflinePending,
        ClusterResourceOffline,
        ClusterResourceFailed,
        ClusterResourceStateUnknown,
    },
}
FINAL = {"Online": ClusterResourceOnline, "Offline": ClusterResourceOffline}


def status_reports(ctx: RunContext) -> tuple[list[ScenarioRun], list[tuple[Trace, TraceEvent]]]:
    """Every SetResourceStatus report that carried an open instance's handle."""
    runs = ctx.scenarios(*ALL)
    found = [
        (t, e)
        for run in runs
        for t, e in run.events(name="SetResourceStatus")
        if e.data.get("known_handle")
    ]
    return runs, found


def _op_calls(trace: Trace) -> dict[int, TraceEvent]:
    return {e.data["op"]: e for e in trace.calls() if e.name in FINAL and "op" in e.data}


@check(
    "SetResourceStatus.only-when-pending",
    REQUIRED,
    entry_points=("Online", "Offline"),
    statement=(
        "SetResourceStatus is called only after Online or Offline returned ERROR_IO_PENDING, from "
        "a worker thread, until the operation ends."
    ),
    doc="S:nc-resapi-pset_resource_status_routine",
    contract=("PO-4", "PO-3", "PO-2"),
    policy=(
        "A worker may report before the Online/Offline call that started it has returned (it runs "
        "concurrently); rescheck accepts such a report when it comes from another thread and the "
        "call then returns ERROR_IO_PENDING."
    ),
    scenarios=ALL,
    trace_only=True,
)
def only_when_pending(ctx: RunContext) -> str:
    runs, reports = status_reports(ctx)
    if not reports:
        raise ctx.nothing_to_judge("the DLL never called SetResourceStatus", runs)
    for trace, event in reports:
        phase = event.data.get("phase")
        if phase == "not-pending":
            raise Violation(
                "SetResourceStatus was called while no Online or Offline was pending",
                trace,
                [event],
            )
        if phase != "in-call":
            continue
        call = _op_calls(trace).get(event.data.get("op", -1))
        if call is None:
            continue
        if event.context == call.name and event.thread == call.thread:
            raise Violation(
                f"SetResourceStatus was called from inside {call.name} itself, before it returned; "
                "report from a worker thread after returning ERROR_IO_PENDING",
                trace,
                [call, event],
            )
        if call.end is not None and call.result != ERROR_IO_PENDING:
            raise Violation(
                f"a worker reported status during {call.name}, which then returned {short_repr(call.result)} "
                "instead of ERROR_IO_PENDING",
                trace,
                [call, event],
            )
    return f"{counted(len(reports), 'status report')}, all during pending operations"


@check(
    "SetResourceStatus.checkpoint",
    REQUIRED,
    entry_points=("Online", "Offline"),
    statement=(
        "Each status report of a pending operation carries a CheckPoint greater than the previous "
        "report's."
    ),
    doc="S:ns-resapi-resource_status",
    contract=("RS-4", "RS-5"),
    policy=(
        "RS-5 also says CheckPoint starts at 0 and rises by exactly 1, but the ClipBook sample "
        "starts at 1 and skips values; rescheck requires only that it strictly increases within "
        "one pending operation, which is what the monitor needs to see a new report."
    ),
    scenarios=ALL,
    trace_only=True,
)
def checkpoint(ctx: RunContext) -> str:
    runs, reports = status_reports(ctx)
    last: dict[tuple[int, int], tuple[int, TraceEvent]] = {}
    judged = 0
    for trace, event in reports:
        op = event.data.get("op")
        if op is None:
            continue
        judged += 1
        value = event.args.get("CheckPoint")
        if not isinstance(value, int) or isinstance(value, bool):
            raise Violation(f"CheckPoint is {short_repr(value)}, not a DWORD", trace, [event])
        key = (id(trace), op)
        if key in last and value <= last[key][0]:
            raise Violation(
                f"CheckPoint {value} does not exceed the previous report's {last[key][0]}; the "
                "monitor spots a new report by a changed CheckPoint",
                trace,
                [last[key][1], event],
            )
        last[key] = (value, event)
    if not judged:
        raise ctx.nothing_to_judge("no status report belonged to a pending operation", runs)
    return f"CheckPoint increased in each of {len(last)} pending operations"


@check(
    "SetResourceStatus.final-state",
    REQUIRED,
    entry_points=("Online", "Offline"),
    statement=(
        "After ERROR_IO_PENDING the DLL keeps reporting, never leaving PendingTimeout between "
        "reports, until it reports the state the operation asked for or ClusterResourceFailed, "
        "and it reports no state foreign to the operation."
    ),
    doc="S:nc-resapi-pset_resource_status_routine",
    contract=("PO-5", "PO-6", "RS-3"),
    scenarios=ALL,
    trace_only=True,
)
def final_state(ctx: RunContext) -> str:
    runs = ctx.scenarios(*ALL)
    judged = 0
    for run in runs:
        for trace in run.traces:
            events = list(trace)
            for call in _op_calls(trace).values():
                if call.result != ERROR_IO_PENDING:
                    continue
                judged += 1
                op = call.data["op"]
                mine = [
                    e for e in events if e.data.get("op") == op and e.name == "SetResourceStatus"
                ]
                for report in mine:
                    state = report.args.get("ResourceState")
                    if state not in ALLOWED[call.name]:
                        raise Violation(
                            f"a report during the pending {call.name} carried {state_name(state)}, "
                            f"which does not belong to {call.name}",
                            trace,
                            [call, report],
                        )
                ended = [
                    e
                    for e in events
                    if e.kind == MONITOR
                    and e.data.get("op") == op
                    and e.name in ("PendingTimeout expired", "gave up waiting")
                ]
                if ended and ended[0].name == "gave up waiting":
                    raise Violation(
                        f"the pending {call.name} never reached a final state: it went on "
                        f"reporting ({counted(len(mine), 'report')}) until the monitor gave up "
                        f"after {ended[0].data.get('seconds', 0):.0f} s",
                        trace,
                        [call, *mine[-1:], ended[0]],
                    )
                if ended:
                    quiet = (
                        "no status report"
                        if not mine
                        else f"the last report (CheckPoint {mine[-1].args.get('CheckPoint')})"
                    )
                    raise Violation(
                        f"the pending {call.name} stopped reporting: after {quiet} the monitor "
                        f"waited PendingTimeout ({run.policy.seconds(run.policy.PendingTimeout):.2f} s, scaled) "
                        "and called Terminate",
                        trace,
                        [call, *mine[-1:], ended[0]],
                    )
    if not judged:
        raise ctx.nothing_to_judge("neither Online nor Offline returned ERROR_IO_PENDING", runs)
    return f"{counted(judged, 'pending operation')} reported until their final state"


@check(
    "SetResourceStatus.stops-after-terminate",
    REQUIRED,
    entry_points=("Terminate", "Online", "Offline"),
    statement=(
        "Once Terminate has returned, or SetResourceStatus answered ResourceExitStateTerminate, "
        "the DLL's workers make no further status reports."
    ),
    doc="S:nc-resapi-pset_resource_status_routine",
    contract=("RS-2", "TE-2", "CX-4", "PO-2"),
    scenarios=ALL,
    trace_only=True,
)
def stops_after_terminate(ctx: RunContext) -> str:
    runs = ctx.scenarios(*ALL)
    terminated = 0
    for run in runs:
        for trace in run.traces:
            told: dict[str | None, TraceEvent] = {}
            ended: dict[str | None, TraceEvent] = {}
            for event in trace:
                if event.kind == "call" and event.name in FINAL:  # a new cycle: its own answers
                    told.pop(event.resource, None)
                    ended.pop(event.resource, None)
                if event.name == "Terminate" and event.kind == "call" and event.end is not None:
                    terminated += 1
                    ended[event.resource] = event
                if event.name != "SetResourceStatus" or not event.data.get("known_handle"):
                    continue
                if event.data.get("phase") == "after-terminate":
                    done = ended.get(event.resource)
                    if done is not None and event.start > done.end:  # type: ignore[operator]
                        raise Violation(
                            "a worker reported status after Terminate had returned",
                            trace,
                            [done, event],
                        )
                    if event.resource in told:
                        raise Violation(
                            "a worker reported again after SetResourceStatus answered "
                            "ResourceExitStateTerminate",
                            trace,
                            [told[event.resource], event],
                        )
                    told[event.resource] = event
                else:
                    told.pop(event.resource, None)
    if not terminated:
        raise ctx.nothing_to_judge("Terminate was never called", runs)
    return f"no status report after any of {terminated} Terminate calls"
