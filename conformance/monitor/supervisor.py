"""The monitor's timers for one resource (one thread each): PendingTimeout while an operation
is pending (PO-6), LooksAlive and IsAlive while online (LA-2, LA-3, IA-2, IA-4), the failure
event an Online handed back (LA-8), and restarts after a failure (FP-8..FP-12). Time is read
from the monitor's clock, so that a test can move it by hand."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from conformance.monitor.errors import MonitorError
from conformance.monitor.resource import PendingOperation, Resource
from conformance.resapi import BOOL_is_TRUE, ClusterResourceFailed, ClusterResourceOnline

if TYPE_CHECKING:
    from conformance.monitor.monitor import ResourceMonitor

#: How often a signalled failure event is looked for (the monitor waits on it, LA-8).
EVENT_CHECK_S = 0.01


class Supervisor:
    def __init__(self, monitor: ResourceMonitor) -> None:
        self.rm = monitor

    def next_wake(self, resource: Resource) -> float:
        """The earliest time the supervisor may have to act (a lower bound of what `run`
        decides from the same state; -inf: at once)."""
        if self.rm.stopping.is_set() or self.rm.wedged is not None or resource.closing:
            return float("-inf")
        op = resource.pending
        if resource.terminating:
            return float("inf")
        if op is not None and op.returned_pending and not op.done:
            return op.last_update + resource.interval("PendingTimeout")
        if resource.state == ClusterResourceFailed and resource.restart_at is not None:
            return resource.restart_at
        if resource.state == ClusterResourceOnline and op is None:
            if resource.polls_for != resource.generation or resource.event_handle is not None:
                return float("-inf")  # its poll times are for another Online, or none yet
            return float("inf")  # it sleeps until the next poll it scheduled: still right
        return float("inf")

    def run(self, resource: Resource) -> None:
        """Per-resource timers: PendingTimeout while pending, polls while Online. Each poll is
        scheduled from the end of the previous one, and the one due first runs first."""
        clock = self.rm.clock
        due: dict[str, float] | None = None
        generation = -1  # the Online the schedule in ``due`` belongs to
        try:
            while not self.rm.stopping.is_set() and self.rm.wedged is None:
                # the DLL's event is asked outside the lock: its code may be slow
                handle = resource.event_handle
                fired = handle is not None and _signalled(handle)
                with resource.cond:
                    if resource.closing:
                        return
                    now = clock.now()
                    op = resource.pending
                    wake: float | None = None
                    action = None
                    if resource.generation != generation:
                        due, generation = None, resource.generation
                    resource.polls_for = None
                    if resource.terminating:
                        due = None
                    elif op is not None and op.returned_pending and not op.done:
                        due = None
                        deadline = op.last_update + resource.interval("PendingTimeout")
                        if now >= deadline:
                            action = "pending-timeout"
                        else:
                            wake = deadline
                    elif (
                        resource.state == ClusterResourceFailed and resource.restart_at is not None
                    ):
                        due = None
                        if now >= resource.restart_at:
                            action = "restart"
                        else:
                            wake = resource.restart_at
                    elif resource.state == ClusterResourceOnline and op is None:
                        if due is None:
                            due = self._first_polls(resource, now)
                        resource.polls_for = generation
                        ready = sorted((at, entry) for entry, at in due.items() if at <= now)
                        if fired and resource.event_handle is handle:
                            action = "event"
                            resource.event_handle = None  # LooksAlive stays off (LA-8)
                        elif ready:
                            action = ready[0][1]
                        else:
                            wake = min(due.values(), default=None)
                            if resource.event_handle is not None:
                                wake = min(wake or now + EVENT_CHECK_S, now + EVENT_CHECK_S)
                    else:
                        due = None
                    if action is None:
                        resource.sleeping_until = float("inf") if wake is None else wake
                        try:
                            clock.wait(resource.timer, None if wake is None else wake - now)
                        finally:
                            resource.sleeping_until = None
                        continue
                if action == "pending-timeout":
                    self._pending_timeout(resource, op)
                elif action == "restart":
                    self._restart(resource)
                elif action == "event":
                    policy = self.rm.policy.async_failure
                    self.rm.trace.monitor("failure event signalled", resource.name, policy=policy)
                    if policy == "Terminate" or not self._poll_once(resource, "IsAlive"):
                        self._fail(resource, "failure event", generation)
                else:
                    alive = self._poll_once(resource, action)
                    assert due is not None
                    due[action] = clock.now() + resource.interval(f"{action}PollInterval")
                    if not alive and action == "LooksAlive":
                        alive = self._poll_once(resource, "IsAlive")  # LA-3
                    if not alive:
                        self._fail(resource, "IsAlive did not return TRUE", generation)  # IA-4
        except MonitorError:
            return
        finally:
            clock.leave()

    def _restart(self, resource: Resource) -> None:
        with resource.cond:
            plan = resource.restart_plan
            if plan is None or resource.restart_at is None or resource.terminating:
                return
            attempt = len(resource.failures)
        self.rm.trace.monitor("restart", resource.name, kind=plan[0], after_failures=attempt)

        def still_planned() -> bool:
            if resource.restart_plan is not plan or resource.state != ClusterResourceFailed:
                return False  # the scenario or a later failure decided otherwise meanwhile
            resource.retried = resource.retried or plan[0] == "retry"
            return True

        self.rm.lifecycle.online_offline(
            resource, "Online", wait=False, timeout=None, only_if=still_planned
        )

    def _first_polls(self, resource: Resource, now: float) -> dict[str, float]:
        entries = [e for e in ("LooksAlive", "IsAlive") if self.rm.host.has(e)]
        if resource.looks_alive_off and "LooksAlive" in entries:
            entries.remove("LooksAlive")
        return {e: now + resource.interval(f"{e}PollInterval") for e in entries}

    def _pending_timeout(self, resource: Resource, op: PendingOperation | None) -> None:
        """PendingTimeout passed without a report: fail and Terminate (PO-6), unless a report
        arrived meanwhile."""
        lifecycle = self.rm.lifecycle
        with resource.cond:
            if (
                op is None
                or resource.closing
                or resource.pending is not op
                or op.done
                or resource.terminating
                or self.rm.clock.now() < op.last_update + resource.interval("PendingTimeout")
            ):
                return
            self.rm.trace.monitor("PendingTimeout expired", resource.name, op=op.op)
            failed = lifecycle.begin_terminate(resource, "PendingTimeout", failure=True)
        lifecycle.run_terminate(resource, "PendingTimeout", failed)

    def _poll_once(self, resource: Resource, entry: str) -> bool:
        """One scheduled poll; False only when it ran and the answer was not TRUE."""
        with self.rm.serial:
            with resource.cond:
                if (
                    resource.closing
                    or resource.state != ClusterResourceOnline
                    or resource.pending is not None
                    or resource.terminating
                    or not self.rm.host.has(entry)
                ):
                    return True
            _, outcome = self.rm.invoke(
                entry, resource.name, *self.rm.resid(resource), data={"poll": True}
            )
        with resource.cond:
            resource.polls[entry] += 1
            self.rm.changed(resource)
        return outcome.returned and BOOL_is_TRUE(outcome.value)

    def _fail(self, resource: Resource, why: str, generation: int) -> None:
        """Fail an online resource, unless it is no longer the same Online (``generation``
        from before the poll that found the failure)."""
        with contextlib.suppress(MonitorError):  # closed meanwhile
            self.rm.lifecycle.terminate(
                resource,
                why,
                failure=True,
                unless=lambda: (
                    resource.state != ClusterResourceOnline
                    or resource.pending is not None
                    or resource.generation != generation
                    or bool(resource.terminating)
                ),
            )


def _signalled(handle: Any) -> bool:
    is_set = getattr(handle, "is_set", None)
    try:
        return bool(is_set()) if callable(is_set) else False
    except Exception:
        return False
