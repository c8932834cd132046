"""What a Python resource DLL may call on the cluster database: the ClusterReg* functions,
and the few Cluster API calls that reach it (OpenCluster, GetClusterResourceTypeKey).

They follow the C API: a status comes first, out-parameters follow in a tuple; a function
that returns a handle returns None on failure after SetLastError. ``ResourceKey`` (passed to
Open) is an `HKEY`; private properties live in its ``Parameters`` subkey, and a type's in
``Parameters`` under its `GetClusterResourceTypeKey` (PL-10). Every access is reported to the
monitor, so checks can see which entry point touched the database (RM-7).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.clusapi.database import (
    AccessObserver,
    ClusterDatabase,
    DatabaseClosed,
    InMemoryClusterDatabase,
    SqliteClusterDatabase,
)
from conformance.resapi import (
    ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND,
    ERROR_FILE_NOT_FOUND,
    ERROR_INVALID_HANDLE,
    ERROR_INVALID_PARAMETER,
    ERROR_SUCCESS,
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_NONE,
    REG_QWORD,
    REG_SZ,
    RPC_S_SERVER_UNAVAILABLE,
    SetLastError,
)

__all__ = [
    "HCLUSTER",
    "HKEY",
    "CloseCluster",
    "ClusterDatabase",
    "ClusterRegCloseKey",
    "ClusterRegCreateKey",
    "ClusterRegDeleteValue",
    "ClusterRegEnumValue",
    "ClusterRegOpenKey",
    "ClusterRegQueryValue",
    "ClusterRegSetValue",
    "GetClusterResourceTypeKey",
    "InMemoryClusterDatabase",
    "OpenCluster",
    "SqliteClusterDatabase",
]


class HKEY:
    """An open cluster-database key."""

    def __init__(self, db: ClusterDatabase, path: str, observer: AccessObserver | None = None):
        self.db = db
        self.path = path
        self.observer = observer
        self.closed = False

    def __repr__(self) -> str:
        return f"HKEY({self.path!r})"

    def _note(self, op: str, name: str | None, write: bool) -> None:
        if self.observer is not None:
            self.observer(op, self.path, name, write)

    def _child(self, sub: str) -> HKEY:
        return HKEY(self.db, "\\".join(p for p in (self.path, sub) if p), self.observer)


def _usable(hKey: Any) -> bool:
    return isinstance(hKey, HKEY) and not hKey.closed


#: What each value type holds (a MULTI_SZ is stored as a list).
_HOLDS: dict[int, Callable[[Any], bool]] = {
    REG_DWORD: lambda v: type(v) is int and -(2**31) <= v < 2**32,
    REG_QWORD: lambda v: type(v) is int and -(2**63) <= v < 2**64,
    REG_SZ: lambda v: isinstance(v, str),
    REG_EXPAND_SZ: lambda v: isinstance(v, str),
    REG_MULTI_SZ: lambda v: isinstance(v, list | tuple) and all(isinstance(s, str) for s in v),
    REG_BINARY: lambda v: isinstance(v, bytes | bytearray),
    REG_NONE: lambda v: isinstance(v, bytes | bytearray),
}


def _stored_form(dwType: Any, lpData: Any) -> Any:
    """``lpData`` as the database keeps it, or None when it is not a value of ``dwType``."""
    holds = _HOLDS.get(dwType) if type(dwType) is int else None
    if holds is None or not holds(lpData):
        return None
    if dwType == REG_MULTI_SZ:
        return [str(s) for s in lpData]
    return bytes(lpData) if isinstance(lpData, bytearray) else lpData


def ClusterRegOpenKey(hKey: HKEY, lpszSubKey: str) -> tuple[int, HKEY | None]:
    if not _usable(hKey) or not isinstance(lpszSubKey, str):
        return ERROR_INVALID_PARAMETER, None
    hKey._note("ClusterRegOpenKey", lpszSubKey, False)
    child = hKey._child(lpszSubKey)
    try:
        exists = hKey.db.key_exists(child.path)
    except DatabaseClosed:
        return ERROR_INVALID_HANDLE, None
    return (ERROR_SUCCESS, child) if exists else (ERROR_FILE_NOT_FOUND, None)


def ClusterRegCreateKey(hKey: HKEY, lpszSubKey: str) -> tuple[int, HKEY | None]:
    if not _usable(hKey) or not isinstance(lpszSubKey, str):
        return ERROR_INVALID_PARAMETER, None
    hKey._note("ClusterRegCreateKey", lpszSubKey, True)
    child = hKey._child(lpszSubKey)
    try:
        hKey.db.create_key(child.path)
    except DatabaseClosed:
        return ERROR_INVALID_HANDLE, None
    return ERROR_SUCCESS, child


def ClusterRegQueryValue(hKey: HKEY, lpszValueName: str) -> tuple[int, int | None, Any]:
    """``(status, type, value)``; ERROR_FILE_NOT_FOUND when the value does not exist."""
    if not _usable(hKey):
        return ERROR_INVALID_PARAMETER, None, None
    hKey._note("ClusterRegQueryValue", lpszValueName, False)
    try:
        found = hKey.db.get_value(hKey.path, lpszValueName)
    except DatabaseClosed:
        return ERROR_INVALID_HANDLE, None, None
    if found is None:
        return ERROR_FILE_NOT_FOUND, None, None
    return ERROR_SUCCESS, found[0], found[1]


def ClusterRegSetValue(hKey: HKEY, lpszValueName: str, dwType: int, lpData: Any) -> int:
    """ERROR_INVALID_PARAMETER when ``lpData`` is not a value of ``dwType`` (an int for
    REG_DWORD/REG_QWORD, a str for REG_SZ/REG_EXPAND_SZ, a list of str for REG_MULTI_SZ,
    bytes for REG_BINARY)."""
    if not _usable(hKey):
        return ERROR_INVALID_PARAMETER
    hKey._note("ClusterRegSetValue", lpszValueName, True)
    stored = _stored_form(dwType, lpData)
    if stored is None or not isinstance(lpszValueName, str):
        return ERROR_INVALID_PARAMETER
    try:
        hKey.db.set_value(hKey.path, lpszValueName, dwType, stored)
    except DatabaseClosed:
        return ERROR_INVALID_HANDLE
    return ERROR_SUCCESS


def ClusterRegDeleteValue(hKey: HKEY, lpszValueName: str) -> int:
    if not _usable(hKey):
        return ERROR_INVALID_PARAMETER
    hKey._note("ClusterRegDeleteValue", lpszValueName, True)
    try:
        deleted = hKey.db.delete_value(hKey.path, lpszValueName)
    except DatabaseClosed:
        return ERROR_INVALID_HANDLE
    return ERROR_SUCCESS if deleted else ERROR_FILE_NOT_FOUND


def ClusterRegEnumValue(hKey: HKEY) -> tuple[int, dict[str, tuple[int, Any]]]:
    """All values of the key as ``{name: (type, value)}`` (one call instead of an index loop)."""
    if not _usable(hKey):
        return ERROR_INVALID_PARAMETER, {}
    hKey._note("ClusterRegEnumValue", None, False)
    try:
        return ERROR_SUCCESS, hKey.db.values(hKey.path)
    except DatabaseClosed:
        return ERROR_INVALID_HANDLE, {}


def ClusterRegCloseKey(hKey: HKEY) -> int:
    if not _usable(hKey):
        return ERROR_INVALID_PARAMETER
    hKey.closed = True
    return ERROR_SUCCESS


# --- the cluster -----------------------------------------------------------------------------
class HCLUSTER:
    """An open cluster: the root of its database."""

    def __init__(self, root: HKEY) -> None:
        self.root = root
        self.closed = False

    def __repr__(self) -> str:
        return "HCLUSTER(local)"


#: The root of the database of the cluster the DLL runs in. The host sets it when it starts
#: the DLL and clears it when it closes (`_connect`, `_disconnect`): one process hosts one
#: resource type at a time, as an isolated host does; in-process hosting runs monitors one
#: after another.
_root: HKEY | None = None


def _connect(root: HKEY | None) -> None:
    global _root
    _root = root


def _disconnect(root: HKEY | None) -> None:
    """Forget ``root`` if it is still the connected one (a later host may have replaced it)."""
    global _root
    if _root is root:
        _root = None


def OpenCluster(lpszClusterName: str | None = None) -> HCLUSTER | None:
    """The local cluster (``lpszClusterName`` None); another name is unreachable here."""
    if _root is None or lpszClusterName:
        SetLastError(RPC_S_SERVER_UNAVAILABLE)
        return None
    return HCLUSTER(_root)


def CloseCluster(hCluster: HCLUSTER) -> bool:
    """FALSE for a handle that is not an open cluster (closed twice, say)."""
    if not isinstance(hCluster, HCLUSTER) or hCluster.closed:
        return False
    hCluster.closed = True
    return True


def GetClusterResourceTypeKey(hCluster: HCLUSTER, lpszTypeName: str) -> HKEY | None:
    """The type's key (``ResourceTypes\\<name>``); its private properties are under
    ``Parameters``."""
    if not isinstance(hCluster, HCLUSTER) or hCluster.closed:
        SetLastError(ERROR_INVALID_HANDLE)
        return None
    if not isinstance(lpszTypeName, str) or not lpszTypeName or "\\" in lpszTypeName:
        SetLastError(ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND)
        return None
    status, key = ClusterRegOpenKey(hCluster.root, f"ResourceTypes\\{lpszTypeName}")
    if status != ERROR_SUCCESS:
        SetLastError(
            ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND if status == ERROR_FILE_NOT_FOUND else status
        )
        return None
    return key
