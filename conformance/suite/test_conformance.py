"""The conformance suite as pytest items: one per rule of the catalogue, marked
``rescheck_rule(id, level=...)`` so that ``-m`` and other plugins can use it. The plugin's
``rescheck_judge`` judges each and ends it as ``rescheck run`` counts the check."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.rules import Rule
from conformance.suite.catalogue import catalogue

RULES = [
    pytest.param(rule, id=rule.id, marks=pytest.mark.rescheck_rule(rule.id, level=rule.level))
    for rule in catalogue()
]


@pytest.mark.parametrize("rule", RULES)
def test_rule(rule: Rule, rescheck_judge: Callable[[Rule], str | None]) -> None:
    nothing_to_judge = rescheck_judge(rule)
    if nothing_to_judge is not None:
        pytest.skip(nothing_to_judge)
