"""The guardian: nothing a target starts outlives its host, daemonised or not.

A process group is not enough: a target that calls ``setsid()`` and forks twice leaves it, and
a process group is not killed when rescheck itself is SIGKILLed. So the host runs under a
guardian, started as ``guardian_argv(cmd)`` (``python -I -S .../reaper.py -- CMD...``: no site,
no package import, only ``os``, ``_signal``, ``time`` and ``ctypes``; its start is measured in
tests/unit/test_reaper.py):

* it is a *child subreaper* (``PR_SET_CHILD_SUBREAPER``): whatever the host starts and orphans,
  through any number of ``setsid`` and forks, is reparented to it, not to init, so it stays
  findable in /proc as its descendant;
* it learns that its parent died through ``PR_SET_PDEATHSIG`` (SIGUSR1, then ``getppid()`` is
  compared: the kernel also sends it when only the *thread* that started the guardian ends, so
  a host started from a worker thread is not killed when that thread ends), and checks the
  parent once right after arming it, for a parent that died before;
* CMD runs in a session of its own (a target's ``kill(0, ...)`` or ``killpg`` does not reach
  the guardian) with ``PR_SET_PDEATHSIG=SIGKILL``: if the guardian is killed, CMD dies with it;
* when CMD exits, or the parent dies, or the guardian gets SIGTERM, SIGINT, SIGHUP or SIGQUIT,
  it ends every descendant: SIGSTOP (a stopped process cannot fork) to each one, parents
  before children, and to their process groups as wholes, a new /proc scan once they are seen
  stopped until it finds nothing new, then SIGKILL all, reap, and again until it has no child
  left. Signals go through pidfds checked against the parent found in the scan, so a recycled
  pid is never hit. SIGSTOP and SIGKILL cannot be caught or ignored, and a stopped process
  neither forks nor reaps; a group signal also stops a process that forks and exits in a
  loop, which a scan is always one pid behind.

Contract for the caller (``subprocess.Popen(guardian_argv(cmd, status_fd=w), pass_fds=...)``):

* CMD gets the guardian's stdin, stdout, stderr, environment, cwd and every inheritable fd:
  what ``pass_fds`` passes to the guardian reaches CMD as is. After starting CMD the guardian
  closes its own copies of fds 3 and up, so EOF on a pipe or socket means CMD and its
  descendants closed it. Signals ignored when the guardian started stay ignored in CMD.
* The status fd (``status_fd=``, also in ``pass_fds``; close your copy of the write end after
  Popen) gets ``pid N`` once CMD runs (``read_pid``: the pid to send CMD signals to, say
  SIGUSR1 for its stacks, before it could say it itself), then ``exit N`` or ``signal N`` when
  CMD is reaped (or ``error ...`` instead of both), and is closed. ``read_status`` turns the
  rest into Popen's return code (``N``, or ``-N`` for "killed by signal N"). When the guardian
  ended CMD (SIGTERM, parent death), CMD's status is "killed by SIGKILL".
* The guardian's exit code mirrors CMD's: N, or 128+N when a signal N killed it; 127 when CMD
  was not found, 126 when it could not be run, 125 when the guardian failed (bad arguments,
  prctl refused, its parent already gone). CMD can exit with those numbers itself: the status
  fd is exact, the exit code is a convenience.
* ``kill_tree(process)`` ends a guardian and everything under it from outside; use it instead
  of ``os.killpg`` (that would kill the guardian before it kills the rest).
* Start it with ``start_new_session=True``: a Ctrl-C in the terminal is then rescheck's to
  handle, not a reason for every guardian to kill its host at once.

What it cannot stop (only a cgroup or a PID namespace would): a target that kills the
guardian by pid (CMD still dies, its escaped descendants do not); processes started for it by
someone else (``systemd-run``, ``at``, D-Bus activation); and a process that forks, starts a
session of its own and exits, in a tight loop: no group holds it still and each scan may find
it gone, so after END_S the guardian gives up, says so on stderr and exits. A daemon under it
sees the guardian, not 1, as its ``getppid()``. Linux only.
"""

from __future__ import annotations

import _signal  # not `signal`: building its enums is a third of the guardian's start
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess

#: This file, run as a script so that the guardian imports nothing of the package.
REAPER = os.path.abspath(__file__)

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
#: The parent-death signal: only a hint, ``getppid()`` decides (see the module docstring).
PARENT_DIED = _signal.SIGUSR1
#: Signals that make the guardian end everything (CMD included).
ENDING = frozenset({_signal.SIGTERM, _signal.SIGINT, _signal.SIGHUP, _signal.SIGQUIT})
WATCHED = frozenset({_signal.SIGCHLD, PARENT_DIED, *ENDING})

