"""Startup and the function table (CONTRACT.md §1)."""

from __future__ import annotations

from conformance.monitor.trace import Trace, TraceEvent, short_repr
from conformance.resapi import (
    CLRES_VERSIONS,
    ERROR_REVISION_MISMATCH,
    OPTIONAL_ENTRY_POINTS,
    V1_ENTRY_POINTS,
    error_name,
)
from conformance.suite.context import RunContext, Violation
from conformance.suite.registry import check

CONTROL_ROUTINES = ("ResourceControl", "ResourceTypeControl")


@check("Startup.revision-mismatch")
def revision_mismatch(ctx: RunContext) -> str:
    run = ctx.scenario("startup-ranges")
    calls = run.calls("Startup")
    if not calls:
        raise ctx.nothing_to_judge("Startup was not called with a foreign version range", [run])
    for trace, event in calls:
        low, high = event.args["MinVersionSupported"], event.args["MaxVersionSupported"]
        if event.error:
            raise Violation(
                f"Startup raised {event.error} for versions 0x{low:x}..0x{high:x}", trace, [event]
            )
        if event.end is None:
            raise Violation(
                f"Startup did not return for versions 0x{low:x}..0x{high:x}", trace, [event]
            )
        if event.result != ERROR_REVISION_MISMATCH:
            table = event.data.get("table_version")
            extra = f" with a table of version {short_repr(table)}" if table is not None else ""
            raise Violation(
                f"Startup returned {error_name(event.result)}{extra} for versions "
                f"0x{low:x}..0x{high:x}, which contain no Resource API version; expected "
                f"{error_name(ERROR_REVISION_MISMATCH)}",
                trace,
                [event],
            )
    return (
        f"ERROR_REVISION_MISMATCH for {len(calls)} version ranges that contain no supported version"
    )


def _startups(ctx: RunContext) -> list[tuple[Trace, TraceEvent]]:
    runs = ctx.scenarios("lifecycle", "terminate-pending")
    calls = [
        (t, e)
        for run in runs
        for t, e in run.calls("Startup")
        if e.result == 0 and e.data.get("shaped")
    ]
    if not calls:
        raise ctx.nothing_to_judge("no Startup call returned a function table", runs)
    return calls


@check("Startup.table-version")
def table_version(ctx: RunContext) -> str:
    for trace, event in _startups(ctx):
        version = event.data.get("table_version")
        low, high = event.args["MinVersionSupported"], event.args["MaxVersionSupported"]
        if version not in CLRES_VERSIONS:
            raise Violation(
                f"the function table's Version is {short_repr(version)}, not a documented CLRES_VERSION "
                f"({', '.join(hex(v) for v in CLRES_VERSIONS)})",
                trace,
                [event],
            )
        if not low <= version <= high:
            raise Violation(
                f"the function table's Version 0x{version:x} lies outside the offered range "
                f"0x{low:x}..0x{high:x}; the Resource Monitor cannot load it",
                trace,
                [event],
            )
    return "the table's Version is documented and within the offered range"


def _nulls(ctx: RunContext) -> tuple[Trace, TraceEvent, list[str]]:
    trace, event = _startups(ctx)[0]
    return trace, event, list(event.data.get("null_entry_points", []))


@check("FunctionTable.entry-points")
def entry_points(ctx: RunContext) -> str:
    trace, event, nulls = _nulls(ctx)
    required = [e for e in nulls if e not in OPTIONAL_ENTRY_POINTS and e not in CONTROL_ROUTINES]
    if required:
        raise Violation(f"the function table has NULL {', '.join(required)}", trace, [event])
    present = [e for e in V1_ENTRY_POINTS if e not in nulls]
    return f"non-NULL: {', '.join(present)}"


@check("FunctionTable.control-routines")
def control_routines(ctx: RunContext) -> str:
    trace, event, nulls = _nulls(ctx)
    missing = [e for e in CONTROL_ROUTINES if e in nulls]
    if missing:
        raise Violation(
            f"the function table has NULL {', '.join(missing)} (a documented ambiguity: warning only)",
            trace,
            [event],
        )
    return "ResourceControl and ResourceTypeControl are present"
