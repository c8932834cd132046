"""Private properties of a resource and of a type through the control codes (CC-8..CC-13,
CC-36..CC-41, PL-10): the answers agree with each other and with the cluster database, and
SET validates before it writes."""

from __future__ import annotations

from typing import Any

from conformance.monitor.monitor import ControlResult, dword
from conformance.proplist import (
    ProplistError,
    describe_property_list,
    hexdump,
    parse_multi_sz,
    parse_property_list,
)
from conformance.resapi import (
    CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS,
    CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES,
    ERROR_INSUFFICIENT_BUFFER,
    ERROR_INVALID_DATA,
    ERROR_INVALID_FUNCTION,
    ERROR_INVALID_PARAMETER,
    ERROR_SUCCESS,
    RPC_X_BAD_STUB_DATA,
    control_code_name,
    error_name,
)
from conformance.rules import REQUIRED
from conformance.suite.checks.control_codes import (
    CONTROL,
    buffer_lines,
    fail,
    judged,
    record_of,
)
from conformance.suite.context import NotApplicable, RunContext, counted
from conformance.suite.controls import ACCEPTED, Change
from conformance.suite.registry import check

#: A type without private properties, as Microsoft's sample is.
INFO_POLICY = (
    "A type that declares no private properties may return ERROR_INVALID_FUNCTION for every "
    "private-property code (Microsoft's ClipBook sample does): reported as skipped, with that "
    "reason, unless its companion claims the 'private-properties' feature (which speaks of the "
    "resource's properties, not the type's)."
)
#: What a SET accepts and what is sent (both control routines).
SET_POLICY = (
    "Both ERROR_SUCCESS and ERROR_RESOURCE_PROPERTIES_STORED accept a SET (the type page also "
    "names ERROR_RESOURCE_TYPE_PROPERTIES_STORED, with no value; its return-value list gives "
    "5024); a VALIDATE accepts with ERROR_SUCCESS only. Sent: the values GET returned, each "
    "DWORD and SZ property changed and set back, each given a value of the wrong format, a "
    "valid change together with a wrong one (all or nothing), and read-only properties (only "
    "agreement is judged for those: no page requires SET to refuse them). A property's range "
    "is the DLL's own and unknown to rescheck, so out-of-range values are not sent. " + INFO_POLICY
)
#: What a SET or VALIDATE of a malformed buffer may return (CC-11, CC-12).
REFUSALS = (ERROR_INVALID_DATA, ERROR_INVALID_PARAMETER, ERROR_INSUFFICIENT_BUFFER)
#: ... and for a NULL InBuffer, what a caller sees through ClusterResourceControl (CC-11).
NULL_REFUSALS = (*REFUSALS, RPC_X_BAD_STUB_DATA)
CODES = {
    "ENUM": CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
    "GET": CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
    "GET_RO": CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES,
    "FMTS": CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS,
}


def _names(result: ControlResult) -> list[str] | None:
    """The names an ENUM answer lists; None when it cannot be read."""
    try:
        return parse_multi_sz(result.data)
    except ProplistError:
        return None


