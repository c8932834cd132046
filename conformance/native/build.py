"""Building rescheck's native host, and compiled DLLs for tests, with mingw-w64.

``python3 -m conformance.native.build`` builds the host once into this package's ``bin/``
(git-ignored: a wheel carries it), where rescheck finds it; it is rebuilt when a source is
newer. Beside it goes rescheck's own ``clusapi.dll`` (``clusapi/``: the Cluster API functions
of `provided_functions`, served from the run's cluster database through the host), which the
host loads from its own directory before the resource DLL, so that the DLL's imports bind to
it rather than to Wine's stubs; and its own ``resutils.dll`` (``resutils/``: the Resource Utility
functions of `provided_functions`, reading values through that clusapi.dll), loaded the same way. The C sources are compiled with the project's force-included header
(``include/rescheck_sdk.h``), so that code written against the Windows SDK's ``resapi.h``
builds unchanged.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from conformance.errors import UsageError

HERE = Path(__file__).parent
SOURCES = HERE / "host"
SDK_HEADER = HERE / "include" / "rescheck_sdk.h"
HOST_EXE = HERE / "bin" / "rescheck-host.exe"
CLUSAPI = HERE / "clusapi"
CLUSAPI_DLL = HOST_EXE.with_name("clusapi.dll")
#: The exports of clusapi.dll: the Windows SDK's functions it provides, and rescheck's own.
CLUSAPI_DEF = CLUSAPI / "clusapi.def"
#: clusapi.dll's exports that are rescheck's, for the host (include/rescheck_link.h).
LINK_EXPORTS = ("RescheckAttach", "RescheckMonitorKey", "RescheckConnect")
RESUTILS = HERE / "resutils"
RESUTILS_DLL = HOST_EXE.with_name("resutils.dll")
#: The exports of resutils.dll: the Windows SDK's functions it provides, and RescheckAttach.
RESUTILS_DEF = RESUTILS / "resutils.def"
#: Each DLL's list of the Windows SDK functions it exports but does not provide yet: they answer
#: ERROR_CALL_NOT_IMPLEMENTED, and the run says which verdicts rest on that answer.
UNPROVIDED_LISTS = {
    "clusapi.dll": CLUSAPI / "unprovided.h",
    "resutils.dll": RESUTILS / "unprovided.h",
}
COMPILER = "x86_64-w64-mingw32-gcc"
#: What to install when the compiler is missing, and how to build by hand.
HOW_TO_GET = (
    "install mingw-w64 ('apt-get install gcc-mingw-w64-x86-64' on Debian), then build it with "
    "'python3 -m conformance.native.build'"
)
FLAGS = ["-O2", "-Wall", "-Wextra", "-D__USE_MINGW_ANSI_STDIO=0", "-include", str(SDK_HEADER)]


def compiler() -> str:
    found = shutil.which(COMPILER)
    if found is None:
        raise UsageError(
            f"compiled DLLs need rescheck's native host, and building it needs {COMPILER}: {HOW_TO_GET}"
        )
    return found


def _newest(paths: Iterable[Path]) -> float:
    return max(p.stat().st_mtime for p in paths)


def provided_functions() -> dict[str, tuple[str, ...]]:
    """What rescheck provides to compiled DLLs, by DLL: the Windows SDK functions its own
    ``clusapi.dll`` and ``resutils.dll`` export (a DLL that imports others of these DLLs cannot
    load yet)."""
    return {"clusapi.dll": _exports(CLUSAPI_DEF), "resutils.dll": _exports(RESUTILS_DEF)}


def stubbed_functions() -> dict[str, tuple[str, ...]]:
    """The Windows SDK functions rescheck's DLLs export without providing them yet, by DLL: a
    DLL that imports them loads, and each call answers ERROR_CALL_NOT_IMPLEMENTED."""
    return {
        dll: tuple(re.findall(r"^\s*UNPROVIDED\(\w+, (\w+)\)", path.read_text("utf-8"), re.M))
        for dll, path in UNPROVIDED_LISTS.items()
    }


def _exports(definition: Path) -> tuple[str, ...]:
    lines = definition.read_text("utf-8").split("EXPORTS", 1)[1].splitlines()
    names = [line.strip() for line in lines if line.strip() and not line.strip().startswith(";")]
    return tuple(name for name in names if name not in LINK_EXPORTS)


def _sources() -> list[Path]:
    return [
        *SOURCES.glob("*.[ch]"),
        *CLUSAPI.glob("*.[ch]"),
        CLUSAPI_DEF,
        *RESUTILS.glob("*.[ch]"),
        RESUTILS_DEF,
        *(HERE / "include").glob("*.h"),
    ]


def host_exe() -> Path:
    """The native host (and its clusapi.dll and resutils.dll), built now if missing or older
    than a source."""
    built = [HOST_EXE, CLUSAPI_DLL, RESUTILS_DLL]
    if all(p.exists() for p in built) and min(p.stat().st_mtime for p in built) >= _newest(
        _sources()
    ):
        return HOST_EXE
    return build_host()


def build_host() -> Path:
    HOST_EXE.parent.mkdir(exist_ok=True)
    # one file per builder (pytest-xdist workers may build at once), renamed whole into place;
    # the DLLs first: a host that finds no clusapi.dll beside it leaves DLLs Wine's
    partial = CLUSAPI_DLL.with_suffix(f".{os.getpid()}.partial.dll")
    clusapi = [*sorted(CLUSAPI.glob("*.c")), SOURCES / "mpack.c", CLUSAPI_DEF]
    _compile(clusapi, partial, ["-shared"])
    partial.replace(CLUSAPI_DLL)
    # resutils.dll imports clusapi.dll by name: the one the host has loaded
    partial = RESUTILS_DLL.with_suffix(f".{os.getpid()}.partial.dll")
    resutils = [*sorted(RESUTILS.glob("*.c")), SOURCES / "mpack.c", RESUTILS_DEF]
    _compile(resutils, partial, ["-shared", "-lclusapi"])
    partial.replace(RESUTILS_DLL)
    partial = HOST_EXE.with_suffix(f".{os.getpid()}.partial.exe")
    _compile([*sorted(SOURCES.glob("*.c"))], partial, [])
    partial.replace(HOST_EXE)
    return HOST_EXE


def build_dll(
    sources: Iterable[Path], out: Path, defines: Iterable[str] = (), libraries: Iterable[str] = ()
) -> Path:
    """A resource DLL from C sources (``defines``: ``NAME`` or ``NAME=VALUE``)."""
    extra = [f"-D{d}" for d in defines] + [f"-l{lib}" for lib in libraries]
    _compile(list(sources), out, ["-shared", *extra])
    return out


def build_program(sources: Iterable[Path], out: Path, window: bool = True) -> Path:
    """A Windows program from C sources with a wide ``wWinMain`` (``window``: no console)."""
    _compile(list(sources), out, ["-municode", *(["-mwindows"] if window else [])])
    return out


def _compile(sources: list[Path], out: Path, extra: list[str]) -> None:
    libraries = [flag for flag in extra if flag.startswith("-l")]  # after the sources, for ld
    options = [flag for flag in extra if not flag.startswith("-l")]
    command = [compiler(), *FLAGS, *options, "-o", str(out), *map(str, sources), *libraries]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise UsageError(f"building {out.name} failed: {said[0] if said else done.returncode}")


def main() -> int:
    try:
        print(build_host())
    except UsageError as exc:
        print(f"rescheck: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
