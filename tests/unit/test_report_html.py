"""report.html's own logic, without a browser: markdown, grouping, links, wording, timelines."""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.fuzz.quorum import held
from conformance.report.html import (
    _duration,
    _markdown,
    _overlaps,
    _ownerships,
    _ticks,
    _timeline,
    write_html,
)
from conformance.report.model import (
    ERROR,
    FAILED,
    PASSED,
    SKIPPED,
    CheckResult,
    ResultsLog,
    RunResult,
    read_log,
)
from conformance.rules import OPTIONAL, RECOMMENDED, REQUIRED, Rule


def _check(
    rule_id: str, outcome: str, message: str, level: str = REQUIRED, **extra: object
) -> CheckResult:
    rule = Rule(
        id=rule_id,
        level=level,
        entry_points=("Online",),
        statement=f"Statement of {rule_id}.",
        doc="S:nc-resapi-ponline_routine",
        contract=("ON-2",),
    )
    return CheckResult.for_rule(rule, outcome, message, **extra)  # type: ignore[arg-type]


class _Page(HTMLParser):
    """Start tags with their attributes, and the text of the whole page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text = ""
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text += data

    def ids(self, tag: str, prefix: str) -> list[str]:
        return [a["id"] for t, a in self.tags if t == tag and a.get("id", "").startswith(prefix)]


def _render(run: RunResult, directory: Path) -> tuple[str, _Page]:
    path = directory / "report.html"
    write_html(run, path)
    text = path.read_text(encoding="utf-8")
    return text, _Page(text)


def test_markdown_renders_bold_code_and_http_links_and_escapes_the_rest() -> None:
    text = "**Conflict.** call `Terminate` <b>now</b> [doc](https://x.example/a?b=1&c=2)"
    html = str(_markdown(text))
    assert "<strong>Conflict.</strong>" in html, html
    assert "<code>Terminate</code>" in html, html
    assert "&lt;b&gt;now&lt;/b&gt;" in html, f"expected raw HTML escaped: {html}"
    assert 'href="https://x.example/a?b=1&amp;c=2"' in html, html


@pytest.mark.parametrize(
    "hostile",
    [
        "[x](javascript:alert(1))",
        '[x](https://a.example/" onmouseover="alert(1))',
        "**<img src=x onerror=alert(1)>**",
        "`</code><script>alert(1)</script>`",
    ],
)
def test_markdown_never_makes_markup_of_hostile_text(hostile: str) -> None:
    page = _Page(f"<div>{_markdown(hostile)}</div>")
    names = {t for t, _ in page.tags}
    assert names <= {"div", "strong", "code", "a"}, f"unexpected elements {names}: {hostile}"
    for _, attrs in page.tags:
        assert set(attrs) <= {"href", "rel"}, f"unexpected attributes {attrs}"
        assert attrs.get("href", "https://").startswith("https://"), attrs


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.0, ""), (0.0001, "0.1 ms"), (0.012, "12 ms"), (2.2, "2.20 s"), (None, ""), (True, "")],
)
def test_durations_are_shown_only_when_measured(seconds: object, shown: str) -> None:
    assert _duration(seconds) == shown


def test_the_failures_come_first_fatal_then_not_judged_then_warnings(tmp_path: Path) -> None:
    run = RunResult(
        target="t",
        resource_type="T",
        checks=[
            _check("A.warn", FAILED, "slow", level=RECOMMENDED),
            _check("B.ok", PASSED, "fine"),
            _check("C.error", ERROR, "host died"),
            _check("D.fatal", FAILED, "raised", evidence=["  1.0 ms  Online raised"]),
        ],
    )
    _, page = _render(run, tmp_path)
    order = page.ids("article", "failure-")
    assert order == ["failure-D.fatal", "failure-C.error", "failure-A.warn"], order
    rows = page.ids("tr", "check-")
    assert rows == [f"check-{c.id}" for c in run.checks], "the table keeps the run's order"


def test_same_message_rows_are_grouped_and_folded_but_failures_never(tmp_path: Path) -> None:
    same = "no sequence of 100 examples broke it"
    checks = [_check(f"R{i}.returns", PASSED, same) for i in range(4)]
    checks.insert(2, _check("X.returns", FAILED, same))
    checks.append(_check("S.one", SKIPPED, "no probe"))
    checks.append(_check("S.two", SKIPPED, "no probe"))
    _, page = _render(RunResult("t", "T", checks), tmp_path)
    heads = [a for t, a in page.tags if t == "tbody" and "group-head" in a.get("class", "")]
    assert len(heads) == 1, f"expected one group (4 passed), not the 2 skipped: {heads}"
    members = [a for t, a in page.tags if t == "tbody" and a.get("data-member")]
    assert len(members) == 4, f"expected the 4 passed rows as members, got {members}"
    assert all(m["data-outcome"] == PASSED for m in members), members
    rows = page.ids("tr", "check-")
    assert rows[:4] == [f"check-R{i}.returns" for i in range(4)], "members follow their head"
    assert "4 checks" in page.text and same in page.text


def test_links_to_files_beside_the_report_only_when_they_exist(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text("<testsuites/>")
    (tmp_path / "test_repro_online_returns.py").write_text("")
    (tmp_path / "trace_online_returns.json").write_text("{}")
    (tmp_path / "recorded.json").write_text("{}")
    failed = _check(
        "Online.returns",
        FAILED,
        "raised",
        artifacts=["recorded.json", "../escape.json", "/etc/passwd", ".hidden", "missing.py"],
    )
    run = RunResult("t", "T", [failed], info={"mode": "fuzz"})
    _, page = _render(run, tmp_path)
    hrefs = [a["href"] for t, a in page.tags if t == "a" and "://" not in a.get("href", "://")]
    local = sorted({h for h in hrefs if not h.startswith("#")})
    expected = [
        "junit.xml",
        "recorded.json",
        "test_repro_online_returns.py",
        "trace_online_returns.json",
    ]
    assert local == expected, f"expected links to existing plain names only, got {local}"


def test_artifacts_survive_the_results_log(tmp_path: Path) -> None:
    check = _check("Online.returns", FAILED, "raised", artifacts=["test_repro_x.py"])
    log = ResultsLog(tmp_path, {"target": "t", "resource_type": "T"})
    log.check(check)
    log.finish({})
    assert read_log(tmp_path).checks == [check]
    assert "artifacts" not in _check("A.b", PASSED, "ok").to_json(), "absent when there are none"


@pytest.mark.parametrize(
    ("judged", "expected"),
    [
        (4, "held in all 4 schedules that exercised it; the other 6 had nothing for it to judge"),
        (1, "held in the one schedule that exercised it; the other 9 had nothing"),
        (10, "held in every one of the 10 schedules played"),
    ],
)
def test_a_quorum_rule_held_where_judged_does_not_read_as_failed(
    judged: int, expected: str
) -> None:
    shown = held(judged, 10, Counter({"no owner released the quorum": 10 - judged}))
    assert shown.startswith(expected), shown


def test_the_time_axis_has_round_ticks() -> None:
    assert [label for _, label in _ticks(0.5, 388.0)] == [f"{t} ms" for t in range(50, 351, 50)]
    assert [label for _, label in _ticks(12.0, 32.0)] == ["15 ms", "20 ms", "25 ms", "30 ms"]
    assert [label for _, label in _ticks(0.0, 0.3)][:3] == ["0.00 ms", "0.05 ms", "0.10 ms"]
    for first, last in [(0.0, 1.0), (3.3, 4.4), (0.5, 20.1), (7.0, 71.0), (0.0, 99.9)]:
        assert 4 <= len(_ticks(first, last)) <= 10, (first, last, _ticks(first, last))


def _op(node: int, op: str, start: float, end: float | None, result: str | None = None) -> dict:
    return {"node": node, "op": op, "start_ms": start, "end_ms": end, "result": result}


WON = "0 (ERROR_SUCCESS)"


def test_ownership_and_overlaps_follow_the_quorum_rules() -> None:
    entries = [
        _op(3, "arbitrate", 12.0, 19.0, WON),
        _op(1, "arbitrate", 12.2, 16.4, WON),
        _op(2, "arbitrate", 12.4, 15.1, WON),
        _op(1, "lost", 16.4, 16.4),
        _op(2, "release", 20.4, 26.0, WON),
        _op(3, "release", 26.1, 32.0, "5 (ERROR_ACCESS_DENIED)"),  # not released (RL-1)
    ]
    owned = _ownerships(entries, 32.0)
    assert sorted(owned) == [(1, 16.4, 16.4), (2, 15.1, 20.4), (3, 19.0, 32.0)], owned
    assert _overlaps(owned) == [(16.4, 16.4, [1, 2]), (19.0, 20.4, [2, 3])]


def test_a_handover_is_not_an_overlap_and_a_pause_excuses() -> None:
    entries = [
        _op(1, "arbitrate", 0.0, 5.0, WON),
        _op(1, "release", 10.0, 11.0, WON),
        _op(2, "arbitrate", 9.0, 10.0, WON),
        _op(2, "pause", 20.0, 20.5),
        _op(3, "arbitrate", 21.0, 22.0, WON),
    ]
    assert _overlaps(_ownerships(entries, 30.0)) == []
    drawn = _timeline(entries)
    assert drawn["overlaps"] == [] and len(drawn["owned"]) == 3, drawn


def test_the_page_runs_only_its_own_script_by_hash(tmp_path: Path) -> None:
    run = RunResult("t", "T", [_check("A.b", FAILED, "<script>alert(1)</script>")])
    text, _ = _render(run, tmp_path)
    scripts = re.findall(r"<script>(.*?)</script>", text, re.S)
    assert len(scripts) == 1, "expected the report's own script only"
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in text, "expected the CSP to allow it by its hash"
    assert "default-src 'none'" in text


def test_the_environment_is_folded_and_zero_counts_are_neutral(tmp_path: Path) -> None:
    run = RunResult(
        "t",
        "T",
        [_check("A.b", PASSED, "ok", level=OPTIONAL)],
        info={"time_scale": 0.01, "transitions": [], "schedule_log": []},
    )
    text, page = _render(run, tmp_path)
    details = next(a for t, a in page.tags if t == "details" and a.get("id") == "environment")
    assert "open" not in details, "expected the run environment folded"
    assert '<th scope="row">time_scale</th>' in text, "expected the info value in its table"
    for key in ("transitions", "schedule_log"):
        assert f'<th scope="row">{key}</th>' not in text, f"{key} has a section of its own"
    chips = {
        a["id"]: a["class"].split() for t, a in page.tags if a.get("id", "").startswith("count-")
    }
    assert "zero" in chips["count-error"] and "zero" not in chips["count-passed"], chips


def test_junit_names_the_files_a_failure_wrote(tmp_path: Path) -> None:
    from conformance.report.junit import write_junit

    failed = _check("Online.returns", FAILED, "raised", artifacts=["test_repro_online_returns.py"])
    write_junit(RunResult("t", "T", [failed]), tmp_path / "junit.xml")
    body = (tmp_path / "junit.xml").read_text(encoding="utf-8")
    assert "Files beside this report: test_repro_online_returns.py" in body, body
