"""The per-run temporary directory (`conformance.rundir`): removed with its run however the
run ends, swept when the run was SIGKILLed, never taken from a live run. Every test has a
temp dir of its own (TMPDIR and `tempfile.tempdir`), which the subprocesses inherit."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import rundir
from conformance.rundir import RunDir, run_dir, sweep

REPO = Path(__file__).resolve().parents[2]
DEADLINE_S = 10.0


@pytest.fixture(autouse=True)
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    sigterm = signal.getsignal(signal.SIGTERM)
    yield tmp_path
    signal.signal(signal.SIGTERM, sigterm)  # RunDir installs its handler in this process too


def _run_dirs(tmp: Path) -> list[Path]:
    return sorted(tmp.glob(f"{rundir.PREFIX}*"))


def _open_files() -> list[str]:
    paths = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own fd is gone by now
            paths.append(os.readlink(f"/proc/self/fd/{fd}"))
    return paths


def _child(source: str, **popen) -> subprocess.Popen:
    """A Python process with a run dir; its first line of output is the run dir's path."""
    prelude = "import os, signal, sys\nfrom conformance.rundir import run_dir\n"
    prelude += "print(run_dir().root, flush=True)\n"
    return subprocess.Popen(
        [sys.executable, "-c", prelude + textwrap.dedent(source)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        **popen,
    )


def _root_of(child: subprocess.Popen) -> Path:
    return Path(child.stdout.readline().decode().strip())


def test_a_run_dir_is_removed_with_its_context(tmp: Path) -> None:
    with RunDir() as run:
        assert run.root.parent == tmp and run.root.name.startswith(f"rescheck-run-{os.getpid()}-")
        assert (run.root / rundir.LOCK_NAME).is_file()
        scratch = run.mkdtemp("db-")
        assert scratch.is_dir() and scratch.parent == run.root
        fresh = run.path("stacks-", ".txt")
        assert fresh.parent == run.root and not fresh.exists() and fresh.name.endswith(".txt")
        assert run.path("stacks-") != run.path("stacks-")
        fresh.write_text("x")
    assert not run.root.exists() and run.closed
    run.close()  # again: nothing happens
    assert _run_dirs(tmp) == []


def test_a_run_dir_is_removed_on_keyboard_interrupt(tmp: Path) -> None:
    with pytest.raises(KeyboardInterrupt), RunDir() as run:
        raise KeyboardInterrupt
    assert not run.root.exists()


def test_run_dir_is_one_per_process(tmp: Path) -> None:
    first = run_dir()
    try:
        assert run_dir() is first
    finally:
        first.close()
    second = run_dir()
    assert second is not first and second.root.is_dir()
    second.close()


def test_a_run_dir_is_removed_at_exit(tmp: Path) -> None:
    child = _child("(run_dir().root / 'db').mkdir()")
    root = _root_of(child)
    assert child.wait(DEADLINE_S) == 0
    child.stdout.close()
    assert not root.exists()


def test_a_run_dir_is_removed_on_sigterm_and_the_process_still_dies_of_it(tmp: Path) -> None:
    child = _child("sys.stdin.readline()", stdin=subprocess.PIPE)
    root = _root_of(child)
    assert root.is_dir()
    child.terminate()
    assert child.wait(DEADLINE_S) == -signal.SIGTERM
    child.stdin.close()
    child.stdout.close()
    assert not root.exists()


def test_the_run_dir_of_a_sigkilled_run_is_swept_by_the_next(tmp: Path) -> None:
    child = _child("(run_dir().root / 'cluster.db').write_text('x')\nos.kill(os.getpid(), 9)")
    root = _root_of(child)
    assert child.wait(DEADLINE_S) == -signal.SIGKILL
    child.stdout.close()
    assert (root / "cluster.db").exists()  # nobody removed it
    with RunDir() as run:
        assert not root.exists()
        assert _run_dirs(tmp) == [run.root]


def test_the_run_dir_of_a_live_run_is_not_swept(tmp: Path) -> None:
    child = _child("sys.stdin.readline()", stdin=subprocess.PIPE)
    try:
        root = _root_of(child)
        with RunDir() as run:
            assert sweep() == []
            assert _run_dirs(tmp) == sorted([root, run.root])
    finally:
        child.stdin.close()  # EOF: it exits, and removes its own
        assert child.wait(DEADLINE_S) == 0
        child.stdout.close()
    assert not root.exists()


def test_leftovers_without_a_lock_are_swept_by_age(tmp: Path) -> None:
    old = time.time() - rundir.STALE_AFTER_S - 60
    stale_db = tmp / "rescheck-db-old"
    (stale_db / "cluster.db").parent.mkdir()
    (stale_db / "cluster.db").write_text("x")
    stale_stacks = tmp / "rescheck-stacks-old"
    stale_stacks.write_text("stacks")
    busy_db = tmp / "rescheck-db-busy"  # an old directory whose database was just written
    busy_db.mkdir()
    (busy_db / "cluster.db").write_text("x")
    fresh_script = tmp / "rescheck-script-fresh"
    fresh_script.mkdir()
    for path in (stale_db / "cluster.db", stale_db, stale_stacks, busy_db):
        os.utime(path, (old, old))
    unlocked_run = tmp / "rescheck-run-1-halfswept"  # a run dir without its lock: nobody's
    unlocked_run.mkdir()
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    (tmp / "rescheck-run-1-link").symlink_to(elsewhere)
    (tmp / "rescheck-db-link").symlink_to(elsewhere)
    os.utime(tmp / "rescheck-db-link", (old, old), follow_symlinks=False)
    unrelated = tmp / "other-db-old"
    unrelated.mkdir()
    os.utime(unrelated, (old, old))

    removed = set(sweep())

    assert removed == {stale_db, stale_stacks, unlocked_run, tmp / "rescheck-db-link"}
    assert busy_db.exists() and fresh_script.exists() and unrelated.exists()
    assert elsewhere.is_dir() and (tmp / "rescheck-run-1-link").is_symlink()


def test_children_do_not_inherit_the_lock(tmp: Path) -> None:
    with RunDir() as run:
        lock = str(run.root / rundir.LOCK_NAME)
        fds = subprocess.run(
            ["ls", "-l", "/proc/self/fd/"], close_fds=False, capture_output=True, text=True
        ).stdout
        assert lock not in fds
        pid = os.fork()
        if pid == 0:  # a forked child: its copy is closed, and exiting removes nothing
            ok = run.closed and lock not in _open_files()
            run.close()
            os._exit(0 if ok else 1)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        assert run.root.is_dir()
        with open(lock) as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # still the parent's
