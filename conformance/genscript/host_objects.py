"""The objects a control script can reach: its `Resource` object (§8.4) and the COM objects
scripts commonly create, as recording stand-ins (COM cannot exist on Linux).

- `ResourceObject`: Name, LogInformation, AddProperty, RemoveProperty, PropertyExists and the
  private properties as ``Resource.<Name>``, kept in the resource's cluster-database key so
  they survive unloads (GS-30..GS-37).
- ``Scripting.FileSystemObject`` works on real files (`conformance.genscript.files`): a
  Windows path (``C:\\x``) lands in the instance's sandbox directory, a POSIX path must lie in
  the sandbox or the temp directory.
- ``Scripting.Dictionary`` is the real thing (`conformance.genscript.dictionary`): part of the
  Windows Script runtime on every machine, with no effect outside the script.
- ``WScript.Shell`` records every Run and Exec; a command runs for real only where the
  companion says so (`Companion.commands`), otherwise it answers the companion's exit code,
  or the world's (`conformance.genscript.world`; in the stand-in world, a finished command
  that printed nothing and exited 0).
- ``GetObject("winmgmts:...")`` gives WMI as the world has it: in the stand-in world queries
  find nothing; a generated world has objects of the classes rescheck knows.
- The Cluster Automation Server (``MSCluster.*``) and the cluster WMI namespace
  (``root\\MSCluster``) are recorded as GS-38 violations, with the line, and fail.
- Any other ProgID fails as on a machine without it (error 429), unless the companion supplies
  a stand-in (`Companion.objects`).

Every use is reported through ``observe(what, data)``, which the DLL puts in the trace.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Callable, Mapping
from typing import Any

from conformance.clusapi import (
    HKEY,
    ClusterRegDeleteValue,
    ClusterRegEnumValue,
    ClusterRegQueryValue,
    ClusterRegSetValue,
)
from conformance.companion import RUN
from conformance.genscript import iis
from conformance.genscript.com import (
    CANT_CREATE,
    FILE_NOT_FOUND_HRESULT,
    INPUT_PAST_END,
    NOT_SUPPORTED,
    WBEM_E_NOT_FOUND,
    ComError,
)
from conformance.genscript.files import FileSystemObject, Sandbox
from conformance.genscript.world import STAND_IN, World
from conformance.resapi import ERROR_SUCCESS, REG_DWORD, REG_SZ

__all__ = ["ComError", "ComWorld", "ResourceObject", "Sandbox"]

Observe = Callable[[str, dict[str, Any]], None]
#: The longest a command a script runs for real may take (s).
COMMAND_TIMEOUT_S = 60

#: The objects rescheck gives a script that are not stand-ins: files are real, a dictionary
#: is one, and a shell only runs commands (what each command answers is reported on its own).
REAL_OBJECTS = frozenset({"scripting.filesystemobject", "scripting.dictionary", "wscript.shell"})
#: Monikers and ProgIDs that reach the cluster from a script (GS-38).
CLUSTER_API = re.compile(r"^\s*mscluster\.|root[\\/]+mscluster", re.IGNORECASE)


class ResourceObject:
    """The script's `Resource` (GS-30): one per instance, backed by its Parameters key."""

    def __init__(
        self,
        name: str,
        parameters: HKEY,
        log: Callable[[str], None],
        observe: Observe,
        world: ComWorld | None = None,
    ) -> None:
        self._name, self._key, self._log, self._observe = name, parameters, log, observe
        #: Where a property the run did not set may have been set by the world's administrator.
        self._world = world
        self._removed: set[str] = set()  # RemoveProperty of a property only the world set

    @property
    def Name(self) -> str:  # GS-33: read-only
        return self._name

    def LogInformation(self, strMessage: Any) -> None:  # GS-32
        self._log(str(strMessage))

    def AddProperty(self, strName: Any) -> None:  # GS-34: a new, empty property
        if self._actual(str(strName)) is None:
            ClusterRegSetValue(self._key, str(strName), REG_SZ, "")

    def RemoveProperty(self, strName: Any) -> None:  # GS-35
        actual = self._actual(str(strName))
        if actual is not None:
            ClusterRegDeleteValue(self._key, actual)
        self._removed.add(str(strName).lower())

    def PropertyExists(self, strName: Any) -> bool:  # GS-37 (used by the docs' example)
        name = str(strName)
        if self._actual(name) is not None:
            return True
        return self._world_value(name, exists=False) is not None  # nobody set it for the run

    def get(self, name: str) -> Any:
        """``Resource.<name>`` (GS-36); ComError 438 when there is no such property."""
        if name.lower() == "name":
            return self._name
        actual = self._actual(name)
        if actual is None:
            configured = self._world_value(name, exists=False)
            if configured is not None:
                return configured
            raise ComError(
                NOT_SUPPORTED, f"Object doesn't support this property or method: 'Resource.{name}'"
            )
        status, _, value = ClusterRegQueryValue(self._key, actual)
        if status != ERROR_SUCCESS:
            raise ComError(NOT_SUPPORTED, f"Resource.{name} cannot be read ({status})")
        if value in ("", [], None):  # AddProperty's empty value: nobody configured it yet
            configured = self._world_value(actual, exists=True)
            if configured is not None:
                return configured
        return "\n".join(value) if isinstance(value, list) else value

    def _world_value(self, name: str, exists: bool) -> Any:
        """What the world says of a property the run left unset (None: unset there too),
        reported as a question to the world."""
        world = self._world
        value = None
        if world is not None and name.lower() not in self._removed:
            value = world.property(name)
        seed, failed = (world.world.seed, world.world.failed) if world else (STAND_IN, "")
        self._observe(
            "property-unset",
            {"name": name, "exists": exists, "value": value, "world": seed, "failed": failed},
        )
        return value

    def set(self, name: str, value: Any) -> None:
        if name.lower() == "name":
            raise ComError(NOT_SUPPORTED, "Resource.Name cannot be set (GS-33)")
        actual = self._actual(name) or name
        if isinstance(value, bool):
            ClusterRegSetValue(self._key, actual, REG_DWORD, int(value))
        elif isinstance(value, int) and 0 <= value <= 0xFFFFFFFF:
            ClusterRegSetValue(self._key, actual, REG_DWORD, value)
        else:
            ClusterRegSetValue(self._key, actual, REG_SZ, "" if value is None else str(value))

    def _actual(self, name: str) -> str | None:
        """The stored spelling of ``name`` (property names are case-insensitive)."""
        status, values = ClusterRegEnumValue(self._key)
        if status != ERROR_SUCCESS:
            return None
        return next((n for n in values if n.lower() == name.lower()), None)


