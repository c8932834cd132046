"""VBScript through asppy (pinned in pyproject.toml): every use of asppy's internals is in this
module and in `conformance.genscript.vbscript_builtins`, so an upgrade is checked by their tests
alone (``tests/unit/test_script_engines.py``, ``tests/unit/test_vbscript_completeness.py``).

asppy has no embedding API; we build its globals, remove what a scripted resource does not
have (the ``ASPPY`` helper, Server, Request, Response), and route CreateObject and GetObject to
rescheck's stand-ins. ``WScript`` does not exist for a scripted resource (GS-39): any use of it
is error 424, "Object required". Interrupts are `ScriptInterrupted`, a BaseException, so that
``On Error Resume Next`` cannot swallow them. Where asppy's library differs from VBScript's
(RegExp, Err.Raise, a few functions, MsgBox), `vbscript_builtins` replaces it. Scripts run with
the locale of an en-US node (LCID 1033), as GetLocale already says, so ``"at " & Now`` reads as
it does there.
"""

from __future__ import annotations

import re
from typing import Any

from ASPPY.ast_nodes import ClassDef, FuncDef, OnErrorResumeNextStmt, OptionExplicitStmt, SubDef
from ASPPY.parser import Parser
from ASPPY.runner_vm import _build_globals_env
from ASPPY.vb_errors import VBScriptError
from ASPPY.vb_runtime import VBScriptCOMError, vbs_get_lcid, vbs_set_lcid
from ASPPY.vm.context import ExecutionContext
from ASPPY.vm.interpreter import VBInterpreter
from ASPPY.vm.values import VBEmpty

from conformance.errors import TargetLoadError
from conformance.genscript.com import ComError
from conformance.genscript.dictionary import Dictionary, for_vbscript
from conformance.genscript.engine import (
    CallAnswer,
    FunctionInfo,
    ScriptError,
    ScriptInterrupted,
    ScriptWorld,
    ThreadInterrupts,
    kind_of,
)
from conformance.genscript.vbscript_builtins import Err, RegExp, install

#: Globals of an ASP page that a scripted resource does not have.
NOT_IN_A_SCRIPTED_RESOURCE = ("ASPPY", "RESPONSE", "REQUEST", "SERVER", "SESSION", "APPLICATION")


def _line_col(source: str, pos: Any) -> tuple[int | None, int | None]:
    if not isinstance(pos, int) or pos < 0:
        return None, None
    before = source[:pos]
    return before.count("\n") + 1, pos - (before.rfind("\n") + 1) + 1


#: asppy parses a statement that starts with ``Response`` as ASP's Response object; a
#: scripted resource has none, and a script may name a variable so. Renamed to a name of the
#: same length before parsing, so lines and columns stay where the script has them.
_RESPONSE = re.compile(r"\bresponse\b", re.IGNORECASE)
RESPONSE_STAND_IN = "Respons_"


def _without_asp_names(source: str) -> str:
    """``source`` with the identifier ``Response`` renamed outside strings and comments."""
    out = []
    for line in source.split("\n"):
        pieces = re.split(r'("[^"]*")', line)  # strings stay as they are
        for index, piece in enumerate(pieces):
            if piece.startswith('"'):
                continue
            code, quote, comment = piece.partition("'")
            pieces[index] = _RESPONSE.sub(RESPONSE_STAND_IN, code) + quote + comment
            if quote:
                break  # the rest of the line is a comment
        out.append("".join(pieces))
    return "\n".join(out)


def _program(source: str, file: str) -> list[Any]:
    try:
        return Parser(_without_asp_names(source)).parse_program()
    except Exception as exc:  # ParseError or VBScriptCompilationError, with vbs_pos
        line, col = _line_col(source, getattr(exc, "vbs_pos", None))
        error = ScriptError(f"VBScript syntax error: {exc}", file, line, col)
        raise TargetLoadError(str(error)) from None


def parse(source: str, file: str) -> dict[str, FunctionInfo]:
    """Functions and Subs at script level, by name as written."""
    found: dict[str, FunctionInfo] = {}
    lines = source.splitlines()
    for stmt in _program(source, file):
        if isinstance(stmt, (FuncDef, SubDef)):
            line, _ = _line_col(source, getattr(stmt, "_pos", None))
            name = stmt.name  # asppy upper-cases it: take the script's own spelling
            text = lines[line - 1] if line and line <= len(lines) else ""
            written = re.search(rf"\b({re.escape(name)})\b", text, re.IGNORECASE)
            name = written.group(1) if written else name
            found[name] = FunctionInfo(name, len(stmt.params or ()), line)
    return found


