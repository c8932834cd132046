"""A compiled DLL through the front ends, as a user runs them: `rescheck run`, `rescheck fuzz`
and the pytest plugin each give a verdict, and nothing of Wine or the host is left running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.support import REPO
from tests.native import requires_native

KIT = REPO / "tests" / "hostkit" / "kit_dll.c"

pytestmark = requires_native


@pytest.fixture(scope="module")
def kit_dll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conformance.native.build import build_dll

    return build_dll([KIT], tmp_path_factory.mktemp("native") / "kit_dll.dll")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory of these tests' own: their Wine processes are told by it."""
    return tmp_path_factory.mktemp("cache")


def rescheck(*args: str, cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
    )  # fmt: skip


def wine_left(cache: Path) -> list[str]:
    """Processes whose environment names ``cache`` (its Wine prefixes), after a short grace."""
    deadline = time.monotonic() + 5
    while True:
        left = []
        for environ in Path("/proc").glob("[0-9]*/environ"):
            try:
                if str(cache).encode() in environ.read_bytes():
                    left.append(environ.parent.name)
            except OSError:
                continue
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def test_run_gives_a_compiled_dll_its_verdict(kit_dll: Path, tmp_path: Path, cache: Path) -> None:
    done = rescheck("run", "--resource-type", str(kit_dll), "--type-name", "Kit",
                    "--report-dir", str(tmp_path / "r"), cwd=tmp_path, cache=cache)  # fmt: skip
    # the kit's DLL answers every control code: it is not compliant, and says so
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stdout + done.stderr
    results = json.loads((tmp_path / "r" / "results.json").read_text("utf-8"))
    by_id = {c["id"]: c["outcome"] for c in results["checks"]}
    assert by_id["ResourceControl.unsupported-codes"] == "failed", by_id
    assert by_id["Online.returns"] == "passed" and by_id["Process.survives"] == "passed", by_id
    assert results["target"] == str(kit_dll) or str(kit_dll) in json.dumps(results)
    assert not wine_left(cache), "no Wine or host process may outlive the run"


def test_fuzz_and_pytest_take_a_compiled_dll(kit_dll: Path, tmp_path: Path, cache: Path) -> None:
    done = rescheck("fuzz", "--resource-type", str(kit_dll), "--max-examples", "10",
                    "--seed", "1", cwd=tmp_path, cache=cache)  # fmt: skip
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr[-2000:]
    # by default beside a Python model's reports, not over them
    assert (tmp_path / "reports" / "fuzz-kit_dll_dll" / "results.json").exists()
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--resource-type={kit_dll}",
         "-q", "-k", "Online"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
    )  # fmt: skip
    assert " passed" in tested.stdout and "error" not in tested.stdout.lower(), tested.stdout[
        -2000:
    ]
    assert not wine_left(cache), "no Wine or host process may outlive the run"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"not a dll", "not a Windows DLL"),
        (
            b"MZ"
            + bytes(58)
            + (64).to_bytes(4, "little")
            + b"PE\0\0"
            + (0x14C).to_bytes(2, "little")
            + bytes(16)
            + (0x2000).to_bytes(2, "little"),
            "not x86-64",
        ),
    ],
)
def test_a_file_that_is_no_x64_dll_is_one_line_and_exit_2(
    tmp_path: Path, content: bytes, said: str, cache: Path
) -> None:
    dll = tmp_path / "bad.dll"
    dll.write_bytes(content)
    done = rescheck("run", "--resource-type", str(dll), cwd=tmp_path, cache=cache)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and said in lines[0], lines


CLUSAPI_USER = """
DWORD WINAPI ClusterRegQueryAllValues(void); /* exported by Windows, not documented */
__declspec(dllexport) DWORD WINAPI Startup(LPCWSTR t, DWORD a, DWORD b,
        PSET_RESOURCE_STATUS_ROUTINE s, PLOG_EVENT_ROUTINE l, PCLRES_FUNCTION_TABLE *f) {
    HKEY key = NULL;
    ClusterRegOpenKey((HKEY)OpenCluster(NULL), L"x", 0, &key);
    return ResUtilStopResourceService(L"x") + ClusterRegQueryAllValues();
}
"""


def test_a_dll_that_imports_what_rescheck_does_not_provide_is_named_in_one_line(
    tmp_path: Path, cache: Path
) -> None:
    from conformance.native.build import build_dll

    source = tmp_path / "uses_clusapi.c"
    source.write_text(CLUSAPI_USER)
    dll = build_dll([source], tmp_path / "uses_clusapi.dll", libraries=["clusapi", "resutils"])
    done = rescheck("run", "--resource-type", str(dll), cwd=tmp_path, cache=cache)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1, done.stdout + done.stderr
    refused = lines[0].split(", which rescheck neither provides", 1)[0]
    # a documented function rescheck only stubs (ResUtilStopResourceService) is not refused
    assert refused.lower().endswith("imports clusterregqueryallvalues (clusapi.dll)"), lines[0]
    assert "ClusterRegOpenKey" in lines[0].split("provides", 1)[1], "it says what it provides"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The C reference DLL, which implements the "Process App" type and refuses any other."""
    from reference_impls.native.build import build

    return build(tmp_path_factory.mktemp("reference"))


def test_run_checks_each_type_name_given(reference: Path, tmp_path: Path, cache: Path) -> None:
    """A DLL asked for several types: each gets its own run and reports; a name the DLL
    refuses and does not contain is the user's mistake (one line, exit 2), never a finding,
    and the other types are still checked."""
    done = rescheck("run", "--resource-type", str(reference), "--type-name", "Process App",
                    "--type-name", "process app", "--type-name", "Print Spooler",
                    "--select", "Startup.*", "--report-dir", str(tmp_path / "r"),
                    cwd=tmp_path, cache=cache)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stdout + done.stderr
    runs = {
        name: json.loads((tmp_path / "r" / name / "results.json").read_text("utf-8"))
        for name in ("Process_App", "process_app")
    }
    assert {n: r["verdict"] for n, r in runs.items()} == {
        "Process_App": "compliant",
        "process_app": "compliant",  # Startup compares type names case-insensitively (ST-9)
    }, done.stdout
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "'Print Spooler'" in errors[0], done.stderr
    assert "a name the DLL does not contain" in errors[0], errors[0]
    assert "not checked" in done.stdout and "compliant" in done.stdout, done.stdout
    assert not wine_left(cache), "no Wine or host process may outlive the run"


def test_a_type_name_guessed_from_the_file_name_is_not_blamed(
    reference: Path, tmp_path: Path, cache: Path
) -> None:
    """Without --type-name or a companion, the type name is the file's stem; the DLL refusing
    it is a usage error that says what to pass, never a finding against the DLL."""
    renamed = tmp_path / "renamed.dll"
    renamed.write_bytes(reference.read_bytes())
    done = rescheck("run", "--resource-type", str(renamed), cwd=tmp_path, cache=cache)
    # (a first run in this cache also says it creates the Wine prefix)
    lines = [line for line in done.stderr.splitlines() if "Wine prefix" not in line]
    assert done.returncode == 2 and len(lines) == 1, done.stdout + done.stderr
    assert "refused resource type 'renamed'" in lines[0] and "--type-name" in lines[0], lines[0]
    assert "a name the DLL does not contain" in lines[0], lines[0]
    assert not (tmp_path / "reports").exists(), "nothing is reported for a run that never began"
