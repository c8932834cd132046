"""ResourceControl and ResourceTypeControl (docs/contract.md §6): which codes are answered and how,
judged on the record of the "control" scenario (`conformance.suite.controls`). The helpers
here serve `buffers` and `properties` too."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable

from conformance.monitor.monitor import ControlResult, dword
from conformance.proplist import describe_property_list, hexdump
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
    ERROR_INVALID_FUNCTION,
    ERROR_MORE_DATA,
    ERROR_SUCCESS,
    control_code_name,
    error_name,
)
from conformance.runtime.trace import short_repr
from conformance.suite.context import NotApplicable, RunContext, Violation, counted
from conformance.suite.controls import ControlRecord
from conformance.suite.registry import check

ENTRIES = ("ResourceControl", "ResourceTypeControl")
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


def each(rule: str, fn: Callable[[RunContext, str], str]) -> None:
    """Register ``fn`` as the check of ``<entry>.<rule>`` for both control entry points."""
    for entry in ENTRIES:
        check(f"{entry}.{rule}")(lambda ctx, entry=entry: fn(ctx, entry))


# --- the result's shape ----------------------------------------------------------------------
def _return_code(ctx: RunContext, entry: str) -> str:
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


each("return-code", _return_code)


# --- which codes are answered ----------------------------------------------------------------
def _unknown(ctx: RunContext, entry: str) -> str:
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


each("unknown", _unknown)


def _codes_answer(attribute: str, what: str) -> Callable[[RunContext, str], str]:
    def judge(ctx: RunContext, entry: str) -> str:
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

    return judge


each("unsupported-codes", _codes_answer("undocumented", "undocumented code"))
each("common-properties", _codes_answer("common", "common-property code"))


def _characteristics(ctx: RunContext, entry: str) -> str:
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


each("characteristics", _characteristics)
