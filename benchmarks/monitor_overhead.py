"""Prints the reference monitor's overhead per entry-point call, in-process and isolated.

Compares calling a trivial target's LooksAlive, IsAlive and a synchronous Online/Offline
pair directly with calling them through the monitor (call thread, locks, trace), with the
target in this process and in its own host process (the round trip over the socket). Figures,
not a pass/fail test: run it on a quiet machine and read the numbers.

    python3 benchmarks/monitor_overhead.py [--calls N]
"""

from __future__ import annotations

import argparse
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from conformance.monitor.host import Host, InProcessHost
from conformance.monitor.isolated import IsolatedHost
from conformance.monitor.monitor import Resource, ResourceMonitor
from conformance.monitor.policy import Policy
from conformance.protocol import messages
from conformance.protocol.frames import FrameReader, pack, write_all
from conformance.targets.pydll import load_fresh, resolve

#: The trivial DLL, loaded in this process (and, for the isolated figures, in a host process).
TRIVIAL = Path(__file__).with_name("trivial_dll.py")


def per_call_us(fn, calls: int, repeats: int = 5) -> float:
    """Best-of-median: the median of ``repeats`` batches, in microseconds per call."""
    batches = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        batches.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(batches)


#: The physical floor of an isolated call: a child process that echoes each frame back over
#: the same transport (a socket pair, the protocol's framing), decoding nothing.
ECHO = """
import os, sys
from conformance.protocol.frames import FrameReader, write_all
fd = int(sys.argv[1])
reader = FrameReader(fd)
while (body := reader.read()) is not None:
    write_all(fd, len(body).to_bytes(4, "little") + body)
"""


def echo_round_trip_us(calls: int) -> float:
    """A call-sized frame to an echoing child process and back, as a host's call goes."""
    ours, theirs = socket.socketpair()
    child = subprocess.Popen(
        [sys.executable, "-c", ECHO, str(theirs.fileno())], pass_fds=(theirs.fileno(),)
    )
    theirs.close()
    frame = pack(messages.Call(id=1, entry="LooksAlive", args=(1,), resource="bench").to_wire())
    reader = FrameReader(ours.fileno())

    def once() -> None:
        write_all(ours.fileno(), frame)
        reader.read()

    try:
        return per_call_us(once, calls)
    finally:
        ours.close()
        child.wait()


def hand_off_us(calls: int) -> float:
    """A job handed to a waiting thread and its end handed back: the in-process floor, the
    two thread wake-ups every contained call costs (`CallRunner`'s queue and lock, no work)."""
    inbox: queue.SimpleQueue[threading.Lock | None] = queue.SimpleQueue()

    def worker() -> None:
        while (done := inbox.get()) is not None:
            done.release()

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()

    def once() -> None:
        done = threading.Lock()
        done.acquire()
        inbox.put(done)
        done.acquire()

    try:
        return per_call_us(once, calls)
    finally:
        inbox.put(None)
        thread.join()


def online(host: Host) -> tuple[ResourceMonitor, Resource]:
    # Polls far apart so the monitor's own polling does not compete with the measurement.
    monitor = ResourceMonitor(host, "Trivial", Policy(time_scale=1.0))
    monitor.startup()
    resource = monitor.open(
        "bench", common={"LooksAlivePollInterval": 10**9, "IsAlivePollInterval": 10**9}
    )
    resource.online()
    return monitor, resource


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()

    ref = resolve(str(TRIVIAL))
    dll = load_fresh(ref)
    monitor, resource = online(InProcessHost(dll))
    resid = resource.resid
    isolated_monitor, isolated = online(IsolatedHost(ref))
    rows = [
        ("LooksAlive", lambda: dll.TABLE.LooksAlive(resid), "looks_alive"),
        ("IsAlive", lambda: dll.TABLE.IsAlive(resid), "is_alive"),
        (
            "Offline+Online",
            lambda: (dll.TABLE.Offline(resid), dll.TABLE.Online(resid, None)),
            "offline+online",
        ),
    ]
    print(
        f"{'entry point':16} {'direct µs':>10} {'monitor µs':>11} {'overhead µs':>12} "
        f"{'isolated µs':>12}   (median of 5 batches of {args.calls})"
    )
    for name, direct, method in rows:
        pair = "+" in method
        calls = args.calls // (2 if pair else 1)
        d = per_call_us(direct, args.calls)
        m = per_call_us(_through(resource, method), calls)
        i = per_call_us(_through(isolated, method), calls // 4)
        print(f"{name:16} {d:10.2f} {m:11.2f} {m - d:12.2f} {i:12.2f}")
    native = _native_monitor()
    if native is not None:
        native_monitor, native_resource = native
        for name, _direct, method in rows:
            calls = args.calls // (8 if "+" in method else 4)
            n = per_call_us(_through(native_resource, method), calls)
            print(f"{name:16} {'':10} {'':11} {'':12} {n:12.2f}   (native host, under Wine)")
        native_monitor.shutdown()
    hand_off = hand_off_us(args.calls)
    print(f"{'bare hand-off':16} {'':10} {'':11} {hand_off:12.2f}   (the in-process floor)")
    floor = echo_round_trip_us(args.calls)
    print(f"{'bare echo':16} {'':10} {'':11} {'':12} {floor:12.2f}   (the isolated floor)")
    print(
        f"CPUs: {os.cpu_count()}; trace events recorded: {len(monitor.trace)} in-process, "
        f"{len(isolated_monitor.trace)} isolated"
    )
    isolated_monitor.shutdown()
    monitor.shutdown()


def _native_monitor() -> tuple[ResourceMonitor, Resource] | None:
    """The trivial DLL in C, in the native host (None where mingw-w64 or Wine is missing)."""
    from conformance.errors import UsageError
    from conformance.native.build import build_dll
    from conformance.native.launch import native_launch

    try:
        with tempfile.TemporaryDirectory(prefix="rescheck-bench-") as where:
            dll = build_dll([TRIVIAL.with_suffix(".c")], Path(where) / "trivial.dll")
            return online(IsolatedHost(launch=native_launch(dll)))
    except UsageError as exc:
        print(f"(no native figures: {exc})")
        return None


def _through(resource: Resource, method: str):
    if method == "offline+online":
        return lambda: (resource.offline(), resource.online())
    return getattr(resource, method)


if __name__ == "__main__":
    main()
