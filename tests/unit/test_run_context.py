"""The suite's plumbing: a scenario runs once per run, whatever happens inside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.report.model import ERROR
from conformance.suite import scenarios
from conformance.suite.catalogue import catalogue
from conformance.suite.context import RunContext
from conformance.suite.registry import CHECKS, Check, judge
from conformance.targets import load_target

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_a_scenario_that_fails_inside_rescheck_runs_once_and_judges_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs: list[str] = []
    monitors = []

    def broken(run) -> None:
        runs.append(run.name)
        monitors.append(run.monitor())
        monitors[-1].startup()
        raise KeyError("a bug in rescheck")

    monkeypatch.setitem(scenarios.SCENARIOS, "lifecycle", broken)
    ctx = RunContext(load_target(str(FIXTURES / "conforming.py")))
    rules = {r.id: r for r in catalogue()}
    try:
        first = judge(rules["Online.returns"], ctx)
        second = judge(rules["Offline.returns"], ctx)
    finally:
        ctx.close()
    assert runs == ["lifecycle"], f"the scenario should run once, ran {len(runs)} times"
    assert first.outcome == ERROR and "internal error" in first.message, (
        f"the first check should report rescheck's own error; got {first.outcome}: {first.message}"
    )
    assert any("KeyError" in line for line in first.evidence), "with the traceback as evidence"
    assert second.outcome == ERROR and "failed inside scenario 'lifecycle'" in second.message, (
        f"a later check should say it cannot judge; got {second.outcome}: {second.message}"
    )
    assert monitors[0]._shut_down, "the scenario's monitors are shut down all the same"


def test_a_check_that_asks_for_an_undeclared_scenario_is_an_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The declarations are what the runner plans by: a check may not read a scenario its
    declaration leaves out, so the two cannot drift apart."""
    declared = CHECKS["Online.returns"]
    narrowed = Check(**{**declared.__dict__, "scenarios": ("startup",)})
    monkeypatch.setitem(CHECKS, "Online.returns", narrowed)
    ctx = RunContext(load_target(str(FIXTURES / "conforming.py")))
    try:
        result = judge(declared.rule, ctx)
    finally:
        ctx.close()
    assert result.outcome == ERROR, f"expected an internal error, got {result.outcome}"
    assert "UndeclaredScenario" in result.message and "add it there" in result.message, (
        result.message
    )
