"""The rule catalogue as documentation: the page ``docs/rules.md`` and the words that explain
what `rescheck rules` prints.

The page is generated, so that it cannot drift from the catalogue: it is checked in, a test
compares it with :func:`render`, and ``python -m conformance.suite.docs > docs/rules.md``
writes it again. Contract ids link to their section of ``docs/contract.md``, which the
generator reads from the checkout (an installed package has no ``docs/``; only the page's
generation needs it).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from conformance.rules import (
    _S,
    _W,
    CATEGORIES,
    CONTRACT,
    NOT_FOR_SCRIPTS,
    OPTIONAL,
    RECOMMENDED,
    REQUIRED,
    WORLD,
    Rule,
    contract_index,
    doc_url,
    observability,
)
from conformance.suite.catalogue import applies, catalogue, coverage

#: The contract catalogue in a checkout: the generator's input.
CONTRACT_PATH = Path(__file__).resolve().parents[2] / "docs" / "contract.md"
#: How the page is made again (said on the page and by the test that finds it stale).
REGENERATE = "python -m conformance.suite.docs > docs/rules.md"
#: Joins words that wrapping must not part (textwrap breaks only at ASCII whitespace).
NBSP = "\xa0"
CONTRACT_ID = re.compile(r"\b(?:[A-Z]{2}|V2)-\d+\b")

#: The contract's id prefixes (its §0.3, plus CH, which §6.5 uses and §0.3 does not list).
CONTRACT_PREFIXES = {
    "ST": "Startup",
    "FT": "function tables",
    "DM": "DllMain",
    "DS": "data definitions",
    "OP": "Open",
    "ID": "instance data",
    "CL": "Close",
    "CP": "checkpoints",
    "ON": "Online",
    "OF": "Offline",
    "PO": "pending operations",
    "RS": "RESOURCE_STATUS/SetResourceStatus",
    "WK": "worker threads",
    "TE": "Terminate",
    "LA": "LooksAlive",
    "IA": "IsAlive",
    "AF": "asynchronous failure detection",
    "FP": "failure and restart policy",
    "RC": "ResourceControl",
    "RT": "ResourceTypeControl",
    "CC": "control-code catalogue",
    "PL": "property and value lists",
    "AR": "Arbitrate/quorum",
    "RL": "Release",
    "GS": "Generic Script",
    "RM": "Resource Monitor/RHS",
    "CX": "concurrency",
    "LG": "logging",
    "V2": "Resource API v2+ entry points",
    "CH": "characteristics, flags, class info",
}

LEVEL_MEANINGS = {
    REQUIRED: "without it the type 'will not function' (the docs' definition); a failure makes "
    "the run non-compliant",
    RECOMMENDED: "not strictly required; a failure is a warning, and makes the run "
    "non-compliant with --strict",
    OPTIONAL: "a matter of preference (the docs' definition); a failure is always a warning",
}
SCRIPT_CLASS_MEANINGS = {
    CONTRACT: "holds in any world",
    WORLD: "depends on the world the script meets, and is judged only in a world its companion "
    "declares (or where the script asked rescheck's stand-ins nothing)",
    NOT_FOR_SCRIPTS: "does not apply to control scripts",
}

#: The kinds of target, as the catalogue tells them apart (`conformance.suite.catalogue.applies`).
_KINDS = (
    ("Python DLLs", {"script": None, "dll": None}),
    ("compiled DLLs", {"script": None, "dll": object()}),
    ("control scripts", {"script": object(), "dll": None}),
)


def applies_to(rule: Rule, short: bool = False) -> str:
    """The targets ``rule`` judges, asked of the catalogue itself so that the words follow it;
    ``short`` is empty for every target and ends in 'only' otherwise (a terminal column)."""

    def judged(kind: dict[str, object], quorum: bool) -> bool:
        target: Any = SimpleNamespace(**kind, quorum_capable=quorum)  # what applies() reads
        return applies(rule, target)

    kinds = [name for name, kind in _KINDS if judged(kind, True) or judged(kind, False)]
    quorum_only = not any(judged(kind, False) for name, kind in _KINDS if name in kinds)
    if short and len(kinds) == len(_KINDS) and not quorum_only:
        return ""
    if short and kinds == ["Python DLLs", "compiled DLLs"]:
        kinds = ["DLLs"]
    words = ", ".join(kinds[:-1]) + " and " + kinds[-1] if len(kinds) > 1 else kinds[0]
    words = f"quorum-capable {words}" if quorum_only else words
    return f"{words} only" if short else words


def prefix_words(ids: set[str], space: str = " ") -> str:
    """The prefixes of ``ids`` spelt out, in the contract's order (``ST Startup, ...``); a
    terminal's text gives ``space="\\xa0"``, so that wrapping keeps each on one line."""
    order = list(CONTRACT_PREFIXES)
    prefixes = sorted(
        sorted({cid.split("-")[0] for cid in ids}),
        key=lambda p: order.index(p) if p in order else len(order),
    )
    words = (f"{p} {CONTRACT_PREFIXES.get(p, '(see docs/contract.md)')}" for p in prefixes)
    return ", ".join(w.replace(" ", space) for w in words)


