"""Regenerate conformance/rules/contract_index.json from CONTRACT.md's rule tables.

Usage: python3 tools/contract_index.py ../shared/contract/CONTRACT.md \
           conformance/rules/contract_index.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

RULE_ID = re.compile(r"(?:[A-Z]{2}|V2)-\d+")
#: The column that holds the rule's wording, by the names CONTRACT.md's tables use.
STATEMENT_COLUMNS = (
    "Rule",
    "Rule (paraphrase)",
    "Rule / behaviour",
    "Meaning",
    "Pair / rule",
    "Signature / behaviour",
    "Code",
)
QUALIFICATION_COLUMNS = ("Qualification", "DLL support (qualification, as documented)")


def index(markdown: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    header: list[str] | None = None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            if line.strip():
                header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "ID":
            header = cells
            continue
        if header is None or not RULE_ID.fullmatch(cells[0]):
            continue
        row = dict(zip(header, cells, strict=False))
        statement = next((row[c] for c in STATEMENT_COLUMNS if row.get(c)), "")
        out[cells[0]] = {
            "qualification": next((row[c] for c in QUALIFICATION_COLUMNS if row.get(c)), ""),
            "source": row.get("Source", ""),
            "summary": statement[:240],
        }
    return out


def main() -> None:
    source, destination = Path(sys.argv[1]), Path(sys.argv[2])
    rules = index(source.read_text("utf-8"))
    destination.write_text(json.dumps(rules, indent=1, sort_keys=True) + "\n", "utf-8")
    print(f"{len(rules)} rule ids -> {destination}")


if __name__ == "__main__":
    main()
