"""The one narrow interface between the monitor and a loaded target.

The monitor never touches a target's module or function table: it asks a `Host` to run
Startup and to call entry points by name, and gets a `CallOutcome` back (value or exception,
start and end measured next to the call, the thread). `InProcessHost` runs the target in
this process on a pool of call threads, so a call that never returns costs a thread and not
the run; a host in a separate process can take its place without changing the monitor.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from conformance.monitor.threads import harness_thread
from conformance.resapi import V1_ENTRY_POINTS


@dataclass
class CallOutcome:
    value: Any = None
    error: str | None = None  # "ValueError: ..." when the entry point raised
    error_traceback: str | None = None
    start: float = 0.0  # time.perf_counter() just before the call
    end: float | None = None  # ... just after it; None when it did not return in time
    thread: str = ""

    @property
    def returned(self) -> bool:
        return self.end is not None and self.error is None


class MonitorCallbacks(Protocol):
    """What a target may call back (CONTRACT.md ST-1, RS-1, LG-1)."""

    def SetResourceStatus(self, ResourceHandle: Any, ResourceStatus: Any) -> int: ...

    def LogEvent(
        self, ResourceHandle: Any, LogLevel: Any, FormatString: Any, *args: Any
    ) -> None: ...


class Host(Protocol):
    def startup(
        self,
        ResourceType: str,
        MinVersionSupported: int,
        MaxVersionSupported: int,
        callbacks: MonitorCallbacks,
        timeout: float,
    ) -> CallOutcome: ...

    def table_version(self) -> Any: ...

    def has(self, entry: str) -> bool: ...

    def call(
        self, entry: str, args: tuple[Any, ...], timeout: float, resource: str | None
    ) -> CallOutcome: ...

    def close(self) -> None: ...


# --- which entry point is running on this thread (callbacks are attributed to it) --------------
_context = threading.local()


def current_entry() -> tuple[str, str | None] | None:
    """(entry point, resource name) running on this thread, or None on a target's own thread."""
    return getattr(_context, "value", None)


class _Job:
    __slots__ = ("args", "done", "entry", "fn", "outcome", "resource")

    def __init__(
        self, fn: Callable[..., Any], args: tuple[Any, ...], entry: str, resource: str | None
    ):
        self.fn, self.args, self.entry, self.resource = fn, args, entry, resource
        self.done = threading.Event()
        self.outcome = CallOutcome()

    def run(self) -> None:
        outcome = self.outcome
        outcome.thread = threading.current_thread().name
        _context.value = (self.entry, self.resource)
        try:
            outcome.start = time.perf_counter()
            try:
                outcome.value = self.fn(*self.args)
            finally:
                outcome.end = time.perf_counter()
        except BaseException as exc:  # the target's exception is evidence, not our crash
            outcome.error = f"{type(exc).__name__}: {exc}"[:500]
            outcome.error_traceback = "".join(traceback.format_exception(exc))[-4000:]
        finally:
            _context.value = None
            self.done.set()


class CallRunner:
    """Runs calls on reusable daemon threads and waits for each up to a deadline."""

    _runners = itertools.count(1)

    def __init__(self, name: str = "rhs") -> None:
        self._name = f"{name}{next(self._runners)}"  # thread names unique across monitors
        self._idle: list[queue.SimpleQueue[_Job | None]] = []
        self._lock = threading.Lock()
        self._count = 0
        self._all: list[queue.SimpleQueue[_Job | None]] = []

    def _worker(self, inbox: queue.SimpleQueue[_Job | None]) -> None:
        while True:
            job = inbox.get()
            if job is None:
                return
            job.run()
            with self._lock:
                self._idle.append(inbox)

    def run(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        timeout: float,
        entry: str,
        resource: str | None,
    ) -> CallOutcome:
        job = _Job(fn, args, entry, resource)
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
            if inbox is None:
                self._count += 1
                inbox = queue.SimpleQueue()
                self._all.append(inbox)
                thread = threading.Thread(
                    target=self._worker,
                    args=(inbox,),
                    name=f"{self._name}-{self._count}",
                    daemon=True,
                )
                harness_thread(thread).start()
        inbox.put(job)
        if not job.done.wait(timeout):
            job.outcome.end = None  # still running; the thread stays with the target
            return CallOutcome(start=job.outcome.start, thread=job.outcome.thread)
        return job.outcome

    def close(self) -> None:
        with self._lock:
            for inbox in self._all:
                inbox.put(None)
            self._idle.clear()


class InProcessHost:
    """Hosts a Python resource DLL module (already freshly executed) in this process."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.table: Any = None
        self._runner = CallRunner()

    def startup(
        self,
        ResourceType: str,
        MinVersionSupported: int,
        MaxVersionSupported: int,
        callbacks: MonitorCallbacks,
        timeout: float,
    ) -> CallOutcome:
        startup = self.module.Startup
        args = (
            ResourceType,
            MinVersionSupported,
            MaxVersionSupported,
            callbacks.SetResourceStatus,
            callbacks.LogEvent,
        )
        outcome = self._runner.run(startup, args, timeout, "Startup", None)
        value = outcome.value
        if outcome.returned and isinstance(value, tuple) and len(value) == 2 and value[0] == 0:
            self.table = value[1]
        return outcome

    def table_version(self) -> Any:
        try:
            return getattr(self.table, "Version", None)
        except Exception:  # a property of the target's that raises is no version
            return None

    def has(self, entry: str) -> bool:
        try:
            return entry in V1_ENTRY_POINTS and getattr(self.table, entry, None) is not None
        except Exception:  # ... and no entry point
            return False

    def call(
        self, entry: str, args: tuple[Any, ...], timeout: float, resource: str | None
    ) -> CallOutcome:
        fn = getattr(self.table, entry)
        return self._runner.run(fn, args, timeout, entry, resource)

    def close(self) -> None:
        self._runner.close()
