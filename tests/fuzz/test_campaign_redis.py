"""Campaigns whose workers share one Redis example database (issue 22), against a real
`redis-server` (Debian's; `.ci/run` installs it) that these tests start on a free local port
and stop after. Skipped locally without redis-server or the redis client; under CI (the `CI`
variable set) their absence fails instead."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.fuzz.workers import SEED_STRIDE
from tests.fuzz.test_campaign_workers import (
    PLANTED,
    PLANTED_RULE,
    early_seed,
    gone,
    interrupted_once,
    rescheck,
    results,
    started,
    two_worker_seed,
    worker_pids,
)


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is needed by the Redis campaign tests under CI (.ci/run installs it)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of this module's own, on a free port, without persistence."""
    server = shutil.which("redis-server")
    if server is None:
        _missing("redis-server (apt-get install redis-server)")
    try:
        import redis
    except ImportError:
        _missing("the redis client (pip install 'rescheck[distributed]')")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)


def fuzz(url: str, campaign: str, directory: Path, *args: str) -> list[str]:
    return [
        "fuzz",
        "--resource-type",
        PLANTED,
        "--in-process",
        "--database",
        url,
        "--campaign",
        campaign,
        "--report-dir",
        str(directory),
        *args,
    ]


def test_a_bug_found_by_worker_a_is_reported_by_worker_b_from_the_database(
    redis_url: str, tmp_path: Path
) -> None:
    """A meets the planted bug and is stopped while hypothesis shrinks it; B, started
    afterwards elsewhere with one example of its own, replays A's sequence from Redis and
    reports it with its own trace and reproducer."""
    a = started(*fuzz(redis_url, "a-to-b", tmp_path / "a", "--seed", str(early_seed())))
    out, err = interrupted_once(a, "1 rules broken")
    assert a.returncode == 130, out + err
    b = rescheck(*fuzz(redis_url, "a-to-b", tmp_path / "b", "--seed", "5", "--max-examples", "1"))
    assert b.returncode == 1, b.stdout + b.stderr
    own = results(tmp_path / "b" / "workers" / "w1")
    [check] = [c for c in own["checks"] if c["outcome"] == "failed"]
    assert check["id"] == PLANTED_RULE, check
    assert (tmp_path / "b" / "workers" / "w1" / "trace_resourcecontrol_returns.json").is_file()
    merged = results(tmp_path / "b")
    [a_id] = {w["id"] for w in results(tmp_path / "a")["info"]["workers"]}
    b_id = own["info"]["worker"]
    kinds = {(f["id"], f["kind"]) for f in merged["info"]["findings"]}
    assert (a_id, "found") in kinds and (b_id, "replayed") in kinds, kinds
    [merged_check] = [c for c in merged["checks"] if c["outcome"] == "failed"]
    assert f"found by {a_id}" in merged_check["message"], merged_check["message"]
    assert f"replayed from the database by {b_id}" in merged_check["message"]
    assert {w["id"] for w in merged["info"]["workers"]} == {a_id, b_id}


def test_killing_a_worker_loses_nothing_it_recorded(redis_url: str, tmp_path: Path) -> None:
    """The worker that found the bug is killed (SIGKILL) while it shrinks: the other finishes,
    the merged report has the finding and its reproducer, and a campaign resumed later starts
    from the killed worker's sequence."""
    from conformance.fuzz.database import open_database
    from conformance.fuzz.ledger import Ledger

    campaign = tmp_path / "campaign"
    chosen = two_worker_seed()
    proc = started(
        *fuzz(
            redis_url,
            "kill",
            campaign,
            "--seed",
            str(chosen),
            "--workers",
            "2",
            "--max-examples",
            "40",
        )
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "1 rules broken" in line:
            break
    about = json_of(campaign / "campaign.json")
    ledger = Ledger(open_database(redis_url, "kill"), about["ledger"])
    [finding] = [f for f in ledger.read("findings") if f["seed"] == chosen + SEED_STRIDE]
    finder = int(finding["id"].split(":")[-2])
    os.kill(finder, signal.SIGKILL)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, out + err
    assert f"(pid {finder}) was killed (SIGKILL); what it recorded is kept" in out, out
    merged = results(campaign)
    assert merged["complete"] is False, "a killed worker did not finish its share"
    states = {w["seed"]: w["state"] for w in merged["info"]["workers"]}
    assert states == {chosen: "finished", chosen + SEED_STRIDE: "killed"}, states
    [check] = [c for c in merged["checks"] if c["outcome"] == "failed"]
    assert check["id"] == PLANTED_RULE and f"found by {finding['id']}" in check["message"]
    assert (campaign / "test_repro_resourcecontrol_returns.py").is_file()
    assert all(gone(pid) for pid in worker_pids(merged["info"]))
    resumed = rescheck(*fuzz(redis_url, "kill", tmp_path / "resumed", "--max-examples", "1"))
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr
    replayed = [
        f for f in results(tmp_path / "resumed")["info"]["findings"] if f["kind"] == "replayed"
    ]
    assert replayed, "the resumed campaign replays the killed worker's sequence"


def test_two_commands_on_one_campaign_make_one_report(redis_url: str, tmp_path: Path) -> None:
    """Two shells, one campaign: each command's workers record into Redis, and `rescheck
    report` renders the campaign as one, from Redis alone."""
    args = [
        "--resource-type",
        "fixtures/conforming.py",
        "--in-process",
        "--database",
        redis_url,
        "--campaign",
        "shells",
        "--max-examples",
        "4",
    ]
    first = started("fuzz", *args, "--seed", "1", "--report-dir", str(tmp_path / "one"))
    second = started(
        "fuzz", *args, "--seed", "2", "--workers", "2", "--report-dir", str(tmp_path / "two")
    )
    for proc in (first, second):
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, out + err
    done = rescheck(
        "report", "--database", redis_url, "--campaign", "shells", str(tmp_path / "merged")
    )
    assert done.returncode == 0 and "of 3 workers" in done.stdout, done.stdout + done.stderr
    merged = results(tmp_path / "merged")
    assert merged["complete"] and merged["info"]["examples"] == 8, merged["info"]
    assert sorted(w["seed"] for w in merged["info"]["workers"]) == [1, 2, 2 + SEED_STRIDE]
    assert json_of(tmp_path / "merged" / "campaign.json")["campaign"] == "shells"


def json_of(path: Path) -> dict[str, object]:
    import json

    return json.loads(path.read_text())
