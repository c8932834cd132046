"""What every script engine offers the Generic Script DLL, whatever the language: parse a
script (its syntax errors are bad input, with file, line and column), load it (script-level code
runs, GS-18), call one of its functions without parameters (GS-12), and unload it.

A call's answer keeps what the docs distinguish (GS-13): no value set, a Boolean, a number,
anything else; and a runtime error with the script's own file, line and message.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from conformance.errors import TargetLoadError

#: The entry points a script may define (GS-10), in the docs' spelling.
SCRIPT_ENTRY_POINTS = ("Open", "Online", "Offline", "Close", "Terminate", "LooksAlive", "IsAlive")
#: The two a script must define (GS-10).
REQUIRED_SCRIPT_ENTRY_POINTS = ("LooksAlive", "IsAlive")
#: Languages by file extension, as the Generic Script DLL picks its script engine.
LANGUAGES = {".vbs": "VBScript", ".js": "JScript", ".py": "Python"}


class ScriptInterrupted(BaseException):
    """Raised into a running script to stop it (Terminate). A BaseException, so that neither
    VBScript's ``On Error Resume Next`` nor a Python script's ``except Exception`` swallows it."""


class ThreadInterrupts:
    """Interrupts for engines whose scripts run as Python code on the calling thread (VBScript
    on asppy, Python scripts): ScriptInterrupted is raised in the call under way at its next
    bytecode (a call blocked in C stops when it returns), or in no call at all."""

    def __init__(self) -> None:
        self._thread: int | None = None
        self._marker = threading.Lock()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Around one call: an interrupt may land in it from now until it ends."""
        with self._marker:
            self._thread = threading.get_ident()
        try:
            yield
        finally:
            with self._marker:
                self._thread = None
                # drop an interrupt not yet raised: it must not stop the next call
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(threading.get_ident()), None
                )

    def interrupt(self) -> None:
        with self._marker:
            if self._thread is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._thread), ctypes.py_object(ScriptInterrupted)
                )


@dataclass(frozen=True)
class ScriptError:
    """A compile or runtime error, where the script author will look for it."""

    message: str
    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class FunctionInfo:
    """A function the script defines, as parsed (names are matched case-insensitively in
    VBScript, exactly in JScript and Python)."""

    name: str
    parameters: int
    line: int | None


@dataclass
class CallAnswer:
    """What one script function answered. ``status``: "ok", "missing" (not defined),
    "error" (a runtime error) or "interrupted"."""

    status: str
    value: Any = None
    kind: str = "none"  # "none" (no value set), "boolean", "number", "string", "other"
    error: ScriptError | None = None

    @property
    def succeeded(self) -> bool:
        """GS-13: no value, zero or true is success; non-zero or false is failure."""
        if self.status == "missing":
            return True
        if self.status != "ok":
            return False
        if self.kind == "none":
            return True
        if self.kind == "boolean":
            return bool(self.value)
        if self.kind == "number":
            return self.value == 0
        return False

    def describe(self) -> str:
        if self.status == "ok":
            return "no value" if self.kind == "none" else f"{self.kind} {self.value!r}"
        if self.error is not None:
            return f"{self.status}: {self.error}"
        return self.status


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "other"


@dataclass
class ScriptWorld:
    """What a loaded script can reach: its `Resource` object and the COM objects it creates
    (an engine sets ``com.line`` to tell where the script is, for the record)."""

    resource: Any  # host_objects.ResourceObject
    com: Any  # host_objects.ComWorld


class ScriptEngine(Protocol):
    """One loaded script instance, used from one thread only (the instance's worker, GS-5)."""

    language: str

    def load(self, world: ScriptWorld) -> CallAnswer:
        """Run script-level code (GS-18); an error leaves the script unloaded."""
        ...

    def call(self, name: str) -> CallAnswer:
        """Call function ``name`` with no parameters (GS-12)."""
        ...

    def interrupt(self) -> None:
        """Ask a running call to stop (from another thread); best effort."""
        ...

    def unload(self) -> None: ...


def language_of(path: Path) -> str:
    language = LANGUAGES.get(path.suffix.lower())
    if language is None:
        raise TargetLoadError(
            f"{path}: unknown script extension {path.suffix!r}; a control script is a .vbs "
            "(VBScript), .js (JScript) or .py (Python) file"
        )
    return language


def read_source(path: Path) -> str:
    """The script's text (a BOM is allowed, as Windows Script Host allows it)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TargetLoadError(f"{path}: cannot read the script: {exc.strerror or exc}") from None
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le")):
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _language_module(language: str) -> Any:
    """The adapter of ``language`` (imported on first use: each pulls in its engine)."""
    from conformance.genscript import jscript, pyscript, vbscript

    return {"VBScript": vbscript, "JScript": jscript, "Python": pyscript}[language]


def parse(path: Path) -> dict[str, FunctionInfo]:
    """The functions ``path`` defines, or TargetLoadError naming file, line and column."""
    return _language_module(language_of(path)).parse(read_source(path), str(path))


def new_engine(path: Path) -> ScriptEngine:
    """A fresh engine for the script at ``path`` (parsed, not loaded)."""
    language = language_of(path)
    module = _language_module(language)
    engine = {
        "VBScript": "VBScriptEngine",
        "JScript": "JScriptEngine",
        "Python": "PythonScriptEngine",
    }
    return getattr(module, engine[language])(read_source(path), str(path))


def entry_point(
    functions: dict[str, FunctionInfo], name: str, language: str
) -> FunctionInfo | None:
    """The function that serves entry point ``name`` (VBScript names are case-insensitive)."""
    if language == "VBScript":
        return next((f for f in functions.values() if f.name.lower() == name.lower()), None)
    return functions.get(name)


def parse_elsewhere(path: Path, timeout: float = 60.0) -> dict[str, FunctionInfo]:
    """`parse` in a child process: rescheck's own process runs no script engine on a
    target's text (a parser of C, QuickJS's, could crash on it)."""
    root = str(Path(__file__).resolve().parents[2])  # where ``conformance`` is importable
    paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "conformance.genscript.engine", str(path)],
            capture_output=True,
            timeout=timeout,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
        )
    except subprocess.TimeoutExpired:
        raise TargetLoadError(f"{path}: parsing the script took over {timeout:.0f} s") from None
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise TargetLoadError(
            f"{path}: the script parser ended with code {done.returncode} ({tail[0][:200]})"
        ) from None
    if "error" in answer:
        raise TargetLoadError(answer["error"])
    return {name: FunctionInfo(*info) for name, info in answer["functions"].items()}


if __name__ == "__main__":  # the child process of `parse_elsewhere`
    try:
        found = parse(Path(sys.argv[1]))
    except TargetLoadError as exc:
        print(json.dumps({"error": str(exc)}))
    else:
        print(
            json.dumps({"functions": {n: [f.name, f.parameters, f.line] for n, f in found.items()}})
        )
