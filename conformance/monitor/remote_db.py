"""The run's cluster database across the host boundary, by the closed list of operations of
the ``ClusterDatabase`` callback (docs/host-protocol.md): the host's stand-in for the
database, and the monitor's side that serves it."""

from __future__ import annotations

from typing import Any, Protocol

from conformance.clusapi import HKEY
from conformance.clusapi.database import DatabaseClosed

#: The answer to a ClusterDatabase callback once the run's database is closed.
DB_CLOSED = "db-closed"


class Asker(Protocol):
    def callback(self, name: str, args: dict[str, Any]) -> Any: ...


class RemoteDatabase:
    """The run's cluster database, asked through ClusterDatabase callbacks."""

    def __init__(self, server: Asker, key: int) -> None:
        self._server, self._key = server, key

    def _ask(self, op: str, path: str, name: Any = None, kind: Any = None, value: Any = None):
        answer = self._server.callback(
            "ClusterDatabase",
            {"key": self._key, "op": op, "path": path, "name": name, "value_type": kind,
             "value": _stored(value)},
        )  # fmt: skip
        if answer == DB_CLOSED:
            raise DatabaseClosed("the run's cluster database is closed")
        return answer

    def create_key(self, path: str) -> None:
        self._ask("create_key", path)

    def key_exists(self, path: str) -> bool:
        return bool(self._ask("key_exists", path))

    def subkeys(self, path: str) -> list[str]:
        return list(self._ask("subkeys", path))

    def get_value(self, path: str, name: str) -> tuple[int, Any] | None:
        found = self._ask("get_value", path, name)
        return None if found is None else (found[0], _loaded(found[1]))

    def set_value(self, path: str, name: str, value_type: int, value: Any) -> None:
        self._ask("set_value", path, name, value_type, value)

    def delete_value(self, path: str, name: str) -> bool:
        return bool(self._ask("delete_value", path, name))

    def values(self, path: str) -> dict[str, tuple[int, Any]]:
        return {name: (kind, _loaded(value)) for name, kind, value in self._ask("values", path)}


def _stored(value: Any) -> Any:
    """A value as clusapi stores it: a MULTI_SZ's list crosses as an array."""
    return tuple(value) if isinstance(value, list) else value


def _loaded(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def serve(key: HKEY, args: dict[str, Any]) -> Any:
    """One operation of the closed list on the run's cluster database."""
    db, op, path = key.db, args["op"], args["path"]
    try:
        if op == "create_key":
            return db.create_key(path)
        if op == "key_exists":
            return db.key_exists(path)
        if op == "subkeys":
            return tuple(db.subkeys(path))
        if op == "values":
            return tuple((name, kind, _wire(v)) for name, (kind, v) in db.values(path).items())
        name = args["name"] or ""
        if op == "get_value":
            found = db.get_value(path, name)
            return None if found is None else (found[0], _wire(found[1]))
        if op == "set_value":
            return db.set_value(path, name, args["value_type"] or 0, args["value"])
        return db.delete_value(path, name)
    except DatabaseClosed:
        return DB_CLOSED


def _wire(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
