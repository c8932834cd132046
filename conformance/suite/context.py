"""What a check sees: the target, the scenario runs (each with its traces), and the three
ways a check ends other than passing."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance.clusapi import ClusterDatabase, SqliteClusterDatabase
from conformance.monitor.monitor import (
    EntryPointHung,
    EntryPointNull,
    HostCrashed,
    MonitorError,
    OperationPending,
    Resource,
    ResourceMonitor,
    RunAbandoned,
    StartupFailed,
)
from conformance.monitor.policy import Policy
from conformance.resapi import CLRES_VERSION_V1_00
from conformance.rundir import run_dir
from conformance.runtime.threads import harness_thread
from conformance.runtime.trace import CALL, CALLBACK, Trace, TraceEvent
from conformance.runtime.tracebacks import is_traceback
from conformance.suite.worlds import undecided
from conformance.targets import Target

if TYPE_CHECKING:
    from conformance.suite.world_search import WorldChoice


class Violation(Exception):
    """The target broke the rule; ``events`` are the trace events that show it."""

    def __init__(
        self,
        message: str,
        trace: Trace | None = None,
        events: Iterable[TraceEvent] = (),
        lines: Iterable[str] = (),
        timeline: Iterable[dict[str, Any]] = (),
    ):
        super().__init__(message)
        self.trace = trace
        self.events = list(events)
        self.lines = list(lines)  # more evidence: measurements, stacks
        self.timeline = list(timeline)  # a history slice to draw, per node (quorum rules)

    def evidence(self) -> list[str]:
        excerpt = self.trace.excerpt(self.events) if self.trace is not None else []
        tracebacks = [
            line
            for event in self.events
            if is_traceback(str(event.data.get("traceback") or ""))
            for line in (f"{event.name}:", *str(event.data["traceback"]).splitlines())
        ]
        return excerpt + tracebacks + self.lines


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 call``, ``2 calls``: the figures in a check's message."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


class NotApplicable(Exception):
    """Nothing to judge, for a reason that is the target's (skipped, never passed)."""


class CannotJudge(Exception):
    """The harness could not set up what the check needs (an error outcome)."""


class UndeclaredScenario(Exception):
    """A check asked for a scenario its declaration does not list: a bug of rescheck's, so
    that the declarations (which the runner plans by) cannot drift from what checks read."""


@dataclass
class Stop:
    """Why a scenario ended early; ``rule`` names the rule whose violation stopped it."""

    reason: str
    rule: str | None = None


