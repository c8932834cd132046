"""The conformance suite as pytest items: one per rule of the catalogue."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.rules import Rule, catalogue
from conformance.suite.registry import evaluate


@pytest.mark.parametrize("rule", catalogue(), ids=lambda r: r.id)
def test_rule(rule: Rule, rescheck_context: Any, request: pytest.FixtureRequest) -> None:
    result = evaluate(rule, rescheck_context)
    request.node.user_properties.extend(
        [("level", rule.level), ("doc", rule.doc_url), ("contract", ",".join(rule.contract))]
    )
    if result.outcome == "skipped":
        pytest.skip(result.message)
    if result.outcome in ("failed", "error"):
        what = f"[{rule.level}]" if result.outcome == "failed" else "[could not judge]"
        lines = [
            f"{what} {rule.id}: {result.message}",
            f"rule: {rule.statement}",
            f"doc: {rule.doc} {rule.doc_url}",
        ]
        if rule.policy:
            lines.append(f"policy: {rule.policy}")
        if result.evidence:
            lines += ["trace:", *result.evidence]
        pytest.fail("\n".join(lines), pytrace=False)
