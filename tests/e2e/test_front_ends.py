"""``rescheck run`` and ``pytest --resource-type`` are one tool with two front ends: the same
options (from one table, `conformance.options.OPTIONS`), the same parsing, the same verdicts;
and under xdist the plugin runs each scenario at most once per worker, none in the controller.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
from pathlib import Path
from typing import Any

import pytest

from conformance import options
from conformance.arguments import build_parser
from tests.e2e.support import REPO, as_pytest, junit_outcomes, rescheck

#: A value each option of both front ends takes, and one it refuses (None: it has none).
GOOD: dict[str, str | None] = {
    "resource-type": "x.py",
    "companion": "c.py",
    "type-name": "My Type",
    "property": "Size=12",
    "select": "Online.*",
    "strict": None,
    "time-scale": "0.5",
    "async-failure": "Terminate",
    "budget": "60",
    "in-process": None,
}
BAD = {"property": "novalue", "time-scale": "5", "async-failure": "Never", "budget": "nan"}
BOTH = [o for o in options.OPTIONS if options.RUN in o.where and options.PYTEST in o.where]


def cli_values(*args: str) -> argparse.Namespace:
    return build_parser().parse_args(["run", "--resource-type", "t.py", *args])


def pytest_value(pytester: pytest.Pytester, entry: options.Option, *args: str) -> Any:
    config = pytester.parseconfig(*args)
    return config.getoption(options.PYTEST_DEST + entry.dest)


def given(entry: options.Option, front_end: str) -> list[str]:
    """The option with its sample value, as each front end spells it."""
    flag, value = entry.flags(front_end)[-1], GOOD[entry.name]
    if value is None:
        return [flag]
    return [f"{flag}={value}"] if front_end == options.PYTEST else [flag, value]


def test_every_option_of_the_table_has_samples() -> None:
    """A new option of both front ends gets a value here, so the tests below cover it."""
    assert {o.name for o in BOTH} == set(GOOD), "add the new option's sample to GOOD"
    assert set(BAD) <= set(GOOD)


@pytest.mark.parametrize("entry", BOTH, ids=lambda o: o.name)
def test_both_front_ends_take_the_option_with_the_same_value(
    pytester: pytest.Pytester, entry: options.Option
) -> None:
    in_cli = getattr(cli_values(*given(entry, options.RUN)), entry.dest)
    in_pytest = pytest_value(pytester, entry, *given(entry, options.PYTEST))
    assert in_cli == in_pytest, f"{entry.name}: rescheck {in_cli!r}, pytest {in_pytest!r}"
    assert in_cli not in (None, False, []), f"{entry.name}: the sample was not taken"
    default = getattr(cli_values(), entry.dest)
    if entry.name != "resource-type":  # required by rescheck, from env or ini in pytest
        assert default == pytest_value(pytester, entry), f"{entry.name}: defaults differ"


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_value_is_the_same_one_line_in_both(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    entry = options.option(name)
    with pytest.raises(SystemExit) as exited:
        cli_values(entry.flags(options.RUN)[-1], BAD[name])
    assert exited.value.code == 2
    said = capsys.readouterr().err
    with pytest.raises(pytest.UsageError) as refused:
        pytester.parseconfig(f"{entry.flags(options.PYTEST)[0]}={BAD[name]}")
    reason = re.search(r"error: argument [^:]+: (.*?) \(see", said)
    assert reason is not None, said
    assert reason.group(1) in str(refused.value), f"rescheck: {said}\npytest: {refused.value}"


def test_the_plugin_declares_the_tables_options_and_no_others(pytester: pytest.Pytester) -> None:
    shown = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--help").stdout.str()
    group = shown.split("resource-type conformance", 1)[1].split("\n\n", 1)[0]
    declared = set(re.findall(r"^  (--[\w-]+)", group, re.MULTILINE))
    wanted = {o.flags(options.PYTEST)[0] for o in options.OPTIONS if options.PYTEST in o.where}
    assert declared == wanted, f"pytest --help lists {sorted(declared ^ wanted)} apart"


def test_the_options_only_rescheck_run_has_say_what_pytest_has_instead() -> None:
    only_run = [o for o in options.OPTIONS if options.PYTEST not in o.where]
    assert {o.name for o in only_run} == {"report-dir", "quiet"}
    assert all("pytest's own" in o.pytest_doc for o in only_run)


def test_the_readme_table_is_the_tables() -> None:
    readme = (REPO / "README.md").read_text()
    assert options.markdown_table() in readme, (
        "README's option table differs: paste `python3 -m conformance.options` over it"
    )


def test_the_default_budget_is_the_librarys() -> None:
    from conformance.suite.runner import DEFAULT_BUDGET_S

    assert options.DEFAULT_BUDGET_S == DEFAULT_BUDGET_S


#: (target, --select, strict): a compliant reference, a required failure, a recommended one
#: (a warning, and with --strict a failure), and a control script.
CASES = [
    ("reference_impls/process_app.py", "Startup.*", False),
    ("fixtures/looksalive_bool.py", "LooksAlive.*", False),
    ("fixtures/functiontable_control_routines.py", "FunctionTable.*", False),
    ("fixtures/functiontable_control_routines.py", "FunctionTable.*", True),
    ("fixtures/scripts/script_health_checks.vbs", "Script.*", False),
]


@pytest.mark.parametrize(
    ("target", "select", "strict"),
    CASES,
    ids=[f"{Path(t).stem}{'-strict' if s else ''}" for t, _, s in CASES],
)
def test_rescheck_run_and_the_plugin_reach_the_same_verdict(
    pytester: pytest.Pytester, tmp_path: Path, target: str, select: str, strict: bool
) -> None:
    path = str(REPO / target)
    strict_run, strict_pytest = (["--strict"], ["--rescheck-strict"]) if strict else ([], [])
    ran = rescheck(
        "run", "--resource-type", path, "--select", select, "--report-dir", str(tmp_path / "r"),
        *strict_run, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert ran.returncode in (0, 1), ran.stdout + ran.stderr
    checks = json.loads((tmp_path / "r" / "results.json").read_text())["checks"]
    tested = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--resource-type={path}", f"--select={select}",
        "--junitxml=out.xml", *strict_pytest, timeout=60,
    )  # fmt: skip
    assert tested.ret == ran.returncode, (
        f"rescheck run exit {ran.returncode}, pytest exit {tested.ret}\n{tested.stdout.str()}"
    )
    wanted = {c["id"]: as_pytest(c["outcome"], c["level"], strict) for c in checks}
    assert junit_outcomes(pytester.path / "out.xml") == wanted
    assert wanted, "the selection judged nothing"


#: Added to the test DLL: every load of its module (a host start) and every Open (a scenario's
#: instance, named after it) is a line of the log, with the xdist worker that started it.
HOST_LOG = """
import os as _os

