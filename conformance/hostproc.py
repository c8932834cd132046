"""The Python host: one fresh copy of a Python target, as RHS hosts a resource DLL.

``python -m conformance.hostproc FD TARGET`` speaks the host protocol
(``docs/host-protocol.md``) on the socket FD: it says hello, loads the module it is asked for,
runs the calls on call threads of its own (durations measured here, next to the call), and
turns every callback of the target (SetResourceStatus, LogEvent, SetLastError, ResUtils, the
cluster database) into a message the monitor answers. Values the target hands out that are
not plain data stay here; the monitor gets a REF naming them. Nothing here judges; when the
monitor goes away, this process ends. TARGET is only there so that ``ps`` says whose host
this is.
"""

from __future__ import annotations

import faulthandler
import itertools
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from conformance import clusapi, resutils
from conformance.clusapi import HKEY
from conformance.companion import ProbeContext
from conformance.logformat import format_message
from conformance.monitor.channel import Pending
from conformance.monitor.host import (
    CallJob,
    CallOutcome,
    QuorumLost,
    current_entry,
    error_text,
    startup_table,
    table_shape,
)
from conformance.monitor.remote_db import RemoteDatabase
from conformance.monitor.usage import Usage, settled
from conformance.protocol import PROTOCOL_VERSION, messages, values
from conformance.protocol.frames import FrameReader, pack, unpack, write_all
from conformance.protocol.messages import Message
from conformance.protocol.values import TUPLE_DEPTH, TUPLE_LENGTH, RemoteRef, plain
from conformance.resapi import HANDLE, RESOURCE_HANDLE, GetLastError, observe_last_error
from conformance.runtime.script_events import observe_script
from conformance.runtime.threads import (
    all_stacks,
    harness_thread,
    is_harness_thread,
    stacks,
    target_threads,
)
from conformance.runtime.trace import short_repr
from conformance.runtime.tracebacks import target_traceback

#: How often handed-out failure events are looked at.
EVENT_POLL_S = 0.005
#: Bytes of an OutBuffer sent back past its size (what a Python DLL wrote beyond it).
OVERRUN_KEPT = 4096
#: The longest FormatString sent (the message itself is bounded by `logformat`).
FORMAT_KEPT = 4096


