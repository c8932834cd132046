"""Open, Online/Offline outcomes, health while online, callbacks and the cluster database
(docs/contract.md §2, §3, §5, §9)."""

from __future__ import annotations

from conformance.resapi import (
    ERROR_IO_PENDING,
    ERROR_RESOURCE_NOT_AVAILABLE,
    ERROR_SUCCESS,
    BOOL_is_TRUE,
    ClusterResourceFailed,
    error_name,
)
from conformance.runtime.trace import CALL, CALLBACK, MONITOR, TraceEvent, short_repr
from conformance.suite.checks.entry_points import (
    ALL,
    calls,
    is_dword,
    returned,
)
from conformance.suite.checks.terminate import onlines_after_terminate
from conformance.suite.context import RunContext, Violation, counted
from conformance.suite.registry import check

#: Entry points that must not write to the cluster database (RM-7, "some entry points okay").
NO_WRITE_ENTRIES = ("Open", "Close", "Online", "Offline", "Terminate")


def _is_null(value: object) -> bool:
    return value is None or value is False or (isinstance(value, int) and value == 0)


@check("Open.resid")
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


def _brings(ctx: RunContext, entry: str, target: str) -> str:
    run = ctx.scenario("lifecycle")
    judged = 0
    restarts = {
        e.seq for trace in run.traces for e in onlines_after_terminate(trace, came_online=True)
    }
    for trace, event in run.calls(entry):
        if event.seq in restarts:
            continue  # Terminate.instance-usable judges Online after Terminate
        if event.end is None or event.error or not is_dword(event.result):
            continue  # raising, hanging and odd values are other rules' business
        if entry == "Online" and event.result == ERROR_RESOURCE_NOT_AVAILABLE:
            continue  # not a failure to come online but "another node owns it" (AR-7)
        judged += 1
        if event.result not in (ERROR_SUCCESS, ERROR_IO_PENDING):
            raise Violation(
                f"{entry} returned {error_name(event.result)} instead of bringing the resource {target}",
                trace,
                [event],
            )
        op = event.data.get("op")
        failed = [
            e
            for e in trace.callbacks("SetResourceStatus")
            if e.data.get("op") == op and e.args.get("ResourceState") == ClusterResourceFailed
        ]
        if failed:
            raise Violation(
                f"the pending {entry} ended with ClusterResourceFailed instead of {target}",
                trace,
                [event, failed[0]],
            )
    stop = run.stop
    if stop is not None and stop.rule == f"{entry}.brings-{target}":
        raise Violation(f"{entry} never brought the resource {target}: {stop.reason}")
    if not judged:
        raise ctx.nothing_to_judge(f"no {entry} call returned a status", [run])
    return f"{counted(judged, f'{entry} call')} brought the resource {target}"


@check("Online.brings-online")
def brings_online(ctx: RunContext) -> str:
    return _brings(ctx, "Online", "online")


@check("Offline.brings-offline")
def brings_offline(ctx: RunContext) -> str:
    return _brings(ctx, "Offline", "offline")


def _healthy(ctx: RunContext, entry: str) -> str:
    run = ctx.scenario("lifecycle")
    first, last = run.notes.get("healthy_from"), run.notes.get("healthy_to")
    if first is None or last is None or not run.traces:
        raise ctx.nothing_to_judge("the resource was never online and undisturbed", [run])
    trace = run.traces[0]
    judged = 0
    for event in trace:
        if not first < event.seq < last:
            continue
        if event.kind == MONITOR and event.data.get("state") == "ClusterResourceFailed":
            break
        if event.kind != CALL or event.name != entry or event.end is None or event.error:
            continue
        if not BOOL_is_TRUE(event.result):
            raise Violation(
                f"{entry} returned {short_repr(event.result)} for a resource that came online and was not disturbed",
                trace,
                [event],
            )
        judged += 1
    if not judged:
        raise ctx.nothing_to_judge(f"{entry} was not called while the resource was online", [run])
    return f"{counted(judged, f'{entry} call')} answered TRUE while online"


@check("IsAlive.healthy")
def isalive_healthy(ctx: RunContext) -> str:
    return _healthy(ctx, "IsAlive")


@check("LooksAlive.healthy")
def looksalive_healthy(ctx: RunContext) -> str:
    return _healthy(ctx, "LooksAlive")


@check("Callbacks.resource-handle")
def resource_handle(ctx: RunContext) -> str:
    runs = ctx.scenarios(*ALL)
    seen = 0
    for run in runs:
        for trace, event in run.events(CALLBACK):
            if event.name not in ("SetResourceStatus", "LogEvent"):
                continue
            seen += 1
            if not event.data.get("known_handle"):
                raise Violation(
                    f"{event.name} was called with {short_repr(event.args.get('ResourceHandle'))}, which is not "
                    "the ResourceHandle of an open instance",
                    trace,
                    [event],
                )
    if not seen:
        raise ctx.nothing_to_judge("the DLL made no SetResourceStatus or LogEvent call", runs)
    return f"{seen} callbacks carried the handle from Open"


@check("ClusterDatabase.no-writes-in-entry-points")
def no_database_writes(ctx: RunContext) -> str:
    runs = ctx.scenarios(*ALL)
    called = sum(len(run.calls(entry)) for run in runs for entry in NO_WRITE_ENTRIES)
    if not called:
        raise ctx.nothing_to_judge(f"none of {', '.join(NO_WRITE_ENTRIES)} was called", runs)
    for run in runs:
        for trace, event in run.events(CALLBACK):
            if event.data.get("write") and event.context in NO_WRITE_ENTRIES:
                raise Violation(
                    f"{event.name} on {event.args.get('key')!r} was called from {event.context}; "
                    "cluster-database writes belong on a worker thread or in other entry points",
                    trace,
                    [event],
                )
    return (
        f"no cluster-database write from {', '.join(NO_WRITE_ENTRIES)} ({counted(called, 'call')})"
    )


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


@check("Online.reads-properties")
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
