"""rescheck's own clusapi.dll under the native host: a DLL that imports the Cluster API (as a
real resource DLL does) reads and writes the run's cluster database through the host
protocol, with the documented statuses (ERROR_MORE_DATA and the size needed, ERROR_NO_MORE_ITEMS,
ERROR_FILE_NOT_FOUND, ERROR_INVALID_HANDLE for a closed key), and every call is reported:
ClusterDatabaseAccess notes for the database's, ResUtil notes for the others."""

from __future__ import annotations

from pathlib import Path

from conformance.protocol import messages
from conformance.resapi import REG_DWORD, REG_MULTI_SZ, REG_SZ, RESOURCE_HANDLE
from tests.hostkit.driver import KitHost
from tests.native import requires_native

pytestmark = requires_native

PARAMETERS = "Resources\\res-1\\Parameters"
ERROR_CALL_NOT_IMPLEMENTED = 120
EXPECTED = {
    "open-missing-key": "2",
    "open-key": "0",
    "query-size": "0",
    "query-size-type": str(REG_SZ),
    "query-size-bytes": "12",  # L"hello" and its NUL
    "query-small": "234",  # ERROR_MORE_DATA, with the size needed
    "query-small-bytes": "12",
    "query": "0",
    "query-text": "hello",
    "query-dword": "0",
    "query-dword-value": "7",
    "query-missing": "2",
    "set-dword": "0",
    "set-sz": "0",
    "set-multi": "0",
    "set-binary": "0",
    "set-bad-dword": "87",  # a REG_DWORD of 2 bytes
    "exists": "0",
    "query-long-name": "87",  # longer than the protocol's 1000 characters: refused
    "set-long-sz": "87",  # longer than a value's 64 KiB
    "set-huge-multi": "87",  # more than one message can carry
    "open-long-path": "87",  # the full path past 1000 characters
    "delete": "0",
    "delete-again": "2",
    "query-multi": "0",
    "query-multi-bytes": "12",
    "query-multi-same": "1",
    "enum-values": "5",  # Name, Count, Out, Text, Multi
    "enum-values-end": "259",
    "enum-value-small": "234",
    "enum-value-small-chars": "4",  # "Name", the NUL not counted
    "create": "0",
    "create-new": "1",
    "create-again": "0",
    "create-existing": "1",
    "enum-key": "0",
    "enum-key-end": "259",
    "enum-key-small": "234",
    "enum-key-small-chars": "3",
    "delete-key": str(ERROR_CALL_NOT_IMPLEMENTED),
    "close-sub": "0",
    "close-again": "0",
    "close-closed": "6",
    "close-key": "0",
    "close-resource-key": "0",
    "resource-key-usable": "0",  # the monitor's key stays open
    "open-cluster": "1",
    "open-missing": "5007",  # ERROR_RESOURCE_NOT_FOUND
    "open-resource": "1",
    "resource-key": "1",
    "resource-params": "0",
    "resource-count": "0",
    "resource-count-value": "7",
    "close-res-key": "0",
    "close-resource": "1",
    "close-cluster": "1",
    "close-cluster-again": "0",
}


def test_a_dll_importing_clusapi_reads_and_writes_the_database(tmp_path: Path) -> None:
    from conformance.native.build import build_dll
    from conformance.native.launch import native_launch

    dll = build_dll(
        [Path(__file__).with_name("clusapi_dll.c")], tmp_path / "clusapi_user.dll",
        libraries=["clusapi"],
    )  # fmt: skip
    host = KitHost(native_launch(dll))
    try:
        host.load()
        root = host.hkey("")
        host.request(
            lambda rid: messages.Startup(
                id=rid, ResourceType="Kit", MinVersionSupported=0x100,
                MaxVersionSupported=0x100, cluster=root,
            )
        )  # fmt: skip
        key = host.hkey("Resources\\res-1")
        host.db.set_value(PARAMETERS, "Name", REG_SZ, "hello")
        host.db.set_value(PARAMETERS, "Count", REG_DWORD, 7)
        answer = host.call("Open", "res-1", key, RESOURCE_HANDLE(3), resource="res-1")
        logged = [c.args["message"] for c in host.callbacks("LogEvent")]
        accesses = [c for c in host.callbacks("ClusterDatabaseAccess")]
        calls = [c.args for c in host.callbacks("ResUtil")]
    finally:
        host.close()
    assert isinstance(answer, messages.Answer), answer
    said = dict(line.split("=", 1) for line in logged)
    wrong = {k: (said.get(k), v) for k, v in EXPECTED.items() if said.get(k) != v}
    assert not wrong, f"(got, expected) by step: {wrong}\nall: {said}"
    assert said["enum-key-name"].lower() == "sub", said["enum-key-name"]

    assert host.db.get_value(PARAMETERS, "Out") == (REG_DWORD, 42)
    assert host.db.get_value(PARAMETERS, "Text") == (REG_SZ, "w\u00f6rld")
    kind, strings = host.db.get_value(PARAMETERS, "Multi") or (None, None)
    assert (kind, list(strings or ())) == (REG_MULTI_SZ, ["a", "bc"])
    assert host.db.get_value(PARAMETERS, "Blob") is None
    assert host.db.get_value(PARAMETERS, "Bad") is None
    assert host.db.get_value(PARAMETERS, "Long") is None
    assert host.db.get_value(PARAMETERS, "Huge") is None

    writes = {(a.args["op"], a.args["name"], a.args["result"]) for a in accesses if a.args["write"]}
    assert ("ClusterRegSetValue", "Out", 0) in writes, writes
    assert ("ClusterRegSetValue", "Bad", 87) in writes, writes
    assert ("ClusterRegDeleteKey", "Sub", ERROR_CALL_NOT_IMPLEMENTED) in writes, writes
    reads = [a for a in accesses if a.args["op"] == "ClusterRegQueryValue"]
    assert reads and all(a.context == ("Open", "res-1") for a in reads), reads[:2]
    assert {a.args["path"] for a in reads} == {PARAMETERS}, {a.args["path"] for a in reads}
    by_function = {(c["function"], c["result"]) for c in calls}
    assert ("OpenCluster", 0) in by_function and ("CloseCluster", 6) in by_function, calls
    assert any(
        c["function"] == "ClusterRegDeleteKey" and "does not provide" in (c["why"] or "")
        for c in calls
    ), calls


def test_without_a_cluster_opencluster_fails_as_documented(tmp_path: Path) -> None:
    """Startup's cluster is nil (no database root): OpenCluster returns NULL with
    RPC_S_SERVER_UNAVAILABLE, and the host goes on."""
    from conformance.native.build import build_dll
    from conformance.native.launch import native_launch

    dll = build_dll(
        [Path(__file__).with_name("clusapi_dll.c")], tmp_path / "clusapi_user.dll",
        libraries=["clusapi"],
    )  # fmt: skip
    host = KitHost(native_launch(dll))
    try:
        host.load()
        host.startup()
        answer = host.call("Open", "res-1", host.hkey("Resources\\res-1"), RESOURCE_HANDLE(3))
        logged = [c.args["message"] for c in host.callbacks("LogEvent")]
    finally:
        host.close()
    assert isinstance(answer, messages.Answer), answer
    said = dict(line.split("=", 1) for line in logged)
    assert (said.get("open-key"), said.get("open-cluster")) == ("2", "0"), said
    assert said.get("open-cluster-error") == "1722", said  # RPC_S_SERVER_UNAVAILABLE
