"""Whose thread is it? The harness marks its own threads, so that every other thread that
appears during a scenario can be audited as the target's (TE-2, RS-2, CL-4)."""

from __future__ import annotations

import queue
import sys
import threading
import traceback
import weakref
from collections.abc import Callable, Collection
from typing import Any

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


#: Idle harness threads kept for the next `spawn` at most; one more ends when it is done.
PARKED_MAX = 64
#: The name of a harness thread waiting in the pool.
PARKED = "rescheck-parked"
#: The harness's per-thread state (`thread_local`), cleared before each piece of work.
_LOCALS: list[threading.local] = []
_Work = tuple[Callable[..., Any], tuple[Any, ...], str]
_parked: list[queue.SimpleQueue[_Work]] = []
_parked_lock = threading.Lock()


def thread_local() -> threading.local:
    """A ``threading.local`` for per-thread state of the harness's (the last-error code, the
    entry point running): `spawn` clears it before each piece of work, so a reused thread
    starts that work as a new thread would. What a target keeps per thread (a ``decimal``
    context, a trace function) cannot be cleared: a thread reused by the same monitor keeps
    it as a Windows thread pool thread would, and a new monitor may inherit it."""
    local = threading.local()
    _LOCALS.append(local)
    return local


def spawn(fn: Callable[..., Any], args: tuple[Any, ...], name: str) -> None:
    """Run ``fn(*args)`` on a harness thread named ``name``: an idle one from an earlier
    `spawn`, or a new one. Starting a thread costs a few hundred microseconds, and a fuzzing
    campaign starts several per example (call threads, supervisors)."""
    with _parked_lock:
        inbox = _parked.pop() if _parked else None
    if inbox is None:
        inbox = queue.SimpleQueue()
        thread = threading.Thread(target=_serve, args=(inbox,), name=name, daemon=True)
        harness_thread(thread).start()
    inbox.put((fn, args, name))


def _serve(inbox: queue.SimpleQueue[_Work]) -> None:
    me = threading.current_thread()
    while True:
        fn, args, me.name = inbox.get()
        for local in _LOCALS:
            local.__dict__.clear()
        try:
            fn(*args)
        except BaseException as exc:  # as a thread of its own would: the hook reports it
            threading.excepthook(threading.ExceptHookArgs((type(exc), exc, exc.__traceback__, me)))
        del fn, args  # nothing of the last work is kept alive while parked
        me.name = PARKED
        with _parked_lock:
            if len(_parked) >= PARKED_MAX:
                return
            _parked.append(inbox)


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
    for ident, name in names.items():
        if name == PARKED:  # idle harness threads: noise that would crowd out evidence
            frames.pop(ident, None)
    order = sorted(frames, key=lambda ident: names.get(ident) != hung)
    found = []
    for ident in order:
        mark = " (the call that did not return)" if hung and names.get(ident) == hung else ""
        stack = "".join(traceback.format_stack(frames[ident])[-8:])[-STACK_LIMIT:]
        found.append(f"Thread {names.get(ident, ident)}{mark}:\n{stack}")
    return "\n".join(found)
