"""Generic Script control scripts (docs/contract.md §8): what the script defines (GS-10, GS-12),
what its functions answer (GS-13, GS-14), what it reaches for (GS-38, GS-39) and which
Resource members it calls (GS-30..GS-37), the last three also from its text. The lifecycle rules
judge the script through the Generic Script DLL like any other resource type; these judge
the script itself, from the parse and from the DLL's ``Script*`` trace events."""

from __future__ import annotations

import functools
from pathlib import Path

from conformance.genscript.engine import (
    REQUIRED_SCRIPT_ENTRY_POINTS,
    SCRIPT_ENTRY_POINTS,
    read_source,
)
from conformance.genscript.engine import entry_point as script_function
from conformance.genscript.static import Finding, scan
from conformance.rules import RECOMMENDED, REQUIRED
from conformance.runtime.trace import CALLBACK, Trace, TraceEvent
from conformance.suite.checks.entry_points import ALL
from conformance.suite.context import NotApplicable, RunContext, Violation, counted
from conformance.suite.registry import SCRIPTS, check
from conformance.suite.scenarios import FRESH_RESOURCE
from conformance.suite.worlds import missing_object, stand_in_at, world_at


def _script(ctx: RunContext) -> tuple[str, str]:
    """The script's path and language, or NotApplicable for a resource DLL."""
    target = ctx.target
    if target.script is None:
        raise NotApplicable("the target is a resource DLL, not a Generic Script control script")
    return str(target.script), target.describe()["language"]


#: The scenarios a script's own rules read: every one that runs it, and its Open on a
#: resource as the cluster creates it.
#: ``worlds``: the short cycles that chose the script's world (`world_search`), last.
SCRIPT_SCENARIOS = (*ALL, "fresh", "worlds")


#: Runtime errors listed in a finding's evidence.
EVIDENCE_ERRORS = 10


def _events(ctx: RunContext, name: str) -> list[tuple[Trace, TraceEvent]]:
    return [pair for run in ctx.scenarios(*SCRIPT_SCENARIOS) for pair in run.events(CALLBACK, name)]


def _in_world(ctx: RunContext, event: TraceEvent, seen: list[TraceEvent]) -> str:
    """Where a runtime error happened, for its message: on a fresh resource, or in a world
    rescheck made up (with what its stand-ins answered the call), or nowhere to mention."""
    world = stand_in_at(event, seen)
    if _fresh(ctx, event):
        return (
            ", on a resource as the cluster creates it (none of the script's private "
            f"properties set yet{': ' + world if world else ''})"
        )
    elsewhere = event.data.get("world") or event.data.get("failed")
    in_world = f", in {world_at(event, seen)}" if world or elsewhere else ""
    return in_world + (f", where {world}" if world else "")


def _also(same: list[TraceEvent], seen: list[TraceEvent]) -> str:
    """The other worlds the error ``same[0]`` happened in too."""
    worlds = list(dict.fromkeys(world_at(e, seen) for e in same))[1:]
    return f" (also in {', '.join(worlds)})" if worlds else ""


def _fresh(ctx: RunContext, event: TraceEvent) -> bool:
    """Whether ``event`` happened on the resource opened as the cluster creates it (the
    ``fresh`` scenario's: a fuzzed sequence has none)."""
    return event.resource == FRESH_RESOURCE and any(
        e is event for trace in ctx.scenario("fresh").traces for e in trace
    )


def _returning_true(language: str, function: str) -> str:
    """How ``function`` returns Boolean true in ``language``."""
    if language == "VBScript":
        return f"{function} = True"
    return "return true;" if language == "JScript" else "return True"


def _defining(language: str, function: str) -> str:
    """A one-line definition of ``function`` in ``language`` (to be filled in)."""
    if language == "VBScript":
        return f"Function {function}() : {function} = True : End Function"
    if language == "JScript":
        return f"function {function}() {{ return true; }}"
    return f"def {function}(): return True"


@check(
    "Script.health-checks",
    REQUIRED,
    entry_points=("LooksAlive", "IsAlive"),
    statement="A Generic Script control script implements LooksAlive and IsAlive.",
    doc="W:scripting-entry-points",
    contract=("GS-10", "GS-1"),
    policy=(
        "The page says the script 'must' implement both. Judged on the parse of the script "
        "(VBScript names are matched without regard to case)."
    ),
    scenarios=(),
    applies_to=SCRIPTS,
)
def health_checks(ctx: RunContext) -> str:
    path, language = _script(ctx)
    functions = ctx.target.script_functions
    missing = [
        name
        for name in REQUIRED_SCRIPT_ENTRY_POINTS
        if script_function(functions, name, language) is None
    ]
    if missing:
        raise Violation(
            f"{path} defines no {' and no '.join(missing)}; a control script must implement "
            f"LooksAlive and IsAlive, for example: {_defining(language, missing[0])}"
        )
    return "LooksAlive and IsAlive are defined"