EXIT_GUARDIAN_FAILED = 125
EXIT_CANNOT_RUN = 126
EXIT_NOT_FOUND = 127

#: A process signalled by pid (``os.kill``) because no pidfd could be opened for it.
NO_PIDFD = -1
#: How long `kill_tree` lets the guardian end things itself before it does.
KILL_GRACE_S = 2.0
#: How long a SIGSTOPped process gets to be seen stopped (one in D state may take longer).
STOP_WAIT_S = 0.5
#: How long the guardian waits for killed children between two rounds of the kill loop.
ROUND_S = 0.05
#: How long the guardian tries to end its descendants before it gives up (what escapes a
#: scan every time: a process that forks, leaves its session and exits, in a loop).
END_S = 10.0


def guardian_argv(cmd: list[str], *, status_fd: int | None = None) -> list[str]:
    """The command line that runs ``cmd`` under a guardian whose parent is this process."""
    argv = [sys.executable, "-I", "-S", REAPER, "--parent", str(os.getpid())]
    if status_fd is not None:
        argv += ["--status-fd", str(status_fd)]
    return [*argv, "--", *cmd]


def read_pid(fd: int) -> int | None:
    """CMD's pid, from the first line of the status pipe (waits until CMD runs; the pipe is
    left open for `read_status`). None when CMD could not be started."""
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(fd, 1)  # one at a time: nothing past the line is taken from the pipe
        if not byte:
            break
        line += byte
    words = line.split()
    return int(words[1]) if len(words) == 2 and words[0] == b"pid" else None


def read_status(fd: int) -> int | None:
    """CMD's return code as Popen gives it, from the read end of the status pipe (read to
    EOF, then closed). None when CMD never ran or the guardian was killed before reaping it."""
    with open(fd, "rb") as pipe:
        lines = pipe.read().splitlines()
    words = lines[-1].split() if lines else []
    if len(words) == 2 and words[1].isdigit():
        if words[0] == b"exit":
            return int(words[1])
        if words[0] == b"signal":
            return -int(words[1])
    return None


def kill_tree(process: subprocess.Popen, grace: float = KILL_GRACE_S) -> int | None:
    """End the guardian ``process`` and everything under it, and reap it; its return code,
    None if it outlived even SIGKILL by ``grace`` (a process in D state).

    SIGTERM lets the guardian do it; one that does not end within ``grace`` (stopped, stuck)
    is frozen with its whole tree and killed from here. Takes the Popen, not a pid: Popen does
    not signal a process it has reaped, whose pid may be someone else's by now."""
    import subprocess

    process.send_signal(_signal.SIGTERM)
    try:
        return process.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    tree = _Tree(process.pid, time.monotonic() + grace)
    if process.returncode is None and tree.hold(process.pid, None):
        _wait_stopped([process.pid])  # then it reaps nothing more: its children's pids hold
        tree.freeze()
    tree.kill()
    try:
        return process.wait(grace)
    except subprocess.TimeoutExpired:
        return None


def descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (zombies too), parents before children: a /proc snapshot."""
    return _subtree(_table(), pid)


# --- /proc -------------------------------------------------------------------------------------
def _stat(pid: int) -> tuple[int, str, int, int] | None:
    """(ppid, state letter, process group, session) of a process, None when it is gone."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, 4096)
    except OSError:  # ESRCH: it ended between open and read
        return None
    finally:
        os.close(fd)
    # "pid (comm) state ppid pgrp session ...": comm may hold spaces and ")": split after the last
    state, ppid, group, session = data.rpartition(b")")[2].split()[:4]
    return int(ppid), state.decode(), int(group), int(session)


def _table() -> dict[int, tuple[int, str, int, int]]:
    """`_stat` of every process visible here; the ``children`` files are not used because
    kernels without CONFIG_PROC_CHILDREN lack them."""
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = _stat(int(name))
            if stat is not None:
                table[int(name)] = stat
    return table


def _subtree(table: dict[int, tuple[int, str, int, int]], root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, stat in table.items():
        children.setdefault(stat[0], []).append(pid)
    found, level = [], children.get(root, [])
    while level:
        found += level
        level = [c for p in level for c in children.get(p, [])]
    return found


# --- signalling --------------------------------------------------------------------------------
def _send(pid: int, handle: int, sig: int) -> None:
    try:
        if handle == NO_PIDFD:
            os.kill(pid, sig)  # a negative pid: the process group
        else:
            _signal.pidfd_send_signal(handle, sig)
    except OSError:  # gone, or not ours to signal (a setuid program): the others still are
        pass


def _wait_stopped(pids: list[int]) -> None:
    """Until each of ``pids`` is stopped, a zombie or gone, at most STOP_WAIT_S: SIGSTOP takes
    effect when the process next runs, and only then is its list of children final."""
    deadline = time.monotonic() + STOP_WAIT_S
    for pid in pids:
        pause = 0.0005
        while time.monotonic() < deadline:
            stat = _stat(pid)
            if stat is None or stat[1] in "TtZX":
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.01)


