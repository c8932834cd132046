"""The rule matrix for compiled DLLs (issue 16), as ``test_matrix.py`` is for Python DLLs.

``fixtures/native/resource.c`` is one conforming resource DLL in C (the "Marker File" type: a
marker file per instance under %TEMP%, made on an Online worker thread, removed by Offline,
Terminate and Close; kernel32 and msvcrt only), built with ``parameters.c`` (its private
property through rescheck's clusapi.dll). Built with ``-DBREAK_<RULE>`` (the rule id in
snake case, in capitals: ``Online.return-code`` is ``BREAK_ONLINE_RETURN_CODE``) it violates
exactly that rule, as ``fixtures/<rule>.py`` does in Python: the suite must report that rule
failed, with a message, and no other rule failed or errored. The conforming builds must fail
nothing: the base, ``-DASYNC_FAILURE`` (Online hands back a failure event; its companion claims
``async-failure``), ``-DREPORT_UNKNOWN`` (a first report of ClusterResourceStateUnknown after
SetLastError), ``-DPRIVATE_PROPERTIES`` (the Online worker reads its private property,
Onlines, and stores it counted up, through the Cluster API), ``-DPRIVATE_PROPERTIES
-DPROPERTY_TABLE`` (with ``property_table.c``, linked with rescheck's clusapi.dll and
resutils.dll: the private properties Label, Attempts and the read-only Onlines are a
RESUTIL_PROPERTY_ITEM table, and ResourceControl answers ENUM, GET, GET_RO, FMTS, VALIDATE and
SET only through the ResUtil property-table functions; Online writes its Label into the marker
and a SET while online is ERROR_RESOURCE_PROPERTIES_STORED) and ``-DCLUS_WORKERS`` (the
workers are CLUS_WORKERs of resutils.dll); between them every rule with a variant passes. The
breaks of ``Online.reads-properties`` and ``ClusterDatabase.no-writes-in-entry-points`` build
on ``-DPRIVATE_PROPERTIES``, those of the ``ResourceControl`` private-property rules
(``private-properties``, ``set-private-properties``, ``malformed-input``, ``stored-properties``,
``declares-read-properties``; most of them in ``property_table.c``, as the Python fixtures
``fixtures/resourcecontrol_<rule>.py`` break them) on ``-DPROPERTY_TABLE``, and that of
``ClusWorker.fresh-structure`` (the last worker's CLUS_WORKER passed again, not zeroed; a fresh
one on the refusal) on ``-DCLUS_WORKERS``. Every build is checked with its companion
(``fixtures/native/resource_companion.py``, which finds the marker under rescheck's Wine
prefix; ``resource_property_table_companion.py`` also claims ``private-properties`` and finds
the marker only when it holds the Label the probe is given), so the rules that need a probe
are judged for every variant.

Each DLL is built once per test session, when its test first needs it. A native run takes
5 to 30 s here, so a variant is judged on its own rule and on every rule whose declared
scenarios (``@check(..., scenarios=...)``) are among its own rule's: the run costs what its
own rule costs, and everything those traces can show is still checked. The conforming builds
run the whole suite.

Rules without a variant, and why:

* ``Offline.return-code``, ``ResourceControl.return-code``, ``ResourceTypeControl.return-code``:
  in C the return value (and BytesReturned) is a DWORD, and every DWORD is what these rules
  accept; only the Python mapping can return something else (the Python fixtures' -1 is
  0xFFFFFFFF in C). ``Online.return-code`` is broken the one way C can break it
  (ERROR_RESOURCE_NOT_AVAILABLE from a type that is not quorum-capable).
* ``ResourceTypeControl.private-properties``, ``ResourceTypeControl.set-private-properties``,
  ``ResourceTypeControl.malformed-input``: a type's private properties live under the type's
  key (``ResourceTypes\\<type>\\Parameters``), and a DLL reaches it with
  GetClusterResourceTypeKey, or GetClusterKey and ClusterRegOpenKey; rescheck's clusapi.dll
  exports both only as stubs yet (ERROR_CALL_NOT_IMPLEMENTED), and Open's ResourceKey leads
  only below the resource's own key. A type that answers none of the type codes has them
  skipped.
* ``Arbitrate.exclusive``, ``Arbitrate.takeover``, ``Release.lets-go``,
  ``LostQuorumResource.prompt``, ``Online.not-available``: the quorum rules judge a
  quorum-capable type across several nodes sharing a medium; the fixture is not one.
  (``Arbitrate.with-release`` judges the table alone, and has a variant.)
* ``Script.*``: control scripts, not DLLs.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

import conformance
from conformance.errors import UsageError
from conformance.native.build import build_dll
from conformance.report.model import CheckResult, RunResult
from conformance.rules import Rule
from conformance.suite.catalogue import catalogue, declaration
from tests.native import assert_plain_dll

COMPILER = "x86_64-w64-mingw32-gcc"
if shutil.which(COMPILER) is None:
    pytest.skip(
        f"{COMPILER} is not installed ('apt-get install gcc-mingw-w64-x86-64'): the C fixtures "
        "cannot be built",
        allow_module_level=True,
    )
try:
    from conformance.native import wine

    wine.find_wine()
except UsageError as exc:
    pytest.skip(f"Wine is not installed ({exc}): compiled DLLs cannot run", allow_module_level=True)


NATIVE = Path(__file__).resolve().parents[2] / "fixtures" / "native"
SOURCE = NATIVE / "resource.c"
#: Built with every variant: the private property through the Cluster API.
SOURCES = (SOURCE, NATIVE / "parameters.c")
#: Built with -DPROPERTY_TABLE only: the private properties through resutils.dll.
PROPERTY_TABLE_SOURCE = NATIVE / "property_table.c"
#: Where the BREAK_ macros may be.
C_SOURCES = (*SOURCES, PROPERTY_TABLE_SOURCE)
COMPANION = NATIVE / "resource_companion.py"
ASYNC_COMPANION = NATIVE / "resource_async_companion.py"
PROPERTY_TABLE_COMPANION = NATIVE / "resource_property_table_companion.py"
BAD_OUTCOMES = ("failed", "error")
EVIDENCE_LINES = 20

LEFT_OUT = {
    "Offline.return-code": "a C Offline always returns a DWORD",
    "ResourceControl.return-code": "C returns status and BytesReturned as DWORDs",
    "ResourceTypeControl.return-code": "C returns status and BytesReturned as DWORDs",
    "ResourceTypeControl.private-properties": "clusapi.dll cannot open the type's key yet",
    "ResourceTypeControl.set-private-properties": "clusapi.dll cannot open the type's key yet",
    "ResourceTypeControl.malformed-input": "clusapi.dll cannot open the type's key yet",
    "Arbitrate.exclusive": "a quorum rule across nodes",
    "Arbitrate.takeover": "a quorum rule across nodes",
    "Release.lets-go": "a quorum rule across nodes",
    "LostQuorumResource.prompt": "a quorum rule across nodes",
    "Online.not-available": "a quorum rule across nodes",
}


def fixture_name(rule_id: str) -> str:
    """``Startup.revision-mismatch`` -> ``startup_revision_mismatch`` (test_matrix's naming)."""
    return re.sub(r"[^0-9A-Za-z]+", "_", rule_id).strip("_").lower()


def macro(rule_id: str) -> str:
    """The define that breaks ``rule_id``: ``BREAK_STARTUP_REVISION_MISMATCH``."""
    return f"BREAK_{fixture_name(rule_id).upper()}"


def scenarios_of(rule_id: str) -> frozenset[str]:
    """The scenarios the rule's check declares: a variant is judged on every rule whose
    scenarios are among its own rule's (its own rule always)."""
    return frozenset(declaration(rule_id).scenarios)


DLL_RULES = [rule for rule in catalogue() if not rule.id.startswith("Script.")]


def judged_with(rule: Rule) -> list[str]:
    """The rules a variant breaking ``rule`` is judged on: those its traces can judge."""
    mine = scenarios_of(rule.id)
    return [other.id for other in DLL_RULES if scenarios_of(other.id) <= mine]


@dataclass(frozen=True)
class Build:
    """One DLL from resource.c: its name (the file's stem), defines, companion and the import
    libraries of rescheck's DLLs it links with."""

    name: str
    defines: tuple[str, ...]
    companion: Path = COMPANION
    libraries: tuple[str, ...] = ()

    @property
    def sources(self) -> tuple[Path, ...]:
        return (*SOURCES, PROPERTY_TABLE_SOURCE) if "PROPERTY_TABLE" in self.defines else SOURCES


#: The build whose private properties are a property table answered through resutils.dll.
PROPERTY_TABLE = ("PRIVATE_PROPERTIES", "PROPERTY_TABLE")
PROPERTY_TABLE_LIBRARIES = ("clusapi", "resutils")
#: The build whose workers are CLUS_WORKERs of resutils.dll.
CLUS_WORKERS = ("CLUS_WORKERS",)


#: The variants' rules that only a conforming build other than the base judges.
ASYNC_ONLY = "Online.failure-event"
UNKNOWN_ONLY = "SetResourceStatus.unknown-last-error"
PROPERTIES_ONLY = "Online.reads-properties"
PROPERTY_TABLE_ONLY = (
    "ResourceControl.private-properties",
    "ResourceControl.set-private-properties",
    "ResourceControl.malformed-input",
    "ResourceControl.stored-properties",
    "ResourceControl.declares-read-properties",
)
CLUS_WORKERS_ONLY = "ClusWorker.fresh-structure"
#: The rules whose breaks start from the build with a private property.
ON_PROPERTIES = (PROPERTIES_ONLY, "ClusterDatabase.no-writes-in-entry-points")


def variant(rule: Rule) -> Build:
    name, broken = fixture_name(rule.id), macro(rule.id)
    if rule.id == ASYNC_ONLY:  # it breaks the asynchronous detection, so it starts from it
        return Build(name, ("ASYNC_FAILURE", broken), ASYNC_COMPANION)
    if rule.id in ON_PROPERTIES:  # it breaks how the property is read or written
        return Build(name, ("PRIVATE_PROPERTIES", broken))
    if rule.id in PROPERTY_TABLE_ONLY:  # it breaks how the property table is answered
        return Build(
            name, (*PROPERTY_TABLE, broken), PROPERTY_TABLE_COMPANION, PROPERTY_TABLE_LIBRARIES
        )
    if rule.id == CLUS_WORKERS_ONLY:  # it breaks how a CLUS_WORKER is started
        return Build(name, (*CLUS_WORKERS, broken), libraries=("resutils",))
    return Build(name, (broken,))


COVERED = [rule for rule in DLL_RULES if rule.id not in LEFT_OUT]
BASE = Build("resource", ())
ELSEWHERE = (ASYNC_ONLY, UNKNOWN_ONLY, PROPERTIES_ONLY, *PROPERTY_TABLE_ONLY, CLUS_WORKERS_ONLY)
CONFORMING = {
    BASE: [rule.id for rule in COVERED if rule.id not in ELSEWHERE],
    Build("resource_async", ("ASYNC_FAILURE",), ASYNC_COMPANION): [ASYNC_ONLY],
    Build("resource_unknown", ("REPORT_UNKNOWN",)): [UNKNOWN_ONLY],
    Build("resource_properties", ("PRIVATE_PROPERTIES",)): [PROPERTIES_ONLY],
    Build(
        "resource_property_table",
        PROPERTY_TABLE,
        PROPERTY_TABLE_COMPANION,
        PROPERTY_TABLE_LIBRARIES,
    ): [*PROPERTY_TABLE_ONLY],
    Build("resource_workers", CLUS_WORKERS, libraries=("resutils",)): [CLUS_WORKERS_ONLY],
}


class Builds:
    """Each DLL built once, into this session's directory, when a test first asks for it."""

    def __init__(self, where: Path) -> None:
        self.where = where
        self.built: dict[Build, Path] = {}

    def dll(self, build: Build) -> Path:
        if build not in self.built:
            out = self.where / f"{build.name}.dll"
            self.built[build] = build_dll(build.sources, out, build.defines, build.libraries)
        return self.built[build]

    def check(self, build: Build, select: list[str] | None = None) -> RunResult:
        return conformance.check_resource_type(
            str(self.dll(build)), companion=str(build.companion), select=select
        )


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    return Builds(tmp_path_factory.mktemp("native-matrix"))


def describe(checks: Iterable[CheckResult]) -> str:
    lines = []
    for check in checks:
        lines.append(f"  - {check.id} [{check.level}] {check.outcome}: {check.message}")
        evidence = list(check.evidence or [])
        lines += [f"        {line}" for line in evidence[:EVIDENCE_LINES]]
        if len(evidence) > EVIDENCE_LINES:
            lines.append(f"        ... ({len(evidence) - EVIDENCE_LINES} more evidence lines)")
    return "\n".join(lines)


def test_every_dll_rule_has_a_variant_or_a_reason() -> None:
    """Each rule is broken by a BREAK_ macro that resource.c (or a file built with it) has, or
    left out with a reason that the module docstring gives."""
    ids = {rule.id for rule in DLL_RULES}
    unknown = sorted(set(LEFT_OUT) - ids)
    assert not unknown, f"LEFT_OUT names rules the catalogue does not have: {unknown}"
    undocumented = [rule for rule in LEFT_OUT if f"``{rule}``" not in (__doc__ or "")]
    assert not undocumented, (
        f"the module docstring does not say why these are left out: {undocumented}"
    )
    source = "\n".join(path.read_text("utf-8") for path in C_SOURCES)
    missing = [
        f"{rule.id} -> {macro(rule.id)}"
        for rule in COVERED
        if not re.search(rf"\b{macro(rule.id)}\b", source)
    ]
    assert not missing, (
        f"expected resource.c and its files to break each of the {len(COVERED)} rules with a "
        "BREAK_ macro; "
        f"{len(missing)} have none:\n  " + "\n  ".join(missing)
    )
    stale = sorted(
        set(re.findall(r"\bBREAK_[A-Z0-9_]+\b", source)) - {macro(r.id) for r in COVERED}
    )
    assert not stale, f"resource.c or its files have BREAK_ macros of no covered rule: {stale}"


def test_imports_only_kernel32_and_msvcrt(builds: Builds) -> None:
    assert_plain_dll(builds.dll(BASE))


@pytest.mark.parametrize(
    "build",
    list(CONFORMING),
    ids=lambda build: build.name,
)
def test_conforming_build_fails_nothing(builds: Builds, build: Build) -> None:
    result = builds.check(build)
    bad = [c for c in result.checks if c.outcome in BAD_OUTCOMES]
    assert not bad, f"expected {build.name} to fail no rule; {len(bad)} did:\n" + describe(bad)
    assert result.verdict == "compliant", (
        f"expected verdict 'compliant' for {build.name}; got {result.verdict!r} ({result.counts()})"
    )
    outcomes = {c.id: c for c in result.checks}
    missing = [rule for rule in CONFORMING[build] if rule not in outcomes]
    assert not missing, f"expected a check result for each of {missing} from {build.name}"
    not_passed = [
        outcomes[rule] for rule in CONFORMING[build] if outcomes[rule].outcome != "passed"
    ]
    assert not not_passed, (
        f"expected {build.name} to pass {len(CONFORMING[build])} rules (each covered rule passes "
        "for one conforming build); these did not:\n" + describe(not_passed)
    )


@pytest.mark.parametrize("rule", COVERED, ids=lambda rule: rule.id)
def test_variant_violates_exactly_its_rule(builds: Builds, rule: Rule) -> None:
    build = variant(rule)
    result = builds.check(build, judged_with(rule))
    by_id = {check.id: check for check in result.checks}
    own = by_id.get(rule.id)
    assert own is not None, (
        f"expected a check result for {rule.id} from {build.name}.dll; got results for {sorted(by_id)}"
    )
    assert own.outcome == "failed" and own.message, (
        f"expected {rule.id} to fail with a message for {build.name}.dll; instead:\n"
        + describe([own])
    )
    others = [c for c in result.checks if c.id != rule.id and c.outcome in BAD_OUTCOMES]
    assert not others, (
        f"expected only {rule.id} to fail for {build.name}.dll (-D{' -D'.join(build.defines)}); "
        f"{len(others)} other checks failed or errored too:\n" + describe(others)
    )
    expected_verdict = "non-compliant" if rule.level == "required" else "compliant"
    assert result.verdict == expected_verdict, (
        f"expected verdict {expected_verdict!r} for {build.name}.dll, whose only failure is the "
        f"{rule.level} rule {rule.id}; got {result.verdict!r} ({result.counts()})"
    )
