"""`rescheck fuzz` on a control script explores worlds and steps together: a sequence first
picks the world the script's stand-ins answer from, hypothesis shrinks it towards the stand-in
world, and the reproducer replays it (issue 18)."""

from __future__ import annotations

import re
from pathlib import Path

from conformance.fuzz.campaign import fuzz
from conformance.targets import load_target
from tests.fuzz.support import run_reproducer

#: Online copes with a missing service, but once it finds one it divides by zero: only a
#: world where the service exists reaches the bug.
FOUND_SERVICE = """Function Online()
  On Error Resume Next
  Set svc = GetObject("winmgmts:\\\\\\\\.\\\\root\\\\cimv2").Get("Win32_Service.Name='FTPSVC'")
  If Err.Number <> 0 Then
    Online = False
    Exit Function
  End If
  On Error GoTo 0
  Resource.LogInformation "state " & svc.State & " " & (1 / 0)
  Online = True
End Function
Function LooksAlive()
  LooksAlive = True
End Function
Function IsAlive()
  IsAlive = True
End Function
"""


def quiet(line: str) -> None:
    pass


def test_a_bug_only_a_generated_world_reaches_is_found_shrunk_and_replayed(
    tmp_path: Path,
) -> None:
    script = tmp_path / "ftp.vbs"
    script.write_text(FOUND_SERVICE, encoding="utf-8")
    reports = tmp_path / "reports"
    target = load_target(str(script), hosting="in-process")
    result = fuzz(target, reports, max_examples=60, seed_value=1, progress=quiet)
    failed = [c for c in result.checks if c.outcome == "failed"]
    assert [c.id for c in failed] == ["Script.runtime-errors"], failed
    assert "division by zero" in failed[0].message.lower(), failed[0].message
    assert "generated world" in failed[0].message, "the finding names the world it needs"
    reproducer = reports / "test_repro_script_runtime_errors.py"
    text = reproducer.read_text()
    world = re.search(r"Step\('world', 0, arg=(\d+)\)", text)
    assert world is not None and int(world.group(1)) != 0, text
    done = run_reproducer(reproducer)
    assert done.returncode == 1, f"the reproducer must fail on its own:\n{done.stdout}"
    assert "Script.runtime-errors" in done.stdout, done.stdout


def test_a_script_that_copes_with_every_world_stays_compliant(tmp_path: Path) -> None:
    script = tmp_path / "ftp.vbs"
    script.write_text(FOUND_SERVICE.replace(' & " " & (1 / 0)', ""), encoding="utf-8")
    target = load_target(str(script), hosting="in-process")
    result = fuzz(target, tmp_path / "reports", max_examples=30, seed_value=1, progress=quiet)
    bad = [c for c in result.checks if c.outcome in ("failed", "error")]
    assert not bad, bad
