"""ResourceControl and ResourceTypeControl (RC-1, RT-1): the buffers the DLL gets, what the
caller sees of what it wrote (within the OutBuffer and past it), and odd results kept for the
checks to judge. Their serialisation is in test_monitor_concurrency.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.monitor.monitor import OUT_FILL
from conformance.resapi import (
    CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_UNKNOWN,
    ERROR_MORE_DATA,
    ERROR_SUCCESS,
)

if __package__:  # tests/unit became a package
    from .monitor_rig import rig_fixture as rig_fixture
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import rig_fixture as rig_fixture
    from scripted_dll import ScriptedDLL


def _writes(data: bytes, grow: bytes = b"") -> Callable[..., Any]:
    def control(dll, first, code, in_buffer, out_buffer):
        dll.seen = (code, in_buffer, None if out_buffer is None else len(out_buffer))
        if out_buffer is None or len(out_buffer) < len(data):
            return ERROR_MORE_DATA, len(data)
        out_buffer[: len(data)] = data
        out_buffer.extend(grow)
        return ERROR_SUCCESS, len(data)

    return control


def test_resource_control_gets_its_buffers_and_the_caller_sees_what_it_wrote(rig):
    dll = ScriptedDLL(ResourceControl=_writes(b"\1\0\0\0"))
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    result = resource.control(CLUSCTL_RESOURCE_GET_CHARACTERISTICS, b"in", 16)
    assert dll.seen == (CLUSCTL_RESOURCE_GET_CHARACTERISTICS, b"in", 16), (
        f"the DLL should get the code, the InBuffer and a 16-byte OutBuffer, got {dll.seen}"
    )
    assert (result.status, result.bytes_returned, result.data) == (0, 4, b"\1\0\0\0")
    assert result.written == 4 and not result.overran, "four bytes written, within the buffer"
    assert result.out == b"\1\0\0\0" + bytes([OUT_FILL]) * 12, "the rest still holds the fill"
    event = result.event
    assert repr(event.args["ControlCode"]) == "CLUSCTL_RESOURCE_GET_CHARACTERISTICS (0x01000005)"
    assert "CLUSCTL_RESOURCE_GET_CHARACTERISTICS" in event.describe(), (
        f"the trace should name the control code, not only show hex: {event.describe()}"
    )


def test_a_null_out_buffer_is_none_and_an_empty_one_is_a_zero_length_bytearray(rig):
    dll = ScriptedDLL(ResourceControl=_writes(b"\1\0\0\0"))
    resource = rig.open(rig.monitor(dll))
    null = resource.control(CLUSCTL_RESOURCE_GET_CHARACTERISTICS, None, None)
    assert dll.seen[2] is None and null.out is None, "OutBufferSize None passes NULL"
    empty = resource.control(CLUSCTL_RESOURCE_GET_CHARACTERISTICS, None, 0)
    assert dll.seen[2] == 0 and empty.out == b"", "size 0 passes an empty, non-NULL buffer"
    assert (empty.status, empty.bytes_returned) == (ERROR_MORE_DATA, 4)


def test_a_dll_that_grows_its_out_buffer_is_seen_as_writing_past_it(rig):
    dll = ScriptedDLL(ResourceControl=_writes(b"ab\0\0", grow=b"\0\0"))
    result = rig.open(rig.monitor(dll)).control(CLUSCTL_RESOURCE_GET_CHARACTERISTICS, None, 4)
    assert result.overran and result.grown_to == 6, "a longer bytearray is a write past the end"
    assert (result.out, result.overrun) == (b"ab\0\0", b"\0\0"), (
        "the caller's buffer holds the first OutBufferSize bytes; the rest went past its end"
    )


def test_a_dll_that_shortens_its_out_buffer_wrote_that_many_bytes(rig):
    def shorten(dll, first, code, in_buffer, out_buffer):
        out_buffer[:] = b"\1\2"
        return ERROR_SUCCESS, 2

    result = rig.open(rig.monitor(ScriptedDLL(ResourceControl=shorten))).control(
        CLUSCTL_RESOURCE_GET_CHARACTERISTICS, None, 8
    )
    assert not result.overran, "a shorter bytearray writes within the buffer"
    assert result.out == b"\1\2" + bytes([OUT_FILL]) * 6 and result.data == b"\1\2"


@pytest.mark.parametrize("returned", [(0, None), ("0", 4), (0, 2**70), [0, 4], (0, 4, 0)])
def test_odd_results_are_kept_for_the_checks_to_judge(rig, returned):
    dll = ScriptedDLL(ResourceControl=returned)
    result = rig.open(rig.monitor(dll)).control(CLUSCTL_RESOURCE_UNKNOWN, None, 4)
    assert result.returned, f"{returned!r} is a value, not a crash"
    assert result.shaped == (type(returned) is tuple and len(returned) == 2)


def test_resource_type_control_gets_the_type_name(rig):
    dll = ScriptedDLL(ResourceTypeControl=_writes(b"\0\0\0\0"))
    monitor = rig.monitor(dll)
    result = monitor.type_control(CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS, None, 8)
    [call] = dll.calls_of("ResourceTypeControl")
    assert call.args[0] == "Scripted", "the first argument is the type name (RT-1)"
    assert result.event.args["ResourceTypeName"] == "Scripted" and result.bytes_returned == 4
