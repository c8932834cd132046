"""Startup and the function table (docs/contract.md §1)."""

from __future__ import annotations

from conformance.resapi import (
    CLRES_VERSION_V1_00,
    CLRES_VERSIONS,
    ERROR_REVISION_MISMATCH,
    OPTIONAL_ENTRY_POINTS,
    V1_ENTRY_POINTS,
    error_name,
)
from conformance.rules import NOT_FOR_SCRIPTS, RECOMMENDED, REQUIRED
from conformance.runtime.trace import Trace, TraceEvent, short_repr
from conformance.suite.context import NotApplicable, RunContext, Violation, own_range
from conformance.suite.registry import COMPILED, check

CONTROL_ROUTINES = ("ResourceControl", "ResourceTypeControl")
#: The scenarios whose Startup calls offer the harness's own version range.
STARTUPS = ("lifecycle", "terminate-pending")
#: TableSize of a V1 table on x64: CLRES_V1_FUNCTION_SIZE as the headers define it
#: (sizeof(CLRES_V1_FUNCTIONS)), and the whole CLRES_V1_FUNCTION_TABLE, as the page reads.
V1_TABLE_SIZES = {CLRES_VERSION_V1_00: (88, 96)}


@check(
    "Startup.revision-mismatch",
    REQUIRED,
    entry_points=("Startup",),
    statement=(
        "Startup returns ERROR_REVISION_MISMATCH when it supports no Resource API version in "
        "[MinVersionSupported, MaxVersionSupported]."
    ),
    doc="S:nc-resapi-pstartup_routine",
    contract=("ST-7", "ST-3"),
    scenarios=("startup-ranges",),
)
def revision_mismatch(ctx: RunContext) -> str:
    run = ctx.scenario("startup-ranges")
    calls = [(t, e) for t, e in run.calls("Startup") if not own_range(e)]
    if not calls:
        raise ctx.nothing_to_judge("Startup was not called with a foreign version range", [run])
    for trace, event in calls:
        low, high = event.args["MinVersionSupported"], event.args["MaxVersionSupported"]
        if event.error:
            raise Violation(
                f"Startup raised {event.error}{event.raised_at} for versions 0x{low:x}..0x{high:x}",
                trace,
                [event],
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


@check(
    "Startup.returns-table",
    REQUIRED,
    entry_points=("Startup",),
    statement=(
        "Startup returns ERROR_SUCCESS and a function table for the resource type it is asked "
        "for, when the offered version range contains a version the DLL supports."
    ),
    doc="W:implementing-startup",
    contract=("ST-5", "ST-7", "ST-9"),
    policy=(
        "Judged only for a type name the DLL itself holds (as a whole string, compared without "
        'regard to case: a C L"..." literal, a Python string literal): the evidence that it '
        "means to implement the type. A DLL rightly refuses a type it does not implement (ST-9), "
        "so a refused name it does not contain (mistyped, or guessed from the file name) is a "
        "usage error (exit 2) that says so, never a finding."
    ),
    scenarios=STARTUPS,
)
def returns_table(ctx: RunContext) -> str:
    runs = ctx.scenarios(*STARTUPS)
    calls = [(t, e) for run in runs for t, e in run.calls("Startup") if own_range(e)]
    back = [(t, e) for t, e in calls if e.end is not None and not e.error]
    if not back:
        raise ctx.nothing_to_judge("no Startup call returned", runs)
    for trace, event in back:
        if event.result != 0 or not event.data.get("shaped"):
            low, high = event.args["MinVersionSupported"], event.args["MaxVersionSupported"]
            raise Violation(
                f"Startup refused resource type {event.args['ResourceType']!r} with "
                f"{error_name(event.result)} for versions 0x{low:x}..0x{high:x}, which contain "
                f"CLRES_VERSION_V1_00; the type was declared for this DLL, so the DLL must "
                "return a function table for it",
                trace,
                [event],
            )
    return f"ERROR_SUCCESS and a table for {back[0][1].args['ResourceType']!r}"


@check(
    "FunctionTable.table-size",
    REQUIRED,
    entry_points=("Startup",),
    statement=(
        "A compiled function table's TableSize is the size documented for its Version "
        "(CLRES_V1_FUNCTION_SIZE for a CLRES_VERSION_V1_00 table)."
    ),
    doc="S:ns-resapi-clres_function_table",
    contract=("FT-1", "FT-2"),
    policy=(
        "The page lists TableSize's values by macro without a level; the table's layout depends "
        "on them (FT-1), so rescheck treats them as required, as it does a signature. The headers "
        "define CLRES_V1_FUNCTION_SIZE as sizeof(CLRES_V1_FUNCTIONS) (88 bytes on x64) while the "
        "page calls TableSize the count of bytes in the structure (96 for a V1 table): both are "
        "accepted. Python tables have no TableSize: compiled DLLs only."
    ),
    script_class=NOT_FOR_SCRIPTS,
    scenarios=STARTUPS,
    applies_to=COMPILED,
)
def table_size(ctx: RunContext) -> str:
    if ctx.target.dll is None:
        raise NotApplicable("a Python function table has no TableSize")
    known = [(t, e) for t, e in _startups(ctx) if e.data.get("table_version") in V1_TABLE_SIZES]
    if not known:
        raise NotApplicable("no table had a Version rescheck loads (Startup.table-version)")
    for trace, event in known:
        size, version = event.data.get("table_size"), event.data["table_version"]
        allowed = V1_TABLE_SIZES[version]
        if size not in allowed:
            raise Violation(
                f"the function table's TableSize is {short_repr(size)} for Version "
                f"0x{version:x}; expected CLRES_V1_FUNCTION_SIZE ("
                f"{' or '.join(str(a) for a in allowed)} bytes on x64)",
                trace,
                [event],
            )
    return "TableSize matches the table's Version"


def _startups(ctx: RunContext) -> list[tuple[Trace, TraceEvent]]:
    runs = ctx.scenarios(*STARTUPS)
    calls = [
        (t, e)
        for run in runs
        for t, e in run.calls("Startup")
        if e.result == 0 and e.data.get("shaped")
    ]
    if not calls:
        raise ctx.nothing_to_judge("no Startup call returned a function table", runs)
    return calls


@check(
    "Startup.table-version",
    REQUIRED,
    entry_points=("Startup",),
    statement=(
        "The function table's Version is a documented CLRES_VERSION that lies within "
        "[MinVersionSupported, MaxVersionSupported]."
    ),
    doc="S:nc-resapi-pstartup_routine",
    contract=("ST-8", "FT-1", "FT-2", "ST-5"),
    policy=(
        "ST-8 says a table whose version is out of range cannot be loaded; a type that cannot be "
        "loaded will not function, so rescheck treats the rule as required."
    ),
    scenarios=STARTUPS,
)
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


@check(
    "FunctionTable.entry-points",
    REQUIRED,
    entry_points=("Open", "Close", "Online", "Offline", "Terminate", "LooksAlive", "IsAlive"),
    statement=(
        "Every entry point of the function table is non-NULL except Arbitrate and Release, which "
        "only quorum-capable types need."
    ),
    doc="S:ns-resapi-clres_function_table",
    contract=("FT-3", "AR-1", "DS-1"),
    scenarios=STARTUPS,
)
def entry_points(ctx: RunContext) -> str:
    trace, event, nulls = _nulls(ctx)
    required = [e for e in nulls if e not in OPTIONAL_ENTRY_POINTS and e not in CONTROL_ROUTINES]
    if required:
        raise Violation(f"the function table has NULL {', '.join(required)}", trace, [event])
    present = [e for e in V1_ENTRY_POINTS if e not in nulls]
    return f"non-NULL: {', '.join(present)}"


@check(
    "FunctionTable.control-routines",
    RECOMMENDED,
    entry_points=("ResourceControl", "ResourceTypeControl"),
    statement="ResourceControl and ResourceTypeControl are non-NULL.",
    doc="W:implementing-resource-dlls",
    contract=("FT-4",),
    policy=(
        "docs/contract.md §11 item 2: S:ns-resapi-clres_v1_functions allows NULL control routines "
        "(the ClipBook sample ships one), while S:ns-resapi-clres_function_table and "
        "W:implementing-resource-dlls call them Required. rescheck reports a NULL routine as a "
        "recommended-level warning, never as a required failure."
    ),
    scenarios=STARTUPS,
)
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
