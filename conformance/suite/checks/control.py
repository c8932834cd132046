"""ResourceControl and ResourceTypeControl (CONTRACT.md §6): control codes, buffers, property
lists and private properties, judged on the record of the "control" scenario (`controls`)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from conformance.monitor.monitor import ControlResult
from conformance.proplist import (
    Property,
    ProplistError,
    describe_property_list,
    hexdump,
    parse_multi_sz,
    parse_property_list,
    parse_value_list,
    valid_syntax,
)
from conformance.resapi import (
    CLUS_CHAR_QUORUM,
    CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_GET_CLASS_INFO,
    CLUSCTL_RESOURCE_GET_FLAGS,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS,
    CLUSCTL_RESOURCE_GET_REQUIRED_DEPENDENCIES,
    CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT,
    CLUSPROP_FORMAT_EXPAND_SZ,
    CLUSPROP_FORMAT_EXPANDED_SZ,
    CLUSPROP_SYNTAX_LIST_VALUE_WORD,
    CLUSPROP_SYNTAX_NAME,
    CLUSPROP_SYNTAX_RESCLASS,
    DWORD_MAX,
    ERROR_INSUFFICIENT_BUFFER,
    ERROR_INVALID_DATA,
    ERROR_INVALID_FUNCTION,
    ERROR_INVALID_PARAMETER,
    ERROR_MORE_DATA,
    ERROR_SUCCESS,
    RPC_X_BAD_STUB_DATA,
    control_code_name,
    error_name,
)
from conformance.suite.context import NotApplicable, RunContext, Violation, counted
from conformance.suite.controls import ACCEPTED, Change, ControlRecord, Probe
from conformance.suite.registry import check

ENTRIES = ("ResourceControl", "ResourceTypeControl")
#: What a SET or VALIDATE of a malformed buffer may return (CC-11, CC-12).
REFUSALS = (ERROR_INVALID_DATA, ERROR_INVALID_PARAMETER, ERROR_INSUFFICIENT_BUFFER)
#: ... and for a NULL InBuffer, what a caller sees through ClusterResourceControl (CC-11).
NULL_REFUSALS = (*REFUSALS, RPC_X_BAD_STUB_DATA)


def _record(ctx: RunContext, entry: str) -> ControlRecord:
    run = ctx.scenario("control")
    record = run.notes.get(entry)
    if record is None:
        monitors = run.monitors
        if monitors and monitors[0].host.loaded and not monitors[0].host.has(entry):
            raise NotApplicable(f"{entry} is NULL (see FunctionTable.control-routines)")
        raise ctx.nothing_to_judge(f"{entry} was not called", [run])
    return record


def _judged(results: list[ControlResult]) -> list[ControlResult]:
    """Calls that came back with the pinned ``(status, BytesReturned)``: the rest are judged by
    the .returns and .return-code rules."""
    return [r for r in results if r.returned and r.shaped and not r.event.cut_short]


def _fail(record: ControlRecord, message: str, results: list[ControlResult], lines=()) -> Violation:
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
    if _kind(result.event.data.get("code", 0)) in ("proplist", "fmts") and result.data:
        decoded = ["decoded:", *(f"  {line}" for line in describe_property_list(result.data))]
    claimed = result.bytes_returned if isinstance(result.bytes_returned, int) else 0
    shown = min(len(result.out), -(-max(result.written, claimed, 1) // 16) * 16)
    dump = [f"  {line}" for line in hexdump(result.out[:shown])]
    if shown < len(result.out):
        dump.append(f"  bytes {shown}..{len(result.out)} hold the fill (not written)")
    return [head, *decoded, "hex:", *dump]


def _kind(code: int) -> str:
    """What the answer to a data code is, by its function (the same for both objects)."""
    function = code & 0x00FFFFFF
    kinds = {
        CLUSCTL_RESOURCE_GET_CHARACTERISTICS: "dword",
        CLUSCTL_RESOURCE_GET_FLAGS: "flags",
        CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT: "dword",
        CLUSCTL_RESOURCE_GET_CLASS_INFO: "class",
        CLUSCTL_RESOURCE_GET_REQUIRED_DEPENDENCIES: "dependencies",
        CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES: "multi_sz",
        CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES: "proplist",
        CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES: "proplist",
        CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS: "fmts",
    }
    return {k & 0x00FFFFFF: v for k, v in kinds.items()}.get(function, "other")


def _each(rule: str, fn: Callable[[RunContext, str], str]) -> None:
    for entry in ENTRIES:
        check(f"{entry}.{rule}")(lambda ctx, entry=entry: fn(ctx, entry))


# --- the result's shape ----------------------------------------------------------------------
def _return_code(ctx: RunContext, entry: str) -> str:
    record = _record(ctx, entry)
    back = [r for r in record.results() if r.returned and not r.event.cut_short]
    for result in back:
        value = result.event.result
        if not result.shaped:
            raise _fail(
                record,
                f"{entry} returned {result.event.result!r}; the pinned mapping is a tuple "
                "(status, BytesReturned)",
                [result],
            )
        for what, number in (("status", result.status), ("BytesReturned", result.bytes_returned)):
            if not (
                isinstance(number, int)
                and not isinstance(number, bool)
                and 0 <= number <= DWORD_MAX
            ):
                raise _fail(
                    record, f"{entry} returned {value!r}: its {what} is not a DWORD", [result]
                )
    return f"{counted(len(back), 'call')} returned (status, BytesReturned) as DWORDs"


_each("return-code", _return_code)


# --- which codes are answered ----------------------------------------------------------------
def _unknown(ctx: RunContext, entry: str) -> str:
    record = _record(ctx, entry)
    result = record.unknown
    if result is None or not _judged([result]):
        raise ctx.nothing_to_judge(
            "the UNKNOWN control code got no answer", [ctx.scenario("control")]
        )
    name = control_code_name(result.event.data["code"])
    if entry == "ResourceControl":
        if result.status != ERROR_SUCCESS:
            raise _fail(
                record,
                f"{name} returned {error_name(result.status)}; it must return ERROR_SUCCESS, or "
                "applications conclude that no DLL processes control codes for the resource",
                [result],
            )
        return f"{name} returned ERROR_SUCCESS"
    supported = [
        p.first
        for p in record.probes.values()
        if _judged([p.first]) and p.first.status != ERROR_INVALID_FUNCTION
    ]
    if supported and result.status != ERROR_SUCCESS:
        raise _fail(
            record,
            f"{name} returned {error_name(result.status)}, but the DLL supports other type codes "
            f"({control_code_name(supported[0].event.data['code'])} among them): it must return "
            "ERROR_SUCCESS",
            [result, supported[0]],
        )
    if result.status not in (ERROR_SUCCESS, ERROR_INVALID_FUNCTION):
        raise _fail(
            record,
            f"{name} returned {error_name(result.status)}; it returns ERROR_SUCCESS when the DLL "
            "supports another type code, ERROR_INVALID_FUNCTION otherwise",
            [result],
        )
    others = counted(len(supported), "other type code")
    return f"{name} returned {error_name(result.status)} ({others} supported)"


_each("unknown", _unknown)


def _codes_answer(attribute: str, what: str) -> Callable[[RunContext, str], str]:
    def judge(ctx: RunContext, entry: str) -> str:
        record = _record(ctx, entry)
        results = _judged(getattr(record, attribute))
        if not results:
            raise ctx.nothing_to_judge(f"no {what} got an answer", [ctx.scenario("control")])
        for result in results:
            if result.status != ERROR_INVALID_FUNCTION:
                raise _fail(
                    record,
                    f"{control_code_name(result.event.data['code'])} ({what}) returned "
                    f"{error_name(result.status)}; expected ERROR_INVALID_FUNCTION",
                    [result],
                    buffer_lines(result),
                )
        return f"{counted(len(results), what)} returned ERROR_INVALID_FUNCTION"

    return judge


_each("unsupported-codes", _codes_answer("undocumented", "undocumented code"))
_each("common-properties", _codes_answer("common", "common-property code"))


# --- buffers ---------------------------------------------------------------------------------
def _answering(record: ControlRecord) -> list[Probe]:
    return [p for p in record.probes.values() if p.required is not None and _judged([p.first])]


def _more_data(ctx: RunContext, entry: str) -> str:
    record = _record(ctx, entry)
    probes = _answering(record)
    if not probes:
        raise NotApplicable(
            f"no control code returned data from {entry}, so no buffer was too small"
        )
    sizes = 0
    for found in probes:
        for small in _judged(found.small):
            sizes += 1
            size = "no" if small.out_size is None else f"a {small.out_size}-byte"
            name = control_code_name(found.code)
            if small.status != ERROR_MORE_DATA or small.bytes_returned != found.required:
                raise _fail(
                    record,
                    f"{name} with {size} OutBuffer returned {error_name(small.status)} with "
                    f"BytesReturned {small.bytes_returned!r}; expected ERROR_MORE_DATA with "
                    f"BytesReturned {found.required}, the size it needs",
                    [found.first, small],
                    buffer_lines(small),
                )
    return (
        f"{counted(sizes, 'call')} with too small a buffer got ERROR_MORE_DATA and the size needed"
    )


_each("more-data", _more_data)


def _buffer_bounds(ctx: RunContext, entry: str) -> str:
    record = _record(ctx, entry)
    results = _judged(record.results())
    for result in results:
        name = control_code_name(result.event.data["code"])
        if result.resized:
            raise _fail(
                record,
                f"{name}: the DLL changed the length of its {result.out_size}-byte OutBuffer to "
                f"{len(result.out or b'')} bytes (in C, a write past the end of the caller's "
                "buffer)",
                [result],
                buffer_lines(result),
            )
        if result.status != ERROR_SUCCESS:
            continue  # BytesReturned is unreliable after any other status (RC-6)
        limit = result.out_size or 0
        if result.bytes_returned > limit:
            raise _fail(
                record,
                f"{name} returned ERROR_SUCCESS with BytesReturned {result.bytes_returned}, more "
                f"than its OutBuffer holds ({'NULL' if result.out_size is None else limit} bytes)",
                [result],
                buffer_lines(result),
            )
    for found in record.probes.values():
        pair = [r for r in (found.first, found.second) if r is not None]
        if len(pair) < 2 or not all(r.status == ERROR_SUCCESS for r in _judged(pair)):
            continue
        written = max(r.written for r in pair)
        if found.first.bytes_returned > written:
            raise _fail(
                record,
                f"{control_code_name(found.code)} returned BytesReturned "
                f"{found.first.bytes_returned}, but wrote only {written} bytes (the rest of the "
                "buffer still holds the fill it was given, in two calls with different fills)",
                pair,
                buffer_lines(found.first),
            )
    return (
        f"{counted(len(results), 'call')} kept within their OutBuffer and counted what they wrote"
    )


_each("buffer-bounds", _buffer_bounds)


# --- what the answers hold -------------------------------------------------------------------
def _malformed(kind: str, data: bytes) -> str | None:
    """Why ``data`` is not a well-formed answer of ``kind``, or None."""
    fixed = {"dword": 4, "flags": 4, "class": 8}
    try:
        if kind in fixed:
            if len(data) != fixed[kind]:
                return f"{len(data)} bytes; the answer is {fixed[kind]} bytes"
            if kind == "flags" and struct.unpack("<I", data)[0] & 0xFFFF:
                flags = struct.unpack("<I", data)[0]
                return f"flags 0x{flags:08X}: a DLL's own flags use the upper 16 bits (CC-3)"
        elif kind == "multi_sz":
            parse_multi_sz(data)
        elif kind == "dependencies":
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
        elif kind in ("proplist", "fmts"):
            return _property_list_problem(kind, parse_property_list(data))
    except ProplistError as exc:
        return str(exc)
    return None


def _property_list_problem(kind: str, props: list[Property]) -> str | None:
    for prop in props:
        formats = [v.format for v in prop.values]
        if kind == "fmts":
            value = prop.values[0]
            if len(prop.values) != 1 or value.syntax != CLUSPROP_SYNTAX_LIST_VALUE_WORD:
                return f"property {prop.name!r}: a format list holds one CLUSPROP_WORD per property"
            if not valid_syntax(value.data):
                return f"property {prop.name!r}: {value.data} is no CLUSTER_PROPERTY_FORMAT"
        elif CLUSPROP_FORMAT_EXPAND_SZ in formats and CLUSPROP_FORMAT_EXPANDED_SZ not in formats:
            return f"property {prop.name!r}: an EXPAND_SZ value comes with its EXPANDED_SZ (PL-8)"
    return None


def _well_formed(ctx: RunContext, entry: str) -> str:
    record = _record(ctx, entry)
    judged = 0
    for found in record.probes.values():
        first = found.first
        if not _judged([first]) or first.status != ERROR_SUCCESS or first.resized:
            continue
        judged += 1
        problem = _malformed(_kind(found.code), first.data)
        if problem is not None:
            raise _fail(
                record,
                f"the answer to {control_code_name(found.code)} is malformed: {problem}",
                [first],
                buffer_lines(first),
            )
    if not judged:
        raise NotApplicable(f"no documented data code was answered by {entry}")
    return f"{counted(judged, 'answer')} well-formed"


_each("well-formed-output", _well_formed)


def _characteristics(ctx: RunContext, entry: str) -> str:
    record = _record(ctx, entry)
    code = CLUSCTL_RESOURCE_GET_CHARACTERISTICS & 0x00FFFFFF
    found = next((p for c, p in record.probes.items() if c & 0x00FFFFFF == code), None)
    if found is None or not _judged([found.first]) or found.first.status != ERROR_SUCCESS:
        raise NotApplicable("GET_CHARACTERISTICS is left to the Resource Monitor's default (CC-2)")
    if len(found.first.data) != 4:
        raise NotApplicable("the answer is not a DWORD (see well-formed-output)")
    flags = struct.unpack("<I", found.first.data)[0]
    host = record.monitor.host
    quorum_capable = host.has("Arbitrate") and host.has("Release")
    if flags & CLUS_CHAR_QUORUM and not quorum_capable:
        missing = [e for e in ("Arbitrate", "Release") if not host.has(e)]
        raise _fail(
            record,
            f"GET_CHARACTERISTICS claims CLUS_CHAR_QUORUM (0x{flags:X}), but "
            f"{' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} NULL: only a type with both can be the quorum",
            [found.first],
            buffer_lines(found.first),
        )
    return f"characteristics 0x{flags:X} agree with the function table"


_each("characteristics", _characteristics)


# --- private properties (ResourceControl) ----------------------------------------------------
def _answer(record: ControlRecord, function: int) -> tuple[ControlResult | None, Any]:
    found = record.probes.get(function)
    if found is None or not _judged([found.first]):
        return None, None
    return found.first, found.first.status


@check("ResourceControl.private-properties")
def private_properties(ctx: RunContext) -> str:
    record = _record(ctx, "ResourceControl")
    codes = {
        "ENUM": CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
        "GET": CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
        "GET_RO": CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES,
        "FMTS": CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS,
    }
    answers = {short: _answer(record, code) for short, code in codes.items()}
    supported = {s for s, (_, status) in answers.items() if status == ERROR_SUCCESS}
    if not supported:
        if "private-properties" in ctx.target.companion.features:
            raise _fail(
                record,
                "the companion claims private properties, but no private-property code was "
                "answered with ERROR_SUCCESS",
                [r for r, _ in answers.values() if r is not None],
            )
        raise NotApplicable(
            "the type declares no private properties: every private-property code returned "
            f"{error_name(ERROR_INVALID_FUNCTION)} (information; Microsoft's ClipBook sample "
            "does the same)"
        )
    missing = set(codes) - supported
    if missing:
        short = sorted(missing)[0]
        _, status = answers[short]
        raise _fail(
            record,
            f"{control_code_name(codes[short])} returned {error_name(status)} while "
            f"{', '.join(sorted(supported))} succeeded: a type with private properties supports "
            "every private-property code (CC-8..CC-13)",
            [r for r, _ in answers.values() if r is not None],
        )
    try:
        enum = {n.lower(): n for n in parse_multi_sz(answers["ENUM"][0].data)}
        get = parse_property_list(answers["GET"][0].data)
        ro = parse_property_list(answers["GET_RO"][0].data)
        fmts = {
            p.name.lower(): p.values[0].data for p in parse_property_list(answers["FMTS"][0].data)
        }
    except (ProplistError, IndexError):
        raise NotApplicable(
            "an answer is malformed (see ResourceControl.well-formed-output)"
        ) from None
    events = [r for r, _ in answers.values()]
    stored = {
        name.lower(): value for name, value in (record.stored() if record.stored else {}).items()
    }
    for prop in ro:
        if prop.name.lower() in enum:
            raise _fail(
                record,
                f"{prop.name!r} is listed both read-only (GET_RO) and read/write (ENUM)",
                events,
            )
    for prop in get:
        key = prop.name.lower()
        if key not in enum and key not in stored:
            raise _fail(
                record,
                f"GET_PRIVATE_PROPERTIES returns {prop.name!r}, which ENUM_PRIVATE_PROPERTIES does "
                "not list and which is not stored under the resource's Parameters key",
                events,
                buffer_lines(answers["GET"][0]),
            )
        if key in fmts and prop.values[0].format != fmts[key]:
            raise _fail(
                record,
                f"{prop.name!r} is format {prop.values[0].format} in GET_PRIVATE_PROPERTIES but "
                f"{fmts[key]} in GET_PRIVATE_PROPERTY_FMTS",
                events,
            )
        if key in stored and stored[key] != prop.value:
            raise _fail(
                record,
                f"GET_PRIVATE_PROPERTIES says {prop.name} = {prop.value!r}, but the cluster "
                f"database holds {stored[key]!r}",
                events,
                buffer_lines(answers["GET"][0]),
            )
    get_names = {p.name.lower() for p in get}
    for key, name in enum.items():
        if key in stored and key not in get_names:
            raise _fail(
                record,
                f"{name!r} is listed by ENUM_PRIVATE_PROPERTIES and stored, but "
                "GET_PRIVATE_PROPERTIES does not return it",
                events,
            )
        if key not in fmts:
            raise _fail(
                record,
                f"{name!r} is listed by ENUM_PRIVATE_PROPERTIES but has no format in "
                "GET_PRIVATE_PROPERTY_FMTS",
                events,
            )
    return (
        "ENUM, GET, GET_RO and GET_PRIVATE_PROPERTY_FMTS agree on "
        f"{counted(len(enum), 'read/write property', 'read/write properties')} "
        f"and {counted(len(ro), 'read-only one')}, and GET shows what the database holds"
    )


def _changed_db(change: Change) -> str | None:
    if change.after_validate != change.before:
        return "VALIDATE_PRIVATE_PROPERTIES changed the cluster database"
    return None


def _shown(change: Change) -> list[str]:
    sent = "NULL" if change.sent is None else None
    lines = [f"sent: {change.what}"]
    if sent is None and change.sent is not None:
        lines += [f"  {line}" for line in describe_property_list(change.sent)]
        lines += [f"  {line}" for line in hexdump(change.sent, 128)]
    lines.append(f"database before: {change.before!r}"[:400])
    lines.append(f"database after SET: {change.after_set!r}"[:400])
    return lines


@check("ResourceControl.set-private-properties")
def set_private_properties(ctx: RunContext) -> str:
    record = _record(ctx, "ResourceControl")
    changes = [c for c in record.changes if _judged([c.validate, c.set])]
    if not changes:
        raise NotApplicable(
            "GET_PRIVATE_PROPERTIES gave nothing to set (see ResourceControl.private-properties)"
        )
    for change in changes:
        events = [change.validate, change.set, *([change.get] if change.get else [])]
        problem = _changed_db(change)
        valid, validated, applied = (
            change.valid,
            change.validate.status in ACCEPTED,
            change.set.status in ACCEPTED,
        )
        if problem is None and valid is True and not applied:
            problem = (
                f"SET_PRIVATE_PROPERTIES refused valid input with {error_name(change.set.status)}"
            )
        if problem is None and valid is False and (applied or validated):
            which = "SET" if applied else "VALIDATE"
            status = change.set.status if applied else change.validate.status
            problem = f"{which}_PRIVATE_PROPERTIES accepted invalid input ({error_name(status)})"
        if problem is None and validated != applied:
            problem = (
                f"VALIDATE returned {error_name(change.validate.status)} but SET returned "
                f"{error_name(change.set.status)}: VALIDATE must refuse exactly what SET refuses"
            )
        if problem is None and not applied and change.after_set != change.before:
            refused = error_name(change.set.status)
            problem = f"SET_PRIVATE_PROPERTIES refused ({refused}) but changed the database"
        if problem is None and applied and change.expected is not None and change.get is not None:
            shown = _value_in(change.get, change.expected.name)
            if shown != change.expected.value:
                problem = (
                    f"after SET accepted {change.expected.name} = {change.expected.value!r}, "
                    f"GET_PRIVATE_PROPERTIES shows {shown!r}"
                )
        if problem is not None:
            raise _fail(record, f"{change.what}: {problem}", events, _shown(change))
    pairs = counted(len(changes), "VALIDATE/SET pair")
    return f"{pairs} agreed, stored what they accepted and nothing else"


def _value_in(result: ControlResult, name: str) -> Any:
    try:
        for prop in parse_property_list(result.data):
            if prop.name.lower() == name.lower():
                return prop.value
    except ProplistError:
        return "<a malformed property list>"
    return "<absent>"


@check("ResourceControl.malformed-input")
def malformed_input(ctx: RunContext) -> str:
    record = _record(ctx, "ResourceControl")
    changes = [c for c in record.malformed if _judged([c.validate, c.set])]
    if not changes:
        raise NotApplicable(
            "GET_PRIVATE_PROPERTIES gave nothing to set, so no malformed list was sent"
        )
    for change in changes:
        allowed = NULL_REFUSALS if change.sent is None else REFUSALS
        for what, result in (("VALIDATE", change.validate), ("SET", change.set)):
            if result.status not in allowed:
                raise _fail(
                    record,
                    f"{what}_PRIVATE_PROPERTIES given {change.what} returned "
                    f"{error_name(result.status)}; expected one of "
                    f"{', '.join(error_name(s) for s in allowed)}",
                    [result],
                    _shown(change),
                )
        if change.after_set != change.before or change.after_validate != change.before:
            raise _fail(
                record,
                f"{change.what} changed the cluster database",
                [change.validate, change.set],
                _shown(change),
            )
    buffers = counted(len(changes), "malformed buffer")
    return f"{buffers} refused by VALIDATE and SET, the database untouched"
