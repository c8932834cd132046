"""What a control script's text shows without running it (issue 18): uses of a console or a
desktop that a scripted resource does not have (GS-39), calls of `Resource` members the docs
do not define (GS-30..GS-37), and the cluster's own automation objects (GS-38), each with its
line and column, whether or not a scenario reaches that line.

The scan reads code with comments and string literals blanked (same length, so positions
hold), and the string literals alone for ProgIDs and monikers. It runs on text only: no
engine, no part of the script is executed.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

from conformance.genscript.host_objects import CLUSTER_API

#: The members of the Resource object: the documented ones (GS-32..GS-35, Name GS-33) and
#: PropertyExists, which the docs' own example uses though the method table omits it (GS-37):
#: rescheck accepts it (policy of Script.resource-members).
RESOURCE_MEMBERS = frozenset(
    {"name", "loginformation", "addproperty", "removeproperty", "propertyexists"}
)
#: VBScript's functions that need a desktop (GS-39).
DESKTOP_FUNCTIONS = frozenset({"msgbox", "inputbox"})


@dataclass(frozen=True)
class Finding:
    """One use found in the text: ``kind`` is ``console``, ``desktop``, ``resource-member``,
    ``cluster-api`` or ``numeric-health``; ``line`` and ``column`` count from 1."""

    kind: str
    line: int
    column: int
    text: str
    offset: int = 0

    def where(self, path: str) -> str:
        return f"{path}:{self.line}:{self.column}"


def scan(source: str, language: str) -> list[Finding]:
    """Every finding in ``source`` (a VBScript, JScript or Python control script) on a line
    a call can reach, in order: code in a function that nothing calls (a test helper left in,
    say) is no finding."""
    code, strings = _split(source, language)
    dead = _unreachable(code, language)
    return [
        f
        for f in _findings(source, code, strings, language)
        if not any(a <= f.offset < b for a, b in dead)
    ]


def literals(source: str, language: str) -> tuple[str, ...]:
    """The script's string literals, once each: what a generated world draws text from
    (`conformance.genscript.world`), so a command's output can be what the script looks for."""
    found: dict[str, None] = {}
    for _, text in _split(source, language)[1]:
        if language == "Python":
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                continue
            if isinstance(value, str):
                found[value] = None
        else:
            found[text.replace('""', '"') if language == "VBScript" else text] = None
    return tuple(found)


#: A private property the script turns into a number or does arithmetic or an ordered
#: comparison with: ``CInt(Resource.Port)``, ``Resource.Timeout * 1000``, ``Resource.Max > 3``.
_NUMERIC_USES = (
    re.compile(
        r"\b(?:CInt|CLng|CDbl|CSng|CByte|CCur|Int|Fix|Abs|parseInt|parseFloat|Number|int|float)"
        r"\s*\(\s*Resource\s*\.\s*(\w+)",
        re.IGNORECASE,
    ),
    re.compile(r"\bResource\s*\.\s*(\w+)\s*(?:[<>]=?|[-*/\\]|\bMod\b)\s*[\w(]", re.IGNORECASE),
    re.compile(r"(?:[<>]=?|[-*/\\]|\bMod\b)\s*Resource\s*\.\s*(\w+)", re.IGNORECASE),
)


def numeric_properties(source: str, language: str) -> frozenset[str]:
    """The private properties (lower-case names) the script uses as numbers: a generated
    world that configures one gives it a number (`conformance.genscript.world`), since a
    text there would blame the script for what the world's administrator typed."""
    code = _split(source, language)[0]
    return frozenset(m.group(1).lower() for p in _NUMERIC_USES for m in p.finditer(code))


def _findings(
    source: str, code: str, strings: list[tuple[int, str]], language: str
) -> list[Finding]:
    fold = language == "VBScript"  # VBScript's names are case-insensitive
    flags = re.IGNORECASE if fold else 0
    found: list[Finding] = []
    for match in re.finditer(r"\bWScript\s*\.\s*(\w+)", code, flags):
        found.append(_at(source, "console", match.start(), f"WScript.{match.group(1)}"))
    if language == "VBScript":
        for match in re.finditer(r"\b(MsgBox|InputBox)\b", code, re.IGNORECASE):
            found.append(_at(source, "desktop", match.start(), match.group(1)))
    for start, member in _resource_calls(code, language):
        if member.lower() not in RESOURCE_MEMBERS:
            found.append(_at(source, "resource-member", start, f"Resource.{member}"))
    for start, text in strings:
        if CLUSTER_API.search(text):
            found.append(_at(source, "cluster-api", start, text))
    for start, name, length in _numeric_health(code, language):
        value = source[start : start + length]  # the text as written, strings and all
        found.append(_at(source, "numeric-health", start, f"{name} returns {value}"))
    return sorted(found, key=lambda f: (f.line, f.column))


