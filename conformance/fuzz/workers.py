"""Campaigns of several workers (issue 22): ``rescheck fuzz --workers N`` (and ``rescheck
quorum --workers N``) runs N worker processes on this machine, each its own hypothesis run
with a seed of its own, all on one example database, as HypoFuzz runs its workers;
``--database redis://...`` lets workers started anywhere join the same campaign.

Each worker records its figures and findings in the campaign's ledger
(`conformance.fuzz.ledger`); this process shows their figures as one progress line, and once
they have ended writes the campaign's merged report (`conformance.fuzz.merge`). Workers run in
sessions of their own, so a Ctrl-C reaches this process alone, which passes it on once to
each (they write what they decided and end); a worker whose parent is gone, however it went,
sees its stdin close and ends the same way; a worker that outlives the grace period is
killed, and every worker is reaped.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance import rundir
from conformance.errors import UsageError
from conformance.fuzz.database import (
    DEFAULT_CAMPAIGN,
    is_redis,
    lost,
    open_database,
    resolved,
    shown,
)
from conformance.fuzz.interrupt import Interrupted
from conformance.fuzz.ledger import FAILED, KILLED, RUNNING, Ledger, Recorder, now, worker_id
from conformance.fuzz.merge import Campaign, report
from conformance.fuzz.progress import time_left
from conformance.fuzz.reproducer import about
from conformance.report.model import RunResult
from conformance.targets import Target, load_target

#: Worker ``i`` of a campaign with ``--seed S`` uses seeds from ``S + i * SEED_STRIDE`` (one
#: per round), so that no two workers, nor two rounds, draw the same sequences.
SEED_STRIDE = 1_000_003
#: How long workers may take to write their reports after a Ctrl-C before they are killed (s).
GRACE_S = 60.0
#: How often the merged progress line is brought up to date (s).
SHOW_EVERY_S = 2.0
#: Exit codes of a worker process (as `rescheck`'s).
EXIT_OK, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 2, 3, 130
FUZZ, QUORUM = "fuzz", "quorum"


@dataclass
class Plan:
    """A campaign as the command asked for it: what every worker needs to run its share."""

    mode: str  # FUZZ or QUORUM
    target: dict[str, Any]  # load_target's arguments
    database: str
    campaign: str
    report_dir: str
    workers: int = 1
    seed: int | None = None
    count: int = 100  # examples (fuzz) or schedules (quorum), shared among the workers
    duration: float | None = None  # fuzz: each worker's, instead of a count
    nodes: tuple[int, int] = (3, 8)
    strict: bool = False
    #: This command's, in its workers' ids (`conformance.fuzz.ledger.worker_id`).
    session: str = field(default_factory=lambda: secrets.token_hex(3))

    def share(self, index: int) -> int:
        """Worker ``index``'s part of the count (the first ones take the remainder)."""
        part, rest = divmod(self.count, self.workers)
        return part + (index < rest)

    def seed_of(self, index: int) -> int | None:
        return None if self.seed is None else self.seed + index * SEED_STRIDE


def plan_of(args: Any, mode: str, directory: Path) -> Plan | None:
    """The campaign ``rescheck fuzz`` or ``rescheck quorum`` asks for with ``args`` (its
    parsed options), or None for a plain one (one worker, no --database, no --campaign).
    A Redis server is asked here, before the target is loaded: one that does not answer is
    one line, not a campaign spent."""
    if args.workers == 1 and args.database is None and args.campaign is None:
        return None
    duration = getattr(args, "duration", None)
    counted = args.max_examples if mode == FUZZ else args.schedules
    if counted < args.workers and duration is None:
        what = "examples" if mode == FUZZ else "schedules"
        raise UsageError(
            f"{args.workers} workers need at least as many {what} (got {counted}): give "
            "each worker one at least"
        )
    database = resolved(args.database, directory)
    name = args.campaign or DEFAULT_CAMPAIGN
    if is_redis(database):
        open_database(database, name)
    return Plan(
        mode=mode,
        target={
            "given": args.resource_type,
            "companion": args.companion,
            "type_name": args.type_name[0] if args.type_name else None,
            "properties": list(args.properties),
            "hosting": "in-process" if args.in_process else "isolated",
        },
        database=database,
        campaign=name,
        report_dir=str(directory),
        workers=args.workers,
        seed=args.seed,
        count=counted,
        duration=duration,
        nodes=getattr(args, "nodes", (3, 8)),
        strict=getattr(args, "strict", False),
    )


def ledger_name(mode: str, target: Target) -> str:
    """A target's ledger within a campaign: its mode, type and contents."""
    kind = "".join(c if c.isalnum() else "_" for c in target.resource_type)
    return f"{mode}-{kind}-{target.sha256()[:16]}"


