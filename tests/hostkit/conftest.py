"""The host test kit: the protocol's conformance suite (docs/host-protocol.md), which every
host passes. A host joins the kit with a `HostUnderTest`: how to start it on the kit's
target, on a target that does not exist, and which optional behaviours its language has."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conformance.monitor.launch import Launch, python_launch
from conformance.targets.pydll import resolve
from tests.hostkit.driver import KitHost
from tests.native import requires_native

HERE = Path(__file__).parent


@dataclass(frozen=True)
class HostUnderTest:
    name: str
    kit: Launch  # the host on the kit's target (kit_dll.py, or its C twin)
    missing: Launch  # the host on a target that is not there
    #: Optional behaviours: ``thread-exception`` (an exception escaping a target's thread is
    #: a note; in C it is a crash), ``stacks-file`` (faulthandler on SIGUSR1),
    #: ``cluster-database`` (the target's ClusterReg* calls reach the monitor's database).
    features: frozenset[str] = field(default_factory=frozenset)


def _python_host(tmp_path: Path) -> HostUnderTest:
    gone = tmp_path / "gone.py"
    gone.write_text("def Startup(*args):\n    return 0, None\n")
    missing = python_launch(resolve(str(gone)))
    gone.unlink()
    return HostUnderTest(
        "python",
        python_launch(resolve(str(HERE / "kit_dll.py"))),
        missing,
        frozenset({"thread-exception", "stacks-file", "cluster-database"}),
    )


def _native_host(tmp_path: Path) -> HostUnderTest:
    from conformance.native.build import build_dll
    from conformance.native.launch import native_launch

    if requires_native.args[0]:
        pytest.skip(requires_native.kwargs["reason"])
    dll = build_dll([HERE / "kit_dll.c"], tmp_path / "kit_dll.dll")
    return HostUnderTest("native", native_launch(dll), native_launch(tmp_path / "gone.dll"))


HOSTS = {"python": _python_host, "native": _native_host}


@pytest.fixture(params=sorted(HOSTS))
def host_under_test(request: pytest.FixtureRequest, tmp_path: Path) -> HostUnderTest:
    return HOSTS[request.param](tmp_path)


@pytest.fixture
def raw(host_under_test: HostUnderTest) -> Iterator[KitHost]:
    """The host started on the kit's target, nothing asked yet."""
    host = KitHost(host_under_test.kit)
    try:
        yield host
    finally:
        host.close()
    assert host.violation is None, f"the host broke the protocol: {host.violation.describe()}"


@pytest.fixture
def kit(raw: KitHost) -> KitHost:
    """The host with the kit's target loaded and started."""
    assert raw.wait_for(lambda: raw.log), "the host said nothing"
    loaded = raw.load()
    assert loaded is not None and loaded.error is None, f"the kit target did not load: {loaded}"
    answer = raw.startup()
    assert answer is not None and answer.outcome["value"][0] == 0, f"Startup: {answer}"
    return raw
