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
    except (OSError, ValueError):
        return True
    if path.is_relative_to(_RESCHECK):
        return False
    if any(path.is_relative_to(p) for p in _INSTALLED):
        return True
    return not any(path.is_relative_to(p) for p in _STDLIB) and not filename.startswith("<frozen")


def target_traceback(exc: BaseException, tb: TracebackType | None = None) -> str:
    """``HEADER``, the target's frames (at most ``FRAME_LIMIT``, each with its code line) and
    the exception's last line; empty when no frame of the stack is the target's."""
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
    last = traceback.format_exception_only(type(exc), exc)[-1].rstrip("\n")
    lines.append(last[:500])
    return "\n".join(lines)


def raised_at(text: str) -> str | None:
    """``my_dll.py:42 in Terminate``: the innermost frame of a traceback text (``None`` for
    text that holds none, whatever a host sent)."""
    found = None
    for line in text.splitlines():
        match = _FRAME.match(line)
        if match:
            found = match
    if found is None:
        return None
    return f"{Path(found['file']).name}:{found['line']} in {found['func']}"
