"""Loading a resource DLL written in Python (docs/design.md, "A resource DLL written in Python").

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

from conformance.errors import SourceTooNested, TargetLoadError

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
    #: The folder the module's top-level package lies in: put on sys.path where it loads.
    sys_path_entry: str | None

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
    parts = given.split(".")
    if not all(part.isidentifier() for part in parts):
        raise TargetLoadError(
            f"cannot find module {given!r}: not a dotted module name; give one such as "
            "mypkg.my_dll, or a path to a .py file"
        )
    found = _find_source(parts)
    if found is None:
        raise TargetLoadError(
            f"cannot find module {given!r} (looked in the current directory and sys.path for "
            f"{'/'.join(parts)}.py); give a dotted module name importable from here, or a path "
            "to a .py file"
        )
    path, root = found
    return ModuleRef(given, given, path.resolve(), str(root.resolve()))


def _find_source(parts: list[str]) -> tuple[Path, Path] | None:
    """The source file of the module named ``parts`` and the sys.path entry it lies under,
    found as the import system finds it (the current directory first) but without importing
    anything: a package's ``__init__.py`` is the target's code, and runs only in its host."""
    entries = dict.fromkeys([Path.cwd(), *(Path(e or ".") for e in sys.path)])
    places = [(entry, entry) for entry in entries]  # (folder to look in, its sys.path entry)
    for part in parts[:-1]:
        places = _package_folders(places, part)
    for folder, entry in places:
        for source in (folder / parts[-1] / "__init__.py", folder / f"{parts[-1]}.py"):
            if os.path.isfile(source):
                return source, entry
    return None


def _package_folders(places: list[tuple[Path, Path]], name: str) -> list[tuple[Path, Path]]:
    """Where package ``name``'s submodules are: a regular package's folder (the first one
    wins), else every portion of a namespace package; none when a module of that name comes
    first (a module has no submodules)."""
    portions = []
    for folder, entry in places:
        package = folder / name
        if os.path.isfile(package / "__init__.py"):
            return [(package, entry)]
        if os.path.isfile(folder / f"{name}.py"):
            return []
        if os.path.isdir(package):
            portions.append((package, entry))
    return portions


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


def _code(ref: ModuleRef) -> CodeType:
    stat = ref.path.stat()
    key = (ref.path, stat.st_mtime_ns, stat.st_size)
    code = _COMPILED.get(key)
    if code is None:
        try:
            code = compile(ref.path.read_bytes(), str(ref.path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise TargetLoadError(
                f"{ref.given}:{exc.lineno}:{exc.offset}: Python syntax error: {exc.msg}"
            ) from None
        except ValueError as exc:  # NUL bytes (a SyntaxError from Python 3.12 on)
            raise TargetLoadError(f"{ref.given}: not Python source text: {exc}") from None
        except (RecursionError, MemoryError):
            raise SourceTooNested(ref.given) from None
        _COMPILED[key] = code
    return code


def _execute(ref: ModuleRef, spec: ModuleSpec) -> ModuleType:
    code = _code(ref)
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(ref.name)
    sys.modules[ref.name] = module
    try:
        exec(code, module.__dict__)
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
