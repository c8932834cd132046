"""`rescheck fuzz` against targets whose bugs hide behind a sequence, with a fixed seed."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.fuzz import Step, driver, machine_for, replay
from conformance.fuzz.campaign import fuzz
from conformance.fuzz.model import may_see
from conformance.suite.runner import check_resource_type
from conformance.targets import load_target

REPO = Path(__file__).resolve().parents[2]


def quiet(line: str) -> None:
    pass


#: Fixtures whose bug hides behind a sequence (the conformance suite passes them), the rule
#: the fuzzer must find broken within 300 examples of seed 1, and what the failure says.
HIDDEN = [
    ("third_online_raises", "Online.returns", "online history table full"),
    ("terminate_after_second_checkpoint", "Terminate.returns", "no attribute 'listener'"),
    ("control_during_pending", "SetResourceStatus.checkpoint", "CheckPoint"),
]


@pytest.mark.parametrize(("fixture", "rule_id", "says"), HIDDEN, ids=[h[0] for h in HIDDEN])
def test_a_bug_behind_a_sequence_is_found_and_its_reproducer_fails_alone(
    tmp_path: Path, fixture: str, rule_id: str, says: str
) -> None:
    target = load_target(f"fixtures/sequence/{fixture}.py", hosting="in-process")
    result = fuzz(target, tmp_path, max_examples=300, seed_value=1, progress=quiet)
    assert result.verdict == "non-compliant", f"the fuzzer should find {rule_id} in {fixture}"
    failed = [c.id for c in result.checks if c.outcome == "failed"]
    assert failed == [rule_id], f"expected only {rule_id} to fail, got {failed}"
    slug = rule_id.lower().replace(".", "_").replace("-", "_")
    reproducer = tmp_path / f"test_repro_{slug}.py"
    assert reproducer.is_file() and (tmp_path / f"trace_{slug}.json").is_file()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            str(reproducer),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, f"the reproducer must fail on its own:\n{done.stdout}"
    assert says in done.stdout, f"expected {says!r} in the reproducer's failure:\n{done.stdout}"
    trace = json.loads((tmp_path / f"trace_{slug}.json").read_text())
    assert trace["target_sha256"] == target.sha256() and trace["seed"] == 1
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["info"]["transitions"], "the results list the transitions exercised"
    assert {"junit.xml", "report.html"} <= {p.name for p in tmp_path.iterdir()}


#: Breaks two rules, each on sequences of its own: a LooksAlive or an IsAlive once Online
#: (synchronous otherwise, so that shrinking is quick).
TWO_RULES = """
from conformance.resapi import ERROR_INVALID_FUNCTION, ERROR_SUCCESS, FunctionTable

TABLE = FunctionTable(
    Open=lambda ResourceName, ResourceKey, ResourceHandle: object(),
    Close=lambda ResourceId: None,
    Online=lambda ResourceId, EventHandle: ERROR_SUCCESS,
    Offline=lambda ResourceId: ERROR_SUCCESS,
    Terminate=lambda ResourceId: None,
    LooksAlive=lambda ResourceId: "yes",
    IsAlive=lambda ResourceId: [1],
    ResourceControl=lambda ResourceId, ControlCode, InBuffer, OutBuffer: (
        ERROR_INVALID_FUNCTION,
        0,
    ),
)


def Startup(ResourceType, MinVersionSupported, MaxVersionSupported, SetResourceStatus, LogEvent):
    return ERROR_SUCCESS, TABLE
"""


def test_every_rule_broken_gets_its_own_shrunk_sequence_and_the_failing_runs_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hypothesis tells bugs apart by exception type and place: one type for every rule
    would report the first rule met and hide the rest."""
    monkeypatch.setattr(driver, "PAUSE_S", 0.0)  # shrinking runs hundreds of sequences
    dll = tmp_path / "two_rules.py"
    dll.write_text(TWO_RULES)
    target = load_target(str(dll), hosting="in-process")
    result = fuzz(target, tmp_path / "out", max_examples=30, seed_value=1, progress=quiet)
    failed = sorted(c.id for c in result.checks if c.outcome == "failed")
    assert failed == ["IsAlive.bool", "LooksAlive.bool"], f"expected both rules, got {failed}"
    for slug, entry in (("looksalive_bool", "LooksAlive"), ("isalive_bool", "IsAlive")):
        assert (tmp_path / "out" / f"test_repro_{slug}.py").is_file()
        trace = json.loads((tmp_path / "out" / f"trace_{slug}.json").read_text())
        calls = [e["name"] for e in trace["trace"] if e["kind"] == "call"]
        assert entry in calls, f"the trace of {slug} should hold the {entry} that broke it"
        assert calls[-1] == "Close", f"the failing run's trace ends with its Close: {calls}"


