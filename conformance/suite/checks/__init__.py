"""Importing this package registers every check (one module per contract area)."""

from conformance.suite.checks import entry_points, lifecycle, pending, startup, timing

__all__ = ["entry_points", "lifecycle", "pending", "startup", "timing"]
