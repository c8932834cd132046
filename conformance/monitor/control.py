"""ResourceControl and ResourceTypeControl as the monitor makes them (RC-1..RC-10): an
OutBuffer filled before the call, so that what the DLL wrote, and any write past the end, can
be told apart, and the result as its caller sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.monitor.errors import MonitorError
from conformance.monitor.resource import OUT_FILL, Resource
from conformance.protocol.values import plain
from conformance.resapi import DWORD_MAX, ControlCode
from conformance.runtime.trace import TraceEvent

if TYPE_CHECKING:
    from conformance.monitor.monitor import ResourceMonitor

__all__ = ["OUT_FILL", "ControlResult", "Controls", "dword"]

#: Bytes of an OutBuffer kept in the trace.
CONTROL_OUT_SHOWN = 1024
#: The largest OutBuffer the monitor hands a DLL, and what it keeps of a write past one.
CONTROL_OUT_LIMIT = 1 << 20
OVERRUN_KEPT = 4096


def dword(value: Any) -> int | None:
    """``value`` when it is a DWORD (an int in 0..0xFFFFFFFF, not a bool), else None."""
    return value if type(value) is int and 0 <= value <= DWORD_MAX else None


@dataclass
class ControlResult:
    """What a ResourceControl or ResourceTypeControl call left behind, as its caller sees it."""

    event: TraceEvent
    returned: bool  # came back (did not raise, hang or end the host)
    status: Any  # the status, when the result had the pinned shape (judge with `dword`)
    bytes_returned: Any
    out: bytes | None  # the caller's OutBuffer after the call (None: the call had none)
    out_size: int | None  # OutBufferSize (None: a NULL OutBuffer)
    fill: int  # the byte the OutBuffer was filled with before the call
    grown_to: int | None = None  # the length the DLL made its bytearray, past OutBufferSize
    overrun: bytes = b""  # what it wrote past the end (the first OVERRUN_KEPT bytes)

    @property
    def shaped(self) -> bool:
        """The result was ``(status, BytesReturned)``, as the pinned mapping says."""
        return self.event.data.get("shaped", False)

    @property
    def overran(self) -> bool:
        """The DLL made the OutBuffer longer: in C, a write past the end of the caller's
        buffer. (A shorter bytearray is read as a write of that many bytes.)"""
        return self.grown_to is not None

    @property
    def written(self) -> int:
        """How far into the OutBuffer the DLL wrote: the end of the last byte that differs
        from the fill (a lower bound: a written byte may equal the fill)."""
        return len(self.out.rstrip(bytes([self.fill]))) if self.out else 0

    @property
    def data(self) -> bytes:
        """The output the caller reads: BytesReturned bytes of the OutBuffer."""
        if self.out is None or dword(self.bytes_returned) is None:
            return b""
        return self.out[: min(self.bytes_returned, len(self.out))]


class Controls:
    def __init__(self, monitor: ResourceMonitor) -> None:
        self.rm = monitor

    def type_control(
        self,
        ControlCode: int,
        InBuffer: bytes | None = None,
        OutBufferSize: int | None = None,
        fill: int = OUT_FILL,
    ) -> ControlResult:
        """ResourceTypeControl for the monitor's type; ``OutBufferSize`` None is NULL."""
        if not self.rm.started:
            raise MonitorError("ResourceTypeControl needs a Startup that returned a table")
        return self.control(
            "ResourceTypeControl",
            None,
            self.rm.resource_type,
            ControlCode,
            InBuffer,
            OutBufferSize,
            fill,
        )

    def control(
        self,
        entry: str,
        resource: Resource | None,
        first: Any,
        code: int,
        in_buffer: bytes | None,
        out_size: int | None,
        fill: int,
    ) -> ControlResult:
        """One control call, serialised like every entry point but Terminate (RM-4). The
        OutBuffer is filled with ``fill`` first, so what the DLL wrote can be told apart."""
        rm = self.rm
        if out_size is not None and not 0 <= out_size <= CONTROL_OUT_LIMIT:
            raise MonitorError(f"OutBufferSize {out_size} is outside 0..{CONTROL_OUT_LIMIT}")
        out = None if out_size is None else bytearray([fill]) * out_size
        args = {
            "ResourceId" if resource is not None else "ResourceTypeName": first,
            "ControlCode": ControlCode(code),
            "InBufferSize": None if in_buffer is None else len(in_buffer),
            "OutBufferSize": out_size,
        }
        data = {"code": code, "InBuffer": None if in_buffer is None else in_buffer.hex()[:1024]}
        with rm.serial:
            if resource is not None:  # a Close that took the lock first ends the instance
                rm.require_open(resource)
            event, outcome = rm.invoke(
                entry,
                resource.name if resource is not None else None,
                args,
                (first, code, in_buffer, out),
                data,
            )
        value = outcome.value if outcome.returned else None
        shaped = type(value) is tuple and len(value) == 2
        event.data["shaped"] = shaped
        status, returned = (_plain_value(v) for v in value) if shaped else (None, None)
        result = ControlResult(event, outcome.returned, status, returned, None, out_size, fill)
        if out is not None and out_size is not None:
            # the caller's buffer: what the DLL left in it (a shorter bytearray is a write of
            # that many bytes; the rest still holds the fill), and what went past its end
            kept = bytes(out[: out_size + OVERRUN_KEPT])
            result.out = kept[:out_size].ljust(out_size, bytes([fill]))
            if len(out) > out_size:
                result.grown_to, result.overrun = len(out), kept[out_size:]
                event.data["OutBuffer grown to"] = len(out)
            event.data["OutBuffer"] = result.out[:CONTROL_OUT_SHOWN].hex()
        return result


def _plain_value(value: Any) -> Any:
    """A value as plain data (a hostile subclass of int reduced to its int), else itself."""
    try:
        is_plain, sent = plain(value)
    except Exception:
        return value
    return sent if is_plain else value
