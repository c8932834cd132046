"""What a Python resource DLL may call on the cluster database: the ClusterReg* functions.

They follow the C API: a status comes first, out-parameters follow in a tuple.
``ResourceKey`` (passed to Open) is an `HKEY`; private properties live in its
``Parameters`` subkey (PL-10). Every access is reported to the monitor, so checks can see
which entry point touched the database (RM-7).
"""

from __future__ import annotations

from typing import Any

from conformance.clusapi.database import (
    AccessObserver,
    ClusterDatabase,
    InMemoryClusterDatabase,
    SqliteClusterDatabase,
)
from conformance.resapi import (
    ERROR_FILE_NOT_FOUND,
    ERROR_INVALID_PARAMETER,
    ERROR_SUCCESS,
)

__all__ = [
    "HKEY",
    "ClusterDatabase",
    "ClusterRegCloseKey",
    "ClusterRegCreateKey",
    "ClusterRegDeleteValue",
    "ClusterRegEnumValue",
    "ClusterRegOpenKey",
    "ClusterRegQueryValue",
    "ClusterRegSetValue",
    "InMemoryClusterDatabase",
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
        return HKEY(self.db, f"{self.path}\\{sub}" if sub else self.path, self.observer)


def _usable(hKey: Any) -> bool:
    return isinstance(hKey, HKEY) and not hKey.closed


def ClusterRegOpenKey(hKey: HKEY, lpszSubKey: str) -> tuple[int, HKEY | None]:
    if not _usable(hKey):
        return ERROR_INVALID_PARAMETER, None
    hKey._note("ClusterRegOpenKey", lpszSubKey, False)
    child = hKey._child(lpszSubKey)
    if not hKey.db.key_exists(child.path):
        return ERROR_FILE_NOT_FOUND, None
    return ERROR_SUCCESS, child


def ClusterRegCreateKey(hKey: HKEY, lpszSubKey: str) -> tuple[int, HKEY | None]:
    if not _usable(hKey):
        return ERROR_INVALID_PARAMETER, None
    hKey._note("ClusterRegCreateKey", lpszSubKey, True)
    child = hKey._child(lpszSubKey)
    hKey.db.create_key(child.path)
    return ERROR_SUCCESS, child


def ClusterRegQueryValue(hKey: HKEY, lpszValueName: str) -> tuple[int, int | None, Any]:
    """``(status, type, value)``; ERROR_FILE_NOT_FOUND when the value does not exist."""
    if not _usable(hKey):
        return ERROR_INVALID_PARAMETER, None, None
    hKey._note("ClusterRegQueryValue", lpszValueName, False)
    found = hKey.db.get_value(hKey.path, lpszValueName)
    if found is None:
        return ERROR_FILE_NOT_FOUND, None, None
    return ERROR_SUCCESS, found[0], found[1]


def ClusterRegSetValue(hKey: HKEY, lpszValueName: str, dwType: int, lpData: Any) -> int:
    if not _usable(hKey):
        return ERROR_INVALID_PARAMETER
    hKey._note("ClusterRegSetValue", lpszValueName, True)
    hKey.db.set_value(hKey.path, lpszValueName, dwType, lpData)
    return ERROR_SUCCESS


def ClusterRegDeleteValue(hKey: HKEY, lpszValueName: str) -> int:
    if not _usable(hKey):
        return ERROR_INVALID_PARAMETER
    hKey._note("ClusterRegDeleteValue", lpszValueName, True)
    return ERROR_SUCCESS if hKey.db.delete_value(hKey.path, lpszValueName) else ERROR_FILE_NOT_FOUND


def ClusterRegEnumValue(hKey: HKEY) -> tuple[int, dict[str, tuple[int, Any]]]:
    """All values of the key as ``{name: (type, value)}`` (one call instead of an index loop)."""
    if not _usable(hKey):
        return ERROR_INVALID_PARAMETER, {}
    hKey._note("ClusterRegEnumValue", None, False)
    return ERROR_SUCCESS, hKey.db.values(hKey.path)


def ClusterRegCloseKey(hKey: HKEY) -> int:
    if not _usable(hKey):
        return ERROR_INVALID_PARAMETER
    hKey.closed = True
    return ERROR_SUCCESS
