"""Output buffers of ResourceControl and ResourceTypeControl (RC-5, RC-6) and what the
documented data codes put in them (§6.6), GET_CHARACTERISTICS' answer included."""

from __future__ import annotations

import struct

from conformance.monitor.monitor import dword
from conformance.proplist import (
    Property,
    ProplistError,
    parse_multi_sz,
    parse_property_list,
    parse_value_list,
    valid_format,
)
from conformance.resapi import (
    CLUS_CHAR_QUORUM,
    CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
    CLUSPROP_FORMAT_EXPAND_SZ,
    CLUSPROP_FORMAT_EXPANDED_SZ,
    CLUSPROP_SYNTAX_LIST_VALUE_WORD,
    CLUSPROP_SYNTAX_NAME,
    CLUSPROP_SYNTAX_RESCLASS,
    ERROR_MORE_DATA,
    ERROR_SUCCESS,
    control_code_name,
    error_name,
)
from conformance.rules import REQUIRED
from conformance.suite.checks.control_codes import (
    CONTROL,
    buffer_lines,
    fail,
    judged,
    kind,
    record_of,
)
from conformance.suite.context import NotApplicable, RunContext, counted
from conformance.suite.controls import ControlRecord
from conformance.suite.registry import check

#: What a buffer too small for the answer gets, where the pages and the sample differ.
NULL_BUFFER_POLICY = (
    "RC-5 is the normative page: no buffer, an empty one and one a byte too small each get "
    "ERROR_MORE_DATA with the size needed. The ClipBook sample answers a NULL OutBuffer with "
    "ERROR_SUCCESS and the size (RC-10); rescheck follows RC-5, not the sample."
)
#: How rescheck sees which bytes a DLL wrote.
FILL_POLICY = (
    "The OutBuffer is filled before the call, twice with different bytes; a byte the DLL wrote "
    "is one that differs from a fill. A Python DLL that changes the bytearray's length has, in C "
    "terms, written past the caller's buffer."
)
#: Where the property-list pages differ (both control routines).
WELL_FORMED_POLICY = (
    "One ENDMARK may follow a property list's last value list: the GET pages say the list "
    "ends with one, the property-lists page's example has none. An answer whose BytesReturned "
    "is not credible (more than was written) is buffer-bounds', not judged here."
)
#: An optional answer that must be accurate (both control routines).
CHARACTERISTICS_POLICY = (
    "Answering the code is optional (the monitor's default sets the bit from the table), but "
    "an answer must be accurate: a false CLUS_CHAR_QUORUM makes the cluster pick a resource "
    "that cannot arbitrate."
)
#: Sizes of the fixed answers, and what they are.
FIXED = {
    "dword": (4, "a DWORD"),
    "flags": (4, "a DWORD of flags"),
    "class": (8, "a CLUS_RESOURCE_CLASS_INFO"),
}


@check(
    "ResourceControl.more-data",
    REQUIRED,
    entry_points=("ResourceControl",),
    statement=(
        "A code that returns data, given no OutBuffer, an empty one or one too small, returns "
        "ERROR_MORE_DATA with BytesReturned set to the size it needs."
    ),
    doc="S:nc-resapi-presource_control_routine",
    contract=("RC-5",),
    policy=NULL_BUFFER_POLICY,
    scenarios=CONTROL,
)
@check(
    "ResourceTypeControl.more-data",
    REQUIRED,
    entry_points=("ResourceTypeControl",),
    statement=(
        "A code that returns data, given no OutBuffer, an empty one or one too small, returns "
        "ERROR_MORE_DATA with BytesReturned set to the size it needs."
    ),
    doc="S:nc-resapi-presource_type_control_routine",
    contract=("RT-1", "RC-5"),
    policy=NULL_BUFFER_POLICY,
    scenarios=CONTROL,
)
def more_data(ctx: RunContext, entry: str) -> str:
    record = record_of(ctx, entry)
    probes = [p for p in record.probes.values() if p.required is not None]
    if not probes:
        raise NotApplicable(
            f"no control code returned data from {entry} with a credible BytesReturned"
            f"{_incredible(record)}, so no buffer was too small"
        )
    sizes = 0
    for found in probes:
        for small in judged(found.small):
            sizes += 1
            size = "no" if small.out_size is None else f"a {small.out_size}-byte"
            if small.status != ERROR_MORE_DATA or small.bytes_returned != found.required:
                raise fail(
                    record,
                    f"{control_code_name(found.code)} with {size} OutBuffer returned "
                    f"{error_name(small.status)} with BytesReturned {small.bytes_returned!r}; "
                    f"expected ERROR_MORE_DATA with BytesReturned {found.required}, the size of "
                    "the answer it gave a large enough buffer",
                    [found.first, small],
                    buffer_lines(small),
                )
    return (
        f"{counted(sizes, 'call')} with too small a buffer got ERROR_MORE_DATA and the size needed"
    )


