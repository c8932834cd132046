"""Importing this package registers every check (one module per contract area)."""

from conformance.suite.checks import (
    callbacks,
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
    "entry_points",
    "instances",
    "lifecycle",
    "pending",
    "process",
    "startup",
    "terminate",
    "timing",
]
