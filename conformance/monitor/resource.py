"""One resource as the monitor holds it: its state, its pending operation, its timers, and the
operations a scenario asks of it (each carried out by the monitor's room for it)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance.clusapi import HKEY
from conformance.monitor import states
from conformance.resapi import RESOURCE_HANDLE, ClusterResourceOffline, ClusterResourceOnline

if TYPE_CHECKING:
    from conformance.monitor.control import ControlResult
    from conformance.monitor.monitor import ResourceMonitor

#: What an OutBuffer holds before a control call (anything the DLL writes is told apart).
OUT_FILL = 0xA5
#: What `Resource.poll_while_up` gets back when the poll was not made.
NOT_CALLED = object()


@dataclass
class PendingOperation:
    """One Online or Offline call and the status reports that belong to it."""

    op: int
    entry: str
    target: int  # the state a successful operation ends in
    in_call: bool = True  # the Online/Offline call has not returned yet
    returned_pending: bool = False
    last_update: float = 0.0
    done: bool = False
    terminated: bool = False


@dataclass
class Resource:
    monitor: ResourceMonitor
    name: str
    handle: RESOURCE_HANDLE
    key: HKEY
    common: dict[str, int] = field(default_factory=dict)
    resid: Any = None
    opened: bool = False
    in_open: bool = False  # Open is running: the DLL has the handle, not yet a RESID
    quorum_owner: bool = False  # Arbitrate succeeded, and no Release or LostQuorumResource since
    closing: bool = False
    closed: bool = False
    open_error: int | None = None
    state: int = ClusterResourceOffline
    pending: PendingOperation | None = None
    generation: int = 0  # counts Online/Offline calls: a stale decision checks it
    terminated_at: float | None = None  # the clock's time of the last Terminate
    terminating: int = 0  # Terminate calls decided and not yet returned
    event_handle: Any = None
    looks_alive_off: bool = False  # Online returned an EventHandle (LA-8)
    failures: list[float] = field(default_factory=list)  # the clock's time of each failure
    restart_plan: tuple[str, float] | None = None  # ("restart" | "retry", delay s) after Terminate
    restart_at: float | None = None
    retried: bool = False  # the one last attempt after RetryPeriodOnFailure was made
    polls: dict[str, int] = field(default_factory=lambda: {"LooksAlive": 0, "IsAlive": 0})
    #: Every change of the fields above is made under ``cond`` and announced on it.
    cond: threading.Condition = field(init=False)
    #: The supervisor's own condition, on the same lock: waking it on every change would cost
    #: a thread switch per call, so `ResourceMonitor.changed` wakes it only when it must act
    #: before the time it sleeps until (``sleeping_until``; None while it is awake).
    timer: threading.Condition = field(init=False)
    sleeping_until: float | None = None
    polls_for: int | None = None  # the Online (generation) the supervisor's poll times are for

    def __post_init__(self) -> None:
        lock = threading.RLock()
        self.cond, self.timer = threading.Condition(lock), threading.Condition(lock)

    def move(self, after: int, why: str) -> None:
        """Change the state along the transition table (`states`), holding ``cond``."""
        states.check(self.state, after, why)
        self.state = int(after)

    # --- the operations a scenario asks for --------------------------------------------------
    def online(self, wait: bool = True, timeout: float | None = None) -> int:
        return self.monitor.lifecycle.online_offline(self, "Online", wait, timeout)

    def offline(self, wait: bool = True, timeout: float | None = None) -> int:
        return self.monitor.lifecycle.online_offline(self, "Offline", wait, timeout)

    def terminate(self) -> None:
        self.monitor.lifecycle.terminate(self, reason="requested")

    def close(self) -> None:
        self.monitor.close(self)

    def looks_alive(self) -> Any:
        return self.monitor.lifecycle.poll_call(self, "LooksAlive")

    def is_alive(self) -> Any:
        return self.monitor.lifecycle.poll_call(self, "IsAlive")

    def control(
        self,
        ControlCode: int,
        InBuffer: bytes | None = None,
        OutBufferSize: int | None = None,
        fill: int = OUT_FILL,
    ) -> ControlResult:
        """ResourceControl; ``OutBufferSize`` None passes a NULL OutBuffer."""
        self.monitor.require_open(self)
        return self.monitor.controls.control(
            "ResourceControl", self, self.resid, ControlCode, InBuffer, OutBufferSize, fill
        )

    def arbitrate(self) -> Any:
        """Arbitrate (AR-2); the status it returned, or None if it did not return."""
        return self.monitor.quorum.call(self, "Arbitrate", True)

    def release(self) -> Any:
        """Release (RL-1); the status it returned, or None if it did not return."""
        return self.monitor.quorum.call(self, "Release", False)

    def poll_while_up(self, entry: str) -> bool:
        """LooksAlive or IsAlive, only while the resource is Online with nothing pending, or
        while a Terminate of it runs (the two may overlap, TE-4). True if the call was made."""
        return self.monitor.lifecycle.poll_call(self, entry, while_up=True) is not NOT_CALLED

    def wait_state(self, states: set[int], timeout: float) -> bool:
        """Wait until the resource is in one of ``states``, nothing is pending and no
        Terminate is under way."""
        deadline = time.perf_counter() + timeout
        with self.cond:
            while not (self.state in states and self.pending is None and not self.terminating):
                left = deadline - time.perf_counter()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def wait_polls(self, entry: str, count: int, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        with self.cond:
            while self.polls[entry] < count:
                left = deadline - time.perf_counter()
                if left <= 0 or self.state != ClusterResourceOnline:
                    return self.polls[entry] >= count
                self.cond.wait(left)
            return True

    def setting(self, name: str) -> int:
        """A common property: the resource's own value, else the documented default."""
        return int(self.common.get(name, getattr(self.monitor.policy, name)))

    def interval(self, name: str) -> float:
        """A timer property (poll intervals, PendingTimeout, restart timers), scaled, in s."""
        return self.monitor.policy.seconds(self.setting(name))

    def properties(self) -> dict[str, Any]:
        """The private properties in the resource's ``Parameters`` key, as the DLL sees them."""
        values = self.monitor.db.values(f"{self.key.path}\\Parameters")
        return {name: value for name, (_type, value) in values.items()}
