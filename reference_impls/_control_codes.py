"""The control codes both reference types answer the same way: UNKNOWN, their characteristics
(CC-2, CC-31), and their private properties, kept in a property table and answered with the
ResUtil functions as the docs recommend (PL-9, CC-8..CC-13) and as Microsoft's sample does;
every other code gets the Resource Monitor's default processing (RC-4, RT-3)."""

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
