"""A resource's private properties in use (docs/contract.md §6): a SET while online takes
effect as its status says (RC-7), and every property the DLL reads is one its property table
declares (DS-4)."""

from __future__ import annotations

import re

from conformance.proplist import ProplistError, parse_multi_sz, parse_property_list
from conformance.resapi import (
    CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES,
    ERROR_SUCCESS,
    error_name,
)
from conformance.rules import NOT_FOR_SCRIPTS, RECOMMENDED, REQUIRED
from conformance.suite.checks.control_codes import judged, record_of
from conformance.suite.checks.entry_points import ALL
from conformance.suite.context import CannotJudge, NotApplicable, RunContext, Violation, counted
from conformance.suite.policies import PROBE_POLICY
from conformance.suite.registry import check


@check(
    "ResourceControl.stored-properties",
    REQUIRED,
    entry_points=("ResourceControl",),
    statement=(
        "A SET of private properties while the resource is online either takes effect at once "
        "(ERROR_SUCCESS) or returns ERROR_RESOURCE_PROPERTIES_STORED, and then the entity keeps "
        "the old values until the next Online."
    ),
    doc="S:nc-resapi-presource_control_routine",
    contract=("RC-7",),
    policy=PROBE_POLICY
    + (
        " The probe is given the values the status says are in effect; a property the entity does "
        "not depend on passes either way."
    ),
    scenarios=("stored-properties",),
)
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


@check(
    "ResourceControl.declares-read-properties",
    RECOMMENDED,
    entry_points=("ResourceControl",),
    statement=(
        "Every private property the DLL reads under a resource's Parameters key is defined in its "
        "property table, so CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES (read/write) or "
        "CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES (read-only) lists it."
    ),
    doc="W:defining-structures-and-constants",
    contract=("DS-4", "CC-8", "PL-9"),
    policy=(
        "Recommended, not required: DS-4 requires a property table for a type with private "
        "properties, and CC-8 that ENUM lists the read/write ones, but no page forbids a DLL to "
        "keep a value of its own under Parameters. A value read there that neither ENUM nor "
        "GET_RO lists is one an administrator can neither see nor set through the control codes. "
        "Judged only for a DLL that answers ENUM_PRIVATE_PROPERTIES itself (one that leaves the "
        "codes to the cluster's default processing has every value there listed and settable), on "
        "ClusterRegQueryValue of a resource's Parameters key, compared case-insensitively; "
        "control scripts are not judged (the Generic Script type's only declared property is "
        "ScriptFilePath; a script's are the administrator's)."
    ),
    script_class=NOT_FOR_SCRIPTS,
    scenarios=ALL,
)
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
