"""``python3 -m conformance``: the ``rescheck`` command, for a checkout that is not installed."""

from __future__ import annotations

import sys

from conformance.cli import main

sys.exit(main())
