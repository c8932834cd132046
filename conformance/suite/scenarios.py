"""Scenarios: what the monitor does with a target to produce the traces checks judge.

Each scenario drives fresh monitors the way the cluster would, and never judges: a
scenario that cannot go on raises `Halt` with the reason and the rule that explains it.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from conformance.companion import ProbeContext
from conformance.genscript import SCRIPT_FILE_PATH
from conformance.monitor.monitor import (
    ControlResult,
    MonitorError,
    Resource,
    ResourceMonitor,
    StartupFailed,
    dword,
)
from conformance.monitor.usage import Usage
from conformance.proplist import build_property_list
from conformance.resapi import (
    CLRES_VERSION_V1_00,
    CLRES_VERSION_V4_00,
    CLUS_OBJECT_RESOURCE,
    CLUS_OBJECT_RESOURCE_TYPE,
    CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_TYPE_GET_PRIVATE_PROPERTIES,
    ERROR_IO_PENDING,
    ERROR_SUCCESS,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOnline,
)
from conformance.runtime.threads import harness_thread
from conformance.runtime.trace import CALLBACK, TraceEvent
from conformance.suite.context import Halt, ScenarioRun, Stop, require
from conformance.suite.controls import (
    ACCEPTED,
    FIRST_OUT,
    ControlRecord,
    changed,
    current_properties,
    exercise_properties,
    probe,
)
from conformance.suite.entity import ENTITY_WAIT_S, entity, probe_entity
from conformance.suite.polls import FAST_POLLS, QUIET_POLLS
from conformance.suite.quorum import quorum
from conformance.suite.world_search import WORLDS, worlds

#: Explicit LooksAlive/IsAlive samples taken while the resource is online and undisturbed.
HEALTH_SAMPLES = 3
#: How long to watch for reports from a worker after Terminate.
TERMINATE_GRACE_S = 0.3
#: When Terminate interrupts a pending operation.
TERMINATE_MOMENTS = ("at once", "after the first report")
#: How long a thread the cancelled operation started may take to end after Terminate.
LINGER_S = 1.0
#: How long the entity must keep its old values after ERROR_RESOURCE_PROPERTIES_STORED.
STORED_HOLD_S = 0.5
#: Open/Online/Offline/Close cycles audited after the first one (CL-4).
LEAK_CYCLES = 6
#: Rounds of Terminate during each of LooksAlive, IsAlive, Online and Offline (TE-4); each
#: round calls Terminate a little later into the call than the one before.
CONCURRENT_ROUNDS = 5
CONCURRENT_STAGGER_S = 0.0005
#: How long a loop of polls waits for the Terminate that ends it.
POLL_LOOP_S = 2.0

#: The resource the ``fresh`` scenario opens as the cluster creates it.
FRESH_RESOURCE = "rescheck-fresh"
#: Version ranges that contain no Resource API version (above V4, below V1).
FOREIGN_RANGES = ((CLRES_VERSION_V4_00 + 0x100, 0xFFFF), (0x001, CLRES_VERSION_V1_00 - 1))


def lifecycle(run: ScenarioRun) -> None:
    """Open, Online, polls and health samples, Offline, Online, Terminate, Online, Offline, Close."""
    monitor = run.monitor()
    monitor.startup()
    require(monitor, "Open", "Online", "Offline", "Close")
    resource = run.open(monitor, "rescheck-lifecycle", FAST_POLLS)
    run.notes["healthy_from"] = monitor.trace.monitor("healthy window opens", resource.name).seq
    if resource.online() == ClusterResourceOnline:
        resource.wait_polls(
            "IsAlive", 2, timeout=max(3.0, 4 * resource.interval("IsAlivePollInterval"))
        )
        for _ in range(HEALTH_SAMPLES):
            for entry, call in (
                ("LooksAlive", resource.looks_alive),
                ("IsAlive", resource.is_alive),
            ):
                if entry == "LooksAlive" and resource.looks_alive_off:
                    continue  # Online returned an EventHandle: never LooksAlive (LA-8)
                if monitor.host.has(entry) and resource.state == ClusterResourceOnline:
                    call()
    run.notes["healthy_to"] = monitor.trace.monitor("healthy window closes", resource.name).seq
    if resource.state == ClusterResourceOnline:
        resource.offline()
    resource.online()
    if monitor.host.has("Terminate"):
        resource.terminate()
    resource.online()
    if resource.state == ClusterResourceOnline:
        resource.offline()
    resource.close()


def terminate_pending(run: ScenarioRun) -> None:
    """Terminate while Online is pending, then while Offline is pending, each at two moments:
    as soon as the call returned ERROR_IO_PENDING, and after the first status report (TE-4,
    RS-2). After each, the threads the operation started must end, and Online must work
    again (TE-2)."""
    monitor = run.monitor()
    monitor.startup()
    require(monitor, "Open", "Online", "Offline", "Terminate", "Close")
    resource = run.open(monitor, "rescheck-terminate", FAST_POLLS)
    pended: list[str] = []
    lingering: list[dict[str, object]] = []
    for entry, moment in itertools.product(("Online", "Offline"), TERMINATE_MOMENTS):
        if (
            entry == "Offline"
            and resource.state != ClusterResourceOnline
            and resource.online() != ClusterResourceOnline
        ):
            break
        before = monitor.host.thread_baseline()
        start = getattr(resource, entry.lower())
        start(wait=False)
        if monitor.trace.calls(entry)[-1].result != ERROR_IO_PENDING:
            continue
        if moment == "after the first report":
            _await_report(run, monitor, resource)
        if resource.pending is None:
            continue  # it ended before Terminate: nothing was cancelled
        resource.terminate()
        pended.append(f"{entry} ({moment})")
        terminate = monitor.trace.calls("Terminate")[-1]
        run.wait_for(lambda before=before: not monitor.host.lingering(before), LINGER_S)
        left = monitor.host.lingering(before)
        if left:
            lingering.append(
                {"entry": f"{entry} ({moment})", "terminate": terminate, "stacks": left}
            )
        time.sleep(TERMINATE_GRACE_S)
    run.notes["pended"] = pended
    run.notes["lingering"] = lingering
    if not pended:
        run.notes["no_pending"] = (
            "neither Online nor Offline was still pending when Terminate could be called"
        )
    elif resource.state != ClusterResourceOnline:
        resource.online()  # usable again after Terminate (Terminate.instance-usable)
    if resource.state == ClusterResourceOnline:
        resource.offline()
    resource.close()


def terminate_concurrent(run: ScenarioRun) -> None:
    """Terminate while LooksAlive, IsAlive or ResourceControl calls run back to back, and
    while an Online or Offline call runs (TE-4, CX-1). The check finds the calls that
    overlapped a Terminate."""
    monitor = run.monitor()
    monitor.startup()
    require(monitor, "Open", "Online", "Offline", "Terminate", "Close")
    resource = run.open(monitor, "rescheck-concurrent", QUIET_POLLS)
    entries = [
        e
        for e in (
            "LooksAlive",
            "IsAlive",
            "Online",
            "Offline",
            "ResourceControl",
            "ResourceTypeControl",
        )
        if monitor.host.has(e)
    ]
    for round_, entry in itertools.product(range(CONCURRENT_ROUNDS), entries):
        if entry == "Online":
            if resource.state == ClusterResourceOnline:
                resource.offline()
        elif resource.state != ClusterResourceOnline and resource.online() != ClusterResourceOnline:
            raise Halt(Stop(f"{resource.name} did not come online", "Online.brings-online"))
        if entry == "LooksAlive" and resource.looks_alive_off:
            continue  # Online returned an EventHandle: never LooksAlive (LA-8)
        seen = len(monitor.trace.calls(entry))
        terminated = threading.Event()
        if entry in ("LooksAlive", "IsAlive"):
            caller = harness_thread(
                threading.Thread(target=_poll_loop, args=(resource, entry), daemon=True)
            )
        elif entry == "ResourceControl":
            caller = harness_thread(
                threading.Thread(
                    target=_control_loop,
                    args=(resource.control, CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES, terminated),
                    daemon=True,
                )
            )
        elif entry == "ResourceTypeControl":
            caller = harness_thread(
                threading.Thread(
                    target=_control_loop,
                    args=(
                        monitor.type_control,
                        CLUSCTL_RESOURCE_TYPE_GET_PRIVATE_PROPERTIES,
                        terminated,
                    ),
                    daemon=True,
                )
            )
        else:
            start = getattr(resource, entry.lower())
            caller = harness_thread(
                threading.Thread(
                    target=_quietly, args=(start,), kwargs={"wait": False}, daemon=True
                )
            )
        caller.start()
        try:
            run.wait_for(lambda entry=entry, seen=seen: len(monitor.trace.calls(entry)) > seen, 1.0)
            time.sleep(round_ * CONCURRENT_STAGGER_S)
            resource.terminate()
        finally:  # the other call's outcome is in the trace before anything judges it
            terminated.set()
            caller.join(POLL_LOOP_S + monitor.policy.deadlock_seconds)
        resource.wait_state({ClusterResourceOffline, ClusterResourceFailed}, ENTITY_WAIT_S)
    if resource.state == ClusterResourceOnline:
        resource.offline()
    resource.close()


def _poll_loop(resource: Resource, entry: str) -> None:
    """Polls back to back while the resource is online and until the Terminate that ends
    the loop has returned, so that the two overlap."""
    deadline = time.perf_counter() + POLL_LOOP_S
    with contextlib.suppress(MonitorError):
        while time.perf_counter() < deadline and resource.poll_while_up(entry):
            pass


def _control_loop(
    control: Callable[[int, bytes | None, int], ControlResult],
    code: int,
    terminated: threading.Event,
) -> None:
    """Control calls (GET_PRIVATE_PROPERTIES of the resource or the type) back to back until
    the Terminate they overlap has returned."""
    deadline = time.perf_counter() + POLL_LOOP_S
    with contextlib.suppress(MonitorError):
        while time.perf_counter() < deadline and not terminated.is_set():
            control(code, None, FIRST_OUT)


def _quietly(call: Callable[..., object], **kwargs: object) -> None:
    """A call on a scenario's side thread: a refusal ends it (the main thread sees why)."""
    with contextlib.suppress(MonitorError):
        call(**kwargs)


