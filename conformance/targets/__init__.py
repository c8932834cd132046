"""Loading a resource type to test: a `Target` makes fresh hosts for the monitor.

`load_target` resolves the target, finds its companion and runs Startup once as a preflight,
so that everything that makes a target unusable is said before the suite starts, in one
line, with exit code 2.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from conformance.companion import Companion, ProbeContext, validate
from conformance.errors import SourceTooNested, TargetLoadError, UsageError
from conformance.genscript import GENERIC_SCRIPT, SCRIPT_FILE_PATH
from conformance.genscript import dll as genscript_dll
from conformance.genscript.engine import (
    SCRIPT_ENTRY_POINTS,
    FunctionInfo,
    language_of,
    parse,
    parse_elsewhere,
)
from conformance.monitor.host import Host, InProcessHost
from conformance.monitor.isolated import IsolatedHost
from conformance.monitor.launch import python_launch
from conformance.monitor.monitor import (
    EntryPointHung,
    HostCrashed,
    ResourceMonitor,
    StartupFailed,
)
from conformance.monitor.policy import Policy
from conformance.native.launch import native_launch
from conformance.resapi import (
    CLRES_VERSION_V1_00,
    ENTRY_POINT_PARAMETERS,
    V1_ENTRY_POINTS,
    error_name,
)
from conformance.targets.native import check_dll, is_native, native_companion
from conformance.targets.pydll import ModuleRef, load_fresh, resolve

#: Where the target runs: its own host process (the default, as RHS), or the harness's.
HOSTINGS = ("isolated", "in-process")


@dataclass
class Target:
    given: str
    kind: str
    resource_type: str
    companion: Companion  # with isolated hosting, probe and breaker run in the host process
    ref: ModuleRef
    hosting: str = "isolated"
    companion_path: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # -o NAME=VALUE
    #: A control script's path and its functions as parsed; ``ref`` is then the Generic
    #: Script DLL that hosts it.
    script: Path | None = None
    script_functions: dict[str, FunctionInfo] = field(default_factory=dict)
    #: Startup's table has Arbitrate and Release (AR-1, AR-8): the quorum rules apply.
    quorum_capable: bool = False
    #: A compiled DLL's path: the native host loads it (``ref`` then names the same file).
    dll: Path | None = None
    #: The DLL names this type itself (its text holds the name): a Startup that refuses it is
    #: a finding (Startup.returns-table); any other refused name is the user's to correct.
    type_named: bool = True
    #: A control script's world: the seed its stand-ins answer from where the companion says
    #: nothing (`conformance.genscript.world`; 0, the stand-in world), and how the entity fails
    #: in it once a resource is online ("": it does not).
    world: int = 0
    world_fails: str = ""

    def new_host(self) -> Host:
        """A host with a fresh copy of the target, as a new Resource Monitor process has."""
        if self.hosting == "in-process":
            start = time.perf_counter()
            module = load_fresh(self.ref)
            loaded = (start, time.perf_counter())
            give_companion(module, self.companion, self.world, self.world_fails)
            return InProcessHost(module, loaded, self.companion)
        if self.dll is not None:
            return IsolatedHost(
                launch=native_launch(self.dll, (self.resource_type,)), companion=self.companion
            )
        world = (self.world, self.world_fails)
        return IsolatedHost(launch=python_launch(self.ref, self.companion_path, world))

    def properties_for(self, host: Host, resource_name: str) -> dict[str, Any]:
        """An instance's private properties: the companion's (where it lives), then ``-o``."""
        return {**host.properties_for(resource_name), **self.overrides}

    @property
    def path(self) -> Path:
        """The file under test: the control script, or the DLL's module."""
        return self.script or self.ref.path

    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    def describe(self) -> dict[str, Any]:
        """The run information a target adds, under the names `run_suite` gives them (a
        report rewritten from results.jsonl then holds each fact once)."""
        described = {
            "target_kind": self.kind,
            "target_path": str(self.path),
            "target_sha256": self.sha256(),
        }
        if self.script is not None:
            described["language"] = language_of(self.script)
        return described


