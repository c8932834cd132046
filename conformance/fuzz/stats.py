"""A fuzz campaign's statistics as hypothesis events: the state machine records the transitions
it made and how each rule judged its sequence (`note_transition`, `note_verdict`), so that
``pytest --hypothesis-show-statistics`` and HypoFuzz show them for its ``TestCase``, and
`rescheck fuzz` reads them back from hypothesis's own statistics (`Tally.add`) for the
``info`` of results.json, instead of watching the steps itself."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import currently_in_test_context, event

from conformance.report.model import FAILED, PASSED

#: (state before, step, state after), as `conformance.fuzz.model` names states.
Transition = tuple[str, str, str]

_TRANSITION = "transition "
_RULE = "rule "
#: ``transition Offline --online--> Online: 2`` (2: how often in that sequence).
_TRANSITION_EVENT = re.compile(r"transition (\S+) --(\S+)--> (\S+): (\d+)")
#: The outcomes that say a rule judged the sequence (the others had nothing to judge).
JUDGED = (PASSED, FAILED)
#: The phases whose sequences hypothesis counts as examples (against max_examples); the
#: others shrink a failure or explain it.
_EXAMPLE_PHASES = ("reuse-phase", "generate-phase")


def note_transition(transition: Transition, count: int) -> None:
    """Record that this sequence has made ``transition`` ``count`` times so far (hypothesis
    keeps the last payload of an event in a test case: the sequence's count)."""
    if currently_in_test_context():  # a machine driven by hand has no test to record in
        before, op, after = transition
        event(f"{_TRANSITION}{before} --{op}--> {after}", count)


def note_verdict(rule_id: str, outcome: str) -> None:
    """Record how ``rule_id`` judged this sequence (``passed``, ``failed``, ``skipped``...)."""
    if currently_in_test_context():
        event(f"{_RULE}{rule_id}", outcome)


@dataclass
class Tally:
    """What the sequences run so far did: examples, sequences, transitions, rules judged."""

    #: Sequences hypothesis generated or replayed from its database, as it counts them
    #: against max_examples.
    examples: int = 0
    #: Every sequence run, the ones that shrink a failure included.
    sequences: int = 0
    #: The examples hypothesis generated (the others it replayed from its database).
    generated: int = 0
    #: How often each transition was made, over every sequence.
    transitions: Counter[Transition] = field(default_factory=Counter)
    #: For each rule, the sequences it judged (passed or failed, not "nothing to judge").
    judged: Counter[str] = field(default_factory=Counter)

    @property
    def steps(self) -> int:
        return sum(self.transitions.values())

    def add(self, statistics: Mapping[str, Any]) -> None:
        """Add one hypothesis run, from the statistics it gives
        `hypothesis.statistics.collector`: each test case lists its events."""
        for phase, figures in statistics.items():
            if not phase.endswith("-phase") or not isinstance(figures, Mapping):
                continue
            for case in figures.get("test-cases", []):
                self.sequences += 1
                if phase in _EXAMPLE_PHASES and case.get("status") in ("valid", "interesting"):
                    self.examples += 1
                    self.generated += phase == "generate-phase"
                self._add_events(case.get("events", []))

    def _add_events(self, events: Iterable[str]) -> None:
        for text in events:
            if text.startswith(_TRANSITION):
                match = _TRANSITION_EVENT.fullmatch(text)
                if match is not None:
                    before, op, after, count = match.groups()
                    self.transitions[before, op, after] += int(count)
            elif text.startswith(_RULE):
                rule_id, _, outcome = text[len(_RULE) :].rpartition(": ")
                if outcome in JUDGED:
                    self.judged[rule_id] += 1

    def add_sequence(self, transitions: Mapping[Transition, int], outcomes: Mapping[str, str]):
        """Add a sequence as the machine saw it: for a run hypothesis gave no statistics of
        (Ctrl-C ends it before), where every sequence is counted as an example."""
        self.examples += 1
        self.sequences += 1
        self.generated += 1
        self.transitions.update(transitions)
        self.judged.update(rule for rule, outcome in outcomes.items() if outcome in JUDGED)

    def merged(self, other: Tally) -> Tally:
        return Tally(
            self.examples + other.examples,
            self.sequences + other.sequences,
            self.generated + other.generated,
            self.transitions + other.transitions,
            self.judged + other.judged,
        )

    def to_json(self) -> dict[str, Any]:
        """As a campaign's worker records it (`conformance.fuzz.ledger`), for the merge."""
        return {
            "examples": self.examples,
            "sequences": self.sequences,
            "generated": self.generated,
            "transitions": [[*t, n] for t, n in sorted(self.transitions.items())],
            "judged": dict(sorted(self.judged.items())),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        """What `to_json` wrote; a figure another worker recorded badly counts as none."""
        tally = cls()
        for name in ("examples", "sequences", "generated"):
            value = data.get(name)
            setattr(tally, name, value if isinstance(value, int) else 0)
        for row in data.get("transitions") or []:
            if isinstance(row, list) and len(row) == 4 and isinstance(row[3], int):
                tally.transitions[str(row[0]), str(row[1]), str(row[2])] += row[3]
        judged = data.get("judged")
        if isinstance(judged, Mapping):
            tally.judged.update({str(k): v for k, v in judged.items() if isinstance(v, int)})
        return tally