class _NoConsole:
    """``WScript``, which a scripted resource does not have (GS-39): each use is recorded and
    fails with error 424, "Object required"."""

    def __init__(self, world: ScriptWorld) -> None:
        self._world = world

    def _vbs_get_prop(self, member: str) -> Any:
        error = self._world.com.console(member)
        raise VBScriptCOMError(error.number, error.description)

    def _vbs_set_prop(self, member: str, value: Any) -> None:
        self._vbs_get_prop(member)


class _Com:
    """A stand-in object as VBScript sees it: members looked up case-insensitively, and a
    `ComError` turned into the VBScript error of the same number (Err.Number)."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def _vbs_get_prop(self, member: str) -> Any:
        found = _member(self._target, member)
        return _com_call(found) if callable(found) else _wrap(found)

    def _vbs_set_prop(self, member: str, value: Any) -> None:
        setattr(self._target, _member_name(self._target, member), value)


class _ResourceCom(_Com):
    """`Resource`: its methods, then ``Resource.<property>`` from the cluster database."""

    def _vbs_get_prop(self, member: str) -> Any:
        name = _member_name(self._target, member, private=False)
        if name is not None:
            return super()._vbs_get_prop(member)
        return _com_call(self._target.get)(member)

    def _vbs_set_prop(self, member: str, value: Any) -> None:
        _com_call(self._target.set)(member, None if value is VBEmpty else value)


def _member_name(target: Any, member: str, private: bool = True) -> str | None:
    lowered = member.lower()
    names = (n for n in dir(target) if not n.startswith("_"))
    found = next((n for n in names if n.lower() == lowered), None)
    if found is None and private:
        raise VBScriptCOMError(438, f"Object doesn't support this property or method: '{member}'")
    return found


def _member(target: Any, member: str) -> Any:
    name = _member_name(target, member)
    try:
        return getattr(target, name)  # type: ignore[arg-type]
    except ComError as exc:
        raise VBScriptCOMError(exc.number, exc.description) from None


def _com_call(fn: Any) -> Any:
    def call(*args: Any) -> Any:
        try:
            return _wrap(fn(*(None if a is VBEmpty else a for a in args)))
        except ComError as exc:
            raise VBScriptCOMError(exc.number, exc.description) from None
        except OSError as exc:
            raise VBScriptCOMError(76, f"Path not found: {exc.strerror or exc}") from None

    return call


class _ComCollection(_Com):
    """A stand-in with an ``Item`` method: ``collection(i)`` is ``collection.Item(i)``, as
    for a COM collection's default member."""

    def __vbs_index_get__(self, key: Any) -> Any:
        return _com_call(self._target.Item)(*(key if isinstance(key, (list, tuple)) else [key]))


def _wrap(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str, list, tuple)):
        return VBEmpty if value is None else value
    if isinstance(value, Dictionary):  # scrrun's Dictionary: asppy's own, no wrapper
        return for_vbscript(value)
    if callable(getattr(type(value), "Item", None)):
        return _ComCollection(value)
    return _Com(value)


class _Server:
    """The ExecutionContext's Server: only CreateObject, routed to the stand-ins."""

    _docroot = ""

    def __init__(self, world: ScriptWorld, line: Any) -> None:
        self._world, self._line = world, line

    def CreateObject(self, progid: Any) -> Any:
        if str(progid).strip().lower() in LANGUAGE_OBJECTS:  # part of VBScript, not the machine
            return RegExp()
        return _com_call(self._world.com.create_object)(progid, self._line())


#: What ``New`` and CreateObject give from VBScript's own runtime (vbscript.dll), whatever
#: the machine has installed.
LANGUAGE_OBJECTS = frozenset({"vbscript.regexp", "regexp"})


def _record_desktop(world: ScriptWorld, name: str, line: int | None) -> None:
    """A use of MsgBox or InputBox, for Script.no-console (GS-39), also when an error handler
    swallows it or the call came from Execute (ComWorld has no public way to record it)."""
    world.com._observe("console", {"member": name, "line": line})


class _Interpreter(VBInterpreter):
    """asppy's interpreter with VBScript's ``On Error Resume Next``, which clears Err (asppy
    keeps the last error, so a later ``If Err.Number <> 0`` would see it again), and with the
    caller's statement as the current one again once a function it calls returns (asppy
    leaves the callee's last statement there, so an error later in the caller's statement,
    ``c(Find(c))`` with Find returning -1, was reported on a line of Find)."""

    def _exec_stmt_inner(self, stmt: Any) -> Any:
        if type(stmt) is OnErrorResumeNextStmt:
            self.ctx.Err.Clear()
        return super()._exec_stmt_inner(stmt)

    def _invoke_user_proc(self, proc: Any, arg_exprs: Any) -> Any:
        caller = getattr(self, "_last_stmt_pos", None)
        try:
            return super()._invoke_user_proc(proc, arg_exprs)
        finally:
            self._last_stmt_pos = caller


