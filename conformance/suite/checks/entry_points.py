"""Per-entry-point rules: every entry point returns; BOOL routines return a BOOL;
Online/Offline return documented codes (CONTRACT.md §2–§5)."""

from __future__ import annotations

from conformance.monitor.trace import Trace, TraceEvent
from conformance.resapi import (
    DWORD_MAX,
    ERROR_RESOURCE_NOT_AVAILABLE,
    error_name,
)
from conformance.suite.context import RunContext, ScenarioRun, Violation
from conformance.suite.registry import check

#: The scenarios every per-entry-point rule looks at.
ALL = ("lifecycle", "terminate-pending")


def calls(ctx: RunContext, entry: str) -> tuple[list[ScenarioRun], list[tuple[Trace, TraceEvent]]]:
    runs = ctx.scenarios(*ALL)
    found = [pair for run in runs for pair in run.calls(entry) if not pair[1].data.get("null")]
    if not found:
        raise ctx.nothing_to_judge(f"{entry} was never called", runs)
    return runs, found


def returned(found: list[tuple[Trace, TraceEvent]]) -> list[tuple[Trace, TraceEvent]]:
    """Calls that came back with a value (raising and hanging are the `.returns` rules')."""
    return [(t, e) for t, e in found if e.end is not None and e.error is None]


def is_dword(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= DWORD_MAX


def _returns(entry: str):
    def returns(ctx: RunContext) -> str:
        _, found = calls(ctx, entry)
        for trace, event in found:
            if event.error:
                raise Violation(f"{entry} raised {event.error}", trace, [event])
            if event.end is None:
                stuck = event.data.get("deadlock_timeout_s")
                raise Violation(
                    f"{entry} did not return within DeadlockTimeout ({stuck} s, scaled); "
                    "the stacks of every thread are in the evidence",
                    trace,
                    [event],
                )
        return f"{len(found)} calls of {entry} returned"

    returns.__name__ = f"{entry}_returns"
    return returns


for _entry in ("Open", "Close", "Online", "Offline", "Terminate", "LooksAlive", "IsAlive"):
    check(f"{_entry}.returns")(_returns(_entry))


def _bool(entry: str):
    def is_bool(ctx: RunContext) -> str:
        _, found = calls(ctx, entry)
        for trace, event in returned(found):
            if not (isinstance(event.result, bool) or event.result in (0, 1)) or isinstance(
                event.result, float
            ):
                raise Violation(
                    f"{entry} returned {event.result!r} ({type(event.result).__name__}); a BOOL is TRUE (1) or FALSE (0)",
                    trace,
                    [event],
                )
        return f"{len(found)} calls of {entry} returned a BOOL"

    is_bool.__name__ = f"{entry}_bool"
    return is_bool


for _entry in ("LooksAlive", "IsAlive"):
    check(f"{_entry}.bool")(_bool(_entry))


@check("Online.return-code")
def online_return_code(ctx: RunContext) -> str:
    _, found = calls(ctx, "Online")
    quorum = all(
        ctx.scenario("lifecycle").monitors[0].host.has(e) for e in ("Arbitrate", "Release")
    )
    for trace, event in returned(found):
        if not is_dword(event.result):
            raise Violation(
                f"Online returned {event.result!r}, which is not a DWORD status", trace, [event]
            )
        if event.result == ERROR_RESOURCE_NOT_AVAILABLE and not quorum:
            raise Violation(
                f"Online returned {error_name(event.result)}, which only a quorum-capable type "
                "(with Arbitrate and Release) may return",
                trace,
                [event],
            )
    return "every Online call returned a DWORD status"


@check("Offline.return-code")
def offline_return_code(ctx: RunContext) -> str:
    _, found = calls(ctx, "Offline")
    for trace, event in returned(found):
        if not is_dword(event.result):
            raise Violation(
                f"Offline returned {event.result!r}, which is not a DWORD status", trace, [event]
            )
    return "every Offline call returned a DWORD status"
