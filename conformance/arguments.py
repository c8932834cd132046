"""The ``rescheck`` command's subcommands and options (`build_parser`); the options of
``run`` (and the target's of ``fuzz`` and ``quorum``) come from `conformance.options.OPTIONS`,
the table the pytest plugin's options come from too, and their values are checked there,
before anything runs."""

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
    from conformance.scaffold import KINDS, LANGUAGES

    parser = _Parser(
        prog="rescheck",
        description="Conformance checks for Windows Failover Cluster resource types.",
    )
    parser.add_argument("--version", action="version", version=f"rescheck {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    # run's options, and the target's for fuzz and quorum: from the table the pytest plugin
    # is declared from too
    run = commands.add_parser("run", help="check a resource type and write reports")
    options.add_options(run.add_argument, options.RUN)
    fuzz = commands.add_parser(
        "fuzz", help="search for sequences of operations that break the contract (hypothesis)"
    )
    options.add_options(fuzz.add_argument, options.FUZZ)
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
    _campaign_options(fuzz, "examples")

    quorum = commands.add_parser(
        "quorum", help="play generated arbitration schedules across nodes (quorum-capable types)"
    )
    options.add_options(quorum.add_argument, options.QUORUM)
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
    _campaign_options(quorum, "schedules")

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
    report.add_argument(
        "--database",
        type=options.database,
        metavar="URL|DIR",
        help="merge the campaign recorded there into DIR's reports (default: DIR's campaign)",
    )
    report.add_argument(
        "--campaign",
        type=options.campaign,
        metavar="NAME",
        help="the campaign to merge from --database (default: default)",
    )

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


def _campaign_options(parser: argparse.ArgumentParser, counted: str) -> None:
    """``fuzz``'s and ``quorum``'s options for a campaign of several workers (issue 22)."""
    parser.add_argument(
        "--workers",
        type=options.positive_int,
        default=1,
        metavar="N",
        help=f"worker processes on this machine, each its own hypothesis run with its own "
        f"seed, on one example database; the {counted} are shared among them (default 1)",
    )
    parser.add_argument(
        "--database",
        type=options.database,
        metavar="URL|DIR",
        help="the campaign's example database: redis://HOST:PORT/DB for workers on several "
        "machines (needs rescheck[distributed]), or a directory (default: the report "
        "directory's hypothesis-db)",
    )
    parser.add_argument(
        "--campaign",
        type=options.campaign,
        metavar="NAME",
        help="the campaign's name in the database: the workers of one campaign, started "
        "anywhere, share what they find and make one report (default: default)",
    )
