"""Quorum arbitration (docs/contract.md §7): a table with both Arbitrate and Release or neither,
and, for a quorum-capable type, the history of the quorum scenario: who believed it owned the
quorum when, across nodes and faults (`conformance.suite.quorum`)."""

from __future__ import annotations

from conformance.monitor.monitor import dword
from conformance.resapi import ERROR_RESOURCE_NOT_AVAILABLE, ERROR_SUCCESS, error_name
from conformance.rules import NOT_FOR_SCRIPTS, REQUIRED
from conformance.suite.context import (
    CannotJudge,
    NotApplicable,
    RunContext,
    ScenarioRun,
    Violation,
    counted,
)
from conformance.suite.quorum import LOST_PROMPT_S, History, Op, Ownership, analyse
from conformance.suite.registry import QUORUM, check

#: The scenario the rules judged on arbitration read.
QUORUM_SCENARIO = ("quorum",)


@check(
    "Arbitrate.with-release",
    REQUIRED,
    entry_points=("Arbitrate", "Release"),
    statement=(
        "Arbitrate and Release come together: a quorum-capable type exports both, any other type "
        "neither."
    ),
    doc="S:ns-resapi-clres_function_table",
    contract=("AR-1", "AR-8", "FT-3"),
    policy=(
        "The docs make Arbitrate and Release required for quorum-capable types (AR-1) and let the "
        "Resource Monitor call a type quorum-capable only when it exports both (AR-8). A table "
        "with one of them is a quorum-capable type missing a required entry point, judged "
        "required."
    ),
    script_class=NOT_FOR_SCRIPTS,
    scenarios=("lifecycle",),
)
def with_release(ctx: RunContext) -> str:
    run = ctx.scenario("lifecycle")
    if not run.monitors:
        raise CannotJudge("the lifecycle scenario loaded no table")
    if not any(e.result == 0 and e.data.get("shaped") for _, e in run.calls("Startup")):
        raise ctx.nothing_to_judge("Startup returned no function table", [run])
    host = run.monitors[0].host
    present = [e for e in ("Arbitrate", "Release") if host.has(e)]
    if len(present) == 1:
        missing = "Release" if present == ["Arbitrate"] else "Arbitrate"
        raise Violation(
            f"the function table has {present[0]} but {missing} is NULL: a quorum-capable type "
            "exports both (only then does the Resource Monitor treat it as quorum-capable), "
            "any other type neither"
        )
    return "Arbitrate and Release are both there" if present else "neither: not quorum-capable"


def _history(ctx: RunContext) -> tuple[ScenarioRun, History, list[Ownership]]:
    run = ctx.scenario("quorum")
    history = run.notes.get("history")
    if history is None:
        if run.stop is not None and "not quorum-capable" in run.stop.reason:
            raise NotApplicable(run.stop.reason)
        reason = run.stop.reason if run.stop is not None else run.failure or "it did not run"
        raise CannotJudge(f"the quorum scenario recorded no history: {reason}")
    return run, history, analyse(history, run.notes["until"])


def _ops(history: History, start: float, end: float) -> list[Op]:
    """The history around [start, end], every node (half a second either side)."""
    return [
        op for op in history.ops if op.start <= end + 0.5 and (op.end or op.start) >= start - 0.5
    ]


def _violation(message: str, history: History, start: float, end: float) -> Violation:
    """A violation whose evidence is the history slice, as text and as a timeline to draw."""
    ops = _ops(history, start, end)
    drawn = [
        {
            "node": op.node,
            "op": op.op,
            "start_ms": round((op.start - history.origin) * 1000, 1),
            "end_ms": None if op.end is None else round((op.end - history.origin) * 1000, 1),
            "result": None if op.result is None else error_name(op.result),
        }
        for op in sorted(ops, key=lambda o: o.start)
    ]
    lines = ["History (ms since the scenario began):", *history.timeline(ops)]
    return Violation(message, lines=lines, timeline=drawn)


def _ms(history: History, at: float) -> str:
    return f"{(at - history.origin) * 1000:.1f} ms"


