"""ResourceControl and ResourceTypeControl (docs/contract.md §6): which codes are answered and how,
judged on the record of the "control" scenario (`conformance.suite.controls`). The helpers
here serve `buffers` and `properties` too."""

from __future__ import annotations

from collections.abc import Iterable

from conformance.monitor.monitor import ControlResult, dword
from conformance.proplist import describe_property_list, hexdump
from conformance.resapi import (
    CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_GET_CLASS_INFO,
    CLUSCTL_RESOURCE_GET_FLAGS,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS,
    CLUSCTL_RESOURCE_GET_REQUIRED_DEPENDENCIES,
    CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT,
    ERROR_INVALID_FUNCTION,
    ERROR_MORE_DATA,
    ERROR_SUCCESS,
    control_code_name,
    error_name,
)
from conformance.rules import RECOMMENDED, REQUIRED
from conformance.runtime.trace import short_repr
from conformance.suite.context import NotApplicable, RunContext, Violation, counted
from conformance.suite.controls import ControlRecord
from conformance.suite.registry import check

#: The scenario the control-code rules read.
CONTROL = ("control",)
#: What the answer to each documented data code is, by function (the same for both objects).
KINDS = {
    code & 0x00FFFFFF: kind
    for code, kind in (
        (CLUSCTL_RESOURCE_GET_CHARACTERISTICS, "dword"),
        (CLUSCTL_RESOURCE_GET_FLAGS, "flags"),
        (CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT, "dword"),
        (CLUSCTL_RESOURCE_GET_CLASS_INFO, "class"),
        (CLUSCTL_RESOURCE_GET_REQUIRED_DEPENDENCIES, "dependencies"),
        (CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES, "multi_sz"),
        (CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES, "proplist"),
        (CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES, "proplist"),
        (CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS, "fmts"),
    )
}
#: The signature, as for a BOOL routine (both control routines).
RETURN_CODE_POLICY = (
    "The signature is the contract (docs/contract.md marks it Ref): the Resource Monitor "
    "reads two DWORDs, so any other result is treated as a required return-contract violation."
)
#: What is sent as unsupported, and the level (both control routines).
UNSUPPORTED_POLICY = (
    "Sent: codes of the object with function numbers 0xF00..0xFFF, where no control code is "
    "documented, and to a resource INITIALIZE and QUERY_DELETE, which the docs say not to "
    "support. The level is the de-facto one of docs/contract.md (the sample's default branch, "
    "and ERROR_INVALID_FUNCTION asks the monitor for its default processing, RC-3)."
)


def kind(code: int) -> str:
    return KINDS.get(code & 0x00FFFFFF, "other")


def record_of(ctx: RunContext, entry: str) -> ControlRecord:
    run = ctx.scenario("control")
    record = run.notes.get(entry)
    if record is None:
        monitors = run.monitors
        if monitors and monitors[0].host.loaded and not monitors[0].host.has(entry):
            raise NotApplicable(f"{entry} is NULL (see FunctionTable.control-routines)")
        raise ctx.nothing_to_judge(f"{entry} was not called", [run])
    return record


def judged(results: Iterable[ControlResult]) -> list[ControlResult]:
    """Calls that came back with the pinned ``(status, BytesReturned)`` as DWORDs (after a
    status other than success or ERROR_MORE_DATA, BytesReturned may be anything, RC-6); the
    rest are the .returns and .return-code rules'."""
    return [
        r
        for r in results
        if r.returned
        and r.shaped
        and not r.event.cut_short
        and dword(r.status) is not None
        and (
            dword(r.bytes_returned) is not None or r.status not in (ERROR_SUCCESS, ERROR_MORE_DATA)
        )
    ]


def fail(
    record: ControlRecord, message: str, results: Iterable[ControlResult], lines: Iterable[str] = ()
) -> Violation:
    return Violation(message, record.monitor.trace, [r.event for r in results], list(lines))