class WshExec:
    """A command started with ``WScript.Shell.Exec``, with what it printed; ``Status`` says it
    still runs (0) for the first ``running`` reads, then that it finished (1). The first read
    of its ExitCode, StdOut or StdErr is reported (``waited``): on Windows that read waits for
    the process, which the cost model charges (`conformance.suite.costs`)."""

    ProcessID = 0

    def __init__(
        self,
        exit_code: int,
        out: str = "",
        err: str = "",
        waited: Callable[[], None] | None = None,
        running: int = 0,
    ) -> None:
        self._exit_code = exit_code
        self._out, self._err = _Stream(out), _Stream(err)
        self._waited = waited
        self._running = running

    @property
    def Status(self) -> int:
        if self._running > 0:
            self._running -= 1
            return 0
        return 1

    def _wait(self) -> None:
        if self._waited is not None:
            waited, self._waited = self._waited, None
            waited()

    @property
    def ExitCode(self) -> int:
        self._wait()
        return self._exit_code

    @property
    def StdOut(self) -> _Stream:
        self._wait()
        return self._out

    @property
    def StdErr(self) -> _Stream:
        self._wait()
        return self._err

    def Terminate(self) -> None:
        return None


class _Stream:
    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._text = text

    @property
    def AtEndOfStream(self) -> bool:
        return not self._lines

    def ReadAll(self) -> str:
        text, self._text, self._lines = self._text, "", []
        return text

    def ReadLine(self) -> str:
        if not self._lines:
            raise ComError(INPUT_PAST_END, "Input past end of file")
        return self._lines.pop(0)


