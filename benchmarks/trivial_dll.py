"""The trivial resource DLL the benchmarks measure against: every entry point returns at
once, so what is timed is the caller (the monitor, the fuzzer), not the target."""

from conformance.resapi import ERROR_INVALID_FUNCTION, ERROR_SUCCESS, FunctionTable

TABLE = FunctionTable(
    Open=lambda ResourceName, ResourceKey, ResourceHandle: object(),
    Close=lambda ResourceId: None,
    Online=lambda ResourceId, EventHandle: ERROR_SUCCESS,
    Offline=lambda ResourceId: ERROR_SUCCESS,
    Terminate=lambda ResourceId: None,
    LooksAlive=lambda ResourceId: True,
    IsAlive=lambda ResourceId: True,
    ResourceControl=lambda ResourceId, ControlCode, InBuffer, OutBuffer: (
        ERROR_INVALID_FUNCTION,
        0,
    ),
)


def Startup(ResourceType, MinVersionSupported, MaxVersionSupported, SetResourceStatus, LogEvent):
    return ERROR_SUCCESS, TABLE
