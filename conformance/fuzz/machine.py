"""A hypothesis state machine per target, which carries every check of `rescheck fuzz`, so
that its ``TestCase`` under plain pytest or HypoFuzz checks what a campaign does.

Its rules (`operations`, shared with the throughput benchmark's bare machine) are
monitor-level operations. Each step is checked against the monitor's documented state model
(`conformance.fuzz.model`); the suite's trace rules (`driver.TRACE_RULES`) are an invariant,
judged after every step and once more on the whole run, Close and the monitor's shutdown
included. The transitions made and the rules' verdicts are hypothesis events (`stats`)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, NoReturn

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

from conformance.fuzz import model
from conformance.fuzz.driver import INSTANCES, Driver, Step
from conformance.fuzz.profiles import CONFORMANCE
from conformance.fuzz.stats import Transition, note_transition, note_verdict
from conformance.genscript.world import STAND_IN
from conformance.monitor.policy import Policy
from conformance.report.model import FAILED, CheckResult
from conformance.resapi import (
    CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_UNKNOWN,
    CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES,
)
from conformance.suite.context import ScenarioRun
from conformance.suite.world_search import SEEDS
from conformance.targets import Target


class ContractViolation(AssertionError):
    """A rule of the catalogue broken by a sequence of steps, with the run that broke it (its
    traces, Close and the monitor's shutdown included).

    Raised as the rule's own subclass (`of_rule`): hypothesis tells bugs apart by exception
    type and place, and every violation is raised from the same place, so with one type it
    would shrink and report a sequence for the first rule it met and hide the others."""

    def __init__(self, rule_id: str, message: str, steps: list[Step], run: ScenarioRun) -> None:
        super().__init__(f"{rule_id}: {message}")
        self.rule_id, self.message, self.steps, self.run = rule_id, message, list(steps), run

    @staticmethod
    def of_rule(rule_id: str) -> type[ContractViolation]:
        kind = _KINDS.get(rule_id)
        if kind is None:
            name = "ContractViolation_" + re.sub(r"\W+", "_", rule_id)
            kind = _KINDS[rule_id] = type(name, (ContractViolation,), {"__module__": __name__})
        return kind


_KINDS: dict[str, type[ContractViolation]] = {}


class ModelBroken(AssertionError):
    """The monitor showed a transition its documented model does not allow
    (`conformance.fuzz.model`): a bug in rescheck, not in the target, reported as an internal
    error. ``steps``: a sequence that shows it (hypothesis's shrunk one, in a campaign)."""

    def __init__(self, transitions: Sequence[Transition], steps: Sequence[Step] = ()) -> None:
        shown = "; ".join(f"{b} --{op}--> {a}" for b, op, a in transitions[:5])
        after = f" after {list(steps)!r}" if steps else ""
        super().__init__(
            f"the reference monitor showed {len(transitions)} transition(s) outside its "
            f"documented state model ({shown}){after}; this is a bug in rescheck, please "
            "report it"
        )
        self.transitions, self.steps = list(transitions), list(steps)


codes = st.sampled_from(
    (
        CLUSCTL_RESOURCE_UNKNOWN,
        CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
        CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
        CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
        CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES,
    )
) | st.integers(0x01000000, 0x01003FFF)
#: Terminate now, or once the pending operation has made that many status reports.
checkpoints = st.none() | st.integers(1, 3)
in_buffers = st.none() | st.binary(max_size=64)
out_sizes = st.sampled_from((None, 0, 3, 4, 64, 4096))


class Operations(RuleBasedStateMachine):
    """What the fuzzer may ask of the monitor, each rule as calls of `step`, which a subclass
    carries out: `machine_for`'s through the reference monitor, the throughput benchmark's
    bare machine on the function table itself (so both run the same rules)."""

    #: The instances open now; a step picks one of them, and Close takes it out.
    opened = Bundle("opened")

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.count = 0

    def step(self, op: str, instance: int = 0, arg: Any = None) -> Any:
        """Carry out one `Step` (``op`` on ``instance``, with ``arg``)."""
        raise NotImplementedError

    @initialize(target=opened)
    def open_first(self) -> int:
        return self.open()

    @precondition(lambda self: self.live < INSTANCES)
    @rule(target=opened)
    def open(self) -> int:
        instance, self.count = self.count, self.count + 1
        self.live += 1
        self.step("open", instance)
        return instance

    @rule(instance=opened)
    def online(self, instance: int) -> None:
        self.step("online", instance)

    @rule(instance=opened)
    def offline(self, instance: int) -> None:
        self.step("offline", instance)

    @rule(instance=opened)
    def begin_online(self, instance: int) -> None:
        self.step("begin_online", instance)

    @rule(instance=opened)
    def begin_offline(self, instance: int) -> None:
        self.step("begin_offline", instance)

    @rule(instance=opened)
    def await_report(self, instance: int) -> None:
        self.step("await_report", instance)

    @rule(instance=opened)
    def settle(self, instance: int) -> None:
        self.step("settle", instance)

    @rule()
    def pause(self) -> None:
        self.step("pause")

    @rule(instance=opened, at=checkpoints)
    def terminate(self, instance: int, at: int | None) -> None:
        self.step("terminate", instance, at)

    @rule(instance=opened, entry=st.sampled_from(("online", "offline")), at=checkpoints)
    def terminate_pending(self, instance: int, entry: str, at: int | None) -> None:
        """Online or Offline, then Terminate while it is pending: the moment that
        scenarios try in only two places."""
        self.step(f"begin_{entry}", instance)
        self.step("terminate", instance, at)

    @rule(
        instance=opened,
        entry=st.sampled_from(("online", "offline")),
        at=checkpoints,
        code=codes,
        in_buffer=in_buffers,
        size=out_sizes,
    )
    def control_pending(
        self,
        instance: int,
        entry: str,
        at: int | None,
        code: int,
        in_buffer: bytes | None,
        size: int | None,
    ) -> None:
        """Online or Offline, then a control call while it is pending (once it has made
        ``at`` status reports): a moment no scenario tries."""
        self.step(f"begin_{entry}", instance)
        if at:
            self.step("await_report", instance, at)
        self.step("control", instance, (code, in_buffer, size))

    @rule(instance=opened, other=opened, op=st.sampled_from(("online", "offline", "terminate")))
    def isolation(self, instance: int, other: int, op: str) -> None:
        """Both online, IsAlive of one instance, ``op`` on the other, IsAlive again: what
        instance isolation (ID-1, Instances.isolated) is about, which random steps seldom
        line up."""
        if instance != other:
            self.step("online", instance)
            self.step("online", other)
            self.step("is_alive", instance)
            self.step(op, other)
            self.step("is_alive", instance)

    @rule(instance=opened)
    def looks_alive(self, instance: int) -> None:
        self.step("looks_alive", instance)

    @rule(instance=opened)
    def is_alive(self, instance: int) -> None:
        self.step("is_alive", instance)

    @rule(instance=opened, code=codes, in_buffer=in_buffers, size=out_sizes)
    def control(self, instance: int, code: int, in_buffer: bytes | None, size: int | None):
        self.step("control", instance, (code, in_buffer, size))

    @rule(instance=consumes(opened))
    def close(self, instance: int) -> None:
        self.live -= 1
        self.step("close", instance)


class OperationsWithBreaker(Operations):
    """The operations of a target whose companion has a breaker: one more, the breaker."""

    @rule(instance=Operations.opened)
    def break_entity(self, instance: int) -> None:
        self.step("break", instance)


class ScriptOperations(Operations):
    """The operations of a control script: a sequence first chooses the world the script's
    stand-ins answer from (the stand-in world 0, or one of `rescheck run`'s generated worlds),
    so that hypothesis explores worlds and steps together and shrinks both, towards the
    stand-in world."""

    @initialize(target=Operations.opened, world=st.integers(STAND_IN, len(SEEDS)))
    def open_first(self, world: int) -> int:  # type: ignore[override]
        self.step("world", 0, world)
        return self.open()


class ScriptOperationsWithBreaker(ScriptOperations, OperationsWithBreaker):
    """A control script's operations, its companion's breaker among them."""


def operations(breaker: bool, script: bool = False) -> type[Operations]:
    """The rules of a target (with ``breaker``: its companion's breaker among them; with
    ``script``: the world first)."""
    if script:
        return ScriptOperationsWithBreaker if breaker else ScriptOperations
    return OperationsWithBreaker if breaker else Operations


def machine_for(target: Target, policy: Policy | None = None) -> type[Operations]:
    """The state machine of ``target``: a class named after it, so example databases of two
    targets never mix, with its ``TestCase`` for unittest, pytest or HypoFuzz."""
    policy = policy or Policy()

    breaker, script = target.companion.breaker is not None, target.script is not None

    class Machine(operations(breaker, script)):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.driver = Driver(target, policy)
            #: This sequence's transitions, and each rule's verdict on it (hypothesis events
            #: too, read back by `rescheck fuzz`).
            self.transitions: Counter[Transition] = Counter()
            self.outcomes: dict[str, str] = {}
            self.judged_at = -1  # how many events the trace held when last judged
            self.ended = False  # a rule broken or a model break ended the sequence

        def step(self, op: str, instance: int = 0, arg: Any = None) -> Transition:
            """One step on the reference monitor, checked against the documented state
            model: here and not in an invariant, as a rule may make several steps."""
            if op == "world":  # before any host: no state to move
                self.driver.do(Step(op, instance, arg))
                return ("none", op, "none")
            before = self.driver.state(instance)
            self.driver.do(Step(op, instance, arg))
            after = self.driver.state(instance)
            transition = (before, op, after)
            self.transitions[transition] += 1
            note_transition(transition, self.transitions[transition])
            if after not in model.may_see(before, op):
                self.ended = True
                raise ModelBroken([transition], self.driver.steps)
            return transition

        @invariant()
        def trace_rules_hold(self) -> None:
            """The trace rules hold after every step: the first step that breaks one ends
            the sequence. The rules are about a trace that only grows (a call under way is
            not judged yet), so what a prefix breaks the whole run breaks too; a step that
            added no event is not judged again (the next one that does, or the end, is)."""
            events = self.driver.events()
            if self.ended or events == self.judged_at:
                return
            found = self.driver.violation()
            if found is not None:
                found = self.confirmed()
                if found is None:
                    return  # judged again after the next step, or at the end
                self.driver.close()  # the run then holds Close and shutdown, as reported
                self.note(self.driver.verdicts())
                self.broken(found)
            self.judged_at = events

        def confirmed(self) -> CheckResult | None:
            """The violation judged again on a trace no thread is writing (`Driver.settled`):
            one found while a worker was reporting may have read its report half-made. None
            when it does not stand, or when the trace is not settled now."""
            before = self.driver.settled()
            if before is None:
                return None
            found = self.driver.violation()
            return found if self.driver.settled() == before else None

        def teardown(self) -> None:
            """Judge the whole run once more, Close and the monitor's shutdown included
            (unless a violation or a model break has ended the sequence)."""
            self.driver.close()
            if self.ended:
                return
            verdicts = self.driver.verdicts()
            self.note(verdicts)
            found = next((v for v in verdicts if v.outcome == FAILED), None)
            if found is not None:
                self.broken(found)

        def note(self, verdicts: list[CheckResult]) -> None:
            for verdict in verdicts:
                self.outcomes[verdict.id] = verdict.outcome
                note_verdict(verdict.id, verdict.outcome)

        def broken(self, found: CheckResult) -> NoReturn:
            """Raise the violation: every one is raised from here, as its rule's own type,
            so hypothesis tells them apart by type alone (a subclass may note it first)."""
            self.ended = True
            raise ContractViolation.of_rule(found.id)(
                found.id, found.message, self.driver.steps, self.driver.run
            )

    name = "Fuzz_" + re.sub(r"\W+", "_", target.resource_type) + "_" + target.sha256()[:8]
    Machine.__name__ = Machine.__qualname__ = name
    Machine.TestCase.settings = CONFORMANCE
    return Machine
