"""The harness's own threads: parked threads reused by `spawn`, and the call threads of a
`CallRunner` that borrow them."""

from __future__ import annotations

import threading
import time

import pytest

from conformance.monitor.host import CallRunner
from conformance.resapi import ERROR_ACCESS_DENIED, ERROR_SUCCESS, GetLastError, SetLastError
from conformance.runtime import threads
from conformance.runtime.threads import is_harness_thread, spawn, target_threads


def _run(name: str) -> threading.Thread:
    """The thread `spawn` ran a piece of work on, once that work has finished."""
    seen: list[threading.Thread] = []
    finished = threading.Event()

    def work() -> None:
        seen.append(threading.current_thread())
        finished.set()

    spawn(work, (), name)
    assert finished.wait(5), f"work spawned as {name!r} never ran"
    return seen[0]


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """A pool of parked threads of the test's own, empty at first."""
    parked: list[object] = []
    monkeypatch.setattr(threads, "_parked", parked)
    return parked


def _parked_again(pool: list[object], count: int = 1) -> None:
    """Until ``count`` threads wait in the test's pool."""
    deadline = time.monotonic() + 5
    while len(pool) < count:
        assert time.monotonic() < deadline, "a thread never went back to the pool"
        time.sleep(0.001)


def test_spawn_runs_on_a_named_harness_thread_and_reuses_it(pool):
    first = _run("rm-first")
    assert is_harness_thread(first), "a spawned thread must never be audited as the target's"
    _parked_again(pool)
    second = _run("rm-second")
    assert second is first, "an idle parked thread should be reused instead of starting one"


def test_a_parked_thread_is_never_counted_as_the_targets(pool):
    baseline = set(threading.enumerate())
    _run("rm-audit")  # on a new thread: the test's pool is empty
    _parked_again(pool)
    assert target_threads(baseline) == [], "parked harness threads were audited as leaks"


def test_work_that_raises_is_reported_and_the_thread_serves_again(pool, monkeypatch):
    reported: list[tuple[type[BaseException], str, threading.Thread]] = []
    monkeypatch.setattr(
        threading,
        "excepthook",
        lambda args: reported.append((args.exc_type, args.thread.name, args.thread)),
    )

    def fail() -> None:
        raise ValueError("boom")

    spawn(fail, (), "rm-fails")
    deadline = time.monotonic() + 5
    while not reported:
        assert time.monotonic() < deadline, "the exception never reached threading.excepthook"
        time.sleep(0.001)
    ((exc_type, name, thread),) = reported
    assert (exc_type, name) == (ValueError, "rm-fails"), "the hook should name the work's thread"
    _parked_again(pool)
    assert _run("rm-after") is thread, "a thread whose work raised should serve again"


def test_no_more_than_parked_max_threads_stay_parked(pool, monkeypatch):
    monkeypatch.setattr(threads, "PARKED_MAX", 0)
    thread = _run("rm-not-kept")
    thread.join(5)
    assert not thread.is_alive(), "with PARKED_MAX 0 an idle thread must end, not park"


def test_call_threads_are_named_by_their_runner_and_kept_until_close():
    runner = CallRunner("unit")
    try:
        names = {runner.run(lambda: None, (), 5, "Open", None).thread for _ in range(20)}
        assert len(names) == 1, f"serial calls should share one call thread, got {names}"
        (name,) = names
        assert name.startswith("unit") and name.endswith("-1"), name
    finally:
        runner.close()


def test_a_hung_call_keeps_its_thread_and_the_next_call_gets_another():
    runner = CallRunner("unit")
    release = threading.Event()
    try:
        hung = runner.run(release.wait, (), 0.05, "Online", "r")
        assert hung.end is None, "a call past its deadline must be reported as not returned"
        other = runner.run(lambda: 7, (), 5, "IsAlive", "r")
        assert other.value == 7 and other.thread != hung.thread
    finally:
        release.set()
        runner.close()


@pytest.mark.parametrize("error", [KeyError("k"), SystemExit(3)])
def test_a_call_that_raises_is_an_outcome_not_a_dead_thread(error: BaseException):
    runner = CallRunner("unit")

    def raise_it() -> None:
        raise error

    try:
        outcome = runner.run(raise_it, (), 5, "Open", None)
        assert outcome.error is not None and type(error).__name__ in outcome.error
        assert runner.run(lambda: 1, (), 5, "Open", None).thread == outcome.thread
    finally:
        runner.close()


def test_a_reused_thread_starts_without_the_last_error_of_its_previous_work(pool):
    """A Win32 thread's last-error code is its own: work on a reused thread must not see
    what earlier work set (RS-6 judges the last error of a ClusterResourceStateUnknown)."""
    set_it = threading.Event()
    spawn(lambda: (SetLastError(ERROR_ACCESS_DENIED), set_it.set()), (), "rhs1-1")
    assert set_it.wait(5)
    _parked_again(pool)
    seen: list[int] = []
    done = threading.Event()
    spawn(lambda: (seen.append(GetLastError()), done.set()), (), "rhs2-1")
    assert done.wait(5)
    assert seen == [ERROR_SUCCESS], f"the next work inherited last error {seen}"


def test_a_call_thread_is_idle_again_before_its_caller_wakes():
    """The caller's next call should find the thread that served the last one, not start
    another: the thread goes back on the idle list before it lets the caller go."""
    runner = CallRunner("unit")
    gate = threading.Event()
    try:
        job = runner.submit(gate.wait, (), "Online", "r")
        idle_at_release: list[bool] = []
        lock = job.done

        class Recording:
            def release(self) -> None:
                idle_at_release.append(bool(runner._idle))
                lock.release()

            def acquire(self, timeout: float = -1) -> bool:
                return lock.acquire(timeout=timeout)

        job.done = Recording()  # type: ignore[assignment]
        gate.set()
        assert job.done.acquire(timeout=5), "the call never ended"
        assert idle_at_release == [True], "the caller was let go before the thread was idle"
    finally:
        runner.close()


def test_parked_threads_stay_out_of_the_stacks_taken_as_evidence(pool):
    _run("rm-soon-parked")
    _parked_again(pool)
    assert threads.PARKED not in threads.all_stacks(), "idle threads crowd out the evidence"
