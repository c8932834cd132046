"""The Generic Script resource DLL: a Python resource DLL that hosts one control script
instance per resource (GS-5), so every lifecycle rule of the suite applies to scripts too.

Each instance has its own script worker thread, where the script is loaded and its functions
are called one at a time, following the Resource Monitor actions table (§8.3) row by row:

    Open       load, Open, Close, unload
    Online     load, Open, Online               (the script stays loaded)
    LooksAlive LooksAlive                        (never loads or unloads, GS-17)
    IsAlive    IsAlive
    Offline    Offline, Close, unload
    Terminate  load (if not loaded), Open, Terminate, Close, unload
    Close      load, Open, Close, unload

Online and Offline are pending operations (PO-1): a ClusWorker reports OnlinePending or
OfflinePending while the script runs, then Online, Offline or Failed. A script's answer is
read as the docs say (GS-13): no value, zero or true is success; anything else, or a runtime
error, is failure and goes to the cluster log with the script's file and line.

The private property ``ScriptFilePath`` (GS-1) names the script; it is read on each load, so a
new path takes effect at the next Online (RC-7). The script's own properties (AddProperty)
live beside it in the resource's Parameters key.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.clusapi import HKEY, ClusterRegOpenKey, ClusterRegQueryValue
from conformance.companion import Companion
from conformance.genscript import GENERIC_SCRIPT, SCRIPT_FILE_PATH
from conformance.genscript.engine import (
    CallAnswer,
)
from conformance.genscript.host_objects import ComWorld, ResourceObject, Sandbox
from conformance.genscript.script_thread import Job, ScriptThread
from conformance.genscript.world import STAND_IN
from conformance.resapi import (
    CLRES_VERSION_V1_00,
    CLUS_CHAR_UNKNOWN,
    CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS,
    CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_TYPE_GEN_SCRIPT_VALIDATE_PATH,
    CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_TYPE_UNKNOWN,
    CLUSCTL_RESOURCE_UNKNOWN,
    CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES,
    CLUSPROP_FORMAT_SZ,
    ERROR_CLUSTER_RESNAME_NOT_FOUND,
    ERROR_FILE_NOT_FOUND,
    ERROR_INVALID_FUNCTION,
    ERROR_INVALID_PARAMETER,
    ERROR_IO_PENDING,
    ERROR_MORE_DATA,
    ERROR_RESOURCE_NOT_FOUND,
    ERROR_RESOURCE_PROPERTIES_STORED,
    ERROR_REVISION_MISMATCH,
    ERROR_SUCCESS,
    LOG_ERROR,
    LOG_INFORMATION,
    RESOURCE_STATUS,
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
    ResUtilEnumProperties,
    ResUtilGetAllProperties,
    ResUtilGetProperties,
    ResUtilGetPropertyFormats,
    ResUtilSetPropertyTable,
    ResUtilVerifyPropertyTable,
)
from conformance.rundir import run_dir
from conformance.runtime.script_events import report_script

RESOURCE_TYPE = GENERIC_SCRIPT
CHARACTERISTICS = CLUS_CHAR_UNKNOWN
#: The type's one private property (GS-1); the script adds its own beside it.
PRIVATE_PROPERTIES = (
    RESUTIL_PROPERTY_ITEM(
        SCRIPT_FILE_PATH, Format=CLUSPROP_FORMAT_SZ, Flags=RESUTIL_PROPITEM_REQUIRED
    ),
)
#: How often a pending operation reports while its script runs (s): well inside PendingTimeout.
REPORT_S = 0.1
_SetResourceStatus: Any = None
_LogEvent: Any = None
#: The script's companion: what its commands do, stand-ins for COM objects (given by the host).
_companion: Companion = Companion()
#: The world the stand-ins answer from where the companion says nothing, and whether it
#: fails once a resource is online (given by the host).
_world: int = STAND_IN
_fails = ""


def rescheck_companion(companion: Companion, world: int = STAND_IN, fails: str = "") -> None:
    """The host hands over the script's companion, the seed of the world its stand-ins answer
    from and how the entity fails in it (`conformance.genscript.world.FAILURES`; "": it does
    not), as `conformance.targets.give_companion` does."""
    global _companion, _world, _fails
    _companion, _world, _fails = companion, world, fails


class Instance:
    """Per-instance data (DS-3); the object itself is the RESID."""

    def __init__(self, name: str, parameters: HKEY, handle: Any, sandbox: Sandbox) -> None:
        self.name, self.parameters, self.handle, self.sandbox = name, parameters, handle, sandbox
        self.lock = threading.Lock()
        self.state = ClusterResourceOffline
        self.worker = CLUS_WORKER()
        self.job: Job | None = None  # the pending operation's row
        self.companion = _companion  # what its commands do, its COM objects' stand-ins
        self.world = _world  # what the stand-ins answer where the companion says nothing
        self.fails = _fails  # and how the entity fails in it once online ("": it does not)
        self.script = ScriptThread(self)
        self.closed = False

    def script_path(self) -> Path | None:
        status, _, value = ClusterRegQueryValue(self.parameters, SCRIPT_FILE_PATH)
        if status != ERROR_SUCCESS or not isinstance(value, str) or not value:
            return None
        return Path(value)

    def resource_object(self, world: ComWorld | None = None) -> ResourceObject:
        """The script's Resource; ``world`` answers for properties nobody set for the run (a
        generated world's administrator may have)."""
        return ResourceObject(self.name, self.parameters, self.log_information, self.observe, world)

    def log_information(self, message: str) -> None:
        _LogEvent(self.handle, LOG_INFORMATION, message.replace("%", "%%"))

    def log_failure(self, step: str, answer: CallAnswer) -> None:
        """GS-13: a failure is written to the cluster log."""
        if step == "load":
            text = f"loading the script failed: {answer.describe()}"
        else:
            text = f"script function {step} failed: {answer.describe()}"
        _LogEvent(self.handle, LOG_ERROR, text.replace("%", "%%"))

    def observe(self, what: str, data: dict[str, Any]) -> None:
        report_script(self.name, "object", {"use": what, **data})

    def run(self, row: str) -> Job:
        """A row, waited for (Open, Close, Terminate and the polls are synchronous)."""
        job = self.script.submit(row)
        self.script.wait(job)
        return job


