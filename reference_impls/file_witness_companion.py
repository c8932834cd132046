"""Companion of the File Witness type: each resource's witness directory lives in a private
temporary directory (every node of a resource gets the same one); the probe says whether a
node of the cluster holds an unexpired lease, the breaker has an intruder (a system outside
the cluster) take the lease over for a few seconds."""

from __future__ import annotations

import os
import time
from pathlib import Path

from conformance import Companion, ProbeContext, scratch_dir

WITNESSES = scratch_dir("witness-")
INTRUDER = "intruder"
#: How long the intruder keeps the witness.
INTRUDER_S = 5.0


def witness(resource_name: str) -> Path:
    return WITNESSES / resource_name


def _path(context: ProbeContext) -> Path:
    """The witness the instance uses: its property (every node of a resource shares the
    resource's key, so all of them use the same directory)."""
    given = context.properties.get("WitnessPath")
    return Path(str(given)) if given else witness(context.resource_name)


def _current(path: Path) -> tuple[int, str | None]:
    tokens = [int(p.name[6:]) for p in path.glob("lease.*") if p.name[6:].isdigit()]
    if not tokens:
        return 0, None
    try:
        return max(tokens), (path / f"lease.{max(tokens)}").read_text("utf-8")
    except OSError:
        return max(tokens), None


def probe(context: ProbeContext) -> bool:
    """The entity runs while a node of the cluster holds the current lease, unexpired and
    not released (the type's own reading of its medium)."""
    path = _path(context)
    token, owner = _current(path)
    if token == 0 or owner in (None, INTRUDER) or (path / f"free.{token}").exists():
        return False
    lease_ms = int(context.properties.get("LeaseMs") or 1000)
    touched = [
        p.stat().st_mtime for p in (path / f"lease.{token}", path / f"beat.{token}") if p.exists()
    ]
    return bool(touched) and max(touched) >= time.time() - lease_ms / 1000


def breaker(context: ProbeContext) -> None:
    """Another system takes the witness (as after a partition): it writes the next lease and
    keeps it fresh for INTRUDER_S; the owner must notice."""
    path = _path(context)
    path.mkdir(parents=True, exist_ok=True)
    token, _ = _current(path)
    (path / f"lease.{token + 1}").write_text(INTRUDER, "utf-8")
    later = time.time() + INTRUDER_S
    (path / f"beat.{token + 1}").touch()
    os.utime(path / f"beat.{token + 1}", (later, later))


COMPANION = Companion(
    properties=lambda name: {"WitnessPath": str(witness(name))},
    features=frozenset({"quorum"}),
    probe=probe,
    breaker=breaker,
)
