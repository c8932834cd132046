"""The ``rescheck`` command: a thin layer over the library.

Exit codes (docs/design.md): 0 compliant, 1 non-compliant, 2 bad usage or a target that cannot
be loaded or judged (one line saying what to do), 3 internal error of rescheck itself, 130
interrupted (Ctrl-C; the reports of what was decided are written).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import textwrap
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance import options
from conformance.arguments import EXIT_USAGE, build_parser
from conformance.errors import UsageError

EXIT_COMPLIANT, EXIT_NON_COMPLIANT, EXIT_INTERNAL = 0, 1, 3
EXIT_INTERRUPTED = 130
_MARKS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "error": "ERR "}


def _cmd_rules(args: argparse.Namespace) -> int:
    """The catalogue: JSON for tools; for people, 100 columns and a legend that spells out
    every abbreviation (docs/rules.md has the policies too)."""
    from conformance.suite.catalogue import catalogue
    from conformance.suite.docs import NBSP, applies_to, legend

    if args.coverage:
        return _print_coverage(args.format)
    rules = catalogue()
    if args.format == "json":
        print(json.dumps([r.to_json() for r in rules], indent=2))
        return EXIT_COMPLIANT
    wrap = textwrap.TextWrapper(width=100, break_long_words=False, break_on_hyphens=False)
    print(f"{'rule':45} {'level':12} {'scripts':9} applies to")
    for r in rules:
        print(f"{r.id:45} {r.level:12} {r.script_class:9} {applies_to(r, short=True)}".rstrip())
        wrap.initial_indent = wrap.subsequent_indent = "    "
        print(wrap.fill(r.statement))
        print(wrap.fill(f"contract: {' '.join(r.contract)}; documentation: {r.doc}"))
    print("\nlegend:")
    for term, meaning in legend({cid for r in rules for cid in r.contract}):
        wrap.initial_indent, wrap.subsequent_indent = f"  {term:14} ", " " * 17
        print(wrap.fill(meaning).replace(NBSP, " "))
    return EXIT_COMPLIANT


def _print_coverage(form: str) -> int:
    """The contract's ids by how the catalogue relates to them; each id no rule checks comes
    with why, so that a reader need not look it up."""
    from conformance.rules import CATEGORIES
    from conformance.suite.catalogue import coverage
    from conformance.suite.docs import NBSP, prefix_words, reason

    found = coverage()
    if form == "json":
        print(json.dumps(found, indent=2))
        return EXIT_COMPLIANT
    titles = {"checked": "checked by a rule", **CATEGORIES, "unclassified": "not classified yet"}
    wrap = textwrap.TextWrapper(width=100, break_long_words=False, break_on_hyphens=False)
    for n, (category, ids) in enumerate(found.items()):
        if n:
            print()
        print(f"{titles.get(category, category)} ({len(ids)}):")
        if category == "checked":  # `rescheck rules` says by which rule
            wrap.initial_indent = wrap.subsequent_indent = "  "
            print(wrap.fill(" ".join(ids)))
            continue
        for cid in ids:
            wrap.initial_indent, wrap.subsequent_indent = f"  {cid:6} ", " " * 9
            print(wrap.fill(reason(cid)))
    wrap.initial_indent = wrap.subsequent_indent = ""
    prefixes = prefix_words({cid for ids in found.values() for cid in ids}, NBSP)
    note = "The ids are docs/contract.md's, each stated there with its level and page; prefixes: "
    print("\n" + wrap.fill(f"{note}{prefixes}.").replace(NBSP, " "))
    return EXIT_COMPLIANT


def _exit_code(run: Any) -> int:
    """0, 1, or for the verdict error: 3 when rescheck itself failed (an internal error of a
    check or of the run), 2 otherwise."""
    if run.verdict == "compliant":
        return EXIT_COMPLIANT
    if run.verdict == "non-compliant":
        return EXIT_NON_COMPLIANT
    said = [c.message for c in run.checks if c.outcome == "error"] + list(run.errors)
    return EXIT_INTERNAL if any("internal error" in message for message in said) else EXIT_USAGE


def _wrapped(text: str, indent: str = "  ", hang: str = "      ") -> str:
    """``text`` whole, wrapped to the terminal: a failure's message is the evidence a
    reader acts on, never cut."""
    width = max(shutil.get_terminal_size((100, 24)).columns, 60)
    return textwrap.fill(
        text, width=width, initial_indent=indent, subsequent_indent=hang, break_on_hyphens=False
    )


def _summary(run: Any, paths: dict[str, Path]) -> None:
    counts = ", ".join(f"{n} {o}" for o, n in run.counts().items() if n)
    print(f"\nverdict: {run.verdict.upper()} ({counts})")
    warnings = run.warnings()
    failed = [c for c in run.checks if c.outcome == "failed" and c not in warnings]
    if failed:
        print("failed, and deciding the verdict (the evidence: the report's anchor of each rule):")
    for check in failed:
        print(_wrapped(f"{check.id} [{check.level}]: {check.message}"))
        print(f"      evidence: {paths['html']}#{check.id}")
    for warning in warnings:
        print(_warning_line(warning))
    _print_unjudged([c for c in run.checks if c.outcome == "error"])
    print(f"reports: {paths['html']}  {paths['junit']}  {paths['json']}")


def _print_unjudged(errors: list[Any]) -> None:
    """A line per rule that could not be judged; rules that share the reason (what stopped
    every scenario, say) share one line."""
    by_reason: dict[str, list[str]] = {}
    for check in errors:
        reason = check.message.split(": ", 1)[-1]
        by_reason.setdefault(reason, []).append(check.id)
    for reason, ids in by_reason.items():
        if len(ids) > 2:
            print(
                _wrapped(f"could not judge {len(ids)} rules ({', '.join(ids[:3])}, ...): {reason}")
            )
        else:
            for check in errors:
                if check.id in ids:
                    print(_wrapped(f"could not judge {check.id}: {check.message}"))


def _warning_line(check: Any) -> str:
    return _wrapped(f"warning [{check.level}] {check.id}: {check.message}")


def _print_checks(result: Any, passed: bool) -> None:
    """A line per check (the passed ones only with ``passed``); a failure that does not
    decide the verdict is a warning, as in `rescheck run`'s summary."""
    warnings = result.warnings()
    for check in result.checks:
        if check in warnings:
            print(_warning_line(check))
        elif passed or check.outcome != "passed":
            print(_wrapped(f"{_MARKS[check.outcome]} {check.id}: {check.message}"))
    for error in result.errors:
        print(_wrapped(f"{_MARKS['error']} the run: {error}"))


