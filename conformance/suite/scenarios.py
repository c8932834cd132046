"""Scenarios: what the monitor does with a target to produce the traces checks judge.

Each scenario drives fresh monitors the way the cluster would, and never judges: a
scenario that cannot go on raises `Halt` with the reason and the rule that explains it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from conformance.monitor.monitor import Resource, ResourceMonitor, StartupFailed
from conformance.monitor.trace import CALLBACK
from conformance.resapi import (
    CLRES_VERSION_V1_00,
    CLRES_VERSION_V4_00,
    ERROR_IO_PENDING,
    ClusterResourceOnline,
)
from conformance.suite.context import Halt, ScenarioRun, Stop

#: Poll intervals for test instances (resource-level overrides, FP-2/FP-4): 20 s and 40 s
#: documented, so 200 ms / 400 ms at the default scale.
FAST_POLLS = {"LooksAlivePollInterval": 2000, "IsAlivePollInterval": 4000}
#: Explicit LooksAlive/IsAlive samples taken while the resource is online and undisturbed.
HEALTH_SAMPLES = 3
#: How long to watch for reports from a worker after Terminate.
TERMINATE_GRACE_S = 0.3

#: Version ranges that contain no Resource API version (above V4, below V1).
FOREIGN_RANGES = ((CLRES_VERSION_V4_00 + 0x100, 0xFFFF), (0x001, CLRES_VERSION_V1_00 - 1))


def _require(monitor: ResourceMonitor, *entries: str) -> None:
    missing = [e for e in entries if not monitor.host.has(e)]
    if missing:
        raise Halt(
            Stop(
                f"{', '.join(missing)} is NULL in the function table", "FunctionTable.entry-points"
            )
        )


def lifecycle(run: ScenarioRun) -> None:
    """Open, Online, polls and health samples, Offline, Online, Terminate, Online, Offline, Close."""
    monitor = run.monitor()
    monitor.startup()
    _require(monitor, "Open", "Online", "Offline", "Close")
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
    """Terminate while Online is pending, then while Offline is pending (TE-4, RS-2)."""
    monitor = run.monitor()
    monitor.startup()
    _require(monitor, "Open", "Online", "Offline", "Terminate", "Close")
    resource = run.open(monitor, "rescheck-terminate", FAST_POLLS)
    pended = []
    for entry in ("Online", "Offline"):
        if (
            entry == "Offline"
            and resource.state != ClusterResourceOnline
            and resource.online() != ClusterResourceOnline
        ):
            break
        start = getattr(resource, entry.lower())
        start(wait=False)
        if monitor.trace.calls(entry)[-1].result != ERROR_IO_PENDING:
            continue
        pended.append(entry)
        _await_report(run, monitor, resource)
        if resource.pending is not None:
            resource.terminate()
            time.sleep(TERMINATE_GRACE_S)
    run.notes["pended"] = pended
    if not pended:
        run.notes["no_pending"] = "neither Online nor Offline returned ERROR_IO_PENDING"
    resource.close()


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
    """Startup offered only version ranges that contain no Resource API version (ST-7)."""
    for low, high in FOREIGN_RANGES:
        monitor = run.monitor()
        with contextlib.suppress(StartupFailed):
            monitor.startup(low, high)


SCENARIOS: dict[str, Callable[[ScenarioRun], None]] = {
    "lifecycle": lifecycle,
    "terminate-pending": terminate_pending,
    "startup-ranges": startup_ranges,
}
