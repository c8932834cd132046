"""Instances (CONTRACT.md §2.3) and what Close leaves behind (§2.2, CL-4)."""

from __future__ import annotations

from conformance.monitor.trace import Trace, TraceEvent
from conformance.resapi import BOOL_is_TRUE
from conformance.suite.context import RunContext, Violation
from conformance.suite.registry import check
from conformance.suite.scenarios import LEAK_CYCLES
from conformance.suite.usage import Usage


def _open_call(trace: Trace, name: str) -> TraceEvent:
    return next(e for e in trace.calls("Open") if e.resource == name)


def _same(a: object, b: object) -> bool:
    try:
        return a is b or bool(a == b)
    except Exception:  # a RESID with a hostile __eq__ is not ours to judge here
        return a is b


@check("Instances.isolated")
def isolated(ctx: RunContext) -> str:
    run = ctx.scenario("instances")
    if "opened" not in run.notes:
        raise ctx.nothing_to_judge("two instances could not be opened", [run])
    trace = run.traces[0]
    first, second = (_open_call(trace, name) for name in run.notes["opened"])
    if _same(first.result, second.result):
        raise Violation(
            f"Open returned the same RESID ({first.result!r}) for two instances",
            trace,
            [first, second],
        )
    samples: list[tuple[str, TraceEvent]] = run.notes.get("samples", [])
    healthy = {call.resource for _, call in samples[:2] if _true(call)}
    judged = [(after, call) for after, call in samples[2:] if call.resource in healthy]
    for after, call in judged:
        if call.end is not None and call.error is None and not BOOL_is_TRUE(call.result):
            raise Violation(
                f"after {after}, IsAlive of {call.resource} returned {call.result!r}: operating "
                "on one instance changed what another reports",
                trace,
                [call],
            )
    if not judged:
        raise ctx.nothing_to_judge(
            "no instance answered IsAlive TRUE once online and stayed online while another "
            "changed (IsAlive.healthy judges the first part)",
            [run],
        )
    return f"distinct RESIDs; {len(judged)} IsAlive samples unaffected by the other instance"


def _true(call: TraceEvent) -> bool:
    return call.end is not None and call.error is None and BOOL_is_TRUE(call.result)


@check("Close.releases")
def releases(ctx: RunContext) -> str:
    run = ctx.scenario("leak-audit")
    usage: list[Usage] = run.notes.get("usage", [])
    if len(usage) < 2:
        raise ctx.nothing_to_judge("the Open/Online/Offline/Close cycles did not run", [run])
    level, last = usage[0], usage[-1]
    figures = ", ".join(
        f"{kind} {getattr(level, kind)} -> {getattr(last, kind)}"
        for kind in ("threads", "fds", "children")
    )
    grown = [
        kind
        for kind in ("threads", "fds", "children")
        if getattr(last, kind) - getattr(level, kind) >= max(1, LEAK_CYCLES // 2)
    ]
    if grown:
        lines = [f"after cycle {i + 1}: {u.to_json()}" for i, u in enumerate(usage)]
        if "threads" in grown:
            lines += run.notes.get("leftover_stacks", [])
        raise Violation(
            f"{' and '.join(grown)} grew over {LEAK_CYCLES} Open/Online/Offline/Close cycles "
            f"({figures}); Close must free everything tied to the instance",
            run.traces[0],
            run.traces[0].calls("Close")[-1:],
            lines,
        )
    return f"after {LEAK_CYCLES + 1} cycles: {figures}"
