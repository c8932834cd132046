"""``report.html``: one self-contained page a person reads to see why a target failed.

Target names, messages and trace lines come from the target under test and are hostile input:
the template is autoescaped, the little markdown we render is applied to escaped text, links
are made only to http(s) addresses and to plain file names beside the report, and a Content
Security Policy lets only the page's own script (by its hash) run.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from conformance.report.model import (
    ERROR,
    FAILED,
    NON_COMPLIANT,
    OUTCOMES,
    PASSED,
    SKIPPED,
    UNREADABLE,
    CheckResult,
    RunResult,
    verdict,
)
from conformance.rules import LEVELS


def _href(url: str) -> str | None:
    """The address to link to, or None for anything that is not plainly http(s)."""
    return url if url.startswith(("https://", "http://")) else None


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


#: The markdown the rule catalogue and messages use: `code`, **bold**, [text](http-url).
_INLINE = re.compile(r"`([^`\n]+)`|\*\*([^*\n]+?)\*\*|\[([^\]\n]+)\]\((https?://[^)\s]+)\)")


def _markdown(text: Any) -> Markup:
    """A tiny, safe markdown: everything is escaped first, then only the three inline forms
    become tags (a link only to http(s)); anything else stays text."""

    def tag(match: re.Match[str]) -> str:
        code, bold, label, url = match.groups()
        if code is not None:
            return f"<code>{code}</code>"
        if bold is not None:
            return f"<strong>{bold}</strong>"
        return f'<a href="{url}" rel="noopener noreferrer nofollow">{label}</a>'

    return Markup(_INLINE.sub(tag, str(escape(str(text)))))


def _duration(seconds: Any) -> str:
    """A check's own time, or "" where none was measured (0 is what producers leave)."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not seconds > 0:
        return ""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


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
    env.filters["md"] = _markdown
    env.filters["duration"] = _duration
    return env


@cache
def _script() -> tuple[Markup, str]:
    """The page's only script (search and filters) and its CSP hash: fixed text, no data."""
    text = _environment().get_template("report.js.jinja2").render().strip()
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return Markup(text), f"sha256-{digest}"


#: The drawn timeline: the time axis's width, a node's row, the label column, the axis (px).
TIMELINE_WIDTH, TIMELINE_ROW, TIMELINE_LABEL, TIMELINE_AXIS = 560, 26, 70, 30


def _succeeded(result: Any) -> bool:
    """Whether a timeline entry's answer is ERROR_SUCCESS (``0 (ERROR_SUCCESS)`` or 0)."""
    return str(result) == "0" or str(result).startswith("0 ")


def _ticks(first: float, last: float, count: int = 4) -> list[tuple[float, str]]:
    """Round times (1, 2 or 5 x 10^k ms apart) between first and last: at least ``count``
    of them, and few enough (at most about 2.5 times that) to be read."""
    raw = max(last - first, 1e-6) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = max(m * magnitude for m in (1, 2, 5) if m * magnitude <= raw * (1 + 1e-9))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    ticks, at = [], math.ceil(first / step - 1e-9) * step
    while at <= last + step * 1e-6:
        ticks.append((at, f"{at:.{decimals}f} ms"))
        at += step
    return ticks


def _ownerships(entries: list[dict[str, Any]], last: float) -> list[tuple[Any, float, float]]:
    """Who believed it owned the quorum when, as the quorum rules read a history: from a
    successful Arbitrate's return until Release is asked (one that fails does not release),
    LostQuorumResource, a kill, or a pause (a stopped owner is excused from then on)."""
    held: dict[Any, float] = {}
    owned = []
    for entry in sorted(entries, key=lambda e: e["start_ms"]):
        node, op = entry["node"], entry["op"]
        if op == "arbitrate" and entry["end_ms"] is not None and _succeeded(entry["result"]):
            held.setdefault(node, entry["end_ms"])
        elif node in held and op == "release" and not _succeeded(entry["result"]):
            continue
        elif node in held and op in ("release", "lost", "kill", "pause"):
            owned.append((node, held.pop(node), entry["start_ms"]))
    return owned + [(node, start, last) for node, start in held.items()]


def _overlaps(owned: list[tuple[Any, float, float]]) -> list[tuple[float, float, list[Any]]]:
    """The spans in which two nodes or more owned the quorum at once, with every node that
    owned it during the span (back-to-back spans are one)."""
    edges = sorted({t for _, start, end in owned for t in (start, end)})
    # An ownership that starts and ends in the same 0.1 ms (the slice's precision) still
    # overlaps an owner whose ownership spans that instant.
    instants = [
        (at, at, {node} | {n for n, s, e in owned if s < at < e})
        for node, at, end in owned
        if at == end
    ]
    segments = [
        (a, b, {n for n, s, e in owned if s <= a and e >= b}) for a, b in itertools.pairwise(edges)
    ]
    spans: list[tuple[float, float, list[Any]]] = []
    for start, end, nodes in sorted(instants + segments, key=lambda seg: (seg[0], seg[1])):
        if len(nodes) < 2:
            continue
        if spans and spans[-1][1] >= start:
            nodes |= set(spans[-1][2])
            end = max(end, spans[-1][1])
            start = spans.pop()[0]
        spans.append((start, end, sorted(nodes, key=str)))
    return spans


