"""The suite's plumbing: a scenario runs once per run, whatever happens inside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.report.model import ERROR
from conformance.rules import catalogue
from conformance.suite import scenarios
from conformance.suite.context import RunContext
from conformance.suite.registry import evaluate
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
        first = evaluate(rules["Online.returns"], ctx)
        second = evaluate(rules["Offline.returns"], ctx)
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
