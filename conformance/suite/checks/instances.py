"""Instances (docs/contract.md §2.3), what Close leaves behind (§2.2), and the real entity as the
companion's probe sees it (ON-9, IA-3, CL-3)."""

from __future__ import annotations

from conformance.monitor.usage import Usage
from conformance.resapi import BOOL_is_TRUE
from conformance.runtime.trace import CALL, MONITOR, Trace, TraceEvent, short_repr
from conformance.suite.checks.entry_points import ALL
from conformance.suite.context import NotApplicable, RunContext, ScenarioRun, Violation
from conformance.suite.entity import ENTITY_WAIT_S, SETTLE_S, STOPPING
from conformance.suite.registry import check
from conformance.suite.scenarios import LEAK_CYCLES


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
            f"Open returned the same RESID ({short_repr(first.result)}) for two instances",
            trace,
            [first, second],
        )
    samples: list[tuple[str, TraceEvent]] = run.notes.get("samples", [])
    healthy = {call.resource for _, call in samples[:2] if _true(call)}
    judged = [
        (after, call)
        for after, call in samples[2:]
        if call.resource in healthy and call.end is not None and call.error is None
    ]  # a sample that raised or hung is IsAlive.returns's
    for after, call in judged:
        if not BOOL_is_TRUE(call.result):
            raise Violation(
                f"after {after}, IsAlive of {call.resource} returned {short_repr(call.result)}: operating "
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
    # what the host counts as open: file descriptors of a Python host, a DLL's Windows handles
    shown = {"fds": "handles"} if ctx.target.kind == "native-dll" else {}
    figures = ", ".join(
        f"{shown.get(kind, kind)} {getattr(level, kind)} -> {getattr(last, kind)}"
        for kind in ("threads", "fds", "children")
    )
    grown = [
        shown.get(kind, kind)
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


def _entity_run(ctx: RunContext, what: str) -> tuple[ScenarioRun, Trace]:
    run = ctx.scenario("entity")
    if "no_probe" in run.notes:
        raise NotApplicable(f"{what}: {run.notes['no_probe']}")
    if not run.traces:
        raise ctx.nothing_to_judge(what, [run])
    return run, run.traces[0]


@check("Open.entity-offline")
def open_entity_offline(ctx: RunContext) -> str:
    run, trace = _entity_run(ctx, "cannot see the entity")
    if "opened" not in run.notes:
        raise ctx.nothing_to_judge("no instance was opened", [run])
    opened, up = run.notes["opened"]
    if up:
        raise Violation(
            "right after Open (before any Online) the companion's probe finds the entity "
            "running; Open must leave it offline",
            trace,
            [opened],
        )
    return "after Open the entity was not running"


@check("Online.starts-entity")
def starts_entity(ctx: RunContext) -> str:
    run, trace = _entity_run(ctx, "cannot see the entity")
    if "started" not in run.notes:
        raise ctx.nothing_to_judge("the instance did not come online", [run])
    online, up = run.notes["started"]
    if not up:
        raise Violation(
            "Online brought the resource online, but the companion's probe finds no entity running",
            trace,
            [online],
        )
    return "after Online the companion's probe found the entity running"


@check("IsAlive.detects-failure")
def detects_failure(ctx: RunContext) -> str:
    run, trace = _entity_run(ctx, "cannot break the entity")
    if run.target.companion.breaker is None:
        raise NotApplicable("the companion gives no breaker to crash the entity with")
    broken: TraceEvent | None = run.notes.get("broken")
    if broken is None:
        raise ctx.nothing_to_judge("the entity was never seen running, so it was not broken", [run])
    if not run.notes.get("down"):
        raise NotApplicable(
            "the companion's breaker did not bring the entity down (its probe still answers)"
        )
    after = [e for e in trace if e.seq > broken.seq and e.resource == broken.resource]
    calls = [e for e in after if e.kind == CALL and e.name == "IsAlive"]
    failed = [
        e for e in after if e.kind == MONITOR and e.data.get("state") == "ClusterResourceFailed"
    ]
    if calls and calls[0].end is not None and calls[0].error is None:
        if BOOL_is_TRUE(calls[0].result):
            raise Violation(
                "the entity has crashed (the companion's probe says so), yet IsAlive returned "
                f"{short_repr(calls[0].result)}",
                trace,
                [broken, calls[0]],
            )
        return "IsAlive returned FALSE once the entity had crashed"
    if failed and not calls:
        raise NotApplicable(
            "the failure event told the monitor first, and with --async-failure Terminate "
            "the monitor asks no IsAlive, so IsAlive was not judged"
        )
    raise ctx.nothing_to_judge("no IsAlive answer after the entity crashed", [run])


@check("Close.stops-entity")
def close_stops_entity(ctx: RunContext) -> str:
    run, trace = _entity_run(ctx, "cannot see the entity")
    if "closed_online" not in run.notes:
        raise ctx.nothing_to_judge("no instance was online with its entity running", [run])
    close, stopped = run.notes["closed_online"]
    if not stopped:
        raise Violation(
            "Close of an online instance left its entity running (probe still answers after "
            "2 s); Close must call Terminate when the resource is not offline",
            trace,
            [close],
        )
    return "Close of an online instance stopped its entity"


def _stops_entity(entry: str):
    def stops_entity(ctx: RunContext) -> str:
        run, trace = _entity_run(ctx, "cannot see the entity")
        if f"after {entry}" not in run.notes:
            why = run.notes.get(f"not after {entry}", "the scenario did not get that far")
            raise ctx.nothing_to_judge(
                f"no {entry} of an instance whose entity the probe found running: {why}", [run]
            )
        call, stopped, stayed = run.notes[f"after {entry}"]
        if not stopped:
            raise Violation(
                f"{entry} left the entity running: the probe still finds it "
                f"{ENTITY_WAIT_S:.0f} s after {entry} returned",
                trace,
                [call],
            )
        if not stayed:
            raise Violation(
                f"the entity came back after {entry}: the probe found it stopped, then running "
                f"again within {SETTLE_S} s with no Online asked (a thread of the DLL started "
                "it again)",
                trace,
                [call],
            )
        return f"{entry} stopped the entity, and it stayed stopped for {SETTLE_S} s"

    stops_entity.__name__ = f"{entry.lower()}_stops_entity"
    return stops_entity


for _entry in STOPPING:
    check(f"{_entry}.stops-entity")(_stops_entity(_entry))


@check("Online.failure-event")
def failure_event(ctx: RunContext) -> str:
    claimed = "async-failure" in ctx.target.companion.features
    runs = ctx.scenarios(*ALL)
    handed = [(t, e) for run in runs for t, e in run.calls("Online") if "EventHandle" in e.data]
    if not claimed:
        if handed:
            trace, online = handed[0]
            raise Violation(
                "Online returned an EventHandle, but the companion does not claim "
                "'async-failure'; declare it, so that rescheck checks the event is signalled",
                trace,
                [online],
            )
        raise NotApplicable("the type does not claim asynchronous failure detection (ON-6)")
    if not handed:
        onlines = [(t, e) for run in runs for t, e in run.calls("Online") if e.end is not None]
        if not onlines:
            raise ctx.nothing_to_judge("no Online call returned", runs)
        trace, online = onlines[0]
        raise Violation(
            "the companion claims 'async-failure', but Online never returned an EventHandle",
            trace,
            [online],
        )
    run = ctx.scenario("entity")
    broken: TraceEvent | None = run.notes.get("broken")
    if broken is None or not run.notes.get("down"):
        return (
            f"Online returned an EventHandle {len(handed)} times (that it is signalled was not "
            "provoked: the companion gives no probe and breaker)"
        )
    trace = run.traces[0]
    after = [e for e in trace if e.seq > broken.seq and e.resource == broken.resource]
    first = next(
        (
            e
            for e in after
            if (e.kind == MONITOR and e.name == "failure event signalled")
            or (e.kind == CALL and e.name == "IsAlive" and not e.data.get("poll"))
        ),
        None,
    )
    if first is None or first.kind != MONITOR:
        raise Violation(
            "the entity failed (the companion's breaker crashed it) but the failure event was "
            f"not signalled within {ENTITY_WAIT_S:.0f} s",
            trace,
            [broken, *([first] if first else [])],
        )
    return "Online returned an EventHandle, and it was signalled when the entity failed"