@dataclass
class ScenarioRun:
    name: str
    target: Target
    policy: Policy
    traces: list[Trace] = field(default_factory=list)
    monitors: list[ResourceMonitor] = field(default_factory=list)
    stop: Stop | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None  # rescheck itself failed in the scenario: nothing is judged
    abandoned: threading.Event = field(default_factory=threading.Event)  # the run's budget
    database: ClusterDatabase | None = None  # the run's; None: each monitor its own

    def monitor(self) -> ResourceMonitor:
        """A new monitor on a fresh load of the target (its own trace)."""
        if self.abandoned.is_set():
            raise RunAbandoned("rescheck stopped the run: its wall-clock budget was spent")
        trace = Trace()
        host = self.target.new_host()
        start, end = host.loaded  # the DllMain of a Python DLL: executing its module (DM-4)
        trace.add(
            CALL,
            "DllMain",
            start=start - trace.origin,
            end=end - trace.origin,
            args={},
            result=True,
        )
        monitor = ResourceMonitor(
            host, self.target.resource_type, self.policy, trace, self.database
        )
        self.monitors.append(monitor)
        self.traces.append(monitor.trace)
        if self.abandoned.is_set():  # the budget ran out while this host was starting
            monitor.abandon("the run's wall-clock budget was spent")
        return monitor

    def open(
        self, monitor: ResourceMonitor, name: str, common: dict[str, int] | None = None
    ) -> Resource:
        try:
            properties = self.target.properties_for(monitor.host, name)
        except Exception as exc:
            raise Halt(
                Stop(f"the companion's properties raised {type(exc).__name__}: {exc}")
            ) from None
        resource = monitor.open(name, properties, common)
        if not resource.opened:
            event = monitor.trace.calls("Open")[-1]
            if event.error or event.end is None:
                raise Halt(Stop("Open did not return a RESID", "Open.returns"))
            if self.target.script is not None:
                raise Halt(self._script_open_failed(monitor.trace))
            raise Halt(
                Stop(
                    f"Open returned NULL (last error {resource.open_error}); give the properties "
                    "the instance needs in the companion or with -o NAME=VALUE"
                    if resource.open_error
                    else "Open returned NULL without SetLastError",
                    "Open.resid" if not resource.open_error else None,
                )
            )
        return resource

    def _script_open_failed(self, trace: Trace) -> Stop:
        """Why the Generic Script DLL's Open failed: the script's runtime error in its Open or
        its script-level code (a finding of Script.runtime-errors), or an object this machine
        lacks (nothing to judge until the companion supplies it)."""
        from conformance.suite.worlds import missing_object

        errors = [
            e
            for e in trace
            if e.kind == CALLBACK
            and e.name in ("ScriptLoad", "ScriptCall")
            and e.data.get("status") == "error"
        ]
        if not errors:
            return Stop("the Generic Script DLL's Open returned NULL")
        said = f"Open failed: {errors[-1].data.get('error')}"
        lacking = missing_object(errors[-1], trace)
        if lacking is not None:
            return Stop(f"{said}: {lacking}; supply it in Companion(objects=...)")
        return Stop(said, "Script.runtime-errors")

    def holds(self, condition: Callable[[], bool], seconds: float) -> bool:
        """``condition`` stays true for ``seconds`` (sampled)."""
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            if not condition():
                return False
            time.sleep(0.02)
        return condition()

    def wait_for(self, condition: Callable[[], bool], timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if condition():
                return True
            time.sleep(0.005)
        return condition()

    def events(
        self, kind: str | None = None, name: str | None = None
    ) -> Iterator[tuple[Trace, TraceEvent]]:
        for trace in self.traces:
            for event in trace:
                if (kind is None or event.kind == kind) and (name is None or event.name == name):
                    yield trace, event

    def calls(self, name: str) -> list[tuple[Trace, TraceEvent]]:
        return list(self.events(CALL, name))


class Halt(Exception):
    """Raised inside a scenario to end it early with a `Stop`."""

    def __init__(self, stop: Stop):
        super().__init__(stop.reason)
        self.stop = stop


#: The scenarios that bring an instance online: after an Online that never ended, rescheck
#: does not wait for another.
BRINGS_ONLINE = frozenset(
    {
        "lifecycle",
        "terminate-pending",
        "terminate-concurrent",
        "instances",
        "leak-audit",
        "entity",
        "stored-properties",
        "quorum",
    }
)


#: The scenarios that call Startup whatever an earlier scenario's Startup did: the lifecycle
#: scenario keeps the evidence the Startup rules judge; startup-ranges offers other versions.
OWN_STARTUP = frozenset({"lifecycle", "startup-ranges"})


def own_range(event: TraceEvent) -> bool:
    """A Startup call offered the harness's own range, the one the suite loads the DLL with."""
    low, high = event.args.get("MinVersionSupported"), event.args.get("MaxVersionSupported")
    return isinstance(low, int) and isinstance(high, int) and low <= CLRES_VERSION_V1_00 <= high


class RunContext:
    """One conformance run: scenario results are computed once and shared by the checks."""

    def __init__(
        self, target: Target, policy: Policy | None = None, deadline: float | None = None
    ) -> None:
        self.target = target
        self.policy = policy or Policy()
        self._runs: dict[str, ScenarioRun] = {}
        self._lock = threading.Lock()
        self.abandoned = threading.Event()
        # the run's cluster database: one SQLite file, removed with the run
        self._db_dir = run_dir().mkdtemp("db-")
        self.database = SqliteClusterDatabase(str(self._db_dir / "cluster.db"))
        self._watchdog: threading.Timer | None = None
        self._never_ends: Stop | None = None  # an Online or Offline that never ended
        self._startup_failed: Stop | None = None  # Startup gave no table for the type
        self._declared: tuple[str, ...] | None = None  # the running check's scenarios
        if deadline is not None:
            wait = max(0.0, deadline - time.perf_counter())
            self._watchdog = threading.Timer(wait, self._abandon, (wait,))
            self._watchdog.daemon = True
            harness_thread(self._watchdog).start()

    def _abandon(self, budget: float) -> None:
        """The run's budget is spent: stop the scenario under way, whatever it waits for."""
        self.abandoned.set()
        for run in list(self._runs.values()):
            for monitor in list(run.monitors):
                monitor.abandon(f"the run's wall-clock budget ({budget:.0f} s) was spent")

    @contextlib.contextmanager
    def checking(self, scenarios: tuple[str, ...]) -> Iterator[None]:
        """While a check runs: the scenarios it declared are the only ones it may ask for."""
        self._declared = scenarios
        try:
            yield
        finally:
            self._declared = None

    def scenario(self, name: str) -> ScenarioRun:

        if self._declared is not None and name not in self._declared:
            raise UndeclaredScenario(
                f"the check asked for scenario {name!r}, which its declaration does not list "
                f"(scenarios={self._declared!r}); add it there"
            )
        with self._lock:
            return self._play(name)

    def _play(self, name: str) -> ScenarioRun:
        """Scenario ``name``, run once; a control script's world is chosen before its first
        scenario (`world_search`), and the rest run in it."""
        from conformance.suite.scenarios import SCENARIOS
        from conformance.suite.world_search import WORLDS

        if name not in self._runs:
            if self.target.script is not None and name != WORLDS:
                chosen = self._play(WORLDS).notes.get("world")
                if chosen is not None and chosen.seed != self.target.world:
                    self.target = dataclasses.replace(self.target, world=chosen.seed)
            run = ScenarioRun(
                name, self.target, self.policy, abandoned=self.abandoned, database=self.database
            )
            self._runs[name] = run  # run once, whatever happens
            try:
                if self._never_ends is not None and name in BRINGS_ONLINE:
                    # an operation that never ended is not waited for again (each wait
                    # is 20 PendingTimeouts): the rules of this scenario say why
                    raise Halt(
                        Stop(
                            f"{self._never_ends.reason} (in an earlier scenario; not waited "
                            "for again)",
                            self._never_ends.rule,
                        )
                    )
                if self._startup_failed is not None and name not in OWN_STARTUP:
                    # Startup is the same call in every scenario: it fails once, and the
                    # lifecycle scenario keeps its own call as the evidence
                    raise Halt(
                        Stop(
                            f"{self._startup_failed.reason} (in an earlier scenario; not "
                            "called again)",
                            self._startup_failed.rule,
                        )
                    )
                SCENARIOS[name](run)
            except Halt as halt:
                run.stop = halt.stop
            except StartupFailed as exc:
                run.stop = self._startup_stop(exc, f"Startup failed in this scenario: {exc}")
            except EntryPointHung as exc:
                entry = exc.event.name if exc.event else "an entry point"
                run.stop = self._startup_stop(exc, str(exc), f"{entry}.returns")
            except EntryPointNull as exc:
                run.stop = Stop(str(exc), "FunctionTable.entry-points")
            except HostCrashed as exc:
                run.stop = self._startup_stop(exc, str(exc), "Process.survives")
            except RunAbandoned as exc:
                run.stop = Stop(str(exc))
            except OperationPending as exc:
                # the scenario waited as long as it could: the operation never ended
                pending = exc.event.data.get("why", "an operation is pending") if exc.event else ""
                entry = "Offline" if pending.startswith("Offline") else "Online"
                run.stop = self._never_ends = Stop(
                    f"{pending.replace('is pending', 'never ended')}: {exc}",
                    f"{entry}.brings-{entry.lower()}",
                )
            except Exception as exc:
                run.failure = f"{type(exc).__name__}: {exc}"
                raise  # the first check reports it as an internal error, with the traceback
            finally:
                for monitor in run.monitors:
                    monitor.shutdown()
        run = self._runs[name]
        if run.failure is not None:
            raise CannotJudge(
                f"rescheck failed inside scenario '{name}' ({run.failure}); "
                "please report this with the run's results.json"
            )
        return run

    @property
    def world(self) -> WorldChoice | None:
        """The world a control script's scenarios ran in (None: no script, or none ran)."""
        from conformance.suite.world_search import WORLDS

        run = self._runs.get(WORLDS)
        return None if run is None else run.notes.get("world")

    def _startup_stop(self, exc: MonitorError, reason: str, rule: str | None = None) -> Stop:
        """The stop for an error of the scenario; one in Startup (the harness's own range) is
        remembered, so that later scenarios do not call it again."""
        if isinstance(exc, StartupFailed):
            if exc.cause == "table-version":
                rule = "Startup.table-version"
            else:
                raised = exc.event is not None and exc.event.error
                rule = "Startup.returns" if raised else "Startup.returns-table"
        stop = Stop(reason, rule)
        if exc.event is not None and exc.event.name == "Startup" and own_range(exc.event):
            self._startup_failed = stop
        return stop

    def world_undecided(self) -> str | None:
        """Why a violation of a world-dependent rule is not judged: rescheck's stand-in world
        decided it, for a control script (None: it stands)."""
        # a fresh resource's unset properties are the cluster's world, not a stand-in's answer
        return undecided(self.target, self.events_so_far(but=("fresh",)))

    def events_so_far(self, but: tuple[str, ...] = ()) -> Iterator[TraceEvent]:
        """Every event of every scenario run so far (but those named in ``but``)."""
        for name, run in list(self._runs.items()):
            if name in but:
                continue
            for trace in run.traces:
                yield from trace

    def scenarios(self, *names: str) -> list[ScenarioRun]:
        return [self.scenario(n) for n in names]

    def nothing_to_judge(self, what: str, runs: Iterable[ScenarioRun]) -> Exception:
        """The exception for a check that found no events: skipped, or an error when the
        harness itself could not set the scenario up."""
        for run in runs:
            if run.stop is not None:
                if run.stop.rule is None:
                    return CannotJudge(f"{what}: {run.stop.reason}")
                return NotApplicable(
                    f"{what}: scenario '{run.name}' stopped early ({run.stop.reason}; see {run.stop.rule})"
                )
        return NotApplicable(what)

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        try:
            for run in self._runs.values():
                for monitor in run.monitors:
                    monitor.shutdown()
        finally:
            self.database.close()
            shutil.rmtree(self._db_dir, ignore_errors=True)


def require(monitor: ResourceMonitor, *entries: str) -> None:
    """Stop the scenario when an entry point it needs is NULL in the function table."""
    missing = [e for e in entries if not monitor.host.has(e)]
    if missing:
        raise Halt(
            Stop(
                f"{', '.join(missing)} is NULL in the function table", "FunctionTable.entry-points"
            )
        )
