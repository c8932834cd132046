"""What the monitor's unit tests (tests/unit/test_monitor_*.py) share: a `Rig` that builds
monitors on `ScriptedDLL`s and cleans them up, the fake time their timers read, and ways to
wait for positive signals instead of sleeping.

Pacemaker tests its executor with the Dummy agent; these tests drive `ResourceMonitor` with
`ScriptedDLL` (tests/unit/scripted_dll.py), whose entry points do exactly what each test
scripts and record every call with its thread and perf_counter start/end. No fixture DLL and
no reference implementation is involved: a failure there is the monitor's.

Time (issue 21): every monitor a `Rig` builds reads the rig's `FakeClock`, and its policy has
time scale 1, so a timer property of N ms is N ms of that clock (``timers()`` takes seconds).
A test says "five seconds pass" with `Rig.advance`, which returns once the monitor has done
everything that fell due, so "nothing happened" is a fact of the run, not a sleep that hopes
it waited long enough. A timer a test does not drive is QUIET (an hour). Real time is left to
what is real: a call that blocks while another thread waits for the monitor's lock
(`blocked_in` tells when that thread got there), DeadlockTimeout (a 2 s floor, so the hang
tests take ~2 s), and the DLL's worker threads (waited for through what they record).
"""

from __future__ import annotations

import linecache
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conformance.monitor.clock import FakeClock, RealClock
from conformance.monitor.host import InProcessHost
from conformance.monitor.monitor import Resource, ResourceMonitor
from conformance.monitor.policy import Policy
from conformance.resapi import (
    ERROR_IO_PENDING,
    ClusterResourceDontRestart,
    ClusterResourceOffline,
    ClusterResourceOfflinePending,
    ClusterResourceOnlinePending,
    ResourceExitStateContinue,
)
from conformance.runtime.trace import MONITOR, TraceEvent

if __package__:  # tests/unit became a package
    from .scripted_dll import Call, ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from scripted_dll import Call, ScriptedDLL

#: A timer that never fires during a test (seconds of the fake clock; also of the real one).
QUIET = 3600.0
#: Less than any timer of a test: "not yet" is ``interval - TINY``. A power of two, so that
#: the fake times (1000.0 plus whole and binary fractions of seconds) add up exactly.
TINY = 1 / 1024
#: How long a test waits, in real seconds, for something that should happen (a busy machine).
WAIT = 5.0
#: DeadlockTimeout in ms: 2 s, the policy's floor, as the scaled default used to give.
DEADLOCK_MS = 2000


def ms(seconds: float) -> int:
    """The property value (ms) of ``seconds``: the rig's policy has time scale 1."""
    return round(seconds * 1000)


def timers(la: float = QUIET, ia: float = QUIET, pending: float = QUIET) -> dict[str, int]:
    """Resource-level common properties for the given seconds; no restarts (the restart tests
    set the restart policy themselves)."""
    return {
        "LooksAlivePollInterval": ms(la),
        "IsAlivePollInterval": ms(ia),
        "PendingTimeout": ms(pending),
        "RestartAction": ClusterResourceDontRestart,
    }


def wait_for(predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Poll ``predicate`` (every 2 ms) until it holds or ``timeout`` real seconds passed."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() >= deadline:
            return False
        time.sleep(0.002)
    return True


def monitor_events(monitor: ResourceMonitor, name: str) -> list[TraceEvent]:
    return [e for e in monitor.trace if e.kind == MONITOR and e.name == name]


def polls(monitor: ResourceMonitor, entry: str) -> int:
    """Scheduled polls of ``entry`` (not the ones a scenario asked for)."""
    return len([e for e in monitor.trace.calls(entry) if e.data.get("poll")])


def names(calls: list[Call]) -> list[str]:
    return [c.name for c in calls]


def overlapping(calls: list[Call]) -> list[tuple[str, str]]:
    return [
        (f"{a.name}@{a.start:.4f}", f"{b.name}@{b.start:.4f}")
        for i, a in enumerate(calls)
        for b in calls[i + 1 :]
        if a.overlaps(b)
    ]


def blocked_in(thread: threading.Thread, where: str) -> str | None:
    """How ``thread`` is blocked in the monitor's function ``where`` ("module.function", e.g.
    "lifecycle.online_offline"): "condition" (in a Condition's wait), "lock" (acquiring a lock
    or a Condition in a ``with`` statement), or None (running, or anywhere else). Read from the
    thread's stack: the positive signal that another thread reached its blocking point."""
    frame = sys._current_frames().get(thread.ident or -1)
    inside: set[str] = set()
    while frame is not None and frame.f_code.co_filename == threading.__file__:
        inside.add(frame.f_code.co_name)
        frame = frame.f_back
    if frame is None:
        return None
    module = os.path.splitext(os.path.basename(frame.f_code.co_filename))[0]
    if f"{module}.{frame.f_code.co_name}" != where:
        return None
    if inside & {"wait", "wait_for"}:
        return "condition"
    if inside & {"__enter__", "acquire"}:
        return "lock"
    # a bare Lock is acquired in C: the frame stays on its ``with`` line
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return "lock" if not inside and line.startswith("with ") else None


class Driver:
    """A scenario thread: runs one monitor operation and keeps its result or exception."""

    def __init__(self, fn: Callable[..., Any], *args: Any, name: str):
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(fn, args), name=name, daemon=True)
        self.thread.start()

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self.result = fn(*args)
        except BaseException as exc:
            self.error = exc

    def join(self, timeout: float = WAIT) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"{self.thread.name} should have finished by now"
        assert self.error is None, f"{self.thread.name} should not raise, got {self.error!r}"
        return self.result

    def blocked_in(self, where: str) -> str | None:
        return blocked_in(self.thread, where)