def load_target(
    given: str,
    companion_path: str | None = None,
    type_name: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    policy: Policy | None = None,
    hosting: str = "isolated",
    judge_startup: bool = False,
) -> Target:
    """Resolve, load and preflight a target; raise `UsageError` for anything unusable.

    With isolated hosting the module is never executed in this process: a host process loads
    it and says what it declares (type name, companion), then runs the preflight. With
    ``judge_startup`` (a conformance run) a Startup that fails as a finding would (it raises,
    crashes, hangs, or refuses a declared type) leaves the target loaded for the suite to judge."""
    if hosting not in HOSTINGS:
        raise UsageError(f"unknown hosting {hosting!r}; choose one of {', '.join(HOSTINGS)}")
    if not given:
        raise UsageError("no resource type given; pass --resource-type MODULE_OR_PATH")
    if is_native(given):
        return _native_target(given, companion_path, type_name, overrides, policy, judge_startup)
    script = control_script(given)
    if script is not None:
        return _script_target(
            given, script, companion_path, overrides, policy, hosting, judge_startup
        )
    ref = resolve(given)
    host: Host
    if hosting == "in-process":
        module = load_fresh(ref)
        companion = _find_companion(ref, module, companion_path).with_overrides(overrides or {})
        declared = _declared_type_name(module)
        host = InProcessHost(module, companion=companion)
    else:
        host = IsolatedHost(ref, companion_path)
        companion, declared = _companion_in_host(host.info)
    name = type_name or companion.resource_type or declared
    target = Target(
        given,
        "python-dll",
        name or ref.name.rpartition(".")[2],
        companion,
        ref,
        hosting,
        companion_path,
        dict(overrides or {}),
        type_named=names_type(ref.path, name or ""),
    )
    preflight(target, policy or Policy(), host, judge_startup)
    return target


def _native_target(
    given: str,
    companion_path: str | None,
    type_name: str | None,
    overrides: Mapping[str, Any] | None,
    policy: Policy | None,
    judge_startup: bool,
) -> Target:
    """A compiled DLL, always in the native host (in-process hosting has no meaning for it)."""
    dll = check_dll(given)
    companion, chosen = native_companion(dll, companion_path)
    companion = companion.with_overrides(overrides or {})
    name = type_name or companion.resource_type
    ref = ModuleRef(given, dll.stem, dll.resolve(), None)
    target = Target(
        given, "native-dll", name or dll.stem, companion, ref, "isolated",
        str(chosen) if chosen else None, dict(overrides or {}), dll=dll.resolve(),
        type_named=names_type(dll, name or ""),
    )  # fmt: skip
    preflight(target, policy or Policy(), judge_startup=judge_startup)
    return target


