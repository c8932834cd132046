"""One compliance report of a whole campaign, from its records (`conformance.fuzz.ledger`):
every worker's figures added up, and for each rule broken the shortest sequence any worker
found, with who found it and when, who replayed it, and its reproducer. Written by the
command that ran the workers, and again by `rescheck report` from the database alone."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from conformance.errors import UsageError
from conformance.fuzz.database import DEFAULT_CAMPAIGN, open_database, resolved, shown
from conformance.fuzz.driver import TRACE_RULES
from conformance.fuzz.ledger import (
    FINISHED,
    REPLAYED,
    SHRUNK,
    Ledger,
    step_from_json,
    targets,
)
from conformance.fuzz.reproducer import write_files
from conformance.fuzz.stats import Tally
from conformance.report import write_reports
from conformance.report.model import FAILED, PASSED, SKIPPED, CheckResult, RunResult
from conformance.suite.catalogue import QUORUM_RULES, rule

#: The file that makes a report directory a campaign's: where its records are.
CAMPAIGN_FILE = "campaign.json"


@dataclass(frozen=True)
class Campaign:
    """Where a campaign's records are, and of which target: what `rescheck report` needs."""

    mode: str  # "fuzz" or "quorum"
    database: str  # a Redis URL or a directory
    name: str
    ledger: str  # the target's ledger name
    target: dict[str, Any]  # `conformance.fuzz.reproducer.about`
    strict: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "database": self.database,
            "campaign": self.name,
            "ledger": self.ledger,
            "target": self.target,
            "strict": self.strict,
        }

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CAMPAIGN_FILE).write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Campaign | None:
        """The campaign ``directory`` reports on, or None (a plain run's directory)."""
        path = directory / CAMPAIGN_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                str(data["mode"]),
                str(data["database"]),
                str(data["campaign"]),
                str(data["ledger"]),
                dict(data["target"]),
                bool(data.get("strict")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"{path} does not say which campaign this is ({type(exc).__name__}: {exc}); "
                "give --database and --campaign"
            ) from None

    @classmethod
    def named(cls, database: str | None, name: str | None, directory: Path) -> Campaign:
        """The campaign ``name`` in ``database`` (by default DIR's own directory database
        and campaign): the one target it holds records of, else a `UsageError`."""
        database = resolved(database, directory)
        name = name or DEFAULT_CAMPAIGN
        found = [
            cls(t.get("mode", "fuzz"), database, name, t["ledger"], t["target"])
            for t in targets(open_database(database, name))
            if isinstance(t.get("ledger"), str) and isinstance(t.get("target"), dict)
        ]
        if not found:
            raise UsageError(
                f"campaign {name!r} in {shown(database)} holds no records; give the "
                "--database and --campaign its workers used"
            )
        if len(found) > 1:
            listed = ", ".join(f"{c.target.get('given')} ({c.mode})" for c in found)
            raise UsageError(
                f"campaign {name!r} in {shown(database)} holds records of {len(found)} "
                f"targets ({listed}); give each target a campaign of its own"
            )
        return found[0]


def report(campaign: Campaign, directory: Path, session: set[str] | None = None) -> RunResult:
    """Merge the campaign's records into ``directory``'s reports (and reproducers). The
    findings and figures are every worker's; whether the run is complete, and its errors,
    are those of the ``session``'s workers (a command's own), or of every worker."""
    ledger = Ledger(open_database(campaign.database, campaign.name), campaign.ledger)
    merged = (fuzz_result if campaign.mode == "fuzz" else quorum_result)(
        ledger, campaign, directory, session
    )
    write_reports(merged, directory)
    return merged


