"""`rescheck fuzz` looks at the entity through the companion's probe, as `rescheck run` does
(issue 20): a DLL whose Terminate leaves a worker that restarts the application, or whose
Offline leaves it running, is found within the default budget with a reproducer that fails
alone; a conforming one with a probe stays compliant; a target without a probe has these
rules listed as not judged, with the reason, never as passed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.fuzz.campaign import fuzz
from conformance.suite.checks.entity_trace import PROBED
from conformance.targets import load_target
from tests.fuzz.support import run_reproducer

#: The rules the fuzzer judges through the probe.
ENTITY_RULES = ("Online.starts-entity", "Offline.stops-entity", "Terminate.stops-entity")


def quiet(line: str) -> None:
    pass


#: Fixture, the rule it breaks, what the failure says, and a seed that finds it within the
#: default budget of 100 examples (a seed draws the same sequences only on the pinned
#: hypothesis).
BROKEN = [
    # seed 1 shrinks to open, online, terminate; seeds 2 and 3 find it sooner but shrink to a
    # begin_online that races the Terminate, whose reproducer fails only now and then
    ("terminate_stops_entity", "Terminate.stops-entity", "the entity came back after Terminate", 1),
    ("offline_stops_entity", "Offline.stops-entity", "Offline (step", 2),
]


@pytest.mark.parametrize(("fixture", "rule_id", "says", "seed"), BROKEN, ids=[b[0] for b in BROKEN])
def test_an_entity_left_running_is_found_with_a_reproducer_that_fails_alone(
    tmp_path: Path, fixture: str, rule_id: str, says: str, seed: int
) -> None:
    target = load_target(f"fixtures/{fixture}.py", hosting="in-process")
    result = fuzz(target, tmp_path, seed_value=seed, progress=quiet)  # the default budget
    failed = [c for c in result.checks if c.outcome == "failed"]
    assert [c.id for c in failed] == [rule_id], [(c.id, c.message) for c in failed]
    assert says in failed[0].message, failed[0].message
    assert "(step " in failed[0].message, "the finding names the step that broke the rule"
    slug = rule_id.lower().replace(".", "_").replace("-", "_")
    trace = json.loads((tmp_path / f"trace_{slug}.json").read_text())
    probed = [e for e in trace["trace"] if e["name"] == PROBED]
    assert any(e["data"]["after"] == rule_id.split(".")[0] for e in probed), probed
    done = run_reproducer(tmp_path / f"test_repro_{slug}.py")
    assert done.returncode == 1, f"the reproducer must fail on its own:\n{done.stdout}"
    assert rule_id in done.stdout, done.stdout


def test_a_conforming_type_with_a_probe_stays_compliant(tmp_path: Path) -> None:
    """process_app's real process, probed over TCP: judged, and no false alarm."""
    target = load_target("reference_impls/process_app.py", hosting="in-process")
    result = fuzz(target, tmp_path, max_examples=30, seed_value=1, progress=quiet)
    assert result.verdict == "compliant", [
        (c.id, c.message) for c in result.checks if c.outcome in ("failed", "error")
    ]
    judged = {c.id: c for c in result.checks if c.id in ENTITY_RULES}
    assert all(c.outcome == "passed" for c in judged.values()), judged
    assert all(result.info["rules_judged"][rule_id] > 0 for rule_id in ENTITY_RULES)


def test_rules_nothing_judged_are_listed_as_not_judged_with_the_reason(tmp_path: Path) -> None:
    """Without a probe the entity rules are not judged (never passed), with the reason, in
    results.json (a check skipped, and ``info.rules_not_judged``) and in report.html."""
    fixture = "fixtures/sequence/one_report_when_terminated.py"  # no companion beside it
    target = load_target(fixture, hosting="in-process")
    fuzz(target, tmp_path, max_examples=10, seed_value=1, progress=quiet)
    results = json.loads((tmp_path / "results.json").read_text())
    checks = {c["id"]: c for c in results["checks"]}
    not_judged = results["info"]["rules_not_judged"]
    for rule_id in ENTITY_RULES:
        assert checks[rule_id]["outcome"] == "skipped", checks[rule_id]
        assert "no companion found" in checks[rule_id]["message"], checks[rule_id]["message"]
        assert "no companion found" in not_judged[rule_id], not_judged
    assert "Process.survives" in not_judged  # in-process hosting cannot judge it
    judged = [c["id"] for c in results["checks"] if c["outcome"] == "passed"]
    assert judged and not set(judged) & set(not_judged), (judged, not_judged)
    assert all(results["info"]["rules_judged"][rule_id] for rule_id in judged)
    assert "Script.runtime-errors" not in checks, "a rule that cannot apply is not listed"
    html = (tmp_path / "report.html").read_text()
    assert "Terminate.stops-entity" in html and "no companion found" in html
