"""Generic Script control scripts end to end: ``rescheck run`` and ``pytest --resource-type``
on the reference scripts, and bad scripts as bad input (exit 2, one line with file, line and
column)."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from conformance.rules import NOT_FOR_SCRIPTS
from conformance.suite.catalogue import catalogue
from conformance.suite.runner import check_resource_type
from tests.e2e.support import REPO, rescheck

SCRIPTS = REPO / "reference_impls" / "scripts"


def test_a_reference_script_is_compliant_with_the_same_reports(tmp_path: Path) -> None:
    script = SCRIPTS / "lease_file.js"
    out = tmp_path / "reports"
    done = rescheck("run", "--resource-type", str(script), "--report-dir", str(out))
    assert done.returncode == 0, (
        f"expected exit 0 (compliant), got {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    results = json.loads((out / "results.json").read_text())
    assert results["resource_type"] == "Generic Script", results["resource_type"]
    assert results["info"]["target_kind"] == "generic-script", results["info"]
    assert results["info"]["target_sha256"] == hashlib.sha256(script.read_bytes()).hexdigest(), (
        "the hash should be the script's, the thing under test"
    )
    ids = {c["id"] for c in results["checks"]}
    assert ids == {r.id for r in catalogue() if r.script_class != NOT_FOR_SCRIPTS}, (
        "a script is judged on every rule but those that do not apply to scripts (quorum, a "
        "compiled table, instances sharing a script), Script.* included"
    )
    passed = {c["id"] for c in results["checks"] if c["outcome"] == "passed"}
    assert {"Script.health-checks", "IsAlive.detects-failure", "Online.starts-entity"} <= passed, (
        f"the script rules and the probe rules should pass; passed: {sorted(passed)}"
    )
    for name in ("junit.xml", "report.html"):
        assert (out / name).is_file(), f"expected {name} in the report directory"


@pytest.mark.parametrize(
    "name, text, expected",
    [
        ("bad.vbs", "Function IsAlive(\n  x =\nEnd Function\n", "bad.vbs:1:"),
        ("bad.js", "function IsAlive() {\n  return ;;\n}\nvar = 4;\n", "bad.js:4:"),
        ("bad.py", "def IsAlive():\n    return (\n", "bad.py:2:"),
    ],
    ids=["vbs", "js", "py"],
)
def test_a_script_with_a_syntax_error_exits_2_naming_file_line_and_column(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    script = tmp_path / name
    script.write_text(text, encoding="utf-8")
    done = rescheck("run", "--resource-type", str(script), "--report-dir", str(tmp_path / "r"))
    assert done.returncode == 2, f"expected exit 2, got {done.returncode}:\n{done.stderr}"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "syntax error" in lines[0], (
        f"expected one line naming {expected}<column> and the syntax error; got:\n{done.stderr}"
    )
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: d / "missing.vbs", "no such file"),
        (lambda d: (d / "folder.js").mkdir() or d / "folder.js", "is not a file"),
        (lambda d: (d / "s.ps1").write_text("x") and d / "s.ps1", "nor a control script"),
    ],
    ids=["missing", "directory", "unknown-extension"],
)
def test_unusable_script_paths_exit_2_with_one_line(tmp_path: Path, make, expected: str) -> None:
    done = rescheck("run", "--resource-type", str(make(tmp_path)), cwd=tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and expected in lines[0], (
        f"expected exit 2 and one line with {expected!r}; got {done.returncode}:\n{done.stderr}"
    )


def test_pytest_runs_the_suite_on_a_control_script(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        f"--resource-type={SCRIPTS / 'lease_file.vbs'}",
        "-q",
        timeout=240,
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, f"the reference script fails nothing: {outcomes}"
    expected = len([r for r in catalogue() if r.script_class != NOT_FOR_SCRIPTS])
    assert outcomes.get("passed", 0) + outcomes.get("skipped", 0) == expected, (
        f"expected one item per rule, Script.* included; got {outcomes}"
    )


@pytest.mark.parametrize("exit_code, online", [(0, True), (5, False)])
def test_the_companion_answers_a_scripts_commands_in_the_host_process(
    tmp_path: Path, exit_code: int, online: bool
) -> None:
    script = tmp_path / "service.vbs"
    script.write_text(
        'Function Online()\n  Set sh = CreateObject("WScript.Shell")\n'
        '  Online = sh.Run("net start MySvc", 0, True)\nEnd Function\n'
        "Function LooksAlive()\n  LooksAlive = True\nEnd Function\n"
        "Function IsAlive()\n  IsAlive = True\nEnd Function\n",
        encoding="utf-8",
    )
    (tmp_path / "service_companion.py").write_text(
        "from conformance import Companion\n"
        f"COMPANION = Companion(commands=lambda command: {exit_code})\n",
        encoding="utf-8",
    )
    result = check_resource_type(str(script), select=["Online.brings-online"])
    [check] = result.checks
    assert (check.outcome == "passed") is online, (
        f"with the companion answering {exit_code} to 'net start MySvc', Online should "
        f"{'succeed' if online else 'fail'}; got {check.outcome}: {check.message}"
    )


LEASE_COMPANION = """
from pathlib import Path
from conformance import Companion
ROOT = Path(__file__).with_name("leases")
ROOT.mkdir(exist_ok=True)
def lease(name):
    return ROOT / (name + ".lease")
