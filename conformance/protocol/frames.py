"""Frames: a little-endian u32 length, then that many bytes of one MessagePack map.

Both sides read with the same hard limits, so that whatever a host writes into its channel
costs the harness at most one frame's worth of memory, and anything malformed is a
`ProtocolError` (the host's fault, with the bytes as evidence), never an exception of ours.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from typing import Any

import msgpack

#: The version this side speaks; a hello naming another is refused.
PROTOCOL_VERSION = 1
#: The largest frame either side sends or accepts (an OutBuffer of 1 MiB and its overrun fit).
MAX_FRAME = 2 << 20
#: Longest string, longest array and largest map a frame may hold.
MAX_STR = 256 << 10
MAX_ARRAY = 1 << 16
MAX_MAP = 1 << 12
_HEADER = struct.Struct("<I")
#: Bytes read from the channel at once.
_CHUNK = 1 << 16


class ProtocolError(Exception):
    """What a host sent breaks the protocol; ``evidence`` is what it sent, cut short."""

    def __init__(self, reason: str, evidence: bytes = b"") -> None:
        super().__init__(reason)
        self.reason = reason
        self.evidence = evidence[:32]

    def describe(self) -> str:
        shown = f" (it sent {self.evidence!r})" if self.evidence else ""
        return f"{self.reason}{shown}"


def pack(message: dict[str, Any], default: Callable[[Any], Any] | None = None) -> bytes:
    """One frame, header included. ``default`` turns values MessagePack cannot hold into
    extension types (see `conformance.protocol.values`)."""
    body = msgpack.packb(message, default=default, use_bin_type=True)
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"a frame of {len(body)} bytes is over the limit of {MAX_FRAME}")
    return _HEADER.pack(len(body)) + body


def unpack(body: bytes, ext_hook: Callable[[int, bytes], Any]) -> dict[str, Any]:
    """The message in one frame's body, read with the limits."""
    try:
        message = msgpack.unpackb(
            body,
            raw=False,
            use_list=False,
            strict_map_key=True,
            max_str_len=MAX_STR,
            max_bin_len=MAX_FRAME,
            max_array_len=MAX_ARRAY,
            max_map_len=MAX_MAP,
            max_ext_len=MAX_FRAME,
            ext_hook=ext_hook,
        )
    except ProtocolError:
        raise
    except Exception as exc:  # msgpack's own errors, UnicodeDecodeError, StackError, ...
        raise ProtocolError(f"an unreadable frame ({type(exc).__name__}: {exc})", body) from None
    if not isinstance(message, dict):
        raise ProtocolError(f"a frame holds a {type(message).__name__}, not a map", body)
    return message


class FrameReader:
    """Reads whole frames from a file descriptor (a socket or a pipe)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = bytearray()

    def read(self) -> bytes | None:
        """The next frame's body; None at a clean end of the stream (between frames)."""
        while True:
            if len(self._buffer) >= _HEADER.size:
                (length,) = _HEADER.unpack_from(self._buffer)
                if length == 0 or length > MAX_FRAME:
                    raise ProtocolError(
                        f"a frame header announces {length} bytes (1 to {MAX_FRAME} allowed)",
                        bytes(self._buffer[:64]),
                    )
                end = _HEADER.size + length
                if len(self._buffer) >= end:
                    body = bytes(self._buffer[_HEADER.size : end])
                    del self._buffer[:end]
                    return body
            chunk = os.read(self._fd, _CHUNK)
            if not chunk:
                if self._buffer:
                    raise ProtocolError(
                        f"the stream ended inside a frame ({len(self._buffer)} bytes of it)",
                        bytes(self._buffer[:64]),
                    )
                return None
            self._buffer += chunk


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
