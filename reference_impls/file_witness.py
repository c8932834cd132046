"""The "File Witness" resource type: a quorum-capable type whose medium is a real shared
directory, like a file share witness. Every node of the cluster opens the same resource; the
one that arbitrates successfully holds a *lease* in the directory and defends it.

The medium needs no lock that a stopped node could keep: the lease with token N is the file
``lease.N``, created with O_EXCL (only one node can take token N) and holding the owner's node
id; the owner renews it by touching ``beat.N``; ``free.N`` says the owner released it. The
current lease is the highest N. It is *expired* when neither ``lease.N`` nor ``beat.N`` was
touched within ``LeaseMs`` (wall-clock mtimes, shared by the nodes).

- Arbitrate (AR-2, AR-5): until ``ArbitrateTimeoutMs`` has passed, take token N+1 when the
  current lease is free, released or expired (or keep it, if this node owns it), else wait.
  Once won, a ClusWorker *defends* it: every quarter of ``LeaseMs`` it touches ``beat.N``, so
  no other node finds it expired; when it finds a higher token (this node was stopped past
  its lease and another node took over), it calls LostQuorumResource at once (AR-6).
- Release (RL-1): stop defending and write ``free.N``.
- Online (AR-7): ERROR_RESOURCE_NOT_AVAILABLE unless this node holds the lease; Offline and
  Terminate release it (as a disk calls its own Release from Offline, RL-2).
- LooksAlive: the defender runs. IsAlive: this node holds the current, unexpired lease.
- CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT answers the arbitration timeout (AR-11), which the
  harness takes as the time a node may need to win a free witness.

Private properties: ``WitnessPath`` (REG_SZ, required), ``LeaseMs`` (REG_DWORD, default 1000),
``ArbitrateTimeoutMs`` (REG_DWORD, default 2000). Nothing is written to the cluster database.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.clusapi import HKEY, ClusterRegOpenKey, ClusterRegQueryValue
from conformance.resapi import (
    CLRES_VERSION_V1_00,
    CLUS_CHAR_QUORUM,
    CLUSCTL_RESOURCE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT,
    CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
    CLUSCTL_RESOURCE_TYPE_UNKNOWN,
    CLUSCTL_RESOURCE_UNKNOWN,
    ERROR_BAD_CONFIGURATION,
    ERROR_CLUSTER_RESNAME_NOT_FOUND,
    ERROR_INVALID_FUNCTION,
    ERROR_MORE_DATA,
    ERROR_RESOURCE_NOT_AVAILABLE,
    ERROR_RESOURCE_NOT_FOUND,
    ERROR_REVISION_MISMATCH,
    ERROR_SUCCESS,
    ERROR_TIMEOUT,
    LOG_INFORMATION,
    LOG_WARNING,
    RESOURCE_STATUS,
    FunctionTable,
    SetLastError,
)
from conformance.resutils import (
    CLUS_WORKER,
    ClusWorkerCheckTerminate,
    ClusWorkerCreate,
    ClusWorkerTerminate,
)

RESOURCE_TYPE = "File Witness"
WITNESS_PATH = "WitnessPath"
LEASE_MS, LEASE_MS_DEFAULT = "LeaseMs", 1000
ARBITRATE_TIMEOUT_MS, ARBITRATE_TIMEOUT_MS_DEFAULT = "ArbitrateTimeoutMs", 2000
#: What GET_ARB_TIMEOUT answers (s): a free witness is won well within it (in about a lease
#: and a half), with room for a loaded machine.
ARB_TIMEOUT_S = 5
CHARACTERISTICS = CLUS_CHAR_QUORUM

_SetResourceStatus: Any = None
_LogEvent: Any = None


class Instance:
    """Per-instance data (DS-3); the object itself is the RESID."""

    def __init__(self, name: str, parameters: HKEY, handle: Any) -> None:
        self.name, self.parameters, self.handle = name, parameters, handle
        #: This node's identity in the lease: unique across machines and within a process
        #: (a process id alone repeats on other machines, and a fresh load of this module in
        #: the same process would count from 1 again).
        self.node = uuid.uuid4().hex
        self.lock = threading.Lock()
        self.token: int | None = None  # the lease's token while this node holds it
        self.defender = CLUS_WORKER()
        self.online = False
        self.closed = False

    def setting(self, name: str, default: int | None = None) -> Any:
        status, _, value = ClusterRegQueryValue(self.parameters, name)
        return value if status == ERROR_SUCCESS else default

    def witness(self) -> Path | None:
        path = self.setting(WITNESS_PATH)
        return Path(path) if isinstance(path, str) and path else None

    def lease_s(self) -> float:
        return int(self.setting(LEASE_MS, LEASE_MS_DEFAULT)) / 1000.0


def _current(witness: Path) -> tuple[int, str | None]:
    """The current lease: its token (0: none yet) and owner."""
    tokens = [int(p.name[6:]) for p in witness.glob("lease.*") if p.name[6:].isdigit()]
    if not tokens:
        return 0, None
    token = max(tokens)
    try:
        return token, (witness / f"lease.{token}").read_text("utf-8")
    except OSError:
        return token, None


def _expired(witness: Path, token: int, lease_s: float) -> bool:
    """Nobody renewed lease ``token`` within a lease, or its owner released it."""
    if (witness / f"free.{token}").exists():
        return True
    touched = [
        path.stat().st_mtime
        for path in (witness / f"lease.{token}", witness / f"beat.{token}")
        if path.exists()
    ]
    return not touched or max(touched) < time.time() - lease_s


def _claimable(inst: Instance, witness: Path, token: int, owner: str | None) -> bool:
    """Whether this node may take the next token: the current lease is free or expired."""
    return token == 0 or _expired(witness, token, inst.lease_s())


def _take(witness: Path, token: int, node: str) -> bool:
    """Create ``lease.token`` for ``node``; False when another node took it first."""
    try:
        descriptor = os.open(witness / f"lease.{token}", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as lease:
        lease.write(node)
    for old in witness.glob("*.*"):  # keep the directory small
        stem, _, number = old.name.partition(".")
        if stem in ("lease", "beat", "free") and number.isdigit() and int(number) < token - 10:
            old.unlink(missing_ok=True)
    return True


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
        Arbitrate=Arbitrate,
        Release=Release,
    )


def _lookup(ResourceId: Any) -> Instance | None:
    if isinstance(ResourceId, Instance) and not ResourceId.closed:
        return ResourceId
    return None


def Open(ResourceName: str, ResourceKey: HKEY, ResourceHandle: Any) -> Instance | None:
    status, parameters = ClusterRegOpenKey(ResourceKey, "Parameters")
    if status != ERROR_SUCCESS or parameters is None:
        SetLastError(status)
        return None
    return Instance(ResourceName, parameters, ResourceHandle)


def Close(ResourceId: Instance) -> None:
    inst = _lookup(ResourceId)
    if inst is None:
        SetLastError(ERROR_RESOURCE_NOT_FOUND)
        return
    _release(inst)
    inst.closed = True


# --- arbitration ---------------------------------------------------------------------------
def Arbitrate(ResourceId: Instance, LostQuorumResource: Callable[[Any], None]) -> int:
    """Win the lease within ArbitrateTimeoutMs, then defend it (AR-5)."""
    inst = _lookup(ResourceId)
    if inst is None:
        return ERROR_RESOURCE_NOT_FOUND
    witness = inst.witness()
    if witness is None:
        return ERROR_BAD_CONFIGURATION
    witness.mkdir(parents=True, exist_ok=True)
    lease_s = inst.lease_s()
    timeout_s = int(inst.setting(ARBITRATE_TIMEOUT_MS, ARBITRATE_TIMEOUT_MS_DEFAULT)) / 1000
    deadline = time.time() + timeout_s
    _stop_defending(inst)  # a defender of an older token must not see ours as a takeover
    while True:
        token, owner = _current(witness)
        if owner == inst.node and not _expired(witness, token, lease_s):
            break  # already ours: keep it
        if _claimable(inst, witness, token, owner) and _take(witness, token + 1, inst.node):
            token += 1
            break
        if time.time() >= deadline:
            return ERROR_TIMEOUT
        time.sleep(lease_s / 8)
    _start_defending(inst, witness, lease_s, token, LostQuorumResource)
    _LogEvent(inst.handle, LOG_INFORMATION, "won the witness with token %1!u!", token)
    return ERROR_SUCCESS


def _start_defending(
    inst: Instance, witness: Path, lease_s: float, token: int, lost: Callable[[Any], None]
) -> None:
    """A fresh defender for the lease just won with ``token`` (the old one ends first)."""
    _stop_defending(inst)
    (witness / f"beat.{token}").touch()
    with inst.lock:
        inst.token = token
        inst.defender = CLUS_WORKER()
        defender = inst.defender
    ClusWorkerCreate(defender, _defend, (inst, witness, lease_s, token, lost))


def _defend(worker: CLUS_WORKER, args: tuple[Any, ...]) -> int:
    """Renew the lease every quarter of LeaseMs; on finding it taken, tell the monitor."""
    inst, witness, lease_s, token, lost = args
    while not ClusWorkerCheckTerminate(worker):
        current, _ = _current(witness)
        if current != token:
            with inst.lock:
                still = inst.defender is worker
                if still:
                    inst.token = None
            if still:
                _LogEvent(inst.handle, LOG_WARNING, "the witness was taken over")
                lost(inst.handle)
            return ERROR_SUCCESS
        (witness / f"beat.{token}").touch()
        deadline = time.monotonic() + lease_s / 4
        while time.monotonic() < deadline and not ClusWorkerCheckTerminate(worker):
            time.sleep(0.01)
    return ERROR_SUCCESS


def _stop_defending(inst: Instance) -> None:
    """End the defender (it looks every 10 ms) and wait for it (WK-4)."""
    with inst.lock:
        worker = inst.defender
    if worker.hThread is not None and worker.hThread is not threading.current_thread():
        ClusWorkerTerminate(worker)


def _release(inst: Instance) -> None:
    _stop_defending(inst)
    witness = inst.witness()
    with inst.lock:
        token, inst.token, inst.online = inst.token, None, False
    if witness is None or token is None:
        return
    current, owner = _current(witness)
    if (current, owner) == (token, inst.node):
        (witness / f"free.{token}").touch()


def Release(ResourceId: Instance) -> int:
    """Stop defending and free the lease (RL-1)."""
    inst = _lookup(ResourceId)
    if inst is None:
        return ERROR_RESOURCE_NOT_FOUND
    _release(inst)
    return ERROR_SUCCESS


def _holds(inst: Instance) -> bool:
    witness = inst.witness()
    with inst.lock:
        token = inst.token
    if witness is None or token is None:
        return False
    current, owner = _current(witness)
    return (current, owner) == (token, inst.node) and not _expired(witness, token, inst.lease_s())


# --- the lifecycle -------------------------------------------------------------------------
def Online(ResourceId: Instance, EventHandle: Any) -> int:
    """Online only on the node that holds the witness (AR-7)."""
    inst = _lookup(ResourceId)
    if inst is None:
        return ERROR_RESOURCE_NOT_FOUND
    if not _holds(inst):
        return ERROR_RESOURCE_NOT_AVAILABLE
    with inst.lock:
        inst.online = True
    return ERROR_SUCCESS


def Offline(ResourceId: Instance) -> int:
    inst = _lookup(ResourceId)
    if inst is None:
        return ERROR_RESOURCE_NOT_FOUND
    _release(inst)
    return ERROR_SUCCESS


def Terminate(ResourceId: Instance) -> None:
    inst = _lookup(ResourceId)
    if inst is not None:
        _release(inst)


def LooksAlive(ResourceId: Instance) -> bool:
    inst = _lookup(ResourceId)
    if inst is None:
        return False
    with inst.lock:
        thread, token = inst.defender.hThread, inst.token
    return token is not None and thread is not None and thread.is_alive()


def IsAlive(ResourceId: Instance) -> bool:
    inst = _lookup(ResourceId)
    return inst is not None and _holds(inst)


# --- control codes -------------------------------------------------------------------------
def _dword(value: int, OutBuffer: bytearray | None) -> tuple[int, int]:
    if OutBuffer is None or len(OutBuffer) < 4:
        return ERROR_MORE_DATA, 4
    OutBuffer[:4] = value.to_bytes(4, "little")
    return ERROR_SUCCESS, 4


def ResourceControl(
    ResourceId: Instance, ControlCode: int, InBuffer: bytes | None, OutBuffer: bytearray | None
) -> tuple[int, int]:
    if _lookup(ResourceId) is None:
        return ERROR_RESOURCE_NOT_FOUND, 0
    if ControlCode == CLUSCTL_RESOURCE_UNKNOWN:
        return ERROR_SUCCESS, 0
    if ControlCode == CLUSCTL_RESOURCE_GET_CHARACTERISTICS:
        return _dword(CHARACTERISTICS, OutBuffer)
    return ERROR_INVALID_FUNCTION, 0


def ResourceTypeControl(
    ResourceTypeName: str, ControlCode: int, InBuffer: bytes | None, OutBuffer: bytearray | None
) -> tuple[int, int]:
    if ControlCode == CLUSCTL_RESOURCE_TYPE_UNKNOWN:
        return ERROR_SUCCESS, 0
    if ControlCode == CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS:
        return _dword(CHARACTERISTICS, OutBuffer)
    if ControlCode == CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT:
        return _dword(ARB_TIMEOUT_S, OutBuffer)
    return ERROR_INVALID_FUNCTION, 0
