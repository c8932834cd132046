"""Instances.isolated on any trace, for a fuzzed sequence (the ``instances`` scenario's own
samples are judged in `conformance.suite.checks.instances`): RESIDs and health that one
instance's operations leave alone in another."""

from __future__ import annotations

from conformance.resapi import BOOL_is_TRUE
from conformance.runtime.trace import CALL, TraceEvent, short_repr
from conformance.suite.context import NotApplicable, ScenarioRun, Violation


def same(a: object, b: object) -> bool:
    try:
        return a is b or bool(a == b)
    except Exception:  # a RESID with a hostile __eq__ is not ours to judge here
        return a is b


def true(call: TraceEvent) -> bool:
    return call.end is not None and call.error is None and BOOL_is_TRUE(call.result)


#: What happens to an instance itself, after which its IsAlive may change.
_OWN = frozenset({"Open", "Online", "Offline", "Terminate", "Close", "IsAlive"})


def isolated_in(run: ScenarioRun) -> str:
    """Instances.isolated on any trace (a fuzzed sequence's): two instances open at once
    never share a RESID, and an IsAlive that answered TRUE answers TRUE again while only other
    instances were operated on (nothing was called on it, it reported nothing, nothing broke
    it)."""
    judged = 0
    for trace in run.traces:
        live: dict[str, TraceEvent] = {}  # open instances: their Open call
        healthy: dict[str, TraceEvent] = {}  # their last IsAlive, while it said TRUE
        since: dict[str, list[TraceEvent]] = {}  # what happened to the others since then
        for event in trace:
            name = event.resource
            if event.kind == CALL and event.name == "Open" and event.end is not None:
                twin = next((o for o in live.values() if same(o.result, event.result)), None)
                if twin is not None and event.result:
                    raise Violation(
                        f"Open returned the RESID of {twin.resource}, still open, for {name} "
                        f"({short_repr(event.result)})",
                        trace,
                        [twin, event],
                    )
                live[str(name)] = event
            if (
                event.kind == CALL
                and event.name == "IsAlive"
                and name in healthy
                and event.end is not None
                and event.error is None
                and since[name]
            ):
                judged += 1
                if not BOOL_is_TRUE(event.result):
                    others = since[name]
                    raise Violation(
                        f"after {others[-1].name} of {others[-1].resource}, IsAlive of {name} "
                        f"returned {short_repr(event.result)} though nothing happened to "
                        f"{name}: operating on one instance changed what another reports",
                        trace,
                        [healthy[name], *others[-3:], event],
                    )
            if name is None:
                continue
            if event.kind == CALL and event.name == "Close":
                live.pop(name, None)
            if event.kind == CALL and event.name == "IsAlive" and true(event):
                healthy[name], since[name] = event, []
            elif event.name in _OWN or event.kind != CALL:  # its own step, report or break
                healthy.pop(name, None)
            for other in healthy:
                if other != name and event.kind == CALL and event.name in _OWN:
                    since[other].append(event)
    if not judged:
        raise NotApplicable(
            "no instance answered IsAlive TRUE before and after another instance was operated on"
        )
    return f"{judged} IsAlive answers unaffected by operations on other instances"
