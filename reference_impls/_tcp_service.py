"""The program the "Process Application" resource type manages, and its wire protocol.

Run as ``python _tcp_service.py --port N``: a tiny TCP server on 127.0.0.1 that answers the
line ``PING`` with ``PONG``, exits cleanly on SIGTERM (so a graceful Offline has something to
be graceful with, OF-3) and dies at once with exit code 3 on ``CRASH`` (so a companion's
breaker can make IsAlive notice a real failure, IA-4). Standard library only, and it listens
before doing anything else, so Online's worker sees it come up fast.

The client half (`ping`, `crash`) lives here too: the DLL and its companion speak one protocol.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
PING = b"PING\n"
PONG = b"PONG\n"
CRASH = b"CRASH\n"
#: The exit code of a simulated crash.
CRASH_EXIT_CODE = 3


def _serve_connection(conn: socket.socket) -> None:
    """Answer one client, line by line, until it hangs up."""
    with conn, conn.makefile("rb") as lines:
        for line in lines:
            if line.strip() == CRASH.strip():
                os._exit(CRASH_EXIT_CODE)
            conn.sendall(PONG if line.strip() == PING.strip() else b"ERROR\n")


def serve(port: int) -> None:
    """Listen on ``port`` and answer clients, each on its own thread, until SIGTERM."""
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    with socket.create_server((HOST, port)) as listener:
        while True:
            conn, _address = listener.accept()
            threading.Thread(target=_serve_connection, args=(conn,), daemon=True).start()


def _send(port: int, line: bytes, timeout: float) -> bytes:
    """Send one line and return the reply line (empty if the server hung up first)."""
    deadline = time.monotonic() + timeout
    with socket.create_connection((HOST, port), timeout=timeout) as conn:
        conn.sendall(line)
        reply = b""
        while not reply.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply from port {port} within {timeout} s")
            conn.settimeout(left)
            chunk = conn.recv(64)
            if not chunk:
                break
            reply += chunk
        return reply


def ping(port: int, timeout: float) -> bool:
    """True when something on ``port`` answers PING with PONG within ``timeout`` seconds."""
    try:
        return _send(port, PING, timeout) == PONG
    except OSError:  # refused, reset, timed out: not answering
        return False


def crash(port: int, timeout: float = 1.0) -> None:
    """Tell the server on ``port`` to die as a crash would (exit code 3, no cleanup)."""
    with contextlib.suppress(OSError):  # it died before answering, as it should, or never ran
        _send(port, CRASH, timeout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args(argv).port)


if __name__ == "__main__":
    main()
