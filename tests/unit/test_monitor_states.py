"""The transition table (conformance/monitor/states.py): the monitor moves resources only
along it, and the fuzzer's model of the monitor is read from it."""

from __future__ import annotations

import pytest

from conformance.fuzz import model
from conformance.monitor import states
from conformance.monitor.errors import IllegalTransition
from conformance.resapi import (
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOfflinePending,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
)


@pytest.mark.parametrize(
    ("before", "after", "why"),
    [
        (ClusterResourceOffline, ClusterResourceOnlinePending, states.ONLINE_RETURNED),
        (ClusterResourceFailed, ClusterResourceOnline, states.ONLINE_RETURNED),
        (ClusterResourceOnlinePending, ClusterResourceOnline, states.REPORTED_PENDING),
        (ClusterResourceOnline, ClusterResourceFailed, states.FAILURE),
        (ClusterResourceOfflinePending, ClusterResourceOffline, states.TERMINATE_RETURNED),
    ],
)
def test_documented_moves_are_in_the_table(before: int, after: int, why: str) -> None:
    states.check(before, after, why)


@pytest.mark.parametrize(
    ("before", "after", "why"),
    [
        (ClusterResourceOffline, ClusterResourceOfflinePending, states.ONLINE_RETURNED),
        (ClusterResourceOnlinePending, ClusterResourceOnline, states.ONLINE_RETURNED),
        (ClusterResourceOnline, ClusterResourceOnlinePending, states.REPORTED_IN_CALL),
        (ClusterResourceFailed, ClusterResourceFailed - 1, states.FAILURE),
        (ClusterResourceOnline, ClusterResourceOnline + 100, states.TERMINATE_RETURNED),
    ],
)
def test_a_move_outside_the_table_is_a_bug_of_rescheck(before: int, after: int, why: str) -> None:
    with pytest.raises(IllegalTransition, match="transition table does not allow"):
        states.check(before, after, why)


def test_the_fuzz_model_is_read_from_the_table() -> None:
    assert model.DRIFT["Online"] == {"Failed"}, "an online resource fails on its own, no more"
    assert model.DRIFT["OnlinePending"] == {"Online", "Offline", "Failed"}
    assert model.EFFECT["online"] == {"Online", "OnlinePending", "Failed"}
    assert model.EFFECT["terminate"] == {"Offline", "Failed"}
    assert set(model.DRIFT) == {"OnlinePending", "OfflinePending", "Online"}
