"""``pytest --resource-type=TARGET`` in a user's (empty) directory, driven with pytester."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.suite.catalogue import COMPILED_ONLY, QUORUM_RULES, catalogue
from tests.e2e.support import (
    NEEDS_OVERLAP,
    NEVER_UNKNOWN,
    NO_CONTROL_DATA,
    NO_TYPE_PROPERTIES,
    REPO,
    UNCLAIMED_OPTIONAL,
)

#: The rules of a resource DLL that is not quorum-capable: the control-script rules (Script.*)
#: and the quorum rules are deselected.
RULES = len(
    [
        r
        for r in catalogue()
        if not r.id.startswith("Script.") and r.id not in {*QUORUM_RULES, *COMPILED_ONLY}
    ]
)
#: The synchronous test DLL never pends, logs nothing, starts no ClusWorker, reads no private
#: property and has no companion, so four SetResourceStatus rules, Terminate.stops-workers,
#: the callback rules (Callbacks.resource-handle, two LogEvent rules, ClusWorker.fresh-structure),
#: Online.reads-properties, ResourceControl.declares-read-properties, the seven probe rules and
#: the unclaimed optional feature have nothing to judge: skipped, never passed. Its entry points
#: return in microseconds, so Terminate.concurrent may catch no overlap. It answers no data
#: control code.
SKIPPED_FOR_SYNC = (
    18
    + len(UNCLAIMED_OPTIONAL)
    + len(NEEDS_OVERLAP)
    + len(NO_CONTROL_DATA)
    + len(NO_TYPE_PROPERTIES)
)


def assert_clean(result: pytest.RunResult, failed: int = 0) -> None:
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == failed, f"expected {failed} failed, got {outcomes}"
    assert outcomes.get("passed", 0) + outcomes.get("skipped", 0) + failed == RULES, (
        f"expected {RULES} items, got {outcomes}"
    )
    assert outcomes.get("skipped", 0) <= SKIPPED_FOR_SYNC, (
        f"more skips than the sync DLL explains: {outcomes}"
    )


@pytest.fixture
def run_pytest(pytester: pytest.Pytester):
    def run(*args: str, **env: str) -> pytest.RunResult:
        for name, value in env.items():
            pytester._monkeypatch.setenv(name, value)
        return pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "-p", "no:benchmark", *args, timeout=240
        )

    return run


def test_empty_directory_runs_the_whole_suite(write_dll, run_pytest) -> None:
    result = run_pytest(f"--resource-type={write_dll()}", "-v", "-rs")
    assert_clean(result)
    result.stdout.fnmatch_lines(
        [
            "rescheck: resource type *dll.py (option --resource-type)*",
            "*test_rule?Online.returns? PASSED*",
        ]
    )


def test_a_broken_target_fails_exactly_its_rule(write_dll, run_pytest) -> None:
    dll = write_dll(
        replace={
            "def LooksAlive(ResourceId):\n    return ResourceId in ONLINE": "def LooksAlive(ResourceId):\n    return 7"
        }
    )
    result = run_pytest(f"--resource-type={dll}")
    assert_clean(result, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*[[]required[]] LooksAlive.bool: LooksAlive returned 7*",
            "*doc: S:nc-resapi-plooks_alive_routine*",
        ]
    )


def test_k_selects_rules_by_id(write_dll, run_pytest) -> None:
    result = run_pytest(
        f"--resource-type={write_dll()}", "-k", "Startup.revision-mismatch or IsAlive.bool"
    )
    result.assert_outcomes(passed=2)


def test_target_from_environment_and_ini(write_dll, run_pytest, pytester: pytest.Pytester) -> None:
    dll = write_dll()
    from_env = run_pytest(RESCHECK_RESOURCE_TYPE=str(dll))
    assert_clean(from_env)
    from_env.stdout.fnmatch_lines(["*(environment RESCHECK_RESOURCE_TYPE)*"])
    pytester._monkeypatch.delenv("RESCHECK_RESOURCE_TYPE")
    pytester.makeini(f"[pytest]\nresource_type = {dll}\n")
    from_ini = run_pytest()
    assert_clean(from_ini)
    from_ini.stdout.fnmatch_lines(["*(ini resource_type)*"])


def test_junitxml_has_one_testcase_per_rule(
    write_dll, run_pytest, pytester: pytest.Pytester
) -> None:
    result = run_pytest(f"--resource-type={write_dll()}", "--junitxml=out.xml")
    assert_clean(result)
    xml = (pytester.path / "out.xml").read_text()
    assert xml.count("<testcase ") == RULES, "expected one <testcase> per rule in the JUnit file"
    assert 'name="level" value="required"' in xml, "expected rule levels as testcase properties"
    assert 'classname="test_conformance" name="test_rule[Open.resid]"' in xml, (
        "expected JUnit class name test_conformance and the rule id in the test name"
    )


def test_the_suite_is_collected_whatever_python_files_says(
    write_dll, run_pytest, pytester: pytest.Pytester
) -> None:
    pytester.makeini("[pytest]\npython_files = check_*.py\n")
    result = run_pytest(f"--resource-type={write_dll()}")
    assert_clean(result)


def test_xdist_runs_the_suite(write_dll, run_pytest) -> None:
    assert_clean(run_pytest(f"--resource-type={write_dll()}", "-n", "2"))


def test_unknown_target_is_a_usage_error_without_traceback(run_pytest) -> None:
    result = run_pytest("--resource-type=no_such_module_anywhere")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, (
        f"expected pytest's usage error, got {result.ret}"
    )
    result.stderr.fnmatch_lines(["*rescheck: cannot find module 'no_such_module_anywhere'*"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_one_type_name_per_session_and_advice_in_rescheck_runs_option_names(
    write_dll, run_pytest
) -> None:
    """Two type names are refused in one line (not the last silently taken); a refused type
    name's advice names --type-name, which pytest takes as `rescheck run` does."""
    dll = str(write_dll())
    two = run_pytest(f"--resource-type={dll}", "--type-name=A", "--type-name=B")
    assert two.ret == pytest.ExitCode.USAGE_ERROR, two.stdout.str()
    two.stderr.fnmatch_lines(["*one --type-name per session (got 2)*"])
    refusing = write_dll(
        replace={"return ERROR_SUCCESS, FunctionTable(": "return 5080, FunctionTable("}
    )
    refused = run_pytest(f"--resource-type={refusing}")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR, refused.stdout.str()
    assert "--type-name" in refused.stderr.str(), refused.stderr.str()
    assert "Traceback" not in refused.stderr.str() + two.stderr.str()


