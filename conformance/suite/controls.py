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

from conformance.monitor.monitor import OUT_FILL, ControlResult, ResourceMonitor, dword
from conformance.proplist import (
    Property,
    ProplistError,
    Value,
    build_property_list,
    build_value,
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
    CLUSPROP_SYNTAX_NAME,
    ERROR_INVALID_FUNCTION,
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
        """The size of the answer, when the DLL answered ERROR_SUCCESS and its BytesReturned
        is credible: within the buffer and no more than it wrote (else buffer-bounds)."""
        first = self.first
        size = dword(first.bytes_returned)
        if dword(first.status) != ERROR_SUCCESS or not size or first.overran:
            return None
        written = max(r.written for r in (first, self.second) if r is not None)
        if size > (first.out_size or 0) or (self.second is not None and size > written):
            return None
        return size


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
    valid: bool | None = None  # True: must be accepted; False: refused; None: either


@dataclass
class ControlRecord:
    """Everything one entry point answered, with the monitor whose trace holds the calls."""

    entry: str
    obj: int  # CLUS_OBJECT_RESOURCE or CLUS_OBJECT_RESOURCE_TYPE
    monitor: ResourceMonitor
    stored: Callable[[], dict[str, Any]]  # the Parameters key of the resource or type
    unknown: ControlResult | None = None
    probes: dict[int, Probe] = field(default_factory=dict)
    stored_at_probe: dict[str, Any] = field(default_factory=dict)  # when GET was asked
    undocumented: list[ControlResult] = field(default_factory=list)
    common: list[ControlResult] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    malformed: list[Change] = field(default_factory=list)
    asked: list[ControlResult] = field(default_factory=list)  # other calls, judged as calls

    def code(self, resource_code: int) -> int:
        """The code of this object for a CLUSCTL_RESOURCE_* function."""
        return level_code(resource_code, self.obj)

    def probe_of(self, resource_code: int) -> Probe | None:
        return self.probes.get(self.code(resource_code))

    def results(self) -> list[ControlResult]:
        out = [self.unknown] if self.unknown is not None else []
        for found in self.probes.values():
            out += [found.first, *([found.second] if found.second else []), *found.small]
        out += self.undocumented + self.common + self.asked
        for change in self.changes + self.malformed:
            out += [change.validate, change.set, *([change.get] if change.get else [])]
        return out


Call = Callable[[int, "bytes | None", "int | None", int], ControlResult]


def probe(record: ControlRecord, call: Call, only: tuple[int, ...] | None = None) -> None:
    """UNKNOWN, the data codes, the undocumented and the common-property codes; ``only``:
    just these data codes (of CLUSCTL_RESOURCE_* functions), nothing else."""
    obj = record.obj
    if only is None:
        record.unknown = call(level_code(CLUSCTL_RESOURCE_UNKNOWN, obj), None, None, OUT_FILL)
    record.stored_at_probe = record.stored()
    wanted = data_codes(obj) if only is None else tuple(level_code(c, obj) for c in only)
    for code in wanted:
        first = call(code, None, FIRST_OUT, OUT_FILL)
        needed = dword(first.bytes_returned)
        if dword(first.status) == ERROR_MORE_DATA and needed and FIRST_OUT < needed <= MAX_OUT:
            first = call(code, None, needed, OUT_FILL)
        found = record.probes[code] = Probe(code, first)
        if dword(first.status) != ERROR_SUCCESS or not dword(first.bytes_returned):
            continue
        found.second = call(code, None, first.out_size, SECOND_FILL)
        required = found.required
        if required is not None:
            for size in (None, 0, required - 1):
                found.small.append(call(code, None, size, OUT_FILL))
    if only is not None:
        return
    for code in undocumented_codes(obj):
        record.undocumented.append(call(code, None, 256, OUT_FILL))
    for code in common_codes(obj):
        in_buffer = struct.pack("<I", 0) if code & 0xFFFF == 0x0061 else None  # VALIDATE: empty
        record.common.append(call(code, in_buffer, FIRST_OUT, OUT_FILL))


def answered(record: ControlRecord, resource_code: int) -> bytes | None:
    """The data a data code returned with a credible ERROR_SUCCESS, or None."""
    found = record.probe_of(resource_code)
    if found is None or dword(found.first.status) != ERROR_SUCCESS:
        return None
    if dword(found.first.bytes_returned) == 0:
        return b""
    return found.first.data if found.required is not None else None


def current_properties(record: ControlRecord) -> list[Property]:
    """The read/write properties GET returned when probed, as a client sends them back (ENUM
    names only: unknown properties are not the DLL's to define, PL-10)."""
    got = answered(record, CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES)
    enum = answered(record, CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES)
    try:
        current = parse_property_list(got) if got else []
        writable = {n.lower() for n in parse_multi_sz(enum)} if enum else set()
    except ProplistError:
        return []  # the well-formed-output rule's
    return [p for p in _echo(current) if p.name.lower() in writable]


def changed(prop: Property) -> Property | None:
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


def malformed_inputs(valid: bytes, dword_name: str) -> list[tuple[str, bytes | None]]:
    """Buffers no DLL may accept as a property list (a fixed seed: a run is repeatable).
    ``dword_name`` names a DWORD property of the DLL's, so the name itself is acceptable."""
    rng = random.Random(0x5EED)
    count = struct.pack("<I", 1)
    name = build_value(Value(CLUSPROP_SYNTAX_NAME, dword_name))
    return [
        ("a NULL InBuffer", None),
        ("4 random bytes", rng.randbytes(4)),
        ("64 random bytes", rng.randbytes(64)),
        ("a property list cut short", valid[: max(4, len(valid) - 6)]),
        ("a count of 1000 properties and one property", struct.pack("<I", 1000) + valid[4:]),
        (
            f"a value of {dword_name} whose Length runs past the end",
            count + name + struct.pack("<II", CLUSPROP_SYNTAX_LIST_VALUE_DWORD, 400) + bytes(4),
        ),
        (
            f"a DWORD value of {dword_name} with a Length of 2",
            count + name + struct.pack("<IIHHI", CLUSPROP_SYNTAX_LIST_VALUE_DWORD, 2, 1, 0, 0),
        ),
    ]


def exercise_properties(record: ControlRecord, call: Call) -> None:
    """VALIDATE and SET private properties, valid and not, watching the database. Malformed
    buffers go to any DLL that does not leave SET to the monitor's default."""
    ro = answered(record, CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES)
    try:
        read_only = parse_property_list(ro) if ro else []
    except ProplistError:
        read_only = []  # the well-formed-output rule's
    echo = current_properties(record)
    get_code = record.code(CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES)

    def attempt(
        what: str,
        props: list[Property] | None,
        raw: bytes | None = None,
        valid: bool | None = None,
        expected: Property | None = None,
    ) -> Change:
        sent = build_property_list(props) if props is not None else raw
        before = record.stored()
        validate = call(
            record.code(CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES), sent, None, OUT_FILL
        )
        after_validate = record.stored()
        applied = call(record.code(CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES), sent, None, OUT_FILL)
        change = Change(what, sent, before, validate, after_validate, applied, record.stored())
        change.expected, change.valid = expected, valid
        if dword(applied.status) in ACCEPTED and expected is not None:
            change.get = call(get_code, None, MAX_OUT, OUT_FILL)
        return change

    if echo:
        record.changes.append(
            attempt("the values GET_PRIVATE_PROPERTIES returned", echo, valid=True)
        )
    for prop in echo:
        new = changed(prop)
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
    pairs = [(changed(a), _mistyped(b)) for a in echo for b in echo if a.name != b.name]
    for new, wrong in pairs[:1]:
        if new is not None and wrong is not None:  # validate all before writing any (CC-11)
            what = f"{new.name} changed together with a wrong-format {wrong.name}"
            record.changes.append(attempt(what, [new, wrong], valid=False))
    for prop in read_only[:3]:  # refusing is not required: only agreement is judged
        record.changes.append(attempt(f"read-only {prop.name}", _echo([prop])))
    if record.changes or _validates(record, call):
        dwords = [p.name for p in echo if p.values[0].format == CLUSPROP_FORMAT_DWORD]
        valid = build_property_list(echo or [Property.of(dwords[0] if dwords else "Rescheck", 1)])
        for what, raw in malformed_inputs(valid, dwords[0] if dwords else "Rescheck"):
            record.malformed.append(attempt(what, None, raw, valid=False))


def _validates(record: ControlRecord, call: Call) -> bool:
    """Whether the DLL validates property lists itself: VALIDATE of an empty list is not
    left to the monitor's default (ERROR_INVALID_FUNCTION)."""
    empty = build_property_list([])
    answer = call(record.code(CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES), empty, None, OUT_FILL)
    record.asked.append(answer)
    return dword(answer.status) != ERROR_INVALID_FUNCTION
