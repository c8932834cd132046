"""What the Online and Offline calls of a trace led to: the helpers of the rules that judge
every Online and Offline of a run (Online.brings-online, Offline.brings-offline) and the
Onlines after a Terminate (Terminate.instance-usable), so that each failure is blamed on the
entry point whose call broke the rule."""

from __future__ import annotations

from conformance.resapi import (
    ERROR_IO_PENDING,
    ERROR_RESOURCE_NOT_AVAILABLE,
    ERROR_SUCCESS,
    ClusterResourceFailed,
    error_name,
)
from conformance.runtime.trace import CALL, MONITOR, Trace, TraceEvent
from conformance.suite.checks.entry_points import is_dword
from conformance.suite.context import Violation


def onlines_after_terminate(trace: Trace, came_online: bool = False) -> list[TraceEvent]:
    """The first Online of each resource after each of its Terminate calls; with
    ``came_online``, only for resources that had been online before that Terminate."""
    found: list[TraceEvent] = []
    waiting: set[str | None] = set()
    online_before: set[str | None] = set()
    for event in trace:
        if event.kind == MONITOR and reached_online(event):
            online_before.add(event.resource)
        if event.kind != CALL:
            continue
        if event.name == "Terminate" and (not came_online or event.resource in online_before):
            waiting.add(event.resource)
        elif event.name == "Online" and event.resource in waiting:
            waiting.discard(event.resource)
            found.append(event)
    return found


def reached_online(event: TraceEvent) -> bool:
    return event.name == "state" and event.data.get("state") == "ClusterResourceOnline"


def refused(trace: Trace, entry: str, target: str) -> TraceEvent | None:
    """The first ``entry`` call in ``trace`` that did not bring the resource ``target`` (a
    call after a Terminate, or one a Terminate cut short, aside), or None."""
    try:
        brought(trace, entry, target)
    except Violation as found:
        return found.events[0]
    return None


def brought(trace: Trace, entry: str, target: str) -> int:
    """How many ``entry`` calls in ``trace`` brought the resource ``target``; a Violation for
    the first that did not."""
    events = list(trace)
    after_terminate = {e.seq for e in onlines_after_terminate(trace)} if entry == "Online" else ()
    judged = 0
    for event in trace.calls(entry):
        if event.seq in after_terminate:
            continue  # Terminate.instance-usable judges Online after Terminate
        if event.end is None or event.error or not is_dword(event.result):
            continue  # raising, hanging and odd values are other rules' business
        if entry == "Online" and event.result == ERROR_RESOURCE_NOT_AVAILABLE:
            continue  # not a failure to come online but "another node owns it" (AR-7)
        op = event.data.get("op")
        if _cut_short(events, event, op):
            continue  # a Terminate ended it: nothing was left for it to reach
        judged += 1
        if event.result not in (ERROR_SUCCESS, ERROR_IO_PENDING):
            raise Violation(
                f"{entry} returned {error_name(event.result)} instead of bringing the resource "
                f"{target}",
                trace,
                [event],
            )
        failed = [
            e
            for e in trace.callbacks("SetResourceStatus")
            if e.data.get("op") == op and e.args.get("ResourceState") == ClusterResourceFailed
        ]
        if failed:
            raise Violation(
                f"the pending {entry} ended with ClusterResourceFailed instead of {target}",
                trace,
                [event, failed[0]],
            )
    return judged


def _cut_short(events: list[TraceEvent], call: TraceEvent, op: object) -> bool:
    """A Terminate of the same resource came while ``call``'s operation was under way."""
    if call.result != ERROR_IO_PENDING or op is None:
        return False
    ended = next(
        (
            e.seq
            for e in events
            if e.kind == MONITOR and e.name == "state" and e.data.get("op") == op
            and e.data.get("state") in ("ClusterResourceOnline", "ClusterResourceOffline")
        ),
        None,
    )  # fmt: skip
    return any(
        e.kind == CALL and e.name == "Terminate" and e.resource == call.resource
        and call.seq < e.seq and (ended is None or e.seq < ended)
        for e in events
    )  # fmt: skip
