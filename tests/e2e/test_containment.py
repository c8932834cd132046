"""Containment (isolated hosting): whatever a hostile target does, `rescheck run` finishes in
bounded time with a verdict and evidence, and leaves no process behind."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.support import REPO, rescheck

#: A whole run against a hostile target: generous, it only has to be bounded.
RUN_LIMIT_S = 120


def _run(tmp_path: Path, name: str) -> tuple[subprocess.CompletedProcess[str], dict, float]:
    started = time.perf_counter()
    done = rescheck(
        "run",
        "--resource-type",
        f"fixtures/hostile/{name}.py",
        "--report-dir",
        str(tmp_path / name),
        cwd=REPO,
        timeout=RUN_LIMIT_S,
    )
    took = time.perf_counter() - started
    assert done.returncode in (0, 1), (
        f"expected a verdict (exit 0 or 1) for {name}, got {done.returncode}:\n"
        f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
    )
    assert "Traceback" not in done.stderr, f"rescheck itself failed on {name}:\n{done.stderr}"
    results = json.loads((tmp_path / name / "results.json").read_text("utf-8"))
    return done, results, took


def _check(results: dict, rule: str) -> dict:
    [found] = [c for c in results["checks"] if c["id"] == rule]
    return found


def _alive(marker: str) -> list[str]:
    found = subprocess.run(["pgrep", "-af", marker], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


@pytest.mark.parametrize(
    ("name", "how"),
    [
        ("online_exits", "exit code 13"),
        ("isalive_segfaults", "killed by SIGSEGV"),
        ("worker_raises", "escaped the DLL's thread 'ClusWorker' (KeyError"),
        ("control_crashes_online", "exit code 7"),
    ],
)
def test_a_target_that_ends_its_process_fails_process_survives(
    tmp_path: Path, name: str, how: str
) -> None:
    done, results, _ = _run(tmp_path, name)
    survives = _check(results, "Process.survives")
    assert survives["outcome"] == "failed" and how in survives["message"], (
        f"expected Process.survives to fail with {how!r} for {name}; got {survives}"
    )
    failed = [c["id"] for c in results["checks"] if c["outcome"] in ("failed", "error")]
    assert failed == ["Process.survives"], f"expected only Process.survives to fail; got {failed}"
    assert done.returncode == 1 and results["verdict"] == "non-compliant"
    decided = [c for c in results["checks"] if c["outcome"] in ("passed", "failed")]
    assert len(decided) > 5, "the rest of the suite must still be decided after the crash"
    assert not _alive(f"hostproc [0-9]+ fixtures/hostile/{name}"), "no host may outlive the run"


def test_megabytes_on_stdout_and_stderr_do_not_disturb_the_run(tmp_path: Path) -> None:
    done, results, _ = _run(tmp_path, "stdout_flood")
    assert results["verdict"] == "compliant", (
        f"a target that only floods its output conforms; got {results['verdict']}:\n"
        + "\n".join(
            f"{c['id']}: {c['message']}" for c in results["checks"] if c["outcome"] != "passed"
        )
    )
    assert len(done.stdout) < 100_000, "the target's output must not reach rescheck's own"


def test_children_and_threads_the_target_leaves_behind_are_reported_and_killed(
    tmp_path: Path,
) -> None:
    _, results, _ = _run(tmp_path, "leaves_children")
    releases = _check(results, "Close.releases")
    assert releases["outcome"] == "failed" and "children" in releases["message"], releases
    assert not _alive("sleep 3141"), "the target's children must be killed with its host"
    _, results, took = _run(tmp_path, "thread_bomb")
    releases = _check(results, "Close.releases")
    assert releases["outcome"] == "failed" and "threads" in releases["message"], releases
    assert took < RUN_LIMIT_S


def test_a_log_flood_gets_a_verdict_and_small_reports(tmp_path: Path) -> None:
    _, results, took = _run(tmp_path, "log_flood")
    assert results["verdict"] in ("compliant", "non-compliant"), results["verdict"]
    size = sum(f.stat().st_size for f in (tmp_path / "log_flood").iterdir())
    assert size < 5_000_000, f"the reports must stay small whatever the target logs: {size} B"
    assert took < RUN_LIMIT_S


def test_huge_return_values_are_judged_like_any_other(tmp_path: Path) -> None:
    _, results, took = _run(tmp_path, "huge_values")
    failed = sorted(c["id"] for c in results["checks"] if c["outcome"] in ("failed", "error"))
    assert failed == ["IsAlive.bool", "LooksAlive.bool"], (
        f"a 5000-digit int and a 10 MB string are not BOOLs, and nothing else breaks: {failed}"
    )
    assert "bits" in _check(results, "IsAlive.bool")["message"], "the int is described, not printed"
    assert took < RUN_LIMIT_S


def test_the_budget_stops_a_run_in_the_middle_of_a_scenario_and_blames_nobody(
    tmp_path: Path,
) -> None:
    started = time.perf_counter()
    done = rescheck(
        "run",
        "--resource-type",
        "fixtures/conforming.py",
        "--report-dir",
        str(tmp_path / "r"),
        "--budget",
        "1.5",
        cwd=REPO,
        timeout=RUN_LIMIT_S,
    )
    took = time.perf_counter() - started
    assert done.returncode == 2, f"a run cut short cannot be judged: exit 2, got {done.returncode}"
    results = json.loads((tmp_path / "r" / "results.json").read_text("utf-8"))
    # the few timing samples taken before the budget ran out may be slow on a loaded machine;
    # what matters here is that nothing is blamed for the stop itself
    failed = [
        (c["id"], c["message"])
        for c in results["checks"]
        if c["outcome"] == "failed" and not c["id"].endswith(".timing")
    ]
    assert not failed, f"stopping the run is rescheck's doing, not the target's; failed: {failed}"
    assert any("budget" in c["message"] for c in results["checks"] if c["outcome"] == "error")
    assert took < 30, f"the run should end soon after its 1.5 s budget, took {took:.1f} s"


#: How each entry point is made to hang or to end its process, in a fixture-base subclass.
MISCHIEF = {
    "hang": "threading.Event().wait()",
    "exit": "os._exit(9)",
}
ENTRY_ARGS = {
    "Open": "self, ResourceName, ResourceKey, ResourceHandle",
    "Close": "self, ResourceId",
    "Online": "self, ResourceId, EventHandle",
    "Offline": "self, ResourceId",
    "Terminate": "self, ResourceId",
    "LooksAlive": "self, ResourceId",
    "IsAlive": "self, ResourceId",
}


@pytest.mark.parametrize("entry", sorted(ENTRY_ARGS))
@pytest.mark.parametrize("how", sorted(MISCHIEF))
def test_each_entry_point_that_hangs_or_exits_gets_its_verdict(
    tmp_path: Path, entry: str, how: str
) -> None:
    dll = tmp_path / f"{how}_{entry.lower()}.py"
    dll.write_text(
        f"import os, threading\n"
        f"from fixtures._dll_base import Dll\n\n\n"
        f"class Hostile(Dll):\n"
        f"    def {entry}({ENTRY_ARGS[entry]}):\n"
        f"        {MISCHIEF[how]}\n\n\n"
        f"Startup = Hostile().Startup\n",
        "utf-8",
    )
    rule = f"{entry}.returns" if how == "hang" else "Process.survives"
    started = time.perf_counter()
    done = rescheck(
        "run",
        "--resource-type",
        str(dll),
        "--report-dir",
        str(tmp_path / "r"),
        "--select",
        rule,
        cwd=REPO,
        timeout=RUN_LIMIT_S,
    )
    took = time.perf_counter() - started
    assert done.returncode == 1, (
        f"expected a non-compliant verdict, got exit {done.returncode}:\n{done.stdout}{done.stderr}"
    )
    results = json.loads((tmp_path / "r" / "results.json").read_text("utf-8"))
    [check] = results["checks"]
    assert check["outcome"] == "failed", f"expected {rule} to fail: {check}"
    if how == "hang":
        assert any(f"in {entry}" in line for line in check["evidence"]), (
            f"the stacks should show where {entry} hangs:\n" + "\n".join(check["evidence"])
        )
    assert took < 60, f"a {how} in {entry} took {took:.0f} s to judge"
    assert not _alive(f"hostproc [0-9]+ .*{dll.name}"), "no host may outlive the run"
