"""The "Process Application" resource type: a Generic-Application-like DLL for a real process.

Each instance runs ``_tcp_service.py --port <Port>`` as a child process in its own process
group and watches it over TCP. Online and Offline are pending operations done on a
ClusWorker thread (PO-2); Terminate may overlap them (TE-4), so the instance lock guards every
field a worker and an entry point share. The rule that keeps the two apart: a worker only
acts while it is still the instance's current worker, checked under the lock, and Terminate
swaps in a fresh worker under that lock before anything else. So once Terminate has begun no
old worker starts a process, reports a status or logs a line (RS-2, CX-4).

Private properties (``Parameters`` subkey, PL-10), read on Online's worker (ON-7, RM-7):
``Port`` (REG_DWORD, required) and ``StartTimeoutMs`` (REG_DWORD, default 5000), and the
read-only ``ServiceProgram``. They live in a property table that answers the private-property
control codes (``conformance.control_codes``); a SET while the process runs takes effect at
the next Online, so it answers ERROR_RESOURCE_PROPERTIES_STORED (RC-7).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.clusapi import HKEY, ClusterRegCloseKey, ClusterRegOpenKey, ClusterRegQueryValue
from conformance.control_codes import resource_control, type_control
from conformance.resapi import (
    CLRES_VERSION_V1_00,
    CLUS_CHAR_UNKNOWN,
    CLUSPROP_FORMAT_DWORD,
    CLUSPROP_FORMAT_SZ,
    ERROR_BAD_CONFIGURATION,
    ERROR_CLUSTER_RESNAME_NOT_FOUND,
    ERROR_FILE_NOT_FOUND,
    ERROR_GEN_FAILURE,
    ERROR_IO_PENDING,
    ERROR_PROCESS_ABORTED,
    ERROR_RESOURCE_NOT_FOUND,
    ERROR_REVISION_MISMATCH,
    ERROR_SUCCESS,
    ERROR_TIMEOUT,
    LOG_ERROR,
    LOG_INFORMATION,
    LOG_WARNING,
    REG_DWORD,
    RESOURCE_STATUS,
    RESUTIL_PROPITEM_READ_ONLY,
    RESUTIL_PROPITEM_REQUIRED,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOfflinePending,
    ClusterResourceOnline,
    ClusterResourceOnlinePending,
    FunctionTable,
    ResourceExitStateTerminate,
    SetLastError,
)
from conformance.resutils import (
    CLUS_WORKER,
    RESUTIL_PROPERTY_ITEM,
    ClusWorkerCheckTerminate,
    ClusWorkerCreate,
    ClusWorkerTerminate,
)
from reference_impls._tcp_service import ping

RESOURCE_TYPE = "Process Application"
SERVICE = Path(__file__).with_name("_tcp_service.py")

# Private property names and defaults (DS-4).
PORT = "Port"
START_TIMEOUT_MS = "StartTimeoutMs"
START_TIMEOUT_MS_DEFAULT = 5000
#: CLUS_CHAR_* of the type and its resources: none applies (not quorum-capable, CC-2).
CHARACTERISTICS = CLUS_CHAR_UNKNOWN
#: The private properties (PL-9): a changed value takes effect at the next Online (RC-7).
PRIVATE_PROPERTIES = (
    RESUTIL_PROPERTY_ITEM(
        PORT,
        Format=CLUSPROP_FORMAT_DWORD,
        Minimum=1,
        Maximum=0xFFFF,
        Flags=RESUTIL_PROPITEM_REQUIRED,
    ),
    RESUTIL_PROPERTY_ITEM(
        START_TIMEOUT_MS,
        Format=CLUSPROP_FORMAT_DWORD,
        Default=START_TIMEOUT_MS_DEFAULT,
        Minimum=100,
        Maximum=3_600_000,
    ),
)
READ_ONLY_PROPERTIES = (
    RESUTIL_PROPERTY_ITEM(
        "ServiceProgram",
        Format=CLUSPROP_FORMAT_SZ,
        Default=str(SERVICE),
        Flags=RESUTIL_PROPITEM_READ_ONLY,
    ),
)

#: A worker's longest sleep: Terminate waits for the worker, and must return in 300 ms (TE-5).
POLL_SECONDS = 0.05
#: How long Online's worker waits for PONG per poll; a report still goes out every <= 100 ms.
START_PING_SECONDS = 0.04
#: IsAlive's whole budget for PING/PONG (IA-6: well inside 300 ms).
ISALIVE_PING_SECONDS = 0.1
#: How long Offline lets the process exit on SIGTERM before SIGKILL (OF-3).
OFFLINE_GRACE_SECONDS = 3.0
#: How long to wait for a SIGKILLed process to be reaped.
REAP_SECONDS = 0.1

# The callbacks from Startup: one stored copy each for the whole DLL (ST-4, DS-2).
_SetResourceStatus: Any = None
_LogEvent: Any = None


class Instance:
    """Per-instance data (DS-3, ID-2); the object itself is the RESID (ID-1, ID-3)."""

    def __init__(self, name: str, key: HKEY, parameters: HKEY, handle: Any) -> None:
        self.name = name
        self.key = key
        self.parameters = parameters  # the open ``Parameters`` subkey
        self.handle = handle  # only ever passed back to SetResourceStatus and LogEvent (OP-3)
        self.state = ClusterResourceOffline
        self.worker = CLUS_WORKER()
        self.lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None  # the port the running process was started with
        self.closed = False


def Startup(
    ResourceType: str,
    MinVersionSupported: int,
    MaxVersionSupported: int,
    SetResourceStatus: Callable[[Any, RESOURCE_STATUS], int],
    LogEvent: Callable[..., None],
) -> tuple[int, FunctionTable | None]:
    """Check the version range (ST-3, ST-7) and the type name (ST-9), then hand out the table.

    The callbacks are stored only on success, as the documented example does (ST-10).
    Arbitrate and Release are NULL: the type is not quorum-capable (FT-3, AR-1).
    """
    global _SetResourceStatus, _LogEvent
    if not MinVersionSupported <= CLRES_VERSION_V1_00 <= MaxVersionSupported:
        return ERROR_REVISION_MISMATCH, None
    if str(ResourceType).casefold() != RESOURCE_TYPE.casefold():
        return ERROR_CLUSTER_RESNAME_NOT_FOUND, None
    _SetResourceStatus, _LogEvent = SetResourceStatus, LogEvent
    return ERROR_SUCCESS, FunctionTable(
        Version=CLRES_VERSION_V1_00,
        Open=Open,
        Close=Close,
        Online=Online,
        Offline=Offline,
        Terminate=Terminate,
        LooksAlive=LooksAlive,
        IsAlive=IsAlive,
        ResourceControl=ResourceControl,
        ResourceTypeControl=ResourceTypeControl,
    )


def _lookup(ResourceId: Any) -> Instance | None:
    """The instance behind a RESID, or None for anything else (the sample's RESID check)."""
    if isinstance(ResourceId, Instance) and not ResourceId.closed:
        return ResourceId
    return None


# --- Open / Close -------------------------------------------------------------------------------
def Open(ResourceName: str, ResourceKey: HKEY, ResourceHandle: Any) -> Instance | None:
    """Create the instance with nothing started, so the entity is offline (OP-6, OP-7).

    Opening ``Parameters`` only reads the database (RM-7). On failure: SetLastError, NULL (OP-2).
    """
    status, parameters = ClusterRegOpenKey(ResourceKey, "Parameters")
    if status != ERROR_SUCCESS or parameters is None:
        SetLastError(status)
        return None
    return Instance(ResourceName, ResourceKey, parameters, ResourceHandle)


def Close(ResourceId: Instance) -> None:
    """Terminate whatever still runs (CL-3), then free the instance (CL-4)."""
    inst = _lookup(ResourceId)
    if inst is None:
        SetLastError(ERROR_RESOURCE_NOT_FOUND)  # Close reports errors this way (CL-1)
        return
    with inst.lock:
        running = inst.state != ClusterResourceOffline or inst.process is not None
        worker = inst.worker
    if running:
        Terminate(inst)
    else:
        ClusWorkerTerminate(worker)  # the last worker may still be returning from its report
    ClusterRegCloseKey(inst.parameters)
    inst.closed = True


# --- Online / Offline: pending work on a ClusWorker ----------------------------------------------
def Online(ResourceId: Instance, EventHandle: Any) -> int:
    """Start the process on a worker and return ERROR_IO_PENDING at once (ON-5, PO-2).

    EventHandle stays NULL: failures are found by LooksAlive/IsAlive polling (ON-1).
    """
    inst = _lookup(ResourceId)
    if inst is None:
        return ERROR_RESOURCE_NOT_FOUND
    return _start_worker(inst, _online_worker, ClusterResourceOnlinePending)


def Offline(ResourceId: Instance) -> int:
    """Stop the process gracefully on a worker and return ERROR_IO_PENDING at once (OF-5)."""
    inst = _lookup(ResourceId)
    if inst is None:
        return ERROR_RESOURCE_NOT_FOUND
    return _start_worker(inst, _offline_worker, ClusterResourceOfflinePending)


def _start_worker(
    inst: Instance, routine: Callable[[CLUS_WORKER, Instance], int], pending_state: int
) -> int:
    """Stop the previous worker (WK-6), then ClusWorkerCreate a fresh one (WK-1)."""
    with inst.lock:
        previous = inst.worker
    ClusWorkerTerminate(previous)
    worker = CLUS_WORKER()
    with inst.lock:
        inst.worker = worker
        inst.state = pending_state
    status = ClusWorkerCreate(worker, routine, inst)
    return ERROR_IO_PENDING if status == ERROR_SUCCESS else status


def _stopping(worker: CLUS_WORKER, inst: Instance) -> bool:
    """True when this worker must stop: Terminate asked (WK-3) or it is no longer current."""
    return bool(ClusWorkerCheckTerminate(worker)) or worker is not inst.worker


def _report(worker: CLUS_WORKER, inst: Instance, state: int, checkpoint: int, *log: Any) -> bool:
    """One SetResourceStatus (after an optional LogEvent); False means stop now (RS-2).

    Both happen under the instance lock, after `_stopping`: Terminate takes the lock first,
    so nothing leaves a worker once Terminate has begun.
    """
    with inst.lock:
        if _stopping(worker, inst):
            return False
        inst.state = state
        if log:
            _LogEvent(inst.handle, *log)
        answer = _SetResourceStatus(
            inst.handle, RESOURCE_STATUS(ResourceState=state, CheckPoint=checkpoint)
        )
    return answer != ResourceExitStateTerminate


def _online_worker(worker: CLUS_WORKER, inst: Instance) -> int:
    """Read the properties, start the process, poll it until PONG (ON-7, ON-9).

    Every step starts with a short sleep, so the first report comes after Online has
    returned ERROR_IO_PENDING (PO-4), and reports follow every <= 100 ms with a CheckPoint one
    higher each time (RS-5), until ClusterResourceOnline or ClusterResourceFailed (PO-5).
    """
    checkpoints = itertools.count(1)
    time.sleep(POLL_SECONDS)
    if _stopping(worker, inst):
        return ERROR_SUCCESS
    status, port, timeout_ms = _read_properties(inst)
    if status != ERROR_SUCCESS:
        return _fail(
            worker,
            inst,
            next(checkpoints),
            status,
            "Online failed: the Port property is missing or invalid (error %1!u!)",
        )
    if not _report(worker, inst, ClusterResourceOnlinePending, next(checkpoints)):
        return ERROR_SUCCESS
    try:
        launched = _launch(worker, inst, port)
    except OSError as exc:
        return _fail(
            worker,
            inst,
            next(checkpoints),
            ERROR_GEN_FAILURE,
            "Online failed: cannot start %2: %3 (error %1!u!)",
            SERVICE,
            exc,
        )
    if launched is None:
        return ERROR_SUCCESS
    proc, port = launched
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        time.sleep(POLL_SECONDS)
        if _stopping(worker, inst):
            return ERROR_SUCCESS
        if proc.poll() is not None:
            return _fail(
                worker,
                inst,
                next(checkpoints),
                ERROR_PROCESS_ABORTED,
                "Online failed: process %2!u! exited with code %3 before it answered (error %1!u!)",
                proc.pid,
                proc.returncode,
            )
        if ping(port, START_PING_SECONDS):
            _report(
                worker,
                inst,
                ClusterResourceOnline,
                next(checkpoints),
                LOG_INFORMATION,
                "process %1!u! answers on port %2!u!",
                proc.pid,
                port,
            )
            return ERROR_SUCCESS
        if time.monotonic() >= deadline:
            return _fail(
                worker,
                inst,
                next(checkpoints),
                ERROR_TIMEOUT,
                "Online failed: process %2!u! did not answer on port %3!u! within %4!u! ms (error %1!u!)",
                proc.pid,
                port,
                timeout_ms,
            )
        if not _report(worker, inst, ClusterResourceOnlinePending, next(checkpoints)):
            return ERROR_SUCCESS


def _read_properties(inst: Instance) -> tuple[int, int, int]:
    """``(status, Port, StartTimeoutMs)``; ERROR_BAD_CONFIGURATION for a missing or bad Port."""
    status, kind, port = ClusterRegQueryValue(inst.parameters, PORT)
    if status != ERROR_SUCCESS or kind != REG_DWORD or not 0 < port < 0x10000:
        return ERROR_BAD_CONFIGURATION, 0, 0
    status, kind, timeout_ms = ClusterRegQueryValue(inst.parameters, START_TIMEOUT_MS)
    if status == ERROR_FILE_NOT_FOUND:
        return ERROR_SUCCESS, port, START_TIMEOUT_MS_DEFAULT
    if status != ERROR_SUCCESS or kind != REG_DWORD:
        return ERROR_BAD_CONFIGURATION, 0, 0
    return ERROR_SUCCESS, port, timeout_ms


def _launch(
    worker: CLUS_WORKER, inst: Instance, port: int
) -> tuple[subprocess.Popen[bytes], int] | None:
    """``(process, port)``: the running process if there is one, else a new one; None: stop.

    A process that already runs keeps the port it was started with: changed properties
    apply from the next offline/online cycle (RC-7). Under the lock, so a process is either
    started before Terminate takes it or not started at all.
    """
    with inst.lock:
        if _stopping(worker, inst):
            return None
        if inst.process is not None and inst.port is not None and inst.process.poll() is None:
            return inst.process, inst.port
        inst.process = subprocess.Popen(
            [sys.executable, str(SERVICE), "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: one signal reaches it all
        )
        inst.port = port
        return inst.process, port


def _fail(
    worker: CLUS_WORKER, inst: Instance, checkpoint: int, error: int, message: str, *args: Any
) -> int:
    """Kill the process, log ``message`` (``%1`` is ``error``, ``args`` from ``%2``), report
    ClusterResourceFailed; returns ``error``."""
    if _take_and_kill(worker, inst):
        _report(worker, inst, ClusterResourceFailed, checkpoint, LOG_ERROR, message, error, *args)
    return error


def _take_and_kill(worker: CLUS_WORKER, inst: Instance) -> bool:
    """Take the instance's process and kill it; False when the worker must stop instead."""
    with inst.lock:
        if _stopping(worker, inst):
            return False
        proc, inst.process = inst.process, None
    if proc is not None:
        _kill(proc)
    return True


def _offline_worker(worker: CLUS_WORKER, inst: Instance) -> int:
    """SIGTERM the process group, report OfflinePending while it exits, SIGKILL after 3 s (OF-3)."""
    checkpoints = itertools.count(1)
    with inst.lock:
        proc = inst.process
    if proc is not None:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + OFFLINE_GRACE_SECONDS
    while True:
        time.sleep(POLL_SECONDS)
        if _stopping(worker, inst):
            return ERROR_SUCCESS
        if proc is None or proc.poll() is not None or time.monotonic() >= deadline:
            break
        if not _report(worker, inst, ClusterResourceOfflinePending, next(checkpoints)):
            return ERROR_SUCCESS
    if _take_and_kill(worker, inst):
        log = (
            ()
            if proc is None
            else (
                LOG_INFORMATION,
                "process %1!u! ended with exit code %2",
                proc.pid,
                proc.returncode,
            )
        )
        _report(worker, inst, ClusterResourceOffline, next(checkpoints), *log)
    return ERROR_SUCCESS


# --- Terminate ----------------------------------------------------------------------------------
def Terminate(ResourceId: Instance) -> None:
    """Take the resource offline at once (TE-1, TE-2); safe at any time and twice in a row.

    It may overlap Online, Offline, LooksAlive and IsAlive (TE-4): it first makes the worker
    stale under the lock, waits for it (its sleeps are short: TE-5), then kills the process
    group and reaps the process.
    """
    inst = _lookup(ResourceId)
    if inst is None:
        return
    with inst.lock:
        worker, inst.worker = inst.worker, CLUS_WORKER()
    ClusWorkerTerminate(worker)
    with inst.lock:
        proc, inst.process = inst.process, None
        inst.state = ClusterResourceOffline
    if proc is not None and _kill(proc) is None:
        _LogEvent(inst.handle, LOG_WARNING, "process %1!u! not reaped after SIGKILL", proc.pid)


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    """Signal the process group, unless the process was reaped (its pid may be reused)."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signum)


def _kill(proc: subprocess.Popen[bytes]) -> int | None:
    """SIGKILL the process group and reap the process; its exit code, or None if not reaped."""
    _signal_group(proc, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=REAP_SECONDS)
    return proc.returncode


# --- health ------------------------------------------------------------------------------------
def LooksAlive(ResourceId: Instance) -> bool:
    """Cursory check: the process still exists (LA-5); no I/O, so microseconds (LA-7)."""
    inst = _lookup(ResourceId)
    if inst is None:
        return False
    with inst.lock:
        proc = inst.process
    return proc is not None and proc.poll() is None


def IsAlive(ResourceId: Instance) -> bool:
    """Full check: the process lives and answers PING within 100 ms (IA-3, IA-6)."""
    inst = _lookup(ResourceId)
    if inst is None:
        return False
    with inst.lock:
        proc, port = inst.process, inst.port
    return (
        proc is not None
        and port is not None
        and proc.poll() is None
        and ping(port, ISALIVE_PING_SECONDS)
    )


# --- control codes -----------------------------------------------------------------------------
def ResourceControl(
    ResourceId: Instance, ControlCode: int, InBuffer: bytes | None, OutBuffer: bytearray | None
) -> tuple[int, int]:
    """UNKNOWN, the characteristics and the private properties
    (``conformance.control_codes``); a SET while the entity runs takes effect at the next
    Online (RC-7)."""
    inst = _lookup(ResourceId)
    if inst is None:
        return ERROR_RESOURCE_NOT_FOUND, 0
    with inst.lock:
        applies_now = inst.process is None
    return resource_control(
        ControlCode,
        CHARACTERISTICS,
        inst.parameters,
        PRIVATE_PROPERTIES,
        READ_ONLY_PROPERTIES,
        InBuffer,
        OutBuffer,
        applies_now,
    )


def ResourceTypeControl(
    ResourceTypeName: str, ControlCode: int, InBuffer: bytes | None, OutBuffer: bytearray | None
) -> tuple[int, int]:
    """The characteristics only: the type has no private properties
    (``conformance.control_codes``)."""
    return type_control(ControlCode, CHARACTERISTICS, OutBuffer)