def test_former_option_spellings_still_work_with_a_deprecation_warning(
    write_dll, run_pytest
) -> None:
    result = run_pytest(
        f"--resource-type={write_dll()}",
        "--rescheck-type-name=Mine",
        "--rescheck-time-scale=0.02",
        "-k",
        "IsAlive.bool",
    )
    result.assert_outcomes(passed=1, warnings=2)
    result.stdout.fnmatch_lines(
        [
            "*ResourceType name 'Mine', time scale 0.02*",
            "*RescheckDeprecationWarning: rescheck: --rescheck-type-name is now --type-name*",
        ]
    )


def test_a_recommended_failure_passes_with_a_warning_and_its_evidence(
    write_dll, run_pytest, pytester: pytest.Pytester
) -> None:
    """As in `rescheck run` without --strict: a warning, not a failure; the evidence is a
    report section (-rA) and a JUnit property."""
    slow = write_dll(
        replace={
            "    ONLINE.add(ResourceId)\n    return ERROR_SUCCESS": "    import time; time.sleep(0.35)\n    ONLINE.add(ResourceId)\n    return ERROR_SUCCESS"
        }
    )
    result = run_pytest(
        f"--resource-type={slow}", "--select=Online.timing", "-rA", "--junitxml=out.xml"
    )
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*RescheckWarning: [[]recommended[]] Online.timing: Online took longer than 300 ms*",
            "*rescheck evidence: Online.timing*",
            "*Online(ResourceId=*",
        ]
    )
    xml = (pytester.path / "out.xml").read_text()
    assert '<property name="warning" value="[recommended] Online.timing: ' in xml, xml
    assert '<property name="evidence" value="' in xml, xml


def test_rules_carry_the_rescheck_rule_marker(write_dll, run_pytest) -> None:
    """``-m`` selects on the marker's level (pytest 8.3+ matches marker keywords)."""
    result = run_pytest(
        f"--resource-type={write_dll()}", "--co", "-q", "-m", "rescheck_rule(level='recommended')"
    )
    wanted = {
        r.id
        for r in catalogue()
        if r.level == "recommended" and not r.id.startswith("Script.") and r.id not in COMPILED_ONLY
    }
    listed = {
        line.split("[", 1)[1].rstrip("]") for line in result.outlines if "::test_rule[" in line
    }
    assert listed == wanted, f"expected the recommended rules, got {sorted(listed ^ wanted)}"


def test_select_that_matches_nothing_is_a_usage_error(write_dll, run_pytest) -> None:
    result = run_pytest(f"--resource-type={write_dll()}", "--select=Nope.*")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    said = result.stderr.str()
    assert "rescheck: no rule matches ['Nope.*']; see `rescheck rules`" in said, said


def test_a_target_a_worker_cannot_load_is_one_collection_error(write_dll, run_pytest) -> None:
    """Under xdist the controller does not load the target: a worker's usage error is one
    line, not the worker's traceback."""
    broken = write_dll(replace={"class Instance:": "class Instance(:"})
    result = run_pytest(f"--resource-type={broken}", "-n", "2")
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*rescheck: *dll.py:*Python syntax error*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_without_a_target_the_plugin_stays_out_of_the_way(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok():\n    assert True\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_reference_implementation_passes_from_an_empty_directory(run_pytest) -> None:
    skips = UNCLAIMED_OPTIONAL | NEVER_UNKNOWN | NO_TYPE_PROPERTIES
    run_pytest(f"--resource-type={REPO / 'reference_impls' / 'process_app.py'}").assert_outcomes(
        passed=RULES - len(skips), skipped=len(skips)
    )


def test_a_fixture_runs_from_an_empty_directory_under_any_type_name(run_pytest) -> None:
    dll = Path(REPO / "fixtures" / "conforming.py")
    assert dll.is_file()
    result = run_pytest(f"--resource-type={dll}", "--rescheck-type-name=Other")
    outcomes = result.parseoutcomes()  # the fixture base accepts any type name
    skipped = outcomes.get("skipped", 0)
    assert outcomes.get("passed", 0) + skipped == RULES, f"expected {RULES} to pass, {outcomes}"
    always = UNCLAIMED_OPTIONAL | NEVER_UNKNOWN
    assert len(always) <= skipped <= len(always | NEEDS_OVERLAP), (
        f"expected only {sorted(always | NEEDS_OVERLAP)} to be skipped; {outcomes}"
    )