def _nodes(nodes: list[Any]) -> str:
    """``nodes 1 and 2``, ``nodes 1, 3 and 4``."""
    names = [str(n) for n in nodes]
    return "nodes " + (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0])


#: Overlaps named in a timeline's caption; the rest are counted.
SHOWN_OVERLAPS = 3


def _timeline(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A quorum history slice laid out for SVG: a row per node, a bar per call (a tick for
    what has no duration), a line under a node while it owned the quorum, a red band where
    two nodes owned it at once, and a time axis in ms."""
    if not entries:
        return {}
    ends = [e["end_ms"] if e["end_ms"] is not None else e["start_ms"] for e in entries]
    first, last = min(e["start_ms"] for e in entries), max(ends)
    span = max(last - first, 1.0)
    nodes = sorted({e["node"] for e in entries})

    def x(at: float) -> float:
        return round(TIMELINE_LABEL + (at - first) / span * TIMELINE_WIDTH, 1)

    def y(node: Any) -> int:
        return nodes.index(node) * TIMELINE_ROW + 4

    bars = []
    for entry, end in zip(entries, ends, strict=True):
        won = entry["op"] == "arbitrate" and _succeeded(entry.get("result"))
        answer = f" -> {entry['result']}" if entry.get("result") is not None else ""
        bars.append(
            {
                "x": x(entry["start_ms"]),
                "y": y(entry["node"]),
                "width": round(max(3.0, (end - entry["start_ms"]) / span * TIMELINE_WIDTH), 1),
                "kind": "won" if won else entry["op"],
                "title": f"node {entry['node']}: {entry['op']}{answer}, "
                f"{entry['start_ms']:.1f}..{end:.1f} ms",
            }
        )
    owned = _ownerships(entries, last)
    overlaps = _overlaps(owned)
    rows_height = len(nodes) * TIMELINE_ROW + 4
    return {
        "nodes": [(n, i * TIMELINE_ROW + TIMELINE_ROW / 2 + 4) for i, n in enumerate(nodes)],
        "bars": bars,
        "owned": [
            {
                "x": x(s),
                "y": y(n) + 19,
                "width": round(max(2.0, x(e) - x(s)), 1),
                "title": f"node {n} owned the quorum {s:.1f}..{e:.1f} ms",
            }
            for n, s, e in owned
        ],
        "overlaps": [
            {
                "x": round(x(s) - (1.5 if x(e) - x(s) < 3 else 0), 1),
                "width": round(max(3.0, x(e) - x(s)), 1),
                "text": f"{_nodes(ns)} {'both' if len(ns) == 2 else 'all'} owned the quorum "
                f"at once from {s:.1f} to {e:.1f} ms",
            }
            for s, e, ns in overlaps
        ],
        "overlaps_more": max(0, len(overlaps) - SHOWN_OVERLAPS),
        "shown_overlaps": SHOWN_OVERLAPS,
        "ticks": [{"x": x(at), "label": label} for at, label in _ticks(first, last)],
        "rows_height": rows_height,
        "width": TIMELINE_LABEL + TIMELINE_WIDTH + 30,
        "height": rows_height + TIMELINE_AXIS,
        "first": round(first),
        "last": round(last),
    }


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


#: Rows of the checks table that say the same thing are shown as one, from this many on.
GROUP_MIN = 3


def _rows(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The checks table: a row per check in run order, except that passed or skipped checks
    with the same message and nothing else to show (a campaign's 23 "no sequence broke it")
    become one group row, with its members right after it, folded."""

    def key(check: CheckResult) -> tuple[str, str] | None:
        plain = check.outcome in (PASSED, SKIPPED) and not check.evidence and not check.timeline
        return (check.outcome, check.message) if plain else None

    members: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for view in views:
        if (k := key(view["check"])) is not None:
            members.setdefault(k, []).append(view)
    big = [k for k, group in members.items() if len(group) >= GROUP_MIN]
    names = {k: f"group-{i}" for i, k in enumerate(big)}
    rows: list[dict[str, Any]] = []
    for view in views:
        k = key(view["check"])
        if k not in names:
            rows.append({"kind": "check", "view": view, "group": None})
        elif view is members[k][0]:  # the others are drawn with it
            group = members[k]
            rows.append({"kind": "group", "id": names[k], "outcome": k[0], "views": group})
            rows += [{"kind": "check", "view": v, "group": names[k]} for v in group]
    return rows


#: The order of the failures-first summary: verdict-deciding, not judged, warnings.
_RANK = {"fatal": 0, "error": 1, "warning": 2}


def _weight(check: CheckResult, fatal: bool) -> str:
    """How loud a check is: fatal (decides the verdict), warning, error (not judged) or ""."""
    if fatal:
        return "fatal"
    return {FAILED: "warning", ERROR: "error"}.get(check.outcome, "")


#: A file name a report may link to: beside the report, no path, no hidden file.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")


def _link(directory: Path, name: Any) -> dict[str, str] | None:
    """A relative link to ``name`` when it is a plain file name that exists beside the report."""
    if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name):
        return None
    if not (directory / name).is_file():
        return None
    return {"name": name, "href": quote(name)}


