"""A bare monitor for the host test kit: it starts a host, speaks the protocol with the
project's own codec (so everything the host sends is checked as rescheck checks it), answers
callbacks from a small cluster database, and records every message in arrival order."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from conformance.clusapi import HKEY, InMemoryClusterDatabase
from conformance.monitor import remote_db
from conformance.monitor.channel import Channel
from conformance.monitor.launch import Launch
from conformance.protocol import ProtocolError, messages
from conformance.protocol.values import HkeyRef

WAIT = 10.0


class KitHost:
    def __init__(self, launch: Launch) -> None:
        self.log: list[messages.Message] = []
        self.changed = threading.Condition()
        self.violation: ProtocolError | None = None
        self.ended = False
        self.db = InMemoryClusterDatabase()
        self.keys: dict[int, HKEY] = {}
        #: What the kit replies to SetResourceStatus (a RESOURCE_EXIT_STATE).
        self.exit_state = 0
        self._sock, theirs = socket.socketpair()
        if launch.transport == "stdio":  # the host's standard input and output
            stdio = theirs.detach()
            self.process = subprocess.Popen(
                launch.argv(-1), env=launch.env, stdin=stdio, stdout=stdio,
                stderr=subprocess.PIPE, start_new_session=True,
            )  # fmt: skip
            os.close(stdio)
        else:
            child = theirs.detach()
            self.process = subprocess.Popen(
                launch.argv(child), pass_fds=(child,), env=launch.env,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                start_new_session=True,
            )  # fmt: skip
            os.close(child)
        self.launch = launch
        fd = self._sock.fileno()
        self.channel = Channel(fd, fd, self._on_message, self._on_end)

    # --- what arrives ----------------------------------------------------------------------
    def _on_message(self, message: messages.Message, size: int) -> None:
        if isinstance(message, messages.Callback) and message.id is not None:
            self.channel.send(messages.Reply(id=message.id, value=self._reply(message)))
        if hasattr(message, "id") and not isinstance(message, messages.Callback):
            self.channel.resolve(message.id, message)  # type: ignore[attr-defined]
        with self.changed:
            self.log.append(message)
            self.changed.notify_all()

    def _reply(self, message: messages.Callback) -> Any:
        if message.name == "SetResourceStatus":
            return self.exit_state
        if message.name == "ClusterDatabase":
            return remote_db.serve(self.keys[message.args["key"]], message.args)
        return None

    def _on_end(self, violation: ProtocolError | None) -> None:
        with self.changed:
            self.violation, self.ended = violation, True
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[], Any], timeout: float = WAIT) -> Any:
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    def callbacks(self, name: str) -> list[messages.Callback]:
        with self.changed:
            return [m for m in self.log if isinstance(m, messages.Callback) and m.name == name]

    # --- what the kit asks -----------------------------------------------------------------
    def request(self, make: Callable[[int], messages.Message], timeout: float = WAIT) -> Any:
        rid, pending = self.channel.request(make)
        if not pending.wait(timeout):
            self.channel.forget(rid)
            return None
        return pending.answer

    def hkey(self, path: str) -> HkeyRef:
        key = len(self.keys) + 1
        self.db.create_key(path)
        self.keys[key] = HKEY(self.db, path)
        return HkeyRef(key, path)

    def load(self) -> messages.Loaded:
        target = self.launch.target
        return self.request(lambda rid: messages.Load(id=rid, target=target, stacks_file=None))

    def startup(self) -> messages.Answer:
        return self.request(
            lambda rid: messages.Startup(
                id=rid,
                ResourceType="Kit",
                MinVersionSupported=0x100,
                MaxVersionSupported=0x100,
                cluster=None,
            )
        )

    def call(self, entry: str, *args: Any, resource: str | None = None, timeout: float = WAIT):
        return self.request(
            lambda rid: messages.Call(id=rid, entry=entry, args=args, resource=resource),
            timeout,
        )

    def audit(self, what: str, baseline: Any = None, level: Any = None) -> messages.Result:
        return self.request(
            lambda rid: messages.Audit(id=rid, what=what, baseline=baseline, level=level)
        )

    def exited(self, timeout: float = WAIT) -> int | None:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self.channel.reader.join(5)
        self._sock.close()
        if self.process.stderr:
            self.process.stderr.close()


def settle(seconds: float) -> None:
    """Time for something that must *not* happen to show (a report after Terminate)."""
    time.sleep(seconds)
