"""What a target tells the monitor: SetResourceStatus (RS-1..RS-6), LogEvent (LG-1..LG-4),
LostQuorumResource (AR-6), and what the monitor hears of it from the API it imports
(SetLastError, ResUtil calls, cluster-database accesses, a control script's events). This
object is the monitor's side of `conformance.monitor.host.MonitorCallbacks`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.clusapi import HKEY
from conformance.logformat import format_message
from conformance.monitor import states
from conformance.monitor.host import current_entry
from conformance.resapi import (
    ERROR_CALL_NOT_IMPLEMENTED,
    ClusterResourceFailed,
    ClusterResourceOffline,
    ClusterResourceOnline,
    ClusterResourceStateUnknown,
    GetLastError,
    ResourceExitStateContinue,
    ResourceExitStateTerminate,
)
from conformance.runtime.trace import CALLBACK

if TYPE_CHECKING:
    from conformance.monitor.monitor import ResourceMonitor

#: The largest LogEvent entry the cluster log keeps (LG-3).
LOG_ENTRY_LIMIT = 500


class Reports:
    def __init__(self, monitor: ResourceMonitor) -> None:
        self.rm = monitor
        #: The cluster database's root, as OpenCluster gives it to the DLL; the type's key
        #: (with its ``Parameters``) exists, as it does for a registered type (PL-10)
        self.cluster_root: HKEY | None = HKEY(monitor.db, "", self.database_access(None))

    def SetResourceStatus(self, ResourceHandle: Any, ResourceStatus: Any) -> int:
        rm = self.rm
        now = rm.clock.now()
        context = current_entry()
        fields = {}
        for name in ("ResourceState", "CheckPoint", "WaitHint", "EventHandle"):
            fields[name] = getattr(ResourceStatus, name, "<missing>")
        resource = rm.by_handle(ResourceHandle)
        event = rm.trace.add(
            CALLBACK,
            "SetResourceStatus",
            resource=resource.name if resource else None,
            context=context[0] if context else None,
            args={"ResourceHandle": ResourceHandle, **fields},
        )
        if resource is None:
            event.data.update(known_handle=False, phase="unknown-handle")
            event.result = int(ResourceExitStateTerminate)
            event.end = rm.trace.now()
            return ResourceExitStateTerminate
        with resource.cond:
            op = resource.pending
            if op is None or op.done:
                phase = "after-terminate" if resource.terminated_at is not None else "not-pending"
                exit_state = ResourceExitStateTerminate
            else:
                phase = "in-call" if op.in_call else "pending"
                exit_state = ResourceExitStateContinue
                op.last_update = now
                event.data["op"] = op.op
                state = fields["ResourceState"]
                if state == ClusterResourceStateUnknown:
                    event.data["last_error"] = GetLastError()  # the reporting thread's (RS-6)
                if state in (ClusterResourceOnline, ClusterResourceOffline, ClusterResourceFailed):
                    op.done = True
                    why = states.REPORTED_IN_CALL if op.in_call else states.REPORTED_PENDING
                    resource.move(int(state), why)
                    if not op.in_call:
                        resource.pending = None
                    if state == ClusterResourceOnline:
                        rm.lifecycle.online_reached(resource, op)
                rm.changed(resource)
        event.data.update(known_handle=True, phase=phase)
        event.result = int(exit_state)
        event.end = rm.trace.now()
        return exit_state

    def LogEvent(self, ResourceHandle: Any, LogLevel: Any, FormatString: Any, *args: Any) -> None:
        message, length = format_message(FormatString, args)
        self.log_event(ResourceHandle, LogLevel, FormatString, message, length)

    def log_event(
        self, ResourceHandle: Any, LogLevel: Any, FormatString: Any, message: str, length: int
    ) -> None:
        """A LogEvent whose message was formatted where the target runs (`logformat`)."""
        rm = self.rm
        context = current_entry()
        resource = rm.by_handle(ResourceHandle)
        prefix = f"{rm.resource_type}\\n{resource.name if resource else '?'}: "
        rm.cluster_log.append((prefix + message)[:LOG_ENTRY_LIMIT])  # LG-3
        rm.trace.instant(
            CALLBACK,
            "LogEvent",
            resource=resource.name if resource else None,
            context=context[0] if context else None,
            args={
                "ResourceHandle": ResourceHandle,
                "LogLevel": LogLevel,
                "FormatString": FormatString,
            },
            data={
                "known_handle": resource is not None,
                "message": message[:LOG_ENTRY_LIMIT],
                "entry_length": len(prefix) + length,
            },
        )

    def LostQuorumResource(self, ResourceHandle: Any) -> None:
        """The DLL lost control of the quorum it had won (AR-6): the instance no longer owns
        it, as far as the monitor knows."""
        rm = self.rm
        context = current_entry()
        resource = rm.by_handle(ResourceHandle)
        rm.trace.instant(
            CALLBACK,
            "LostQuorumResource",
            resource=resource.name if resource else None,
            context=context[0] if context else None,
            args={"ResourceHandle": ResourceHandle},
            data={"known_handle": resource is not None},
        )
        if resource is not None:
            with resource.cond:
                resource.quorum_owner = False
                rm.changed(resource)

    def host_exited(self, how: str, output: str) -> None:
        self.rm.host_exited(how, output)

    def thread_raised(self, thread: str, error: str, traceback_text: str) -> None:
        """An exception escaped a thread of the target: a C DLL's process would end here."""
        entry = current_entry()
        self.rm.trace.monitor(
            "exception escaped a thread of the target",
            entry[1] if entry else None,
            thread=thread,
            escaped=error,
            traceback=traceback_text,
        )

    # --- what the API a target imports reports -----------------------------------------------
    def set_last_error(self, code: int) -> None:
        context = current_entry()
        if context is None or (context[0] != "Startup" and context[1] not in self._ours()):
            return  # another monitor's target, or a worker thread: not evidence for us
        self.rm.trace.instant(
            CALLBACK,
            "SetLastError",
            resource=context[1],
            context=context[0],
            args={"dwErrCode": code},
        )

    def resutils_call(self, function: str, result: int, why: str | None) -> None:
        """A call of rescheck's ResUtil or Cluster API functions; one that answered
        ERROR_CALL_NOT_IMPLEMENTED is marked ``unprovided``: rescheck's own functions answer it
        only for what they do not provide yet (`conformance.suite.unprovided`)."""
        context = current_entry()
        if context is not None and context[1] not in self._ours():
            return  # another monitor's target; a worker thread's call is kept (RM-7, WK-1)
        data: dict[str, Any] = {"refused": why} if why else {}
        if result == ERROR_CALL_NOT_IMPLEMENTED:
            data["unprovided"] = True
        self.rm.trace.instant(
            CALLBACK,
            function,
            resource=context[1] if context else None,
            context=context[0] if context else None,
            result=result,
            data=data,
        )

    def script(self, resource: str, what: str, data: dict[str, Any]) -> None:
        """The Generic Script DLL's account of its script (``ScriptLoad``, ``ScriptCall``,
        ``ScriptUnload``, ``ScriptObject``): what the GS rules judge."""
        if resource not in self._ours():
            return  # another monitor's instance
        shown = {k: v for k, v in data.items() if v is not None and k not in ("row", "succeeded")}
        self.rm.trace.instant(
            CALLBACK, f"Script{what.capitalize()}", resource=resource, args=shown, data=data
        )

    def database_access(self, resource: str | None) -> Any:
        """The observer of one key's accesses (the cluster root's, or a resource's)."""
        trace = self.rm.trace

        def observe(op: str, path: str, name: str | None, write: bool, result: Any = None) -> None:
            """One access (``result``: what it answered, where the host says)."""
            context = current_entry()
            trace.instant(
                CALLBACK,
                op,
                resource=resource,
                context=context[0] if context else None,
                args={"key": path, "name": name},
                data={"write": write, **({} if result is None else {"result": result})},
            )

        return observe

    def _ours(self) -> set[str]:
        return {r.name for r in self.rm.resources}
