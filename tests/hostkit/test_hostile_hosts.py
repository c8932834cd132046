"""The monitor's side of the protocol against hosts that break it: each is stopped and
blamed with what it sent, quickly, and nothing of it is left running (docs/host-protocol.md:
"A host that sends anything else has broken the protocol")."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from conformance.errors import TargetLoadError
from conformance.monitor.isolated import IsolatedHost
from conformance.monitor.launch import Launch
from tests.hostkit.fake_host import MISBEHAVIOURS

FAKE = Path(__file__).with_name("fake_host.py")


def fake(scenario: str) -> IsolatedHost:
    launch = Launch(
        name=f"fake host ({scenario})",
        argv=lambda fd: [sys.executable, str(FAKE), str(fd), scenario],
        env=dict(os.environ),
        target={},
    )
    return IsolatedHost(launch=launch, ready_timeout=3.0)


class Callbacks:
    cluster_root = None

    def __init__(self) -> None:
        self.exits: list[str] = []

    def host_exited(self, how: str, output: str) -> None:
        self.exits.append(how)


BROKEN = sorted(set(MISBEHAVIOURS) - {"silent", "dies-mid-message"})


@pytest.mark.parametrize("scenario", BROKEN)
def test_a_host_that_breaks_the_protocol_is_stopped_and_blamed(scenario: str) -> None:
    host = fake(scenario)
    started = time.perf_counter()
    try:
        outcome = host.startup("T", 0x100, 0x100, Callbacks(), timeout=10.0)  # type: ignore[arg-type]
    finally:
        host.close()
    assert time.perf_counter() - started < 5, "stopped at once, not at a deadline"
    assert outcome.crashed and "broke the host protocol" in outcome.crashed, outcome
    assert host.process.process.poll() is not None, "the host was stopped"


def test_a_host_that_dies_mid_message_is_reported_as_ended() -> None:
    host = fake("dies-mid-message")
    try:
        outcome = host.startup("T", 0x100, 0x100, Callbacks(), timeout=10.0)  # type: ignore[arg-type]
    finally:
        host.close()
    assert outcome.crashed and "inside a frame" in outcome.crashed, outcome.crashed


def test_a_host_that_never_answers_costs_the_deadline_and_no_more() -> None:
    host = fake("silent")
    started = time.perf_counter()
    try:
        outcome = host.startup("T", 0x100, 0x100, Callbacks(), timeout=0.5)  # type: ignore[arg-type]
    finally:
        host.close()
    assert outcome.end is None and outcome.stacks, "a call past its deadline, with evidence"
    assert time.perf_counter() - started < 5, time.perf_counter() - started
    assert host.process.process.poll() is not None, "closed: nothing left running"


@pytest.mark.parametrize(
    ("scenario", "said"),
    [
        ("no-hello", "took over 3 s"),
        ("version", "protocol version 2"),
        ("early-answer", "broke the host protocol"),
    ],
)
def test_a_host_that_cannot_start_is_a_load_error_in_one_line(scenario: str, said: str) -> None:
    with pytest.raises(TargetLoadError) as raised:
        fake(scenario)
    message = str(raised.value)
    assert said in message and "\n" not in message, message