def instances(run: ScenarioRun) -> None:
    """Two instances open at once; whatever happens to one, the other's IsAlive is sampled
    (ID-1). Polls are quiet, so only the samples speak."""
    monitor = run.monitor()
    monitor.startup()
    require(monitor, "Open", "Online", "Offline", "IsAlive", "Close")
    a = run.open(monitor, "rescheck-instance-a", QUIET_POLLS)
    b = run.open(monitor, "rescheck-instance-b", QUIET_POLLS)
    run.notes["opened"] = (a.name, b.name)
    for resource in (a, b):
        if resource.online() != ClusterResourceOnline:
            raise Halt(Stop(f"{resource.name} did not come online", "Online.brings-online"))
    samples: list[tuple[str, TraceEvent]] = []
    run.notes["samples"] = samples

    def sample(resource: Resource, after: str) -> None:
        if resource.state == ClusterResourceOnline:
            resource.is_alive()
            mine = [e for e in monitor.trace.calls("IsAlive") if e.resource == resource.name]
            samples.append((after, mine[-1]))

    sample(a, "both came online")  # the baselines: only a TRUE here can be changed
    sample(b, "both came online")
    steps: list[tuple[str, Callable[[], object], Resource]] = [
        (f"{b.name} went offline", b.offline, a),
        (f"{b.name} was terminated", b.terminate, a),
        (f"{b.name} came online again", b.online, a),
        (f"{a.name} went offline", a.offline, b),
        (f"{a.name} was closed", a.close, b),
    ]
    for after, step, other in steps:
        if after.endswith("terminated") and not monitor.host.has("Terminate"):
            continue
        step()
        sample(other, after)
    if b.state == ClusterResourceOnline:
        b.offline()
    b.close()


