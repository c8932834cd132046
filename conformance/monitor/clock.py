"""The time the monitor's timers read (polls, PendingTimeout, restarts): the real one, or a
`FakeClock` that a test moves by hand, so that a test of the monitor says "five seconds pass"
instead of sleeping them, and knows when the monitor has done everything due by then."""

from __future__ import annotations

import threading
import time
from typing import Protocol

#: How long `FakeClock.settle` waits, in real seconds, for the monitor to go back to sleep.
SETTLE_LIMIT_S = 30.0


class Clock(Protocol):
    def now(self) -> float:
        """Seconds, monotonic."""

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        """Wait on ``cond`` (held by the caller) until notified or ``timeout`` seconds of this
        clock have passed; like `threading.Condition.wait`, it may return early."""

    def notify(self, cond: threading.Condition) -> None:
        """Wake the thread waiting on ``cond`` (held by the caller) through this clock."""

    def arriving(self) -> None:
        """A thread that will wait on this clock is about to start (a supervisor)."""

    def leave(self) -> None:
        """The calling thread will not wait on this clock again."""


class RealClock:
    def now(self) -> float:
        return time.perf_counter()

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        cond.wait(None if timeout is None else max(0.0, timeout))

    def notify(self, cond: threading.Condition) -> None:
        cond.notify()

    def arriving(self) -> None:
        pass

    def leave(self) -> None:
        pass


class FakeClock:
    """Time that moves only in `advance`, which returns once every timer of the monitor that
    fell due has run and its thread sleeps again (trio.testing's MockClock, without the jumps
    of its own: a test that wants each poll advances one interval at a time)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Condition()
        #: threads in `wait`, with the condition they wait on and their deadline
        self._sleepers: dict[threading.Thread, tuple[threading.Condition, float | None]] = {}
        self._known: set[threading.Thread] = set()
        self._arriving = 0  # announced threads that have not waited yet

    def now(self) -> float:
        return self._now

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        me = threading.current_thread()
        with self._lock:
            deadline = None if timeout is None else self._now + max(0.0, timeout)
            if deadline is not None and deadline <= self._now:
                return
            if me not in self._known:
                self._known.add(me)
                self._arriving = max(0, self._arriving - 1)
            self._sleepers[me] = (cond, deadline)
            self._lock.notify_all()
        try:
            cond.wait()
        finally:
            with self._lock:
                self._sleepers.pop(me, None)
                self._lock.notify_all()

    def notify(self, cond: threading.Condition) -> None:
        with self._lock:
            for thread, (waited_on, _deadline) in list(self._sleepers.items()):
                if waited_on is cond:  # awake from now on, as far as `settle` can tell
                    self._sleepers[thread] = (cond, float("-inf"))
        cond.notify()

    def arriving(self) -> None:
        with self._lock:
            self._arriving += 1

    def leave(self) -> None:
        me = threading.current_thread()
        with self._lock:
            if me in self._known:
                self._known.discard(me)
            else:  # it ends before its first wait
                self._arriving = max(0, self._arriving - 1)
            self._lock.notify_all()

    def advance(self, seconds: float) -> None:
        """Once the monitor has done all it can at the current time, move time on by
        ``seconds``, wake every timer now due, and wait until the monitor sleeps again."""
        self.settle()
        self.jump(seconds)
        self.settle()

    def jump(self, seconds: float) -> None:
        """Move time on by ``seconds`` and wake every timer now due, without waiting for
        anything: for a call the monitor makes that "takes" that long (`advance` would wait
        for the calling thread itself)."""
        with self._lock:
            self._now += seconds
            due = [c for c, d in self._sleepers.values() if d is not None and d <= self._now]
        for cond in due:
            with cond:
                cond.notify_all()

    def settle(self) -> None:
        """Wait until every thread that ever slept on this clock sleeps again (or has ended)
        with nothing due: what the monitor does next needs time to pass."""
        limit = time.monotonic() + SETTLE_LIMIT_S
        with self._lock:
            while not self._idle():
                left = limit - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the monitor did not go back to sleep")
                self._lock.wait(min(left, 0.05))

    def _idle(self) -> bool:
        if self._arriving:
            return False
        for thread in list(self._known):
            if not thread.is_alive():
                self._known.discard(thread)
                continue
            slept = self._sleepers.get(thread)
            if slept is None or (slept[1] is not None and slept[1] <= self._now):
                return False
        return True
