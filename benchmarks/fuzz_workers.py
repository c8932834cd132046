"""Prints `rescheck fuzz`'s steps per second with 1, 2 and 4 worker processes on this machine
(issue 22), with the number of CPUs it has.

Each row is one campaign of ``--duration`` seconds, run as a user runs it (``rescheck fuzz
--workers N``) on a realistic target: the reference process_app, isolated (a host process per
sequence, real child processes, real pending operations). Its steps per second are every
worker's steps over the longest worker's time, from its start (the target loaded) to its
reports; the speed-up is against one worker. A worker that waits (on a pending operation, a
pause, a host process starting) leaves its CPU to the others, so N workers can go faster than
N CPUs would suggest; one that computes shares it. Figures, not a pass/fail test: run it on a
quiet machine and read the numbers.

    python3 benchmarks/fuzz_workers.py [--workers 1,2,4] [--duration 60] [--repeat 1]
        [--target reference_impls/process_app.py]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "reference_impls" / "process_app.py"


def campaign(target: Path, workers: int, duration: float, where: Path) -> tuple[float, int, int]:
    """Steps per second, steps and examples of one campaign of ``workers`` workers."""
    report_dir = where / f"w{workers}-{time.monotonic_ns()}"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "fuzz",
            "--resource-type",
            str(target),
            "--workers",
            str(workers),
            "--duration",
            f"{duration}s",
            "--campaign",
            f"bench-{workers}",
            "--report-dir",
            str(report_dir),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"the campaign of {workers} workers failed:\n{done.stdout}{done.stderr}")
    info = json.loads((report_dir / "results.json").read_text())["info"]
    took = max(w["elapsed_s"] for w in info["workers"])
    return info["steps"] / took, info["steps"], info["examples"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2,4", help="worker counts (default 1,2,4)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per campaign")
    parser.add_argument("--repeat", type=int, default=1, help="campaigns per count (best kept)")
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"rescheck fuzz --workers N on {args.target.name}, {args.duration:.0f} s each, "
        f"{cpus} CPUs (load average {load:.2f} at the start)"
    )
    best: dict[int, tuple[float, int, int]] = {}
    with tempfile.TemporaryDirectory(prefix="rescheck-bench-") as where:
        for _ in range(args.repeat):
            for n in counts:  # interleaved: a busy moment of the machine spreads over them
                found = campaign(args.target, n, args.duration, Path(where))
                best[n] = max(best.get(n, found), found)
    base = best[counts[0]][0]
    print(f"| workers | steps/s | speed-up vs {counts[0]} | steps | examples |")
    print("|---|---|---|---|---|")
    for n in counts:
        rate, steps, examples = best[n]
        print(f"| {n} | {rate:.1f} | {rate / base:.2f}x | {steps} | {examples} |")


if __name__ == "__main__":
    main()
