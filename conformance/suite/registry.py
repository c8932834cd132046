"""Every rule is declared once, beside its check, by `check`; `judge` turns a check into a
`CheckResult`, for the runner, the pytest plugin and the fuzzers alike."""

from __future__ import annotations

import inspect
import itertools
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.report.model import ERROR, FAILED, PASSED, SKIPPED, CheckResult
from conformance.rules import CONTRACT, LEVELS, SCRIPT_CLASSES, WORLD, Rule
from conformance.runtime.trace import TraceEvent
from conformance.suite import unprovided
from conformance.suite.context import CannotJudge, NotApplicable, RunContext, Violation

#: Which targets a rule judges (its declaration's ``applies_to``). Every target by default: a
#: resource DLL, Python or compiled, and a control script through the Generic Script DLL,
#: unless the rule's ``script_class`` is n/a for scripts (the DLL gives each resource its own
#: script instance, GS-5, and never arbitrates).
ALL_TARGETS = "all"
#: The control script's own rules (§8): control scripts only.
SCRIPTS = "scripts"
#: The rules judged on arbitration (§7): quorum-capable types only.
QUORUM = "quorum-capable"
#: The rules only a compiled function table can break: compiled DLLs only.
COMPILED = "compiled"
APPLIES_TO = (ALL_TARGETS, SCRIPTS, QUORUM, COMPILED)

#: The order declarations are written in (a decorator's arguments are evaluated top down,
#: stacked ones too, though they apply bottom up): the catalogue's order within a module.
_written = itertools.count()


@dataclass(frozen=True)
class Check:
    """A rule as declared: what the documentation says (``rule``), the function that judges it,
    the scenarios that function may ask for, the targets it judges, and whether it reads only
    the calls and callbacks of a trace (``trace_only``: any sequence of steps the fuzzer makes
    can be judged by it)."""

    rule: Rule
    fn: Callable[..., str]
    scenarios: tuple[str, ...]
    applies_to: str
    trace_only: bool
    written: int
    #: A check shared by a family of rules, one per entry point, is given the rule's.
    per_entry: bool

    @property
    def module(self) -> str:
        return self.fn.__module__

    def __call__(self, ctx: RunContext) -> str:
        """What the check verified."""
        if self.per_entry:
            return self.fn(ctx, entry=self.rule.entry_points[0])
        return self.fn(ctx)


#: Every declared check, by rule id (`conformance.suite.catalogue` orders them).
CHECKS: dict[str, Check] = {}


def check(
    rule_id: str,
    level: str,
    *,
    entry_points: tuple[str, ...],
    statement: str,
    doc: str,
    contract: tuple[str, ...],
    scenarios: tuple[str, ...],
    policy: str | None = None,
    script_class: str = CONTRACT,
    applies_to: str = ALL_TARGETS,
    trace_only: bool = False,
) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Declare rule ``rule_id`` (the fields of `Rule`, then how it is judged) and make the
    decorated function its check; the function returns what it verified. ``scenarios`` are
    the only ones it may ask the run for (`RunContext.scenario` refuses others)."""
    written = next(_written)
    if level not in LEVELS or script_class not in SCRIPT_CLASSES or applies_to not in APPLIES_TO:
        raise ValueError(f"{rule_id}: unknown level, script_class or applies_to")
    rule = Rule(rule_id, level, entry_points, statement, doc, contract, policy, script_class)

    def register(fn: Callable[..., str]) -> Callable[..., str]:
        if rule_id in CHECKS:
            raise ValueError(f"two declarations of rule {rule_id}")
        per_entry = "entry" in inspect.signature(fn).parameters
        if per_entry and len(entry_points) != 1:
            raise ValueError(f"{rule_id}: a check with an entry parameter judges one entry point")
        CHECKS[rule_id] = Check(rule, fn, scenarios, applies_to, trace_only, written, per_entry)
        return fn

    return register


def judge(rule: Rule, ctx: RunContext, *, raise_bugs: bool = False) -> CheckResult:
    """Run the check of ``rule``: passed; failed on a `Violation`, but skipped ("not judged")
    when the rule depends on the world and rescheck's stand-in world decided it; skipped when
    `NotApplicable`; an error when it `CannotJudge`, or on a bug of rescheck's (with its
    traceback), which ``raise_bugs`` raises instead, for a fuzzer that has no report to put it
    in. A failure that may rest on a function rescheck does not provide yet is not judged, and
    a pass on such a run says so (`conformance.suite.unprovided`)."""
    import conformance.suite.checks  # noqa: F401  (declares every rule)

    declared = CHECKS[rule.id]
    started = time.perf_counter()
    evidence: list[str] = []
    timeline: list[dict[str, Any]] = []
    try:
        with ctx.checking(declared.scenarios):
            message = declared(ctx)
        outcome = PASSED
        stubs = unprovided.stub_calls(_declared_events(ctx, declared))
        if stubs:
            message = unprovided.passed_with(stubs, message)
    except Violation as violation:
        outcome, message, evidence = FAILED, str(violation), violation.evidence()
        timeline = violation.timeline
        why = ctx.world_undecided() if rule.script_class == WORLD else None
        stubs = (
            unprovided.before_violation(violation.trace, violation.events)
            if violation.trace is not None
            else unprovided.stub_calls(_declared_events(ctx, declared))
        )
        if why is not None:
            outcome, message = SKIPPED, f"not judged: {message}; {why}"
        elif stubs:
            outcome, message = SKIPPED, unprovided.not_judged(stubs, message)
    except NotApplicable as reason:
        outcome, message = SKIPPED, str(reason)
    except CannotJudge as reason:
        outcome, message = ERROR, str(reason)
    except Exception as exc:
        if raise_bugs:
            raise
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


def _declared_events(ctx: RunContext, declared: Check) -> list[TraceEvent]:
    """The events of the scenarios the check declares, as far as they have run (a fuzzed
    sequence is every scenario)."""
    from conformance.suite.scenarios import SCENARIOS

    return list(ctx.events_so_far(but=tuple(set(SCENARIOS) - set(declared.scenarios))))
