"""Importing this package registers every check (one module per contract area)."""

from conformance.suite.checks import (
    buffers,
    callbacks,
    control_codes,
    entry_points,
    instances,
    lifecycle,
    pending,
    process,
    properties,
    quorum,
    scripts,
    startup,
    terminate,
    timing,
)

__all__ = [
    "buffers",
    "callbacks",
    "control_codes",
    "entry_points",
    "instances",
    "lifecycle",
    "pending",
    "process",
    "properties",
    "quorum",
    "scripts",
    "startup",
    "terminate",
    "timing",
]
