"""Steps a state machine (or a reproducer) asks of the monitor, and the contract they are
judged by: the suite's own checks, run on the trace the steps produced.

A `Step` is plain data, so a failing sequence can be written out and replayed without
hypothesis. A step the monitor refuses (Online of a closed instance, say) does nothing: the
monitor, not the fuzzer, knows what the Resource Monitor would call.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from conformance.companion import ProbeContext
from conformance.fuzz.model import STOPPED
from conformance.monitor.monitor import MonitorError, Resource, ResourceMonitor
from conformance.monitor.policy import Policy
from conformance.report.model import FAILED, CheckResult
from conformance.resapi import (
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOnline,
    state_name,
)
from conformance.rules import Rule
from conformance.runtime.trace import TraceEvent
from conformance.suite.catalogue import DECLARED, applies
from conformance.suite.checks.entry_points import returns
from conformance.suite.context import RunContext, ScenarioRun
from conformance.suite.registry import judge
from conformance.suite.worlds import undecided
from conformance.targets import Target

#: The rules whose checks read only the calls and callbacks of a trace (declared
#: ``trace_only``), so any sequence of steps can be judged by them, in the order a sequence is
#: judged: a call that raised or hung (its `.returns` rule) first, as the cause of whatever else
#: the sequence broke, then the catalogue's order.
TRACE_RULES: tuple[Rule, ...] = tuple(
    d.rule for d in sorted((d for d in DECLARED if d.trace_only), key=lambda d: d.fn is not returns)
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
    checkpoint. ``world``, first and only for a control script, chooses the world its
    stand-ins answer from (`conformance.genscript.world`; ``arg`` its seed)."""

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

    def checking(self, scenarios: tuple[str, ...]) -> contextlib.nullcontext[None]:
        """Every scenario a check declares is the one sequence: nothing to refuse."""
        return contextlib.nullcontext()

    def events_so_far(self, but: tuple[str, ...] = ()) -> Iterator[TraceEvent]:
        """Every event of the sequence (it is every scenario)."""
        return (e for trace in self.run.traces for e in trace)

    def world_undecided(self) -> str | None:
        """Why a world rule's violation is not judged: a control script asked rescheck's
        stand-ins (docs/design.md principle 8), as in `rescheck run`; None: it stands."""
        return undecided(self.target, self.events_so_far())

    nothing_to_judge = RunContext.nothing_to_judge


class Driver:
    """One monitor on a fresh load of the target; `do` runs steps, `state` says where an
    instance is, `verdicts` and `violation` judge."""

    def __init__(self, target: Target, policy: Policy) -> None:
        self.target, self.policy = target, policy
        self.run = ScenarioRun("fuzz", target, policy)
        self._monitor: ResourceMonitor | None = None  # started by the first step but `world`
        self.steps: list[Step] = []
        self.resources: dict[int, Resource] = {}
        self.opened = 0
        self.closed = False

    @property
    def monitor(self) -> ResourceMonitor:
        if self._monitor is None:
            self._monitor = self.run.monitor()
            self._monitor.startup()
        return self._monitor

    def state(self, instance: int) -> str:
        """Where ``instance`` is, as the state model (`model.may_see`) names it: a state
        without its ``ClusterResource`` prefix, ``none`` (not open), ``closed`` or
        ``stopped`` (the monitor can call nothing more)."""
        if self._monitor is not None and self._monitor.wedged is not None:
            return STOPPED
        resource = self.resources.get(instance)
        if resource is None or not resource.opened:
            return "none"
        if resource.closed:
            return "closed"
        return state_name(resource.state).removeprefix("ClusterResource")

    def events(self) -> int:
        """How many events the run's traces hold: the state machine judges again only once
        a step added some."""
        return sum(len(trace) for trace in self.run.traces)

    def settled(self) -> int | None:
        """How many events the run's traces hold if none is under way, else None. A thread
        writes an event in steps (a callback is recorded, then answered and its data filled
        in), so a verdict on a trace with an event under way may have read it half-made."""
        count = 0
        for trace in self.run.traces:
            for event in trace:
                if event.end is None:
                    return None
                count += 1
        return count

    def do(self, step: Step) -> None:
        self.steps.append(step)
        with contextlib.suppress(MonitorError):
            self._do(step)

    def _do(self, step: Step) -> None:
        if step.op == "world":
            if self._monitor is None and self.target.script is not None:
                self.target = dataclasses.replace(self.target, world=int(step.arg))
                self.run.target = self.target
            return
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

    def verdicts(self, *, to_first_failure: bool = False) -> list[CheckResult]:
        """Each rule of TRACE_RULES judged on the trace so far, in order (up to the first
        failed one with ``to_first_failure``); a bug of rescheck's is raised. The rules hold
        on a trace still growing (a call under way is not judged yet), and after `close`
        they judge the whole run, Close and shutdown included."""
        ctx = _FuzzContext(self.run, self.target, self.policy)
        results = []
        for rule in (r for r in TRACE_RULES if applies(r, self.target)):
            result = judge(rule, ctx, raise_bugs=True)  # type: ignore[arg-type]
            results.append(result)
            if to_first_failure and result.outcome == FAILED:
                break
        return results

    def violation(self) -> CheckResult | None:
        """The first rule of TRACE_RULES the steps so far break, failed with the evidence."""
        found = self.verdicts(to_first_failure=True)[-1]
        return found if found.outcome == FAILED else None

    def close(self) -> None:
        """Shut the monitor down (Close of every open instance first); once."""
        if self.closed:
            return
        self.closed = True
        if self._monitor is not None:
            self._monitor.shutdown()
            self._monitor.host.close()


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
            raise AssertionError(
                f"{found.id} (run {attempt} of at most {attempts}): {found.message}\n"
                + "\n".join(found.evidence[:40])
            )
