"""`IsolatedHost`: the target in a host process of its own, as RHS hosts resource DLLs.

The monitor and the checks stay in this process; the host speaks the host protocol
(``docs/host-protocol.md``) over a socket (`channel`), as a process of its own session
(`hostprocess`). Calls are timed in the host, next to the call. Callbacks come back and are
answered here on a thread named like the target's thread that made them, with that thread's
entry-point context and last error, so the monitor sees them as it does in-process. A call
that outlives its deadline gets the host's stacks; a host that dies is reported with its exit
status and the tail of its output; a host that breaks the protocol is stopped and blamed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import sys
import threading
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from conformance import resapi, resutils
from conformance.clusapi import HKEY
from conformance.companion import Companion, ProbeContext
from conformance.errors import TargetLoadError
from conformance.monitor import host as host_module
from conformance.monitor import remote_db
from conformance.monitor.callbacks import CallbackOrder, Proxies
from conformance.monitor.channel import Channel
from conformance.monitor.host import CallOutcome, MonitorCallbacks, QuorumLost
from conformance.monitor.hostprocess import HostProcess
from conformance.monitor.launch import Launch, python_launch
from conformance.monitor.stacks import read_stacks
from conformance.monitor.usage import Usage
from conformance.protocol import PROTOCOL_VERSION, ProtocolError, messages
from conformance.protocol.values import HkeyRef, OutHandle, QuorumRoutine
from conformance.resapi import HANDLE, V1_ENTRY_POINTS
from conformance.rundir import run_dir
from conformance.runtime.script_events import report_script
from conformance.runtime.trace import made_at

if TYPE_CHECKING:
    from conformance.targets.pydll import ModuleRef

#: How long the host may take to say hello and load the module.
READY_TIMEOUT_S = 30.0


class CompanionFailed(Exception):
    """The companion's code raised (or hung) in the host process; the message says how."""


class RemoteEvent:
    """A failure event Online handed out; the host tells the monitor when it is set."""

    def __init__(self, event: int, text: str) -> None:
        self.event, self.text = event, text
        self._set = threading.Event()

    def is_set(self) -> bool:
        return self._set.is_set()

    def signal(self) -> None:
        self._set.set()

    def __repr__(self) -> str:
        return self.text


