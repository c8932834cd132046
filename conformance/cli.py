"""The ``rescheck`` command: a thin layer over the library.

Exit codes (DESIGN.md): 0 compliant, 1 non-compliant, 2 bad usage or a target that cannot
be loaded or judged (one line saying what to do), 3 internal error of rescheck itself.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from conformance.errors import UsageError

EXIT_COMPLIANT, EXIT_NON_COMPLIANT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
_MARKS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "error": "ERR "}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _property(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, int(value) if re.fullmatch(r"-?\d+", value) else value


def _time_scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(
            f"must be in (0, 1], got {value}; 0.01 turns 180 s into 1.8 s"
        )
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 s, got {value}; e.g. --budget 600")
    return value


def _positive_int(text: str) -> int:
    if not re.fullmatch(r"\d+", text) or int(text) == 0:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, got {text!r}")
    return int(text)


def _duration(text: str) -> float:
    """``90s``, ``30m``, ``2h`` or plain seconds."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    if not found or float(found.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration like 90s, 30m or 2h, got {text!r}")
    return float(found.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[found.group(2)]


def build_parser() -> argparse.ArgumentParser:
    from conformance import __version__
    from conformance.monitor.policy import ASYNC_FAILURE_POLICIES, DEFAULT_TIME_SCALE
    from conformance.suite.runner import DEFAULT_BUDGET_S

    parser = _Parser(
        prog="rescheck",
        description="Conformance checks for Windows Failover Cluster resource types.",
    )
    parser.add_argument("--version", action="version", version=f"rescheck {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    # what names the target and what it needs: the same for run and fuzz
    target = _Parser(add_help=False)
    target.add_argument(
        "--resource-type",
        required=True,
        metavar="TARGET",
        help="dotted module name or path to a .py resource DLL",
    )
    target.add_argument(
        "--companion",
        metavar="FILE",
        help="a .py file defining COMPANION (default: <target>_companion.py beside the target)",
    )
    target.add_argument(
        "-o",
        "--property",
        dest="properties",
        action="append",
        type=_property,
        default=[],
        metavar="NAME=VALUE",
        help="a private property value for test instances (repeatable)",
    )
    target.add_argument(
        "--in-process",
        action="store_true",
        help="host the target in rescheck's own process (faster; a crashing target then ends "
        "the run, and Process.survives is not judged)",
    )

    run = commands.add_parser(
        "run", parents=[target], help="check a resource type and write reports"
    )
    run.add_argument(
        "--report-dir",
        metavar="DIR",
        help="where results.json, junit.xml and report.html go (default: reports/<name>)",
    )
    run.add_argument(
        "--type-name",
        metavar="NAME",
        help="the ResourceType name passed to Startup (default: the companion's, else RESOURCE_TYPE_NAME in the module, else the module name)",
    )
    run.add_argument(
        "--select",
        action="append",
        metavar="GLOB",
        help="run only rules whose id matches (repeatable), e.g. 'Online.*'",
    )
    run.add_argument(
        "--strict",
        action="store_true",
        help="recommended-level failures make the verdict non-compliant",
    )
    run.add_argument(
        "--time-scale",
        type=_time_scale,
        default=DEFAULT_TIME_SCALE,
        metavar="F",
        help=f"factor applied to the monitor's documented timers (default {DEFAULT_TIME_SCALE})",
    )
    run.add_argument(
        "--async-failure",
        choices=ASYNC_FAILURE_POLICIES,
        default="IsAlive",
        help="what the monitor does when a failure event is signalled (CONTRACT.md §11 item 1)",
    )
    run.add_argument(
        "--budget",
        type=_positive_seconds,
        default=DEFAULT_BUDGET_S,
        metavar="SECONDS",
        help=f"the run's wall-clock budget; checks not started by then are reported as not "
        f"judged (default {DEFAULT_BUDGET_S:.0f})",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="print only the verdict")

    fuzz = commands.add_parser(
        "fuzz",
        parents=[target],
        help="search for sequences of operations that break the contract (hypothesis)",
    )
    fuzz.add_argument(
        "--report-dir",
        metavar="DIR",
        help="results.json, reproducers, traces and the example database (default: "
        "reports/fuzz-<name>); a campaign in the same directory resumes",
    )
    budget = fuzz.add_mutually_exclusive_group()
    budget.add_argument(
        "--max-examples",
        type=_positive_int,
        default=100,
        metavar="N",
        help="examples (sequences of up to 30 steps) to try (default 100)",
    )
    budget.add_argument(
        "--duration",
        type=_duration,
        metavar="TIME",
        help="fuzz for this long instead, e.g. 90s, 30m, 2h",
    )
    fuzz.add_argument("--seed", type=int, metavar="S", help="make the campaign repeatable")
    fuzz.add_argument(
        "--strict",
        action="store_true",
        help="a recommended rule broken makes the verdict non-compliant",
    )

    quorum = commands.add_parser(
        "quorum",
        parents=[target],
        help="play generated arbitration schedules across nodes (quorum-capable types)",
    )
    quorum.add_argument(
        "--report-dir",
        metavar="DIR",
        help="results.json, junit.xml and report.html (default: reports/quorum-<name>)",
    )
    quorum.add_argument(
        "--schedules",
        type=_positive_int,
        default=200,
        metavar="N",
        help="schedules to play (default 200; each takes seconds of real arbitration)",
    )
    quorum.add_argument(
        "--nodes",
        type=_node_range,
        default=(3, 8),
        metavar="MIN-MAX",
        help="nodes per schedule (default 3-8)",
    )
    quorum.add_argument("--seed", type=int, metavar="S", help="make the campaign repeatable")

    rules = commands.add_parser("rules", help="print the rule catalogue")
    rules.add_argument("--format", choices=("json", "text"), default="text")
    rules.add_argument(
        "--coverage",
        action="store_true",
        help="which CONTRACT.md ids are checked, modelled, not observable or not yet checked",
    )

    report = commands.add_parser(
        "report", help="render reports again from a report directory's results"
    )
    report.add_argument("directory", metavar="DIR")
    return parser


def _cmd_rules(args: argparse.Namespace) -> int:
    from conformance.rules import catalogue

    if args.coverage:
        return _print_coverage(args.format)
    rules = catalogue()
    if args.format == "json":
        print(json.dumps([r.to_json() for r in rules], indent=2))
        return EXIT_COMPLIANT
    for r in rules:
        print(f"{r.id:45} {r.level:12} {','.join(r.contract):24} {r.doc}")
        print(f"    {r.statement}")
    return EXIT_COMPLIANT


def _print_coverage(form: str) -> int:
    from conformance.rules import CATEGORIES, coverage

    found = coverage()
    if form == "json":
        print(json.dumps(found, indent=2))
        return EXIT_COMPLIANT
    titles = {"checked": "checked by a rule", **CATEGORIES, "unclassified": "not classified yet"}
    for category, ids in found.items():
        print(f"{titles.get(category, category)} ({len(ids)}):")
        print(textwrap.fill(" ".join(ids), width=100, initial_indent="  ", subsequent_indent="  "))
    return EXIT_COMPLIANT


def _exit_code(verdict: str, checks: Sequence[Any]) -> int:
    if verdict == "compliant":
        return EXIT_COMPLIANT
    if verdict == "non-compliant":
        return EXIT_NON_COMPLIANT
    internal = any(c.outcome == "error" and c.message.startswith("internal error") for c in checks)
    return EXIT_INTERNAL if internal else EXIT_USAGE


def _summary(run: Any, paths: dict[str, Path]) -> None:
    counts = ", ".join(f"{n} {o}" for o, n in run.counts().items() if n)
    print(f"\nverdict: {run.verdict.upper()} ({counts})")
    for warning in run.warnings():
        print(_warning_line(warning))
    for check in run.checks:
        if check.outcome == "error":
            print(f"  could not judge {check.id}: {check.message}")
    print(f"reports: {paths['html']}  {paths['junit']}  {paths['json']}")


def _warning_line(check: Any) -> str:
    return f"  warning [{check.level}] {check.id}: {check.message}"


def _print_checks(result: Any, passed: bool) -> None:
    """A line per check (the passed ones only with ``passed``); a failure that does not
    decide the verdict is a warning, as in `rescheck run`'s summary."""
    warnings = result.warnings()
    for check in result.checks:
        if check in warnings:
            print(_warning_line(check))
        elif passed or check.outcome != "passed":
            print(f"  {_MARKS[check.outcome]} {check.id}: {check.message}")


def _load(args: argparse.Namespace, policy: Any, type_name: str | None = None) -> Any:
    """The target the shared options name (run, fuzz and quorum load it alike)."""
    from conformance.targets import load_target

    return load_target(
        args.resource_type,
        args.companion,
        type_name,
        dict(args.properties),
        policy,
        "in-process" if args.in_process else "isolated",
    )


def _report_dir(args: argparse.Namespace, target: Any, prefix: str = "") -> Path:
    """``--report-dir``, or ``reports/<prefix><target's file stem>``."""
    stem = re.sub(r"[^\w.-]+", "_", Path(target.given).stem)
    return Path(args.report_dir or Path("reports") / f"{prefix}{stem}")


def _cmd_run(args: argparse.Namespace) -> int:
    from conformance.monitor.policy import Policy
    from conformance.report import write_reports
    from conformance.report.model import ResultsLog, read_log
    from conformance.suite.runner import run_suite, select_rules

    policy = Policy(time_scale=args.time_scale, async_failure=args.async_failure)
    rules = select_rules(args.select)
    if not rules:
        raise UsageError(f"no rule matches {args.select}; see `rescheck rules` for the ids")
    target = _load(args, policy, args.type_name)
    directory = _report_dir(args, target)
    log = ResultsLog(
        directory,
        {
            "target": target.given,
            "resource_type": target.resource_type,
            "strict": args.strict,
            "info": target.describe(),
        },
    )
    if not args.quiet:
        print(
            f"rescheck: {target.given} (resource type {target.resource_type!r}), {len(rules)} rules, reports in {directory}"
        )

    def progress(check: Any) -> None:
        log.check(check)
        if not args.quiet:
            print(
                f"  {_MARKS[check.outcome]} {check.level:11} {check.id:45} {check.message[:100]}",
                flush=True,
            )

    try:
        result = run_suite(target, policy, rules, args.strict, progress, args.budget)
    except KeyboardInterrupt:
        partial = read_log(directory)
        write_reports(partial, directory)
        print(
            f"\ninterrupted: {len(partial.checks)} checks decided; reports in {directory} are marked incomplete",
            file=sys.stderr,
        )
        return 130
    log.finish(result.info)
    paths = write_reports(result, directory)
    if args.quiet:
        print(result.verdict)
    else:
        _summary(result, paths)
    return _exit_code(result.verdict, result.checks)


def _cmd_fuzz(args: argparse.Namespace) -> int:
    from conformance.fuzz.campaign import fuzz
    from conformance.monitor.policy import Policy

    policy = Policy()
    target = _load(args, policy)
    directory = _report_dir(args, target, "fuzz-")
    print(f"rescheck fuzz: {target.given} (resource type {target.resource_type!r}), in {directory}")
    result = fuzz(
        target,
        directory,
        max_examples=args.max_examples,
        duration=args.duration,
        seed_value=args.seed,
        policy=policy,
        strict=args.strict,
        progress=lambda line: print(line, flush=True),
    )
    _print_checks(result, passed=False)
    print(f"verdict: {result.verdict}; results in {directory / 'results.json'}")
    return _exit_code(result.verdict, result.checks)


def _node_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        nodes = (int(low), int(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN-MAX, e.g. 3-8; got {text!r}") from None
    if not 2 <= nodes[0] <= nodes[1] <= 16:
        raise argparse.ArgumentTypeError(f"nodes must be 2..16 with MIN <= MAX; got {text!r}")
    return nodes


def _cmd_quorum(args: argparse.Namespace) -> int:
    from conformance.fuzz.quorum import campaign
    from conformance.monitor.policy import Policy

    policy = Policy()
    target = _load(args, policy)
    if not target.quorum_capable:
        raise UsageError(
            f"{target.given} is not quorum-capable: its function table needs both Arbitrate "
            "and Release (see `rescheck run`, Arbitrate.with-release), so there is nothing to "
            "arbitrate"
        )
    directory = _report_dir(args, target, "quorum-")
    print(
        f"rescheck quorum: {target.given} (resource type {target.resource_type!r}), "
        f"{args.schedules} schedules of {args.nodes[0]}-{args.nodes[1]} nodes, in {directory}"
    )
    result = campaign(
        target,
        directory,
        count=args.schedules,
        seed_value=args.seed,
        nodes=args.nodes,
        policy=policy,
        progress=lambda line: print(line, flush=True),
    )
    _print_checks(result, passed=True)
    print(f"verdict: {result.verdict}; results in {directory / 'results.json'}")
    return _exit_code(result.verdict, result.checks)


def _cmd_report(args: argparse.Namespace) -> int:
    from conformance.report import write_reports
    from conformance.report.model import ResultsLog, read_log

    directory = Path(args.directory)
    if not (directory / ResultsLog.NAME).is_file():
        raise UsageError(
            f"no {ResultsLog.NAME} in {directory}; give the --report-dir of a `rescheck run`"
        )
    run = read_log(directory)
    paths = write_reports(run, directory)
    state = "" if run.complete else " (INCOMPLETE: the run was interrupted)"
    print(f"{run.target}: {run.verdict}{state}, {len(run.checks)} checks; {paths['html']}")
    return _exit_code(run.verdict, run.checks)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {
        "run": _cmd_run,
        "fuzz": _cmd_fuzz,
        "quorum": _cmd_quorum,
        "rules": _cmd_rules,
        "report": _cmd_report,
    }[args.command]
    try:
        return handler(args)
    except UsageError as exc:
        print(f"rescheck {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_COMPLIANT
    except Exception as exc:
        print(
            f"rescheck {args.command}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr
        )
        traceback.print_exc(file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
