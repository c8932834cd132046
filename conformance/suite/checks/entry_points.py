"""Every entry point returns (docs/contract.md §9, RM-8): it neither raises nor blocks past
DeadlockTimeout. The helpers here find the calls the other per-entry-point rules judge."""

from __future__ import annotations

from conformance.resapi import DWORD_MAX, control_code_name
from conformance.rules import REQUIRED
from conformance.runtime.trace import Trace, TraceEvent
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


#: Raising or hanging, which no page gives a level.
CRASH_POLICY = (
    "The docs give no level for an entry point that raises or never returns; such a DLL crashes "
    "or deadlocks the Resource Monitor, so the type 'will not function' "
    "(W:implementing-resource-dlls' definition of Required), and rescheck treats it as required."
)


@check(
    "Startup.returns",
    REQUIRED,
    entry_points=("Startup",),
    statement=(
        "Startup returns: it neither raises (a crash of the DLL inside the Resource Monitor) nor "
        "blocks past DeadlockTimeout."
    ),
    doc="S:nc-resapi-pstartup_routine",
    contract=("ST-1", "ST-7", "RM-8"),
    policy=CRASH_POLICY,
    scenarios=ALL,
)
@check(
    "Open.returns",
    REQUIRED,
    entry_points=("Open",),
    statement=(
        "Open returns: it neither raises (a crash of the DLL inside the Resource Monitor) nor "
        "blocks past DeadlockTimeout."
    ),
    doc="S:nc-resapi-popen_routine",
    contract=("OP-1", "OP-2", "RM-8"),
    policy=CRASH_POLICY,
    scenarios=ALL,
    trace_only=True,
)
@check(
    "Close.returns",
    REQUIRED,
    entry_points=("Close",),
    statement=(
        "Close returns: it neither raises (a crash of the DLL inside the Resource Monitor) nor "
        "blocks past DeadlockTimeout."
    ),
    doc="S:nc-resapi-pclose_routine",
    contract=("CL-1", "RM-8"),
    policy=CRASH_POLICY,
    scenarios=ALL,
    trace_only=True,
)
@check(
    "Online.returns",
    REQUIRED,
    entry_points=("Online",),
    statement=(
        "Online returns: it neither raises (a crash of the DLL inside the Resource Monitor) nor "
        "blocks past DeadlockTimeout."
    ),
    doc="S:nc-resapi-ponline_routine",
    contract=("ON-1", "ON-2", "RM-8"),
    policy=CRASH_POLICY,
    scenarios=ALL,
    trace_only=True,
)
@check(
    "Offline.returns",
    REQUIRED,
    entry_points=("Offline",),
    statement=(
        "Offline returns: it neither raises (a crash of the DLL inside the Resource Monitor) nor "
        "blocks past DeadlockTimeout."
    ),
    doc="S:nc-resapi-poffline_routine",
    contract=("OF-1", "RM-8"),
    policy=CRASH_POLICY,
    scenarios=ALL,
    trace_only=True,
)
@check(
    "Terminate.returns",
    REQUIRED,
    entry_points=("Terminate",),
    statement=(
        "Terminate returns: it neither raises (a crash of the DLL inside the Resource Monitor) "
        "nor blocks past DeadlockTimeout."
    ),
    doc="S:nc-resapi-pterminate_routine",
    contract=("TE-1", "TE-7", "RM-8"),
    policy=CRASH_POLICY,
    scenarios=ALL,
    trace_only=True,
)
@check(
    "LooksAlive.returns",
    REQUIRED,
    entry_points=("LooksAlive",),
    statement=(
        "LooksAlive returns: it neither raises (a crash of the DLL inside the Resource Monitor) "
        "nor blocks past DeadlockTimeout."
    ),
    doc="S:nc-resapi-plooks_alive_routine",
    contract=("LA-1", "RM-8"),
    policy=CRASH_POLICY,
    scenarios=ALL,
    trace_only=True,
)
@check(
    "IsAlive.returns",
    REQUIRED,
    entry_points=("IsAlive",),
    statement=(
        "IsAlive returns: it neither raises (a crash of the DLL inside the Resource Monitor) nor "
        "blocks past DeadlockTimeout."
    ),
    doc="S:nc-resapi-pis_alive_routine",
    contract=("IA-1", "RM-8"),
    policy=CRASH_POLICY,
    scenarios=ALL,
    trace_only=True,
)
@check(
    "ResourceControl.returns",
    REQUIRED,
    entry_points=("ResourceControl",),
    statement=(
        "ResourceControl returns: it neither raises (a crash of the DLL inside the Resource "
        "Monitor) nor blocks past DeadlockTimeout."
    ),
    doc="S:nc-resapi-presource_control_routine",
    contract=("RC-1", "RM-8"),
    policy=CRASH_POLICY,
    scenarios=ALL,
    trace_only=True,
)
@check(
    "ResourceTypeControl.returns",
    REQUIRED,
    entry_points=("ResourceTypeControl",),
    statement=(
        "ResourceTypeControl returns: it neither raises (a crash of the DLL inside the Resource "
        "Monitor) nor blocks past DeadlockTimeout."
    ),
    doc="S:nc-resapi-presource_type_control_routine",
    contract=("RT-1", "RM-8"),
    policy=CRASH_POLICY,
    scenarios=ALL,
)
def returns(ctx: RunContext, entry: str) -> str:
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


def is_bool(value: object) -> bool:
    return isinstance(value, bool) or (isinstance(value, int) and value in (0, 1))
