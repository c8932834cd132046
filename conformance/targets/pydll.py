"""Loading a resource DLL written in Python (DESIGN.md, "A resource DLL written in Python").

A target is a dotted module name importable from the current directory, or a path to a
``.py`` file. Each monitor gets a *fresh* execution of the module, as each Resource Monitor
process loads its own copy of a DLL: module globals never leak from one scenario to the next.
Anything wrong with the module itself becomes a `TargetLoadError`: one line, exit code 2.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import CodeType, ModuleType

from conformance.errors import TargetLoadError

STARTUP_SIGNATURE = (
    "Startup(ResourceType, MinVersionSupported, MaxVersionSupported, SetResourceStatus, LogEvent)"
    " -> (status, FunctionTable)"
)


@dataclass(frozen=True)
class ModuleRef:
    """Where a Python DLL module lives, resolved once."""

    given: str
    name: str
    path: Path
    sys_path_entry: str | None  # prepended to sys.path for path targets

    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def _package_root(path: Path) -> tuple[str, Path]:
    """The dotted name of ``path`` and the folder to put on sys.path (pytest's "prepend")."""
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


def resolve(given: str) -> ModuleRef:
    """Find the module without running it."""
    if given.endswith(".py") or os.sep in given or "/" in given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise TargetLoadError(
                f"no such file: {given}; give a path to a .py resource DLL "
                "or a dotted module name importable from the current directory"
            )
        if path.suffix != ".py":
            raise TargetLoadError(
                f"{given} is neither a Python resource DLL (a .py module) nor a control script "
                "(.vbs, .js or .py)"
            )
        name, root = _package_root(path.resolve())
        return ModuleRef(given, name, path.resolve(), str(root))
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        spec = importlib.util.find_spec(given)
    except (ImportError, ValueError) as exc:
        raise TargetLoadError(f"cannot find module {given!r}: {exc}") from None
    if spec is None or spec.origin in (None, "built-in", "frozen"):
        raise TargetLoadError(
            f"cannot find module {given!r} (looked in the current directory and sys.path); "
            "give a dotted module name importable from here, or a path to a .py file"
        )
    return ModuleRef(given, given, Path(spec.origin), None)


def load_fresh(ref: ModuleRef) -> ModuleType:
    """Execute the module anew and check that it has a usable Startup."""
    if ref.sys_path_entry and ref.sys_path_entry not in sys.path:
        sys.path.insert(0, ref.sys_path_entry)
    spec = importlib.util.spec_from_file_location(ref.name, ref.path)
    if spec is None or spec.loader is None:
        raise TargetLoadError(f"cannot load {ref.given}: not a Python source file")
    module = _execute(ref, spec)
    startup = getattr(module, "Startup", None)
    if startup is None:
        raise TargetLoadError(
            f"{ref.given} has no Startup entry point; a resource DLL module must define "
            f"{STARTUP_SIGNATURE}"
        )
    if not callable(startup):
        raise TargetLoadError(f"{ref.given}: Startup is a {type(startup).__name__}, not a function")
    try:
        inspect.signature(startup).bind(*range(5))
    except TypeError:
        raise TargetLoadError(
            f"{ref.given}: Startup{inspect.signature(startup)} cannot take the five documented "
            f"parameters; define {STARTUP_SIGNATURE}"
        ) from None
    except ValueError:
        pass  # builtins without a signature: let the call decide
    return module


#: Compiled modules by (path, mtime, size): a run loads its target afresh for every monitor,
#: and compiling it each time (no bytecode cache under PYTHONDONTWRITEBYTECODE) is not the
#: DLL's load time; executing the module is (DM-4).
_COMPILED: dict[tuple[Path, int, int], CodeType] = {}


def _code(path: Path) -> CodeType:
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    code = _COMPILED.get(key)
    if code is None:
        code = _COMPILED[key] = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    return code


def _execute(ref: ModuleRef, spec: ModuleSpec) -> ModuleType:
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(ref.name)
    sys.modules[ref.name] = module
    try:
        exec(_code(ref.path), module.__dict__)
    except SyntaxError as exc:
        _restore(ref.name, previous)
        raise TargetLoadError(
            f"{ref.given}:{exc.lineno}:{exc.offset}: Python syntax error: {exc.msg}"
        ) from None
    except ModuleNotFoundError as exc:
        _restore(ref.name, previous)
        raise TargetLoadError(
            f"importing {ref.given} failed: it imports {exc.name!r}, which is not installed"
        ) from None
    except BaseException as exc:
        _restore(ref.name, previous)
        raise TargetLoadError(
            f"importing {ref.given} raised {type(exc).__name__}: {_first_line(exc)}"
        ) from None
    return module


def _restore(name: str, previous: ModuleType | None) -> None:
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "(no message)"
