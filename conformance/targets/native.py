"""A compiled resource DLL as a target: checked to be a loadable x86-64 DLL before anything
starts, then loaded by the native host (``conformance.native``)."""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

from conformance.companion import Companion
from conformance.errors import UsageError
from conformance.native.build import provided_functions, stubbed_functions
from conformance.targets.pydll import resolve

IMAGE_FILE_MACHINE_AMD64 = 0x8664
IMAGE_FILE_DLL = 0x2000
#: DLLs whose functions Wine has only as stubs: rescheck provides part of each itself
#: (`conformance.native.build.provided_functions`), exports most of the rest as stubs that
#: answer ERROR_CALL_NOT_IMPLEMENTED (`stubbed_functions`: the verdicts that rest on them are
#: not judged), and refuses a DLL that imports any other.
NOT_PROVIDED = ("clusapi.dll", "resutils.dll")
#: The most of a DLL read to find its imports (a resource DLL is far smaller).
PE_READ_LIMIT = 64 << 20


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
    provided, stubbed = provided_functions(), stubbed_functions()
    missing = [
        f"{name} ({dll})"
        for dll, name in imports(path)
        if dll.lower() in NOT_PROVIDED
        and name not in provided.get(dll.lower(), ())
        and name not in stubbed.get(dll.lower(), ())
    ]
    if missing:
        raise UsageError(
            f"{given} imports {', '.join(missing)}, which rescheck neither provides to compiled "
            f"DLLs nor answers yet (of clusapi.dll it provides {', '.join(provided['clusapi.dll'])}; "
            f"of resutils.dll {', '.join(provided['resutils.dll'])}; "
            f"{sum(map(len, stubbed.values()))} more answer ERROR_CALL_NOT_IMPLEMENTED)"
        )
    return path


def imports(path: Path) -> list[tuple[str, str]]:
    """``(dll, function)`` for each function the DLL imports by name (an ordinal is shown as
    ``#N``), read from the PE import table with every offset checked."""
    data = path.read_bytes()[:PE_READ_LIMIT]
    try:
        return list(_imports(data))
    except (struct.error, IndexError, ValueError):
        raise UsageError(f"{path.name}: its PE import table is malformed") from None


def _imports(data: bytes) -> list[tuple[str, str]]:
    (pe,) = struct.unpack_from("<I", data, 0x3C)
    sections_count, optional_size = (
        struct.unpack_from("<H", data, pe + 6)[0],
        struct.unpack_from("<H", data, pe + 20)[0],
    )
    optional = pe + 24
    if struct.unpack_from("<H", data, optional)[0] != 0x20B:  # PE32+
        raise ValueError("not PE32+")
    import_rva = struct.unpack_from("<I", data, optional + 112 + 8)[0]  # data directory 1
    sections = [
        struct.unpack_from("<IIII", data, optional + optional_size + 40 * i + 8)
        for i in range(min(sections_count, 96))
    ]

    def offset(rva: int) -> int:
        for size, address, raw_size, raw in sections:
            if address <= rva < address + max(size, raw_size):
                return raw + rva - address
        raise ValueError("an address outside every section")

    def text(rva: int) -> str:
        start = offset(rva)
        return data[start : data.index(b"\0", start, start + 512)].decode("ascii", "replace")

    found: list[tuple[str, str]] = []
    if not import_rva:
        return found
    descriptor = offset(import_rva)
    for _ in range(1024):
        lookup, _, _, name_rva, thunks = struct.unpack_from("<IIIII", data, descriptor)
        if not name_rva:
            break
        dll = text(name_rva)
        entry = offset(lookup or thunks)
        for _ in range(65536):
            (thunk,) = struct.unpack_from("<Q", data, entry)
            if not thunk:
                break
            by_ordinal = thunk >> 63
            found.append(
                (dll, f"#{thunk & 0xFFFF}" if by_ordinal else text((thunk & 0x7FFFFFFF) + 2))
            )
            entry += 8
        descriptor += 20
    return found


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
    found = validate(_companion_from_file(chosen), f"COMPANION in {chosen.name}")
    return replace(found, source=chosen.name), chosen