@check(
    "Script.no-parameters",
    REQUIRED,
    entry_points=("Open", "Online", "Offline", "Close", "Terminate", "LooksAlive", "IsAlive"),
    statement="Script entry points take no parameters.",
    doc="W:scripting-entry-points",
    contract=("GS-12",),
    policy=(
        "The page states as documented behaviour that script functions receive no parameters, "
        "without a level. A VBScript function that declares one fails with error 450 every time "
        "it is called, so rescheck treats a declared parameter as required."
    ),
    scenarios=(),
    applies_to=SCRIPTS,
)
def no_parameters(ctx: RunContext) -> str:
    path, language = _script(ctx)
    functions = ctx.target.script_functions
    defined = [
        f
        for name in SCRIPT_ENTRY_POINTS
        if (f := script_function(functions, name, language)) is not None
    ]
    if not defined:
        raise NotApplicable("the script defines no entry point")
    for function in defined:
        if function.parameters:
            raise Violation(
                f"{path}:{function.line}: {function.name} declares "
                f"{counted(function.parameters, 'parameter')}; script entry points are called "
                "with none (in VBScript such a call fails with error 450)"
            )
    return f"{counted(len(defined), 'entry point')}, none with parameters"


@check(
    "Script.boolean-health",
    RECOMMENDED,
    entry_points=("LooksAlive", "IsAlive"),
    statement="LooksAlive and IsAlive return Boolean true rather than numeric zero for success.",
    doc="W:scripting-entry-points",
    contract=("GS-14",),
    policy=(
        "'Should' in the docs. The page's own example returns a command's exit code (numeric "
        "zero) from LooksAlive, which this rule reports. Judged on every answer the run saw, and "
        "on the script's text: a LooksAlive or IsAlive that answers the literal 0, a constant of "
        "value 0, a command's exit code (.ExitCode, or what WScript.Shell's Run returns) or what "
        "a function of the script answering so returns gives numeric zero for success in any "
        "world where it succeeds, reached or not."
    ),
    scenarios=SCRIPT_SCENARIOS,
    trace_only=True,
    applies_to=SCRIPTS,
)
def boolean_health(ctx: RunContext) -> str:
    _script(ctx)
    answers = [
        (t, e)
        for t, e in _events(ctx, "ScriptCall")
        if e.data.get("step") in ("LooksAlive", "IsAlive") and e.data.get("status") == "ok"
    ]
    numbers = [
        (t, e) for t, e in answers if e.data.get("kind") == "number" and e.data.get("succeeded")
    ]
    path, language = _script(ctx)
    if numbers:
        steps = sorted({e.data["step"] for _, e in numbers}, key=("LooksAlive", "IsAlive").index)
        said = " and ".join(
            f"{step} returned the number {next(e for _, e in numbers if e.data['step'] == step).data.get('value')!r}"
            for step in steps
        )
        examples = " ... ".join(dict.fromkeys(_returning_true(language, step) for step in steps))
        trace, _ = numbers[0]
        raise Violation(
            f"{said} for success; return Boolean true (for example: {examples})",
            trace,
            [e for _, e in numbers[:10]],
        )
    written = _static(ctx, ("numeric-health",))  # what no world the run met reached
    if written:
        examples = " ... ".join(
            dict.fromkeys(_returning_true(language, f.text.split()[0]) for f in written)
        )
        more = f" ({counted(len(written) - 1, 'more')} in the evidence)" if written[1:] else ""
        raise Violation(
            f"{written[0].where(path)}: {written[0].text}{more}: numeric zero for success in "
            f"any world where it succeeds; return Boolean true (for example: {examples})",
            lines=[f"{f.where(path)}: {f.text}" for f in written],
        )
    if not answers:
        raise ctx.nothing_to_judge("LooksAlive and IsAlive never answered", ctx.scenarios(*ALL))
    return f"{counted(len(answers), 'LooksAlive/IsAlive answer')}, success given as a Boolean"


