"""The states the monitor may show an instance in after each fuzz step: the documented
state machine (docs/contract.md §3, §9), as a check of the reference monitor itself.

The suite's rules judge the DLL on the trace; this model judges the monitor. An instance
moves on its own only forwards (a pending operation ends, an online one fails: §3.3, §4), and
each step moves it only where the Resource Monitor's documented reaction allows: Online ends
Online, OnlinePending (still reporting) or Failed (an error, then Terminate), Terminate ends
Offline or Failed, and so on. A transition outside the model is a bug in rescheck, not in the
target.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from conformance.monitor import states as table
from conformance.resapi import state_name


def _name(state: int) -> str:
    return state_name(state).removeprefix("ClusterResource")


def _reached(before: Iterable[int], *reasons: str) -> frozenset[str]:
    return frozenset(_name(after) for state in before for after in table.reachable(state, reasons))


#: Where an instance may go without being asked: a pending operation ends (a report) or times
#: out, an online one fails. Only pending and online instances have a timer or a report that
#: can act; the suite's test instances never restart on their own. Read from the monitor's
#: transition table (`conformance.monitor.states`).
DRIFT: dict[str, frozenset[str]] = {
    _name(state): _reached([state], table.REPORTED_PENDING, table.FAILURE)
    for state in (*sorted(table.PENDING), table.ONLINE)
}
_ONLINE = _reached(table.SETTLED, table.ONLINE_RETURNED, table.FAILURE)
_OFFLINE = _reached(table.SETTLED, table.OFFLINE_RETURNED, table.FAILURE)
#: Where each operation may take a settled instance (before its own drift).
EFFECT: dict[str, frozenset[str]] = {
    "online": _ONLINE,
    "begin_online": _ONLINE,
    "offline": _OFFLINE,
    "begin_offline": _OFFLINE,
    "terminate": _reached(table.SETTLED, table.TERMINATE_RETURNED),
}
#: The cluster service answers these itself, without the DLL (the driver skips them).
ALREADY = {
    "online": "Online",
    "begin_online": "Online",
    "offline": "Offline",
    "begin_offline": "Offline",
}


def drifted(states: Iterable[str]) -> set[str]:
    """``states`` and everything they may move to on their own."""
    found = set(states)
    todo = list(found)
    while todo:
        for after in DRIFT.get(todo.pop(), ()):
            if after not in found:
                found.add(after)
                todo.append(after)
    return found


#: The monitor can call nothing more: the host process ended or a call outlived
#: DeadlockTimeout (any call may do either). It stays so.
STOPPED = "stopped"


@functools.cache
def may_see(before: str, op: str) -> frozenset[str]:
    """The states the monitor may show after ``op`` on an instance that was in ``before``
    (``none``: not open; ``closed``; ``stopped``)."""
    if before == STOPPED:
        return frozenset({STOPPED})
    return frozenset(_may_see(before, op) | {STOPPED})


def _may_see(before: str, op: str) -> set[str]:
    if op == "open":
        return {"Offline", "none"} if before in ("none", "closed") else drifted({before})
    if op == "close" or before == "closed":
        return {"closed", before} if before == "none" else {"closed"}
    if before == "none":
        return {"none"}
    after: set[str] = set()
    for state in drifted({before}):
        if op in EFFECT and ALREADY.get(op) != state:
            after |= EFFECT[op]
        else:
            after.add(state)
    return drifted(after)
