"""`rescheck fuzz`: run a target's state machine for a number of examples (or a duration),
keep the example database in the report directory (a campaign resumes), and write for each
violation a standalone pytest reproducer and the JSON trace of the failing run."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

from hypothesis import seed, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Flaky
from hypothesis.stateful import get_state_machine_test
from hypothesis.statistics import collector  # hypothesis's statistics, events included

from conformance.fuzz.driver import TRACE_RULES
from conformance.fuzz.interrupt import Interrupted, Watch
from conformance.fuzz.machine import ContractViolation, ModelBroken, Operations, machine_for
from conformance.fuzz.profiles import CAMPAIGN
from conformance.fuzz.progress import time_left
from conformance.fuzz.stats import Tally, Transition
from conformance.monitor.policy import Policy
from conformance.report import write_reports
from conformance.report.model import FAILED, PASSED, CheckResult, RunResult
from conformance.resapi import control_code_name
from conformance.targets import Target

__all__ = ["ModelBroken", "Progress", "fuzz", "write_reproducer"]

#: Examples per round of a --duration campaign (each round has its own seed).
ROUND = 100


@dataclass
class Progress:
    """What the campaign has done so far: live, for the progress line, and as hypothesis's
    statistics tell it (`Tally`), for the results."""

    started: float = field(default_factory=time.perf_counter)
    examples: int = 0  # sequences run, the ones that shrink a failure included
    steps: int = 0
    distinct: set[Transition] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)  # rules seen broken so far
    #: Each rule's first violation, as met (before shrinking): reported when the campaign
    #: is interrupted before hypothesis has reported its shrunk one.
    first: dict[str, ContractViolation] = field(default_factory=dict)
    shown: float = 0.0
    last: str = ""  # the line shown last
    goal: int | None = None  # the examples asked for (None: a campaign with a duration)
    deadline: float | None = None
    broken_at: int | None = None  # the examples run when a rule was first seen broken
    #: The rounds hypothesis has given its statistics of (their events: transitions, rules
    #: judged), and the round under way as the machine saw it, until those come.
    tally: Tally = field(default_factory=Tally)
    live: Tally = field(default_factory=Tally)

    def noted(self, statistics: Any) -> None:
        """A round has ended and hypothesis gives its statistics: they replace the live
        count of the round."""
        self.tally.add(statistics)
        self.live = Tally()

    def total(self) -> Tally:
        """Every round: a round that Ctrl-C ended has no statistics, only the live count."""
        return self.tally.merged(self.live)

    def line(self) -> str:
        took = max(time.perf_counter() - self.started, 1e-9)
        of = "" if self.goal is None else f" of {self.goal}"
        if self.broken_at is None:
            examples = self.examples
            left = time_left(self.started, self.examples, self.goal, self.deadline)
        else:  # hypothesis shrinks what broke: its runs are not examples of the campaign
            examples = self.broken_at
            left = f", shrinking ({self.examples - self.broken_at} sequences so far)"
        return (
            f"fuzz: {examples}{of} examples, {self.steps / took:.0f} steps/s, "
            f"{len(self.distinct)} transitions, {len(self.failing)} rules broken{left}"
        )


def fuzz(
    target: Target,
    report_dir: Path,
    *,
    max_examples: int = 100,
    duration: float | None = None,
    seed_value: int | None = None,
    policy: Policy | None = None,
    strict: bool = False,
    progress: Callable[[str], None] = print,
) -> RunResult:
    """Fuzz ``target``; write the reports (``results.json``, ``junit.xml``, ``report.html``),
    reproducers and traces under ``report_dir``. With ``strict``, a recommended rule broken
    makes the verdict non-compliant, as `rescheck run --strict` does. Ctrl-C ends the
    campaign with the reports of what it found, marked incomplete, and raises `Interrupted`.
    A transition outside the monitor's state model raises `ModelBroken` once the reports
    are written."""
    from conformance import __version__

    policy = policy or Policy()
    report_dir.mkdir(parents=True, exist_ok=True)
    deadline = None if duration is None else time.perf_counter() + duration
    state = Progress(goal=max_examples if deadline is None else None, deadline=deadline)
    watch = Watch()
    machine = _instrumented(machine_for(target, policy), state, progress, watch)
    database = DirectoryBasedExampleDatabase(str(report_dir / "hypothesis-db"))
    found: dict[str, ContractViolation] = {}
    model_breaks: list[ModelBroken] = []
    round_ = 0
    try:
        with watch.installed():
            while True:
                state.broken_at = None  # a new round generates examples again
                examples = ROUND if deadline is not None else max_examples
                test = get_state_machine_test(
                    machine,
                    settings=settings(CAMPAIGN, max_examples=examples, database=database),
                )
                if seed_value is not None:
                    test = seed(seed_value + round_)(test)
                try:
                    with collector.with_value(state.noted):
                        test()
                except Exception as exc:
                    watch.check()  # a Ctrl-C that cleanup turned into another exception
                    violations = _found(exc, ContractViolation)
                    breaks = _found(exc, ModelBroken)
                    if not violations and not breaks:
                        raise
                    for violation in violations:
                        found.setdefault(violation.rule_id, violation)
                        state.failing.add(violation.rule_id)
                    model_breaks += breaks
                watch.check()
                round_ += 1
                if deadline is None or time.perf_counter() >= deadline:
                    break
    except KeyboardInterrupt:
        watch.seen = True
    if state.line() != state.last:
        progress(state.line())
    result = RunResult(
        target=target.given,
        resource_type=target.resource_type,
        strict=strict,
        complete=not watch.seen,
    )
    tally = state.total()
    result.info = {
        "rescheck_version": __version__,
        "mode": "fuzz",
        "target_sha256": target.sha256(),
        "seed": seed_value,
        "examples": tally.examples,
        "sequences": tally.sequences,
        "steps": tally.steps,
        "wall_time_s": round(time.perf_counter() - state.started, 3),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "transitions": [
            {"from": before, "step": op, "to": after, "count": count}
            for (before, op, after), count in sorted(tally.transitions.items())
        ],
        "rules_judged": {rule.id: tally.judged[rule.id] for rule in TRACE_RULES},
    }
    for rule in TRACE_RULES:
        violation = found.get(rule.id) or state.first.get(rule.id)
        if violation is None:
            result.checks.append(
                CheckResult.for_rule(
                    rule,
                    PASSED,
                    f"no sequence of {result.info['examples']} examples broke it",
                )
            )
            continue
        files = write_reproducer(target, violation, report_dir, seed_value)
        result.checks.append(
            CheckResult.for_rule(
                rule,
                FAILED,
                f"{violation.message} (after {len(violation.steps)} steps; reproducer "
                f"{files[0].name})",
                evidence=[repr(s) for s in violation.steps],
                artifacts=[f.name for f in files],
            )
        )
    if not state.examples:
        result.errors.append("no example ran: the campaign judged nothing")
    write_reports(result, report_dir)
    if watch.seen:
        raise Interrupted(result)
    if model_breaks:  # after the reports: what the target broke is kept
        transitions = sorted({t for broken in model_breaks for t in broken.transitions})
        raise ModelBroken(transitions, model_breaks[0].steps)
    return result


def _found(exc: BaseException, kind: type[AssertionError]) -> list[Any]:
    """The ``kind`` exceptions in what the test raised: one, or several in an exception group
    (hypothesis reports distinct bugs together). A failure hypothesis could not reproduce
    while shrinking (FlakyFailure, or FlakyStrategyDefinition when the replay took another
    path) is a race in the target: still one it saw."""
    if isinstance(exc, kind):
        return [exc]
    inner = getattr(exc, "exceptions", None)  # an exception group (a backport on 3.10)
    if isinstance(inner, (list, tuple)):
        return [v for one in inner for v in _found(one, kind)]
    if isinstance(exc, Flaky) and exc.__context__ is not None:  # the replay took another path
        return _found(exc.__context__, kind)
    return []


def _instrumented(
    machine: type[Operations], state: Progress, progress: Callable[[str], None], watch: Watch
) -> type[Operations]:
    """The machine, extended (not patched) to keep the progress line and the live count of
    its round, and to stop at its next step once Ctrl-C was pressed."""

    class Counted(machine):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            watch.check()
            super().__init__()
            state.examples += 1

        def step(self, op: str, instance: int = 0, arg: Any = None) -> Transition:
            watch.check()
            transition: Transition = super().step(op, instance, arg)
            state.steps += 1
            state.distinct.add(transition)
            now = time.perf_counter()
            if now - state.shown >= 2.0:
                state.shown = now
                state.last = state.line()
                progress(state.last)
            return transition

        def broken(self, found: CheckResult) -> NoReturn:
            watch.check()  # a sequence cut short by Ctrl-C proves nothing
            try:
                super().broken(found)
            except ContractViolation as violation:
                if state.broken_at is None:
                    state.broken_at = state.examples
                state.failing.add(violation.rule_id)  # shown while hypothesis shrinks
                state.first.setdefault(violation.rule_id, violation)
                raise

        def teardown(self) -> None:
            try:
                super().teardown()
            finally:
                state.live.add_sequence(self.transitions, self.outcomes)

    Counted.__name__ = Counted.__qualname__ = machine.__name__
    return Counted


def write_reproducer(
    target: Target,
    violation: ContractViolation,
    report_dir: Path,
    seed_value: int | None,
) -> tuple[Path, Path]:
    """A pytest file that replays the steps without hypothesis, and the failing run's trace."""
    from conformance import __version__

    slug = re.sub(r"[^0-9a-z]+", "_", violation.rule_id.lower()).strip("_")
    test_file = report_dir / f"test_repro_{slug}.py"
    steps = "\n".join(
        f"    {step!r},  # {control_code_name(step.arg[0])}"
        if step.op == "control"
        else f"    {step!r},"
        for step in violation.steps
    )
    # What comes from the target (its name and path) is written only as repr() data: a name
    # is never pasted into the docstring or the code, where a quote or newline would run it.
    test_file.write_text(
        f'''"""Reproducer written by `rescheck fuzz`: {violation.rule_id} broken by {len(violation.steps)} steps.

The target, its sha256, the seed and rescheck's version are below. Run it with plain pytest:
it fails while the target breaks the rule, and passes once fixed.
"""

from conformance.fuzz import Step, replay
from conformance.targets import load_target

RESCHECK_VERSION = {__version__!r}
GIVEN = {target.given!r}
TARGET = {str(target.path)!r}
TARGET_SHA256 = {target.sha256()!r}
TYPE_NAME = {target.resource_type!r}
SEED = {seed_value!r}
STEPS = [
{steps}
]


def test_{slug}() -> None:
    replay(load_target(TARGET, type_name=TYPE_NAME, hosting={target.hosting!r}), STEPS)
''',
        encoding="utf-8",
    )
    trace_file = report_dir / f"trace_{slug}.json"
    events = [event.to_json() for trace in violation.run.traces for event in trace]
    trace_file.write_text(
        json.dumps(
            {
                "rule": violation.rule_id,
                "rescheck_version": __version__,
                "target_sha256": target.sha256(),
                "seed": seed_value,
                "steps": [repr(s) for s in violation.steps],
                "trace": events,
            },
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    return test_file, trace_file