def legend(ids: set[str]) -> list[tuple[str, str]]:
    """What each column of `rescheck rules` means, the abbreviations included; ``ids`` are the
    contract ids shown, whose prefixes are spelt out (joined by NBSP: replace it after
    wrapping)."""
    return [
        ("level", "; ".join(f"{level}: {meaning}" for level, meaning in LEVEL_MEANINGS.items())),
        (
            "scripts",
            "how a rule stands to a control script: "
            + "; ".join(f"'{cls}' {meaning}" for cls, meaning in SCRIPT_CLASS_MEANINGS.items()),
        ),
        (
            "applies to",
            "the targets a rule judges; blank: every kind (Python DLLs, compiled "
            "DLLs and control scripts)",
        ),
        (
            "contract",
            "the ids of docs/contract.md (the contract catalogue) the rule covers; prefixes: "
            + prefix_words(ids, NBSP),
        ),
        (
            "documentation",
            f"W:<page> is {doc_url('W:<page>')}; S:<page> is "
            f"{_S.format(header='<header>', page='<page>')}, the header being the page name's "
            "second part (nc-resapi-... is in resapi)",
        ),
        (
            "more",
            "each rule's policy (where the pages conflict or give no level) is in "
            "docs/rules.md and in --format json",
        ),
    ]


def reason(cid: str) -> str:
    """Why no rule checks contract id ``cid``: its reason in observability.json, else what
    the contract says of it."""
    known = observability().get(cid)
    if known is not None:
        return known["reason"]
    info = contract_index()[cid]
    return f"{info['qualification']}: {info['summary']}".replace("**", "").replace("`", "")


# --- the page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Contract:
    """docs/contract.md as the page needs it: its areas (§1, §2, ...) and where each id is."""

    areas: dict[int, tuple[str, str]]  # number -> (title, anchor)
    ids: dict[str, tuple[int, str]]  # id -> (area number, anchor of its subsection)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading (lower case, punctuation dropped, spaces made ``-``;
    a repeated one gets ``-1``, ``-2``, which :func:`headings` adds)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(markdown: str) -> dict[int, str]:
    """The anchor of each heading of a page, by line index, as GitHub makes them (fenced
    code left out)."""
    seen: dict[str, int] = {}
    out: dict[int, str] = {}
    fenced = False
    for index, line in enumerate(markdown.splitlines()):
        if line.startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else re.match(r"#{1,6} (.+)", line)
        if match:
            base = slug(re.sub(r"\[([^]]*)\]\([^)]*\)", r"\1", match.group(1)))
            out[index] = base if base not in seen else f"{base}-{seen[base]}"
            seen[base] = seen.get(base, 0) + 1
    return out


def anchor(rule_id: str) -> str:
    """The anchor of a rule on docs/rules.md (its heading is its id)."""
    return slug(rule_id)


def read_contract(text: str) -> Contract:
    """Where each id of the contract's rule tables is: the row whose first cell is the id."""
    anchors = headings(text)
    areas: dict[int, tuple[str, str]] = {}
    ids: dict[str, tuple[int, str]] = {}
    area, where = 0, ""
    for index, line in enumerate(text.splitlines()):
        if index in anchors:
            where = anchors[index]
            numbered = re.match(r"## (\d+)\. (.+)", line)
            if numbered:
                area = int(numbered.group(1))
                areas[area] = (numbered.group(2).strip(), where)
        elif line.startswith("|"):
            first = line.strip("| \n").split("|")[0].strip()
            if CONTRACT_ID.fullmatch(first):
                ids[first] = (area, where)
    return Contract(areas, ids)


def _escape(text: str) -> str:
    """Plain text made safe for markdown (tables included)."""
    text = re.sub(r"([\\`*\[\]|])", r"\\\1", text).replace("<", "&lt;")
    return re.sub(r"(?<!\w)_|_(?!\w)", r"\_", text)


def _linker(contract: Contract) -> re.Pattern[str]:
    rule_ids = "|".join(re.escape(r.id) for r in sorted(catalogue(), key=lambda r: -len(r.id)))
    return re.compile(
        rf"(?P<rule>(?<![\w.-])(?:{rule_ids})(?![\w-]))"
        rf"|(?P<page>\b[WS]:[a-z][\w-]*\w)"
        rf"|(?P<contract>docs/contract\.md(?: §(?P<area>\d+))?)"
        rf"|(?P<cid>{CONTRACT_ID.pattern})"
    )


def _inline(text: str, contract: Contract) -> str:
    """``text`` escaped, with the rule ids, pages, contract ids and contract sections it names
    made links."""

    def link(match: re.Match[str]) -> str:
        found = match.group(0)
        if match.group("rule"):
            return f"[{found}](#{anchor(found)})"
        if match.group("page"):
            return f"[{found}]({doc_url(found)})"
        if match.group("contract"):
            area = match.group("area") and contract.areas.get(int(match.group("area")))
            return f"[{found}](contract.md{'#' + area[1] if area else ''})"
        return _contract_link(found, contract) if found in contract.ids else found

    return _linker(contract).sub(link, _escape(text))


