"""The poll intervals test instances are opened with: shared by every scenario module."""

from __future__ import annotations

from conformance.resapi import ClusterResourceDontRestart

#: Poll intervals for test instances (resource-level overrides, FP-2/FP-4): 20 s and 40 s
#: documented, so 200 ms / 400 ms at the default scale.
#: RestartAction is ClusterResourceDontRestart on every test instance: the scenario, not the
#: restart policy, decides when an instance comes online again.
FAST_POLLS = {
    "LooksAlivePollInterval": 2000,
    "IsAlivePollInterval": 4000,
    "RestartAction": ClusterResourceDontRestart,
}
#: Poll intervals that never fire during a scenario (1 h documented, 36 s scaled).
QUIET_POLLS = {**FAST_POLLS, "LooksAlivePollInterval": 3_600_000, "IsAlivePollInterval": 3_600_000}
