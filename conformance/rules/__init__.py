"""The rule catalogue: every check rescheck makes, tied to the documentation.

Each rule has an id, a level in the documentation's own words (required, recommended,
optional), the entry points it concerns, one sentence of statement, the page it comes from,
and the CONTRACT.md ids it covers. Where the docs contradict each other the rule names the
policy rescheck chose (``policy``), and reports show it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

REQUIRED = "required"
RECOMMENDED = "recommended"
OPTIONAL = "optional"
LEVELS = (REQUIRED, RECOMMENDED, OPTIONAL)

_W = "https://learn.microsoft.com/previous-versions/windows/desktop/mscs/"
_S = "https://learn.microsoft.com/windows/win32/api/{header}/{page}"


def doc_url(page: str) -> str:
    """The public address of a page named as CONTRACT.md names it (``W:…`` or ``S:…``)."""
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
    """CONTRACT.md's rule ids with their qualification, source and a summary."""
    text = resources.files("conformance.rules").joinpath("contract_index.json").read_text("utf-8")
    return json.loads(text)


def catalogue() -> list[Rule]:
    from conformance.rules.definitions import RULES

    return list(RULES)


def rule(rule_id: str) -> Rule:
    for candidate in catalogue():
        if candidate.id == rule_id:
            return candidate
    raise KeyError(rule_id)


#: Qualifications that are reference data or examples, not rules a DLL or the RM must keep.
_NOT_RULES = ("Ref", "Sample", "Pattern", "Example", "Hdr", "Doc ", "Procedure")


def _is_rule(qualification: str) -> bool:
    if any(word in qualification for word in ("Required", "Recommended", "Optional", "DB")):
        return True
    return not qualification.startswith(_NOT_RULES)


def not_exercised(covered: set[str]) -> list[dict[str, str]]:
    """Documented rules (levels and documented behaviour, not reference data or examples)
    that no check of this run covered."""
    out = []
    for cid, info in sorted(contract_index().items(), key=lambda kv: _natural(kv[0])):
        if cid in covered or not _is_rule(info["qualification"]):
            continue
        out.append({"id": cid, **info})
    return out


def _natural(cid: str) -> tuple[str, int]:
    prefix, _, number = cid.partition("-")
    return prefix, int(number) if number.isdigit() else 0
