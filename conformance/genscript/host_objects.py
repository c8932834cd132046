"""The objects a control script can reach: its `Resource` object (§8.4) and the COM objects
scripts commonly create, as recording stand-ins (COM cannot exist on Linux).

- `ResourceObject`: Name, LogInformation, AddProperty, RemoveProperty, PropertyExists and the
  private properties as ``Resource.<Name>``, kept in the resource's cluster-database key so
  they survive unloads (GS-30..GS-37).
- ``Scripting.FileSystemObject`` works on real files: a Windows path (``C:\\x``) lands in the
  instance's sandbox directory, a POSIX path must lie in the sandbox or the temp directory.
- ``Scripting.Dictionary`` is the real thing (`conformance.genscript.dictionary`): part of the
  Windows Script runtime on every machine, with no effect outside the script.
- ``WScript.Shell`` records every Run and Exec; a command runs for real only where the
  companion says so (`Companion.commands`), otherwise it answers the companion's exit code, or
  0 (Exec: a finished command with no output).
- ``GetObject("winmgmts:...")`` gives a WMI stand-in whose queries find nothing.
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
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from conformance.clusapi import (
    HKEY,
    ClusterRegDeleteValue,
    ClusterRegEnumValue,
    ClusterRegQueryValue,
    ClusterRegSetValue,
)
from conformance.companion import RUN
from conformance.resapi import ERROR_SUCCESS, REG_DWORD, REG_SZ

Observe = Callable[[str, dict[str, Any]], None]
#: The longest a command a script runs for real may take (s).
COMMAND_TIMEOUT_S = 60

#: VBScript's "ActiveX component can't create object".
CANT_CREATE = 429
#: VBScript's "Object doesn't support this property or method".
NOT_SUPPORTED = 438
#: VBScript's "File not found" and "Path not found".
FILE_NOT_FOUND, PATH_NOT_FOUND = 53, 76
#: WMI's "not found" (0x80041002), as a VBScript Err.Number.
WBEM_E_NOT_FOUND = 0x80041002 - (1 << 32)
#: The objects rescheck gives a script that are not stand-ins: files are real, a dictionary
#: is one, and a shell only runs commands (what each command answers is reported on its own).
REAL_OBJECTS = frozenset({"scripting.filesystemobject", "scripting.dictionary", "wscript.shell"})
#: Monikers and ProgIDs that reach the cluster from a script (GS-38).
CLUSTER_API = re.compile(r"^\s*mscluster\.|root[\\/]+mscluster", re.IGNORECASE)


class ComError(Exception):
    """A COM error as a script sees it: VBScript's Err.Number and Err.Description."""

    def __init__(self, number: int, description: str) -> None:
        super().__init__(description)
        self.number, self.description = number, description


class ResourceObject:
    """The script's `Resource` (GS-30): one per instance, backed by its Parameters key."""

    def __init__(
        self, name: str, parameters: HKEY, log: Callable[[str], None], observe: Observe
    ) -> None:
        self._name, self._key, self._log, self._observe = name, parameters, log, observe

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

    def PropertyExists(self, strName: Any) -> bool:  # GS-37 (used by the docs' example)
        return self._actual(str(strName)) is not None

    def get(self, name: str) -> Any:
        """``Resource.<name>`` (GS-36); ComError 438 when there is no such property."""
        if name.lower() == "name":
            return self._name
        actual = self._actual(name)
        if actual is None:
            self._observe("property-unset", {"name": name, "exists": False})
            raise ComError(
                NOT_SUPPORTED, f"Object doesn't support this property or method: 'Resource.{name}'"
            )
        status, _, value = ClusterRegQueryValue(self._key, actual)
        if status != ERROR_SUCCESS:
            raise ComError(NOT_SUPPORTED, f"Resource.{name} cannot be read ({status})")
        if value in ("", [], None):  # AddProperty's empty value: nobody configured it yet
            self._observe("property-unset", {"name": actual, "exists": True})
        return "\n".join(value) if isinstance(value, list) else value

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


