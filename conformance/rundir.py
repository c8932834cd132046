"""One temporary directory per run, removed with the run, also when the run was SIGKILLed.

Everything a run puts in the temp dir (the cluster database, a host's stacks file, a script's
sandbox) goes in ``run_dir()``: ``$TMPDIR/rescheck-run-<pid>-<random>/``, removed as a whole
when the process exits (``close()``, ``with``, KeyboardInterrupt through ``with``, atexit, and
SIGTERM when nobody else handles it). A process killed by SIGKILL removes nothing, so every new
``RunDir`` first *sweeps* the temp dir:

* ``rescheck-run-*``: each holds a ``lock`` file that its owner keeps under an exclusive
  ``flock`` for the directory's whole life. The kernel drops the lock when the owner dies,
  however it dies, so a lock that can be taken means a dead owner: the directory goes. No pid
  is compared (pids are recycled; a lock is not). A directory only gets its final name once
  its lock is held (it is created as ``rescheck-new-*`` and renamed), so a sweep never takes
  the lock of a directory being born.
* ``rescheck-db-*``, ``rescheck-stacks-*``, ``rescheck-script-*`` (what runs created before
  run dirs existed) and ``rescheck-new-*`` (a creation cut short): nothing says whether their
  owner lives, so only their age does: they go when neither they nor what they directly hold
  changed for STALE_AFTER_S (a day). Removing a live run's database breaks that run, leaving
  litter a day longer costs a little disk: the threshold errs on the late side, far beyond a
  run's wall-clock budget.

Only entries owned by this user are touched, and symlinks are never followed. The lock fd is
close-on-exec, and a forked child closes its copy at once (the lock stays with the parent:
``flock`` belongs to the open file, which the parent still holds) and leaves the parent's
directories alone; a child's ``run_dir()`` is a new one of its own.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import secrets
import shutil
import signal
import stat
import tempfile
import threading
import time
from pathlib import Path

PREFIX = "rescheck-run-"
#: The name a run dir has until its lock is held.
NEW_PREFIX = "rescheck-new-"
#: Names without a lock, swept by age only.
UNLOCKED_PREFIXES = (NEW_PREFIX, "rescheck-db-", "rescheck-stacks-", "rescheck-script-")
LOCK_NAME = "lock"
#: How old an unlocked leftover must be to be swept (see the module docstring).
STALE_AFTER_S = 24 * 3600.0

_live: set[RunDir] = set()  # the directories this process owns and has not removed yet
_instance: RunDir | None = None
_instance_lock = threading.Lock()


class RunDir:
    """A private directory for one run, locked while it lives (see the module docstring)."""

    def __init__(self) -> None:
        tmp = tempfile.gettempdir()
        sweep(tmp)
        new = tempfile.mkdtemp(prefix=NEW_PREFIX, dir=tmp)
        self.root = Path(tmp, f"{PREFIX}{os.getpid()}-{os.path.basename(new)[len(NEW_PREFIX) :]}")
        lock = None
        try:
            lock = os.open(os.path.join(new, LOCK_NAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rename(new, self.root)
        except BaseException:
            shutil.rmtree(new, ignore_errors=True)
            if lock is not None:
                os.close(lock)
            raise
        self._fd: int | None = lock
        self._close_lock = threading.Lock()
        _live.add(self)
        _handle_sigterm()

    @property
    def closed(self) -> bool:
        return self._fd is None

    def path(self, prefix: str = "", suffix: str = "") -> Path:
        """A fresh path inside the run dir, not created: for a file or socket of one use."""
        while True:
            candidate = self.root / f"{prefix}{secrets.token_hex(6)}{suffix}"
            if not os.path.lexists(candidate):
                return candidate

    def mkdtemp(self, prefix: str = "") -> Path:
        """A new directory inside the run dir."""
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.root))

    def close(self) -> None:
        """Remove the directory and release its lock. Idempotent, and safe from two threads."""
        with self._close_lock:
            if self._fd is None:
                return
            shutil.rmtree(self.root, ignore_errors=True)  # locked to the end: no sweep races it
            os.close(self._fd)
            self._fd = None
            _live.discard(self)

    def __enter__(self) -> RunDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunDir({str(self.root)!r}{', closed' if self.closed else ''})"


def run_dir() -> RunDir:
    """This process's run dir, created on first use and removed when the process exits."""
    global _instance
    with _instance_lock:
        if _instance is None or _instance.closed:
            _instance = RunDir()
        return _instance


def sweep(tmp: str | None = None) -> list[Path]:
    """Remove what dead runs left in ``tmp`` (default: the temp dir); the paths removed."""
    tmp = tmp or tempfile.gettempdir()
    removed = []
    try:
        entries = list(os.scandir(tmp))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith("rescheck-"):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if info.st_uid != os.getuid():
            continue
        if entry.name.startswith(PREFIX):
            if stat.S_ISDIR(info.st_mode) and _sweep_locked(entry.path):
                removed.append(Path(entry.path))
        elif entry.name.startswith(UNLOCKED_PREFIXES) and _idle(entry.path, info) > STALE_AFTER_S:
            _remove(entry.path, info)
            removed.append(Path(entry.path))
    return removed


def _sweep_locked(path: str) -> bool:
    """Remove a run dir whose lock can be taken (its owner is dead); whether it was."""
    try:
        fd = os.open(os.path.join(path, LOCK_NAME), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:  # a sweep or a close cut short: nobody owns it
        shutil.rmtree(path, ignore_errors=True)
        return True
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held: its owner lives
        os.close(fd)
        return False
    shutil.rmtree(path, ignore_errors=True)  # under the lock, so two sweeps do not race
    os.close(fd)
    return True


def _idle(path: str, info: os.stat_result) -> float:
    """Seconds since the entry or anything directly in it last changed."""
    latest = info.st_mtime
    if stat.S_ISDIR(info.st_mode):
        with contextlib.suppress(OSError), os.scandir(path) as inside:
            for entry in inside:
                with contextlib.suppress(OSError):
                    latest = max(latest, entry.stat(follow_symlinks=False).st_mtime)
    return time.time() - latest


def _remove(path: str, info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


@atexit.register
def _close_all() -> None:
    for directory in list(_live):
        directory.close()


def _after_fork_in_child() -> None:
    """The child must neither keep the lock nor remove its parent's directories."""
    global _instance_lock
    for directory in _live:
        if directory._fd is not None:
            os.close(directory._fd)
        directory._fd = None
        directory._close_lock = threading.Lock()  # a parent's thread may have held it
    _live.clear()
    _instance_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _handle_sigterm() -> None:
    """Remove the run dirs on SIGTERM, but only where nobody handles SIGTERM (SIG_DFL) and
    only from the main thread (where Python allows it); the process then dies of SIGTERM as
    it would have, so its exit status does not change."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signo: int, frame: object) -> None:
    for directory in list(_live):  # not close(): its lock may be held by the code interrupted
        shutil.rmtree(directory.root, ignore_errors=True)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
