"""``rescheck new`` end to end: what it writes passes ``rescheck run`` as written, through the
very command it prints, and it never overwrites nor accepts a NAME its files cannot carry."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest

from tests.e2e.support import REPO


def command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m conformance ARGS``, as a checkout that is not installed runs rescheck."""
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "language", "written"),
    [
        ("dll", "python", ("my_res.py", "my_res_companion.py")),
        ("script", "vbscript", ("my_res.vbs", "my_res_companion.py")),
        ("script", "jscript", ("my_res.js", "my_res_companion.py")),
        ("script", "python", ("my_res.py", "my_res_companion.py")),
    ],
    ids=["dll-python", "script-vbscript", "script-jscript", "script-python"],
)
def test_what_new_writes_is_compliant_as_written(
    tmp_path: Path, kind: str, language: str, written: tuple[str, ...]
) -> None:
    made = command(
        "new", "my_res", "--kind", kind, "--language", language, "--dir", "src", cwd=tmp_path
    )
    assert made.returncode == 0, made.stdout + made.stderr
    lines = made.stdout.splitlines()
    assert lines[: len(written)] == [f"wrote {Path('src', name)}" for name in written], lines
    for name in written:
        text = (tmp_path / "src" / name).read_text(encoding="utf-8")
        assert "{{" not in text, f"{name}: a template field was left unfilled"
    nexts = [line.removeprefix("next: ") for line in lines if line.startswith("next: ")]
    assert nexts == [f"rescheck run --resource-type {Path('src', written[0])}"], lines
    # the very command it printed, with rescheck as `python -m conformance`
    run = [*shlex.split(nexts[0])[1:], "--report-dir", str(tmp_path / "reports")]
    done = command(*run, cwd=tmp_path)
    assert done.returncode == 0, (
        f"expected exit 0 (compliant), got {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    results = json.loads((tmp_path / "reports" / "results.json").read_text())
    assert results["verdict"] == "compliant", results["verdict"]
    outcomes = {c["id"]: c["outcome"] for c in results["checks"]}
    for rule in ("Online.starts-entity", "IsAlive.detects-failure", "Close.stops-entity"):
        assert outcomes[rule] == "passed", f"the companion's probe should judge {rule}"
    if kind == "dll":
        for rule in ("ResourceControl.private-properties", "ResourceControl.stored-properties"):
            assert outcomes[rule] == "passed", f"the property table should pass {rule}"


def test_new_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "mine_companion.py").write_text("# the author's work\n")
    done = command("new", "mine", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rescheck new: error: "), done.stderr
    assert "mine_companion.py already exists" in lines[0], lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "mine.py").exists(), "nothing may be written when a file exists"
    assert (tmp_path / "mine_companion.py").read_text() == "# the author's work\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["my-disk"], "for example my_disk"),
        (["2disks", "--kind", "script"], "for example my_2disks"),
        (["class"], "is a Python keyword; choose another, for example my_class"),
        (["json"], "json.py would hide from the target's host"),
        (["x", "--language", "jscript"], "give --kind script"),
    ],
    ids=["dash", "digit-first", "keyword", "stdlib", "dll-in-jscript"],
)
def test_a_bad_name_or_language_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    done = command("new", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rescheck new: error: "), done.stderr
    assert expected in lines[0], f"expected {expected!r} in {lines[0]!r}"
    assert "Traceback" not in done.stdout + done.stderr
    assert not list(tmp_path.iterdir()), "nothing may be written for a refused NAME"


def test_every_template_is_package_data() -> None:
    """A wheel carries only what package-data names: every template must match a glob."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["conformance"]
    package = REPO / "conformance"
    templates = sorted((package / "scaffold" / "templates").iterdir())
    assert templates, "no templates found"
    for template in templates:
        relative = template.relative_to(package).as_posix()
        assert any(fnmatch(relative, glob) for glob in globs), f"{relative} is not package data"
