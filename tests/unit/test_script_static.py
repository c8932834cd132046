"""What a control script's text shows (issue 18): every finding with its line and column;
nothing from comments or strings, a private property read or set, or a function no call
reaches."""

from __future__ import annotations

import pytest

from conformance.genscript.static import scan

VBSCRIPT = """' WScript.Echo in a comment is no use of it
Function Online()
  Resource.LogError "x"
  If Resource.Port Then Resource.LogWarning "y"
  x = Resource.Port
  Resource.Port = 5
  Call Resource.Missing("z")
  Resource.LogInformation "ok" : Resource.AddProperty "A"
  MsgBox "hi" ' WScript.Echo
  s = "WScript.Echo in a string"
  Set c = CreateObject("MSCluster.Cluster")
  Helper
End Function
Sub Helper()
  WScript.Echo "reached through Online"
End Sub
Sub NeverCalled()
  WScript.Echo "a test helper left in"
End Sub
"""


def found(source: str, language: str) -> list[tuple[str, int, int, str]]:
    return [(f.kind, f.line, f.column, f.text) for f in scan(source, language)]


def test_vbscript_findings_with_line_and_column() -> None:
    assert found(VBSCRIPT, "VBScript") == [
        ("resource-member", 3, 3, "Resource.LogError"),
        ("resource-member", 4, 25, "Resource.LogWarning"),
        ("resource-member", 7, 8, "Resource.Missing"),
        ("desktop", 9, 3, "MsgBox"),
        ("cluster-api", 11, 24, "MSCluster.Cluster"),
        ("console", 15, 3, "WScript.Echo"),
    ]


@pytest.mark.parametrize(
    ("language", "source"),
    [
        (
            "JScript",
            "// WScript.Echo('comment')\nfunction IsAlive() {\n  var s = 'WScript.Echo';\n"
            "  Resource.LogError(s);\n  return Resource.Port > 0;\n}\n"
            "function Test() { WScript.Echo('never called'); }\n",
        ),
        (
            "Python",
            "# WScript.Echo('comment')\ndef IsAlive():\n    s = 'WScript.Echo'\n"
            "    Resource.LogError(s)\n    return Resource.Port > 0\n\n\n"
            "def test():\n    WScript.Echo('never called')\n",
        ),
    ],
)
def test_other_languages_skip_comments_strings_reads_and_dead_code(
    language: str, source: str
) -> None:
    assert found(source, language) == [
        ("resource-member", 4, 3 if language == "JScript" else 5, "Resource.LogError")
    ]


def test_a_syntax_error_leaves_the_text_to_the_parse() -> None:
    """An unterminated Python string: the parse reports it; the scan finds nothing and does
    not raise."""
    assert found("def IsAlive():\n    return '\n", "Python") == []


NUMERIC_VBS = """Const UP = 0
Const DOWN = 4
Function Probe(op)
    Set shell = CreateObject("WScript.Shell")
    Probe = shell.Run("probe.exe " & op, 0, True)
End Function
Function Healthy()
    Healthy = (Probe("x") = 0)
End Function
Function LooksAlive()
    If Healthy() Then LooksAlive = True Else LooksAlive = False
End Function
Function IsAlive()
    IsAlive = Probe("deep")
    If IsAlive <> UP Then IsAlive = DOWN
End Function
Function Online()
    Online = 0
End Function
"""


def test_numeric_zero_for_success_is_found_through_constants_and_helpers() -> None:
    """A helper answering an exit code makes IsAlive numeric; a comparison of it is Boolean,
    and a failure code is no finding (nonzero is failure, GS-14); Online may return 0."""
    assert found(NUMERIC_VBS, "VBScript") == [
        ("numeric-health", 14, 15, 'IsAlive returns Probe("deep")'),
    ]


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        ("VBScript", "Const UP = 0\nFunction IsAlive()\n  IsAlive = UP\nEnd Function\n", 3),
        (
            "VBScript",
            'Function LooksAlive()\n  Set e = s.Exec("net share x")\n'
            "  LooksAlive = e.ExitCode\nEnd Function\n",
            3,
        ),
        ("JScript", "function LooksAlive() {\n  return 0;\n}\n", 2),
        ("Python", "def IsAlive():\n    return 0\n", 2),
        ("JScript", "function LooksAlive() {\n  return true;\n}\n", None),
        ("VBScript", "Function IsAlive()\n  IsAlive = (r = 0)\nEnd Function\n", None),
    ],
)
def test_numeric_health_in_each_language(language: str, source: str, expected: int | None) -> None:
    lines = [line for kind, line, _, _ in found(source, language) if kind == "numeric-health"]
    assert lines == ([] if expected is None else [expected])


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        ("VBScript", 'Function LooksAlive()\n  LooksAlive = sh.Run("c", 0, True) = 0 Or Ok("y")\nEnd Function\n', []),
        ("JScript", 'function LooksAlive() {\n  return sh.Run("a",0,true) == 0 && fso.FileExists(p);\n}\n', []),
        ("Python", "def LooksAlive():\n    return subprocess.run([1]).returncode == 0 or runner.run(1)\n", []),
        ("JScript", "function LooksAlive() {\n  a.sort(function(x,y){ if (x==y) return 0; return 1; });\n  return true;\n}\n", []),
        ("Python", "def IsAlive():\n    def inner():\n        return 0\n    return inner() == 0\n", []),
        ("JScript", "var ok = 0;\nfunction LooksAlive() {\n  var ok = fso.FileExists(p); return ok;\n}\n", []),
        ("JScript", "const RATIO = 0.5;\nfunction LooksAlive() { return RATIO; }\n", []),
        ("JScript", "function LooksAlive() { return 0 }\n", [1]),
        ("VBScript", "Function LooksAlive()\n  LooksAlive = 0 ' ok\nEnd Function\n", [2]),
        ("VBScript", "Function LooksAlive()\n  If x Then LooksAlive = 0 Else LooksAlive = 1\nEnd Function\n", [2]),
        ("Python", "def IsAlive():\n    return 0  # ok\n", [2]),
    ],
)  # fmt: skip
def test_numeric_health_is_only_a_value_that_is_numeric_zero_in_any_world(
    language: str, source: str, expected: list[int]
) -> None:
    """A comparison, a callback's return, a variable and a fraction are not numeric zero for
    success; a constant, a literal behind a comment or an If are."""
    lines = [line for kind, line, _, _ in found(source, language) if kind == "numeric-health"]
    assert lines == expected
