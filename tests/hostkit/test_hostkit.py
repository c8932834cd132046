"""The host protocol's conformance suite: what every host must do (docs/host-protocol.md).

Each test names the section of the document it holds a host to. Run for every host in
`HOSTS` (conftest.py); the driver checks every message the host sends as rescheck does.
"""

from __future__ import annotations

from conformance.protocol import messages
from conformance.protocol.values import OutHandle, QuorumRoutine, RemoteRef
from conformance.resapi import RESOURCE_HANDLE
from tests.hostkit.conftest import HostUnderTest
from tests.hostkit.driver import KitHost, settle

V1 = ("Open", "Close", "Online", "Offline", "Terminate", "LooksAlive", "IsAlive",
      "Arbitrate", "Release", "ResourceControl", "ResourceTypeControl")  # fmt: skip
ERROR_IO_PENDING = 997


def opened(kit: KitHost, name: str) -> RemoteRef:
    answer = kit.call(
        "Open", name, kit.hkey(f"Resources\\{name}"), RESOURCE_HANDLE(7), resource=name
    )
    resid = answer.outcome["value"]
    assert isinstance(resid, RemoteRef), f"Open should hand back a RESID (a REF): {answer}"
    return resid


def before(kit: KitHost, earlier: messages.Message, later: messages.Message) -> bool:
    return kit.log.index(earlier) < kit.log.index(later)


# --- Start ---------------------------------------------------------------------------------
def test_hello_comes_first_with_the_version_and_the_hosts_pid(raw: KitHost) -> None:
    assert raw.wait_for(lambda: raw.log), "the host said nothing"
    hello = raw.log[0]
    assert isinstance(hello, messages.Hello), f"the first message must be hello: {hello}"
    assert hello.protocol == 1 and hello.host, hello
    assert hello.pid > 0, hello  # its own id (a Windows one under Wine): for evidence


def test_load_times_the_target_and_says_what_it_declares(raw: KitHost) -> None:
    loaded = raw.load()
    assert isinstance(loaded, messages.Loaded) and loaded.error is None, loaded
    start, end = loaded.loaded
    assert 0 < start <= end, f"loaded should be [start, end] of loading: {loaded.loaded}"


def test_a_target_that_is_not_there_is_refused_in_one_line(
    host_under_test: HostUnderTest,
) -> None:
    host = KitHost(host_under_test.missing)
    try:
        loaded = host.load()
        assert isinstance(loaded, messages.Loaded) and loaded.error, loaded
        assert "\n" not in loaded.error.strip(), f"one line for the user: {loaded.error!r}"
    finally:
        host.close()
    assert host.violation is None, host.violation


def test_startup_answers_the_function_table(raw: KitHost) -> None:
    raw.load()
    answer = raw.startup()
    assert isinstance(answer, messages.Answer), answer
    assert answer.outcome["error"] is None and answer.outcome["value"][0] == 0, answer.outcome
    assert answer.table is not None and answer.table["version"] == 0x100, answer.table
    shape = answer.table["shape"]
    assert {entry: shape.get(entry) for entry in V1} == dict.fromkeys(V1, "callable"), shape


# --- Calls and callbacks -------------------------------------------------------------------
def test_open_calls_back_on_its_thread_before_it_answers(kit: KitHost) -> None:
    answer = kit.call("Open", "kit-1", kit.hkey("Resources\\kit-1"), RESOURCE_HANDLE(7),
                      resource="kit-1")  # fmt: skip
    assert isinstance(answer.outcome["value"], RemoteRef), answer
    [log] = kit.callbacks("LogEvent")
    assert log.args["handle"] == RESOURCE_HANDLE(7), log.args
    assert log.args["message"] == "opened kit-1 0000002a", f"formatted in the host: {log.args}"
    assert log.args["length"] == len(log.args["message"]) and log.args["format"], log.args
    assert log.context == ("Open", "kit-1"), log
    assert before(kit, log, answer), "LogEvent must come before Open's answer"
    assert answer.outcome["thread"] == log.thread[1], "Open called back from its own thread"


def test_the_cluster_database_is_reached_through_callbacks(
    kit: KitHost, host_under_test: HostUnderTest
) -> None:
    if "cluster-database" not in host_under_test.features:
        return  # the native host's clusapi.dll is issue 17's
    answer = kit.call("Open", "kit-1", kit.hkey("Resources\\kit-1"), RESOURCE_HANDLE(7),
                      resource="kit-1")  # fmt: skip
    assert kit.db.get_value("Resources\\kit-1", "Opened") == (4, 1), "ClusterRegSetValue"
    [access] = [c for c in kit.callbacks("ClusterDatabaseAccess") if c.args["write"]]
    assert access.context == ("Open", "kit-1") and before(kit, access, answer), access


def test_an_open_that_fails_reports_its_last_error_before_the_answer(kit: KitHost) -> None:
    answer = kit.call("Open", "kit-fail", kit.hkey("Resources\\kit-fail"), RESOURCE_HANDLE(8))
    assert answer.outcome["value"] is None, answer
    [error] = kit.callbacks("SetLastError")
    assert error.args["code"] == 5 and before(kit, error, answer), error