def campaign_of(plan: Plan, target: Target) -> Campaign:
    return Campaign(
        plan.mode,
        plan.database,
        plan.campaign,
        ledger_name(plan.mode, target),
        about(target),
        plan.strict,
    )


def _load(plan: Plan) -> Target:
    from conformance.monitor.policy import Policy

    given = plan.target
    return load_target(
        given["given"],
        given.get("companion"),
        given.get("type_name"),
        dict(given.get("properties") or []),
        Policy(),
        given.get("hosting", "isolated"),
    )


def run_worker(
    plan: Plan, index: int, target: Target, progress: Callable[[str], None]
) -> RunResult:
    """Worker ``index`` of ``plan``, in this process: its share of the campaign, with its
    own reports in ``<report dir>/workers/w<index+1>/``."""
    from conformance.fuzz.campaign import fuzz
    from conformance.fuzz.quorum import campaign as quorum
    from conformance.monitor.policy import Policy

    database = open_database(plan.database, plan.campaign)
    ledger = Ledger(database, ledger_name(plan.mode, target))
    ledger.register({"mode": plan.mode, "target": about(target)})
    label = f"w{index + 1}"
    recorder = Recorder(ledger, worker_id(plan.session), label, plan.seed_of(index), plan.mode)
    directory = Path(plan.report_dir) / "workers" / label
    try:
        if plan.mode == FUZZ:
            return fuzz(
                target,
                directory,
                max_examples=plan.share(index),
                duration=plan.duration,
                seed_value=plan.seed_of(index),
                policy=Policy(),
                strict=plan.strict,
                progress=progress,
                database=database,
                recorder=recorder,
            )
        return quorum(
            target,
            directory,
            count=plan.share(index),
            seed_value=plan.seed_of(index),
            nodes=plan.nodes,
            policy=Policy(),
            progress=progress,
            recorder=recorder,
        )
    except Interrupted:
        if recorder.lost is None:
            raise
        raise UsageError(
            f"the campaign's database {shown(plan.database)} stopped answering "
            f"({recorder.lost}); this worker's reports in {directory} hold what it decided"
        ) from None


def run(plan: Plan, target: Target, progress: Callable[[str], None]) -> RunResult:
    """The campaign: its workers (in this process when there is one), then the merged
    report. Ctrl-C raises `Interrupted` with the merged report of what was decided."""
    campaign = campaign_of(plan, target)
    campaign.save(Path(plan.report_dir))
    interrupted = False
    session = {worker_id(plan.session)}
    if plan.workers == 1:
        try:
            run_worker(plan, 0, target, progress)
        except Interrupted:
            interrupted = True
    else:
        interrupted, session = _run_processes(plan, campaign, progress)
    merged = report(campaign, Path(plan.report_dir), session)
    if interrupted:
        raise Interrupted(merged)
    return merged


