"""What end-to-end tests share: the repository, a small conforming DLL, running the installed
``rescheck`` command, how the plugin ends the item of a check, and the rules a simple target
has nothing to judge for. (A module, not
conftest.py: tests import it by name.)"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: A minimal synchronous, conforming DLL; tests replace one line to break it.
GOOD_DLL = """
from conformance.resapi import (ERROR_SUCCESS, ERROR_REVISION_MISMATCH, ERROR_INVALID_FUNCTION,
    CLUSCTL_RESOURCE_UNKNOWN, FunctionTable)

ONLINE = set()

def Startup(ResourceType, MinVersionSupported, MaxVersionSupported, SetResourceStatus, LogEvent):
    if not MinVersionSupported <= 0x100 <= MaxVersionSupported:
        return ERROR_REVISION_MISMATCH, None
    return ERROR_SUCCESS, FunctionTable(Version=0x100, Open=Open, Close=Close, Online=Online,
        Offline=Offline, Terminate=Terminate, LooksAlive=LooksAlive, IsAlive=IsAlive,
        ResourceControl=ResourceControl, ResourceTypeControl=ResourceTypeControl)

class Instance:
    pass

def Open(ResourceName, ResourceKey, ResourceHandle):
    return Instance()

def Close(ResourceId):
    ONLINE.discard(ResourceId)

def Online(ResourceId, EventHandle):
    ONLINE.add(ResourceId)
    return ERROR_SUCCESS

def Offline(ResourceId):
    ONLINE.discard(ResourceId)
    return ERROR_SUCCESS

def Terminate(ResourceId):
    ONLINE.discard(ResourceId)

def LooksAlive(ResourceId):
    return ResourceId in ONLINE

def IsAlive(ResourceId):
    return ResourceId in ONLINE

def ResourceControl(ResourceId, ControlCode, InBuffer, OutBuffer):
    if ControlCode == CLUSCTL_RESOURCE_UNKNOWN:
        return ERROR_SUCCESS, 0
    return ERROR_INVALID_FUNCTION, 0

def ResourceTypeControl(ResourceTypeName, ControlCode, InBuffer, OutBuffer):
    return ERROR_INVALID_FUNCTION, 0
"""


def rescheck(
    *args: str, cwd: Path | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """Run the command as a user would (``python -m conformance.cli`` is the console script)."""
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


#: Rules of optional features that a target which claims none of them has skipped (with that
#: reason): process_app and fixtures.conforming claim no asynchronous failure detection.
UNCLAIMED_OPTIONAL = frozenset({"Online.failure-event"})
#: Rules that need two calls to overlap: a target whose entry points return in microseconds
#: (fixtures.conforming) may give them nothing to judge.
NEEDS_OVERLAP = frozenset({"Terminate.concurrent"})
#: A DLL that answers no data control code and declares no private properties (the sync test
#: DLL: UNKNOWN and nothing else, and no probe) gives these rules nothing to judge: skipped,
#: with that reason.
NO_CONTROL_DATA = frozenset(
    {
        "ResourceControl.more-data",
        "ResourceControl.well-formed-output",
        "ResourceControl.characteristics",
        "ResourceControl.private-properties",
        "ResourceControl.set-private-properties",
        "ResourceControl.malformed-input",
        "ResourceTypeControl.more-data",
        "ResourceTypeControl.well-formed-output",
        "ResourceTypeControl.characteristics",
        "ResourceControl.stored-properties",
    }
)
#: A type that defines no type private properties (the reference types, like most) answers
#: their codes with ERROR_INVALID_FUNCTION: these rules are skipped with that reason.
NO_TYPE_PROPERTIES = frozenset(
    {
        "ResourceTypeControl.private-properties",
        "ResourceTypeControl.set-private-properties",
        "ResourceTypeControl.malformed-input",
    }
)
#: A target that always knows its state never reports ClusterResourceStateUnknown, so RS-6
#: has nothing to judge (fixtures.conforming_async takes that path).
NEVER_UNKNOWN = frozenset({"SetResourceStatus.unknown-last-error"})


def as_pytest(outcome: str, level: str, strict: bool = False) -> str:
    """How the plugin must end the item of a check that ``rescheck run`` counts so: a failure
    that decides the verdict fails it, one that does not is a warning."""
    if outcome == "error":
        return "failed"
    if outcome == "failed":
        fatal = {"required", "recommended"} if strict else {"required"}
        return "failed" if level in fatal else "warning"
    return outcome


def junit_outcomes(path: Path) -> dict[str, str]:
    """Each rule's item in a JUnit file the plugin wrote: failed, skipped, warning or passed."""
    found = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        rule = case.attrib["name"].split("[", 1)[1].rstrip("]")
        if case.find("failure") is not None or case.find("error") is not None:
            found[rule] = "failed"
        elif case.find("skipped") is not None:
            found[rule] = "skipped"
        elif case.find("properties/property[@name='warning']") is not None:
            found[rule] = "warning"
        else:
            found[rule] = "passed"
    return found
