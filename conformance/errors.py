"""Errors that end a run with exit code 2: the user gave something the harness cannot use."""

from __future__ import annotations


class UsageError(Exception):
    """Bad options or input; the message is one line saying what is wrong and what to do."""


class TargetLoadError(UsageError):
    """The target cannot be loaded as a resource type."""


class SourceTooNested(TargetLoadError):
    """Python's parser ran out of stack on a target's text (``ast.parse`` or ``compile`` raised
    RecursionError or MemoryError): bad input, not a crash of rescheck."""

    def __init__(self, file: str) -> None:
        super().__init__(
            f"{file}: too deeply nested to parse (Python's parser ran out of stack); split the "
            "deepest expression into several statements"
        )
