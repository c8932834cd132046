"""The 300 ms budgets (RM-5 and each entry point's page), judged on repeated samples."""

from __future__ import annotations

import statistics

from conformance.monitor.policy import ENTRY_POINT_BUDGET_MS, ISALIVE_IDEAL_MS
from conformance.rules import RECOMMENDED
from conformance.suite.context import RunContext, Violation, counted
from conformance.suite.costs import NO_CHARGE, POWERSHELL, charge
from conformance.suite.registry import check

#: What the figures include: the call alone, timed on the thread that makes it.
MEASURED = (
    "each duration is measured on the calling thread just around the call, so the harness's "
    "overhead (benchmarks/monitor_overhead.py: about 0.1 ms per call) is not in it"
)
#: How a budget is judged on samples (IsAlive's and DllMain's say more).
TIMING_POLICY = (
    "Judged on repeated samples: the median must be within the budget; a single slow sample on "
    "a busy machine is reported as unstable timing, not as a violation."
)
#: The scenarios whose calls are timed.
SCENARIOS = (
    "lifecycle",
    "terminate-pending",
    "startup-ranges",
    "instances",
    "leak-audit",
    "control",
    "stored-properties",
)


@check(
    "DllMain.timing",
    RECOMMENDED,
    entry_points=("DllMain",),
    statement=(
        "Loading the DLL returns within 300 ms; for a Python resource DLL that is executing the "
        "module, which does what LoadLibrary and DllMain do for a real DLL."
    ),
    doc="W:implementing-dllmain",
    contract=("DM-4", "RM-5"),
    policy=(
        "A Python DLL has no DllMain: its module's top-level code runs when the Resource Monitor "
        "loads it, as DLL_PROCESS_ATTACH does, so that time is measured. Each scenario loads the "
        "module afresh, which gives repeated samples; the median is judged."
    ),
    scenarios=SCENARIOS,
)
@check(
    "Startup.timing",
    RECOMMENDED,
    entry_points=("Startup",),
    statement="Startup returns within 300 ms (longer work belongs on a worker thread).",
    doc="W:implementing-startup",
    contract=("ST-6", "RM-5"),
    policy=TIMING_POLICY,
    scenarios=SCENARIOS,
)
@check(
    "Open.timing",
    RECOMMENDED,
    entry_points=("Open",),
    statement="Open returns within 300 ms (longer work belongs on a worker thread).",
    doc="W:implementing-open",
    contract=("OP-9", "RM-5"),
    policy=TIMING_POLICY,
    scenarios=SCENARIOS,
)
@check(
    "Close.timing",
    RECOMMENDED,
    entry_points=("Close",),
    statement="Close returns within 300 ms (longer work belongs on a worker thread).",
    doc="W:implementing-close",
    contract=("CL-6", "RM-5"),
    policy=TIMING_POLICY,
    scenarios=SCENARIOS,
)
@check(
    "Online.timing",
    RECOMMENDED,
    entry_points=("Online",),
    statement="Online returns within 300 ms (longer work belongs on a worker thread).",
    doc="W:implementing-online",
    contract=("ON-5", "PO-1", "RM-5"),
    policy=TIMING_POLICY,
    scenarios=SCENARIOS,
)
@check(
    "Offline.timing",
    RECOMMENDED,
    entry_points=("Offline",),
    statement="Offline returns within 300 ms (longer work belongs on a worker thread).",
    doc="W:implementing-offline",
    contract=("OF-5", "PO-1", "RM-5"),
    policy=TIMING_POLICY,
    scenarios=SCENARIOS,
)
@check(
    "Terminate.timing",
    RECOMMENDED,
    entry_points=("Terminate",),
    statement="Terminate returns within 300 ms (longer work belongs on a worker thread).",
    doc="W:implementing-terminate",
    contract=("TE-5", "RM-5"),
    policy=TIMING_POLICY,
    scenarios=SCENARIOS,
)
@check(
    "LooksAlive.timing",
    RECOMMENDED,
    entry_points=("LooksAlive",),
    statement="LooksAlive returns within 300 ms (longer work belongs on a worker thread).",
    doc="W:implementing-looksalive",
    contract=("LA-7", "RM-5", "GS-15"),
    policy=TIMING_POLICY,
    scenarios=SCENARIOS,
)
@check(
    "IsAlive.timing",
    RECOMMENDED,
    entry_points=("IsAlive",),
    statement="IsAlive returns within 300 ms (longer work belongs on a worker thread).",
    doc="W:implementing-isalive",
    contract=("IA-6", "RM-5", "GS-15"),
    policy=(
        "Judged on repeated samples: the median must be within 300 ms; the docs' ideal of 50 ms "
        "is reported as information only."
    ),
    scenarios=SCENARIOS,
)
@check(
    "ResourceControl.timing",
    RECOMMENDED,
    entry_points=("ResourceControl",),
    statement="ResourceControl returns within 300 ms (longer work belongs on a worker thread).",
    doc="W:implementing-resourcecontrol",
    contract=("RC-9", "RM-5"),
    policy=TIMING_POLICY,
    scenarios=SCENARIOS,
)
@check(
    "ResourceTypeControl.timing",
    RECOMMENDED,
    entry_points=("ResourceTypeControl",),
    statement=(
        "ResourceTypeControl returns within 300 ms (longer work belongs on a worker thread)."
    ),
    doc="W:implementing-resourcetypecontrol",
    contract=("RC-9", "RM-5"),
    policy=TIMING_POLICY,
    scenarios=SCENARIOS,
)
def timing(ctx: RunContext, entry: str) -> str:
    runs = ctx.scenarios(*SCENARIOS)
    found = [pair for run in runs for pair in run.calls(entry)]
    samples = [(t, e) for t, e in found if e.end is not None and e.error is None]
    if not samples:
        why = "was never called" if not found else "never returned a value"
        raise ctx.nothing_to_judge(f"{entry} {why}, so it has no timing", runs)
    # a script's LooksAlive has its own 300 ms budget (GS-15); what else the Generic
    # Script DLL runs synchronously is the DLL's to bound, so it is measured, not charged
    charged = ctx.target.script is not None and entry == "LooksAlive"
    # each sample with its own charge (a trace numbers its events from 1: no seq keys)
    timed = sorted(
        (
            ((e.duration or 0.0) * 1000 + c.ms, t, e, c)
            for t, e in samples
            for c in [charge(e, t) if charged else NO_CHARGE]
        ),
        key=lambda sample: sample[0],
    )
    durations = [d for d, _, _, _ in timed]
    median = statistics.median(durations)
    p95 = durations[min(len(durations) - 1, round(0.95 * (len(durations) - 1)))]
    _, worst_trace, worst, _ = timed[-1]
    figures = (
        f"{len(durations)} samples: p50 {median:.1f} ms, p95 {p95:.1f} ms, "
        f"max {durations[-1]:.1f} ms (budget {ENTRY_POINT_BUDGET_MS} ms)"
    )
    charged_samples = [(t, e, c) for _, t, e, c in timed if c.ms]
    if median > ENTRY_POINT_BUDGET_MS:
        if charged_samples:  # the figures hold estimates: say so, and show one
            shown_trace, shown, shown_charge = charged_samples[-1]
            raise Violation(
                f"{entry} is estimated to take longer than 300 ms on Windows: {figures}, "
                f"{counted(len(charged_samples), 'sample')} being the time measured here "
                f"plus the documented cost of what it waited for "
                f"({'; '.join(shown_charge.items)})",
                shown_trace,
                [shown],
                [
                    "samples with their charges (ms): " + ", ".join(f"{d:.1f}" for d in durations),
                    f"estimated: {POWERSHELL.what} costs {POWERSHELL.ms} ms, from "
                    f"{POWERSHELL.source}",
                    MEASURED,
                ],
            )
        raise Violation(
            f"{entry} took longer than 300 ms: {figures}",
            worst_trace,
            [worst],
            [
                "samples (ms): " + ", ".join(f"{d:.1f}" for d in durations),
                MEASURED,
            ],
        )
    over = [d for d in durations if d > ENTRY_POINT_BUDGET_MS]
    notes = []
    if charged_samples:
        items = "; ".join(charged_samples[-1][2].items)
        notes.append(f"estimated with the documented cost of {items}")
    uncharged = max(c.uncharged for _, _, _, c in timed)
    if uncharged:
        notes.append(
            f"it waits for {counted(uncharged, 'process', 'processes')} whose Windows cost "
            "is not modelled (counted as 0 ms)"
        )
    if over:
        notes.append(f"unstable timing: {len(over)} of {len(durations)} samples over budget")
    if entry == "IsAlive" and median > ISALIVE_IDEAL_MS:
        notes.append(f"above the ideal {ISALIVE_IDEAL_MS} ms (information only)")
    return figures + ("; " + "; ".join(notes) if notes else "")
