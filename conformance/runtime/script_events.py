"""What the Generic Script DLL tells the harness about its script: each load, call and unload,
with the answer, and each use of a host object. The monitor puts them in the trace (events
named ``Script*``), where the GS rules read them; an isolated host relays them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Observer = Callable[[str, str, dict[str, Any]], None]
_observers: list[Observer] = []


def observe_script(observer: Observer) -> Callable[[], None]:
    """Register ``observer(resource, what, data)``; returns a function that removes it."""
    _observers.append(observer)
    return lambda: _observers.remove(observer)


def report_script(resource: str, what: str, data: dict[str, Any]) -> None:
    for observer in list(_observers):
        observer(resource, what, data)
