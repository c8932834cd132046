"""Importing this package registers every check (one module per contract area)."""

from conformance.suite.checks import (
    entry_points,
    instances,
    lifecycle,
    pending,
    startup,
    terminate,
    timing,
)

__all__ = ["entry_points", "instances", "lifecycle", "pending", "startup", "terminate", "timing"]
