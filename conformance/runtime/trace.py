"""The trace: everything observable between the monitor and a target, in order.

Checks are predicates over traces (docs/design.md principle 2); reports show the excerpt of the
trace that broke a rule. Events carry a monotonic start/end, the thread, and the entry point
that was running on that thread when a callback arrived (``context``; ``None`` means a thread
of the target's own, a worker).
"""

from __future__ import annotations

import itertools
import reprlib
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from enum import IntEnum
from typing import Any

from conformance.runtime.threads import thread_local
from conformance.runtime.tracebacks import raised_at

#: How many characters of one argument or result are kept: a target may return anything.
REPR_LIMIT = 200

CALL = "call"  # an entry point called by the monitor
CALLBACK = "callback"  # a call from the target into the monitor (SetResourceStatus, LogEvent, ...)
MONITOR = "monitor"  # something the monitor itself decided (state change, timeout, ...)
#: Data of many lines, shown as evidence blocks rather than in an event's one-line description.
MULTILINE = frozenset({"traceback", "output", "stacks"})


#: Bounded reprs: a target may return a huge nested tuple or an int of 10**5000 digits.
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = REPR_LIMIT
_REPR.maxlong = 60
_REPR.maxlevel = 3


def short_repr(value: Any) -> str:
    if type(value).__module__ == "conformance.resapi" and isinstance(value, IntEnum):
        return f"{value.name}({int(value)})"
    if type(value) is int and value.bit_length() > 1000:
        return f"<an int of {value.bit_length()} bits>"
    try:
        text = _REPR.repr(value)
    except Exception as exc:  # a hostile __repr__, or an int too long to print
        text = f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 3] + "..."


@dataclass
class TraceEvent:
    seq: int
    kind: str
    name: str
    start: float
    end: float | None = None
    resource: str | None = None
    thread: str = ""
    context: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        return None if self.end is None else self.end - self.start

    def to_json(self) -> dict[str, Any]:
        # field by field: asdict would deep-copy what a target passed (locks, sockets, ...)
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["args"] = {k: short_repr(v) for k, v in self.args.items()}
        out["result"] = self.result if _plain(self.result) else short_repr(self.result)
        out["data"] = {k: (v if _plain(v) else short_repr(v)) for k, v in self.data.items()}
        return out

    @property
    def raised_at(self) -> str:
        """`` (at my_dll.py:42 in Terminate)``: where the target raised, for a message; empty
        when the traceback holds no frame of the target."""
        where = raised_at(str(self.data.get("traceback") or ""))
        return f" (at {where})" if where else ""

    @property
    def cut_short(self) -> bool:
        """The call ended with its host process, or because rescheck stopped the run: its
        outcome is not the entry point's to answer for."""
        return "crashed" in self.data or "abandoned" in self.data

    def describe(self) -> str:
        """One line, the way a trace excerpt in a report shows it."""
        where = f" [{self.resource}]" if self.resource else ""
        ctx = "" if self.kind == MONITOR else f" from {self.context or 'worker thread'}"
        args = ", ".join(f"{k}={short_repr(v)}" for k, v in self.args.items())
        if self.kind == CALL:
            took = "" if self.duration is None else f" in {self.duration * 1000:.1f} ms"
            if self.error:
                outcome = f" raised {self.error}"
            elif self.end is None:
                outcome = " did not return"
            else:
                outcome = f" -> {short_repr(self.result)}"
            return f"{self.thread}: {self.name}({args}){outcome}{took}{where}"
        if self.kind == CALLBACK:
            result = "" if self.result is None else f" -> {short_repr(self.result)}"
            return f"{self.thread}: callback {self.name}({args}){result}{ctx}{where}"
        extra = ", ".join(
            f"{k}={short_repr(v)}" for k, v in self.data.items() if k not in MULTILINE
        )
        return f"monitor: {self.name}{' ' + extra if extra else ''}{where}"


