"""Steps a state machine (or a reproducer) asks of the monitor, and the contract they are
judged by: the suite's own checks, run on the trace the steps produced.

A `Step` is plain data, so a failing sequence can be written out and replayed without
hypothesis. A step the monitor refuses (Online of a closed instance, say) does nothing: the
monitor, not the fuzzer, knows what the Resource Monitor would call.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from conformance.monitor.monitor import MonitorError, Resource
from conformance.monitor.policy import Policy
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
    "SetResourceStatus.only-when-pending",
    "SetResourceStatus.checkpoint",
    "SetResourceStatus.stops-after-terminate",
    "Callbacks.resource-handle",
    "LogEvent.level",
    "ClusterDatabase.no-writes-in-entry-points",
    "Terminate.concurrent",
    "Process.survives",
)
#: How many instances a sequence may open at most.
INSTANCES = 3


@dataclass(frozen=True)
class Step:
    """One thing asked of the monitor: ``op`` on instance ``instance`` (``arg`` for control
    calls: the code, the InBuffer and the OutBufferSize)."""

    op: str
    instance: int = 0
    arg: Any = None

    def __repr__(self) -> str:
        extra = "" if self.arg is None else f", arg={self.arg!r}"
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
        if step.op == "online":
            resource.online()
        elif step.op == "offline":
            resource.offline()
        elif step.op == "terminate":
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

    def violation(self) -> tuple[str, Violation] | None:
        """The first rule of TRACE_RULES the steps so far break, with the evidence."""
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


#: Poll intervals that never fire on their own: the steps decide when LooksAlive and IsAlive
#: are called, so a sequence replays the same way.
_QUIET = {
    "LooksAlivePollInterval": 3_600_000,
    "IsAlivePollInterval": 3_600_000,
    "RestartAction": 0,
}


def replay(target: Target, steps: list[Step], policy: Policy | None = None) -> None:
    """Run ``steps`` against ``target``; raise AssertionError naming the rule they break."""
    driver = Driver(target, policy or Policy())
    try:
        for step in steps:
            driver.do(step)
        found = driver.violation()
    finally:
        driver.close()
    if found is not None:
        rule_id, violation = found
        raise AssertionError(f"{rule_id}: {violation}\n" + "\n".join(violation.evidence()[:40]))