@check(
    "ResourceControl.private-properties",
    REQUIRED,
    entry_points=("ResourceControl",),
    statement=(
        "A resource type with private properties answers ENUM, GET, GET_RO and "
        "GET_PRIVATE_PROPERTY_FMTS, and the answers agree: read-only and read/write names are "
        "apart, GET returns every listed property that is stored, with the stored value and the "
        "format FMTS gives."
    ),
    doc="W:clusctl-resource-get-private-properties",
    contract=("CC-8", "CC-9", "CC-10", "CC-13", "PL-10"),
    policy=INFO_POLICY,
    scenarios=CONTROL,
)
@check(
    "ResourceTypeControl.private-properties",
    REQUIRED,
    entry_points=("ResourceTypeControl",),
    statement=(
        "A type with private properties answers ENUM, GET, GET_RO and GET_PRIVATE_PROPERTY_FMTS, "
        "and the answers agree: read-only and read/write names are apart, GET returns every "
        "listed property that is stored, with the stored value and the format FMTS gives."
    ),
    doc="W:clusctl-resource-type-get-private-properties",
    contract=("CC-36", "CC-37", "CC-38", "CC-41", "PL-10"),
    policy=(
        "GET_RO may be ERROR_INVALID_FUNCTION for a type without read-only properties (CC-37: "
        "conditional at type level, required at resource level). A type that declares no private "
        "properties may return ERROR_INVALID_FUNCTION for every private-property code (by default "
        "failover clusters define none, CC-41): reported as skipped, with that reason."
    ),
    scenarios=CONTROL,
)
def private_properties(ctx: RunContext, entry: str) -> str:
    record = record_of(ctx, entry)
    answers: dict[str, ControlResult] = {}
    for short, code in CODES.items():
        found = record.probe_of(code)
        if found is not None and judged([found.first]):
            answers[short] = found.first
    supported = {s for s, r in answers.items() if r.status == ERROR_SUCCESS}
    ro_left = answers.get("GET_RO")
    if (
        entry == "ResourceTypeControl"
        and supported
        and ro_left is not None
        and ro_left.status == ERROR_INVALID_FUNCTION
    ):
        supported.add("GET_RO")  # conditional for a type: only with read-only ones (CC-37)
        del answers["GET_RO"]
    fmts_left = answers.get("FMTS")
    if (
        entry == "ResourceTypeControl"
        and {"ENUM", "GET"} <= supported
        and fmts_left is not None
        and fmts_left.status == ERROR_INVALID_FUNCTION
        and _names(answers["ENUM"]) == []
    ):
        # conditional for a type that defines none: "Otherwise return ERROR_INVALID_FUNCTION"
        supported.add("FMTS")  # (CC-41); ENUM and GET answer with empty lists, as required
        del answers["FMTS"]
    if not supported:
        claimed = "private-properties" in ctx.target.companion.features
        if claimed and entry == "ResourceControl":  # the feature is the resource's properties
            raise fail(
                record,
                "the companion claims private properties, but no private-property code was "
                "answered with ERROR_SUCCESS",
                answers.values(),
            )
        raise NotApplicable(
            "the type declares no private properties: every private-property code returned "
            f"{error_name(ERROR_INVALID_FUNCTION)} (information; Microsoft's ClipBook sample "
            "does the same)"
        )
    missing = sorted(set(CODES) - supported)
    if missing:
        status = answers[missing[0]].status if missing[0] in answers else None
        raise fail(
            record,
            f"{control_code_name(record.code(CODES[missing[0]]))} returned {error_name(status)} "
            f"while {', '.join(sorted(supported))} succeeded: a type with private properties "
            "supports every private-property code (CC-8..CC-13, CC-36..CC-41)",
            answers.values(),
        )
    for short, result in answers.items():
        found = record.probe_of(CODES[short])
        if found is not None and found.required is None and dword(result.bytes_returned):
            raise NotApplicable(f"{short}'s BytesReturned is not credible (see buffer-bounds)")
    try:
        enum = {n.lower(): n for n in parse_multi_sz(answers["ENUM"].data)}
        get = parse_property_list(answers["GET"].data)
        ro = parse_property_list(answers["GET_RO"].data) if "GET_RO" in answers else []
        fmts = {
            p.name.lower(): p.values[0].data
            for p in (parse_property_list(answers["FMTS"].data) if "FMTS" in answers else [])
        }
    except ProplistError:
        raise NotApplicable("an answer is malformed (see well-formed-output)") from None
    events = list(answers.values())
    stored = {name.lower(): value for name, value in record.stored_at_probe.items()}
    for prop in ro:
        if prop.name.lower() in enum:
            raise fail(
                record,
                f"{prop.name!r} is listed both read-only (GET_RO) and read/write (ENUM)",
                events,
            )
    for prop in get:
        key = prop.name.lower()
        if key not in enum and key not in stored and key not in fmts:
            raise fail(
                record,
                f"GET_PRIVATE_PROPERTIES returns {prop.name!r}, which neither ENUM nor "
                "GET_PRIVATE_PROPERTY_FMTS lists and which is not stored under the Parameters key",
                events,
                buffer_lines(answers["GET"]),
            )
        if key in fmts and prop.values[0].format != fmts[key]:
            raise fail(
                record,
                f"{prop.name!r} is format {prop.values[0].format} in GET_PRIVATE_PROPERTIES but "
                f"{fmts[key]} in GET_PRIVATE_PROPERTY_FMTS",
                events,
            )
        if key in stored and stored[key] != prop.value:
            raise fail(
                record,
                f"GET_PRIVATE_PROPERTIES says {prop.name} = {prop.value!r}, but the cluster "
                f"database held {stored[key]!r} when it was asked",
                events,
                buffer_lines(answers["GET"]),
            )
    get_names = {p.name.lower() for p in get}
    for key, name in enum.items():
        if key in stored and key not in get_names:
            raise fail(
                record,
                f"{name!r} is listed by ENUM_PRIVATE_PROPERTIES and stored, but "
                "GET_PRIVATE_PROPERTIES does not return it",
                events,
            )
        if key not in fmts and key not in stored:  # a stored unknown property has no format
            raise fail(
                record,
                f"{name!r} is listed by ENUM_PRIVATE_PROPERTIES but has no format in "
                "GET_PRIVATE_PROPERTY_FMTS",
                events,
            )
    return (
        "ENUM, GET, GET_RO and GET_PRIVATE_PROPERTY_FMTS agree on "
        f"{counted(len(enum), 'read/write property', 'read/write properties')} "
        f"and {counted(len(ro), 'read-only one')}, and GET shows what the database held"
    )