class IsolatedHost:
    """A `Host` whose target runs in a host process."""

    def __init__(
        self,
        ref: ModuleRef | None = None,
        companion_path: str | None = None,
        *,
        launch: Launch | None = None,
        ready_timeout: float = READY_TIMEOUT_S,
        companion: Companion | None = None,
    ) -> None:
        """``companion``: run here, for a host that runs no Python (the native host)."""
        self._companion_here = companion
        if launch is None:
            assert ref is not None, "a host needs a module or a launch"
            launch = python_launch(ref, companion_path)
        self.launch = launch
        self.loaded = (0.0, 0.0)
        self._callbacks: MonitorCallbacks | None = None
        self._shape: dict[str, str] = {}
        self._version: Any = None
        self._size: int | None = None
        self._keys: dict[int, HKEY] = {}
        self._events: dict[int, RemoteEvent] = {}
        self._hello: queue.SimpleQueue[messages.Hello | None] = queue.SimpleQueue()
        self._refused: str | None = None  # how the host broke the protocol
        self._offset = 0.0  # the monitor's clock minus the host's
        self._pid: int | None = None  # the host's process id, as it said hello
        self._exit: str | None = None
        self._dumping = 0  # stacks of a hung call are being dumped
        self._closing = False
        self._close_lock = threading.Lock()
        self._closed = False
        self._stacks_file = run_dir().path("stacks-")
        self._stacks_file.touch()
        self._sock: socket.socket | None = None
        if launch.transport == "stdio":  # the host's standard input and output (pipes)
            to_host, into_host = os.pipe()
            from_host, out_of_host = os.pipe()
            self.process = HostProcess(
                launch.argv(-1), (), launch.env, self._process_exited, to_host, out_of_host
            )
            os.close(to_host)
            os.close(out_of_host)
            self._fds = (from_host, into_host)
        else:  # a socket whose descriptor the host is given
            self._sock, theirs = socket.socketpair()
            child_fd = theirs.detach()
            self.process = HostProcess(
                launch.argv(child_fd), (child_fd,), launch.env, self._process_exited
            )
            os.close(child_fd)
            self._fds = (self._sock.fileno(), self._sock.fileno())
        self._order = CallbackOrder(self._deliver)
        self._proxies = Proxies(self._answer, self._order)
        self.channel = Channel(*self._fds, self._on_message, self._ended)
        self.info = self._load(ready_timeout)

    def _load(self, timeout: float) -> dict[str, Any]:
        """Hello, then Load: what the module declares (its type name and its companion)."""
        name = self.launch.name
        deadline = time.perf_counter() + timeout
        try:
            hello = self._hello.get(timeout=timeout)
        except queue.Empty:
            hello = None
        if hello is not None and hello.protocol != PROTOCOL_VERSION:
            self.close()
            raise TargetLoadError(
                f"{name}: the host speaks protocol version {hello.protocol}, rescheck "
                f"{PROTOCOL_VERSION}; use the host that came with this rescheck"
            )
        if hello is not None and hello.clock is not None:
            self._offset = time.perf_counter() - hello.clock
        self._pid = hello.pid if hello is not None else None
        target, stacks = self.launch.target, str(self._stacks_file)
        answer = self._request(
            deadline - time.perf_counter(),
            lambda rid: messages.Load(id=rid, target=target, stacks_file=stacks),
        )
        if not isinstance(answer, messages.Loaded) or answer.error is not None:
            self.close()
            if isinstance(answer, messages.Loaded):
                raise TargetLoadError(answer.error or "")
            if answer is False:
                raise TargetLoadError(
                    f"{name}: loading it in the host process took over {timeout:.0f} s"
                )
            said = self.process.last_words()
            raise TargetLoadError(
                f"{name}: the host process ended while loading ({self._end_reason()})"
                + (f": {said}" if said else "")
            )
        self.loaded = (answer.loaded[0] + self._offset, answer.loaded[1] + self._offset)
        return {
            "loaded": self.loaded,
            "declared_type": answer.declared_type,
            "companion": answer.companion,
        }

    # --- the channel -----------------------------------------------------------------------
    def _request(self, timeout: float, make: Any) -> messages.Message | bool | None:
        """Send a request and wait for its answer: the answer, None when the host ended
        first, False when it did not come in time."""
        rid, pending = self.channel.request(make)
        if not pending.wait(timeout):
            self.channel.forget(rid)
            return False
        return pending.answer

    def _on_message(self, message: messages.Message, size: int) -> None:
        """On the channel's reader thread: every message the host sends, checked."""
        if isinstance(message, messages.Hello):
            self._hello.put(message)
        elif isinstance(message, messages.Callback):
            if message.name.startswith("ClusterDatabase") and message.args["key"] not in self._keys:
                raise ProtocolError(f"a {message.name} callback on a key never handed out")
            self._proxies.dispatch(message, *message.thread, size)
        elif isinstance(message, messages.Event):
            event = self._events.get(message.event)
            if event is not None:
                event.signal()
        else:
            self._order.answer(message)

    def _deliver(self, message: messages.Message) -> None:
        self.channel.resolve(message.id, message)  # type: ignore[attr-defined]

    def _process_exited(self) -> None:
        """End the reader's wait even if a fork still holds the host's end of the socket (a
        pipe ends when the guardian has ended everything the host started)."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def _ended(self, violation: ProtocolError | None) -> None:
        """The channel is done: the host ended, or broke the protocol and is stopped."""
        if violation is not None:
            self._refused = violation.describe()
            self.process.signal(signal.SIGKILL)  # the guardian ends what it started
        self._hello.put(None)
        with contextlib.suppress(Exception):
            self.process.process.wait(timeout=5)
        self._exit = self._end_reason()
        if self._closing or self._dumping or self._callbacks is None:
            return  # (a death while its stacks are dumped belongs to the hung call)
        if self.channel.had_pending:
            return  # each call in flight reports the end itself
        self._callbacks.host_exited(self._exit, self.output())

    def _end_reason(self) -> str:
        if self._refused is not None:
            return f"stopped by rescheck: it broke the host protocol: {self._refused}"
        return self.process.exit_status()

    def output(self) -> str:
        return self.process.output()

    # --- callbacks -------------------------------------------------------------------------
    def _answer(self, message: messages.Callback) -> None:
        threading.current_thread().name = message.thread[1]  # idents are reused; names change
        host_module._context.value = message.context  # the entry point its thread is in
        resapi._last_error.value = message.last_error
        made_at.value = message.at + self._offset  # when the target made the callback
        try:
            answer = self._callback(message.name, message.args)
        except Exception as exc:  # the monitor's own failure must not hang the target
            answer = None
            print(
                f"rescheck: answering {message.name} from the host failed: {exc!r}", file=sys.stderr
            )
        finally:
            host_module._context.value = None
            made_at.value = None
        if message.id is not None:
            self.channel.send(messages.Reply(id=message.id, value=answer))

    def _callback(self, name: str, args: dict[str, Any]) -> Any:
        callbacks = self._callbacks
        if name == "SetLastError":
            resapi.SetLastError(args["code"])
        elif name == "ResUtil":
            resutils.report_call(args["function"], args["result"], args["why"])
        elif name == "Script":
            report_script(args["resource"], args["what"], args["data"])
        elif name == "ClusterDatabaseAccess":
            observer = self._keys[args["key"]].observer
            if observer is not None:
                observer(args["op"], args["path"], args["name"], args["write"], args.get("result"))
        elif name == "ClusterDatabase":
            return remote_db.serve(self._keys[args["key"]], args)
        elif callbacks is None:
            return None
        elif name == "SetResourceStatus":
            # the report as it arrived: any field may be odd, the checks judge
            return callbacks.SetResourceStatus(args["handle"], SimpleNamespace(**args["status"]))
        elif name == "LogEvent":
            callbacks.log_event(
                args["handle"], args["level"], args["format"], args["message"], args["length"]
            )
        elif name == "ThreadException":
            callbacks.thread_raised(
                threading.current_thread().name, args["error"], args["traceback"]
            )
        elif name == "LostQuorumResource":
            callbacks.LostQuorumResource(args["handle"])
        return None

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
        answer = self._request(
            timeout,
            lambda rid: messages.Startup(
                id=rid,
                ResourceType=ResourceType,
                MinVersionSupported=MinVersionSupported,
                MaxVersionSupported=MaxVersionSupported,
                cluster=None if root is None else self._encode(root),
            ),
        )
        outcome = self._outcome(answer, timeout)
        if isinstance(answer, messages.Answer) and answer.table is not None:
            self._shape, self._version = answer.table["shape"], answer.table["version"]
            self._size = answer.table["size"]
        return outcome

    def table_version(self) -> Any:
        return self._version

    def table_size(self) -> int | None:
        return self._size

    def table_shape(self) -> dict[str, str]:
        return dict(self._shape)

    def has(self, entry: str) -> bool:
        return entry in V1_ENTRY_POINTS and self._shape.get(entry) == "callable"

    def call(
        self, entry: str, args: tuple[Any, ...], timeout: float, resource: str | None
    ) -> CallOutcome:
        sent = tuple(self._encode(a) for a in args)
        answer = self._request(
            timeout, lambda rid: messages.Call(id=rid, entry=entry, args=sent, resource=resource)
        )
        outcome = self._outcome(answer, timeout)
        if isinstance(answer, messages.Answer):
            for index, number, text in answer.events:
                if 0 <= index < len(args) and isinstance(args[index], HANDLE):
                    event = self._events[number] = RemoteEvent(number, str(text))
                    args[index].value = event
            for index, content in answer.buffers:
                if 0 <= index < len(args) and isinstance(args[index], bytearray):
                    args[index][:] = content  # the OutBuffer as the DLL left it
        return outcome

    def _encode(self, value: Any) -> Any:
        if isinstance(value, HKEY):
            key = len(self._keys) + 1
            self._keys[key] = value
            return HkeyRef(key, value.path)
        if isinstance(value, HANDLE):
            return OutHandle()
        if isinstance(value, QuorumLost):
            return QuorumRoutine()
        return value

    def _outcome(self, answer: Any, timeout: float) -> CallOutcome:
        if answer is False:  # the deadline passed: the call is still running in the host
            return CallOutcome(start=time.perf_counter() - timeout, stacks=self._dump_stacks())
        if not isinstance(answer, messages.Answer):  # the host ended before answering
            return CallOutcome(
                start=time.perf_counter(),
                end=time.perf_counter(),
                error=f"the host process ended during the call ({self._end_reason()})",
                error_traceback=self.output(),
                crashed=self._end_reason(),
            )
        found = answer.outcome
        return CallOutcome(
            value=found["value"],
            error=found["error"],
            error_traceback=found["traceback"],
            start=found["start"] + self._offset,
            end=found["end"] + self._offset,
            thread=found["thread"],
        )

    def _dump_stacks(self) -> str:
        """The host's threads: asked first (a host whose Python still runs answers, and a
        target that took SIGUSR1 over is not killed by it), then written by faulthandler."""
        self._dumping += 1
        try:
            if self.launch.stacks is not None and self._pid is not None:
                return self.launch.stacks(self._pid)
            return read_stacks(self._ask_stacks, self.process.signal, self._stacks_file)
        finally:
            self._dumping -= 1

    def _ask_stacks(self, timeout: float) -> str | None:
        found = self._result(timeout, "stacks", None, None)
        return found if isinstance(found, str) and found else None

    # --- audits and the companion ----------------------------------------------------------
    def _result(self, timeout: float, what: str, baseline: Any, level: Any) -> Any:
        answer = self._request(
            timeout,
            lambda rid: messages.Audit(id=rid, what=what, baseline=baseline, level=level),
        )
        if isinstance(answer, messages.Result) and answer.status == "ok":
            return answer.value
        return None

    def thread_baseline(self) -> Any:
        found = self._result(READY_TIMEOUT_S, "baseline", None, None)
        return (
            _checked(
                found, messages.array(messages.pair(messages.integer, messages.integer), 1 << 16)
            )
            or ()
        )

    def lingering(self, baseline: Any) -> list[str]:
        found = self._result(READY_TIMEOUT_S, "lingering", baseline, None)
        return list(_checked(found, messages.array(messages.TEXT, 200)) or ())

    def usage(self, baseline: Any, level: Usage | None) -> Usage:
        found = self._result(
            READY_TIMEOUT_S, "usage", baseline, level.to_json() if level is not None else None
        )
        counts = _checked(
            found,
            messages.record(
                threads=messages.integer, fds=messages.integer, children=messages.integer
            ),
        )
        return Usage(**counts) if counts else Usage(0, 0, 0)

    def properties_for(self, resource_name: str) -> dict[str, Any]:
        if self._companion_here is not None:
            return self._companion_here.properties_for(resource_name)
        return self._companion(
            "properties", resource_name, None, messages.string_map(messages.value, 1 << 12)
        )

    def companion(self, kind: str, context: ProbeContext) -> Any:
        if self._companion_here is not None:
            return getattr(self._companion_here, kind)(context)
        return self._companion(kind, context.resource_name, context.properties, messages.boolean)

    def _companion(self, kind: str, resource: str, properties: Any, check: Any) -> Any:
        answer = self._request(
            READY_TIMEOUT_S,
            lambda rid: messages.Companion(
                id=rid, what=kind, resource=resource, properties=properties
            ),
        )
        if not isinstance(answer, messages.Result):
            raise CompanionFailed(f"the companion's {kind} did not answer in the host process")
        if answer.status != "ok":
            raise CompanionFailed(str(answer.value)[:4000])
        found = _checked(answer.value, check)
        if found is None:
            raise CompanionFailed(f"the companion's {kind} answered {answer.value!r:.200}")
        return found

    def close(self) -> None:
        """End the host and everything in its process group. Idempotent, and safe from two
        threads at once (an abandoned run's timer and the shutdown both close): the second
        caller waits for the first."""
        with self._close_lock:
            if not self._closed:
                self._close()
                self._closed = True

    def _close(self) -> None:
        self._closing = True
        self.channel.send(messages.Shutdown())
        self.process.kill(grace=1.0)
        self._process_exited()
        if self.channel.reader is not threading.current_thread():
            self.channel.reader.join(timeout=2)  # it ends at the socket's EOF
        if self._sock is not None:
            self._sock.close()
        else:
            for fd in self._fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._proxies.close()
        self._stacks_file.unlink(missing_ok=True)


def _checked(found: Any, check: Any) -> Any:
    try:
        return None if found is None else check(found)
    except ProtocolError:
        return None
