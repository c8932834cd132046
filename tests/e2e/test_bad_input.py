"""Bad input gets one line and exit 2, Ctrl-C gets the reports of what was decided and exit
130, and nothing of the target runs in rescheck's own process (issue 15)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conformance.errors import SourceTooNested
from conformance.genscript import pyscript
from conformance.report.model import CheckResult, ResultsLog
from conformance.suite.catalogue import catalogue
from conformance.targets.pydll import load_fresh, resolve
from tests.e2e.support import GOOD_DLL, REPO, rescheck

WITNESS = REPO / "reference_impls" / "file_witness.py"
PROCESS_APP = REPO / "reference_impls" / "process_app.py"


def _one_line(done: subprocess.CompletedProcess[str], expected: str) -> None:
    """Exit 2, one line on stderr that says ``expected``, no traceback."""
    assert done.returncode == 2, f"expected exit 2, got {done.returncode}:\n{done.stderr}"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], (
        f"expected one line containing {expected!r}, got:\n{done.stderr}"
    )
    assert "Traceback" not in done.stdout + done.stderr


# --- --report-dir ---------------------------------------------------------------------------


def _unwritable(tmp_path: Path) -> Path:
    """A directory this user may not write in: chmod 0o500 does not stop root, so as root
    /proc/self (where root cannot create files either) serves instead."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir(mode=0o500)
        return folder
    if not os.access("/proc/self", os.W_OK):
        return Path("/proc/self")
    pytest.skip("running as root, where chmod does not stop writes, and /proc/self is writable")


REPORT_DIRS = {
    "a-file": (lambda tmp: tmp / "taken", "is a file"),
    "under-a-file": (lambda tmp: tmp / "taken" / "sub", "taken is a file, not a folder"),
    "unwritable": (lambda tmp: _unwritable(tmp) / "reports", "is not writable"),
}
COMMANDS = {"run": PROCESS_APP, "fuzz": PROCESS_APP, "quorum": WITNESS}


@pytest.mark.parametrize("case", sorted(REPORT_DIRS))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_report_dir_that_cannot_hold_reports_is_refused_before_the_run(
    tmp_path: Path, command: str, case: str
) -> None:
    (tmp_path / "taken").write_text("a file where the reports would go")
    make, says = REPORT_DIRS[case]
    directory = make(tmp_path)
    done = rescheck(
        command, "--resource-type", str(COMMANDS[command]), "--report-dir", str(directory)
    )
    _one_line(done, f"--report-dir {directory}: ")
    assert says in done.stderr, f"expected {says!r}:\n{done.stderr}"
    assert not done.stdout, f"nothing may start before the directory is checked:\n{done.stdout}"


# --- numbers --------------------------------------------------------------------------------

NUMBERS = [
    ("run", "--budget", value)
    for value in ("nan", "inf", "-inf", "-1", "0", "1e400", "1e300", "1" + "0" * 400)
] + [
    ("run", "--time-scale", "nan"),
    ("run", "--time-scale", "inf"),
    ("run", "--time-scale", "1e400"),
    ("fuzz", "--duration", "inf"),
    ("fuzz", "--duration", "nan"),
    ("fuzz", "--duration", "9" * 400),
    ("fuzz", "--duration", "99999999h"),
]


@pytest.mark.parametrize(
    ("command", "option", "value"),
    NUMBERS,
    ids=[f"{o}={v if len(v) < 20 else f'{len(v)}-digits'}" for _, o, v in NUMBERS],
)
def test_a_number_that_is_not_finite_or_overflows_is_refused(
    tmp_path: Path, command: str, option: str, value: str
) -> None:
    done = rescheck(command, "--resource-type", str(PROCESS_APP), option, value, cwd=tmp_path)
    _one_line(done, f"argument {option}: ")
    assert not (tmp_path / "reports").exists(), "nothing may run on a refused option"


# --- targets too deeply nested to parse ------------------------------------------------------

NESTED = {
    "parentheses": "(" * 200_000,
    "lists": "x = " + "[" * 100_000,
    "unary-minus": "x = " + "-" * 1_000_000 + "1",  # MemoryError in the parser
    "sums": "x = " + "1+" * 200_000 + "1",  # RecursionError
    "attributes": "x = a" + ".b" * 1_000_000,  # RecursionError
}


