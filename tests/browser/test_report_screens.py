"""The four reports users read, made by the `rescheck` command and looked at in a 1400x900
Chromium window: a failure's rule, message and evidence must be on the first screen.

Each test makes its own report (a few seconds each), so that under pytest-xdist none is made
twice; the screenshots are kept in the test's tmp dir, their paths printed and recorded as the
``screenshot`` property (``--junitxml``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from _cdp import HEIGHT, Chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]

#: Where a box is on the screen: getBoundingClientRect() of the first match, or null.
BOX = (
    "((selector) => {{ const e = document.querySelector(selector); if (!e) return null;"
    " const r = e.getBoundingClientRect();"
    " return {{top: r.top, bottom: r.bottom, width: r.width, text: e.textContent}}; }})({})"
)
FIRST = "#failures article.failure:first-of-type"


def _make(out: Path, *args: str, expected: int) -> Path:
    """Run ``rescheck`` as a user does; the report directory."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", *args, "--report-dir", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == expected, (
        f"expected exit {expected} from rescheck {' '.join(args)}, got {done.returncode}:\n"
        f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    )
    return out / "report.html"


def _box(browser: Chromium, selector: str) -> dict[str, float | str] | None:
    return browser.js(BOX.format(repr(selector)))


def _look(browser: Chromium, page: Path, name: str, record: Callable[[str, object], None]) -> Path:
    """Open ``page``, keep a 1400x900 screenshot of its first screen, check it has no
    horizontal scrollbar (a wide table scrolls in its own box)."""
    browser.open(page)
    shot = browser.screenshot(page.parent.parent / f"{name}-1400x900.png")
    record("screenshot", str(shot))
    print(f"screenshot of the {name} report: {shot}")
    overflow = browser.js("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"expected the {name} page not to scroll sideways ({overflow} px)"
    return shot


def _failure_on_first_screen(browser: Chromium) -> dict[str, dict[str, float | str]]:
    """The first failure's rule, message and evidence, each wholly inside the window."""
    boxes = {}
    for part in ("rule", "message", "evidence"):
        box = _box(browser, f"{FIRST} .{part}")
        assert box is not None, f"expected the first failure to show its {part}"
        assert box["width"] > 0 and box["top"] >= 0 and box["bottom"] <= HEIGHT, (
            f"expected the first failure's {part} on the first screen, it is at {box}"
        )
        boxes[part] = box
    return boxes


def test_a_compliant_run_says_so_on_the_first_screen(
    browser: Chromium, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    page = _make(
        tmp_path / "compliant", "run", "--resource-type", "fixtures/conforming.py", expected=0
    )
    _look(browser, page, "compliant", record_property)
    assert _box(browser, FIRST) is None, "expected no failure in a compliant run"
    ok = _box(browser, "#no-failures")
    assert ok is not None and ok["bottom"] <= HEIGHT, f"expected the all-clear on screen: {ok}"
    state = browser.js(
        "({verdict: document.getElementById('verdict').textContent.trim(),"
        " environment: document.getElementById('environment').open,"
        " zero: getComputedStyle(document.getElementById('count-error')).backgroundColor,"
        " failed: document.getElementById('count-failed').className})"
    )
    assert state["verdict"] == "compliant", state
    assert state["environment"] is False, "expected the run environment folded"
    assert state["zero"] == "rgb(246, 248, 250)", f"expected a neutral zero chip: {state}"
    assert "zero" in state["failed"].split(), state
    links = browser.js("[...document.querySelectorAll('#files a')].map((a) => a.textContent)")
    assert links == ["junit.xml", "results.json", "results.jsonl"], links


def test_a_failing_fixture_shows_its_failure_first(
    browser: Chromium, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    page = _make(
        tmp_path / "failing", "run", "--resource-type", "fixtures/online_returns.py", expected=1
    )
    _look(browser, page, "failing", record_property)
    boxes = _failure_on_first_screen(browser)
    assert boxes["rule"]["text"] == "Online.returns", boxes["rule"]
    assert "Online raised RuntimeError" in str(boxes["message"]["text"]), boxes["message"]
    assert "Online(" in str(boxes["evidence"]["text"]), boxes["evidence"]
    took = browser.js("document.querySelector('td.time') !== null")
    assert took, "expected a column with each check's measured time"

    rows = "[...document.querySelectorAll('tbody.check-body')]"
    total = browser.js(f"{rows}.length")
    browser.type("#search", "Online.returns")
    visible = browser.js(f"{rows}.filter((b) => !b.hidden).map((b) => b.textContent)")
    assert 0 < len(visible) < total, f"expected the search to narrow {total} rows: {visible}"
    assert all("online.returns" in text.lower() for text in visible), visible
    browser.key("Escape", 27)
    browser.click("#filter-level input[value=required]")
    levels = browser.js(f"{rows}.filter((b) => !b.hidden).map((b) => b.getAttribute('data-level'))")
    assert levels and "required" not in levels, f"expected no required row: {levels}"


def test_a_fuzz_campaign_links_its_reproducer_and_folds_its_passes(
    browser: Chromium, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    page = _make(
        tmp_path / "fuzz",
        "fuzz",
        "--resource-type",
        "fixtures/online_returns.py",
        "--in-process",
        "--max-examples",
        "3",
        "--seed",
        "2",  # a seed whose first three examples call Online (hypothesis is pinned)
        expected=1,
    )
    _look(browser, page, "fuzz", record_property)
    boxes = _failure_on_first_screen(browser)
    assert boxes["rule"]["text"] == "Online.returns", boxes["rule"]
    links = browser.js(
        f"[...document.querySelectorAll('{FIRST} a.artifact')].map((a) => a.getAttribute('href'))"
    )
    assert links == ["test_repro_online_returns.py", "trace_online_returns.json"], links
    assert all((page.parent / link).is_file() for link in links), links
    folded = browser.js(
        "[...document.querySelectorAll('tbody.member')].every((b) => b.hidden)"
        " && document.querySelectorAll('tbody.member').length"
    )
    assert folded >= 20, f"expected the campaign's same-message passes folded: {folded}"
    box = browser.js(
        "(() => { const b = document.getElementById('transitions-box');"
        " return [b.scrollWidth, b.clientWidth, b.getBoundingClientRect().right]; })()"
    )
    assert box[2] <= 1400, f"expected the transition table inside the page: {box}"


def test_a_quorum_campaign_draws_the_overlap_on_the_first_screen(
    browser: Chromium, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    page = _make(
        tmp_path / "quorum",
        "quorum",
        "--resource-type",
        "fixtures.arbitrate_exclusive",
        "--schedules",
        "2",
        "--seed",
        "1",
        expected=1,
    )
    _look(browser, page, "quorum", record_property)
    boxes = _failure_on_first_screen(browser)
    assert boxes["rule"]["text"] == "Arbitrate.exclusive", boxes["rule"]
    overlap = _box(browser, f"{FIRST} figure.timeline rect.overlap")
    assert overlap is not None and overlap["bottom"] <= HEIGHT, (
        f"expected the two owners' overlap drawn on the first screen: {overlap}"
    )
    axis = browser.js(f"document.querySelectorAll('{FIRST} text.tick').length")
    assert axis >= 3, "expected a time axis under the timeline"
    held = browser.js(
        "[...document.querySelectorAll('tbody.outcome-passed td.message')]"
        ".map((td) => td.textContent)"
    )
    assert not any(re.fullmatch(r"held in \d+ of \d+ schedules", m) for m in held), held