@check(
    "Arbitrate.exclusive",
    REQUIRED,
    entry_points=("Arbitrate",),
    statement=(
        "After a successful Arbitrate the node defends the quorum resource: no other node's "
        "Arbitrate succeeds while it owns it."
    ),
    doc="S:nc-resapi-parbitrate_routine",
    contract=("AR-5", "AR-2", "AR-9"),
    policy=(
        "Judged on the quorum scenario's history (nodes arbitrating at once, while the owner "
        "defends, after Release, after the owner was killed or stopped): a node owns from its "
        "successful Arbitrate's return until its Release is asked, it calls LostQuorumResource or "
        "it is killed; an owner that was stopped is excused from then on "
        "(LostQuorumResource.prompt judges it)."
    ),
    script_class=NOT_FOR_SCRIPTS,
    scenarios=QUORUM_SCENARIO,
    applies_to=QUORUM,
)
def exclusive(ctx: RunContext) -> str:
    _, history, owned = _history(ctx)
    if not owned:
        raise NotApplicable("no node ever won the quorum (see Arbitrate.takeover)")
    for a in owned:
        for b in owned:
            if a.node >= b.node:
                continue
            start, end = max(a.start, b.start), min(a.definite_end, b.definite_end)
            if start < end:
                raise _violation(
                    f"nodes {a.node} and {b.node} both owned the quorum from {_ms(history, start)} "
                    f"to {_ms(history, end)}: node {b.node if b.start > a.start else a.node}'s "
                    "Arbitrate succeeded while the other still defended it; after a successful "
                    "Arbitrate only that node may arbitrate successfully",
                    history,
                    min(a.won.start, b.won.start),
                    end,
                )
    nodes = {o.node for o in owned}
    return f"{counted(len(owned), 'ownership')} of {counted(len(nodes), 'node')}, never two at once"


#: What nobody winning the quorum means, by why it was up for grabs.
UNWON = {
    "free": "a quorum nobody held, with every node arbitrating,",
    "kill": "the quorum of an owner that was killed",
    "pause": "the quorum of an owner that was stopped",
    "release": "the quorum its owner released",
}


@check(
    "Arbitrate.takeover",
    REQUIRED,
    entry_points=("Arbitrate",),
    statement=(
        "A quorum resource nobody defends (at the start, after its owner was killed, or while its "
        "owner is stopped) is won by one of the arbitrating nodes within the type's arbitration "
        "time."
    ),
    doc="S:nc-resapi-parbitrate_routine",
    contract=("AR-2", "AR-10", "AR-11"),
    policy=(
        "The docs give the bounds, not a sentence with a level: the arbitration time is what the "
        "type answers to CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT (default 60 s, AR-11), at most "
        "QuorumArbitrationTimeMax (20 s, AR-10), not scaled. A quorum that cannot be won leaves "
        "the cluster unable to form, so rescheck treats it as required. Owners are killed and "
        "stopped only with isolated hosting."
    ),
    script_class=NOT_FOR_SCRIPTS,
    scenarios=QUORUM_SCENARIO,
    applies_to=QUORUM,
)
def takeover(ctx: RunContext) -> str:
    run, history, _ = _history(ctx)
    bound = f"{history.bound_s:.0f} s (GET_ARB_TIMEOUT, at most QuorumArbitrationTimeMax)"
    for after, since in run.notes["unwon"]:
        if after != "release":  # Release.lets-go's
            raise _violation(
                f"{UNWON[after]} was not won within {bound}: every Arbitrate failed",
                history,
                since,
                since + history.bound_s,
            )
    faults = [o for o in history.ops if o.op in ("kill", "pause")]
    if not faults:
        why = "; ".join(run.notes["skipped"]) or "no owner was killed or stopped"
        raise NotApplicable(f"{why}; a free quorum was won in time")
    return f"won within {bound}: when free, and after {counted(len(faults), 'owner fault')}"


@check(
    "Release.lets-go",
    REQUIRED,
    entry_points=("Release",),
    statement=(
        "After Release returns ERROR_SUCCESS the node no longer defends the quorum: another "
        "node's Arbitrate wins it within the arbitration time."
    ),
    doc="S:nc-resapi-prelease_routine",
    contract=("RL-1",),
    policy=(
        "RL-1 is the return contract ('released and no longer defended'); rescheck judges the "
        "contract's meaning on another node, required."
    ),
    script_class=NOT_FOR_SCRIPTS,
    scenarios=QUORUM_SCENARIO,
    applies_to=QUORUM,
)
def lets_go(ctx: RunContext) -> str:
    run, history, owned = _history(ctx)
    releases = [o for o in history.ops if o.op == "release" and o.end is not None]
    for after, since in run.notes["unwon"]:
        if after == "release":
            bad = [o for o in releases if o.start <= since]
            answer = error_name(bad[-1].result) if bad else "?"
            raise _violation(
                f"after the owner's Release returned {answer}, no other node won the quorum "
                f"within {history.bound_s:.0f} s: a released quorum is no longer defended",
                history,
                next((o.won.start for o in owned if o.end <= since), since - 1),
                since + history.bound_s,
            )
    asked = [o for o in releases if o.start < run.notes["until"]]
    if not asked:
        raise NotApplicable("no owner released the quorum")
    return f"after {counted(len(asked), 'Release')} another node won the quorum"


