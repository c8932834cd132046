"""The contract in the repository (issue 19): docs/rules.md is the catalogue as generated,
every contract id a rule cites is defined in docs/contract.md, and every link the page
makes lands on a heading, so that an id in a report can be looked up."""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
from pathlib import Path

import pytest

from conformance.rules import contract_index
from conformance.suite.catalogue import catalogue
from conformance.suite.docs import (
    CONTRACT_PATH,
    CONTRACT_PREFIXES,
    REGENERATE,
    anchor,
    headings,
    read_contract,
    render,
    slug,
)

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
LINK = re.compile(r"\]\(([^)\s]*)\)")


def _sections(page: str) -> dict[str, str]:
    """Each ``### `` section of the page by its heading."""
    parts = re.split(r"^### (.+)$", page, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_checked_in_page_is_the_generated_one() -> None:
    page = DOCS / "rules.md"
    assert page.is_file(), f"docs/rules.md is missing: run `{REGENERATE}`"
    generated = render()
    checked_in = page.read_text("utf-8")
    diff = "".join(
        list(
            difflib.unified_diff(
                checked_in.splitlines(True), generated.splitlines(True), "docs/rules.md", "render()"
            )
        )[:40]
    )
    assert checked_in == generated, (
        f"docs/rules.md is not what the catalogue generates; run `{REGENERATE}` from the "
        f"repository's root and commit the result:\n{diff}"
    )


def test_every_cited_contract_id_is_defined_in_docs_contract_md() -> None:
    defined = read_contract(CONTRACT_PATH.read_text("utf-8")).ids
    unknown = {r.id: [c for c in r.contract if c not in defined] for r in catalogue()}
    unknown = {rule: ids for rule, ids in unknown.items() if ids}
    assert not unknown, f"rules cite ids that docs/contract.md does not define: {unknown}"
    assert all(r.contract for r in catalogue()), "every rule cites at least one contract id"


def test_contract_index_is_the_index_of_docs_contract_md() -> None:
    """conformance/rules/contract_index.json (what reports use) and the contract a reader
    finds in docs/ are the same document."""
    spec = importlib.util.spec_from_file_location(
        "contract_index", REPO / "tools/contract_index.py"
    )
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    expected = tool.index(CONTRACT_PATH.read_text("utf-8"))
    assert json.loads(json.dumps(expected)) == contract_index(), (
        "contract_index.json differs from docs/contract.md: run "
        "`python3 tools/contract_index.py docs/contract.md conformance/rules/contract_index.json`"
    )
    assert set(read_contract(CONTRACT_PATH.read_text("utf-8")).ids) == set(contract_index())


def test_every_rule_has_a_linkable_anchor_with_its_facts() -> None:
    page = (DOCS / "rules.md").read_text("utf-8")
    anchors = list(headings(page).values())
    repeated = sorted({a for a in anchors if anchors.count(a) > 1})
    assert not repeated, f"headings that share an anchor: {repeated}"
    sections = _sections(page)
    for rule in catalogue():
        assert anchor(rule.id) in anchors, f"no heading with the anchor of {rule.id}"
        assert f"](#{anchor(rule.id)})" in page, f"the contents do not link to {rule.id}"
        text = sections[rule.id]
        for fact in (f"**Level:** {rule.level}", f"**Scripts:** {rule.script_class}", rule.doc_url):
            assert fact in text, f"{rule.id}'s section lacks {fact!r}"
        assert all(f"[{cid}](contract.md#" in text for cid in rule.contract), rule.id
        assert ("**Policy:**" in text) == (rule.policy is not None), rule.id
    compiled_only = sections["FunctionTable.table-size"]
    assert "**Applies to:** compiled DLLs\n" in compiled_only, compiled_only


@pytest.mark.parametrize("name", ["rules.md", "contract.md", "design.md"])
def test_links_between_the_pages_land(name: str) -> None:
    page = (DOCS / name).read_text("utf-8")
    targets = {
        n: set(headings((DOCS / n).read_text("utf-8")).values())
        for n in ("rules.md", "contract.md", "design.md")
    }
    broken = []
    for target in LINK.findall(page):
        if target.startswith(("http://", "https://")):
            continue
        file, _, fragment = target.partition("#")
        file = file or name
        if file not in targets or (fragment and fragment not in targets[file]):
            broken.append(target)
    assert not broken, f"links of docs/{name} that land nowhere: {broken}"


def test_slug_is_githubs() -> None:
    """Values GitHub gives these headings of docs/contract.md and docs/rules.md."""
    assert slug("3. Online / Offline, pending operations, status reporting, states") == (
        "3-online--offline-pending-operations-status-reporting-states"
    )
    assert slug("6.3 Resource control codes relevant to a resource DLL (`ResourceControl`)") == (
        "63-resource-control-codes-relevant-to-a-resource-dll-resourcecontrol"
    )
    assert slug("Appendix A — Numeric quick reference for the harness") == (
        "appendix-a--numeric-quick-reference-for-the-harness"
    )
    assert anchor("SetResourceStatus.only-when-pending") == "setresourcestatusonly-when-pending"


def test_prefixes_are_the_contracts() -> None:
    """The prefixes `rescheck rules` spells out are those of docs/contract.md §0.3, and cover
    every id it defines."""
    text = CONTRACT_PATH.read_text("utf-8")
    listed = text.split("### 0.3 Rule ID prefixes", 1)[1].split("\n---", 1)[0]
    stated = dict(re.findall(r"`([A-Z0-9]{2})` ([^,.]+(?:\+ entry points)?)", listed))
    assert stated, "no prefixes found in docs/contract.md §0.3"
    assert {p: CONTRACT_PREFIXES[p] for p in stated} == stated
    used = {cid.split("-")[0] for cid in read_contract(text).ids}
    assert used <= set(CONTRACT_PREFIXES), sorted(used - set(CONTRACT_PREFIXES))
