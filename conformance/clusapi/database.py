"""The cluster database behind ``ResourceKey``: keys, subkeys and typed values.

`ClusterDatabase` is the interface the monitor and the ClusterReg* functions use; the
in-memory implementation is enough for single-process runs, and a persistent one can take
its place without changing either side.
"""

from __future__ import annotations

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
