"""A hung native host's thread stacks, read from outside by Wine's debugger.

A process cannot walk its own threads' stacks under Wine, so the monitor asks ``winedbg`` to
attach to the host, print every thread's backtrace and detach (``bt all``; it prints every
process of the prefix, of which the host's threads are kept). The host is then killed anyway:
its call did not return."""

from __future__ import annotations

import re
import selectors
import subprocess
import time

from conformance.monitor.reaper import kill_tree
from conformance.native.wine import find_wine

#: How long winedbg may take (about 3 s measured, most of it starting Wine's debugger).
WINEDBG_TIMEOUT_S = 15.0
#: The most of winedbg's output read, and of the host's stacks kept.
OUTPUT_READ = 4 << 20
STACKS_KEPT = 64 << 10

_BLOCK = re.compile(r"^Backtracing for thread (\w+) in process (\w+) \(([^)]*)\):$", re.M)
#: The thread winedbg injects to break in: not the DLL's.
_DEBUGGER_THREAD = "DbgUiRemoteBreakin"
#: A frame's source file in Wine's own tree, which winedbg prints as if it lay under the
#: current directory (``[Z:\\home\\me\\dlls\\kernelbase\\sync.c:57]``): no such file exists.
_WINE_SOURCE = re.compile(r" \[[A-Za-z]:\\[^\]]*?\\(?:dlls|include|programs|loader)\\[^\]]*\]")


def wine_stacks(pid: int, env: dict[str, str]) -> str:
    """The backtraces of the threads of the Windows process ``pid``, or a line saying why
    there are none."""
    argv = [str(find_wine()), "winedbg", "--command", "bt all", str(pid)]
    try:
        process = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        return f"(no stacks: winedbg could not be started: {exc})"
    output, complete = _read(process)
    text = host_threads(output.decode("utf-8", "replace"), pid)
    if not text:
        why = "it printed none for the host" if complete else "it did not finish in time"
        return f"(no stacks: winedbg attached to the host, and {why})"
    if len(text) > STACKS_KEPT:
        text = text[:STACKS_KEPT] + f"\n... (cut at {STACKS_KEPT} characters)"
    return text


def _read(process: subprocess.Popen[bytes]) -> tuple[bytes, bool]:
    """winedbg's output, bounded in size and time; the process is ended either way."""
    assert process.stdout is not None
    chunks: list[bytes] = []
    size, complete = 0, False
    deadline = time.monotonic() + WINEDBG_TIMEOUT_S
    with selectors.DefaultSelector() as selector, process.stdout:
        selector.register(process.stdout, selectors.EVENT_READ)
        while size < OUTPUT_READ:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                break
            chunk = process.stdout.read1(min(65536, OUTPUT_READ - size))
            if not chunk:
                complete = True
                break
            chunks.append(chunk)
            size += len(chunk)
    kill_tree(process)
    return b"".join(chunks), complete


def host_threads(output: str, pid: int) -> str:
    """The blocks of ``bt all``'s output that belong to process ``pid``, without winedbg's own
    break-in thread."""
    kept = []
    starts = list(_BLOCK.finditer(output))
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(output)
        block = output[match.start() : end].strip()
        if int(match.group(2), 16) != pid or _DEBUGGER_THREAD in block:
            continue
        thread = int(match.group(1), 16)
        lines = block.splitlines()[1:]  # "Backtrace:" and the frames
        frames = "\n".join(_WINE_SOURCE.sub("", line) for line in lines[1:])
        kept.append(f"Thread {thread} (0x{thread:04x}):\n{frames}")
    return "\n\n".join(kept)
