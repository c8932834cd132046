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

from conformance.runtime.trace import CALLBACK, TraceEvent
from conformance.targets import Target

#: What the script may ask a stand-in (``ScriptObject`` events' ``use``).
WORLD_USES = frozenset({"wmi-query", "command", "get-object", "create-object", "property-unset"})
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
        return f"WMI {data.get('query')!r} found nothing{line}"
    if use == "command":
        ran = "ran" if data.get("ran") else "was not run, and answered"
        return f"command {data.get('command')!r} {ran} exit code {data.get('exit_code')}{line}"
    if use == "property-unset":
        state = "is empty" if data.get("exists") else "does not exist"
        return f"Resource.{data.get('name')} {state}: nobody configured it"
    if use == "create-object":
        return f"CreateObject({data.get('progid')!r}) found no such object{line}"
    return f"GetObject({data.get('moniker')!r}) got rescheck's stand-in{line}"


def undecided(target: Target, events: Iterable[TraceEvent]) -> str | None:
    """Why a world-dependent rule that failed on ``target`` is not judged, or None (judge it):
    a control script that asked a stand-in of a world its companion does not declare."""
    if target.script is None:
        return None
    answers = stand_in_answers(events)
    if not answers:
        return None
    shown = "; ".join(answers[:SHOWN])
    more = f"; and {len(answers) - SHOWN} more" if len(answers) > SHOWN else ""
    companion = Path(target.script).with_name(f"{Path(target.script).stem}_companion.py").name
    return (
        f"the verdict came from rescheck's stand-in world, which the script consulted: {shown}"
        f"{more}. Declare the world the script needs in {companion} (Companion(commands=..., "
        "objects=..., properties=...)) to have this rule judged"
    )


def stand_in_at(error: TraceEvent, events: Iterable[TraceEvent]) -> str | None:
    """What a stand-in answered on the line where a script's runtime error happened: the
    world that error needs (None: no stand-in was asked there)."""
    line = error.data.get("line")
    if line is None:
        return None
    found = None
    for event in events:  # the last answer on that line came just before the error
        if (
            event.kind == CALLBACK
            and event.name == "ScriptObject"
            and event.resource == error.resource
            and event.data.get("line") == line
            and _from_stand_in(event.data)
        ):
            found = _answer(event.data)
    return found


def missing_object(error: TraceEvent, events: Iterable[TraceEvent]) -> str | None:
    """A runtime error that is only this machine lacking a COM object the script creates (a
    vendor's component, say): what was missing, or None. No script can do without it, so
    such an error says nothing of the script."""
    said = str(error.data.get("error") or "")
    if "can't create object" not in said:
        return None
    answer = stand_in_at(error, events)
    return answer if answer is not None and answer.startswith("CreateObject(") else None
