"""The Generic Script DLL on its own, through the reference monitor: the Resource Monitor
actions table (§8.3) row by row, GS-13's reading of answers, Terminate of a running script,
and GEN_SCRIPT_VALIDATE_PATH. The script is a Python control script that logs every call, so
the order of loads and calls can be read from the trace."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from conformance.genscript import SCRIPT_FILE_PATH
from conformance.monitor.monitor import Resource, ResourceMonitor
from conformance.monitor.policy import Policy
from conformance.resapi import (
    CLUSCTL_RESOURCE_TYPE_GEN_SCRIPT_VALIDATE_PATH,
    ERROR_FILE_NOT_FOUND,
    ERROR_SUCCESS,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOnline,
)
from conformance.runtime.trace import CALLBACK
from conformance.suite.context import ScenarioRun
from conformance.targets import load_target

RECORDER = """
Resource.LogInformation("load")
def Open():
    Resource.LogInformation("Open")
def Online():
    Resource.LogInformation("Online")
    return ONLINE_ANSWER
def Offline():
    Resource.LogInformation("Offline")
def LooksAlive():
    Resource.LogInformation("LooksAlive")
    return True
def IsAlive():
    Resource.LogInformation("IsAlive")
    return True
def Close():
    Resource.LogInformation("Close")
def Terminate():
    Resource.LogInformation("Terminate")
"""


def script(tmp_path: Path, online_answer: str = "0", extra: str = "") -> Path:
    path = tmp_path / "recorder.py"
    path.write_text(f"ONLINE_ANSWER = {online_answer}\n{RECORDER}{extra}", encoding="utf-8")
    return path


def monitor_for(path: Path) -> ResourceMonitor:
    """A started monitor on the Generic Script DLL, hosting ``path`` in this process."""
    target = load_target(str(path), hosting="in-process")
    monitor = ScenarioRun("unit", target, Policy()).monitor()
    monitor.startup()
    return monitor


def open_one(monitor: ResourceMonitor, path: Path) -> Resource:
    """An instance whose ScriptFilePath is ``path``."""
    return monitor.open("r1", {SCRIPT_FILE_PATH: str(path)})


def steps(monitor: ResourceMonitor, since: int = 0) -> list[str]:
    """What the script did, in order: its own log lines and the DLL's unloads."""
    out = []
    for event in list(monitor.trace)[since:]:
        if event.kind != CALLBACK:
            continue
        if event.name == "LogEvent" and event.data.get("message") in {
            "load",
            "Open",
            "Online",
            "Offline",
            "LooksAlive",
            "IsAlive",
            "Close",
            "Terminate",
        }:
            out.append(event.data["message"])
        elif event.name == "ScriptUnload":
            out.append("unload")
    return out


def test_the_actions_table_row_by_row(tmp_path: Path) -> None:
    path = script(tmp_path)
    monitor = monitor_for(path)
    try:
        mark = len(monitor.trace)
        resource = open_one(monitor, path)
        assert steps(monitor, mark) == ["load", "Open", "Close", "unload"], "the Open row"
        mark = len(monitor.trace)
        assert resource.online() == ClusterResourceOnline, "the script's Online returns 0"
        assert steps(monitor, mark) == ["load", "Open", "Online"], "the Online row keeps it loaded"
        mark = len(monitor.trace)
        resource.looks_alive()
        resource.is_alive()
        assert steps(monitor, mark) == ["LooksAlive", "IsAlive"], "polls never load (GS-17)"
        mark = len(monitor.trace)
        assert resource.offline() == ClusterResourceOffline
        assert steps(monitor, mark) == ["Offline", "Close", "unload"], "the Offline row"
        mark = len(monitor.trace)
        resource.terminate()
        assert steps(monitor, mark) == ["load", "Open", "Terminate", "Close", "unload"], (
            "the Terminate row loads a script that is not loaded"
        )
        resource.online()
        mark = len(monitor.trace)
        resource.terminate()
        assert steps(monitor, mark) == ["Open", "Terminate", "Close", "unload"], (
            "the Terminate row does not load a loaded script, but calls Open again (GS-21)"
        )
        mark = len(monitor.trace)
        resource.close()
        assert steps(monitor, mark) == ["load", "Open", "Close", "unload"], "the Close row"
    finally:
        monitor.shutdown()


