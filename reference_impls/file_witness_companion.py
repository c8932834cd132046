"""Companion of the File Witness type: each resource's witness directory lives in a private
temporary directory (every node of a resource gets the same one); the probe says whether a
node of the cluster holds an unexpired lease, the breaker has an intruder (a system outside
the cluster) take the lease over for a few seconds, under the witness's own lock."""

from __future__ import annotations

import fcntl
import json
import tempfile
import time
from pathlib import Path

from conformance import Companion, ProbeContext

WITNESSES = Path(tempfile.mkdtemp(prefix="rescheck-witness-"))
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


def probe(context: ProbeContext) -> bool:
    """The entity runs while some node holds an unexpired lease."""
    try:
        lease = json.loads((_path(context) / "lease").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    owner = lease.get("owner")
    return owner not in (None, INTRUDER) and lease.get("expires", 0) > time.time()


def breaker(context: ProbeContext) -> None:
    """Another system takes the witness (as after a partition): the owner must notice."""
    path = _path(context)
    path.mkdir(parents=True, exist_ok=True)
    intruder = {"owner": INTRUDER, "token": 1 << 30, "expires": time.time() + INTRUDER_S}
    with open(path / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        (path / "lease").write_text(json.dumps(intruder), "utf-8")


COMPANION = Companion(
    properties=lambda name: {"WitnessPath": str(witness(name))},
    features=frozenset({"quorum"}),
    probe=probe,
    breaker=breaker,
)
