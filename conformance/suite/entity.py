"""The `entity` scenario: what the companion's probe sees of the entity behind an instance,
after each operation that must start or stop it (issue 20). The calls alone cannot show a DLL
whose Offline reports offline and leaves its share published, or whose Terminate leaves a
worker that starts the application again half a second later."""

from __future__ import annotations

from conformance.companion import ProbeContext
from conformance.monitor.monitor import Resource, ResourceMonitor
from conformance.resapi import (
    ERROR_IO_PENDING,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
    error_name,
)
from conformance.suite.context import Halt, ScenarioRun, Stop, require
from conformance.suite.polls import QUIET_POLLS

#: How long the probe is given to see the entity change (start, crash, stop).
ENTITY_WAIT_S = 2.0
#: How long a stopped entity must stay stopped: long enough for a worker the DLL left behind
#: to start it again.
SETTLE_S = 1.5
#: The operations after which the entity must be stopped, and stay so (OF-1, OF-3, TE-1, TE-2).
STOPPING = ("Offline", "Terminate")


def entity(run: ScenarioRun) -> None:
    """With the companion's probe: Open leaves the entity offline (OP-7); Online really starts
    it (ON-9); once the breaker has crashed it, IsAlive says FALSE (IA-3, IA-4); Offline and
    Terminate stop it, and it stays stopped (OF-1, TE-1), Terminate also while an Online is
    still pending (TE-2); Close of an online instance leaves it stopped (CL-3)."""
    companion = run.target.companion
    if companion.probe is None:
        run.notes["no_probe"] = run.target.companion.no_probe(run.target.given)
        return
    monitor = run.monitor()
    monitor.startup()
    require(monitor, "Open", "Online", "Offline", "IsAlive", "Close")
    resource = run.open(monitor, "rescheck-entity", QUIET_POLLS)
    context = ProbeContext(resource.name, resource.properties())
    run.notes["opened"] = (monitor.trace.calls("Open")[-1], probe_entity(monitor, context))
    if resource.online() != ClusterResourceOnline:
        raise Halt(Stop(f"{resource.name} did not come online", "Online.brings-online"))
    up = probe_entity(monitor, context)
    run.notes["started"] = (monitor.trace.calls("Online")[-1], up)
    if up and companion.breaker is not None:
        _break(run, monitor, resource, context)
    resource.wait_state({ClusterResourceOnline, ClusterResourceFailed}, ENTITY_WAIT_S)
    if resource.state == ClusterResourceOnline:
        resource.offline()
    resource.close()

    for entry in STOPPING:
        if monitor.host.has(entry):
            _stop_with(run, monitor, entry)
    if monitor.host.has("Terminate"):
        _terminate_pending(run, monitor)

    closing = run.open(monitor, "rescheck-entity-close", QUIET_POLLS)
    if closing.online() != ClusterResourceOnline:
        return
    context = ProbeContext(closing.name, closing.properties())
    if probe_entity(monitor, context):
        closing.close()  # while online: Close must stop it (CL-3)
        stopped = run.wait_for(lambda: not probe_entity(monitor, context), ENTITY_WAIT_S)
        run.notes["closed_online"] = (monitor.trace.calls("Close")[-1], stopped)


def _break(
    run: ScenarioRun, monitor: ResourceMonitor, resource: Resource, context: ProbeContext
) -> None:
    """Have the companion's breaker crash the entity, then see whether IsAlive notices."""
    try:
        monitor.host.companion("breaker", context)
    except Exception as exc:
        raise Halt(Stop(f"the companion's breaker raised {type(exc).__name__}: {exc}")) from None
    run.notes["broken"] = monitor.trace.monitor("the companion broke the entity", resource.name)
    if run.wait_for(lambda: not probe_entity(monitor, context), ENTITY_WAIT_S):
        run.notes["down"] = True
        if resource.looks_alive_off:  # the failure event may tell the monitor first
            resource.wait_state({ClusterResourceFailed}, ENTITY_WAIT_S)
        if resource.state == ClusterResourceOnline:
            resource.is_alive()
            run.wait_for(lambda: resource.state != ClusterResourceOnline, ENTITY_WAIT_S)


def _stop_with(run: ScenarioRun, monitor: ResourceMonitor, entry: str) -> None:
    """An instance whose entity runs, stopped by ``entry``: noted as (the call, stopped
    within ENTITY_WAIT_S, still stopped SETTLE_S later) under ``after <entry>``."""
    resource = run.open(monitor, f"rescheck-entity-{entry.lower()}", QUIET_POLLS)
    context = ProbeContext(resource.name, resource.properties())
    if resource.online() == ClusterResourceOnline and probe_entity(monitor, context):
        if entry == "Offline":
            resource.offline()
        else:
            resource.terminate()
        call = monitor.trace.calls(entry)[-1]
        if entry == "Terminate" or resource.state == ClusterResourceOffline:
            run.notes[f"after {entry}"] = (call, *_stays_stopped(run, monitor, context))
        else:  # Offline.brings-offline's finding, not this one's
            run.notes[f"not after {entry}"] = "Offline did not take the resource offline"
    else:
        run.notes[f"not after {entry}"] = f"{resource.name} did not come online with its entity"
    resource.close()


def _terminate_pending(run: ScenarioRun, monitor: ResourceMonitor) -> None:
    """Terminate at once after an Online returned ERROR_IO_PENDING, while its worker is still
    bringing the entity up: noted as (the Terminate, stopped within ENTITY_WAIT_S, still
    stopped SETTLE_S later) under ``during pending``."""
    resource = run.open(monitor, "rescheck-entity-pending", QUIET_POLLS)
    context = ProbeContext(resource.name, resource.properties())
    if resource.online(wait=False) == ClusterResourceOnlinePending:
        resource.terminate()
        call = monitor.trace.calls("Terminate")[-1]
        run.notes["during pending"] = (call, *_stays_stopped(run, monitor, context))
    else:
        online = monitor.trace.calls("Online")[-1]
        said = "reported its final state at once" if online.result == ERROR_IO_PENDING else ""
        run.notes["not during pending"] = (
            f"Online returned {error_name(online.result)}{' and ' + said if said else ''}: "
            "the resource was not pending"
        )
    resource.close()


def _stays_stopped(
    run: ScenarioRun, monitor: ResourceMonitor, context: ProbeContext
) -> tuple[bool, bool]:
    """Whether the probe finds the entity stopped within ENTITY_WAIT_S, and then still stopped
    SETTLE_S later (a thread of the DLL left behind may start it again)."""
    stopped = run.wait_for(lambda: not probe_entity(monitor, context), ENTITY_WAIT_S)
    return stopped, stopped and run.holds(lambda: not probe_entity(monitor, context), SETTLE_S)


def probe_entity(monitor: ResourceMonitor, context: ProbeContext) -> bool:
    """The companion's probe, run where the target lives; one that raises judges nothing."""
    try:
        return bool(monitor.host.companion("probe", context))
    except Exception as exc:
        raise Halt(Stop(f"the companion's probe raised {type(exc).__name__}: {exc}")) from None
