"""The quorum scenario (docs/contract.md §7): several nodes arbitrate for one quorum resource,
with faults, and a Jepsen-style reading of what they did.

Each node is a monitor of its own with its own host process, and every node opens *the same*
resource (same name, same cluster-database key). The scenario records a history: every
Arbitrate, Release and Online with its node and real time, every LostQuorumResource, and the
faults rescheck caused (an owner killed with SIGKILL, an owner stopped with SIGSTOP past the
time another node needs to take over, then resumed). `analyse` turns the history into what
each node believed it owned and when, and the checks judge that: at most one owner at a time
(an owner that was stopped is excused until it runs again, and must then say it lost the
quorum promptly), a free quorum is won in time, a Release really lets another node win, a
node that lost answers Online with ERROR_RESOURCE_NOT_AVAILABLE.
"""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.monitor.isolated import IsolatedHost
from conformance.monitor.monitor import MonitorError, Resource, ResourceMonitor, dword
from conformance.resapi import (
    CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT,
    ERROR_SUCCESS,
    error_name,
)
from conformance.runtime.threads import harness_thread
from conformance.runtime.trace import CALL, CALLBACK
from conformance.suite.context import Halt, ScenarioRun, Stop

#: How many nodes the conformance run starts: enough for a kill and a pause in one run.
NODES = 3
#: The resource every node opens.
QUORUM_RESOURCE = "rescheck-quorum"
#: QuorumArbitrationTimeMax (AR-10): the longest a node may spend arbitrating (s). The bound
#: for winning a free quorum is what the type answers to GET_ARB_TIMEOUT (AR-11), at most this;
#: not scaled, as the DLL's own timing is real.
QUORUM_ARBITRATION_TIME_MAX_S = 20.0
#: GET_ARB_TIMEOUT's documented default (AR-11), when the type does not answer it.
DEFAULT_ARB_TIMEOUT_S = 60.0
#: How soon an owner that lost control while stopped must say so once it runs again (s): two
#: of the docs' example defence periods (AR-5: a disk re-reserves once per second).
LOST_PROMPT_S = 2.0
#: Between two rounds of arbitration that nobody won (s).
RETRY_S = 0.1
#: Poll intervals that never fire: the scenario decides every call.
QUIET = {"LooksAlivePollInterval": 3_600_000, "IsAlivePollInterval": 3_600_000, "RestartAction": 0}


@dataclass
class Op:
    """One entry of the history: ``op`` by ``node`` from ``start`` to ``end`` (perf_counter
    seconds; ``end`` None: it never returned)."""

    node: int
    op: str  # arbitrate, release, online, lost, kill, pause, resume
    start: float
    end: float | None
    result: Any = None

    def describe(self, origin: float) -> str:
        end = "never returned" if self.end is None else f"{(self.end - origin) * 1000:8.0f} ms"
        answer = "" if self.result is None else f" -> {error_name(self.result)}"
        return (
            f"{(self.start - origin) * 1000:8.0f} ms .. {end}  node {self.node}: {self.op}{answer}"
        )


@dataclass
class History:
    bound_s: float  # how long a node may need to win a free quorum
    origin: float = field(default_factory=time.perf_counter)
    ops: list[Op] = field(default_factory=list)
    faults_possible: bool = True  # isolated hosting: nodes can be killed and stopped

    def fault(self, node: int, op: str, do: Callable[[], None]) -> None:
        """A fault rescheck causes (kill, pause, resume), at the time it was caused."""
        start = time.perf_counter()
        do()
        self.ops.append(Op(node, op, start, time.perf_counter()))

    def collect(self, monitors: dict[int, ResourceMonitor]) -> None:
        """Every Arbitrate, Release and Online of the nodes and every LostQuorumResource, from
        their traces (the monitor's own Arbitrate before an Online included)."""
        for node, monitor in monitors.items():
            origin = monitor.trace.origin
            for event in monitor.trace:
                if event.kind == CALL and event.name in ("Arbitrate", "Release", "Online"):
                    end = None if event.end is None else origin + event.end
                    self.ops.append(
                        Op(node, event.name.lower(), origin + event.start, end, event.result)
                    )
                elif event.kind == CALLBACK and event.name == "LostQuorumResource":
                    at = origin + event.start
                    self.ops.append(Op(node, "lost", at, at))
        self.ops.sort(key=lambda o: o.start)

    def timeline(self, ops: list[Op]) -> list[str]:
        """The slice ``ops``, one line each, as evidence."""
        return [op.describe(self.origin) for op in sorted(ops, key=lambda o: o.start)]


