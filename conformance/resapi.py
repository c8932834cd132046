"""Documented constants and types of the Resource API, spelled as `resapi.h` spells them.

Values are those of docs/contract.md appendix A and §1–§6. A Python resource DLL may use these
or plain numbers; the harness compares numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from conformance.runtime.threads import thread_local
from conformance.runtime.trace import short_repr

# --- Win32 error codes (winerror.h: those of the contract, and common ones DLLs return) -------
ERROR_SUCCESS = 0
ERROR_INVALID_FUNCTION = 1
ERROR_FILE_NOT_FOUND = 2
ERROR_PATH_NOT_FOUND = 3
ERROR_ACCESS_DENIED = 5
ERROR_INVALID_HANDLE = 6
ERROR_NOT_ENOUGH_MEMORY = 8
ERROR_INVALID_DATA = 13
ERROR_OUTOFMEMORY = 14
ERROR_NOT_READY = 21
ERROR_GEN_FAILURE = 31
ERROR_SHARING_VIOLATION = 32
ERROR_LOCK_VIOLATION = 33
ERROR_NOT_SUPPORTED = 50
ERROR_INVALID_PARAMETER = 87
ERROR_CALL_NOT_IMPLEMENTED = 120
ERROR_INSUFFICIENT_BUFFER = 122
ERROR_MOD_NOT_FOUND = 126
ERROR_PROC_NOT_FOUND = 127
ERROR_BUSY = 170
ERROR_ALREADY_EXISTS = 183
ERROR_MORE_DATA = 234
WAIT_TIMEOUT = 258
ERROR_IO_PENDING = 997
ERROR_SERVICE_ALREADY_RUNNING = 1056
ERROR_SERVICE_DOES_NOT_EXIST = 1060
ERROR_SERVICE_NOT_ACTIVE = 1062
ERROR_PROCESS_ABORTED = 1067
ERROR_NOT_FOUND = 1168
ERROR_REVISION_MISMATCH = 1306
ERROR_TIMEOUT = 1460
ERROR_BAD_CONFIGURATION = 1610
RPC_S_SERVER_UNAVAILABLE = 1722
RPC_X_BAD_STUB_DATA = 1783
ERROR_RESOURCE_NOT_AVAILABLE = 5006
ERROR_RESOURCE_NOT_FOUND = 5007
ERROR_OBJECT_ALREADY_EXISTS = 5010
ERROR_INVALID_STATE = 5023  # the group or resource is not in the right state ([MS-CMRP])
ERROR_RESOURCE_PROPERTIES_STORED = 5024
ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND = 5078
ERROR_CLUSTER_RESNAME_NOT_FOUND = 5080

DWORD_MAX = 0xFFFFFFFF
TRUE = 1
FALSE = 0


def BOOL_is_TRUE(value: object) -> bool:
    """How the Resource Monitor reads a returned BOOL: as C does, nonzero is TRUE (and a
    missing value, ``None``, is FALSE). Whether the value *is* a BOOL is a separate rule."""
    try:
        return bool(value)
    except Exception:  # a hostile __bool__
        return False


# --- RestartAction values (common property of a resource, FP-8) ---------------------------------
ClusterResourceDontRestart = 0
ClusterResourceRestartNoNotify = 1
ClusterResourceRestartNotify = 2

# --- Resource API versions (CLRES_FUNCTION_TABLE.Version) ---------------------------------------
CLRES_VERSION_V1_00 = 0x100
CLRES_VERSION_V2_00 = 0x200
CLRES_VERSION_V3_00 = 0x300
CLRES_VERSION_V4_00 = 0x400
CLRES_VERSIONS = (
    CLRES_VERSION_V1_00,
    CLRES_VERSION_V2_00,
    CLRES_VERSION_V3_00,
    CLRES_VERSION_V4_00,
)


class CLUSTER_RESOURCE_STATE(IntEnum):
    """CLUSTER_RESOURCE_STATE (clusapi.h), docs/contract.md §3.4."""

    ClusterResourceStateUnknown = -1
    ClusterResourceInherited = 0
    ClusterResourceInitializing = 1
    ClusterResourceOnline = 2
    ClusterResourceOffline = 3
    ClusterResourceFailed = 4
    ClusterResourcePending = 128
    ClusterResourceOnlinePending = 129
    ClusterResourceOfflinePending = 130


ClusterResourceStateUnknown = CLUSTER_RESOURCE_STATE.ClusterResourceStateUnknown
ClusterResourceInherited = CLUSTER_RESOURCE_STATE.ClusterResourceInherited
ClusterResourceInitializing = CLUSTER_RESOURCE_STATE.ClusterResourceInitializing
ClusterResourceOnline = CLUSTER_RESOURCE_STATE.ClusterResourceOnline
ClusterResourceOffline = CLUSTER_RESOURCE_STATE.ClusterResourceOffline
ClusterResourceFailed = CLUSTER_RESOURCE_STATE.ClusterResourceFailed
ClusterResourceOnlinePending = CLUSTER_RESOURCE_STATE.ClusterResourceOnlinePending
ClusterResourceOfflinePending = CLUSTER_RESOURCE_STATE.ClusterResourceOfflinePending
ClusterResourcePending = CLUSTER_RESOURCE_STATE.ClusterResourcePending


class RESOURCE_EXIT_STATE(IntEnum):
    """What SetResourceStatus returns to a worker (RS-2)."""

    ResourceExitStateContinue = 0
    ResourceExitStateTerminate = 1


ResourceExitStateContinue = RESOURCE_EXIT_STATE.ResourceExitStateContinue
ResourceExitStateTerminate = RESOURCE_EXIT_STATE.ResourceExitStateTerminate


class LOG_LEVEL(IntEnum):
    """LOG_LEVEL for LogEvent (LG-2)."""

    LOG_INFORMATION = 0
    LOG_WARNING = 1
    LOG_ERROR = 2
    LOG_SEVERE = 3


LOG_INFORMATION = LOG_LEVEL.LOG_INFORMATION
LOG_WARNING = LOG_LEVEL.LOG_WARNING
LOG_ERROR = LOG_LEVEL.LOG_ERROR
LOG_SEVERE = LOG_LEVEL.LOG_SEVERE

# --- Characteristics (CLUS_CHARACTERISTICS, §6.5) ------------------------------------------------
CLUS_CHAR_UNKNOWN = 0x0
CLUS_CHAR_QUORUM = 0x1
CLUS_CHAR_DELETE_REQUIRES_ALL_NODES = 0x2
CLUS_CHAR_LOCAL_QUORUM = 0x4
CLUS_CHAR_LOCAL_QUORUM_DEBUG = 0x8
CLUS_CHAR_REQUIRES_STATE_CHANGE_REASON = 0x10
CLUS_CHAR_BROADCAST_DELETE = 0x20
CLUS_CHAR_SINGLE_CLUSTER_INSTANCE = 0x40
CLUS_CHAR_SINGLE_GROUP_INSTANCE = 0x80

# --- Resource control codes (§6.3) ---------------------------------------------------------------
CLUSCTL_RESOURCE_UNKNOWN = 0x01000000
CLUSCTL_RESOURCE_GET_CHARACTERISTICS = 0x01000005
CLUSCTL_RESOURCE_GET_FLAGS = 0x01000009
CLUSCTL_RESOURCE_GET_CLASS_INFO = 0x0100000D
CLUSCTL_RESOURCE_GET_REQUIRED_DEPENDENCIES = 0x01000011
CLUSCTL_RESOURCE_GET_NAME = 0x01000029
CLUSCTL_RESOURCE_GET_RESOURCE_TYPE = 0x0100002D
CLUSCTL_RESOURCE_GET_ID = 0x01000039
CLUSCTL_RESOURCE_ENUM_COMMON_PROPERTIES = 0x01000051
CLUSCTL_RESOURCE_GET_RO_COMMON_PROPERTIES = 0x01000055
CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES = 0x01000059
CLUSCTL_RESOURCE_SET_COMMON_PROPERTIES = 0x0140005E
CLUSCTL_RESOURCE_VALIDATE_COMMON_PROPERTIES = 0x01000061
CLUSCTL_RESOURCE_GET_COMMON_PROPERTY_FMTS = 0x01000065
CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES = 0x01000079
CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES = 0x0100007D
CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES = 0x01000081
CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES = 0x01400086
CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES = 0x01000089
CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS = 0x0100008D
CLUSCTL_RESOURCE_DELETE = 0x01500006
CLUSCTL_RESOURCE_INSTALL_NODE = 0x0150000A
CLUSCTL_RESOURCE_EVICT_NODE = 0x0150000E
CLUSCTL_RESOURCE_ADD_DEPENDENCY = 0x01500012
CLUSCTL_RESOURCE_REMOVE_DEPENDENCY = 0x01500016
CLUSCTL_RESOURCE_ADD_OWNER = 0x0150001A
CLUSCTL_RESOURCE_REMOVE_OWNER = 0x0150001E
CLUSCTL_RESOURCE_SET_NAME = 0x01500026
CLUSCTL_RESOURCE_CLUSTER_NAME_CHANGED = 0x0150002A
CLUSCTL_RESOURCE_CLUSTER_VERSION_CHANGED = 0x0150002E
CLUSCTL_RESOURCE_FORCE_QUORUM = 0x01500046
CLUSCTL_RESOURCE_INITIALIZE = 0x0150004A
CLUSCTL_RESOURCE_STATE_CHANGE_REASON = 0x0150004E
CLUSCTL_RESOURCE_QUERY_DELETE = 0x010001B9

# --- Resource-type control codes (§6.4) ----------------------------------------------------------
CLUSCTL_RESOURCE_TYPE_UNKNOWN = 0x02000000
CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS = 0x02000005
CLUSCTL_RESOURCE_TYPE_GET_FLAGS = 0x02000009
CLUSCTL_RESOURCE_TYPE_GET_CLASS_INFO = 0x0200000D
CLUSCTL_RESOURCE_TYPE_GET_REQUIRED_DEPENDENCIES = 0x02000011
CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT = 0x02000015
CLUSCTL_RESOURCE_TYPE_ENUM_PRIVATE_PROPERTIES = 0x02000079
CLUSCTL_RESOURCE_TYPE_GET_RO_PRIVATE_PROPERTIES = 0x0200007D
CLUSCTL_RESOURCE_TYPE_GET_PRIVATE_PROPERTIES = 0x02000081
CLUSCTL_RESOURCE_TYPE_SET_PRIVATE_PROPERTIES = 0x02400086
CLUSCTL_RESOURCE_TYPE_VALIDATE_PRIVATE_PROPERTIES = 0x02000089
CLUSCTL_RESOURCE_TYPE_GET_PRIVATE_PROPERTY_FMTS = 0x0200008D
CLUSCTL_RESOURCE_TYPE_ENUM_COMMON_PROPERTIES = 0x02000051
CLUSCTL_RESOURCE_TYPE_GET_RO_COMMON_PROPERTIES = 0x02000055
CLUSCTL_RESOURCE_TYPE_GET_COMMON_PROPERTIES = 0x02000059
CLUSCTL_RESOURCE_TYPE_SET_COMMON_PROPERTIES = 0x0240005E
CLUSCTL_RESOURCE_TYPE_VALIDATE_COMMON_PROPERTIES = 0x02000061
CLUSCTL_RESOURCE_TYPE_GET_COMMON_PROPERTY_FMTS = 0x02000065
CLUSCTL_RESOURCE_TYPE_INSTALL_NODE = 0x0250000A
CLUSCTL_RESOURCE_TYPE_EVICT_NODE = 0x0250000E
CLUSCTL_RESOURCE_TYPE_CLUSTER_VERSION_CHANGED = 0x0250002E
CLUSCTL_RESOURCE_TYPE_FIXUP_ON_UPGRADE = 0x02500032
CLUSCTL_RESOURCE_TYPE_STARTING_PHASE1 = 0x02500036
CLUSCTL_RESOURCE_TYPE_STARTING_PHASE2 = 0x0250003A
CLUSCTL_RESOURCE_TYPE_GEN_SCRIPT_VALIDATE_PATH = 0x02000231

#: Bits 24..31 of a control code: the object it is for (§6.2).
CLUS_OBJECT_RESOURCE = 0x01
CLUS_OBJECT_RESOURCE_TYPE = 0x02


def control_code_name(code: object) -> str:
    """``CLUSCTL_RESOURCE_UNKNOWN (0x01000000)``; a code without a documented name is shown
    in hex only. Codes shared by several documented names (§6.4 CC-48) take the first."""
    if isinstance(code, int) and not isinstance(code, bool):
        name = _CONTROL_NAMES.get(code)
        return f"{name} (0x{code:08X})" if name else f"0x{code:08X}"
    return short_repr(code)


class ControlCode(int):
    """A control code that shows its documented name in traces and reports."""

    def __repr__(self) -> str:
        return control_code_name(int(self))


# --- Property and value lists (CLUSPROP, §6.6) ---------------------------------------------------
CLUSPROP_TYPE_ENDMARK = 0
CLUSPROP_TYPE_LIST_VALUE = 1
CLUSPROP_TYPE_RESCLASS = 2
CLUSPROP_TYPE_NAME = 4
CLUSPROP_TYPE_USER = 32768
#: CLUSTER_PROPERTY_TYPE values up to STORAGE_DEVICE_ID_DESCRIPTOR, then the user range (PL-5).
CLUSPROP_TYPE_LAST_DOCUMENTED = 15

CLUSPROP_FORMAT_UNKNOWN = 0
CLUSPROP_FORMAT_BINARY = 1
CLUSPROP_FORMAT_DWORD = 2
CLUSPROP_FORMAT_SZ = 3
CLUSPROP_FORMAT_EXPAND_SZ = 4
CLUSPROP_FORMAT_MULTI_SZ = 5
CLUSPROP_FORMAT_ULARGE_INTEGER = 6
CLUSPROP_FORMAT_LONG = 7
CLUSPROP_FORMAT_EXPANDED_SZ = 8
CLUSPROP_FORMAT_SECURITY_DESCRIPTOR = 9
CLUSPROP_FORMAT_LARGE_INTEGER = 10
CLUSPROP_FORMAT_WORD = 11
CLUSPROP_FORMAT_FILETIME = 12
CLUSPROP_FORMAT_VALUE_LIST = 13
CLUSPROP_FORMAT_PROPERTY_LIST = 14
CLUSPROP_FORMAT_USER = 32768

CLUSPROP_SYNTAX_ENDMARK = 0x00000000
CLUSPROP_SYNTAX_NAME = 0x00040003
CLUSPROP_SYNTAX_RESCLASS = 0x00020002
CLUSPROP_SYNTAX_LIST_VALUE_BINARY = 0x00010001
CLUSPROP_SYNTAX_LIST_VALUE_DWORD = 0x00010002
CLUSPROP_SYNTAX_LIST_VALUE_SZ = 0x00010003
CLUSPROP_SYNTAX_LIST_VALUE_EXPAND_SZ = 0x00010004
CLUSPROP_SYNTAX_LIST_VALUE_MULTI_SZ = 0x00010005
CLUSPROP_SYNTAX_LIST_VALUE_ULARGE_INTEGER = 0x00010006
CLUSPROP_SYNTAX_LIST_VALUE_LONG = 0x00010007
CLUSPROP_SYNTAX_LIST_VALUE_EXPANDED_SZ = 0x00010008
CLUSPROP_SYNTAX_LIST_VALUE_SECURITY_DESCRIPTOR = 0x00010009
CLUSPROP_SYNTAX_LIST_VALUE_LARGE_INTEGER = 0x0001000A
CLUSPROP_SYNTAX_LIST_VALUE_WORD = 0x0001000B
CLUSPROP_SYNTAX_LIST_VALUE_FILETIME = 0x0001000C

#: RESUTIL_PROPERTY_ITEM Flags (PL-9).
RESUTIL_PROPITEM_READ_ONLY = 0x1
RESUTIL_PROPITEM_REQUIRED = 0x2
RESUTIL_PROPITEM_SIGNED = 0x4
RESUTIL_PROPITEM_IN_MEMORY = 0x8

# --- Resource classes (CLUS_RESOURCE_CLASS, CH-10) -----------------------------------------------
CLUS_RESCLASS_UNKNOWN = 0
CLUS_RESCLASS_STORAGE = 1
CLUS_RESCLASS_NETWORK = 2
CLUS_RESCLASS_USER = 0x8000

# --- Cluster database value types (winnt.h REG_*) ------------------------------------------------
REG_NONE = 0
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_MULTI_SZ = 7
REG_QWORD = 11

#: The entry points of a V1 function table, in table order (docs/contract.md §1.2).
V1_ENTRY_POINTS = (
    "Open",
    "Close",
    "Online",
    "Offline",
    "Terminate",
    "LooksAlive",
    "IsAlive",
    "Arbitrate",
    "Release",
    "ResourceControl",
    "ResourceTypeControl",
)
#: The parameters of each entry point in the Python mapping (docs/design.md), in order.
ENTRY_POINT_PARAMETERS = {
    "Open": ("ResourceName", "ResourceKey", "ResourceHandle"),
    "Close": ("ResourceId",),
    "Online": ("ResourceId", "EventHandle"),
    "Offline": ("ResourceId",),
    "Terminate": ("ResourceId",),
    "LooksAlive": ("ResourceId",),
    "IsAlive": ("ResourceId",),
    "Arbitrate": ("ResourceId", "LostQuorumResource"),
    "Release": ("ResourceId",),
    "ResourceControl": ("ResourceId", "ControlCode", "InBuffer", "OutBuffer"),
    "ResourceTypeControl": ("ResourceTypeName", "ControlCode", "InBuffer", "OutBuffer"),
}
#: Entry points that may be NULL: only quorum-capable types need Arbitrate and Release (FT-3).
OPTIONAL_ENTRY_POINTS = ("Arbitrate", "Release")


@dataclass
class FunctionTable:
    """A CLRES_FUNCTION_TABLE; NULL entry points are ``None``."""

    Version: int = CLRES_VERSION_V1_00
    Open: Callable[..., Any] | None = None
    Close: Callable[..., Any] | None = None
    Online: Callable[..., Any] | None = None
    Offline: Callable[..., Any] | None = None
    Terminate: Callable[..., Any] | None = None
    LooksAlive: Callable[..., Any] | None = None
    IsAlive: Callable[..., Any] | None = None
    Arbitrate: Callable[..., Any] | None = None
    Release: Callable[..., Any] | None = None
    ResourceControl: Callable[..., Any] | None = None
    ResourceTypeControl: Callable[..., Any] | None = None


@dataclass
class RESOURCE_STATUS:
    """What a worker passes to SetResourceStatus (RS-3)."""

    ResourceState: int = ClusterResourceOnlinePending
    CheckPoint: int = 0
    WaitHint: int = 0
    EventHandle: Any = None


class HANDLE:
    """An LPHANDLE out-parameter: Online's EventHandle. ``value`` is ``None`` (NULL) on entry."""

    __slots__ = ("value",)

    def __init__(self, value: Any = None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"HANDLE({self.value!r})"


# --- SetLastError / GetLastError: per thread, like the Win32 calls -------------------------------
_last_error = thread_local()
_last_error_observers: list[Callable[[int], None]] = []


def SetLastError(dwErrCode: int) -> None:
    """Set the calling thread's last-error code (Open returns NULL after calling this, OP-2)."""
    _last_error.value = dwErrCode
    for observer in list(_last_error_observers):
        observer(dwErrCode)


def GetLastError() -> int:
    return getattr(_last_error, "value", ERROR_SUCCESS)


def observe_last_error(observer: Callable[[int], None]) -> Callable[[], None]:
    """Register a harness observer of SetLastError calls; returns a function that removes it."""
    _last_error_observers.append(observer)
    return lambda: _last_error_observers.remove(observer)


_CONTROL_NAMES: dict[int, str] = {}
for _name, _value in list(globals().items()):
    if _name.startswith("CLUSCTL_"):
        _CONTROL_NAMES.setdefault(_value, _name)

_ERROR_NAMES = {
    value: name
    for name, value in list(globals().items())
    if (name.startswith(("ERROR_", "RPC_")) or name == "WAIT_TIMEOUT") and isinstance(value, int)
}


def error_name(code: object) -> str:
    """``997 (ERROR_IO_PENDING)``: a number with its documented name where it has one."""
    if isinstance(code, int) and not isinstance(code, bool) and code in _ERROR_NAMES:
        return f"{code} ({_ERROR_NAMES[code]})"
    return short_repr(code)  # whatever a target returned, even with a hostile __repr__


def state_name(state: object) -> str:
    try:
        return CLUSTER_RESOURCE_STATE(state).name  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return repr(state)


class RESOURCE_HANDLE:
    """The handle the monitor gives Open; the DLL passes it back in callbacks (OP-3)."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RESOURCE_HANDLE) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("RESOURCE_HANDLE", self.value))

    def __repr__(self) -> str:
        return f"RESOURCE_HANDLE(0x{self.value:x})"