class WshShell:
    """``WScript.Shell``: Run and Exec are recorded; a command runs only when the companion
    says `RUN`, else it answers the companion's exit code (0 without a companion)."""

    def __init__(self, world: ComWorld) -> None:
        self._world = world

    def Run(self, command: Any, style: Any = 1, wait: Any = False) -> int:
        return self._world.command("Run", str(command), waits=bool(wait))[0]

    def Exec(self, command: Any) -> WshExec:
        line = self._world.line()
        code, out, err, running = self._world.command("Exec", str(command), waits=False)

        def waited() -> None:
            self._world.waited(str(command), line)

        return WshExec(code, out, err, waited, running)

    def ExpandEnvironmentStrings(self, text: Any) -> str:
        return re.sub(r"%([^%]+)%", lambda m: os.environ.get(m.group(1), m.group(0)), str(text))


class WmiServices:
    """``GetObject("winmgmts:...")``: queries are recorded and answered from the world as it
    is when they are asked (a script may keep the services object across calls)."""

    def __init__(self, observe: Observe, line: Callable[[], int | None], com: ComWorld) -> None:
        self._observe, self._line, self._com = observe, line, com

    @property
    def _world(self) -> World:
        return self._com.world

    def ExecQuery(self, query: Any, *rest: Any) -> list[Any]:
        return self._found(str(query), self._world.wmi_query(str(query)))

    def InstancesOf(self, cls: Any, *rest: Any) -> list[Any]:
        return self._found(f"InstancesOf {cls}", self._world.wmi_query(f"InstancesOf {cls}"))

    def Get(self, path: Any = "", *rest: Any) -> Any:
        """The object, or WBEM_E_NOT_FOUND, as for an object a machine lacks."""
        found = self._world.wmi_get(str(path))
        self._found(f"Get {path}", [] if found is None else [found])
        if found is None:
            raise ComError(WBEM_E_NOT_FOUND, f"Not found: {path}")
        return found

    def _found(self, query: str, objects: list[Any]) -> list[Any]:
        self._observe(
            "wmi-query",
            {
                "query": query,
                "line": self._line(),
                "found": len(objects),
                "world": self._world.seed,
                "failed": self._world.failed,
            },
        )
        return objects


