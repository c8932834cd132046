"""Ctrl-C during a campaign (`rescheck fuzz`, `rescheck quorum`): the campaign stops, writes
the reports of what it decided, marked incomplete, and raises `Interrupted` with them."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from conformance.report.model import RunResult


class Interrupted(KeyboardInterrupt):
    """A campaign ended by Ctrl-C; ``result`` is what it decided (its reports are written)."""

    def __init__(self, result: RunResult) -> None:
        super().__init__("interrupted")
        self.result = result


class Watch:
    """Remembers a Ctrl-C. Cleanup that runs while the KeyboardInterrupt propagates (a state
    machine's teardown, a host's shutdown) may replace it with another exception, which
    hypothesis would take for a failure and shrink instead of stopping; `check` raises it
    again wherever the campaign looks next."""

    def __init__(self) -> None:
        self.seen = False

    def check(self) -> None:
        if self.seen:
            raise KeyboardInterrupt

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Note every SIGINT, then let the handler there was act on it as before."""
        previous = signal.getsignal(signal.SIGINT)
        if threading.current_thread() is not threading.main_thread() or not callable(previous):
            yield  # no signal reaches this thread, or SIGINT is ignored: nothing to note
            return

        def noted(signum: int, frame: object) -> None:
            self.seen = True
            previous(signum, frame)  # type: ignore[operator]

        signal.signal(signal.SIGINT, noted)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