@dataclass
class Ownership:
    """What node ``node`` believed from ``start`` to ``end``: that it owned the quorum (it
    won ``won`` and nothing since ended it). ``paused_at``/``resumed_at``: it was stopped
    meanwhile, so it may have lost the quorum without being able to say so."""

    node: int
    start: float
    end: float
    won: Op
    ended_by: Op | None = None
    paused_at: float | None = None
    resumed_at: float | None = None

    @property
    def definite_end(self) -> float:
        """Until when the belief counts against exclusivity: a stopped owner is excused."""
        return self.end if self.paused_at is None else min(self.end, self.paused_at)


def analyse(history: History, until: float) -> list[Ownership]:
    """Each node's ownership: from a successful Arbitrate's return until its Release was
    asked, its LostQuorumResource, its death, or ``until``."""
    owned: list[Ownership] = []
    current: dict[int, Ownership] = {}
    for op in sorted(history.ops, key=lambda o: o.start):
        held = current.get(op.node)
        if op.op == "arbitrate" and op.end is not None and dword(op.result) == ERROR_SUCCESS:
            if held is None:
                current[op.node] = Ownership(op.node, op.end, until, op)
        elif held is not None and op.op == "release" and dword(op.result) != ERROR_SUCCESS:
            continue  # "not released" (RL-1): it still owns the quorum
        elif held is not None and op.op in ("release", "lost", "kill"):
            held.end, held.ended_by = op.start, op
            owned.append(current.pop(op.node))
        elif held is not None and op.op == "pause":
            held.paused_at = op.start
        elif held is not None and op.op == "resume":
            held.resumed_at = op.end
    return owned + list(current.values())


def _arbitration_bound(monitor: ResourceMonitor) -> float:
    """GET_ARB_TIMEOUT's answer (AR-11), or its default, capped at QuorumArbitrationTimeMax."""
    try:
        answer = monitor.type_control(CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT, None, 4)
    except MonitorError:
        return QUORUM_ARBITRATION_TIME_MAX_S
    seconds = DEFAULT_ARB_TIMEOUT_S
    if dword(answer.status) == ERROR_SUCCESS and len(answer.data) == 4:
        seconds = struct.unpack("<I", answer.data)[0] or DEFAULT_ARB_TIMEOUT_S
    return min(float(seconds), QUORUM_ARBITRATION_TIME_MAX_S)


