"""The rule catalogue, derived from the declarations beside the checks (`registry.check`):
the rules in their order, which of them apply to a target, and how they cover the contract.

The order is `conformance.suite.checks.SECTIONS`': `rescheck rules`, docs/rules.md and every
report list the rules so.
"""

from __future__ import annotations

import fnmatch

from conformance.resapi import V1_ENTRY_POINTS
from conformance.rules import NOT_FOR_SCRIPTS, Rule, contract_coverage
from conformance.suite.checks import SECTIONS
from conformance.suite.registry import CHECKS, COMPILED, QUORUM, SCRIPTS, Check
from conformance.suite.scenarios import SCENARIOS
from conformance.targets import Target


def _place(declared: Check) -> tuple[int, int, int, int]:
    """Where a declaration stands: its section; in a section of several modules (the
    control-code rules, each check judging both control routines) its routine's turn in the
    function table; its module; and the order it is written in."""
    for number, modules in enumerate(SECTIONS):
        names = [m.__name__ for m in modules]
        if declared.module in names:
            routine = V1_ENTRY_POINTS.index(declared.rule.entry_points[0]) if len(names) > 1 else 0
            return number, routine, names.index(declared.module), declared.written
    raise ValueError(f"{declared.rule.id} is declared in {declared.module}, which no section lists")


def _ordered() -> tuple[Check, ...]:
    for declared in CHECKS.values():
        unknown = [s for s in declared.scenarios if s not in SCENARIOS]
        if unknown:
            raise ValueError(f"{declared.rule.id} declares unknown scenarios {unknown}")
    return tuple(sorted(CHECKS.values(), key=_place))


#: Every declaration, in the catalogue's order.
DECLARED = _ordered()
_BY_ID = {declared.rule.id: declared for declared in DECLARED}

#: The rules judged on arbitration: they apply to quorum-capable types only.
QUORUM_RULES = tuple(d.rule.id for d in DECLARED if d.applies_to == QUORUM)
#: The rules only a compiled DLL can break (a Python table has no TableSize).
COMPILED_ONLY = frozenset(d.rule.id for d in DECLARED if d.applies_to == COMPILED)


def catalogue() -> list[Rule]:
    """Every rule, in the catalogue's order."""
    return [declared.rule for declared in DECLARED]


def rule(rule_id: str) -> Rule:
    return declaration(rule_id).rule


def declaration(rule_id: str) -> Check:
    """How ``rule_id`` is checked: its scenarios (what a run must play for it), the targets it
    judges, whether any trace can be judged by it."""
    return _BY_ID[rule_id]


def select_rules(patterns: list[str] | None) -> list[Rule]:
    """Rules whose id matches any glob in ``patterns`` (all rules when there are none)."""
    rules = catalogue()
    if not patterns:
        return rules
    return [r for r in rules if any(fnmatch.fnmatchcase(r.id, p) for p in patterns)]


def applies(rule: Rule, target: Target) -> bool:
    """Whether ``rule`` can apply to ``target``, as its declaration's ``applies_to`` says; a
    rule whose class for scripts is ``n/a`` judges no control script."""
    applies_to = declaration(rule.id).applies_to
    if applies_to == SCRIPTS:
        return target.script is not None
    if target.script is not None and rule.script_class == NOT_FOR_SCRIPTS:
        return False
    if applies_to == QUORUM:
        return target.quorum_capable
    if applies_to == COMPILED:
        return target.dll is not None
    return True


def coverage() -> dict[str, list[str]]:
    """docs/contract.md ids by how the catalogue relates to them (`contract_coverage`)."""
    return contract_coverage({cid for rule in catalogue() for cid in rule.contract})
