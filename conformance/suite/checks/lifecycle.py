"""Open and what Online and Offline return and bring about (docs/contract.md §2, §3): a
RESID, a documented status, the state asked for, with the properties read afresh."""

from __future__ import annotations

from conformance.resapi import (
    ERROR_RESOURCE_NOT_AVAILABLE,
    error_name,
)
from conformance.rules import RECOMMENDED, REQUIRED, WORLD
from conformance.runtime.trace import CALL, CALLBACK, MONITOR, TraceEvent, short_repr
from conformance.suite.checks.entry_points import (
    ALL,
    calls,
    is_dword,
    is_quorum_capable,
    returned,
)
from conformance.suite.checks.outcomes import brought
from conformance.suite.context import RunContext, Violation, counted
from conformance.suite.registry import check


def _is_null(value: object) -> bool:
    return value is None or value is False or (isinstance(value, int) and value == 0)


@check(
    "Open.resid",
    REQUIRED,
    entry_points=("Open",),
    statement=(
        "Open returns a non-NULL RESID, or returns NULL after calling SetLastError with an error."
    ),
    doc="S:nc-resapi-popen_routine",
    contract=("OP-2", "OP-6", "ID-1"),
    scenarios=ALL,
)
def open_resid(ctx: RunContext) -> str:
    back = returned(ctx, *calls(ctx, "Open"), "Open")
    for trace, event in back:
        if not _is_null(event.result):
            continue
        errors = [
            e
            for e in trace.callbacks("SetLastError")
            if e.context == "Open"
            and e.resource == event.resource
            and e.seq > event.seq
            and (event.end is None or e.start <= event.end)
        ]
        if not any(e.args.get("dwErrCode") for e in errors):
            raise Violation(
                "Open returned NULL without calling SetLastError with an error code",
                trace,
                [event, *errors],
            )
    return "Open returned a RESID (or NULL after SetLastError)"


@check(
    "Online.return-code",
    REQUIRED,
    entry_points=("Online",),
    statement=(
        "Online returns a DWORD: ERROR_SUCCESS, ERROR_IO_PENDING or a system error code; "
        "ERROR_RESOURCE_NOT_AVAILABLE only from a quorum-capable type."
    ),
    doc="S:nc-resapi-ponline_routine",
    contract=("ON-2", "AR-7"),
    scenarios=ALL,
    trace_only=True,
)
def online_return_code(ctx: RunContext) -> str:
    back = returned(ctx, *calls(ctx, "Online"), "Online")
    quorum = is_quorum_capable(ctx)
    for trace, event in back:
        if not is_dword(event.result):
            raise Violation(
                f"Online returned {short_repr(event.result)}, which is not a DWORD status",
                trace,
                [event],
            )
        if event.result == ERROR_RESOURCE_NOT_AVAILABLE and not quorum:
            raise Violation(
                f"Online returned {error_name(event.result)}, which only a quorum-capable type "
                "(with Arbitrate and Release) may return",
                trace,
                [event],
            )
    return f"{counted(len(back), 'Online call')} returned a DWORD status"


def _brings(ctx: RunContext, entry: str, target: str) -> str:
    """Every ``entry`` call of the run brought the resource ``target``: those after a
    Terminate are Terminate.instance-usable's, and those a Terminate cut short no one's."""
    runs = ctx.scenarios(*ALL)
    judged = 0
    for run in runs:
        for trace in run.traces:
            judged += brought(trace, entry, target)
    stop = runs[0].stop  # the lifecycle's: the other scenarios' stops cite it
    if stop is not None and stop.rule == f"{entry}.brings-{target}":
        raise Violation(f"{entry} never brought the resource {target}: {stop.reason}")
    if not judged:
        raise ctx.nothing_to_judge(f"no {entry} call returned a status", runs)
    return f"{counted(judged, f'{entry} call')} brought the resource {target}"


@check(
    "Online.brings-online",
    REQUIRED,
    entry_points=("Online",),
    statement=(
        "Online, given the properties the instance needs, brings the resource to "
        "ClusterResourceOnline rather than reporting failure."
    ),
    doc="W:implementing-online",
    contract=("ON-9", "ON-3"),
    script_class=WORLD,
    scenarios=ALL,
    trace_only=True,
)
def brings_online(ctx: RunContext) -> str:
    return _brings(ctx, "Online", "online")


