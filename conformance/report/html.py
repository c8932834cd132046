"""``report.html``: one self-contained page a person reads to see why a target failed.

Target names, messages and trace lines come from the target under test and are hostile input:
the template is autoescaped, and links are made only to http(s) addresses.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from conformance.report.model import (
    FAILED,
    NON_COMPLIANT,
    OUTCOMES,
    CheckResult,
    RunResult,
    verdict,
)


def _href(url: str) -> str | None:
    """The address to link to, or None for anything that is not plainly http(s)."""
    return url if url.startswith(("https://", "http://")) else None


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("conformance.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("jinja2", "html"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["href"] = _href
    env.filters["value"] = _value
    env.filters["timeline"] = _timeline
    return env


def _fatal(check: CheckResult, strict: bool) -> bool:
    """Whether this check alone makes the run non-compliant (a failure, not a warning)."""
    return verdict([check], strict) == NON_COMPLIANT


def _transition_table(transitions: list[dict[str, Any]]) -> dict[str, Any]:
    """A fuzz campaign's (state, step, state) counts as a matrix: a row per state before the
    step, a column per step, and in each cell the states it led to, with how often."""
    before = sorted({t["from"] for t in transitions})
    steps = sorted({t["step"] for t in transitions})
    cells: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for t in transitions:
        cells.setdefault((t["from"], t["step"]), []).append((t["to"], t["count"]))
    return {"states": before, "steps": steps, "cells": cells, "count": len(transitions)}


#: The drawn timeline: the width of the time axis and the height of a node's row (px).
TIMELINE_WIDTH, TIMELINE_ROW, TIMELINE_LABEL = 760, 26, 70


def _timeline(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A quorum history slice laid out for SVG: a row per node, a bar per call (a tick for
    what has no duration), positioned on one time axis."""
    if not entries:
        return {}
    ends = [e["end_ms"] if e["end_ms"] is not None else e["start_ms"] for e in entries]
    first, last = min(e["start_ms"] for e in entries), max(ends)
    span = max(last - first, 1.0)
    nodes = sorted({e["node"] for e in entries})
    bars = []
    for entry, end in zip(entries, ends, strict=True):
        x = TIMELINE_LABEL + (entry["start_ms"] - first) / span * TIMELINE_WIDTH
        width = max(3.0, (end - entry["start_ms"]) / span * TIMELINE_WIDTH)
        won = entry["op"] == "arbitrate" and str(entry.get("result", "")).startswith("0 ")
        kind = "won" if won else entry["op"]
        answer = f" -> {entry['result']}" if entry.get("result") else ""
        bars.append(
            {
                "x": round(x, 1),
                "y": nodes.index(entry["node"]) * TIMELINE_ROW + 4,
                "width": round(width, 1),
                "kind": kind,
                "title": f"node {entry['node']}: {entry['op']}{answer}, "
                f"{entry['start_ms']:.0f}..{end:.0f} ms",
            }
        )
    return {
        "nodes": [(n, i * TIMELINE_ROW + TIMELINE_ROW / 2 + 4) for i, n in enumerate(nodes)],
        "bars": bars,
        "width": TIMELINE_LABEL + TIMELINE_WIDTH + 10,
        "height": len(nodes) * TIMELINE_ROW + 8,
        "first": round(first),
        "last": round(last),
    }


def write_html(run: RunResult, path: Path) -> None:
    """Render ``run`` to ``path`` as a single HTML page with inline CSS."""
    checks = [(check, _fatal(check, run.strict)) for check in run.checks]
    page = (
        _environment()
        .get_template("report.html.jinja2")
        .render(
            run=run,
            verdict=run.verdict,
            counts=run.counts(),
            outcomes=OUTCOMES,
            checks=checks,
            warnings=sum(1 for c, fatal in checks if c.outcome == FAILED and not fatal),
            policies=[c for c in run.checks if c.policy],
            not_exercised=run.not_exercised(),
            info={k: v for k, v in run.info.items() if k != "transitions"},
            transitions=_transition_table(run.info.get("transitions") or []),
            target_kind=run.info.get("target_kind"),
        )
    )
    # A lone surrogate (from a target's bytes decoded leniently) must not stop the report.
    path.write_text(page, encoding="utf-8", errors="backslashreplace")
