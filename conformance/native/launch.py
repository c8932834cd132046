"""The native host's launch: rescheck's host ``.exe`` under Wine (on Windows, as it is),
with the DLL to load named as Windows names it. rescheck's own ``clusapi.dll`` and
``resutils.dll`` sit beside the host, and Wine is told to prefer them to its builtins
(`DLL_OVERRIDES`)."""

from __future__ import annotations

import functools
import sys
import threading
from pathlib import Path

from conformance.monitor.launch import Launch
from conformance.native.build import host_exe


def windows_path(path: Path) -> str:
    """A Linux path as a program under Wine names it (Wine's Z: drive is the root)."""
    resolved = str(path.resolve())
    return resolved if sys.platform == "win32" else "Z:" + resolved.replace("/", "\\")


#: WINEDLLOVERRIDES for the host: the native clusapi.dll and resutils.dll (rescheck's, found
#: first in the host's directory) before Wine's builtins, whose functions are mostly stubs.
DLL_OVERRIDES = {"clusapi": "n,b", "resutils": "n,b"}

_server_lock = threading.Lock()


@functools.cache
def _wine_server() -> object:
    """This run's Wine prefix and wineserver, started on first use, ended at exit."""
    from conformance.native.wine import WineServer

    return WineServer()


def native_launch(dll: Path, type_names: tuple[str, ...] = ()) -> Launch:
    """The native host on ``dll``; its standard input and output are the channel."""
    from conformance.native import wine

    exe = host_exe()
    if sys.platform == "win32":
        argv, env = [str(exe)], None
    else:
        with _server_lock:  # one server per run, also when two threads start hosts
            server = _wine_server()
        argv, env = wine.wine_argv(exe, []), server.env(dll_overrides=DLL_OVERRIDES)  # type: ignore[attr-defined]
    return Launch(
        name=str(dll),
        argv=lambda _fd: argv,
        env=env or {},
        target={"path": windows_path(dll), "type_names": "\n".join(type_names) or None},
        transport="stdio",
        stacks=None if env is None else functools.partial(_stacks, env=env),
    )


def _stacks(pid: int, env: dict[str, str]) -> str:
    from conformance.native.stacks import wine_stacks

    return wine_stacks(pid, env)