def probe(context):
    return lease(context.resource_name).is_file()
def breaker(context):
    lease(context.resource_name).unlink(missing_ok=True)
COMPANION = Companion(
    properties=lambda name: {"LeaseFile": str(lease(name))}, probe=probe, breaker=breaker
)
"""


@pytest.mark.parametrize(
    "name, text, rule",
    [
        (
            "blind.vbs",
            'Dim fso\nSet fso = CreateObject("Scripting.FileSystemObject")\n'
            "Function Online()\n  fso.CreateTextFile(Resource.LeaseFile, True).Close\n"
            "  Online = 0\nEnd Function\n"
            "Function Offline()\n  Terminate\n  Offline = 0\nEnd Function\n"
            "Function Terminate()\n  On Error Resume Next\n  fso.DeleteFile Resource.LeaseFile\n"
            "  Err.Clear\nEnd Function\n"
            "Function LooksAlive()\n  LooksAlive = True\nEnd Function\n"
            "Function IsAlive()\n  IsAlive = True\nEnd Function\n",
            "IsAlive.detects-failure",
        ),
        (
            "refuses.js",
            "function Online() { return 1; }\nfunction Offline() { return 0; }\n"
            "function LooksAlive() { return true; }\nfunction IsAlive() { return true; }\n",
            "Online.brings-online",
        ),
    ],
    ids=["isalive-never-false", "online-fails"],
)
def test_the_lifecycle_rules_judge_a_script(
    tmp_path: Path, name: str, text: str, rule: str
) -> None:
    """GS-16 and GS-11: what a script function does is judged by the entry point's rules."""
    script = tmp_path / name
    script.write_text(text, encoding="utf-8")
    (tmp_path / f"{script.stem}_companion.py").write_text(LEASE_COMPANION, encoding="utf-8")
    result = check_resource_type(str(script))
    failed = {c.id: c for c in result.checks if c.outcome in ("failed", "error")}
    assert rule in failed and failed[rule].outcome == "failed", (
        f"expected {rule} to fail for {name}; failed or errored: "
        f"{ {k: v.message for k, v in failed.items()} }"
    )
    required = [c for c in failed.values() if c.level == "required" and c.id != rule]
    assert not required, f"only {rule} should fail at required level; also: {required}"


def test_an_online_that_never_ends_is_judged_once_and_quickly(tmp_path: Path) -> None:
    """The scenario that sees it gives up after 20 PendingTimeouts; the others do not wait
    again (it took minutes before, and ended with exit 3 before that)."""
    script = tmp_path / "spin.vbs"
    script.write_text(
        "Function Online()\n  Do While True\n    x = x + 1\n  Loop\nEnd Function\n"
        "Function LooksAlive()\n  LooksAlive = True\nEnd Function\n"
        "Function IsAlive()\n  IsAlive = True\nEnd Function\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    done = rescheck("run", "--resource-type", str(script), "--report-dir", str(tmp_path / "r"))
    took = time.monotonic() - started
    assert done.returncode == 1, f"expected exit 1, got {done.returncode}:\n{done.stderr}"
    failed = {
        c["id"]: c["message"]
        for c in json.loads((tmp_path / "r" / "results.json").read_text())["checks"]
        if c["outcome"] in ("failed", "error")
    }
    assert "never ended" in failed.get("Online.brings-online", ""), failed
    assert set(failed) <= {"Online.brings-online", "SetResourceStatus.final-state"}, failed
    assert took < 180, f"one wait for the Online, not one per scenario: took {took:.0f} s"
