"""A hung host's thread stacks, as evidence for the call that did not return."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable
from pathlib import Path

#: How long a hung host gets to send its stacks, and then faulthandler to write them.
STACKS_ASK_S = 0.3
STACKS_WAIT_S = 0.5
#: The most of a stacks file read (the end of it: faulthandler appends).
STACKS_KEPT = 64 << 10


def read_stacks(
    ask: Callable[[float], str | None], send_signal: Callable[[int], None], stacks_file: Path
) -> str:
    """Asked first (a host whose Python still runs answers, and a target that took SIGUSR1
    over is not killed by it); a host stuck with the GIL held only answers faulthandler, which
    writes ``stacks_file`` on SIGUSR1."""
    text = ask(STACKS_ASK_S)
    if text:
        return text
    with contextlib.suppress(OSError):
        stacks_file.write_bytes(b"")
        send_signal(signal.SIGUSR1)
    deadline = time.perf_counter() + STACKS_WAIT_S
    size = -1
    while time.perf_counter() < deadline:
        time.sleep(0.05)
        now = stacks_file.stat().st_size if stacks_file.exists() else 0
        if now and now == size:
            break  # written and no longer growing
        size = now
    with contextlib.suppress(OSError), stacks_file.open("rb") as file:
        file.seek(max(0, file.seek(0, 2) - STACKS_KEPT))
        text = file.read().decode("utf-8", "replace")
        if text:
            return text
    return "(the host process gave no stacks: it did not answer, and wrote none on SIGUSR1)"
