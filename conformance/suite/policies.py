"""Policies that more than one check module's rules cite: where the pages conflict or give no
level, what rescheck chose (each rule's ``policy``; reports show it next to the rule)."""

from __future__ import annotations

#: For a routine whose return value the Resource Monitor reads as a BOOL.
BOOL_POLICY = (
    "The signature is the contract (docs/contract.md marks it Ref): the Resource Monitor reads a BOOL, "
    "so a value other than TRUE/FALSE (1/0) is treated as a required return-contract violation."
)
#: For the rules that look at the real entity through the companion.
PROBE_POLICY = (
    "Needs the companion's probe (and breaker, for failure detection); without them the check "
    "is skipped with that reason, never passed. The probe is given 2 s to see the change."
)
#: How `rescheck fuzz` judges the entity rules on its sequences (`conformance.fuzz.entity`).
FUZZ_PROBE_POLICY = (
    " Under rescheck fuzz the probe is asked around each Online, Offline and Terminate the "
    "fuzzer drives, where the target lives; the entity is still given 2 s to be found running "
    "after Online and to stop after Offline or Terminate, and the "
    "1.5 s it must stay stopped are scaled by --time-scale, never under 0.75 s (a DLL's own "
    "threads do not run on the monitor's scaled clock: watching less can miss a late restart, "
    "never blame one); the entity is watched only where it was running before the call. "
    "Without a probe the rule is not judged in fuzzing, never passed."
)
