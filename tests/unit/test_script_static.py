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