def _log(what):
    with open(_os.environ["RESCHECK_TEST_HOST_LOG"], "a") as log:
        log.write(f"{_os.environ.get('PYTEST_XDIST_WORKER', 'main')} {what}\\n")

_log("load")
ONLINE = set()
"""


def host_log(
    pytester: pytest.Pytester, dll: Path, log: Path, *args: str
) -> collections.Counter[tuple[str, str]]:
    pytester._monkeypatch.setenv("RESCHECK_TEST_HOST_LOG", str(log))
    pytester._monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--resource-type={dll}", *args, timeout=120
    )
    assert result.ret == 0, result.stdout.str()
    return collections.Counter(tuple(line.split(" ", 1)) for line in log.read_text().splitlines())


def test_under_xdist_each_worker_runs_each_scenario_at_most_once_and_the_controller_none(
    pytester: pytest.Pytester, write_dll, tmp_path: Path
) -> None:
    dll = write_dll(
        replace={
            "\nONLINE = set()\n": HOST_LOG,
            "def Open(ResourceName, ResourceKey, ResourceHandle):\n": "def Open("
            "ResourceName, ResourceKey, ResourceHandle):\n    _log(f'open {ResourceName}')\n",
        }
    )
    alone = host_log(pytester, dll, tmp_path / "alone.log", "-p", "no:xdist")
    spread = host_log(pytester, dll, tmp_path / "spread.log", "-n", "2")
    workers = {worker for worker, _ in spread}
    assert "main" not in workers, "the xdist controller started a host"
    assert workers == {"gw0", "gw1"}, f"expected both workers to start hosts: {workers}"
    for worker in workers:
        for (who, what), count in spread.items():
            if who == worker:
                # a scenario run twice in one worker starts more hosts (or opens its instance
                # more often) than the whole suite in one process
                assert count <= alone[("main", what)], (
                    f"{worker}: {what!r} {count} times, {alone[('main', what)]} without xdist"
                )
    assert alone[("main", "load")] >= 2, "expected the preflight and scenario hosts"
