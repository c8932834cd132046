"""The options of ``rescheck run`` and of the pytest plugin, and what they accept.

`OPTIONS` is the one table both front ends are generated from (`add_options`): the same
names, meanings, parsers and defaults, so that ``rescheck run --select X`` and
``pytest --select X`` cannot drift apart; the README's option table is generated from it too
(`markdown_table`, ``python -m conformance.options``). Each type turns bad input into one line
that says what to give instead (argparse reports it with exit code 2, pytest as a usage
error); `check_report_dir` does the same for a report directory, so that a run is not spent
only to fail at writing its reports.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.errors import UsageError
from conformance.monitor.policy import ASYNC_FAILURE_POLICIES, DEFAULT_TIME_SCALE

#: The longest budget or duration accepted: a month. Longer values are typing errors (or
#: ``inf``), and overflow the timers that enforce them.
MAX_SECONDS = 30 * 24 * 3600.0
#: The files a report directory receives; each must be a file if it is there already.
REPORT_FILES = ("results.json", "junit.xml", "report.html", "results.jsonl")


def _number(text: str, what: str, example: str) -> float:
    """A finite float: ``nan``, ``inf`` and ``1e400`` (which overflows to inf) are refused."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}; e.g. {example}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}; e.g. {example}")
    return value


def property_value(text: str) -> tuple[str, Any]:
    """``-o NAME=VALUE``: digits become a DWORD."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, int(value) if re.fullmatch(r"-?\d+", value) else value


def time_scale(text: str) -> float:
    value = _number(text, "a number", "--time-scale 0.01")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(
            f"must be in (0, 1], got {value}; 0.01 turns 180 s into 1.8 s"
        )
    return value


def positive_seconds(text: str) -> float:
    value = _number(text, "a number of seconds", "--budget 600")
    if not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be more than 0 s and at most {MAX_SECONDS:.0f} s (30 days), got {text!r}; "
            "e.g. --budget 600"
        )
    return value


def positive_int(text: str) -> int:
    if not re.fullmatch(r"\d+", text) or int(text) == 0:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, got {text!r}")
    return int(text)


def duration(text: str) -> float:
    """``90s``, ``30m``, ``2h`` or plain seconds, up to 30 days."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    seconds = (
        float(found.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[found.group(2)] if found else 0
    )
    if not 0 < seconds <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"expected a duration like 90s, 30m or 2h, at most 30 days, got {text!r}"
        )
    return seconds


