"""The control-code scenario: what rescheck sends to ResourceControl and ResourceTypeControl,
and the record of what came back that the checks of `checks/control.py` judge.

For each entry point: CLUSCTL_*_UNKNOWN; every documented code that returns data, with a large
buffer (twice, with two fills, so what the DLL wrote can be told apart), then with no buffer, an
empty one and one a byte too small; codes no DLL implements; the common-property codes. For
ResourceControl also the private properties: VALIDATE and SET of changed values, of values of
the wrong format, of read-only properties, and of malformed buffers, each with a look at the
cluster database before and after.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.monitor.monitor import OUT_FILL, ControlResult, ResourceMonitor
from conformance.proplist import (
    Property,
    ProplistError,
    Value,
    build_property_list,
    parse_multi_sz,
    parse_property_list,
)
from conformance.resapi import (
    CLUS_OBJECT_RESOURCE,
    CLUS_OBJECT_RESOURCE_TYPE,
    CLUSCTL_RESOURCE_ENUM_COMMON_PROPERTIES,
    CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_GET_CLASS_INFO,
    CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES,
    CLUSCTL_RESOURCE_GET_COMMON_PROPERTY_FMTS,
    CLUSCTL_RESOURCE_GET_FLAGS,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS,
    CLUSCTL_RESOURCE_GET_REQUIRED_DEPENDENCIES,
    CLUSCTL_RESOURCE_GET_RO_COMMON_PROPERTIES,
    CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_INITIALIZE,
    CLUSCTL_RESOURCE_QUERY_DELETE,
    CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT,
    CLUSCTL_RESOURCE_UNKNOWN,
    CLUSCTL_RESOURCE_VALIDATE_COMMON_PROPERTIES,
    CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES,
    CLUSPROP_FORMAT_DWORD,
    CLUSPROP_FORMAT_EXPANDED_SZ,
    CLUSPROP_FORMAT_SZ,
    CLUSPROP_SYNTAX_LIST_VALUE_DWORD,
    CLUSPROP_SYNTAX_LIST_VALUE_SZ,
    ERROR_MORE_DATA,
    ERROR_RESOURCE_PROPERTIES_STORED,
    ERROR_SUCCESS,
)

#: The OutBuffer every data code gets first; a DLL that needs more says so (RC-5) and gets
#: what it asked for, up to MAX_OUT.
FIRST_OUT = 4096
MAX_OUT = 1 << 20
#: The second fill: a byte the DLL wrote is a byte that differs from one of the two.
SECOND_FILL = 0x5A
#: Function numbers where no documented control code lies (§6.2: code = object << 24 | ...
#: | function << 2 | access); no DLL implements them, so they must be ERROR_INVALID_FUNCTION.
UNDOCUMENTED_FUNCTIONS = (0xF00, 0xF3D, 0xF7A, 0xFB7, 0xFF4)
#: A status that accepts a SET (CC-11) or a VALIDATE (CC-12).
ACCEPTED = (ERROR_SUCCESS, ERROR_RESOURCE_PROPERTIES_STORED)


def level_code(resource_code: int, obj: int) -> int:
    """The same function for another object: CLUSCTL_RESOURCE_X -> CLUSCTL_RESOURCE_TYPE_X."""
    return obj << 24 | (resource_code & 0x00FFFFFF)


def data_codes(obj: int) -> tuple[int, ...]:
    """Documented codes whose answer is data in the OutBuffer (§6.3, §6.4)."""
    codes = tuple(
        level_code(code, obj)
        for code in (
            CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
            CLUSCTL_RESOURCE_GET_FLAGS,
            CLUSCTL_RESOURCE_GET_CLASS_INFO,
            CLUSCTL_RESOURCE_GET_REQUIRED_DEPENDENCIES,
            CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
            CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES,
            CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
            CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS,
        )
    )
    return (
        (*codes, CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT)
        if obj == CLUS_OBJECT_RESOURCE_TYPE
        else codes
    )


def undocumented_codes(obj: int) -> tuple[int, ...]:
    """Codes no DLL implements: undocumented functions, and for a resource the two the docs
    say not to support (INITIALIZE, CC-25; QUERY_DELETE, CC-28)."""
    codes = tuple(obj << 24 | f << 2 | i % 3 for i, f in enumerate(UNDOCUMENTED_FUNCTIONS))
    if obj == CLUS_OBJECT_RESOURCE:
        return (*codes, CLUSCTL_RESOURCE_INITIALIZE, CLUSCTL_RESOURCE_QUERY_DELETE)
    return codes


def common_codes(obj: int) -> tuple[int, ...]:
    """The common-property codes a DLL leaves to the Resource Monitor (CC-7, CC-42)."""
    return tuple(
        level_code(code, obj)
        for code in (
            CLUSCTL_RESOURCE_ENUM_COMMON_PROPERTIES,
            CLUSCTL_RESOURCE_GET_RO_COMMON_PROPERTIES,
            CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES,
            CLUSCTL_RESOURCE_VALIDATE_COMMON_PROPERTIES,
            CLUSCTL_RESOURCE_GET_COMMON_PROPERTY_FMTS,
        )
    )


@dataclass
class Probe:
    """A data code asked with a large buffer twice (two fills), then with small buffers."""

    code: int
    first: ControlResult
    second: ControlResult | None = None
    small: list[ControlResult] = field(default_factory=list)

    @property
    def required(self) -> int | None:
        """The size the DLL gave for its answer, when it answered with ERROR_SUCCESS."""
        r = self.first
        if r.status == ERROR_SUCCESS and isinstance(r.bytes_returned, int) and r.bytes_returned > 0:
            return r.bytes_returned
        return None


@dataclass
class Change:
    """One VALIDATE then SET of a property list, with the database around each."""

    what: str
    sent: bytes | None
    before: dict[str, Any]
    validate: ControlResult
    after_validate: dict[str, Any]
    set: ControlResult
    after_set: dict[str, Any]
    get: ControlResult | None = None  # GET_PRIVATE_PROPERTIES after an accepted SET
    expected: Property | None = None  # what that GET must show, for a valid change
    valid: bool | None = None  # True: must be accepted; False: must be refused


@dataclass
class ControlRecord:
    """Everything one entry point answered, with the monitor whose trace holds the calls."""

    entry: str
    monitor: ResourceMonitor
    unknown: ControlResult | None = None
    probes: dict[int, Probe] = field(default_factory=dict)
    undocumented: list[ControlResult] = field(default_factory=list)
    common: list[ControlResult] = field(default_factory=list)
    stored: Callable[[], dict[str, Any]] | None = None  # the Parameters key, for ResourceControl
    changes: list[Change] = field(default_factory=list)
    malformed: list[Change] = field(default_factory=list)

    def results(self) -> list[ControlResult]:
        out = [self.unknown] if self.unknown is not None else []
        for probe in self.probes.values():
            out += [probe.first, *([probe.second] if probe.second else []), *probe.small]
        out += self.undocumented + self.common
        for change in self.changes + self.malformed:
            out += [change.validate, change.set, *([change.get] if change.get else [])]
        return out


Call = Callable[[int, "bytes | None", "int | None", int], ControlResult]


def probe(record: ControlRecord, call: Call, obj: int) -> None:
    """UNKNOWN, the data codes, the undocumented and the common-property codes."""
    record.unknown = call(level_code(CLUSCTL_RESOURCE_UNKNOWN, obj), None, None, OUT_FILL)
    for code in data_codes(obj):
        first = call(code, None, FIRST_OUT, OUT_FILL)
        needed = first.bytes_returned
        if (
            first.status == ERROR_MORE_DATA
            and isinstance(needed, int)
            and FIRST_OUT < needed <= MAX_OUT
        ):
            first = call(code, None, needed, OUT_FILL)
        found = record.probes[code] = Probe(code, first)
        if found.required is None:
            continue
        found.second = call(code, None, first.out_size, SECOND_FILL)
        for size in (None, 0, found.required - 1):
            found.small.append(call(code, None, size, OUT_FILL))
    for code in undocumented_codes(obj):
        record.undocumented.append(call(code, None, 256, OUT_FILL))
    for code in common_codes(obj):
        in_buffer = struct.pack("<I", 0) if code & 0xFFFF == 0x0061 else None  # VALIDATE: empty
        record.common.append(call(code, in_buffer, FIRST_OUT, OUT_FILL))


def answered(record: ControlRecord, code: int) -> bytes | None:
    """The data a data code returned with ERROR_SUCCESS, or None."""
    found = record.probes.get(code)
    if found is None or found.first.status != ERROR_SUCCESS:
        return None
    return found.first.data


def _changed(prop: Property) -> Property | None:
    """A different value of the same format, or None for formats not tried."""
    value = prop.values[0]
    if value.format == CLUSPROP_FORMAT_DWORD:
        data = value.data + 1 if value.data < 0xFFFFFFFF else value.data - 1
        return Property(prop.name, (Value(value.syntax, data),))
    if value.format == CLUSPROP_FORMAT_SZ:
        return Property(prop.name, (Value(value.syntax, value.data + "x"),))
    return None


def _mistyped(prop: Property) -> Property | None:
    """The same property with a value of another format: SZ for a DWORD, DWORD for an SZ."""
    fmt = prop.values[0].format
    if fmt == CLUSPROP_FORMAT_DWORD:
        return Property(prop.name, (Value(CLUSPROP_SYNTAX_LIST_VALUE_SZ, "rescheck"),))
    if fmt == CLUSPROP_FORMAT_SZ:
        return Property(prop.name, (Value(CLUSPROP_SYNTAX_LIST_VALUE_DWORD, 7),))
    return None


def _echo(props: list[Property]) -> list[Property]:
    """What GET returned, as a client may send it back: without EXPANDED_SZ values (PL-8)."""
    return [
        Property(p.name, tuple(v for v in p.values if v.format != CLUSPROP_FORMAT_EXPANDED_SZ))
        for p in props
    ]


def malformed_inputs(valid: bytes) -> list[tuple[str, bytes | None]]:
    """Buffers no DLL may accept as a property list (a fixed seed: a run is repeatable)."""
    rng = random.Random(0x5EED)
    count = struct.pack("<I", 1)
    name = build_property_list([Property.of("Port", 1)])[4:16]
    return [
        ("a NULL InBuffer", None),
        ("4 random bytes", rng.randbytes(4)),
        ("64 random bytes", rng.randbytes(64)),
        ("a property list cut short", valid[: max(4, len(valid) - 6)]),
        ("a count of 1000 properties and one property", struct.pack("<I", 1000) + valid[4:]),
        ("a value whose Length runs past the end", count + name + struct.pack("<II", 0x10002, 400)),
        ("a DWORD value with a Length of 2", count + name + struct.pack("<IIHH", 0x10002, 2, 1, 0)),
    ]


def exercise_properties(record: ControlRecord, call: Call) -> None:
    """VALIDATE and SET private properties, valid and not, watching the database."""
    stored = record.stored
    assert stored is not None
    get_code, ro_code = (
        CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
        CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES,
    )
    got, ro, enum = (
        answered(record, c) for c in (get_code, ro_code, CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES)
    )
    try:
        current = parse_property_list(got) if got is not None else None
        read_only = parse_property_list(ro) if ro else []
        writable = {n.lower() for n in parse_multi_sz(enum)} if enum is not None else set()
    except ProplistError:
        return  # malformed answers are the well-formed-output rule's; nothing to build on
    if current is None:
        return

    def attempt(
        what: str,
        props: list[Property] | None,
        raw: bytes | None = None,
        valid: bool | None = None,
        expected: Property | None = None,
    ) -> Change:
        sent = build_property_list(props) if props is not None else raw
        before = stored()
        validate = call(CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES, sent, None, OUT_FILL)
        after_validate = stored()
        applied = call(CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES, sent, None, OUT_FILL)
        change = Change(what, sent, before, validate, after_validate, applied, stored())
        change.expected, change.valid = expected, valid
        if applied.status in ACCEPTED and expected is not None:
            change.get = call(get_code, None, MAX_OUT, OUT_FILL)
        return change

    # unknown properties (values under the key that the DLL does not define, PL-10) stay out
    echo = [p for p in _echo(current) if p.name.lower() in writable]
    record.changes.append(attempt("the values GET_PRIVATE_PROPERTIES returned", echo, valid=True))
    for prop in echo:
        new = _changed(prop)
        if new is not None:
            record.changes.append(
                attempt(f"{prop.name} changed to {new.value!r}", [new], expected=new)
            )
            record.changes.append(
                attempt(f"{prop.name} set back", [prop], valid=True, expected=prop)
            )
        wrong = _mistyped(prop)
        if wrong is not None:
            fmt = "SZ" if wrong.values[0].format == CLUSPROP_FORMAT_SZ else "DWORD"
            record.changes.append(attempt(f"{prop.name} given a {fmt} value", [wrong], valid=False))
    for prop in read_only[:3]:
        record.changes.append(attempt(f"read-only {prop.name}", _echo([prop]), valid=False))
    valid_list = build_property_list(echo or [Property.of("RescheckProbe", 1)])
    for what, raw in malformed_inputs(valid_list):
        record.malformed.append(attempt(what, None, raw, valid=False))
