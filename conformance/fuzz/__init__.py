"""State-transition fuzzing of a resource type (issue 7): a hypothesis state machine per
target whose invariant is the suite's own trace rules, and replay of a step list."""

from conformance.fuzz.driver import Step, replay
from conformance.fuzz.machine import ContractViolation, ModelBroken, machine_for

__all__ = ["ContractViolation", "ModelBroken", "Step", "machine_for", "replay"]
