"""The isolated host process: one fresh copy of the target, as RHS hosts a resource DLL.

`IsolatedHost` starts ``python -m conformance.monitor.hostproc FD`` in its own process group,
with one end of a socket pair as FD. This side loads the module, runs the calls it is asked
for on its own call threads (the durations are measured here, next to the call), and turns
every callback of the target (SetResourceStatus, LogEvent, SetLastError, ResUtils, the
cluster database) into a message to the harness, where the monitor answers it. Nothing here
judges; if the harness goes away, this process ends.
"""

from __future__ import annotations

import faulthandler
import itertools
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from conformance import clusapi, resutils
from conformance.clusapi import HKEY
from conformance.clusapi.database import DatabaseClosed
from conformance.companion import ProbeContext
from conformance.genscript.events import observe_script
from conformance.monitor.host import (
    CallOutcome,
    CallRunner,
    QuorumLost,
    current_entry,
    error_text,
    startup_table,
    table_shape,
)
from conformance.monitor.monitor import OVERRUN_KEPT, RESOURCE_HANDLE
from conformance.monitor.remote import DB_CLOSED, TUPLE_DEPTH, TUPLE_LENGTH, RemoteRef, plain
from conformance.monitor.threads import (
    all_stacks,
    harness_thread,
    is_harness_thread,
    stacks,
    target_threads,
)
from conformance.monitor.trace import short_repr
from conformance.monitor.usage import settled
from conformance.resapi import HANDLE, GetLastError, observe_last_error

#: How often handed-out failure events are looked at.
EVENT_POLL_S = 0.005


class _RemoteDatabase:
    """The harness's cluster database, asked over the socket (ClusterDatabase protocol)."""

    def __init__(self, server: HostServer, key: int) -> None:
        self._server, self._key = server, key

    def __getattr__(self, method: str) -> Any:
        def call(*args: Any) -> Any:
            answer = self._server.callback("db", (self._key, method, args))
            if answer == DB_CLOSED:
                raise DatabaseClosed("the run's cluster database is closed")
            return answer

        return call


