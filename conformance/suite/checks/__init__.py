"""Importing this package registers every check (one module per contract area)."""

from conformance.suite.checks import (
    callbacks,
    control,
    entry_points,
    instances,
    lifecycle,
    pending,
    process,
    startup,
    terminate,
    timing,
)

__all__ = [
    "callbacks",
    "control",
    "entry_points",
    "instances",
    "lifecycle",
    "pending",
    "process",
    "startup",
    "terminate",
    "timing",
]
