"""The pytest plugin: ``pytest --resource-type=TARGET`` runs the conformance suite.

Its options are `conformance.options.OPTIONS`, the table ``rescheck run``'s come from: the
same names (``--rescheck-strict`` where pytest has ``--strict`` already), meanings, parsers
and defaults. The target comes from ``--resource-type``, else the ``RESCHECK_RESOURCE_TYPE``
environment variable, else the ``resource_type`` ini key; the report header says which. When
the user names no test paths, the suite module is added to what pytest collects, so the
command works in an empty directory. One test item per rule, with the rule id as its
parameter id (``-k 'Online.returns'``) and marked ``rescheck_rule(id, level=...)``.

An item ends as ``rescheck run`` counts its check: a failure that decides the verdict (a
required rule, or a recommended one with ``--rescheck-strict``) fails it; one that does not
(recommended, optional) passes with a `RescheckWarning`; a check that could not be judged
fails it. The target is loaded, and the scenarios run, once per process that runs tests:
under xdist once per worker and never in the controller.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance import options

ENV_VAR = "RESCHECK_RESOURCE_TYPE"
SUITE_MODULE = Path(__file__).parent / "suite" / "test_conformance.py"
MARKER = "rescheck_rule"
_TARGET = pytest.StashKey[tuple[str, str]]()
_SETTINGS = pytest.StashKey[argparse.Namespace]()
_SELECTED = pytest.StashKey["set[str] | None"]()
_LOADED = pytest.StashKey[tuple[Any, Any]]()  # (target, policy), where tests run
_UNLOADABLE = pytest.StashKey[str]()  # why an xdist worker could not load the target
_DEADLINE = pytest.StashKey[float]()
_CHECK = pytest.StashKey[Any]()  # an item's CheckResult, for its report sections


class RescheckWarning(UserWarning):
    """A rule failed that does not decide the verdict (recommended without
    ``--rescheck-strict``, or optional): ``rescheck run`` prints it as a warning, and so does
    pytest. ``-W error::conformance.plugin.RescheckWarning`` fails such items too."""


class RescheckDeprecationWarning(DeprecationWarning):
    """An option given in the plugin's former spelling (``--rescheck-companion``, ...)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rescheck", "resource-type conformance (rescheck; as `rescheck run`)")
    options.add_options(group.addoption, options.PYTEST)
    for entry in options.OPTIONS:
        if entry.old:  # former spellings: taken, not shown, and warned about
            kwargs = entry.kwargs(options.PYTEST)
            kwargs.update(dest=_old_dest(entry), help=argparse.SUPPRESS)
            if not entry.flag and not entry.repeat:
                kwargs["default"] = None
            group.addoption(*entry.old, **kwargs)
    parser.addini("resource_type", "resource DLL to check (like --resource-type)", default=None)


def _old_dest(entry: options.Option) -> str:
    return f"{options.PYTEST_DEST}old_{entry.dest}"


def _settings(config: pytest.Config) -> argparse.Namespace:
    """The table's values under ``rescheck``'s names (``settings.select``), the former
    spellings folded in."""
    values: dict[str, Any] = {}
    for entry in options.OPTIONS:
        if options.PYTEST not in entry.where:
            continue
        value = config.getoption(options.PYTEST_DEST + entry.dest)
        old = config.getoption(_old_dest(entry)) if entry.old else None
        if old not in (None, False, []):
            if not hasattr(config, "workerinput"):  # said once, by the controller
                config.issue_config_time_warning(
                    RescheckDeprecationWarning(
                        f"rescheck: {'/'.join(entry.old)} is now "
                        f"{entry.flags(options.PYTEST)[0]}, the name `rescheck run` takes; the "
                        "old spelling will be removed"
                    ),
                    stacklevel=2,
                )
            if entry.repeat:
                value = [*value, *old]
            elif entry.flag:
                value = True
            elif value == entry.default:  # the new spelling wins when both are given
                value = old
        values[entry.dest] = value
    return argparse.Namespace(**values)


def _target(config: pytest.Config, settings: argparse.Namespace) -> tuple[str, str] | None:
    if settings.resource_type:
        return settings.resource_type, "option --resource-type"
    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR], f"environment {ENV_VAR}"
    if config.getini("resource_type"):
        return str(config.getini("resource_type")), "ini resource_type"
    return None


