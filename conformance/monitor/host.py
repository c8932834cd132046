"""The one narrow interface between the monitor and a loaded target.

The monitor never touches a target's module or function table: it asks a `Host` to run
Startup and to call entry points by name, and gets a `CallOutcome` back (value or exception,
start and end measured next to the call, the thread). `InProcessHost` runs the target in
this process on a pool of call threads, so a call that never returns costs a thread and not
the run; a host in a separate process can take its place without changing the monitor.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from conformance import clusapi
from conformance.clusapi import HKEY
from conformance.companion import Companion, ProbeContext
from conformance.monitor.usage import Usage, settled
from conformance.resapi import ENTRY_POINT_PARAMETERS, V1_ENTRY_POINTS
from conformance.runtime.threads import spawn, stacks, target_threads, thread_local
from conformance.runtime.tracebacks import target_traceback


def error_text(exc: BaseException) -> str:
    """``struct.error: ...``: an exception as evidence, its class named so that the reader
    can find it (a bare ``error`` says little), cut to a bounded length."""
    cls = type(exc)
    module = getattr(cls, "__module__", None)
    name = cls.__qualname__ if module in (None, "builtins") else f"{module}.{cls.__qualname__}"
    return f"{name}: {exc}"[:500]


@dataclass
class CallOutcome:
    value: Any = None
    error: str | None = None  # "ValueError: ..." when the entry point raised
    error_traceback: str | None = None
    start: float = 0.0  # time.perf_counter() just before the call
    end: float | None = None  # ... just after it; None when it did not return in time
    thread: str = ""
    stacks: str | None = None  # the host's threads when the call outlived its deadline
    crashed: str | None = None  # how the host process ended during the call (isolated hosting)

    @property
    def returned(self) -> bool:
        return self.end is not None and self.error is None


class MonitorCallbacks(Protocol):
    """What a target may call back (docs/contract.md ST-1, RS-1, LG-1)."""

    def SetResourceStatus(self, ResourceHandle: Any, ResourceStatus: Any) -> int: ...

    def LogEvent(
        self, ResourceHandle: Any, LogLevel: Any, FormatString: Any, *args: Any
    ) -> None: ...

    def log_event(
        self, ResourceHandle: Any, LogLevel: Any, FormatString: Any, message: str, length: int
    ) -> None:
        """A LogEvent whose message the host formatted (`conformance.logformat`): the text,
        bounded, and its full length."""

    def host_exited(self, how: str, output: str) -> None:
        """The host process ended outside any call (isolated hosting): the target killed it."""

    def thread_raised(self, thread: str, error: str, traceback_text: str) -> None:
        """An exception escaped a thread of the target (isolated hosting)."""

    def LostQuorumResource(self, ResourceHandle: Any) -> None:
        """PQUORUM_RESOURCE_LOST (AR-6): handed to Arbitrate as a `QuorumLost`."""

    #: The cluster database's root that OpenCluster gives the DLL (None: no cluster)
    cluster_root: HKEY | None


class QuorumLost:
    """The LostQuorumResource routine a monitor hands to Arbitrate: a DLL calls it with its
    ResourceHandle once it has lost the quorum it won (AR-6). A class of its own, so that an
    isolated host can send it across as a routine of the harness's."""

    def __init__(self, callback: Callable[[Any], None]) -> None:
        self._callback = callback

    def __call__(self, ResourceHandle: Any) -> None:
        self._callback(ResourceHandle)

    def __repr__(self) -> str:
        return "PQUORUM_RESOURCE_LOST"


class Host(Protocol):
    #: perf_counter() just before and just after the target's module was executed
    loaded: tuple[float, float]

    def startup(
        self,
        ResourceType: str,
        MinVersionSupported: int,
        MaxVersionSupported: int,
        callbacks: MonitorCallbacks,
        timeout: float,
    ) -> CallOutcome: ...

    def table_version(self) -> Any: ...

    def table_size(self) -> int | None:
        """The table's TableSize, for a compiled DLL's table; None for a Python table (it
        has none)."""

    def table_shape(self) -> dict[str, str]:
        """For Version and each entry point of the table Startup returned: ``absent``,
        ``none``, ``callable``, ``value:<type>`` or ``raises:<error>``; ``__type__`` is the
        table's type name."""

    def has(self, entry: str) -> bool: ...

    def call(
        self, entry: str, args: tuple[Any, ...], timeout: float, resource: str | None
    ) -> CallOutcome: ...

    # --- what the target holds, for the audits (TE-2, RS-2, CL-4) ---------------------------
    def thread_baseline(self) -> Any:
        """An opaque token: the threads running now."""

    def lingering(self, baseline: Any) -> list[str]:
        """Evidence lines (name and stack) for each target thread started since ``baseline``."""

    def usage(self, baseline: Any, level: Usage | None) -> Usage:
        """Threads since ``baseline``, open fds and live children, settled towards ``level``."""

    def properties_for(self, resource_name: str) -> dict[str, Any]:
        """The companion's private property values for an instance, from where it lives."""

    def companion(self, kind: str, context: ProbeContext) -> Any:
        """Run the companion's ``probe`` or ``breaker`` where the target lives."""

    def close(self) -> None: ...


# --- which entry point is running on this thread (callbacks are attributed to it) --------------
_context = thread_local()


def current_entry() -> tuple[str, str | None] | None:
    """(entry point, resource name) running on this thread, or None on a target's own thread."""
    return getattr(_context, "value", None)


