"""A host that breaks the protocol on purpose: ``python fake_host.py FD SCENARIO``.

It says hello and answers the load correctly (unless the scenario is about the start), then
misbehaves when Startup is asked, and then waits to be killed."""

from __future__ import annotations

import os
import struct
import sys
import time

import msgpack


def frame(message: object) -> bytes:
    body = msgpack.packb(message, use_bin_type=True)
    return struct.pack("<I", len(body)) + body


def read(fd: int) -> dict:
    size = struct.unpack("<I", os.read(fd, 4))[0]
    body = b""
    while len(body) < size:
        body += os.read(fd, size - len(body))
    return msgpack.unpackb(body, raw=False)


NOTE = {
    "type": "callback",
    "id": None,
    "thread": [1, "t"],
    "context": None,
    "last_error": 0,
    "at": 1.0,
}
#: What each scenario writes when Startup is asked (id 2: the load was request 1).
MISBEHAVIOURS = {
    "garbage": b"\xff" * 64,
    "oversized": struct.pack("<I", 0xFFFFFFFF) + b"x" * 16,
    "bad-utf8": struct.pack("<I", 8) + b"\x81\xa4type\xa2\xff\xfe",
    "unknown-type": frame({"type": "exec", "code": "import os"}),
    "unknown-callback": frame({**NOTE, "name": "Execute", "args": {}}),
    "db-method": frame(
        {
            **NOTE,
            "id": 5,
            "name": "ClusterDatabase",
            "args": {
                "key": 1,
                "op": "execute",
                "path": "x",
                "name": None,
                "value_type": None,
                "value": "DROP TABLE keys",
            },
        }
    ),
    "db-unknown-key": frame(
        {
            **NOTE,
            "id": 5,
            "name": "ClusterDatabase",
            "args": {
                "key": 99,
                "op": "values",
                "path": "x",
                "name": None,
                "value_type": None,
                "value": None,
            },
        }
    ),
    "note-with-id": frame(
        {
            **NOTE,
            "id": 3,
            "name": "LogEvent",
            "args": {"handle": None, "level": 1, "format": "x", "message": "x", "length": 1},
        }
    ),
    "answer-unasked": frame(
        {"type": "answer", "id": 999, "outcome": {}, "table": None, "events": [], "buffers": []}
    ),
    "malformed-answer": frame({"type": "answer", "id": 2, "outcome": "done"}),
    "deep": struct.pack("<I", 200000) + b"\x91" * 199999 + b"\xc0",
    "dies-mid-message": struct.pack("<I", 100) + b"\x85",
    "silent": b"",
}


def main() -> None:
    fd, scenario = int(sys.argv[1]), sys.argv[2]
    if scenario == "no-hello":
        time.sleep(60)
    if scenario == "early-answer":
        os.write(
            fd,
            frame(
                {
                    "type": "loaded",
                    "id": 1,
                    "error": None,
                    "loaded": [0.0, 0.0],
                    "declared_type": None,
                    "companion": None,
                }
            ),
        )
    os.write(
        fd,
        frame(
            {
                "type": "hello",
                "protocol": 2 if scenario == "version" else 1,
                "host": "fake",
                "pid": os.getpid(),
            }
        ),
    )
    load = read(fd)
    os.write(
        fd,
        frame(
            {
                "type": "loaded",
                "id": load["id"],
                "error": None,
                "loaded": [0.0, 0.0],
                "declared_type": None,
                "companion": None,
            }
        ),
    )
    read(fd)  # startup
    os.write(fd, MISBEHAVIOURS[scenario])
    if scenario == "dies-mid-message":
        os._exit(0)
    time.sleep(60)


if __name__ == "__main__":
    main()
