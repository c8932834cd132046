"""What the ``rescheck`` command accepts as option values, checked before anything runs.

Each type turns bad input into one line that says what to give instead (argparse reports it
with exit code 2); `check_report_dir` does the same for a report directory, so that a run is
not spent only to fail at writing its reports.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path
from typing import Any

from conformance.errors import UsageError

#: The longest budget or duration accepted: a month. Longer values are typing errors (or
#: ``inf``), and overflow the timers that enforce them.
MAX_SECONDS = 30 * 24 * 3600.0
#: The files a report directory receives; each must be a file if it is there already.
REPORT_FILES = ("results.json", "junit.xml", "report.html", "results.jsonl")


def _number(text: str, what: str, example: str) -> float:
    """A finite float: ``nan``, ``inf`` and ``1e400`` (which overflows to inf) are refused."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}; e.g. {example}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}; e.g. {example}")
    return value


def property_value(text: str) -> tuple[str, Any]:
    """``-o NAME=VALUE``: digits become a DWORD."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, int(value) if re.fullmatch(r"-?\d+", value) else value


def time_scale(text: str) -> float:
    value = _number(text, "a number", "--time-scale 0.01")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(
            f"must be in (0, 1], got {value}; 0.01 turns 180 s into 1.8 s"
        )
    return value


def positive_seconds(text: str) -> float:
    value = _number(text, "a number of seconds", "--budget 600")
    if not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be more than 0 s and at most {MAX_SECONDS:.0f} s (30 days), got {text!r}; "
            "e.g. --budget 600"
        )
    return value


def positive_int(text: str) -> int:
    if not re.fullmatch(r"\d+", text) or int(text) == 0:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, got {text!r}")
    return int(text)


def duration(text: str) -> float:
    """``90s``, ``30m``, ``2h`` or plain seconds, up to 30 days."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    seconds = (
        float(found.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[found.group(2)] if found else 0
    )
    if not 0 < seconds <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"expected a duration like 90s, 30m or 2h, at most 30 days, got {text!r}"
        )
    return seconds


def node_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        nodes = (int(low), int(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN-MAX, e.g. 3-8; got {text!r}") from None
    if not 2 <= nodes[0] <= nodes[1] <= 16:
        raise argparse.ArgumentTypeError(f"nodes must be 2..16 with MIN <= MAX; got {text!r}")
    return nodes


def check_report_dir(directory: Path, option: str | None = "--report-dir") -> None:
    """Raise `UsageError` unless the reports can be written in ``directory`` (created if
    missing): every part of it that exists is a directory, and the deepest one is writable.
    Nothing is created here, so a target that then fails to load leaves nothing behind.
    ``option`` is how the user gave the directory, to name it in the message."""
    said = f"{option} {directory}" if option else str(directory)
    hint = "give a directory (it is created if missing)"
    existing = directory
    while not os.path.exists(existing) and existing != existing.parent:
        if os.path.lexists(existing):
            raise UsageError(f"{said}: {existing} is a broken symbolic link; {hint}")
        existing = existing.parent
    if not os.path.isdir(existing):
        where = "is a file" if existing == directory else f"{existing} is a file, not a folder"
        raise UsageError(f"{said}: {where}; {hint}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(
            f"{said}: {existing} is not writable for this user; give a directory you may write in"
        )
    if existing == directory:
        for name in REPORT_FILES:
            report = directory / name
            if os.path.lexists(report) and not os.path.isfile(report):
                raise UsageError(
                    f"{said}: {report} is there and is not a file, so the report cannot be "
                    "written; remove it or give another directory"
                )