class Sandbox:
    """Where a script's files go: Windows paths are mapped under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # the machine's temporary directory, not the host's private one inside the run's
        machine_tmp = os.environ.get("RESCHECK_MACHINE_TMPDIR") or tempfile.gettempdir()
        self.allowed = (root.resolve(), Path(machine_tmp).resolve())

    def path(self, given: Any) -> Path:
        """Where ``given`` is on this machine; ComError 70 outside what the script may touch:
        a Windows or relative path stays in the sandbox (its drives), a POSIX path from a
        property may also name the temporary directory."""
        text = str(given)
        drive = re.match(r"^([A-Za-z]):[\\/]*(.*)$", text)
        posix = False
        if drive:
            parts = [p for p in re.split(r"[\\/]+", drive.group(2)) if p]
            root = self.root / drive.group(1).upper()
            root.mkdir(parents=True, exist_ok=True)  # the drive exists; its folders may not
            path = root.joinpath(*parts)
        elif text.startswith(("\\\\", "//")):
            parts = [p for p in re.split(r"[\\/]+", text) if p]
            path = self.root.joinpath("UNC", *parts)
        else:
            joined = text.replace("\\", "/")  # a script joins with backslashes, as on Windows
            posix = os.path.isabs(joined)
            path = Path(joined) if posix else self.root / joined
        resolved = path.resolve()
        allowed = self.allowed if posix else self.allowed[:1]
        if not any(resolved == a or a in resolved.parents for a in allowed):
            raise ComError(70, f"Permission denied: {text} is outside the script's sandbox")
        return resolved


class TextStream:
    def __init__(self, path: Path, mode: str) -> None:
        self._file = path.open(mode, encoding="utf-8", newline="")

    def Write(self, text: Any) -> None:
        self._file.write(str(text))

    def WriteLine(self, text: Any = "") -> None:
        self._file.write(f"{text}\r\n")

    def ReadAll(self) -> str:
        return self._file.read()

    def ReadLine(self) -> str:
        return self._file.readline().rstrip("\r\n")

    @property
    def AtEndOfStream(self) -> bool:
        position = self._file.tell()
        more = self._file.read(1)
        self._file.seek(position)
        return not more

    def Close(self) -> None:
        self._file.close()


class FileSystemObject:
    """``Scripting.FileSystemObject`` on real files in the sandbox."""

    def __init__(self, sandbox: Sandbox, observe: Observe = lambda what, data: None) -> None:
        self._box = sandbox
        self._observe = observe

    def FileExists(self, path: Any) -> bool:
        return self._box.path(path).is_file()

    def FolderExists(self, path: Any) -> bool:
        return self._box.path(path).is_dir()

    def CreateFolder(self, path: Any) -> str:
        target = self._box.path(path)
        if target.exists():
            raise ComError(58, f"File already exists: {path}")
        if not target.parent.is_dir():
            raise ComError(PATH_NOT_FOUND, f"Path not found: {path}")
        target.mkdir()
        return str(target)

    def DeleteFile(self, path: Any, force: Any = False) -> None:
        target = self._box.path(path)
        if not target.is_file():
            raise ComError(FILE_NOT_FOUND, f"File not found: {path}")
        target.unlink()

    def DeleteFolder(self, path: Any, force: Any = False) -> None:
        target = self._box.path(path)
        if not target.is_dir():
            raise ComError(PATH_NOT_FOUND, f"Path not found: {path}")
        shutil.rmtree(target)

    def CreateTextFile(self, path: Any, overwrite: Any = True, unicode: Any = False) -> TextStream:
        target = self._box.path(path)
        if target.exists() and not overwrite:
            raise ComError(58, f"File already exists: {path}")
        if not target.parent.is_dir():  # the script's machine has its folders: so does ours
            self._observe("created-folder", {"folder": str(target.parent)})
            target.parent.mkdir(parents=True)
        return TextStream(target, "w")

    def OpenTextFile(
        self, path: Any, iomode: Any = 1, create: Any = False, format: Any = 0
    ) -> TextStream:
        target = self._box.path(path)
        if not target.exists():
            if not create or int(iomode) == 1:
                raise ComError(FILE_NOT_FOUND, f"File not found: {path}")
            if not target.parent.is_dir():
                self._observe("created-folder", {"folder": str(target.parent)})
                target.parent.mkdir(parents=True)
            target.touch()
        return TextStream(target, {1: "r", 2: "w", 8: "a"}.get(int(iomode), "r"))

    def BuildPath(self, path: Any, name: Any) -> str:
        base = str(path)
        separator = "/" if base.startswith("/") else "\\"  # a POSIX path from a property
        return base.rstrip("\\/") + separator + str(name)


class WshExec:
    """A finished command (``WScript.Shell.Exec``), with what it printed. The first read of
    its ExitCode, StdOut or StdErr is reported (``waited``): on Windows that read waits for
    the process, which the cost model charges (`conformance.suite.costs`)."""

    Status = 1
    ProcessID = 0

    def __init__(
        self,
        exit_code: int,
        out: str = "",
        err: str = "",
        waited: Callable[[], None] | None = None,
    ) -> None:
        self._exit_code = exit_code
        self._out, self._err = _Stream(out), _Stream(err)
        self._waited = waited

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
        return self._lines.pop(0) if self._lines else ""


class WshShell:
    """``WScript.Shell``: Run and Exec are recorded; a command runs only when the companion
    says `RUN`, else it answers the companion's exit code (0 without a companion)."""

    def __init__(self, world: ComWorld) -> None:
        self._world = world

    def Run(self, command: Any, style: Any = 1, wait: Any = False) -> int:
        return self._world.command("Run", str(command), waits=bool(wait))[0]

    def Exec(self, command: Any) -> WshExec:
        line = self._world.line()
        code, out, err = self._world.command("Exec", str(command), waits=False)

        def waited() -> None:
            self._world.waited(str(command), line)

        return WshExec(code, out, err, waited)

    def ExpandEnvironmentStrings(self, text: Any) -> str:
        return re.sub(r"%([^%]+)%", lambda m: os.environ.get(m.group(1), m.group(0)), str(text))


