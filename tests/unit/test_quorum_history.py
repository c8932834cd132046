"""The quorum history checker on histories written by hand: who owned the quorum when, and
what each quorum rule makes of it (the scenario itself runs in the matrix, on real nodes)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from conformance.resapi import ERROR_RESOURCE_NOT_AVAILABLE, ERROR_SUCCESS, ERROR_TIMEOUT
from conformance.suite.checks import quorum as checks
from conformance.suite.context import NotApplicable, Violation
from conformance.suite.quorum import History, Op, analyse


def history(*ops: tuple[int, str, float, float, Any]) -> History:
    h = History(bound_s=2.0, origin=0.0)
    h.ops = [Op(node, op, start, end, result) for node, op, start, end, result in ops]
    return h


def ctx(h: History, **notes: Any) -> Any:
    defaults = {"history": h, "until": 100.0, "unwon": [], "paused": [], "skipped": []}
    run = SimpleNamespace(notes={**defaults, **notes}, stop=None, failure=None)
    return SimpleNamespace(scenario=lambda name: run)


WIN, LOSE = ERROR_SUCCESS, ERROR_TIMEOUT


def test_ownership_runs_from_a_won_arbitrate_until_release_lost_or_kill() -> None:
    h = history(
        (1, "arbitrate", 0.0, 0.1, WIN),
        (2, "arbitrate", 0.0, 1.5, LOSE),
        (1, "release", 2.0, 2.1, WIN),
        (2, "arbitrate", 2.2, 2.3, WIN),
        (2, "kill", 3.0, 3.0, None),
        (3, "arbitrate", 3.1, 3.9, WIN),
        (3, "lost", 5.0, 5.0, None),
    )
    owned = [(o.node, o.start, o.end) for o in analyse(h, until=9.0)]
    assert owned == [(1, 0.1, 2.0), (2, 2.3, 3.0), (3, 3.9, 5.0)], owned
    assert "never two at once" in checks.exclusive(ctx(h))


def test_two_owners_at_once_break_exclusivity_with_the_history_as_evidence() -> None:
    h = history(
        (1, "arbitrate", 0.0, 0.1, WIN),
        (2, "arbitrate", 0.5, 0.6, WIN),  # node 1 still defends
        (1, "lost", 0.8, 0.8, None),
    )
    with pytest.raises(Violation, match="nodes 1 and 2 both owned") as raised:
        checks.exclusive(ctx(h))
    evidence = "\n".join(raised.value.evidence())
    assert "node 1: arbitrate" in evidence and "node 2: arbitrate" in evidence, evidence


def test_a_stopped_owner_is_excused_until_it_runs_again_and_then_must_say_it_lost() -> None:
    base = [
        (1, "arbitrate", 0.0, 0.1, WIN),
        (1, "pause", 1.0, 1.0, None),
        (2, "arbitrate", 1.2, 2.0, WIN),
        (1, "resume", 3.0, 3.0, None),
    ]
    prompt = history(*base, (1, "lost", 3.2, 3.2, None))
    assert "never two at once" in checks.exclusive(ctx(prompt, paused=[(1, 1.0)]))
    assert "within 0.20 s of resuming" in checks.lost_prompt(ctx(prompt, paused=[(1, 1.0)]))
    late = history(*base, (1, "lost", 6.0, 6.0, None))
    with pytest.raises(Violation, match=r"only 3\.0 s later"):
        checks.lost_prompt(ctx(late, paused=[(1, 1.0)]))
    never = history(*base)
    with pytest.raises(Violation, match="never called LostQuorumResource"):
        checks.lost_prompt(ctx(never, paused=[(1, 1.0)]))


def test_a_quorum_nobody_wins_breaks_takeover_and_a_kept_one_breaks_release() -> None:
    h = history((1, "arbitrate", 0.0, 0.1, WIN), (1, "kill", 1.0, 1.0, None))
    with pytest.raises(Violation, match="owner that was killed was not won"):
        checks.takeover(ctx(h, unwon=[("kill", 1.0)]))
    kept = history((1, "arbitrate", 0.0, 0.1, WIN), (1, "release", 1.0, 1.1, WIN))
    with pytest.raises(Violation, match="no other node won the quorum"):
        checks.lets_go(ctx(kept, unwon=[("release", 1.1)]))


@pytest.mark.parametrize("answer, fails", [(ERROR_RESOURCE_NOT_AVAILABLE, False), (WIN, True)])
def test_online_of_a_losing_node(answer: int, fails: bool) -> None:
    h = history(
        (1, "arbitrate", 0.0, 0.1, WIN),
        (2, "arbitrate", 0.2, 1.7, LOSE),
        (2, "online", 1.8, 1.9, answer),
    )
    if fails:
        with pytest.raises(Violation, match="expected ERROR_RESOURCE_NOT_AVAILABLE"):
            checks.online_not_available(ctx(h))
    else:
        assert "returned ERROR_RESOURCE_NOT_AVAILABLE" in checks.online_not_available(ctx(h))


def test_an_online_after_winning_is_not_judged() -> None:
    h = history((1, "arbitrate", 0.0, 0.1, WIN), (1, "online", 0.2, 0.3, WIN))
    with pytest.raises(NotApplicable):
        checks.online_not_available(ctx(h))
