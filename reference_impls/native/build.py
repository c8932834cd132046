"""Builds the C reference DLLs with mingw-w64, laid out as a user ships them: process_app.dll
with the program each instance runs beside it and its companion, and property_store.dll, whose
private-property control codes are answered by the ResUtil property-table functions.

    python3 reference_impls/native/build.py [OUT_DIR]   # default: reference_impls/native/bin
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from conformance.errors import UsageError
from conformance.native.build import build_dll, build_program

HERE = Path(__file__).resolve().parent


def build(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    dll = build_dll([HERE / "process_app.c"], out / "process_app.dll")
    build_program([HERE / "sleeper.c"], out / "sleeper.exe")
    shutil.copy(HERE / "process_app_companion.py", out / "process_app_companion.py")
    build_dll(
        [HERE / "property_store.c"], out / "property_store.dll", libraries=["resutils", "clusapi"]
    )
    return dll


if __name__ == "__main__":
    try:
        print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "bin"))
    except UsageError as exc:
        sys.exit(f"rescheck: {exc}")
