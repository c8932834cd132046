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
    LooksAlive = True
End Function
Function IsAlive()
    Set shell = CreateObject("WScript.Shell")
    IsAlive = (shell.Run("sc.exe query x", 0, True) = 0)
End Function
"""


def _timing(path: Path) -> dict[str, tuple[str, str]]:
    result = check_resource_type(str(path), select=TIMING)
    return {c.id: (c.outcome, c.message) for c in result.checks}


@pytest.mark.parametrize("ext", sorted(WAITS))
def test_powershell_waited_for_is_charged_and_said_to_be_estimated(
    tmp_path: Path, ext: str
) -> None:
    script = tmp_path / f"waits.{ext}"
    script.write_text(WAITS[ext])
    found = _timing(script)
    for rule_id in TIMING:
        outcome, message = found[rule_id]
        assert outcome == "failed", f"{rule_id}: {message}"
        assert "estimated to take longer than 300 ms on Windows" in message, message
        line = {"vbs": (7, 12), "js": (5, 9)}[ext][rule_id.startswith("IsAlive")]
        assert f"starting PowerShell (line {line}): " in message, message
        assert f"{POWERSHELL.ms:.0f} ms" in message


def test_what_is_not_waited_for_or_not_documented_costs_nothing(tmp_path: Path) -> None:
    script = tmp_path / "no_wait.vbs"
    script.write_text(NO_WAIT)
    found = _timing(script)
    assert found["LooksAlive.timing"][0] == "passed", found
    outcome, message = found["IsAlive.timing"]
    assert outcome == "passed", message
    assert "waits for 1 process whose Windows cost is not modelled" in message, message
