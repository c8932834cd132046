"""The entity rules on any trace, for a fuzzed sequence (the ``entity`` scenario's own notes
are judged in `conformance.suite.checks.instances`): what the companion's probe answered
around each Online, Offline and Terminate the fuzzer drove, as the fuzzer records it in the
trace (a `PROBED` monitor event per call; `conformance.fuzz.entity` writes them)."""

from __future__ import annotations

from collections.abc import Iterator

from conformance.runtime.trace import CALL, MONITOR, Trace, TraceEvent
from conformance.suite.context import NotApplicable, ScenarioRun, Violation
from conformance.suite.entity import ENTITY_WAIT_S, SETTLE_S

#: The monitor event the fuzzer writes after it asked the probe about an instance's entity:
#: ``after`` (the entry point), ``call`` (its seq), ``step`` and ``asked`` (the step's number
#: and what it asked), ``before`` (running before the call), ``running`` (right after it),
#: ``stopped`` (within ``wait_s``), ``stayed`` (still stopped ``settle_s`` later), or
#: ``error`` (the probe raised: the companion's fault, nothing judged).
PROBED = "the companion's probe answered"


def stayed_stopped(
    trace: Trace,
    what: str,
    call: TraceEvent,
    stopped: bool,
    stayed: bool,
    wait_s: float = ENTITY_WAIT_S,
    settle_s: float = SETTLE_S,
    lines: tuple[str, ...] = (),
) -> None:
    """A violation unless the entity was stopped within ``wait_s`` after ``call`` and stayed
    so for ``settle_s``."""
    if not stopped:
        raise Violation(
            f"{what} left the entity running: the probe still finds it "
            f"{wait_s:g} s after {call.name} returned",
            trace,
            [call],
            lines,
        )
    if not stayed:
        raise Violation(
            f"the entity came back after {what}: the probe found it stopped, then running "
            f"again within {settle_s:g} s with no Online asked (a thread of the DLL started "
            "it again)",
            trace,
            [call],
            lines,
        )


def _probed(run: ScenarioRun, entry: str) -> Iterator[tuple[Trace, TraceEvent, TraceEvent]]:
    """Each probe record after ``entry`` with the call it is about (trace, record, call)."""
    for trace in run.traces:
        calls = {e.seq: e for e in trace if e.kind == CALL and e.name == entry}
        for event in trace:
            if event.kind == MONITOR and event.name == PROBED and event.data["after"] == entry:
                call = calls.get(event.data["call"])
                if call is not None:
                    yield trace, event, call


def _step(record: TraceEvent) -> tuple[str, tuple[str, ...]]:
    """How a violation names the fuzz step: in its message, and as a line of evidence."""
    number, shown = record.data["step"], record.data["asked"]
    return f"step {number}", (f"step {number}: {shown}", f"probe: {_answers(record)}")


def _answers(record: TraceEvent) -> str:
    data = record.data
    said = [
        f"{key} {data[key]}" for key in ("before", "running", "stopped", "stayed") if key in data
    ]
    return ", ".join(said)


def _not_judged(run: ScenarioRun, entry: str, what: str) -> NotApplicable:
    """Why nothing was judged: no such call on a running entity, or the probe raised."""
    errors = [r.data["error"] for _, r, _ in _probed(run, entry) if "error" in r.data]
    why = f"; the companion's probe raised: {errors[0]}" if errors else ""
    return NotApplicable(f"{what}{why}")


def stops_entity_in(run: ScenarioRun, entry: str) -> str:
    """Offline.stops-entity / Terminate.stops-entity on a fuzzed sequence: each ``entry``
    called on an instance whose entity the probe found running (an Offline also took it
    offline) left it stopped within the record's wait, and still stopped its settle time
    later."""
    judged = 0
    for trace, record, call in _probed(run, entry):
        if not record.data.get("before") or "stopped" not in record.data:
            continue
        judged += 1
        step, lines = _step(record)
        stayed_stopped(
            trace,
            f"{entry} ({step})",
            call,
            record.data["stopped"],
            record.data["stayed"],
            record.data["wait_s"],
            record.data["settle_s"],
            lines,
        )
    if not judged:
        raise _not_judged(
            run,
            entry,
            f"no {entry} of an instance whose entity the probe found running"
            + (" that took it offline" if entry == "Offline" else ""),
        )
    return f"{judged} {entry} calls stopped the entity, and it stayed stopped"


def starts_entity_in(run: ScenarioRun) -> str:
    """Online.starts-entity on a fuzzed sequence: each Online that brought the resource
    online left the entity running, as the probe found within `run`'s wait."""
    judged = 0
    for trace, record, call in _probed(run, "Online"):
        if "running" not in record.data:
            continue
        judged += 1
        if not record.data["running"]:
            step, lines = _step(record)
            raise Violation(
                f"Online ({step}) brought the resource online, but the companion's probe "
                "finds no entity running",
                trace,
                [call],
                lines,
            )
    if not judged:
        raise _not_judged(run, "Online", "no Online brought the resource online")
    return f"after {judged} Online calls the companion's probe found the entity running"
