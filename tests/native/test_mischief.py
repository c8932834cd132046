"""A compiled DLL that hangs, exits or crashes in any entry point is judged within its
deadline, and the rest of the run goes on (issue 16: containment as for Python targets)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.native import requires_native

HERE = Path(__file__).parent
ENTRY_POINTS = (
    "Startup", "Open", "Close", "Online", "Offline", "Terminate", "LooksAlive", "IsAlive",
)  # fmt: skip
#: How each misbehaviour is judged: the rule that must fail, and what its message says.
MISCHIEF = {
    "DO_HANG": ("{entry}.returns", "DeadlockTimeout"),
    "DO_EXIT": ("Process.survives", "exit code 9"),
    "DO_CRASH": ("Process.survives", "the host process ended"),
}

pytestmark = requires_native


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("how", sorted(MISCHIEF))
def test_each_entry_point_that_hangs_exits_or_crashes_gets_its_verdict(
    tmp_path: Path, entry: str, how: str
) -> None:
    from conformance.native.build import build_dll

    dll = build_dll([HERE / "mischief_dll.c"], tmp_path / f"{how.lower()}_{entry.lower()}.dll",
                    [f"MISCHIEF_{entry}={how}"])  # fmt: skip
    rule, said = MISCHIEF[how]
    rule = rule.format(entry=entry)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--resource-type", str(dll), "--report-dir",
         str(tmp_path / "r"), "--select", rule],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    took = time.perf_counter() - started
    assert done.returncode == 1, f"exit {done.returncode}:\n{done.stdout[-2000:]}{done.stderr}"
    [check] = json.loads((tmp_path / "r" / "results.json").read_text("utf-8"))["checks"]
    assert check["outcome"] == "failed" and said in check["message"], check
    if how == "DO_HANG":  # winedbg's backtrace of the hung call, down into the DLL
        evidence = "\n".join(check["evidence"])
        assert f"in {dll.stem}" in evidence and "Sleep" in evidence, evidence[-3000:]
    assert took < 90, f"a {how} in {entry} took {took:.0f} s to judge"
