"""A host process as an operating-system process: started, watched, its output kept, ended.

Nothing here speaks the protocol (that is `channel`) or knows the Host interface (that is
`isolated`): this is the part a native host under Wine shares with the Python host.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from conformance.monitor.reaper import guardian_argv, kill_tree, read_pid, read_status
from conformance.runtime.threads import harness_thread

#: Bytes of the host's stdout and stderr kept as evidence (the rest is read and dropped).
OUTPUT_TAIL = 4096


class OutputTail:
    """Reads a stream to its end, keeping only the last OUTPUT_TAIL bytes."""

    def __init__(self, stream: Any, name: str) -> None:
        self.data: deque[bytes] = deque()
        self.size = 0
        self.total = 0
        self._stream = stream
        self.name = name
        self.thread = harness_thread(
            threading.Thread(target=self._read, name=f"host-{name}", daemon=True)
        )
        self.thread.start()

    def _read(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := self._stream.read1(65536):
                self.total += len(chunk)
                self.data.append(chunk)
                self.size += len(chunk)
                while self.size - len(self.data[0]) >= OUTPUT_TAIL:
                    self.size -= len(self.data.popleft())

    def close(self) -> None:
        self._stream.close()

    def text(self) -> str:
        tail = b"".join(self.data)[-OUTPUT_TAIL:].decode("utf-8", "replace")
        dropped = self.total - min(self.total, OUTPUT_TAIL)
        return (f"[{dropped} earlier bytes dropped]\n" if dropped else "") + tail


class HostProcess:
    """The host's process, under a guardian (`reaper`) that ends everything it starts: its own
    session, its output tailed, its end reported once."""

    def __init__(
        self,
        argv: Sequence[str],
        pass_fds: Sequence[int],
        env: dict[str, str],
        on_exit: Callable[[], None],
        stdin: int | None = None,
        stdout: int | None = None,
    ) -> None:
        """``stdin``/``stdout``: descriptors that are the host's channel (the native host's),
        else nothing in and the output tailed."""
        status_read, status_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                guardian_argv(list(argv), status_fd=status_write),
                pass_fds=(*pass_fds, status_write),
                stdin=subprocess.DEVNULL if stdin is None else stdin,
                stdout=subprocess.PIPE if stdout is None else stdout,
                stderr=subprocess.PIPE,
                start_new_session=True,  # a Ctrl-C in the terminal is rescheck's to handle
                env=env,
            )
        finally:
            os.close(status_write)
        #: The host's own pid (the guardian's child), which the monitor signals.
        self.pid = read_pid(status_read) or self.process.pid
        self.exit: str | None = None
        self._said = threading.Event()  # the guardian has said how the host ended
        self._status = status_read
        self._tails = [OutputTail(self.process.stderr, "stderr")]
        if self.process.stdout is not None:
            self._tails.insert(0, OutputTail(self.process.stdout, "stdout"))
        self._on_exit = on_exit
        harness_thread(threading.Thread(target=self._wait, name="host-waiter", daemon=True)).start()

    def _wait(self) -> None:
        """When the host exits (the guardian reports it once everything under it has ended),
        tell the owner even if a process that escaped still holds its channel."""
        code = read_status(self._status)
        self.process.wait()
        self.exit = describe_exit(code if code is not None else self.process.returncode)
        self._said.set()
        self._on_exit()

    def exit_status(self) -> str:
        """How the host ended ("ended" until the guardian has said how)."""
        if self.process.poll() is None:
            return "still running"
        self._said.wait(2.0)  # the waiter reads it from the guardian just after the exit
        return self.exit or "ended"

    def signal(self, signum: int) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signum)

    def output(self) -> str:
        return "".join(f"{tail.name}:\n{text}\n" for tail in self._tails if (text := tail.text()))

    def last_words(self) -> str:
        """The last line the host wrote on stderr (why it could not load, say)."""
        stderr = self._tails[-1]
        stderr.thread.join(timeout=1)
        said = [line for line in stderr.text().splitlines() if line.strip()]
        return said[-1].strip() if said else ""

    def kill(self, grace: float) -> None:
        """Wait ``grace`` seconds for the host to end by itself, then end it and everything
        it started (the guardian does, or `kill_tree` from here if the guardian is stuck)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        if self.process.returncode is None:
            kill_tree(self.process)
        for tail in self._tails:
            tail.thread.join(timeout=1)  # at EOF; a process that escaped may still hold it
            if not tail.thread.is_alive():
                with contextlib.suppress(OSError):
                    tail.close()


def describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"
