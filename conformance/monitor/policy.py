"""The monitor's timers: documented defaults, scaled by one stated factor for test runs.

A faithful Resource Monitor waits 5 s between LooksAlive polls and 3 min for a pending
update; a test run cannot. Every timer is the documented default (docs/contract.md §5.2, A.2)
multiplied by ``time_scale``; the factor is shown in every report. Entry-point budgets
(300 ms) are never scaled: they are what the target must meet.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Documented defaults in milliseconds (FP-1, FP-3, FP-5/PO-6, FP-6).
LooksAlivePollInterval = 5000
IsAlivePollInterval = 60000
PendingTimeout = 180000
DeadlockTimeout = 300000
#: The restart policy's defaults (FP-8..FP-12). RestartPeriod: the property table says 900000,
#: its remark 90000 (docs/contract.md §11); rescheck takes the table's value.
RestartAction = 2  # ClusterResourceRestartNotify
RestartThreshold = 3
RestartPeriod = 900000
RestartDelay = 500
RetryPeriodOnFailure = 3600000

#: The default factor: a 3-minute PendingTimeout becomes 1.8 s, DeadlockTimeout 3 s.
DEFAULT_TIME_SCALE = 0.01

#: What an entry point should take at most (RM-5 and every "return within 300 ms" rule).
ENTRY_POINT_BUDGET_MS = 300
#: IsAlive's ideal (IA-6); reported as information only.
ISALIVE_IDEAL_MS = 50

#: §11 item 1: what the monitor does when the asynchronous failure event is signalled.
ASYNC_FAILURE_POLICIES = ("IsAlive", "Terminate")


@dataclass(frozen=True)
class Policy:
    time_scale: float = DEFAULT_TIME_SCALE
    LooksAlivePollInterval: int = LooksAlivePollInterval
    IsAlivePollInterval: int = IsAlivePollInterval
    PendingTimeout: int = PendingTimeout
    DeadlockTimeout: int = DeadlockTimeout
    RestartAction: int = RestartAction
    RestartThreshold: int = RestartThreshold
    RestartPeriod: int = RestartPeriod
    RestartDelay: int = RestartDelay
    RetryPeriodOnFailure: int = RetryPeriodOnFailure
    async_failure: str = "IsAlive"

    def seconds(self, milliseconds: float) -> float:
        """A documented interval in ms, scaled, in seconds."""
        return milliseconds * self.time_scale / 1000.0

    @property
    def deadlock_seconds(self) -> float:
        # Never below 2 s: a call must get a fair chance to return on a busy machine.
        return max(2.0, self.seconds(self.DeadlockTimeout))

    def describe(self) -> dict[str, object]:
        return {
            "time_scale": self.time_scale,
            "LooksAlivePollInterval_ms": self.LooksAlivePollInterval,
            "IsAlivePollInterval_ms": self.IsAlivePollInterval,
            "PendingTimeout_ms": self.PendingTimeout,
            "DeadlockTimeout_ms": self.DeadlockTimeout,
            "RestartAction": self.RestartAction,
            "RestartThreshold": self.RestartThreshold,
            "RestartPeriod_ms": self.RestartPeriod,
            "effective_PendingTimeout_s": self.seconds(self.PendingTimeout),
            "effective_DeadlockTimeout_s": self.deadlock_seconds,
            "async_failure": self.async_failure,
        }
