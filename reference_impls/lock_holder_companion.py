"""The companion of ``lock_holder.py``: what an instance needs, what the type claims, and how
to probe and break the real lock (docs/design.md, "How a target tells the harness what it needs").
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re

from conformance.companion import Companion, ProbeContext, scratch_dir
from reference_impls._lock_entity import is_locked, ping
from reference_impls.process_app_companion import free_port

#: How long the probe waits for PONG; generous, since the probe judges and is not judged.
PROBE_SECONDS = 0.5

#: One folder per run for the lock files (the DLL deletes each file when it lets go of it).
LOCK_DIR = scratch_dir("lock-holder-")
_serial = itertools.count(1)


def properties(resource_name: str) -> dict[str, int | str]:
    """Each instance gets its own port and lock file, so instances (and parallel runs) never
    collide; a number keeps paths unique when a name is opened again."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", resource_name)[:64]
    return {"LockPath": str(LOCK_DIR / f"{stem}-{next(_serial)}.lock"), "Port": free_port()}


def probe(ctx: ProbeContext) -> bool:
    """Is the lock held? Something answers PING with PONG on the instance's port, and the
    lock file exists with a holder's flock on it."""
    return ping(int(ctx.properties["Port"]), PROBE_SECONDS) and is_locked(
        str(ctx.properties["LockPath"])
    )


def breaker(ctx: ProbeContext) -> None:
    """Delete the lock file under the holder, so its watcher signals the failure event and
    IsAlive says FALSE (AF-1, IA-4)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(str(ctx.properties["LockPath"]))


COMPANION = Companion(
    resource_type="Lock Holder",
    properties=properties,
    features=frozenset({"pending", "async-failure"}),
    probe=probe,
    breaker=breaker,
)
