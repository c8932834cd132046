"""What the fuzz tests share (a module, not conftest.py: tests import it by name)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_reproducer(reproducer: Path) -> subprocess.CompletedProcess[str]:
    """A campaign's reproducer run on its own, with plain pytest, where it was written."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         str(reproducer)],
        cwd=reproducer.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