def test_a_pending_online_reports_and_hears_the_monitors_reply(kit: KitHost) -> None:
    resid = opened(kit, "kit-pending")
    answer = kit.call("Online", resid, OutHandle(), resource="kit-pending")
    assert answer.outcome["value"] == ERROR_IO_PENDING, answer
    assert kit.wait_for(lambda: len(kit.callbacks("SetResourceStatus")) == 2), kit.log
    states = [(c.args["status"]["ResourceState"], c.args["status"]["CheckPoint"])
              for c in kit.callbacks("SetResourceStatus")]  # fmt: skip
    assert states == [(129, 1), (2, 2)], states
    assert all(c.context is None for c in kit.callbacks("SetResourceStatus")), "a worker's"


def test_the_reply_to_set_resource_status_reaches_the_dll(kit: KitHost) -> None:
    kit.exit_state = 1  # ResourceExitStateTerminate: the worker stops after its first report
    resid = opened(kit, "kit-pending")
    kit.call("Online", resid, OutHandle(), resource="kit-pending")
    assert kit.wait_for(lambda: kit.callbacks("SetResourceStatus")), kit.log
    settle(0.3)
    assert len(kit.callbacks("SetResourceStatus")) == 1, "the DLL did not hear the reply"


def test_an_event_online_hands_out_is_watched(kit: KitHost) -> None:
    resid = opened(kit, "kit-event")
    answer = kit.call("Online", resid, OutHandle(), resource="kit-event")
    [(index, number, _text)] = answer.events
    assert index == 1, f"the EventHandle is Online's second parameter: {answer.events}"
    assert kit.wait_for(
        lambda: any(isinstance(m, messages.Event) and m.event == number for m in kit.log)
    ), "the signalled event should be reported"


def test_an_out_buffer_comes_back_as_the_dll_left_it(kit: KitHost) -> None:
    resid = opened(kit, "kit-2")
    for size in (16, 1 << 20):
        answer = kit.call("ResourceControl", resid, 0x01000005, None, bytearray(size))
        assert answer.outcome["value"] == (0, 4), answer.outcome
        [(index, content)] = answer.buffers
        assert index == 3 and content == b"\x01\x02\x03\x04" + bytes(size - 4), index


def test_arbitrate_gets_a_routine_that_calls_lost_quorum_resource_back(kit: KitHost) -> None:
    resid = opened(kit, "kit-3")
    answer = kit.call("Arbitrate", resid, QuorumRoutine())
    assert answer.outcome["value"] == 0, answer
    assert kit.wait_for(lambda: kit.callbacks("LostQuorumResource")), kit.log
    [lost] = kit.callbacks("LostQuorumResource")
    assert lost.args["handle"] == RESOURCE_HANDLE(7), lost.args


def test_log_event_is_formatted_and_bounded_in_the_host(kit: KitHost) -> None:
    opened(kit, "kit-bomb")  # logs "%1!300000000s!"
    [log] = kit.callbacks("LogEvent")
    assert log.args["length"] == 300_000_000, log.args["length"]
    assert len(log.args["message"]) < 9000 and "cut" in log.args["message"][-60:], (
        f"the message should be cut and marked: ...{log.args['message'][-60:]!r}"
    )


# --- Containment ---------------------------------------------------------------------------
def test_a_call_that_never_returns_leaves_the_host_serving(kit: KitHost) -> None:
    resid = opened(kit, "kit-hang")
    assert kit.call("Online", resid, OutHandle(), timeout=0.5) is None, "Online hangs"
    stacks = kit.audit("stacks")
    assert stacks.status == "ok" and isinstance(stacks.value, str) and stacks.value, stacks
    assert kit.call("LooksAlive", resid).outcome["value"] in (True, 1), "other calls served"


def test_a_crash_in_a_call_ends_the_host_without_an_answer(kit: KitHost) -> None:
    resid = opened(kit, "kit-crash")
    assert kit.call("IsAlive", resid) is None, "no answer from a host that died"
    assert kit.exited() == 3, "the host's own exit status"


def test_an_exception_escaping_a_thread_is_a_note(
    kit: KitHost, host_under_test: HostUnderTest
) -> None:
    if "thread-exception" not in host_under_test.features:
        return  # in C, an exception that escapes a thread ends the process (the crash test)
    resid = opened(kit, "kit-raise")
    kit.call("Online", resid, OutHandle())
    assert kit.wait_for(lambda: kit.callbacks("ThreadException")), kit.log
    [raised] = kit.callbacks("ThreadException")
    assert "ZeroDivisionError" in raised.args["error"] and raised.thread[1] == "kit-raiser"


# --- Audits, end ---------------------------------------------------------------------------
def test_audits_count_what_the_target_holds(kit: KitHost) -> None:
    baseline = kit.audit("baseline")
    # the host's own threads are not the target's: a baseline may be empty
    assert baseline.status == "ok" and isinstance(baseline.value, tuple), baseline
    resid = opened(kit, "kit-pending")
    kit.call("Online", resid, OutHandle())
    usage = kit.audit("usage", baseline.value, None)
    assert usage.status == "ok" and set(usage.value) == {"threads", "fds", "children"}, usage
    assert all(type(v) is int and v >= 0 for v in usage.value.values()), usage.value
    lingering = kit.audit("lingering", baseline.value)
    assert lingering.status == "ok" and all(isinstance(s, str) for s in lingering.value)


def test_shutdown_ends_the_host(kit: KitHost) -> None:
    kit.channel.send(messages.Shutdown())
    assert kit.exited(5) is not None, "the host should exit at once on shutdown"


def test_the_end_of_the_channel_ends_the_host(kit: KitHost) -> None:
    import socket

    kit._sock.shutdown(socket.SHUT_RDWR)
    assert kit.exited(5) is not None, "a host whose monitor has gone exits"
