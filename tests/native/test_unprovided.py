"""A compiled DLL that imports documented Cluster API or ResUtil functions rescheck does not
provide yet loads; each call answers ERROR_CALL_NOT_IMPLEMENTED as its signature allows and is
noted (bounded) with the entry point it was made in; a rule that fails on the stub's answer is
"not judged" with the function as the reason; results.json lists the calls (issue 17)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conformance.protocol import messages
from conformance.resapi import ERROR_CALL_NOT_IMPLEMENTED, RESOURCE_HANDLE
from tests.hostkit.driver import KitHost
from tests.native import requires_native

pytestmark = requires_native

HERE = Path(__file__).parent


def build(tmp_path: Path, *defines: str) -> Path:
    from conformance.native.build import build_dll

    name = "refused.dll" if defines else "unprovided_user.dll"
    return build_dll([HERE / "unprovided_dll.c"], tmp_path / name, defines, ["resutils", "clusapi"])


def test_a_stub_answers_not_implemented_and_is_noted_once_per_call_up_to_a_bound(
    tmp_path: Path,
) -> None:
    from conformance.native.launch import native_launch
    from conformance.targets.native import check_dll

    dll = build(tmp_path)
    check_dll(str(dll))  # the stubbed imports are not refused
    host = KitHost(native_launch(dll))
    try:
        host.load()
        host.startup()
        key = host.hkey("Resources\\res-1")
        opened = host.call("Open", "res-1", key, RESOURCE_HANDLE(3), resource="res-1")
        assert isinstance(opened, messages.Answer), opened
        resid = opened.outcome["value"]
        host.call("Online", resid, None, resource="res-1")
        alive = [host.call("IsAlive", resid, resource="res-1") for _ in range(12)]
        logged = [c.args["message"] for c in host.callbacks("LogEvent")]
        notes = host.callbacks("ResUtil")
    finally:
        host.close()
    said = dict(line.strip().split("=", 1) for line in logged)
    assert said["dependency"] == str(ERROR_CALL_NOT_IMPLEMENTED), said  # NULL, SetLastError
    assert said["state"] == f"-1,{ERROR_CALL_NOT_IMPLEMENTED}", said  # ClusterResourceStateUnknown
    values = {a.outcome["value"] for a in alive if isinstance(a, messages.Answer)}
    assert values == {ERROR_CALL_NOT_IMPLEMENTED}, alive  # the DLL's bug, on the stub's answer
    by_function: dict[str, list[messages.Callback]] = {}
    for note in notes:
        by_function.setdefault(note.args["function"], []).append(note)
    [dependency] = by_function["ResUtilGetResourceDependencyByName"]
    assert dependency.args["result"] == ERROR_CALL_NOT_IMPLEMENTED, dependency
    assert "does not provide ResUtilGetResourceDependencyByName" in dependency.args["why"]
    assert dependency.context == ("Open", "res-1"), dependency.context
    assert by_function["GetClusterResourceState"][0].context == ("Open", "res-1")
    verified = by_function["ResUtilVerifyService"]
    assert len(verified) == 8, len(verified)  # bounded: the first UNPROVIDED_NOTES calls
    assert all(n.context == ("IsAlive", "res-1") for n in verified), verified[0]


def test_a_rule_failed_on_a_stub_answer_is_not_judged_and_results_name_the_calls(
    tmp_path: Path,
) -> None:
    dll = build(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--resource-type", str(dll), "--type-name",
         "Unprovided", "--report-dir", str(tmp_path / "r"), "--select", "IsAlive.bool",
         "--select", "LooksAlive.bool"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, f"exit {done.returncode}:\n{done.stdout[-2000:]}{done.stderr}"
    results = json.loads((tmp_path / "r" / "results.json").read_text("utf-8"))
    calls = results["info"]["unprovided_calls"]
    assert "ResUtilGetResourceDependencyByName (in Open)" in calls, calls
    assert "ResUtilVerifyService (in IsAlive)" in calls, calls
    checks = {c["id"]: c for c in results["checks"]}
    bool_check = checks["IsAlive.bool"]
    assert bool_check["outcome"] == "skipped", bool_check  # it would fail: IsAlive returned 120
    message = bool_check["message"]
    assert message.startswith("not judged: the DLL called "), message
    assert "ResUtilVerifyService (in IsAlive)" in message, message
    assert "which rescheck does not provide yet" in message and "returned 120" in message, message
    looks = checks["LooksAlive.bool"]
    assert looks["outcome"] == "passed" and "does not provide yet" in looks["message"], looks


def test_a_function_neither_provided_nor_stubbed_is_still_refused_in_one_line(
    tmp_path: Path,
) -> None:
    dll = build(tmp_path, "REFUSED")
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--resource-type", str(dll), "--report-dir",
         str(tmp_path / "r")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1, done.stdout + done.stderr
    assert "imports ClusterRegQueryAllValues (CLUSAPI.dll)" in lines[0], lines[0]
    assert "ResUtilVerifyService" not in lines[0].split("provides", 1)[0], lines[0]


def test_stubbed_functions_cover_the_documented_ones_the_issue_names() -> None:
    from conformance.native.build import provided_functions, stubbed_functions

    stubbed, provided = stubbed_functions(), provided_functions()
    named = {
        "ResUtilSetPropertyParameterBlock", "ResUtilDupParameterBlock", "ResUtilGetAllProperties",
        "ResUtilEnumProperties", "ResUtilVerifyPropertyTable", "ResUtilVerifyPrivatePropertyList",
        "ResUtilResourcesEqual", "ResUtilExpandEnvironmentStrings",
        "ResUtilGetResourceDependencyByClass", "ResUtilGetResourceDependencyByName",
        "ResUtilStartResourceService", "ResUtilStopResourceService", "ResUtilVerifyService",
        "ResUtilVerifyResourceService", "ResUtilSetResourceServiceEnvironment",
        "ResUtilRemoveResourceServiceEnvironment", "ResUtilSetResourceServiceStartParameters",
        "ResUtilGetPrivateProperties", "ResUtilSetPrivatePropertyList",
        "ResUtilGetPropertyFormats", "ResUtilFindDwordProperty", "ResUtilFindSzProperty",
    }  # fmt: skip
    resutils = set(stubbed["resutils.dll"]) | set(provided["resutils.dll"])  # stubs until provided
    assert named <= resutils, named - resutils
    clusapi = {"OpenClusterGroup", "CloseClusterGroup", "GetClusterGroupState", "OpenClusterNode",
               "CloseClusterNode", "GetClusterNodeState", "OpenClusterNetwork",
               "CloseClusterNetwork", "GetClusterNetworkState", "GetClusterResourceState"}  # fmt: skip
    assert clusapi <= set(stubbed["clusapi.dll"]), clusapi - set(stubbed["clusapi.dll"])
    for dll, names in stubbed.items():
        assert len(set(names)) == len(names), dll  # each once
        assert not set(names) & set(provided[dll]), dll  # a function is provided or stubbed
