"""The "Lock Holder" resource type: a DLL whose entity is an exclusive lock on a real file.

Online takes ``flock(LOCK_EX)`` on the file ``LockPath`` and advertises it on a TCP port
(``Port``, 127.0.0.1) that answers PING with PONG, so anyone can tell from outside whether the
lock is held (the entity lives in ``_lock_entity.py``). Online and Offline are pending
operations done on a ClusWorker thread (PO-2). Online also returns a failure event in
EventHandle (ON-6): a watcher thread signals it as soon as the lock file is deleted or
replaced or the server stops (AF-1), so the monitor needs no LooksAlive polls (LA-8) and
asks IsAlive to confirm.

Terminate may overlap everything but Open and Close (TE-4), so the instance lock guards every
field a worker and an entry point share. As in ``process_app.py``: a worker only acts while
it is still the instance's current worker, checked under the lock, and Terminate swaps in a
fresh worker under that lock before anything else, so once Terminate has begun no old worker
takes the lock, reports a status or logs a line (RS-2, CX-4). Terminate then waits for the
old worker and releases the entity, whose threads end with it: nothing of the instance runs
once Terminate returns (TE-2).

Private properties (``Parameters`` subkey, PL-10), read on Online's worker (ON-7, RM-7):
``LockPath`` (REG_SZ, absolute path, required), ``Port`` (REG_DWORD, required) and
``LockTimeoutMs`` (REG_DWORD, default 5000: how long Online waits, still reporting, while
another holder has the lock), and the read-only ``LockMode``. They live in a property table
that answers the private-property control codes (``conformance.control_codes``); a SET while
the lock is held takes effect at the next Online (ERROR_RESOURCE_PROPERTIES_STORED, RC-7).
"""

from __future__ import annotations