def _contract_link(cid: str, contract: Contract) -> str:
    return f"[{cid}](contract.md#{contract.ids[cid][1]})"


def _area(rule: Rule, contract: Contract) -> int:
    """A rule's area: that of the first contract id it cites."""
    return contract.ids[rule.contract[0]][0]


def _rule(rule: Rule, contract: Contract) -> list[str]:
    facts = [
        ("Level", rule.level),
        ("Scripts", rule.script_class),
        ("Applies to", applies_to(rule)),
        ("Entry points", ", ".join(rule.entry_points)),
        ("Documentation", f"[{rule.doc}]({rule.doc_url})"),
        ("Contract", ", ".join(_contract_link(cid, contract) for cid in rule.contract)),
    ]
    if rule.policy:
        facts.append(("Policy", _inline(rule.policy, contract)))
    return [
        f"### {rule.id}",
        "",
        _inline(rule.statement, contract),
        "",
        *(f"- **{name}:** {value}" for name, value in facts),
        "",
    ]


def _not_checked(contract: Contract) -> list[str]:
    titles = {**CATEGORIES, "unclassified": "not classified yet"}
    out = [
        "## Contract ids no rule checks",
        "",
        "The documented rules of [contract.md](contract.md) that no rule above cites, by why "
        "(`rescheck rules --coverage` prints the same; a run's report lists those it did not "
        "exercise). Reference data and examples are left out.",
        "",
    ]
    for category, ids in coverage().items():
        if category == "checked":
            continue
        title = titles.get(category, category)
        out += [f"### {title[0].upper()}{title[1:]} ({len(ids)})", ""]
        out += ["| id | why |", "|---|---|"]
        out += [
            f"| {_contract_link(cid, contract)} | {_inline(reason(cid), contract)} |" for cid in ids
        ]
        out.append("")
    return out


def render(contract_text: str | None = None) -> str:
    """docs/rules.md: every rule with all the catalogue holds of it, by contract area."""
    if contract_text is None:
        contract_text = CONTRACT_PATH.read_text("utf-8")
    contract = read_contract(contract_text)
    rules = catalogue()
    by_area: dict[int, list[Rule]] = {}
    for rule in rules:
        by_area.setdefault(_area(rule, contract), []).append(rule)
    cited = {cid for rule in rules for cid in rule.contract}
    out = [
        "# rescheck's rules",
        "",
        f"<!-- Generated from conformance/suite/checks/ by `{REGENERATE}`: do not edit. -->",
        "",
        f"Every check rescheck makes is one of these {len(rules)} rules. Each is tied to a page "
        "of Microsoft's documentation and cites the ids of the contract catalogue, "
        "[contract.md](contract.md), that it covers; the design is in [design.md](design.md). "
        "`rescheck rules` prints the same catalogue, `rescheck rules --format json` as JSON. "
        "A rule is listed under the contract area of the first id it cites.",
        "",
        "- **Level:** the documentation's own. "
        + "; ".join(f"*{level}*: {meaning}" for level, meaning in LEVEL_MEANINGS.items())
        + ".",
        "- **Scripts:** how a rule stands to a control script. "
        + "; ".join(f"*{cls}*: {meaning}" for cls, meaning in SCRIPT_CLASS_MEANINGS.items())
        + ".",
        "- **Applies to:** the kinds of target the rule judges.",
        f"- **Documentation:** `W:<page>` is `{_W}<page>`; `S:<page>` is "
        f"`{_S.format(header='<header>', page='<page>')}`, the header being the page name's "
        "second part.",
        f"- **Contract:** ids of [contract.md](contract.md); prefixes: {prefix_words(cited)}.",
        "- **Policy:** where the pages conflict or give no level, what rescheck chose; reports "
        "show it next to the rule.",
        "",
        "## Contents",
        "",
    ]
    for number in sorted(by_area):
        title, _ = contract.areas[number]
        links = ", ".join(f"[{r.id}](#{anchor(r.id)})" for r in by_area[number])
        out.append(f"- [{number}. {title}](#{slug(f'{number}. {title}')}): {links}")
    out += ["- [Contract ids no rule checks](#contract-ids-no-rule-checks)", ""]
    for number in sorted(by_area):
        title, where = contract.areas[number]
        out += [f"## {number}. {title}", "", f"Contract: [§{number}](contract.md#{where}).", ""]
        for rule in by_area[number]:
            out += _rule(rule, contract)
    out += _not_checked(contract)
    return "\n".join(out).rstrip("\n") + "\n"


def main() -> int:
    """``python -m conformance.suite.docs``: the page on stdout."""
    if not CONTRACT_PATH.is_file():
        print(f"no {CONTRACT_PATH}: generate the page from a checkout", file=sys.stderr)
        return 2
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