def _run_processes(
    plan: Plan, campaign: Campaign, progress: Callable[[str], None]
) -> tuple[bool, set[str]]:
    """Run the workers as processes until they end: whether Ctrl-C ended them, and their
    ids."""
    ledger = Ledger(open_database(plan.database, plan.campaign), campaign.ledger)
    spec = json.dumps({"plan": asdict(plan)}) + "\n"
    procs: dict[int, subprocess.Popen[bytes]] = {}
    started = time.perf_counter()
    interrupted = False
    try:
        for index in range(plan.workers):
            proc = subprocess.Popen(
                [sys.executable, "-m", "conformance.fuzz.workers", str(index)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # a terminal's Ctrl-C is passed on by us, once
                env=_importable(),
            )
            assert proc.stdin is not None
            proc.stdin.write(spec.encode())
            proc.stdin.flush()  # stdin stays open: its end tells the worker we are gone
            procs[index] = proc
        shown_at = started
        while any(p.poll() is None for p in procs.values()):
            time.sleep(0.2)
            if time.perf_counter() - shown_at >= SHOW_EVERY_S:
                shown_at = time.perf_counter()
                _show(plan, ledger, procs, started, progress)
    except KeyboardInterrupt:
        interrupted = True
        _stop(procs)
    finally:
        for proc in procs.values():  # nothing outlives the command
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stdin is not None:
                proc.stdin.close()
    _show(plan, ledger, procs, started, progress)
    for index, proc in procs.items():
        _ended(ledger, plan, index, proc, progress)
    rundir.sweep()  # the temporary directories of workers that were killed
    return interrupted, {worker_id(plan.session, p.pid) for p in procs.values()}


def _importable() -> dict[str, str]:
    """The environment of a worker, which imports this very rescheck (installed or not)."""
    import conformance

    here = str(Path(conformance.__file__).resolve().parents[1])
    path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {**os.environ, "PYTHONPATH": os.pathsep.join([here, *path])}


def _stop(procs: dict[int, subprocess.Popen[bytes]]) -> None:
    """Pass the Ctrl-C on to each worker once and give them GRACE_S to write their reports;
    a second Ctrl-C kills them at once."""
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    deadline = time.perf_counter() + GRACE_S
    try:
        for proc in procs.values():
            proc.wait(max(deadline - time.perf_counter(), 0.1))
    except (KeyboardInterrupt, subprocess.TimeoutExpired):
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()


def _ended(
    ledger: Ledger,
    plan: Plan,
    index: int,
    proc: subprocess.Popen[bytes],
    progress: Callable[[str], None],
) -> None:
    """Say how a worker that did not end by itself ended, and record it for the merged
    report (one that recorded its end, whatever its exit status, has said so itself)."""
    code = proc.returncode
    worker = ledger.workers().get(worker_id(plan.session, proc.pid))
    if code in (EXIT_OK, EXIT_INTERRUPTED) or (worker or {}).get("state", RUNNING) != RUNNING:
        return
    if code < 0:
        said = f"was killed ({signal.Signals(-code).name}); what it recorded is kept"
        state, errors = KILLED, []
    else:
        said = f"stopped with exit code {code} (see its error above)"
        kind = "internal error" if code == EXIT_INTERNAL else "error"
        state, errors = FAILED, [f"{kind}: the worker {said}"]
    progress(f"worker w{index + 1} (pid {proc.pid}) {said}")
    if worker is not None:
        record = {**worker, "state": state, "seq": worker.get("seq", 0) + 1, "updated": now()}
        record["errors"] = [*worker.get("errors", []), *errors]
        ledger.add("workers", record)


def _show(
    plan: Plan,
    ledger: Ledger,
    procs: dict[int, subprocess.Popen[bytes]],
    started: float,
    progress: Callable[[str], None],
) -> None:
    """The progress line, unless the database does not answer now (the workers say so)."""
    try:
        progress(_line(plan, ledger, procs, started))
    except Exception as exc:
        if not lost(exc):
            raise


def _line(
    plan: Plan, ledger: Ledger, procs: dict[int, subprocess.Popen[bytes]], started: float
) -> str:
    """The workers' figures as one progress line."""
    ids = {worker_id(plan.session, p.pid) for p in procs.values()}
    ours = [w for w in ledger.workers().values() if w.get("id") in ids]
    took = max(time.perf_counter() - started, 1e-9)
    running = sum(p.poll() is None for p in procs.values())
    workers = f"{len(procs)} workers" + (f", {running} running" if 0 < running < len(procs) else "")
    failing = {r for w in ours for r in w.get("failing", [])}
    broken = f"{len(failing)} rules broken"
    if plan.mode == QUORUM:
        played = sum(int(w.get("played", 0)) for w in ours)
        left = time_left(started, played, plan.count, None)
        return (
            f"quorum: {played} of {plan.count} schedules ({workers}, {played / took * 60:.1f}/min), "
            f"{broken}{left}"
        )
    examples = sum(int(w.get("examples", 0)) for w in ours)
    steps = sum(int(w.get("steps", 0)) for w in ours)
    distinct = {tuple(t) for w in ours for t in w.get("distinct", [])}
    goal = None if plan.duration is not None else plan.count
    deadline = None if plan.duration is None else started + plan.duration
    of = "" if goal is None else f" of {goal}"
    shrinking = [w for w in ours if w.get("shrinking")]
    left = ", shrinking" if shrinking else time_left(started, examples, goal, deadline)
    return (
        f"fuzz: {examples}{of} examples ({workers}), {steps / took:.0f} steps/s, "
        f"{len(distinct)} transitions, {broken}{left}"
    )


def serve(index: int) -> int:
    """A worker process: the plan comes on stdin, whose end means the parent is gone."""
    import _thread

    stdin = sys.stdin.fileno()  # read raw: a thread blocked in a buffered read aborts exit
    line = b""
    while not line.endswith(b"\n") and (chunk := os.read(stdin, 1)):
        line += chunk
    try:
        plan = Plan(**json.loads(line)["plan"])
        plan.nodes = tuple(plan.nodes)  # type: ignore[assignment]
    except (ValueError, KeyError, TypeError) as exc:
        print(f"rescheck worker: error: no plan on stdin ({exc})", file=sys.stderr)
        return EXIT_USAGE

    def parent_gone() -> None:
        while os.read(stdin, 4096):
            pass
        _thread.interrupt_main()

    # A shell starts a background command with SIGINT ignored, and its children inherit that:
    # a worker always takes it, as its parent's Ctrl-C and the end of its stdin arrive so.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=parent_gone, daemon=True, name="parent-watch").start()
    said = f"rescheck {plan.mode} worker w{index + 1}"
    try:
        run_worker(plan, index, _load(plan), lambda line: None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # done: a late Ctrl-C changes nothing
    except (Interrupted, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    except UsageError as exc:
        print(f"{said}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug of rescheck's (ModelBroken included): said, with where
        import traceback

        print(f"{said}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1])))
