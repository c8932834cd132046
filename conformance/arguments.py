"""The ``rescheck`` command's subcommands and options (`build_parser`); their values are
checked by `conformance.options`, before anything runs."""

from __future__ import annotations

import argparse
from typing import NoReturn

from conformance import options

#: Bad usage or a target that cannot be loaded (docs/design.md's exit codes).
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from conformance import __version__
    from conformance.monitor.policy import ASYNC_FAILURE_POLICIES, DEFAULT_TIME_SCALE
    from conformance.scaffold import KINDS, LANGUAGES
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
        type=options.property_value,
        default=[],
        metavar="NAME=VALUE",
        help="a private property value for test instances (repeatable)",
    )
    target.add_argument(
        "--type-name",
        action="append",
        metavar="NAME",
        help="the ResourceType name passed to Startup (default: the companion's, else "
        "RESOURCE_TYPE_NAME in the module, else the module's or DLL's name); `run` takes it "
        "more than once for a DLL that serves several types, and checks each",
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
        type=options.time_scale,
        default=DEFAULT_TIME_SCALE,
        metavar="F",
        help=f"factor applied to the monitor's documented timers (default {DEFAULT_TIME_SCALE})",
    )
    run.add_argument(
        "--async-failure",
        choices=ASYNC_FAILURE_POLICIES,
        default="IsAlive",
        help="what the monitor does when a failure event is signalled (docs/contract.md §11 item 1)",
    )
    run.add_argument(
        "--budget",
        type=options.positive_seconds,
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
        type=options.positive_int,
        default=100,
        metavar="N",
        help="examples (sequences of up to 30 steps) to try (default 100)",
    )
    budget.add_argument(
        "--duration",
        type=options.duration,
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
        type=options.positive_int,
        default=200,
        metavar="N",
        help="schedules to play (default 200; each takes seconds of real arbitration)",
    )
    quorum.add_argument(
        "--nodes",
        type=options.node_range,
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
        help="which docs/contract.md ids are checked, modelled, not observable or not yet checked",
    )

    report = commands.add_parser(
        "report", help="render reports again from a report directory's results"
    )
    report.add_argument("directory", metavar="DIR")

    new = commands.add_parser(
        "new",
        help="write a compliant, commented starting point for a new resource type",
        description="Write NAME.py (a resource DLL in Python) or a Generic Script control "
        "script, and the companion beside it, that pass `rescheck run` as written; TODO "
        "comments mark where your own logic goes. Existing files are never overwritten.",
    )
    new.add_argument(
        "name", metavar="NAME", help="the files' base name, a Python identifier, e.g. my_disk"
    )
    new.add_argument(
        "--kind",
        choices=KINDS,
        default="dll",
        help="a resource DLL (default) or a Generic Script control script",
    )
    new.add_argument(
        "--language",
        choices=LANGUAGES,
        help="the script's language (default: python for a DLL, vbscript for a script)",
    )
    new.add_argument(
        "--dir",
        default=".",
        metavar="DIR",
        help="where the files go (default: the current directory; created if missing)",
    )
    return parser
