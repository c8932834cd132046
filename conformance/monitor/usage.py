"""What a target holds in the process that hosts it: threads, file descriptors, children.

The leak audit (CL-4) compares these after repeated Open/Online/Offline/Close cycles; Linux's
/proc is the source, so the figures are exact and cost no dependency.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path

from conformance.runtime.threads import target_threads

#: How long a measurement waits for threads and processes that are on their way out.
SETTLE_S = 0.5


@dataclass(frozen=True)
class Usage:
    threads: int
    fds: int
    children: int

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    def within(self, level: Usage) -> bool:
        return all(getattr(self, k) <= getattr(level, k) for k in ("threads", "fds", "children"))


def _children() -> int:
    """Live (not zombie) child processes of this process."""
    pids: set[str] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            pids.update((task / "children").read_text().split())
        except OSError:
            continue
    live = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[-1].split()[0] != "Z":
            live += 1
    return live


def measure(baseline: Collection[threading.Thread]) -> Usage:
    return Usage(len(target_threads(baseline)), len(os.listdir("/proc/self/fd")), _children())


def settled(baseline: Collection[threading.Thread], level: Usage | None) -> Usage:
    """A measurement, taken again for up to SETTLE_S until it is back within ``level``."""
    deadline = time.perf_counter() + SETTLE_S
    usage = measure(baseline)
    while level is not None and not usage.within(level) and time.perf_counter() < deadline:
        time.sleep(0.02)
        usage = measure(baseline)
    return usage
