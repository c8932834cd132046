"""Checks register against rule ids; `evaluate` turns one check into a `CheckResult`."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any

from conformance.report.model import ERROR, FAILED, PASSED, SKIPPED, CheckResult
from conformance.rules import WORLD, Rule
from conformance.suite.context import CannotJudge, NotApplicable, RunContext, Violation
from conformance.suite.worlds import undecided

Check = Callable[[RunContext], str]
CHECKS: dict[str, Check] = {}


def check(rule_id: str) -> Callable[[Check], Check]:
    """Register ``fn`` as the check of ``rule_id``; it returns what it verified."""

    def register(fn: Check) -> Check:
        if rule_id in CHECKS:
            raise ValueError(f"two checks for rule {rule_id}")
        CHECKS[rule_id] = fn
        return fn

    return register


def evaluate(rule: Rule, ctx: RunContext) -> CheckResult:
    """Run the check of ``rule``: a violation fails it, a harness bug is an error; a violation
    of a world-dependent rule that a control script's stand-in world decided is not judged."""
    import conformance.suite.checks  # noqa: F401  (registers every check)

    started = time.perf_counter()
    evidence: list[str] = []
    timeline: list[dict[str, Any]] = []
    try:
        message = CHECKS[rule.id](ctx)
        outcome = PASSED
    except Violation as violation:
        outcome, message, evidence = FAILED, str(violation), violation.evidence()
        timeline = violation.timeline
        # a fresh resource's unset properties are the cluster's world, not a stand-in's answer
        seen = ctx.events_so_far(but=("fresh",))
        why = undecided(ctx.target, seen) if rule.script_class == WORLD else None
        if why is not None:
            outcome, message = SKIPPED, f"not judged: {message}; {why}"
    except NotApplicable as reason:
        outcome, message = SKIPPED, str(reason)
    except CannotJudge as reason:
        outcome, message = ERROR, str(reason)
    except Exception as exc:
        outcome = ERROR
        message = f"internal error in rescheck's check: {type(exc).__name__}: {exc}"
        evidence = traceback.format_exc().splitlines()[-12:]
    return CheckResult.for_rule(
        rule,
        outcome,
        message,
        evidence=evidence,
        duration=round(time.perf_counter() - started, 4),
        timeline=timeline,
    )
