"""The worlds a control script's stand-ins answer from (`conformance.genscript.world`): the
stand-in world finds nothing; a generated world answers each question the same way every time
it is asked, with values a real machine could give."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.clusapi import HKEY, InMemoryClusterDatabase
from conformance.genscript.com import INPUT_PAST_END, WBEM_E_NOT_FOUND, ComError
from conformance.genscript.host_objects import ComWorld, ResourceObject, Sandbox
from conformance.genscript.iis import E_INVALIDARG
from conformance.genscript.static import literals, numeric_properties
from conformance.genscript.world import CLASSES, GONE, STAND_IN, STOPPED, World, wmi_class

SEEDS = range(1, 40)
SERVICE = "Win32_Service.Name='ftpsvc'"
PARAMETERS = "Resources\\r\\Parameters"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Win32_Service.Name='ftpsvc'", ("Win32_Service", {"name": "ftpsvc"})),
        ("win32_service='msftpsvc'", ("win32_service", {"name": "msftpsvc"})),
        (
            "SELECT * FROM Win32_Service WHERE Name = 'ftpsvc'",
            ("Win32_Service", {"name": "ftpsvc"}),
        ),
        ("Select Name from Win32_Process", ("Win32_Process", {})),
        ("InstancesOf Win32_Process", ("Win32_Process", {})),
        ('\\\\.\\root\\cimv2:Win32_Service.Name="w3svc"', ("Win32_Service", {"name": "w3svc"})),
        ("Win32_PingStatus.Address='10.0.0.1'", ("Win32_PingStatus", {"address": "10.0.0.1"})),
    ],
)
def test_a_path_and_a_query_name_their_class_and_keys(
    question: str, expected: tuple[str, dict[str, str]]
) -> None:
    assert wmi_class(question) == expected


def test_the_stand_in_world_finds_nothing_and_every_command_exits_0() -> None:
    world = World(STAND_IN, ("Running",))
    assert world.wmi_get(SERVICE) is None
    assert world.wmi_query("select * from Win32_Service") == []
    assert world.command("net start ftpsvc") == (0, "", 0)


def test_a_world_answers_a_question_alike_every_time_and_in_every_spelling() -> None:
    for seed in SEEDS:
        first, again = World(seed), World(seed)
        got = first.wmi_get(SERVICE)
        queried = again.wmi_query("select * from win32_service where name='FTPSVC'")
        assert (got is None) == (queried == [])
        if got is not None:
            assert got.State == queried[0].State == again.wmi_get(SERVICE).State  # type: ignore[union-attr]
        assert first.command("drbdadm role r0") == again.command("DRBDADM ROLE R0")


def test_worlds_differ_and_some_have_the_service_running() -> None:
    states = {getattr(World(seed).wmi_get(SERVICE), "State", None) for seed in SEEDS}
    assert "Running" in states and None in states and len(states) > 2


def test_a_wmi_object_has_its_classs_properties_and_documented_values() -> None:
    service_states = CLASSES["win32_service"].properties["State"].values
    start_codes = {0, *CLASSES["win32_service"].methods["StartService"]}
    for seed in SEEDS:
        service = World(seed).wmi_get(SERVICE)
        if service is None:
            continue
        assert service.Name == "ftpsvc"  # type: ignore[attr-defined]
        assert service.State in service_states  # type: ignore[attr-defined]
        assert service.Started == (service.State in ("Running", "Paused", "Stop Pending"))  # type: ignore[attr-defined]
        assert isinstance(service.ProcessId, int)  # type: ignore[attr-defined]
        assert service.StartService() in start_codes  # type: ignore[attr-defined]
        assert "State" in dir(service) and "StopService" in dir(service)


def test_no_object_of_a_class_rescheck_does_not_know_is_made_up() -> None:
    for seed in SEEDS:
        assert World(seed).wmi_get("IIsWebServer='W3SVC/1'") is None
        assert World(seed).wmi_query("select * from Site") == []


def test_a_command_prints_the_scripts_own_literals_and_may_still_run() -> None:
    answers = [World(seed, ("Primary", "Secondary")).command("drbdadm role r0") for seed in SEEDS]
    printed = {line for _, out, _ in answers for line in out.splitlines()}
    assert printed == {"Primary", "Secondary"}
    assert {code for code, _, _ in answers} >= {0, 1}
    assert any(running for _, _, running in answers)


def test_the_shell_and_wmi_of_a_script_answer_from_its_world(tmp_path: Path) -> None:
    seed = next(s for s in SEEDS if World(s).command("x")[2] == 3)
    said: list[tuple[str, dict[str, object]]] = []
    com = ComWorld(
        Sandbox(tmp_path), lambda what, data: said.append((what, data)), world=World(seed)
    )
    running = com.create_object("WScript.Shell").Exec("x")
    assert [running.Status for _ in range(4)] == [0, 0, 0, 1]
    missing = next(s for s in SEEDS if World(s).wmi_get(SERVICE) is None)
    wmi = ComWorld(
        Sandbox(tmp_path), lambda what, data: said.append((what, data)), world=World(missing)
    )
    with pytest.raises(ComError) as error:
        wmi.get_object(f"winmgmts:{{impersonationLevel=impersonate}}!\\\\.\\root\\cimv2:{SERVICE}")
    assert error.value.number == WBEM_E_NOT_FOUND
    [(_, asked)] = [(w, d) for w, d in said if w == "wmi-query"]
    assert asked["found"] == 0 and asked["world"] == missing


@pytest.mark.parametrize(
    ("source", "language", "expected"),
    [
        (
            'x = "Running"\nIf s = "say ""hi""" Then\n\' "a comment"\n',
            "VBScript",
            ("Running", 'say "hi"'),
        ),
        ('var a = \'Primary\'; // "no"\nvar b = "x";', "JScript", ("Primary", "x")),
        ("A = 'Primary'\n# 'no'\nB = b'bytes'\n", "Python", ("Primary",)),
    ],
)
def test_a_scripts_literals_are_its_strings_without_comments(
    source: str, language: str, expected: tuple[str, ...]
) -> None:
    assert literals(source, language) == expected