def is_xdist_controller(config: pytest.Config) -> bool:
    """This process hands the items to xdist workers and runs none itself (xdist's own test,
    ``_is_distribution_mode``: ``--collect-only`` runs in this process, undistributed)."""
    if hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("xdist"):
        return False
    return (
        config.getoption("dist", "no") != "no"
        and bool(config.getoption("tx", None))
        and not config.getoption("collectonly")
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(id, level): the rescheck rule an item checks; select with -k ID or "
        f"-m \"{MARKER}(level='recommended')\"",
    )
    settings = _settings(config)
    found = _target(config, settings)
    if found is None:
        return
    config.stash[_TARGET], config.stash[_SETTINGS] = found, settings
    if len(settings.type_name) > 1:
        raise pytest.UsageError(
            f"rescheck: one --type-name per session (got {len(settings.type_name)}); run pytest "
            "once per type, or `rescheck run`, which checks each type given"
        )
    config.stash[_SELECTED] = _selected(settings.select)
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        # The directory, not the file: node ids (and JUnit class names) then read
        # "test_conformance.py::test_rule[<rule id>]" rather than "::test_rule[...]".
        config.args.append(str(SUITE_MODULE.parent))
    if is_xdist_controller(config):
        _locate(found[0])  # a target that is not there is said once, here; workers load it
        return
    try:
        config.stash[_LOADED] = _load(found[0], settings)
    except pytest.UsageError as exc:
        if not hasattr(config, "workerinput"):
            raise
        # an xdist worker that raises here goes down with pages of traceback: its suite
        # module fails to collect instead, with this line
        config.stash[_UNLOADABLE] = str(exc)


def _selected(patterns: list[str]) -> set[str] | None:
    """The rule ids ``--select`` keeps (None: all), as ``rescheck run`` selects them."""
    if not patterns:
        return None
    from conformance.suite.catalogue import select_rules

    rules = select_rules(patterns)
    if not rules:
        raise pytest.UsageError(
            f"rescheck: no rule matches {patterns}; see `rescheck rules` for the ids"
        )
    return {rule.id for rule in rules}


def _usage(exc: Exception) -> pytest.UsageError:
    """A `UsageError` of the library as pytest's, in this front end's option names."""
    said = str(exc).replace("-o NAME=VALUE", "--property=NAME=VALUE")
    return pytest.UsageError(f"rescheck: {said}")


def _locate(given: str) -> None:
    """What the controller checks without loading: that the target is there."""
    from conformance.errors import UsageError
    from conformance.targets import control_script
    from conformance.targets.native import check_dll, is_native
    from conformance.targets.pydll import resolve

    try:
        if is_native(given):
            check_dll(given)
            return
        script = control_script(given)
        if script is None:
            resolve(given)
        elif not script.is_file():
            raise UsageError(f"no such file: {given}")
    except UsageError as exc:
        raise _usage(exc) from None


def _load(given: str, settings: argparse.Namespace) -> tuple[Any, Any]:
    from conformance.errors import UsageError
    from conformance.monitor.policy import Policy
    from conformance.targets import load_target

    policy = Policy(time_scale=settings.time_scale, async_failure=settings.async_failure)
    try:
        target = load_target(
            given,
            settings.companion,
            settings.type_name[0] if settings.type_name else None,
            dict(settings.properties),
            policy,
            "in-process" if settings.in_process else "isolated",
            judge_startup=True,
        )
    except UsageError as exc:
        raise _usage(exc) from None
    return target, policy


class _Unloadable(pytest.File):
    """The suite module of an xdist worker that could not load the target."""

    def collect(self) -> list[pytest.Item]:
        raise self.CollectError(self.config.stash[_UNLOADABLE])


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect the suite even where the ini's ``python_files`` would not match its name."""
    if file_path != SUITE_MODULE or _TARGET not in parent.config.stash:
        return None
    patterns = parent.config.getini("python_files")
    if any(fnmatch.fnmatch(file_path.name, pattern) for pattern in patterns):
        return None  # pytest's own collector takes it
    if _UNLOADABLE in parent.config.stash:
        return _Unloadable.from_parent(parent, path=file_path)
    return pytest.Module.from_parent(parent, path=file_path)


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> Any:
    """The suite module of a worker that could not load the target: one collection error."""
    if module_path == SUITE_MODULE and _UNLOADABLE in parent.config.stash:
        return _Unloadable.from_parent(parent, path=module_path)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the rules ``--select`` leaves out and those that cannot apply to the target
    (control-script rules for a DLL), as ``rescheck run`` leaves them out."""
    if _LOADED not in config.stash:
        return
    from conformance.suite.catalogue import applies

    target, _ = config.stash[_LOADED]
    selected = config.stash[_SELECTED]
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        rule = params.get("rule") if item.path == SUITE_MODULE else None
        left_out = rule is not None and (
            (selected is not None and rule.id not in selected) or not applies(rule, target)
        )
        (drop if left_out else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_report_header(config: pytest.Config) -> list[str]:
    if _TARGET not in config.stash:
        return []
    given, source = config.stash[_TARGET]
    settings = config.stash[_SETTINGS]
    judged = (
        f"budget {settings.budget:.0f} s, recommended failures "
        + ("fail (--rescheck-strict)" if settings.strict else "are warnings")
        + (f", --select {' '.join(settings.select)}" if settings.select else "")
    )
    if _LOADED not in config.stash:
        return [
            f"rescheck: resource type {given} ({source}), loaded by each xdist worker",
            f"rescheck: {judged}",
        ]
    target, policy = config.stash[_LOADED]
    return [
        f"rescheck: resource type {given} ({source}), ResourceType name {target.resource_type!r}, "
        f"time scale {policy.time_scale}",
        f"rescheck: {judged}",
    ]


@pytest.fixture(scope="session")
def rescheck_context(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The run's shared scenario results: one per process that runs tests (per xdist
    worker), so each scenario runs at most once there. The ``--budget`` starts here."""
    config = request.config
    if _LOADED not in config.stash:
        pytest.skip(f"no resource type given: pass --resource-type TARGET or set {ENV_VAR}")
    from conformance.suite.context import RunContext

    target, policy = config.stash[_LOADED]
    config.stash[_DEADLINE] = time.perf_counter() + config.stash[_SETTINGS].budget
    context = RunContext(target, policy, deadline=config.stash[_DEADLINE])
    yield context
    context.close()


