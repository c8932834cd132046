"""Running the whole suite as a library call (the CLI and the pytest plugin sit on top)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from conformance.monitor.policy import Policy
from conformance.report.model import ERROR, CheckResult, RunResult
from conformance.rules import Rule
from conformance.suite import unprovided
from conformance.suite.catalogue import applies, catalogue, select_rules
from conformance.suite.context import RunContext
from conformance.suite.registry import judge
from conformance.targets import Target, load_target

#: The whole run's wall-clock budget by default (a run of process_app takes about 10 s).
DEFAULT_BUDGET_S = 1800.0


def run_suite(
    target: Target,
    policy: Policy | None = None,
    rules: list[Rule] | None = None,
    strict: bool = False,
    on_result: Callable[[CheckResult], None] | None = None,
    budget: float = DEFAULT_BUDGET_S,
) -> RunResult:
    """Check ``target`` against ``rules`` (default: the whole catalogue). Once ``budget``
    seconds have passed, the checks not yet started are reported as not judged."""
    from conformance import __version__

    policy = policy or Policy()
    result = RunResult(target=target.given, resource_type=target.resource_type, strict=strict)
    result.info = {
        "rescheck_version": __version__,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "target_sha256": target.sha256(),
        "target_kind": target.kind,
        "hosting": target.hosting,
        "resource_api_versions": "0x100 (V1)",
        **policy.describe(),
    }
    started = time.perf_counter()
    ctx = RunContext(target, policy, deadline=started + budget)
    result.info["budget_s"] = budget
    chosen = [r for r in (rules if rules is not None else catalogue()) if applies(r, target)]
    try:
        for rule in chosen:
            if time.perf_counter() - started > budget:
                check = CheckResult.for_rule(
                    rule,
                    ERROR,
                    f"not judged: the run used up its wall-clock budget ({budget:.0f} s); "
                    "raise it with --budget, or select fewer rules",
                )
            else:
                check = judge(rule, ctx)
            result.checks.append(check)
            if on_result is not None:
                on_result(check)
        stubs = unprovided.info(ctx.events_so_far())
    finally:
        ctx.close()
    if stubs:  # what the verdicts marked "not judged" or "held with" rest on
        result.info["unprovided_calls"] = stubs
    if ctx.world is not None:
        result.info["script_world"] = ctx.world.info()
    result.info["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result.info["wall_time_s"] = round(time.perf_counter() - started, 3)
    return result


def check_resource_type(
    target: str,
    *,
    companion: str | None = None,
    type_name: str | None = None,
    properties: Mapping[str, Any] | None = None,
    policy: Policy | None = None,
    select: list[str] | None = None,
    strict: bool = False,
    hosting: str = "isolated",
) -> RunResult:
    """Load ``target`` (a dotted module, a .py path or a control script) and run the suite.

    >>> result = check_resource_type("reference_impls/process_app.py")
    >>> result.verdict
    'compliant'
    """
    policy = policy or Policy()
    loaded = load_target(
        target, companion, type_name, properties, policy, hosting, judge_startup=True
    )
    return run_suite(loaded, policy, select_rules(select), strict)