class Rig:
    """Builds monitors on scripted DLLs, on one `FakeClock`, and cleans every one of them up."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.monitors: list[tuple[ResourceMonitor, ScriptedDLL]] = []

    def monitor(
        self,
        dll: ScriptedDLL,
        *,
        async_failure: str = "IsAlive",
        startup: bool = True,
        real_time: bool = False,
    ) -> ResourceMonitor:
        """A monitor on the rig's clock (``real_time``: on the real one, for load tests)."""
        policy = Policy(time_scale=1.0, DeadlockTimeout=DEADLOCK_MS, async_failure=async_failure)
        clock = RealClock() if real_time else self.clock
        monitor = ResourceMonitor(InProcessHost(dll.module()), "Scripted", policy, clock=clock)
        self.monitors.append((monitor, dll))
        if startup:
            monitor.startup()
        return monitor

    def open(
        self,
        monitor: ResourceMonitor,
        name: str = "r1",
        properties: dict[str, Any] | None = None,
        **timer_seconds: float,
    ) -> Resource:
        return monitor.open(name, properties or {}, common=timers(**timer_seconds))

    def thread(self, fn: Callable[..., Any], *args: Any, name: str = "scenario") -> Driver:
        return Driver(fn, *args, name=name)

    def settle(self) -> None:
        """Wait until the monitors on the rig's clock have done all they can without time
        passing."""
        self.clock.settle()

    def advance(self, seconds: float) -> None:
        """``seconds`` of the fake clock pass; returns once everything that fell due is done."""
        self.clock.advance(seconds)

    def close(self) -> None:
        for monitor, dll in self.monitors:
            dll.release_all()
            monitor.shutdown()


@pytest.fixture(name="rig")
def rig_fixture() -> Iterator[Rig]:
    """The `Rig` of one test (import it as ``rig_fixture``: pytest finds it by its marker)."""
    rig = Rig()
    yield rig
    rig.close()


def pending_then(
    final: int, *steps: threading.Event, last: threading.Event | None = None
) -> Callable[..., int]:
    """Online/Offline that returns ERROR_IO_PENDING. Its worker waits until the call has
    returned, then reports one pending update per step (waiting for that step's Event first),
    waits for ``last`` if given, and reports the final state. It stops as soon as a report is
    answered ResourceExitStateTerminate."""

    def entry(dll: ScriptedDLL, resid: str, *_: Any) -> int:
        name = resid.split(":", 1)[1]
        me = threading.get_ident()
        [call] = [c for c in dll.calls_of() if c.thread_id == me and c.end is None]
        interim = ClusterResourceOnlinePending
        if final == ClusterResourceOffline:
            interim = ClusterResourceOfflinePending

        def work() -> None:
            dll.wait_until(lambda: call.end is not None)
            for checkpoint, step in enumerate(steps, start=1):
                dll.block(step)
                if dll.report(name, interim, checkpoint) != ResourceExitStateContinue:
                    return
            if last is not None:
                dll.block(last)
            dll.report(name, final, len(steps) + 1)

        dll.spawn(work, name=f"worker-{name}")
        return ERROR_IO_PENDING

    return entry