def _shown(change: Change) -> list[str]:
    lines = [f"sent: {change.what}"]
    if change.sent is not None:
        lines += [f"  {line}" for line in describe_property_list(change.sent)]
        lines += [f"  {line}" for line in hexdump(change.sent, 128)]
    lines.append(f"database before: {change.before!r}"[:400])
    lines.append(f"database after SET: {change.after_set!r}"[:400])
    return lines


def _problem(change: Change) -> str | None:
    validated = change.validate.status == ERROR_SUCCESS  # 5024 is SET's alone (CC-12)
    applied = change.set.status in ACCEPTED
    if change.after_validate != change.before:
        return "VALIDATE_PRIVATE_PROPERTIES changed the cluster database"
    if change.valid is True and not applied:
        return f"SET_PRIVATE_PROPERTIES refused valid input with {error_name(change.set.status)}"
    if change.valid is False and (applied or validated):
        which, status = (
            ("SET", change.set.status) if applied else ("VALIDATE", change.validate.status)
        )
        return f"{which}_PRIVATE_PROPERTIES accepted invalid input ({error_name(status)})"
    if validated != applied:
        return (
            f"VALIDATE returned {error_name(change.validate.status)} but SET returned "
            f"{error_name(change.set.status)}: VALIDATE must refuse exactly what SET refuses"
        )
    if not applied and change.after_set != change.before:
        refused = error_name(change.set.status)
        return f"SET_PRIVATE_PROPERTIES refused ({refused}) but changed the database"
    if applied and change.expected is not None and change.get is not None:
        shown = _value_in(change.get, change.expected.name)
        if shown != change.expected.value:
            return (
                f"after SET accepted {change.expected.name} = {change.expected.value!r}, "
                f"GET_PRIVATE_PROPERTIES shows {shown!r}"
            )
    return None


@check(
    "ResourceControl.set-private-properties",
    REQUIRED,
    entry_points=("ResourceControl",),
    statement=(
        "SET_PRIVATE_PROPERTIES validates before it writes: VALIDATE refuses exactly what SET "
        "refuses and writes nothing; a refused SET changes nothing; an accepted one is what GET "
        "returns next; values of the wrong format are refused."
    ),
    doc="W:clusctl-resource-set-private-properties",
    contract=("CC-11", "CC-12"),
    policy=SET_POLICY,
    scenarios=CONTROL,
)
@check(
    "ResourceTypeControl.set-private-properties",
    REQUIRED,
    entry_points=("ResourceTypeControl",),
    statement=(
        "SET_PRIVATE_PROPERTIES validates before it writes: VALIDATE refuses exactly what SET "
        "refuses and writes nothing; a refused SET changes nothing; an accepted one is what GET "
        "returns next; values of the wrong format are refused."
    ),
    doc="W:clusctl-resource-type-set-private-properties",
    contract=("CC-39", "CC-40"),
    policy=SET_POLICY,
    scenarios=CONTROL,
)
def set_private_properties(ctx: RunContext, entry: str) -> str:
    record = record_of(ctx, entry)
    changes = [c for c in record.changes if len(judged([c.validate, c.set])) == 2]
    if not changes:
        raise NotApplicable(
            f"GET_PRIVATE_PROPERTIES gave nothing to set (see {entry}.private-properties)"
        )
    for change in changes:
        problem = _problem(change)
        if problem is not None:
            events = [change.validate, change.set, *([change.get] if change.get else [])]
            raise fail(record, f"{change.what}: {problem}", events, _shown(change))
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


