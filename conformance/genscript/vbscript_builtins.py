"""VBScript's own library where asppy's differs from vbscript.dll on Windows, as the VBScript
adapter (`conformance.genscript.vbscript`) installs it (issue 18; the measurement is
``tests/unit/test_vbscript_completeness.py``).

- `RegExp` with VBScript's pattern language, not Python's: ``.`` and ``$`` stop at a CR, so
  ``(.*)`` over ``Exec(...).StdOut.ReadAll`` (CRLF lines) does not end in a CR, and
  ``Multiline`` lines end at CR and LF; ``\\d`` and ``\\w`` are ASCII; Python-only syntax
  (lookbehind, named groups, inline flags) is error 5017, as Windows reports it. Its
  Matches, Match and SubMatches have VBScript's type names and default members, and a group
  that did not take part is Empty.
- Functions that asppy gets wrong: CByte (the Byte subtype, rounded to even), InStr and
  InStrRev of Null (Null, not a Python error).
- Err.Raise of a VBScript error number without a description takes VBScript's description
  ("Division by zero" for 11, "Unknown runtime error" for a number VBScript does not know).
- MsgBox and InputBox need a desktop a scripted resource does not have (GS-39): error 70,
  "Permission denied", as VBScript answers in a host without a user interface, and the use is
  recorded. LoadPicture finds no picture: error 481, "Invalid picture".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from ASPPY.server_object import VBScriptRegExp
from ASPPY.vb_builtins import CDbl
from ASPPY.vb_err import VBErr
from ASPPY.vb_runtime import VBByte, VBScriptCOMError, vbs_cstr
from ASPPY.vm.values import VBEmpty, VBNull

#: Err.Source of the errors VBScript's own library raises.
RUNTIME_SOURCE = "Microsoft VBScript runtime error"
#: What ends a line for VBScript's ``.``, ``^`` and ``$`` (ECMAScript's line terminators).
_LINE_END = "\\n\\r\\u2028\\u2029"
#: Escapes that are Unicode-wide in Python and ASCII in VBScript, outside and inside [...].
_ASCII_CLASSES = {"d": "[0-9]", "D": "[^0-9]", "w": "[A-Za-z0-9_]", "W": "[^A-Za-z0-9_]"}
_ASCII_IN_SET = {"d": "0-9", "w": "A-Za-z0-9_"}
#: The group constructs VBScript has; any other ``(?`` is Python's own.
_VBSCRIPT_GROUPS = ("(?:", "(?=", "(?!")

#: VBScript's runtime errors ("VBScript Run-time Errors") and the file errors its runtime
#: raises for the Scripting objects, by number.
RUNTIME_ERRORS = {
    5: "Invalid procedure call or argument",
    6: "Overflow",
    7: "Out of memory",
    9: "Subscript out of range",
    10: "This array is fixed or temporarily locked",
    11: "Division by zero",
    13: "Type mismatch",
    14: "Out of string space",
    17: "Can't perform requested operation",
    28: "Out of stack space",
    35: "Sub or Function not defined",
    48: "Error in loading DLL",
    51: "Internal error",
    52: "Bad file name or number",
    53: "File not found",
    54: "Bad file mode",
    55: "File already open",
    57: "Device I/O error",
    58: "File already exists",
    61: "Disk full",
    62: "Input past end of file",
    67: "Too many files",
    68: "Device unavailable",
    70: "Permission denied",
    71: "Disk not ready",
    74: "Can't rename with different drive",
    75: "Path/File access error",
    76: "Path not found",
    91: "Object variable not set",
    92: "For loop not initialized",
    94: "Invalid use of Null",
    322: "Can't create necessary temporary file",
    424: "Object required",
    429: "ActiveX component can't create object",
    430: "Class doesn't support Automation",
    432: "File name or class name not found during Automation operation",
    438: "Object doesn't support this property or method",
    445: "Object doesn't support this action",
    447: "Object doesn't support current locale setting",
    448: "Named argument not found",
    449: "Argument not optional",
    450: "Wrong number of arguments or invalid property assignment",
    451: "Object not a collection",
    457: "This key is already associated with an element of this collection",
    458: "Variable uses an Automation type not supported in VBScript",
    462: "The remote server machine does not exist or is unavailable",
    481: "Invalid picture",
    500: "Variable is undefined",
    502: "Object not safe for scripting",
    503: "Object not safe for initializing",
    504: "Object not safe for creating",
    505: "Invalid or unqualified reference",
    506: "Class not defined",
    507: "An exception occurred",
    5008: "Illegal assignment",
    5017: "Syntax error in regular expression",
    5018: "Unexpected quantifier",
    5019: "Expected ']' in regular expression",
    5020: "Expected ')' in regular expression",
    5021: "Invalid range in character set",
    32811: "Element not found",
}


def runtime_error(number: int, description: str) -> VBScriptCOMError:
    """A VBScript runtime error as Err sees it (Number, Description, Source)."""
    return VBScriptCOMError(number, description, RUNTIME_SOURCE)


def python_pattern(pattern: str, multiline: bool) -> str:
    """``pattern`` in VBScript's regular-expression language as Python's ``re`` reads it,
    or ValueError for a construct VBScript does not have."""
    out: list[str] = []
    i, in_set = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            table = _ASCII_IN_SET if in_set else _ASCII_CLASSES
            out.append(table.get(escaped, ch + escaped))
            i += 2
            continue
        if in_set:
            in_set = ch != "]"
            out.append("\\[" if ch == "[" else ch)
        elif ch == "[":
            # VBScript: "[]" matches nothing and "[^]" any character; Python reads the "]"
            closing = 2 if pattern.startswith("[^]", i) else 1 if pattern.startswith("[]", i) else 0
            if closing:
                out.append("[\\s\\S]" if closing == 2 else "(?!)")
                i += closing + 1
                continue
            in_set = True
            out.append(ch)
        elif ch == ".":
            out.append(f"[^{_LINE_END}]")
        elif ch == "^":
            out.append(f"(?:(?<=[{_LINE_END}])|\\A)" if multiline else "\\A")
        elif ch == "$":
            out.append(f"(?=[{_LINE_END}]|\\Z)" if multiline else "\\Z")
        elif (
            ch == "("
            and pattern.startswith("(?", i)
            and not pattern.startswith(_VBSCRIPT_GROUPS, i)
        ):
            raise ValueError(f"VBScript has no group {pattern[i : i + 3]!r}")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


class SubMatches:
    """A match's groups, ``m.SubMatches(i)``: Empty for a group that did not take part."""

    def __init__(self, groups: tuple[str | None, ...]) -> None:
        self._groups = [VBEmpty if g is None else g for g in groups]

    def __vbs_typename__(self) -> str:
        return "ISubMatches"

    @property
    def Count(self) -> int:
        return len(self._groups)

    def Item(self, index: Any) -> Any:
        return _at(self._groups, index)

    __vbs_index_get__ = Item

    def __iter__(self) -> Iterator[Any]:
        return iter(self._groups)