def leak_audit(run: ScenarioRun) -> None:
    """Repeated Open, Online, Offline, Close; what the target holds is measured after each
    cycle (CL-4). The first cycle sets the level."""
    monitor = run.monitor()
    monitor.startup()
    require(monitor, "Open", "Online", "Offline", "Close")
    before = monitor.host.thread_baseline()
    usage: list[Usage] = []
    came_online: list[bool] = []
    for cycle in range(LEAK_CYCLES + 1):
        resource = run.open(monitor, f"rescheck-leak-{cycle}", QUIET_POLLS)
        came_online.append(resource.online() == ClusterResourceOnline)
        if came_online[-1]:
            resource.offline()
        resource.close()
        usage.append(monitor.host.usage(before, usage[0] if usage else None))
    run.notes["usage"] = usage
    run.notes["came_online"] = came_online
    run.notes["leftover_stacks"] = monitor.host.lingering(before)


def _await_report(run: ScenarioRun, monitor: ResourceMonitor, resource: Resource) -> None:
    """Wait for the pending operation's first status report (or its end)."""
    seen = len(monitor.trace.callbacks("SetResourceStatus"))

    def reported() -> bool:
        if resource.pending is None:
            return True
        return any(
            e.kind == CALLBACK and e.resource == resource.name
            for e in monitor.trace.callbacks("SetResourceStatus")[seen:]
        )

    run.wait_for(reported, resource.interval("PendingTimeout"))


