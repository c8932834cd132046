"""Finding a world in which a control script comes online (issue 18, docs/design.md
principle 8).

A script checks its world (is the service there, is it running, what does a command print)
before it reports success. Where the companion does not describe that world, the stand-ins
answer "nothing found", and a correct script rightly fails Online; every check that needs an
online resource then has nothing to judge. So before the scenarios, rescheck plays one short
cycle (Open, Online, LooksAlive, IsAlive, Offline, Close) in the stand-in world and then in a
few generated worlds (`conformance.genscript.world`), and runs the suite in the first one
where Online succeeded and both health checks said healthy. The generated worlds are fixed
seeds: a run is repeatable. Then one more cycle in that world, in which the entity fails once
the resource is online (`World.failing`): what the health checks do then is what they exist
for. A world rule still is not judged on a stand-in's answer; the worlds only let the other
rules (a runtime error, a number for success) see the script at work.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from conformance.genscript.world import FAILURES, STAND_IN, World
from conformance.monitor.monitor import MonitorError
from conformance.resapi import ClusterResourceOffline, ClusterResourceOnline
from conformance.runtime.trace import CALLBACK
from conformance.suite.context import Halt, ScenarioRun
from conformance.suite.worlds import stand_in_answers

#: The scenario's name.
WORLDS = "worlds"
#: The generated worlds tried after the stand-in world, in order.
SEEDS = tuple(range(1, 17))
#: How long one try waits for Online (s): a script that loops on a world that never changes
#: would otherwise hold the run for 20 PendingTimeouts.
ONLINE_WAIT_S = 10.0


@dataclass
class WorldChoice:
    """The world the suite runs in, and what the worlds tried before it answered."""

    seed: int = STAND_IN
    found: bool = False
    tried: list[tuple[int, str]] = field(default_factory=list)
    #: What the health checks said once the entity had failed in the chosen world, each way.
    after_failure: dict[str, str] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        """For results.json's ``info``."""
        return {
            "seed": self.seed,
            "world": World(self.seed).describe(),
            "came_online": self.found,
            "tried": [f"{World(seed).describe()}: {why}" for seed, why in self.tried],
            "after_failure": self.after_failure,
        }

    def describe(self) -> str:
        if self.found and self.seed == STAND_IN:
            return "the stand-in world"
        if self.found:
            return (
                f"{World(self.seed).describe()}, the first of the worlds tried in which the script "
                "came online and said healthy"
            )
        return (
            f"the stand-in world: in none of the {len(self.tried)} worlds tried did it come online"
        )


def worlds(run: ScenarioRun) -> None:
    """The scenario: a short cycle in each world; the first where ``run.target`` (a control
    script) comes online and says healthy is ``run.notes["world"]``. The stand-in world
    stays when none does; no generated world is tried when the script asked the stand-ins
    nothing (every world then answers it alike). The cycles' traces are judged as any
    scenario's: a runtime error in a world where the service is missing is the script's."""
    choice = WorldChoice()
    run.notes["world"] = choice
    script = run.target
    for seed in (STAND_IN, *SEEDS):
        run.target = dataclasses.replace(script, world=seed)
        asked_before = len(run.traces)
        try:
            why = _try(run, f"rescheck-world-{seed}")
        except (Halt, MonitorError) as exc:
            why = str(exc.stop.reason if isinstance(exc, Halt) else exc)
        finally:
            for monitor in run.monitors:
                monitor.shutdown()
        asked = stand_in_answers(
            e for t in run.traces[asked_before:] for e in t if e.kind == CALLBACK
        )
        if why is None and not choice.found:
            choice.seed, choice.found = seed, True
            for how in FAILURES if asked else ():  # a failure it could see
                run.target = dataclasses.replace(script, world=seed, world_fails=how)
                choice.after_failure[how] = _fail(run, f"rescheck-world-{seed}-{how}")
        elif why is not None:
            choice.tried.append((seed, why))
        if not asked or run.abandoned.is_set():
            break  # no generated world would answer it otherwise
    run.target = script


def _try(run: ScenarioRun, name: str) -> str | None:
    """One short cycle in ``run``'s world: None if the script came online and said healthy,
    else what it did instead."""
    monitor = run.monitor()
    monitor.startup()
    resource = run.open(monitor, name)
    try:
        state = resource.online(timeout=ONLINE_WAIT_S)
        if state != ClusterResourceOnline:
            return "Online did not succeed"
        answers = {entry: call() for entry, call in _health(monitor, resource)}
        unhealthy = [entry for entry, healthy in answers.items() if healthy is not True]
        if unhealthy:
            return f"{' and '.join(unhealthy)} said not healthy"
        resource.offline(timeout=ONLINE_WAIT_S)
        return None
    finally:
        if resource.state != ClusterResourceOnline:
            resource.terminate()
        resource.close()


def _fail(run: ScenarioRun, name: str) -> str:
    """A cycle in which the entity fails once online: what the health checks said then."""
    try:
        monitor = run.monitor()
        monitor.startup()
        resource = run.open(monitor, name)
    except (Halt, MonitorError) as exc:
        return str(exc.stop.reason if isinstance(exc, Halt) else exc)
    try:
        if resource.online(timeout=ONLINE_WAIT_S) != ClusterResourceOnline:
            return "Online did not succeed"
        said = [f"{entry} said {call()!r}" for entry, call in _health(monitor, resource)]
        if resource.state == ClusterResourceOnline:  # taken offline before a poll noticed
            resource.offline(timeout=ONLINE_WAIT_S)
        return ", ".join(said) or "no health check to call"
    except MonitorError as exc:
        return str(exc)
    finally:
        if resource.state != ClusterResourceOffline:
            resource.terminate()
        resource.close()
        for monitor in run.monitors:
            monitor.shutdown()


def _health(monitor: Any, resource: Any) -> list[tuple[str, Any]]:
    return [
        (entry, call)
        for entry, call in (("LooksAlive", resource.looks_alive), ("IsAlive", resource.is_alive))
        if monitor.host.has(entry)
    ]
