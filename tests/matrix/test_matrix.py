"""The harness's own quality gate (docs/design.md principle 4, "No check that cannot fail").

For every rule of the catalogue, ``fixtures/<rule id in snake case>.py`` is a resource DLL
that violates exactly that rule: the suite must report that rule failed (with a message) and
no other rule failed or errored. ``fixtures/conforming.py`` must pass every rule. The rules
of control scripts (``Script.*``) have one violating script per language in
``fixtures/scripts/``, and the reference scripts must pass every rule.

Each of those verdicts is also asked of the pytest plugin (``pytest --resource-type``, run in
this process by ``pytester``): its items must end as ``rescheck run`` counts the checks, on
every fixture. The plugin runs a violating fixture with ``--select`` of its rule, so the test
also shows that selecting a rule does not change its verdict.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

from conformance.report.model import RunResult
from conformance.rules import NOT_FOR_SCRIPTS, Rule
from conformance.suite.catalogue import COMPILED_ONLY, QUORUM_RULES, catalogue
from conformance.suite.runner import check_resource_type
from tests.e2e.support import as_pytest, junit_outcomes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SCRIPT_FIXTURES = FIXTURES / "scripts"
#: One violating script per language for each Script.* rule.
LANGUAGES = ("vbs", "js", "py")
#: The conforming control scripts: the reference ones, one per language.
REFERENCE_SCRIPTS = tuple(
    Path(__file__).resolve().parents[2] / "reference_impls" / "scripts" / f"lease_file.{ext}"
    for ext in LANGUAGES
)
BAD_OUTCOMES = ("failed", "error")
EVIDENCE_LINES = 20


def fixture_name(rule_id: str) -> str:
    """``Startup.revision-mismatch`` -> ``startup_revision_mismatch``."""
    return re.sub(r"[^0-9A-Za-z]+", "_", rule_id).strip("_").lower()


#: Every rule a Python DLL or a script can break; a compiled table's rules are
#: test_native_matrix's.
RULES = [rule for rule in catalogue() if rule.id not in COMPILED_ONLY]
DLL_RULES = [rule for rule in RULES if not rule.id.startswith("Script.")]
SCRIPT_RULES = [rule for rule in RULES if rule.id.startswith("Script.")]
#: The conforming quorum-capable type: the quorum rules apply to it (and to no other
#: conforming target).
REFERENCE_WITNESS = str(Path(__file__).resolve().parents[2] / "reference_impls" / "file_witness.py")


@functools.cache
def run_fixture(name: str) -> RunResult:
    """The suite's verdict on ``fixtures.<name>``, or on a script path (computed once per
    test process)."""
    return check_resource_type(name if "/" in name else f"fixtures.{name}")


def first_comment(path: Path) -> str:
    """A fixture's description: a Python docstring, or a script's first comment line."""
    text = path.read_text("utf-8")
    if path.suffix == ".py":
        return ast.get_docstring(ast.parse(text)) or ""
    first = text.splitlines()[0] if text else ""
    return first.lstrip("'/ ").strip()


def describe(checks: list) -> str:
    lines = []
    for check in checks:
        lines.append(f"  - {check.id} [{check.level}] {check.outcome}: {check.message}")
        evidence = list(check.evidence or [])
        for line in evidence[:EVIDENCE_LINES]:
            lines.append(f"        {line}")
        if len(evidence) > EVIDENCE_LINES:
            lines.append(f"        ... ({len(evidence) - EVIDENCE_LINES} more evidence lines)")
    return "\n".join(lines)


def assert_the_plugin_agrees(
    pytester: pytest.Pytester, path: Path, result: RunResult, select: str | None = None
) -> None:
    """The plugin's items on ``path`` end as the suite's checks in ``result`` count (only
    ``select``'s item, when given), and its exit status is the suite's."""
    chosen = [c for c in result.checks if select is None or c.id == select]
    wanted = {c.id: as_pytest(c.outcome, c.level) for c in chosen}
    selection = [] if select is None else [f"--select={select}"]
    ran = pytester.runpytest(
        "-p", "no:cacheprovider", f"--resource-type={path}", "--junitxml=plugin.xml", *selection
    )
    got = junit_outcomes(pytester.path / "plugin.xml")
    apart = {rule: (wanted.get(rule), got.get(rule)) for rule in wanted.keys() | got.keys()}
    apart = {rule: pair for rule, pair in apart.items() if pair[0] != pair[1]}
    assert not apart, (
        f"expected the plugin's items on {path.name} to end as rescheck run counts its checks; "
        "(rescheck run, plugin) differ for:\n  "
        + "\n  ".join(f"{rule}: {pair}" for rule, pair in sorted(apart.items()))
        + f"\n{ran.stdout.str()[-3000:]}"
    )
    status = 1 if "failed" in wanted.values() else 0
    assert ran.ret == status, f"expected the plugin to exit {status}; it exited {ran.ret}"


def fixture_paths(rule: Rule) -> list[Path]:
    name = fixture_name(rule.id)
    if rule in SCRIPT_RULES:
        return [SCRIPT_FIXTURES / f"{name}.{ext}" for ext in LANGUAGES]
    return [FIXTURES / f"{name}.py"]


def test_every_rule_has_a_fixture() -> None:
    missing = [
        f"{rule.id} -> {path.relative_to(FIXTURES.parent)}"
        for rule in RULES
        for path in fixture_paths(rule)
        if not path.is_file()
    ]
    assert not missing, (
        f"expected a violating fixture for each of the {len(RULES)} rules (one per language "
        f"for Script.* rules); {len(missing)} are missing:\n  " + "\n  ".join(missing)
    )
    undocumented = []
    for rule in RULES:
        for path in fixture_paths(rule):
            doc = first_comment(path)
            if not doc.startswith(f"Violates {rule.id}:"):
                undocumented.append(f"{path.name}: {doc.splitlines()[0] if doc else '(none)'}")
    assert not undocumented, (
        "expected each fixture's docstring (a script's first comment) to start with "
        "'Violates <rule id>: <how>'; instead:\n  " + "\n  ".join(undocumented)
    )


@pytest.mark.parametrize(
    "rule, path",
    [(rule, path) for rule in RULES for path in fixture_paths(rule)],
    ids=lambda value: value.id if isinstance(value, Rule) else value.suffix,
)
def test_fixture_violates_exactly_its_rule(
    pytester: pytest.Pytester, rule: Rule, path: Path
) -> None:
    name = str(path) if rule in SCRIPT_RULES else fixture_name(rule.id)
    if not path.is_file():
        pytest.fail(f"expected {path} violating {rule.id}; there is no such file")
    result = run_fixture(name)
    by_id = {check.id: check for check in result.checks}
    own = by_id.get(rule.id)
    assert own is not None, (
        f"expected a check result for {rule.id} from {name}; got results for {sorted(by_id)}"
    )
    assert own.outcome == "failed" and own.message, (
        f"expected {rule.id} to fail with a message for {name}; instead:\n" + describe([own])
    )
    others = [c for c in result.checks if c.id != rule.id and c.outcome in BAD_OUTCOMES]
    assert not others, (
        f"expected only {rule.id} to fail for {name}; "
        f"{len(others)} other checks failed or errored too:\n" + describe(others)
    )
    expected_verdict = "non-compliant" if rule.level == "required" else "compliant"
    assert result.verdict == expected_verdict, (
        f"expected verdict {expected_verdict!r} for {name}, whose only failure is the "
        f"{rule.level} rule {rule.id}; got {result.verdict!r} ({result.counts()})"
    )
    assert_the_plugin_agrees(pytester, path, result, select=rule.id)


#: Conforming fixtures: the base, and the base with asynchronous failure detection. A rule
#: may be skipped by one of them (an optional feature it does not claim, LooksAlive that LA-8
#: switches off), never failed, and every rule must pass for at least one of them.
CONFORMING = ("conforming", "conforming_async")


EVERY_CONFORMING = [*CONFORMING, REFERENCE_WITNESS, *(str(p) for p in REFERENCE_SCRIPTS)]


def applicable(name: str) -> list[Rule]:
    """The rules a conforming target is judged on: the reference witness's are every DLL
    rule; a script's every rule that applies to scripts, a DLL's every DLL rule but the
    quorum ones."""
    if name == REFERENCE_WITNESS:
        return DLL_RULES
    if name.endswith((".vbs", ".js")) or "/scripts/" in name:
        return [rule for rule in RULES if rule.script_class != NOT_FOR_SCRIPTS]
    return [rule for rule in DLL_RULES if rule.id not in QUORUM_RULES]


@pytest.mark.parametrize("name", EVERY_CONFORMING, ids=lambda n: Path(n).name)
def test_conforming_fixture_fails_nothing(pytester: pytest.Pytester, name: str) -> None:
    result = run_fixture(name)
    bad = [c for c in result.checks if c.outcome in BAD_OUTCOMES]
    assert not bad, f"expected {name} to fail no rule; {len(bad)} did:\n" + describe(bad)
    judged = {c.id for c in result.checks}
    unjudged = [rule.id for rule in applicable(name) if rule.id not in judged]
    assert not unjudged, f"expected a check result for every rule; none for {unjudged}"
    assert result.verdict == "compliant", (
        f"expected verdict 'compliant' for {name}; got {result.verdict!r} ({result.counts()})"
    )
    path = Path(name) if "/" in name else FIXTURES / f"{name}.py"
    assert_the_plugin_agrees(pytester, path, result)


def test_every_rule_passes_for_a_conforming_fixture() -> None:
    passed = {
        c.id for name in EVERY_CONFORMING for c in run_fixture(name).checks if c.outcome == "passed"
    }
    never = [rule.id for rule in RULES if rule.id not in passed]
    assert not never, (
        f"expected every rule to pass for one of {CONFORMING}, the reference witness or the "
        "reference scripts; never "
        f"passed: {never}\n"
        + describe([c for c in run_fixture(CONFORMING[0]).checks if c.id in never])
    )


def test_a_hung_entry_point_shows_the_stacks_of_the_targets_threads() -> None:
    """The watchdog's evidence: where the call that never returned was waiting."""
    [check] = [c for c in run_fixture("looksalive_returns").checks if c.id == "LooksAlive.returns"]
    evidence = "\n".join(check.evidence)
    assert "Stacks when the monitor gave up:" in evidence, (
        "expected the stacks of the target's threads in the evidence of a hung call; got:\n"
        + evidence
    )
    hung = evidence.split("Stacks when the monitor gave up:", 1)[1]
    assert "looksalive_returns.py" in hung and "LooksAlive" in hung, (
        "expected the stacks to show the target's LooksAlive frame where it waits; got:\n" + hung
    )
