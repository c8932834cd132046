"""Prints the reference monitor's overhead per entry-point call, in-process.

Compares calling a trivial target's LooksAlive, IsAlive and a synchronous Online/Offline
pair directly with calling them through the monitor (call thread, locks, trace). Figures,
not a pass/fail test: run it on a quiet machine and read the numbers.

    python3 benchmarks/monitor_overhead.py [--calls N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from types import SimpleNamespace

from conformance.monitor.host import InProcessHost
from conformance.monitor.monitor import ResourceMonitor
from conformance.monitor.policy import Policy
from conformance.resapi import ERROR_SUCCESS, FunctionTable


def trivial_dll() -> SimpleNamespace:
    table = FunctionTable(
        Open=lambda name, key, handle: object(),
        Close=lambda resid: None,
        Online=lambda resid, event: ERROR_SUCCESS,
        Offline=lambda resid: ERROR_SUCCESS,
        Terminate=lambda resid: None,
        LooksAlive=lambda resid: True,
        IsAlive=lambda resid: True,
    )
    return SimpleNamespace(Startup=lambda *args: (ERROR_SUCCESS, table), table=table)


def per_call_us(fn, calls: int, repeats: int = 5) -> float:
    """Best-of-median: the median of ``repeats`` batches, in microseconds per call."""
    batches = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        batches.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()

    dll = trivial_dll()
    # Polls far apart so the monitor's own polling does not compete with the measurement.
    monitor = ResourceMonitor(InProcessHost(dll), "Trivial", Policy(time_scale=1.0))
    monitor.startup()
    resource = monitor.open(
        "bench", common={"LooksAlivePollInterval": 10**9, "IsAlivePollInterval": 10**9}
    )
    resid = resource.resid
    resource.online()

    rows = [
        ("LooksAlive", lambda: dll.table.LooksAlive(resid), resource.looks_alive),
        ("IsAlive", lambda: dll.table.IsAlive(resid), resource.is_alive),
        (
            "Offline+Online",
            lambda: (dll.table.Offline(resid), dll.table.Online(resid, None)),
            lambda: (resource.offline(), resource.online()),
        ),
    ]
    print(
        f"{'entry point':16} {'direct µs':>10} {'monitor µs':>11} {'overhead µs':>12}   (median of 5 batches of {args.calls})"
    )
    for name, direct, through in rows:
        d = per_call_us(direct, args.calls)
        m = per_call_us(through, args.calls // (2 if "+" in name else 1))
        print(f"{name:16} {d:10.2f} {m:11.2f} {m - d:12.2f}")
    print(f"trace events recorded: {len(monitor.trace)}")
    monitor.shutdown()


if __name__ == "__main__":
    main()
