"""The verdicts issue 20's blind DLLs showed to be shallow: a failure is blamed on the entry
point whose call broke the rule, and a rule that needs cycles in a state says how many reached
it (fixtures/misses/)."""

from __future__ import annotations

import functools

from conformance.report.model import RunResult
from conformance.suite.runner import check_resource_type

BAD = ("failed", "error")


@functools.cache
def verdict(fixture: str) -> RunResult:
    return check_resource_type(f"fixtures.misses.{fixture}")


def outcomes(result: RunResult) -> dict[str, str]:
    return {c.id: c.outcome for c in result.checks}


def test_an_online_that_fails_after_terminate_too_is_onlines_finding() -> None:
    result = verdict("fourth_online_refused")
    bad = {c.id: c.message for c in result.checks if c.outcome in BAD}
    assert set(bad) == {"Online.brings-online"}, bad
    usable = next(c for c in result.checks if c.id == "Terminate.instance-usable")
    assert usable.outcome in ("passed", "skipped"), usable
    if usable.outcome == "skipped":
        assert "Online's finding" in usable.message, usable.message


def test_a_leak_audit_of_cycles_that_never_came_online_is_not_judged() -> None:
    result = verdict("online_refused_mostly")
    bad = {c.id for c in result.checks if c.outcome in BAD}
    assert bad == {"Online.brings-online"}, [c for c in result.checks if c.id in bad]
    [releases] = [c for c in result.checks if c.id == "Close.releases"]
    assert releases.outcome == "skipped", releases
    assert "only 3 of the 7 cycles came online" in releases.message, releases.message


def test_a_leak_audit_says_how_many_cycles_came_online() -> None:
    [releases] = check_resource_type("fixtures.conforming", select=["Close.releases"]).checks
    assert releases.outcome == "passed"
    assert "7 of the 7 cycles came online" in releases.message, releases.message
