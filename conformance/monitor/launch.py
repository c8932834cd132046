"""How a host process is started: the Python host for Python targets (the native host for
compiled DLLs brings a launch of its own)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conformance.rundir import run_dir

if TYPE_CHECKING:
    from conformance.targets.pydll import ModuleRef


@dataclass(frozen=True)
class Launch:
    """How a host is started: its command line given the channel's descriptor in it, its
    environment, and the ``target`` of its load message."""

    name: str  # the target as the user gave it, for messages
    argv: Callable[[int], list[str]]
    env: dict[str, str]
    target: dict[str, str | None]
    #: ``fd``: ``argv`` gets a socket's descriptor; ``stdio``: the host's standard input and
    #: output are the channel (its own output then goes to standard error).
    transport: str = "fd"
    #: The stacks of a hung host read from outside, given the pid it said hello with; None:
    #: the host is asked, then made to write them (`stacks.read_stacks`).
    stacks: Callable[[int], str] | None = None


def host_environment(extra: dict[str, str]) -> dict[str, str]:
    """rescheck's environment for a host, with a temporary directory of its own inside the
    run's: whatever the host or the target put there is removed with the run."""
    return {
        **os.environ,
        "TMPDIR": str(run_dir().mkdtemp("host-")),
        "RESCHECK_MACHINE_TMPDIR": os.environ.get("RESCHECK_MACHINE_TMPDIR")
        or tempfile.gettempdir(),
        **extra,
    }


def python_launch(
    ref: ModuleRef, companion_path: str | None = None, world: tuple[int, str] = (0, "")
) -> Launch:
    """The Python host, for a Python DLL module or a control script's Generic Script DLL
    (``world``: the seed of the world a script's stand-ins answer from, and how the entity
    fails in it once a resource is online)."""
    return Launch(
        name=ref.given,
        # the target in the command line says, in ps, whose host this is
        argv=lambda fd: [sys.executable, "-m", "conformance.hostproc", str(fd), ref.given],
        env=host_environment({"PYTHONPATH": _pythonpath(ref)}),
        target={
            "given": ref.given,
            "name": ref.name,
            "path": str(ref.path) if ref.path else None,
            "sys_path_entry": ref.sys_path_entry,
            "companion": companion_path,
            "world": str(world[0]),
            "world_fails": world[1],
        },
    )


def _pythonpath(ref: ModuleRef) -> str:
    """The host imports what this process imports: the target's folder and the cwd first."""
    entries = [e for e in (ref.sys_path_entry, os.getcwd()) if e]
    entries += [p for p in sys.path if p]
    return os.pathsep.join(dict.fromkeys(entries))
