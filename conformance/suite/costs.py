"""What a control script's health check would cost on Windows, where rescheck cannot run it
(issue 18's cost model).

On Linux a stand-in answers a command at once, so a LooksAlive that starts PowerShell on
every poll measures well under a millisecond. The Resource Monitor's 300 ms budget is spent
on Windows, so each operation whose Windows cost is documented is *charged* that cost, and a
timing rule judges the measured time plus the charge, marked as estimated. Only operations
with a published figure are charged, at the low end of what was published, so that an
estimate over the budget is evidence against the script and not against a guess: starting a
process whose cost is not documented here costs nothing in the model (it is counted, and said).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from conformance.runtime.trace import CALLBACK, TraceEvent


@dataclass(frozen=True)
class Cost:
    """One documented Windows cost: what, how many milliseconds, and where the figure is from."""

    what: str
    ms: float
    source: str


#: Windows PowerShell (powershell.exe, 5.1) or PowerShell (pwsh.exe) started and waited for.
POWERSHELL = Cost(
    "starting PowerShell",
    316.8,
    "the PowerShell team's own start-up benchmark of Windows PowerShell, fastest of 35 runs "
    "(PowerShell/PowerShell pull request 8341, 2018; its mean was 332.9 ms); the team also "
    "reported 600 ms for Windows PowerShell 5.1 on Windows 10 (PowerShell/PowerShell issue "
    "4239), and start-ups of 190 ms to 2.2 s were reported on one server (issue 12843)",
)
_POWERSHELL = re.compile(r"(?<![\w.-])(powershell|pwsh)(\.exe)?(?![\w.-])", re.IGNORECASE)
#: The trace's account of a command whose end the script waited for.
_WAITED_RUN = "command"
_WAITED_EXEC = "command-wait"


@dataclass(frozen=True)
class Charge:
    """What one call is charged, with the operations that make it up."""

    ms: float
    items: tuple[str, ...]  # "starting PowerShell (line 27): 316.8 ms"
    uncharged: int  # processes started and waited for whose cost no figure documents


#: What a call of a resource DLL is charged: its time is measured where it runs.
NO_CHARGE = Charge(0.0, (), 0)


def _waited_commands(events: Iterable[TraceEvent]) -> list[TraceEvent]:
    found = []
    for event in events:
        if event.kind != CALLBACK or event.name != "ScriptObject":
            continue
        use = event.data.get("use")
        if use == _WAITED_EXEC or (use == _WAITED_RUN and event.data.get("waits")):
            found.append(event)
    return found


def charge(call: TraceEvent, events: Iterable[TraceEvent]) -> Charge:
    """The documented Windows cost of what the script did during ``call`` (its script's
    events between the call's start and end, of the same resource)."""
    if call.end is None:
        return NO_CHARGE
    during = [
        e
        for e in events
        if e.resource == call.resource and call.start <= e.start <= call.end and e.seq > call.seq
    ]
    total, items, uncharged = 0.0, [], 0
    for event in _waited_commands(during):
        command = str(event.data.get("command", ""))
        if _POWERSHELL.search(command):
            total += POWERSHELL.ms
            line = event.data.get("line")
            where = f" (line {line})" if line else ""
            items.append(f"{POWERSHELL.what}{where}: {POWERSHELL.ms:.0f} ms")
        else:
            uncharged += 1
    return Charge(total, tuple(items), uncharged)