def Startup(
    ResourceType: str,
    MinVersionSupported: int,
    MaxVersionSupported: int,
    SetResourceStatus: Callable[[Any, RESOURCE_STATUS], int],
    LogEvent: Callable[..., None],
) -> tuple[int, FunctionTable | None]:
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
    if isinstance(ResourceId, Instance) and not ResourceId.closed:
        return ResourceId
    return None


@functools.cache
def _sandbox() -> Sandbox:
    """Where Windows paths land: one directory per load of the DLL (a node's disks), shared
    by every instance as a machine's disks are, and kept across Close and Open."""
    return Sandbox(run_dir().mkdtemp("script-"))


# --- Open / Close ------------------------------------------------------------------------------
def Open(ResourceName: str, ResourceKey: HKEY, ResourceHandle: Any) -> Instance | None:
    """The Open row: load, Open, Close, unload. A script that cannot load or whose Open
    fails makes Open fail (NULL and SetLastError, OP-2)."""
    status, parameters = ClusterRegOpenKey(ResourceKey, "Parameters")
    if status != ERROR_SUCCESS or parameters is None:
        SetLastError(status)
        return None
    inst = Instance(ResourceName, parameters, ResourceHandle, _sandbox())
    job = inst.run("Open")
    if not job.ok:
        failed = job.failure()
        SetLastError(
            ERROR_FILE_NOT_FOUND if failed and failed[0] == "load" else ERROR_INVALID_FUNCTION
        )
        return None
    return inst


def Close(ResourceId: Instance) -> None:
    """Terminate what runs (CL-3), then the Close row, and end the script thread."""
    inst = _lookup(ResourceId)
    if inst is None:
        SetLastError(ERROR_RESOURCE_NOT_FOUND)
        return
    with inst.lock:
        running = inst.state != ClusterResourceOffline or inst.script.loaded
    if running:
        Terminate(inst)
    inst.run("Close")
    inst.closed = True


# --- Online / Offline ------------------------------------------------------------------------
def _pending(inst: Instance, row: str, interim: int, final: int) -> int:
    """Start ``row`` on the script thread; a ClusWorker reports until it ends (PO-2)."""
    with inst.lock:  # one step: a Terminate sees both the row and its worker, or neither
        job = inst.script.submit(row)
        inst.state = interim
        inst.worker = CLUS_WORKER()
        inst.job = job
        worker = inst.worker

    def work(w: CLUS_WORKER, _: Any) -> int:
        if row == "Online" and inst.script_path() is None:  # the current value (ON-7)
            _LogEvent(
                inst.handle, LOG_ERROR, "the %1 private property is not set", SCRIPT_FILE_PATH
            )
        checkpoint = 0
        while not job.done.wait(REPORT_S):
            if ClusWorkerCheckTerminate(w):
                inst.script.cancel(job)
                return ERROR_SUCCESS
            checkpoint += 1
            if _report(inst, w, interim, checkpoint) == ResourceExitStateTerminate:
                return ERROR_SUCCESS
        if ClusWorkerCheckTerminate(w):
            return ERROR_SUCCESS
        state = final if job.ok else ClusterResourceFailed
        with inst.lock:
            if inst.worker is not w:
                return ERROR_SUCCESS
            inst.state = state
        _report(inst, w, state, checkpoint + 1)
        return ERROR_SUCCESS

    status = ClusWorkerCreate(worker, work)
    return ERROR_IO_PENDING if status == ERROR_SUCCESS else status


def _report(inst: Instance, worker: CLUS_WORKER, state: int, checkpoint: int) -> int:
    with inst.lock:
        if inst.worker is not worker:
            return ResourceExitStateTerminate
    status = RESOURCE_STATUS(ResourceState=state, CheckPoint=checkpoint)
    return _SetResourceStatus(inst.handle, status)


