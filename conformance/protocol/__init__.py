"""The host protocol: what the monitor and a host process say to each other.

Documented in ``docs/host-protocol.md``; every host (the Python host, the native host) speaks
it. Framing and limits are in `frames`, values in `values`, the closed list of messages in
`messages`. Nothing here imports the monitor or a target: both sides of the boundary use it.
"""

from __future__ import annotations

from conformance.protocol.frames import MAX_FRAME, PROTOCOL_VERSION, ProtocolError

__all__ = ["MAX_FRAME", "PROTOCOL_VERSION", "ProtocolError"]
