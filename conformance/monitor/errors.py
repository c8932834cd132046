"""Why a scenario cannot go on: what the monitor raises to the scenario that asked."""

from __future__ import annotations

from conformance.runtime.trace import TraceEvent


class MonitorError(Exception):
    """The scenario cannot go on; ``event`` is the trace event that shows why."""

    def __init__(self, message: str, event: TraceEvent | None = None):
        super().__init__(message)
        self.event = event


class EntryPointHung(MonitorError):
    """An entry point did not return within DeadlockTimeout; the monitor is now unusable."""


class RunAbandoned(MonitorError):
    """The harness gave up on the run (its wall-clock budget was spent): nothing is blamed."""


class HostCrashed(MonitorError):
    """The target ended its host process (isolated hosting); nothing more can be called."""


class OperationPending(MonitorError):
    """Online or Offline was asked while the other (or the same) is pending. The cluster
    service refuses a state change until a pending one ends ([MS-CMRP] ApiOfflineResource:
    ERROR_INVALID_STATE unless the resource is Online, Offline or Failed); it cuts one short
    only with Terminate."""


class EntryPointNull(MonitorError):
    """The scenario needs an entry point that the function table leaves NULL."""


class StartupFailed(MonitorError):
    """Startup gave no usable table; ``cause`` is ``"status"`` (it failed, raised or gave
    something else than a status and a table) or ``"table-version"`` (ST-8)."""

    def __init__(self, message: str, event: TraceEvent | None = None, cause: str = "status"):
        super().__init__(message, event)
        self.cause = cause


class IllegalTransition(AssertionError):
    """The monitor tried a state change its transition table does not have: a bug in
    rescheck, never the target's doing (see `conformance.monitor.states`)."""
