"""The cluster database behind ``ResourceKey``: keys, subkeys and typed values.

`ClusterDatabase` is the interface the monitor and the ClusterReg* functions use. A run keeps
its database in an SQLite file (`SqliteClusterDatabase`): it persists, and every process of
the run (each host, each node of a quorum run) sees the same keys. `InMemoryClusterDatabase`
serves unit tests and single monitors.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Called for every access: (operation, key path, value name or None, is_write).
AccessObserver = Callable[[str, str, "str | None", bool], None]


class ClusterDatabase(Protocol):
    def create_key(self, path: str) -> None: ...
    def key_exists(self, path: str) -> bool: ...
    def subkeys(self, path: str) -> list[str]: ...
    def get_value(self, path: str, name: str) -> tuple[int, Any] | None: ...
    def set_value(self, path: str, name: str, value_type: int, value: Any) -> None: ...
    def delete_value(self, path: str, name: str) -> bool: ...
    def values(self, path: str) -> dict[str, tuple[int, Any]]: ...


@dataclass
class _Key:
    values: dict[str, tuple[int, Any]] = field(default_factory=dict)


class InMemoryClusterDatabase:
    """Key paths (``Resources\\<name>\\Parameters``), case-insensitive like the registry."""

    def __init__(self) -> None:
        self._keys: dict[str, _Key] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _norm(path: str) -> str:
        return "\\".join(part for part in path.split("\\") if part).lower()

    def create_key(self, path: str) -> None:
        with self._lock:
            parts = [p for p in path.split("\\") if p]
            for i in range(1, len(parts) + 1):
                self._keys.setdefault(self._norm("\\".join(parts[:i])), _Key())

    def key_exists(self, path: str) -> bool:
        return self._norm(path) in self._keys

    def subkeys(self, path: str) -> list[str]:
        prefix = self._norm(path) + "\\"
        with self._lock:
            return sorted(
                {k[len(prefix) :].split("\\")[0] for k in self._keys if k.startswith(prefix)}
            )

    def get_value(self, path: str, name: str) -> tuple[int, Any] | None:
        with self._lock:
            key = self._keys.get(self._norm(path))
            if key is None:
                return None
            for stored, value in key.values.items():
                if stored.lower() == name.lower():
                    return value
            return None

    def set_value(self, path: str, name: str, value_type: int, value: Any) -> None:
        self.create_key(path)
        with self._lock:
            key = self._keys[self._norm(path)]
            for stored in list(key.values):
                if stored.lower() == name.lower():
                    del key.values[stored]
            key.values[name] = (value_type, value)

    def delete_value(self, path: str, name: str) -> bool:
        with self._lock:
            key = self._keys.get(self._norm(path))
            if key is None:
                return False
            for stored in list(key.values):
                if stored.lower() == name.lower():
                    del key.values[stored]
                    return True
            return False

    def values(self, path: str) -> dict[str, tuple[int, Any]]:
        with self._lock:
            key = self._keys.get(self._norm(path))
            return dict(key.values) if key else {}


class DatabaseClosed(Exception):
    """The run that owned the database has ended."""


def _pack(value: Any) -> str:
    """JSON for a stored value, tagged: bytes as hex, anything else as JSON (or its text)."""
    if isinstance(value, bytes | bytearray):
        return json.dumps({"t": "b", "v": bytes(value).hex()})
    return json.dumps({"t": "j", "v": value}, default=lambda item: repr(item)[:1000])


def _unpack(text: str) -> Any:
    item = json.loads(text)
    return bytes.fromhex(item["v"]) if item["t"] == "b" else item["v"]


class SqliteClusterDatabase:
    """The cluster database in one SQLite file, shared by every process that opens it.

    Paths and value names are case-insensitive, like the registry; a value keeps the spelling
    it was last written with.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._closed = False
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS keys (path TEXT PRIMARY KEY)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vals (path TEXT, lname TEXT, name TEXT, type INTEGER, "
            "value TEXT, PRIMARY KEY (path, lname))"
        )

    @staticmethod
    def _norm(path: str) -> str:
        return InMemoryClusterDatabase._norm(path)

    def _query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._closed:
                raise DatabaseClosed(self.path)
            return self._db.execute(sql, args).fetchall()

    def create_key(self, path: str) -> None:
        parts = [p for p in path.split("\\") if p]
        with self._lock:
            if self._closed:
                raise DatabaseClosed(self.path)
            self._db.executemany(
                "INSERT OR IGNORE INTO keys VALUES (?)",
                [(self._norm("\\".join(parts[:i])),) for i in range(1, len(parts) + 1)],
            )

    def key_exists(self, path: str) -> bool:
        return bool(self._query("SELECT 1 FROM keys WHERE path = ?", self._norm(path)))

    def subkeys(self, path: str) -> list[str]:
        prefix = self._norm(path) + "\\"
        rows = self._query(
            "SELECT path FROM keys WHERE substr(path, 1, ?) = ?", len(prefix), prefix
        )
        return sorted({row[0][len(prefix) :].split("\\")[0] for row in rows})

    def get_value(self, path: str, name: str) -> tuple[int, Any] | None:
        rows = self._query(
            "SELECT type, value FROM vals WHERE path = ? AND lname = ?",
            self._norm(path),
            name.lower(),
        )
        return (rows[0][0], _unpack(rows[0][1])) if rows else None

    def set_value(self, path: str, name: str, value_type: int, value: Any) -> None:
        self.create_key(path)
        self._query(
            "INSERT OR REPLACE INTO vals VALUES (?, ?, ?, ?, ?)",
            self._norm(path),
            name.lower(),
            name,
            int(value_type),
            _pack(value),
        )

    def delete_value(self, path: str, name: str) -> bool:
        with self._lock:
            if self._closed:
                raise DatabaseClosed(self.path)
            cursor = self._db.execute(
                "DELETE FROM vals WHERE path = ? AND lname = ?", (self._norm(path), name.lower())
            )
            return cursor.rowcount > 0

    def values(self, path: str) -> dict[str, tuple[int, Any]]:
        rows = self._query(
            "SELECT name, type, value FROM vals WHERE path = ? ORDER BY rowid", self._norm(path)
        )
        return {name: (kind, _unpack(text)) for name, kind, text in rows}

    def close(self) -> None:
        """Close the file; a thread of the target that still calls gets DatabaseClosed."""
        with self._lock:
            self._closed = True
            self._db.close()
