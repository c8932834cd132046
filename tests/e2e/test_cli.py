"""The ``rescheck`` command end to end: verdicts, exit codes, reports, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.rules import CATEGORIES, contract_index, observability
from conformance.suite.catalogue import COMPILED_ONLY, QUORUM_RULES, catalogue
from conformance.suite.docs import CONTRACT_PREFIXES, reason
from tests.e2e.support import (
    NEVER_UNKNOWN,
    NO_TYPE_PROPERTIES,
    REPO,
    UNCLAIMED_OPTIONAL,
    rescheck,
)


def test_conforming_dll_is_compliant_with_reports(write_dll, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    done = rescheck("run", "--resource-type", str(write_dll()), "--report-dir", str(out))
    assert done.returncode == 0, (
        f"expected exit 0 (compliant), got {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    results = json.loads((out / "results.json").read_text())
    assert results["verdict"] == "compliant", results["verdict"]
    assert results["schema"] == 1
    dll_rules = [
        r
        for r in catalogue()
        if not r.id.startswith("Script.") and r.id not in {*QUORUM_RULES, *COMPILED_ONLY}
    ]
    assert len(results["checks"]) == len(dll_rules), (
        "expected one check per rule of a Python DLL that is not quorum-capable"
    )
    for name in ("junit.xml", "report.html", "results.jsonl"):
        assert (out / name).is_file(), f"expected {name} in the report directory"
    assert "verdict: COMPLIANT" in done.stdout


def test_required_failure_is_non_compliant_and_names_the_rule(write_dll, tmp_path: Path) -> None:
    dll = write_dll(
        replace={
            "def IsAlive(ResourceId):\n    return ResourceId in ONLINE": "def IsAlive(ResourceId):\n    return 'yes'"
        }
    )
    done = rescheck("run", "--resource-type", str(dll), "--report-dir", str(tmp_path / "r"))
    assert done.returncode == 1, (
        f"expected exit 1 (non-compliant), got {done.returncode}:\n{done.stdout}{done.stderr}"
    )
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    failed = {c["id"]: c for c in results["checks"] if c["outcome"] == "failed"}
    assert set(failed) == {"IsAlive.bool"}, (
        f"expected only IsAlive.bool to fail, got {sorted(failed)}"
    )
    assert failed["IsAlive.bool"]["level"] == "required"
    assert failed["IsAlive.bool"]["entry_points"] == ["IsAlive"]


def test_recommended_failure_is_a_warning_unless_strict(write_dll, tmp_path: Path) -> None:
    dll = write_dll(
        replace={
            "    ONLINE.add(ResourceId)\n    return ERROR_SUCCESS": "    import time; time.sleep(0.4)\n    ONLINE.add(ResourceId)\n    return ERROR_SUCCESS"
        }
    )
    lenient = rescheck(
        "run",
        "--resource-type",
        str(dll),
        "--report-dir",
        str(tmp_path / "a"),
        "--select",
        "Online.*",
    )
    assert lenient.returncode == 0, (
        f"a recommended failure must not fail the run:\n{lenient.stdout}"
    )
    assert "warning [recommended] Online.timing" in lenient.stdout
    strict = rescheck(
        "run",
        "--resource-type",
        str(dll),
        "--report-dir",
        str(tmp_path / "b"),
        "--select",
        "Online.*",
        "--strict",
    )
    assert strict.returncode == 1, f"--strict makes a recommended failure fatal:\n{strict.stdout}"


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        ({"def Startup(": "def Startupx("}, "has no Startup entry point"),
        (
            {"def Startup(ResourceType": "def Startup(ResourceType, Extra"},
            "cannot take the five documented parameters",
        ),
        (
            {"return ERROR_SUCCESS, FunctionTable(": "return ERROR_SUCCESS, 42 or FunctionTable("},
            "as its function table",
        ),
        (
            {"return ERROR_SUCCESS, FunctionTable(": "return 5080, FunctionTable("},
            "5080 (ERROR_CLUSTER_RESNAME_NOT_FOUND)",
        ),
        (
            {"return ERROR_SUCCESS, FunctionTable(": "return None or FunctionTable("},
            "it must return (status, FunctionTable)",
        ),
        ({"class Instance:": "class Instance(:"}, "Python syntax error"),
        (
            {"from conformance.resapi": "import no_such_module_x\nfrom conformance.resapi"},
            "imports 'no_such_module_x', which is not installed",
        ),
        ({"Open=Open,": "Open=3,"}, "the function table's Open is a int, not a function"),
        (
            {
                "return ERROR_SUCCESS, FunctionTable(": "return ERROR_SUCCESS, "
                "type('T', (), {'Version': property(lambda t: 1 / 0)})() or FunctionTable("
            },
            "reading the function table's Version raised ZeroDivisionError",
        ),
        (
            {"def Online(ResourceId, EventHandle):": "def Online(ResourceId):"},
            "Online(ResourceId) cannot take the documented parameters",
        ),
    ],
    ids=[
        "no-startup",
        "startup-signature",
        "not-a-table",
        "refuses-type",
        "not-a-tuple",
        "syntax-error",
        "missing-import",
        "entry-not-callable",
        "table-attribute-raises",
        "entry-point-signature",
    ],
)
def test_unusable_targets_exit_2_with_one_line(
    write_dll, tmp_path: Path, replace: dict[str, str], expected: str
) -> None:
    done = rescheck(
        "run",
        "--resource-type",
        str(write_dll(replace=replace)),
        "--report-dir",
        str(tmp_path / "r"),
    )
    assert done.returncode == 2, (
        f"expected exit 2, got {done.returncode}:\n{done.stdout}{done.stderr}"
    )
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{done.stderr}"
    assert expected in lines[0], f"expected {expected!r} in {lines[0]!r}"
    assert "Traceback" not in done.stdout + done.stderr


RAISES = {
    "    if not MinVersionSupported": "    raise ValueError('boom')\n    if not MinVersionSupported"
}
DECLARES = {"from conformance.resapi": "RESOURCE_TYPE_NAME = 'My Type'\nfrom conformance.resapi"}
REFUSES = {"return ERROR_SUCCESS, FunctionTable(": "return 5080, FunctionTable("}


@pytest.mark.parametrize(
    ("replace", "rule", "said"),
    [
        (RAISES, "Startup.returns", "Startup raised ValueError: boom"),
        ({**DECLARES, **REFUSES}, "Startup.returns-table", "refused resource type 'My Type'"),
    ],
    ids=["raises", "refuses-declared-type"],
)
def test_a_failing_startup_is_a_finding_of_run_and_a_usage_error_of_fuzz(
    write_dll, tmp_path: Path, replace: dict[str, str], rule: str, said: str
) -> None:
    """A Startup that raises, or refuses the type its module declares, is the DLL's defect:
    `rescheck run` reports it as a failed rule; fuzz, which needs a working Startup, exits 2
    and says that `run` judges it."""
    dll = str(write_dll(replace=replace))
    done = rescheck("run", "--resource-type", dll, "--report-dir", str(tmp_path / "r"))
    assert done.returncode == 1, (
        f"expected exit 1, got {done.returncode}:\n{done.stdout}{done.stderr}"
    )
    checks = json.loads((tmp_path / "r" / "results.json").read_text())["checks"]
    failed = {c["id"]: c["message"] for c in checks if c["outcome"] in ("failed", "error")}
    assert list(failed) == [rule] and said in failed[rule], failed
    fuzzed = rescheck("fuzz", "--resource-type", dll, "--report-dir", str(tmp_path / "f"))
    lines = fuzzed.stderr.strip().splitlines()
    assert fuzzed.returncode == 2 and len(lines) == 1, fuzzed.stdout + fuzzed.stderr
    assert said in lines[0] and f"`rescheck run` judges it ({rule})" in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["run", "--resource-type", "x", "--type-name", "A", "--type-name", "A"],
            "--type-name 'A' is given more than once",
        ),
        (
            ["fuzz", "--resource-type", "x", "--type-name", "A", "--type-name", "B"],
            "rescheck fuzz takes one --type-name (got 2)",
        ),
        (
            ["run", "--resource-type", "no.such.module_here"],
            "cannot find module 'no.such.module_here'",
        ),
        (["run", "--resource-type", "missing.py"], "no such file: missing.py"),
        (["run", "--resource-type", "x", "--time-scale", "5"], "must be in (0, 1]"),
        (["run", "--resource-type", "x", "-o", "novalue"], "expected NAME=VALUE"),
        (["run"], "--resource-type"),
        (["report", "nowhere"], "no results.jsonl in nowhere"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_usage_exits_2_with_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    done = rescheck(*args, cwd=tmp_path)
    assert done.returncode == 2, (
        f"expected exit 2, got {done.returncode}:\n{done.stdout}{done.stderr}"
    )
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], (
        f"expected one line containing {expected!r}, got:\n{done.stderr}"
    )


def test_select_matching_nothing_is_a_usage_error(write_dll) -> None:
    done = rescheck("run", "--resource-type", str(write_dll()), "--select", "Nope.*")
    assert done.returncode == 2 and "no rule matches" in done.stderr, done.stderr


def test_rules_json_is_the_catalogue_and_cites_existing_contract_ids() -> None:
    done = rescheck("rules", "--format", "json")
    assert done.returncode == 0, done.stderr
    rules = json.loads(done.stdout)
    assert [r["id"] for r in rules] == [r.id for r in catalogue()]
    index = contract_index()
    for entry in rules:
        assert set(entry) >= {"id", "level", "entry_points", "statement", "doc", "contract"}, entry
        assert entry["level"] in ("required", "recommended", "optional"), entry
        unknown = [c for c in entry["contract"] if c not in index]
        assert not unknown, (
            f"{entry['id']} cites contract ids that docs/contract.md does not have: {unknown}"
        )


def test_rules_coverage_accounts_for_every_classified_contract_id() -> None:
    done = rescheck("rules", "--coverage", "--format", "json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    cited = {c for rule in catalogue() for c in rule.contract}
    assert set(found["checked"]) == cited, "'checked' should be exactly the ids rules cite"
    classified = set(observability())
    listed = {cid for ids in found.values() for cid in ids}
    assert classified <= listed, f"classified ids missing: {sorted(classified - listed)}"
    for category, ids in found.items():
        if category in ("checked", "unclassified"):
            continue
        wrong = [cid for cid in ids if observability()[cid]["category"] != category]
        assert not wrong, f"ids listed under {category} that are classified otherwise: {wrong}"
    text = rescheck("rules", "--coverage").stdout
    headings = ["checked by a rule", *(CATEGORIES[c] for c in found if c in CATEGORIES)]
    missing = [h for h in headings if h not in text]
    assert not missing, f"expected a heading for each non-empty category; missing {missing}"
    wide = [line for line in text.splitlines() if len(line) > 100]
    assert not wide, f"lines wider than 100 columns: {wide[:3]}"
    flat = " ".join(text.split())
    unexplained = [
        cid
        for category, ids in found.items()
        if category != "checked"
        for cid in ids
        if f"{cid} {' '.join(reason(cid).split())}" not in flat
    ]
    assert not unexplained, f"ids printed without their reason: {unexplained[:5]}"


def test_rules_text_fits_100_columns_and_explains_its_abbreviations() -> None:
    done = rescheck("rules")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    wide = [line for line in lines if len(line) > 100]
    assert not wide, f"lines wider than 100 columns: {wide[:3]}"
    assert [line.split()[0] for line in lines[1:] if line[:1].strip()][: len(catalogue())] == [
        r.id for r in catalogue()
    ], "expected a line per rule starting with its id, in catalogue order"
    legend = " ".join(done.stdout.split("\nlegend:\n", 1)[1].split())
    assert (
        "W:<page> is https://learn.microsoft.com/previous-versions/windows/desktop/mscs/<page>"
        in legend
    )
    assert "S:<page> is https://learn.microsoft.com/windows/win32/api/<header>/<page>" in legend
    for term in ("level", "scripts", "applies to", "contract", "'n/a'", "docs/contract.md"):
        assert term in legend, f"the legend does not explain {term!r}"
    prefixes = {cid.split("-")[0] for r in catalogue() for cid in r.contract}
    unexplained = [p for p in sorted(prefixes) if f"{p} {CONTRACT_PREFIXES[p]}" not in legend]
    assert not unexplained, f"contract id prefixes the legend does not spell out: {unexplained}"
    table_size = next(line for line in lines if line.startswith("FunctionTable.table-size "))
    assert table_size.endswith("compiled DLLs only"), table_size


def test_observability_classifies_real_contract_ids() -> None:
    index = contract_index()
    unknown = [cid for cid in observability() if cid not in index]
    assert not unknown, f"observability.json names ids docs/contract.md does not have: {unknown}"
    categories = {entry["category"] for entry in observability().values()}
    assert categories <= set(CATEGORIES), f"unknown categories: {categories - set(CATEGORIES)}"
    assert all(entry["reason"] for entry in observability().values()), "every id needs a reason"


def test_report_renders_an_interrupted_run_as_incomplete(write_dll, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert (
        rescheck("run", "--resource-type", str(write_dll()), "--report-dir", str(out)).returncode
        == 0
    )
    log = (out / "results.jsonl").read_text().splitlines()
    (out / "results.jsonl").write_text(
        "\n".join(log[:5]) + "\n"
    )  # the header and four checks: killed mid-run
    done = rescheck("report", str(out))
    assert done.returncode == 2, (
        f"an incomplete run cannot be judged: expected exit 2, got {done.returncode}\n{done.stderr}"
    )
    assert "INCOMPLETE" in done.stdout
    results = json.loads((out / "results.json").read_text())
    assert results["complete"] is False and len(results["checks"]) == 4
    assert "INCOMPLETE" in (out / "report.html").read_text()


def test_open_failing_conformantly_cannot_be_judged(write_dll, tmp_path: Path) -> None:
    dll = write_dll(
        replace={
            "def Open(ResourceName, ResourceKey, ResourceHandle):\n    return Instance()": "def Open(ResourceName, ResourceKey, ResourceHandle):\n    from conformance.resapi import SetLastError\n    SetLastError(87)\n    return None"
        }
    )
    done = rescheck("run", "--resource-type", str(dll), "--report-dir", str(tmp_path / "r"))
    assert done.returncode == 2, (
        f"expected exit 2 (could not judge), got {done.returncode}:\n{done.stdout}"
    )
    assert "could not judge" in done.stdout and "-o NAME=VALUE" in done.stdout


#: Rules a reference implementation may skip, with why: process_app claims no asynchronous
#: failure detection; lock_holder does, so LooksAlive is never called (LA-8); neither type
#: defines type private properties.
REFERENCE_SKIPS = {
    "process_app": UNCLAIMED_OPTIONAL | NEVER_UNKNOWN | NO_TYPE_PROPERTIES,
    "lock_holder": NEVER_UNKNOWN
    | NO_TYPE_PROPERTIES
    | {"LooksAlive.bool", "LooksAlive.healthy", "LooksAlive.returns", "LooksAlive.timing"},
}


@pytest.mark.parametrize("name", sorted(REFERENCE_SKIPS))
def test_reference_implementations_are_compliant(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    done = rescheck(
        "run",
        "--resource-type",
        f"reference_impls/{name}.py",
        "--report-dir",
        str(out),
        cwd=REPO,
    )
    assert done.returncode == 0, (
        f"the reference implementation must be compliant:\n{done.stdout}\n{done.stderr}"
    )
    results = json.loads((out / "results.json").read_text())
    not_passed = [
        (c["id"], c["outcome"], c["message"])
        for c in results["checks"]
        if c["outcome"] != "passed"
        and not (c["id"] in REFERENCE_SKIPS[name] and c["outcome"] == "skipped")
    ]
    assert not not_passed, f"expected every other rule to pass for {name}: {not_passed}"
    assert len(results["checks"]) >= 12


def test_python_dash_m_conformance_is_the_command() -> None:
    """A checkout that is not installed runs the command as ``python3 -m conformance``."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "--version"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("rescheck "), f"expected the version line, got {done.stdout!r}"