class ComWorld:
    """CreateObject and GetObject for one script instance, with the companion's say on
    commands and on objects rescheck does not provide."""

    def __init__(
        self,
        sandbox: Sandbox,
        observe: Observe,
        commands: Callable[[str], int | tuple[int, str] | str] | None = None,
        objects: Mapping[str, Callable[[], Any]] | None = None,
        world: World | None = None,
    ) -> None:
        self.sandbox, self._observe = sandbox, observe
        self._commands = commands
        self.world = world or World()
        self._objects = {k.lower(): v for k, v in (objects or {}).items()}
        self.line: Callable[[], int | None] = lambda: None  # the engine tells where it is

    def fail(self, how: str) -> None:
        """The entity fails ``how``: from now on the world is its failed self
        (`World.failing`)."""
        self.world = self.world.failing(how)
        self._observe("world-failed", {"world": self.world.seed, "how": how, "line": None})

    def property(self, name: str) -> Any:
        """A private property's value in this world, where nobody configured it for the run
        (None: unset here too); a file or folder it names exists as the world has it."""
        value = self.world.property(name)
        if isinstance(value, str) and value.startswith("C:\\") and self.world.present(value):
            with contextlib.suppress(ComError, OSError):
                path = self.sandbox.path(value)
                if re.search("file", name, re.IGNORECASE):
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.touch()
                else:
                    path.mkdir(parents=True, exist_ok=True)
        return value

    def waited(self, command: str, line: int | None) -> None:
        """The script read what an Exec'd command produced: on Windows, it waited for it."""
        self._observe("command-wait", {"command": command, "line": line})

    def command(self, how: str, command: str, waits: bool) -> tuple[int, str, str, int]:
        """(exit code, stdout, stderr, Status reads that see it running) of a command a
        script runs (``waits``: Run was asked to wait for it)."""
        running = 0
        if self._commands is not None:
            answer = self._commands(command)
        elif (program := self.world.lacks(command)) is not None:
            self._observe(
                "command",
                {"how": how, "command": command, "waits": waits, "line": self.line(),
                 "world": self.world.seed, "failed": self.world.failed, "lacks": program},
            )  # fmt: skip
            raise ComError(FILE_NOT_FOUND_HRESULT, "The system cannot find the file specified.")
        else:
            code, out, running = self.world.command(command)
            answer = (code, out)
        record: dict[str, Any] = {
            "how": how,
            "command": command,
            "waits": waits,
            "line": self.line(),
            "stand_in": self._commands is None,  # nothing said what it does: rescheck answered
            "world": self.world.seed,
            "failed": self.world.failed,
        }
        if answer != RUN:
            code, out = (answer[0], str(answer[1])) if isinstance(answer, tuple) else (answer, "")
            shown = {"output": out[:200]} if out else {}
            self._observe("command", {**record, "ran": False, "exit_code": int(code), **shown})
            return int(code), out, "", running
        self.sandbox.root.mkdir(parents=True, exist_ok=True)
        # a session of its own: what the command starts is killed with it, not left behind
        child = subprocess.Popen(
            command,
            shell=True,
            cwd=self.sandbox.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = child.communicate(timeout=COMMAND_TIMEOUT_S)
            code = child.returncode
        except BaseException:  # a timeout, or the script interrupted meanwhile
            with contextlib.suppress(OSError):
                os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            code, out, err = 1, "", f"rescheck stopped the command after {COMMAND_TIMEOUT_S} s"
        self._observe("command", {**record, "ran": True, "exit_code": code})
        return code, out, err, 0

    def create_object(self, progid: Any, line: int | None = None) -> Any:
        name = str(progid)
        where = line if line is not None else self.line()
        key = name.strip().lower()
        # the file system and a dictionary are real, a shell only runs commands (each
        # reported); anything else the companion did not supply is missing, as on a machine
        # without it
        stand_in = key not in self._objects and key not in REAL_OBJECTS
        generated = stand_in and key in iis.PROGIDS and self.world.generated
        self._observe(
            "create-object",
            {
                "progid": name,
                "line": where,
                "stand_in": stand_in,
                **({"found": 1} if generated else {}),
            },
        )
        if CLUSTER_API.search(name):
            self._cluster_api(name, where)
        if key in self._objects:
            return self._objects[key]()
        if key == "scripting.filesystemobject":
            return FileSystemObject(self.sandbox, self._observe)
        if key == "wscript.shell":
            return WshShell(self)
        if generated:
            return iis.AdminManager(self, self._observe, self.line)
        if key == "scripting.dictionary":
            from conformance.genscript.dictionary import Dictionary  # imports asppy: on first use

            return Dictionary()
        raise ComError(CANT_CREATE, f"ActiveX component can't create object: '{name}'")

    def get_object(self, moniker: Any, line: int | None = None) -> Any:
        name = str(moniker)
        where = line if line is not None else self.line()
        known = next((k for k in self._objects if name.strip().lower().startswith(k)), None)
        self._observe("get-object", {"moniker": name, "line": where, "stand_in": known is None})
        if CLUSTER_API.search(name):
            self._cluster_api(name, where)
        if known is not None:
            return self._objects[known]()
        if name.strip().lower().startswith("winmgmts:"):
            services = WmiServices(self._observe, self.line, self)
            path = re.sub(r"^\{[^}]*\}!?", "", name.strip()[len("winmgmts:") :])
            if ":" in path:  # an object's path after the namespace: that object
                return services.Get(path.split(":", 1)[1])
            return services
        raise ComError(CANT_CREATE, f"ActiveX component can't create object: '{name}'")

    def console(self, member: str) -> ComError:
        """A use of ``WScript``, which a scripted resource does not have (GS-39): recorded
        (an error handler may swallow the error), and the error to raise."""
        self._observe("console", {"member": f"WScript.{member}", "line": self.line()})
        return ComError(424, "Object required: 'WScript' (a scripted resource has no console)")

    def _cluster_api(self, name: str, line: int | None) -> None:
        self._observe("cluster-api", {"object": name, "line": line})
        raise ComError(
            CANT_CREATE,
            f"{name}: a control script must not use the Cluster Automation Server or the "
            "cluster WMI provider (GS-38); use the Resource object",
        )
