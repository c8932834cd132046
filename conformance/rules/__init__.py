"""What a rule is, and the documented contract it is tied to.

Each rule has an id, a level in the documentation's own words (required, recommended,
optional), the entry points it concerns, one sentence of statement, the page it comes from,
and the docs/contract.md ids it covers. Where the docs contradict each other the rule names the
policy rescheck chose (``policy``), and reports show it. Each rule is declared beside its
check; `conformance.suite.catalogue` is the catalogue of them all.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

#: How a rule stands to a control script (issue 18): it holds in any world (``contract``), its
#: verdict depends on the world the script meets (``world``: judged only in a world the
#: companion declares), or it does not apply to scripts.
CONTRACT, WORLD, NOT_FOR_SCRIPTS = "contract", "world", "n/a"
SCRIPT_CLASSES = (CONTRACT, WORLD, NOT_FOR_SCRIPTS)

REQUIRED = "required"
RECOMMENDED = "recommended"
OPTIONAL = "optional"
LEVELS = (REQUIRED, RECOMMENDED, OPTIONAL)

_W = "https://learn.microsoft.com/previous-versions/windows/desktop/mscs/"
_S = "https://learn.microsoft.com/windows/win32/api/{header}/{page}"


@cache  # read for every check result: the fuzzer judges after each step
def doc_url(page: str) -> str:
    """The public address of a page named as docs/contract.md names it (``W:…`` or ``S:…``)."""
    kind, _, name = page.partition(":")
    if kind == "W":
        return _W + name
    if kind == "S":
        header = name.split("-")[1] if name.count("-") >= 2 else "resapi"
        return _S.format(header=header, page=name)
    return page


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    entry_points: tuple[str, ...]
    statement: str
    doc: str
    contract: tuple[str, ...]
    policy: str | None = None
    script_class: str = CONTRACT

    @property
    def doc_url(self) -> str:
        return doc_url(self.doc)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["entry_points"] = list(self.entry_points)
        out["contract"] = list(self.contract)
        out["doc_url"] = self.doc_url
        if self.policy is None:
            del out["policy"]
        return out


@cache
def contract_index() -> dict[str, dict[str, str]]:
    """docs/contract.md's rule ids with their qualification, source and a summary."""
    text = resources.files("conformance.rules").joinpath("contract_index.json").read_text("utf-8")
    return json.loads(text)


#: Qualifications that are reference data or examples, not rules a DLL or the RM must keep.
_NOT_RULES = ("Ref", "Sample", "Pattern", "Example", "Hdr", "Doc ", "Procedure")


def _is_rule(qualification: str) -> bool:
    if any(word in qualification for word in ("Required", "Recommended", "Optional", "DB")):
        return True
    return not qualification.startswith(_NOT_RULES)


#: How docs/contract.md §1–§5, §9, §10 rules relate to a check from outside (observability.json).
CATEGORIES = {
    "dll-observable": "not yet checked",
    "monitor-behaviour": "Resource Monitor behaviour: modelled by the reference monitor",
    "not-observable": "not observable from outside the DLL",
    "out-of-scope": "out of scope",
}


@cache
def observability() -> dict[str, dict[str, str]]:
    """For each rule of the DLL sections: its category and why (see CATEGORIES)."""
    text = resources.files("conformance.rules").joinpath("observability.json").read_text("utf-8")
    return json.loads(text)


def _why(cid: str) -> tuple[str, str]:
    known = observability().get(cid)
    if known is None:
        return "unclassified", "outside the resource-DLL sections classified so far"
    return known["category"], f"{CATEGORIES[known['category']]}: {known['reason']}"


def not_exercised(covered: set[str]) -> list[dict[str, str]]:
    """Documented rules (levels and documented behaviour, not reference data or examples)
    that no check of this run covered, each with why (not yet checked, not observable, ...)."""
    out = []
    for cid, info in sorted(contract_index().items(), key=lambda kv: _natural(kv[0])):
        if cid in covered or not _is_rule(info["qualification"]):
            continue
        category, why = _why(cid)
        out.append({"id": cid, **info, "category": category, "why": why})
    return out


def contract_coverage(cited: set[str]) -> dict[str, list[str]]:
    """docs/contract.md ids by how rules relate to them: ``checked`` (``cited`` by a rule),
    then the categories of observability.json for the rest, and ``unclassified``."""
    out: dict[str, list[str]] = {"checked": sorted(cited, key=_natural)}
    for cid, info in sorted(contract_index().items(), key=lambda kv: _natural(kv[0])):
        if cid in cited:
            continue
        if cid in observability():
            out.setdefault(observability()[cid]["category"], []).append(cid)
        elif _is_rule(info["qualification"]):
            out.setdefault("unclassified", []).append(cid)
    return out


def _natural(cid: str) -> tuple[str, int]:
    prefix, _, number = cid.partition("-")
    return prefix, int(number) if number.isdigit() else 0