@check(
    "LostQuorumResource.prompt",
    REQUIRED,
    entry_points=("Arbitrate",),
    statement=(
        "A node that loses control of the quorum after winning it calls LostQuorumResource "
        "promptly: an owner stopped while another node took over says so within 2 s of running "
        "again."
    ),
    doc="S:nc-resapi-pquorum_resource_lost",
    contract=("AR-6", "AR-5"),
    policy=(
        "The docs require the call when control is lost (AR-6) without a delay; rescheck allows "
        "two of the docs' example defence periods (a disk re-reserves once per second, AR-5) "
        "after the owner runs again. Judged with isolated hosting (the owner's host process is "
        "stopped with SIGSTOP)."
    ),
    script_class=NOT_FOR_SCRIPTS,
    scenarios=QUORUM_SCENARIO,
    applies_to=QUORUM,
)
def lost_prompt(ctx: RunContext) -> str:
    run, history, owned = _history(ctx)
    taken = run.notes["paused"]  # (node, when it was stopped) for each stop with a takeover
    paused = [
        o
        for o in owned
        if o.paused_at is not None
        and any(node == o.node and abs(at - o.paused_at) < 1.0 for node, at in taken)
    ]
    if not paused:
        why = "; ".join(run.notes["skipped"]) or "no owner was stopped while another node took over"
        raise NotApplicable(why)
    delays = []
    for held in paused:
        resumed = held.resumed_at
        if resumed is None:
            continue
        lost: Op | None = held.ended_by if held.ended_by and held.ended_by.op == "lost" else None
        if lost is None or lost.start - resumed > LOST_PROMPT_S:
            said = (
                "it never called LostQuorumResource"
                if lost is None
                else f"it called LostQuorumResource only {lost.start - resumed:.1f} s later"
            )
            taker = next(
                (
                    o.node
                    for o in owned
                    if o.node != held.node and held.paused_at <= o.start <= resumed
                ),
                None,
            )
            raise _violation(
                f"node {held.node} was stopped while it owned the quorum and node {taker} took "
                f"it over; once it ran again {said} (expected within {LOST_PROMPT_S:.0f} s): a "
                "node that loses control after winning must tell the Resource Monitor",
                history,
                held.paused_at or resumed,
                resumed + 2 * LOST_PROMPT_S,
            )
        delays.append(lost.start - resumed)
    if not delays:
        raise NotApplicable("no stopped owner was resumed")
    return f"every stopped owner called LostQuorumResource within {max(0.0, *delays):.2f} s of resuming"


@check(
    "Online.not-available",
    REQUIRED,
    entry_points=("Online",),
    statement=(
        "Online of a quorum-capable resource on a node that lost arbitration returns "
        "ERROR_RESOURCE_NOT_AVAILABLE."
    ),
    doc="S:nc-resapi-ponline_routine",
    contract=("AR-7",),
    script_class=NOT_FOR_SCRIPTS,
    scenarios=QUORUM_SCENARIO,
    applies_to=QUORUM,
)
def online_not_available(ctx: RunContext) -> str:
    _, history, owned = _history(ctx)
    judged = 0
    for online in (o for o in history.ops if o.op == "online" and o.end is not None):
        before = [
            o
            for o in history.ops
            if o.node == online.node
            and o.op == "arbitrate"
            and o.end is not None
            and o.end <= online.start
        ]
        if not before or dword(before[-1].result) == ERROR_SUCCESS:
            continue  # it won: Online may succeed
        others = [o for o in owned if o.node != online.node and o.start <= online.start < o.end]
        if not others:
            continue  # nobody else owned it then
        judged += 1
        if online.result != ERROR_RESOURCE_NOT_AVAILABLE:
            raise _violation(
                f"node {online.node} lost arbitration to node {others[0].node}, and its Online "
                f"returned {error_name(online.result)}; expected ERROR_RESOURCE_NOT_AVAILABLE "
                "(another system won arbitration)",
                history,
                min(before[-1].start, others[0].won.start),
                online.end,
            )
    if not judged:
        raise NotApplicable("no Online was asked of a node that had lost arbitration")
    return f"{counted(judged, 'Online')} of a losing node returned ERROR_RESOURCE_NOT_AVAILABLE"
