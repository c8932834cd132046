"""Loading a resource type to test: a `Target` makes fresh hosts for the monitor.

`load_target` resolves the target, finds its companion and runs Startup once as a preflight,
so that everything that makes a target unusable is said before the suite starts, in one
line, with exit code 2.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.companion import Companion, validate
from conformance.errors import TargetLoadError, UsageError
from conformance.monitor.host import Host, InProcessHost
from conformance.monitor.monitor import EntryPointHung, ResourceMonitor, StartupFailed
from conformance.monitor.policy import Policy
from conformance.resapi import CLRES_VERSION_V1_00, V1_ENTRY_POINTS, error_name
from conformance.targets.pydll import ModuleRef, load_fresh, resolve


@dataclass
class Target:
    given: str
    kind: str
    resource_type: str
    companion: Companion
    ref: ModuleRef

    def new_host(self) -> Host:
        """A host with a fresh copy of the target, as a new Resource Monitor process has."""
        return InProcessHost(load_fresh(self.ref))

    def sha256(self) -> str:
        return self.ref.sha256()

    def describe(self) -> dict[str, Any]:
        return {
            "target": self.given,
            "kind": self.kind,
            "resource_type": self.resource_type,
            "path": str(self.ref.path),
            "sha256": self.sha256(),
        }


def load_target(
    given: str,
    companion_path: str | None = None,
    type_name: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    policy: Policy | None = None,
) -> Target:
    """Resolve, load and preflight a target; raise `UsageError` for anything unusable."""
    if not given:
        raise UsageError("no resource type given; pass --resource-type MODULE_OR_PATH")
    ref = resolve(given)
    module = load_fresh(ref)
    companion = _find_companion(ref, module, companion_path).with_overrides(overrides or {})
    name = (
        type_name
        or companion.resource_type
        or _declared_type_name(module)
        or ref.name.rpartition(".")[2]
    )
    target = Target(given, "python-dll", name, companion, ref)
    preflight(target, policy or Policy())
    return target


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
        return validate(_companion_from_file(path), f"COMPANION in {companion_path}")
    beside = ref.path.with_name(f"{ref.path.stem}_companion.py")
    if beside.is_file():
        return validate(_companion_from_file(beside), f"COMPANION in {beside.name}")
    attribute = getattr(module, "RESCHECK_COMPANION", None)
    if attribute is not None:
        return validate(attribute, f"RESCHECK_COMPANION in {ref.given}")
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
    if event is not None and event.error:
        return f"{target.given}: Startup raised {event.error}"
    raw = event.result if event is not None else None
    if event is None or not event.data.get("shaped"):
        return f"{target.given}: Startup returned {raw!r}; it must return (status, FunctionTable)"
    return (
        f"{target.given}: Startup refused resource type {target.resource_type!r} for Resource API "
        f"version 0x{CLRES_VERSION_V1_00:x} with {error_name(raw)}; if the DLL expects another "
        "type name, pass --type-name NAME or set Companion(resource_type=...)"
    )


_ABSENT = object()


def _table_attribute(target: Target, table: object, name: str) -> Any:
    try:
        return getattr(table, name)
    except AttributeError:
        return _ABSENT
    except Exception as exc:
        raise TargetLoadError(
            f"{target.given}: reading the function table's {name} raised "
            f"{type(exc).__name__}: {exc}; make the table's attributes plain values"
        ) from None


def preflight(target: Target, policy: Policy) -> None:
    """Startup once with the harness's version range and check the table's shape."""
    monitor = ResourceMonitor(target.new_host(), target.resource_type, policy)
    try:
        monitor.startup()
    except EntryPointHung as exc:
        raise TargetLoadError(f"{target.given}: {exc}") from None
    except StartupFailed as exc:
        if exc.cause != "table-version":  # a table out of range is Startup.table-version's
            raise TargetLoadError(_startup_failure(target, exc)) from None
    finally:
        monitor.shutdown()
    table = monitor.host.table  # type: ignore[attr-defined]
    values = {name: _table_attribute(target, table, name) for name in ("Version", *V1_ENTRY_POINTS)}
    present = [e for e in V1_ENTRY_POINTS if values[e] is not _ABSENT]
    if values["Version"] is _ABSENT or not present:
        raise TargetLoadError(
            f"{target.given}: Startup returned {type(table).__name__} as its function table; a table "
            "is an object with Version and the entry points as attributes, for example "
            "conformance.resapi.FunctionTable(Version=CLRES_VERSION_V1_00, Open=Open, ...)"
        )
    for entry in present:
        value = values[entry]
        if value is not None and not callable(value):
            raise TargetLoadError(
                f"{target.given}: the function table's {entry} is a {type(value).__name__}, "
                "not a function (use None for NULL)"
            )
