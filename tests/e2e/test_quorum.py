"""``rescheck quorum`` end to end: generated schedules on real nodes, judged by the quorum
rules; the conformance run's own quorum scenario is in the matrix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.support import REPO, rescheck

WITNESS = REPO / "reference_impls" / "file_witness.py"


def test_the_reference_witness_holds_across_generated_schedules(tmp_path: Path) -> None:
    out = tmp_path / "q"
    done = rescheck(
        "quorum",
        "--resource-type",
        str(WITNESS),
        "--schedules",
        "3",
        "--nodes",
        "3-5",
        "--seed",
        "1",
        "--report-dir",
        str(out),
        cwd=REPO,
    )
    assert done.returncode == 0, (
        f"expected exit 0, got {done.returncode}:\n{done.stdout}{done.stderr}"
    )
    results = json.loads((out / "results.json").read_text())
    assert results["info"]["mode"] == "quorum" and results["info"]["schedules"] == 3, results[
        "info"
    ]
    outcomes = {c["id"]: c["outcome"] for c in results["checks"]}
    assert outcomes["Arbitrate.exclusive"] == "passed", outcomes
    assert "failed" not in outcomes.values(), outcomes


def test_in_one_process_the_nodes_stay_apart_and_leave_no_files(tmp_path: Path) -> None:
    """--in-process loads the DLL afresh for every node in rescheck's own process: the nodes
    must still be told apart (the reference once named itself after its process and each
    node kept the others' lease), and the companion's witness directories go with the run."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    done = subprocess.run(
        [
            *(sys.executable, "-m", "conformance.cli", "quorum", "--in-process"),
            *("--resource-type", str(WITNESS), "--schedules", "4", "--nodes", "3-5"),
            *("--seed", "1", "--report-dir", str(tmp_path / "q")),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    assert done.returncode == 0, f"expected exit 0, got {done.returncode}:\n{done.stdout}"
    assert list(tmp.iterdir()) == [], "the run left files in its TMPDIR"


def test_a_witness_that_always_wins_is_caught_with_its_schedule(tmp_path: Path) -> None:
    out = tmp_path / "q"
    done = rescheck(
        "quorum",
        "--resource-type",
        "fixtures.arbitrate_exclusive",
        "--schedules",
        "2",
        "--seed",
        "1",
        "--report-dir",
        str(out),
        cwd=REPO,
    )
    assert done.returncode == 1, (
        f"expected exit 1, got {done.returncode}:\n{done.stdout}{done.stderr}"
    )
    [failed] = [
        c
        for c in json.loads((out / "results.json").read_text())["checks"]
        if c["outcome"] == "failed"
    ]
    assert failed["id"] == "Arbitrate.exclusive" and "schedule:" in failed["message"], failed
    assert any("node " in line for line in failed["evidence"]), "the history slice is the evidence"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--resource-type", "fixtures.conforming"], "is not quorum-capable"),
        (["--resource-type", str(WITNESS), "--nodes", "9-3"], "MIN <= MAX"),
    ],
    ids=["not-quorum-capable", "bad-nodes"],
)
def test_bad_quorum_usage_exits_2_with_one_line(args: list[str], expected: str) -> None:
    done = rescheck("quorum", *args, cwd=REPO)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and expected in lines[0], (
        f"expected exit 2 and one line with {expected!r}; got {done.returncode}:\n{done.stderr}"
    )