@pytest.mark.parametrize("fixture", [h[0] for h in HIDDEN])
def test_the_conformance_suite_misses_them(fixture: str) -> None:
    """What makes them sequence bugs: every path the scenarios take passes."""
    result = check_resource_type(f"fixtures.sequence.{fixture}")
    bad = [f"{c.id}: {c.message}" for c in result.checks if c.outcome in ("failed", "error")]
    assert result.verdict == "compliant" and not bad, (
        f"expected the conformance run to pass fixtures.sequence.{fixture}; it found:\n"
        + "\n".join(bad)
    )


def test_the_same_steps_pass_once_the_target_is_fixed() -> None:
    steps = [Step("open", 0), *[Step(op, 0) for op in ("online", "offline") * 2], Step("online", 0)]
    with pytest.raises(AssertionError, match=r"Online\.returns"):
        replay(load_target("fixtures/sequence/third_online_raises.py", hosting="in-process"), steps)
    replay(load_target("fixtures/conforming.py", hosting="in-process"), steps)


def test_a_conforming_target_survives_a_short_campaign(tmp_path: Path) -> None:
    target = load_target("fixtures/conforming.py", hosting="in-process")
    result = fuzz(target, tmp_path, max_examples=25, seed_value=3, progress=quiet)
    assert result.verdict == "compliant", [
        c.message for c in result.checks if c.outcome != "passed"
    ]
    assert not list(tmp_path.glob("test_repro_*.py")), "no reproducer without a violation"


def test_a_recommended_rule_broken_is_a_warning_unless_strict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As for `rescheck run`: only a required rule decides the exit code, and a recommended
    one is printed as a warning, not as FAIL next to a compliant verdict."""
    monkeypatch.setattr(driver, "PAUSE_S", 0.0)
    args = ["fuzz", "--resource-type", "fixtures/offline_brings_offline.py", "--in-process"]
    args += ["--max-examples", "20", "--seed", "1"]
    assert main([*args, "--report-dir", str(tmp_path / "plain")]) == 0
    out = capsys.readouterr().out
    assert "warning [recommended] Offline.brings-offline: Offline returned 31" in out, out
    assert "  FAIL " not in out and "verdict: compliant" in out, out
    assert main([*args, "--report-dir", str(tmp_path / "strict"), "--strict"]) == 1
    assert "verdict: non-compliant" in capsys.readouterr().out


def test_the_command_survives_a_target_that_ends_its_process(tmp_path: Path) -> None:
    """Isolated hosting (the default): the target's os._exit ends one host process, and the
    campaign reports Process.survives with a reproducer and leaves no process behind."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "fuzz",
            "--resource-type",
            "fixtures/hostile/online_exits.py",
            "--report-dir",
            str(tmp_path),
            "--max-examples",
            "50",
            "--seed",
            "1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, f"a violation found is exit 1:\n{done.stdout}{done.stderr}"
    assert (
        "FAIL Process.survives" in done.stdout and "test_repro_process_survives.py" in done.stdout
    )
    assert "steps/s" in done.stdout, "progress lines while it runs"
    assert (
        "load_target(TARGET, type_name=TYPE_NAME, hosting='isolated')"
        in (tmp_path / "test_repro_process_survives.py").read_text()
    ), "the reproducer replays with the campaign's hosting"
    left = subprocess.run(
        ["pgrep", "-f", "conformance.hostproc.*online_exits"], capture_output=True
    )
    assert left.returncode == 1, f"expected no host process left, found {left.stdout!r}"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--resource-type", "no_such_module_x"], "cannot find module 'no_such_module_x'"),
        (["--resource-type", "fixtures/conforming.py", "--max-examples", "0"], "--max-examples"),
        (["--resource-type", "fixtures/conforming.py", "--duration", "soon"], "--duration"),
    ],
    ids=["unknown-target", "no-examples", "bad-duration"],
)
def test_bad_usage_exits_2_with_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "fuzz", *args, "--report-dir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, f"expected exit 2 and one line:\n{done.stderr}"
    assert expected in lines[0] and "Traceback" not in done.stderr


