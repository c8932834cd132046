"""Values: what an argument, a return value or a callback's parameter may be on the wire.

MessagePack's own types (nil, bool, int, float, str, bin, array) carry plain data; an array
is a C struct or a Python tuple. Everything else is an extension type whose body is a
MessagePack array:

=====  ===================  =============================  =========================
code   name                 body                           sent by
=====  ===================  =============================  =========================
1      REF                  [ref, text, type name]         host: an object it keeps
2      ENUM                 [enum name, value]             host: a documented enum
3      RESOURCE_HANDLE      [value]                        both
4      HKEY                 [key, path]                    monitor: a cluster key
5      LPHANDLE             []                             monitor: Online's out handle
6      QUORUM_LOST          []                             monitor: Arbitrate's routine
7      OUT_BUFFER           [bytes]                        monitor: a control OutBuffer
=====  ===================  =============================  =========================

A value the harness receives is only data: a REF is a name for something that stays in the
host (its text is shown in evidence), an ENUM becomes one of `conformance.resapi`'s own
enums or a plain int.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import msgpack

from conformance import resapi
from conformance.protocol.frames import ProtocolError
from conformance.resapi import RESOURCE_HANDLE

REF, ENUM, RESOURCE_HANDLE_EXT, HKEY_EXT, LPHANDLE, QUORUM_LOST, OUT_BUFFER = range(1, 8)
#: Longest str/bytes value sent whole; longer ones are cut (still longer than any limit checked).
PLAIN_LIMIT = 65536
#: Ints beyond int64/uint64 cross as a REF (a report cannot show 10**5000 anyway).
INT_BITS = 64
#: Arrays (tuples) cross element by element, this deep and this long at most.
TUPLE_DEPTH = 3
TUPLE_LENGTH = (64, 16, 16)
#: The longest text of a REF.
REF_TEXT = 200
#: The documented enums a value may name; any other ENUM arrives as its int.
ENUMS = {
    cls.__name__: cls
    for cls in vars(resapi).values()
    if isinstance(cls, type) and issubclass(cls, IntEnum) and cls is not IntEnum
}
_PLAIN = (type(None), bool, int, float, str, bytes)


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


class HkeyRef:
    """A cluster-database key the monitor hands a host (Open's ResourceKey, OpenCluster's
    root): the host reads and writes under it through ClusterDatabase callbacks."""

    __slots__ = ("key", "path")

    def __init__(self, key: int, path: str) -> None:
        self.key, self.path = key, path

    def __repr__(self) -> str:
        return f"HKEY({self.path!r})"


class OutHandle:
    """Online's ``LPHANDLE EventHandle``: where the DLL may put a failure event."""

    def __repr__(self) -> str:
        return "LPHANDLE"


class QuorumRoutine:
    """Arbitrate's ``PQUORUM_RESOURCE_LOST``: the host calls back LostQuorumResource."""

    def __repr__(self) -> str:
        return "PQUORUM_RESOURCE_LOST"


def plain(value: Any) -> tuple[bool, Any]:
    """``(True, what to send)`` when ``value`` is plain data: of an exact plain type, or a
    subclass reduced to its base value (without running the subclass's code); else False."""
    kind = type(value)
    if kind in _PLAIN:
        if kind is int and not -(1 << (INT_BITS - 1)) <= value < 1 << INT_BITS:
            return False, None  # MessagePack holds int64 and uint64
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


def ext(code: int, *body: Any) -> msgpack.ExtType:
    return msgpack.ExtType(code, msgpack.packb(body, use_bin_type=True))


def wire(value: Any) -> Any:
    """A plain value (see `plain`) or one of the extension types, ready to pack."""
    if isinstance(value, IntEnum):
        return ext(ENUM, type(value).__name__, int(value))
    if type(value) is RESOURCE_HANDLE:
        return ext(RESOURCE_HANDLE_EXT, value.value)
    if type(value) is RemoteRef:
        return ext(REF, value.ref, value.text, value.type_name)
    if type(value) is HkeyRef:
        return ext(HKEY_EXT, value.key, value.path)
    if type(value) is OutHandle:
        return ext(LPHANDLE)
    if type(value) is QuorumRoutine:
        return ext(QUORUM_LOST)
    if type(value) is bytearray:
        return ext(OUT_BUFFER, bytes(value))
    if type(value) is tuple:
        return tuple(wire(item) for item in value)
    if type(value) is dict:
        return {key: wire(item) for key, item in value.items()}
    return value


def _body(data: bytes, *types: type) -> tuple[Any, ...]:
    try:
        body = msgpack.unpackb(data, raw=False, use_list=False, max_str_len=PLAIN_LIMIT)
    except Exception as exc:
        raise ProtocolError(f"an unreadable extension value ({exc})", data) from None
    if (
        not isinstance(body, tuple)
        or len(body) != len(types)
        or not all(type(item) is kind for item, kind in zip(body, types, strict=True))
    ):
        names = ", ".join(t.__name__ for t in types)
        raise ProtocolError(f"an extension value that is not [{names}]", data)
    return body


def from_host(code: int, data: bytes) -> Any:
    """The harness's reading of an extension value a host sent."""
    if code == REF:
        ref, text, type_name = _body(data, int, str, str)
        return RemoteRef(ref, text[:REF_TEXT], type_name[:REF_TEXT])
    if code == ENUM:
        name, number = _body(data, str, int)
        cls = ENUMS.get(name)
        if cls is not None:
            try:
                return cls(number)
            except ValueError:
                pass
        return number
    if code == RESOURCE_HANDLE_EXT:
        (number,) = _body(data, int)
        return RESOURCE_HANDLE(number)
    raise ProtocolError(f"extension type {code}, which a host may not send", data)


def from_monitor(code: int, data: bytes) -> Any:
    """A host's reading of an extension value the monitor sent (REFs it handed out, keys,
    out parameters, routines)."""
    if code == HKEY_EXT:
        return HkeyRef(*_body(data, int, str))
    if code == LPHANDLE:
        return OutHandle()
    if code == QUORUM_LOST:
        return QuorumRoutine()
    if code == OUT_BUFFER:
        (content,) = _body(data, bytes)
        return bytearray(content)
    return from_host(code, data)


_EXTENSIONS = (RemoteRef, RESOURCE_HANDLE, HkeyRef, OutHandle, QuorumRoutine, bytearray)


def check(value: Any, depth: int = 0) -> None:
    """A value a host sent: plain, a known extension, or an array within the bounds."""
    kind = type(value)
    if kind in _PLAIN or kind in _EXTENSIONS or isinstance(value, IntEnum):
        if kind in (str, bytes) and len(value) > PLAIN_LIMIT:
            raise ProtocolError(f"a value of {len(value)} characters (at most {PLAIN_LIMIT})")
        return
    if kind is tuple and depth < TUPLE_DEPTH and len(value) <= TUPLE_LENGTH[depth]:
        for item in value:
            check(item, depth + 1)
        return
    shown = f"an array of {len(value)}" if kind is tuple else f"a {kind.__name__}"
    raise ProtocolError(f"{shown} at depth {depth}, where a value is expected")
