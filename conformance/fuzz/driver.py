"""Steps a state machine (or a reproducer) asks of the monitor, and the contract they are
judged by: the suite's own checks, run on the trace the steps produced.

A `Step` is plain data, so a failing sequence can be written out and replayed without
hypothesis. A step the monitor refuses (Online of a closed instance, say) does nothing: the
monitor, not the fuzzer, knows what the Resource Monitor would call.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from conformance.companion import ProbeContext
from conformance.monitor.monitor import MonitorError, Resource
from conformance.monitor.policy import Policy
from conformance.resapi import (
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOnline,
)
from conformance.suite.context import (
    CannotJudge,
    NotApplicable,
    RunContext,
    ScenarioRun,
    Violation,
)
from conformance.suite.registry import CHECKS
from conformance.targets import Target

#: Rules whose checks read only the calls and callbacks of a trace, so any sequence of steps
#: can be judged by them (the others need a scenario's set-up or a probe).
TRACE_RULES = (
    "Open.returns",
    "Close.returns",
    "Online.returns",
    "Offline.returns",
    "Terminate.returns",
    "LooksAlive.returns",
    "IsAlive.returns",
    "ResourceControl.returns",
    "LooksAlive.bool",
    "IsAlive.bool",
    "Online.return-code",
    "Offline.return-code",
    "Online.brings-online",
    "Offline.brings-offline",
    "SetResourceStatus.only-when-pending",
    "SetResourceStatus.checkpoint",
    "SetResourceStatus.final-state",
    "SetResourceStatus.stops-after-terminate",
    "Callbacks.resource-handle",
    "LogEvent.level",
    "ClusterDatabase.no-writes-in-entry-points",
    "Terminate.concurrent",
    "Process.survives",
)
#: How many instances a sequence keeps open at once.
INSTANCES = 3
#: The longest a step waits for a status report or for a pending operation to end (s).
AWAIT_S = 2.0
#: How long "pause" lets time pass (s): a few checkpoints of a typical worker.
PAUSE_S = 0.02


@dataclass(frozen=True)
class Step:
    """One thing asked of the monitor: ``op`` on instance ``instance`` (``arg`` for control
    calls: the code, the InBuffer and the OutBufferSize).

    ``online`` and ``offline`` wait until the operation ends; ``begin_online`` and
    ``begin_offline`` return once the call has (a pending operation goes on), ``await_report``
    waits for the instance's next status report (with an ``arg`` of N: until the pending
    operation has made N), ``settle`` for its pending operation to end,
    ``pause`` lets a little time pass, and ``break`` has the companion's breaker crash the
    entity of an online instance. ``terminate`` with an ``arg`` of N first waits until the
    pending operation has made N status reports (or ended): Terminate at a chosen
    checkpoint."""

    op: str
    instance: int = 0
    arg: Any = None

    def __repr__(self) -> str:
        arg = repr(self.arg)
        if self.op == "control":  # the code in hex, as the docs write it
            code, in_buffer, size = self.arg
            arg = f"(0x{code:08X}, {in_buffer!r}, {size!r})"
        extra = "" if self.arg is None else f", arg={arg}"
        return f"Step({self.op!r}, {self.instance}{extra})"


class _FuzzContext:
    """What a check sees of a fuzzed run: every scenario it asks for is the one sequence."""

    def __init__(self, run: ScenarioRun, target: Target, policy: Policy) -> None:
        self.run, self.target, self.policy = run, target, policy

    def scenario(self, name: str) -> ScenarioRun:
        return self.run

    def scenarios(self, *names: str) -> list[ScenarioRun]:
        return [self.run]

    nothing_to_judge = RunContext.nothing_to_judge


class Driver:
    """One monitor on a fresh load of the target; `do` runs steps, `violation` judges."""

    def __init__(self, target: Target, policy: Policy) -> None:
        import conformance.suite.checks  # noqa: F401  (registers every check)

        self.target, self.policy = target, policy
        self.run = ScenarioRun("fuzz", target, policy)
        self.monitor = self.run.monitor()
        self.steps: list[Step] = []
        self.resources: dict[int, Resource] = {}
        self.opened = 0
        self.monitor.startup()

    def do(self, step: Step) -> None:
        self.steps.append(step)
        with contextlib.suppress(MonitorError):
            self._do(step)

    def _do(self, step: Step) -> None:
        if self.monitor.wedged is not None:
            return  # the host process ended or a call hung: nothing more can be called
        if step.op == "open":
            if step.instance not in self.resources or self.resources[step.instance].closed:
                self.opened += 1
                name = f"rescheck-fuzz-{step.instance}-{self.opened}"
                props = self.target.properties_for(self.monitor.host, name)
                self.resources[step.instance] = self.monitor.open(name, props, _QUIET)
            return
        resource = self.resources.get(step.instance)
        if resource is None or not resource.opened:
            return
        if step.op in ("online", "offline", "begin_online", "begin_offline"):
            # the cluster service refuses a state change while one is pending (the monitor
            # models that); its callers wait for the pending one to end, and so do we
            resource.wait_state(set(_SETTLED), AWAIT_S)
            online = step.op.endswith("online")
            if resource.state == (ClusterResourceOnline if online else ClusterResourceOffline):
                return  # the cluster service answers that itself, without the DLL ([MS-CMRP])
            start = resource.online if online else resource.offline
            start(wait=not step.op.startswith("begin_"))
        elif step.op == "await_report":
            self._await_report(resource, step.arg)
        elif step.op == "settle":
            resource.wait_state(set(_SETTLED), AWAIT_S)
        elif step.op == "pause":
            time.sleep(PAUSE_S)
        elif step.op == "break":
            self._break(resource)
        elif step.op == "terminate":
            if step.arg:
                self._await_report(resource, step.arg)
            resource.terminate()
        elif step.op == "looks_alive":
            resource.poll_while_up("LooksAlive")
        elif step.op == "is_alive":
            resource.poll_while_up("IsAlive")
        elif step.op == "control":
            code, in_buffer, size = step.arg
            resource.control(code, in_buffer, size)
        elif step.op == "close":
            resource.close()

    def _await_report(self, resource: Resource, nth: int | None = None) -> None:
        """Until the instance's next SetResourceStatus report (with ``nth``: until the pending
        operation's ``nth`` report), or until nothing is pending."""
        trace = self.monitor.trace
        op = resource.pending.op if nth is not None and resource.pending else None

        def reports() -> int:
            return sum(
                1
                for e in trace.callbacks("SetResourceStatus")
                if e.resource == resource.name and (op is None or e.data.get("op") == op)
            )

        goal = nth if op is not None else reports() + 1
        with resource.cond:
            resource.cond.wait_for(lambda: resource.pending is None or reports() >= goal, AWAIT_S)

    def _break(self, resource: Resource) -> None:
        if self.target.companion.breaker is None or resource.state != ClusterResourceOnline:
            return
        context = ProbeContext(resource.name, resource.properties())
        try:
            self.monitor.host.companion("breaker", context)
        except Exception as exc:  # the companion's fault, not the target's: noted, not judged
            self.monitor.trace.monitor("breaker raised", resource.name, error=repr(exc))
        else:
            self.monitor.trace.monitor("the companion broke the entity", resource.name)

    def violation(self) -> tuple[str, Violation] | None:
        """The first rule of TRACE_RULES the steps so far break, with the evidence (judge
        after `close`, so that every call has ended)."""
        ctx = _FuzzContext(self.run, self.target, self.policy)
        for rule_id in TRACE_RULES:
            try:
                CHECKS[rule_id](ctx)  # type: ignore[arg-type]
            except Violation as violation:
                return rule_id, violation
            except (NotApplicable, CannotJudge):
                continue
        return None

    def close(self) -> None:
        self.monitor.shutdown()
        self.monitor.host.close()


