"""The browser the report tests look through: Debian's headless Chromium (design.md,
Principles 7), skipped where it is not installed, and a failure under CI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from _cdp import Chromium

INSTALL = "install Debian's chromium (apt-get install chromium)"


@pytest.fixture
def chromium() -> str:
    found = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    found = found or shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(INSTALL)
        pytest.skip(INSTALL)
    return found


@pytest.fixture
def browser(chromium: str, tmp_path: Path) -> Iterator[Chromium]:
    """A 1400x900 page driven over the DevTools protocol."""
    with Chromium(chromium, tmp_path / "cdp-profile") as driven:
        yield driven
