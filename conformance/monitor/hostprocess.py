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

from conformance.monitor.threads import harness_thread

#: Bytes of the host's stdout and stderr kept as evidence (the rest is read and dropped).
OUTPUT_TAIL = 4096


class OutputTail:
    """Reads a stream to its end, keeping only the last OUTPUT_TAIL bytes."""

    def __init__(self, stream: Any, name: str) -> None:
        self.data: deque[bytes] = deque()
        self.size = 0
        self.total = 0
        self._stream = stream
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
    """The host's process: its own session, its output tailed, its end reported once."""

    def __init__(
        self,
        argv: Sequence[str],
        pass_fds: Sequence[int],
        env: dict[str, str],
        on_exit: Callable[[], None],
    ) -> None:
        self.process = subprocess.Popen(
            list(argv),
            pass_fds=tuple(pass_fds),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: closing kills everything in it
            env=env,
        )
        #: The host's own pid, once its hello said it (a launcher may stand in between).
        self.pid = self.process.pid
        self.exit: str | None = None
        self._stdout = OutputTail(self.process.stdout, "stdout")
        self._stderr = OutputTail(self.process.stderr, "stderr")
        self._on_exit = on_exit
        harness_thread(threading.Thread(target=self._wait, name="host-waiter", daemon=True)).start()

    def _wait(self) -> None:
        """When the process exits, tell the owner even if a fork still holds its channel."""
        self.exit = describe_exit(self.process.wait())
        self._on_exit()

    def exit_status(self) -> str:
        """How the process ended ("still running" if it has not)."""
        return self.exit or describe_exit(self.process.poll())

    def signal(self, signum: int) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signum)

    def output(self) -> str:
        out, err = self._stdout.text(), self._stderr.text()
        return "".join(
            f"{name}:\n{text}\n" for name, text in (("stdout", out), ("stderr", err)) if text
        )

    def last_words(self) -> str:
        """The last line the host wrote on stderr (why it could not load, say)."""
        self._stderr.thread.join(timeout=1)
        said = [line for line in self._stderr.text().splitlines() if line.strip()]
        return said[-1].strip() if said else ""

    def kill(self, grace: float) -> None:
        """Wait ``grace`` seconds for the host to end by itself, then kill its process group
        and the host itself (in case it left the group)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        for kill in (lambda: os.killpg(self.process.pid, signal.SIGKILL), self.process.kill):
            with contextlib.suppress(OSError):
                kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        for tail in (self._stdout, self._stderr):
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
