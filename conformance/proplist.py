"""The CLUSPROP format of control-code buffers: value lists, property lists, MULTI_SZ.

A strict parser (every rule of docs/contract.md §6.6 is checked, and the first breach raises one
`ProplistError` naming the byte offset) and a builder that writes exactly what the parser
accepts. Buffers come from the DLL under test, so the parser trusts nothing: every length is
checked against what is left before it is used, and every loop consumes bytes.

* A value entry is a Syntax DWORD (``type << 16 | format``, PL-4), a Length DWORD (the data's
  size: strings include their terminating NUL, padding excluded, PL-2), the data, and zero
  padding to a DWORD boundary (PL-1).
* A value list is entries up to an ENDMARK, which is a Syntax only (PL-1).
* A property list is a DWORD count, then per property a CLUSPROP_SYNTAX_NAME entry, one or
  more values and an ENDMARK (PL-3).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.resapi import (
    CLUSPROP_FORMAT_BINARY,
    CLUSPROP_FORMAT_DWORD,
    CLUSPROP_FORMAT_EXPAND_SZ,
    CLUSPROP_FORMAT_EXPANDED_SZ,
    CLUSPROP_FORMAT_FILETIME,
    CLUSPROP_FORMAT_LARGE_INTEGER,
    CLUSPROP_FORMAT_LONG,
    CLUSPROP_FORMAT_MULTI_SZ,
    CLUSPROP_FORMAT_PROPERTY_LIST,
    CLUSPROP_FORMAT_SECURITY_DESCRIPTOR,
    CLUSPROP_FORMAT_SZ,
    CLUSPROP_FORMAT_ULARGE_INTEGER,
    CLUSPROP_FORMAT_USER,
    CLUSPROP_FORMAT_WORD,
    CLUSPROP_SYNTAX_ENDMARK,
    CLUSPROP_SYNTAX_LIST_VALUE_BINARY,
    CLUSPROP_SYNTAX_LIST_VALUE_DWORD,
    CLUSPROP_SYNTAX_LIST_VALUE_MULTI_SZ,
    CLUSPROP_SYNTAX_LIST_VALUE_SZ,
    CLUSPROP_SYNTAX_NAME,
    CLUSPROP_TYPE_ENDMARK,
    CLUSPROP_TYPE_LAST_DOCUMENTED,
    CLUSPROP_TYPE_LIST_VALUE,
    CLUSPROP_TYPE_NAME,
    CLUSPROP_TYPE_USER,
)
from conformance.runtime.trace import short_repr

_DWORD = struct.Struct("<I")
#: Fixed data sizes by format; the others are variable.
_FIXED = {
    CLUSPROP_FORMAT_DWORD: 4,
    CLUSPROP_FORMAT_LONG: 4,
    CLUSPROP_FORMAT_WORD: 2,
    CLUSPROP_FORMAT_ULARGE_INTEGER: 8,
    CLUSPROP_FORMAT_LARGE_INTEGER: 8,
    CLUSPROP_FORMAT_FILETIME: 8,
}
_SIGNED = {CLUSPROP_FORMAT_LONG, CLUSPROP_FORMAT_LARGE_INTEGER}
_STRINGS = {CLUSPROP_FORMAT_SZ, CLUSPROP_FORMAT_EXPAND_SZ, CLUSPROP_FORMAT_EXPANDED_SZ}


class ProplistError(ValueError):
    """A buffer that breaks the CLUSPROP format; ``offset`` is where the breach is."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"at byte {offset}: {reason}")
        self.offset = offset
        self.reason = reason