class _Tree:
    """The processes under ``root`` being ended: each pinned by a pidfd (so a recycled pid is
    never signalled) and stopped, then all killed.

    Their process groups are stopped and killed as wholes too, which catches at once what a
    scan cannot: a process that forks and exits in a loop, whose current pid a scan is always
    one step behind. Only groups in a session other than root's are signalled: CMD starts a
    session of its own and nothing outside it can join it or the sessions made under it, so
    such a group holds descendants only; and while a member is alive or an unreaped zombie
    (parents are stopped, the guardian does not reap meanwhile) its id cannot be recycled."""

    def __init__(self, root: int, deadline: float) -> None:
        self.root = root
        self.deadline = deadline
        self.held: dict[int, int] = {}
        self.groups: set[int] = set()
        stat = _stat(root)
        self.session = stat[3] if stat else None

    def hold(self, pid: int, parents: set[int] | None) -> bool:
        """Pin and SIGSTOP ``pid`` if its parent is still one of ``parents`` (None: not
        checked); whether it was (not: gone, or its pid now names a process not ours)."""
        try:
            handle = os.pidfd_open(pid)
        except ProcessLookupError:
            return False
        except OSError:  # a kernel before 5.3, or no fd left: signalled by pid
            handle = NO_PIDFD
        if parents is not None:
            stat = _stat(pid)  # after the pidfd: if this is ours, the pidfd is too (or dead)
            if stat is None or stat[0] not in parents:
                if handle != NO_PIDFD:
                    os.close(handle)
                return False
        self.held[pid] = handle
        _send(pid, handle, _signal.SIGSTOP)
        return True

    def freeze(self) -> bool:
        """Stop every descendant of root, scanning again, once those found are seen stopped,
        until a scan finds nothing new (a stopped process cannot fork, so this ends) or the
        deadline passes; whether it ended."""
        refused: set[int] = set()
        while time.monotonic() < self.deadline:
            table = _table()
            new = [p for p in _subtree(table, self.root) if p not in self.held and p not in refused]
            if not new:
                return True
            for group in {table[p][2] for p in new if table[p][3] != self.session} - self.groups:
                self.groups.add(group)
                _send(-group, NO_PIDFD, _signal.SIGSTOP)
            for pid in new:  # parents come first, so a child's parent is already held
                if not self.hold(pid, {self.root, *self.held}):
                    refused.add(pid)
            _wait_stopped(new)
        return False

    def kill(self) -> None:
        for group in self.groups:
            _send(-group, NO_PIDFD, _signal.SIGKILL)
        for pid, handle in self.held.items():
            _send(pid, handle, _signal.SIGKILL)
            if handle != NO_PIDFD:
                os.close(handle)


# --- the guardian ------------------------------------------------------------------------------
def _prctl(option: int, value: int) -> None:
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = [ctypes.c_int, *[ctypes.c_ulong] * 4]
    if prctl(option, value, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno), f"prctl({option})")


def _spawn(cmd: list[str]) -> int:
    """Fork and exec CMD in a session of its own, killed by the kernel if the guardian dies.
    Raises the OSError of a failed exec (reported through a close-on-exec pipe)."""
    guardian = os.getpid()
    errors_r, errors_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(errors_r)
            _prctl(PR_SET_PDEATHSIG, _signal.SIGKILL)
            if os.getppid() != guardian:  # it died before the line above
                os._exit(EXIT_GUARDIAN_FAILED)
            os.setsid()
            for sig in (_signal.SIGPIPE, _signal.SIGXFSZ):  # Python ignores them; exec keeps that
                _signal.signal(sig, _signal.SIG_DFL)
            _signal.pthread_sigmask(_signal.SIG_SETMASK, ())
            os.execvp(cmd[0], cmd)
        except OSError as error:
            os.write(errors_w, str(error.errno).encode())
        finally:
            os._exit(EXIT_NOT_FOUND)
    os.close(errors_w)
    with open(errors_r, "rb") as errors:
        failed = errors.read()
    if failed:
        os.waitpid(pid, 0)
        errno = int(failed)
        raise OSError(errno, os.strerror(errno), cmd[0])
    return pid