#: The locale a script starts with (GetLocale), as on an en-US node.
DEFAULT_LCID = 1033


class VBScriptEngine:
    language = "VBScript"

    def __init__(self, source: str, file: str) -> None:
        self.source, self.file = source, file
        self.program = _program(source, file)
        self.vm: VBInterpreter | None = None
        self._calls = ThreadInterrupts()
        self._lcid = DEFAULT_LCID  # asppy keeps it per thread; a script's SetLocale lasts
        self._execute_pos: int | None = None  # where the Execute under way is in the script

    def _line(self) -> int | None:
        if self.vm is None:
            return None
        pos = self._execute_pos
        if pos is None:
            pos = getattr(self.vm, "_last_stmt_pos", None)
        return _line_col(self.source, pos)[0]

    def _executing(self, execute: Any) -> Any:
        """asppy's Execute/ExecuteGlobal, with what runs inside on the Execute statement's
        line, as Windows reports it: asppy's positions there are in the executed text, which
        would be read as lines of the script."""

        def run(code: str, is_global: bool = False) -> Any:
            vm = self.vm
            if self._execute_pos is not None or vm is None:  # nested: the outermost line
                return execute(code, is_global=is_global)
            self._execute_pos = getattr(vm, "_last_stmt_pos", None)
            try:
                return execute(code, is_global=is_global)
            except Exception as exc:
                exc.vbs_pos = self._execute_pos  # type: ignore[attr-defined]
                raise
            finally:
                vm._last_stmt_pos, self._execute_pos = self._execute_pos, None

        return run

    def load(self, world: ScriptWorld) -> CallAnswer:
        ctx = ExecutionContext(response=None, server=_Server(world, self._line), err=Err())
        env = _build_globals_env(ctx)
        for name in NOT_IN_A_SCRIPTED_RESOURCE:
            env.pop(name, None)
        env["RESOURCE"] = _ResourceCom(world.resource)
        env["GETOBJECT"] = lambda moniker: _com_call(world.com.get_object)(moniker, self._line())
        world.com.line = self._line
        env["WSCRIPT"] = _NoConsole(world)
        install(env, lambda name: _record_desktop(world, name, self._line()))
        vm = _Interpreter(ctx, env)
        ctx.Interpreter = vm
        vm._vbs_execute = self._executing(vm._vbs_execute)
        self.vm = vm
        program = self.program

        def run() -> None:
            if any(isinstance(s, OptionExplicitStmt) for s in program):
                vm.option_explicit = True
                declared: list[Any] = []
                vm._collect_dim_decls(program, declared)
                vm._predeclare_dim_decls(vm.env, declared)
            procs: list[Any] = []
            vm._collect_proc_defs(program, procs)
            for proc in procs:  # Functions, Subs and Classes exist before any code runs
                vm.exec_stmt(proc)
            for stmt in program:
                if not isinstance(stmt, (OptionExplicitStmt, SubDef, FuncDef, ClassDef)):
                    vm.exec_stmt(stmt)

        answer = self._guarded(run)
        if answer.status != "ok":
            self.vm = None
        return answer

    def call(self, name: str) -> CallAnswer:
        vm = self.vm
        if vm is None:
            return CallAnswer("error", error=ScriptError("the script is not loaded", self.file))
        proc = vm._procs.get(name.upper())
        if proc is None:
            return CallAnswer("missing")
        return self._guarded(lambda: vm._invoke_user_proc(proc, []))

    def _guarded(self, run: Any) -> CallAnswer:
        try:
            with self._calls.running():  # an interrupt lands in this call, or in none
                vbs_set_lcid(self._lcid)
                try:
                    value = run()
                finally:
                    self._lcid = vbs_get_lcid() or DEFAULT_LCID
        except ScriptInterrupted:
            return CallAnswer("interrupted")
        except RecursionError:
            return CallAnswer("error", error=ScriptError("Out of stack space", self.file))
        except Exception as exc:
            line, col = _line_col(self.source, getattr(exc, "vbs_pos", None))
            number = getattr(exc, "number", None)
            if isinstance(exc, VBScriptError) and exc.error_def is not None:
                number = exc.error_def.number
            text = (getattr(exc, "description", None) or str(exc)).replace(
                RESPONSE_STAND_IN.upper(), "RESPONSE"
            )
            message = f"VBScript runtime error {number}: {text}" if number else str(text)
            return CallAnswer("error", error=ScriptError(message, self.file, line, col))
        if value is VBEmpty or value is None:
            return CallAnswer("ok")
        return CallAnswer("ok", value, kind_of(value))

    def interrupt(self) -> None:
        self._calls.interrupt()

    def unload(self) -> None:
        self.vm = None
