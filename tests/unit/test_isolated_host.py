"""IsolatedHost on its own: what crosses from a target's host process, and what never does."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.monitor.isolated import IsolatedHost
from conformance.monitor.monitor import ResourceMonitor, RunAbandoned
from conformance.targets.pydll import resolve

WAIT = 10.0


class Callbacks:
    """Records what the host hands to the monitor."""

    cluster_root = None  # no cluster database: OpenCluster fails

    def __init__(self) -> None:
        self.logs: list[tuple[Any, ...]] = []
        self.exits: list[str] = []

    def snapshot(self) -> Callbacks:
        copy = Callbacks()
        copy.logs, copy.exits = list(self.logs), list(self.exits)
        return copy

    def SetResourceStatus(self, ResourceHandle: Any, ResourceStatus: Any) -> int:
        return 0

    def log_event(
        self, ResourceHandle: Any, LogLevel: Any, FormatString: Any, message: str, length: int
    ) -> None:
        self.logs.append((LogLevel, FormatString, message, threading.current_thread().name))

    def host_exited(self, how: str, output: str) -> None:
        self.exits.append(how)

    def thread_raised(self, thread: str, error: str, traceback_text: str) -> None:
        pass


def started(host: IsolatedHost) -> Callbacks:
    """Run the host's Startup, then close it; what reached the monitor by Startup's answer."""
    callbacks = Callbacks()
    try:
        host.startup("T", 0x100, 0x100, callbacks, WAIT)
        return Callbacks.snapshot(callbacks)
    finally:
        host.close()


def host_for(tmp_path: Path, source: str) -> IsolatedHost:
    module = tmp_path / f"dll_{len(list(tmp_path.iterdir()))}.py"
    module.write_text(source, "utf-8")
    return IsolatedHost(resolve(str(module)))


def test_values_of_the_targets_own_classes_cross_as_plain_data_without_running_its_code(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "ran-in"
    host = host_for(
        tmp_path,
        f"""
import enum, os

class Level(enum.IntEnum):
    INFO = 1

class Sneaky(int):
    def __reduce__(self):
        return (os.system, ("echo harness >> {marker}",))

def Startup(ResourceType, Min, Max, SetResourceStatus, LogEvent):
    LogEvent(None, Level.INFO, "hello %1", "x")
    return Sneaky(0), None
""",
    )
    callbacks = Callbacks()
    try:
        outcome = host.startup("T", 0x100, 0x100, callbacks, WAIT)
    finally:
        host.close()
    assert outcome.value == (0, None) and type(outcome.value[0]) is int, (
        f"an int subclass should arrive as a plain int; got {outcome.value!r}"
    )
    assert [(type(level), level) for level, *_ in callbacks.logs] == [(int, 1)], callbacks.logs
    assert not marker.exists(), "the target's code must never run in the harness's process"
    assert not any(name.startswith("dll_") for name in sys.modules), "nor its module be imported"


def test_a_host_leaves_no_file_descriptor_behind(tmp_path: Path) -> None:
    source = "def Startup(*args):\n    return 0, None\n"
    host_for(tmp_path, source).close()  # warm up whatever is created once
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        host_for(tmp_path, source).close()
    time.sleep(0.2)
    after = len(os.listdir("/proc/self/fd"))
    assert after <= before, f"open fds went from {before} to {after} over 5 hosts"


def test_a_host_ended_by_a_forked_process_is_still_seen(tmp_path: Path) -> None:
    host = host_for(
        tmp_path,
        """
import os, threading, time

def Startup(*args):
    if os.fork() == 0:
        time.sleep(30)  # the fork keeps the host's socket and pipes open
        os._exit(0)
    threading.Timer(0.3, os._exit, (7,)).start()
    return 0, None
""",
    )
    callbacks = Callbacks()
    try:
        host.startup("T", 0x100, 0x100, callbacks, WAIT)
        deadline = time.perf_counter() + WAIT
        while not callbacks.exits and time.perf_counter() < deadline:
            time.sleep(0.05)
    finally:
        host.close()
    assert callbacks.exits == ["exit code 7"], (
        f"the host's exit should be reported although a fork holds its socket: {callbacks.exits}"
    )


@pytest.mark.parametrize("names", [("alpha", "beta", "gamma")])
def test_callbacks_carry_the_name_of_the_thread_that_made_them(
    tmp_path: Path, names: tuple[str, ...]
) -> None:
    host = host_for(
        tmp_path,
        f"""
