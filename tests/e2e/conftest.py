"""Fixtures of the end-to-end tests (what they share as plain names is in support.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.e2e.support import GOOD_DLL


@pytest.fixture
def write_dll(tmp_path: Path):
    """Write ``GOOD_DLL`` with ``replace`` applied (old -> new) as ``name.py``; return its path."""

    def write(
        name: str = "dll", replace: dict[str, str] | None = None, source: str | None = None
    ) -> Path:
        text = textwrap.dedent(source) if source is not None else GOOD_DLL
        for old, new in (replace or {}).items():
            assert old in text, f"test bug: {old!r} is not in the DLL source"
            text = text.replace(old, new)
        path = tmp_path / f"{name}.py"
        path.write_text(text)
        return path

    return write
