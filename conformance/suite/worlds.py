"""Which world decided a verdict on a control script (issue 18, docs/design.md principle 8).

A control script asks its world: WMI, the commands it runs, the COM objects it creates, the
private properties it reads. Where its companion does not say what they answer, rescheck's
stand-ins do (WMI finds nothing, a command prints nothing and exits 0, an object is missing,
no property is set), and a rule whose verdict depends on the world (``script_class ==
"world"``) would then judge the stand-ins, not the script. Such a rule is not judged where
the script asked a stand-in anything; the file system is real, and what the companion
declares (``commands``, ``objects``, ``properties``) is the world it chose.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from conformance.genscript.world import World
from conformance.runtime.trace import CALLBACK, TraceEvent
from conformance.targets import Target

#: What the script may ask a stand-in (``ScriptObject`` events' ``use``).
WORLD_USES = frozenset(
    {"wmi-query", "iis-section", "command", "get-object", "create-object", "property-unset"}
)
#: The stand-ins' answers named in a message; the rest are counted.
SHOWN = 3


def _from_stand_in(data: dict[str, object]) -> bool:
    if data.get("use") not in WORLD_USES:
        return False
    return bool(data.get("stand_in", True))  # a property nobody configured: always


def stand_in_answers(events: Iterable[TraceEvent]) -> list[str]:
    """What the script asked the stand-ins and what they answered, once each, in order."""
    said: list[str] = []
    for event in events:
        if event.kind != CALLBACK or event.name != "ScriptObject":
            continue
        if not _from_stand_in(event.data):
            continue
        text = _answer(event.data)
        if text not in said:
            said.append(text)
    return said


def _answer(data: dict[str, object]) -> str:
    line = f" (line {data['line']})" if data.get("line") else ""
    use = data.get("use")
    if use == "wmi-query":
        found = int(data.get("found") or 0)
        what = "nothing" if not found else "1 object" if found == 1 else f"{found} objects"
        return f"WMI {data.get('query')!r} found {what}{line}"
    if use == "command" and data.get("lacks"):
        return f"command {data.get('command')!r}: this world has no {data['lacks']}{line}"
    if use == "command":
        ran = "ran" if data.get("ran") else "was not run, and answered"
        printed = f" and printed {data['output']!r}" if data.get("output") else ""
        return (
            f"command {data.get('command')!r} {ran} exit code {data.get('exit_code')}"
            f"{printed}{line}"
        )
    if use == "property-unset" and data.get("value") is not None:
        return f"Resource.{data.get('name')} was {data['value']!r}, as this world configured it"
    if use == "property-unset":
        state = "is empty" if data.get("exists") else "does not exist"
        return f"Resource.{data.get('name')} {state}: nobody configured it"
    if use == "iis-section":
        found = int(data.get("found") or 0)
        return f"IIS section {data.get('section')!r} held {found} element(s){line}"
    if use == "create-object":
        if data.get("found"):
            return f"CreateObject({data.get('progid')!r}) got a generated world's object{line}"
        return f"CreateObject({data.get('progid')!r}) found no such object{line}"
    return f"GetObject({data.get('moniker')!r}) got rescheck's stand-in{line}"


def undecided(target: Target, events: Iterable[TraceEvent]) -> str | None:
    """Why a world-dependent rule that failed on ``target`` is not judged, or None (judge it):
    a control script that asked a stand-in of a world its companion does not declare."""
    if target.script is None:
        return None
    events = list(events)
    answers = stand_in_answers(events)
    if not answers:
        return None
    shown = "; ".join(answers[:SHOWN])
    more = f"; and {len(answers) - SHOWN} more" if len(answers) > SHOWN else ""
    companion = Path(target.script).with_name(f"{Path(target.script).stem}_companion.py").name
    world = "rescheck's stand-in world" if not target.world else f"generated world {target.world}"
    return (
        f"the verdict came from {world}, which the script consulted: {shown}"
        f"{more}. Declare the world the script needs in {companion} (Companion(commands=..., "
        "objects=..., properties=...)) to have this rule judged"
    )


def stand_in_at(error: TraceEvent, events: Iterable[TraceEvent]) -> str | None:
    """What a stand-in answered for the call where a script's runtime error happened: the
    world that error needs (None: no stand-in was asked in it). An answer on the error's own
    line comes first; else the last one the call got before it (the command whose output the
    failing line reads, say)."""
    found = _asked_before(error, events)
    return None if found is None else _answer(found)


def world_at(error: TraceEvent, events: Iterable[TraceEvent]) -> str:
    """The world a script's runtime error happened in: rescheck's stand-in world, or a
    generated one (`conformance.genscript.world`), and whether the entity had failed there."""
    found = _asked_before(error, events)
    data = found if found is not None else error.data
    world = World(int(data.get("world") or 0), failed=str(data.get("failed") or ""))
    return world.describe().replace("the stand-in world", "rescheck's stand-in world")


def _asked_before(
    error: TraceEvent, events: Iterable[TraceEvent], same_line: bool = False
) -> dict[str, object] | None:
    """The stand-in answer on ``error``'s line, else (unless ``same_line``) the last one in
    the call that ended with it."""
    line = error.data.get("line")
    on_line = last = None
    for event in events:
        if event is error:
            break
        if event.kind != CALLBACK or event.resource != error.resource:
            continue
        if event.name in ("ScriptCall", "ScriptLoad"):
            on_line = last = None  # a new call: what came before was another call's
        elif event.name == "ScriptObject" and _from_stand_in(event.data):
            last = event.data
            if line is not None and event.data.get("line") == line:
                on_line = event.data
    return on_line if on_line is not None or same_line else last


def missing_object(error: TraceEvent, events: Iterable[TraceEvent]) -> str | None:
    """A runtime error that is only this machine lacking a COM object the script creates (a
    vendor's component, say): what was missing, or None. No script can do without it, so
    such an error says nothing of the script."""
    said = str(error.data.get("error") or "")
    if "can't create object" not in said:
        return None
    found = _asked_before(error, events, same_line=True)
    answer = None if found is None else _answer(found)
    return answer if answer is not None and answer.startswith("CreateObject(") else None
