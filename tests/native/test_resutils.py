"""rescheck's own resutils.dll under the native host: a DLL that imports the Resource Utility
functions (as a real resource DLL does) gets the documented results, its values go through
rescheck's clusapi.dll to the run's cluster database, and every call is reported: a ResUtil
note (function, result, why refused), as conformance/resutils reports the Python side's."""

from __future__ import annotations

from pathlib import Path

from conformance.protocol import messages
from conformance.resapi import REG_DWORD, REG_SZ, RESOURCE_HANDLE
from tests.hostkit.driver import KitHost
from tests.native import requires_native

pytestmark = requires_native

PARAMETERS = "Resources\\res-1\\Parameters"
EXPECTED = {
    "open-key": "0",
    "get-dword": "0",
    "get-dword-value": "7",
    "get-dword-missing": "2",  # ERROR_FILE_NOT_FOUND, and the default
    "get-dword-default": "5",
    "get-dword-wrong": "87",  # a REG_SZ
    "get-sz": "hello",
    "get-sz-missing": "2",
    "get-sz-wrong": "87",
    "set-dword": "0",
    "set-dword-out": "42",
    "set-dword-same": "0",
    "set-dword-plain": "0",
    "set-sz": "0",
    "set-sz-out": "w\u00f6rld",
    "set-sz-same": "0",
    "set-sz-again": "0",
    "set-sz-again-out": "again",
    "set-sz-long": "87",
    "block": "0",
    "block-error-name-null": "1",
    "block-count": "7",
    "block-name": "hello",
    "block-missing": "11",  # the item's Default
    "block-absent-null": "1",
    "block-defaulted": "dflt",  # a copy of the item's lpDefault
    "block-again": "0",
    "block-again-name": "hello",
    "block-freed": "1",
    "block-required": "87",  # missing and required: ERROR_INVALID_PARAMETER and its name
    "block-required-name": "Nowhere",
    "block-wrong-type": "13",  # ERROR_INVALID_DATA: a REG_SZ for a DWORD item
    "block-wrong-type-name": "Name",
    "block-multi": "120",  # a format rescheck does not read yet: ERROR_CALL_NOT_IMPLEMENTED
    "block-multi-name": "Name",
    "create": "0",
    "create-thread": "1",
    "terminated-seen": "1",  # ClusWorkerTerminate waited for the worker to end
    "terminated-flag": "1",
    "terminated-handle": "1",  # and closed its handle
    "create-reuse": "0",
    "reuse-seen": "2",
    "create-used": "87",  # hThread set: refused
    "terminate-unstarted": "1",
    "create-self": "0",
    "self-state": "1",  # the worker's own ClusWorkerTerminate does not wait for itself
    "self-handle": "1",
}


def build(tmp_path: Path) -> Path:
    from conformance.native.build import build_dll

    return build_dll(
        [Path(__file__).with_name("resutils_dll.c")],
        tmp_path / "resutils_user.dll",
        libraries=["resutils", "clusapi"],
    )


