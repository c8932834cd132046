"""ResUtils worker threads (docs/contract.md §3.5): ClusWorkerCreate and friends.

A pending Online or Offline does its work on a CLUS_WORKER thread that polls
ClusWorkerCheckTerminate; Terminate calls ClusWorkerTerminate, which waits for it (WK-4).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from conformance.resapi import ERROR_INVALID_PARAMETER, ERROR_SUCCESS, FALSE, TRUE

_observers: list[Callable[[str, int, str | None], None]] = []


def observe_calls(observer: Callable[[str, int, str | None], None]) -> Callable[[], None]:
    """Register a harness observer of ResUtils calls, told (function, result, why refused);
    returns a function that removes it."""
    _observers.append(observer)
    return lambda: _observers.remove(observer)


def report_call(function: str, result: int, why: str | None = None) -> int:
    """Tell every observer about a call (an isolated host's calls are relayed this way)."""
    for observer in list(_observers):
        observer(function, result, why)
    return result


class CLUS_WORKER:
    """Members ``hThread`` and ``Terminate``; treat them as read-only (WK-2)."""

    def __init__(self) -> None:
        self.hThread: threading.Thread | None = None
        self.Terminate: bool = False
        self._started = threading.Event()  # hThread may be joined (it has been started)


def ClusWorkerCreate(
    lpWorker: CLUS_WORKER,
    lpStartAddress: Callable[[CLUS_WORKER, Any], int],
    lpParameter: Any = None,
) -> int:
    """Start ``lpStartAddress(lpWorker, lpParameter)`` on a new thread (WK-1).

    The structure must be fresh (zero-initialised): a worker that ran before is refused.
    """
    if lpWorker.hThread is not None:
        why = "the CLUS_WORKER was used before (its hThread is set); pass a fresh CLUS_WORKER()"
        return report_call("ClusWorkerCreate", ERROR_INVALID_PARAMETER, why)
    lpWorker.Terminate = False
    thread = threading.Thread(
        target=lpStartAddress, args=(lpWorker, lpParameter), name="ClusWorker", daemon=True
    )
    lpWorker.hThread = thread
    thread.start()
    lpWorker._started.set()
    return report_call("ClusWorkerCreate", ERROR_SUCCESS)


def ClusWorkerCheckTerminate(lpWorker: CLUS_WORKER) -> int:
    """TRUE when the worker should exit as soon as possible (WK-3)."""
    return TRUE if lpWorker.Terminate else FALSE


def ClusWorkerTerminate(lpWorker: CLUS_WORKER) -> None:
    """Ask the worker to stop; the first call waits for its thread to end (WK-4)."""
    thread = lpWorker.hThread
    first = not lpWorker.Terminate
    lpWorker.Terminate = True
    if thread is not None and first and thread is not threading.current_thread():
        lpWorker._started.wait()
        thread.join()
