"""Property tables (RESUTIL_PROPERTY_ITEM) and the ResUtil functions that answer the
private-property control codes with them, the way the docs recommend (PL-9, CC-8..CC-13).

A DLL keeps one table of its private properties and, in ResourceControl, hands each code to
the matching function, as Microsoft's sample does::

    CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES      ResUtilEnumProperties
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES       ResUtilGetAllProperties
    CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES    ResUtilGetProperties (read-only table)
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS    ResUtilGetPropertyFormats
    CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES  ResUtilVerifyPropertyTable
    CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES       ResUtilSetPropertyTable

Python mapping: an output buffer is the OutBuffer bytearray (or None) and the function returns
``(status, BytesReturned, Required)``; too small a buffer gives ERROR_MORE_DATA with Required
set (RC-5). A parameter block is a dict or any object: a property's value goes to the key or
attribute named like the property (C's ``Offset``). Database access goes through the ClusterReg*
functions, so the monitor sees it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from conformance.clusapi import ClusterRegEnumValue, ClusterRegQueryValue, ClusterRegSetValue
from conformance.proplist import (
    Property,
    ProplistError,
    Value,
    build_multi_sz,
    build_property_list,
    parse_property_list,
)
from conformance.resapi import (
    CLUSPROP_FORMAT_BINARY,
    CLUSPROP_FORMAT_DWORD,
    CLUSPROP_FORMAT_EXPAND_SZ,
    CLUSPROP_FORMAT_EXPANDED_SZ,
    CLUSPROP_FORMAT_LARGE_INTEGER,
    CLUSPROP_FORMAT_LONG,
    CLUSPROP_FORMAT_MULTI_SZ,
    CLUSPROP_FORMAT_SZ,
    CLUSPROP_FORMAT_ULARGE_INTEGER,
    CLUSPROP_SYNTAX_LIST_VALUE_WORD,
    CLUSPROP_TYPE_LIST_VALUE,
    ERROR_INVALID_DATA,
    ERROR_INVALID_PARAMETER,
    ERROR_MORE_DATA,
    ERROR_SUCCESS,
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_QWORD,
    REG_SZ,
    RESUTIL_PROPITEM_READ_ONLY,
    RESUTIL_PROPITEM_REQUIRED,
)

#: Cluster-database value type of each property format the table supports.
REG_TYPES = {
    CLUSPROP_FORMAT_DWORD: REG_DWORD,
    CLUSPROP_FORMAT_LONG: REG_DWORD,
    CLUSPROP_FORMAT_SZ: REG_SZ,
    CLUSPROP_FORMAT_EXPAND_SZ: REG_EXPAND_SZ,
    CLUSPROP_FORMAT_MULTI_SZ: REG_MULTI_SZ,
    CLUSPROP_FORMAT_BINARY: REG_BINARY,
    CLUSPROP_FORMAT_ULARGE_INTEGER: REG_QWORD,
    CLUSPROP_FORMAT_LARGE_INTEGER: REG_QWORD,
}
_FORMATS = {reg: fmt for fmt, reg in reversed(REG_TYPES.items())}
_RANGES = {
    CLUSPROP_FORMAT_DWORD: (0, 2**32 - 1),
    CLUSPROP_FORMAT_LONG: (-(2**31), 2**31 - 1),
    CLUSPROP_FORMAT_ULARGE_INTEGER: (0, 2**64 - 1),
    CLUSPROP_FORMAT_LARGE_INTEGER: (-(2**63), 2**63 - 1),
}
_PYTHON_TYPES = {
    CLUSPROP_FORMAT_DWORD: int,
    CLUSPROP_FORMAT_LONG: int,
    CLUSPROP_FORMAT_ULARGE_INTEGER: int,
    CLUSPROP_FORMAT_LARGE_INTEGER: int,
    CLUSPROP_FORMAT_SZ: str,
    CLUSPROP_FORMAT_EXPAND_SZ: str,
    CLUSPROP_FORMAT_MULTI_SZ: list,
    CLUSPROP_FORMAT_BINARY: bytes,
}


@dataclass(frozen=True)
class RESUTIL_PROPERTY_ITEM:
    """One property of a table. ``KeyName`` is the value's name in the cluster database
    (None: the same as ``Name``); ``Minimum``/``Maximum`` bound numeric formats; ``Flags``
    are RESUTIL_PROPITEM_*."""

    Name: str
    KeyName: str | None = None
    Format: int = CLUSPROP_FORMAT_DWORD
    Default: Any = None
    Minimum: int | None = None
    Maximum: int | None = None
    Flags: int = 0

    def __post_init__(self) -> None:
        if self.Format not in REG_TYPES:
            raise ValueError(
                f"property {self.Name!r}: Format {self.Format} is not one a table supports; "
                "use CLUSPROP_FORMAT_DWORD, _LONG, _SZ, _EXPAND_SZ, _MULTI_SZ, _BINARY, "
                "_ULARGE_INTEGER or _LARGE_INTEGER"
            )

    @property
    def key(self) -> str:
        return self.KeyName or self.Name


def _deliver(data: bytes, out: bytearray | None) -> tuple[int, int, int]:
    """Copy ``data`` into the caller's buffer, or ask for a larger one (RC-5)."""
    if out is None or len(out) < len(data):
        return ERROR_MORE_DATA, 0, len(data)
    out[: len(data)] = data
    return ERROR_SUCCESS, len(data), len(data)


