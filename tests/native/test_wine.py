"""Wine, handled for the user (`conformance.native.wine`), with the real Wine and real programs
built here with mingw-w64: the prefix created once by two processes at once, a crash that ends
its process at once, runs that do not share a wineserver and leave no process behind, and a
binary-safe framed echo over a wine process's stdin and stdout.

The template prefix is created once per test session (per xdist worker), in a private cache
directory (XDG_CACHE_HOME), by the first fixture."""

from __future__ import annotations

import os
import shutil
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.errors import UsageError
from conformance.native import wine
from conformance.native.wine import (
    WineServer,
    end_processes,
    ensure_prefix,
    find_wine,
    host_env,
    wine_argv,
    wine_processes,
)

COMPILER = "x86_64-w64-mingw32-gcc"
try:
    find_wine()
except UsageError as exc:
    pytest.skip(f"Wine is not installed ({exc})", allow_module_level=True)
if shutil.which(COMPILER) is None:
    pytest.skip(
        f"{COMPILER} is not installed ('apt-get install gcc-mingw-w64-x86-64')",
        allow_module_level=True,
    )


REPO = Path(__file__).resolve().parents[2]
#: How long a crashing program may take to end, and anything else to show up or go.
DEADLINE_S = 5.0

SOURCES = {
    "crash": "int main(void) { volatile int *p = 0; *p = 1; return 0; }\n",
    "exit13": "#include <windows.h>\nint main(void) { ExitProcess(13); }\n",
    # u32 little-endian length + payload in, the same frame out, until EOF
    "echo": r"""
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
static int take(unsigned char *b, size_t n) { return fread(b, 1, n, stdin) == n; }
int main(void) {
    unsigned char h[4];
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
    while (take(h, 4)) {
        unsigned long n = h[0] | h[1] << 8 | h[2] << 16 | (unsigned long)h[3] << 24;
        unsigned char *b = malloc(n ? n : 1);
        if (!b || !take(b, n)) return 2;
        fwrite(h, 1, 4, stdout);
        fwrite(b, 1, n, stdout);
        fflush(stdout);
        free(b);
    }
    return 0;
}
""",
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A private cache directory whose template prefix two processes create at the same
    time; what each of them said and how long it took."""
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root))
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        code = "from conformance.native.wine import ensure_prefix; print(ensure_prefix())"
        started = time.monotonic()
        firsts = [
            subprocess.Popen(
                [sys.executable, "-c", code],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        said = [(p.communicate(timeout=wine.CREATE_TIMEOUT_S), p.returncode) for p in firsts]
        print(f"\nprefix created in {time.monotonic() - started:.1f} s (two processes at once)")
        yield {"root": root, "said": said}


@pytest.fixture(scope="module")
def exes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The test programs, built for Windows x86-64."""
    out = tmp_path_factory.mktemp("exes")
    built = {}
    for name, source in SOURCES.items():
        (out / f"{name}.c").write_text(source)
        built[name] = out / f"{name}.exe"
        subprocess.run(
            [COMPILER, "-O2", "-o", str(built[name]), str(out / f"{name}.c")], check=True
        )
    return built


@pytest.fixture(scope="module")
def server(cache: dict) -> Iterator[WineServer]:
    with WineServer() as run:
        yield run


def _echo_host(run: WineServer, exes: dict[str, Path]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        wine_argv(exes["echo"], []),
        env=run.env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def _round_trip(host: subprocess.Popen[bytes], payload: bytes) -> bytes:
    assert host.stdin is not None and host.stdout is not None
    host.stdin.write(struct.pack("<I", len(payload)) + payload)
    host.stdin.flush()
    (size,) = struct.unpack("<I", host.stdout.read(4))
    return host.stdout.read(size)


def _stop(host: subprocess.Popen[bytes]) -> None:
    for pipe in (host.stdin, host.stdout):
        if pipe is not None:
            pipe.close()
    host.kill()
    host.wait(DEADLINE_S)


# --- the template prefix ------------------------------------------------------------------------


def test_two_first_uses_at_once_create_one_prefix(cache: dict) -> None:
    prefix = cache["root"] / "rescheck" / wine.TEMPLATE
    assert [code for _, code in cache["said"]] == [0, 0], cache["said"]
    assert [out.strip() for (out, _), _ in cache["said"]] == [str(prefix)] * 2
    lines = [[line for line in err.splitlines() if line] for (_, err), _ in cache["said"]]
    creating = [line for said in lines for line in said if "creating a Wine prefix" in line]
    assert creating == [
        f"rescheck: creating a Wine prefix for compiled DLLs in {prefix} (once, about 10 s)..."
    ]
    assert all(len(said) <= 1 for said in lines), lines  # the other one waited, or said nothing
    assert (prefix / wine.READY).read_text().startswith(str(find_wine()))
    assert sorted(p.name for p in prefix.parent.iterdir()) == [
        wine.TEMPLATE,
        f"{wine.TEMPLATE}.lock",
    ]  # no half-made sibling left


def test_a_ready_prefix_is_used_as_it_is(cache: dict, capsys: pytest.CaptureFixture[str]) -> None:
    marker = cache["root"] / "rescheck" / wine.TEMPLATE / wine.READY
    before = marker.stat().st_mtime_ns
    started = time.monotonic()
    assert ensure_prefix() == marker.parent
    assert time.monotonic() - started < 1.0
    assert capsys.readouterr().err == ""
    assert marker.stat().st_mtime_ns == before


def test_no_debugger_and_no_home_in_the_prefix(cache: dict) -> None:
    prefix = cache["root"] / "rescheck" / wine.TEMPLATE
    system = (prefix / "system.reg").read_text(errors="replace")
    aedebug = system[
        system.index("[Software\\\\Microsoft\\\\Windows NT\\\\CurrentVersion\\\\AeDebug]") :
    ]
    assert '"Debugger"=""' in aedebug.split("\n\n")[0]
    assert '"ShowCrashDialog"=dword:00000000' in (prefix / "user.reg").read_text(errors="replace")
    users = prefix / "drive_c" / "users"
    assert not [p for p in users.rglob("*") if p.is_symlink()]  # not links to the user's home


def test_a_run_prefix_is_links_to_the_template(cache: dict, server: WineServer) -> None:
    template = cache["root"] / "rescheck" / wine.TEMPLATE
    dll = Path("drive_c", "windows", "system32", "kernel32.dll")
    assert (server.prefix / dll).stat().st_ino == (template / dll).stat().st_ino
    assert not (template / dll).stat().st_mode & 0o222  # read-only: a write would reach all
    assert (server.prefix / "system.reg").stat().st_ino != (template / "system.reg").stat().st_ino
    assert (server.prefix / ".update-timestamp").read_text() == "disable\n"
    assert not (server.prefix / wine.READY).exists()


# --- processes under Wine ------------------------------------------------------------------------


def test_a_crash_ends_its_process_at_once(server: WineServer, exes: dict[str, Path]) -> None:
    started = time.monotonic()
    done = subprocess.run(
        wine_argv(exes["crash"], []), env=server.env(), capture_output=True, timeout=DEADLINE_S
    )
    took = time.monotonic() - started
    print(f"\naccess violation: exit status {done.returncode} after {took * 1000:.0f} ms")
    assert done.returncode == 0xC0000005 & 0xFF  # the exception code's low byte
    assert took < DEADLINE_S
    assert b"page fault on write access" in done.stderr
    assert b"Register dump" not in done.stderr  # no winedbg ran
    assert wine_processes(server.prefix)  # the server and Wine's services go on


def test_exit_status_and_start_time(server: WineServer, exes: dict[str, Path]) -> None:
    took = []
    for _ in range(5):
        started = time.perf_counter()
        done = subprocess.run(wine_argv(exes["exit13"], []), env=server.env(), timeout=DEADLINE_S)
        took.append(time.perf_counter() - started)
        assert done.returncode == 13
    print(f"\nstart and exit of a program, wineserver up: {statistics.median(took) * 1000:.1f} ms")


def test_a_framed_echo_is_binary_safe(server: WineServer, exes: dict[str, Path]) -> None:
    host = _echo_host(server, exes)
    try:
        for payload in (b"", b"\x00", bytes(range(256)), b"\r\n\x1a\n\r\r\n", os.urandom(1 << 20)):
            assert _round_trip(host, payload) == payload
        took = []
        for i in range(2000):
            started = time.perf_counter()
            assert _round_trip(host, i.to_bytes(64, "little")) == i.to_bytes(64, "little")
            took.append(time.perf_counter() - started)
        took.sort()
        print(
            f"\nframed echo round trip (64 bytes): median {statistics.median(took) * 1e6:.1f} µs,"
            f" p95 {took[int(len(took) * 0.95)] * 1e6:.1f} µs"
        )
    finally:
        _stop(host)


def test_runs_do_not_share_a_wineserver(server: WineServer, exes: dict[str, Path]) -> None:
    ours = _echo_host(server, exes)
    try:
        with WineServer() as other:
            assert other.prefix != server.prefix
            theirs = _echo_host(other, exes)
            assert _round_trip(theirs, b"theirs") == b"theirs"
        assert theirs.wait(DEADLINE_S) is not None  # ended with its run
        _stop(theirs)
        assert _round_trip(ours, b"ours") == b"ours"  # ours goes on
    finally:
        _stop(ours)


def test_a_closed_run_leaves_no_process(cache: dict, exes: dict[str, Path]) -> None:
    run = WineServer()
    host = _echo_host(run, exes)  # a host the caller forgot: not under the run's guardian
    try:
        assert _round_trip(host, b"x") == b"x"
        names = {Path(f"/proc/{pid}/exe").resolve().name for pid in wine_processes(run.prefix)}
        assert any(name.startswith("wineserver") for name in names), names
        started = time.monotonic()
        run.close()
        print(f"\nclose of a run: {(time.monotonic() - started) * 1000:.0f} ms")
        assert wine_processes(run.prefix) == []
        assert host.wait(DEADLINE_S) is not None
        assert not run.root.exists()
        run.close()  # idempotent
    finally:
        _stop(host)
        end_processes(run.prefix)


def test_a_killed_rescheck_leaves_no_process(cache: dict) -> None:
    code = (
        "import time; from conformance.native.wine import WineServer; run = WineServer(); "
        "print(run.prefix, flush=True); time.sleep(60)"
    )
    rescheck = subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert rescheck.stdout is not None
    prefix = Path(rescheck.stdout.readline().strip())
    try:
        assert wine_processes(prefix)
        rescheck.kill()
        rescheck.wait()
        deadline = time.monotonic() + DEADLINE_S
        while wine_processes(prefix) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert wine_processes(prefix) == []  # the guardian ended them
        with WineServer():
            assert not prefix.parent.exists()  # the next run swept the dead one's clone
    finally:
        rescheck.kill()
        rescheck.wait()
        rescheck.stdout.close()
        end_processes(prefix)


# --- without Wine --------------------------------------------------------------------------------


def test_missing_wine_is_one_line_saying_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(wine, "LOADERS", (str(tmp_path / "nowhere"),))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError) as raised:
        find_wine()
    assert "\n" not in str(raised.value)
    assert "apt-get install wine64" in str(raised.value)


def test_host_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("WINEDEBUG", "+relay")
    env = host_env(tmp_path, {"TMPDIR": "/elsewhere", "X": "1"}, {"clusapi,resutils": "n"})
    assert "DISPLAY" not in env
    assert env["WINEDEBUG"] == "-all"
    assert env["WINEPREFIX"] == str(tmp_path)
    assert env["TMPDIR"] == str(tmp_path / wine.UNIX_TMP)  # one per prefix: it names the server
    assert env["X"] == "1"
    assert env["WINEDLLOVERRIDES"] == "mscoree,mshtml=;winemenubuilder.exe=d;clusapi,resutils=n"
    assert host_env(tmp_path, {"WINEDEBUG": "err+all"})["WINEDEBUG"] == "err+all"


def test_wine_argv_names_the_program_by_its_absolute_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert wine_argv(Path("host.exe"), ["a b"]) == [
        str(find_wine()),
        str(tmp_path / "host.exe"),
        "a b",
    ]