@check(
    "Script.runtime-errors",
    RECOMMENDED,
    entry_points=("Open", "Online", "Offline", "Close", "Terminate", "LooksAlive", "IsAlive"),
    statement=("Script-level code and the script's entry points complete without a runtime error."),
    doc="W:scripting-entry-points",
    contract=("GS-13", "GS-18", "GS-39"),
    policy=(
        "The docs say only that an error makes the function fail, and that a failure goes to the "
        "cluster log (GS-13); they give no level. rescheck reports each runtime error with the "
        "script's file, line and message as recommended; what the failure does to the resource "
        "(an Online that fails, a healthy resource reported failed) is judged by the lifecycle "
        "rules at their own level. Writing to a console (WScript.Echo, GS-39) and an Open that "
        "cannot run twice in one load (GS-21) show up here."
    ),
    scenarios=SCRIPT_SCENARIOS,
    trace_only=True,
    applies_to=SCRIPTS,
)
def runtime_errors(ctx: RunContext) -> str:
    _script(ctx)
    ran = [
        (t, e)
        for name in ("ScriptLoad", "ScriptCall")
        for t, e in _events(ctx, name)
        if e.data.get("status") in ("ok", "error")
    ]
    if not ran:
        raise ctx.nothing_to_judge("the script never ran", ctx.scenarios(*ALL))
    functions, language = ctx.target.script_functions, _script(ctx)[1]

    def takes_parameters(event: TraceEvent) -> bool:  # Script.no-parameters' to report
        found = script_function(functions, event.data.get("step", ""), language)
        return found is not None and found.parameters > 0

    errors = [(t, e) for t, e in ran if e.data.get("status") == "error" and not takes_parameters(e)]
    seen = list(ctx.events_so_far())
    lacking = {id(e): m for _, e in errors if (m := missing_object(e, seen))}
    if errors and len(lacking) == len(errors):
        raise NotApplicable(
            f"not judged: every runtime error came from an object this machine lacks "
            f"({next(iter(lacking.values()))}); supply it in Companion(objects=...)"
        )
    errors = [(t, e) for t, e in errors if id(e) not in lacking]
    # a console, a desktop or a Resource member that does not exist: their rules' findings
    theirs = {f.line for f in _static(ctx, ("console", "desktop", "resource-member"))}
    theirs |= {
        e.data.get("line")
        for _, e in _events(ctx, "ScriptObject")
        if e.data.get("use") == "console"
    }
    errors = [(t, e) for t, e in errors if e.data.get("line") not in theirs]
    if errors:
        trace, event = errors[0]
        where = "script-level code" if event.name == "ScriptLoad" else event.data["step"]
        alike: dict[tuple[object, ...], list[TraceEvent]] = {}
        for _, e in errors:  # one line per error, with every world it happened in
            alike.setdefault(
                (e.data.get("step"), e.data.get("line"), e.data.get("error")), []
            ).append(e)
        listed = [
            f"  {same[0].data.get('step')}: {same[0].data.get('error')}"
            f"{_in_world(ctx, same[0], seen)}{_also(same, seen)}"
            for same in list(alike.values())[:EVIDENCE_ERRORS]
        ]
        others = (
            f" ({counted(len(alike) - 1, 'more error')} in the evidence)" if len(alike) > 1 else ""
        )
        raise Violation(
            f"{where} stopped with a runtime error: {event.data.get('error')}"
            f"{_in_world(ctx, event, seen)}{others}",
            trace,
            [e for t, e in errors[:EVIDENCE_ERRORS] if t is trace],
            lines=["Each runtime error, and the world it happened in:", *listed],
        )
    skipped = sum(1 for _, e in ran if e.data.get("status") == "error" and takes_parameters(e))
    also = (
        f" ({counted(skipped, 'call')} of functions that declare parameters failed: see "
        "Script.no-parameters)"
        if skipped
        else ""
    )
    return f"{counted(len(ran), 'load or call', 'loads and calls')} without a runtime error{also}"


@check(
    "Script.cluster-api",
    REQUIRED,
    entry_points=("Open", "Online", "Offline", "Close", "Terminate", "LooksAlive", "IsAlive"),
    statement=(
        "A control script uses neither the Cluster Automation Server (MSCluster.*) nor the "
        "cluster WMI provider (root\\MSCluster): all cluster interaction goes through the "
        "Resource object."
    ),
    doc="W:scripting-entry-points",
    contract=("GS-38",),
    policy=(
        "The page says 'do not' (to avoid deadlocks); rescheck reads the prohibition as required. "
        "Seen in the script's text (a ProgID or moniker in a string literal, on a line a call can "
        "reach) and when the script creates such an object (CreateObject, ActiveXObject or "
        "GetObject); the stand-in then fails as the object would be refused."
    ),
    scenarios=SCRIPT_SCENARIOS,
    applies_to=SCRIPTS,
)
def cluster_api(ctx: RunContext) -> str:
    path, _ = _script(ctx)
    _refuse_written(
        ctx,
        ("cluster-api",),
        "a control script must not use the Cluster Automation Server, the cluster WMI provider "
        "or the Cluster API (deadlocks): use the Resource object",
    )
    uses = [(t, e) for t, e in _events(ctx, "ScriptObject") if e.data.get("use") == "cluster-api"]
    if uses:
        trace, event = uses[0]
        raise Violation(
            f"{path}:{event.data.get('line')}: the script reached for {event.data.get('object')}; "
            "a control script must not use the Cluster Automation Server, the cluster WMI "
            "provider or the Cluster API (deadlocks): use the Resource object",
            trace,
            [e for _, e in uses[:10]],
        )
    objects = [e for _, e in _events(ctx, "ScriptObject") if e.data.get("use") != "cluster-api"]
    return f"no use of the cluster's own APIs ({counted(len(objects), 'other object use')})"


