"""The cost model of a control script's health checks (issue 18): on Linux a stand-in
answers a command at once, so what the script waits for is charged its documented Windows
cost, and the timing rules judge the estimate, saying so."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.suite.costs import POWERSHELL
from conformance.suite.runner import check_resource_type

TIMING = ["LooksAlive.timing", "IsAlive.timing"]

WAITS = {
    "vbs": """' LooksAlive starts PowerShell on every poll and waits for it; IsAlive reads an Exec's code
Function Online()
    Online = True
End Function
Function LooksAlive()
    Set shell = CreateObject("WScript.Shell")
    code = shell.Run("powershell.exe -NoProfile -Command exit 0", 0, True)
    LooksAlive = (code = 0)
End Function
Function IsAlive()
    Set shell = CreateObject("WScript.Shell")
    Set job = shell.Exec("pwsh -c Get-Service x")
    IsAlive = (job.ExitCode = 0)
End Function
""",
    "js": """// LooksAlive starts PowerShell on every poll and waits for it; IsAlive reads an Exec's code
function Online() { return true; }
function LooksAlive() {
    var shell = new ActiveXObject("WScript.Shell");
    return shell.Run("powershell.exe -NoProfile -Command exit 0", 0, true) == 0;
}
function IsAlive() {
    var shell = new ActiveXObject("WScript.Shell");
    var job = shell.Exec("pwsh -c Get-Service x");
    return job.ExitCode == 0;
}
""",
}

NO_WAIT = """' PowerShell started without waiting, and a small command waited for: nothing charged
Function Online()
    Online = True
End Function
Function LooksAlive()
    Set shell = CreateObject("WScript.Shell")
    shell.Run "powershell.exe -Command Start-Job", 0, False
    LooksAlive = (shell.Run("sc.exe query x", 0, True) = 0)
End Function
Function IsAlive()
    IsAlive = True
End Function
"""


def _timing(path: Path) -> dict[str, tuple[str, str]]:
    result = check_resource_type(str(path), select=TIMING)
    return {c.id: (c.outcome, c.message) for c in result.checks}


@pytest.mark.parametrize("ext", sorted(WAITS))
def test_powershell_waited_for_in_looksalive_is_charged_and_said_to_be_estimated(
    tmp_path: Path, ext: str
) -> None:
    """LooksAlive's budget is the script's (GS-15); IsAlive runs within the Generic Script
    DLL's call, whose time is measured but not charged."""
    script = tmp_path / f"waits.{ext}"
    script.write_text(WAITS[ext])
    found = _timing(script)
    outcome, message = found["LooksAlive.timing"]
    assert outcome == "failed", message
    assert "estimated to take longer than 300 ms on Windows" in message, message
    assert f"starting PowerShell (line {7 if ext == 'vbs' else 5}): " in message, message
    assert f"{POWERSHELL.ms:.0f} ms" in message
    assert found["IsAlive.timing"][0] == "passed", found["IsAlive.timing"]


def test_what_is_not_waited_for_or_not_documented_costs_nothing(tmp_path: Path) -> None:
    script = tmp_path / "no_wait.vbs"
    script.write_text(NO_WAIT)
    found = _timing(script)
    assert found["IsAlive.timing"][0] == "passed", found
    outcome, message = found["LooksAlive.timing"]
    assert outcome == "passed", message
    assert "waits for 1 process whose Windows cost is not modelled" in message, message