def Online(ResourceId: Instance, EventHandle: Any) -> int:
    inst = _lookup(ResourceId)
    if inst is None:
        return ERROR_RESOURCE_NOT_FOUND
    return _pending(inst, "Online", ClusterResourceOnlinePending, ClusterResourceOnline)


def Offline(ResourceId: Instance) -> int:
    inst = _lookup(ResourceId)
    if inst is None:
        return ERROR_RESOURCE_NOT_FOUND
    return _pending(inst, "Offline", ClusterResourceOfflinePending, ClusterResourceOffline)


def Terminate(ResourceId: Instance) -> None:
    """Stop a pending operation's worker and its script call, then the Terminate row."""
    inst = _lookup(ResourceId)
    if inst is None:
        return
    with inst.lock:
        worker, inst.worker = inst.worker, CLUS_WORKER()
        job, inst.job = inst.job, None
    if job is not None:
        inst.script.cancel(job)
    inst.script.cancel_all()  # a poll or a row stuck in the script, or queued: Terminate is now
    ClusWorkerTerminate(worker)
    inst.run("Terminate")
    with inst.lock:
        inst.state = ClusterResourceOffline


# --- polls -----------------------------------------------------------------------------------
def LooksAlive(ResourceId: Instance) -> bool:
    inst = _lookup(ResourceId)
    return inst is not None and inst.script.loaded and inst.run("LooksAlive").ok


def IsAlive(ResourceId: Instance) -> bool:
    inst = _lookup(ResourceId)
    return inst is not None and inst.script.loaded and inst.run("IsAlive").ok


# --- control codes ---------------------------------------------------------------------------
def _answer(answer: tuple[int, int, int]) -> tuple[int, int]:
    status, returned, required = answer
    return status, required if status == ERROR_MORE_DATA else returned


def ResourceControl(
    ResourceId: Instance, ControlCode: int, InBuffer: bytes | None, OutBuffer: bytearray | None
) -> tuple[int, int]:
    """UNKNOWN, the characteristics and the private properties: ScriptFilePath and whatever
    the script added (allowed as unknown properties, PL-10). A new ScriptFilePath set while
    the script is loaded takes effect at the next Online (RC-7)."""
    inst = _lookup(ResourceId)
    if inst is None:
        return ERROR_RESOURCE_NOT_FOUND, 0
    table = PRIVATE_PROPERTIES
    if ControlCode == CLUSCTL_RESOURCE_UNKNOWN:
        return ERROR_SUCCESS, 0
    if ControlCode == CLUSCTL_RESOURCE_GET_CHARACTERISTICS:
        return _characteristics(OutBuffer)
    if ControlCode == CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES:
        return ResUtilVerifyPropertyTable(table, None, True, InBuffer), 0
    if ControlCode == CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES:
        status = ResUtilSetPropertyTable(inst.parameters, table, None, True, InBuffer)
        if status == ERROR_SUCCESS and inst.script.loaded:
            status = ERROR_RESOURCE_PROPERTIES_STORED
        return status, 0
    if ControlCode == CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES:
        return _answer(ResUtilEnumProperties(table, OutBuffer))
    if ControlCode == CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES:
        return _answer(ResUtilGetAllProperties(inst.parameters, table, OutBuffer))
    if ControlCode == CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES:
        return _answer(ResUtilGetProperties(inst.parameters, (), OutBuffer))
    if ControlCode == CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS:
        return _answer(ResUtilGetPropertyFormats(table, OutBuffer))
    return ERROR_INVALID_FUNCTION, 0


def _characteristics(OutBuffer: bytearray | None) -> tuple[int, int]:
    if OutBuffer is None or len(OutBuffer) < 4:
        return ERROR_MORE_DATA, 4
    OutBuffer[:4] = CHARACTERISTICS.to_bytes(4, "little")
    return ERROR_SUCCESS, 4


def ResourceTypeControl(
    ResourceTypeName: str, ControlCode: int, InBuffer: bytes | None, OutBuffer: bytearray | None
) -> tuple[int, int]:
    """TYPE_UNKNOWN, the characteristics and GEN_SCRIPT_VALIDATE_PATH (GS-4, CC-48): the
    path, a NUL-terminated UTF-16 string, names a file this node can open."""
    if ControlCode == CLUSCTL_RESOURCE_TYPE_UNKNOWN:
        return ERROR_SUCCESS, 0
    if ControlCode == CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS:
        return _characteristics(OutBuffer)
    if ControlCode == CLUSCTL_RESOURCE_TYPE_GEN_SCRIPT_VALIDATE_PATH:
        return _validate_path(InBuffer), 0
    return ERROR_INVALID_FUNCTION, 0


def _validate_path(InBuffer: bytes | None) -> int:
    if not InBuffer or len(InBuffer) % 2 or not InBuffer.endswith(b"\0\0"):
        return ERROR_INVALID_PARAMETER
    try:
        path = Path(InBuffer[:-2].decode("utf-16-le"))
    except UnicodeDecodeError:
        return ERROR_INVALID_PARAMETER
    try:
        with path.open("rb"):
            return ERROR_SUCCESS
    except OSError:
        return ERROR_FILE_NOT_FOUND