def startup_ranges(run: ScenarioRun) -> None:
    """Startup offered only version ranges that contain no Resource API version (ST-7), after
    the harness's own range: a DLL that refuses its type there refuses it for every range,
    which says nothing of its version check (Startup.returns-table judges that refusal)."""
    try:
        run.monitor().startup()
    except StartupFailed as exc:
        if exc.cause != "table-version":  # a table out of range is another rule's
            raise
    for low, high in FOREIGN_RANGES:
        monitor = run.monitor()
        with contextlib.suppress(StartupFailed):
            monitor.startup(low, high)


def control(run: ScenarioRun) -> None:
    """Both control entry points, on one monitor and one offline instance (see `controls`)."""
    monitor = run.monitor()
    monitor.startup()
    present = [e for e in ("ResourceControl", "ResourceTypeControl") if monitor.host.has(e)]
    if not present:
        raise Halt(
            Stop(
                "ResourceControl and ResourceTypeControl are NULL", "FunctionTable.control-routines"
            )
        )
    if "ResourceTypeControl" in present:  # first: it needs no instance
        type_key = f"ResourceTypes\\{monitor.resource_type}\\Parameters"
        record = run.notes["ResourceTypeControl"] = ControlRecord(
            "ResourceTypeControl",
            CLUS_OBJECT_RESOURCE_TYPE,
            monitor,
            lambda: {n: v for n, (_t, v) in monitor.db.values(type_key).items()},
        )
        probe(record, monitor.type_control)
        exercise_properties(record, monitor.type_control)
    if "ResourceControl" in present:
        require(monitor, "Open", "Close")
        resource = run.open(monitor, "rescheck-control", QUIET_POLLS)
        record = run.notes["ResourceControl"] = ControlRecord(
            "ResourceControl", CLUS_OBJECT_RESOURCE, monitor, resource.properties
        )
        probe(record, resource.control)
        exercise_properties(record, resource.control)
        resource.close()


@dataclass
class StoredChange:
    """A SET made while the resource was online: whether the entity ran with the values its
    status said were in effect (``seen``), and whether the probe tells the two sets of values
    apart at all (``observable``: it refused the values not in effect)."""

    name: str
    value: object
    result: ControlResult
    in_effect: dict[str, object]
    seen: bool
    observable: bool