class CallJob:
    """One call of an entry point, timed next to the call, on whatever thread runs it."""

    __slots__ = ("args", "done", "entry", "fn", "on_done", "outcome", "resource")

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        entry: str,
        resource: str | None,
        on_done: Callable[[CallOutcome], None] | None = None,
    ):
        self.fn, self.args, self.entry, self.resource = fn, args, entry, resource
        self.on_done = on_done
        #: Held until the call has ended: a bare lock is the cheapest hand-off there is
        #: (an Event costs a Condition and a second lock per wait).
        self.done = threading.Lock()
        self.done.acquire()
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
            outcome.error = error_text(exc)
            outcome.error_traceback = target_traceback(exc) or None
        finally:
            _context.value = None
            if self.on_done is not None:
                try:
                    self.on_done(outcome)
                except Exception as exc:  # the call thread must live on to serve others
                    fallback = CallOutcome(
                        start=outcome.start,
                        end=outcome.end,
                        thread=outcome.thread,
                        error=f"its result could not be reported: {type(exc).__name__}: {exc}"[
                            :500
                        ],
                    )
                    with contextlib.suppress(Exception):
                        self.on_done(fallback)


class CallRunner:
    """Runs calls on call threads of its own (harness threads it keeps until `close`) and
    waits for each up to a deadline."""

    _runners = itertools.count(1)

    def __init__(self, name: str = "rhs") -> None:
        self._name = f"{name}{next(self._runners)}"  # thread names unique across monitors
        self._idle: list[queue.SimpleQueue[CallJob | None]] = []
        self._lock = threading.Lock()
        self._count = 0
        self._all: list[queue.SimpleQueue[CallJob | None]] = []

    def _worker(self, inbox: queue.SimpleQueue[CallJob | None]) -> None:
        while True:
            job = inbox.get()
            if job is None:
                return  # the runner is closed: the thread goes back to the harness's pool
            job.run()
            with self._lock:  # idle again before `run`'s caller wakes: its next call finds it
                self._idle.append(inbox)
            job.done.release()
            del job

    def submit(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        entry: str,
        resource: str | None,
        on_done: Callable[[CallOutcome], None] | None = None,
    ) -> CallJob:
        """Start the call on an idle (or new) call thread and return at once."""
        job = CallJob(fn, args, entry, resource, on_done)
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
            if inbox is None:
                self._count += 1
                inbox = queue.SimpleQueue()
                self._all.append(inbox)
                spawn(self._worker, (inbox,), f"{self._name}-{self._count}")
        inbox.put(job)
        return job

    def run(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        timeout: float,
        entry: str,
        resource: str | None,
    ) -> CallOutcome:
        job = self.submit(fn, args, entry, resource)
        if not job.done.acquire(timeout=min(max(timeout, 0.0), threading.TIMEOUT_MAX)):
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

    def __init__(
        self,
        module: ModuleType,
        loaded: tuple[float, float] = (0.0, 0.0),
        companion: Companion | None = None,
    ) -> None:
        self.module = module
        self.loaded = loaded
        self.table: Any = None
        self._companion = companion or Companion()
        self._runner = CallRunner()
        self._root: HKEY | None = None

    def startup(
        self,
        ResourceType: str,
        MinVersionSupported: int,
        MaxVersionSupported: int,
        callbacks: MonitorCallbacks,
        timeout: float,
    ) -> CallOutcome:
        self._root = callbacks.cluster_root
        clusapi._connect(self._root)
        startup = self.module.Startup
        args = (
            ResourceType,
            MinVersionSupported,
            MaxVersionSupported,
            callbacks.SetResourceStatus,
            callbacks.LogEvent,
        )
        outcome = self._runner.run(startup, args, timeout, "Startup", None)
        self.table = startup_table(outcome)
        return outcome

    def table_version(self) -> Any:
        try:
            return getattr(self.table, "Version", None)
        except Exception:  # a property of the target's that raises is no version
            return None

    def table_size(self) -> int | None:
        return None

    def table_shape(self) -> dict[str, str]:
        return table_shape(self.table)

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

    def thread_baseline(self) -> Any:
        return set(threading.enumerate())

    def lingering(self, baseline: Any) -> list[str]:
        return stacks(target_threads(baseline))

    def usage(self, baseline: Any, level: Usage | None) -> Usage:
        return settled(baseline, level)

    def properties_for(self, resource_name: str) -> dict[str, Any]:
        return self._companion.properties_for(resource_name)

    def companion(self, kind: str, context: ProbeContext) -> Any:
        routine = getattr(self._companion, kind)
        return routine(context)

    def close(self) -> None:
        clusapi._disconnect(self._root)
        self._runner.close()


def startup_table(outcome: CallOutcome) -> Any:
    """The function table out of Startup's ``(status, table)``, when it returned success."""
    value = outcome.value
    if outcome.returned and isinstance(value, tuple) and len(value) == 2 and value[0] == 0:
        return value[1]
    return None


def table_shape(table: Any) -> dict[str, str]:
    shape: dict[str, str] = {"__type__": type(table).__name__}
    for name in ("Version", *V1_ENTRY_POINTS):
        try:
            value = getattr(table, name)
        except AttributeError:
            shape[name] = "absent"
            continue
        except Exception as exc:
            shape[name] = f"raises:{type(exc).__name__}: {exc}"
            continue
        if value is None:
            shape[name] = "none"
        elif callable(value) and name != "Version":
            shape[name] = "callable" if _takes(value, name) else f"signature:{_signature(value)}"
        else:
            shape[name] = f"value:{type(value).__name__}"
    return shape


def _takes(fn: Any, entry: str) -> bool:
    """``fn`` can be called with the entry point's documented parameters, by position."""
    try:
        inspect.signature(fn).bind(*ENTRY_POINT_PARAMETERS[entry])
    except TypeError:
        return False
    except ValueError:
        return True  # no signature to read (a builtin): let the call decide
    return True


def _signature(fn: Any) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(...)"
