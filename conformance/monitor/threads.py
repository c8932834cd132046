"""Whose thread is it? The harness marks its own threads, so that every other thread that
appears during a scenario can be audited as the target's (TE-2, RS-2, CL-4)."""

from __future__ import annotations

import sys
import threading
import traceback
import weakref
from collections.abc import Collection

_HARNESS: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
#: Characters of stack kept per thread when every thread's stack is taken.
STACK_LIMIT = 1500
#: Lines of stack kept per thread in evidence.
STACK_LINES = 6


def harness_thread(thread: threading.Thread) -> threading.Thread:
    """Mark ``thread`` as the harness's own (call threads, supervisors): never audited."""
    _HARNESS.add(thread)
    return thread


def is_harness_thread(thread: threading.Thread) -> bool:
    return thread in _HARNESS


def target_threads(baseline: Collection[threading.Thread]) -> list[threading.Thread]:
    """Live threads that were not running at ``baseline`` and are not the harness's."""
    return [
        t for t in threading.enumerate() if t not in baseline and t not in _HARNESS and t.is_alive()
    ]


def stacks(threads: Collection[threading.Thread]) -> list[str]:
    """Where each thread is now, as evidence lines."""
    frames = sys._current_frames()
    lines: list[str] = []
    for thread in threads:
        frame = frames.get(thread.ident or -1)
        lines.append(f"thread {thread.name!r} still running:")
        if frame is not None:
            for entry in traceback.format_stack(frame)[-STACK_LINES:]:
                lines.extend("    " + line for line in entry.rstrip().splitlines())
    return lines


def all_stacks(hung: str = "") -> str:
    """Every other thread's stack, the thread named ``hung`` first (the call that did not
    return)."""
    frames = sys._current_frames()
    frames.pop(threading.get_ident(), None)  # the thread asking is not evidence
    names = {t.ident: t.name for t in threading.enumerate()}
    order = sorted(frames, key=lambda ident: names.get(ident) != hung)
    found = []
    for ident in order:
        mark = " (the call that did not return)" if hung and names.get(ident) == hung else ""
        stack = "".join(traceback.format_stack(frames[ident])[-8:])[-STACK_LIMIT:]
        found.append(f"Thread {names.get(ident, ident)}{mark}:\n{stack}")
    return "\n".join(found)
