"""A scripted fake resource DLL for testing the reference monitor on its own.

Pacemaker tests its executor with the ``Dummy`` agent; this is our ``Dummy``. Every entry
point does what the test scripted for it (a constant, or a callable that may sleep, block on
an Event, report through SetResourceStatus, start a worker ...) and every call is recorded
with its thread and ``time.perf_counter()`` start and end, measured inside the DLL, so a test
can check orderings and overlaps independently of the monitor's own trace.

Usage::

    dll = ScriptedDLL(Online=ERROR_IO_PENDING, LooksAlive=False)
    dll.script("IsAlive", lambda dll, resid: False)
    host = InProcessHost(dll.module())
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from conformance.resapi import (
    CLRES_VERSION_V1_00,
    ERROR_INVALID_FUNCTION,
    ERROR_SUCCESS,
    RESOURCE_STATUS,
    V1_ENTRY_POINTS,
    FunctionTable,
)

#: How long any helper waits for a condition before it gives up (a busy machine is slow).
DEFAULT_WAIT = 5.0


@dataclass
class Call:
    """One call of an entry point, as the DLL itself saw it."""

    name: str
    args: tuple[Any, ...]
    thread_id: int
    thread_name: str
    start: float
    end: float | None = None
    result: Any = None
    error: BaseException | None = None

    def overlaps(self, other: Call) -> bool:
        """True when the two calls ran at the same time (an unfinished call runs forever)."""
        a_end = self.end if self.end is not None else float("inf")
        b_end = other.end if other.end is not None else float("inf")
        return self.start < b_end and other.start < a_end


@dataclass
class Report:
    """One SetResourceStatus call made through `ScriptedDLL.report`, with its answer;
    ``at`` is the perf_counter just before the call."""

    state: int
    checkpoint: int
    thread_name: str
    answer: Any
    at: float


def _default_open(dll: ScriptedDLL, name: str, key: Any, handle: Any) -> Any:
    dll.handles[name] = handle
    dll.keys[name] = key
    return f"resid:{name}"


DEFAULT_BEHAVIOUR: dict[str, Any] = {
    "Open": _default_open,
    "Close": None,
    "Online": ERROR_SUCCESS,
    "Offline": ERROR_SUCCESS,
    "Terminate": None,
    "LooksAlive": True,
    "IsAlive": True,
    "Arbitrate": ERROR_SUCCESS,
    "Release": ERROR_SUCCESS,
    "ResourceControl": (ERROR_INVALID_FUNCTION, 0),
    "ResourceTypeControl": (ERROR_INVALID_FUNCTION, 0),
}


class ScriptedDLL:
    """A resource DLL (duck-typed function table) whose entry points follow a script.

    A behaviour is either a value (returned as is) or a callable
    ``behaviour(dll, *entry_point_args)``. ``Startup`` may be scripted too; by default it
    returns ``(ERROR_SUCCESS, table)``. Entry points named in ``null`` are NULL (None) in the
    table.
    """

    def __init__(
        self,
        null: Iterable[str] = ("Arbitrate", "Release"),  # not quorum-capable unless asked
        version: int = CLRES_VERSION_V1_00,
        **script: Any,
    ):
        unknown = set(script) - set(DEFAULT_BEHAVIOUR) - {"Startup"}
        if unknown:
            raise TypeError(f"not an entry point: {sorted(unknown)}")
        self.behaviour: dict[str, Any] = {**DEFAULT_BEHAVIOUR, **script}
        self.null = set(null)
        self.version = version
        self.calls: list[Call] = []
        self.reports: list[Report] = []
        self.handles: dict[str, Any] = {}
        self.keys: dict[str, Any] = {}
        self.SetResourceStatus: Callable[..., Any] | None = None
        self.LogEvent: Callable[..., Any] | None = None
        self.workers: list[threading.Thread] = []
        #: Set by `release_all`; every `block` returns when it is set (test teardown).
        self.released = threading.Event()
        self._cond = threading.Condition()

    # --- the module the host loads ---------------------------------------------------------
    def module(self) -> SimpleNamespace:
        return SimpleNamespace(Startup=self.Startup)

    def table(self) -> FunctionTable:
        entries = {
            name: (None if name in self.null else self._entry(name)) for name in V1_ENTRY_POINTS
        }
        return FunctionTable(Version=self.version, **entries)

    def script(self, entry: str, behaviour: Any) -> None:
        """Change what an entry point does from now on."""
        if entry not in self.behaviour:
            raise TypeError(f"not an entry point: {entry}")
        self.behaviour[entry] = behaviour

    def Startup(
        self,
        ResourceType: str,
        MinVersionSupported: int,
        MaxVersionSupported: int,
        SetResourceStatus: Callable[..., Any],
        LogEvent: Callable[..., Any],
    ) -> Any:
        self.SetResourceStatus = SetResourceStatus
        self.LogEvent = LogEvent
        args = (ResourceType, MinVersionSupported, MaxVersionSupported, SetResourceStatus, LogEvent)
        behaviour = self.behaviour.get("Startup")
        if behaviour is None:
            return self._record("Startup", args, lambda *_: (ERROR_SUCCESS, self.table()))
        return self._record("Startup", args, behaviour)

    def _entry(self, name: str) -> Callable[..., Any]:
        def entry_point(*args: Any) -> Any:
            return self._record(name, args, self.behaviour[name])

        entry_point.__name__ = entry_point.__qualname__ = f"Scripted{name}"
        return entry_point

    def _record(self, name: str, args: tuple[Any, ...], behaviour: Any) -> Any:
        thread = threading.current_thread()
        call = Call(name, args, threading.get_ident(), thread.name, time.perf_counter())
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()
        try:
            result = behaviour(self, *args) if callable(behaviour) else behaviour
            call.result = result
            return result
        except BaseException as exc:
            call.error = exc
            raise
        finally:
            call.end = time.perf_counter()
            with self._cond:
                self._cond.notify_all()

    # --- what a test asks of the DLL --------------------------------------------------------
    def calls_of(self, *names: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if not names or c.name in names]

    def wait_until(self, predicate: Callable[[], bool], timeout: float = DEFAULT_WAIT) -> bool:
        """Wait (on the DLL's own call/report notifications, and at least every 10 ms)."""
        deadline = time.perf_counter() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.perf_counter()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.01))
        return True

    def wait_calls(
        self, name: str, count: int = 1, finished: bool = False, timeout: float = DEFAULT_WAIT
    ) -> list[Call]:
        """The first ``count`` calls of ``name`` (finished ones if asked); [] on timeout."""

        def enough() -> bool:
            found = [c for c in self.calls if c.name == name]
            if finished:
                found = [c for c in found if c.end is not None]
            return len(found) >= count

        if not self.wait_until(enough, timeout):
            return []
        found = self.calls_of(name)
        return [c for c in found if c.end is not None][:count] if finished else found[:count]

    def report(self, name: str, state: int, checkpoint: int = 0, event_handle: Any = None) -> Any:
        """Call SetResourceStatus for resource ``name`` (from whatever thread calls this)."""
        assert self.SetResourceStatus is not None, "Startup has not run"
        status = RESOURCE_STATUS(state, checkpoint, 0, event_handle)
        at = time.perf_counter()
        answer = self.SetResourceStatus(self.handles[name], status)
        with self._cond:
            self.reports.append(
                Report(state, checkpoint, threading.current_thread().name, answer, at)
            )
            self._cond.notify_all()
        return answer

    def spawn(
        self, target: Callable[..., Any], *args: Any, name: str = "dll-worker"
    ) -> threading.Thread:
        """Start a worker thread of the DLL's own (as ClusWorkerCreate would)."""
        worker = threading.Thread(target=target, args=args, name=name, daemon=True)
        self.workers.append(worker)
        worker.start()
        return worker

    def block(self, event: threading.Event, timeout: float = 30.0) -> None:
        """Wait for ``event`` (or for teardown's `release_all`), never longer than ``timeout``."""
        deadline = time.perf_counter() + timeout
        while not event.is_set() and not self.released.is_set():
            if time.perf_counter() >= deadline:
                return
            event.wait(0.01)

    def release_all(self, join: float = 2.0) -> None:
        """Teardown: let every blocked behaviour return and give workers a moment to end."""
        self.released.set()
        for worker in self.workers:
            worker.join(join)
