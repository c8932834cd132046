"""Prints rescheck fuzz's throughput against a bare hypothesis state machine.

Both machines drive the same trivial, synchronous resource DLL in this process with the same
rules (`conformance.fuzz.machine.Operations`: open another instance, Online, Offline,
Terminate, LooksAlive, IsAlive, ResourceControl, Close, pauses; the pending steps have nothing
to wait for), the same settings and the same seed, so both run exactly the same steps
(checked). The bare one carries each step out by calling the entry point directly and checks
nothing; rescheck's, as `rescheck fuzz` runs it, goes through the reference monitor, checks
every step against the state model and judges the trace with the suite's trace rules after
every step and at the end. The issue's target: the harness costs no more than a third extra.
Figures, not a pass/fail test: run it on a quiet machine and read the numbers.

Rows: with the fuzzer's own pauses; with pauses of 0 s (the harness's cost per step alone);
and the same with the process on one CPU, which shows how much of that is the operating
system waking the call thread on the other CPU (each entry point is handed to a call thread,
so that a call that hangs can be abandoned).

    python3 benchmarks/fuzz_throughput.py [--examples N] [--repeat R]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import seed, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from conformance.fuzz import driver
from conformance.fuzz.campaign import Progress, _instrumented
from conformance.fuzz.interrupt import Watch
from conformance.fuzz.machine import machine_for, operations
from conformance.fuzz.profiles import CAMPAIGN, STEPS_PER_EXAMPLE
from conformance.targets import load_target
from conformance.targets.pydll import load_fresh, resolve

#: The trivial DLL, loaded in this process (and, for the isolated figures, in a host process).
TRIVIAL = Path(__file__).with_name("trivial_dll.py")


def bare_machine(table: Any, counter: list[int]) -> type[RuleBasedStateMachine]:
    """The fuzzer's rules, each step a direct call of the table: the floor, no harness (no
    monitor, no call thread, no trace, no check). A synchronous target has no report to
    wait for and nothing pending to settle, and Close takes the instance out, as for the
    monitor."""

    class Bare(operations(breaker=False)):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.resids: dict[int, object] = {}

        def step(self, op: str, instance: int = 0, arg: Any = None) -> None:
            counter[0] += 1
            if op == "open":
                self.resids[instance] = table.Open(f"bare-{instance}", None, instance)
                return
            resid = self.resids.get(instance)
            if op in ("online", "begin_online"):
                table.Online(resid, None)
            elif op in ("offline", "begin_offline"):
                table.Offline(resid)
            elif op == "terminate":
                table.Terminate(resid)
            elif op == "looks_alive":
                table.LooksAlive(resid)
            elif op == "is_alive":
                table.IsAlive(resid)
            elif op == "control":
                code, in_buffer, size = arg
                table.ResourceControl(
                    resid, code, in_buffer, None if size is None else bytearray(size)
                )
            elif op == "close":
                table.Close(resid)
            elif op == "pause":
                time.sleep(driver.PAUSE_S)

    return Bare


#: Both machines run with this seed, so that they draw the same steps.
SEED = 0


def seconds(machine: type[RuleBasedStateMachine], examples: int) -> float:
    seed(SEED)(machine)
    start = time.perf_counter()
    run_state_machine_as_test(
        machine, settings=settings(CAMPAIGN, max_examples=examples, database=None)
    )
    return time.perf_counter() - start


def compare(module: Path, examples: int) -> tuple[float, float, int]:
    """Seconds taken by the bare machine and by rescheck's, and the steps each ran."""
    counter = [0]
    bare = seconds(bare_machine(load_fresh(resolve(str(module))).TABLE, counter), examples)
    target = load_target(str(module), hosting="in-process")
    state = Progress()
    machine = _instrumented(machine_for(target), state, lambda line: None, Watch())
    ours = seconds(machine, examples)
    if counter[0] != state.steps:
        raise SystemExit(
            f"the machines ran different steps ({counter[0]} bare, {state.steps} rescheck): "
            "a rule draws differently in one of them"
        )
    return bare, ours, state.steps


@contextlib.contextmanager
def one_cpu(wanted: bool) -> Iterator[None]:
    """Every thread of this process (and every thread it starts) on one CPU, if ``wanted``."""
    if not wanted:
        yield
        return
    cpus = os.sched_getaffinity(0)

    def pin(to: set[int]) -> None:
        for task in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError):  # a thread that ended meanwhile
                os.sched_setaffinity(int(task), to)

    pin({min(cpus)})
    try:
        yield
    finally:
        pin(cpus)


def row(repeat: int, examples: int, pause: float, pinned: bool) -> tuple[float, float, str]:
    """Best steps/s of each side over ``repeat`` interleaved runs, and the harness cost (best
    and median): a slower run measures what else the machine was doing, not the code."""
    driver.PAUSE_S = pause
    with one_cpu(pinned):
        runs = [compare(TRIVIAL, examples) for _ in range(repeat)]
    steps = runs[0][2]
    best_bare, best_ours = min(b for b, _, _ in runs), min(o for _, o, _ in runs)
    median_bare = statistics.median(b for b, _, _ in runs)
    median_ours = statistics.median(o for _, o, _ in runs)
    cost = f"{best_ours / best_bare - 1:+.0%} (median {median_ours / median_bare - 1:+.0%})"
    return steps / best_bare, steps / best_ours, cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure; the best counts")
    args = parser.parse_args()
    print(
        f"{args.examples} examples of up to {STEPS_PER_EXAMPLE} steps, seed {SEED}, best of "
        f"{args.repeat} interleaved runs; target: at most +33%"
    )
    print(f"{'rules':34} {'bare steps/s':>13} {'rescheck steps/s':>17}   harness cost")
    rows: list[tuple[str, float, bool]] = [
        ("with the fuzzer's pauses", driver.PAUSE_S, False),
        ("pauses of 0 s", 0.0, False),
        ("pauses of 0 s, one CPU", 0.0, True),
    ]
    for label, pause, pinned in rows:
        bare, ours, cost = row(args.repeat, args.examples, pause, pinned)
        print(f"{label:34} {bare:13.0f} {ours:17.0f}   {cost}", flush=True)


if __name__ == "__main__":
    main()