def _load(
    args: argparse.Namespace, policy: Any, judge_startup: bool = False, type_name: str | None = None
) -> Any:
    """The target the shared options name (run, fuzz and quorum load it alike; a run judges a
    Startup that fails, where fuzz and quorum need one that works)."""
    from conformance.targets import load_target

    if type_name is None and args.type_name:
        if len(args.type_name) > 1:
            raise UsageError(
                f"rescheck {args.command} takes one --type-name (got {len(args.type_name)}); "
                "run it once per type, or use `rescheck run`, which checks each"
            )
        type_name = args.type_name[0]
    return load_target(
        args.resource_type,
        args.companion,
        type_name,
        dict(args.properties),
        policy,
        "in-process" if args.in_process else "isolated",
        judge_startup,
    )


def _report_dir(args: argparse.Namespace, prefix: str = "") -> Path:
    """``--report-dir``, or ``reports/<prefix><target's file stem>`` (``<stem>_dll`` for a
    compiled DLL), checked before the target is loaded: a run is not spent only to fail at
    writing its reports."""
    given = Path(args.resource_type)
    # a compiled DLL and its Python model often share a name: their reports must not
    stem = re.sub(r"[^\w.-]+", "_", given.stem + ("_dll" if given.suffix.lower() == ".dll" else ""))
    directory = Path(args.report_dir or Path("reports") / f"{prefix}{stem}")
    options.check_report_dir(directory)
    return directory


def _interrupted(run: Any, directory: Path) -> int:
    """Ctrl-C: the reports of what was decided are written; say so, and exit 130."""
    print(
        f"\ninterrupted: {len(run.checks)} checks decided; reports in {directory} are marked "
        "incomplete",
        file=sys.stderr,
    )
    return EXIT_INTERRUPTED