def node_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        nodes = (int(low), int(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN-MAX, e.g. 3-8; got {text!r}") from None
    if not 2 <= nodes[0] <= nodes[1] <= 16:
        raise argparse.ArgumentTypeError(f"nodes must be 2..16 with MIN <= MAX; got {text!r}")
    return nodes


#: A campaign's name: part of a Redis key and of a directory name.
_CAMPAIGN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: The URL schemes of a Redis server (`conformance.fuzz.database.REDIS_SCHEMES`).
_REDIS_SCHEMES = ("redis", "rediss", "unix")


def campaign(text: str) -> str:
    """``--campaign NAME``: letters, digits, ``_``, ``.`` and ``-``, at most 64."""
    if not _CAMPAIGN_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            "expected letters, digits, '_', '.' or '-' (at most 64, the first a letter or "
            f"digit), got {text!r}"
        )
    return text


def database(text: str) -> str:
    """``--database``: a Redis URL, or a directory for hypothesis's directory database."""
    scheme, sep, rest = text.partition("://")
    if sep and scheme.lower() not in _REDIS_SCHEMES:
        raise argparse.ArgumentTypeError(
            f"expected redis://HOST:PORT/DB (or rediss://, unix://) or a directory, got {text!r}"
        )
    if sep and not rest.strip("/"):
        raise argparse.ArgumentTypeError(f"expected redis://HOST:PORT/DB, got {text!r}")
    if not text.strip():
        raise argparse.ArgumentTypeError("expected redis://HOST:PORT/DB or a directory")
    return text


def check_report_dir(directory: Path, option: str | None = "--report-dir") -> None:
    """Raise `UsageError` unless the reports can be written in ``directory`` (created if
    missing): every part of it that exists is a directory, and the deepest one is writable.
    Nothing is created here, so a target that then fails to load leaves nothing behind.
    ``option`` is how the user gave the directory, to name it in the message."""
    said = f"{option} {directory}" if option else str(directory)
    hint = "give a directory (it is created if missing)"
    existing = directory
    while not os.path.exists(existing) and existing != existing.parent:
        if os.path.lexists(existing):
            raise UsageError(f"{said}: {existing} is a broken symbolic link; {hint}")
        existing = existing.parent
    if not os.path.isdir(existing):
        where = "is a file" if existing == directory else f"{existing} is a file, not a folder"
        raise UsageError(f"{said}: {where}; {hint}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(
            f"{said}: {existing} is not writable for this user; give a directory you may write in"
        )
    if existing == directory:
        for name in REPORT_FILES:
            report = directory / name
            if os.path.lexists(report) and not os.path.isfile(report):
                raise UsageError(
                    f"{said}: {report} is there and is not a file, so the report cannot be "
                    "written; remove it or give another directory"
                )


#: The front ends an option can belong to: `rescheck`'s subcommands and the pytest plugin.
RUN, FUZZ, QUORUM, PYTEST = "run", "fuzz", "quorum", "pytest"
#: The target options: every front end that loads a target takes them.
TARGET = (RUN, FUZZ, QUORUM, PYTEST)
#: The whole run's wall-clock budget by default; `conformance.suite.runner.DEFAULT_BUDGET_S`
#: is the library's, and a test keeps them equal (importing the suite here would cost every
#: pytest session 150 ms, since the plugin is loaded whether or not it is used).
DEFAULT_BUDGET_S = 1800.0
#: The ``dest`` prefix of the plugin's options, away from other plugins' names.
PYTEST_DEST = "rescheck_"


@dataclass(frozen=True)
class Option:
    """One option, as both front ends take it. ``name`` is the long name (``--name``) in both,
    but where pytest has that name already (``pytest_name``); ``short`` is rescheck's only
    (pytest's ``-o`` and ``-q`` are its own); ``old`` are the plugin's former spellings,
    still taken with a deprecation warning."""

    name: str
    help: str  # for --help
    doc: str  # for the README's table: the whole meaning
    metavar: str | None = None
    type: Callable[[str], Any] | None = None
    choices: tuple[str, ...] | None = None
    default: Any = None
    flag: bool = False  # takes no value
    repeat: bool = False  # may be given more than once: a list
    short: str | None = None
    pytest_name: str | None = None
    old: tuple[str, ...] = ()
    where: tuple[str, ...] = (RUN, PYTEST)
    required: tuple[str, ...] = ()  # the front ends where it must be given
    pytest_doc: str = ""  # what the plugin does otherwise, for the README

    @property
    def dest(self) -> str:
        """The attribute of ``rescheck``'s namespace (``-o`` fills ``properties``)."""
        return "properties" if self.name == "property" else self.name.replace("-", "_")

    def flags(self, front_end: str) -> list[str]:
        if front_end == PYTEST:
            return [f"--{self.pytest_name or self.name}"]
        return [self.short, f"--{self.name}"] if self.short else [f"--{self.name}"]

    def kwargs(self, front_end: str) -> dict[str, Any]:
        """``add_argument``'s keywords: pytest's ``addoption`` passes them to argparse too."""
        dest = PYTEST_DEST + self.dest if front_end == PYTEST else self.dest
        found: dict[str, Any] = {"dest": dest, "help": self.help}
        if self.flag:
            found.update(action="store_true", default=False)
            return found
        found.update(metavar=self.metavar, default=[] if self.repeat else self.default)
        if self.repeat:
            found["action"] = "append"
        if self.type is not None:
            found["type"] = self.type
        if self.choices is not None:
            found["choices"] = self.choices
        if front_end in self.required:
            found["required"] = True
        return found

    def usage(self, front_end: str) -> str:
        """How it is written, e.g. ``--select GLOB`` (pytest: ``--select=GLOB``)."""
        flag = self.flags(front_end)[-1]
        if self.flag:
            return flag
        value = self.metavar or "|".join(self.choices or ())
        return f"{flag}={value}" if front_end == PYTEST else f"{flag} {value}"


OPTIONS: tuple[Option, ...] = (
    Option(
        "resource-type",
        "dotted module name, path to a .py resource DLL or control script (.vbs, .js, .py), "
        "or a compiled .dll",
        "dotted module name (importable from the current directory) or path to a `.py` file; "
        "a dotted name is found on disk as the import system would find it, without importing "
        "anything (a package's `__init__.py` runs only in the host process)",
        metavar="TARGET",
        where=TARGET,
        required=(RUN, FUZZ, QUORUM),
        pytest_doc="or the `RESCHECK_RESOURCE_TYPE` environment variable, or the ini key "
        "`resource_type`; without any, the plugin stays out of the way",
    ),
    Option(
        "report-dir",
        "where results.json, junit.xml and report.html go (default: reports/<name>)",
        "where `results.json`, `junit.xml`, `report.html` (and the running log "
        "`results.jsonl`) go; default `reports/<name>`; created if missing, and checked before "
        "the run starts (a file, a path under a file or a directory you may not write in is "
        "exit 2)",
        metavar="DIR",
        where=(RUN,),
        pytest_doc="pytest's own `--junitxml=FILE`",
    ),
    Option(
        "companion",
        "a .py file defining COMPANION (default: <target>_companion.py beside the target)",
        "a `.py` file defining `COMPANION` (default: `<target>_companion.py` beside the target)",
        metavar="FILE",
        where=TARGET,
        old=("--rescheck-companion",),
    ),
    Option(
        "type-name",
        "the ResourceType name passed to Startup (default: the companion's, else "
        "RESOURCE_TYPE_NAME in the module, else the module's or DLL's name); `run` takes it "
        "more than once for a DLL that serves several types, and checks each",
        "the `ResourceType` name passed to Startup (default: the companion's, else a "
        "`RESOURCE_TYPE_NAME` or `RESOURCE_TYPE` string in the DLL module, else the module "
        "name); repeatable in `rescheck run`: each type is checked in its own run, reported in "
        "`<report dir>/<type>/`, and the worst verdict decides the exit code (`fuzz`, `quorum` "
        "and a pytest session take one). A declared name that Startup refuses fails "
        "`Startup.returns-table`; a guessed one is exit 2 (pytest: a usage error)",
        metavar="NAME",
        repeat=True,
        where=TARGET,
        old=("--rescheck-type-name",),
    ),
    Option(
        "property",
        "a private property value for test instances (repeatable; digits become DWORDs)",
        "a private property value for the test instances (repeatable; digits become DWORDs)",
        metavar="NAME=VALUE",
        type=property_value,
        repeat=True,
        short="-o",
        where=TARGET,
        old=("--rescheck-property",),
    ),
    Option(
        "select",
        "run only rules whose id matches (repeatable), e.g. 'Online.*'",
        "only rules whose id matches, e.g. `'SetResourceStatus.*'` (repeatable); a pattern "
        "that matches no rule is exit 2 (pytest: a usage error). In pytest the other rules "
        "are deselected, and `-k` selects further",
        metavar="GLOB",
        repeat=True,
    ),
    Option(
        "strict",
        "a recommended-level failure makes the verdict non-compliant (a pytest item fails) "
        "instead of being a warning",
        "a recommended-level failure makes the verdict non-compliant; without it, it is a "
        "warning (pytest: the item passes with a `RescheckWarning`, below)",
        flag=True,
        pytest_name="rescheck-strict",
        where=(RUN, FUZZ, PYTEST),
    ),
    Option(
        "time-scale",
        f"factor applied to the monitor's documented timers (default {DEFAULT_TIME_SCALE})",
        f"factor applied to the monitor's documented timers (default {DEFAULT_TIME_SCALE}, "
        "in (0, 1], see below)",
        metavar="F",
        type=time_scale,
        default=DEFAULT_TIME_SCALE,
        old=("--rescheck-time-scale",),
    ),
    Option(
        "async-failure",
        "what the monitor does when a failure event is signalled (docs/contract.md §11 item 1)",
        "the monitor's reaction to a signalled failure event (documented conflict, below; "
        "default `IsAlive`)",
        choices=ASYNC_FAILURE_POLICIES,
        default=ASYNC_FAILURE_POLICIES[0],
    ),
    Option(
        "budget",
        f"the run's wall-clock budget; checks not started by then are reported as not judged "
        f"(default {DEFAULT_BUDGET_S:.0f})",
        f"the run's wall-clock budget (default {DEFAULT_BUDGET_S:.0f}; a finite number of "
        "seconds, at most 30 days): when it is spent, the scenario under way is stopped (its "
        "hosts killed), the checks not decided are reported as not judged, and the run exits "
        "2 (pytest: their items fail as not judged; under xdist each worker has the budget)",
        metavar="SECONDS",
        type=positive_seconds,
        default=DEFAULT_BUDGET_S,
    ),
    Option(
        "in-process",
        "host the target in rescheck's own process (faster; a crashing target then ends the "
        "run, and Process.survives is not judged)",
        "host the target in rescheck's own process (pytest: in each process that runs tests; "
        "faster; a target that crashes then ends the run, and `Process.survives` is not judged)",
        flag=True,
        where=TARGET,
        old=("--rescheck-in-process",),
    ),
    Option(
        "quiet",
        "print only the verdict",
        "print only the verdict",
        flag=True,
        short="-q",
        where=(RUN,),
        pytest_doc="pytest's own `-q`",
    ),
)


def option(name: str) -> Option:
    """The table's entry for ``--name``."""
    return next(o for o in OPTIONS if o.name == name)


def add_options(add: Callable[..., Any], front_end: str) -> None:
    """Declare the table's options of ``front_end`` with ``add``: an argparse parser's
    ``add_argument`` or a pytest option group's ``addoption``."""
    for entry in OPTIONS:
        if front_end in entry.where:
            add(*entry.flags(front_end), **entry.kwargs(front_end))


def markdown_table() -> str:
    """The README's option table (``python -m conformance.options`` prints it)."""
    lines = ["| `rescheck run` | pytest plugin | meaning |", "|---|---|---|"]
    for entry in OPTIONS:
        if RUN not in entry.where:
            continue
        spellings = [entry.usage(RUN)]
        if entry.short:
            spellings.insert(0, f"{entry.short} {entry.metavar or ''}".rstrip())
        cells = [", ".join(f"`{_escaped(s)}`" for s in spellings)]
        if PYTEST in entry.where:
            extra = f" ({entry.pytest_doc})" if entry.pytest_doc else ""
            cells.append(f"`{_escaped(entry.usage(PYTEST))}`{extra}")
        else:
            cells.append(entry.pytest_doc or "-")
        lines.append(f"| {cells[0]} | {cells[1]} | {entry.doc} |")
    return "\n".join(lines)


def _escaped(text: str) -> str:
    """A ``|`` inside a table cell, even in code, must be escaped."""
    return text.replace("|", "\\|")


if __name__ == "__main__":
    print(markdown_table())
