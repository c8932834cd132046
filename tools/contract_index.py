"""Generate conformance/rules/contract_index.json from ../shared/contract/CONTRACT.md."""
import json, re, sys
text = open(sys.argv[1]).read().splitlines()
out = {}
header = None
for line in text:
    if not line.startswith("|"):
        header = None if not line.strip() else header
        continue
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if cells and cells[0] in ("ID",):
        header = cells
        continue
    if header is None or set(cells[0]) <= set("-: "):
        continue
    m = re.fullmatch(r"([A-Z]{2}|V2)-\d+", cells[0])
    if not m:
        continue
    row = dict(zip(header, cells))
    qual = row.get("Qualification") or row.get("DLL support (qualification, as documented)") or ""
    if not qual and "Rule / behaviour" in row:
        qual = ""
    src = row.get("Source", "")
    statement = row.get("Rule") or row.get("Rule (paraphrase)") or row.get("Rule / behaviour") or row.get("Meaning") or row.get("Pair / rule") or row.get("Signature / behaviour") or row.get("Code") or ""
    out[cells[0]] = {"qualification": qual, "source": src, "summary": statement[:240]}
json.dump(out, open(sys.argv[2], "w"), indent=1, sort_keys=True)
print(len(out))