@dataclass(frozen=True)
class Value:
    """One entry: its syntax and its data, decoded (int, str, list of str, or bytes)."""

    syntax: int
    data: Any

    @property
    def format(self) -> int:
        return self.syntax & 0xFFFF

    @property
    def type(self) -> int:
        return self.syntax >> 16

    @classmethod
    def of(cls, data: Any) -> Value:
        """The usual syntax for a Python value: int as DWORD, str as SZ, a list of str as
        MULTI_SZ, bytes as BINARY."""
        if isinstance(data, bool) or not isinstance(data, int | str | bytes | list | tuple):
            raise TypeError(f"no CLUSPROP syntax for {type(data).__name__}: {data!r}")
        if isinstance(data, int):
            return cls(CLUSPROP_SYNTAX_LIST_VALUE_DWORD, data)
        if isinstance(data, str):
            return cls(CLUSPROP_SYNTAX_LIST_VALUE_SZ, data)
        if isinstance(data, bytes):
            return cls(CLUSPROP_SYNTAX_LIST_VALUE_BINARY, data)
        return cls(CLUSPROP_SYNTAX_LIST_VALUE_MULTI_SZ, list(data))


@dataclass(frozen=True)
class Property:
    """A property of a property list: its name and one or more values (PL-3)."""

    name: str
    values: tuple[Value, ...]

    @classmethod
    def of(cls, name: str, *data: Any) -> Property:
        return cls(name, tuple(d if isinstance(d, Value) else Value.of(d) for d in data))

    @property
    def value(self) -> Any:
        """The first value's data (the stored one, for an EXPAND_SZ with two, PL-8)."""
        return self.values[0].data


# --- parsing ---------------------------------------------------------------------------------
def _dword(buf: bytes, offset: int, what: str) -> int:
    if offset + 4 > len(buf):
        raise ProplistError(offset, f"the buffer ends before the {what} (needs 4 bytes)")
    return _DWORD.unpack_from(buf, offset)[0]


def valid_format(fmt: int) -> bool:
    """A documented CLUSTER_PROPERTY_FORMAT, or a user-defined one (PL-6)."""
    return 0 <= fmt <= CLUSPROP_FORMAT_PROPERTY_LIST or CLUSPROP_FORMAT_USER <= fmt <= 0xFFFF


def valid_syntax(syntax: int) -> bool:
    """A documented CLUSTER_PROPERTY_TYPE in the upper word and CLUSTER_PROPERTY_FORMAT in the
    lower word, or user-defined ones (PL-4..PL-6)."""
    kind = syntax >> 16
    kind_ok = kind <= CLUSPROP_TYPE_LAST_DOCUMENTED or kind >= CLUSPROP_TYPE_USER
    return kind_ok and valid_format(syntax & 0xFFFF)


def _utf16(raw: bytes, offset: int) -> str:
    try:
        return raw.decode("utf-16-le", "surrogatepass")  # WCHARs: lone surrogates are text
    except UnicodeDecodeError as exc:
        raise ProplistError(offset + exc.start, f"not UTF-16 text ({exc.reason})") from None


def _decode(syntax: int, raw: bytes, offset: int) -> Any:
    fmt = syntax & 0xFFFF
    size = _FIXED.get(fmt)
    if size is not None:
        if len(raw) != size:
            raise ProplistError(
                offset - 4, f"Length {len(raw)} for syntax 0x{syntax:08X}; its data is {size} bytes"
            )
        return int.from_bytes(raw, "little", signed=fmt in _SIGNED)
    if fmt in _STRINGS:
        if len(raw) < 2 or len(raw) % 2 or raw[-2:] != b"\0\0":
            raise ProplistError(
                offset - 4,
                f"Length {len(raw)} for a string (syntax 0x{syntax:08X}) does not end with its "
                "terminating NUL (the Length counts it, PL-2)",
            )
        text = _utf16(raw[:-2], offset)
        if "\0" in text:
            raise ProplistError(
                offset + 2 * text.index("\0"),
                "a NUL inside the string: the Length is longer than the string (PL-2)",
            )
        return text
    if fmt == CLUSPROP_FORMAT_MULTI_SZ:
        return _multi_sz(raw, offset)
    return bytes(raw)


def _multi_sz(raw: bytes, offset: int) -> list[str]:
    if raw in (b"", b"\0\0", b"\0\0\0\0"):
        return []  # no data, one NUL, or the registry's two
    if len(raw) % 2 or raw[-4:] != b"\0\0\0\0":
        raise ProplistError(
            offset, "a MULTI_SZ is NUL-terminated strings and one more NUL after the last"
        )
    strings = _utf16(raw[:-4], offset).split("\0")
    if "" in strings:
        at = offset + 2 * sum(len(s) + 1 for s in strings[: strings.index("")])
        raise ProplistError(at, "an empty string inside a MULTI_SZ ends the list early")
    return strings


