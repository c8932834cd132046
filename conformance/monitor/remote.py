"""What crosses the boundary between the harness and an isolated host process.

Messages are pickled tuples over one socket, each side reading on one thread. Values the
target hands out that are not plain data (a RESID object, a failure event) stay in the host;
the harness holds a `RemoteRef` or a `RemoteEvent` that names them.
"""

from __future__ import annotations

import importlib
import io
import pickle
import threading
from enum import IntEnum
from typing import Any

#: The answer to a database call from a host once the run's database is closed.
DB_CLOSED = ("db-closed",)
#: Types that cross as they are (exact types: a subclass could carry the target's code).
PLAIN = (type(None), bool, int, float, str, bytes)
#: Longest str/bytes sent whole; longer ones are cut (and still longer than any limit checked).
PLAIN_LIMIT = 65536
#: Ints wider than this cross as a RemoteRef (a report cannot show 10**5000 anyway).
INT_BITS = 64
#: Tuples cross element by element, this deep and this long at most.
TUPLE_DEPTH = 3
TUPLE_LENGTH = (64, 16, 16)


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


def plain(value: Any) -> tuple[bool, Any]:
    """``(True, what to send)`` when ``value`` is plain data: of an exact plain type, or a
    subclass reduced to its base value (without running the subclass's code); else False."""
    kind = type(value)
    if kind in PLAIN:
        if kind is int and value.bit_length() > INT_BITS:
            return False, None
        if kind in (str, bytes):
            return True, value[:PLAIN_LIMIT]
        return True, value
    if isinstance(value, IntEnum) and kind.__module__ == "conformance.resapi":
        return True, value  # the harness's own enums (LOG_LEVEL, CLUSTER_RESOURCE_STATE, ...)
    for base, convert in ((int, int.__int__), (float, float.__float__)):
        if isinstance(value, base):
            return plain(convert(value))
    if isinstance(value, str):
        return True, str.__str__(value)[:PLAIN_LIMIT]
    if isinstance(value, bytes):
        return True, bytes.__getitem__(value, slice(0, PLAIN_LIMIT))
    return False, None


#: What the harness accepts when it unpickles a message from a host: its own classes only.
SAFE_CLASSES = {
    ("conformance.monitor.remote", "RemoteRef"),
    ("conformance.monitor.monitor", "RESOURCE_HANDLE"),
    ("conformance.monitor.usage", "Usage"),
}


class SafeUnpickler(pickle.Unpickler):
    """Unpickles a host's message without ever running or importing the target's code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in SAFE_CLASSES:
            return super().find_class(module, name)
        if module == "conformance.resapi":
            found = getattr(importlib.import_module(module), name, None)
            if isinstance(found, type) and issubclass(found, IntEnum):
                return found
        raise pickle.UnpicklingError(f"a host sent {module}.{name}, which the harness refuses")


def loads(data: bytes) -> Any:
    return SafeUnpickler(io.BytesIO(data)).load()