_VARIABLE = re.compile(r"%([^%]+)%")


def _expanded(text: str) -> str:
    """%NAME% replaced by the environment variable, as ExpandEnvironmentStrings does."""
    return _VARIABLE.sub(lambda m: os.environ.get(m.group(1), m.group(0)), text)


def _values(fmt: int, data: Any) -> tuple[Value, ...]:
    syntax = CLUSPROP_TYPE_LIST_VALUE << 16 | fmt
    if fmt == CLUSPROP_FORMAT_EXPAND_SZ:  # the stored value, then the expanded one (PL-8)
        expanded = CLUSPROP_TYPE_LIST_VALUE << 16 | CLUSPROP_FORMAT_EXPANDED_SZ
        return Value(syntax, data), Value(expanded, _expanded(data))
    return (Value(syntax, data),)


def _fits(item: RESUTIL_PROPERTY_ITEM, data: Any, bounded: bool = True) -> bool:
    """``data`` is a value of the item's format (and, ``bounded``, within its Minimum and
    Maximum; values read back are not range-checked)."""
    kind = _PYTHON_TYPES[item.Format]
    if not isinstance(data, kind) or isinstance(data, bool):
        return False
    if kind is list:
        return all(isinstance(s, str) and s and "\0" not in s for s in data)
    if kind is str:
        return "\0" not in data
    if kind is int:
        low, high = _RANGES[item.Format]
        if bounded:
            low = low if item.Minimum is None else max(low, item.Minimum)
            high = high if item.Maximum is None else min(high, item.Maximum)
        return low <= data <= high
    return True


def _stored(hkey: Any, item: RESUTIL_PROPERTY_ITEM) -> Any:
    """The stored value, else the item's Default, else the format's empty value."""
    status, _type, data = ClusterRegQueryValue(hkey, item.key)
    if status == ERROR_SUCCESS:
        return data
    if item.Default is not None:
        return item.Default
    return _PYTHON_TYPES[item.Format]()


def _table_list(hkey: Any, table: Sequence[RESUTIL_PROPERTY_ITEM]) -> list[Property] | None:
    props = []
    for item in table:
        data = _stored(hkey, item)
        if not _fits(item, data, bounded=False):
            return None
        props.append(Property(item.Name, _values(item.Format, data)))
    return props


def ResUtilEnumProperties(
    pPropertyTable: Sequence[RESUTIL_PROPERTY_ITEM], pszOutProperties: bytearray | None
) -> tuple[int, int, int]:
    """The table's property names as a MULTI_SZ (CC-8)."""
    return _deliver(build_multi_sz(item.Name for item in pPropertyTable), pszOutProperties)


def ResUtilGetProperties(
    hkeyClusterKey: Any,
    pPropertyTable: Sequence[RESUTIL_PROPERTY_ITEM],
    pOutPropertyList: bytearray | None,
) -> tuple[int, int, int]:
    """A property list of the table's properties: stored values, else defaults (CC-9)."""
    return _get(hkeyClusterKey, pPropertyTable, pOutPropertyList, unknown=False)


def ResUtilGetAllProperties(
    hkeyClusterKey: Any,
    pPropertyTable: Sequence[RESUTIL_PROPERTY_ITEM],
    pOutPropertyList: bytearray | None,
) -> tuple[int, int, int]:
    """As ResUtilGetProperties, plus the unknown properties stored under the key (CC-10)."""
    return _get(hkeyClusterKey, pPropertyTable, pOutPropertyList, unknown=True)


def _get(
    hkey: Any, table: Sequence[RESUTIL_PROPERTY_ITEM], out: bytearray | None, unknown: bool
) -> tuple[int, int, int]:
    props = _table_list(hkey, table)
    if props is None:
        return ERROR_INVALID_DATA, 0, 0
    if unknown:
        known = {item.key.lower() for item in table}
        _status, stored = ClusterRegEnumValue(hkey)
        for name, (reg_type, data) in stored.items():
            fmt = _FORMATS.get(reg_type)
            if name.lower() in known or fmt is None:
                continue
            if _fits(RESUTIL_PROPERTY_ITEM(name, Format=fmt), data):
                props.append(Property(name, _values(fmt, data)))
    return _deliver(build_property_list(props), out)