def buffer_lines(result: ControlResult) -> list[str]:
    """The OutBuffer as the caller saw it: decoded where it is a list, and in hex."""
    if result.out is None:
        return ["no OutBuffer (NULL)"]
    head = (
        f"OutBuffer of {result.out_size} bytes (filled with 0x{result.fill:02X} before the call); "
        f"BytesReturned {result.bytes_returned!r}"
    )
    decoded = []
    if kind(result.event.data.get("code", 0)) in ("proplist", "fmts") and result.data:
        decoded = ["decoded:", *(f"  {line}" for line in describe_property_list(result.data))]
    claimed = dword(result.bytes_returned) or 0
    shown = min(len(result.out), -(-max(result.written, claimed, 1) // 16) * 16)
    dump = [f"  {line}" for line in hexdump(result.out[:shown])]
    if shown < len(result.out):
        dump.append(f"  bytes {shown}..{len(result.out)} hold the fill (not written)")
    if result.overran:
        dump.append(f"written past the end (first {len(result.overrun)} bytes):")
        dump += [f"  {line}" for line in hexdump(result.overrun, 64)]
    return [head, *decoded, "hex:", *dump]


# --- the result's shape ----------------------------------------------------------------------
@check(
    "ResourceControl.return-code",
    REQUIRED,
    entry_points=("ResourceControl",),
    statement="ResourceControl returns (status, BytesReturned), both DWORDs.",
    doc="S:nc-resapi-presource_control_routine",
    contract=("RC-1", "RC-6"),
    policy=RETURN_CODE_POLICY,
    scenarios=CONTROL,
)
@check(
    "ResourceTypeControl.return-code",
    REQUIRED,
    entry_points=("ResourceTypeControl",),
    statement="ResourceTypeControl returns (status, BytesReturned), both DWORDs.",
    doc="S:nc-resapi-presource_type_control_routine",
    contract=("RT-1",),
    policy=RETURN_CODE_POLICY,
    scenarios=CONTROL,
)
def return_code(ctx: RunContext, entry: str) -> str:
    record = record_of(ctx, entry)
    back = [r for r in record.results() if r.returned and not r.event.cut_short]
    for result in back:
        value = short_repr(result.event.result)
        if not result.shaped:
            raise fail(
                record,
                f"{entry} returned {short_repr(result.event.result)}; the pinned mapping is a "
                "tuple (status, BytesReturned)",
                [result],
            )
        if dword(result.status) is None:
            raise fail(record, f"{entry} returned {value}: its status is not a DWORD", [result])
        if (
            result.status in (ERROR_SUCCESS, ERROR_MORE_DATA)
            and dword(result.bytes_returned) is None
        ):
            raise fail(
                record,
                f"{entry} returned {value}: with {error_name(result.status)} BytesReturned "
                "must be a DWORD (the size written, or the size needed)",
                [result],
            )
    return f"{counted(len(back), 'call')} returned (status, BytesReturned) as DWORDs"


# --- which codes are answered ----------------------------------------------------------------
@check(
    "ResourceControl.unknown",
    REQUIRED,
    entry_points=("ResourceControl",),
    statement="CLUSCTL_RESOURCE_UNKNOWN returns ERROR_SUCCESS.",
    doc="W:clusctl-resource-unknown",
    contract=("CC-1",),
    scenarios=CONTROL,
)
@check(
    "ResourceTypeControl.unknown",
    REQUIRED,
    entry_points=("ResourceTypeControl",),
    statement=(
        "CLUSCTL_RESOURCE_TYPE_UNKNOWN returns ERROR_SUCCESS when the DLL supports any other type "
        "code, and ERROR_INVALID_FUNCTION otherwise."
    ),
    doc="W:clusctl-resource-type-unknown",
    contract=("CC-30",),
    scenarios=CONTROL,
)
def unknown(ctx: RunContext, entry: str) -> str:
    record = record_of(ctx, entry)
    result = record.unknown
    if result is None or not judged([result]):
        raise ctx.nothing_to_judge(
            "the UNKNOWN control code got no answer", [ctx.scenario("control")]
        )
    name = control_code_name(result.event.data["code"])
    if entry == "ResourceControl":
        if result.status != ERROR_SUCCESS:
            raise fail(
                record,
                f"{name} returned {error_name(result.status)}; it must return ERROR_SUCCESS, or "
                "applications conclude that no DLL processes control codes for the resource",
                [result],
            )
        return f"{name} returned ERROR_SUCCESS"
    sent = [p.first for p in record.probes.values()] + record.asked
    supported = [r for r in judged(sent) if r.status != ERROR_INVALID_FUNCTION]
    if supported and result.status != ERROR_SUCCESS:
        raise fail(
            record,
            f"{name} returned {error_name(result.status)}, but the DLL supports other type codes "
            f"({control_code_name(supported[0].event.data['code'])} among them): it must return "
            "ERROR_SUCCESS",
            [result, supported[0]],
        )
    if result.status not in (ERROR_SUCCESS, ERROR_INVALID_FUNCTION):
        raise fail(
            record,
            f"{name} returned {error_name(result.status)}; it returns ERROR_SUCCESS when the DLL "
            "supports another type code, ERROR_INVALID_FUNCTION otherwise",
            [result],
        )
    if not supported and result.status == ERROR_SUCCESS:
        raise NotApplicable(
            f"{name} returned ERROR_SUCCESS, yet no documented type code rescheck sent was "
            "answered; the DLL may support internal ones (STARTING_PHASE2, ...), which rescheck "
            "does not send, so this is not judged"
        )
    others = counted(len(supported), "other type code")
    return f"{name} returned {error_name(result.status)} ({others} supported)"


def _invalid_function(ctx: RunContext, entry: str, attribute: str, what: str) -> str:
    """Every code of ``attribute`` (``what``, in messages) returned ERROR_INVALID_FUNCTION."""
    record = record_of(ctx, entry)
    results = judged(getattr(record, attribute))
    if not results:
        raise ctx.nothing_to_judge(f"no {what} got an answer", [ctx.scenario("control")])
    for result in results:
        if result.status != ERROR_INVALID_FUNCTION:
            raise fail(
                record,
                f"{control_code_name(result.event.data['code'])} ({what}) returned "
                f"{error_name(result.status)}; expected ERROR_INVALID_FUNCTION",
                [result],
                buffer_lines(result),
            )
    return f"{counted(len(results), what)} returned ERROR_INVALID_FUNCTION"


@check(
    "ResourceControl.unsupported-codes",
    REQUIRED,
    entry_points=("ResourceControl",),
    statement="A control code the DLL does not implement returns ERROR_INVALID_FUNCTION.",
    doc="S:nc-resapi-pbegin_rescall_routine",
    contract=("RC-4", "RC-3", "CC-25", "CC-28"),
    policy=UNSUPPORTED_POLICY,
    scenarios=CONTROL,
)
@check(
    "ResourceTypeControl.unsupported-codes",
    REQUIRED,
    entry_points=("ResourceTypeControl",),
    statement="A control code the DLL does not implement returns ERROR_INVALID_FUNCTION.",
    doc="S:nc-resapi-pbegin_rescall_routine",
    contract=("RT-3", "RC-4"),
    policy=UNSUPPORTED_POLICY,
    scenarios=CONTROL,
)
def unsupported_codes(ctx: RunContext, entry: str) -> str:
    return _invalid_function(ctx, entry, "undocumented", "undocumented code")


@check(
    "ResourceControl.common-properties",
    RECOMMENDED,
    entry_points=("ResourceControl",),
    statement=(
        "The common-property codes are left to the Resource Monitor: they return "
        "ERROR_INVALID_FUNCTION."
    ),
    doc="W:clusctl-resource-get-common-properties",
    contract=("CC-7", "RC-8"),
    scenarios=CONTROL,
)
@check(
    "ResourceTypeControl.common-properties",
    RECOMMENDED,
    entry_points=("ResourceTypeControl",),
    statement=(
        "The common-property codes are left to the Resource Monitor: they return "
        "ERROR_INVALID_FUNCTION."
    ),
    doc="W:clusctl-resource-type-get-common-properties",
    contract=("CC-42",),
    scenarios=CONTROL,
)
def common_properties(ctx: RunContext, entry: str) -> str:
    return _invalid_function(ctx, entry, "common", "common-property code")