#: ClusterReg* calls that read values (opening a key reads none).
VALUE_READS = ("ClusterRegQueryValue", "ClusterRegEnumValue")


def _reads_parameters(event: TraceEvent) -> bool:
    return (
        event.kind == CALLBACK
        and event.name in VALUE_READS
        and str(event.args.get("key", "")).endswith("\\Parameters")
    )


def _arbitrated_before(events: list[TraceEvent], online: TraceEvent) -> int:
    """Where Online's work began: the Arbitrate the monitor called just before it (a quorum
    resource is arbitrated before every Online, and may read its properties there), else
    the Online call itself."""
    since = online.seq
    for event in reversed([e for e in events if e.seq < online.seq]):
        if event.kind != CALL or event.resource != online.resource:
            continue
        if event.name == "Arbitrate":
            since = event.seq
        break  # only the call right before Online
    return since


@check(
    "Online.reads-properties",
    RECOMMENDED,
    entry_points=("Online",),
    statement=(
        "Online (or its worker) reads the current values of the resource's private properties, "
        "rather than values cached when the instance was opened."
    ),
    doc="W:implementing-online",
    contract=("ON-7",),
    policy=(
        "Judged only for a DLL that reads values under its Parameters key at all: each Online "
        "that brings the resource online must read there between the Online call and "
        "ClusterResourceOnline."
    ),
    script_class=WORLD,
    scenarios=ALL,
)
def online_reads_properties(ctx: RunContext) -> str:
    runs = ctx.scenarios(*ALL)
    judged = 0
    for run in runs:
        for trace in run.traces:
            events = list(trace)
            readers = {e.resource for e in events if _reads_parameters(e)}
            for online in (e for e in events if e.kind == CALL and e.name == "Online"):
                if online.resource not in readers:
                    continue
                reached = next(
                    (
                        e
                        for e in events
                        if e.kind == MONITOR
                        and e.name == "state"
                        and e.data.get("op") == online.data.get("op")
                        and e.data.get("state") == "ClusterResourceOnline"
                    ),
                    None,
                )
                if reached is None:
                    continue  # Online.brings-online judges an Online that did not
                judged += 1
                since = _arbitrated_before(events, online)
                if not any(
                    _reads_parameters(e)
                    and e.resource == online.resource
                    and since < e.seq < reached.seq
                    for e in events
                ):
                    raise Violation(
                        "Online brought the resource online without reading its private "
                        "properties (it reads them elsewhere, so it has some); read the current "
                        "values in Online or its worker, they may have changed since Open",
                        trace,
                        [online, reached],
                    )
    if not judged:
        raise ctx.nothing_to_judge(
            "the DLL reads no private properties (no value read under its Parameters key)", runs
        )
    return f"{counted(judged, 'Online')} read the current private properties"


@check(
    "Offline.return-code",
    REQUIRED,
    entry_points=("Offline",),
    statement="Offline returns a DWORD: ERROR_SUCCESS, ERROR_IO_PENDING or a system error code.",
    doc="S:nc-resapi-poffline_routine",
    contract=("OF-1",),
    scenarios=ALL,
    trace_only=True,
)
def offline_return_code(ctx: RunContext) -> str:
    back = returned(ctx, *calls(ctx, "Offline"), "Offline")
    for trace, event in back:
        if not is_dword(event.result):
            raise Violation(
                f"Offline returned {short_repr(event.result)}, which is not a DWORD status",
                trace,
                [event],
            )
    return f"{counted(len(back), 'Offline call')} returned a DWORD status"


@check(
    "Offline.brings-offline",
    RECOMMENDED,
    entry_points=("Offline",),
    statement=(
        "Offline shuts an online resource down gracefully, ending in ClusterResourceOffline "
        "rather than reporting failure."
    ),
    doc="W:implementing-offline",
    contract=("OF-3", "OF-2"),
    script_class=WORLD,
    scenarios=ALL,
    trace_only=True,
)
def brings_offline(ctx: RunContext) -> str:
    return _brings(ctx, "Offline", "offline")
