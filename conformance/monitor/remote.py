"""What crosses the boundary between the harness and an isolated host process.

Messages are pickled tuples over one socket, each side reading on one thread. Values the
target hands out that are not plain data (a RESID object, a failure event) stay in the host;
the harness holds a `RemoteRef` or a `RemoteEvent` that names them.
"""

from __future__ import annotations

import threading
from typing import Any

#: Values that cross as they are; anything else stays in the host behind a RemoteRef.
PLAIN = (type(None), bool, int, float, str, bytes)
#: Longest plain str/bytes sent as itself (a flood is cut, not shipped).
PLAIN_LIMIT = 65536


class RemoteRef:
    """An object that lives in the host (a RESID, a table member), named by its id there."""

    __slots__ = ("ref", "text", "type_name")

    def __init__(self, ref: int, text: str, type_name: str) -> None:
        self.ref, self.text, self.type_name = ref, text, type_name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemoteRef) and other.ref == self.ref

    def __hash__(self) -> int:
        return hash(("RemoteRef", self.ref))

    def __repr__(self) -> str:
        return self.text

    def __reduce__(self) -> tuple[Any, ...]:
        return (RemoteRef, (self.ref, self.text, self.type_name))


class RemoteEvent:
    """A failure event Online handed out; the host tells the harness when it is set."""

    def __init__(self, event: int, text: str) -> None:
        self.event, self.text = event, text
        self._set = threading.Event()

    def is_set(self) -> bool:
        return self._set.is_set()

    def signal(self) -> None:
        self._set.set()

    def __repr__(self) -> str:
        return self.text


def is_plain(value: Any, depth: int = 0) -> bool:
    """True for data that means the same on both sides (and is not too big to send)."""
    if isinstance(value, (str, bytes)):
        return len(value) <= PLAIN_LIMIT
    if isinstance(value, PLAIN):
        return True
    if isinstance(value, tuple) and depth < 3 and len(value) <= 64:
        return all(is_plain(item, depth + 1) for item in value)
    return False