def ResUtilGetPropertyFormats(
    pPropertyTable: Sequence[RESUTIL_PROPERTY_ITEM], pOutPropertyFormatList: bytearray | None
) -> tuple[int, int, int]:
    """Per property, its name and a WORD holding its format (CC-13)."""
    props = [
        Property(item.Name, (Value(CLUSPROP_SYNTAX_LIST_VALUE_WORD, item.Format),))
        for item in pPropertyTable
    ]
    return _deliver(build_property_list(props), pOutPropertyFormatList)


def _store(params: Any, name: str, data: Any) -> None:
    if isinstance(params, dict):
        params[name] = data
    else:
        setattr(params, name, data)


def _verified(
    table: Sequence[RESUTIL_PROPERTY_ITEM], allow_unknown: bool, buf: bytes | None
) -> tuple[int, list[tuple[RESUTIL_PROPERTY_ITEM, Any]]]:
    if buf is None:
        return ERROR_INVALID_PARAMETER, []
    try:
        props = parse_property_list(bytes(buf))
    except ProplistError:
        return ERROR_INVALID_DATA, []
    by_name = {item.Name.lower(): item for item in table}
    accepted = []
    for prop in props:
        value = prop.values[0]
        item = by_name.get(prop.name.lower())
        if item is None:
            if not allow_unknown or _FORMATS.get(REG_TYPES.get(value.format, -1)) != value.format:
                return ERROR_INVALID_PARAMETER, []  # unknown: only formats it reads back as
            item = RESUTIL_PROPERTY_ITEM(prop.name, Format=value.format)
        if item.Flags & RESUTIL_PROPITEM_READ_ONLY or value.format != item.Format:
            return ERROR_INVALID_PARAMETER, []
        if not _fits(item, value.data):
            return ERROR_INVALID_PARAMETER, []
        accepted.append((item, value.data))
    return ERROR_SUCCESS, accepted


def ResUtilVerifyPropertyTable(
    pPropertyTable: Sequence[RESUTIL_PROPERTY_ITEM],
    Reserved: Any,
    bAllowUnknownProperties: bool,
    pInPropertyList: bytes | None,
    pOutParams: Any = None,
) -> int:
    """Check a property list against the table without storing it (CC-12): a malformed list
    is ERROR_INVALID_DATA; an unknown, read-only, mistyped or out-of-range property is
    ERROR_INVALID_PARAMETER."""
    status, accepted = _verified(pPropertyTable, bAllowUnknownProperties, pInPropertyList)
    if status == ERROR_SUCCESS and pOutParams is not None:
        for item, data in accepted:
            _store(pOutParams, item.Name, data)
    return status


def ResUtilSetPropertyTable(
    hkeyClusterKey: Any,
    pPropertyTable: Sequence[RESUTIL_PROPERTY_ITEM],
    Reserved: Any,
    bAllowUnknownProperties: bool,
    pInPropertyList: bytes | None,
    pOutParams: Any = None,
) -> int:
    """Verify the whole list, then store every value (CC-11): nothing is written unless all
    of it is valid."""
    status, accepted = _verified(pPropertyTable, bAllowUnknownProperties, pInPropertyList)
    if status != ERROR_SUCCESS:
        return status
    for item, data in accepted:
        status = ClusterRegSetValue(hkeyClusterKey, item.key, REG_TYPES[item.Format], data)
        if status != ERROR_SUCCESS:
            return status
        if pOutParams is not None:
            _store(pOutParams, item.Name, data)
    return ERROR_SUCCESS


def ResUtilGetPropertiesToParameterBlock(
    hkeyClusterKey: Any,
    pPropertyTable: Sequence[RESUTIL_PROPERTY_ITEM],
    pOutParams: Any,
    bCheckForRequiredProperties: bool,
) -> tuple[int, str | None]:
    """Read every property of the table into the parameter block: ``(status,
    NameOfPropInError)``. A required property with no value fails when asked to check."""
    for item in pPropertyTable:
        status, _type, data = ClusterRegQueryValue(hkeyClusterKey, item.key)
        if status != ERROR_SUCCESS:
            if bCheckForRequiredProperties and item.Flags & RESUTIL_PROPITEM_REQUIRED:
                return ERROR_INVALID_PARAMETER, item.Name
            data = _stored(hkeyClusterKey, item)
        if not _fits(item, data, bounded=status == ERROR_SUCCESS):
            return ERROR_INVALID_DATA, item.Name
        _store(pOutParams, item.Name, data)
    return ERROR_SUCCESS, None
