"""The native host's launch: rescheck's host ``.exe`` under Wine (on Windows, as it is),
with the DLL to load named as Windows names it."""

from __future__ import annotations

import sys
from pathlib import Path

from conformance.monitor.launch import Launch
from conformance.native.build import host_exe


def windows_path(path: Path) -> str:
    """A Linux path as a program under Wine names it (Wine's Z: drive is the root)."""
    resolved = str(path.resolve())
    return resolved if sys.platform == "win32" else "Z:" + resolved.replace("/", "\\")


def native_launch(dll: Path, type_names: tuple[str, ...] = ()) -> Launch:
    """The native host on ``dll``; its standard input and output are the channel."""
    from conformance.native import wine

    exe = host_exe()
    if sys.platform == "win32":
        argv, env = [str(exe)], None
    else:
        argv, env = wine.wine_argv(exe, []), wine.host_env(wine.ensure_prefix())
    return Launch(
        name=str(dll),
        argv=lambda _fd: argv,
        env=env or {},
        target={"path": windows_path(dll), "type_names": "\n".join(type_names) or None},
        transport="stdio",
    )
