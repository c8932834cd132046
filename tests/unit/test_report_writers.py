"""The report writers, on a run built by hand (independent of the rule catalogue)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.report import write_reports
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

HOSTILE = "<script>alert(1)</script>"
EVIDENCE = [
    "  0.000 t1 Online(res=1) -> ERROR_IO_PENDING",
    "  0.012 t2 SetResourceStatus(res=1, state=OnlinePending, checkpoint=1)",
    "  2.113 -- no SetResourceStatus for 2.101 s (PendingTimeout 2.000 s)",
]


def _rule(
    rule_id: str,
    level: str,
    contract: tuple[str, ...],
    entry_points: tuple[str, ...] = ("Online",),
    policy: str | None = None,
) -> Rule:
    return Rule(
        id=rule_id,
        level=level,
        entry_points=entry_points,
        statement=f"Statement of {rule_id}.",
        doc="S:nc-resapi-ponline_routine",
        contract=contract,
        policy=policy,
    )


def sample_run(*, complete: bool = True, strict: bool = False) -> RunResult:
    """One check of every outcome and every level, a policy, and hostile target text."""
    checks = [
        CheckResult.for_rule(
            _rule("online.returns-in-time", REQUIRED, ("ON-2",)),
            PASSED,
            "Online returned in 12 ms",
            duration=0.012,
        ),
        CheckResult.for_rule(
            _rule("online.pending-updates", REQUIRED, ("ON-3", "ON-4")),
            FAILED,
            "no status update for 2.101 s while OnlinePending",
            evidence=EVIDENCE,
            duration=2.2,
        ),
        CheckResult.for_rule(
            _rule("isalive.no-blocking", RECOMMENDED, ("IA-3",), ("IsAlive",)),
            FAILED,
            "IsAlive took 420 ms",
            evidence=["  5.000 t1 IsAlive(res=1) -> TRUE after 0.420 s"],
        ),
        CheckResult.for_rule(
            _rule("control.characteristics", OPTIONAL, ("CC-5",), ("ResourceControl",)),
            FAILED,
            f"characteristics were {HOSTILE}",
            evidence=[f"  6.000 t1 LogEvent(res=1, 'name={HOSTILE} & more')"],
        ),
        CheckResult.for_rule(
            _rule("isalive.notices-break", REQUIRED, ("IA-1",), ("IsAlive",)),
            SKIPPED,
            "the target's companion has no probe",
        ),
        CheckResult.for_rule(
            _rule("terminate.overlaps-online", REQUIRED, ("TE-2",), ("Terminate", "Online")),
            ERROR,
            "the host process died: exit code -11",
            evidence=["  7.000 host exited with signal 11"],
        ),
        CheckResult.for_rule(
            _rule(
                "failure.signal-then-isalive",
                REQUIRED,
                ("AF-2",),
                policy="After a signalled failure the monitor calls IsAlive first.",
            ),
            PASSED,
            "IsAlive was called after the signal",
        ),
    ]
    return RunResult(
        target=f"fixtures/bad_{HOSTILE}.py",
        resource_type="Rescheck Dummy",
        checks=checks,
        strict=strict,
        complete=complete,
        info={
            "rescheck_version": "0.1.0",
            "time_scale": 0.01,
            "target_sha256": "ab" * 32,
            "started": "2024-05-01T10:00:00Z",
            "timers": {"PendingTimeout": 2.0},
        },
    )


class _Elements(HTMLParser):
    """Every start tag with its attributes, and all text, of a page."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def by_id(self, element_id: str) -> dict[str, str] | None:
        return next((a for _, a in self.tags if a.get("id") == element_id), None)


def _write(run: RunResult, tmp_path: Path) -> dict[str, Path]:
    return write_reports(run, tmp_path / "out" / "nested")


def test_write_reports_returns_the_three_paths(tmp_path: Path) -> None:
    paths = _write(sample_run(), tmp_path)
    assert set(paths) == {"json", "junit", "html"}, f"expected json/junit/html, got {set(paths)}"
    names = {p.name for p in paths.values()}
    assert names == {"results.json", "junit.xml", "report.html"}, f"unexpected names {names}"
    assert all(p.is_file() for p in paths.values()), "expected all three files to be written"


def test_results_json_has_the_pinned_keys(tmp_path: Path) -> None:
    run = sample_run()
    data = json.loads(_write(run, tmp_path)["json"].read_text(encoding="utf-8"))
    for key in ("schema", "target", "resource_type", "verdict", "checks"):
        assert key in data, f"expected pinned key {key!r} in results.json"
    assert data["schema"] == 1, f"expected schema 1, got {data['schema']}"
    assert data["verdict"] == "non-compliant", f"expected non-compliant, got {data['verdict']}"
    assert len(data["checks"]) == len(run.checks), "expected one entry per check"
    for check in data["checks"]:
        for key in ("id", "level", "entry_points", "outcome", "message", "doc", "contract"):
            assert key in check, f"expected pinned key {key!r} in check {check.get('id')}"
    outcomes = {c["outcome"] for c in data["checks"]}
    assert outcomes == {"passed", "failed", "skipped", "error"}, f"got outcomes {outcomes}"


