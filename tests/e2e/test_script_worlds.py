"""A control script is judged on what it does, not on what rescheck's stand-ins happened to
answer (issue 18, docs/design.md principle 8): a world-dependent rule that fails where the script
asked a stand-in is not judged, with the stand-ins' answers as the reason; the same rule is
judged where the companion declares the world, or where the script asked nothing."""

from __future__ import annotations

from pathlib import Path

from conformance.report.model import CheckResult
from conformance.rules import WORLD
from conformance.suite.catalogue import rule
from conformance.suite.runner import check_resource_type

#: IsAlive compares a command's output, which the stand-in leaves empty.
SERVICE = """Function Online()
  Online = 0
End Function
Function Offline()
  Offline = 0
End Function
Function LooksAlive()
  LooksAlive = True
End Function
Function IsAlive()
  Set sh = CreateObject("WScript.Shell")
  Set running = sh.Exec("sc query MySvc")
  IsAlive = InStr(running.StdOut.ReadAll, "RUNNING") > 0
End Function
"""


def _check(script: Path, rule_id: str) -> CheckResult:
    [check] = check_resource_type(str(script), select=[rule_id]).checks
    return check


def test_a_rule_the_stand_ins_decided_is_not_judged_and_says_what_they_answered(
    tmp_path: Path,
) -> None:
    script = tmp_path / "service.vbs"
    script.write_text(SERVICE, encoding="utf-8")
    check = _check(script, "IsAlive.healthy")
    assert rule("IsAlive.healthy").script_class == WORLD
    assert check.outcome == "skipped" and check.message.startswith("not judged:"), check
    assert "command 'sc query MySvc' was not run, and answered exit code 0" in check.message
    assert "service_companion.py" in check.message, "it says where to declare the world"
    assert check.evidence, "the trace that would have failed it is still shown"


def test_the_same_rule_is_judged_in_a_world_the_companion_declares(tmp_path: Path) -> None:
    script = tmp_path / "service.vbs"
    script.write_text(SERVICE, encoding="utf-8")
    (tmp_path / "service_companion.py").write_text(
        "from conformance import Companion\n"
        "COMPANION = Companion(commands=lambda command: (0, 'STATE : 1 STOPPED'))\n",
        encoding="utf-8",
    )
    check = _check(script, "IsAlive.healthy")
    assert check.outcome == "failed", f"the declared world says STOPPED after Online: {check}"


def test_a_script_that_asked_nothing_answers_for_itself(tmp_path: Path) -> None:
    script = tmp_path / "refuses.js"
    script.write_text(
        "function Online() { return 1; }\nfunction Offline() { return 0; }\n"
        "function LooksAlive() { return true; }\nfunction IsAlive() { return true; }\n",
        encoding="utf-8",
    )
    check = _check(script, "Online.brings-online")
    assert check.outcome == "failed" and "not judged" not in check.message, check


def test_an_unconfigured_private_property_is_the_worlds_answer(tmp_path: Path) -> None:
    """As the cluster creates a resource, its private properties are empty: an Online that
    then refuses to start is not blamed for the world nobody configured."""
    script = tmp_path / "configured.vbs"
    script.write_text(
        'Function Open()\n  Resource.AddProperty "Port"\n  Open = 0\nEnd Function\n'
        'Function Online()\n  If Resource.Port = "" Then\n    Online = 1\n  Else\n'
        "    Online = 0\n  End If\nEnd Function\n"
        "Function Offline()\n  Offline = 0\nEnd Function\n"
        "Function LooksAlive()\n  LooksAlive = True\nEnd Function\n"
        "Function IsAlive()\n  IsAlive = True\nEnd Function\n",
        encoding="utf-8",
    )
    check = _check(script, "Online.brings-online")
    assert check.outcome == "skipped", check
    assert "Resource.Port is empty: nobody configured it" in check.message, check.message


def test_an_object_this_machine_lacks_is_no_runtime_error_of_the_script(tmp_path: Path) -> None:
    script = tmp_path / "vendor.js"
    script.write_text(
        'function Online() { var v = new ActiveXObject("Vendor.Agent"); return 0; }\n'
        "function Offline() { return 0; }\n"
        "function LooksAlive() { return true; }\nfunction IsAlive() { return true; }\n",
        encoding="utf-8",
    )
    check = _check(script, "Script.runtime-errors")
    assert check.outcome == "skipped" and "Vendor.Agent" in check.message, check
    assert "Companion(objects=" in check.message, check.message


def test_a_runtime_error_says_the_world_it_happened_in(tmp_path: Path) -> None:
    script = tmp_path / "wmi.vbs"
    script.write_text(
        "Function Online()\n"
        '  Set svc = GetObject("winmgmts:\\\\.\\root\\cimv2").Get("Win32_Service.Name=\'X\'")\n'
        "  Online = 0\nEnd Function\n"
        "Function Offline()\n  Offline = 0\nEnd Function\n"
        "Function LooksAlive()\n  LooksAlive = True\nEnd Function\n"
        "Function IsAlive()\n  IsAlive = True\nEnd Function\n",
        encoding="utf-8",
    )
    check = _check(script, "Script.runtime-errors")
    assert check.outcome == "failed", check
    assert "in rescheck's stand-in world, where WMI" in check.message, check.message


#: Open converts a private property it expects to be set; the companion sets it, but the
#: cluster opens a new resource before anyone does.
FRESH = """Function Open()
  Resource.LogInformation "port " & CInt(Resource.Port)
  Open = True
End Function
Function LooksAlive()
  LooksAlive = True
End Function
Function IsAlive()
  IsAlive = True
End Function
"""


def test_an_open_that_fails_on_a_resource_as_the_cluster_creates_it_is_a_finding(
    tmp_path: Path,
) -> None:
    script = tmp_path / "fresh.vbs"
    script.write_text(FRESH, encoding="utf-8")
    (tmp_path / "fresh_companion.py").write_text(
        "from conformance import Companion\nCOMPANION = Companion(properties={'Port': 8080})\n",
        encoding="utf-8",
    )
    check = _check(script, "Script.runtime-errors")
    assert check.outcome == "failed", check
    assert check.message.startswith("Open stopped with a runtime error: "), check.message
    assert f"{script}:2:" in check.message, "it names the file and line"
    assert "on a resource as the cluster creates it" in check.message, check.message
    assert "resource.port" in check.message.lower(), "it names the property"


def test_a_fresh_resources_unset_properties_do_not_excuse_a_world_rule(tmp_path: Path) -> None:
    """The fresh resource's world is the cluster's, not a stand-in's: a world rule judged in
    the companion's world stays judged."""
    script = tmp_path / "fresh.vbs"
    script.write_text(FRESH.replace("IsAlive = True", "IsAlive = False"), encoding="utf-8")
    (tmp_path / "fresh_companion.py").write_text(
        "from conformance import Companion\nCOMPANION = Companion(properties={'Port': 8080})\n",
        encoding="utf-8",
    )
    result = check_resource_type(str(script), select=["Script.runtime-errors", "IsAlive.healthy"])
    found = {c.id: c for c in result.checks}
    assert found["Script.runtime-errors"].outcome == "failed"
    assert found["IsAlive.healthy"].outcome == "failed", found["IsAlive.healthy"]
