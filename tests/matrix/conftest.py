"""The matrix imports targets as ``fixtures.<module>``: make the repository root importable
whatever directory pytest was started from."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
