"""`rescheck fuzz` judges instance isolation as `rescheck run` does (issue 20): a DLL whose
instances share one "running" flag is found within 300 examples, with a reproducer."""

from __future__ import annotations

from pathlib import Path

from conformance.fuzz.campaign import fuzz
from conformance.targets import load_target
from tests.fuzz.support import run_reproducer


def quiet(line: str) -> None:
    pass


def test_instances_that_share_state_are_found_by_the_fuzzer(tmp_path: Path) -> None:
    target = load_target("fixtures/instances_isolated.py", hosting="in-process")
    result = fuzz(target, tmp_path, max_examples=300, seed_value=2, progress=quiet)
    failed = [c for c in result.checks if c.outcome == "failed"]
    assert [c.id for c in failed] == ["Instances.isolated"], failed
    assert "operating on one instance changed what another reports" in failed[0].message
    reproducer = tmp_path / "test_repro_instances_isolated.py"
    done = run_reproducer(reproducer)
    assert done.returncode == 1, f"the reproducer must fail on its own:\n{done.stdout}"
    assert "Instances.isolated" in done.stdout, done.stdout
