"""Wine, handled for the user: the loader, rescheck's own prefix, one wineserver per run.

Compiled resource DLLs run in the native host, a Windows ``.exe``; on Linux it runs under Wine.
What the user would otherwise have to know about Wine is here:

* **The prefix.** ``ensure_prefix()`` creates rescheck's *template* prefix once, in
  ``$XDG_CACHE_HOME/rescheck/wine-prefix`` (``wineboot -i``, 4 to 12 s), under an exclusive
  ``flock`` and in a temporary sibling that is renamed into place with its ready marker
  written last, so concurrent first uses create it once and nobody sees half of one. The
  marker names the Wine it was made with; another Wine makes a new template. It is set up so
  that a crash ends the process at once with the exception code as its status (no AeDebug
  debugger, no crash dialog), never runs ``winemenubuilder`` (which writes into the user's
  desktop menus), and its user folders are folders of its own, not links to the user's home.
* **One prefix per run.** Every wine process of a prefix talks to the prefix's one
  wineserver, and stopping that server ends them all: two runs sharing a prefix would kill
  each other's hosts. So each `WineServer` works in a *clone* of the template: its files are
  hard links (copying the 700 MB of DLLs costs 0.3 to 2.6 s and their space on every run, a
  clone 15 to 100 ms), only the registry is copied, and Wine's update of the prefix is
  disabled in it, so nothing writes through the links. The template's linked files are
  read-only besides. Clones live beside the template (hard links need one filesystem, and
  ``/tmp`` is often a tmpfs), each in a locked directory that the next run sweeps when its
  owner died (the protocol of `conformance.rundir`).
* **One wineserver per run.** Started persistent, so a host starts in 15 to 40 ms instead of
  0.4 to 1.4 s, under a guardian (`conformance.monitor.reaper`) with a first client that starts
  Wine's own services under it: if rescheck is SIGKILLed, the guardian ends them all (a killed
  wineserver does *not* end its idle clients). `WineServer.close` ends the guardian's tree,
  then every process left whose environment names the run's prefix, then removes the clone.
* **Quiet.** ``WINEDEBUG=-all``, no ``DISPLAY`` (nothing tries X), no Mono or Gecko prompts.

Debian's Wine keeps the wineserver's socket in a directory under ``$TMPDIR``: a client with
another ``TMPDIR`` starts a second server on the same prefix. `host_env` therefore gives every
process of a prefix the prefix's own ``.tmp``.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from conformance import rundir
from conformance.errors import UsageError
from conformance.monitor.reaper import guardian_argv, kill_tree

#: Where Debian puts the loader (the ``wine`` package adds ``/usr/bin/wine``); PATH comes next.
LOADERS = ("/usr/lib/wine/wine64",)
HOW_TO_GET = (
    "compiled DLLs run under Wine on Linux: install it with 'apt-get install wine64' (Debian), "
    "then run again"
)
TEMPLATE = "wine-prefix"
#: Written last into a template: the prefix is ready, made with the Wine it names.
READY = ".rescheck-ready"
#: How long the template's lock may stay taken before rescheck says it waits (s): one who
#: checks or clones the template holds it briefly, one who creates it for about 10 s.
WAIT_SAID_S = 1.0
#: How often a taken lock is tried again (s).
LOCK_POLL_S = 0.05
#: Wine's Unix temporary directory, inside each prefix (see the module docstring).
UNIX_TMP = ".tmp"
#: Top-level files of a template that a clone does not take: the marker, and Debian's note of
#: where a wineserver has its socket (a clone's server writes its own).
NOT_CLONED = frozenset({READY, "wineserver"})
#: Mono and Gecko are never installed (their install prompts would wait for a click);
#: winemenubuilder would write desktop menus and file associations into the user's home.
BASE_OVERRIDES = "mscoree,mshtml=;winemenubuilder.exe=d"
#: No AeDebug debugger: an unhandled exception ends the process at once, its exit status
#: the exception code's low byte (0xC0000005 gives 5); no crash dialog should winedbg ever run.
SETTINGS = r"""REGEDIT4

[HKEY_LOCAL_MACHINE\Software\Microsoft\Windows NT\CurrentVersion\AeDebug]
"Debugger"=""

[HKEY_CURRENT_USER\Software\Wine\WineDbg]
"ShowCrashDialog"=dword:00000000

