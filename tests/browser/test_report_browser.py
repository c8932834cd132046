"""report.html as a real browser sees it: Debian's headless Chromium (DESIGN.md, Principles 7)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest

from conformance.report.html import write_html
from conformance.report.model import RunResult

pytestmark = pytest.mark.browser

INSTALL = "install Debian's chromium (apt-get install chromium)"


def _writers_tests() -> ModuleType:
    """The unit tests' hand-built run, so both suites look at the same report."""
    path = Path(__file__).parents[1] / "unit" / "test_report_writers.py"
    spec = importlib.util.spec_from_file_location("_report_writers_sample", path)
    assert spec is not None and spec.loader is not None, f"expected to load {path}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SAMPLE = _writers_tests()


@pytest.fixture
def chromium() -> str:
    found = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    found = found or shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(INSTALL)
        pytest.skip(INSTALL)
    return found


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
    assert scripts == [], f"expected no <script> element in the DOM, found {scripts}"
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
    assert rects == ["op op-won", "op op-won", "op op-arbitrate", "op op-lost"], (
        f"expected a bar per call, coloured by what it did; got {rects}"
    )
    labels = " ".join(parsed.text_by_id.get(f"timeline-{failed.id}", "").split())
    assert "node 1" in labels and "node 3" in labels and "0 ms to 900 ms" in labels, labels
