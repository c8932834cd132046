"""`rescheck fuzz`: run a target's state machine for a number of examples (or a duration),
keep the example database in the report directory (a campaign resumes), and write for each
violation a standalone pytest reproducer and the JSON trace of the failing run.

A campaign runs in rounds, each a hypothesis run. The first replays what the example database
holds (hypothesis's reuse phase: what this campaign, or another worker of it, found before),
then generates; a later round replays the database again only when a worker of the campaign
has recorded a rule this run does not hold yet (`conformance.fuzz.ledger`), and otherwise
only generates, where a rule this run holds already ends its sequence quietly instead of being
shrunk again (hypothesis would replay the database, take the failures there as shrunk and
stop, or shrink the same bug once more)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hypothesis import Phase, seed, settings
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.errors import Flaky
from hypothesis.stateful import get_state_machine_test
from hypothesis.statistics import collector  # hypothesis's statistics, events included

from conformance.fuzz.database import lost
from conformance.fuzz.driver import TRACE_RULES
from conformance.fuzz.interrupt import Interrupted, Watch
from conformance.fuzz.ledger import FAILED as WORKER_FAILED
from conformance.fuzz.ledger import FINISHED, INTERRUPTED, Recorder, step_json
from conformance.fuzz.machine import ContractViolation, ModelBroken, Operations, machine_for
from conformance.fuzz.profiles import CAMPAIGN
from conformance.fuzz.progress import time_left
from conformance.fuzz.reproducer import about, write_files
from conformance.fuzz.stats import Tally, Transition
from conformance.monitor.policy import Policy
from conformance.report import write_reports
from conformance.report.model import FAILED, PASSED, CheckResult, RunResult
from conformance.targets import Target

__all__ = ["ModelBroken", "Progress", "fuzz", "write_reproducer"]

#: Examples per round of a --duration campaign at most (each round has its own seed); a
#: round is cut to what the time left holds at the pace so far, the first to FIRST_ROUND.
ROUND = 100
FIRST_ROUND = 10
#: How often the progress line (and a worker's status) is brought up to date (s).
SHOW_EVERY_S = 2.0
#: The phases of a round that only generates: no replay of the database.
GENERATING = tuple(p for p in CAMPAIGN.phases if p is not Phase.reuse)


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
    #: The rules whose violations end a sequence quietly in this round: held already.
    quiet: frozenset[str] = frozenset()

    def noted(self, statistics: Any) -> None:
        """A round has ended and hypothesis gives its statistics: they replace the live
        count of the round."""
        self.tally.add(statistics)
        self.live = Tally()

    def total(self) -> Tally:
        """Every round: a round that Ctrl-C ended has no statistics, only the live count."""
        return self.tally.merged(self.live)

    def shown_examples(self) -> int:
        """The examples the line counts: while hypothesis shrinks, its runs are not
        examples of the campaign."""
        return self.examples if self.broken_at is None else self.broken_at

    def line(self) -> str:
        took = max(time.perf_counter() - self.started, 1e-9)
        of = "" if self.goal is None else f" of {self.goal}"
        if self.broken_at is None:
            left = time_left(self.started, self.examples, self.goal, self.deadline)
        else:
            left = f", shrinking ({self.examples - self.broken_at} sequences so far)"
        return (
            f"fuzz: {self.shown_examples()}{of} examples, {self.steps / took:.0f} steps/s, "
            f"{len(self.distinct)} transitions, {len(self.failing)} rules broken{left}"
        )

    def figures(self) -> dict[str, Any]:
        """What a worker records of itself for a campaign's merged progress and report."""
        return {
            "examples": self.shown_examples(),
            "steps": self.steps,
            "shrinking": self.broken_at is not None,
            "distinct": sorted(list(t) for t in self.distinct),
            "failing": sorted(self.failing),
            "tally": self.total().to_json(),
        }


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
    database: ExampleDatabase | None = None,
    recorder: Recorder | None = None,
) -> RunResult:
    """Fuzz ``target``; write the reports (``results.json``, ``junit.xml``, ``report.html``),
    reproducers and traces under ``report_dir``. With ``strict``, a recommended rule broken
    makes the verdict non-compliant, as `rescheck run --strict` does. Ctrl-C ends the
    campaign with the reports of what it found, marked incomplete, and raises `Interrupted`.
    A transition outside the monitor's state model raises `ModelBroken` once the reports
    are written. ``database`` is the example database (default: the report directory's);
    a worker of a campaign records its progress and findings with ``recorder``, and a
    database that stops answering ends the campaign as Ctrl-C does (``recorder.lost``)."""
    from conformance import __version__

    policy = policy or Policy()
    report_dir.mkdir(parents=True, exist_ok=True)
    deadline = None if duration is None else time.perf_counter() + duration
    state = Progress(goal=max_examples if deadline is None else None, deadline=deadline)
    watch = Watch()
    machine = _instrumented(machine_for(target, policy), state, progress, watch, recorder)
    if database is None:
        database = DirectoryBasedExampleDatabase(str(report_dir / "hypothesis-db"))
    found: dict[str, ContractViolation] = {}
    model_breaks: list[ModelBroken] = []
    tried: set[str] = set()  # rules of other workers this run has replayed the database for
    round_ = 0
    try:
        with watch.installed():
            while True:
                state.broken_at = None  # a new round generates examples again
                news = set() if recorder is None else recorder.refresh() - found.keys() - tried
                tried |= news
                replaying = round_ == 0 or bool(news)
                state.quiet = frozenset() if replaying else frozenset(found)
                examples = (
                    max_examples - state.tally.generated
                    if deadline is None
                    else _round_size(state, deadline)
                )
                generated = state.tally.generated
                test = get_state_machine_test(
                    machine,
                    settings=settings(
                        CAMPAIGN,
                        max_examples=max(examples, 1),
                        database=database,
                        phases=CAMPAIGN.phases if replaying else GENERATING,
                    ),
                )
                if seed_value is not None:
                    test = _seeded(test, seed_value + round_, database if recorder else None)
                try:
                    with collector.with_value(state.noted):
                        test()
                except Exception as exc:
                    watch.check()  # a Ctrl-C that cleanup turned into another exception
                    if recorder is not None and lost(exc):
                        recorder.lost = exc
                        raise KeyboardInterrupt from exc
                    violations = _found(exc, ContractViolation)
                    breaks = _found(exc, ModelBroken)
                    if not violations and not breaks:
                        raise
                    for violation in violations:
                        _keep(found, violation, state, recorder)
                    model_breaks += breaks
                watch.check()
                round_ += 1
                if recorder is not None:
                    recorder.status(state.figures())
                if deadline is not None:
                    if time.perf_counter() >= deadline:
                        break
                elif not replaying or state.tally.generated > generated:
                    break  # hypothesis generated, and decided when to stop, as it does
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
    if recorder is not None:
        result.info["worker"] = recorder.id
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
    if recorder is not None:
        ended = INTERRUPTED if watch.seen else WORKER_FAILED if model_breaks else FINISHED
        errors = result.errors + [f"internal error: {b}" for b in model_breaks[:1]]
        recorder.status({**state.figures(), "errors": errors}, ended)
    if watch.seen:
        raise Interrupted(result)
    if model_breaks:  # after the reports: what the target broke is kept
        transitions = sorted({t for broken in model_breaks for t in broken.transitions})
        raise ModelBroken(transitions, model_breaks[0].steps)
    return result


