"""rescheck: conformance checks for Windows Failover Cluster resource types.

The public API is small: `check_resource_type` runs the suite as a library call, and
`Companion` is what a target uses to tell the harness what it needs. A resource DLL written
in Python uses `conformance.resapi` (constants, FunctionTable, SetLastError),
`conformance.clusapi` (the cluster database) and `conformance.resutils` (worker threads).
"""

from __future__ import annotations

from conformance.companion import RUN, Companion, ProbeContext, scratch_dir

__version__ = "0.1.0"
__all__ = [
    "RUN",
    "Companion",
    "ProbeContext",
    "__version__",
    "check_resource_type",
    "scratch_dir",
]


def __getattr__(name: str) -> object:
    # Lazy: importing `conformance` from a resource DLL must not pull in the whole harness.
    if name == "check_resource_type":
        from conformance.suite.runner import check_resource_type

        return check_resource_type
    raise AttributeError(name)
