"""A hypothesis state machine per target: rules are monitor-level operations, the invariant
is the suite's own trace rules (`driver.TRACE_RULES`), judged on each sequence's trace."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    precondition,
    rule,
)

from conformance.fuzz.driver import INSTANCES, Driver, Step
from conformance.fuzz.profiles import CONFORMANCE
from conformance.monitor.policy import Policy
from conformance.resapi import (
    CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_UNKNOWN,
    CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES,
)
from conformance.suite.context import ScenarioRun
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


def machine_for(target: Target, policy: Policy | None = None) -> type[RuleBasedStateMachine]:
    """The state machine of ``target``: a class named after it, so example databases of two
    targets never mix, with its ``TestCase`` for unittest, pytest or HypoFuzz."""
    policy = policy or Policy()

    class Machine(RuleBasedStateMachine):
        #: The instances open now; a step picks one of them, and Close takes it out.
        opened = Bundle("opened")

        def __init__(self) -> None:
            super().__init__()
            self.driver = Driver(target, policy)
            self.live = 0
            self.count = 0

        def step(self, op: str, instance: int = 0, arg: Any = None) -> None:
            self.driver.do(Step(op, instance, arg))

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

        if target.companion.breaker is not None:

            @rule(instance=opened)
            def break_entity(self, instance: int) -> None:
                self.step("break", instance)

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

        def teardown(self) -> None:
            """The invariant: the trace rules hold for the whole sequence, Close and the
            monitor's shutdown included. Judged once, at the end, as the rules are about a
            trace that only grows: a prefix that breaks one makes the whole break it, and
            the shrinker then cuts the sequence down to the steps that matter."""
            self.driver.close()
            found = self.driver.violation()
            if found is not None:
                rule_id, violation = found
                raise ContractViolation.of_rule(rule_id)(
                    rule_id, str(violation), self.driver.steps, self.driver.run
                )

    name = "Fuzz_" + re.sub(r"\W+", "_", target.resource_type) + "_" + target.sha256()[:8]
    Machine.__name__ = Machine.__qualname__ = name
    Machine.TestCase.settings = CONFORMANCE
    return Machine