def _cmd_run(args: argparse.Namespace) -> int:
    """One suite run; with several --type-name, one per type, each reported in a directory
    of its own under the report directory, and the worst exit code."""
    from conformance.monitor.policy import Policy
    from conformance.suite.catalogue import select_rules

    policy = Policy(time_scale=args.time_scale, async_failure=args.async_failure)
    rules = select_rules(args.select)
    if not rules:
        raise UsageError(f"no rule matches {args.select}; see `rescheck rules` for the ids")
    directory = _report_dir(args)
    names: list[str | None] = list(args.type_name or [None])
    repeated = sorted({n for n in names if names.count(n) > 1}, key=str)
    if repeated:
        raise UsageError(f"--type-name {repeated[0]!r} is given more than once")
    if len(names) == 1:
        return _run_type(args, policy, rules, names[0], directory)
    verdicts: list[tuple[str, int, Path]] = []
    for name in names:
        assert name is not None
        where = directory / (re.sub(r"[^\w.-]+", "_", name).strip("_") or "type")
        options.check_report_dir(where)
        try:
            code = _run_type(args, policy, rules, name, where)
        except UsageError as exc:  # this type cannot be checked: say why, check the others
            print(f"rescheck run: error: {exc}", file=sys.stderr)
            code = EXIT_USAGE
        if code == EXIT_INTERRUPTED:
            return code
        verdicts.append((name, code, where))
    print(f"\n{len(names)} resource types of {args.resource_type}:")
    width = max(len(repr(name)) for name, _, _ in verdicts)
    for name, code, where in verdicts:
        shown = "(see the error above)" if code == EXIT_USAGE else f"({where})"
        print(f"  {_TYPE_OUTCOMES.get(code, f'exit {code}'):14} {name!r:{width}}  {shown}")
    return max(code for _, code, _ in verdicts)


#: How a type of a several-type run ended, by its exit code.
_TYPE_OUTCOMES = {0: "compliant", 1: "non-compliant", 2: "not checked", 3: "internal error"}


def _run_type(
    args: argparse.Namespace, policy: Any, rules: list[Any], name: str | None, directory: Path
) -> int:
    from conformance.report import write_reports
    from conformance.report.model import ResultsLog, read_log
    from conformance.suite.runner import run_suite

    target = _load(args, policy, judge_startup=True, type_name=name)
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
        if target.companion.source is None:
            print(
                _wrapped(
                    f"note: {target.companion.no_probe(target.given)}; checks that need "
                    "it are skipped (README: 'The companion')"
                )
            )

    def progress(check: Any) -> None:
        log.check(check)
        if not args.quiet:
            line = f"{_MARKS[check.outcome]} {check.level:11} {check.id:45} {check.message}"
            if check.outcome == "passed":  # a line each; the report has every word
                width = max(shutil.get_terminal_size((100, 24)).columns, 60) - 2
                line = line if len(line) <= width else line[: width - 3] + "..."
                print(f"  {line}", flush=True)
            else:
                print(_wrapped(line), flush=True)

    try:
        result = run_suite(target, policy, rules, args.strict, progress, args.budget)
    except KeyboardInterrupt:
        partial = read_log(directory)
        write_reports(partial, directory)
        return _interrupted(partial, directory)
    log.finish(result.info)
    paths = write_reports(result, directory)
    if args.quiet:
        print(result.verdict)
    else:
        _summary(result, paths)
    return _exit_code(result)


def _cmd_fuzz(args: argparse.Namespace) -> int:
    from conformance.fuzz.campaign import fuzz
    from conformance.fuzz.interrupt import Interrupted
    from conformance.monitor.policy import Policy

    policy = Policy()
    directory = _report_dir(args, "fuzz-")
    plan = _plan(args, "fuzz", directory)
    target = _load(args, policy)
    if plan is not None:
        return _campaign(plan, target, directory)
    print(f"rescheck fuzz: {target.given} (resource type {target.resource_type!r}), in {directory}")
    try:
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
    except Interrupted as stop:
        return _interrupted(stop.result, directory)
    _print_checks(result, passed=False)
    print(f"verdict: {result.verdict}; results in {directory / 'results.json'}")
    return _exit_code(result)


def _plan(args: argparse.Namespace, mode: str, directory: Path) -> Any:
    """A campaign of several workers or in a named database (issue 22), or None for a plain
    one; checked (its database answers) before the target is loaded."""
    from conformance.fuzz.workers import plan_of

    return plan_of(args, mode, directory)


def _campaign(plan: Any, target: Any, directory: Path) -> int:
    """Run a campaign's workers and report the campaign as a whole."""
    from conformance.fuzz.database import shown
    from conformance.fuzz.interrupt import Interrupted
    from conformance.fuzz.workers import run

    what = "workers" if plan.workers > 1 else "worker"
    print(
        f"rescheck {plan.mode}: {target.given} (resource type {target.resource_type!r}), "
        f"{plan.workers} {what} of campaign {plan.campaign!r} in {shown(plan.database)}, "
        f"reports in {directory}"
    )
    try:
        result = run(plan, target, lambda line: print(line, flush=True))
    except Interrupted as stop:
        return _interrupted(stop.result, directory)
    _print_checks(result, passed=plan.mode == "quorum")
    workers = result.info.get("workers", [])
    print(
        f"verdict: {result.verdict} (campaign {plan.campaign!r}, {len(workers)} workers so far); "
        f"results in {directory / 'results.json'}"
    )
    return _exit_code(result)


