"""The harness's end of one host's channel: checked messages in, requests with futures out.

One thread reads frames, checks each message (`conformance.protocol.messages`) and hands it
to the owner; a request is a `Pending` that the owner resolves with its answer. What a host
sends that breaks the protocol ends the reading with a `ProtocolError` as the reason: the
owner stops that host and blames it; nothing a host sends raises in the harness.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable

from conformance.protocol import messages, values
from conformance.protocol.frames import FrameReader, ProtocolError, pack, unpack, write_all
from conformance.protocol.messages import Message
from conformance.runtime.threads import harness_thread


class Pending:
    """A request waiting for its answer (a bare lock: the cheapest hand-off there is)."""

    __slots__ = ("_done", "answer")

    def __init__(self) -> None:
        self.answer: Message | None = None  # None: the host ended before answering
        self._done = threading.Lock()
        self._done.acquire()

    def resolve(self, answer: Message | None) -> None:
        self.answer = answer
        with contextlib.suppress(RuntimeError):  # resolved twice: the first answer stands
            self._done.release()

    def wait(self, timeout: float) -> bool:
        return self._done.acquire(timeout=min(max(timeout, 0.0), threading.TIMEOUT_MAX))


class Channel:
    """Frames over a socket (or a pair of pipes), both directions."""

    def __init__(
        self,
        read_fd: int,
        write_fd: int,
        on_message: Callable[[Message, int], None],
        on_end: Callable[[ProtocolError | None], None],
    ) -> None:
        self._read_fd, self._write_fd = read_fd, write_fd
        self._on_message, self._on_end = on_message, on_end
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self.issued = 0  # the highest request id sent: a higher answer is a host's invention
        self._pending: dict[int, Pending] = {}
        self._lock = threading.Lock()
        self.ended = False
        self.had_pending = False  # requests were waiting when the channel ended
        self.reader = harness_thread(
            threading.Thread(target=self._read, name="host-reader", daemon=True)
        )
        self.reader.start()

    # --- out -------------------------------------------------------------------------------
    def send(self, message: Message) -> None:
        """Send a message; a channel whose host has gone swallows it."""
        data = pack(message.to_wire())
        with self._send_lock, contextlib.suppress(OSError):
            write_all(self._write_fd, data)

    def request(self, make: Callable[[int], Message]) -> tuple[int, Pending]:
        """Send the message ``make(id)`` and return the Pending its answer resolves."""
        pending = Pending()
        with self._lock:
            rid = next(self._ids)
            self.issued = rid
            if self.ended:
                pending.resolve(None)
                return rid, pending
            self._pending[rid] = pending
        self.send(make(rid))
        return rid, pending

    def forget(self, rid: int) -> None:
        """A request the caller stopped waiting for: a late answer is dropped."""
        with self._lock:
            self._pending.pop(rid, None)

    def resolve(self, rid: int, answer: Message | None) -> None:
        with self._lock:
            pending = self._pending.pop(rid, None)
        if pending is not None:
            pending.resolve(answer)

    # --- in --------------------------------------------------------------------------------
    def _read(self) -> None:
        reader = FrameReader(self._read_fd)
        violation: ProtocolError | None = None
        try:
            while (body := reader.read()) is not None:
                message = messages.read_from_host(unpack(body, values.from_host))
                rid = getattr(message, "id", None)
                answers = not isinstance(message, messages.Callback) and rid is not None
                if answers and rid > self.issued:
                    raise ProtocolError(f"an answer to request {rid}, which was never sent")
                self._on_message(message, len(body))
        except ProtocolError as exc:
            violation = exc
        except OSError:
            pass
        with self._lock:
            self.ended = True
            waiting, self._pending = list(self._pending.values()), {}
            self.had_pending = bool(waiting)
        self._on_end(violation)
        for pending in waiting:
            pending.resolve(None)  # each call in flight reports the end itself