def _static(ctx: RunContext, kinds: tuple[str, ...]) -> list[Finding]:
    """What the script's text shows, of ``kinds`` (on lines a call can reach)."""
    path, language = _script(ctx)
    stat = Path(path).stat()
    return [f for f in _scanned(path, language, stat.st_mtime_ns, stat.st_size) if f.kind in kinds]


@functools.lru_cache(maxsize=8)
def _scanned(path: str, language: str, *stamp: int) -> tuple[Finding, ...]:
    """Scanned once per version of the file (``stamp``), not once per check."""
    return tuple(scan(read_source(Path(path)), language))


def _refuse_written(ctx: RunContext, kinds: tuple[str, ...], why: str) -> None:
    """A violation for what the script's text shows of ``kinds``: the first with its line and
    column, every one in the evidence."""
    path, _ = _script(ctx)
    found = _static(ctx, kinds)
    if found:
        more = f" ({counted(len(found) - 1, 'more use')} in the evidence)" if found[1:] else ""
        raise Violation(
            f"{found[0].where(path)}: {found[0].text}{more}: {why}",
            lines=[f"{f.where(path)}: {f.text}" for f in found],
        )


@check(
    "Script.no-console",
    RECOMMENDED,
    entry_points=("Open", "Online", "Offline", "Close", "Terminate", "LooksAlive", "IsAlive"),
    statement=(
        "A control script uses no console and no desktop: no WScript object (Echo, Sleep, Quit, "
        "...), no MsgBox or InputBox; its output goes through Resource.LogInformation."
    ),
    doc="W:scripted-resource-example",
    contract=("GS-39",),
    policy=(
        "The page says a scripted resource has no desktop, so writing to the console fails; it "
        "gives no level, and the failure is a runtime error, so rescheck reports it as "
        "recommended, like Script.runtime-errors. Found in the script's text, with line and "
        "column, on every line a call can reach (code in a function nothing calls is left out), "
        "and when a call used it."
    ),
    scenarios=SCRIPT_SCENARIOS,
    applies_to=SCRIPTS,
)
def no_console(ctx: RunContext) -> str:
    path, _ = _script(ctx)
    _refuse_written(
        ctx,
        ("console", "desktop"),
        "a scripted resource has no console and no desktop (this fails where it runs); write "
        "through Resource.LogInformation",
    )
    used = [(t, e) for t, e in _events(ctx, "ScriptObject") if e.data.get("use") == "console"]
    if used:  # reached through code the text does not show (Execute, eval)
        trace, event = used[0]
        raise Violation(
            f"{path}:{event.data.get('line')}: the script used {event.data.get('member')}, but a "
            "scripted resource has no WScript object and no console; write through "
            "Resource.LogInformation",
            trace,
            [e for _, e in used[:10]],
        )
    return "no WScript, MsgBox or InputBox on a line a call can reach, and none used"


@check(
    "Script.resource-members",
    RECOMMENDED,
    entry_points=("Open", "Online", "Offline", "Close", "Terminate", "LooksAlive", "IsAlive"),
    statement=(
        "A control script calls only the members the Resource object has: LogInformation, "
        "AddProperty, RemoveProperty and Name (a private property is read or set as "
        "Resource.<Name>, never called)."
    ),
    doc="W:resource-object",
    contract=("GS-30", "GS-32", "GS-33", "GS-34", "GS-35", "GS-36", "GS-37"),
    policy=(
        "Calling a member the object lacks (Resource.LogError, say) is error 438 when the line "
        "runs, typically on an error path no test reaches; found in the text with line and column "
        "and reported as recommended, like Script.runtime-errors. PropertyExists is not in the "
        "object's method table but the docs' own example calls it (GS-37): rescheck accepts it."
    ),
    scenarios=(),
    applies_to=SCRIPTS,
)
def resource_members(ctx: RunContext) -> str:
    _script(ctx)
    _refuse_written(
        ctx,
        ("resource-member",),
        "the Resource object has no such method (error 438 where it runs); it has "
        "LogInformation, AddProperty, RemoveProperty and Name, and a private property is read "
        "as Resource.<Name>",
    )
    return "only the Resource object's own members are called"
