"""The host test kit's target: a resource DLL whose every behaviour a kit test asks for by
the resource's name. The native host's kit target (a C DLL) behaves the same way."""

import os
import threading
import time

from conformance.clusapi import ClusterRegSetValue
from conformance.resapi import (
    ERROR_ACCESS_DENIED,
    ERROR_IO_PENDING,
    ERROR_SUCCESS,
    REG_DWORD,
    FunctionTable,
    SetLastError,
)

ClusterResourceOnline, ClusterResourceOnlinePending = 2, 129
LOG_INFORMATION = 1
_handles = {}
_callbacks = {}


def Startup(ResourceType, MinVersionSupported, MaxVersionSupported, SetResourceStatus, LogEvent):
    _callbacks.update(status=SetResourceStatus, log=LogEvent)
    table = FunctionTable(
        Version=0x100, Open=Open, Close=Close, Online=Online, Offline=Offline,
        Terminate=Terminate, LooksAlive=LooksAlive, IsAlive=IsAlive, Arbitrate=Arbitrate,
        Release=Release, ResourceControl=ResourceControl,
        ResourceTypeControl=ResourceTypeControl,
    )  # fmt: skip
    return ERROR_SUCCESS, table


class Instance:
    def __init__(self, name, handle):
        self.name, self.handle = name, handle
        self.exit_states = []


def Open(ResourceName, ResourceKey, ResourceHandle):
    if ResourceName == "kit-fail":
        SetLastError(ERROR_ACCESS_DENIED)
        return None
    ClusterRegSetValue(ResourceKey, "Opened", REG_DWORD, 1)
    log = _callbacks["log"]
    if ResourceName == "kit-bomb":
        log(ResourceHandle, LOG_INFORMATION, "%1!300000000s!", "x")
    else:
        log(ResourceHandle, LOG_INFORMATION, "opened %1 %2!08x!", ResourceName, 42)
    return Instance(ResourceName, ResourceHandle)


def Close(ResourceId):
    pass


def _report(instance, state, checkpoint):
    status = type("RESOURCE_STATUS", (), {})()
    status.ResourceState, status.CheckPoint, status.WaitHint, status.EventHandle = (
        state,
        checkpoint,
        0,
        None,
    )
    answer = _callbacks["status"](instance.handle, status)
    instance.exit_states.append(answer)
    return answer


def Online(ResourceId, EventHandle):
    name = ResourceId.name
    if name == "kit-pending":

        def work():
            if _report(ResourceId, ClusterResourceOnlinePending, 1) == 0:
                _report(ResourceId, ClusterResourceOnline, 2)

        threading.Thread(target=work, name="kit-worker").start()
        return ERROR_IO_PENDING
    if name == "kit-event":
        event = threading.Event()
        EventHandle.value = event
        threading.Timer(0.1, event.set).start()
    if name == "kit-raise":  # an exception that escapes a thread of the target
        threading.Thread(target=lambda: 1 / 0, name="kit-raiser").start()
    if name == "kit-hang":
        while True:
            time.sleep(1)
    return ERROR_SUCCESS


def Offline(ResourceId):
    return ERROR_SUCCESS


def Terminate(ResourceId):
    pass


def LooksAlive(ResourceId):
    return True


def IsAlive(ResourceId):
    if ResourceId.name == "kit-crash":
        os._exit(3)
    return True


def Arbitrate(ResourceId, LostQuorumResource):
    threading.Timer(0.05, LostQuorumResource, (ResourceId.handle,)).start()
    return ERROR_SUCCESS


def Release(ResourceId):
    return ERROR_SUCCESS


def ResourceControl(ResourceId, ControlCode, InBuffer, OutBuffer):
    if OutBuffer is None:
        return ERROR_SUCCESS, 0
    OutBuffer[:4] = b"\x01\x02\x03\x04"
    return ERROR_SUCCESS, 4


def ResourceTypeControl(ResourceTypeName, ControlCode, InBuffer, OutBuffer):
    return 1, 0  # ERROR_INVALID_FUNCTION
