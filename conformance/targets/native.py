"""A compiled resource DLL as a target: checked to be a loadable x86-64 DLL before anything
starts, then loaded by the native host (``conformance.native``)."""

from __future__ import annotations

import struct
from pathlib import Path

from conformance.companion import Companion
from conformance.errors import UsageError
from conformance.targets.pydll import resolve

IMAGE_FILE_MACHINE_AMD64 = 0x8664
IMAGE_FILE_DLL = 0x2000


def is_native(given: str) -> bool:
    """A file ending in .dll, or a path to one: not a dotted module name ``pkg.dll``."""
    if not given.lower().endswith(".dll"):
        return False
    if Path(given).expanduser().is_file() or "/" in given or "\\" in given:
        return True
    try:
        resolve(given)
    except UsageError:
        return True  # neither: say that the DLL is missing
    return False


def check_dll(given: str) -> Path:
    """The DLL's path, once its headers say it is an x86-64 DLL; one line otherwise."""
    path = Path(given).expanduser()
    if not path.is_file():
        raise UsageError(f"no such file: {given}; give the path to a compiled resource DLL")
    with path.open("rb") as file:
        head = file.read(4096)
    if head[:2] != b"MZ" or len(head) < 64:
        raise UsageError(f"{given} is not a Windows DLL (no MZ header)")
    (pe,) = struct.unpack_from("<I", head, 0x3C)
    if pe + 24 > len(head) or head[pe : pe + 4] != b"PE\0\0":
        raise UsageError(f"{given} is not a Windows DLL (no PE header)")
    machine, characteristics = (
        struct.unpack_from("<H", head, pe + 4)[0],
        struct.unpack_from("<H", head, pe + 22)[0],
    )
    if machine != IMAGE_FILE_MACHINE_AMD64:
        raise UsageError(
            f"{given} is built for machine 0x{machine:04x}, not x86-64 (0x8664); the Resource "
            "Monitor of a 64-bit cluster loads only 64-bit DLLs: rebuild it for x64"
        )
    if not characteristics & IMAGE_FILE_DLL:
        raise UsageError(f"{given} is an executable, not a DLL")
    return path


def native_companion(path: Path, companion_path: str | None) -> tuple[Companion, Path | None]:
    """A compiled DLL's companion is a Python file beside it (or ``--companion``); it runs in
    rescheck's process, as it is the user's code, not the DLL's."""
    from conformance.companion import validate
    from conformance.targets import _companion_from_file

    chosen = Path(companion_path) if companion_path else path.with_name(f"{path.stem}_companion.py")
    if companion_path and not chosen.is_file():
        raise UsageError(f"no such companion file: {companion_path}")
    if not chosen.is_file():
        return Companion(), None
    return validate(_companion_from_file(chosen), f"COMPANION in {chosen.name}"), chosen