@check(
    "ResourceControl.buffer-bounds",
    REQUIRED,
    entry_points=("ResourceControl",),
    statement=(
        "The DLL never writes past its OutBuffer, and with ERROR_SUCCESS BytesReturned is the "
        "number of bytes it wrote: never more than it wrote or than the buffer holds."
    ),
    doc="S:nc-resapi-presource_control_routine",
    contract=("RC-6", "PL-12"),
    policy=FILL_POLICY,
    scenarios=CONTROL,
)
@check(
    "ResourceTypeControl.buffer-bounds",
    REQUIRED,
    entry_points=("ResourceTypeControl",),
    statement=(
        "The DLL never writes past its OutBuffer, and with ERROR_SUCCESS BytesReturned is the "
        "number of bytes it wrote: never more than it wrote or than the buffer holds."
    ),
    doc="S:nc-resapi-presource_type_control_routine",
    contract=("RT-1", "RC-6"),
    policy=FILL_POLICY,
    scenarios=CONTROL,
)
def buffer_bounds(ctx: RunContext, entry: str) -> str:
    record = record_of(ctx, entry)
    # a NULL OutBuffer's answers are more-data's (RC-5)
    results = [r for r in judged(record.results()) if r.out is not None]
    for result in results:
        name = control_code_name(result.event.data["code"])
        if result.overran:
            raise fail(
                record,
                f"{name}: the DLL wrote past the end of its {result.out_size}-byte OutBuffer "
                f"({(result.grown_to or 0) - (result.out_size or 0)} bytes past it: in C, a write "
                "into memory that is not the caller's buffer)",
                [result],
                buffer_lines(result),
            )
        if result.status == ERROR_SUCCESS and result.bytes_returned > (result.out_size or 0):
            raise fail(
                record,
                f"{name} returned ERROR_SUCCESS with BytesReturned {result.bytes_returned}, more "
                f"than its {result.out_size}-byte OutBuffer holds",
                [result],
                buffer_lines(result),
            )
    for found in record.probes.values():
        pair = judged(r for r in (found.first, found.second) if r is not None)
        if len(pair) < 2 or any(r.status != ERROR_SUCCESS or r.overran for r in pair):
            continue
        written = max(r.written for r in pair)
        claimed = found.first.bytes_returned
        if claimed > written and claimed <= (found.first.out_size or 0):
            raise fail(
                record,
                f"{control_code_name(found.code)} returned BytesReturned {claimed}, but wrote "
                f"only {written} bytes (the rest of the buffer still holds the fill it was given, "
                "in two calls with different fills)",
                pair,
                buffer_lines(found.first),
            )
    return (
        f"{counted(len(results), 'call')} kept within their OutBuffer and counted what they wrote"
    )


def malformed(what: str, data: bytes) -> str | None:
    """Why ``data`` is not a well-formed answer of kind ``what``, or None."""
    try:
        if what in FIXED:
            size, name = FIXED[what]
            if len(data) != size:
                return f"BytesReturned is {len(data)}; the answer is {name}, {size} bytes"
            flags = struct.unpack("<I", data)[0]
            if what == "flags" and flags & 0xFFFF:
                return f"flags 0x{flags:08X}: a DLL's own flags use the upper 16 bits (CC-3)"
        elif what == "multi_sz":
            parse_multi_sz(data)
        elif what == "dependencies":
            values, end = parse_value_list(data)
            if end != len(data):
                return f"{len(data) - end} bytes follow the ENDMARK"
            odd = [
                v
                for v in values
                if v.syntax not in (CLUSPROP_SYNTAX_RESCLASS, CLUSPROP_SYNTAX_NAME)
            ]
            if odd:
                syntax = f"syntax 0x{odd[0].syntax:08X}"
                return f"{syntax} is neither a resource class nor a type name (CC-5)"
        elif what in ("proplist", "fmts"):
            return _property_list_problem(what, parse_property_list(data))
    except ProplistError as exc:
        return str(exc)
    return None


def _property_list_problem(what: str, props: list[Property]) -> str | None:
    for prop in props:
        formats = [v.format for v in prop.values]
        if what == "fmts":
            value = prop.values[0]
            if len(prop.values) != 1 or value.syntax != CLUSPROP_SYNTAX_LIST_VALUE_WORD:
                return f"property {prop.name!r}: a format list holds one CLUSPROP_WORD per property"
            if not valid_format(value.data):
                return f"property {prop.name!r}: {value.data} is no CLUSTER_PROPERTY_FORMAT"
        elif CLUSPROP_FORMAT_EXPAND_SZ in formats and CLUSPROP_FORMAT_EXPANDED_SZ not in formats:
            return f"property {prop.name!r}: an EXPAND_SZ value comes with its EXPANDED_SZ (PL-8)"
    return None


