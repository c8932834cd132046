"""Errors that end a run with exit code 2: the user gave something the harness cannot use."""

from __future__ import annotations


class UsageError(Exception):
    """Bad options or input; the message is one line saying what is wrong and what to do."""


class TargetLoadError(UsageError):
    """The target cannot be loaded as a resource type."""
