"""A hypothesis state machine per target: rules are monitor-level operations, the invariant
is the suite's own trace rules (`driver.TRACE_RULES`)."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from conformance.fuzz.driver import INSTANCES, Driver, Step
from conformance.monitor.policy import Policy
from conformance.resapi import (
    CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_UNKNOWN,
    CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES,
)
from conformance.targets import Target


class ContractViolation(AssertionError):
    """A rule of the catalogue broken by the sequence of steps so far."""

    def __init__(self, rule_id: str, message: str, steps: list[Step]) -> None:
        super().__init__(f"{rule_id}: {message}")
        self.rule_id, self.message, self.steps = rule_id, message, list(steps)


instances = st.integers(0, INSTANCES - 1)
codes = st.sampled_from(
    (
        CLUSCTL_RESOURCE_UNKNOWN,
        CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
        CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
        CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
        CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES,
    )
) | st.integers(0x01000000, 0x01003FFF)
in_buffers = st.none() | st.binary(max_size=64)
out_sizes = st.sampled_from((None, 0, 3, 4, 64, 4096))


def machine_for(target: Target, policy: Policy | None = None) -> type[RuleBasedStateMachine]:
    """The state machine of ``target``: a class named after it, so example databases of two
    targets never mix, with its ``TestCase`` for unittest, pytest or HypoFuzz."""
    policy = policy or Policy()

    class Machine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.driver = Driver(target, policy)

        def step(self, op: str, instance: int = 0, arg: Any = None) -> None:
            self.driver.do(Step(op, instance, arg))

        @initialize()
        def open_first(self) -> None:
            self.step("open", 0)

        @rule(instance=instances)
        def open(self, instance: int) -> None:
            self.step("open", instance)

        @rule(instance=instances)
        def online(self, instance: int) -> None:
            self.step("online", instance)

        @rule(instance=instances)
        def offline(self, instance: int) -> None:
            self.step("offline", instance)

        @rule(instance=instances)
        def terminate(self, instance: int) -> None:
            self.step("terminate", instance)

        @rule(instance=instances)
        def looks_alive(self, instance: int) -> None:
            self.step("looks_alive", instance)

        @rule(instance=instances)
        def is_alive(self, instance: int) -> None:
            self.step("is_alive", instance)

        @rule(instance=instances, code=codes, in_buffer=in_buffers, size=out_sizes)
        def control(self, instance: int, code: int, in_buffer: bytes | None, size: int | None):
            self.step("control", instance, (code, in_buffer, size))

        @rule(instance=instances)
        def close(self, instance: int) -> None:
            self.step("close", instance)

        @invariant()
        def keeps_the_contract(self) -> None:
            found = self.driver.violation()
            if found is not None:
                rule_id, violation = found
                raise ContractViolation(rule_id, str(violation), self.driver.steps)

        def teardown(self) -> None:
            self.driver.close()

    name = "Fuzz_" + re.sub(r"\W+", "_", target.resource_type) + "_" + target.sha256()[:8]
    Machine.__name__ = Machine.__qualname__ = name
    return Machine