def control_script(given: str) -> Path | None:
    """``given`` as a Generic Script control script: a .vbs or .js file, or a .py file that
    defines no Startup and some script entry point without parameters (a Python resource
    DLL defines Startup, and its entry points take parameters)."""
    path = Path(given).expanduser()
    suffix = path.suffix.lower()
    if suffix in (".vbs", ".js"):
        return path
    if suffix != ".py" or not path.is_file():
        return None
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        return None  # the DLL loader says where the syntax error is
    except (RecursionError, MemoryError):
        raise SourceTooNested(given) from None
    functions = {
        n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    if "Startup" in functions:
        return None
    # a DLL's entry points take parameters (a RESID at least); a script's take none (GS-12)
    bare = [f for name, f in functions.items() if name in SCRIPT_ENTRY_POINTS and not f.args.args]
    return path if bare else None


def _script_target(
    given: str,
    script: Path,
    companion_path: str | None,
    overrides: Mapping[str, Any] | None,
    policy: Policy | None,
    hosting: str,
    judge_startup: bool,
) -> Target:
    """A control script, hosted by the Generic Script DLL with the script as its
    ScriptFilePath; its companion is ``<script>_companion.py`` beside it."""
    if not script.exists():
        raise TargetLoadError(f"no such file: {given}")
    if not script.is_file():
        raise TargetLoadError(f"{given} is not a file; a control script is a .vbs, .js or .py file")
    script = script.resolve()
    functions = parse_elsewhere(script) if hosting == "isolated" else parse(script)
    beside = script.with_name(f"{script.stem}_companion.py")
    companion_path = companion_path or (str(beside) if beside.is_file() else None)
    ref = resolve(genscript_dll.__file__)
    properties = {SCRIPT_FILE_PATH: str(script), **(overrides or {})}
    host: Host
    if hosting == "in-process":
        module = load_fresh(ref)
        companion = _find_companion(ref, module, companion_path).with_overrides(properties)
        give_companion(module, companion)
        host = InProcessHost(module, companion=companion)
    else:
        host = IsolatedHost(ref, companion_path)
        companion, _ = _companion_in_host(host.info)
    target = Target(
        given,
        "generic-script",
        GENERIC_SCRIPT,
        companion,
        ref,
        hosting,
        companion_path,
        properties,
        script,
        functions,
    )
    preflight(target, policy or Policy(), host, judge_startup)
    return target


def give_companion(module: Any, companion: Companion, world: int = 0, fails: str = "") -> None:
    """Hand the companion to a DLL of rescheck's own that asks for it (the Generic Script DLL
    takes its commands, stand-in objects and world); a target's module is never asked."""
    if getattr(module, "__name__", None) == genscript_dll.__name__:
        module.rescheck_companion(companion, world, fails)


def _runs_in_host(context: ProbeContext) -> bool:
    raise RuntimeError("the companion's probe and breaker run in the host process")


def _companion_in_host(info: dict[str, Any]) -> tuple[Companion, str | None]:
    """What the host process found: the companion's data, with its code left there."""
    found = info["companion"]
    companion = Companion(
        resource_type=found["resource_type"],
        features=frozenset(found["features"]),
        probe=_runs_in_host if found["probe"] else None,
        breaker=_runs_in_host if found["breaker"] else None,
        source=found.get("source"),
    )
    return companion, info["declared_type"]


#: Module constants a DLL commonly names its type with (the C samples use a #define).
TYPE_NAME_ATTRIBUTES = ("RESOURCE_TYPE_NAME", "RESOURCE_TYPE", "ResourceTypeName", "TYPE_NAME")


def _declared_type_name(module: Any) -> str | None:
    for attribute in TYPE_NAME_ATTRIBUTES:
        value = getattr(module, attribute, None)
        if isinstance(value, str) and value:
            return value
    return None


def _find_companion(ref: ModuleRef, module: Any, companion_path: str | None) -> Companion:
    if companion_path:
        path = Path(companion_path)
        if not path.is_file():
            raise UsageError(f"no such companion file: {companion_path}")
        found = validate(_companion_from_file(path), f"COMPANION in {companion_path}")
        return replace(found, source=path.name)
    beside = ref.path.with_name(f"{ref.path.stem}_companion.py")
    if beside.is_file():
        found = validate(_companion_from_file(beside), f"COMPANION in {beside.name}")
        return replace(found, source=beside.name)
    attribute = getattr(module, "RESCHECK_COMPANION", None)
    if attribute is not None:
        found = validate(attribute, f"RESCHECK_COMPANION in {ref.given}")
        return replace(found, source="RESCHECK_COMPANION")
    return Companion()


def _companion_from_file(path: Path) -> object:
    spec = importlib.util.spec_from_file_location(f"_rescheck_companion_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot load companion {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        raise UsageError(f"loading companion {path} raised {type(exc).__name__}: {exc}") from None
    if not hasattr(module, "COMPANION"):
        raise UsageError(
            f"{path} defines no COMPANION; add for example COMPANION = Companion(properties={{...}})"
        )
    return module.COMPANION


def _startup_failure(target: Target, exc: StartupFailed) -> str:
    event = exc.event
    judged = "; `rescheck run` judges it"
    if event is not None and event.error:
        return f"{target.given}: Startup raised {event.error}{judged} (Startup.returns)"
    raw = event.result if event is not None else None
    if event is None or not event.data.get("shaped"):
        return f"{target.given}: Startup returned {raw!r}; it must return (status, FunctionTable)"
    refused = (
        f"{target.given}: Startup refused resource type {target.resource_type!r} for Resource API "
        f"version 0x{CLRES_VERSION_V1_00:x} with {error_name(raw)}"
    )
    if target.type_named:
        return f"{refused}{judged} (Startup.returns-table)"
    return (
        f"{refused}, a name the DLL does not contain: pass the name of a type it implements, "
        'for example --type-name "My Type", or set Companion(resource_type=...)'
    )


def _judged(target: Target, exc: StartupFailed) -> bool:
    """A failed Startup the suite judges: it raised, or refused a type the DLL names itself."""
    event = exc.event
    if event is None:
        return False
    return bool(event.error) or (bool(event.data.get("shaped")) and target.type_named)


#: The most of a DLL's file searched for its type names.
NAME_SEARCH_BYTES = 64 << 20


def names_type(path: Path, name: str) -> bool:
    """``path`` (a compiled DLL or a Python module) holds ``name`` as a whole string, compared
    without regard to case as Startup should compare it (ST-9): a quoted literal in Python,
    a NUL-delimited string in a DLL (a C ``L"..."`` literal is UTF-16). The evidence that
    the DLL means to implement that type."""
    if not name:
        return False
    try:
        with path.open("rb") as file:
            data = file.read(NAME_SEARCH_BYTES)
    except OSError:
        return False
    wanted = name.casefold()
    forms = (f'"{wanted}"', f"'{wanted}'", f"\x00{wanted}\x00")
    texts = [data.decode("utf-8", "replace")]
    texts += [data[i:].decode("utf-16-le", "replace") for i in (0, 1)]
    return any(form in text.casefold() for text in texts for form in forms)


def preflight(
    target: Target, policy: Policy, host: Host | None = None, judge_startup: bool = False
) -> None:
    """Startup once with the harness's version range and check the table's shape; with
    ``judge_startup``, a Startup that fails as a finding would returns quietly instead."""
    monitor = ResourceMonitor(host or target.new_host(), target.resource_type, policy)
    try:
        monitor.startup()
    except (EntryPointHung, HostCrashed) as exc:
        if not judge_startup:
            raise TargetLoadError(f"{target.given}: {exc}; `rescheck run` judges it") from None
        return  # Startup.returns, Process.survives
    except StartupFailed as exc:
        if exc.cause != "table-version":  # a table out of range is Startup.table-version's
            if not (judge_startup and _judged(target, exc)):
                raise TargetLoadError(_startup_failure(target, exc)) from None
            return
    finally:
        monitor.shutdown()
    shape = monitor.host.table_shape()
    for name, kind in shape.items():
        if kind.startswith("raises:"):
            raise TargetLoadError(
                f"{target.given}: reading the function table's {name} raised "
                f"{kind.removeprefix('raises:')}; make the table's attributes plain values"
            )
    present = [e for e in V1_ENTRY_POINTS if shape.get(e, "absent") != "absent"]
    target.quorum_capable = all(shape.get(e) == "callable" for e in ("Arbitrate", "Release"))
    if shape.get("Version", "absent") == "absent" or not present:
        raise TargetLoadError(
            f"{target.given}: Startup returned {shape['__type__']} as its function table; a "
            "table is an object with Version and the entry points as attributes, for example "
            "conformance.resapi.FunctionTable(Version=CLRES_VERSION_V1_00, Open=Open, ...)"
        )
    for entry in present:
        if shape[entry].startswith("signature:"):
            params = ", ".join(ENTRY_POINT_PARAMETERS[entry])
            raise TargetLoadError(
                f"{target.given}: {entry}{shape[entry].removeprefix('signature:')} cannot take "
                f"the documented parameters; define {entry}({params})"
            )
        if shape[entry].startswith("value:"):
            raise TargetLoadError(
                f"{target.given}: the function table's {entry} is a "
                f"{shape[entry].removeprefix('value:')}, not a function (use None for NULL)"
            )
