"""LogEvent's FormatString, expanded as FormatMessage does (LG-1), within a bounded size.

Inserts ``%1`` with an optional printf spec ``%1!08x!``, the escapes, and ``%0`` ending the
message. A width or precision is honoured up to `WIDTH_LIMIT` characters and counted in
full beyond it, and the text is cut at `MESSAGE_LIMIT` with the cut marked: a format such as
``%1!300000000s!`` costs its length as a number, not 300 MB. The host formats (it holds the
inserts); the monitor receives the text and the full length.
"""

from __future__ import annotations

import re
from typing import Any

#: The widest insert materialised; a wider one is counted, not built.
WIDTH_LIMIT = 4096
#: The longest message kept; the rest is counted and marked as cut.
MESSAGE_LIMIT = 8192
#: At most this many inserts are read (FormatMessage numbers them 1 to 99).
INSERTS = 99

_TOKEN = re.compile(r"%(?:(\d{1,2})(?:!([^!]*)!)?|(.))", re.DOTALL)
_PRINTF = re.compile(r"([-+ #0]*)(\d*)(?:\.(\d+))?(?:hh|h|ll|l|I64|I32|I|w|L)?([diouxXcsSp])")
#: FormatMessage escapes: %% %n (line break) %r %t %b (space) %. %! and "% ".
_ESCAPES = {"%": "%", "n": "\n", "r": "\r", "t": "\t", "b": " ", ".": ".", "!": "!", " ": " "}


def format_message(format_string: Any, args: tuple[Any, ...]) -> tuple[str, int]:
    """``(message, full length)``; the message is at most MESSAGE_LIMIT characters and, when
    it is cut, ends with a marker saying how much was left out."""
    text = _text(format_string)
    message = _Message()
    position = 0
    for match in _TOKEN.finditer(text):
        message.add(text[position : match.start()])
        position = match.end()
        number, spec, escape = match.groups()
        if escape is not None:
            message.add(_ESCAPES.get(escape, match.group(0)))
        elif number == "0":
            return message.result()
        elif 1 <= int(number) <= min(len(args), INSERTS):
            message.add(*_insert(args[int(number) - 1], spec))
        else:
            message.add(match.group(0))
    message.add(text[position:])
    if "%" not in text and args:
        message.add(" " + " ".join(_text(a)[:WIDTH_LIMIT] for a in args[:INSERTS]))
    return message.result()


class _Message:
    """The pieces kept (up to MESSAGE_LIMIT characters) and the full length counted."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.kept = 0
        self.length = 0

    def add(self, piece: str, length: int | None = None) -> None:
        self.length += len(piece) if length is None else length
        room = MESSAGE_LIMIT - self.kept
        if room > 0 and piece:
            self.parts.append(piece[:room])
            self.kept += min(room, len(piece))

    def result(self) -> tuple[str, int]:
        message = "".join(self.parts)
        if self.length <= MESSAGE_LIMIT:
            return message, self.length
        return f"{message}…[cut: {self.length - len(message)} more characters]", self.length


def _text(value: Any) -> str:
    try:
        return str(value)[: MESSAGE_LIMIT * 4]
    except Exception as exc:  # a target's __str__ that raises is still logged
        return f"<{type(value).__name__}: str() raised {type(exc).__name__}>"


def _insert(value: Any, spec: str | None) -> tuple[str, int]:
    """The insert as built, and its length as FormatMessage would make it."""
    parsed = _PRINTF.fullmatch(spec) if spec else None
    if parsed is None:
        built = _text(value)
        return built, len(built)
    flags, width, precision, conversion = parsed.groups()
    conversion = {"i": "d", "u": "d", "S": "s", "p": "X"}.get(conversion, conversion)
    asked = int(width) if width else 0
    shown_width = min(asked, WIDTH_LIMIT)
    shown_precision = min(int(precision), WIDTH_LIMIT) if precision else None
    python_spec = (
        f"%{flags}{shown_width or ''}"
        f"{'.' + str(shown_precision) if shown_precision is not None else ''}{conversion}"
    )
    try:
        built = python_spec % (_text(value) if conversion == "s" else value)
    except (TypeError, ValueError, OverflowError):
        built = _text(value)
    return built, max(asked, len(built))