class _Guardian:
    def __init__(self, parent: int, status_fd: int | None) -> None:
        self.me = os.getpid()
        self.parent = parent
        self.status_fd = status_fd
        self.cmd = 0
        self.status: int | None = None  # CMD's wait status once reaped

    def report(self, line: str, *, last: bool = True) -> None:
        """A line on the status fd, closed after the ``last`` one."""
        if self.status_fd is None:
            return
        try:
            os.write(self.status_fd, line.encode())
        except OSError:  # nobody reads it any more
            last = True
        if last:
            os.close(self.status_fd)
            self.status_fd = None

    def reap(self, timeout: float) -> bool:
        """Reap the children that ended, waiting up to ``timeout`` for more; False when no
        child is left."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return False
            if pid:
                if pid == self.cmd:
                    self.status = status
                    code = os.waitstatus_to_exitcode(status)
                    self.report(f"exit {code}\n" if code >= 0 else f"signal {-code}\n")
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            _signal.sigtimedwait({_signal.SIGCHLD}, left)

    def watch(self) -> None:
        """Until CMD exits, the parent dies or an ending signal comes; orphans adopted on the
        way are reaped as they end."""
        while True:
            signo = _signal.sigwaitinfo(WATCHED).si_signo
            if signo == _signal.SIGCHLD:
                self.reap(0)
                if self.status is not None:
                    return
            elif signo != PARENT_DIED or os.getppid() != self.parent:
                return

    def end_all(self) -> None:
        """Stop, kill and reap every descendant, CMD included, until no child is left or
        END_S has passed. With no child there is no descendant (an orphan would have been
        adopted), so a host that left nothing behind costs no /proc scan."""
        deadline = time.monotonic() + END_S
        while self.reap(0):
            if time.monotonic() > deadline:
                left = descendants(self.me)
                print(f"reaper: gave up after {END_S:.0f} s; left: {left}", file=sys.stderr)
                return
            tree = _Tree(self.me, deadline)
            tree.freeze()
            tree.kill()
            self.reap(ROUND_S)

    def exit_code(self) -> int:
        if self.status is None:
            return EXIT_GUARDIAN_FAILED
        code = os.waitstatus_to_exitcode(self.status)
        return code if code >= 0 else 128 - code


def _parse(argv: list[str]) -> tuple[int, int | None, list[str]]:
    """(parent, status fd, CMD) from ``[--parent PID] [--status-fd FD] -- CMD...``."""
    parent, status_fd = os.getppid(), None
    while argv and argv[0] != "--":
        option, value, *argv = argv
        if option == "--parent":
            parent = int(value)
        elif option == "--status-fd":
            status_fd = int(value)
        else:
            raise ValueError(f"unknown option {option}")
    if len(argv) < 2:
        raise ValueError("no command")
    return parent, status_fd, argv[1:]


def main(argv: list[str]) -> int:
    """Run the guardian; its exit code (see the module docstring)."""
    try:
        parent, status_fd, cmd = _parse(argv)
    except ValueError as error:
        print(f"reaper: {error}\nusage: reaper.py [--parent PID] [--status-fd FD] -- CMD [ARG...]",
              file=sys.stderr)  # fmt: skip
        return EXIT_GUARDIAN_FAILED
    guardian = _Guardian(parent, status_fd)
    _signal.pthread_sigmask(_signal.SIG_BLOCK, WATCHED)  # taken by sigwaitinfo, never lost
    try:
        if status_fd is not None:  # CMD must not hold it: EOF means "the guardian is done"
            os.set_inheritable(status_fd, False)
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        _prctl(PR_SET_PDEATHSIG, PARENT_DIED)
    except OSError as error:
        guardian.report(f"error {error}\n")
        print(f"reaper: {error}", file=sys.stderr)
        return EXIT_GUARDIAN_FAILED
    if os.getppid() != parent:  # the parent died before PDEATHSIG was armed
        guardian.report("error the parent is gone\n")
        return EXIT_GUARDIAN_FAILED
    try:
        guardian.cmd = _spawn(cmd)
    except OSError as error:
        guardian.report(f"error {error}\n")
        print(f"reaper: cannot run {cmd[0]}: {error.strerror}", file=sys.stderr)
        return EXIT_NOT_FOUND if isinstance(error, FileNotFoundError) else EXIT_CANNOT_RUN
    guardian.report(f"pid {guardian.cmd}\n", last=False)
    top = os.sysconf("SC_OPEN_MAX")
    if status_fd is None or status_fd < 3:
        os.closerange(3, top)
    else:
        os.closerange(3, status_fd)
        os.closerange(status_fd + 1, top)
    guardian.watch()
    guardian.end_all()
    return guardian.exit_code()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