def _at(source: str, kind: str, offset: int, text: str) -> Finding:
    line = source.count("\n", 0, offset) + 1
    return Finding(kind, line, offset - (source.rfind("\n", 0, offset) + 1) + 1, text, offset)


def _functions(code: str, language: str) -> list[tuple[str, int, int]]:
    """(name, start, end) of each function ``code`` defines (offsets into ``code``)."""
    found = []
    if language == "VBScript":
        heads = re.compile(
            r"^[ \t]*(?:(?:Public|Private)[ \t]+)?(Function|Sub)[ \t]+(\w+)", re.I | re.M
        )
        for head in heads.finditer(code):
            end = re.compile(rf"^[ \t]*End[ \t]+{head.group(1)}\b", re.I | re.M).search(
                code, head.end()
            )
            found.append((head.group(2), head.start(), end.end() if end else len(code)))
    elif language == "JScript":
        for head in re.finditer(r"\bfunction[ \t]+(\w+)[^{]*\{", code):
            depth, index = 1, head.end()
            while depth and index < len(code):
                depth += {"{": 1, "}": -1}.get(code[index], 0)
                index += 1
            found.append((head.group(1), head.start(), index))
    else:
        lines = code.splitlines(keepends=True)
        for number, line in enumerate(lines):
            head = re.match(r"def[ \t]+(\w+)", line)  # top-level functions only
            if head:
                start = sum(len(x) for x in lines[:number])
                end = start + len(line)
                for later in lines[number + 1 :]:
                    if later.strip() and not later[0].isspace():
                        break
                    end += len(later)
                found.append((head.group(1), start, end))
    return found


def _unreachable(code: str, language: str) -> list[tuple[int, int]]:
    """The ranges of functions no call can reach: not an entry point, and named neither in
    script-level code nor in a function that is reached."""
    from conformance.genscript.engine import SCRIPT_ENTRY_POINTS

    functions = _functions(code, language)
    fold = str.lower if language == "VBScript" else str
    flags = re.IGNORECASE if language == "VBScript" else 0
    top = code
    for _, start, end in functions:
        top = top[:start] + " " * (end - start) + top[end:]
    entry_points = {fold(e) for e in SCRIPT_ENTRY_POINTS}
    reached: set[str] = set()
    texts = [top]
    for name, start, end in functions:
        if fold(name) in entry_points:
            reached.add(fold(name))
            texts.append(code[start:end])
    while texts:
        text = texts.pop()
        for name, start, end in functions:
            if fold(name) not in reached and re.search(rf"\b{re.escape(name)}\b", text, flags):
                reached.add(fold(name))
                texts.append(code[start:end])
    return [(start, end) for name, start, end in functions if fold(name) not in reached]


def _resource_calls(code: str, language: str) -> list[tuple[int, str]]:
    """``Resource.<member>`` called: with parentheses, or (VBScript) as a statement with
    arguments, ``Resource.LogError "text"``. A member read or assigned is a private property
    (GS-36), never a finding."""
    flags = re.IGNORECASE if language == "VBScript" else 0
    calls = [
        (m.start(), m.group(1)) for m in re.finditer(r"\bResource\s*\.\s*(\w+)\s*\(", code, flags)
    ]
    if language == "VBScript":
        statement = re.compile(
            r"(?:^|:|\bThen\b|\bElse\b|\bCall\b)[ \t]*Resource[ \t]*\.[ \t]*(\w+)[ \t]+(?![=\s:_])"
            r"(?!(?:And|Or|Xor|Eqv|Imp|Mod|Is|Not|Then)\b)",
            re.IGNORECASE | re.MULTILINE,
        )
        for m in statement.finditer(code):
            start = code.lower().index("resource", m.start())
            if all(start != s for s, _ in calls):
                calls.append((start, m.group(1)))
    return calls


#: What a function's result is when it is numeric zero for success in any world: the literal
#: 0, a command's exit code (``.ExitCode``), or what ``WScript.Shell.Run`` returns (one call,
#: nothing after it). VBScript's names are case-insensitive; JScript's and Python's are not.
_NUMERIC_SUCCESS = r"(?:0|[\w.]+\.ExitCode|[\w.]+\.Run\s*\([^()]*\))"


