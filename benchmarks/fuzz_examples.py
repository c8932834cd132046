"""Prints `rescheck fuzz`'s examples per minute on a realistic target, each example on a host
started when it is needed (before issue 20) and on a host started while the previous example
ran (`conformance.targets.spares`, what `rescheck fuzz` does), side by side.

The target is the reference process_app, isolated: a host process per example, real child
processes, real pending operations, the companion's probe around Online, Offline and
Terminate. Both campaigns run the same seed for the same time, interleaved ``--repeat``
times; the best of each is printed. Figures, not a pass/fail test: run it on a quiet machine.

    python3 benchmarks/fuzz_examples.py [--duration 60] [--repeat 2] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from conformance.fuzz.campaign import _campaign, fuzz
from conformance.targets import load_target

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "reference_impls" / "process_app.py"


def examples_per_minute(campaign, duration: float, seed: int, where: Path) -> tuple[float, int]:
    """Examples per minute of one campaign of ``duration`` seconds, and its examples."""
    target = load_target(str(TARGET))
    report_dir = where / f"c{time.monotonic_ns()}"
    start = time.perf_counter()
    result = campaign(
        target, report_dir, duration=duration, seed_value=seed, progress=lambda _line: None
    )
    took = time.perf_counter() - start
    examples = int(result.info["examples"])
    return examples / took * 60, examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per campaign")
    parser.add_argument("--repeat", type=int, default=2, help="campaigns of each kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"rescheck fuzz on {TARGET.name}, isolated, {args.duration:.0f} s campaigns, seed "
        f"{args.seed}, best of {args.repeat}; {os.cpu_count()} CPUs, load average {load:.2f}"
    )
    kinds = {"host started when needed": _campaign, "host started ahead (rescheck fuzz)": fuzz}
    best: dict[str, tuple[float, int]] = {}
    with tempfile.TemporaryDirectory(prefix="rescheck-bench-") as where:
        for _ in range(args.repeat):
            for name, campaign in kinds.items():
                found = examples_per_minute(campaign, args.duration, args.seed, Path(where))
                best[name] = max(best.get(name, found), found)
    base = best["host started when needed"][0]
    print("| hosts | examples/min | speed-up | examples |")
    print("|---|---|---|---|")
    for name, (rate, examples) in best.items():
        print(f"| {name} | {rate:.1f} | {rate / base:.2f}x | {examples} |")


if __name__ == "__main__":
    main()
