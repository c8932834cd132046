"""The results of a run, in the pinned ``results.json`` schema (docs/design.md).

Checks are appended to ``results.jsonl`` as they are decided (one flushed line each), so a
run that is killed keeps everything it decided; ``results.json``, ``junit.xml`` and
``report.html`` are rendered from those lines.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance.errors import UsageError
from conformance.rules import LEVELS, RECOMMENDED, REQUIRED, Rule, not_exercised

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
    #: How the rule stands to a control script: contract, world or n/a (issue 18).
    script_class: str = "contract"
    evidence: list[str] = field(default_factory=list)
    duration: float = 0.0
    #: A history slice to draw as a per-node timeline: {node, op, start_ms, end_ms, result}.
    timeline: list[dict[str, Any]] = field(default_factory=list)
    #: Files the check wrote beside the reports (a reproducer, a trace), by name: the HTML
    #: report links to those that are there.
    artifacts: list[str] = field(default_factory=list)

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
            script_class=rule.script_class,
            **extra,
        )

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        if not out["timeline"]:
            del out["timeline"]  # only quorum violations have one
        if not out["artifacts"]:
            del out["artifacts"]  # only campaigns write files of a check
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def verdict(
    checks: list[CheckResult], strict: bool = False, complete: bool = True, errors: int = 0
) -> str:
    """non-compliant if a required check failed (recommended too with ``strict``); error if
    the harness could not judge a check, the run was cut short, or it had ``errors`` of its
    own; compliant otherwise."""
    fatal = {REQUIRED, RECOMMENDED} if strict else {REQUIRED}
    if any(c.outcome == FAILED and c.level in fatal for c in checks):
        return NON_COMPLIANT
    if not complete or errors or any(c.outcome == ERROR for c in checks):
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
    #: What went wrong with the run as a whole, not with one rule (a campaign that ran no
    #: example, a schedule rescheck could not play): reported as such, never under a rule.
    errors: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return verdict(self.checks, self.strict, self.complete, len(self.errors))

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
            "errors": self.errors,
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


#: ``info`` key of a run read back from a log with lines that could not be used: "line N: why",
#: the first SHOWN_UNREADABLE of them, then how many more.
UNREADABLE = "unreadable_lines"
SHOWN_UNREADABLE = 20


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _timeline(value: Any) -> bool:
    """What `report.html` draws: one kind of node name, numbers on the time axis."""
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        return False
    nodes = {type(e.get("node")) for e in value}
    return (nodes <= {str} or nodes <= {int}) and all(
        isinstance(e.get("op"), str)
        and _number(e.get("start_ms"))
        and (e.get("end_ms") is None or _number(e.get("end_ms")))
        and isinstance(e.get("result"), (str, int, type(None)))
        for e in value
    )


#: A check line's fields: what a valid value is, and whether the field must be there.
_CHECK_FIELDS: dict[str, tuple[Callable[[Any], bool], bool]] = {
    "id": (lambda v: isinstance(v, str), True),
    "level": (lambda v: v in LEVELS, True),
    "entry_points": (_strings, True),
    "outcome": (lambda v: v in OUTCOMES, True),
    "message": (lambda v: isinstance(v, str), True),
    "doc": (lambda v: isinstance(v, str), True),
    "contract": (_strings, True),
    "statement": (lambda v: isinstance(v, str), False),
    "doc_url": (lambda v: isinstance(v, str), False),
    "policy": (lambda v: v is None or isinstance(v, str), False),
    "evidence": (_strings, False),
    "duration": (_number, False),
    "timeline": (_timeline, False),
    "artifacts": (_strings, False),
}


def _transitions(value: Any) -> bool:
    """A fuzz campaign's transition counts, as `report.html` tabulates them."""
    return isinstance(value, list) and all(
        isinstance(t, dict)
        and all(isinstance(t.get(k), str) for k in ("from", "step", "to"))
        and isinstance(t.get("count"), int)
        for t in value
    )


def _problem(record: Any) -> str | None:
    """Why a parsed line of the log cannot be used, or None."""
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not an object"
    kind = record.get("type")
    if kind == "check":
        for name, (valid, required) in _CHECK_FIELDS.items():
            if name not in record:
                if required:
                    return f"a check without {name!r}"
            elif not valid(record[name]):
                return f"a check whose {name!r} is {str(record[name])[:60]!r}"
        return None
    if kind == "run":
        for name in ("target", "resource_type"):
            if not isinstance(record.get(name), str):
                return f"a run header whose {name!r} is not a string"
        if not isinstance(record.get("strict", False), bool):
            return "a run header whose 'strict' is not true or false"
    if kind in ("run", "end"):
        info = record.get("info", {}) if kind == "run" else record
        if not isinstance(info, dict):
            return f"a {kind} line whose 'info' is not an object"
        if "transitions" in info and not _transitions(info["transitions"]):
            return f"a {kind} line whose 'transitions' are malformed"
        return None
    return f"a record of unknown type {str(kind)[:40]!r}"


def read_log(directory: Path) -> RunResult:
    """Rebuild a run from ``results.jsonl``; a log without its end line is ``complete=False``.

    A line that cannot be used (cut short by a kill, not UTF-8, not a record of the log) is
    skipped and listed in ``info["unreadable_lines"]``, and the run is then incomplete: what
    the line held is not known. A log with nothing usable is a `UsageError`."""
    path = directory / ResultsLog.NAME
    header: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    checks: list[CheckResult] = []
    skipped: list[str] = []
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            skipped.append(f"line {number}: not UTF-8 text")
            continue
        except RecursionError:
            skipped.append(f"line {number}: JSON nested too deeply to read")
            continue
        except ValueError:
            skipped.append(f"line {number}: not a JSON value (a line cut short by a kill?)")
            continue
        problem = _problem(record)
        if problem is not None:
            skipped.append(f"line {number}: {problem}")
            continue
        kind = record.pop("type")
        if kind == "run":
            header = record
        elif kind == "check":
            checks.append(CheckResult.from_json(record))
        else:
            end = record
    if header is None and not checks:
        shown = "; ".join(skipped[:3]) or "it is empty"
        raise UsageError(
            f"{path} holds no run header and no check ({shown}); give the --report-dir of a "
            "`rescheck run`"
        )
    header = header or {}
    info = dict(header.get("info", {}))
    if end:
        info.update(end)
    info.pop(UNREADABLE, None)  # only what this reading skipped
    if skipped:
        more = len(skipped) - SHOWN_UNREADABLE
        info[UNREADABLE] = skipped[:SHOWN_UNREADABLE] + ([f"and {more} more"] if more > 0 else [])
    return RunResult(
        target=header.get("target", "?"),
        resource_type=header.get("resource_type", "?"),
        checks=checks,
        strict=bool(header.get("strict", False)),
        complete=end is not None and not skipped,
        info=info,
    )
