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
from tests.fuzz.support import run_reproducer

REPO = Path(__file__).resolve().parents[2]


def quiet(line: str) -> None:
    pass


#: Fixtures whose bug hides behind a sequence (the conformance suite passes them), the rule
#: the fuzzer must find broken within 300 examples of seed 1, and what the failure says. A
#: seed draws the same sequences only on the same hypothesis: the test extra pins it
#: (pyproject.toml), as the tests below that count on a seed do too.
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
    done = run_reproducer(reproducer)
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
    info = json.loads((tmp_path / "results.json").read_text())["info"]
    assert info["examples"] == 25 <= info["sequences"], info  # sequences: overruns too
    assert info["steps"] == sum(t["count"] for t in info["transitions"]) > 25, info
    assert info["rules_judged"]["Open.returns"] == info["sequences"], info["rules_judged"]


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
    from conformance.fuzz import campaign, model

    monkeypatch.setattr(model, "may_see", lambda before, op: frozenset())
    target = load_target("fixtures/conforming.py", hosting="in-process")
    with pytest.raises(campaign.ModelBroken, match="outside its documented state model"):
        fuzz(target, tmp_path, max_examples=2, seed_value=1, progress=quiet)
    assert (tmp_path / "results.json").is_file(), "the reports are written first"


def test_the_test_case_alone_checks_the_state_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is the machine's own, not the campaign's: plain unittest, pytest or
    HypoFuzz running the TestCase meet a transition outside the model too."""
    import unittest

    from conformance.fuzz import model

    allowed = model.may_see
    monkeypatch.setattr(
        model, "may_see", lambda before, op: frozenset() if op == "pause" else allowed(before, op)
    )
    machine = machine_for(load_target("fixtures/conforming.py", hosting="in-process"))
    outcome = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(
        unittest.defaultTestLoader.loadTestsFromTestCase(machine.TestCase)
    )
    [(_, text)] = outcome.failures
    assert "ModelBroken" in text and "--pause-->" in text, text


def test_the_trace_rules_are_an_invariant_checked_after_every_step(tmp_path: Path) -> None:
    """A sequence ends at the step that broke a rule (not at its 30th step), and the
    violation carries the whole run, Close and shutdown included; the TestCase alone finds
    it, each rule as its own exception type."""
    from hypothesis import Phase, settings
    from hypothesis.stateful import run_state_machine_as_test

    from conformance.fuzz import ContractViolation
    from conformance.fuzz.profiles import CONFORMANCE

    dll = tmp_path / "two_rules.py"
    dll.write_text(TWO_RULES)
    machine = machine_for(load_target(str(dll), hosting="in-process"))
    with pytest.raises(ContractViolation) as raised:
        run_state_machine_as_test(
            machine, settings=settings(CONFORMANCE, phases=[Phase.generate], max_examples=20)
        )
    violation = raised.value
    assert type(violation).__name__ == f"ContractViolation_{violation.rule_id.replace('.', '_')}"
    entry = {"LooksAlive.bool": "looks_alive", "IsAlive.bool": "is_alive"}[violation.rule_id]
    assert violation.steps[-1].op == entry, f"the sequence ends where it broke: {violation.steps}"
    calls = [e.name for trace in violation.run.traces for e in trace if e.kind == "call"]
    assert calls[-1] == "Close", f"the run's trace ends with its Close: {calls}"


def test_a_report_under_way_is_not_taken_for_a_violation() -> None:
    """The invariant judges while workers run: a report recorded but not yet answered
    (no ``known_handle`` yet) breaks no rule; once answered, a report for a handle that is
    no open instance's does."""
    from conformance.fuzz import ContractViolation

    machine = machine_for(load_target("fixtures/conforming.py", hosting="in-process"))()
    machine.open_first()
    trace = machine.driver.monitor.trace
    report = trace.add("callback", "SetResourceStatus", args={"ResourceHandle": 7})
    half_made = machine.driver.violation()
    assert half_made is not None and half_made.id == "Callbacks.resource-handle", half_made
    machine.trace_rules_hold()  # judged on a trace with an event under way: not raised
    report.data["known_handle"] = True
    report.end = report.start
    machine.trace_rules_hold()
    stray = trace.add("callback", "LogEvent", args={"ResourceHandle": 8})
    stray.data["known_handle"], stray.end = False, stray.start
    with pytest.raises(ContractViolation, match=r"Callbacks\.resource-handle"):
        machine.trace_rules_hold()
    machine.teardown()  # closed already: nothing more to judge


def test_statistics_are_hypothesis_events_read_back_for_the_results(tmp_path: Path) -> None:
    """Transitions and rules judged are events of the machine (shown by
    --hypothesis-show-statistics); the campaign's results are read back from them."""
    from hypothesis import settings
    from hypothesis.stateful import run_state_machine_as_test
    from hypothesis.statistics import collector

    from conformance.fuzz.profiles import CONFORMANCE
    from conformance.fuzz.stats import Tally

    tally = Tally()
    machine = machine_for(load_target("fixtures/conforming.py", hosting="in-process"))
    with collector.with_value(tally.add):
        run_state_machine_as_test(machine, settings=settings(CONFORMANCE, max_examples=3))
    assert tally.examples == 3 and tally.sequences >= 3, tally
    assert tally.transitions["none", "open", "Offline"] >= 3, tally.transitions
    assert tally.judged["Open.returns"] == tally.sequences, tally.judged
    assert "Process.survives" not in tally.judged, "in-process, nothing for it to judge"


def test_no_health_check_is_suppressed() -> None:
    from conformance.fuzz.profiles import CAMPAIGN, CONFORMANCE

    assert not CAMPAIGN.suppress_health_check and not CONFORMANCE.suppress_health_check


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
