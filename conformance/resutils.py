"""ResUtils worker threads (CONTRACT.md §3.5): ClusWorkerCreate and friends.

A pending Online or Offline does its work on a CLUS_WORKER thread that polls
ClusWorkerCheckTerminate; Terminate calls ClusWorkerTerminate, which waits for it (WK-4).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from conformance.resapi import ERROR_INVALID_PARAMETER, ERROR_SUCCESS, FALSE, TRUE


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
        return ERROR_INVALID_PARAMETER
    lpWorker.Terminate = False
    thread = threading.Thread(
        target=lpStartAddress, args=(lpWorker, lpParameter), name="ClusWorker", daemon=True
    )
    lpWorker.hThread = thread
    thread.start()
    lpWorker._started.set()
    return ERROR_SUCCESS


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