import threading

def Startup(ResourceType, Min, Max, SetResourceStatus, LogEvent):
    for name in {names!r}:  # one after the other: the ident of each is reused
        thread = threading.Thread(target=LogEvent, args=(None, 0, "from %1", name), name=name)
        thread.start()
        thread.join()
    return 0, None
""",
    )
    callbacks = started(host)
    seen = sorted(
        (message.removeprefix("from "), thread) for _, _, message, thread in callbacks.logs
    )
    # the order callbacks of different threads arrive in is not the point (nor guaranteed)
    assert seen == sorted((name, name) for name in names), (
        f"expected each thread's own name: {seen}"
    )


def test_callbacks_another_thread_made_before_a_call_returned_are_answered_first(
    tmp_path: Path,
) -> None:
    """As in-process: what the target logged before a call returned is seen before the call's
    answer, from whichever thread it logged (else a LogEvent made before Close came back would
    look like one made after it)."""
    host = host_for(
        tmp_path,
        """
import threading

def Startup(ResourceType, Min, Max, SetResourceStatus, LogEvent):
    def flood():
        for i in range(3000):
            LogEvent(None, 0, "entry %1!u!", i)

    thread = threading.Thread(target=flood, name="flooder")
    thread.start()
    thread.join()
    return 0, None
""",
    )
    seen = len(started(host).logs)
    assert seen == 3000, f"all 3000 entries should be answered before Startup's answer; {seen}"


def test_abandoning_a_run_during_startup_blames_nobody(tmp_path: Path) -> None:
    """The budget ran out while Startup ran: rescheck killed the host, not the target."""
    host = host_for(tmp_path, "import time\n\ndef Startup(*args):\n    time.sleep(5)\n")
    monitor = ResourceMonitor(host, "T")
    threading.Timer(0.3, monitor.abandon, ("the run's wall-clock budget was spent",)).start()
    try:
        with pytest.raises(RunAbandoned):
            monitor.startup()
    finally:
        monitor.shutdown()
    [startup] = monitor.trace.calls("Startup")
    assert startup.cut_short and "crashed" not in startup.data, (
        f"a Startup cut short by rescheck is not a crash of the target: {startup.data}"
    )


def test_lost_quorum_resource_crosses_from_the_host(tmp_path: Path) -> None:
    """Arbitrate gets a LostQuorumResource routine that works from any thread of the host."""
    module = tmp_path / "quorum_dll.py"
    module.write_text(
        """
import threading
from conformance.resapi import FunctionTable, ERROR_SUCCESS

HANDLES = {}

def Startup(ResourceType, Min, Max, SetResourceStatus, LogEvent):
    return ERROR_SUCCESS, FunctionTable(Version=0x100, Open=Open, Close=Close, Online=Online,
        Offline=Offline, Terminate=Terminate, LooksAlive=LooksAlive, IsAlive=IsAlive,
        ResourceControl=None, ResourceTypeControl=None, Arbitrate=Arbitrate, Release=Release)

def Open(ResourceName, ResourceKey, ResourceHandle):
    HANDLES[ResourceName] = ResourceHandle
    return ResourceName

def Close(ResourceId): pass
def Online(ResourceId, EventHandle): return ERROR_SUCCESS
def Offline(ResourceId): return ERROR_SUCCESS
def Terminate(ResourceId): pass
def LooksAlive(ResourceId): return True
def IsAlive(ResourceId): return True

def Arbitrate(ResourceId, LostQuorumResource):
    lose = lambda: LostQuorumResource(HANDLES[ResourceId])
    threading.Timer(0.05, lose).start()  # the defence fails soon after winning
    return ERROR_SUCCESS

def Release(ResourceId): return ERROR_SUCCESS
""",
        "utf-8",
    )
    monitor = ResourceMonitor(IsolatedHost(resolve(str(module))), "T")
    try:
        monitor.startup()
        resource = monitor.open("q1", {})
        assert resource.arbitrate() == 0 and resource.quorum_owner, "Arbitrate won"
        deadline = time.monotonic() + WAIT
        while resource.quorum_owner and time.monotonic() < deadline:
            time.sleep(0.01)
        [lost] = monitor.trace.callbacks("LostQuorumResource")
        assert lost.data["known_handle"] and lost.resource == "q1" and not resource.quorum_owner, (
            f"the DLL's LostQuorumResource should reach the monitor for q1; got {lost}"
        )
    finally:
        monitor.shutdown()
        monitor.host.close()
