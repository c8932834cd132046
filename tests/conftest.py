"""The suite split by cost: every test under these folders runs rescheck end to end, Wine,
hypothesis campaigns or a browser, and is marked ``slow``, so that ``pytest -m "not slow"``
(the unit tests and the host kit) is the quick loop of development."""

from __future__ import annotations

from pathlib import Path

import pytest

SLOW = frozenset({"e2e", "matrix", "native", "fuzz", "browser"})
TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(item.path).resolve()
        if path.is_relative_to(TESTS) and path.relative_to(TESTS).parts[0] in SLOW:
            item.add_marker(pytest.mark.slow)
