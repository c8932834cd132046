"""Private properties of a resource and of a type through the control codes (CC-8..CC-13,
CC-36..CC-41, PL-10): the answers agree with each other and with the cluster database, and
SET validates before it writes."""

from __future__ import annotations

import re
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
from conformance.suite.checks.control_codes import buffer_lines, each, fail, judged, record_of
from conformance.suite.checks.entry_points import ALL
from conformance.suite.context import CannotJudge, NotApplicable, RunContext, Violation, counted
from conformance.suite.controls import ACCEPTED, Change
from conformance.suite.registry import check

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


def _private_properties(ctx: RunContext, entry: str) -> str:
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


each("private-properties", _private_properties)


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


def _set_private_properties(ctx: RunContext, entry: str) -> str:
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


each("set-private-properties", _set_private_properties)


def _value_in(result: ControlResult, name: str) -> Any:
    try:
        for prop in parse_property_list(result.data):
            if prop.name.lower() == name.lower():
                return prop.value
    except ProplistError:
        return "<a malformed property list>"
    return "<absent>"


def _malformed_input(ctx: RunContext, entry: str) -> str:
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


each("malformed-input", _malformed_input)


@check("ResourceControl.stored-properties")
def stored_properties(ctx: RunContext) -> str:
    run = ctx.scenario("stored-properties")
    if "no_probe" in run.notes:
        raise NotApplicable(f"cannot see the entity: {run.notes['no_probe']}")
    if "not_running" in run.notes:
        raise NotApplicable(f"cannot judge: {run.notes['not_running']}")
    if run.stop is not None and run.stop.rule is None:
        raise CannotJudge(f"the scenario stopped early: {run.stop.reason}")
    changes = [c for c in run.notes.get("changes", []) if c.observable]
    if not changes:
        what = "no private property was changed while online"
        if run.notes.get("changes"):
            what = "the companion's probe does not tell the changed values from the old ones"
        raise ctx.nothing_to_judge(what, [run])
    trace = run.traces[0]
    for change in changes:
        if change.seen:
            continue
        status = error_name(change.result.status)
        if change.result.status == ERROR_SUCCESS:
            why = (
                "yet the companion's probe, given the new values, does not find the entity: a "
                "change that takes effect only at the next Online is answered "
                "ERROR_RESOURCE_PROPERTIES_STORED"
            )
        else:
            why = (
                "yet the entity no longer runs with the values it had: STORED says the change "
                "takes effect at the next Online"
            )
        raise Violation(
            f"SET of {change.name} = {change.value!r} while online returned {status}, {why}",
            trace,
            [change.result.event],
            [f"values the probe was given: {change.in_effect!r}"[:400]],
        )
    return f"{counted(len(changes), 'change')} made while online: each in effect as its status said"


#: A resource's own private properties (not its type's, nor its common ones).
_RESOURCE_PARAMETERS = re.compile(r"^Resources\\[^\\]+\\Parameters$", re.IGNORECASE)


@check("ResourceControl.declares-read-properties")
def declares_read_properties(ctx: RunContext) -> str:
    record = record_of(ctx, "ResourceControl")
    declared: set[str] = set()
    for code in (
        CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
        CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES,
    ):
        found = record.probe_of(code)
        answered = (
            found is not None and judged([found.first]) and found.first.status == ERROR_SUCCESS
        )
        if not answered and code == CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES:
            raise NotApplicable(
                "the DLL does not answer ENUM_PRIVATE_PROPERTIES itself: the cluster's default "
                "processing lists, gets and sets whatever the Parameters key holds"
            )
        if not answered:
            continue
        try:
            if code == CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES:
                names = parse_multi_sz(found.first.data)
            else:
                names = [p.name for p in parse_property_list(found.first.data)]
        except ProplistError:
            raise NotApplicable("an answer is malformed (see well-formed-output)") from None
        declared.update(n.lower() for n in names)
    runs = ctx.scenarios(*ALL)
    reads = [
        (trace, event)
        for run in runs
        for trace, event in run.events(name="ClusterRegQueryValue")
        if _RESOURCE_PARAMETERS.match(str(event.args.get("key", "")))
        and isinstance(event.args.get("name"), str)
    ]
    if not reads:
        raise ctx.nothing_to_judge("the DLL read no value under a resource's Parameters key", runs)
    for trace, event in reads:
        name = event.args["name"]
        if name.lower() not in declared:
            raise Violation(
                f"the DLL reads the private property {name!r} (in "
                f"{event.context or 'a worker thread'}), which neither "
                "ENUM_PRIVATE_PROPERTIES nor GET_RO_PRIVATE_PROPERTIES lists: administrators "
                "can neither see nor set it through the control codes",
                trace,
                [event],
            )
    names_read = {e.args["name"].lower() for _, e in reads}
    return (
        f"{counted(len(names_read), 'private property', 'private properties')} read, each "
        "listed by ENUM_PRIVATE_PROPERTIES or GET_RO_PRIVATE_PROPERTIES"
    )
