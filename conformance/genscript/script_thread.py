"""A control script's own thread (GS-5): it loads the script, calls its functions one row of
the Resource Monitor actions table (§8.3) at a time, and unloads it; Terminate cuts a row
short, but never its clean-up."""

from __future__ import annotations

import functools
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.errors import TargetLoadError
from conformance.genscript import SCRIPT_FILE_PATH
from conformance.genscript.engine import (
    CallAnswer,
    ScriptEngine,
    ScriptError,
    ScriptInterrupted,
    ScriptWorld,
    new_engine,
    read_source,
)
from conformance.genscript.host_objects import ComWorld
from conformance.genscript.static import literals, numeric_properties
from conformance.genscript.world import World
from conformance.runtime.script_events import report_script

if TYPE_CHECKING:
    from conformance.genscript.dll import Instance

#: The Resource Monitor actions table (§8.3): the steps each request plays.
ROWS: dict[str, tuple[str, ...]] = {
    "Open": ("load", "Open", "Close", "unload"),
    "Online": ("load", "Open", "Online"),
    "LooksAlive": ("LooksAlive",),
    "IsAlive": ("IsAlive",),
    "Offline": ("Offline", "Close", "unload"),
    "Terminate": ("load", "Open", "Terminate", "Close", "unload"),
    "Close": ("load", "Open", "Close", "unload"),
}
#: The steps whose failure fails the request (the rest of a row is clean-up, whose failure
#: is logged): Open fails with the script's load or Open, not with the Close that follows.
DECIDES: dict[str, frozenset[str]] = {
    "Open": frozenset({"load", "Open"}),
    "Online": frozenset({"load", "Open", "Online"}),
    "LooksAlive": frozenset({"LooksAlive"}),
    "IsAlive": frozenset({"IsAlive"}),
    "Offline": frozenset({"Offline"}),
    "Terminate": frozenset(),
    "Close": frozenset(),
}
#: How long an entry point waits for the script thread to end once a row unloaded the script.
JOIN_S = 1.0
#: Steps that still run after an earlier step of the row failed: the clean-up.
CLEANUP = frozenset({"Terminate", "Close", "unload"})