[HKEY_CURRENT_USER\Software\Wine\DllOverrides]
"winemenubuilder.exe"=""
"""
#: How long creating the template may take, and a wineserver to answer its first client.
CREATE_TIMEOUT_S = 300.0
START_TIMEOUT_S = 60.0
#: How many times the wineserver and its warm-up are started before Wine is said not to start.
START_ATTEMPTS = 2
#: How long `end_processes` keeps killing what it finds.
END_TIMEOUT_S = 5.0
#: The guardian's command: the wineserver (``-p`` returns once it answers; the guardian adopts
#: the daemon), then a first client (`WARM_UP`: ``rundll32`` without arguments starts Wine's
#: services and desktop, under the guardian, and exits), ``ready N`` on stdout, then living as
#: long as the server does.
KEEPER = (
    'server=$1; shift; "$server" -p || exit; "$@" >/dev/null 2>&1; echo ready $?; exec "$server" -w'
)
WARM_UP = "rundll32.exe"


def find_wine() -> Path:
    """The Wine loader that runs a 64-bit ``.exe``."""
    for candidate in LOADERS:
        if os.access(candidate, os.X_OK):
            return Path(candidate)
    for name in ("wine64", "wine"):
        found = shutil.which(name)
        if found:
            return Path(found)
    raise UsageError(HOW_TO_GET)


def find_wineserver() -> Path:
    """The wineserver of `find_wine`'s Wine: beside the real loader, or on PATH."""
    beside = find_wine().resolve().parent / "wineserver"
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("wineserver")
    if found is None:
        raise UsageError(HOW_TO_GET)
    return Path(found)


def cache_root() -> Path:
    """rescheck's directory in the user's cache (XDG), for the template and the runs' clones."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base).absolute() / "rescheck"


def host_env(
    prefix: Path,
    extra: Mapping[str, str] | None = None,
    dll_overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a process under Wine in ``prefix``: rescheck's environment, quiet
    (``extra`` may set WINEDEBUG), without a display; ``dll_overrides`` adds to
    WINEDLLOVERRIDES (``{"clusapi,resutils": "n"}``: rescheck's own DLLs, not Wine's).
    WINEPREFIX, TMPDIR and WINESERVER are set last, whatever ``extra`` says: they name the
    prefix's wineserver, and a process that names another starts a second one."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["WINEDEBUG"] = "-all"
    env.update(extra or {})
    overrides = [BASE_OVERRIDES, *(f"{dlls}={how}" for dlls, how in (dll_overrides or {}).items())]
    prefix = Path(prefix).absolute()
    env.update(
        WINEPREFIX=str(prefix),
        TMPDIR=str(prefix / UNIX_TMP),
        WINESERVER=str(find_wineserver()),
        WINEDLLOVERRIDES=";".join(overrides),
    )
    return env


def wine_argv(exe: Path, args: list[str]) -> list[str]:
    """The command line that runs the Windows program ``exe`` under Wine (an absolute path:
    Wine looks a bare name up in the prefix's ``system32``)."""
    return [str(find_wine()), str(Path(exe).absolute()), *args]


def wine_processes(prefix: Path) -> list[int]:
    """The live processes (zombies aside) whose environment names ``prefix`` as WINEPREFIX:
    a /proc snapshot. Wine's processes all carry it, wineserver included."""
    wanted = _prefix_entry(prefix)
    return [int(e.name) for e in os.scandir("/proc") if e.name.isdigit() and _is_of(e.name, wanted)]


def end_processes(prefix: Path) -> list[int]:
    """SIGKILL every process of ``prefix`` until none is left (or END_TIMEOUT_S passed);
    those still alive then (in D state, say)."""
    wanted = _prefix_entry(prefix)
    deadline = time.monotonic() + END_TIMEOUT_S
    while (left := wine_processes(prefix)) and time.monotonic() < deadline:
        for pid in left:
            _kill(pid, wanted)
        time.sleep(0.02)
    return left


def _prefix_entry(prefix: Path) -> bytes:
    return b"WINEPREFIX=" + os.fsencode(Path(prefix).absolute())


def _is_of(pid: str, wanted: bytes) -> bool:
    if pid == str(os.getpid()):
        return False
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):  # gone, or not ours to read
        return False
    return state not in (b"Z", b"X") and wanted in environ.split(b"\0")


def _kill(pid: int, wanted: bytes) -> None:
    """SIGKILL through a pidfd, after checking again that the pid is still that process."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        if _is_of(str(pid), wanted):
            signal.pidfd_send_signal(fd, signal.SIGKILL)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- the template prefix ---------------------------------------------------------------------


def ensure_prefix() -> Path:
    """rescheck's template prefix, created on first use (see the module docstring)."""
    root = cache_root()
    prefix = root / TEMPLATE
    identity = _wine_identity()
    root.mkdir(parents=True, exist_ok=True)
    waiting = (
        f"rescheck: waiting for another rescheck creating the Wine prefix in {_shown(prefix)}..."
    )
    with _template_lock(root, exclusive=False, waiting=waiting):
        if _ready(prefix, identity):
            return prefix
    with _template_lock(root, exclusive=True, waiting=waiting):
        if not _ready(prefix, identity):  # someone may have made it while we waited
            _create(root, prefix, identity)
    return prefix