@pytest.fixture
def rescheck_judge(
    request: pytest.FixtureRequest, rescheck_context: Any
) -> Callable[[Any], str | None]:
    """Judge a rule on the shared scenarios and end the item as ``rescheck run`` counts it
    (it fails, or warns); what it returns is why there was nothing to judge (the item is to
    be skipped, from the test, so that ``-rs`` shows the test's location)."""
    item = request.node
    return lambda rule: _judge(item, rule, rescheck_context)


def _judge(item: pytest.Item, rule: Any, context: Any) -> str | None:
    from conformance.report.model import (
        ERROR,
        FAILED,
        NON_COMPLIANT,
        SKIPPED,
        CheckResult,
        verdict,
    )
    from conformance.suite.registry import judge

    settings = item.config.stash[_SETTINGS]
    if time.perf_counter() > item.config.stash[_DEADLINE]:
        check = CheckResult.for_rule(
            rule,
            ERROR,
            f"not judged: the run used up its wall-clock budget ({settings.budget:.0f} s); "
            "raise it with --budget, or select fewer rules",
        )
    else:
        check = judge(rule, context)
    item.stash[_CHECK] = check
    item.user_properties.extend(
        [("level", rule.level), ("doc", rule.doc_url), ("contract", ",".join(rule.contract))]
    )
    if check.outcome == SKIPPED:
        return str(check.message)
    if check.outcome == ERROR or verdict([check], settings.strict) == NON_COMPLIANT:
        pytest.fail(_failure(rule, check), pytrace=False)
    if check.outcome == FAILED:  # a warning, as in `rescheck run`'s summary
        said = f"[{rule.level}] {rule.id}: {check.message}"
        item.user_properties.append(("warning", said))
        if check.evidence:
            item.user_properties.append(("evidence", "\n".join(check.evidence)))
        warnings.warn(
            RescheckWarning(f"{said} (doc: {rule.doc_url}; --rescheck-strict fails it)"),
            stacklevel=3,  # the test's line
        )
    return None


def _failure(rule: Any, check: Any) -> str:
    what = f"[{rule.level}]" if check.outcome == "failed" else "[could not judge]"
    lines = [
        f"{what} {rule.id}: {check.message}",
        f"rule: {rule.statement}",
        f"doc: {rule.doc} {rule.doc_url}",
    ]
    if rule.policy:
        lines.append(f"policy: {rule.policy}")
    if check.evidence:  # here too, so that JUnit's <failure> holds it
        lines += ["trace:", *check.evidence]
    return "\n".join(lines).replace("-o NAME=VALUE", "--property=NAME=VALUE")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A check's evidence and timeline as report sections (``-rA``, ``-rP`` and the failure
    show them); a failure's message holds its evidence already."""
    report = yield
    check = item.stash.get(_CHECK, None)
    if check is None or call.when != "call":
        return report
    if check.evidence and not report.failed:
        report.sections.append((f"rescheck evidence: {check.id}", "\n".join(check.evidence)))
    if check.timeline:
        lines = [
            f"node {e.get('node')}: {e.get('op')} {e.get('start_ms')}-{e.get('end_ms')} ms: "
            f"{e.get('result')}"
            for e in check.timeline
        ]
        report.sections.append((f"rescheck timeline: {check.id}", "\n".join(lines)))
    return report
