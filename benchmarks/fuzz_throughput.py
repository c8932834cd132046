"""Prints rescheck fuzz's throughput against a bare hypothesis state machine.

Both machines drive the same trivial, synchronous resource DLL in this process with the same
rules (open another instance, Online, Offline, Terminate, LooksAlive, IsAlive, ResourceControl,
Close, pauses; the pending steps have nothing to wait for), the same settings and the same
seed, so both run exactly the same steps (checked). The bare one calls the entry points
directly and checks nothing; rescheck's goes through the reference monitor and judges every
sequence with the suite's trace rules. The issue's target: the harness costs no more than a
third extra. Figures, not a pass/fail test: run it on a quiet machine and read the numbers.

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
from collections.abc import Callable, Iterator
from pathlib import Path

from hypothesis import seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from conformance.fuzz import driver
from conformance.fuzz.campaign import Progress, _instrumented
from conformance.fuzz.driver import INSTANCES
from conformance.fuzz.machine import codes, in_buffers, machine_for, out_sizes
from conformance.fuzz.profiles import CAMPAIGN, STEPS_PER_EXAMPLE
from conformance.targets import load_target
from conformance.targets.pydll import load_fresh, resolve

#: The trivial DLL, loaded in this process (and, for the isolated figures, in a host process).
TRIVIAL = Path(__file__).with_name("trivial_dll.py")


def bare_machine(table, counter: list[int]) -> type[RuleBasedStateMachine]:
    """The same rules, calling the table directly."""

    class Bare(RuleBasedStateMachine):
        opened = Bundle("opened")

        def __init__(self) -> None:
            super().__init__()
            self.live = 0
            self.resids: dict[int, object] = {}

        def call(self, fn: Callable[..., object], *args: object) -> None:
            counter[0] += 1
            fn(*args)

        @initialize(target=opened)
        def open_first(self) -> int:
            return self.open()

        @precondition(lambda self: self.live < INSTANCES)
        @rule(target=opened)
        def open(self) -> int:
            counter[0] += 1
            instance = len(self.resids)
            self.resids[instance] = table.Open(f"bare-{instance}", None, instance)
            self.live += 1
            return instance

        @rule(instance=opened)
        def online(self, instance: int) -> None:
            self.call(table.Online, self.resids[instance], None)

        @rule(instance=opened)
        def offline(self, instance: int) -> None:
            self.call(table.Offline, self.resids[instance])

        @rule(instance=opened)
        def begin_online(self, instance: int) -> None:
            self.call(table.Online, self.resids[instance], None)

        @rule(instance=opened)
        def begin_offline(self, instance: int) -> None:
            self.call(table.Offline, self.resids[instance])

        @rule(instance=opened)
        def await_report(self, instance: int) -> None:
            counter[0] += 1  # a synchronous target never reports

        @rule(instance=opened)
        def settle(self, instance: int) -> None:
            counter[0] += 1

        @rule()
        def pause(self) -> None:
            counter[0] += 1
            time.sleep(driver.PAUSE_S)

        @rule(instance=opened, at=st.none() | st.integers(1, 3))
        def terminate(self, instance: int, at: int | None) -> None:
            self.call(table.Terminate, self.resids[instance])

        @rule(
            instance=opened,
            entry=st.sampled_from(("online", "offline")),
            at=st.none() | st.integers(1, 3),
        )
        def terminate_pending(self, instance: int, entry: str, at: int | None) -> None:
            resid = self.resids[instance]
            self.call(
                *((table.Online, resid, None) if entry == "online" else (table.Offline, resid))
            )
            self.call(table.Terminate, resid)

        @rule(
            instance=opened,
            entry=st.sampled_from(("online", "offline")),
            at=st.none() | st.integers(1, 3),
            code=codes,
            in_buffer=in_buffers,
            size=out_sizes,
        )
        def control_pending(
            self,
            instance: int,
            entry: str,
            at: int | None,
            code: int,
            in_buffer: bytes | None,
            size: int | None,
        ) -> None:
            resid = self.resids[instance]
            self.call(
                *((table.Online, resid, None) if entry == "online" else (table.Offline, resid))
            )
            if at:
                counter[0] += 1  # await_report: a synchronous target never reports
            out = None if size is None else bytearray(size)
            self.call(table.ResourceControl, resid, code, in_buffer, out)

        @rule(instance=opened)
        def looks_alive(self, instance: int) -> None:
            self.call(table.LooksAlive, self.resids[instance])

        @rule(instance=opened)
        def is_alive(self, instance: int) -> None:
            self.call(table.IsAlive, self.resids[instance])

        @rule(instance=opened, code=codes, in_buffer=in_buffers, size=out_sizes)
        def control(self, instance: int, code: int, in_buffer: bytes | None, size: int | None):
            out = None if size is None else bytearray(size)
            self.call(table.ResourceControl, self.resids[instance], code, in_buffer, out)

        @rule(instance=consumes(opened))
        def close(self, instance: int) -> None:
            self.live -= 1
            self.call(table.Close, self.resids[instance])

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
    ours = seconds(_instrumented(machine_for(target), state, lambda line: None), examples)
    if counter[0] != state.steps:
        raise SystemExit(
            f"the machines ran different steps ({counter[0]} bare, {state.steps} rescheck): "
            "their rules no longer match; make bare_machine's rules the fuzzer's again"
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
