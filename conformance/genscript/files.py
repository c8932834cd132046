"""``Scripting.FileSystemObject`` for a control script: real files, in the instance's sandbox
(a Windows path ``C:\\x`` lands in the sandbox's drive folder)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.genscript.com import FILE_NOT_FOUND, INPUT_PAST_END, PATH_NOT_FOUND, ComError

Observe = Callable[[str, dict[str, Any]], None]


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
        line = self._file.readline()
        if not line:
            raise ComError(INPUT_PAST_END, "Input past end of file")
        return line.rstrip("\r\n")

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
