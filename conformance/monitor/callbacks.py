"""Callbacks from a host, answered in the order the target made them.

Each thread of the target gets a proxy: a harness thread that answers that thread's callbacks
in order, under its name. An answer to one of the monitor's requests is delivered only once
every callback the host sent before it has been answered, so a LogEvent made before Close
came back is seen while the instance is still open, as in-process. What waits here is
bounded: a host that floods is made to wait (its channel is not read) until the monitor
catches up.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any

from conformance.runtime.threads import harness_thread

#: A proxy with nothing to do for this long ends.
PROXY_IDLE_S = 2.0
#: At most this many proxy threads; the callbacks of further target threads share them.
MAX_PROXIES = 64
#: Bytes of callbacks waiting to be answered, at most (a frame's size counts).
BACKLOG_BYTES = 32 << 20


class CallbackOrder:
    """Holds an answer back until the callbacks sent before it have been answered."""

    def __init__(self, deliver: Callable[[Any], None]) -> None:
        self._deliver = deliver
        self._lock = threading.Lock()
        self._seqs = itertools.count(1)
        self._unanswered: list[int] = []  # heap of callbacks handed to proxies
        self._gone: set[int] = set()  # answered, still in the heap
        self._held: list[tuple[int, Any]] = []  # answers waiting for callbacks

    def callback(self) -> int:
        with self._lock:
            seq = next(self._seqs)
            heapq.heappush(self._unanswered, seq)
            return seq

    def answer(self, message: Any) -> None:
        with self._lock:
            seq = next(self._seqs)
            if self._unanswered and self._unanswered[0] < seq:
                self._held.append((seq, message))
                return
        self._deliver(message)

    def answered(self, seq: int) -> None:
        """A callback was answered: deliver the answers that were waiting for it."""
        with self._lock:
            self._gone.add(seq)
            while self._unanswered and self._unanswered[0] in self._gone:
                self._gone.discard(heapq.heappop(self._unanswered))
            oldest = self._unanswered[0] if self._unanswered else None
            ready = [m for s, m in self._held if oldest is None or s < oldest]
            self._held = [(s, m) for s, m in self._held if not (oldest is None or s < oldest)]
        for message in ready:
            self._deliver(message)


class _Proxy:
    def __init__(self, proxies: Proxies, key: int, name: str) -> None:
        self.inbox: queue.SimpleQueue[tuple[int, int, Any]] = queue.SimpleQueue()
        self._proxies, self._key = proxies, key
        self.thread = harness_thread(
            threading.Thread(target=self._run, name=name or "target-thread", daemon=True)
        )
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                item = self.inbox.get(timeout=PROXY_IDLE_S)
            except queue.Empty:
                if self._proxies._retire(self._key, self):
                    return
                continue
            if item is None:
                return
            self._proxies._answer_one(*item)


class Proxies:
    """The proxies of one host."""

    def __init__(self, answer: Callable[[Any], None], order: CallbackOrder) -> None:
        self._answer, self._order = answer, order
        self._proxies: dict[int, _Proxy] = {}
        self._lock = threading.Lock()
        self._room = threading.Condition()
        self._waiting = 0  # bytes of callbacks not answered yet
        self._closed = False

    def dispatch(self, message: Any, ident: int, name: str, size: int) -> None:
        """Hand a callback to its thread's proxy (on the channel's reader thread: waiting
        here stops reading the host)."""
        with self._room:
            self._room.wait_for(
                lambda: self._closed or self._waiting + size <= BACKLOG_BYTES or not self._waiting
            )
            self._waiting += size
        seq = self._order.callback()
        key = ident
        with self._lock:
            if key not in self._proxies and len(self._proxies) >= MAX_PROXIES:
                key = sorted(self._proxies)[ident % MAX_PROXIES]  # a lane shared, in order
            proxy = self._proxies.get(key)
            if proxy is None:
                proxy = self._proxies[key] = _Proxy(self, key, name)
            proxy.inbox.put((seq, size, message))

    def _answer_one(self, seq: int, size: int, message: Any) -> None:
        try:
            self._answer(message)
        finally:
            self._order.answered(seq)
            with self._room:
                self._waiting -= size
                self._room.notify_all()

    def _retire(self, key: int, proxy: _Proxy) -> bool:
        with self._lock:
            if not proxy.inbox.empty():
                return False
            if self._proxies.get(key) is proxy:
                del self._proxies[key]
            return True

    def close(self) -> None:
        with self._room:
            self._closed = True
            self._room.notify_all()
        with self._lock:
            for proxy in self._proxies.values():
                proxy.inbox.put(None)  # type: ignore[arg-type]
            self._proxies.clear()