def stored_properties(run: ScenarioRun) -> None:
    """While the resource is online, SET a changed value of each read/write DWORD and SZ
    property, then set it back. ERROR_SUCCESS says the new values are in effect now (the probe
    given them must find the entity), ERROR_RESOURCE_PROPERTIES_STORED that they take effect at
    the next Online (the probe given the old ones must keep finding it, RC-7)."""
    if run.target.companion.probe is None:
        run.notes["no_probe"] = run.target.companion.no_probe(run.target.given)
        return
    monitor = run.monitor()
    monitor.startup()
    require(monitor, "Open", "Online", "Offline", "Close")
    if not monitor.host.has("ResourceControl"):
        raise Halt(Stop("ResourceControl is NULL", "FunctionTable.control-routines"))
    resource = run.open(monitor, "rescheck-stored", QUIET_POLLS)
    if resource.online() != ClusterResourceOnline:
        raise Halt(Stop(f"{resource.name} did not come online", "Online.brings-online"))
    record = ControlRecord("ResourceControl", CLUS_OBJECT_RESOURCE, monitor, resource.properties)
    probe(
        record,
        resource.control,
        only=(CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES, CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES),
    )
    changes: list[StoredChange] = []
    run.notes["changes"] = changes

    def probe_with(values: dict[str, object]) -> bool:
        return probe_entity(monitor, ProbeContext(resource.name, values))

    if not run.wait_for(lambda: probe_with(resource.properties()), ENTITY_WAIT_S):
        run.notes["not_running"] = "the entity was not running once online (Online.starts-entity)"
        return
    for prop in current_properties(record):
        new = changed(prop)
        if new is None:
            continue
        before = resource.properties()
        result = resource.control(
            CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES, build_property_list([new])
        )
        if dword(result.status) not in ACCEPTED:
            continue
        after = resource.properties()
        if result.status == ERROR_SUCCESS:  # in effect now: the probe must come to see it
            in_effect, other = after, before
            seen = run.wait_for(lambda values=after: probe_with(values), ENTITY_WAIT_S)
        else:  # stored: the entity keeps the old values the whole time
            in_effect, other = before, after
            seen = run.holds(lambda values=before: probe_with(values), STORED_HOLD_S)
        observable = not seen or not probe_with(other)
        changes.append(StoredChange(prop.name, new.value, result, in_effect, seen, observable))
        back = resource.control(
            CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES, build_property_list([prop])
        )
        if dword(back.status) not in ACCEPTED:
            break  # the instance no longer runs with known values
    if resource.state == ClusterResourceOnline:
        resource.offline()
    resource.close()


def fresh(run: ScenarioRun) -> None:
    """A control script opened on a resource as the cluster creates it: ScriptFilePath set,
    none of the script's own private properties yet. The cluster opens a new resource before
    anyone configures it, and the docs' example checks ``Resource.ShareName = ""`` in Open and
    adds its properties there (GS-11, GS-36), so what the script's Open or script-level code
    does then is the script's, not a stand-in's (Script.runtime-errors judges it)."""
    if run.target.script is None:
        return
    monitor = run.monitor()
    monitor.startup()
    resource = monitor.open(FRESH_RESOURCE, {SCRIPT_FILE_PATH: str(run.target.script)})
    if resource.opened:
        resource.close()


SCENARIOS: dict[str, Callable[[ScenarioRun], None]] = {
    "lifecycle": lifecycle,
    "fresh": fresh,
    "terminate-pending": terminate_pending,
    "terminate-concurrent": terminate_concurrent,
    "startup-ranges": startup_ranges,
    "instances": instances,
    "leak-audit": leak_audit,
    "entity": entity,
    "control": control,
    "stored-properties": stored_properties,
    "quorum": quorum,
    WORLDS: worlds,
}
