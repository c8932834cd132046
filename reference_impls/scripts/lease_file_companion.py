"""Companion of the lease_file control scripts (all three languages): each instance's lease
file lives in a private temporary directory; the probe reads it, the breaker removes it."""

from __future__ import annotations

from pathlib import Path

from conformance import Companion, ProbeContext, scratch_dir

LEASES = scratch_dir("leases-")


def lease(resource_name: str) -> Path:
    return LEASES / f"{resource_name}.lease"


def probe(context: ProbeContext) -> bool:
    """The entity runs while its lease file names it."""
    path = Path(str(context.properties.get("LeaseFile") or lease(context.resource_name)))
    try:
        return path.read_text(encoding="utf-8").startswith(f"held by {context.resource_name}")
    except OSError:
        return False


def breaker(context: ProbeContext) -> None:
    """The lease is lost: someone removed the file."""
    path = Path(str(context.properties.get("LeaseFile") or lease(context.resource_name)))
    path.unlink(missing_ok=True)


COMPANION = Companion(
    properties=lambda name: {"LeaseFile": str(lease(name))},
    probe=probe,
    breaker=breaker,
)