def _plain(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**63) <= value < 2**64  # JSON and reports cope; a huge int is shown as text
    return value is None or isinstance(value, (bool, float, str))


#: Callbacks of one name a trace keeps (LogEvent, SetResourceStatus, ...); the rest are counted.
CALLBACK_LIMIT = 5_000

#: When set on a thread, the perf_counter() at which the target made the callback this thread
#: is answering (isolated hosting: it was made in the host process, a moment ago).
made_at = thread_local()


class Trace:
    """A thread-safe, append-only list of events on one monotonic clock."""

    def __init__(self) -> None:
        self.origin = time.perf_counter()
        self._events: list[TraceEvent] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._callbacks: dict[str, int] = {}

    def now(self) -> float:
        at = getattr(made_at, "value", None)  # a callback that crossed from a host process
        return (time.perf_counter() if at is None else at) - self.origin

    def add(self, kind: str, name: str, **fields: Any) -> TraceEvent:
        """Record an event. Past CALLBACK_LIMIT callbacks of one name, a callback is still
        returned (the monitor answers it as always) but no longer kept: memory stays bounded
        whatever a target floods the monitor with."""
        fields.setdefault("start", self.now())
        fields.setdefault("thread", threading.current_thread().name)
        with self._lock:
            event = TraceEvent(next(self._seq), kind, name, **fields)
            if kind == CALLBACK:
                count = self._callbacks[name] = self._callbacks.get(name, 0) + 1
                if count > CALLBACK_LIMIT:
                    if count == CALLBACK_LIMIT + 1:
                        self._events.append(
                            TraceEvent(
                                next(self._seq),
                                MONITOR,
                                "callbacks no longer recorded",
                                start=event.start,
                                end=event.start,
                                data={"callback": name, "recorded": CALLBACK_LIMIT},
                            )
                        )
                    return event
            self._events.append(event)
        return event

    def dropped(self) -> dict[str, int]:
        """Callbacks answered but not kept, by name."""
        with self._lock:
            return {n: c - CALLBACK_LIMIT for n, c in self._callbacks.items() if c > CALLBACK_LIMIT}

    def instant(self, kind: str, name: str, **fields: Any) -> TraceEvent:
        """An event that ends as it starts (a callback the monitor answers at once)."""
        now = self.now()
        return self.add(kind, name, start=now, end=now, **fields)

    def monitor(self, name: str, resource: str | None = None, **data: Any) -> TraceEvent:
        return self.instant(MONITOR, name, resource=resource, data=data)

    def __iter__(self) -> Iterator[TraceEvent]:
        with self._lock:
            return iter(list(self._events))

    def __len__(self) -> int:
        return len(self._events)

    def calls(self, name: str | None = None) -> list[TraceEvent]:
        return [e for e in self if e.kind == CALL and (name is None or e.name == name)]

    def callbacks(self, name: str | None = None) -> list[TraceEvent]:
        return [e for e in self if e.kind == CALLBACK and (name is None or e.name == name)]

    def excerpt(self, focus: Iterable[TraceEvent], context: int = 3) -> list[str]:
        """The lines around the focus events, each marked ``>>`` where it is a focus event."""
        events = sorted(self, key=lambda e: (e.start, e.seq))  # a host's clock may come late
        marked = {e.seq for e in focus}
        if not marked:
            return []
        positions = [i for i, e in enumerate(events) if e.seq in marked]
        keep: set[int] = set()
        for i in positions:
            keep.update(range(max(0, i - context), min(len(events), i + context + 1)))
        lines: list[str] = []
        previous = -1
        for i in sorted(keep):
            if previous >= 0 and i != previous + 1:
                lines.append("   ...")
            event = events[i]
            mark = ">>" if event.seq in marked else "  "
            lines.append(f"{mark} {event.start * 1000:9.1f} ms  {event.describe()}")
            previous = i
        return lines
