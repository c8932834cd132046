"""The hypothesis settings rescheck fuzzes with, as named profiles built on hypothesis's own
``default`` profile, never on the profile loaded at the time: hypothesis loads its ``ci``
profile by itself when the CI variable is set, and that one derandomizes and drops the
example database, which would turn every campaign into the same one.

``rescheck-conformance`` is deterministic (fixed examples, no database): the state machine's
``TestCase`` runs with it, so a CI job that collects it judges the same sequences every time.
``rescheck-campaign`` is random unless a seed is given, and keeps an example database:
`rescheck fuzz` builds its settings on it."""

from __future__ import annotations

from hypothesis import Phase, settings

#: Steps per example: enough for three Online/Offline cycles of two instances.
STEPS_PER_EXAMPLE = 30

#: No health check is suppressed: none has a reason to fire. ``too_slow`` times only the
#: drawing of steps, never the target's calls (a slow target is the target's business, and
#: the .timing rules judge it); the steps are small (``data_too_large``,
#: ``large_base_example``); a rule is chosen among the enabled ones, never filtered out
#: (``filter_too_much``); and the machine is no pytest test with fixtures. A health check
#: that fires would mean the machine changed, not the target.
_BASE = {
    "stateful_step_count": STEPS_PER_EXAMPLE,
    "deadline": None,  # entry points have their own budgets (the .timing rules)
    "print_blob": False,  # the reproducer file is the way to replay
    # no explain phase: it traces every line the failing example runs, which a script engine
    # written in Python (asppy) makes take minutes; the reproducer and its trace explain
    "phases": tuple(phase for phase in Phase if phase is not Phase.explain),
}
settings.register_profile(
    "rescheck-conformance",
    parent=settings.get_profile("default"),
    derandomize=True,
    database=None,
    max_examples=50,
    **_BASE,
)
settings.register_profile(
    "rescheck-campaign",
    parent=settings.get_profile("default"),
    derandomize=False,
    **_BASE,
)
CONFORMANCE = settings.get_profile("rescheck-conformance")
CAMPAIGN = settings.get_profile("rescheck-campaign")