def test_a_world_that_fails_has_its_service_stopped_or_gone() -> None:
    seed = next(s for s in SEEDS if getattr(World(s).wmi_get(SERVICE), "State", None) == "Running")
    stopped, gone = World(seed).failing(STOPPED), World(seed).failing(GONE)
    assert stopped.wmi_get(SERVICE).State != "Running"  # type: ignore[union-attr]
    assert gone.wmi_get(SERVICE) is None and gone.wmi_query("select * from win32_process") == []
    assert stopped.command("sc query x")[0] != 0
    assert "after the entity was removed" in gone.describe()


def test_a_world_may_lack_a_program_windows_does_not_have() -> None:
    assert World(STAND_IN).lacks("sleep 1") is None, "the stand-in world has every program"
    lacking = {World(seed).lacks("sleep 1") for seed in SEEDS}
    assert lacking == {None, "sleep"}
    assert all(World(seed).lacks("net share x") is None for seed in SEEDS)


def test_a_name_is_a_short_literal_that_is_no_path() -> None:
    world = World(1, ("Default Web Site", "system.applicationHost/sites", "C:\\x", "w0", ""))
    assert world.names() == ("Default Web Site", "w0")


def test_iis_has_the_scripts_sites_in_some_worlds_and_not_in_others(tmp_path: Path) -> None:
    names = set()
    for seed in SEEDS:
        com = ComWorld(Sandbox(tmp_path), lambda what, data: None, world=World(seed, ("Web",)))
        admin = com.create_object("Microsoft.ApplicationHost.AdminManager")
        sites = admin.GetAdminSection("system.applicationHost/sites", "MACHINE/WEBROOT/APPHOST")
        found = [sites.Collection.Item(i) for i in range(sites.Collection.Count)]
        names |= {site.GetPropertyByName("name").Value for site in found}
        assert all(site.GetPropertyByName("state").Value in (0, 1, 2, 3, 4) for site in found)
        assert [m.Name for m in (found[0].Methods.Item(0),)] == ["Start"] if found else True
        with pytest.raises(ComError) as past:
            sites.Collection.Item(-1)
        assert past.value.number == E_INVALIDARG
    assert names == {"Web"}
    with pytest.raises(ComError):  # no IIS in the stand-in world
        ComWorld(Sandbox(tmp_path), lambda what, data: None).create_object(
            "Microsoft.ApplicationHost.AdminManager"
        )


def test_reading_past_the_end_of_a_commands_output_is_an_error(tmp_path: Path) -> None:
    com = ComWorld(Sandbox(tmp_path), lambda what, data: None, commands=lambda c: (0, "one\r\n"))
    out = com.create_object("WScript.Shell").Exec("x").StdOut
    assert out.ReadLine() == "one"
    with pytest.raises(ComError) as past:
        out.ReadLine()
    assert past.value.number == INPUT_PAST_END