def _wine_identity() -> str:
    """The Wine a template is made with, as its marker records it."""
    loader = find_wine()
    done = subprocess.run([str(loader), "--version"], capture_output=True, text=True)
    return f"{loader} {done.stdout.strip()}\n"


def _ready(prefix: Path, identity: str) -> bool:
    try:
        return (prefix / READY).read_text() == identity
    except OSError:
        return False


@contextlib.contextmanager
def _template_lock(root: Path, *, exclusive: bool, waiting: str = "") -> Iterator[None]:
    """The template's lock: exclusive to create it, shared to read (check or clone) it. Says
    ``waiting`` (once) when the lock stays taken past `WAIT_SAID_S`: a holder that only checks
    or clones lets go at once, one that creates may take 10 s."""
    fd = os.open(root / f"{TEMPLATE}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        said_at = time.monotonic() + WAIT_SAID_S
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if waiting and said_at is not None and time.monotonic() >= said_at:
                    print(waiting, file=sys.stderr, flush=True)
                    said_at = None
                time.sleep(LOCK_POLL_S)
        yield
    finally:
        os.close(fd)


def _create(root: Path, prefix: Path, identity: str) -> None:
    """Make a template in a temporary sibling and rename it into place (holding the lock)."""
    for leftover in [*root.glob(f"{TEMPLATE}.new-*"), *root.glob(f"{TEMPLATE}.old-*")]:
        shutil.rmtree(leftover, ignore_errors=True)  # a creation cut short, an old template
    print(
        f"rescheck: creating a Wine prefix for compiled DLLs in {_shown(prefix)} "
        "(once, about 10 s)...",
        file=sys.stderr,
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix=f"{TEMPLATE}.new-", dir=root))
    try:
        made = work / "prefix"
        (made / UNIX_TMP).mkdir(parents=True)
        env = {**host_env(made), "WINEARCH": "win64"}
        try:
            _wine(env, "wineboot", "-i")
            (made / "drive_c" / "rescheck.reg").write_text(SETTINGS)
            _wine(env, "regedit", "/S", r"C:\rescheck.reg")
            for stop in ("-k", "-w"):  # the server saves the registry as it ends
                subprocess.run([env["WINESERVER"], stop], env=env, capture_output=True)
        finally:
            end_processes(made)
        (made / "drive_c" / "rescheck.reg").unlink()
        (made / "wineserver").unlink(missing_ok=True)  # Debian's note of a server now gone
        _own_user_folders(made)
        _read_only(made / "drive_c")
        shutil.rmtree(made / UNIX_TMP)
        (made / UNIX_TMP).mkdir()
        (made / READY).write_text(identity)
        if prefix.exists():
            old = Path(tempfile.mkdtemp(prefix=f"{TEMPLATE}.old-", dir=root))
            prefix.rename(old / TEMPLATE)  # live clones keep their links: nothing they use goes
        made.rename(prefix)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for old in root.glob(f"{TEMPLATE}.old-*"):
            shutil.rmtree(old, ignore_errors=True)


def _wine(env: dict[str, str], *args: str) -> None:
    _run([str(find_wine()), *args], env, f"'wine {' '.join(args)}'")


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=CREATE_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        raise UsageError(
            f"creating rescheck's Wine prefix: {what} did not finish in {CREATE_TIMEOUT_S:.0f} s"
        ) from None
    if done.returncode != 0:
        said = [line for line in done.stderr.splitlines() if line.strip()]
        raise UsageError(
            f"creating rescheck's Wine prefix: {what} exited with {done.returncode}"
            + (f": {said[-1].strip()}" if said else "")
        )


def _own_user_folders(prefix: Path) -> None:
    """Wine links Desktop, Documents, ... to the user's home: make them folders of the
    prefix, so that what a target writes there goes with its run. (``os.walk`` follows no
    link: nothing in the home is touched.)"""
    for folder, dirs, files in os.walk(prefix / "drive_c" / "users"):
        for name in dirs + files:
            link = Path(folder, name)
            if link.is_symlink():
                link.unlink()
                link.mkdir()


def _read_only(tree: Path) -> None:
    """Take the write bits off every file: clones link them, so a write would reach them all."""
    for folder, _, files in os.walk(tree):
        for name in files:
            path = Path(folder, name)
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                path.chmod(stat.S_IMODE(info.st_mode) & ~0o222)


