"""The entity the "Lock Holder" resource type manages: an exclusive lock file, advertised on TCP.

A `HeldLock` is one acquisition: the file descriptor that holds ``flock(LOCK_EX)`` on the
lock file, a listening socket on 127.0.0.1 whose server thread answers ``PING`` with ``PONG``
(the protocol of ``_tcp_service``, so one client, `ping`, serves both types), and a watcher
thread that sets the failure event when the lock file is deleted or replaced or the server
stops (AF-1). `HeldLock.release` stops both threads, closes every descriptor and deletes the
lock file while still holding it, so a released lock leaves nothing behind.

Deleting a lock file someone may be waiting on is only safe if every taker checks, once it
holds the lock, that the path still names the inode it locked; `try_lock` does, and retries
otherwise. Standard library only; Linux/POSIX (``fcntl``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import selectors
import socket
import threading

from reference_impls._tcp_service import HOST, PING, PONG, ping

__all__ = ["HOST", "HeldLock", "is_locked", "ping", "same_file", "try_lock"]

#: How often the watcher looks at the lock file and the server (a stat and two reads).
WATCH_SECONDS = 0.02
#: The listening socket's backlog: probes and IsAlive connect one at a time.
BACKLOG = 8
#: The longest request line a client may send before it is hung up on.
MAX_LINE = 64


def same_file(fd: int, path: str) -> bool:
    """True when ``path`` still names the inode open on ``fd`` (not deleted, not replaced)."""
    try:
        held, named = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino) and held.st_nlink > 0


def try_lock(path: str) -> int | None:
    """Open (creating) ``path`` and take ``flock(LOCK_EX | LOCK_NB)`` on it.

    Returns the locked descriptor, or None while another holder has it (or had it and deleted
    the file meanwhile: the caller simply tries again). Any other OSError is raised.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    if not same_file(fd, path):  # the previous holder deleted it after we opened it
        os.close(fd)
        return None
    return fd


