"""Campaigns of several worker processes on one machine (issue 22): `rescheck fuzz --workers N`
and `rescheck quorum --workers N` on the directory example database in the report directory.
Every test runs the real command, whose workers are real processes; the targets are hosted
in-process inside each worker, so that a test takes seconds."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import seed, settings
from hypothesis.stateful import run_state_machine_as_test

from conformance.fuzz.machine import operations
from conformance.fuzz.profiles import CAMPAIGN
from conformance.fuzz.workers import SEED_STRIDE
from conformance.resapi import CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES

REPO = Path(__file__).resolve().parents[2]
PLANTED = "fixtures/sequence/validate_without_buffers.py"
PLANTED_RULE = "ResourceControl.returns"
#: The planted bug's call: VALIDATE with neither buffer.
PLANTED_CALL = (CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES, None, None)
#: What "early" means for a seed that meets the planted bug.
EARLY = 6


@functools.cache
def first_met(value: int, examples: int) -> int | None:
    """The sequence of seed ``value``'s first ``examples`` that first makes the planted call,
    as the fuzzer's own rules draw them, running nothing: hypothesis draws the same sequences
    whatever the target answers, until one breaks a rule (as benchmarks/fuzz_throughput.py
    checks), so the tests pick their seeds for the rules of the day."""
    met: list[int] = []
    made = [0]

    class Drawn(operations(breaker=False)):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            made[0] += 1

        def step(self, op: str, instance: int = 0, arg: Any = None) -> None:
            if op == "control" and arg == PLANTED_CALL and not met:
                met.append(made[0])

    seed(value)(Drawn)
    run_state_machine_as_test(
        Drawn, settings=settings(CAMPAIGN, max_examples=examples, database=None)
    )
    return met[0] if met else None


@functools.cache
def two_worker_seed(examples: int = 20) -> int:
    """A seed whose first worker does not meet the planted bug in ``examples`` sequences, and
    whose second worker (the seed plus SEED_STRIDE) meets it early."""
    return next(
        s
        for s in range(1, 1000)
        if first_met(s, examples) is None and first_met(s + SEED_STRIDE, EARLY) is not None
    )


@functools.cache
def early_seed() -> int:
    """A seed that meets the planted bug early."""
    return next(s for s in range(1, 1000) if first_met(s, EARLY) is not None)


def rescheck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )


def started(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def interrupted_once(proc: subprocess.Popen[str], seen: str) -> tuple[str, str]:
    """Ctrl-C once the progress shows ``seen``: the output, with what came after."""
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if seen in line:
            break
    else:
        raise AssertionError(f"the campaign ended before showing {seen!r}:\n{''.join(lines)}")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return "".join(lines) + out, err


def results(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "results.json").read_text())


def worker_pids(info: dict[str, Any]) -> list[int]:
    return [int(w["id"].split(":")[-2]) for w in info["workers"]]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_two_workers_find_a_planted_bug_that_one_worker_alone_finds_later(tmp_path: Path) -> None:
    """The same 20 examples: one worker does not meet the bug in them; of two workers (10
    each) the second meets it within its first few, and Ctrl-C then reports it, merged, with
    no worker and no temporary directory of theirs left."""
    chosen = two_worker_seed()
    common = ["fuzz", "--resource-type", PLANTED, "--in-process", "--seed", str(chosen)]
    alone = rescheck(
        *common,
        "--max-examples",
        "20",
        "--campaign",
        "alone",
        "--report-dir",
        str(tmp_path / "alone"),
    )
    assert alone.returncode == 0 and "verdict: compliant" in alone.stdout, (
        alone.stdout + alone.stderr
    )
    assert "1 worker of campaign 'alone'" in alone.stdout
    two = started(
        *common, "--max-examples", "20", "--workers", "2", "--report-dir", str(tmp_path / "two")
    )
    out, err = interrupted_once(two, "1 rules broken")
    assert two.returncode == 130, out + err
    assert "(2 workers" in out and "steps/s" in out, out
    merged = results(tmp_path / "two")
    assert merged["complete"] is False and merged["verdict"] == "non-compliant", merged["verdict"]
    [check] = [c for c in merged["checks"] if c["outcome"] == "failed"]
    assert check["id"] == PLANTED_RULE and "found by" in check["message"], check
    [first, *_] = merged["info"]["findings"]
    finder = chosen + SEED_STRIDE
    assert first["seed"] == finder, first
    assert first["examples"] == first_met(finder, EARLY), "the sequence the seed draws"
    assert (tmp_path / "two" / "test_repro_resourcecontrol_returns.py").is_file()
    seeds = sorted(w["seed"] for w in merged["info"]["workers"])
    assert seeds == [chosen, finder], merged["info"]["workers"]
    pids = worker_pids(merged["info"])
    assert all(gone(pid) for pid in pids), f"a worker outlived the campaign: {pids}"
    left = [p for p in os.listdir(tempfile.gettempdir()) for pid in pids if f"-{pid}-" in p]
    assert not left, f"temporary directories left behind: {left}"


def test_the_progress_and_the_report_merge_every_workers_figures(tmp_path: Path) -> None:
    done = rescheck(
        "fuzz",
        "--resource-type",
        "fixtures/conforming.py",
        "--in-process",
        "--max-examples",
        "6",
        "--seed",
        "1",
        "--workers",
        "2",
        "--report-dir",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fuzz: 6 of 6 examples (2 workers)" in done.stdout, done.stdout
    merged = results(tmp_path)
    info = merged["info"]
    assert merged["complete"] and info["examples"] == 6, info
    assert sorted(w["examples"] for w in info["workers"]) == [3, 3], info["workers"]
    assert {w["state"] for w in info["workers"]} == {"finished"}
    assert info["steps"] == sum(w["steps"] for w in info["workers"]), info
    assert info["steps"] == sum(t["count"] for t in info["transitions"]) > 6
    for label in ("w1", "w2"):
        own = results(tmp_path / "workers" / label)["info"]
        assert own["examples"] == 3, (label, own)
    again = rescheck("report", str(tmp_path))
    assert again.returncode == 0 and "campaign 'default' of 2 workers" in again.stdout, again.stdout
    assert results(tmp_path)["info"]["examples"] == 6


def test_a_quorum_campaign_of_two_workers_is_one_report(tmp_path: Path) -> None:
    done = rescheck(
        "quorum",
        "--resource-type",
        "fixtures/arbitrate_exclusive.py",
        "--in-process",
        "--schedules",
        "4",
        "--nodes",
        "3-3",
        "--seed",
        "1",
        "--workers",
        "2",
        "--report-dir",
        str(tmp_path),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    merged = results(tmp_path)
    played = [w["played"] for w in merged["info"]["workers"]]
    # two each, and a worker that starts after the other recorded a failing schedule plays
    # that one first too
    assert len(played) == 2 and all(n >= 2 for n in played), played
    assert merged["info"]["schedules"] == len(merged["info"]["schedule_log"]) == sum(played)
    [check] = [c for c in merged["checks"] if c["outcome"] == "failed"]
    assert check["id"] == "Arbitrate.exclusive" and "found by" in check["message"], check
    assert check["timeline"], "the failing schedule's history is drawn"
    # a campaign resumed later plays the failing schedules it recorded first
    resumed = rescheck(
        "quorum",
        "--resource-type",
        "fixtures/arbitrate_exclusive.py",
        "--in-process",
        "--schedules",
        "1",
        "--nodes",
        "4-4",
        "--seed",
        "9",
        "--campaign",
        "default",
        "--report-dir",
        str(tmp_path),
    )
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr
    kinds = {f["kind"] for f in results(tmp_path)["info"]["findings"]}
    assert "replayed" in kinds, results(tmp_path)["info"]["findings"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--workers", "3", "--max-examples", "2"], "3 workers need at least as many examples"),
        (["--campaign", "no spaces"], "--campaign"),
        (["--database", "http://example.org/db"], "expected redis://HOST:PORT/DB"),
        (["--workers", "0"], "--workers"),
    ],
    ids=["fewer-examples-than-workers", "bad-campaign", "not-redis", "no-workers"],
)
def test_bad_usage_exits_2_with_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    done = rescheck(
        "fuzz", "--resource-type", "fixtures/conforming.py", *args, "--report-dir", str(tmp_path)
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, f"expected exit 2, one line:\n{done.stderr}"
    assert expected in lines[0] and "Traceback" not in done.stderr


def test_redis_without_its_client_says_what_to_install(tmp_path: Path) -> None:
    """``rescheck[distributed]`` is optional: without the redis client, one line says so."""
    shadow = tmp_path / "shadow" / "redis"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no redis here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shadow.parent), str(REPO)])}
    done = rescheck(
        "fuzz",
        "--resource-type",
        "fixtures/conforming.py",
        "--database",
        "redis://127.0.0.1:6379/0",
        "--report-dir",
        str(tmp_path / "r"),
        env=env,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "pip install 'rescheck[distributed]'" in lines[0], lines[0]


def test_an_unreachable_redis_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("redis")
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = rescheck(
        "fuzz",
        "--resource-type",
        "fixtures/conforming.py",
        "--database",
        f"redis://:secret@127.0.0.1:{port}/0",
        "--report-dir",
        str(tmp_path),
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "no Redis server answers there" in lines[0] and "secret" not in lines[0], lines[0]