class HostServer:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._send_lock = threading.Lock()
        self.runner = CallRunner("rhs")
        self.module: Any = None
        self.table: Any = None
        self.companion: Any = None
        self._refs: dict[int, Any] = {}  # ref id -> object, kept alive
        self._ref_of: dict[int, int] = {}  # id(object) -> ref id
        self._events: dict[int, Any] = {}  # event id -> the DLL's event object
        self._replies: dict[int, list[Any]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # --- the socket ------------------------------------------------------------------------
    def send(self, *message: Any) -> None:
        data = pickle.dumps(message)  # outside the lock: a slow pickle blocks no one else
        with self._send_lock:
            self.conn.send_bytes(data)

    def serve(self) -> None:
        threading.excepthook = self._escaped
        observe_last_error(lambda code: self.note("SetLastError", code))
        resutils.observe_calls(lambda *call: self.note("resutils", call))
        observe_script(lambda *event: self.note("script", event))
        harness_thread(
            threading.Thread(target=self._watch_events, name="host-events", daemon=True)
        ).start()
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                os._exit(0)  # the harness is gone: so is this host
            kind = message[0]
            if kind == "reply":
                slot = self._replies.pop(message[1], None)
                if slot is not None:
                    slot[1] = message[2]
                    slot[0].set()
            elif kind == "close":
                os._exit(0)
            else:
                getattr(self, f"_on_{kind}")(*message[1:])

    def _escaped(self, args: threading.ExceptHookArgs) -> None:
        """An exception left a thread of the target: in a C DLL, that ends the process."""
        if args.exc_type is SystemExit:
            return  # the thread's own way to end, like ExitThread
        if args.thread is not None and is_harness_thread(args.thread):
            return  # ours (a reply that could not be sent is reported with the call)
        error = error_text(args.exc_value) if args.exc_value else args.exc_type.__name__
        text = "".join(
            traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)
        )
        self.note("thread-exception", (error, text[-4000:]))

    # --- callbacks of the target ----------------------------------------------------------
    def callback(self, name: str, payload: Any) -> Any:
        """A callback the monitor must answer, made on the target's thread."""
        slot: list[Any] = [threading.Event(), None]
        cid = next(self._ids)
        self._replies[cid] = slot
        thread = threading.current_thread()
        self.send(
            "cb",
            cid,
            thread.ident,
            thread.name,
            current_entry(),
            GetLastError(),
            name,
            payload,
            time.perf_counter(),
        )
        slot[0].wait()
        return slot[1]

    def note(self, name: str, payload: Any) -> None:
        """A callback that needs no answer, kept in order with the thread's other callbacks."""
        thread = threading.current_thread()
        self.send(
            "note",
            None,
            thread.ident,
            thread.name,
            current_entry(),
            0,
            name,
            payload,
            time.perf_counter(),
        )

    def SetResourceStatus(self, ResourceHandle: Any, ResourceStatus: Any) -> Any:
        fields = {}
        for name in ("ResourceState", "CheckPoint", "WaitHint", "EventHandle"):
            try:
                fields[name] = self.encode(getattr(ResourceStatus, name, "<missing>"))
            except Exception as exc:  # a hostile status object
                fields[name] = f"<{type(exc).__name__}>"
        return self.callback("SetResourceStatus", (self.encode(ResourceHandle), fields))

    def LogEvent(self, ResourceHandle: Any, LogLevel: Any, FormatString: Any, *args: Any) -> None:
        payload = (
            self.encode(ResourceHandle),
            self.encode(LogLevel),
            self.encode(FormatString),
            tuple(self.encode(a) for a in args[:99]),
        )
        # LogEvent returns nothing: no round trip (the harness's bounded backlog still makes
        # a flooding thread wait), in order with the thread's other callbacks
        self.note("LogEvent", payload)

    # --- values ----------------------------------------------------------------------------
    def encode(self, value: Any, depth: int = 0) -> Any:
        """What the harness may receive for ``value``: plain data, its own handles, or a
        RemoteRef naming the object, which stays here."""
        if type(value) is tuple and depth < TUPLE_DEPTH and len(value) <= TUPLE_LENGTH[depth]:
            return tuple(self.encode(item, depth + 1) for item in value)
        try:
            is_plain, sent = plain(value)
        except Exception:  # a subclass whose base value cannot be read
            is_plain, sent = False, None
        if is_plain:
            return sent
        if type(value) in (RESOURCE_HANDLE, RemoteRef):
            return value  # the harness's own (a RESOURCE_HANDLE comes with Open)
        with self._lock:
            ref = self._ref_of.get(id(value))
            if ref is None:
                ref = next(self._ids)
                self._refs[ref] = value
                self._ref_of[id(value)] = ref
        return RemoteRef(ref, short_repr(value), type(value).__name__)

    def decode(self, value: Any) -> Any:
        if isinstance(value, RemoteRef):
            return self._refs.get(value.ref, value)
        if isinstance(value, tuple) and value[:1] == ("hkey",):
            _, key, path = value
            server = self

            def observe(op: str, key_path: str, name: str | None, write: bool) -> None:
                server.note("observe", (key, op, key_path, name, write))

            return HKEY(_RemoteDatabase(self, key), path, observe)  # type: ignore[arg-type]
        if isinstance(value, tuple) and value[:1] == ("handle",):
            return HANDLE()
        if isinstance(value, tuple) and value[:1] == ("lost-quorum",):
            return QuorumLost(lambda handle: self.note("LostQuorumResource", self.encode(handle)))
        return value

    # --- requests --------------------------------------------------------------------------
    def _on_init(self, spec: dict[str, Any]) -> None:
        from conformance.errors import UsageError
        from conformance.targets import _declared_type_name, _find_companion, give_companion
        from conformance.targets.pydll import ModuleRef, load_fresh

        ref = ModuleRef(spec["given"], spec["name"], spec["path"], spec["sys_path_entry"])
        # faulthandler writes there for the life of the process, at the end (the harness
        # empties the file before each dump)
        self._stacks = open(spec["stacks_file"], "a")  # noqa: SIM115
        faulthandler.register(signal.SIGUSR1, file=self._stacks, all_threads=True)
        start = time.perf_counter()
        try:
            self.module = load_fresh(ref)
        except UsageError as exc:
            self.send("ready", {"error": str(exc)})
            return
        loaded = (start, time.perf_counter())
        try:
            self.companion = _find_companion(ref, self.module, spec["companion_path"])
        except UsageError as exc:
            self.send("ready", {"error": str(exc)})
            return
        companion = self.companion
        give_companion(self.module, companion)
        self.send(
            "ready",
            {
                "loaded": loaded,
                "declared_type": _declared_type_name(self.module),
                "companion": {
                    "resource_type": companion.resource_type,
                    "features": sorted(companion.features),
                    "probe": companion.probe is not None,
                    "breaker": companion.breaker is not None,
                },
            },
        )

    def _on_startup(self, rid: int, resource_type: str, low: int, high: int, root: Any) -> None:
        clusapi._connect(None if root is None else self.decode(root))

        def done(outcome: CallOutcome) -> None:
            self.table = startup_table(outcome)
            try:
                version = self.encode(getattr(self.table, "Version", None))
            except Exception:  # a property of the target's that raises is no version
                version = None
            shape = (table_shape(self.table), version)
            self.send("done", rid, self._outcome(outcome), shape)

        args = (resource_type, low, high, self.SetResourceStatus, self.LogEvent)
        self.runner.submit(self.module.Startup, args, "Startup", None, done)

    def _on_call(self, rid: int, entry: str, args: tuple[Any, ...], resource: str | None) -> None:
        real = tuple(self.decode(a) for a in args)
        table = self.table

        def fn(*call_args: Any) -> Any:  # the table is the target's: read it on the call thread
            return getattr(table, entry)(*call_args)

        sizes = {i: len(a) for i, a in enumerate(real) if type(a) is bytearray}

        def done(outcome: CallOutcome) -> None:
            handles = {
                i: self._hand_out(a.value)
                for i, a in enumerate(real)
                if isinstance(a, HANDLE) and a.value is not None
            }
            # an OutBuffer goes back as the DLL left it: a grown one cut a little past its size
            buffers = {i: bytes(real[i][: size + OVERRUN_KEPT]) for i, size in sizes.items()}
            # from the call's own thread: after every callback it made (SetLastError, ...)
            self.send("done", rid, self._outcome(outcome), (handles, buffers))

        self.runner.submit(fn, real, entry, resource, done)

    def _on_audit(self, rid: int, what: str, arg: Any) -> None:
        self._aside(f"audit-{what}", lambda: self._audit(rid, what, arg))

    def _audit(self, rid: int, what: str, arg: Any) -> None:
        # threads are named by (ident, native id): an ident is reused as soon as a thread ends
        if what == "baseline":
            answer: Any = [(t.ident, t.native_id) for t in threading.enumerate()]
        elif what == "stacks":  # when faulthandler could not write them (SIGUSR1 taken)
            answer = all_stacks()
        else:
            known = {tuple(pair) for pair in arg[0]}
            baseline = {t for t in threading.enumerate() if (t.ident, t.native_id) in known}
            if what == "lingering":
                answer = stacks(target_threads(baseline))
            else:
                answer = settled(baseline, arg[1])
        self.send("done", rid, answer, None)

    def _on_properties(self, rid: int, resource: str) -> None:
        def run() -> None:
            try:
                answer = (
                    "ok",
                    {
                        str(k): self.encode(v)
                        for k, v in self.companion.properties_for(resource).items()
                    },
                )
            except Exception as exc:
                answer = ("raised", f"{type(exc).__name__}: {exc}")
            self.send("done", rid, answer, None)

        self._aside("companion-properties", run)

    def _aside(self, name: str, work: Any) -> None:
        """Work that runs the target's or the companion's code, or waits: never on the
        thread that reads the harness's messages."""
        harness_thread(threading.Thread(target=work, name=name, daemon=True)).start()

    def _on_companion(self, rid: int, kind: str, resource: str, properties: Any) -> None:
        def run() -> None:
            try:
                routine = getattr(self.companion, kind)
                answer = ("ok", bool(routine(ProbeContext(resource, properties))))
            except Exception as exc:
                answer = ("raised", f"{type(exc).__name__}: {exc}")
            self.send("done", rid, answer, None)

        self._aside(f"companion-{kind}", run)

    def _outcome(self, outcome: CallOutcome) -> dict[str, Any]:
        return {
            "value": self.encode(outcome.value),
            "error": outcome.error,
            "error_traceback": outcome.error_traceback,
            "start": outcome.start,
            "end": outcome.end,
            "thread": outcome.thread,
        }

    # --- failure events --------------------------------------------------------------------
    def _hand_out(self, event: Any) -> tuple[int, str]:
        number = next(self._ids)
        with self._lock:
            self._events[number] = event
        return number, short_repr(event)

    def _watch_events(self) -> None:
        while True:
            time.sleep(EVENT_POLL_S)
            with self._lock:
                watched = list(self._events.items())
            for number, event in watched:
                try:
                    fired = bool(event.is_set())
                except Exception:
                    fired = False
                if fired:
                    with self._lock:
                        self._events.pop(number, None)
                    self.send("event", number)


def main() -> None:
    fd = int(sys.argv[1])
    os.set_inheritable(fd, False)  # processes the target starts do not get the harness's socket
    conn = Connection(fd)
    HostServer(conn).serve()


if __name__ == "__main__":
    main()