def is_locked(path: str) -> bool:
    """True when someone holds ``flock`` on ``path``; a missing file is not locked.

    Takes the lock for an instant when it is free (never creating the file), so it is for
    probes and tests, not for a holder.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the lock if we got it
    return False


class HeldLock:
    """One acquisition of a lock file plus its TCP advertisement; see the module docstring.

    `acquire` opens everything, `start` starts the two threads, `stop` ends them, `release`
    frees everything. `looks_held`, `lock_intact` and `answers` may run at the same time as
    `release` (IsAlive may overlap Terminate, IA-5): the descriptors are only read and closed
    under ``_lock``.
    """

    def __init__(
        self, path: str, fd: int, listener: socket.socket, failure: threading.Event, name: str
    ) -> None:
        self.path = path
        self.port = int(listener.getsockname()[1])
        self.failure = failure
        self._fd = fd
        self._listener = listener
        self._wake_r, self._wake_w = socket.socketpair()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._released = False
        self._server = threading.Thread(target=self._serve, name=f"{name}-server", daemon=True)
        self._watcher = threading.Thread(target=self._watch, name=f"{name}-watcher", daemon=True)

    @classmethod
    def acquire(cls, path: str, port: int, failure: threading.Event, name: str) -> HeldLock | None:
        """Lock ``path`` and listen on ``port``; None while another holder has the lock.

        OSError (the folder is missing, the port is taken, ...) is raised with nothing left open.
        """
        fd = try_lock(path)
        if fd is None:
            return None
        try:
            listener = socket.create_server((HOST, port), backlog=BACKLOG)  # SO_REUSEADDR
        except BaseException:
            _unlink_and_unlock(fd, path)
            raise
        try:
            listener.setblocking(False)  # a client that gives up before accept must not hang us
            return cls(path, fd, listener, failure, name)
        except BaseException:
            listener.close()
            _unlink_and_unlock(fd, path)
            raise

    def start(self) -> None:
        self._server.start()
        self._watcher.start()

    # --- health ---------------------------------------------------------------------------------
    def looks_held(self) -> bool:
        """Cheap: the descriptors are open, the server runs, no failure was signalled."""
        with self._lock:
            return (
                not self._released
                and self._fd >= 0
                and self._listener.fileno() >= 0
                and self._server.is_alive()
                and not self.failure.is_set()
            )

    def lock_intact(self) -> bool:
        """The lock file still is the inode we hold the lock on."""
        with self._lock:
            return not self._released and same_file(self._fd, self.path)

    def answers(self, timeout: float) -> bool:
        """Our own server answers PING with PONG within ``timeout`` seconds."""
        return ping(self.port, timeout)

    def _broken(self) -> str | None:
        """Why the entity is no longer held, or None while it is."""
        with self._lock:
            if self._released:
                return None
            if not same_file(self._fd, self.path):
                return f"the lock file {self.path} was deleted or replaced"
            if self._listener.fileno() < 0 or not self._server.is_alive():
                return f"the server on port {self.port} stopped"
        return None

    # --- threads --------------------------------------------------------------------------------
    def _watch(self) -> None:
        """Signal the failure event once, at the first sign the entity is lost (AF-1)."""
        while not self._stop.wait(WATCH_SECONDS):
            if self._broken() is not None:
                self.failure.set()
                return

    def _serve(self) -> None:
        """Answer PING with PONG on every connection, all on this one thread, until woken."""
        clients: dict[socket.socket, bytes] = {}
        with selectors.DefaultSelector() as selector:
            try:
                selector.register(self._wake_r, selectors.EVENT_READ)
                selector.register(self._listener, selectors.EVENT_READ)
                while True:
                    for key, _mask in selector.select():
                        sock = key.fileobj
                        if sock is self._wake_r:
                            return
                        if sock is self._listener:
                            try:
                                conn, _address = self._listener.accept()
                            except BlockingIOError:
                                continue  # the client gave up before we took it
                            conn.setblocking(False)
                            selector.register(conn, selectors.EVENT_READ)
                            clients[conn] = b""
                        else:
                            assert isinstance(sock, socket.socket)
                            if not self._answer(sock, clients):
                                selector.unregister(sock)
                                clients.pop(sock, None)
                                sock.close()
            except (OSError, ValueError):
                return  # the listener was closed under us: the watcher reports it
            finally:
                for conn in clients:
                    conn.close()

    @staticmethod
    def _answer(conn: socket.socket, clients: dict[socket.socket, bytes]) -> bool:
        """Read what arrived and answer each complete line; False when the client is done."""
        try:
            chunk = conn.recv(MAX_LINE)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not chunk:
            return False
        buffer = clients[conn] + chunk
        while b"\n" in buffer:
            line, _newline, buffer = buffer.partition(b"\n")
            try:
                conn.sendall(PONG if line.strip() == PING.strip() else b"ERROR\n")
            except OSError:
                return False
        clients[conn] = buffer
        return len(buffer) <= MAX_LINE

    # --- ending ---------------------------------------------------------------------------------
    def stop(self) -> None:
        """End the watcher, and only then the server, so the server's end is never reported
        as a failure; both wake at once, so this takes milliseconds. Idempotent."""
        self._stop.set()
        _join(self._watcher)
        with contextlib.suppress(OSError):  # already closed by release
            self._wake_w.send(b"x")
        _join(self._server)

    def release(self) -> None:
        """Stop the threads, close the socket, delete the lock file if it still is ours, then
        drop the lock by closing its descriptor. Idempotent."""
        self.stop()
        with self._lock:
            if self._released:
                return
            self._released = True
            for sock in (self._listener, self._wake_r, self._wake_w):
                sock.close()
            _unlink_and_unlock(self._fd, self.path)
            self._fd = -1


def _join(thread: threading.Thread) -> None:
    if thread.ident is not None and thread is not threading.current_thread():
        thread.join()


def _unlink_and_unlock(fd: int, path: str) -> None:
    """Delete ``path`` if it still is the file locked on ``fd`` (never someone else's), then
    close ``fd``, which drops the lock. Deleting first is safe: see `try_lock`."""
    if same_file(fd, path):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    os.close(fd)
