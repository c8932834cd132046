"""Instances (docs/contract.md §2.3), what Close leaves behind (§2.2), and the real entity as the
companion's probe sees it (ON-9, IA-3, CL-3)."""

from __future__ import annotations

from conformance.monitor.usage import Usage
from conformance.resapi import BOOL_is_TRUE
from conformance.rules import NOT_FOR_SCRIPTS, OPTIONAL, REQUIRED, WORLD
from conformance.runtime.trace import CALL, MONITOR, Trace, TraceEvent, short_repr
from conformance.suite.checks.entry_points import ALL
from conformance.suite.checks.sharing import isolated_in, same, true
from conformance.suite.context import NotApplicable, RunContext, ScenarioRun, Violation
from conformance.suite.entity import ENTITY_WAIT_S, SETTLE_S
from conformance.suite.policies import PROBE_POLICY
from conformance.suite.registry import check
from conformance.suite.scenarios import LEAK_CYCLES

#: How a leak is told from lazy set-up.
LEAK_POLICY = (
    "Measured in the process hosting the DLL (threads, /proc/self/fd, live child processes) after "
    "each cycle, settling for up to 0.5 s; growth by at least half the number of audited "
    "cycles is a leak. The first cycle sets the level, so lazy one-time set-up is allowed. A "
    "pass needs more than half the cycles to have come online (what Online and Offline hold is "
    "otherwise barely exercised): below that the rule is not judged, and the count is shown."
)


def _open_call(trace: Trace, name: str) -> TraceEvent:
    return next(e for e in trace.calls("Open") if e.resource == name)


@check(
    "Instances.isolated",
    REQUIRED,
    entry_points=("Open", "IsAlive"),
    statement=(
        "Each instance has its own RESID and its own state: bringing one instance offline, "
        "terminating, restarting or closing it never changes what IsAlive reports for another."
    ),
    doc="W:resource-identifiers",
    contract=("ID-1", "ID-2"),
    script_class=NOT_FOR_SCRIPTS,
    scenarios=("instances",),
    trace_only=True,
)
def isolated(ctx: RunContext) -> str:
    run = ctx.scenario("instances")
    if "samples" not in run.notes and run.name == "fuzz":  # a fuzzed sequence: its trace
        return isolated_in(run)
    if "opened" not in run.notes:
        raise ctx.nothing_to_judge("two instances could not be opened", [run])
    trace = run.traces[0]
    first, second = (_open_call(trace, name) for name in run.notes["opened"])
    if same(first.result, second.result):
        raise Violation(
            f"Open returned the same RESID ({short_repr(first.result)}) for two instances",
            trace,
            [first, second],
        )
    samples: list[tuple[str, TraceEvent]] = run.notes.get("samples", [])
    healthy = {call.resource for _, call in samples[:2] if true(call)}
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


#: Cycles of the leak audit that must come online for it to pass: more than half.
MIN_ONLINE_CYCLES = (LEAK_CYCLES + 1) // 2 + 1


@check(
    "Close.releases",
    REQUIRED,
    entry_points=("Close",),
    statement=(
        "Close frees everything tied to the instance: over repeated Open, Online, Offline, Close "
        "cycles the DLL's threads, open file descriptors and child processes return to their "
        "level after the first cycle."
    ),
    doc="W:implementing-close",
    contract=("CL-4", "CL-3"),
    policy=LEAK_POLICY,
    scenarios=("leak-audit",),
)
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
    online = run.notes.get("came_online", [])
    reached = f"{sum(online)} of the {len(online)} cycles came online"
    if grown:
        lines = [
            f"after cycle {i + 1} ({'online' if up else 'not online'}): {u.to_json()}"
            for i, (u, up) in enumerate(zip(usage, online, strict=False))
        ]
        if "threads" in grown:
            lines += run.notes.get("leftover_stacks", [])
        raise Violation(
            f"{' and '.join(grown)} grew over {LEAK_CYCLES} Open/Online/Offline/Close cycles "
            f"({figures}; {reached}); Close must free everything tied to the instance",
            run.traces[0],
            run.traces[0].calls("Close")[-1:],
            lines,
        )
    if sum(online) < MIN_ONLINE_CYCLES:  # what Online and Offline hold was barely exercised
        raise NotApplicable(
            f"not judged: only {reached} (Online refused the others: see "
            f"Online.brings-online), and the audit needs {MIN_ONLINE_CYCLES}; {figures}"
        )
    return f"after {LEAK_CYCLES + 1} cycles, {reached}: {figures}"


def _entity_run(ctx: RunContext, what: str) -> tuple[ScenarioRun, Trace]:
    run = ctx.scenario("entity")
    if "no_probe" in run.notes:
        raise NotApplicable(f"{what}: {run.notes['no_probe']}")
    if not run.traces:
        raise ctx.nothing_to_judge(what, [run])
    return run, run.traces[0]


@check(
    "Open.entity-offline",
    REQUIRED,
    entry_points=("Open",),
    statement=(
        "Open prepares the entity behind the resource but leaves it offline: right after Open the "
        "companion's probe finds it not running."
    ),
    doc="W:implementing-open",
    contract=("OP-7",),
    policy=PROBE_POLICY,
    script_class=WORLD,
    scenarios=("entity",),
)
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


@check(
    "Online.starts-entity",
    REQUIRED,
    entry_points=("Online",),
    statement=(
        "When Online has brought the resource online, the real entity runs (the companion's probe "
        "finds it)."
    ),
    doc="W:implementing-online",
    contract=("ON-9",),
    policy=PROBE_POLICY,
    script_class=WORLD,
    scenarios=("entity",),
)
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


