"""What LooksAlive and IsAlive answer (docs/contract.md §5): a BOOL, and TRUE for a resource
that came online and was not disturbed."""

from __future__ import annotations

from conformance.resapi import BOOL_is_TRUE
from conformance.rules import RECOMMENDED, REQUIRED, WORLD
from conformance.runtime.trace import CALL, MONITOR, short_repr
from conformance.suite.checks.entry_points import ALL, calls, is_bool, returned
from conformance.suite.context import RunContext, Violation, counted
from conformance.suite.policies import BOOL_POLICY
from conformance.suite.registry import check


@check(
    "LooksAlive.bool",
    REQUIRED,
    entry_points=("LooksAlive",),
    statement="LooksAlive returns a BOOL: TRUE (1) or FALSE (0).",
    doc="S:nc-resapi-plooks_alive_routine",
    contract=("LA-1",),
    policy=BOOL_POLICY,
    scenarios=ALL,
    trace_only=True,
)
@check(
    "IsAlive.bool",
    REQUIRED,
    entry_points=("IsAlive",),
    statement="IsAlive returns a BOOL: TRUE (1) or FALSE (0).",
    doc="S:nc-resapi-pis_alive_routine",
    contract=("IA-1",),
    policy=BOOL_POLICY,
    scenarios=ALL,
    trace_only=True,
)
def returns_bool(ctx: RunContext, entry: str) -> str:
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


@check(
    "IsAlive.healthy",
    REQUIRED,
    entry_points=("IsAlive",),
    statement=(
        "IsAlive returns TRUE for a resource that came online and was not disturbed: FALSE means "
        "'definitely failed' and makes the monitor fail and terminate it."
    ),
    doc="W:implementing-isalive",
    contract=("IA-3", "IA-4", "IA-7"),
    script_class=WORLD,
    scenarios=("lifecycle",),
)
@check(
    "LooksAlive.healthy",
    RECOMMENDED,
    entry_points=("LooksAlive",),
    statement="LooksAlive returns TRUE for a resource that came online and was not disturbed.",
    doc="W:implementing-looksalive",
    contract=("LA-5", "LA-3"),
    script_class=WORLD,
    scenarios=("lifecycle",),
)
def healthy(ctx: RunContext, entry: str) -> str:
    run = ctx.scenario("lifecycle")
    first, last = run.notes.get("healthy_from"), run.notes.get("healthy_to")
    if first is None or last is None or not run.traces:
        raise ctx.nothing_to_judge("the resource was never online and undisturbed", [run])
    trace = run.traces[0]
    judged = 0
    for event in trace:
        if not first < event.seq < last:
            continue
        if event.kind == MONITOR and event.data.get("state") == "ClusterResourceFailed":
            break
        if event.kind != CALL or event.name != entry or event.end is None or event.error:
            continue
        if not BOOL_is_TRUE(event.result):
            raise Violation(
                f"{entry} returned {short_repr(event.result)} for a resource that came online and was not disturbed",
                trace,
                [event],
            )
        judged += 1
    if not judged:
        raise ctx.nothing_to_judge(f"{entry} was not called while the resource was online", [run])
    return f"{counted(judged, f'{entry} call')} answered TRUE while online"