def _round_size(state: Progress, deadline: float) -> int:
    """The examples of a --duration campaign's next round: what the time left holds at the
    pace so far, so that the campaign ends near its deadline (hypothesis stops only at the
    end of a run)."""
    now = time.perf_counter()
    done = state.tally.examples
    if not done:
        return FIRST_ROUND
    pace = done / max(now - state.started, 1e-9)
    return max(1, min(ROUND, round(pace * (deadline - now))))


def _seeded(test: Any, value: int, database: ExampleDatabase | None) -> Any:
    """``test`` with hypothesis's `seed`, which also leaves the example database out (a
    seed reproduces); a worker of a campaign keeps it (``database``), as its examples are
    the campaign's, and each worker has a seed of its own. `seed` keeps its settings in the
    attribute set here (hypothesis is pinned by the test extra; the Redis campaign tests
    replay through it)."""
    test = seed(value)(test)
    if database is not None:
        test._hypothesis_internal_use_settings = settings(
            test._hypothesis_internal_use_settings, database=database
        )
    return test


def _keep(
    found: dict[str, ContractViolation],
    violation: ContractViolation,
    state: Progress,
    recorder: Recorder | None,
) -> None:
    """A violation hypothesis reported: the shortest sequence of each rule is kept."""
    kept = found.get(violation.rule_id)
    if kept is None or len(violation.steps) < len(kept.steps):
        found[violation.rule_id] = violation
    state.failing.add(violation.rule_id)
    if recorder is not None:
        recorder.reported(violation.rule_id, _fields(violation, state))


def _fields(violation: ContractViolation, state: Progress) -> dict[str, Any]:
    """A finding as a worker records it: enough for another machine to write its files."""
    return {
        "message": violation.message,
        "examples": state.shown_examples(),
        "steps": [step_json(s) for s in violation.steps],
        "trace": _events(violation),
    }


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
    machine: type[Operations],
    state: Progress,
    progress: Callable[[str], None],
    watch: Watch,
    recorder: Recorder | None = None,
) -> type[Operations]:
    """The machine, extended (not patched) to keep the progress line and the live count of
    its round, to stop at its next step once Ctrl-C was pressed, and to end a sequence
    quietly on a rule the round holds already (`Progress.quiet`)."""

    class Counted(machine):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            watch.check()
            super().__init__()
            state.examples += 1

        def step(self, op: str, instance: int = 0, arg: Any = None) -> Transition:
            watch.check()
            if self.ended:  # quietly, on a rule held already: the rest of it is no step
                return (op, op, op)
            transition: Transition = super().step(op, instance, arg)
            state.steps += 1
            state.distinct.add(transition)
            now = time.perf_counter()
            if now - state.shown >= SHOW_EVERY_S:
                state.shown = now
                state.last = state.line()
                progress(state.last)
                if recorder is not None:
                    recorder.status(state.figures())
                    if recorder.lost is not None:
                        watch.seen = True
                        watch.check()
            return transition

        def broken(self, found: CheckResult) -> None:
            watch.check()  # a sequence cut short by Ctrl-C proves nothing
            if found.id in state.quiet:
                self.ended = True
                return
            try:
                super().broken(found)
            except ContractViolation as violation:
                if state.broken_at is None:
                    state.broken_at = state.examples
                state.failing.add(violation.rule_id)  # shown while hypothesis shrinks
                if violation.rule_id not in state.first:
                    state.first[violation.rule_id] = violation
                    if recorder is not None:
                        recorder.met(violation.rule_id, _fields(violation, state))
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
    return write_files(
        about(target),
        violation.rule_id,
        violation.steps,
        _events(violation),
        seed_value,
        report_dir,
    )


def _events(violation: ContractViolation) -> list[dict[str, Any]]:
    return [event.to_json() for trace in violation.run.traces for event in trace]