def _artifacts(check: CheckResult, directory: Path, mode: Any) -> list[dict[str, str]]:
    """The files of a check beside the report: those it records, and, for a fuzz campaign,
    the reproducer and trace `rescheck fuzz` writes by the rule's name (README)."""
    names = list(check.artifacts)
    if mode == "fuzz" and check.outcome == FAILED:
        slug = re.sub(r"[^0-9a-z]+", "_", check.id.lower()).strip("_")
        names += [f"test_repro_{slug}.py", f"trace_{slug}.json"]
    links = [link for name in dict.fromkeys(names) if (link := _link(directory, name))]
    for link in links:
        kind = "trace" if link["name"].startswith("trace_") else "file"
        link["kind"] = "reproducer" if link["name"].startswith("test_repro_") else kind
    return links


#: The other reports of a run, linked from the page's head when they are beside it.
RUN_FILES = ("junit.xml", "results.json", "results.jsonl")


def _schedule_log(value: Any, rule_ids: list[str]) -> list[dict[str, Any]]:
    """A quorum campaign's schedules as a table: ``[{schedule, outcomes: {rule: outcome},
    reasons: {rule: why}}]``; whatever does not have that shape is left out."""
    if not isinstance(value, list):
        return []
    rows = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("schedule"), str):
            continue
        outcomes = entry.get("outcomes") if isinstance(entry.get("outcomes"), dict) else {}
        reasons = entry.get("reasons") if isinstance(entry.get("reasons"), dict) else {}
        rows.append(
            {
                "schedule": entry["schedule"],
                "cells": [
                    (
                        str(outcomes.get(r)) if outcomes.get(r) in OUTCOMES else "",
                        _value(reasons.get(r, "")),
                    )
                    for r in rule_ids
                ],
            }
        )
    return rows


def _listed(value: Any) -> list[Any]:
    """``value`` when it is a list, else nothing: info values come from a log on disk."""
    return value if isinstance(value, list) else []


#: ``info`` keys drawn in sections of their own, not in the run's environment table.
SECTION_KEYS = ("transitions", "schedule_log")


def write_html(run: RunResult, path: Path) -> None:
    """Render ``run`` to ``path`` as a single HTML page with inline CSS and script."""
    mode = run.info.get("mode")
    views = [
        {
            "check": check,
            "weight": _weight(check, _fatal(check, run.strict)),
            "message": check.message,
            "files": _artifacts(check, path.parent, mode),
            "time": _duration(check.duration),
        }
        for check in run.checks
    ]
    failures = sorted((v for v in views if v["weight"]), key=lambda v: _RANK[v["weight"]])
    policies: dict[str, list[CheckResult]] = {}
    for check in run.checks:
        if check.policy:
            policies.setdefault(check.policy, []).append(check)
    schedule_rules = list(dict.fromkeys(c.id for c in run.checks)) if mode == "quorum" else []
    script, script_hash = _script()
    page = (
        _environment()
        .get_template("report.html.jinja2")
        .render(
            run=run,
            verdict=run.verdict,
            counts=run.counts(),
            outcomes=OUTCOMES,
            levels=[level for level in LEVELS if any(c.level == level for c in run.checks)],
            rows=_rows(views),
            failures=failures,
            timed=any(v["time"] for v in views),
            warnings=sum(1 for v in views if v["weight"] == "warning"),
            policies=policies,
            not_exercised=run.not_exercised(),
            info={k: v for k, v in run.info.items() if k not in SECTION_KEYS},
            transitions=_transition_table(run.info.get("transitions") or []),
            schedule_rules=schedule_rules,
            schedule_log=_schedule_log(run.info.get("schedule_log"), schedule_rules),
            files=[link for name in RUN_FILES if (link := _link(path.parent, name))],
            target_kind=run.info.get("target_kind"),
            unreadable=_listed(run.info.get(UNREADABLE)),
            mode=mode,
            script=script,
            script_hash=script_hash,
        )
    )
    # A lone surrogate (from a target's bytes decoded leniently) must not stop the report.
    path.write_text(page, encoding="utf-8", errors="backslashreplace")
