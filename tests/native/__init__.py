"""Compiled DLLs under the native host: what the tests of them share."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conformance.targets.native import imports


def _tools() -> bool:
    wine = Path("/usr/lib/wine/wine64").exists() or shutil.which("wine64") is not None
    return wine and shutil.which("x86_64-w64-mingw32-gcc") is not None


#: Mark for tests that build a C DLL and run it under Wine (CI installs both).
requires_native = pytest.mark.skipif(
    not _tools(),
    reason="compiled DLLs need wine64 and gcc-mingw-w64-x86-64 (apt-get install)",
)


def assert_plain_dll(dll: Path) -> None:
    """The DLL needs only kernel32 and msvcrt (the plainest a resource DLL can be: the
    builds that use rescheck's clusapi.dll and resutils.dll say so) and exports only
    Startup."""
    imported = {name.lower() for name, _ in imports(dll)}
    assert imported == {"kernel32.dll", "msvcrt.dll"}, f"{dll.name} imports {imported}"
    objdump = shutil.which("x86_64-w64-mingw32-objdump")
    if objdump is None:
        return  # the exports are read with binutils, which comes with the compiler
    headers = subprocess.run([objdump, "-p", str(dll)], capture_output=True, text=True).stdout
    table = headers.split("[Ordinal/Name Pointer] Table", 1)[-1].split("\n\n", 1)[0]
    exports = [line.split("]", 1)[1].strip() for line in table.splitlines() if "]" in line]
    assert exports == ["Startup"], headers