def parse_value(buf: bytes, offset: int = 0) -> tuple[Value, int]:
    """One entry at ``offset``; returns it and the offset after its padding."""
    syntax = _dword(buf, offset, "Syntax")
    if not valid_syntax(syntax):
        raise ProplistError(offset, f"syntax 0x{syntax:08X} is no CLUSPROP syntax (PL-4)")
    if syntax == CLUSPROP_SYNTAX_ENDMARK:
        return Value(syntax, None), offset + 4
    if syntax >> 16 == CLUSPROP_TYPE_ENDMARK and syntax & 0xFFFF:
        raise ProplistError(offset, f"syntax 0x{syntax:08X}: an ENDMARK has no format (PL-1)")
    length = _dword(buf, offset + 4, "Length")
    start = offset + 8
    if length > len(buf) - start:
        raise ProplistError(
            offset + 4, f"Length {length} runs past the end of the buffer ({len(buf)} bytes)"
        )
    data = _decode(syntax, bytes(buf[start : start + length]), start)
    end = start + length
    padded = end + (-length % 4)
    if padded > len(buf):
        raise ProplistError(end, "the buffer ends inside the padding to a DWORD boundary (PL-1)")
    if any(buf[end:padded]):
        raise ProplistError(end, "padding bytes are not zero (PL-1: zero the buffer first)")
    return Value(syntax, data), padded


def parse_value_list(buf: bytes, offset: int = 0) -> tuple[list[Value], int]:
    """Entries up to and excluding the ENDMARK; returns them and the offset after it."""
    values: list[Value] = []
    while True:
        value, offset = parse_value(buf, offset)
        if value.syntax == CLUSPROP_SYNTAX_ENDMARK:
            return values, offset
        values.append(value)


def parse_property_list(buf: bytes) -> list[Property]:
    """A property list (PL-3) that fills ``buf`` (BytesReturned is the size of what was
    written, RC-6). One ENDMARK may follow the last value list: the GET pages say the list
    ends with one (CC-9, CC-10), the property-lists page's example has none."""
    count = _dword(buf, 0, "property count")
    # every property takes at least 16 bytes (an empty NAME is 12, an ENDMARK 4)
    if count > (len(buf) - 4) // 16:
        raise ProplistError(0, f"a count of {count} properties cannot fit in {len(buf)} bytes")
    offset = 4
    props: list[Property] = []
    for _ in range(count):
        at = offset
        name, offset = parse_value(buf, offset)
        if name.syntax != CLUSPROP_SYNTAX_NAME:
            raise ProplistError(
                at, f"expected a property name (CLUSPROP_SYNTAX_NAME), found 0x{name.syntax:08X}"
            )
        values_at = offset
        values: list[Value] = []
        while True:
            at = offset
            value, offset = parse_value(buf, offset)
            if value.syntax == CLUSPROP_SYNTAX_ENDMARK:
                break
            if value.type in (CLUSPROP_TYPE_ENDMARK, CLUSPROP_TYPE_NAME):
                raise ProplistError(
                    at,
                    f"a name (0x{value.syntax:08X}) among the values of {name.data!r}: is the "
                    "ENDMARK before it missing, or the property count wrong?",
                )
            values.append(value)
        if not values:
            raise ProplistError(values_at, f"property {name.data!r} has no value (PL-3)")
        props.append(Property(name.data, tuple(values)))
    if bytes(buf[offset:]) == _DWORD.pack(CLUSPROP_SYNTAX_ENDMARK):
        offset += 4
    if offset != len(buf):
        raise ProplistError(
            offset, f"{len(buf) - offset} bytes follow the last of the {count} properties"
        )
    return props


def parse_multi_sz(buf: bytes) -> list[str]:
    """A bare MULTI_SZ (ENUM_PRIVATE_PROPERTIES, CC-8): strings, each NUL-terminated, then one
    more NUL. An empty list is an empty buffer or a single NUL."""
    if not buf:
        return []
    return _multi_sz(bytes(buf), 0)