def test_junit_has_one_testcase_per_check_with_the_right_elements(tmp_path: Path) -> None:
    run = sample_run()
    root = ET.parse(_write(run, tmp_path)["junit"]).getroot()
    suites = root.findall("testsuite")
    assert len(suites) == 1, f"expected one testsuite, got {len(suites)}"
    suite = suites[0]
    assert suite.get("name") == "rescheck.Rescheck Dummy", f"suite name was {suite.get('name')}"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props.get("verdict") == "non-compliant", f"expected verdict property, got {props}"
    assert props.get("complete") == "true", f"expected complete=true, got {props.get('complete')}"
    assert props.get("time_scale") == "0.01", f"expected info time_scale, got {props}"
    assert "timers" not in props, "expected a non-scalar info value to be left out"

    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == [c.id for c in run.checks], f"expected one testcase per check: {cases}"
    pending = cases["online.pending-updates"]
    assert pending.get("classname") == "rescheck.Rescheck Dummy.online", "expected id prefix"
    failure = pending.find("failure")
    assert failure is not None, "expected a <failure> for the failed required check"
    assert failure.get("message", "").startswith("[required] "), "expected [required] prefix"
    body = failure.text or ""
    for line in EVIDENCE:
        assert line in body, f"expected evidence line {line!r} in the failure body"
    for part in ("Statement of online.pending-updates.", "ON-3, ON-4", "learn.microsoft.com"):
        assert part in body, f"expected {part!r} in the failure body"

    warning = cases["isalive.no-blocking"].find("failure")
    assert warning is not None, "expected a recommended failure to be a <failure> too"
    assert warning.get("message", "").startswith("[recommended] "), "expected [recommended]"
    error = cases["terminate.overlaps-online"].find("error")
    assert error is not None, "expected an <error> for the error check"
    assert "signal 11" in (error.text or ""), "expected the evidence in the error body"
    skipped = cases["isalive.notices-break"].find("skipped")
    assert skipped is not None, "expected a <skipped> for the skipped check"
    assert skipped.get("message") == "the target's companion has no probe", "expected reason"
    passed = cases["online.returns-in-time"]
    assert len(passed) == 0, "expected no child element for a passed check"
    assert passed.get("time") == "0.012000", f"expected the duration, got {passed.get('time')}"


def test_html_has_the_verdict_and_one_row_per_check(tmp_path: Path) -> None:
    run = sample_run()
    page = _Elements(_write(run, tmp_path)["html"].read_text(encoding="utf-8"))
    verdict = page.by_id("verdict")
    assert verdict is not None, "expected an element with id=verdict"
    assert "verdict-non-compliant" in verdict["class"].split(), f"class was {verdict['class']}"
    rows = [a for t, a in page.tags if t == "tr" and "check" in a.get("class", "").split()]
    assert [r["id"] for r in rows] == [f"check-{c.id}" for c in run.checks], "one row per check"
    for row, check in zip(rows, run.checks, strict=True):
        expected = f"check outcome-{check.outcome} level-{check.level}"
        assert row["class"] == expected, f"expected class {expected!r}, got {row['class']!r}"
    details = [a for t, a in page.tags if t == "details" and "open" in a]
    assert len(details) == 4, f"expected open details for 3 failed + 1 error, got {len(details)}"
    assert page.by_id("incomplete") is None, "expected no INCOMPLETE banner for a complete run"
    text = "".join(page.text)
    assert "After a signalled failure the monitor calls IsAlive first." in text, "policy shown"
    assert "0.01" in text and "ab" * 32 in text, "expected the info values in the header"


@pytest.mark.parametrize(
    ("checks", "strict", "expected"),
    [
        ([2], False, "compliant"),
        ([2], True, "non-compliant"),
        ([0, 5], False, "error"),
        ([], False, "compliant"),
    ],
)
def test_html_verdict_class_follows_the_verdict(
    tmp_path: Path, checks: list[int], strict: bool, expected: str
) -> None:
    run = sample_run(strict=strict)
    run.checks = [run.checks[i] for i in checks]
    page = _Elements(_write(run, tmp_path)["html"].read_text(encoding="utf-8"))
    verdict = page.by_id("verdict")
    assert verdict is not None, "expected an element with id=verdict"
    assert verdict["class"].split()[-1] == f"verdict-{expected}", f"class {verdict['class']}"


def test_html_escapes_hostile_text(tmp_path: Path) -> None:
    page = _write(sample_run(), tmp_path)["html"].read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, "expected the message escaped"
    assert page.count("<script") == 1, "expected no <script> element but the report's own"
    assert "<script>alert(1)" not in page, "expected the target's script tag escaped"
    assert "script-src 'sha256-" in page, "expected a CSP that runs only the report's script"
    assert "&amp; more" in page, "expected & in a trace line escaped"


