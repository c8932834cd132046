"""The pytest plugin: ``pytest --resource-type=TARGET`` runs the conformance suite.

The target comes from ``--resource-type``, else the ``RESCHECK_RESOURCE_TYPE`` environment
variable, else the ``resource_type`` ini key; the report header says which. When the user
names no test paths, the suite module is added to what pytest collects, so the command
works in an empty directory. One test item per rule, with the rule id as its parameter id
(``-k 'Online.returns'``). Recommended-level failures fail their item too, marked
``[recommended]``; only ``rescheck run`` turns them into warnings.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any

import pytest

from conformance import options

ENV_VAR = "RESCHECK_RESOURCE_TYPE"
SUITE_MODULE = Path(__file__).parent / "suite" / "test_conformance.py"
_TARGET = pytest.StashKey[tuple[str, str]]()
_LOADED = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rescheck", "resource-type conformance (rescheck)")
    group.addoption(
        "--resource-type",
        dest="rescheck_target",
        metavar="TARGET",
        help=f"resource DLL to check: dotted module or .py path (or set {ENV_VAR} / ini resource_type)",
    )
    group.addoption("--rescheck-companion", metavar="FILE", help="a .py file defining COMPANION")
    group.addoption(
        "--rescheck-type-name",
        action="append",
        metavar="NAME",
        help="the ResourceType name passed to Startup (one per session; `rescheck run` takes "
        "several)",
    )
    group.addoption(
        "--rescheck-property",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a private property value for test instances (repeatable)",
    )
    group.addoption(
        "--rescheck-time-scale",
        type=options.time_scale,
        metavar="F",
        help="factor for the monitor's documented timers",
    )
    group.addoption(
        "--rescheck-in-process",
        action="store_true",
        help="host the target in the pytest process (faster, no crash containment)",
    )
    parser.addini("resource_type", "resource DLL to check (like --resource-type)", default=None)


def _target(config: pytest.Config) -> tuple[str, str] | None:
    if config.getoption("rescheck_target"):
        return config.getoption("rescheck_target"), "option --resource-type"
    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR], f"environment {ENV_VAR}"
    if config.getini("resource_type"):
        return str(config.getini("resource_type")), "ini resource_type"
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rescheck_rule(id): a rescheck conformance rule")
    found = _target(config)
    if found is None:
        return
    config.stash[_TARGET] = found
    from conformance.errors import UsageError
    from conformance.monitor.policy import DEFAULT_TIME_SCALE, Policy
    from conformance.targets import load_target

    policy = Policy(time_scale=config.getoption("rescheck_time_scale") or DEFAULT_TIME_SCALE)
    names = config.getoption("rescheck_type_name") or [None]
    if len(names) > 1:
        raise pytest.UsageError(
            f"rescheck: one --rescheck-type-name per session (got {len(names)}); run pytest once "
            "per type, or `rescheck run`, which checks each type given"
        )
    try:
        properties = dict(options.property_value(p) for p in config.getoption("rescheck_property"))
        target = load_target(
            found[0],
            config.getoption("rescheck_companion"),
            names[0],
            properties,
            policy,
            "in-process" if config.getoption("rescheck_in_process") else "isolated",
            judge_startup=True,
        )
    except UsageError as exc:  # its advice in this plugin's option names
        said = str(exc).replace("--type-name", "--rescheck-type-name")
        raise pytest.UsageError(f"rescheck: {said}") from None
    config.stash[_LOADED] = (target, policy)
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        # The directory, not the file: node ids (and JUnit class names) then read
        # "test_conformance.py::test_rule[<rule id>]" rather than "::test_rule[...]".
        config.args.append(str(SUITE_MODULE.parent))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Collect the suite even where the ini's ``python_files`` would not match its name."""
    if file_path != SUITE_MODULE or _TARGET not in parent.config.stash:
        return None
    patterns = parent.config.getini("python_files")
    if any(fnmatch.fnmatch(file_path.name, pattern) for pattern in patterns):
        return None  # pytest's own collector takes it
    return pytest.Module.from_parent(parent, path=file_path)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the rules that cannot apply to the target (control-script rules for a DLL)."""
    if _LOADED not in config.stash:
        return
    from conformance.suite.runner import applies

    target, _ = config.stash[_LOADED]
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        rule = params.get("rule") if item.path == SUITE_MODULE else None
        (drop if rule is not None and not applies(rule, target) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_report_header(config: pytest.Config) -> list[str]:
    if _TARGET not in config.stash:
        return []
    given, source = config.stash[_TARGET]
    target, policy = config.stash[_LOADED]
    return [
        f"rescheck: resource type {given} ({source}), ResourceType name {target.resource_type!r}, "
        f"time scale {policy.time_scale}"
    ]


@pytest.fixture(scope="session")
def rescheck_context(request: pytest.FixtureRequest) -> Any:
    """The run's shared scenario results (one per session, or per xdist worker)."""
    if _LOADED not in request.config.stash:
        pytest.skip(f"no resource type given: pass --resource-type TARGET or set {ENV_VAR}")
    from conformance.suite.context import RunContext

    target, policy = request.config.stash[_LOADED]
    context = RunContext(target, policy)
    yield context
    context.close()