def _together(nodes: list[tuple[int, Resource]], op: str) -> dict[int, Any]:
    """``op`` on every node at once (threads released together); node -> result."""
    results: dict[int, Any] = {}
    gate = threading.Barrier(len(nodes))

    def run(node: int, resource: Resource) -> None:
        gate.wait()
        try:
            results[node] = getattr(resource, op)()
        except MonitorError as exc:
            results[node] = exc

    threads = [
        harness_thread(threading.Thread(target=run, args=pair, name=f"node-{pair[0]}"))
        for pair in nodes
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _first_to_win(history: History, nodes: list[tuple[int, Resource]], since: float) -> int | None:
    """Nodes arbitrate together, round after round, until one wins or the bound since
    ``since`` has passed; the winner, or None."""
    while nodes:
        results = _together(nodes, "arbitrate")
        winners = [n for n, r in results.items() if dword(r) == ERROR_SUCCESS]
        if winners:
            return winners[0]
        if time.perf_counter() - since > history.bound_s:
            return None
        time.sleep(RETRY_S)  # an Arbitrate that fails at once is not hammered
    return None


#: What a schedule may do, step by step (each is what the cluster or a fault does):
#: ``contend``: every running node arbitrates at once until one wins (it may be the owner);
#: ``challenge``: the nodes that do not own the quorum arbitrate once while the owner defends;
#: ``online``: one of them asks for Online; ``release``: the owner releases and the others
#: contend; ``kill``: the owner's host is killed (SIGKILL) and the others contend; ``pause``:
#: the owner's host is stopped (SIGSTOP) until another node has won, then resumed.
STEPS = ("contend", "challenge", "online", "release", "kill", "pause")
#: The conformance run's schedule: every step once.
CONFORMANCE_SCHEDULE = ("contend", "challenge", "online", "release", "kill", "pause")


@dataclass(frozen=True)
class Schedule:
    nodes: int = NODES
    steps: tuple[str, ...] = CONFORMANCE_SCHEDULE

    def __str__(self) -> str:
        return f"{self.nodes} nodes: {', '.join(self.steps)}"


def quorum(run: ScenarioRun, schedule: Schedule | None = None) -> None:
    """Play ``schedule`` (the conformance one by default) on fresh nodes; the history and
    what could not be done go into ``run.notes``."""
    schedule = schedule or Schedule()
    monitors = {node: run.monitor() for node in range(1, schedule.nodes + 1)}
    for monitor in monitors.values():
        monitor.startup()
    first = monitors[1]
    if not first.quorum_capable:
        raise Halt(Stop("the type is not quorum-capable: its table lacks Arbitrate or Release"))
    resources = {node: run.open(m, QUORUM_RESOURCE, QUIET) for node, m in monitors.items()}
    history = History(_arbitration_bound(first))
    history.faults_possible = all(isinstance(m.host, IsolatedHost) for m in monitors.values())
    run.notes.update(history=history, schedule=schedule, unwon=[], paused=[], skipped=[])
    player = _Player(run, history, monitors, dict(resources))
    try:
        for step in schedule.steps:
            if not player.play(step):
                break
    finally:
        run.notes["until"] = time.perf_counter()
        for resource in player.alive.values():
            with contextlib.suppress(MonitorError):
                resource.release()
        history.collect(monitors)


@dataclass
class _Player:
    """Plays a schedule's steps, keeping who runs and who owns the quorum."""

    run: ScenarioRun
    history: History
    monitors: dict[int, ResourceMonitor]
    alive: dict[int, Resource]  # nodes whose host was not killed
    owner: int | None = None

    def play(self, step: str) -> bool:
        """One step; False when the schedule cannot go on (nobody won the quorum)."""
        if step in ("kill", "pause") and not self.history.faults_possible:
            self.run.notes["skipped"].append(
                f"{step}: in-process hosting, a node cannot be killed or stopped alone"
            )
            return True
        if step == "contend":
            return self.contend("free")
        if self.owner is None and not self.contend("free"):
            return False
        others = [(n, r) for n, r in self.alive.items() if n != self.owner]
        if step == "challenge":
            _together(others, "arbitrate")
        elif step == "online" and others:
            with contextlib.suppress(MonitorError):
                others[0][1].online()
        elif step == "release":
            answer = self.alive[self.owner].release()
            if dword(answer) != ERROR_SUCCESS:
                return True  # not released (RL-1): the owner keeps it
            return self.contend("release", exclude=self.owner)
        elif step == "kill" and len(self.alive) > 2:
            dead = self.owner
            self.history.fault(dead, "kill", lambda: _signal(self.monitors[dead], signal.SIGKILL))
            del self.alive[dead]
            return self.contend("kill")
        elif step == "pause" and len(self.alive) > 1:
            return self.pause()
        return True

    def contend(self, after: str, exclude: int | None = None) -> bool:
        """Nodes arbitrate until one wins; ``after`` says why the quorum is up for grabs
        (free, release, kill), for the notes when nobody wins."""
        since = time.perf_counter()
        nodes = [(n, r) for n, r in self.alive.items() if n != exclude]
        self.owner = _first_to_win(self.history, nodes, since)
        if self.owner is None:
            self.run.notes["unwon"].append((after, since))
        return self.owner is not None

    def pause(self) -> bool:
        owner = self.owner
        assert owner is not None
        trace = self.monitors[owner].trace
        known = len(trace.callbacks("LostQuorumResource"))  # what it said before it was stopped
        self.history.fault(owner, "pause", lambda: _signal(self.monitors[owner], signal.SIGSTOP))
        since = time.perf_counter()
        rest = [(n, r) for n, r in self.alive.items() if n != owner]
        try:
            winner = _first_to_win(self.history, rest, since)
        finally:  # a stopped host is never left stopped
            self.history.fault(
                owner, "resume", lambda: _signal(self.monitors[owner], signal.SIGCONT)
            )
        if winner is None:
            self.run.notes["unwon"].append(("pause", since))
            self.owner = owner  # nobody took over: it still owns it
            return True
        self.owner = winner
        self.run.notes["paused"].append((owner, since))
        deadline = time.perf_counter() + LOST_PROMPT_S * 2
        while (
            len(trace.callbacks("LostQuorumResource")) == known and time.perf_counter() < deadline
        ):
            time.sleep(0.02)
        return True


def _signal(monitor: ResourceMonitor, signum: int) -> None:
    host = monitor.host
    assert isinstance(host, IsolatedHost)
    if signum == signal.SIGKILL:
        monitor.trace.monitor("rescheck killed the node's host process (a quorum fault)")
    os.kill(host.process.pid, signum)