# --- building --------------------------------------------------------------------------------
def _encode(value: Value) -> bytes:
    fmt, data = value.format, value.data
    if fmt in _FIXED:
        return int(data).to_bytes(_FIXED[fmt], "little", signed=fmt in _SIGNED)
    if fmt in _STRINGS:
        return (str(data) + "\0").encode("utf-16-le", "surrogatepass")
    if fmt == CLUSPROP_FORMAT_MULTI_SZ:
        return build_multi_sz(data)
    return bytes(data)


def build_value(value: Value) -> bytes:
    if value.syntax == CLUSPROP_SYNTAX_ENDMARK:
        return _DWORD.pack(CLUSPROP_SYNTAX_ENDMARK)
    raw = _encode(value)
    return _DWORD.pack(value.syntax) + _DWORD.pack(len(raw)) + raw + b"\0" * (-len(raw) % 4)


def build_value_list(values: Iterable[Value]) -> bytes:
    return b"".join(build_value(v) for v in values) + _DWORD.pack(CLUSPROP_SYNTAX_ENDMARK)


def build_property_list(props: Sequence[Property]) -> bytes:
    body = b"".join(
        build_value(Value(CLUSPROP_SYNTAX_NAME, p.name)) + build_value_list(p.values) for p in props
    )
    return _DWORD.pack(len(props)) + body


def build_multi_sz(strings: Iterable[str]) -> bytes:
    return "".join(s + "\0" for s in strings).encode("utf-16-le", "surrogatepass") + b"\0\0"


# --- showing ---------------------------------------------------------------------------------
FORMAT_NAMES = {
    CLUSPROP_FORMAT_BINARY: "BINARY",
    CLUSPROP_FORMAT_DWORD: "DWORD",
    CLUSPROP_FORMAT_SZ: "SZ",
    CLUSPROP_FORMAT_EXPAND_SZ: "EXPAND_SZ",
    CLUSPROP_FORMAT_MULTI_SZ: "MULTI_SZ",
    CLUSPROP_FORMAT_ULARGE_INTEGER: "ULARGE_INTEGER",
    CLUSPROP_FORMAT_LONG: "LONG",
    CLUSPROP_FORMAT_EXPANDED_SZ: "EXPANDED_SZ",
    CLUSPROP_FORMAT_SECURITY_DESCRIPTOR: "SECURITY_DESCRIPTOR",
    CLUSPROP_FORMAT_LARGE_INTEGER: "LARGE_INTEGER",
    CLUSPROP_FORMAT_WORD: "WORD",
    CLUSPROP_FORMAT_FILETIME: "FILETIME",
}


def _syntax_name(value: Value) -> str:
    if value.type == CLUSPROP_TYPE_LIST_VALUE and value.format in FORMAT_NAMES:
        return FORMAT_NAMES[value.format]
    return f"syntax 0x{value.syntax:08X}"


def describe_property_list(buf: bytes, limit: int = 40) -> list[str]:
    """The list as lines (``Port = DWORD 8080``), at most ``limit``, or where it stops being
    one."""
    try:
        props = parse_property_list(buf)
    except ProplistError as exc:
        return [f"not a well-formed property list: {exc}"]
    if not props:
        return ["(an empty property list)"]
    lines = [
        f"{p.name[:80]} = " + ", ".join(f"{_syntax_name(v)} {short_repr(v.data)}" for v in p.values)
        for p in props[:limit]
    ]
    if len(props) > limit:
        lines.append(f"... {len(props) - limit} more properties")
    return lines


def hexdump(buf: bytes, limit: int = 256) -> list[str]:
    """Offsets and hex, 16 bytes a line, at most ``limit`` bytes."""
    lines = [
        f"{at:06x}  {bytes(buf[at : at + 16]).hex(' ')}"
        for at in range(0, min(len(buf), limit), 16)
    ]
    if len(buf) > limit:
        lines.append(f"... {len(buf) - limit} more bytes")
    return lines or ["(no bytes)"]