def _common(
    ledger: Ledger, campaign: Campaign, session: set[str] | None
) -> tuple[RunResult, list[dict[str, Any]]]:
    """The merged run's frame: the workers, whether they finished, the campaign's info."""
    from conformance import __version__

    workers = sorted(ledger.workers().values(), key=lambda w: str(w.get("started")))
    judged = [w for w in workers if session is None or w.get("id") in session]
    result = RunResult(
        target=campaign.target["given"],
        resource_type=campaign.target["resource_type"],
        strict=campaign.strict,
        complete=bool(judged) and all(w.get("state") == FINISHED for w in judged),
    )
    result.info = {
        "rescheck_version": __version__,
        "mode": campaign.mode,
        "campaign": campaign.name,
        "database": shown(campaign.database),
        "target_sha256": campaign.target["sha256"],
        "workers": [_worker_row(w) for w in workers],
        "wall_time_s": max((w.get("elapsed_s", 0) for w in workers), default=0),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    for worker in judged:
        for error in worker.get("errors") or []:
            result.errors.append(f"worker {worker.get('id')}: {error}")
    if not workers:
        result.errors.append("no worker of this campaign has recorded anything yet")
    return result, workers


def _worker_row(worker: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "label", "seed", "state", "started", "updated", "elapsed_s")
    figures = ("examples", "steps", "played")
    return {k: worker.get(k) for k in (*keys, *figures) if k in worker}


def _who(record: dict[str, Any]) -> str:
    return str(record.get("id"))


def fuzz_result(
    ledger: Ledger, campaign: Campaign, directory: Path, session: set[str] | None = None
) -> RunResult:
    result, workers = _common(ledger, campaign, session)
    tally = Tally()
    for worker in workers:
        tally = tally.merged(Tally.from_json(worker.get("tally") or {}))
    findings = [f for f in ledger.read("findings") if isinstance(f.get("steps"), list)]
    result.info.update(
        examples=tally.examples,
        sequences=tally.sequences,
        steps=tally.steps,
        transitions=[
            {"from": before, "step": op, "to": after, "count": count}
            for (before, op, after), count in sorted(tally.transitions.items())
        ],
        rules_judged={r.id: tally.judged[r.id] for r in TRACE_RULES},
        findings=[_finding_row(f, len(f["steps"])) for f in sorted(findings, key=_at)],
    )
    examples = f"{tally.examples} examples of {len(workers)} workers"
    for trace_rule in TRACE_RULES:
        records = [f for f in findings if f.get("rule") == trace_rule.id]
        if not records:
            result.checks.append(
                CheckResult.for_rule(trace_rule, PASSED, f"no sequence of {examples} broke it")
            )
            continue
        best = _best(records)
        steps = [step_from_json(s) for s in best["steps"]]
        files = write_files(
            campaign.target,
            trace_rule.id,
            steps,
            best.get("trace") or [],
            best.get("seed"),
            directory,
        )
        result.checks.append(
            CheckResult.for_rule(
                trace_rule,
                FAILED,
                f"{best.get('message')} (after {len(steps)} steps; {_history(records, best)}; "
                f"reproducer {files[0].name})",
                evidence=[repr(s) for s in steps],
                artifacts=[f.name for f in files],
            )
        )
    return result


def _at(record: dict[str, Any]) -> str:
    return str(record.get("at"))


def _best(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The shortest sequence, a shrunk one first among equals, then the earliest."""
    return min(records, key=lambda r: (len(r["steps"]), r.get("kind") != SHRUNK, _at(r)))


def _history(records: list[dict[str, Any]], best: dict[str, Any]) -> str:
    """Who found a rule broken first, when, after how many of their own examples; who
    replayed it from the database; whose sequence is reported, if another's."""
    first = min((r for r in records if r.get("kind") != REPLAYED), key=_at, default=None)
    first = first or min(records, key=_at)
    said = f"found by {_who(first)} at {first.get('at')} after {first.get('examples')} examples"
    replayed = sorted({_who(r) for r in records if r.get("kind") == REPLAYED} - {_who(first)})
    if replayed:
        said += f", replayed from the database by {', '.join(replayed)}"
    if not any(r.get("kind") == SHRUNK for r in records):
        said += "; not shrunk: its worker stopped before hypothesis had shrunk it"
    if len(best["steps"]) < len(first["steps"]):
        said += f"; shrunk by {_who(best)}"
    return said


def _finding_row(record: dict[str, Any], size: int) -> dict[str, Any]:
    keys = ("rule", "kind", "id", "at", "examples", "seed")
    return {**{k: record.get(k) for k in keys}, "size": size}


def quorum_result(
    ledger: Ledger, campaign: Campaign, directory: Path, session: set[str] | None = None
) -> RunResult:
    """A quorum campaign: every schedule played, each rule failed with the first schedule
    (by time) any worker saw break it."""
    from conformance.fuzz.quorum import held

    result, workers = _common(ledger, campaign, session)
    played = sum(int(w.get("played") or 0) for w in workers)
    passed: Counter[str] = Counter()
    unjudged: dict[str, Counter[str]] = {}
    log: list[dict[str, Any]] = []
    for worker in workers:
        passed.update({k: v for k, v in (worker.get("passed") or {}).items() if isinstance(v, int)})
        for rule_id, reasons in (worker.get("unjudged") or {}).items():
            unjudged.setdefault(rule_id, Counter()).update(reasons)
        log += [{**entry, "worker": worker.get("id")} for entry in worker.get("log") or []]
    findings = [f for f in ledger.read("findings") if isinstance(f.get("schedule"), str)]
    result.info.update(
        schedules=played,
        schedule_log=log,
        findings=[_finding_row(f, 1) for f in sorted(findings, key=_at)],
    )
    for rule_id in QUORUM_RULES:
        records = sorted((f for f in findings if f.get("rule") == rule_id), key=_at)
        if records:
            first = records[0]
            others = sorted({_who(r) for r in records} - {_who(first)})
            also = f"; also seen by {', '.join(others)}" if others else ""
            result.checks.append(
                CheckResult.for_rule(
                    rule(rule_id),
                    FAILED,
                    f"{first.get('message')} (schedule: {first['schedule']}; found by "
                    f"{_who(first)} at {first.get('at')}, seed {first.get('seed')}{also})",
                    evidence=list(first.get("evidence") or []),
                    timeline=list(first.get("timeline") or []),
                )
            )
        elif passed[rule_id]:
            message = held(passed[rule_id], played, unjudged.get(rule_id))
            result.checks.append(CheckResult.for_rule(rule(rule_id), PASSED, message))
        else:
            result.checks.append(
                CheckResult.for_rule(
                    rule(rule_id), SKIPPED, f"no schedule of {played} could judge it"
                )
            )
    return result
