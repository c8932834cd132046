"""The results of a run, in the pinned ``results.json`` schema (DESIGN.md).

Checks are appended to ``results.jsonl`` as they are decided (one flushed line each), so a
run that is killed keeps everything it decided; ``results.json``, ``junit.xml`` and
``report.html`` are rendered from those lines.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance.rules import RECOMMENDED, REQUIRED, Rule, not_exercised

SCHEMA = 1
PASSED, FAILED, SKIPPED, ERROR = "passed", "failed", "skipped", "error"
OUTCOMES = (PASSED, FAILED, SKIPPED, ERROR)
COMPLIANT, NON_COMPLIANT, VERDICT_ERROR = "compliant", "non-compliant", "error"


@dataclass
class CheckResult:
    id: str
    level: str
    entry_points: list[str]
    outcome: str
    message: str
    doc: str
    contract: list[str]
    statement: str = ""
    doc_url: str = ""
    policy: str | None = None
    evidence: list[str] = field(default_factory=list)
    duration: float = 0.0
    #: A history slice to draw as a per-node timeline: {node, op, start_ms, end_ms, result}.
    timeline: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def for_rule(cls, rule: Rule, outcome: str, message: str, **extra: Any) -> CheckResult:
        return cls(
            id=rule.id,
            level=rule.level,
            entry_points=list(rule.entry_points),
            outcome=outcome,
            message=message,
            doc=rule.doc,
            contract=list(rule.contract),
            statement=rule.statement,
            doc_url=rule.doc_url,
            policy=rule.policy,
            **extra,
        )

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        if not out["timeline"]:
            del out["timeline"]  # only quorum violations have one
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def verdict(checks: list[CheckResult], strict: bool = False, complete: bool = True) -> str:
    """non-compliant if a required check failed (recommended too with ``strict``); error if
    the harness could not judge a check or the run was cut short; compliant otherwise."""
    fatal = {REQUIRED, RECOMMENDED} if strict else {REQUIRED}
    if any(c.outcome == FAILED and c.level in fatal for c in checks):
        return NON_COMPLIANT
    if not complete or any(c.outcome == ERROR for c in checks):
        return VERDICT_ERROR
    return COMPLIANT


@dataclass
class RunResult:
    target: str
    resource_type: str
    checks: list[CheckResult] = field(default_factory=list)
    strict: bool = False
    complete: bool = True
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return verdict(self.checks, self.strict, self.complete)

    def counts(self) -> dict[str, int]:
        return {o: sum(1 for c in self.checks if c.outcome == o) for o in OUTCOMES}

    def warnings(self) -> list[CheckResult]:
        """Failed checks that do not decide the verdict (none with ``strict`` for recommended)."""
        fatal = {REQUIRED, RECOMMENDED} if self.strict else {REQUIRED}
        return [c for c in self.checks if c.outcome == FAILED and c.level not in fatal]

    def not_exercised(self) -> list[dict[str, str]]:
        covered = {cid for c in self.checks if c.outcome in (PASSED, FAILED) for cid in c.contract}
        return not_exercised(covered)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "target": self.target,
            "resource_type": self.resource_type,
            "verdict": self.verdict,
            "strict": self.strict,
            "complete": self.complete,
            "counts": self.counts(),
            "info": self.info,
            "checks": [c.to_json() for c in self.checks],
            "not_exercised": self.not_exercised(),
        }


class ResultsLog:
    """``results.jsonl``: a header line, then one line per decided check, flushed at once."""

    NAME = "results.jsonl"

    def __init__(self, directory: Path, header: dict[str, Any]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / self.NAME
        self._file = self.path.open("w", encoding="utf-8")
        self._write({"type": "run", **header})

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, default=str) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def check(self, result: CheckResult) -> None:
        self._write({"type": "check", **result.to_json()})

    def finish(self, info: dict[str, Any]) -> None:
        self._write({"type": "end", **info})
        self._file.close()


def read_log(directory: Path) -> RunResult:
    """Rebuild a run from ``results.jsonl``; a log without its end line is ``complete=False``."""
    path = directory / ResultsLog.NAME
    header: dict[str, Any] = {}
    end: dict[str, Any] | None = None
    checks: list[CheckResult] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
        kind = record.pop("type", None)
        if kind == "run":
            header = record
        elif kind == "check":
            checks.append(CheckResult.from_json(record))
        elif kind == "end":
            end = record
    info = dict(header.get("info", {}))
    if end:
        info.update(end)
    return RunResult(
        target=header.get("target", "?"),
        resource_type=header.get("resource_type", "?"),
        checks=checks,
        strict=bool(header.get("strict", False)),
        complete=end is not None,
        info=info,
    )
