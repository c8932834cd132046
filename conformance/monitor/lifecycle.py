"""Online, Offline and Terminate as the Resource Monitor carries them out (ON-2, ON-3, OF-1,
OF-2, PO-3, TE-1), the restart policy after a failure (FP-8..FP-12, FP-18..FP-20), and the
LooksAlive / IsAlive a scenario asks for outside the schedule. States change only along
`conformance.monitor.states`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from conformance.monitor import states
from conformance.monitor.errors import MonitorError, OperationPending
from conformance.monitor.resource import NOT_CALLED, PendingOperation, Resource
from conformance.resapi import (
    DWORD_MAX,
    ERROR_IO_PENDING,
    ERROR_SUCCESS,
    HANDLE,
    ClusterResourceDontRestart,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOfflinePending,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
    ClusterResourceRestartNotify,
    error_name,
)

if TYPE_CHECKING:
    from conformance.monitor.monitor import ResourceMonitor


class Lifecycle:
    def __init__(self, monitor: ResourceMonitor) -> None:
        self.rm = monitor

    def online_offline(
        self,
        resource: Resource,
        entry: str,
        wait: bool,
        timeout: float | None,
        only_if: Callable[[], bool] | None = None,
    ) -> int:
        """Call Online or Offline; ``only_if`` (checked under the resource's lock once the
        call may start) cancels a call the monitor decided earlier whose reason has passed."""
        rm = self.rm
        rm.require_open(resource)
        online = entry == "Online"
        if only_if is None:
            with resource.cond:
                resource.restart_at = resource.restart_plan = None  # the scenario decides now
        args, call_args = rm.resid(resource)
        event_handle = None
        if online:
            event_handle = HANDLE()
            args["EventHandle"] = event_handle
            call_args = (resource.resid, event_handle)
        failure = False
        with rm.serial:
            rm.require_open(resource)
            rm.refuse_if_wedged()
            if online and rm.quorum_capable:
                # as the cluster service does, a node arbitrates before it brings a quorum
                # resource online (every time: Offline and Terminate may have released it);
                # Online then answers for a node that lost (AR-7). After any Terminate, as
                # everything new.
                with resource.cond:
                    resource.cond.wait_for(
                        lambda: not resource.terminating, rm.policy.deadlock_seconds
                    )
                    idle = resource.pending is None or resource.pending.done
                    go = idle and (only_if is None or only_if())
                if go:
                    rm.quorum.invoke(resource, "Arbitrate", True)
            with resource.cond:
                # a failure's Terminate is carried out before anything new starts
                resource.cond.wait_for(lambda: not resource.terminating, rm.policy.deadlock_seconds)
                if only_if is not None and not only_if():
                    return resource.state
                current = resource.pending
                if current is not None and not current.done:
                    event = rm.trace.monitor(
                        "not called", resource.name, entry=entry, why=f"{current.entry} is pending"
                    )
                    raise OperationPending(
                        f"{entry} of {resource.name} refused: {current.entry} is pending", event
                    )
                op = PendingOperation(
                    rm.next_op(),
                    entry,
                    ClusterResourceOnline if online else ClusterResourceOffline,
                    last_update=rm.clock.now(),
                )
                resource.pending = op
                resource.generation += 1
                resource.terminated_at = None
                resource.event_handle = None
                resource.looks_alive_off = False
                resource.restart_at = resource.restart_plan = None
            try:
                event, outcome = rm.invoke(
                    entry, resource.name, args, call_args, data={"op": op.op}
                )
            except MonitorError:
                with resource.cond:
                    if resource.pending is op:
                        resource.pending = None
                    rm.changed(resource)
                raise
            status = outcome.value if outcome.returned else None
            returned = states.ONLINE_RETURNED if online else states.OFFLINE_RETURNED
            with resource.cond:
                op.in_call = False
                if op.terminated:
                    pass  # Terminate ran meanwhile and decides the state
                elif status == ERROR_IO_PENDING:
                    op.returned_pending = True
                    op.last_update = max(op.last_update, rm.clock.now())
                    if op.done:  # a worker already reported the final state
                        resource.pending = None
                    else:
                        pending = (
                            ClusterResourceOnlinePending
                            if online
                            else ClusterResourceOfflinePending
                        )
                        resource.move(pending, returned)
                elif status == ERROR_SUCCESS:
                    op.done = True
                    resource.pending = None
                    resource.move(op.target, returned)
                    if online:
                        self.online_reached(resource, op)
                else:
                    op.done = True
                    resource.pending = None
                    failure = True
                    failed = self.begin_terminate(resource, f"{entry} failed", failure=True)
                if online and not failure and event_handle.value is not None:
                    resource.event_handle = event_handle.value
                    resource.looks_alive_off = True
                    event.data["EventHandle"] = repr(event_handle.value)
                rm.changed(resource)
        if failure:
            try:
                why = outcome.error or f"returned {error_name(status)}"
                rm.log(resource, f"{entry} failed: {why}")  # LG-4, ON-3 / OF-2
            finally:
                self.run_terminate(resource, f"{entry} failed", failed)
            return resource.state
        if wait and status == ERROR_IO_PENDING:
            limit = timeout if timeout is not None else self._pending_wait_limit(resource)
            with resource.cond:
                settled = resource.cond.wait_for(
                    lambda: resource.pending is not op and not resource.terminating, limit
                )
            if not settled:
                rm.trace.monitor("gave up waiting", resource.name, op=op.op, seconds=limit)
        return resource.state

    def _pending_wait_limit(self, resource: Resource) -> float:
        return max(10.0, 20 * resource.interval("PendingTimeout"))

    def online_reached(self, resource: Resource, op: PendingOperation) -> None:
        resource.polls = {"LooksAlive": 0, "IsAlive": 0}
        self.rm.trace.monitor("state", resource.name, state="ClusterResourceOnline", op=op.op)

    # --- Terminate ---------------------------------------------------------------------------
    def terminate(
        self,
        resource: Resource,
        reason: str,
        failure: bool = False,
        unless: Callable[[], bool] | None = None,
    ) -> bool:
        """Decide and carry out a Terminate; ``unless`` (checked under the resource's lock)
        cancels it when the situation that called for it has passed. True if it ran."""
        self.rm.require_open(resource)
        self.rm.refuse_if_wedged()
        with resource.cond:
            if resource.closing or (unless is not None and unless()):
                return False  # Close came first: nothing is called after it
            failed = self.begin_terminate(resource, reason, failure)
        self.run_terminate(resource, reason, failed)
        return True

    def begin_terminate(self, resource: Resource, reason: str, failure: bool) -> bool:
        """The decision, made while holding ``resource.cond``: from here on reports are told to
        terminate and nothing new starts until `run_terminate` ends. True if the resource
        failed."""
        failed = failure or resource.state == ClusterResourceFailed
        resource.restart_at = resource.restart_plan = None
        if failure and resource.state != ClusterResourceFailed:
            resource.move(ClusterResourceFailed, states.FAILURE)
            self.rm.trace.monitor("state", resource.name, state="ClusterResourceFailed", why=reason)
            self._plan_restart(resource)
        if resource.pending is not None:
            resource.pending.done = True
            resource.pending.terminated = True
            resource.pending = None
        resource.terminating += 1
        resource.terminated_at = self.rm.clock.now()
        self.rm.changed(resource)
        return failed

    def _plan_restart(self, resource: Resource) -> None:
        """Decide, holding ``resource.cond``, what follows a failure (FP-8..FP-10, FP-18..20)."""
        now = self.rm.clock.now()
        resource.failures.append(now)
        action = resource.setting("RestartAction")
        if action == ClusterResourceDontRestart:
            return
        period = resource.interval("RestartPeriod")
        recent = [t for t in resource.failures if now - t <= period]
        if len(recent) <= resource.setting("RestartThreshold"):
            resource.restart_plan = ("restart", resource.interval("RestartDelay"))
            return
        self.rm.trace.monitor(
            "restart threshold exceeded",
            resource.name,
            failures=len(recent),
            RestartAction=action,
            then="the group would fail over"
            if action == ClusterResourceRestartNotify
            else "the group stays",
        )
        retry = resource.setting("RetryPeriodOnFailure")
        if not resource.retried and retry != DWORD_MAX:
            resource.restart_plan = ("retry", resource.interval("RetryPeriodOnFailure"))

    def run_terminate(self, resource: Resource, reason: str, failed: bool) -> None:
        rm = self.rm
        args, call_args = rm.resid(resource)
        try:
            with rm.lifecycle_lock:
                rm.invoke("Terminate", resource.name, args, call_args, data={"reason": reason})
        finally:
            with resource.cond:
                after = ClusterResourceFailed if failed else ClusterResourceOffline
                resource.move(after, states.TERMINATE_RETURNED)
                resource.terminated_at = rm.clock.now()
                resource.terminating -= 1
                if resource.restart_plan is not None and not resource.terminating:
                    resource.restart_at = resource.terminated_at + resource.restart_plan[1]
                rm.changed(resource)

    # --- polls a scenario asks for -----------------------------------------------------------
    def poll_call(self, resource: Resource, entry: str, while_up: bool = False) -> Any:
        """A LooksAlive or IsAlive the scenario asks for (outside the schedule)."""
        rm = self.rm
        rm.require_open(resource)
        with rm.serial:
            if while_up:
                with resource.cond:
                    online = resource.state == ClusterResourceOnline and resource.pending is None
                    if not (online or resource.terminating):
                        return NOT_CALLED
            _, outcome = rm.invoke(entry, resource.name, *rm.resid(resource))
        with resource.cond:
            resource.polls[entry] += 1
            rm.changed(resource)
        return outcome.value if outcome.returned else None
