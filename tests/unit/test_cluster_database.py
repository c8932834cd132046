"""The cluster database: both implementations keep the registry's rules, and the SQLite one is
shared by every process that opens its file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conformance import clusapi
from conformance.clusapi import (
    HKEY,
    CloseCluster,
    ClusterRegCreateKey,
    ClusterRegEnumValue,
    ClusterRegQueryValue,
    ClusterRegSetValue,
    GetClusterResourceTypeKey,
    InMemoryClusterDatabase,
    OpenCluster,
    SqliteClusterDatabase,
)
from conformance.resapi import (
    ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND,
    ERROR_INVALID_HANDLE,
    ERROR_INVALID_PARAMETER,
    ERROR_SUCCESS,
    REG_BINARY,
    REG_DWORD,
    REG_MULTI_SZ,
    REG_SZ,
    RPC_S_SERVER_UNAVAILABLE,
    GetLastError,
)


@pytest.fixture(params=["memory", "sqlite"])
def db(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "memory":
        yield InMemoryClusterDatabase()
    else:
        database = SqliteClusterDatabase(str(tmp_path / "cluster.db"))
        yield database
        database.close()


def test_values_keep_type_and_data(db) -> None:
    key = HKEY(db, "Resources\\r1")
    status, params = ClusterRegCreateKey(key, "Parameters")
    assert status == ERROR_SUCCESS
    for name, kind, value in (
        ("Port", REG_DWORD, 8080),
        ("Host", REG_SZ, "db1"),
        ("Names", REG_MULTI_SZ, ["a", "b"]),
        ("Blob", REG_BINARY, b"\0\1\xff"),
    ):
        assert ClusterRegSetValue(params, name, kind, value) == ERROR_SUCCESS
        assert ClusterRegQueryValue(params, name) == (ERROR_SUCCESS, kind, value)
    assert list(ClusterRegEnumValue(params)[1]) == ["Port", "Host", "Names", "Blob"]


def test_paths_and_names_are_case_insensitive(db) -> None:
    db.set_value("Resources\\R1\\Parameters", "Port", REG_DWORD, 1)
    db.set_value("resources\\r1\\parameters", "PORT", REG_DWORD, 2)
    assert db.values("RESOURCES\\r1\\Parameters") == {"PORT": (REG_DWORD, 2)}
    assert db.key_exists("resources\\R1")
    assert db.subkeys("Resources") == ["r1"]
    assert db.delete_value("Resources\\r1\\Parameters", "port")
    assert db.get_value("Resources\\r1\\Parameters", "Port") is None


def test_sqlite_database_is_shared_between_processes(tmp_path: Path) -> None:
    path = tmp_path / "cluster.db"
    db = SqliteClusterDatabase(str(path))
    db.set_value("Resources\\q\\Parameters", "Owner", REG_SZ, "node-1")
    code = (
        "import sys; from conformance.clusapi import SqliteClusterDatabase as D; "
        "d = D(sys.argv[1]); print(d.get_value('Resources\\\\q\\\\Parameters', 'Owner')[1]); "
        "d.set_value('Resources\\\\q\\\\Parameters', 'Owner', 1, 'node-2')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "node-1", "the other process reads what this one wrote"
    assert db.get_value("Resources\\q\\Parameters", "Owner") == (REG_SZ, "node-2")
    db.close()


@pytest.mark.parametrize(
    ("kind", "value"),
    [(REG_DWORD, "8080"), (REG_SZ, 5), (REG_MULTI_SZ, "a"), (REG_BINARY, "x"), ("1", "x")],
)
def test_a_value_of_the_wrong_type_is_refused(db, kind, value) -> None:
    key = HKEY(db, "Resources\\r")
    assert ClusterRegSetValue(key, "V", kind, value) == ERROR_INVALID_PARAMETER
    assert db.values("Resources\\r") == {}, "nothing is stored"


def test_a_closed_database_answers_with_an_error(tmp_path: Path) -> None:
    db = SqliteClusterDatabase(str(tmp_path / "cluster.db"))
    key = HKEY(db, "Resources\\r")
    db.close()
    assert ClusterRegSetValue(key, "V", REG_SZ, "x") == ERROR_INVALID_HANDLE
    assert ClusterRegQueryValue(key, "V")[0] == ERROR_INVALID_HANDLE


def test_open_cluster_gives_the_type_key(db) -> None:
    db.create_key("ResourceTypes\\Mine\\Parameters")
    clusapi._connect(HKEY(db, ""))
    try:
        assert OpenCluster("elsewhere") is None and GetLastError() == RPC_S_SERVER_UNAVAILABLE
        cluster = OpenCluster(None)
        key = GetClusterResourceTypeKey(cluster, "Mine")
        assert key is not None and key.path == "ResourceTypes\\Mine"
        assert GetClusterResourceTypeKey(cluster, "Other") is None
        assert GetLastError() == ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND
        assert CloseCluster(cluster) and not CloseCluster(cluster)
    finally:
        clusapi._connect(None)
