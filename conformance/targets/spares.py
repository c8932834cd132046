"""A host started ahead of need, for a campaign that uses one fresh host after another.

A fuzzing campaign runs each example on a fresh host (a new process, a fresh load of the
target), as a new Resource Monitor would have. Starting a Python host is about a third of a
realistic example (a process, its imports, the target's module), while most of the example's
time the CPU waits on the target. `Spares` starts the next host while the current example
runs, so that start costs idle CPU instead of the example's time. A spare is the same fresh
host the example would have started: nothing of the target has run in it but its load. One
that is not used is closed with the campaign (DESIGN, principle 9).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor

from conformance.monitor.host import Host


class Spares:
    """One host started ahead, for the next `take` of the same kind (``key``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: tuple[Hashable, Future[Host]] | None = None
        self._starter = ThreadPoolExecutor(1, thread_name_prefix="rescheck-spare-host")
        self._closed = False

    def take(self, key: Hashable, start: Callable[[], Host]) -> Host:
        """A fresh host of kind ``key``: the spare if one of that kind was started (its load
        error, if any, is raised here, as ``start`` would have raised it), else a new one;
        then the next spare is started."""
        with self._lock:
            pending, self._next = self._next, None
        host: Host | None = None
        if pending is not None and pending[0] == key:
            host = pending[1].result()
        elif pending is not None:
            _discard(pending[1])
        if host is None:
            host = start()
        with self._lock:
            if not self._closed:
                self._next = (key, self._starter.submit(start))
        return host

    def close(self) -> None:
        """Close the spare nobody took and end the starter. Idempotent."""
        with self._lock:
            self._closed = True
            pending, self._next = self._next, None
        if pending is not None:
            _discard(pending[1])
        self._starter.shutdown(wait=True)


def _discard(future: Future[Host]) -> None:
    """Close a spare once it has started (one that failed to load left nothing running)."""
    with contextlib.suppress(Exception):
        future.result().close()
