"""Quorum campaigns (`rescheck quorum`): the quorum scenario on schedules hypothesis generates,
3 to 8 nodes, each schedule judged by the quorum rules on its own history.

A schedule is plain data (`conformance.suite.quorum.Schedule`): the campaign reports each
violating one, with the seed that generates the campaign again. Schedules are not shrunk:
each costs seconds of real arbitration, and the history slice already shows what happened.
A worker of a campaign (issue 22) records each schedule's verdicts and each violating schedule
as it goes (`conformance.fuzz.ledger`), and first plays again the violating schedules the
campaign has recorded, whoever found them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from hypothesis import Phase, example, given, seed, settings
from hypothesis import strategies as st

from conformance.clusapi import InMemoryClusterDatabase
from conformance.fuzz.driver import _FuzzContext
from conformance.fuzz.interrupt import Interrupted, Watch
from conformance.fuzz.ledger import FINISHED, FOUND, INTERRUPTED, REPLAYED, Recorder
from conformance.fuzz.progress import time_left
from conformance.monitor.monitor import MonitorError
from conformance.monitor.policy import Policy
from conformance.report import write_reports
from conformance.report.model import ERROR, FAILED, PASSED, SKIPPED, CheckResult, RunResult
from conformance.suite.catalogue import QUORUM_RULES, rule
from conformance.suite.context import Halt, ScenarioRun, counted
from conformance.suite.quorum import STEPS, Schedule, quorum
from conformance.suite.registry import judge
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
    failed: dict[str, tuple[Schedule, CheckResult]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    count: int | None = None  # the schedules asked for
    #: Why the schedules that could not judge a rule could not, by rule, with their counts.
    unjudged: dict[str, Counter[str]] = field(default_factory=dict)
    #: Each schedule played, with each rule's outcome there (the report's table).
    log: list[dict[str, object]] = field(default_factory=list)

    def figures(self) -> dict[str, object]:
        """What a worker records of itself for a campaign's merged progress and report."""
        return {
            "played": self.played,
            "passed": dict(self.passed),
            "failing": sorted(self.failed),
            "unjudged": {rule_id: dict(reasons) for rule_id, reasons in self.unjudged.items()},
            "log": self.log,
            "errors": self.errors[:1],
        }

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


def judge_schedule(target: Target, schedule: Schedule, policy: Policy) -> dict[str, CheckResult]:
    """Play ``schedule`` on fresh nodes and judge it by each quorum rule (a bug of rescheck's
    is raised)."""
    run = ScenarioRun("quorum", target, policy, database=InMemoryClusterDatabase())
    try:
        quorum(run, schedule)
    except (Halt, MonitorError) as exc:  # the target stopped the schedule: said, not a crash
        reason = exc.stop.reason if isinstance(exc, Halt) else f"{type(exc).__name__}: {exc}"
        return {
            rule_id: CheckResult.for_rule(
                rule(rule_id), ERROR, f"the schedule could not go on: {reason}"
            )
            for rule_id in QUORUM_RULES
        }
    finally:
        for monitor in run.monitors:
            monitor.shutdown()
            monitor.host.close()
    ctx = _FuzzContext(run, target, policy)
    return {
        rule_id: judge(rule(rule_id), ctx, raise_bugs=True)  # type: ignore[arg-type]
        for rule_id in QUORUM_RULES
    }


def campaign(
    target: Target,
    report_dir: Path,
    *,
    count: int = 200,
    seed_value: int | None = None,
    nodes: tuple[int, int] = (MIN_NODES, MAX_NODES),
    policy: Policy | None = None,
    progress: Callable[[str], None] = print,
    recorder: Recorder | None = None,
) -> RunResult:
    """Play ``count`` generated schedules against ``target``; write the reports. Ctrl-C ends
    the campaign with the reports of the schedules played, marked incomplete, and raises
    `Interrupted`. A worker of a campaign records with ``recorder``, and first plays the
    violating schedules recorded there."""
    from conformance import __version__

    policy = policy or Policy()
    report_dir.mkdir(parents=True, exist_ok=True)
    state = Verdicts(count=count)
    shown = [time.perf_counter()]
    watch = Watch()

    replays = [] if recorder is None else recorded(recorder)

    # No health check suppressed: a schedule is a few small draws (the seconds a schedule
    # takes are its playing, which no health check times), and `play` is no pytest test.
    @settings(
        max_examples=count, phases=[Phase.explicit, Phase.generate], database=None, deadline=None
    )
    @given(schedules(*nodes))
    def play(schedule: Schedule) -> None:
        watch.check()
        verdicts = judge_schedule(target, schedule, policy)
        watch.check()  # a schedule cut short by Ctrl-C is not judged
        outcomes: dict[str, str] = {}
        reasons: dict[str, str] = {}
        for rule_id, verdict in verdicts.items():
            outcomes[rule_id] = verdict.outcome
            if verdict.outcome == FAILED:
                if recorder is not None and rule_id not in state.failed:
                    kind = REPLAYED if schedule in replays else FOUND
                    recorder.finding(kind, rule_id, _finding(schedule, verdict, state.played))
                state.failed.setdefault(rule_id, (schedule, verdict))
                reasons[rule_id] = verdict.message
            elif verdict.outcome == ERROR:
                state.errors.append(f"{rule_id} on {schedule}: {verdict.message}")
                reasons[rule_id] = verdict.message
            elif verdict.outcome == SKIPPED:
                state.unjudged.setdefault(rule_id, Counter())[verdict.message] += 1
                reasons[rule_id] = verdict.message
            else:
                state.passed[rule_id] = state.passed.get(rule_id, 0) + 1
        state.log.append({"schedule": str(schedule), "outcomes": outcomes, "reasons": reasons})
        state.played += 1
        if recorder is not None:
            recorder.status(state.figures())
            if recorder.lost is not None:
                raise KeyboardInterrupt
        if time.perf_counter() - shown[0] >= 2.0 and state.played < count:
            shown[0] = time.perf_counter()
            progress(state.line())

    for replay in replays:
        play = example(replay)(play)
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
            schedule, verdict = found
            result.checks.append(
                CheckResult.for_rule(
                    rule(rule_id),
                    FAILED,
                    f"{verdict.message} (schedule: {schedule}; seed {seed_value})",
                    evidence=verdict.evidence,
                    timeline=verdict.timeline,
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
    result.errors.extend(state.errors[:1])
    write_reports(result, report_dir)
    if recorder is not None:
        recorder.status(state.figures(), INTERRUPTED if watch.seen else FINISHED)
    if watch.seen:
        raise Interrupted(result)
    return result


def recorded(recorder: Recorder) -> list[Schedule]:
    """The violating schedules the campaign has recorded, each once, as plain data."""
    found: dict[Schedule, None] = {}
    for record in recorder.findings():
        plan = record.get("plan")
        if isinstance(plan, dict) and set(plan.get("steps") or ()) <= set(STEPS):
            found[Schedule(int(plan.get("nodes", MIN_NODES)), tuple(plan["steps"]))] = None
    return list(found)


def _finding(schedule: Schedule, verdict: CheckResult, played: int) -> dict[str, object]:
    return {
        "schedule": str(schedule),
        "plan": {"nodes": schedule.nodes, "steps": list(schedule.steps)},
        "message": verdict.message,
        "evidence": verdict.evidence,
        "timeline": verdict.timeline,
        "examples": played + 1,
    }
