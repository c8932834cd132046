"""LogEvent from a compiled DLL is formatted in the native host as the cluster log would:
printf style (msvcrt's `%ws`) and FormatMessage style (`%1!ws!`, `%2!08x!`, `%%`, `%n`, `%0`),
bounded: a 300-million-character insert is counted, not built (a blind test's DLL logged
`%1!ws!` and the insert was lost)."""

from __future__ import annotations

from pathlib import Path

from conformance.resapi import RESOURCE_HANDLE
from tests.hostkit.driver import KitHost
from tests.native import requires_native

pytestmark = requires_native


def test_both_styles_of_format_string_are_expanded_and_bounded(tmp_path: Path) -> None:
    from conformance.native.build import build_dll
    from conformance.native.launch import native_launch

    dll = build_dll([Path(__file__).with_name("logevent_dll.c")], tmp_path / "logevent.dll")
    host = KitHost(native_launch(dll))
    try:
        host.load()
        host.startup()
        host.call("Open", "res-1", host.hkey("Resources\\res-1"), RESOURCE_HANDLE(3))
        logs = [(c.args["message"], c.args["length"]) for c in host.callbacks("LogEvent")]
    finally:
        host.close()
    printf, message, wide, stop = logs
    assert printf == ("printf res-1 0000002a 7%", 24), printf
    assert message[0] == "message res-1 0000002a 7% res-1\n", message  # %n as logformat.py
    assert wide[1] == len("wide ") + 300_000_000 and len(wide[0]) < 9000, wide[1]
    assert "cut" in wide[0][-40:], wide[0][-40:]
    assert stop[0] == "stop here", stop