class WmiServices:
    """``GetObject("winmgmts:...")``: queries are recorded and find nothing."""

    def __init__(self, observe: Observe, line: Callable[[], int | None]) -> None:
        self._observe, self._line = observe, line

    def ExecQuery(self, query: Any, *rest: Any) -> list[Any]:
        self._observe("wmi-query", {"query": str(query), "line": self._line()})
        return []

    def InstancesOf(self, cls: Any, *rest: Any) -> list[Any]:
        self._observe("wmi-query", {"query": f"InstancesOf {cls}", "line": self._line()})
        return []

    def Get(self, path: Any = "", *rest: Any) -> Any:
        """No WMI object exists here: WBEM_E_NOT_FOUND, as for an object a machine lacks."""
        self._observe("wmi-query", {"query": f"Get {path}", "line": self._line()})
        raise ComError(WBEM_E_NOT_FOUND, f"Not found: {path}")


class ComWorld:
    """CreateObject and GetObject for one script instance, with the companion's say on
    commands and on objects rescheck does not provide."""

    def __init__(
        self,
        sandbox: Sandbox,
        observe: Observe,
        commands: Callable[[str], int | tuple[int, str] | str] | None = None,
        objects: Mapping[str, Callable[[], Any]] | None = None,
    ) -> None:
        self.sandbox, self._observe = sandbox, observe
        self._commands = commands
        self._objects = {k.lower(): v for k, v in (objects or {}).items()}
        self.line: Callable[[], int | None] = lambda: None  # the engine tells where it is

    def waited(self, command: str, line: int | None) -> None:
        """The script read what an Exec'd command produced: on Windows, it waited for it."""
        self._observe("command-wait", {"command": command, "line": line})

    def command(self, how: str, command: str, waits: bool) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of a command a script runs (``waits``: Run was asked
        to wait for it)."""
        answer = self._commands(command) if self._commands is not None else 0
        record: dict[str, Any] = {
            "how": how,
            "command": command,
            "waits": waits,
            "line": self.line(),
            "stand_in": self._commands is None,  # nothing said what it does: rescheck answered
        }
        if answer != RUN:
            code, out = (answer[0], str(answer[1])) if isinstance(answer, tuple) else (answer, "")
            self._observe("command", {**record, "ran": False, "exit_code": int(code)})
            return int(code), out, ""
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
        return code, out, err

    def create_object(self, progid: Any, line: int | None = None) -> Any:
        name = str(progid)
        where = line if line is not None else self.line()
        key = name.strip().lower()
        # the file system and a dictionary are real, a shell only runs commands (each
        # reported); anything else the companion did not supply is missing, as on a machine
        # without it
        stand_in = key not in self._objects and key not in REAL_OBJECTS
        self._observe("create-object", {"progid": name, "line": where, "stand_in": stand_in})
        if CLUSTER_API.search(name):
            self._cluster_api(name, where)
        if key in self._objects:
            return self._objects[key]()
        if key == "scripting.filesystemobject":
            return FileSystemObject(self.sandbox, self._observe)
        if key == "wscript.shell":
            return WshShell(self)
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
            return WmiServices(self._observe, self.line)
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