def test_campaigns_stay_random_and_keep_a_database_under_the_ci_profile() -> None:
    """hypothesis loads its ``ci`` profile by itself when CI is set; campaigns must not
    inherit its derandomize=True and database=None."""
    from hypothesis import settings

    from conformance.fuzz.profiles import CAMPAIGN, CONFORMANCE

    loaded = settings.get_current_profile_name()
    settings.load_profile("ci")
    try:
        campaign = settings(CAMPAIGN, max_examples=5)
        assert campaign.derandomize is False, "a campaign without --seed explores new sequences"
        assert campaign.database is not None, "a campaign keeps an example database"
        assert CONFORMANCE.derandomize and CONFORMANCE.database is None, (
            "the TestCase for conformance runs is deterministic and leaves no database"
        )
    finally:
        settings.load_profile(loaded)


def test_the_machine_runs_as_a_unittest_test_case() -> None:
    import unittest

    target = load_target("fixtures/conforming.py", hosting="in-process")
    machine = machine_for(target)
    assert machine.__name__.startswith("Fuzz_conforming_"), machine.__name__
    assert machine.TestCase.settings.derandomize, "the TestCase uses the conformance profile"
    outcome = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(
        unittest.defaultTestLoader.loadTestsFromTestCase(machine.TestCase)
    )
    assert outcome.wasSuccessful() and outcome.testsRun == 1, (
        f"expected one passing test, got {outcome.testsRun} run, "
        f"{outcome.failures or outcome.errors}"
    )


@pytest.mark.parametrize(
    ("before", "op", "allowed", "refused"),
    [
        ("none", "open", {"Offline"}, {"Online"}),
        ("Offline", "looks_alive", {"Offline"}, {"Online", "OnlinePending", "Failed"}),
        ("Offline", "terminate", {"Offline", "Failed"}, {"Online", "OnlinePending"}),
        ("Online", "online", {"Online", "Failed"}, {"OfflinePending"}),
        ("OnlinePending", "pause", {"OnlinePending", "Online", "Failed"}, {"OfflinePending"}),
        # a DLL may report Online while Offline is pending: SetResourceStatus.final-state
        # blames it, and the monitor takes the state it was told (conformance.monitor.states)
        ("OfflinePending", "control", {"Offline", "Failed", "Online"}, {"OnlinePending"}),
        ("Online", "close", {"closed"}, {"Offline", "Online"}),
    ],
)
def test_the_state_model(before: str, op: str, allowed: set[str], refused: set[str]) -> None:
    seen = may_see(before, op)
    assert allowed <= seen, f"{before} --{op}--> should allow {sorted(allowed - seen)}"
    assert not refused & seen, f"{before} --{op}--> should not allow {sorted(refused & seen)}"


def test_a_transition_outside_the_model_is_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.fuzz import campaign

    monkeypatch.setattr(campaign, "may_see", lambda before, op: set())
    target = load_target("fixtures/conforming.py", hosting="in-process")
    with pytest.raises(campaign.ModelBroken, match="outside its documented state model"):
        fuzz(target, tmp_path, max_examples=2, seed_value=1, progress=quiet)
    assert (tmp_path / "results.json").is_file(), "the reports are written first"


def test_a_worker_told_to_stop_in_each_of_two_cycles_is_compliant() -> None:
    """Issue 19's false alarm: each Terminate's one report is answered
    ResourceExitStateTerminate; the check once remembered the first cycle's answer and blamed
    the second cycle's report on it."""
    steps = [Step("open", 0), *[Step(op, 0) for op in ("begin_online", "terminate") * 2]]
    fixture = "fixtures/sequence/one_report_when_terminated.py"
    replay(load_target(fixture, hosting="in-process"), steps)  # raises on a broken rule
    result = check_resource_type(fixture)
    bad = [f"{c.id}: {c.message}" for c in result.checks if c.outcome in ("failed", "error")]
    assert result.verdict == "compliant" and not bad, "\n".join(bad)
    judged = next(c for c in result.checks if c.id == "SetResourceStatus.stops-after-terminate")
    assert judged.outcome == "passed", judged.message
