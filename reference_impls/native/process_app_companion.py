"""The companion of ``process_app.c``, the compiled Process App: how to probe and break its
real process, ``sleeper.exe``, from where rescheck runs (Linux, the DLL being under Wine).

rescheck finds it beside the DLL (``process_app_companion.py`` next to ``process_app.dll``) or
through ``--companion``. The type has no private properties, so instances need none.

Wine runs each Windows process as a Linux process whose ``/proc/PID/cmdline`` is its Windows
command line split into arguments: ``...\\sleeper.exe BASE HOST_PID LABEL``, LABEL being the
resource name as ``process_app.c`` quotes it. The probe looks only at this process's
descendants (rescheck starts the hosts, and Wine's processes stay below the host's reaper), so
runs side by side never see each other's processes. Without ``/proc`` (on Windows) there is no
probe, and the rules that need one are reported as not judged.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from conformance.companion import Companion, ProbeContext

PROGRAM = "sleeper.exe"
#: process_app.c's NAME_CHARS: a longer name is cut to one character less.
NAME_CHARS = 256
#: How far up the probe follows parents before it gives up (a loop guard).
MAX_DEPTH = 64


def label(resource_name: str) -> str:
    """The resource name as process_app.c puts it on the command line (QuotableName)."""
    cut = resource_name[: NAME_CHARS - 1]
    return cut.replace('"', "_").replace("\\", "_")


def _stat(pid: int) -> tuple[str, int] | None:
    """``(state, parent pid)`` of a process, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()
        return fields[0].decode(), int(fields[1])
    except (OSError, IndexError, ValueError):
        return None


def _descends_from_us(pid: int) -> bool:
    me = os.getpid()
    for _ in range(MAX_DEPTH):
        found = _stat(pid)
        if found is None or found[1] <= 1:
            return False
        if found[1] == me:
            return True
        pid = found[1]
    return False


def _sleepers(resource_name: str) -> list[int]:
    """The live sleeper.exe processes of ``resource_name`` started below this process."""
    wanted = label(resource_name)
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            argv = Path(entry.path, "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        except OSError:
            continue
        args = [a.decode("utf-8", "replace") for a in argv]
        if len(args) < 4 or not args[0].lower().endswith("\\" + PROGRAM) or args[3] != wanted:
            continue
        pid = int(entry.name)
        state = _stat(pid)
        if state is not None and state[0] not in ("Z", "X") and _descends_from_us(pid):
            found.append(pid)
    return found


def probe(ctx: ProbeContext) -> bool:
    """Is the entity running? A sleeper.exe of this resource is alive."""
    return bool(_sleepers(ctx.resource_name))


def breaker(ctx: ProbeContext) -> None:
    """Kill the process (SIGKILL of its Linux process: Windows sees it end at once), so
    IsAlive must notice (IA-4)."""
    for pid in _sleepers(ctx.resource_name):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


HAS_PROC = Path("/proc/self/stat").exists()

COMPANION = Companion(
    resource_type="Process App",
    features=frozenset({"pending"}),
    probe=probe if HAS_PROC else None,
    breaker=breaker if HAS_PROC else None,
)
