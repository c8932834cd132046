"""ResUtils worker threads (docs/contract.md §3.5) as a DLL uses them."""

from __future__ import annotations

import threading

from conformance.resapi import ERROR_INVALID_PARAMETER, ERROR_SUCCESS, FALSE, TRUE
from conformance.resutils import (
    CLUS_WORKER,
    ClusWorkerCheckTerminate,
    ClusWorkerCreate,
    ClusWorkerTerminate,
    observe_calls,
)


def test_terminate_waits_for_the_worker_to_end() -> None:
    ended = threading.Event()

    def work(worker: CLUS_WORKER, parameter: object) -> int:
        while not ClusWorkerCheckTerminate(worker):
            worker_saw.append(parameter)
            threading.Event().wait(0.001)
        ended.set()
        return ERROR_SUCCESS

    worker_saw: list[object] = []
    worker = CLUS_WORKER()
    assert ClusWorkerCreate(worker, work, "p") == ERROR_SUCCESS
    ClusWorkerTerminate(worker)
    assert ended.is_set(), "ClusWorkerTerminate should return only after the worker ended (WK-4)"
    assert ClusWorkerCheckTerminate(worker) == TRUE, "Terminate stays set"


def test_terminate_right_after_create_never_races_the_thread_start() -> None:
    for _ in range(300):
        worker = CLUS_WORKER()
        assert ClusWorkerCreate(worker, lambda w, p: ERROR_SUCCESS) == ERROR_SUCCESS
        ClusWorkerTerminate(worker)  # must not raise "cannot join thread before it is started"
        assert worker.hThread is not None and not worker.hThread.is_alive(), (
            "after ClusWorkerTerminate the worker thread should have ended"
        )


def test_a_used_worker_structure_is_refused_and_the_harness_is_told() -> None:
    seen: list[tuple[str, int, str | None]] = []
    stop_observing = observe_calls(lambda *call: seen.append(call))
    try:
        worker = CLUS_WORKER()
        assert ClusWorkerCheckTerminate(worker) == FALSE
        assert ClusWorkerCreate(worker, lambda w, p: ERROR_SUCCESS) == ERROR_SUCCESS
        assert ClusWorkerCreate(worker, lambda w, p: ERROR_SUCCESS) == ERROR_INVALID_PARAMETER, (
            "a CLUS_WORKER that already ran must be refused (it is zero-initialised per use)"
        )
        ClusWorkerTerminate(worker)
    finally:
        stop_observing()
    assert [(name, result) for name, result, _ in seen] == [
        ("ClusWorkerCreate", ERROR_SUCCESS),
        ("ClusWorkerCreate", ERROR_INVALID_PARAMETER),
    ], f"the observer should see both calls and their results; saw {seen}"
    assert seen[1][2] and "fresh CLUS_WORKER()" in seen[1][2], "with the reason for the refusal"
