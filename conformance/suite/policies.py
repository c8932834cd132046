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