import errno
import itertools
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from conformance.clusapi import HKEY, ClusterRegCloseKey, ClusterRegOpenKey, ClusterRegQueryValue
from conformance.control_codes import resource_control, type_control
from conformance.resapi import (
    CLRES_VERSION_V1_00,
    CLUS_CHAR_UNKNOWN,
    CLUSPROP_FORMAT_DWORD,
    CLUSPROP_FORMAT_SZ,
    ERROR_ACCESS_DENIED,
    ERROR_BAD_CONFIGURATION,
    ERROR_CLUSTER_RESNAME_NOT_FOUND,
    ERROR_FILE_NOT_FOUND,
    ERROR_GEN_FAILURE,
    ERROR_IO_PENDING,
    ERROR_RESOURCE_NOT_FOUND,
    ERROR_REVISION_MISMATCH,
    ERROR_SUCCESS,
    ERROR_TIMEOUT,
    LOG_ERROR,
    LOG_INFORMATION,
    REG_DWORD,
    REG_SZ,
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
from reference_impls._lock_entity import HeldLock

RESOURCE_TYPE = "Lock Holder"

# Private property names and defaults (DS-4).
LOCK_PATH = "LockPath"
PORT = "Port"
LOCK_TIMEOUT_MS = "LockTimeoutMs"
LOCK_TIMEOUT_MS_DEFAULT = 5000
#: CLUS_CHAR_* of the type and its resources: none applies (not quorum-capable, CC-2).
CHARACTERISTICS = CLUS_CHAR_UNKNOWN
#: The private properties (PL-9): a changed value takes effect at the next Online (RC-7).
PRIVATE_PROPERTIES = (
    RESUTIL_PROPERTY_ITEM(LOCK_PATH, Format=CLUSPROP_FORMAT_SZ, Flags=RESUTIL_PROPITEM_REQUIRED),
    RESUTIL_PROPERTY_ITEM(
        PORT,
        Format=CLUSPROP_FORMAT_DWORD,
        Minimum=1,
        Maximum=0xFFFF,
        Flags=RESUTIL_PROPITEM_REQUIRED,
    ),
    RESUTIL_PROPERTY_ITEM(
        LOCK_TIMEOUT_MS,
        Format=CLUSPROP_FORMAT_DWORD,
        Default=LOCK_TIMEOUT_MS_DEFAULT,
        Minimum=0,
        Maximum=3_600_000,
    ),
)
READ_ONLY_PROPERTIES = (
    RESUTIL_PROPERTY_ITEM(
        "LockMode", Format=CLUSPROP_FORMAT_SZ, Default="flock", Flags=RESUTIL_PROPITEM_READ_ONLY
    ),
)

# Documented system error codes (winerror.h) that conformance.resapi does not list.
ERROR_PATH_NOT_FOUND = 3
ERROR_LOCK_VIOLATION = 33
WSAEADDRINUSE = 10048

#: A worker's longest sleep: Terminate waits for the worker, and must return in 300 ms (TE-5).
POLL_SECONDS = 0.05
#: How long Online's worker waits for its own PONG per poll; a report follows every <= 100 ms.
START_PING_SECONDS = 0.04
#: How long Online's worker lets the fresh server answer before Online fails.
START_SECONDS = 2.0
#: IsAlive's whole budget for PING/PONG (IA-6: well inside 300 ms).
ISALIVE_PING_SECONDS = 0.1

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
        self.failure: threading.Event | None = None  # the EventHandle of the last Online
        self.held: HeldLock | None = None  # the entity, while this instance holds it
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
    """Create the instance holding nothing, so the entity is offline (OP-6, OP-7).

    Opening ``Parameters`` only reads the database (RM-7). On failure: SetLastError, NULL (OP-2).
    """
    status, parameters = ClusterRegOpenKey(ResourceKey, "Parameters")
    if status != ERROR_SUCCESS or parameters is None:
        SetLastError(status)
        return None
    return Instance(ResourceName, ResourceKey, parameters, ResourceHandle)


def Close(ResourceId: Instance) -> None:
    """Terminate whatever is still held (CL-3), then free the instance (CL-4)."""
    inst = _lookup(ResourceId)
    if inst is None:
        SetLastError(ERROR_RESOURCE_NOT_FOUND)  # Close reports errors this way (CL-1)
        return
    with inst.lock:
        running = inst.state != ClusterResourceOffline or inst.held is not None
        worker = inst.worker
    if running:
        Terminate(inst)
    else:
        ClusWorkerTerminate(worker)  # the last worker may still be returning from its report
    ClusterRegCloseKey(inst.parameters)
    inst.failure = None
    inst.closed = True


# --- Online / Offline: pending work on a ClusWorker ----------------------------------------------
def Online(ResourceId: Instance, EventHandle: Any) -> int:
    """Take the lock on a worker and return ERROR_IO_PENDING at once (ON-5, PO-2).

    EventHandle gets a fresh, nonsignalled failure event (ON-1, ON-6); the watcher of the
    entity this Online acquires signals it (AF-1).
    """
    inst = _lookup(ResourceId)
    if inst is None:
        return ERROR_RESOURCE_NOT_FOUND
    failure = threading.Event()
    status = _start_worker(inst, _online_worker, ClusterResourceOnlinePending, failure)
    if status == ERROR_IO_PENDING:
        EventHandle.value = failure
    return status


def Offline(ResourceId: Instance) -> int:
    """Release the lock gracefully on a worker and return ERROR_IO_PENDING at once (OF-5)."""
    inst = _lookup(ResourceId)
    if inst is None:
        return ERROR_RESOURCE_NOT_FOUND
    return _start_worker(inst, _offline_worker, ClusterResourceOfflinePending, None)


def _start_worker(
    inst: Instance,
    routine: Callable[[CLUS_WORKER, Instance], int],
    pending_state: int,
    failure: threading.Event | None,
) -> int:
    """Stop the previous worker (WK-6), then ClusWorkerCreate a fresh one (WK-1)."""
    with inst.lock:
        previous = inst.worker
    ClusWorkerTerminate(previous)
    worker = CLUS_WORKER()
    with inst.lock:
        inst.worker = worker
        inst.state = pending_state
        if failure is not None:
            inst.failure = failure
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


def _pause(worker: CLUS_WORKER, inst: Instance) -> bool:
    """Sleep one poll; False when the worker must stop (PO-2 (c))."""
    time.sleep(POLL_SECONDS)
    return not _stopping(worker, inst)


def _online_worker(worker: CLUS_WORKER, inst: Instance) -> int:
    """Read the properties, take the lock, listen, and check our own PONG (ON-7, ON-9).

    Every step starts with a short sleep, so the first report comes after Online has
    returned ERROR_IO_PENDING (PO-4), and reports follow every <= 100 ms with a CheckPoint one
    higher each time (RS-5), until ClusterResourceOnline or ClusterResourceFailed (PO-5).
    """
    checkpoints = itertools.count(1)
    if not _pause(worker, inst):
        return ERROR_SUCCESS
    status, path, port, timeout_ms = _read_properties(inst)
    if status != ERROR_SUCCESS:
        return _fail(
            worker,
            inst,
            next(checkpoints),
            status,
            "Online failed: LockPath or Port is missing or invalid (error %1!u!)",
        )
    if not _report(worker, inst, ClusterResourceOnlinePending, next(checkpoints)):
        return ERROR_SUCCESS
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            stop, held = _acquire(worker, inst, path, port)
        except OSError as exc:
            return _fail(
                worker,
                inst,
                next(checkpoints),
                _error_code(exc),
                "Online failed: cannot hold %2 and listen on port %3!u!: %4 (error %1!u!)",
                path,
                port,
                exc,
            )
        if stop:
            return ERROR_SUCCESS
        if held is not None:
            break
        if time.monotonic() >= deadline:
            return _fail(
                worker,
                inst,
                next(checkpoints),
                ERROR_LOCK_VIOLATION,
                "Online failed: %2 stayed locked by another holder for %3!u! ms (error %1!u!)",
                path,
                timeout_ms,
            )
        if not _pause(worker, inst):
            return ERROR_SUCCESS
        if not _report(worker, inst, ClusterResourceOnlinePending, next(checkpoints)):
            return ERROR_SUCCESS
    deadline = time.monotonic() + START_SECONDS
    while True:
        if not _pause(worker, inst):
            return ERROR_SUCCESS
        if not held.lock_intact():
            return _fail(
                worker,
                inst,
                next(checkpoints),
                ERROR_LOCK_VIOLATION,
                "Online failed: %2 was deleted or replaced while coming online (error %1!u!)",
                path,
            )
        if held.answers(START_PING_SECONDS):
            _report(
                worker,
                inst,
                ClusterResourceOnline,
                next(checkpoints),
                LOG_INFORMATION,
                "holding %1 and answering on port %2!u!",
                path,
                port,
            )
            return ERROR_SUCCESS
        if time.monotonic() >= deadline:
            return _fail(
                worker,
                inst,
                next(checkpoints),
                ERROR_TIMEOUT,
                "Online failed: port %2!u! did not answer within %3!u! ms (error %1!u!)",
                port,
                int(START_SECONDS * 1000),
            )
        if not _report(worker, inst, ClusterResourceOnlinePending, next(checkpoints)):
            return ERROR_SUCCESS


def _read_properties(inst: Instance) -> tuple[int, str, int, int]:
    """``(status, LockPath, Port, LockTimeoutMs)``; ERROR_BAD_CONFIGURATION when one is bad."""
    bad = ERROR_BAD_CONFIGURATION, "", 0, 0
    status, kind, path = ClusterRegQueryValue(inst.parameters, LOCK_PATH)
    if status != ERROR_SUCCESS or kind != REG_SZ or not path or not os.path.isabs(path):
        return bad
    status, kind, port = ClusterRegQueryValue(inst.parameters, PORT)
    if status != ERROR_SUCCESS or kind != REG_DWORD or not 0 < port < 0x10000:
        return bad
    status, kind, timeout_ms = ClusterRegQueryValue(inst.parameters, LOCK_TIMEOUT_MS)
    if status == ERROR_FILE_NOT_FOUND:
        return ERROR_SUCCESS, path, port, LOCK_TIMEOUT_MS_DEFAULT
    if status != ERROR_SUCCESS or kind != REG_DWORD:
        return bad
    return ERROR_SUCCESS, path, port, timeout_ms


def _acquire(
    worker: CLUS_WORKER, inst: Instance, path: str, port: int
) -> tuple[bool, HeldLock | None]:
    """``(stop, entity)``: the entity, now held and running, or None while another holder
    has the lock; ``stop`` when Terminate came first (what was acquired is released again).

    An Online of an instance that still holds an intact lock on the same file and port keeps
    it, and reports through the new Online's event from now on; anything else it held is
    released first. The entity becomes the instance's, and its threads start, under the
    lock, so Terminate either finds it in ``inst.held`` or it never starts.
    """
    with inst.lock:
        failure = inst.failure if inst.failure is not None else threading.Event()
        current, inst.held = inst.held, None
        if (
            current is not None
            and (current.path, current.port) == (path, port)
            and current.looks_held()
            and current.lock_intact()
        ):
            current.failure = failure
            inst.held = current
            return False, current
    if current is not None:
        current.release()  # lost or reconfigured: start afresh
    held = HeldLock.acquire(path, port, failure, f"lock-holder-{inst.name}")
    if held is None:
        return False, None
    with inst.lock:
        if not _stopping(worker, inst):
            inst.held = held
            held.start()
            return False, held
    held.release()
    return True, None


def _error_code(exc: OSError) -> int:
    """The system error code for a failed open, lock or bind."""
    return {
        errno.ENOENT: ERROR_PATH_NOT_FOUND,
        errno.ENOTDIR: ERROR_PATH_NOT_FOUND,
        errno.EACCES: ERROR_ACCESS_DENIED,
        errno.EPERM: ERROR_ACCESS_DENIED,
        errno.EROFS: ERROR_ACCESS_DENIED,
        errno.EADDRINUSE: WSAEADDRINUSE,
    }.get(exc.errno or 0, ERROR_GEN_FAILURE)


def _fail(
    worker: CLUS_WORKER, inst: Instance, checkpoint: int, error: int, message: str, *args: Any
) -> int:
    """Release the entity, log ``message`` (``%1`` is ``error``, ``args`` from ``%2``), report
    ClusterResourceFailed; returns ``error``."""
    if _take_and_release(worker, inst):
        _report(worker, inst, ClusterResourceFailed, checkpoint, LOG_ERROR, message, error, *args)
    return error


def _take_and_release(worker: CLUS_WORKER, inst: Instance) -> bool:
    """Take the instance's entity and release it; False when the worker must stop instead."""
    with inst.lock:
        if _stopping(worker, inst):
            return False
        held, inst.held = inst.held, None
    if held is not None:
        held.release()
    return True


def _offline_worker(worker: CLUS_WORKER, inst: Instance) -> int:
    """Stop answering first (OfflinePending), then release the lock and delete the file (OF-3)."""
    checkpoints = itertools.count(1)
    if not _pause(worker, inst):
        return ERROR_SUCCESS
    if not _report(worker, inst, ClusterResourceOfflinePending, next(checkpoints)):
        return ERROR_SUCCESS
    with inst.lock:
        held = inst.held if not _stopping(worker, inst) else None
    if held is not None:
        held.stop()  # watcher first, so this is no failure; then the server
    if not _pause(worker, inst):
        return ERROR_SUCCESS
    if not _report(worker, inst, ClusterResourceOfflinePending, next(checkpoints)):
        return ERROR_SUCCESS
    if _take_and_release(worker, inst):
        log = () if held is None else (LOG_INFORMATION, "released %1", held.path)
        _report(worker, inst, ClusterResourceOffline, next(checkpoints), *log)
    return ERROR_SUCCESS


# --- Terminate ----------------------------------------------------------------------------------
def Terminate(ResourceId: Instance) -> None:
    """Take the resource offline at once (TE-1, TE-2); safe at any time and twice in a row.

    It may overlap Online, Offline, LooksAlive and IsAlive (TE-4): it first makes the worker
    stale under the lock, waits for it (its sleeps are short: TE-5), then releases the
    entity, which stops its server and watcher threads and drops the lock.
    """
    inst = _lookup(ResourceId)
    if inst is None:
        return
    with inst.lock:
        worker, inst.worker = inst.worker, CLUS_WORKER()
    ClusWorkerTerminate(worker)
    with inst.lock:
        held, inst.held = inst.held, None
        inst.state = ClusterResourceOffline
    if held is not None:
        held.release()


# --- health ------------------------------------------------------------------------------------
def LooksAlive(ResourceId: Instance) -> bool:
    """Cursory check: the lock descriptor and the socket are open, the server runs (LA-5); no
    I/O, so microseconds (LA-7). The monitor does not poll it once Online gave an EventHandle
    (LA-8), but it must still answer."""
    inst = _lookup(ResourceId)
    if inst is None:
        return False
    with inst.lock:
        held = inst.held
    return held is not None and held.looks_held()


def IsAlive(ResourceId: Instance) -> bool:
    """Full check: the lock file still is the inode we hold, and PING over TCP gets PONG
    within 100 ms (IA-3, IA-6). A FALSE is logged with its reason (LG-1)."""
    inst = _lookup(ResourceId)
    if inst is None:
        return False
    with inst.lock:
        held = inst.held
    if held is None:
        return False
    if not held.lock_intact():
        reason = f"the lock file {held.path} was deleted or replaced"
    elif not held.answers(ISALIVE_PING_SECONDS):
        reason = f"port {held.port} does not answer PING"
    else:
        return True
    _LogEvent(inst.handle, LOG_ERROR, "IsAlive: %1", reason)
    return False


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
        applies_now = inst.held is None
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