@check(
    "IsAlive.detects-failure",
    REQUIRED,
    entry_points=("IsAlive",),
    statement=(
        "Once the entity has definitely failed (the companion's breaker crashed it and its probe "
        "agrees), IsAlive returns FALSE, or the failure event has already told the monitor."
    ),
    doc="W:implementing-isalive",
    contract=("IA-3", "IA-4", "IA-1", "GS-16"),
    policy=PROBE_POLICY,
    script_class=WORLD,
    scenarios=("entity",),
)
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


@check(
    "Close.stops-entity",
    REQUIRED,
    entry_points=("Close",),
    statement=(
        "Close of an instance that is still online leaves its entity stopped: Close calls "
        "Terminate when the resource is not offline."
    ),
    doc="W:implementing-close",
    contract=("CL-3",),
    policy=PROBE_POLICY,
    script_class=WORLD,
    scenarios=("entity",),
)
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


@check(
    "Offline.stops-entity",
    REQUIRED,
    entry_points=("Offline",),
    statement=(
        "Once Offline has taken a resource offline, its entity is stopped and stays stopped: "
        "Offline shuts the resource down and leaves it ready to come online on another node."
    ),
    doc="S:nc-resapi-poffline_routine",
    contract=("OF-1", "OF-3"),
    policy=PROBE_POLICY
    + (
        " Judged on an instance whose entity the probe found running: after Offline reports "
        "ClusterResourceOffline (or returns ERROR_SUCCESS) the probe must find the entity stopped "
        "within 2 s, and still stopped 1.5 s later (a worker left behind that starts it again "
        "fails). Required: OF-1 has ERROR_SUCCESS mean offline."
    ),
    script_class=WORLD,
    scenarios=("entity",),
)
@check(
    "Terminate.stops-entity",
    REQUIRED,
    entry_points=("Terminate",),
    statement=(
        "Terminate makes the resource unavailable at once: its entity is stopped and stays "
        "stopped, whatever thread of the DLL was handling it."
    ),
    doc="S:nc-resapi-pterminate_routine",
    contract=("TE-1", "TE-2"),
    policy=PROBE_POLICY
    + (
        " Judged on an instance whose entity the probe found running: after Terminate returns the "
        "probe must find the entity stopped within 2 s, and still stopped 1.5 s later, so an "
        "Online worker that outlives Terminate and starts the entity again fails even when it "
        "makes no status report."
    ),
    script_class=WORLD,
    scenarios=("entity",),
)
def stops_entity(ctx: RunContext, entry: str) -> str:
    run, trace = _entity_run(ctx, "cannot see the entity")
    if f"after {entry}" not in run.notes:
        why = run.notes.get(f"not after {entry}", "the scenario did not get that far")
        raise ctx.nothing_to_judge(
            f"no {entry} of an instance whose entity the probe found running: {why}", [run]
        )
    _stayed_stopped(trace, entry, *run.notes[f"after {entry}"])
    return f"{entry} stopped the entity, and it stayed stopped for {SETTLE_S} s"


@check(
    "Terminate.cancels-pending-online",
    REQUIRED,
    entry_points=("Terminate",),
    statement=(
        "Terminate cancels any thread still handling Online for the resource: called while an "
        "Online is pending, it leaves the entity stopped, and no worker starts it afterwards."
    ),
    doc="S:nc-resapi-pterminate_routine",
    contract=("TE-2", "PO-6"),
    policy=PROBE_POLICY
    + (
        " Judged on a DLL whose Online returns ERROR_IO_PENDING: Terminate is called as soon as "
        "Online has returned, as the Resource Monitor does when PendingTimeout passes; then the "
        "probe must find the entity stopped within 2 s, and still stopped 1.5 s later."
    ),
    script_class=WORLD,
    scenarios=("entity",),
)
def cancels_pending_online(ctx: RunContext) -> str:
    run, trace = _entity_run(ctx, "cannot see the entity")
    if "during pending" not in run.notes:
        why = run.notes.get("not during pending", "the scenario did not get that far")
        raise ctx.nothing_to_judge(f"no Terminate of a pending Online: {why}", [run])
    _stayed_stopped(
        trace, "Terminate (called while Online was pending)", *run.notes["during pending"]
    )
    return (
        f"Terminate of a pending Online stopped the entity, and it stayed stopped for {SETTLE_S} s"
    )


def _stayed_stopped(trace: Trace, what: str, call: TraceEvent, stopped: bool, stayed: bool) -> None:
    """A violation unless the entity was stopped after ``call`` and stayed so."""
    if not stopped:
        raise Violation(
            f"{what} left the entity running: the probe still finds it "
            f"{ENTITY_WAIT_S:.0f} s after {call.name} returned",
            trace,
            [call],
        )
    if not stayed:
        raise Violation(
            f"the entity came back after {what}: the probe found it stopped, then running "
            f"again within {SETTLE_S} s with no Online asked (a thread of the DLL started "
            "it again)",
            trace,
            [call],
        )


@check(
    "Online.failure-event",
    OPTIONAL,
    entry_points=("Online",),
    statement=(
        "A type that claims asynchronous failure detection returns a nonsignaled EventHandle from "
        "Online and signals it when the entity fails, before a poll finds out."
    ),
    doc="W:implementing-online",
    contract=("ON-6", "ON-1", "AF-1"),
    policy=(
        "Optional in the docs (ON-6). Judged when the companion claims 'async-failure': then it "
        "must work (a claimed feature that misbehaves fails, as a warning at this level); an "
        "EventHandle from a type that does not claim it is reported the same way. That the event "
        "is signalled needs the companion's probe and breaker."
    ),
    scenarios=(*ALL, "entity"),
)
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