def test_a_dll_importing_resutils_gets_documented_results(tmp_path: Path) -> None:
    from conformance.native.launch import native_launch
    from conformance.targets.native import check_dll

    dll = build(tmp_path)
    check_dll(str(dll))  # every function it imports is provided
    host = KitHost(native_launch(dll))
    try:
        host.load()
        host.startup()
        host.db.set_value(PARAMETERS, "Name", REG_SZ, "hello")
        host.db.set_value(PARAMETERS, "Count", REG_DWORD, 7)
        key = host.hkey("Resources\\res-1")
        answer = host.call("Open", "res-1", key, RESOURCE_HANDLE(3), resource="res-1")
        logged = [c.args["message"] for c in host.callbacks("LogEvent")]
        accesses = [c.args for c in host.callbacks("ClusterDatabaseAccess")]
        notes = host.callbacks("ResUtil")
    finally:
        host.close()
    assert isinstance(answer, messages.Answer), answer
    said = dict(line.split("=", 1) for line in logged)
    wrong = {k: (said.get(k), v) for k, v in EXPECTED.items() if said.get(k) != v}
    assert not wrong, f"(got, expected) by step: {wrong}\nall: {said}"

    assert host.db.get_value(PARAMETERS, "Out") == (REG_DWORD, 42)
    assert host.db.get_value(PARAMETERS, "Plain") == (REG_DWORD, 9)
    assert host.db.get_value(PARAMETERS, "Text") == (REG_SZ, "again")
    assert host.db.get_value(PARAMETERS, "Long") is None
    writes = [(a["name"], a["result"]) for a in accesses if a["write"]]
    assert writes.count(("Out", 0)) == 1, writes  # an unchanged value is not written again
    assert writes.count(("Text", 0)) == 2, writes

    calls = [(n.args["function"], n.args["result"], n.args["why"]) for n in notes]
    functions = {f for f, _, _ in calls}
    assert {"ResUtilGetDwordValue", "ResUtilGetSzValue", "ResUtilSetDwordValue"} <= functions
    assert {"ResUtilSetSzValue", "ClusWorkerTerminate", "ClusWorkerCheckTerminate"} <= functions
    assert {"ResUtilGetPropertiesToParameterBlock", "ResUtilFreeParameterBlock"} <= functions
    unread = [
        why for f, r, why in calls if f == "ResUtilGetPropertiesToParameterBlock" and r == 120
    ]
    assert unread and "DWORD, _SZ and _EXPAND_SZ" in (unread[0] or ""), calls
    created = [(r, why) for f, r, why in calls if f == "ClusWorkerCreate"]
    assert [r for r, _ in created] == [0, 0, 87, 0], created
    assert "hThread" in (created[2][1] or ""), created  # why: what ClusWorker.fresh-structure shows
    on_open = [n for n in notes if n.args["function"] == "ClusWorkerCreate"]
    assert all(n.context == ("Open", "res-1") for n in on_open), on_open
    polled = [n for n in notes if n.args["function"] == "ClusWorkerCheckTerminate"]
    assert polled and all(n.args["result"] == 1 for n in polled), polled  # the stopping answer


def test_the_marker_fixture_on_clus_workers_is_compliant_and_judged(tmp_path: Path) -> None:
    """fixtures/native/resource.c built with -DCLUS_WORKERS: its pending Online and Offline run
    on CLUS_WORKERs of rescheck's resutils.dll; the run is compliant, and the rule on
    ClusWorkerCreate's structure is judged from the native calls."""
    import conformance
    from conformance.native.build import build_dll
    from conformance.report.model import PASSED
    from conformance.targets.native import imports

    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "native"
    dll = build_dll(
        [fixtures / "resource.c", fixtures / "parameters.c"],
        tmp_path / "resource_workers.dll",
        ["CLUS_WORKERS"],
        ["resutils"],
    )
    used = {name for lib, name in imports(dll) if lib.lower() == "resutils.dll"}
    assert used == {"ClusWorkerCreate", "ClusWorkerCheckTerminate", "ClusWorkerTerminate"}, used
    result = conformance.check_resource_type(
        str(dll), companion=str(fixtures / "resource_companion.py")
    )
    outcomes = {c.id: c for c in result.checks}
    bad = [f"{c.id}: {c.message}" for c in result.checks if c.outcome in ("failed", "error")]
    assert result.verdict == "compliant", bad
    fresh = outcomes["ClusWorker.fresh-structure"]
    assert fresh.outcome == PASSED, fresh.message


def test_provided_functions_name_resutils_exports() -> None:
    from conformance.native.build import provided_functions

    provided = provided_functions()
    assert "ClusWorkerCreate" in provided["resutils.dll"]
    assert "RescheckAttach" not in provided["resutils.dll"]
    assert "ResUtilFreeParameterBlock" in provided["resutils.dll"]
    assert "ResUtilGetAllProperties" in provided["resutils.dll"]
    assert "ResUtilGetPropertySize" not in provided["resutils.dll"]