def _cmd_quorum(args: argparse.Namespace) -> int:
    from conformance.fuzz.interrupt import Interrupted
    from conformance.fuzz.quorum import campaign
    from conformance.monitor.policy import Policy

    policy = Policy()
    directory = _report_dir(args, "quorum-")
    plan = _plan(args, "quorum", directory)
    target = _load(args, policy)
    if not target.quorum_capable:
        raise UsageError(
            f"{target.given} is not quorum-capable: its function table needs both Arbitrate "
            "and Release (see `rescheck run`, Arbitrate.with-release), so there is nothing to "
            "arbitrate"
        )
    if plan is not None:
        return _campaign(plan, target, directory)
    print(
        f"rescheck quorum: {target.given} (resource type {target.resource_type!r}), "
        f"{args.schedules} schedules of {args.nodes[0]}-{args.nodes[1]} nodes, in {directory}"
    )
    try:
        result = campaign(
            target,
            directory,
            count=args.schedules,
            seed_value=args.seed,
            nodes=args.nodes,
            policy=policy,
            progress=lambda line: print(line, flush=True),
        )
    except Interrupted as stop:
        return _interrupted(stop.result, directory)
    _print_checks(result, passed=True)
    print(f"verdict: {result.verdict}; results in {directory / 'results.json'}")
    return _exit_code(result)


def _cmd_report(args: argparse.Namespace) -> int:
    from conformance.report import write_reports
    from conformance.report.model import UNREADABLE, ResultsLog, read_log

    directory = Path(args.directory)
    campaign = _campaign_of(args, directory)
    if campaign is not None:
        return _report_campaign(campaign, directory)
    if not (directory / ResultsLog.NAME).is_file():
        raise UsageError(
            f"no {ResultsLog.NAME} in {directory}; give the --report-dir of a `rescheck run`"
        )
    options.check_report_dir(directory, option=None)
    run = read_log(directory)
    skipped = run.info.get(UNREADABLE, [])
    for problem in skipped:
        print(f"rescheck report: skipped {directory / ResultsLog.NAME} {problem}", file=sys.stderr)
    paths = write_reports(run, directory)
    if skipped:
        state = f" (INCOMPLETE: unreadable lines of {ResultsLog.NAME} skipped)"
    else:
        state = "" if run.complete else " (INCOMPLETE: the run was interrupted)"
    print(f"{run.target}: {run.verdict}{state}, {len(run.checks)} checks; {paths['html']}")
    return _exit_code(run)


def _campaign_of(args: argparse.Namespace, directory: Path) -> Any:
    """The campaign ``rescheck report`` merges: named by --database/--campaign, or the one
    DIR reports on (its campaign.json); None for a plain run's directory."""
    from conformance.fuzz.merge import Campaign

    if args.database is None and args.campaign is None:
        return Campaign.load(directory)
    return Campaign.named(args.database, args.campaign, directory)


def _report_campaign(campaign: Any, directory: Path) -> int:
    """A campaign's merged report, from its records, into ``directory``."""
    from conformance.fuzz.merge import report

    options.check_report_dir(directory, option=None)
    campaign.save(directory)
    run = report(campaign, directory)
    workers = run.info.get("workers", [])
    state = "" if run.complete else " (INCOMPLETE: a worker is running, or did not finish)"
    print(
        f"{run.target}: {run.verdict}{state}, {len(run.checks)} checks, campaign "
        f"{campaign.name!r} of {len(workers)} workers; {directory / 'report.html'}"
    )
    return _exit_code(run)


def _cmd_new(args: argparse.Namespace) -> int:
    from conformance import scaffold

    return scaffold.main(args.name, args.kind, args.language, args.dir)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {
        "run": _cmd_run,
        "fuzz": _cmd_fuzz,
        "quorum": _cmd_quorum,
        "rules": _cmd_rules,
        "report": _cmd_report,
        "new": _cmd_new,
    }[args.command]
    try:
        return handler(args)
    except UsageError as exc:
        print(f"rescheck {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # before anything was decided (while loading the target)
        print(f"\nrescheck {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
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