@pytest.mark.parametrize("name", sorted(NESTED))
def test_a_target_too_deeply_nested_to_parse_is_one_line(tmp_path: Path, name: str) -> None:
    target = tmp_path / "nested.py"
    target.write_text(NESTED[name])
    done = rescheck("run", "--resource-type", str(target), cwd=tmp_path)
    _one_line(done, "nested.py")
    assert "nested" in done.stderr.split("nested.py", 1)[1], done.stderr


@pytest.mark.parametrize("name", ["unary-minus", "sums", "attributes"])
def test_the_host_and_the_script_parser_name_a_nesting_they_cannot_parse(
    tmp_path: Path, name: str
) -> None:
    """Where a module is compiled (the host, for a DLL) and where a Python control script is
    parsed, a parser out of stack is the target's fault: `SourceTooNested`, exit 2."""
    target = tmp_path / "nested.py"
    target.write_text(NESTED[name])
    with pytest.raises(SourceTooNested, match="too deeply nested"):
        load_fresh(resolve(str(target)))
    with pytest.raises(SourceTooNested, match="too deeply nested"):
        pyscript.parse(NESTED[name], str(target))


# --- rescheck report on a damaged results.jsonl ---------------------------------------------


def _log(directory: Path) -> None:
    """A finished run's log: a header, a passed, a failed (required) and a passed check."""
    rules = [r for r in catalogue() if r.level == "required"]
    log = ResultsLog(directory, {"target": "t.py", "resource_type": "T", "info": {}})
    log.check(CheckResult.for_rule(rules[0], "passed", "held"))
    log.check(CheckResult.for_rule(rules[1], "failed", "broken"))
    log.check(CheckResult.for_rule(rules[2], "passed", "held"))
    log.finish({})


def _check_line(**change: object) -> bytes:
    record = {"type": "check", **CheckResult.for_rule(catalogue()[3], "passed", "x").to_json()}
    record.update(change)
    return json.dumps(record).encode()


DAMAGE = {
    "not-utf8": b'{"type": "check", "id": "\xff\xfe"}',
    "a-list": b"[1, 2, 3]",
    "nested-100000-deep": b"[" * 100_000 + b"]" * 100_000,
    "cut-short": b'{"type": "check", "id": "Open.re',
    "missing-fields": b'{"type": "check", "id": "Open.returns"}',
    "wrong-outcome": _check_line(outcome="maybe"),
    "message-not-a-string": _check_line(message=["a", "list"]),
    "bad-timeline": _check_line(timeline=[{"node": 1, "op": "x", "start_ms": "soon"}]),
    "unknown-record": b'{"type": "elsewhere"}',
    "header-info-a-list": b'{"type": "run", "target": "t", "resource_type": "T", "info": []}',
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_report_renders_what_is_valid_and_names_the_lines_it_skipped(
    tmp_path: Path, damage: str
) -> None:
    _log(tmp_path)
    path = tmp_path / "results.jsonl"
    lines = path.read_bytes().splitlines()
    lines.insert(2, DAMAGE[damage])  # after the header and the first check
    path.write_bytes(b"\n".join(lines) + b"\n")
    done = rescheck("report", str(tmp_path))
    assert done.returncode == 1, (
        f"the failed required check that was read decides: expected exit 1, got "
        f"{done.returncode}:\n{done.stdout}{done.stderr}"
    )
    assert "Traceback" not in done.stdout + done.stderr
    said = done.stderr.strip().splitlines()
    assert len(said) == 1 and f"{path} line 3: " in said[0], (
        f"expected one line naming {path} line 3, got:\n{done.stderr}"
    )
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results["checks"]) == 3 and results["complete"] is False
    assert results["info"]["unreadable_lines"][0].startswith("line 3: ")
    assert "INCOMPLETE" in done.stdout and (tmp_path / "report.html").is_file()


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\n", b"[" * 100_000 + b"\n", b"[]\n{}\n", b""],
    ids=["not-utf8", "deep", "no-records", "empty"],
)
def test_report_of_a_log_with_nothing_usable_is_one_line(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "results.jsonl").write_bytes(content)
    _one_line(rescheck("report", str(tmp_path)), f"{tmp_path / 'results.jsonl'} holds no run")
    assert not (tmp_path / "results.json").exists()


# --- Ctrl-C ---------------------------------------------------------------------------------