def _shown(path: Path) -> str:
    home = Path(os.path.expanduser("~"))
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


# --- one wineserver per run ------------------------------------------------------------------

_live: set[WineServer] = set()


class WineServer:
    """A run's own prefix (a clone of the template) and its persistent wineserver, until
    `close`. ``prefix`` is the WINEPREFIX of the run's hosts; `env` their environment."""

    def __init__(self) -> None:
        template = ensure_prefix()
        runs = cache_root() / "wine-runs"
        runs.mkdir(exist_ok=True)
        rundir.sweep(str(runs))
        self._pid = os.getpid()
        self.root, self._lock = _locked_dir(runs)
        self.prefix = self.root / "prefix"
        self._guardian: subprocess.Popen[bytes] | None = None
        self._close_lock = threading.Lock()
        _live.add(self)
        try:
            with _template_lock(template.parent, exclusive=False):
                clone_prefix(template, self.prefix)
            self._guardian = self._start()
        except BaseException:
            self.close()
            raise

    def env(
        self, extra: Mapping[str, str] | None = None, dll_overrides: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """`host_env` for this run's prefix."""
        return host_env(self.prefix, extra, dll_overrides)

    def _start(self) -> subprocess.Popen[bytes]:
        """The wineserver under a guardian, once its first client (WARM_UP) is done. A warm-up
        that fails is tried again once: on a loaded machine Wine's first client sometimes
        gives up while the server is still setting the prefix up."""
        for _ in range(START_ATTEMPTS - 1):
            with contextlib.suppress(UsageError):
                return self._start_once()
        return self._start_once()

    def _start_once(self) -> subprocess.Popen[bytes]:
        cmd = ["/bin/sh", "-c", KEEPER, "sh", str(find_wineserver()), str(find_wine()), WARM_UP]
        keeper = subprocess.Popen(
            guardian_argv(cmd),
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert keeper.stdout is not None
        with keeper.stdout:
            ready, _, _ = select.select([keeper.stdout], [], [], START_TIMEOUT_S)
            line = keeper.stdout.readline() if ready else b""
        if line != b"ready 0\n":
            kill_tree(keeper)
            said = line.decode(errors="replace").strip() or f"no answer in {START_TIMEOUT_S:.0f} s"
            raise UsageError(f"Wine did not start in {_shown(self.prefix)} ({said})")
        return keeper

    def close(self) -> None:
        """End the wineserver and every process of the prefix, remove the clone. Idempotent and
        safe from two threads; in a forked child, only lets go of the parent's lock."""
        with self._close_lock:
            if self._lock is None:
                return
            if os.getpid() == self._pid:
                if self._guardian is not None:
                    kill_tree(self._guardian)
                end_processes(self.prefix)
                shutil.rmtree(self.root, ignore_errors=True)
            os.close(self._lock)
            self._lock = None
            _live.discard(self)

    def __enter__(self) -> WineServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WineServer({str(self.prefix)!r}{', closed' if self._lock is None else ''})"


def clone_prefix(template: Path, dest: Path) -> Path:
    """A prefix of its own at ``dest`` for the price of links: the registry files are copied,
    everything else is hard-linked, symlinks are copied as links, and Wine's update of the
    prefix is disabled (it would rewrite the linked files)."""
    dest.mkdir()
    for entry in os.scandir(template):
        if entry.is_file(follow_symlinks=False) and entry.name not in NOT_CLONED:
            shutil.copyfile(entry.path, dest / entry.name)
    (dest / ".update-timestamp").write_text("disable\n")
    pending = [(Path(template), dest)]
    while pending:
        source, target = pending.pop()
        for entry in os.scandir(source):
            into = target / entry.name
            if entry.is_symlink():
                os.symlink(os.readlink(entry.path), into)
            elif entry.is_dir():
                into.mkdir()
                pending.append((Path(entry.path), into))
            elif source != template:
                os.link(entry.path, into)
    return dest


def _locked_dir(parent: Path) -> tuple[Path, int]:
    """A new directory in ``parent`` under an exclusive flock held until the fd is closed,
    named as `conformance.rundir` names run dirs, so that its sweep removes it once we die."""
    new = tempfile.mkdtemp(prefix=rundir.NEW_PREFIX, dir=parent)
    fd = None
    try:
        fd = os.open(os.path.join(new, rundir.LOCK_NAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        root = (
            parent
            / f"{rundir.PREFIX}{os.getpid()}-{os.path.basename(new)[len(rundir.NEW_PREFIX) :]}"
        )
        os.rename(new, root)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        if fd is not None:
            os.close(fd)
        raise
    return root, fd


@atexit.register
def _close_all() -> None:
    for server in list(_live):
        server.close()