def test_a_generated_world_configures_properties_by_what_they_hold() -> None:
    """Four worlds of five set a property nobody configured: a number where the script uses
    it as one or its name says so, a path where the name says that, else one of its names."""
    literals = ("ftpsite", "Running")
    worlds = [World(s, literals, numeric=frozenset({"limit2"})) for s in SEEDS]
    assert World(STAND_IN).property("Port") is None
    ports = [w.property("Port") for w in worlds]
    assert 0.6 < sum(p is not None for p in ports) / len(ports) < 0.95, ports
    assert all(isinstance(p, int) for p in ports if p is not None)
    assert all(isinstance(w.property("Limit2"), int | None) for w in worlds)
    paths = {w.property("DataPath") for w in worlds} - {None}
    assert paths and all(p.startswith("C:\\") for p in paths), paths
    names = {w.property("SiteName") for w in worlds} - {None}
    assert names and names <= set(literals), names
    assert all(w.property("SiteName") == w.property("sitename") for w in worlds)


@pytest.mark.parametrize(
    ("source", "language", "expected"),
    [
        (
            'x = CInt(Resource.Port)\nIf Resource.Timeout > 3 Then\ny = 5 * Resource.Tries\n'
            'z = Resource.Name & "-" & Resource.Path\n',
            "VBScript",
            {"port", "timeout", "tries"},
        ),
        ("var p = parseInt(Resource.Port); if (Resource.Max >= 2) { s = 'Resource.X * 2'; }",
         "JScript", {"port", "max"}),
    ],
)  # fmt: skip
def test_the_properties_a_script_uses_as_numbers(
    source: str, language: str, expected: set[str]
) -> None:
    assert numeric_properties(source, language) == expected


def test_the_scripts_resource_reads_the_worlds_configuration(tmp_path: Path) -> None:
    """A property the run did not set reads as the world configured it, exists, and names a
    folder the world has or not; the stand-in world leaves it unset (error 438)."""
    said: list[tuple[str, dict[str, object]]] = []
    seed = next(
        s for s in SEEDS
        if (v := World(s, ("Data",)).property("SharePath")) and World(s).present(v)
    )  # fmt: skip
    com = ComWorld(
        Sandbox(tmp_path), lambda w, d: said.append((w, d)), world=World(seed, ("Data",))
    )
    db = InMemoryClusterDatabase()
    db.create_key(PARAMETERS)
    key = HKEY(db, PARAMETERS, None)
    resource = ResourceObject("r", key, lambda _m: None, lambda w, d: said.append((w, d)), com)
    assert resource.get("SharePath") == "C:\\Data" and resource.PropertyExists("SharePath")
    assert (tmp_path / "C" / "Data").is_dir()
    asked = {"name": "SharePath", "exists": False, "value": "C:\\Data", "world": seed, "failed": ""}
    assert ("property-unset", asked) in said
    resource.RemoveProperty("SharePath")
    assert not resource.PropertyExists("SharePath")
    resource.set("SharePath", "C:\\Other")
    assert resource.get("SharePath") == "C:\\Other"
    stand_in_world = ComWorld(Sandbox(tmp_path), lambda w, d: None)
    stand_in = ResourceObject("r2", key, lambda _m: None, lambda w, d: None, stand_in_world)
    with pytest.raises(ComError) as error:
        stand_in.get("Missing")
    assert error.value.number == 438


def test_identifiers_are_guids_or_numbers_and_products_may_be_missing() -> None:
    ids = {type(World(s).property("ConfigId")) for s in SEEDS} - {type(None)}
    assert ids == {str, int}, ids
    guids = [World(s).property("AgentGuid") for s in SEEDS]
    assert all(re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", g) for g in guids if g)
    product = '"C:\\Program Files\\Vendor\\agent.exe" probe'
    missing = [World(s).lacks(product) for s in SEEDS]
    assert "C:\\Program Files\\Vendor\\agent.exe" in missing and None in missing, missing
    assert not any(World(s).lacks("%SystemRoot%\\system32\\sc.exe query x") for s in SEEDS)
    assert not any(World(s).lacks("C:\\Windows\\System32\\net.exe start x") for s in SEEDS)