#: States a settled instance is in: nothing pending.
_SETTLED = (ClusterResourceOnline, ClusterResourceOffline, ClusterResourceFailed)

#: Poll intervals that never fire on their own: the steps decide when LooksAlive and IsAlive
#: are called, so a sequence replays the same way.
_QUIET = {
    "LooksAlivePollInterval": 3_600_000,
    "IsAlivePollInterval": 3_600_000,
    "RestartAction": 0,
}


#: How often `replay` runs the steps before it calls them harmless: worker threads run
#: alongside the steps, so a bug that needs a close race may not show on every run.
REPLAY_ATTEMPTS = 5


def replay(
    target: Target,
    steps: list[Step],
    policy: Policy | None = None,
    attempts: int = REPLAY_ATTEMPTS,
) -> None:
    """Run ``steps`` against ``target`` (up to ``attempts`` times, each on a fresh load, until
    one breaks a rule); raise AssertionError naming the rule they break."""
    for attempt in range(1, attempts + 1):
        driver = Driver(target, policy or Policy())
        try:
            for step in steps:
                driver.do(step)
        finally:
            driver.close()
        found = driver.violation()
        if found is not None:
            rule_id, violation = found
            raise AssertionError(
                f"{rule_id} (run {attempt} of at most {attempts}): {violation}\n"
                + "\n".join(violation.evidence()[:40])
            )
