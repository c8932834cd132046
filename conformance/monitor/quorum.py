"""Arbitrate and Release (AR-1..AR-8, RL-1): who owns the quorum, as far as the monitor
knows. The type is quorum-capable when its table has both."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.monitor.control import dword
from conformance.monitor.errors import MonitorError
from conformance.monitor.host import QuorumLost
from conformance.monitor.resource import Resource
from conformance.resapi import ERROR_SUCCESS

if TYPE_CHECKING:
    from conformance.monitor.monitor import ResourceMonitor


class Quorum:
    def __init__(self, monitor: ResourceMonitor) -> None:
        self.rm = monitor

    def call(self, resource: Resource, entry: str, owner_on_success: bool) -> Any:
        """Arbitrate (AR-2: the DLL gets the monitor's LostQuorumResource routine) or Release
        (RL-1), serialised like every entry point but Terminate; ERROR_SUCCESS makes the
        instance the owner, or no longer the owner. The status, or None if it did not return."""
        self.rm.require_open(resource)
        if not self.rm.host.has(entry):
            raise MonitorError(
                f"{entry} is NULL in the function table: the type is not quorum-capable (AR-1)"
            )
        with self.rm.serial:
            return self.invoke(resource, entry, owner_on_success)

    def invoke(self, resource: Resource, entry: str, owner_on_success: bool) -> Any:
        """Arbitrate or Release, with the monitor's serial lock held."""
        rm = self.rm
        args, call = rm.resid(resource)
        if entry == "Arbitrate":
            args = {**args, "LostQuorumResource": "PQUORUM_RESOURCE_LOST"}
            call = (*call, QuorumLost(rm.reports.LostQuorumResource))
        _, outcome = rm.invoke(entry, resource.name, args, call)
        status = outcome.value if outcome.returned else None
        if dword(status) == ERROR_SUCCESS:
            with resource.cond:
                resource.quorum_owner = owner_on_success
                rm.changed(resource)
        return status
