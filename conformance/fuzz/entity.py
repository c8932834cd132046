"""The companion's probe around the Online, Offline and Terminate calls the fuzzer drives
(issue 20): the calls alone cannot show a DLL whose Offline reports offline and leaves its
entity running, or whose Terminate leaves a worker that starts it again. The answers go into
the trace as `PROBED` monitor events, which the entity rules judge
(`conformance.suite.checks.entity_trace`), so a reproducer's replay judges them the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from conformance.companion import ProbeContext
from conformance.monitor.monitor import Resource, ResourceMonitor
from conformance.monitor.policy import Policy
from conformance.resapi import ClusterResourceOffline, ClusterResourceOnline
from conformance.runtime.trace import CALL, TraceEvent
from conformance.suite.checks.entity_trace import PROBED
from conformance.suite.context import ScenarioRun
from conformance.suite.entity import ENTITY_WAIT_S, SETTLE_S

#: The shortest a stopped entity is watched for, whatever the time scale: a DLL's own threads
#: do not run on the monitor's scaled clock, and a worker that restarts the entity half a
#: second after Terminate must still be caught.
FLOOR_S = 0.75


def settle(policy: Policy) -> float:
    """How long a fuzzed sequence watches a stopped entity: `run`'s settle time scaled by the
    run's time scale (a sequence makes many such calls), never under FLOOR_S. Watching less
    can only miss a late restart, never blame a DLL; the time the entity is given to stop
    stays `run`'s (a correct DLL's entity stops at once, so that wait costs it nothing)."""
    return max(FLOOR_S, SETTLE_S * min(policy.time_scale, 1.0))


class _ProbeRaised(Exception):
    """The companion's probe raised: its fault, not the target's; noted, nothing judged."""


class EntityProbe:
    """Asks the companion's probe, where the target lives, about the entity of the instance
    a step operates on, and records the answers in the trace."""

    def __init__(self, run: ScenarioRun, policy: Policy) -> None:
        self.run = run
        self.wait, self.settle = ENTITY_WAIT_S, settle(policy)

    @contextlib.contextmanager
    def around(
        self, monitor: ResourceMonitor, resource: Resource, entry: str, step: tuple[int, str]
    ) -> Iterator[None]:
        """Around a step that may call ``entry`` on ``resource``: the probe before (for a
        stopping call), then, if the step called it, after it (``step``: its number and
        repr, which the record names)."""
        trace = monitor.trace
        mark = len(trace)
        context = ProbeContext(resource.name, resource.properties())
        record: dict[str, Any] = {"after": entry, "step": step[0], "asked": step[1]}
        try:
            if entry != "Online":
                record["before"] = self._ask(monitor, context)
        except _ProbeRaised as exc:
            record["error"] = str(exc)
        yield
        call = self._call(monitor, resource, entry, mark)
        if call is None or monitor.wedged is not None:
            return  # no call made, or nothing of the target answers any more
        record["call"] = call.seq
        if "error" not in record:
            try:
                self._after(monitor, resource, context, entry, record)
            except _ProbeRaised as exc:
                record["error"] = str(exc)
        trace.monitor(PROBED, resource.name, **record)

    def _after(
        self,
        monitor: ResourceMonitor,
        resource: Resource,
        context: ProbeContext,
        entry: str,
        record: dict[str, Any],
    ) -> None:
        """The answers after the call: whether the entity runs (after Online), or whether it
        stopped and, where it ran before, stayed stopped."""
        if entry == "Online":  # given run's time to show it, as Online.starts-entity is there
            if resource.state == ClusterResourceOnline:
                record["running"] = self._ask(monitor, context) or self.run.wait_for(
                    lambda: self._ask(monitor, context), self.wait
                )
            return
        record["running"] = self._ask(monitor, context)
        if not record["before"] or (
            entry == "Offline" and resource.state != ClusterResourceOffline
        ):
            return  # nothing to stop, or not offline: Offline.brings-offline's finding
        record["stopped"] = not record["running"] or self.run.wait_for(
            lambda: not self._ask(monitor, context), self.wait
        )
        record["stayed"] = record["stopped"] and self.run.holds(
            lambda: not self._ask(monitor, context), self.settle
        )
        record["wait_s"], record["settle_s"] = self.wait, self.settle

    @staticmethod
    def _ask(monitor: ResourceMonitor, context: ProbeContext) -> bool:
        try:
            return bool(monitor.host.companion("probe", context))
        except Exception as exc:
            raise _ProbeRaised(f"{type(exc).__name__}: {exc}") from None

    @staticmethod
    def _call(
        monitor: ResourceMonitor, resource: Resource, entry: str, mark: int
    ) -> TraceEvent | None:
        """The ``entry`` call on ``resource`` the step made, once it returned; None when the
        step made none (the monitor refused, or answered itself) or it has not returned."""
        made = [
            e
            for e in list(monitor.trace)[mark:]
            if e.kind == CALL and e.name == entry and e.resource == resource.name
        ]
        return made[-1] if made and made[-1].end is not None else None
