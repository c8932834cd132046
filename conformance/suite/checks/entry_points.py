"""Per-entry-point rules: every entry point returns; BOOL routines return a BOOL;
Online/Offline return documented codes (docs/contract.md §2–§5)."""

from __future__ import annotations

from conformance.resapi import (
    DWORD_MAX,
    ERROR_RESOURCE_NOT_AVAILABLE,
    OPTIONAL_ENTRY_POINTS,
    V1_ENTRY_POINTS,
    control_code_name,
    error_name,
)
from conformance.runtime.trace import Trace, TraceEvent, short_repr
from conformance.suite.context import RunContext, ScenarioRun, Violation, counted
from conformance.suite.registry import check

#: The scenarios every per-entry-point rule looks at.
ALL = (
    "lifecycle",
    "terminate-pending",
    "instances",
    "leak-audit",
    "control",
    "stored-properties",
)


def calls(ctx: RunContext, entry: str) -> tuple[list[ScenarioRun], list[tuple[Trace, TraceEvent]]]:
    runs = ctx.scenarios(*ALL)
    found = [pair for run in runs for pair in run.calls(entry)]
    if not found:
        raise ctx.nothing_to_judge(f"{entry} was never called", runs)
    return runs, found


def returned(
    ctx: RunContext, runs: list[ScenarioRun], found: list[tuple[Trace, TraceEvent]], entry: str
) -> list[tuple[Trace, TraceEvent]]:
    """Calls that came back with a value (raising and hanging are the `.returns` rules');
    none is nothing to judge, never a pass."""
    back = [(t, e) for t, e in found if e.end is not None and e.error is None]
    if not back:
        raise ctx.nothing_to_judge(f"no call of {entry} returned", runs)
    return back


def is_quorum_capable(ctx: RunContext) -> bool:
    """Arbitrate and Release are both in the table (AR-1)."""
    monitors = ctx.scenario("lifecycle").monitors
    return bool(monitors) and all(monitors[0].host.has(e) for e in ("Arbitrate", "Release"))


def is_dword(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= DWORD_MAX


def _given(event: TraceEvent) -> str:
    """What a control call was asked, for messages: the code and the InBuffer's size."""
    if "ControlCode" not in event.args:
        return ""
    size = event.args.get("InBufferSize")
    buffer = "a NULL InBuffer" if size is None else f"a {size}-byte InBuffer"
    return f" (asked {control_code_name(event.args['ControlCode'])} with {buffer})"


def _returns(entry: str):
    def returns(ctx: RunContext) -> str:
        _, found = calls(ctx, entry)
        for trace, event in found:
            if event.cut_short:
                continue  # the host process ended (Process.survives), or rescheck stopped
            if event.error:
                others = sum(1 for _, e in found if e.error) - 1
                also = f"; {counted(others, 'other call')} raised too" if others else ""
                raise Violation(
                    f"{entry}{_given(event)} raised {event.error}{event.raised_at}{also}",
                    trace,
                    [event],
                )
            if event.end is None:
                stuck = event.data.get("deadlock_timeout_s")
                if stuck is None:
                    continue  # still running (judged mid-run, as rescheck fuzz does)
                raise Violation(
                    f"{entry} did not return within DeadlockTimeout ({stuck} s, scaled); "
                    "the stacks of every thread are in the evidence",
                    trace,
                    [event],
                    [
                        "Stacks when the monitor gave up:",
                        *event.data.get("stacks", "(none)").splitlines(),
                    ],
                )
        return f"{counted(len(found), 'call')} of {entry} returned"

    returns.__name__ = f"{entry}_returns"
    return returns


#: Entry points judged here; Arbitrate and Release are the quorum runs' (issue 8).
JUDGED = tuple(e for e in V1_ENTRY_POINTS if e not in OPTIONAL_ENTRY_POINTS)

for _entry in ("Startup", *JUDGED):
    check(f"{_entry}.returns")(_returns(_entry))


def is_bool(value: object) -> bool:
    return isinstance(value, bool) or (isinstance(value, int) and value in (0, 1))


def _bool(entry: str):
    def returns_bool(ctx: RunContext) -> str:
        back = returned(ctx, *calls(ctx, entry), entry)
        for trace, event in back:
            if not is_bool(event.result):
                raise Violation(
                    f"{entry} returned {short_repr(event.result)} ({getattr(event.result, 'type_name', type(event.result).__name__)}); "
                    "a BOOL is TRUE (1) or FALSE (0)",
                    trace,
                    [event],
                )
        return f"{counted(len(back), 'call')} of {entry} returned a BOOL"

    returns_bool.__name__ = f"{entry}_bool"
    return returns_bool


for _entry in ("LooksAlive", "IsAlive"):
    check(f"{_entry}.bool")(_bool(_entry))


@check("Online.return-code")
def online_return_code(ctx: RunContext) -> str:
    back = returned(ctx, *calls(ctx, "Online"), "Online")
    quorum = is_quorum_capable(ctx)
    for trace, event in back:
        if not is_dword(event.result):
            raise Violation(
                f"Online returned {short_repr(event.result)}, which is not a DWORD status",
                trace,
                [event],
            )
        if event.result == ERROR_RESOURCE_NOT_AVAILABLE and not quorum:
            raise Violation(
                f"Online returned {error_name(event.result)}, which only a quorum-capable type "
                "(with Arbitrate and Release) may return",
                trace,
                [event],
            )
    return f"{counted(len(back), 'Online call')} returned a DWORD status"


@check("Offline.return-code")
def offline_return_code(ctx: RunContext) -> str:
    back = returned(ctx, *calls(ctx, "Offline"), "Offline")
    for trace, event in back:
        if not is_dword(event.result):
            raise Violation(
                f"Offline returned {short_repr(event.result)}, which is not a DWORD status",
                trace,
                [event],
            )
    return f"{counted(len(back), 'Offline call')} returned a DWORD status"
