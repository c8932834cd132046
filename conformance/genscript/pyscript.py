"""Python control scripts: a plain module whose functions are the entry points, with
``Resource``, ``CreateObject`` and ``GetObject`` in its globals, as a scripted resource's world
offers them. A function that returns None set no value (GS-13)."""

from __future__ import annotations

import ast
import sys
import traceback
from typing import Any

from conformance.errors import SourceTooNested, TargetLoadError
from conformance.genscript.engine import (
    CallAnswer,
    FunctionInfo,
    ScriptError,
    ScriptInterrupted,
    ScriptWorld,
    ThreadInterrupts,
    kind_of,
)

#: The name a script sees for itself, as a module.
MODULE_NAME = "__rescheck_control_script__"


def _compile(source: str, file: str) -> Any:
    try:
        return compile(source, file, "exec", dont_inherit=True)
    except SyntaxError as exc:
        error = ScriptError(f"Python syntax error: {exc.msg}", file, exc.lineno, exc.offset)
        raise TargetLoadError(str(error)) from None
    except ValueError as exc:  # NUL bytes (a SyntaxError from Python 3.12 on)
        raise TargetLoadError(f"{file}: not Python source text: {exc}") from None
    except (RecursionError, MemoryError):
        raise SourceTooNested(file) from None


def parse(source: str, file: str) -> dict[str, FunctionInfo]:
    _compile(source, file)
    tree = ast.parse(source, file)
    return {
        node.name: FunctionInfo(
            node.name,
            len(node.args.posonlyargs) + len(node.args.args) + len(node.args.kwonlyargs),
            node.lineno,
        )
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


class _Resource:
    """``Resource`` for Python: its methods, and private properties as attributes."""

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        return self._target.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._target.set(name, value)

    @property
    def Name(self) -> str:
        return self._target.Name

    def LogInformation(self, strMessage: Any) -> None:
        self._target.LogInformation(strMessage)

    def AddProperty(self, strName: Any) -> None:
        self._target.AddProperty(strName)

    def RemoveProperty(self, strName: Any) -> None:
        self._target.RemoveProperty(strName)

    def PropertyExists(self, strName: Any) -> bool:
        return self._target.PropertyExists(strName)


class _NoConsole:
    """``WScript``, which a scripted resource does not have (GS-39): recorded, then an error."""

    def __init__(self, world: ScriptWorld) -> None:
        object.__setattr__(self, "_world", world)

    def __getattr__(self, member: str) -> Any:
        raise self._world.com.console(member)


class PythonScriptEngine:
    language = "Python"

    def __init__(self, source: str, file: str) -> None:
        self.source, self.file = source, file
        self.code = _compile(source, file)
        self.namespace: dict[str, Any] | None = None
        self._calls = ThreadInterrupts()

    def _line(self) -> int | None:
        """The script's line that is running now (called from the script's thread)."""
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != self.file:
            frame = frame.f_back  # type: ignore[assignment]
        return frame.f_lineno if frame is not None else None

    def load(self, world: ScriptWorld) -> CallAnswer:
        namespace: dict[str, Any] = {
            "__name__": MODULE_NAME,
            "__file__": self.file,
            "Resource": _Resource(world.resource),
            "CreateObject": lambda progid: world.com.create_object(progid, self._line()),
            "GetObject": lambda moniker: world.com.get_object(moniker, self._line()),
            "WScript": _NoConsole(world),
        }
        world.com.line = self._line
        answer = self._guarded(lambda: exec(self.code, namespace))
        self.namespace = namespace if answer.status == "ok" else None
        return CallAnswer(answer.status, error=answer.error)

    def call(self, name: str) -> CallAnswer:
        if self.namespace is None:
            return CallAnswer("error", error=ScriptError("the script is not loaded", self.file))
        fn = self.namespace.get(name)
        if not callable(fn):
            return CallAnswer("missing")
        return self._guarded(fn)

    def _guarded(self, run: Any) -> CallAnswer:
        try:
            with self._calls.running():  # an interrupt lands in this call, or in none
                value = run()
        except ScriptInterrupted:
            return CallAnswer("interrupted")
        except BaseException as exc:  # SystemExit too: a script cannot end the host
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == self.file]
            line = frames[-1].lineno if frames else None
            column = (
                (frames[-1].colno or 0) + 1 if frames and frames[-1].colno is not None else None
            )
            message = f"Python error: {type(exc).__name__}: {exc}"
            return CallAnswer("error", error=ScriptError(message, self.file, line, column))
        if value is None:
            return CallAnswer("ok")
        return CallAnswer("ok", value, kind_of(value))

    def interrupt(self) -> None:
        self._calls.interrupt()

    def unload(self) -> None:
        self.namespace = None