@check(
    "ResourceControl.malformed-input",
    REQUIRED,
    entry_points=("ResourceControl",),
    statement=(
        "SET and VALIDATE_PRIVATE_PROPERTIES refuse a malformed property list (NULL, random "
        "bytes, truncated, wrong counts or lengths) with ERROR_INVALID_PARAMETER, "
        "ERROR_INVALID_DATA or ERROR_INSUFFICIENT_BUFFER, and leave the database as it was."
    ),
    doc="W:clusctl-resource-set-private-properties",
    contract=("CC-11", "CC-12"),
    policy=(
        "For a NULL InBuffer, RPC_X_BAD_STUB_DATA (what callers of the cluster API see) is "
        "accepted too. Raising instead is the ResourceControl.returns rule's. Sent to any DLL "
        "that validates property lists itself (VALIDATE of an empty list is not "
        "ERROR_INVALID_FUNCTION)."
    ),
    scenarios=CONTROL,
)
@check(
    "ResourceTypeControl.malformed-input",
    REQUIRED,
    entry_points=("ResourceTypeControl",),
    statement=(
        "SET and VALIDATE_PRIVATE_PROPERTIES refuse a malformed property list (NULL, random "
        "bytes, truncated, wrong counts or lengths) with ERROR_INVALID_PARAMETER, "
        "ERROR_INVALID_DATA or ERROR_INSUFFICIENT_BUFFER, and leave the database as it was."
    ),
    doc="W:clusctl-resource-type-set-private-properties",
    contract=("CC-39", "CC-40"),
    policy=(
        "For a NULL InBuffer, RPC_X_BAD_STUB_DATA (what callers of the cluster API see) is "
        "accepted too. Raising instead is the ResourceTypeControl.returns rule's. Sent to any DLL "
        "that validates property lists itself (VALIDATE of an empty list is not "
        "ERROR_INVALID_FUNCTION)."
    ),
    scenarios=CONTROL,
)
def malformed_input(ctx: RunContext, entry: str) -> str:
    record = record_of(ctx, entry)
    changes = [c for c in record.malformed if len(judged([c.validate, c.set])) == 2]
    if not changes:
        raise NotApplicable(
            "VALIDATE_PRIVATE_PROPERTIES is left to the Resource Monitor (the type has no "
            "private properties), so no malformed list was sent"
        )
    for change in changes:
        allowed = NULL_REFUSALS if change.sent is None else REFUSALS
        for what, result in (("VALIDATE", change.validate), ("SET", change.set)):
            if result.status not in allowed:
                raise fail(
                    record,
                    f"{what}_PRIVATE_PROPERTIES given {change.what} returned "
                    f"{error_name(result.status)}; expected one of "
                    f"{', '.join(error_name(s) for s in allowed)}",
                    [result],
                    _shown(change),
                )
        if change.after_set != change.before or change.after_validate != change.before:
            raise fail(
                record,
                f"{change.what} changed the cluster database",
                [change.validate, change.set],
                _shown(change),
            )
    buffers = counted(len(changes), "malformed buffer")
    unanswered = len(record.malformed) - len(changes)
    also = (
        f"; {unanswered} more got no status back (see {entry}.returns and {entry}.return-code)"
        if unanswered
        else ""
    )
    return f"{buffers} refused by VALIDATE and SET, the database untouched{also}"
