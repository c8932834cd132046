"""The companion of ``process_app.py``: what an instance needs, what the type claims, and how
to probe and break the real process (docs/design.md, "How a target tells the harness what it needs").
"""

from __future__ import annotations

import socket

from conformance.companion import Companion, ProbeContext
from reference_impls._tcp_service import HOST, crash, ping

#: How long the probe waits for PONG; generous, since the probe judges and is not judged.
PROBE_SECONDS = 0.5


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (bind port 0, read it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def properties(resource_name: str) -> dict[str, int]:
    """Each instance gets its own port, so instances (and parallel runs) never collide."""
    return {"Port": free_port()}


def probe(ctx: ProbeContext) -> bool:
    """Is the entity running? Something answers PING with PONG on the instance's port."""
    return ping(int(ctx.properties["Port"]), PROBE_SECONDS)


def breaker(ctx: ProbeContext) -> None:
    """Crash the process (it exits with code 3 at once), so IsAlive must notice (IA-4)."""
    crash(int(ctx.properties["Port"]))


COMPANION = Companion(
    resource_type="Process Application",
    properties=properties,
    features=frozenset({"pending"}),
    probe=probe,
    breaker=breaker,
)
