"""`IsolatedHost`: the target in its own host process, as RHS hosts resource DLLs.

The monitor and the checks stay in this process; the target runs in a child process of its
own process group (`conformance.monitor.hostproc`). Calls cross a socket and are timed in the
child, next to the call. Callbacks come back and are answered here on a thread named like
the target's thread that made them, with that thread's entry-point context and last error,
so the monitor sees them as it does in-process. A call that outlives its deadline gets the
child's stacks (faulthandler, which works even when the target holds the GIL); a child that
dies is reported with its exit status and the tail of its output; closing kills the whole
process group, so nothing the target started outlives the run.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from multiprocessing.connection import Connection
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from conformance import resapi, resutils
from conformance.clusapi import HKEY
from conformance.clusapi.database import DatabaseClosed
from conformance.companion import ProbeContext
from conformance.errors import TargetLoadError
from conformance.genscript.events import report_script
from conformance.monitor import host as host_module
from conformance.monitor.host import CallOutcome, MonitorCallbacks, QuorumLost
from conformance.monitor.remote import DB_CLOSED, RemoteEvent, loads
from conformance.monitor.threads import harness_thread
from conformance.monitor.trace import made_at
from conformance.monitor.usage import Usage
from conformance.resapi import HANDLE, V1_ENTRY_POINTS

if TYPE_CHECKING:
    from conformance.targets.pydll import ModuleRef

#: Bytes of the child's stdout and stderr kept as evidence (the rest is read and dropped).
OUTPUT_TAIL = 4096
#: How long the child may take to start and load the module.
READY_TIMEOUT_S = 30.0
#: How long a hung child gets to send its stacks, and then faulthandler to write them.
STACKS_ASK_S = 0.3
STACKS_WAIT_S = 0.5
#: A callback thread with nothing to do for this long ends.
PROXY_IDLE_S = 2.0
#: Callbacks of one target thread waiting to be answered, at most.
PROXY_BACKLOG = 1000


class _Tail:
    """Reads a stream to its end, keeping only the last OUTPUT_TAIL bytes."""

    def __init__(self, stream: Any, name: str) -> None:
        self.data: deque[bytes] = deque()
        self.size = 0
        self.total = 0
        self._stream = stream
        self.thread = harness_thread(
            threading.Thread(target=self._read, name=f"host-{name}", daemon=True)
        )
        self.thread.start()

    def _read(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := self._stream.read1(65536):
                self.total += len(chunk)
                self.data.append(chunk)
                self.size += len(chunk)
                while self.size - len(self.data[0]) >= OUTPUT_TAIL:
                    self.size -= len(self.data.popleft())

    def close(self) -> None:
        self._stream.close()

    def text(self) -> str:
        tail = b"".join(self.data)[-OUTPUT_TAIL:].decode("utf-8", "replace")
        dropped = self.total - min(self.total, OUTPUT_TAIL)
        return (f"[{dropped} earlier bytes dropped]\n" if dropped else "") + tail


class _Proxy:
    """Answers the callbacks of one thread of the target, in order, on a harness thread
    with the same name (so the trace names the target's thread)."""

    def __init__(self, host: IsolatedHost, ident: int, name: str) -> None:
        # bounded: a target that floods callbacks waits for them to be answered
        self.inbox: queue.Queue[tuple[int, tuple[Any, ...]]] = queue.Queue(maxsize=PROXY_BACKLOG)
        self._host, self._ident = host, ident
        self.thread = harness_thread(
            threading.Thread(target=self._run, name=name or "target-thread", daemon=True)
        )
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                message = self.inbox.get(timeout=PROXY_IDLE_S)
            except queue.Empty:
                if self._host._retire(self._ident, self):
                    return
                continue
            self._host._answer(message)


class CompanionFailed(Exception):
    """The companion's code raised (or hung) in the host process; the message says how."""


class IsolatedHost:
    """A `Host` whose target runs in a child process."""

    def __init__(self, ref: ModuleRef, companion_path: str | None = None) -> None:
        self.loaded = (0.0, 0.0)
        self._callbacks: MonitorCallbacks | None = None
        self._shape: dict[str, str] = {}
        self._version: Any = None
        self._send_lock = threading.Lock()
        self._pending: dict[int, list[Any]] = {}
        self._keys: dict[int, HKEY] = {}
        self._events: dict[int, RemoteEvent] = {}
        self._proxies: dict[int, _Proxy] = {}
        self._proxy_lock = threading.Lock()
        # the order in which the host sent callbacks and answers (see _done)
        self._order = threading.Lock()
        self._seqs = itertools.count(1)
        self._unanswered: list[int] = []  # heap of callbacks handed to proxies
        self._gone: set[int] = set()  # answered, still in the heap
        self._held: list[tuple[int, tuple[Any, ...]]] = []  # answers waiting for callbacks
        self._ids = itertools.count(1)
        self._exit: str | None = None
        self._refused: str | None = None  # why the harness stopped reading this host
        self._dumping = 0  # stacks of a hung call are being dumped
        self._closing = False
        self._close_lock = threading.Lock()
        self._closed = False
        self._ready: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        fd, stacks = tempfile.mkstemp(prefix="rescheck-stacks-")
        os.close(fd)
        self._stacks_file = Path(stacks)
        self._sock, theirs = socket.socketpair()
        self._conn = Connection(os.dup(self._sock.fileno()))
        child_fd = theirs.detach()
        self.process = subprocess.Popen(
            # the target in the command line says, in ps, whose host this is
            [sys.executable, "-m", "conformance.monitor.hostproc", str(child_fd), ref.given],
            pass_fds=(child_fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: closing kills everything in it
            env={**os.environ, "PYTHONPATH": _pythonpath(ref)},
        )
        os.close(child_fd)
        self._stdout = _Tail(self.process.stdout, "stdout")
        self._stderr = _Tail(self.process.stderr, "stderr")
        self._reader = harness_thread(
            threading.Thread(target=self._read, name="host-reader", daemon=True)
        )
        self._reader.start()
        harness_thread(  # the child's end of the socket may live on in a process it forked
            threading.Thread(target=self._wait_exit, name="host-waiter", daemon=True)
        ).start()
        self._send(
            "init",
            {
                "given": ref.given,
                "name": ref.name,
                "path": ref.path,
                "sys_path_entry": ref.sys_path_entry,
                "companion_path": companion_path,
                "stacks_file": str(self._stacks_file),
            },
        )
        try:
            ready = self._ready.get(timeout=READY_TIMEOUT_S)
        except queue.Empty:
            self.close()
            raise TargetLoadError(
                f"{ref.given}: loading the module in the host process took over "
                f"{READY_TIMEOUT_S:.0f} s"
            ) from None
        if "error" in ready:
            self.close()
            message = ready["error"]
            if ready.get("ended"):  # the host died: its last words say why
                self._stderr.thread.join(timeout=1)
                said = [line for line in self._stderr.text().splitlines() if line.strip()]
                message = f"{ref.given}: {message}" + (f": {said[-1].strip()}" if said else "")
            raise TargetLoadError(message)
        self.loaded = ready["loaded"]
        self.info = ready  # what the module declares: its type name and its companion

    # --- the socket ------------------------------------------------------------------------
    def _send(self, *message: Any) -> None:
        with self._send_lock:
            self._conn.send(message)

    def _wait_exit(self) -> None:
        """When the child exits, end the reader's wait even if a fork holds the socket."""
        self.process.wait()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def _read(self) -> None:
        try:
            while True:
                message = loads(self._conn.recv_bytes())
                kind = message[0]
                if kind == "done":
                    self._done(message)
                elif kind in ("cb", "note"):
                    self._dispatch(message)
                elif kind == "event":
                    event = self._events.get(message[1])
                    if event is not None:
                        event.signal()
                elif kind == "ready":
                    self._ready.put(message[1])
        except (EOFError, OSError):
            pass
        except Exception as exc:  # a message the harness refuses to read: end this host
            self._refused = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(OSError):
                self.process.kill()
        self._ended()

    def _done(self, message: tuple[Any, ...]) -> None:
        """A call's answer is delivered once every callback the host sent before it (from any
        of its threads) has been answered: a LogEvent made before Close came back is seen
        while the instance is still open, as in-process."""
        with self._order:
            seq = next(self._seqs)
            if self._unanswered and self._unanswered[0] < seq:
                self._held.append((seq, message))
                return
        self._complete(message)

    def _answered(self, seq: int) -> None:
        """A callback was answered: deliver the answers that were waiting for it."""
        with self._order:
            self._gone.add(seq)
            while self._unanswered and self._unanswered[0] in self._gone:
                self._gone.discard(heapq.heappop(self._unanswered))
            oldest = self._unanswered[0] if self._unanswered else None
            ready = [m for s, m in self._held if oldest is None or s < oldest]
            self._held = [(s, m) for s, m in self._held if not (oldest is None or s < oldest)]
        for message in ready:
            self._complete(message)

    def _complete(self, message: tuple[Any, ...]) -> None:
        slot = self._pending.pop(message[1], None)
        if slot is not None:
            slot[1:] = message[2:4]
            slot[0].set()

    def _ended(self) -> None:
        """The child is gone: fail what waits, and tell the monitor if nobody asked for it."""
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._exit = _describe_exit(code)
        if self._refused is not None:
            self._exit = f"stopped by rescheck: it sent what the harness refuses ({self._refused})"
        self._ready.put(
            {"error": f"the host process ended while loading ({self._exit})", "ended": True}
        )
        waiting = list(self._pending.values())
        for slot in waiting:
            slot[0].set()  # each call in flight reports the end itself
        if waiting or self._closing or self._dumping or self._callbacks is None:
            return  # (a death while its stacks are dumped belongs to the hung call)
        self._callbacks.host_exited(self._exit, self.output())

    def output(self) -> str:
        out, err = self._stdout.text(), self._stderr.text()
        return "".join(
            f"{name}:\n{text}\n" for name, text in (("stdout", out), ("stderr", err)) if text
        )

    def _request(self, timeout: float, *message: Any) -> list[Any] | None:
        """Send a request and wait for its answer; None when it did not come in time."""
        rid = next(self._ids)
        slot: list[Any] = [threading.Event(), None, None]
        self._pending[rid] = slot
        if self._exit is not None:
            slot[0].set()  # the child is gone: the answer is that it ended
        else:
            with contextlib.suppress(OSError):
                self._send(message[0], rid, *message[1:])
        if not slot[0].wait(timeout):
            self._pending.pop(rid, None)
            return None
        return slot

    # --- callbacks -------------------------------------------------------------------------
    def _dispatch(self, message: tuple[Any, ...]) -> None:
        ident, name = message[2], message[3]
        with self._order:
            seq = next(self._seqs)
            heapq.heappush(self._unanswered, seq)
        with self._proxy_lock:
            proxy = self._proxies.get(ident)
            if proxy is None:
                proxy = self._proxies[ident] = _Proxy(self, ident, name)
            proxy.inbox.put((seq, message))

    def _retire(self, ident: int, proxy: _Proxy) -> bool:
        with self._proxy_lock:
            if not proxy.inbox.empty():
                return False
            if self._proxies.get(ident) is proxy:
                del self._proxies[ident]
            return True

    def _answer(self, item: tuple[int, tuple[Any, ...]]) -> None:
        seq, message = item
        try:
            self._answer_one(message)
        finally:
            self._answered(seq)

    def _answer_one(self, message: tuple[Any, ...]) -> None:
        kind, cid, _ident, thread_name, context, last_error, name, payload, at = message
        threading.current_thread().name = thread_name  # idents are reused; names change
        host_module._context.value = context  # the entry point the target's thread is in
        resapi._last_error.value = last_error
        made_at.value = at  # the trace records when the target made the callback
        try:
            answer = self._callback(name, payload)
        except Exception as exc:  # the monitor's own failure must not hang the target
            answer = None
            self._note_failure(name, exc)
        finally:
            host_module._context.value = None
            made_at.value = None
        if kind == "cb":
            with contextlib.suppress(OSError):
                self._send("reply", cid, answer)

    def _callback(self, name: str, payload: Any) -> Any:
        callbacks = self._callbacks
        if name == "SetLastError":
            resapi.SetLastError(payload)
        elif name == "resutils":
            resutils.report_call(*payload)
        elif name == "script":
            report_script(*payload)
        elif name == "observe":
            key, op, path, value_name, write = payload
            observer = self._keys[key].observer
            if observer is not None:
                observer(op, path, value_name, write)
        elif name == "db":
            key, method, args = payload
            try:
                return getattr(self._keys[key].db, method)(*args)
            except DatabaseClosed:
                return DB_CLOSED
        elif callbacks is None:
            return None
        elif name == "SetResourceStatus":
            handle, fields = payload
            # the report as it arrived: any field may be missing or odd, the checks judge
            return callbacks.SetResourceStatus(handle, SimpleNamespace(**fields))
        elif name == "LogEvent":
            handle, level, format_string, args = payload
            callbacks.LogEvent(handle, level, format_string, *args)
        elif name == "thread-exception":
            callbacks.thread_raised(threading.current_thread().name, *payload)
        elif name == "LostQuorumResource":
            callbacks.LostQuorumResource(payload)
        return None

    @staticmethod
    def _note_failure(name: str, exc: Exception) -> None:
        print(f"rescheck: answering {name} from the host failed: {exc!r}", file=sys.stderr)

    # --- the Host interface ----------------------------------------------------------------
    def startup(
        self,
        ResourceType: str,
        MinVersionSupported: int,
        MaxVersionSupported: int,
        callbacks: MonitorCallbacks,
        timeout: float,
    ) -> CallOutcome:
        self._callbacks = callbacks
        root = callbacks.cluster_root
        slot = self._request(
            timeout,
            "startup",
            ResourceType,
            MinVersionSupported,
            MaxVersionSupported,
            None if root is None else self._encode(root),
        )
        outcome = self._outcome(slot, timeout)
        if slot is not None and slot[2] is not None:
            self._shape, self._version = slot[2]
        return outcome

    def table_version(self) -> Any:
        return self._version

    def table_shape(self) -> dict[str, str]:
        return dict(self._shape)

    def has(self, entry: str) -> bool:
        return entry in V1_ENTRY_POINTS and self._shape.get(entry) == "callable"

    def call(
        self, entry: str, args: tuple[Any, ...], timeout: float, resource: str | None
    ) -> CallOutcome:
        sent = tuple(self._encode(a) for a in args)
        slot = self._request(timeout, "call", entry, sent, resource)
        outcome = self._outcome(slot, timeout)
        if slot is not None and slot[2]:
            handles, buffers = slot[2]
            for index, (number, text) in handles.items():
                event = self._events[number] = RemoteEvent(number, text)
                args[index].value = event
            for index, content in buffers.items():
                args[index][:] = content  # the OutBuffer as the DLL left it
        return outcome

    def _encode(self, value: Any) -> Any:
        if isinstance(value, HKEY):
            key = next(self._ids)
            self._keys[key] = value
            return ("hkey", key, value.path)
        if isinstance(value, HANDLE):
            return ("handle",)
        if isinstance(value, QuorumLost):
            return ("lost-quorum",)
        return value

    def _outcome(self, slot: list[Any] | None, timeout: float) -> CallOutcome:
        if slot is None:  # the deadline passed: the call is still running in the child
            return CallOutcome(start=time.perf_counter() - timeout, stacks=self._dump_stacks())
        if slot[1] is None:  # the child ended before answering
            return CallOutcome(
                start=time.perf_counter(),
                end=time.perf_counter(),
                error=f"the host process ended during the call ({self._exit})",
                error_traceback=self.output(),
                crashed=self._exit or "ended",
            )
        return CallOutcome(**slot[1])

    def _dump_stacks(self) -> str:
        """The child's threads, written by faulthandler on SIGUSR1."""
        self._dumping += 1
        try:
            return self._read_stacks()
        finally:
            self._dumping -= 1

    def _read_stacks(self) -> str:
        # asked first: a host whose Python still runs answers, and a target that took SIGUSR1
        # over is not killed by it; a host stuck with the GIL held only answers faulthandler
        slot = self._request(STACKS_ASK_S, "audit", "stacks", None)
        if slot is not None and slot[1]:
            return str(slot[1])
        with contextlib.suppress(OSError):
            self._stacks_file.write_bytes(b"")
            os.kill(self.process.pid, signal.SIGUSR1)
        deadline = time.perf_counter() + STACKS_WAIT_S
        size = -1
        while time.perf_counter() < deadline:
            time.sleep(0.05)
            now = self._stacks_file.stat().st_size if self._stacks_file.exists() else 0
            if now and now == size:
                break  # written and no longer growing
            size = now
        with contextlib.suppress(OSError):
            text = self._stacks_file.read_text("utf-8", "replace")
            if text:
                return text
        return "(the host process gave no stacks: it did not answer, and wrote none on SIGUSR1)"

    # --- audits and the companion ----------------------------------------------------------
    def thread_baseline(self) -> Any:
        slot = self._request(READY_TIMEOUT_S, "audit", "baseline", None)
        return slot[1] if slot is not None and slot[1] is not None else []

    def lingering(self, baseline: Any) -> list[str]:
        slot = self._request(READY_TIMEOUT_S, "audit", "lingering", (baseline, None))
        return slot[1] if slot is not None and slot[1] is not None else []

    def usage(self, baseline: Any, level: Usage | None) -> Usage:
        slot = self._request(READY_TIMEOUT_S, "audit", "usage", (baseline, level))
        if slot is None or slot[1] is None:
            return Usage(0, 0, 0)
        return slot[1]

    def properties_for(self, resource_name: str) -> dict[str, Any]:
        slot = self._request(READY_TIMEOUT_S, "properties", resource_name)
        return self._companion_answer(slot, "properties")

    def companion(self, kind: str, context: ProbeContext) -> Any:
        slot = self._request(
            READY_TIMEOUT_S, "companion", kind, context.resource_name, context.properties
        )
        return self._companion_answer(slot, kind)

    @staticmethod
    def _companion_answer(slot: list[Any] | None, kind: str) -> Any:
        if slot is None or slot[1] is None:
            raise CompanionFailed(f"the companion's {kind} did not answer in the host process")
        status, answer = slot[1]
        if status != "ok":
            raise CompanionFailed(answer)
        return answer

    def close(self) -> None:
        """End the child and everything in its process group. Idempotent, and safe from two
        threads at once (an abandoned run's timer and the shutdown both close): the second
        caller waits for the first."""
        with self._close_lock:
            if not self._closed:
                self._close()
                self._closed = True

    def _close(self) -> None:
        self._closing = True
        with contextlib.suppress(OSError):
            self._send("close")
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1.0)
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.process.kill()  # in case it left its process group
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        if self._reader is not threading.current_thread():
            self._reader.join(timeout=2)  # it ends at the socket's EOF
        self._conn.close()
        self._sock.close()
        for tail in (self._stdout, self._stderr):
            tail.thread.join(timeout=1)  # at EOF; a process that escaped may still hold it
            if not tail.thread.is_alive():
                with contextlib.suppress(OSError):
                    tail.close()
        self._stacks_file.unlink(missing_ok=True)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _pythonpath(ref: ModuleRef) -> str:
    """The child imports what this process imports: the target's folder and the cwd first."""
    entries = [e for e in (ref.sys_path_entry, os.getcwd()) if e]
    entries += [p for p in sys.path if p]
    return os.pathsep.join(dict.fromkeys(entries))
