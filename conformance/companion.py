"""What a target tells the harness about itself: its *companion*.

A companion declares the private property values an instance needs to come online (like
ocf-tester's ``-o name=value``), the features the type claims, and optionally how to *probe*
the real entity (is it running?) and how to *break* it (so IsAlive must notice). Checks that
need a probe are skipped with that reason when there is none, never passed.

Where the harness looks, first match wins:

1. ``--companion path/to/file.py`` (a module defining ``COMPANION``);
2. ``<target stem>_companion.py`` next to the target file, defining ``COMPANION``;
3. a ``RESCHECK_COMPANION`` attribute of a Python resource DLL module.

For a control script, ``<script stem>_companion.py`` beside the script; it may also say what
the script's commands do and supply stand-ins for COM objects (``commands``, ``objects``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from conformance.rundir import run_dir

#: What `Companion.commands` answers to have a script's command run for real.
RUN = "run"
#: Features a companion may claim; the harness refuses others so typos do not pass silently.
KNOWN_FEATURES = frozenset(
    {"pending", "quorum", "private-properties", "control-codes", "async-failure"}
)


def scratch_dir(prefix: str) -> Path:
    """A new directory for a companion's own files (witnesses, lock files, markers), removed
    with the run, also when the run was killed (`conformance.rundir`): a directory of
    ``tempfile.mkdtemp`` would outlive the run wherever the companion is loaded."""
    return run_dir().mkdtemp(prefix)


@dataclass(frozen=True)
class ProbeContext:
    """What a probe or breaker is told about the instance it looks at."""

    resource_name: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Companion:
    resource_type: str | None = None
    properties: Mapping[str, Any] | Callable[[str], Mapping[str, Any]] = field(default_factory=dict)
    features: frozenset[str] = frozenset()
    probe: Callable[[ProbeContext], bool] | None = None
    breaker: Callable[[ProbeContext], None] | None = None
    #: Control scripts: what ``WScript.Shell``'s Run and Exec do with a command line. Without
    #: it nothing runs and Run answers 0; the callable answers an exit code, or (exit code,
    #: what it printed) for Exec (nothing runs), or `RUN` to run the command for real, in the
    #: script's sandbox directory.
    commands: Callable[[str], int | tuple[int, str] | str] | None = None
    #: Control scripts: stand-ins for COM objects rescheck does not provide, by ProgID or
    #: moniker prefix (case-insensitive), each a factory of the object.
    objects: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    #: Where the harness found it (a file name, or ``RESCHECK_COMPANION``); None when it
    #: found none: then the run says so, not only that checks could not see the entity.
    source: str | None = None

    def properties_for(self, resource_name: str) -> dict[str, Any]:
        """Private property values for one instance (a callable may give each its own port)."""
        props = self.properties(resource_name) if callable(self.properties) else self.properties
        return dict(props)

    def no_probe(self, target: str) -> str:
        """Why checks that look at the entity cannot: no probe, or no companion at all."""
        if self.source is None:
            return (
                f"no companion found for {target} (rescheck looks for <stem>_companion.py "
                "beside it, or --companion FILE): nothing tells rescheck how to see the entity"
            )
        return f"the companion ({self.source}) gives no probe of the real entity"

    def with_overrides(self, overrides: Mapping[str, Any]) -> Companion:
        """The same companion with ``-o NAME=VALUE`` values laid over its properties."""
        if not overrides:
            return self
        base = self.properties
        extra = dict(overrides)

        def merged(name: str) -> Mapping[str, Any]:
            props = base(name) if callable(base) else base
            return {**props, **extra}

        return replace(self, properties=merged)


def validate(companion: object, where: str) -> Companion:
    """Refuse a companion that is not one, naming what to change."""
    from conformance.errors import UsageError

    if not isinstance(companion, Companion):
        raise UsageError(
            f"{where} must be a conformance.Companion, not {type(companion).__name__}; "
            "for example: COMPANION = Companion(properties={'Port': 8080})"
        )
    unknown = set(companion.features) - KNOWN_FEATURES
    if unknown:
        raise UsageError(
            f"{where} claims unknown features {sorted(unknown)}; "
            f"known features are {sorted(KNOWN_FEATURES)}"
        )
    return companion
