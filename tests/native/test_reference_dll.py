"""The C reference DLL (``reference_impls/native/process_app.c``, issue 16): built with
mingw-w64, checked under Wine by the native host, it is compliant, and rule for rule it gets
the verdicts ``reference_impls/process_app.py`` gets.

Each suite runs once per module (a run takes 10 to 20 s): the DLL's under Wine, with
``sleeper.exe`` (the process each instance runs) built beside it and the companion that probes
that process, and the Python twin's in its isolated host."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conformance.errors import UsageError
from conformance.report.model import FAILED, PASSED, REQUIRED, RunResult

COMPILER = "x86_64-w64-mingw32-gcc"
if shutil.which(COMPILER) is None:
    pytest.skip(
        f"{COMPILER} is not installed ('apt-get install gcc-mingw-w64-x86-64'): the C reference "
        "DLL cannot be built",
        allow_module_level=True,
    )
try:
    from conformance.native import wine

    wine.find_wine()
except ImportError as exc:  # conformance.native.wine is being written alongside
    pytest.skip(f"rescheck cannot run programs under Wine yet ({exc})", allow_module_level=True)
except UsageError as exc:
    pytest.skip(f"Wine is not installed ({exc})", allow_module_level=True)

import conformance  # noqa: E402  (after the skips: a missing toolchain is not an error)
from reference_impls.native.build import build  # noqa: E402
from tests.native import assert_plain_dll  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
NATIVE = REPO / "reference_impls" / "native"
PYTHON_TWIN = REPO / "reference_impls" / "process_app.py"
TYPE_NAME = "Process App"
JUDGED = (PASSED, FAILED)


@pytest.fixture(scope="module")
def dll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """process_app.dll with sleeper.exe and the companion beside it, as a user lays them out."""
    return build(tmp_path_factory.mktemp("process_app"))


@pytest.fixture(scope="module")
def native_result(dll: Path) -> RunResult:
    return conformance.check_resource_type(str(dll), type_name=TYPE_NAME)


@pytest.fixture(scope="module")
def python_result() -> RunResult:
    return conformance.check_resource_type(str(PYTHON_TWIN))


def describe(result: RunResult, outcomes: tuple[str, ...]) -> list[str]:
    return [
        f"{c.outcome} {c.id} [{c.level}]: {c.message}"
        for c in result.checks
        if c.outcome in outcomes
    ]


def test_exports_only_startup_and_imports_only_kernel32_and_msvcrt(dll: Path) -> None:
    assert_plain_dll(dll)


def test_no_required_rule_fails(native_result: RunResult) -> None:
    broken = [
        f"{c.id}: {c.message}"
        for c in native_result.checks
        if c.level == REQUIRED and c.outcome in (FAILED, "error")
    ]
    assert not broken, "required rules the C reference DLL fails:\n" + "\n".join(broken)
    assert native_result.verdict == "compliant", "\n".join(
        describe(native_result, (FAILED, "error"))
    )


def test_probe_rules_are_judged(native_result: RunResult) -> None:
    """The companion's probe sees the real process: the entity rules are judged, not skipped."""
    outcomes = {c.id: c.outcome for c in native_result.checks}
    entity_rules = (
        "Open.entity-offline",
        "Online.starts-entity",
        "IsAlive.detects-failure",
        "Close.stops-entity",
    )
    assert {rule: outcomes.get(rule) for rule in entity_rules} == dict.fromkeys(
        entity_rules, PASSED
    )


def test_verdict_parity_with_the_python_twin(
    native_result: RunResult, python_result: RunResult
) -> None:
    """On every rule both runs judge (passed or failed), the outcome is the same."""
    native = {c.id: c for c in native_result.checks}
    python = {c.id: c for c in python_result.checks}
    both = [rule for rule in python if rule in native]
    judged = [r for r in both if python[r].outcome in JUDGED and native[r].outcome in JUDGED]
    assert len(judged) >= 50, f"only {len(judged)} rules judged by both runs"
    differences = [
        f"{rule}: Python {python[rule].outcome} ({python[rule].message}); "
        f"C {native[rule].outcome} ({native[rule].message})"
        for rule in judged
        if python[rule].outcome != native[rule].outcome
    ]
    assert not differences, (
        f"{len(differences)} of {len(judged)} rules judged by both differ between "
        "process_app.py and process_app.c:\n" + "\n".join(differences)
    )