class HostServer:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._send_lock = threading.Lock()
        self._reading = threading.Lock()  # held by the thread whose turn it is to read
        self._idle = 0  # threads waiting for their turn to read
        self._idle_lock = threading.Lock()
        self._threads = itertools.count(1)
        self.module: Any = None
        self.table: Any = None
        self.companion: Any = None
        self._refs: dict[int, Any] = {}  # ref id -> object, kept alive
        self._ref_of: dict[int, int] = {}  # id(object) -> ref id
        self._events: dict[int, Any] = {}  # event id -> the DLL's event object
        self._replies: dict[int, Pending] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # --- the channel -----------------------------------------------------------------------
    def send(self, message: Message) -> None:
        data = pack(message.to_wire())  # outside the lock: a slow pack blocks no one else
        with self._send_lock:
            write_all(self.fd, data)

    def serve(self) -> None:
        threading.excepthook = self._escaped
        observe_last_error(lambda code: self.note("SetLastError", {"code": code}))
        resutils.observe_calls(
            lambda function, result, why: self.note(
                "ResUtil", {"function": function, "result": result, "why": why}
            )
        )
        observe_script(
            lambda resource, what, data: self.note(
                "Script", {"resource": resource, "what": what, "data": self._data(data)}
            )
        )
        harness_thread(
            threading.Thread(target=self._watch_events, name="host-events", daemon=True)
        ).start()
        self.send(
            messages.Hello(protocol=PROTOCOL_VERSION, host="rescheck-python", pid=os.getpid())
        )
        self._reader = FrameReader(self.fd)
        self._handlers: dict[type, Any] = {
            messages.Load: self._on_load,
            messages.Audit: self._on_audit,
            messages.Companion: self._on_companion,
            messages.Reply: self._on_reply,
        }
        self._start_follower()
        threading.Event().wait()  # the process ends with os._exit, from a reading thread

    # --- leader and followers: the thread that reads a call runs it -------------------------
    def _start_follower(self) -> None:
        name = f"rhs-{next(self._threads)}"
        harness_thread(threading.Thread(target=self._follow, name=name, daemon=True)).start()

    def _follow(self) -> None:
        """Wait for the turn to read; read until a call comes; pass the turn on to a waiting
        thread (a new one if none waits) and run the call on this thread. The call starts at
        once, and a call that never returns costs this thread only: reading goes on."""
        while True:
            with self._idle_lock:
                self._idle += 1
            self._reading.acquire()
            with self._idle_lock:
                self._idle -= 1
            job = self._read_until_call()
            with self._idle_lock:
                alone = self._idle == 0
            if alone:
                self._start_follower()
            self._reading.release()
            job.run()
            del job

    def _read_until_call(self) -> CallJob:
        while True:
            try:
                body = self._reader.read()
                if body is None:
                    os._exit(0)  # the monitor is gone: so is this host
                message = messages.read_from_monitor(unpack(body, values.from_monitor))
            except Exception as exc:  # the monitor's fault, or a channel the target broke
                print(f"rescheck host: {exc}", file=sys.stderr)
                os._exit(70)
            if isinstance(message, messages.Shutdown):
                os._exit(0)
            if isinstance(message, messages.Startup):
                return self._startup_job(message)
            if isinstance(message, messages.Call):
                return self._call_job(message)
            self._handlers[type(message)](message)

    def _escaped(self, args: threading.ExceptHookArgs) -> None:
        """An exception left a thread of the target: in a C DLL, that ends the process."""
        if args.exc_type is SystemExit:
            return  # the thread's own way to end, like ExitThread
        if args.thread is not None and is_harness_thread(args.thread):
            return  # ours (a reply that could not be sent is reported with the call)
        error = error_text(args.exc_value) if args.exc_value else args.exc_type.__name__
        text = target_traceback(args.exc_value, args.exc_traceback) if args.exc_value else ""
        self.note("ThreadException", {"error": error, "traceback": text})

    # --- callbacks of the target ----------------------------------------------------------
    def _callback_message(self, rid: int | None, name: str, args: dict[str, Any]) -> Message:
        thread = threading.current_thread()
        return messages.Callback(
            id=rid,
            name=name,
            args=args,
            thread=(thread.ident or 0, thread.name[:1000]),
            context=current_entry(),
            last_error=GetLastError() if rid is not None else 0,
            at=time.perf_counter(),
        )

    def callback(self, name: str, args: dict[str, Any]) -> Any:
        """A callback the monitor must answer, made on the target's thread."""
        pending = Pending()
        rid = next(self._ids)
        self._replies[rid] = pending
        self.send(self._callback_message(rid, name, args))
        pending.wait(threading.TIMEOUT_MAX)
        return pending.answer

    def note(self, name: str, args: dict[str, Any]) -> None:
        """A callback that needs no answer, kept in order with the thread's other callbacks."""
        self.send(self._callback_message(None, name, args))

    def _on_reply(self, message: messages.Reply) -> None:
        pending = self._replies.pop(message.id, None)
        if pending is not None:
            pending.resolve(message.value)  # type: ignore[arg-type]

    def SetResourceStatus(self, ResourceHandle: Any, ResourceStatus: Any) -> Any:
        fields = {}
        for name in ("ResourceState", "CheckPoint", "WaitHint", "EventHandle"):
            try:
                fields[name] = self.encode(getattr(ResourceStatus, name, "<missing>"))
            except Exception as exc:  # a hostile status object
                fields[name] = f"<{type(exc).__name__}>"
        args = {"handle": self.encode(ResourceHandle), "status": fields}
        return self.callback("SetResourceStatus", args)

    def LogEvent(self, ResourceHandle: Any, LogLevel: Any, FormatString: Any, *args: Any) -> None:
        message, length = format_message(FormatString, args)
        format_string = self.encode(FormatString)
        # LogEvent returns nothing: no round trip, in order with the thread's other callbacks
        self.note(
            "LogEvent",
            {
                "handle": self.encode(ResourceHandle),
                "level": self.encode(LogLevel),
                "format": (
                    format_string if isinstance(format_string, str) else repr(format_string)
                )[:FORMAT_KEPT],
                "message": message,
                "length": length,
            },
        )

    # --- values ----------------------------------------------------------------------------
    def encode(self, value: Any, depth: int = 0) -> Any:
        """What the monitor may receive for ``value``: plain data, its own handles, or a
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
            return value  # the monitor's own (a RESOURCE_HANDLE comes with Open)
        with self._lock:
            ref = self._ref_of.get(id(value))
            if ref is None:
                ref = next(self._ids)
                self._refs[ref] = value
                self._ref_of[id(value)] = ref
        return RemoteRef(ref, short_repr(value), type(value).__name__)

    def _data(self, data: dict[str, Any]) -> dict[str, Any]:
        return {str(key)[:200]: self.encode(item) for key, item in list(data.items())[:32]}

    def decode(self, value: Any) -> Any:
        if isinstance(value, RemoteRef):
            return self._refs.get(value.ref, value)
        if isinstance(value, values.HkeyRef):
            key, server = value.key, self

            def observe(op: str, key_path: str, name: str | None, write: bool) -> None:
                server.note(
                    "ClusterDatabaseAccess",
                    {"key": key, "op": op, "path": key_path, "name": name, "write": write},
                )

            return HKEY(RemoteDatabase(self, key), value.path, observe)  # type: ignore[arg-type]
        if isinstance(value, values.OutHandle):
            return HANDLE()
        if isinstance(value, values.QuorumRoutine):
            return QuorumLost(
                lambda handle: self.note("LostQuorumResource", {"handle": self.encode(handle)})
            )
        return value

    # --- requests --------------------------------------------------------------------------
    def _on_load(self, message: messages.Load) -> None:
        from conformance.errors import UsageError
        from conformance.targets import _declared_type_name, _find_companion, give_companion
        from conformance.targets.pydll import ModuleRef, load_fresh, resolve

        spec = message.target
        if message.stacks_file:
            # faulthandler writes there for the life of the process, at the end (the monitor
            # empties the file before each dump)
            self._stacks = open(message.stacks_file, "a")  # noqa: SIM115
            faulthandler.register(signal.SIGUSR1, file=self._stacks, all_threads=True)

        def refuse(error: str) -> None:
            self.send(messages.Loaded(id=message.id, error=error[:60000], loaded=(0.0, 0.0),
                                      declared_type=None, companion=None))  # fmt: skip

        start = time.perf_counter()
        try:
            if spec.get("path"):
                ref = ModuleRef(spec["given"] or "", spec["name"] or "", Path(spec["path"]),
                                spec.get("sys_path_entry"))  # fmt: skip
            else:  # a dotted name: found here, so that no package of it runs in the harness
                ref = resolve(spec["given"] or "")
            start = time.perf_counter()
            self.module = load_fresh(ref)
            loaded = (start, time.perf_counter())
            self.companion = _find_companion(ref, self.module, spec.get("companion"))
            world = int(spec.get("world") or 0), str(spec.get("world_fails") or "")
        except UsageError as exc:
            refuse(str(exc))
            return
        except Exception as exc:  # the file went away, or cannot be read
            refuse(f"cannot load {spec.get('given')}: {error_text(exc)}")
            return
        give_companion(self.module, self.companion, *world)
        companion = self.companion
        self.send(
            messages.Loaded(
                id=message.id,
                error=None,
                loaded=loaded,
                declared_type=_declared_type_name(self.module),
                companion={
                    "resource_type": companion.resource_type,
                    "features": tuple(sorted(companion.features)),
                    "probe": companion.probe is not None,
                    "breaker": companion.breaker is not None,
                    "source": companion.source,
                },
            )
        )

    def _startup_job(self, message: messages.Startup) -> CallJob:
        root = message.cluster
        clusapi._connect(None if root is None else self.decode(root))

        def done(outcome: CallOutcome) -> None:
            self.table = startup_table(outcome)
            try:
                version = self.encode(getattr(self.table, "Version", None))
            except Exception:  # a property of the target's that raises is no version
                version = None
            shape = {name: kind[:1000] for name, kind in table_shape(self.table).items()}
            self.send(self._answer(message.id, outcome, table={"shape": shape, "version": version}))

        args = (
            message.ResourceType,
            message.MinVersionSupported,
            message.MaxVersionSupported,
            self.SetResourceStatus,
            self.LogEvent,
        )
        return CallJob(self.module.Startup, args, "Startup", None, done)

    def _call_job(self, message: messages.Call) -> CallJob:
        real = tuple(self.decode(a) for a in message.args)
        table, entry = self.table, message.entry

        def fn(*call_args: Any) -> Any:  # the table is the target's: read it on the call thread
            return getattr(table, entry)(*call_args)

        sizes = {i: len(a) for i, a in enumerate(real) if type(a) is bytearray}

        def done(outcome: CallOutcome) -> None:
            events = tuple(
                (i, *self._hand_out(a.value))
                for i, a in enumerate(real)
                if isinstance(a, HANDLE) and a.value is not None
            )
            # an OutBuffer goes back as the DLL left it: a grown one cut a little past its size
            buffers = tuple((i, bytes(real[i][: size + OVERRUN_KEPT])) for i, size in sizes.items())
            # from the call's own thread: after every callback it made (SetLastError, ...)
            self.send(self._answer(message.id, outcome, events=events, buffers=buffers))

        return CallJob(fn, real, entry, message.resource, done)

    def _answer(self, rid: int, outcome: CallOutcome, **extra: Any) -> messages.Answer:
        return messages.Answer(
            id=rid,
            outcome={
                "value": self.encode(outcome.value),
                "error": outcome.error,
                "traceback": outcome.error_traceback,
                "start": outcome.start,
                "end": outcome.end if outcome.end is not None else outcome.start,
                "thread": outcome.thread,
            },
            table=extra.get("table"),
            events=extra.get("events", ()),
            buffers=extra.get("buffers", ()),
        )

    def _result(self, rid: int, work: Any) -> None:
        try:
            status, answer = "ok", work()
        except Exception as exc:
            status, answer = "raised", f"{type(exc).__name__}: {exc}"[:4000]
        self.send(messages.Result(id=rid, status=status, value=answer))

    def _on_audit(self, message: messages.Audit) -> None:
        self._aside(
            f"audit-{message.what}", lambda: self._result(message.id, lambda: self._audit(message))
        )

    def _audit(self, message: messages.Audit) -> Any:
        # threads are named by (ident, native id): an ident is reused as soon as a thread ends
        if message.what == "baseline":
            return tuple((t.ident, t.native_id) for t in threading.enumerate())
        if message.what == "stacks":  # when faulthandler could not write them (SIGUSR1 taken)
            return all_stacks()[-60000:]
        known = {tuple(pair) for pair in message.baseline or ()}
        baseline = {t for t in threading.enumerate() if (t.ident, t.native_id) in known}
        if message.what == "lingering":
            return tuple(line[:4000] for line in stacks(target_threads(baseline))[:200])
        level = Usage(**message.level) if message.level else None
        return settled(baseline, level).to_json()

    def _on_companion(self, message: messages.Companion) -> None:
        def run() -> Any:
            if message.what == "properties":
                found = self.companion.properties_for(message.resource)
                return {str(k): self.encode(v) for k, v in found.items()}
            routine = getattr(self.companion, message.what)
            return bool(routine(ProbeContext(message.resource, message.properties)))

        self._aside(f"companion-{message.what}", lambda: self._result(message.id, run))

    def _aside(self, name: str, work: Any) -> None:
        """Work that runs the target's or the companion's code, or waits: never on the
        thread that reads the monitor's messages."""
        harness_thread(threading.Thread(target=work, name=name, daemon=True)).start()

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
                    self.send(messages.Event(event=number))


def main() -> None:
    fd = int(sys.argv[1])
    os.set_inheritable(fd, False)  # processes the target starts do not get the harness's socket
    HostServer(fd).serve()


if __name__ == "__main__":
    main()
