"""A violation's files beside the reports: a standalone pytest reproducer that replays its
steps without hypothesis, and the failing run's trace. Written from plain data (the target as
`about` describes it, the steps, the trace's events), so that a campaign's merged report
writes them for a violation another worker found, on another machine."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.fuzz.driver import Step
from conformance.resapi import control_code_name
from conformance.targets import Target


def about(target: Target) -> dict[str, Any]:
    """What a reproducer and a report need to know of ``target``, as JSON."""
    return {
        "given": target.given,
        "path": str(target.path),
        "sha256": target.sha256(),
        "resource_type": target.resource_type,
        "hosting": target.hosting,
    }


def slug(rule_id: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", rule_id.lower()).strip("_")


def write_files(
    target: dict[str, Any],
    rule_id: str,
    steps: Sequence[Step],
    events: list[dict[str, Any]],
    seed_value: int | None,
    report_dir: Path,
) -> tuple[Path, Path]:
    """``test_repro_<rule>.py`` and ``trace_<rule>.json`` in ``report_dir``."""
    from conformance import __version__

    name = slug(rule_id)
    test_file = report_dir / f"test_repro_{name}.py"
    lines = "\n".join(
        f"    {step!r},  # {control_code_name(step.arg[0])}"
        if step.op == "control"
        else f"    {step!r},"
        for step in steps
    )
    # What comes from the target (its name and path) is written only as repr() data: a name
    # is never pasted into the docstring or the code, where a quote or newline would run it.
    test_file.write_text(
        f'''"""Reproducer written by `rescheck fuzz`: {rule_id} broken by {len(steps)} steps.

The target, its sha256, the seed and rescheck's version are below. Run it with plain pytest:
it fails while the target breaks the rule, and passes once fixed.
"""

from conformance.fuzz import Step, replay
from conformance.targets import load_target

RESCHECK_VERSION = {__version__!r}
GIVEN = {target["given"]!r}
TARGET = {target["path"]!r}
TARGET_SHA256 = {target["sha256"]!r}
TYPE_NAME = {target["resource_type"]!r}
SEED = {seed_value!r}
STEPS = [
{lines}
]


def test_{name}() -> None:
    replay(load_target(TARGET, type_name=TYPE_NAME, hosting={target["hosting"]!r}), STEPS)
''',
        encoding="utf-8",
    )
    trace_file = report_dir / f"trace_{name}.json"
    trace_file.write_text(
        json.dumps(
            {
                "rule": rule_id,
                "rescheck_version": __version__,
                "target_sha256": target["sha256"],
                "seed": seed_value,
                "steps": [repr(s) for s in steps],
                "trace": events,
            },
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    return test_file, trace_file
