"""The documented state machine of a resource, as one table: the monitor moves an instance
only along it (`move`), and the fuzzer's model of the monitor (`conformance.fuzz.model`) is
derived from it.

Each row is (the states it leaves, why, the states it may reach). The reasons are the
Resource Monitor's documented reactions (docs/contract.md §3, §4, §9): what Online or Offline
returned (ON-2, OF-1, PO-3), a SetResourceStatus report while the call runs or while the
operation is pending (PO-4, RS-1), a failure (an error from Online or Offline, PendingTimeout,
IsAlive FALSE: ON-3, OF-2, PO-6, IA-4), and Terminate returning (TE-1).
"""

from __future__ import annotations

from collections.abc import Iterable

from conformance.monitor.errors import IllegalTransition
from conformance.resapi import (
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOfflinePending,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
    state_name,
)

ONLINE, OFFLINE, FAILED = ClusterResourceOnline, ClusterResourceOffline, ClusterResourceFailed
ONLINE_PENDING, OFFLINE_PENDING = ClusterResourceOnlinePending, ClusterResourceOfflinePending
#: No operation is pending: Online or Offline may be called.
SETTLED = frozenset({OFFLINE, ONLINE, FAILED})
PENDING = frozenset({ONLINE_PENDING, OFFLINE_PENDING})
EVERY = SETTLED | PENDING

ONLINE_RETURNED = "Online returned"
OFFLINE_RETURNED = "Offline returned"
REPORTED_IN_CALL = "reported during the call"
REPORTED_PENDING = "reported while pending"
FAILURE = "failed"
TERMINATE_RETURNED = "Terminate returned"

TRANSITIONS: tuple[tuple[frozenset[int], str, frozenset[int]], ...] = (
    (SETTLED, ONLINE_RETURNED, frozenset({ONLINE, ONLINE_PENDING})),
    (SETTLED, OFFLINE_RETURNED, frozenset({OFFLINE, OFFLINE_PENDING})),
    (SETTLED, REPORTED_IN_CALL, frozenset({ONLINE, OFFLINE, FAILED})),
    (PENDING, REPORTED_PENDING, frozenset({ONLINE, OFFLINE, FAILED})),
    (EVERY - {FAILED}, FAILURE, frozenset({FAILED})),
    (EVERY, TERMINATE_RETURNED, frozenset({OFFLINE, FAILED})),
)


def reachable(before: int, reasons: Iterable[str]) -> frozenset[int]:
    """The states ``before`` may move to for any of ``reasons``."""
    wanted = set(reasons)
    found: set[int] = set()
    for leaves, why, reaches in TRANSITIONS:
        if why in wanted and before in leaves:
            found |= reaches
    return frozenset(found)


def check(before: int, after: int, why: str) -> None:
    """Raise `IllegalTransition` unless the table has ``before`` → ``after`` for ``why``."""
    if after != before and after not in reachable(before, (why,)):
        raise IllegalTransition(
            f"the monitor moved a resource from {state_name(before)} to {state_name(after)} "
            f"({why}), which its transition table does not allow"
        )
