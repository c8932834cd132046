"""Arbitrate and Release (AR-1..AR-8, RL-1): who owns the quorum as far as the monitor knows,
LostQuorumResource, and arbitrating before a quorum resource's Online."""

from __future__ import annotations

import pytest

from conformance.monitor.monitor import MonitorError
from conformance.resapi import ERROR_SUCCESS

if __package__:  # tests/unit became a package
    from .monitor_rig import rig_fixture as rig_fixture
    from .scripted_dll import ScriptedDLL
else:  # rootdir-relative import (pytest's default "prepend" mode)
    from monitor_rig import rig_fixture as rig_fixture
    from scripted_dll import ScriptedDLL


def arbitrate_then_lose(dll, resid, lost):
    dll.lost = lost
    return ERROR_SUCCESS


def test_arbitrate_release_and_lost_quorum(rig):
    dll = ScriptedDLL(null=(), Arbitrate=arbitrate_then_lose)
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    assert resource.arbitrate() == ERROR_SUCCESS and resource.quorum_owner, "Arbitrate won"
    [call] = monitor.trace.calls("Arbitrate")
    assert call.args["LostQuorumResource"] == "PQUORUM_RESOURCE_LOST", call.args
    dll.lost(resource.handle)
    [lost] = monitor.trace.callbacks("LostQuorumResource")
    assert lost.data["known_handle"] and not resource.quorum_owner, (
        "LostQuorumResource with the instance's handle ends its ownership"
    )
    resource.arbitrate()
    assert resource.release() == ERROR_SUCCESS and not resource.quorum_owner, (
        "a successful Release ends the ownership too"
    )


def test_a_type_without_arbitrate_is_not_asked_to_arbitrate(rig):
    dll = ScriptedDLL()  # Arbitrate and Release are NULL
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    with pytest.raises(MonitorError, match="not quorum-capable"):
        resource.arbitrate()
    resource.online()
    assert not monitor.trace.calls("Arbitrate"), "Online of a non-quorum type arbitrates not"


def test_a_quorum_capable_type_arbitrates_before_online(rig):
    dll = ScriptedDLL(null=())
    monitor = rig.monitor(dll)
    resource = rig.open(monitor)
    resource.online()
    names = [
        e.name for e in monitor.trace if e.kind == "call" and e.name in ("Arbitrate", "Online")
    ]
    assert names == ["Arbitrate", "Online"] and resource.quorum_owner, (
        f"the node arbitrates, then brings the quorum resource online; got {names}"
    )