@check(
    "ResourceControl.well-formed-output",
    REQUIRED,
    entry_points=("ResourceControl",),
    statement=(
        "What the documented data codes return is well formed: DWORDs are 4 bytes (a DLL's own "
        "flags in the upper 16 bits), class info 8, dependencies a value list, ENUM a MULTI_SZ, "
        "GET and GET_RO property lists, FMTS a property list of one CLUSPROP_WORD per property."
    ),
    doc="W:property-lists",
    contract=("PL-1", "PL-2", "PL-3", "PL-4", "PL-8", "CC-3", "CC-4", "CC-5", "CC-8"),
    policy=WELL_FORMED_POLICY,
    scenarios=CONTROL,
)
@check(
    "ResourceTypeControl.well-formed-output",
    REQUIRED,
    entry_points=("ResourceTypeControl",),
    statement=(
        "What the documented data codes return is well formed: DWORDs are 4 bytes (a DLL's own "
        "flags in the upper 16 bits), class info 8, dependencies a value list, ENUM a MULTI_SZ, "
        "GET and GET_RO property lists, FMTS a property list of one CLUSPROP_WORD per property."
    ),
    doc="W:property-lists",
    contract=("CC-32", "CC-33", "CC-34", "CC-35", "PL-1", "PL-3"),
    policy=WELL_FORMED_POLICY,
    scenarios=CONTROL,
)
def well_formed(ctx: RunContext, entry: str) -> str:
    record = record_of(ctx, entry)
    answers = 0
    for found in record.probes.values():
        first = found.first
        if not judged([first]) or first.status != ERROR_SUCCESS or first.overran:
            continue
        if found.required is None and dword(first.bytes_returned) != 0:
            continue  # BytesReturned is not credible: buffer-bounds says why
        answers += 1
        problem = malformed(kind(found.code), first.data)
        if problem is not None:
            raise fail(
                record,
                f"the answer to {control_code_name(found.code)} is malformed: {problem}",
                [first],
                buffer_lines(first),
            )
    if not answers:
        raise NotApplicable(
            f"no documented data code was answered by {entry} with a credible BytesReturned"
            f"{_incredible(record)}"
        )
    return f"{counted(answers, 'answer')} well-formed"


def _incredible(record: ControlRecord) -> str:
    """Why answers that came back are not judged here, for a NotApplicable reason."""
    doubted = [
        p
        for p in record.probes.values()
        if judged([p.first])
        and p.first.status == ERROR_SUCCESS
        and p.required is None
        and dword(p.first.bytes_returned)
    ]
    return (
        f" ({counted(len(doubted), 'answer')} not credible: see buffer-bounds)" if doubted else ""
    )


@check(
    "ResourceControl.characteristics",
    REQUIRED,
    entry_points=("ResourceControl",),
    statement=(
        "GET_CHARACTERISTICS, when the DLL answers it, claims CLUS_CHAR_QUORUM only if Arbitrate "
        "and Release are both in the function table."
    ),
    doc="W:clusctl-resource-get-characteristics",
    contract=("CC-2", "AR-8", "CH-2"),
    policy=CHARACTERISTICS_POLICY,
    scenarios=CONTROL,
)
@check(
    "ResourceTypeControl.characteristics",
    REQUIRED,
    entry_points=("ResourceTypeControl",),
    statement=(
        "GET_CHARACTERISTICS, when the DLL answers it, claims CLUS_CHAR_QUORUM only if Arbitrate "
        "and Release are both in the function table."
    ),
    doc="W:clusctl-resource-type-get-characteristics",
    contract=("CC-31", "AR-8"),
    policy=CHARACTERISTICS_POLICY,
    scenarios=CONTROL,
)
def characteristics(ctx: RunContext, entry: str) -> str:
    record = record_of(ctx, entry)
    found = record.probe_of(CLUSCTL_RESOURCE_GET_CHARACTERISTICS)
    if found is None or not judged([found.first]) or found.first.status != ERROR_SUCCESS:
        raise NotApplicable("GET_CHARACTERISTICS is left to the Resource Monitor's default (CC-2)")
    if found.required != 4:
        raise NotApplicable("the answer is not a DWORD (see well-formed-output and buffer-bounds)")
    flags = struct.unpack("<I", found.first.data)[0]
    host = record.monitor.host
    if flags & CLUS_CHAR_QUORUM and not (host.has("Arbitrate") and host.has("Release")):
        missing = [e for e in ("Arbitrate", "Release") if not host.has(e)]
        raise fail(
            record,
            f"GET_CHARACTERISTICS claims CLUS_CHAR_QUORUM (0x{flags:X}), but "
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} NULL: only a type "
            "with both can be the quorum",
            [found.first],
            buffer_lines(found.first),
        )
    return f"characteristics 0x{flags:X} agree with the function table"