class Match:
    """One match; its default member is Value (``"x" & m``)."""

    __vbs_default__ = "Value"

    def __init__(self, found: re.Match[str]) -> None:
        self.Value, self.FirstIndex = found.group(0), found.start()
        self.Length = len(self.Value)
        self.SubMatches = SubMatches(found.groups())

    def __vbs_typename__(self) -> str:
        return "IMatch2"


class Matches:
    """What ``RegExp.Execute`` returns: Count, Item(i) or ``ms(i)``, For Each."""

    def __init__(self, matches: list[Match]) -> None:
        self._matches = matches

    def __vbs_typename__(self) -> str:
        return "IMatchCollection2"

    @property
    def Count(self) -> int:
        return len(self._matches)

    def Item(self, index: Any) -> Match:
        return _at(self._matches, index)

    __vbs_index_get__ = Item

    def __iter__(self) -> Iterator[Match]:
        return iter(self._matches)


def _at(items: list[Any], index: Any) -> Any:
    position = int(CDbl(index))
    if not 0 <= position < len(items):
        raise runtime_error(5, "Invalid procedure call or argument")
    return items[position]


class RegExp(VBScriptRegExp):
    """VBScript's RegExp: asppy's Test and Replace over VBScript's pattern language."""

    def __vbs_typename__(self) -> str:
        return "IRegExp2"

    def _compile(self) -> re.Pattern[str]:
        flags = re.IGNORECASE if bool(self.IgnoreCase) else 0
        try:
            return re.compile(python_pattern(vbs_cstr(self.Pattern), bool(self.MultiLine)), flags)
        except (ValueError, re.error) as exc:
            raise runtime_error(5017, f"Syntax error in regular expression: {exc}") from None

    def Execute(self, text: Any) -> Matches:
        found = self._compile().finditer(vbs_cstr(text))
        if not bool(self.Global):
            first = next(found, None)
            return Matches([Match(first)] if first is not None else [])
        return Matches([Match(m) for m in found])


class Err(VBErr):
    """VBScript's Err object: ``Err.Raise 11`` reads "Division by zero", as on Windows
    (asppy's says "Runtime error 11")."""

    def Raise(
        self,
        number: Any = 0,
        source: Any = "",
        description: Any = "",
        helpfile: Any = "",
        helpcontext: Any = 0,
    ) -> None:
        if not vbs_cstr(description):
            description = RUNTIME_ERRORS.get(int(CDbl(number)), "Unknown runtime error")
        super().Raise(number, vbs_cstr(source), description, vbs_cstr(helpfile), helpcontext)


def CByte(value: Any) -> int:
    """The Byte subtype, rounded half to even as VBScript rounds (asppy truncates and gives
    an Integer)."""
    if value is VBNull:
        raise runtime_error(94, "Invalid use of Null")
    number = round(float(CDbl(value)))
    if not 0 <= number <= 255:
        raise runtime_error(6, "Overflow")
    return VBByte(number)


def null_strings(
    function: Callable[..., Any], strings: Callable[[tuple[Any, ...]], tuple[Any, ...]]
) -> Callable[..., Any]:
    """``function``, answering Null when one of its string arguments is Null (asppy's InStr
    fails with a Python error there, its InStrRev with error 94)."""

    def checked(*args: Any) -> Any:
        if any(a is VBNull for a in strings(args)):
            return VBNull
        return function(*args)

    return checked


def desktop_function(name: str, record: Callable[[str], None]) -> Callable[..., Any]:
    """MsgBox or InputBox: recorded, then error 70 (a scripted resource has no desktop)."""

    def refused(*args: Any) -> Any:
        record(name)
        raise runtime_error(70, f"Permission denied: '{name}'")

    return refused


def LoadPicture(*args: Any) -> Any:
    """No picture exists for a scripted resource: error 481."""
    raise runtime_error(481, "Invalid picture")


def install(env: dict[str, Any], record_desktop: Callable[[str], None]) -> None:
    """Put the functions above in a script's globals (names upper-cased, as asppy keeps them)."""
    env["CBYTE"] = CByte
    env["INSTR"] = null_strings(env["INSTR"], lambda a: a[-2:] if len(a) <= 3 else a[1:3])
    env["INSTRREV"] = null_strings(env["INSTRREV"], lambda a: a[:2])
    env["MSGBOX"] = desktop_function("MsgBox", record_desktop)
    env["INPUTBOX"] = desktop_function("InputBox", record_desktop)
    env["LOADPICTURE"] = LoadPicture
