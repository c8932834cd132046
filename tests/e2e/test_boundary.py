"""Issue 15's attacks on the host boundary, made from inside the host as a hostile target
would: each run ends with the target blamed, rescheck under 300 MB, never exit 3, and
nothing of the run left behind (processes, temporary files in a private TMPDIR)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.support import REPO

RUN_LIMIT_S = 150
#: rescheck's own memory, whatever the target does (issue 15).
MEMORY_LIMIT_KB = 300 * 1024


def run_watched(args: list[str], tmp_path: Path) -> tuple[int, str, int]:
    """Run rescheck with a private TMPDIR; its exit code, stderr and peak resident memory."""
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", *args],
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(tmp)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0
    deadline = time.monotonic() + RUN_LIMIT_S
    while process.poll() is None and time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
        except OSError:
            break
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
        time.sleep(0.05)
    process.kill() if process.poll() is None else None
    stderr = process.communicate()[1]
    left = sorted(p.name for p in tmp.iterdir())
    assert not left, f"temporary files left behind: {left}"
    return process.returncode, stderr, peak


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("protocol_garbage", "a frame header announces 4294967295"),
        ("protocol_forged", "an answer to request 1000000, which was never sent"),
        ("protocol_database", "field 'op'"),
        ("frame_bomb", "a frame header announces 4294967295 bytes"),
    ],
)
def test_a_target_that_breaks_the_protocol_is_blamed(tmp_path: Path, name: str, said: str) -> None:
    code, stderr, peak = run_watched(
        ["run", "--resource-type", f"fixtures/hostile/{name}.py", "--report-dir",
         str(tmp_path / "r")],
        tmp_path,
    )  # fmt: skip
    assert code == 1 and "Traceback" not in stderr, f"exit {code}:\n{stderr[-3000:]}"
    results = json.loads((tmp_path / "r" / "results.json").read_text("utf-8"))
    [survives] = [c for c in results["checks"] if c["id"] == "Process.survives"]
    assert survives["outcome"] == "failed" and "broke the host protocol" in survives["message"], (
        survives
    )
    assert said in survives["message"], f"the evidence should say what it sent: {survives}"
    assert peak < MEMORY_LIMIT_KB, f"rescheck peaked at {peak} KB"


def test_a_logevent_bomb_and_flood_keep_rescheck_small(tmp_path: Path) -> None:
    code, stderr, peak = run_watched(
        ["run", "--resource-type", "fixtures/hostile/logevent_width.py", "--report-dir",
         str(tmp_path / "r"), "--select", "LogEvent.*"],
        tmp_path,
    )  # fmt: skip
    assert code == 0 and "Traceback" not in stderr, f"exit {code}:\n{stderr[-3000:]}"
    results = json.loads((tmp_path / "r" / "results.json").read_text("utf-8"))
    [length] = [c for c in results["checks"] if c["id"] == "LogEvent.entry-length"]
    assert length["outcome"] == "failed" and "300000" in length["message"], length
    assert peak < MEMORY_LIMIT_KB, f"rescheck peaked at {peak} KB"


def _daemons() -> list[str]:
    found = subprocess.run(["pgrep", "-af", "sleep 3142.5"], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


def _gone(deadline_s: float) -> list[str]:
    deadline = time.monotonic() + deadline_s
    while (left := _daemons()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_a_daemon_the_target_starts_ends_with_the_run(tmp_path: Path) -> None:
    code, stderr, _ = run_watched(
        ["run", "--resource-type", "fixtures/hostile/daemonises.py", "--report-dir",
         str(tmp_path / "r"), "--select", "Online.*"],
        tmp_path,
    )  # fmt: skip
    assert code in (0, 1) and "Traceback" not in stderr, stderr[-3000:]
    assert not _gone(5), "a daemon (setsid and a double fork) outlived the run"


def test_nothing_outlives_rescheck_killed_and_the_next_run_sweeps_its_files(
    tmp_path: Path,
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "run", "--resource-type",
         "fixtures/hostile/daemonises.py", "--report-dir", str(tmp_path / "r")],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not _daemons() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _daemons(), "the target's daemon should have started"
    process.kill()
    process.wait()
    assert not _gone(5), "the daemon outlived rescheck killed with SIGKILL"
    assert list(tmp.iterdir()), "a SIGKILLed run leaves its run dir (nothing can remove it)"
    code, stderr, _ = run_watched(
        ["run", "--resource-type", "fixtures/conforming.py", "--report-dir",
         str(tmp_path / "next"), "--select", "Startup.timing"],
        tmp_path,
    )  # fmt: skip
    assert code == 0, stderr[-3000:]  # run_watched: the temp dir is empty afterwards
