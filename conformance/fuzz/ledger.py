"""A campaign's records, kept in its example database beside hypothesis's examples: the
workers that ran (their figures, brought up to date while they run) and what each found, when.

Workers on any machine write them and any report reads them, so a campaign's merged report
needs nothing but the database (`conformance.fuzz.merge`), and a worker that is killed loses
nothing it recorded. Every record is a JSON value saved under a key of the campaign's target
(its mode, type name and sha256: two targets of one campaign never mix); the database is a set
per key, so a worker's status is replaced by saving the new one, then deleting the old one.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from hypothesis.database import ExampleDatabase

from conformance.fuzz.database import lost
from conformance.fuzz.driver import Step

#: A worker's states: running, or how it ended.
RUNNING, FINISHED, INTERRUPTED, KILLED, FAILED = (
    "running",
    "finished",
    "interrupted",
    "killed",
    "failed",
)
#: The kinds of finding: first met (not shrunk yet), shrunk by the worker that met it, and
#: replayed by a worker from the database.
FOUND, SHRUNK, REPLAYED = "found", "shrunk", "replayed"
#: The key listing a campaign's targets (their ledgers' names, for a report with no target).
TARGETS = b"rescheck.targets"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def worker_id(session: str, pid: int | None = None) -> str:
    """``host:pid:session`` (this process's pid by default): who a record is from, on any
    machine (the session, its command's, tells apart processes of two containers that share
    a host name and a pid)."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}:{session}"


def step_json(step: Step) -> list[Any]:
    """A `Step` as JSON: a control call's InBuffer in hex."""
    arg = step.arg
    if step.op == "control":
        code, in_buffer, size = arg
        arg = [code, None if in_buffer is None else bytes(in_buffer).hex(), size]
    return [step.op, step.instance, arg]


def step_from_json(data: list[Any]) -> Step:
    op, instance, arg = data
    if op == "control":
        code, in_buffer, size = arg
        arg = (code, None if in_buffer is None else bytes.fromhex(in_buffer), size)
    return Step(op, instance, arg)


class Ledger:
    """The records of one target of one campaign (``name``: `workers.ledger_name`'s)."""

    def __init__(self, database: ExampleDatabase, name: str) -> None:
        self.database, self.name = database, name

    def _key(self, kind: str) -> bytes:
        return f"rescheck.{self.name}.{kind}".encode()

    def add(self, kind: str, record: dict[str, Any]) -> bytes:
        raw = json.dumps(record, sort_keys=True, default=str).encode()
        self.database.save(self._key(kind), raw)
        return raw

    def remove(self, kind: str, raw: bytes) -> None:
        self.database.delete(self._key(kind), raw)

    def read(self, kind: str) -> list[dict[str, Any]]:
        """The records of ``kind``; one that is not a JSON object is left out."""
        return [r for r in _parsed(self.database.fetch(self._key(kind))) if isinstance(r, dict)]

    def register(self, about: dict[str, Any]) -> None:
        """List this ledger among the campaign's targets, with what a report needs of it."""
        self.database.save(TARGETS, json.dumps({"ledger": self.name, **about}).encode())

    def workers(self) -> dict[str, dict[str, Any]]:
        """Each worker's latest status (a replaced one may linger a moment)."""
        latest: dict[str, dict[str, Any]] = {}
        for record in self.read("workers"):
            key = str(record.get("id"))
            if _seq(record) >= _seq(latest.get(key, {"seq": -1})):
                latest[key] = record
        return latest


def _seq(record: dict[str, Any]) -> int:
    seq = record.get("seq")
    return seq if isinstance(seq, int) else 0


def targets(database: ExampleDatabase) -> list[dict[str, Any]]:
    """The targets a campaign's database holds records of, one entry per ledger."""
    found = {
        str(r.get("ledger")): r for r in _parsed(database.fetch(TARGETS)) if isinstance(r, dict)
    }
    return [found[name] for name in sorted(found)]


def _parsed(values: Iterable[bytes]) -> list[Any]:
    records = []
    for raw in values:
        try:
            records.append(json.loads(raw))
        except ValueError:
            continue  # not a record of ours
    return records


class Recorder:
    """What one worker records as it goes: its status (`status`, every few seconds and at
    the end) and each rule it finds broken (`met` at once, `reported` once hypothesis has
    shrunk it). A database that stops answering does not stop the sequence under way: the
    error is kept in ``lost`` and the campaign ends at its next step."""

    def __init__(self, ledger: Ledger, ident: str, label: str, seed: int | None, mode: str) -> None:
        self.ledger, self.id, self.label, self.seed, self.mode = ledger, ident, label, seed, mode
        self.started = now()
        self.clock = time.perf_counter()
        self.lost: BaseException | None = None
        #: Rules the campaign has records of, as last read, and those this worker met first.
        self.recorded: set[str] = set()
        self.own: set[str] = set()
        self._posted: set[tuple[str, str, str]] = set()
        self._status: bytes | None = None
        self._seq = 0

    def _safely(self, what: Any) -> Any:
        if self.lost is not None:
            return None
        try:
            return what()
        except Exception as exc:
            if not lost(exc):
                raise
            self.lost = exc
            return None

    def status(self, figures: dict[str, Any], state: str = RUNNING) -> None:
        """Replace this worker's status with ``figures`` (its own, as its progress shows)."""
        self._seq += 1
        record = {
            "id": self.id,
            "label": self.label,
            "mode": self.mode,
            "seed": self.seed,
            "started": self.started,
            "updated": now(),
            "elapsed_s": round(time.perf_counter() - self.clock, 3),
            "state": state,
            "seq": self._seq,
            **figures,
        }
        old, self._status = self._status, self._safely(lambda: self.ledger.add("workers", record))
        if old is not None and self._status is not None:
            self._safely(lambda: self.ledger.remove("workers", old))

    def findings(self) -> list[dict[str, Any]]:
        """The campaign's findings so far (none while the database does not answer)."""
        return self._safely(lambda: self.ledger.read("findings")) or []

    def refresh(self) -> set[str]:
        """The rules the campaign has findings of, read again."""
        self.recorded |= {str(r.get("rule")) for r in self.findings()}
        return set(self.recorded)

    def met(self, rule_id: str, fields: dict[str, Any]) -> None:
        """This worker met ``rule_id`` broken: recorded at once, unless the campaign has it."""
        if rule_id not in self.recorded:
            self.recorded.add(rule_id)
            self.own.add(rule_id)
            self.finding(FOUND, rule_id, fields)

    def reported(self, rule_id: str, fields: dict[str, Any]) -> None:
        """hypothesis reported ``rule_id``: shrunk here, or replayed from the database."""
        self.finding(SHRUNK if rule_id in self.own else REPLAYED, rule_id, fields)

    def finding(self, kind: str, rule_id: str, fields: dict[str, Any]) -> None:
        said = json.dumps(fields.get("steps") or fields.get("schedule"), default=str)
        if (kind, rule_id, said) in self._posted:
            return  # the same sequence again (a later round replayed it): nothing new
        self._posted.add((kind, rule_id, said))
        record = {
            "kind": kind,
            "rule": rule_id,
            "id": self.id,
            "label": self.label,
            "seed": self.seed,
            "at": now(),
            "elapsed_s": round(time.perf_counter() - self.clock, 3),
            **fields,
        }
        self._safely(lambda: self.ledger.add("findings", record))
