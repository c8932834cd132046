"""What Terminate must leave behind (docs/contract.md §3.4, RS-2): no worker of the cancelled
operation, and an instance that Online brings back; and the calls it may overlap (TE-4)."""

from __future__ import annotations

from conformance.resapi import ERROR_IO_PENDING, ERROR_SUCCESS, error_name
from conformance.rules import REQUIRED, WORLD
from conformance.runtime.trace import CALL, MONITOR, Trace, TraceEvent, short_repr
from conformance.suite.checks.entry_points import ALL, is_bool, is_dword
from conformance.suite.checks.outcomes import onlines_after_terminate, reached_online, refused
from conformance.suite.context import NotApplicable, RunContext, Violation, counted
from conformance.suite.registry import check

#: Threads that outlive Terminate, as rescheck counts them.
LINGER_POLICY = (
    "RS-2 says 'immediately'; a Python thread needs a moment to unwind, so threads still "
    "running 1 s after Terminate returned are the violation. Threads the DLL started before "
    "the operation (in Open, say) are not counted."
)


@check(
    "Terminate.stops-workers",
    REQUIRED,
    entry_points=("Terminate", "Online", "Offline"),
    statement=(
        "When Terminate returns, every thread the DLL started for the Online or Offline it "
        "cancelled has ended."
    ),
    doc="S:nc-resapi-pset_resource_status_routine",
    contract=("RS-2", "TE-2", "CX-4"),
    policy=LINGER_POLICY,
    scenarios=("terminate-pending",),
)
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


#: The entry points Terminate may overlap (TE-4, CX-1).
OVERLAPPING = (
    "Online",
    "Offline",
    "LooksAlive",
    "IsAlive",
    "ResourceControl",
    "ResourceTypeControl",
)
POLLS = ("LooksAlive", "IsAlive")


def _overlap(a: TraceEvent, b: TraceEvent) -> bool:
    a_end = a.end if a.end is not None else float("inf")
    b_end = b.end if b.end is not None else float("inf")
    return a.start < b_end and b.start < a_end


@check(
    "Terminate.concurrent",
    REQUIRED,
    entry_points=("Terminate", *OVERLAPPING),
    statement=(
        "Terminate may run at the same time as Online, Offline, LooksAlive, IsAlive, "
        "ResourceControl and ResourceTypeControl: when it does, every call involved returns "
        "normally (no exception, no deadlock), and LooksAlive and IsAlive still return a BOOL."
    ),
    doc="W:implementing-terminate",
    contract=("TE-4", "CX-1", "ON-4", "OF-4", "LA-4", "IA-5"),
    policy=(
        "The pages ask the DLL to protect what Terminate shares with the other entry points; what "
        "is observable is the outcome. rescheck calls Terminate while polls or "
        "GET_PRIVATE_PROPERTIES calls (resource and type) run back to back (they go on until "
        "Terminate returns), or while an Online or Offline call runs, at a slightly different "
        "moment each round; a call that overlapped Terminate and raised, never returned or "
        "answered a non-BOOL shows unprotected state. When every call was too quick to overlap, "
        "nothing is judged."
    ),
    scenarios=("terminate-concurrent", *ALL),
    trace_only=True,
)
def concurrent(ctx: RunContext) -> str:
    run = ctx.scenario("terminate-concurrent")
    # what an entry point does on its own is judged by its `.returns` and `.bool` rules
    alone = [e for r in ctx.scenarios(*ALL) for _, e in r.events(CALL)]
    own = {e.name for e in alone if e.error or e.end is None}
    own |= {
        e.name
        for e in alone
        if e.name in POLLS and e.end is not None and not e.error and not is_bool(e.result)
    }
    judged: dict[str, int] = {}
    for trace in run.traces:
        if any(e.cut_short for e in trace):
            continue  # the host process ended (Process.survives judges it) or rescheck stopped
        calls = trace.calls()
        for term in (c for c in calls if c.name == "Terminate"):
            others = [c for c in calls if c.name in OVERLAPPING and _overlap(c, term)]
            shown = [term, *others]
            for event in others:
                judged[event.name] = judged.get(event.name, 0) + 1
                if event.name not in own:
                    _judge_overlapping(event, "while Terminate ran", trace, shown)
            if others and "Terminate" not in own:
                _judge_overlapping(term, "while another call ran", trace, shown)
    if not judged:
        raise ctx.nothing_to_judge(
            "no call of Online, Offline, LooksAlive, IsAlive, ResourceControl or "
            "ResourceTypeControl overlapped a Terminate "
            "(each was too quick to catch)",
            [run],
        )
    figures = ", ".join(counted(n, f"{name} call") for name, n in sorted(judged.items()))
    return f"{figures} overlapped a Terminate; all of them and the Terminates returned normally"


@check(
    "Terminate.instance-usable",
    REQUIRED,
    entry_points=("Terminate", "Online"),
    statement=(
        "After Terminate, also one that cancelled a pending Online or Offline, Online brings the "
        "instance online again."
    ),
    doc="W:implementing-terminate",
    contract=("TE-2", "TE-3", "ON-9"),
    policy=(
        "No page says it in one sentence: Terminate takes the resource offline at once (TE-2), "
        "the Resource Monitor then brings failed resources back with Online (restart policy), and "
        "Online must then work (ON-9, required); rescheck therefore treats it as required."
    ),
    script_class=WORLD,
    scenarios=ALL,
)
def instance_usable(ctx: RunContext) -> str:
    runs = ctx.scenarios(*ALL)
    refusal = next(
        (found for run in runs for t in run.traces if (found := refused(t, "Online", "online"))),
        None,
    )
    judged = 0
    for run in runs:
        for trace in run.traces:
            events = list(trace)
            for online in onlines_after_terminate(trace, came_online=True):
                if online.end is None or online.error or not is_dword(online.result):
                    continue  # Online.returns and Online.return-code judge those
                judged += 1
                op = online.data.get("op")
                reached = any(
                    e.kind == MONITOR and reached_online(e) and e.data.get("op") == op
                    for e in events
                )
                if reached:
                    continue
                if refusal is not None:  # it refuses without a Terminate too: Online's finding
                    raise NotApplicable(
                        "not judged: an Online after Terminate did not bring the instance "
                        "online, but Online also failed where no Terminate came before it "
                        f"({refusal.describe()}): that is Online's finding (see "
                        "Online.brings-online), not Terminate's"
                    )
                if online.result not in (ERROR_SUCCESS, ERROR_IO_PENDING):
                    raise Violation(
                        f"after Terminate, Online returned {error_name(online.result)}",
                        trace,
                        [online],
                    )
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


def _judge_overlapping(
    event: TraceEvent, during: str, trace: Trace, shown: list[TraceEvent]
) -> None:
    if event.error:
        raise Violation(
            f"{event.name} raised {event.error}{event.raised_at} {during}: Terminate and the calls it overlaps "
            "must protect what they share",
            trace,
            shown,
        )
    if event.end is None:
        raise Violation(
            f"{event.name} never returned {during} (a deadlock between Terminate and the call "
            "it overlapped)",
            trace,
            shown,
            ["Stacks when the monitor gave up:", *str(event.data.get("stacks", "")).splitlines()],
        )
    if event.name in POLLS and not is_bool(event.result):
        raise Violation(
            f"{event.name} returned {short_repr(event.result)} {during}; a BOOL is TRUE (1) "
            "or FALSE (0)",
            trace,
            shown,
        )
