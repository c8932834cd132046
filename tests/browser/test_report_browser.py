"""report.html as a real browser sees it: Debian's headless Chromium (docs/design.md, Principles 7)."""

from __future__ import annotations

import importlib.util
import struct
import subprocess
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest
from _cdp import HEIGHT, Chromium

from conformance.fuzz.quorum import held
from conformance.report.html import write_html
from conformance.report.model import CheckResult, RunResult

pytestmark = pytest.mark.browser


def _writers_tests() -> ModuleType:
    """The unit tests' hand-built run, so both suites look at the same report."""
    path = Path(__file__).parents[1] / "unit" / "test_report_writers.py"
    spec = importlib.util.spec_from_file_location("_report_writers_sample", path)
    assert spec is not None and spec.loader is not None, f"expected to load {path}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SAMPLE = _writers_tests()


def _run_chromium(chromium: str, tmp_path: Path, page: Path, *args: str) -> str:
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, (
        f"expected chromium to exit 0, got {done.returncode}: {done.stderr}"
    )
    return done.stdout


class _Dom(HTMLParser):
    """Start tags with attributes, and the text inside each element id'd ``check-…``."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text_by_id: dict[str, str] = {}
        self._open: list[str | None] = []
        self.feed(dom)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if tag not in ("meta", "link", "br", "wbr", "input", "img", "col"):
            self._open.append(attributes.get("id"))

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for element_id in filter(None, self._open):
            self.text_by_id[element_id] = self.text_by_id.get(element_id, "") + data


def _report(tmp_path: Path) -> tuple[RunResult, Path]:
    run: RunResult = SAMPLE.sample_run()
    page = tmp_path / "report.html"
    write_html(run, page)
    return run, page


def test_chromium_renders_the_report_dom(chromium: str, tmp_path: Path) -> None:
    run, page = _report(tmp_path)
    dom = _run_chromium(chromium, tmp_path, page, "--dump-dom")
    parsed = _Dom(dom)
    verdict = next((a for _, a in parsed.tags if a.get("id") == "verdict"), None)
    assert verdict is not None, "expected the verdict element in the rendered DOM"
    assert "verdict-non-compliant" in verdict["class"].split(), f"class was {verdict['class']}"
    assert parsed.text_by_id["verdict"].strip() == "non-compliant", "expected the verdict text"
    rows = [a["id"] for t, a in parsed.tags if t == "tr" and a.get("id", "").startswith("check-")]
    assert rows == [f"check-{c.id}" for c in run.checks], f"expected every check row, got {rows}"
    scripts = [a for t, a in parsed.tags if t == "script"]
    assert scripts == [{}], f"expected only the report's own inline script, found {scripts}"
    hostile = parsed.text_by_id["check-control.characteristics"]
    assert "<script>alert(1)</script>" in hostile, f"expected the message as text: {hostile!r}"


def test_chromium_screenshot_of_the_report(chromium: str, tmp_path: Path) -> None:
    _, page = _report(tmp_path)
    shot = tmp_path / "shot.png"
    _run_chromium(chromium, tmp_path, page, f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.is_file(), "expected chromium to write the screenshot"
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "expected a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2000), f"expected a 1280x2000 shot, got {width}x{height}"
    assert len(data) > 30_000, f"expected a non-trivial screenshot, got {len(data)} bytes"


def test_chromium_renders_a_fuzz_campaigns_transition_coverage(
    chromium: str, tmp_path: Path
) -> None:
    run: RunResult = SAMPLE.sample_run()
    run.info["transitions"] = [
        {"from": "Offline", "step": "online", "to": "Online", "count": 3},
        {"from": "Offline", "step": "online", "to": "Failed", "count": 1},
        {"from": "OnlinePending", "step": "terminate", "to": "Offline", "count": 2},
    ]
    page = tmp_path / "report.html"
    write_html(run, page)
    parsed = _Dom(_run_chromium(chromium, tmp_path, page, "--dump-dom"))
    text = " ".join(parsed.text_by_id.get("transitions", "").split())
    assert "Transition coverage (3 transitions)" in text, f"expected the section: {text!r}"
    for cell in ("Online ×3", "Failed ×1", "Offline ×2"):
        assert cell in text, f"expected the cell {cell!r} in {text!r}"
    assert "transitions" not in parsed.text_by_id.get("info", ""), (
        "the transitions belong in their table, not in the run's facts"
    )


def test_chromium_draws_a_quorum_violation_as_a_per_node_timeline(
    chromium: str, tmp_path: Path
) -> None:
    run: RunResult = SAMPLE.sample_run()
    failed = next(c for c in run.checks if c.outcome == "failed")
    failed.timeline = [
        {
            "node": 1,
            "op": "arbitrate",
            "start_ms": 0.0,
            "end_ms": 12.0,
            "result": "0 (ERROR_SUCCESS)",
        },
        {
            "node": 2,
            "op": "arbitrate",
            "start_ms": 5.0,
            "end_ms": 20.0,
            "result": "0 (ERROR_SUCCESS)",
        },
        {
            "node": 3,
            "op": "arbitrate",
            "start_ms": 5.0,
            "end_ms": 900.0,
            "result": "1460 (ERROR_TIMEOUT)",
        },
        {"node": 1, "op": "lost", "start_ms": 210.0, "end_ms": 210.0, "result": None},
    ]
    page = tmp_path / "report.html"
    write_html(run, page)
    parsed = _Dom(_run_chromium(chromium, tmp_path, page, "--dump-dom"))
    figure = [a for t, a in parsed.tags if t == "figure" and a.get("id") == f"timeline-{failed.id}"]
    assert figure, f"expected the timeline figure of {failed.id} in the rendered DOM"
    rects = [a["class"] for t, a in parsed.tags if t == "rect"]
    bars = [r for r in rects if r.startswith("op ")]
    assert bars == ["op op-won", "op op-won", "op op-arbitrate", "op op-lost"], (
        f"expected a bar per call, coloured by what it did; got {rects}"
    )
    assert rects.count("owned") == 2, f"expected a line per ownership (nodes 1, 2): {rects}"
    assert rects.count("overlap") == 1, f"expected the overlap of nodes 1 and 2 marked: {rects}"
    labels = " ".join(parsed.text_by_id.get(f"timeline-{failed.id}", "").split())
    assert "node 1" in labels and "node 3" in labels and "0 ms to 900 ms" in labels, labels
    assert "nodes 1 and 2 both owned the quorum at once from 20.0 to 210.0 ms" in labels, labels
    ticks = [a for t, a in parsed.tags if t == "text" and a.get("class") == "tick"]
    assert len(ticks) >= 4, f"expected a time axis with ticks, got {ticks}"


# What a reader does with the page: the DevTools protocol drives a 1400x900 window.

#: Run before the page's own script: records alert() calls and CSP violations.
TRAPS = (
    "window.__alerts = []; window.alert = (m) => window.__alerts.push(String(m));"
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " (e) => window.__violations.push(e.violatedDirective));"
)
VISIBLE_ROWS = (
    "[...document.querySelectorAll('tbody.check-body')]"
    ".filter((b) => !b.hidden).map((b) => b.querySelector('tr.check').id)"
)


def test_text_from_the_target_never_runs(browser: Chromium, tmp_path: Path) -> None:
    trap = "window.__pwned = 1"
    run: RunResult = SAMPLE.sample_run()
    run.target = f'"><img src=x onerror="{trap}"><script>{trap}</script>'
    failed = run.checks[1]
    failed.message = f'**bold** [x](javascript:{trap}) <svg onload="{trap}"></svg>'
    failed.evidence = [*failed.evidence, f"</pre><script>{trap}</script>"]
    failed.policy = f'[doc](https://a.example/" onmouseover="{trap})'
    failed.artifacts = [f'x" onclick="{trap}', "../../etc/passwd"]
    page = tmp_path / "report.html"
    write_html(run, page)
    browser.open(page, before_load=TRAPS)
    state = browser.js(
        "({pwned: window.__pwned ?? null, alerts: window.__alerts,"
        " scripts: document.scripts.length,"
        " handlers: [...document.querySelectorAll('*')]"
        "   .flatMap((e) => [...e.attributes].map((a) => a.name))"
        "   .filter((n) => n.startsWith('on')),"
        " links: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href'))"
        "   .filter((h) => !/^(https:|#|[\\w.-]+$)/.test(h)),"
        " target: document.getElementById('target').textContent,"
        " shown: document.getElementById('shown').textContent})"
    )
    assert state["pwned"] is None and state["alerts"] == [], f"injected text ran: {state}"
    assert state["scripts"] == 1 and state["handlers"] == [], state
    assert state["links"] == [], f"expected links to https, anchors and plain names: {state}"
    assert state["target"] == run.target, "expected the hostile target shown as text"
    assert state["shown"] == "7 of 7 checks shown", "expected the page's own script to run"
    # A second line of defence: were escaping ever missed, the CSP would not run a handler.
    browser.js(f"document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=\"{trap}\">')")
    browser.js("new Promise((done) => setTimeout(done, 300))")
    late = browser.js("({pwned: window.__pwned ?? null, violations: window.__violations})")
    assert late["pwned"] is None, "expected the CSP to block an inline handler"
    assert "script-src-attr" in late["violations"] or "script-src" in late["violations"], late


def test_search_and_filters_hide_the_rows_that_do_not_match(
    browser: Chromium, tmp_path: Path
) -> None:
    run, page = _report(tmp_path)
    browser.open(page)
    everything = [f"check-{c.id}" for c in run.checks]
    assert browser.js(VISIBLE_ROWS) == everything, "expected every row before any filter"
    browser.type("#search", "isalive")
    expected = ["check-isalive.no-blocking", "check-isalive.notices-break"]
    expected.append("check-failure.signal-then-isalive")
    assert browser.js(VISIBLE_ROWS) == expected, "expected only the rows that say isalive"
    assert browser.js("document.getElementById('shown').textContent") == "3 of 7 checks shown"
    browser.type("#search", " required")  # every word must match
    shown = browser.js(VISIBLE_ROWS)
    assert shown == ["check-isalive.notices-break", "check-failure.signal-then-isalive"], shown
    browser.key("Escape", 27)
    assert browser.js(VISIBLE_ROWS) == everything, "expected Escape to clear the search"

    browser.click("#filter-level input[value=required]")
    shown = browser.js(VISIBLE_ROWS)
    assert shown == ["check-isalive.no-blocking", "check-control.characteristics"], shown
    browser.click("#filter-outcome input[value=failed]")
    assert browser.js(VISIBLE_ROWS) == [], "expected no recommended or optional non-failure"
    assert browser.js("document.getElementById('no-match').hidden") is False
    browser.click("#filter-level input[value=required]")
    shown = browser.js(VISIBLE_ROWS)
    passed_skipped_error = ["check-online.returns-in-time", "check-isalive.notices-break"]
    passed_skipped_error += ["check-terminate.overlaps-online", "check-failure.signal-then-isalive"]
    assert shown == passed_skipped_error, "expected the required rows that did not fail"


def test_rows_with_the_same_message_fold_into_one_and_open(
    browser: Chromium, tmp_path: Path
) -> None:
    run: RunResult = SAMPLE.sample_run()
    same = run.checks[0]
    clones = [
        CheckResult.from_json({**same.to_json(), "id": f"Same.rule-{i}", "duration": 0.0})
        for i in range(5)
    ]
    clones[3].policy = "**Conflict.** the docs disagree"
    run.checks[1:1] = clones
    page = tmp_path / "report.html"
    write_html(run, page)
    browser.open(page)
    members = "[...document.querySelectorAll('tbody.member')].map((b) => b.hidden)"
    assert browser.js(members) == [True] * 6, "expected the 6 same-message rows folded"
    head = "document.querySelector('tbody.group-head')"
    assert "6 checks" in browser.js(f"{head}.textContent"), "expected the group's count"
    browser.click("button.group-toggle")
    assert browser.js(members) == [False] * 6, "expected the group to open"
    browser.click("button.group-toggle")
    assert browser.js(members) == [True] * 6, "expected the group to fold again"
    browser.click('#policies a[href="#check-Same.rule-3"]')
    shown = browser.until("!document.getElementById('check-Same.rule-3').closest('tbody').hidden")
    assert shown, "expected a link to a folded row to open its group"
    strong = browser.js("document.querySelector('#policies td strong').textContent")
    assert strong == "Conflict.", "expected the policy's markdown rendered, not shown raw"


def test_a_passing_quorum_campaign_lists_its_schedules(
    browser: Chromium, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    run = _passing_quorum()
    page = tmp_path / "report.html"
    write_html(run, page)
    browser.open(page)
    shot = browser.screenshot(tmp_path / "quorum-passing-1400x900.png")
    record_property("screenshot", str(shot))
    print(f"screenshot: {shot}")
    schedules = browser.js(
        "(() => { const s = document.getElementById('schedules').getBoundingClientRect();"
        " return {top: s.top, rows: document.querySelectorAll('tr.schedule').length}; })()"
    )
    assert schedules["rows"] == 10 and schedules["top"] < HEIGHT, schedules
    message = browser.js(
        "document.querySelector('#check-Arbitrate\\\\.exclusive td.message').textContent"
    )
    assert message.startswith("held in all 4 schedules that exercised it"), message
    ok = browser.js("document.getElementById('no-failures').getBoundingClientRect().bottom")
    assert ok <= HEIGHT, "expected the no-failure summary on the first screen"


def _passing_quorum() -> RunResult:
    """A quorum campaign as `rescheck quorum` would report it with its schedules recorded."""
    ids = ["Arbitrate.exclusive", "Arbitrate.takeover", "Release.lets-go"]
    played = [
        {
            "schedule": f"{3 + i % 3} nodes: contend{', release' if i % 2 else ''}",
            "outcomes": {ids[0]: "passed" if i < 4 else "skipped", ids[1]: "passed"},
            "reasons": {ids[0]: "no node ever won the quorum"},
        }
        for i in range(10)
    ]
    checks = [
        CheckResult(
            id=rule_id,
            level="required",
            entry_points=["Arbitrate"],
            outcome="passed",
            message=held(judged, 10, Counter({"no node ever won the quorum": 10 - judged})),
            doc="S:nc-resapi-parbitrate_routine",
            contract=["AR-5"],
            statement=f"Statement of {rule_id}.",
        )
        for rule_id, judged in zip(ids, (4, 10, 5), strict=True)
    ]
    return RunResult(
        target="reference_impls/file_witness.py",
        resource_type="File Witness",
        checks=checks,
        info={"mode": "quorum", "schedules": 10, "nodes": "3-5", "seed": 1, "schedule_log": played},
    )