def test_html_links_only_to_http_addresses(tmp_path: Path) -> None:
    run = sample_run()
    run.checks[0].doc_url = "javascript:alert(1)"
    page = _Elements(_write(run, tmp_path)["html"].read_text(encoding="utf-8"))
    hrefs = [a["href"] for t, a in page.tags if t == "a"]
    assert "javascript:alert(1)" not in hrefs, "expected a non-http doc_url not to be linked"
    expected = run.checks[1].doc_url
    assert expected in hrefs, f"expected the https doc page {expected} to be linked"


def test_html_shows_the_incomplete_banner(tmp_path: Path) -> None:
    page = _write(sample_run(complete=False), tmp_path)["html"].read_text(encoding="utf-8")
    parsed = _Elements(page)
    assert parsed.by_id("incomplete") is not None, "expected the INCOMPLETE banner element"
    assert "INCOMPLETE RUN" in page, "expected the text INCOMPLETE RUN"


def test_html_lists_the_rules_not_exercised(tmp_path: Path) -> None:
    run = sample_run()
    page = _Elements(_write(run, tmp_path)["html"].read_text(encoding="utf-8"))
    listed = {
        a["id"] for t, a in page.tags if t == "tr" and "not-exercised" in a.get("class", "").split()
    }
    expected = {f"rule-{item['id']}" for item in run.not_exercised()}
    assert listed == expected, "expected exactly the run's not-exercised rules to be listed"
    assert "rule-TE-2" in listed, (
        "expected TE-2 (covered only by a skipped check) among the rules not exercised"
    )
    for cid in ("IA-1", "ON-1"):  # signatures: reference data, not rules
        assert f"rule-{cid}" not in listed, (
            f"expected {cid} (Ref) to be left out of the not-exercised list"
        )
    for cid in ("ON-2", "ON-3", "IA-3", "AF-2"):  # passed or failed checks
        assert f"rule-{cid}" not in listed, f"expected {cid} to count as exercised"
    why = {item["id"]: item["why"] for item in run.not_exercised()}
    assert why["CL-5"].startswith("not observable from outside the DLL"), (
        f"expected CL-5 (instance counters) to say it is not observable, got {why['CL-5']!r}"
    )
    assert why["TE-2"].startswith("not yet checked") or "TE-2" not in why
    assert why["FP-9"].startswith("Resource Monitor behaviour"), (
        f"expected FP-9 (RestartThreshold) to be monitor behaviour, got {why['FP-9']!r}"
    )


def test_control_characters_and_surrogates_do_not_break_the_reports(tmp_path: Path) -> None:
    run = sample_run()
    run.checks[1].evidence = ["NUL \x00 ESC \x1b[31m red \ud800 lone surrogate"]
    run.checks[1].message = "bell \x07"
    paths = _write(run, tmp_path)
    failure = ET.parse(paths["junit"]).getroot().find(".//testcase[@name='online.pending-updates']")
    assert failure is not None, "expected the testcase to survive control characters"
    body = failure.findtext("failure") or ""
    assert "NUL \\x00 ESC \\x1b[31m" in body, f"expected control characters shown escaped: {body}"
    assert "lone surrogate" in paths["html"].read_text(encoding="utf-8"), "expected html written"


def test_read_log_without_finish_is_incomplete(tmp_path: Path) -> None:
    run = sample_run()
    log = ResultsLog(tmp_path, {"target": run.target, "resource_type": run.resource_type})
    log.check(run.checks[0])
    log.check(run.checks[1])
    back = read_log(tmp_path)
    assert back.complete is False, "expected a log without its end line to be incomplete"
    assert back.checks == run.checks[:2], f"expected both checks back, got {back.checks}"
    assert back.target == run.target, f"expected target {run.target!r}, got {back.target!r}"
    log.finish({"finished": "2024-05-01T10:01:00Z"})
    done = read_log(tmp_path)
    assert done.complete is True, "expected a finished log to be complete"
    assert done.info.get("finished") == "2024-05-01T10:01:00Z", f"expected info {done.info}"


def test_an_error_of_the_run_is_reported_as_such_under_no_rule(tmp_path: Path) -> None:
    run = RunResult(target="t.py", resource_type="T", errors=[f"no example ran {HOSTILE}"])
    run.checks = sample_run().checks[:1]  # one check, passed
    assert run.verdict == "error", "an error of the run's own decides the verdict"
    paths = write_reports(run, tmp_path)
    results = json.loads(Path(paths["json"]).read_text())
    assert results["errors"] == [f"no example ran {HOSTILE}"] and results["verdict"] == "error"
    assert [c["id"] for c in results["checks"]] == [run.checks[0].id], "no rule carries it"
    cases = ET.parse(paths["junit"]).getroot().iter("testcase")
    errored = [c for c in cases if c.find("error") is not None]
    assert [c.get("name") for c in errored] == ["run"], "JUnit shows it as the run's own case"
    html = Path(paths["html"]).read_text()
    assert 'id="run-errors"' in html and HOSTILE not in html, "a banner, escaped"