@pytest.mark.parametrize(
    "answer, state",
    [
        ("None", ClusterResourceOnline),
        ("0", ClusterResourceOnline),
        ("True", ClusterResourceOnline),
        ("1", ClusterResourceFailed),
        ("False", ClusterResourceFailed),
        ("'text'", ClusterResourceFailed),
    ],
)
def test_online_reads_the_answer_as_gs13_says(tmp_path: Path, answer: str, state: int) -> None:
    path = script(tmp_path, answer)
    monitor = monitor_for(path)
    try:
        resource = open_one(monitor, path)
        assert resource.online() == state, f"Online answering {answer} should end in {state}"
        if state == ClusterResourceFailed:
            logged = [
                e for e in monitor.trace.callbacks("LogEvent") if "failed" in e.data["message"]
            ]
            assert logged, "a failure is written to the cluster log (GS-13)"
    finally:
        monitor.shutdown()


def test_terminate_stops_a_script_that_is_still_running(tmp_path: Path) -> None:
    spinning = (
        '\ndef Online():\n    Resource.LogInformation("Online")\n    while True:\n        pass\n'
    )
    path = script(tmp_path, extra=spinning)
    monitor = monitor_for(path)
    try:
        resource = open_one(monitor, path)
        resource.online(wait=False)
        deadline = time.monotonic() + 10
        while "Online" not in steps(monitor) and time.monotonic() < deadline:
            time.sleep(0.01)  # until the script is spinning
        resource.terminate()
        assert resource.state == ClusterResourceOffline, "Terminate ends the pending Online"
        answers = [
            e.data["status"]
            for e in monitor.trace.callbacks("ScriptCall")
            if e.data["step"] == "Online"
        ]
        assert answers == ["interrupted"], f"the spinning Online is interrupted; got {answers}"
        assert steps(monitor)[-4:] == ["Open", "Terminate", "Close", "unload"], (
            "then the Terminate row runs"
        )
    finally:
        monitor.shutdown()


def test_gen_script_validate_path(tmp_path: Path) -> None:
    path = script(tmp_path)
    monitor = monitor_for(path)
    try:
        for given, expected in (
            (str(path), ERROR_SUCCESS),
            ("/nonexistent/x.vbs", ERROR_FILE_NOT_FOUND),
        ):
            result = monitor.type_control(
                CLUSCTL_RESOURCE_TYPE_GEN_SCRIPT_VALIDATE_PATH,
                (given + "\0").encode("utf-16-le"),
                None,
            )
            assert result.status == expected, f"VALIDATE_PATH of {given} should be {expected}"
    finally:
        monitor.shutdown()


def test_terminate_interrupts_a_poll_stuck_in_the_script(tmp_path: Path) -> None:
    stuck = (
        '\ndef LooksAlive():\n    Resource.LogInformation("LooksAlive")\n'
        "    while True:\n        pass\n"
    )
    path = script(tmp_path, extra=stuck)
    monitor = monitor_for(path)
    try:
        resource = open_one(monitor, path)
        resource.online()
        answers: list[object] = []
        poller = threading.Thread(target=lambda: answers.append(resource.looks_alive()))
        poller.start()
        deadline = time.monotonic() + 10
        while "LooksAlive" not in steps(monitor) and time.monotonic() < deadline:
            time.sleep(0.01)
        resource.terminate()
        poller.join(10)
        assert not poller.is_alive() and not answers[0], (
            f"Terminate should stop the stuck LooksAlive, which then answers FALSE: {answers}"
        )
        assert steps(monitor)[-4:] == ["Open", "Terminate", "Close", "unload"], steps(monitor)
    finally:
        monitor.shutdown()


def test_instances_of_one_node_share_its_disks(tmp_path: Path) -> None:
    """A Windows path is the same file for every instance of a node (FN: a shared flag)."""
    writer = (
        '\nfso = CreateObject("Scripting.FileSystemObject")\n'
        "def Online():\n"
        '    if Resource.Name == "a":\n'
        '        fso.CreateTextFile("C:\\\\shared.txt", True).Close()\n'
        "        return 0\n"
        '    return 0 if fso.FileExists("C:\\\\shared.txt") else 1\n'
    )
    path = script(tmp_path, extra=writer)
    monitor = monitor_for(path)
    try:
        a = monitor.open("a", {SCRIPT_FILE_PATH: str(path)})
        b = monitor.open("b", {SCRIPT_FILE_PATH: str(path)})
        assert a.online() == ClusterResourceOnline
        assert b.online() == ClusterResourceOnline, "instance b should see the file a wrote"
    finally:
        monitor.shutdown()