def _numeric_health(code: str, language: str) -> list[tuple[int, str, int]]:
    """``LooksAlive = x.ExitCode``, ``return 0`` or a call of a function that answers so, in
    LooksAlive or IsAlive: success given as numeric zero whatever the world answers (GS-14),
    with the offset and length of the value. A named constant of value 0 counts as the
    literal."""
    fold = language == "VBScript"
    flags = re.IGNORECASE if fold else 0
    numeric_success = re.compile(_NUMERIC_SUCCESS, flags)
    zeros = {  # constants only: a variable may hold anything by the time it is returned
        m.group(1).lower() if fold else m.group(1)
        for m in re.finditer(r"\b(?:Const|const)[ \t]+(\w+)[ \t]*=[ \t]*0(?![\w.])", code, flags)
    }
    results = {name: list(_results(code, language, name, start, end))
               for name, start, end in _functions(code, language)}  # fmt: skip

    def numeric(value: str, numeric_functions: set[str]) -> bool:
        called = re.fullmatch(r"(\w+)[ \t]*(?:\([^()]*\))?", value)
        name = called.group(1) if called else ""
        return bool(
            numeric_success.fullmatch(value)
            or (name.lower() if fold else name) in zeros
            or (name.lower() if fold else name) in numeric_functions
        )

    numeric_functions: set[str] = set()
    while True:  # the functions that answer numeric zero, through the functions they call
        more = {
            name.lower() if fold else name
            for name, values in results.items()
            if any(numeric(value, numeric_functions) for _, value in values)
        }
        if more <= numeric_functions:
            break
        numeric_functions |= more
    return [
        (offset, name, len(value))
        for name, values in results.items()
        if name.lower() in ("looksalive", "isalive")
        for offset, value in values
        if numeric(value, numeric_functions)
    ]


def _results(code: str, language: str, name: str, start: int, end: int):
    """(offset, text) of each value function ``name`` answers: an assignment to its own name
    (VBScript) or a ``return`` (JScript, Python) of its own, not of a function nested in it."""
    if language == "VBScript":
        result = re.compile(rf"(?:^|:|\bThen\b|\bElse\b)[ \t]*{name}[ \t]*=[ \t]*", re.I | re.M)
    else:
        result = re.compile(r"\breturn[ \t]+")
    stop = r"[^:;\n}]*" if language == "JScript" else r"[^:;\n]*"
    nested = _nested(code, language, start, end)
    for match in result.finditer(code, start, end):
        if any(a <= match.start() < b for a, b in nested):
            continue
        value = re.match(stop, code[match.end() : end]).group(0).rstrip()  # type: ignore[union-attr]
        if language == "VBScript":
            value = re.split(r"[ \t]+(?:Else|End[ \t]+If)\b", value, maxsplit=1, flags=re.I)[0]
        yield match.end(), value


def _nested(code: str, language: str, start: int, end: int) -> list[tuple[int, int]]:
    """The spans of the functions defined inside the function at ``start..end`` (a JScript
    callback, a Python inner ``def``); VBScript has none."""
    spans: list[tuple[int, int]] = []
    if language == "JScript":
        body = code.index("{", start) + 1 if "{" in code[start:end] else end
        for head in re.finditer(r"\bfunction\b[^{]*\{", code[body:end]):
            depth, index = 1, body + head.end()
            while depth and index < end:
                depth += {"{": 1, "}": -1}.get(code[index], 0)
                index += 1
            spans.append((body + head.start(), index))
    elif language == "Python":
        lines = code[start:end].splitlines(keepends=True)
        offset = start
        inner: int | None = None  # the indentation of the inner def being skipped
        for number, line in enumerate(lines):
            indent = len(line) - len(line.lstrip())
            if inner is not None and line.strip() and indent <= inner:
                inner = None
            if inner is None and number and re.match(r"[ \t]+(?:async[ \t]+)?def\b", line):
                inner = indent
            if inner is not None:
                spans.append((offset, offset + len(line)))
            offset += len(line)
    return spans


def _split(source: str, language: str) -> tuple[str, list[tuple[int, str]]]:
    """``source`` with comments blanked and string literals' contents masked (same length),
    and the string literals."""
    if language == "Python":
        return _split_python(source)
    if language == "VBScript":
        pattern = re.compile(r'"(?:[^"\n]|"")*"|(?:\'|\bREM\b)[^\n]*', re.IGNORECASE)
    else:
        pattern = re.compile(
            r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|//[^\n]*|/\*.*?\*/', re.DOTALL
        )
    code, strings, last = [], [], 0
    for match in pattern.finditer(source):
        code.append(source[last : match.start()])
        text = match.group(0)
        if text[0] in "\"'" and not (language == "VBScript" and text[0] == "'"):
            strings.append((match.start(), text[1:-1]))
            # a string stays an operand: ``Resource.LogError "x"`` is still a call
            code.append(text[0] + re.sub(r"[^\n]", "x", text[1:-1]) + text[-1])
        else:
            code.append(re.sub(r"[^\n]", " ", text))
        last = match.end()
    code.append(source[last:])
    return "".join(code), strings


def _split_python(source: str) -> tuple[str, list[tuple[int, str]]]:
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    blanked = list(source)
    strings: list[tuple[int, str]] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return source, strings  # the parse reports the syntax error
    for token in tokens:
        if token.type not in (tokenize.STRING, tokenize.COMMENT):
            continue
        start = offsets[token.start[0] - 1] + token.start[1]
        end = offsets[token.end[0] - 1] + token.end[1]
        if token.type == tokenize.STRING:
            strings.append((start, token.string))
        for index in range(start, end):
            if blanked[index] != "\n":
                blanked[index] = " "
    return "".join(blanked), strings
