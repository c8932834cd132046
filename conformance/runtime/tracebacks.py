"""The traceback of an exception that left the target, cut to the target's own frames: the
author needs the file, line, function and code line of their DLL, not rescheck's call
machinery or the standard library's internals (issue 19)."""

from __future__ import annotations

import re
import sysconfig
import traceback
from pathlib import Path
from types import TracebackType

#: Frames kept (the innermost), and the length of a code line shown.
FRAME_LIMIT = 12
CODE_LIMIT = 200
#: The length of the exception's own lines (its message and notes).
EXCEPTION_LIMIT = 1000
#: The header of a traceback, as Python prints it; evidence lines start with it.
HEADER = "Traceback (the target's frames, most recent call last):"

_RESCHECK = Path(__file__).resolve().parents[1]
_STDLIB = tuple(
    Path(p).resolve() for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
)
_INSTALLED = tuple(
    Path(p).resolve() for p in {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
)
_FRAME = re.compile(
    r'^  File "(?P<file>[^"\n]{1,1000})", line (?P<line>\d{1,9}), in (?P<func>\S{1,200})$'
)


def _theirs(filename: str) -> bool:
    """Not rescheck's and not the standard library's (packages the target installed are
    the target's: a venv's or a distribution's site-packages may sit inside the stdlib)."""
    try:
        path = Path(filename).resolve()
    except Exception:  # OSError, ValueError, a symlink loop's RuntimeError: a name it gave
        return True
    if path.is_relative_to(_RESCHECK):
        return False
    if any(path.is_relative_to(p) for p in _INSTALLED):
        return True
    return not any(path.is_relative_to(p) for p in _STDLIB) and not filename.startswith("<frozen")


def target_traceback(exc: BaseException, tb: TracebackType | None = None) -> str:
    """``HEADER``, the target's frames (at most ``FRAME_LIMIT``, each with its code line) and
    the exception's lines; empty when no frame of the stack is the target's, or when the
    target's exception cannot even be described (it is evidence, never rescheck's crash)."""
    try:
        return _formatted(exc, tb)
    except Exception:
        return ""


def _formatted(exc: BaseException, tb: TracebackType | None) -> str:
    frames = [f for f in traceback.extract_tb(tb or exc.__traceback__) if _theirs(f.filename)]
    if not frames:
        return ""
    lines = [HEADER]
    if len(frames) > FRAME_LIMIT:
        lines.append(f"  ... {len(frames) - FRAME_LIMIT} earlier frames")
        frames = frames[-FRAME_LIMIT:]
    for frame in frames:
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line.strip()[:CODE_LIMIT]}")
    said = "".join(traceback.format_exception_only(type(exc), exc)).rstrip("\n")
    lines.append(said[:EXCEPTION_LIMIT])  # with its notes, if it has any
    return "\n".join(lines)


def is_traceback(text: str) -> bool:
    """Whether ``text`` is one `target_traceback` made (not a crashed host's output)."""
    return text.startswith(HEADER + "\n")


def raised_at(text: str) -> str | None:
    """``my_dll.py:42 in Terminate``: the innermost frame of a traceback text (``None`` for
    text that holds none, whatever a host sent). Only the frames count: an exception's
    message may quote another traceback."""
    if not is_traceback(text):
        return None
    found = None
    for line in text.splitlines()[1:]:
        match = _FRAME.match(line)
        if match:
            found = match
        elif not line.startswith("    ") and not line.startswith("  ... "):
            break  # the exception's own lines: no frame of the target's below
    if found is None:
        return None
    return f"{Path(found['file']).name}:{found['line']} in {found['func']}"
