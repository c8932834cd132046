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

#: IsAlive compares a command's output with a text it builds, which no world prints (a
#: generated world prints the script's own literals, and "RUN" & "NING" is neither).
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
  IsAlive = InStr(running.StdOut.ReadAll, "RUN" & "NING") > 0
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
    then refuses to start is not blamed for the world nobody configured, and the suite runs
    in a world whose administrator configured the property."""
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
    result = check_resource_type(str(script), select=["Online.brings-online"])
    world = result.info["script_world"]
    assert world["came_online"] and world["seed"] != 0, world
    assert world["tried"][0].startswith("the stand-in world: Online did not succeed"), world
    [check] = result.checks
    assert check.outcome == "passed", check


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


#: Online starts a service that WMI shows, the health checks look at it, and Offline has a
#: bug that only a resource that came online reaches.
WMI_SERVICE = """Function Online()
  Set svc = GetObject("winmgmts:\\\\.\\root\\cimv2").Get("Win32_Service.Name='FTPSVC'")
  If svc.State = "Running" Then
    Online = True
  Else
    Online = (svc.StartService() = 0)
  End If
End Function
Function Offline()
  Resource.LogInformation "stopping " & 1 / 0
End Function
Function LooksAlive()
  LooksAlive = IsAlive()
End Function
Function IsAlive()
  On Error Resume Next
  Set svc = GetObject("winmgmts:\\\\.\\root\\cimv2").Get("Win32_Service.Name='FTPSVC'")
  IsAlive = (Err.Number = 0) And (svc.State = "Running")
End Function
"""


def test_the_suite_runs_in_a_world_where_the_script_comes_online(tmp_path: Path) -> None:
    """In the stand-in world WMI finds no service and Online rightly fails; in a generated
    world the service is there and running, so the scenarios reach Offline's bug."""
    script = tmp_path / "ftp.vbs"
    script.write_text(WMI_SERVICE, encoding="utf-8")
    result = check_resource_type(
        str(script), select=["Online.brings-online", "IsAlive.healthy", "Script.runtime-errors"]
    )
    world = result.info["script_world"]
    assert world["came_online"] and world["seed"] != 0, world
    assert world["tried"][0].startswith("the stand-in world: Online did not succeed"), world
    found = {c.id: c for c in result.checks}
    assert found["Online.brings-online"].outcome == "passed", found["Online.brings-online"]
    assert found["IsAlive.healthy"].outcome == "passed", found["IsAlive.healthy"]
    errors = found["Script.runtime-errors"]
    assert errors.outcome == "failed", errors
    assert errors.message.startswith("Offline stopped with a runtime error: "), errors.message
    assert f"{script}:10:" in errors.message and "division by zero" in errors.message.lower()
    assert f"in generated world {world['seed']}" in errors.message, errors.message


def test_a_script_that_comes_online_in_the_stand_in_world_stays_there(tmp_path: Path) -> None:
    script = tmp_path / "plain.js"
    script.write_text(
        "function Online() { return true; }\nfunction Offline() { return true; }\n"
        "function LooksAlive() { return true; }\nfunction IsAlive() { return true; }\n",
        encoding="utf-8",
    )
    result = check_resource_type(str(script), select=["Online.brings-online"])
    assert result.info["script_world"] == {
        "seed": 0,
        "world": "the stand-in world",
        "came_online": True,
        "tried": [],
        "after_failure": {},
    }


#: IIS's own configuration objects, as Microsoft's KB 970759 script reads them: the index of
#: the site is -1 where the site is missing, and the script uses it anyway.
IIS_SITE = """Function FindSite(collection)
  FindSite = -1
  For i = 0 To CInt(collection.Count) - 1
    If collection.Item(i).GetPropertyByName("name").Value = "Web" Then FindSite = i
  Next
End Function
Function SiteState()
  Set admin = CreateObject("Microsoft.ApplicationHost.AdminManager")
  Set sites = admin.GetAdminSection("system.applicationHost/sites", "MACHINE/WEBROOT/APPHOST")
  Set site = sites.Collection(FindSite(sites.Collection))
  SiteState = site.GetPropertyByName("state").Value
End Function
Function Online()
  Online = (SiteState() = 1)
End Function
Function LooksAlive()
  LooksAlive = True
End Function
Function IsAlive()
  IsAlive = (SiteState() = 1)
End Function
"""


def test_a_site_that_is_missing_in_some_world_reaches_the_scripts_bug(tmp_path: Path) -> None:
    script = tmp_path / "iis.vbs"
    script.write_text(IIS_SITE, encoding="utf-8")
    result = check_resource_type(str(script), select=["Script.runtime-errors"])
    world = result.info["script_world"]
    assert world["came_online"] and world["seed"] != 0, world
    [errors] = result.checks
    assert errors.outcome == "failed", errors
    assert f"{script}:10:" in errors.message and "parameter is incorrect" in errors.message
    assert "IIS section 'system.applicationHost/sites' held 0 element(s)" in errors.message
    listed = [line for line in errors.evidence if line.startswith("  IsAlive: ")]
    assert any("after the entity was removed" in line for line in listed), errors.evidence


#: Online refuses while nobody configured the file it reads, then opens it unguarded: only a
#: world whose administrator set ConfigFile reaches the open, and only one without the file
#: reaches the bug.
CONFIG_FILE = """Function Online()
  If Not Resource.PropertyExists("ConfigFile") Then
    Resource.LogInformation "ConfigFile is not set"
    Online = False
    Exit Function
  End If
  Set fso = CreateObject("Scripting.FileSystemObject")
  Set config = fso.OpenTextFile(Resource.ConfigFile, 1)
  config.Close
  Online = True
End Function
Function Offline()
  Offline = True
End Function
Function LooksAlive()
  LooksAlive = True
End Function
Function IsAlive()
  IsAlive = CreateObject("Scripting.FileSystemObject").FileExists(Resource.ConfigFile)
End Function
"""


def test_worlds_configure_private_properties_and_have_their_files_or_not(tmp_path: Path) -> None:
    script = tmp_path / "config.vbs"
    script.write_text(CONFIG_FILE, encoding="utf-8")
    result = check_resource_type(
        str(script), select=["Online.brings-online", "IsAlive.healthy", "Script.runtime-errors"]
    )
    world = result.info["script_world"]
    assert world["came_online"] and world["seed"] != 0, world
    found = {c.id: c for c in result.checks}
    assert found["Online.brings-online"].outcome == "passed", found["Online.brings-online"]
    assert found["IsAlive.healthy"].outcome == "passed", found["IsAlive.healthy"]
    errors = found["Script.runtime-errors"]
    assert errors.outcome == "failed", errors
    assert f"{script}:8:" in errors.message and "file not found" in errors.message.lower()
    assert "resource.configfile was 'c:\\\\" in errors.message.lower(), errors.message
    assert f"in generated world {world['seed']}" not in errors.message, "not the world it broke in"
    assert "in generated world" in errors.message, errors.message
