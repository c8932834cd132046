"""The guardian (`conformance.monitor.reaper`), with real processes: daemons that leave their
session, a parent SIGKILLed, processes that ignore SIGTERM or change pid in a loop, exit
statuses, fds, and what the guardian costs to start.

Every "it is gone" is a wait with a deadline on /proc; a zombie counts as gone (it runs no
code; whoever adopted it reaps it when it likes)."""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conformance.monitor import reaper
from conformance.monitor.reaper import guardian_argv, kill_tree, read_pid, read_status

REPO = Path(__file__).resolve().parents[2]
#: How long anything is given to end or to show up.
DEADLINE_S = 10.0


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat.rpartition(b")")[2].split()[0] not in (b"Z", b"X")


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[1])


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.01)


def _all_gone(pids: list[int], timeout: float = DEADLINE_S) -> None:
    _wait_until(lambda: not any(_alive(p) for p in pids), f"{pids} all gone", timeout)


def _marked(marker: str) -> list[int]:
    """Live processes whose command line holds ``marker``."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline and _alive(int(name)):
                found.append(int(name))
    return found


def _lines(stream, count: int) -> list[str]:
    """``count`` lines from a pipe, failing the test instead of hanging."""
    deadline, data = time.monotonic() + DEADLINE_S, b""
    while data.count(b"\n") < count:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([stream], [], [], left)[0]:
            pytest.fail(f"wanted {count} lines, got {data!r}")
        chunk = os.read(stream.fileno(), 4096)
        if not chunk:
            pytest.fail(f"EOF after {data!r}")
        data += chunk
    return data.decode().splitlines()


def _script(source: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(source)]


@pytest.fixture
def guardians() -> Iterator[Callable[..., tuple[subprocess.Popen, int]]]:
    """Starts guardians with a status pipe (returns the Popen and the pipe's read end); kills
    what is left of them after the test."""
    started: list[subprocess.Popen] = []

    def start(cmd: list[str], **popen) -> tuple[subprocess.Popen, int]:
        r, w = os.pipe()
        popen.setdefault("stdout", subprocess.PIPE)
        pass_fds = (w, *popen.pop("pass_fds", ()))
        process = subprocess.Popen(
            guardian_argv(cmd, status_fd=w), pass_fds=pass_fds, start_new_session=True, **popen
        )
        os.close(w)
        started.append(process)
        return process, r

    yield start
    for process in started:
        kill_tree(process, grace=1.0)
        for stream in (process.stdin, process.stdout):
            if stream:
                with contextlib.suppress(BrokenPipeError):
                    stream.close()


# a child that leaves the session, forks a `sleep 60` and exits: the classic daemon
DAEMON = textwrap.dedent("""
    import os, sys
    pid = os.fork()
    if pid == 0:
        os.setsid()
        grandchild = os.fork()
        if grandchild == 0:
            os.execvp("sleep", ["sleep", "60"])
        print("daemon", grandchild, flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
    print("cmd", os.getpid(), flush=True)
""")


def test_a_daemon_that_left_the_session_ends_with_the_host(guardians) -> None:
    process, status = guardians(
        _script(DAEMON + "sys.stdin.readline()\nsys.exit(0)"), stdin=subprocess.PIPE
    )
    pids = dict(line.split() for line in _lines(process.stdout, 2))
    daemon, cmd = int(pids["daemon"]), int(pids["cmd"])
    assert read_pid(status) == cmd
    assert _alive(daemon)
    assert _ppid(daemon) == process.pid  # adopted by the guardian, not by init
    assert set(reaper.descendants(process.pid)) == {cmd, daemon}
    process.stdin.write(b"exit\n")
    process.stdin.flush()
    assert process.wait(DEADLINE_S) == 0
    assert read_status(status) == 0
    assert not _alive(daemon)


def test_b_everything_dies_when_the_guardians_parent_is_sigkilled() -> None:
    cmd = _script(DAEMON + "import time\ntime.sleep(60)")
    middle = subprocess.Popen(
        _script(f"""
            import subprocess, sys
            from conformance.monitor.reaper import guardian_argv
            guardian = subprocess.Popen(guardian_argv({cmd!r}))
            print("guardian", guardian.pid, flush=True)
            guardian.wait()
        """),
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        pids = [int(line.split()[1]) for line in _lines(middle.stdout, 3)]
        assert all(_alive(p) for p in pids)
    finally:
        middle.kill()
        middle.wait()
        middle.stdout.close()
    start = time.perf_counter()
    _all_gone(pids)
    print(f"\nall gone {time.perf_counter() - start:.3f} s after the parent was SIGKILLed")


def test_b_a_guardian_started_from_a_thread_outlives_the_thread(guardians) -> None:
    """PDEATHSIG fires when the starting *thread* ends; the guardian must look again."""
    started: list[tuple[subprocess.Popen, int]] = []
    cmd_pids: list[int | None] = []

    def start() -> None:
        started.append(guardians(cmd, stdin=subprocess.PIPE, stdout=None))
        cmd_pids.append(read_pid(started[0][1]))  # CMD runs: PDEATHSIG is armed by now

    cmd = _script("import sys; sys.stdin.readline(); sys.exit(5)")
    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    process, status = started[0]
    assert cmd_pids[0] and _alive(cmd_pids[0])
    # nothing to wait for: a guardian that took the thread's end for its parent's would kill
    # CMD within a few ms of it, and then CMD could not answer 5 below
    time.sleep(0.3)
    process.stdin.write(b"go\n")
    process.stdin.flush()
    assert process.wait(DEADLINE_S) == 5
    assert read_status(status) == 5


def test_b_cmd_dies_with_a_sigkilled_guardian(guardians) -> None:
    process, _ = guardians(
        _script("import os, time; print(os.getpid(), flush=True); time.sleep(60)")
    )
    cmd = int(_lines(process.stdout, 1)[0])
    process.kill()
    process.wait()
    _all_gone([cmd])


STUBBORN = """
    import os, signal, time
    if os.fork() == 0:
        os.setsid()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        print(os.getpid(), flush=True)
        while True:
            time.sleep(1)
    time.sleep(60)
"""


def test_c_a_descendant_that_ignores_sigterm_is_killed(guardians) -> None:
    process, status = guardians(_script(STUBBORN))
    stubborn = int(_lines(process.stdout, 1)[0])
    assert kill_tree(process) == 128 + signal.SIGKILL  # the guardian's own SIGTERM path
    assert read_status(status) == -signal.SIGKILL
    assert not _alive(stubborn)


@pytest.mark.parametrize("pidfds", [True, False], ids=["pidfd", "no-pidfd"])
def test_c_kill_tree_ends_a_guardian_that_does_not_answer(guardians, monkeypatch, pidfds) -> None:
    if not pidfds:  # a kernel before 5.3: processes are signalled by pid

        def no_pidfd(pid: int) -> int:
            raise OSError(errno.ENOSYS, "pidfd_open")

        monkeypatch.setattr(os, "pidfd_open", no_pidfd)
    process, _ = guardians(_script(STUBBORN))
    stubborn = int(_lines(process.stdout, 1)[0])
    tree = reaper.descendants(process.pid)
    os.kill(process.pid, signal.SIGSTOP)  # a stuck guardian: SIGTERM stays pending
    assert kill_tree(process, grace=0.3) == -signal.SIGKILL
    assert stubborn in tree
    _all_gone(tree)


def test_c_a_stuck_host_is_killed(guardians) -> None:
    """A host that spins and one that is stopped: neither needs to cooperate."""
    hello = "import os, signal; print(os.getpid(), flush=True)\n"
    for stuck in ("while True: pass", "os.kill(os.getpid(), signal.SIGSTOP)"):
        process, status = guardians(_script(hello + stuck))
        host = int(_lines(process.stdout, 1)[0])
        assert kill_tree(process) == 128 + signal.SIGKILL
        assert read_status(status) == -signal.SIGKILL
        assert not _alive(host)


def test_c_a_target_that_kills_its_process_group_spares_the_guardian(guardians) -> None:
    process, status = guardians(_script("import os, signal; os.killpg(0, signal.SIGKILL)"))
    assert process.wait(DEADLINE_S) == 128 + signal.SIGKILL  # not -SIGKILL: it survived
    assert read_status(status) == -signal.SIGKILL


def test_c_processes_that_change_pid_in_a_loop_are_caught(guardians) -> None:
    """Fork, parent exits, child goes on: four such hoppers, never at the same pid twice."""
    marker = uuid.uuid4().hex
    hoppers = """
        import os, time
        for _ in range(4):
            if os.fork() == 0:
                os.setsid()
                print("hopping", flush=True)
                os.close(1)
                while True:
                    if os.fork():
                        os._exit(0)
        time.sleep(60)
    """
    process, status = guardians([*_script(hoppers), marker])
    _lines(process.stdout, 4)
    # the guardian, CMD and two hoppers at least (a scan can miss one that hops meanwhile)
    _wait_until(lambda: len(_marked(marker)) >= 4, "hoppers seen in /proc")
    assert kill_tree(process) == 128 + signal.SIGKILL
    assert read_status(status) == -signal.SIGKILL
    assert _marked(marker) == []  # the guardian ended with no child left: none escaped


def test_d_exit_code_and_signal_are_reported(guardians) -> None:
    process, status = guardians(_script("import sys; sys.exit(3)"))
    assert process.wait(DEADLINE_S) == 3
    assert read_status(status) == 3
    kill_self = "import os, signal; os.kill(os.getpid(), signal.SIGUSR2)"
    process, status = guardians(_script(kill_self))
    assert process.wait(DEADLINE_S) == 128 + signal.SIGUSR2
    assert read_status(status) == -signal.SIGUSR2


def test_d_a_command_that_cannot_run_is_reported(guardians) -> None:
    process, status = guardians(["/nonexistent/rescheck-host"], stderr=subprocess.PIPE)
    assert read_pid(status) is None
    assert process.wait(DEADLINE_S) == reaper.EXIT_NOT_FOUND
    assert read_status(status) is None
    assert b"cannot run /nonexistent/rescheck-host" in process.stderr.read()
    process.stderr.close()


def test_d_a_guardian_whose_parent_is_not_its_parent_runs_nothing(tmp_path) -> None:
    """The check right after PDEATHSIG is armed: a parent that already died is not there."""
    flag = tmp_path / "ran"
    argv = guardian_argv(["touch", str(flag)])
    argv[argv.index("--parent") + 1] = "1"
    assert subprocess.run(argv).returncode == reaper.EXIT_GUARDIAN_FAILED
    assert not flag.exists()


def test_fds_pass_through_and_the_guardian_keeps_none(guardians) -> None:
    """A pass_fds fd reaches CMD; the status fd does not; EOF on the fd comes when CMD
    closes it, while the guardian still runs."""
    r, w = os.pipe()
    cmd = f"""
        import os, sys
        others = []
        for fd in range(3, 256):
            try:
                os.fstat(fd)
                others.append(fd)
            except OSError:
                pass
        print(others, flush=True)
        os.write({w}, b"hello")
        os.close({w})
        sys.stdin.readline()
    """
    process, status = guardians(_script(cmd), pass_fds=(w,), stdin=subprocess.PIPE)
    os.close(w)
    assert _lines(process.stdout, 1) == [str([w])]  # not the status fd, nothing else either
    with open(r, "rb") as pipe:
        assert pipe.read() == b"hello"  # read to EOF: nobody else holds the write end
    assert process.poll() is None
    process.stdin.write(b"\n")
    process.stdin.flush()
    assert process.wait(DEADLINE_S) == 0
    assert read_status(status) == 0


def test_e_start_cost() -> None:
    """What the guardian adds to a host's start, printed (machines differ too much to assert):
    medians of interleaved runs, so that a busy moment of the machine hits every kind alike."""
    python = [sys.executable, "-c", "pass"]
    kinds = {
        "true": ["true"],
        "guardian running true": guardian_argv(["true"]),
        "python3 -c pass": python,
        "guardian running python3 -c pass": guardian_argv(python),
    }
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(21):
        for kind, argv in kinds.items():
            start = time.perf_counter()
            subprocess.run(argv, check=True)
            times[kind].append((time.perf_counter() - start) * 1000)
    median = {kind: sorted(t)[len(t) // 2] for kind, t in times.items()}
    shown = ", ".join(f"{kind} {ms:.1f} ms" for kind, ms in median.items())
    added = median["guardian running python3 -c pass"] - median["python3 -c pass"]
    print(f"\nstart, median of 21: {shown}; the guardian adds {added:.1f} ms to a Python host")
