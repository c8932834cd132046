"""Quorum campaigns (`rescheck quorum`): the quorum scenario on schedules hypothesis generates,
3 to 8 nodes, each schedule judged by the quorum rules on its own history.

A schedule is plain data (`conformance.suite.quorum.Schedule`): the campaign reports each
violating one, with the seed that generates the campaign again. Schedules are not shrunk:
each costs seconds of real arbitration, and the history slice already shows what happened.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from conformance.clusapi import InMemoryClusterDatabase
from conformance.fuzz.driver import _FuzzContext
from conformance.fuzz.interrupt import Interrupted, Watch
from conformance.fuzz.progress import time_left
from conformance.monitor.monitor import MonitorError
from conformance.monitor.policy import Policy
from conformance.report import write_reports
from conformance.report.model import ERROR, FAILED, PASSED, SKIPPED, CheckResult, RunResult
from conformance.rules import rule
from conformance.suite.checks.quorum import QUORUM_RULES
from conformance.suite.context import (
    CannotJudge,
    Halt,
    NotApplicable,
    ScenarioRun,
    Violation,
    counted,
)
from conformance.suite.quorum import STEPS, Schedule, quorum
from conformance.suite.registry import CHECKS
from conformance.targets import Target

#: Nodes per schedule, as the issue asks of a campaign.
MIN_NODES, MAX_NODES = 3, 8
#: Steps after the first contention.
MAX_STEPS = 6


def schedules(
    min_nodes: int = MIN_NODES, max_nodes: int = MAX_NODES
) -> st.SearchStrategy[Schedule]:
    """A schedule: every node contends first, then up to MAX_STEPS steps of any kind."""
    return st.builds(
        Schedule,
        nodes=st.integers(min_nodes, max_nodes),
        steps=st.lists(st.sampled_from(STEPS), max_size=MAX_STEPS).map(
            lambda steps: ("contend", *steps)
        ),
    )


@dataclass
class Verdicts:
    """What each quorum rule made of the schedules played so far."""

    played: int = 0
    passed: dict[str, int] = field(default_factory=dict)
    failed: dict[str, tuple[Schedule, Violation]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    count: int | None = None  # the schedules asked for
    #: Why the schedules that could not judge a rule could not, by rule, with their counts.
    unjudged: dict[str, Counter[str]] = field(default_factory=dict)
    #: Each schedule played, with each rule's outcome there (the report's table).
    log: list[dict[str, object]] = field(default_factory=list)

    def line(self) -> str:
        rate = self.played / max(time.perf_counter() - self.started, 1e-9) * 60
        of = "" if self.count is None else f" of {self.count}"
        left = time_left(self.started, self.played, self.count, None)
        return (
            f"quorum: {self.played}{of} schedules ({rate:.1f}/min), "
            f"{counted(len(self.failed), 'rule')} broken{left}"
        )


def held(judged: int, played: int, reasons: Counter[str] | None = None) -> str:
    """A passed rule's message, which cannot be read as "failed in the others": those had
    nothing for the rule to judge (the commonest reasons why), or could not judge it."""
    if judged >= played:
        return f"held in every one of the {played} schedules played"
    which = "the one schedule" if judged == 1 else f"all {judged} schedules"
    reasons = reasons or Counter()
    idle = sum(reasons.values())
    why = "; ".join(f"{n}: {reason}" for reason, n in reasons.most_common(2))
    text = f"held in {which} that exercised it"
    if idle:
        text += f"; the other {idle} had nothing for it to judge, which is not a failure" + (
            f" ({why})" if why else ""
        )
    if played - judged - idle > 0:
        text += f"; {played - judged - idle} could not judge it (see the error)"
    return text


def judge(target: Target, schedule: Schedule, policy: Policy) -> dict[str, object]:
    """Play ``schedule`` on fresh nodes and judge it: rule id -> a message (passed), a
    Violation, NotApplicable or CannotJudge."""
    run = ScenarioRun("quorum", target, policy, database=InMemoryClusterDatabase())
    try:
        quorum(run, schedule)
    except (Halt, MonitorError) as exc:  # the target stopped the schedule: said, not a crash
        reason = exc.stop.reason if isinstance(exc, Halt) else f"{type(exc).__name__}: {exc}"
        return {
            rule_id: CannotJudge(f"the schedule could not go on: {reason}")
            for rule_id in QUORUM_RULES
        }
    finally:
        for monitor in run.monitors:
            monitor.shutdown()
            monitor.host.close()
    ctx = _FuzzContext(run, target, policy)
    verdicts: dict[str, object] = {}
    for rule_id in QUORUM_RULES:
        try:
            verdicts[rule_id] = CHECKS[rule_id](ctx)  # type: ignore[arg-type]
        except (Violation, NotApplicable, CannotJudge) as exc:
            verdicts[rule_id] = exc
    return verdicts


def campaign(
    target: Target,
    report_dir: Path,
    *,
    count: int = 200,
    seed_value: int | None = None,
    nodes: tuple[int, int] = (MIN_NODES, MAX_NODES),
    policy: Policy | None = None,
    progress: Callable[[str], None] = print,
) -> RunResult:
    """Play ``count`` generated schedules against ``target``; write the reports. Ctrl-C ends
    the campaign with the reports of the schedules played, marked incomplete, and raises
    `Interrupted`."""
    from conformance import __version__

    policy = policy or Policy()
    report_dir.mkdir(parents=True, exist_ok=True)
    state = Verdicts(count=count)
    shown = [time.perf_counter()]
    watch = Watch()

    @settings(
        max_examples=count,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(schedules(*nodes))
    def play(schedule: Schedule) -> None:
        watch.check()
        verdicts = judge(target, schedule, policy)
        watch.check()  # a schedule cut short by Ctrl-C is not judged
        outcomes: dict[str, str] = {}
        reasons: dict[str, str] = {}
        for rule_id, verdict in verdicts.items():
            if isinstance(verdict, Violation):
                state.failed.setdefault(rule_id, (schedule, verdict))
                outcomes[rule_id], reasons[rule_id] = FAILED, str(verdict)
            elif isinstance(verdict, CannotJudge):
                state.errors.append(f"{rule_id} on {schedule}: {verdict}")
                outcomes[rule_id], reasons[rule_id] = ERROR, str(verdict)
            elif isinstance(verdict, NotApplicable):
                state.unjudged.setdefault(rule_id, Counter())[str(verdict)] += 1
                outcomes[rule_id], reasons[rule_id] = SKIPPED, str(verdict)
            else:
                state.passed[rule_id] = state.passed.get(rule_id, 0) + 1
                outcomes[rule_id] = PASSED
        state.log.append({"schedule": str(schedule), "outcomes": outcomes, "reasons": reasons})
        state.played += 1
        if time.perf_counter() - shown[0] >= 2.0 and state.played < count:
            shown[0] = time.perf_counter()
            progress(state.line())

    if seed_value is not None:
        play = seed(seed_value)(play)
    try:
        with watch.installed():
            play()
    except KeyboardInterrupt:
        watch.seen = True
    except Exception:
        if not watch.seen:  # else a Ctrl-C that a host's shutdown turned into another error
            raise
    progress(state.line())
    result = RunResult(
        target=target.given, resource_type=target.resource_type, complete=not watch.seen
    )
    result.info = {
        "rescheck_version": __version__,
        "mode": "quorum",
        "target_sha256": target.sha256(),
        "seed": seed_value,
        "schedules": state.played,
        "nodes": f"{nodes[0]}-{nodes[1]}",
        "wall_time_s": round(time.perf_counter() - state.started, 3),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "schedule_log": state.log,
    }
    for rule_id in QUORUM_RULES:
        found = state.failed.get(rule_id)
        if found is not None:
            schedule, violation = found
            result.checks.append(
                CheckResult.for_rule(
                    rule(rule_id),
                    FAILED,
                    f"{violation} (schedule: {schedule}; seed {seed_value})",
                    evidence=violation.evidence(),
                    timeline=violation.timeline,
                )
            )
        elif state.passed.get(rule_id):
            result.checks.append(
                CheckResult.for_rule(
                    rule(rule_id),
                    PASSED,
                    held(state.passed[rule_id], state.played, state.unjudged.get(rule_id)),
                )
            )
        else:
            result.checks.append(
                CheckResult.for_rule(
                    rule(rule_id), SKIPPED, f"no schedule of {state.played} could judge it"
                )
            )
    for error in state.errors[:1]:
        result.checks.append(CheckResult.for_rule(rule(QUORUM_RULES[0]), ERROR, error))
    write_reports(result, report_dir)
    if watch.seen:
        raise Interrupted(result)
    return result