def _interrupt_after(args: list[str], ready: str, timeout: float = 120) -> tuple[int, str, str]:
    """Start ``rescheck ARGS``, send SIGINT once a stdout line holds ``ready``, and return
    the exit code, stdout and stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    started = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            if ready in line:
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(timeout), f"{ready!r} never came:\n{''.join(seen)}"
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
    finally:
        process.kill()
    reader.join(timeout=10)
    assert process.stderr is not None
    return code, "".join(seen), process.stderr.read()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "ready"),
    [
        (["fuzz", "--resource-type", str(PROCESS_APP), "--max-examples", "100000"], "steps/s"),
        (["quorum", "--resource-type", str(WITNESS), "--schedules", "1000"], "/min"),
    ],
    ids=["fuzz", "quorum"],
)
def test_ctrl_c_writes_the_reports_of_what_was_decided_and_exits_130(
    tmp_path: Path, args: list[str], ready: str
) -> None:
    code, out, err = _interrupt_after([*args, "--seed", "1", "--report-dir", str(tmp_path)], ready)
    assert code == 130, f"expected exit 130, got {code}:\n{out}\n{err}"
    assert "Traceback" not in err, err
    assert f"reports in {tmp_path} are marked incomplete" in err, err
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["complete"] is False and results["checks"], results
    assert (tmp_path / "junit.xml").is_file() and (tmp_path / "report.html").is_file()


# --- names and paths are data ---------------------------------------------------------------

#: A folder name that closes a docstring, breaks a line and quotes, then runs code.
HOSTILE = 'it\'s\nevil"""; import os; os.system("touch MARKER"); """x'


def test_the_reproducer_holds_the_target_path_as_data(tmp_path: Path) -> None:
    folder = tmp_path / HOSTILE
    folder.mkdir()
    dll = folder / "looks_alive_yes.py"
    dll.write_text(
        GOOD_DLL.replace(
            "def LooksAlive(ResourceId):\n    return ResourceId in ONLINE",
            "def LooksAlive(ResourceId):\n    return 'yes'",
        )
    )
    out = tmp_path / "out"
    done = rescheck(
        "fuzz",
        "--resource-type",
        str(dll),
        "--report-dir",
        str(out),
        "--max-examples",
        "10",
        "--seed",
        "1",
        "--in-process",  # the same reproducer, without a host process per example
    )
    assert done.returncode == 1, f"expected LooksAlive.bool broken:\n{done.stdout}{done.stderr}"
    reproducer = out / "test_repro_looksalive_bool.py"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    pytest_run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(reproducer)]
    collected = subprocess.run(
        [*pytest_run, "--collect-only"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert not (tmp_path / "MARKER").exists(), "collecting the reproducer ran the target's path"
    replayed = subprocess.run(
        pytest_run, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env
    )
    assert replayed.returncode == 1 and "LooksAlive.bool" in replayed.stdout, replayed.stdout
    assert not (tmp_path / "MARKER").exists()


def _marked_package(root: Path, marker: Path) -> None:
    """``markpkg.dll``: a package whose ``__init__.py`` appends its process id to ``marker``."""
    package = root / "markpkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        f"import os\nwith open({str(marker)!r}, 'a') as f:\n    f.write(f'{{os.getpid()}}\\n')\n"
    )
    (package / "dll.py").write_text(GOOD_DLL)


def test_a_dotted_name_is_resolved_without_importing_its_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "imported-by"
    _marked_package(tmp_path, marker)
    monkeypatch.chdir(tmp_path)
    ref = resolve("markpkg.dll")
    assert ref.path == (tmp_path / "markpkg" / "dll.py").resolve()
    assert not marker.exists() and "markpkg" not in sys.modules, "resolve imported the package"


def test_a_dotted_name_finds_namespace_package_portions_across_sys_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for portion in ("a", "b"):
        (tmp_path / portion / "nspkg").mkdir(parents=True)
    (tmp_path / "b" / "nspkg" / "dll.py").write_text(GOOD_DLL)
    monkeypatch.syspath_prepend(str(tmp_path / "b"))
    monkeypatch.syspath_prepend(str(tmp_path / "a"))
    monkeypatch.chdir(tmp_path)
    ref = resolve("nspkg.dll")
    assert ref.path == (tmp_path / "b" / "nspkg" / "dll.py").resolve()
    assert ref.sys_path_entry == str((tmp_path / "b").resolve())


def test_a_run_of_a_dotted_name_never_imports_its_package_in_rescheck(tmp_path: Path) -> None:
    marker = tmp_path / "imported-by"
    _marked_package(tmp_path, marker)
    args = ["run", "--resource-type", "markpkg.dll", "--select", "Open.*", "--report-dir", "r"]
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, f"expected a compliant run:\n{out}{err}"
    importers = marker.read_text().split() if marker.exists() else []
    assert str(process.pid) not in importers, "rescheck's own process ran the package's code"