@dataclass
class Job:
    """One row of §8.3 on the script thread; ``ok`` once done and its deciding steps
    succeeded."""

    row: str
    steps: tuple[str, ...]
    answers: list[tuple[str, CallAnswer]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    cancelled: bool = False  # Terminate came: only the clean-up steps still run

    @property
    def ok(self) -> bool:
        """Done, and every step that decides the request (DECIDES) ran and succeeded."""
        answered = {s for s, a in self.answers if a.succeeded}
        return self.done.is_set() and DECIDES[self.row] <= answered

    def failure(self) -> tuple[str, CallAnswer] | None:
        """The first failed step that decides the request, or a deciding step that never ran."""
        decides = DECIDES[self.row]
        failed = next(((s, a) for s, a in self.answers if s in decides and not a.succeeded), None)
        if failed is not None or self.ok:
            return failed
        missing = sorted(decides - {s for s, _ in self.answers})
        return missing[0], CallAnswer("interrupted" if self.cancelled else "missing")


class ScriptThread:
    """The instance's own worker thread (GS-5), alive while its script is loaded or a row
    runs: it loads, calls and unloads the script, one row at a time, and ends once a row
    leaves the script unloaded (so Terminate and Close leave no thread behind, TE-2, CL-4)."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.engine: ScriptEngine | None = None
        self.com: ComWorld | None = None  # the loaded script's objects
        self.loaded = False
        self.current: Job | None = None
        self.step: str | None = None  # the step of ``current`` under way
        self.thread: threading.Thread | None = None
        self._jobs: deque[Job] = deque()
        self._cond = threading.Condition()

    def submit(self, row: str) -> Job:
        job = Job(row, ROWS[row])
        with self._cond:
            self._jobs.append(job)
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._loop, name=f"script-{self.inst.name}", daemon=True
                )
                self.thread.start()
            self._cond.notify()
        return job

    def wait(self, job: Job) -> None:
        """Until ``job`` is done and, if it left the script unloaded, its thread has ended."""
        job.done.wait()
        with self._cond:
            thread = self.thread if not self.loaded else None
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_S)

    def cancel_all(self) -> None:
        """Terminate: run nothing more of any row asked so far, and stop the one running."""
        with self._cond:
            queued, running = list(self._jobs), self.current
        for job in queued:
            job.cancelled = True
        if running is not None:
            self.cancel(running)

    def cancel(self, job: Job) -> None:
        """Run no more of ``job`` (Terminate): stop its script call if it is running, unless
        that call is clean-up (a Close or an unload still runs)."""
        job.cancelled = True
        engine = self.engine
        with self._cond:
            running = self.current is job and self.step not in CLEANUP
        if engine is not None and running:
            engine.interrupt()

    def _loop(self) -> None:
        while True:
            try:
                job = self._next()
                if job is None:
                    return
                self._serve(job)
            except ScriptInterrupted:  # an interrupt meant for a call that had just ended
                continue

    def _next(self) -> Job | None:
        with self._cond:
            while not self._jobs:
                if not self.loaded:
                    self.thread = None
                    return None
                self._cond.wait()
            self.current = self._jobs.popleft()
            return self.current

    def _serve(self, job: Job) -> None:
        try:
            self._run(job)
        except ScriptInterrupted:  # an interrupt that arrived between two steps
            job.answers.append(("interrupted", CallAnswer("interrupted")))
        except BaseException as exc:  # the thread must live on: the row failed
            error = ScriptError(f"the Generic Script DLL failed: {exc!r}"[:500], "")
            job.answers.append((job.steps[0], CallAnswer("error", error=error)))
        finally:
            with self._cond:
                self.current = self.step = None
            job.done.set()

    def _run(self, job: Job) -> None:
        failed = False
        for step in job.steps:
            if (failed or job.cancelled) and step not in CLEANUP:
                continue
            with self._cond:
                self.step = step
            if step == "load":
                answer = self._load()
            elif step == "unload":
                self._unload()
                continue
            elif not self.loaded:
                if step in CLEANUP:
                    continue  # nothing to clean: the load failed (and was recorded)
                answer = CallAnswer(
                    "error", error=ScriptError("the script is not loaded", str(self.inst.name))
                )
            else:
                answer = self.engine.call(step)  # type: ignore[union-attr]
                self._report("call", step, answer, job.row)
            job.answers.append((step, answer))
            if not answer.succeeded:
                failed = True
                self.inst.log_failure(step, answer)
        if job.row == "Online" and not failed and self.inst.fails and self.com is not None:
            self.com.fail(self.inst.fails)  # a world where the entity fails once it is online

    def _load(self) -> CallAnswer:
        if self.loaded:
            return CallAnswer("ok")
        path = self.inst.script_path()
        if path is None:
            answer = CallAnswer(
                "error", error=ScriptError(f"the {SCRIPT_FILE_PATH} property is not set", "")
            )
        else:
            try:
                self.engine = new_engine(path)
            except TargetLoadError as exc:
                answer = CallAnswer("error", error=ScriptError(str(exc), str(path)))
            else:
                com = ComWorld(
                    self.inst.sandbox,
                    self.inst.observe,
                    self.inst.companion.commands,
                    self.inst.companion.objects,
                    World(
                        self.inst.world,
                        _literals(path, self.engine.language),
                        numeric=_numeric(path, self.engine.language),
                    ),
                )
                self.com = com
                world = ScriptWorld(self.inst.resource_object(com), com)
                answer = self.engine.load(world)
                self.loaded = answer.status == "ok"
        self._report("load", "load", answer, None)
        return answer

    def _unload(self) -> None:
        if self.engine is not None and self.loaded:
            self.engine.unload()
            self._report("unload", "unload", CallAnswer("ok"), None)
        self.loaded = False

    def _report(self, what: str, step: str, answer: CallAnswer, row: str | None) -> None:
        error = answer.error
        report_script(
            self.inst.name,
            what,
            {
                "step": step,
                "row": row,
                "status": answer.status,
                "kind": answer.kind,
                "value": answer.value if answer.kind in ("boolean", "number") else None,
                "succeeded": answer.succeeded,
                "error": str(error) if error else None,
                "line": error.line if error else None,
                "language": self.engine.language if self.engine is not None else None,
                "world": self.inst.world,
                "failed": self.com.world.failed if self.com is not None else "",
            },
        )


@functools.cache
def _literals(path: Path, language: str) -> tuple[str, ...]:
    """The script's literals, read once per host (a script's text does not change in a run)."""
    return literals(read_source(path), language)


@functools.cache
def _numeric(path: Path, language: str) -> frozenset[str]:
    """The private properties the script uses as numbers, read once per host."""
    return numeric_properties(read_source(path), language)
