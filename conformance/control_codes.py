"""Answering control codes from a resource DLL written in Python: the switch every type needs.

A resource DLL's ResourceControl and ResourceTypeControl must succeed on the UNKNOWN codes
(CC-1, CC-30), should answer GET_CHARACTERISTICS (CC-2, CC-31), answer the private-property
codes from a property table with the ResUtil functions, as the docs recommend (PL-9,
CC-8..CC-13), and leave every other code to the Resource Monitor's default processing with
ERROR_INVALID_FUNCTION (RC-4, RT-3). These helpers do exactly that, so a DLL's entry points
reduce to finding the instance and saying whether a SET applies at once::

    from conformance.control_codes import resource_control, type_control

    def ResourceControl(ResourceId, ControlCode, InBuffer, OutBuffer):
        inst = _lookup(ResourceId)
        if inst is None:
            return ERROR_RESOURCE_NOT_FOUND, 0
        return resource_control(ControlCode, CLUS_CHAR_UNKNOWN, inst.parameters,
                                PRIVATE_PROPERTIES, READ_ONLY_PROPERTIES, InBuffer, OutBuffer,
                                applies_now=not inst.online)

    def ResourceTypeControl(ResourceTypeName, ControlCode, InBuffer, OutBuffer):
        return type_control(ControlCode, CLUS_CHAR_UNKNOWN, OutBuffer)

Every helper returns what the Python mapping of ResourceControl returns, ``(status,
BytesReturned)``, with the required size as BytesReturned when the status is ERROR_MORE_DATA
(RC-5). `characteristics_control` and `property_control` return None for a code they do not
handle, so a DLL can answer codes of its own first and fall back on them.

This module is part of the API a target imports, so it imports only what a DLL may call
(`conformance.resapi`, `conformance.resutils`), never the harness (the monitor, the suite).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance.resapi import (
    CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS,
    CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_TYPE_UNKNOWN,
    CLUSCTL_RESOURCE_UNKNOWN,
    CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES,
    ERROR_INVALID_FUNCTION,
    ERROR_MORE_DATA,
    ERROR_RESOURCE_PROPERTIES_STORED,
    ERROR_SUCCESS,
)
from conformance.resutils import (
    RESUTIL_PROPERTY_ITEM,
    ResUtilEnumProperties,
    ResUtilGetAllProperties,
    ResUtilGetProperties,
    ResUtilGetPropertyFormats,
    ResUtilSetPropertyTable,
    ResUtilVerifyPropertyTable,
)


def resource_control(
    ControlCode: int,
    characteristics: int,
    parameters: Any,
    table: Sequence[RESUTIL_PROPERTY_ITEM],
    read_only: Sequence[RESUTIL_PROPERTY_ITEM],
    InBuffer: bytes | None,
    OutBuffer: bytearray | None,
    applies_now: bool,
) -> tuple[int, int]:
    """ResourceControl once the instance is found: CLUSCTL_RESOURCE_UNKNOWN succeeds (CC-1),
    then the characteristics and the private-property codes (see `property_control`)."""
    if ControlCode == CLUSCTL_RESOURCE_UNKNOWN:
        return ERROR_SUCCESS, 0
    answer = characteristics_control(ControlCode, characteristics, OutBuffer) or property_control(
        ControlCode, parameters, table, read_only, InBuffer, OutBuffer, applies_now
    )
    return (ERROR_INVALID_FUNCTION, 0) if answer is None else answer


def type_control(
    ControlCode: int, characteristics: int, OutBuffer: bytearray | None
) -> tuple[int, int]:
    """ResourceTypeControl of a type without private properties: TYPE_GET_CHARACTERISTICS is
    answered, so CLUSCTL_RESOURCE_TYPE_UNKNOWN succeeds (CC-30)."""
    if ControlCode == CLUSCTL_RESOURCE_TYPE_UNKNOWN:
        return ERROR_SUCCESS, 0
    answer = characteristics_control(ControlCode, characteristics, OutBuffer)
    return (ERROR_INVALID_FUNCTION, 0) if answer is None else answer


def characteristics_control(
    ControlCode: int, characteristics: int, OutBuffer: bytearray | None
) -> tuple[int, int] | None:
    """The CLUS_CHAR_* flags for GET_CHARACTERISTICS of the resource or the type, else None."""
    if ControlCode not in (
        CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
        CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
    ):
        return None
    if OutBuffer is None or len(OutBuffer) < 4:
        return ERROR_MORE_DATA, 4
    OutBuffer[:4] = characteristics.to_bytes(4, "little")
    return ERROR_SUCCESS, 4


def property_control(
    ControlCode: int,
    parameters: Any,
    table: Sequence[RESUTIL_PROPERTY_ITEM],
    read_only: Sequence[RESUTIL_PROPERTY_ITEM],
    InBuffer: bytes | None,
    OutBuffer: bytearray | None,
    applies_now: bool,
) -> tuple[int, int] | None:
    """``(status, BytesReturned)`` for a private-property code, None for any other code.

    ``parameters`` is the resource's open Parameters key; ``applies_now`` False makes an
    accepted SET answer ERROR_RESOURCE_PROPERTIES_STORED (RC-7). Unknown properties are
    refused: every property of the type is in its table.
    """
    if ControlCode == CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES:
        return ResUtilVerifyPropertyTable(table, None, False, InBuffer), 0
    if ControlCode == CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES:
        status = ResUtilSetPropertyTable(parameters, table, None, False, InBuffer)
        if status == ERROR_SUCCESS and not applies_now:
            status = ERROR_RESOURCE_PROPERTIES_STORED
        return status, 0
    if ControlCode == CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES:
        answer = ResUtilEnumProperties(table, OutBuffer)
    elif ControlCode == CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES:
        answer = ResUtilGetAllProperties(parameters, table, OutBuffer)
    elif ControlCode == CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES:
        answer = ResUtilGetProperties(parameters, read_only, OutBuffer)
    elif ControlCode == CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS:
        answer = ResUtilGetPropertyFormats(table, OutBuffer)
    else:
        return None
    status, returned, required = answer
    return status, required if status == ERROR_MORE_DATA else returned
