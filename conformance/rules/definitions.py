"""The rules, as data. Levels are the documentation's own words; ``policy`` says where
rescheck had to choose (a conflict of pages, or no level given) and what it chose."""

from __future__ import annotations

from conformance.rules import NOT_FOR_SCRIPTS, OPTIONAL, RECOMMENDED, REQUIRED, WORLD, Rule

_CRASH_POLICY = (
    "The docs give no level for an entry point that raises or never returns; such a DLL crashes "
    "or deadlocks the Resource Monitor, so the type 'will not function' "
    "(W:implementing-resource-dlls' definition of Required), and rescheck treats it as required."
)
_BOOL_POLICY = (
    "The signature is the contract (docs/contract.md marks it Ref): the Resource Monitor reads a BOOL, "
    "so a value other than TRUE/FALSE (1/0) is treated as a required return-contract violation."
)

#: (entry point, CONTRACT ids of its signature/return contract, page)
_ENTRY_POINTS = (
    ("Startup", ("ST-1", "ST-7"), "S:nc-resapi-pstartup_routine"),
    ("Open", ("OP-1", "OP-2"), "S:nc-resapi-popen_routine"),
    ("Close", ("CL-1",), "S:nc-resapi-pclose_routine"),
    ("Online", ("ON-1", "ON-2"), "S:nc-resapi-ponline_routine"),
    ("Offline", ("OF-1",), "S:nc-resapi-poffline_routine"),
    ("Terminate", ("TE-1", "TE-7"), "S:nc-resapi-pterminate_routine"),
    ("LooksAlive", ("LA-1",), "S:nc-resapi-plooks_alive_routine"),
    ("IsAlive", ("IA-1",), "S:nc-resapi-pis_alive_routine"),
    ("ResourceControl", ("RC-1",), "S:nc-resapi-presource_control_routine"),
    ("ResourceTypeControl", ("RT-1",), "S:nc-resapi-presource_type_control_routine"),
)

#: (entry point, CONTRACT ids of its 300 ms budget, page)
_BUDGETS = (
    ("Startup", ("ST-6", "RM-5"), "W:implementing-startup"),
    ("Open", ("OP-9", "RM-5"), "W:implementing-open"),
    ("Close", ("CL-6", "RM-5"), "W:implementing-close"),
    ("Online", ("ON-5", "PO-1", "RM-5"), "W:implementing-online"),
    ("Offline", ("OF-5", "PO-1", "RM-5"), "W:implementing-offline"),
    ("Terminate", ("TE-5", "RM-5"), "W:implementing-terminate"),
    ("LooksAlive", ("LA-7", "RM-5", "GS-15"), "W:implementing-looksalive"),
    ("IsAlive", ("IA-6", "RM-5", "GS-15"), "W:implementing-isalive"),
    ("ResourceControl", ("RC-9", "RM-5"), "W:implementing-resourcecontrol"),
    ("ResourceTypeControl", ("RC-9", "RM-5"), "W:implementing-resourcetypecontrol"),
)

_NULL_BUFFER_POLICY = (
    "RC-5 is the normative page: no buffer, an empty one and one a byte too small each get "
    "ERROR_MORE_DATA with the size needed. The ClipBook sample answers a NULL OutBuffer with "
    "ERROR_SUCCESS and the size (RC-10); rescheck follows RC-5, not the sample."
)
_FILL_POLICY = (
    "The OutBuffer is filled before the call, twice with different bytes; a byte the DLL wrote "
    "is one that differs from a fill. A Python DLL that changes the bytearray's length has, in C "
    "terms, written past the caller's buffer."
)
_INFO_POLICY = (
    "A type that declares no private properties may return ERROR_INVALID_FUNCTION for every "
    "private-property code (Microsoft's ClipBook sample does): reported as skipped, with that "
    "reason, unless its companion claims the 'private-properties' feature (which speaks of the "
    "resource's properties, not the type's)."
)


def _control_rules(
    entry: str, obj: str, ids: dict[str, tuple[str, ...]], page: str
) -> tuple[Rule, ...]:
    """The rules both control entry points share; ``obj`` is RESOURCE or RESOURCE_TYPE."""
    noun = "type" if obj == "RESOURCE_TYPE" else "resource type"
    slug = obj.lower().replace("_", "-")
    unknown = (
        f"CLUSCTL_{obj}_UNKNOWN returns ERROR_SUCCESS."
        if obj == "RESOURCE"
        else f"CLUSCTL_{obj}_UNKNOWN returns ERROR_SUCCESS when the DLL supports any other type "
        "code, and ERROR_INVALID_FUNCTION otherwise."
    )
    return (
        Rule(
            f"{entry}.return-code",
            REQUIRED,
            (entry,),
            f"{entry} returns (status, BytesReturned), both DWORDs.",
            page,
            ids["return-code"],
            policy=_BOOL_POLICY.replace("a BOOL", "two DWORDs").replace(
                "a value other than TRUE/FALSE (1/0)", "any other result"
            ),
        ),
        Rule(
            f"{entry}.unknown",
            REQUIRED,
            (entry,),
            unknown,
            "W:clusctl-resource-unknown"
            if obj == "RESOURCE"
            else "W:clusctl-resource-type-unknown",
            ids["unknown"],
        ),
        Rule(
            f"{entry}.unsupported-codes",
            REQUIRED,
            (entry,),
            "A control code the DLL does not implement returns ERROR_INVALID_FUNCTION.",
            "S:nc-resapi-pbegin_rescall_routine",
            ids["unsupported-codes"],
            policy="Sent: codes of the object with function numbers 0xF00..0xFFF, where no "
            "control code is documented, and to a resource INITIALIZE and QUERY_DELETE, which "
            "the docs say not to support. The level is the de-facto one of docs/contract.md (the "
            "sample's default branch, and ERROR_INVALID_FUNCTION asks the monitor for its "
            "default processing, RC-3).",
        ),
        Rule(
            f"{entry}.common-properties",
            RECOMMENDED,
            (entry,),
            "The common-property codes are left to the Resource Monitor: they return "
            "ERROR_INVALID_FUNCTION.",
            f"W:clusctl-{slug}-get-common-properties",
            ids["common-properties"],
        ),
        Rule(
            f"{entry}.more-data",
            REQUIRED,
            (entry,),
            "A code that returns data, given no OutBuffer, an empty one or one too small, returns "
            "ERROR_MORE_DATA with BytesReturned set to the size it needs.",
            page,
            ids["more-data"],
            policy=_NULL_BUFFER_POLICY,
        ),
        Rule(
            f"{entry}.buffer-bounds",
            REQUIRED,
            (entry,),
            "The DLL never writes past its OutBuffer, and with ERROR_SUCCESS BytesReturned is "
            "the number of bytes it wrote: never more than it wrote or than the buffer holds.",
            page,
            ids["buffer-bounds"],
            policy=_FILL_POLICY,
        ),
        Rule(
            f"{entry}.well-formed-output",
            REQUIRED,
            (entry,),
            "What the documented data codes return is well formed: DWORDs are 4 bytes (a DLL's "
            "own flags in the upper 16 bits), class info 8, dependencies a value list, ENUM a "
            "MULTI_SZ, GET and GET_RO property lists, FMTS a "
            "property list of one CLUSPROP_WORD per property.",
            "W:property-lists",
            ids["well-formed-output"],
            policy="One ENDMARK may follow a property list's last value list: the GET pages say "
            "the list ends with one, the property-lists page's example has none. An answer whose "
            "BytesReturned is not credible (more than was written) is buffer-bounds', not judged "
            "here.",
        ),
        Rule(
            f"{entry}.characteristics",
            REQUIRED,
            (entry,),
            "GET_CHARACTERISTICS, when the DLL answers it, claims CLUS_CHAR_QUORUM only if "
            "Arbitrate and Release are both in the function table.",
            f"W:clusctl-{slug}-get-characteristics",
            ids["characteristics"],
            policy="Answering the code is optional (the monitor's default sets the bit from the "
            "table), but an answer must be accurate: a false CLUS_CHAR_QUORUM makes the cluster "
            "pick a resource that cannot arbitrate.",
        ),
        Rule(
            f"{entry}.private-properties",
            REQUIRED,
            (entry,),
            f"A {noun} with private properties answers ENUM, GET, GET_RO and "
            "GET_PRIVATE_PROPERTY_FMTS, and the answers agree: read-only and read/write names "
            "are apart, GET returns every listed property that is stored, with the stored value "
            "and the format FMTS gives.",
            f"W:clusctl-{slug}-get-private-properties",
            ids["private-properties"],
            policy=(
                _INFO_POLICY
                if obj == "RESOURCE"
                else "GET_RO may be ERROR_INVALID_FUNCTION for a type without read-only "
                "properties (CC-37: conditional at type level, required at resource level). A "
                "type that declares no private properties may return ERROR_INVALID_FUNCTION for "
                "every private-property code (by default failover clusters define none, CC-41): "
                "reported as skipped, with that reason."
            ),
        ),
        Rule(
            f"{entry}.set-private-properties",
            REQUIRED,
            (entry,),
            "SET_PRIVATE_PROPERTIES validates before it writes: VALIDATE refuses exactly what "
            "SET refuses and writes nothing; a refused SET changes nothing; an accepted one is "
            "what GET returns next; values of the wrong format are refused.",
            f"W:clusctl-{slug}-set-private-properties",
            ids["set-private-properties"],
            policy="Both ERROR_SUCCESS and ERROR_RESOURCE_PROPERTIES_STORED accept a SET (the "
            "type page also names ERROR_RESOURCE_TYPE_PROPERTIES_STORED, with no value; its "
            "return-value list gives 5024); a VALIDATE accepts with ERROR_SUCCESS only. Sent: "
            "the values GET returned, each DWORD and SZ property changed and set back, each given a value of the wrong format, a valid change together with a wrong "
            "one (all or nothing), and read-only properties (only agreement is judged for those: "
            "no page requires SET to refuse them). A property's range is the DLL's own and "
            "unknown to rescheck, so out-of-range values are not sent. " + _INFO_POLICY,
        ),
        Rule(
            f"{entry}.malformed-input",
            REQUIRED,
            (entry,),
            "SET and VALIDATE_PRIVATE_PROPERTIES refuse a malformed property list (NULL, random "
            "bytes, truncated, wrong counts or lengths) with ERROR_INVALID_PARAMETER, "
            "ERROR_INVALID_DATA or ERROR_INSUFFICIENT_BUFFER, and leave the database as it was.",
            f"W:clusctl-{slug}-set-private-properties",
            ids["malformed-input"],
            policy="For a NULL InBuffer, RPC_X_BAD_STUB_DATA (what callers of the cluster API see) "
            f"is accepted too. Raising instead is the {entry}.returns rule's. Sent to any DLL "
            "that validates property lists itself (VALIDATE of an empty list is not "
            "ERROR_INVALID_FUNCTION).",
        ),
    )


_LINGER_POLICY = (
    "RS-2 says 'immediately'; a Python thread needs a moment to unwind, so threads still "
    "running 1 s after Terminate returned are the violation. Threads the DLL started before "
    "the operation (in Open, say) are not counted."
)
_PROBE_POLICY = (
    "Needs the companion's probe (and breaker, for failure detection); without them the check "
    "is skipped with that reason, never passed. The probe is given 2 s to see the change."
)
_LEAK_POLICY = (
    "Measured in the process hosting the DLL (threads, /proc/self/fd, live child processes) after "
    "each cycle, settling for up to 0.5 s; growth by at least half the number of audited "
    "cycles is a leak. The first cycle sets the level, so lazy one-time set-up is allowed."
)

RULES: tuple[Rule, ...] = (
    Rule(
        "Startup.revision-mismatch",
        REQUIRED,
        ("Startup",),
        "Startup returns ERROR_REVISION_MISMATCH when it supports no Resource API version in "
        "[MinVersionSupported, MaxVersionSupported].",
        "S:nc-resapi-pstartup_routine",
        ("ST-7", "ST-3"),
    ),
    Rule(
        "Startup.returns-table",
        REQUIRED,
        ("Startup",),
        "Startup returns ERROR_SUCCESS and a function table for the resource type it is asked "
        "for, when the offered version range contains a version the DLL supports.",
        "W:implementing-startup",
        ("ST-5", "ST-7", "ST-9"),
        policy="Judged only for a type name the DLL itself holds (as a whole string, compared "
        'without regard to case: a C L"..." literal, a Python string literal): the evidence '
        "that it means to implement the type. A DLL rightly refuses a type it does not implement "
        "(ST-9), so a refused name it does not contain (mistyped, or guessed from the file name) "
        "is a usage error (exit 2) that says so, never a finding.",
    ),
    Rule(
        "FunctionTable.table-size",
        REQUIRED,
        ("Startup",),
        "A compiled function table's TableSize is the size documented for its Version "
        "(CLRES_V1_FUNCTION_SIZE for a CLRES_VERSION_V1_00 table).",
        "S:ns-resapi-clres_function_table",
        ("FT-1", "FT-2"),
        policy="The page lists TableSize's values by macro without a level; the table's layout "
        "depends on them (FT-1), so rescheck treats them as required, as it does a signature. "
        "The headers define CLRES_V1_FUNCTION_SIZE as sizeof(CLRES_V1_FUNCTIONS) (88 bytes on "
        "x64) while the page calls TableSize the count of bytes in the structure (96 for a V1 "
        "table): both are accepted. Python tables have no TableSize: compiled DLLs only.",
        script_class=NOT_FOR_SCRIPTS,
    ),
    Rule(
        "Startup.table-version",
        REQUIRED,
        ("Startup",),
        "The function table's Version is a documented CLRES_VERSION that lies within "
        "[MinVersionSupported, MaxVersionSupported].",
        "S:nc-resapi-pstartup_routine",
        ("ST-8", "FT-1", "FT-2", "ST-5"),
        policy="ST-8 says a table whose version is out of range cannot be loaded; a type that "
        "cannot be loaded will not function, so rescheck treats the rule as required.",
    ),
    Rule(
        "FunctionTable.entry-points",
        REQUIRED,
        ("Open", "Close", "Online", "Offline", "Terminate", "LooksAlive", "IsAlive"),
        "Every entry point of the function table is non-NULL except Arbitrate and Release, which "
        "only quorum-capable types need.",
        "S:ns-resapi-clres_function_table",
        ("FT-3", "AR-1", "DS-1"),
    ),
    Rule(
        "FunctionTable.control-routines",
        RECOMMENDED,
        ("ResourceControl", "ResourceTypeControl"),
        "ResourceControl and ResourceTypeControl are non-NULL.",
        "W:implementing-resource-dlls",
        ("FT-4",),
        policy="docs/contract.md §11 item 2: S:ns-resapi-clres_v1_functions allows NULL control "
        "routines (the ClipBook sample ships one), while S:ns-resapi-clres_function_table and "
        "W:implementing-resource-dlls call them Required. rescheck reports a NULL routine as a "
        "recommended-level warning, never as a required failure.",
    ),
    Rule(
        "Open.resid",
        REQUIRED,
        ("Open",),
        "Open returns a non-NULL RESID, or returns NULL after calling SetLastError with an error.",
        "S:nc-resapi-popen_routine",
        ("OP-2", "OP-6", "ID-1"),
    ),
    Rule(
        "Online.return-code",
        REQUIRED,
        ("Online",),
        "Online returns a DWORD: ERROR_SUCCESS, ERROR_IO_PENDING or a system error code; "
        "ERROR_RESOURCE_NOT_AVAILABLE only from a quorum-capable type.",
        "S:nc-resapi-ponline_routine",
        ("ON-2", "AR-7"),
    ),
    Rule(
        "Online.brings-online",
        REQUIRED,
        ("Online",),
        "Online, given the properties the instance needs, brings the resource to "
        "ClusterResourceOnline rather than reporting failure.",
        "W:implementing-online",
        ("ON-9", "ON-3"),
        script_class=WORLD,
    ),
    Rule(
        "Online.reads-properties",
        RECOMMENDED,
        ("Online",),
        "Online (or its worker) reads the current values of the resource's private properties, "
        "rather than values cached when the instance was opened.",
        "W:implementing-online",
        ("ON-7",),
        policy="Judged only for a DLL that reads values under its Parameters key at all: each "
        "Online that brings the resource online must read there between the Online call and "
        "ClusterResourceOnline.",
        script_class=WORLD,
    ),
    Rule(
        "Offline.return-code",
        REQUIRED,
        ("Offline",),
        "Offline returns a DWORD: ERROR_SUCCESS, ERROR_IO_PENDING or a system error code.",
        "S:nc-resapi-poffline_routine",
        ("OF-1",),
    ),
    Rule(
        "Offline.brings-offline",
        RECOMMENDED,
        ("Offline",),
        "Offline shuts an online resource down gracefully, ending in ClusterResourceOffline "
        "rather than reporting failure.",
        "W:implementing-offline",
        ("OF-3", "OF-2"),
        script_class=WORLD,
    ),
    Rule(
        "SetResourceStatus.only-when-pending",
        REQUIRED,
        ("Online", "Offline"),
        "SetResourceStatus is called only after Online or Offline returned ERROR_IO_PENDING, "
        "from a worker thread, until the operation ends.",
        "S:nc-resapi-pset_resource_status_routine",
        ("PO-4", "PO-3", "PO-2"),
        policy="A worker may report before the Online/Offline call that started it has returned "
        "(it runs concurrently); rescheck accepts such a report when it comes from another thread "
        "and the call then returns ERROR_IO_PENDING.",
    ),
    Rule(
        "SetResourceStatus.checkpoint",
        REQUIRED,
        ("Online", "Offline"),
        "Each status report of a pending operation carries a CheckPoint greater than the "
        "previous report's.",
        "S:ns-resapi-resource_status",
        ("RS-4", "RS-5"),
        policy="RS-5 also says CheckPoint starts at 0 and rises by exactly 1, but the ClipBook "
        "sample starts at 1 and skips values; rescheck requires only that it strictly increases "
        "within one pending operation, which is what the monitor needs to see a new report.",
    ),
    Rule(
        "SetResourceStatus.final-state",
        REQUIRED,
        ("Online", "Offline"),
        "After ERROR_IO_PENDING the DLL keeps reporting, never leaving PendingTimeout between "
        "reports, until it reports the state the operation asked for or ClusterResourceFailed, "
        "and it reports no state foreign to the operation.",
        "S:nc-resapi-pset_resource_status_routine",
        ("PO-5", "PO-6", "RS-3"),
    ),
    Rule(
        "SetResourceStatus.stops-after-terminate",
        REQUIRED,
        ("Terminate", "Online", "Offline"),
        "Once Terminate has returned, or SetResourceStatus answered ResourceExitStateTerminate, "
        "the DLL's workers make no further status reports.",
        "S:nc-resapi-pset_resource_status_routine",
        ("RS-2", "TE-2", "CX-4", "PO-2"),
    ),
    Rule(
        "Terminate.stops-workers",
        REQUIRED,
        ("Terminate", "Online", "Offline"),
        "When Terminate returns, every thread the DLL started for the Online or Offline it "
        "cancelled has ended.",
        "S:nc-resapi-pset_resource_status_routine",
        ("RS-2", "TE-2", "CX-4"),
        policy=_LINGER_POLICY,
    ),
    Rule(
        "Terminate.concurrent",
        REQUIRED,
        (
            "Terminate",
            "Online",
            "Offline",
            "LooksAlive",
            "IsAlive",
            "ResourceControl",
            "ResourceTypeControl",
        ),
        "Terminate may run at the same time as Online, Offline, LooksAlive, IsAlive, "
        "ResourceControl and ResourceTypeControl: when it does, every call involved returns "
        "normally (no exception, no deadlock), and LooksAlive and IsAlive still return a BOOL.",
        "W:implementing-terminate",
        ("TE-4", "CX-1", "ON-4", "OF-4", "LA-4", "IA-5"),
        policy="The pages ask the DLL to protect what Terminate shares with the other entry "
        "points; what is observable is the outcome. rescheck calls Terminate while polls or "
        "GET_PRIVATE_PROPERTIES calls (resource and type) run back to back (they go on until "
        "Terminate returns), or while an Online or Offline call runs, at a slightly different moment each round; "
        "a call that overlapped Terminate and raised, never returned or answered a non-BOOL "
        "shows unprotected state. When every call was too quick to overlap, nothing is judged.",
    ),
    Rule(
        "Terminate.instance-usable",
        REQUIRED,
        ("Terminate", "Online"),
        "After Terminate, also one that cancelled a pending Online or Offline, Online brings "
        "the instance online again.",
        "W:implementing-terminate",
        ("TE-2", "TE-3", "ON-9"),
        policy="No page says it in one sentence: Terminate takes the resource offline at once "
        "(TE-2), the Resource Monitor then brings failed resources back with Online (restart "
        "policy), and Online must then work (ON-9, required); rescheck therefore treats it as "
        "required.",
        script_class=WORLD,
    ),
    Rule(
        "Instances.isolated",
        REQUIRED,
        ("Open", "IsAlive"),
        "Each instance has its own RESID and its own state: bringing one instance offline, "
        "terminating, restarting or closing it never changes what IsAlive reports for another.",
        "W:resource-identifiers",
        ("ID-1", "ID-2"),
        script_class=NOT_FOR_SCRIPTS,
    ),
    Rule(
        "Close.releases",
        REQUIRED,
        ("Close",),
        "Close frees everything tied to the instance: over repeated Open, Online, Offline, "
        "Close cycles the DLL's threads, open file descriptors and child processes return to "
        "their level after the first cycle.",
        "W:implementing-close",
        ("CL-4", "CL-3"),
        policy=_LEAK_POLICY,
    ),
    Rule(
        "Open.entity-offline",
        REQUIRED,
        ("Open",),
        "Open prepares the entity behind the resource but leaves it offline: right after Open "
        "the companion's probe finds it not running.",
        "W:implementing-open",
        ("OP-7",),
        policy=_PROBE_POLICY,
        script_class=WORLD,
    ),
    Rule(
        "Online.starts-entity",
        REQUIRED,
        ("Online",),
        "When Online has brought the resource online, the real entity runs (the companion's "
        "probe finds it).",
        "W:implementing-online",
        ("ON-9",),
        policy=_PROBE_POLICY,
        script_class=WORLD,
    ),
    Rule(
        "IsAlive.detects-failure",
        REQUIRED,
        ("IsAlive",),
        "Once the entity has definitely failed (the companion's breaker crashed it and its "
        "probe agrees), IsAlive returns FALSE, or the failure event has already told the "
        "monitor.",
        "W:implementing-isalive",
        ("IA-3", "IA-4", "IA-1", "GS-16"),
        policy=_PROBE_POLICY,
        script_class=WORLD,
    ),
    Rule(
        "Close.stops-entity",
        REQUIRED,
        ("Close",),
        "Close of an instance that is still online leaves its entity stopped: Close calls "
        "Terminate when the resource is not offline.",
        "W:implementing-close",
        ("CL-3",),
        policy=_PROBE_POLICY,
        script_class=WORLD,
    ),
    Rule(
        "Offline.stops-entity",
        REQUIRED,
        ("Offline",),
        "Once Offline has taken a resource offline, its entity is stopped and stays stopped: "
        "Offline shuts the resource down and leaves it ready to come online on another node.",
        "S:nc-resapi-poffline_routine",
        ("OF-1", "OF-3"),
        policy=_PROBE_POLICY + " Judged on an instance whose entity the probe found running: "
        "after Offline reports ClusterResourceOffline (or returns ERROR_SUCCESS) the probe must "
        "find the entity stopped within 2 s, and still stopped 1.5 s later (a worker left "
        "behind that starts it again fails). Required: OF-1 has ERROR_SUCCESS mean offline.",
        script_class=WORLD,
    ),
    Rule(
        "Terminate.stops-entity",
        REQUIRED,
        ("Terminate",),
        "Terminate makes the resource unavailable at once: its entity is stopped and stays "
        "stopped, whatever thread of the DLL was handling it.",
        "S:nc-resapi-pterminate_routine",
        ("TE-1", "TE-2"),
        policy=_PROBE_POLICY + " Judged on an instance whose entity the probe found running: "
        "after Terminate returns the probe must find the entity stopped within 2 s, and still "
        "stopped 1.5 s later, so an Online worker that outlives Terminate and starts the "
        "entity again fails even when it makes no status report.",
        script_class=WORLD,
    ),
    Rule(
        "Online.failure-event",
        OPTIONAL,
        ("Online",),
        "A type that claims asynchronous failure detection returns a nonsignaled EventHandle "
        "from Online and signals it when the entity fails, before a poll finds out.",
        "W:implementing-online",
        ("ON-6", "ON-1", "AF-1"),
        policy="Optional in the docs (ON-6). Judged when the companion claims 'async-failure': "
        "then it must work (a claimed feature that misbehaves fails, as a warning at this "
        "level); an EventHandle from a type that does not claim it is reported the same way. "
        "That the event is signalled needs the companion's probe and breaker.",
    ),
    Rule(
        "Callbacks.resource-handle",
        REQUIRED,
        ("Open",),
        "SetResourceStatus and LogEvent receive the ResourceHandle that Open was given, for an "
        "instance that is still open.",
        "S:nc-resapi-popen_routine",
        ("OP-3", "RS-1", "LG-1", "ID-2"),
    ),
    Rule(
        "SetResourceStatus.unknown-last-error",
        REQUIRED,
        ("Online", "Offline"),
        "Before a status report of ClusterResourceStateUnknown, the reporting thread calls "
        "SetLastError with the error, so that the monitor can learn it with GetLastError.",
        "S:ns-resapi-resource_status",
        ("RS-6",),
        policy="The page says the DLL 'should call the function SetLastError', in the same "
        "words it uses for CheckPoint; the monitor has no other way to learn the error, and "
        "docs/contract.md reads it as required. Judged on the reporting thread's last-error value "
        "when the report arrives: ERROR_SUCCESS (0) there is the violation.",
    ),
    Rule(
        "LogEvent.level",
        REQUIRED,
        ("Open", "Online", "Offline", "Terminate", "Close"),
        "LogEvent is given a LOG_LEVEL: LOG_INFORMATION, LOG_WARNING, LOG_ERROR or LOG_SEVERE "
        "(0 to 3).",
        "S:nc-resapi-plog_event_routine",
        ("LG-2", "LG-1"),
        policy="The page defines LOG_LEVEL and gives no level of its own (docs/contract.md marks it "
        "Ref); as with BOOL returns, the signature is the contract: a value outside the four "
        "documented ones cannot be classified in the cluster log, so rescheck requires it.",
    ),
    Rule(
        "LogEvent.entry-length",
        RECOMMENDED,
        ("Open", "Online", "Offline", "Terminate", "Close"),
        "Each cluster-log entry (resource type, line break, resource name, ': ' and the "
        "message) fits the documented 500 characters; a longer one is cut.",
        "S:nc-resapi-plog_event_routine",
        ("LG-3",),
        policy="The page states the 500-character limit as what the cluster log does, not as a "
        "duty of the DLL, and gives no level. What is cut is lost to whoever reads the log, so "
        "rescheck reports it as recommended: it warns and never makes a run non-compliant.",
    ),
    Rule(
        "ClusWorker.fresh-structure",
        REQUIRED,
        ("Online", "Offline"),
        "ClusWorkerCreate is given a zero-initialised CLUS_WORKER, never one that already "
        "started a thread.",
        "S:nf-resapi-clusworkercreate",
        ("WK-1",),
        policy="rescheck's ClusWorkerCreate refuses a CLUS_WORKER whose hThread is set "
        "(ERROR_INVALID_PARAMETER) and records it; Windows leaves the behaviour undefined. "
        "Only that kind of non-fresh structure can be seen.",
    ),
    Rule(
        "LooksAlive.bool",
        REQUIRED,
        ("LooksAlive",),
        "LooksAlive returns a BOOL: TRUE (1) or FALSE (0).",
        "S:nc-resapi-plooks_alive_routine",
        ("LA-1",),
        policy=_BOOL_POLICY,
    ),
    Rule(
        "IsAlive.bool",
        REQUIRED,
        ("IsAlive",),
        "IsAlive returns a BOOL: TRUE (1) or FALSE (0).",
        "S:nc-resapi-pis_alive_routine",
        ("IA-1",),
        policy=_BOOL_POLICY,
    ),
    Rule(
        "IsAlive.healthy",
        REQUIRED,
        ("IsAlive",),
        "IsAlive returns TRUE for a resource that came online and was not disturbed: FALSE "
        "means 'definitely failed' and makes the monitor fail and terminate it.",
        "W:implementing-isalive",
        ("IA-3", "IA-4", "IA-7"),
        script_class=WORLD,
    ),
    Rule(
        "LooksAlive.healthy",
        RECOMMENDED,
        ("LooksAlive",),
        "LooksAlive returns TRUE for a resource that came online and was not disturbed.",
        "W:implementing-looksalive",
        ("LA-5", "LA-3"),
        script_class=WORLD,
    ),
    Rule(
        "ClusterDatabase.no-writes-in-entry-points",
        REQUIRED,
        ("Open", "Close", "Online", "Offline", "Terminate"),
        "Open, Close, Online, Offline and Terminate do not write to the cluster database "
        "(ClusterReg* writes); a worker thread may.",
        "W:function-calls-to-avoid-in-resource-dlls",
        ("RM-7",),
    ),
    Rule(
        "Process.survives",
        REQUIRED,
        ("Online", "Offline", "Terminate", "LooksAlive", "IsAlive", "Open", "Close"),
        "The DLL never ends the Resource Monitor process it is loaded in: no exit, abort or "
        "fatal signal, from an entry point or from a thread of its own, and no exception "
        "escapes a thread of its own (in a DLL written in C, that ends the process).",
        "W:resource-monitor",
        ("RM-1", "RM-2"),
        policy="The Resource Monitor runs DLLs in a process of its own so that a failing DLL "
        "cannot take the Cluster service down (RM-1); a DLL that ends that process takes every "
        "resource it hosts with it. As for entry points that raise, no page gives a level, and "
        "rescheck treats it as required. Judged only with isolated hosting (the default): "
        "in-process, the crash would end rescheck too.",
    ),
    *(
        Rule(
            f"{entry}.returns",
            REQUIRED,
            (entry,),
            f"{entry} returns: it neither raises (a crash of the DLL inside the Resource Monitor) "
            "nor blocks past DeadlockTimeout.",
            page,
            (*ids, "RM-8"),
            policy=_CRASH_POLICY,
        )
        for entry, ids, page in _ENTRY_POINTS
    ),
    Rule(
        "DllMain.timing",
        RECOMMENDED,
        ("DllMain",),
        "Loading the DLL returns within 300 ms; for a Python resource DLL that is executing the "
        "module, which does what LoadLibrary and DllMain do for a real DLL.",
        "W:implementing-dllmain",
        ("DM-4", "RM-5"),
        policy="A Python DLL has no DllMain: its module's top-level code runs when the Resource "
        "Monitor loads it, as DLL_PROCESS_ATTACH does, so that time is measured. Each scenario "
        "loads the module afresh, which gives repeated samples; the median is judged.",
    ),
    *(
        Rule(
            f"{entry}.timing",
            RECOMMENDED,
            (entry,),
            f"{entry} returns within 300 ms (longer work belongs on a worker thread).",
            page,
            ids,
            policy="Judged on repeated samples: the median must be within the budget; a single "
            "slow sample on a busy machine is reported as unstable timing, not as a violation."
            if entry != "IsAlive"
            else "Judged on repeated samples: the median must be within 300 ms; the docs' ideal "
            "of 50 ms is reported as information only.",
        )
        for entry, ids, page in _BUDGETS
    ),
    *_control_rules(
        "ResourceControl",
        "RESOURCE",
        {
            "return-code": ("RC-1", "RC-6"),
            "unknown": ("CC-1",),
            "unsupported-codes": ("RC-4", "RC-3", "CC-25", "CC-28"),
            "common-properties": ("CC-7", "RC-8"),
            "more-data": ("RC-5",),
            "buffer-bounds": ("RC-6", "PL-12"),
            "well-formed-output": (
                "PL-1",
                "PL-2",
                "PL-3",
                "PL-4",
                "PL-8",
                "CC-3",
                "CC-4",
                "CC-5",
                "CC-8",
            ),
            "characteristics": ("CC-2", "AR-8", "CH-2"),
            "private-properties": ("CC-8", "CC-9", "CC-10", "CC-13", "PL-10"),
            "set-private-properties": ("CC-11", "CC-12"),
            "malformed-input": ("CC-11", "CC-12"),
        },
        "S:nc-resapi-presource_control_routine",
    ),
    *_control_rules(
        "ResourceTypeControl",
        "RESOURCE_TYPE",
        {
            "return-code": ("RT-1",),
            "unknown": ("CC-30",),
            "unsupported-codes": ("RT-3", "RC-4"),
            "common-properties": ("CC-42",),
            "more-data": ("RT-1", "RC-5"),
            "buffer-bounds": ("RT-1", "RC-6"),
            "well-formed-output": ("CC-32", "CC-33", "CC-34", "CC-35", "PL-1", "PL-3"),
            "characteristics": ("CC-31", "AR-8"),
            "private-properties": ("CC-36", "CC-37", "CC-38", "CC-41", "PL-10"),
            "set-private-properties": ("CC-39", "CC-40"),
            "malformed-input": ("CC-39", "CC-40"),
        },
        "S:nc-resapi-presource_type_control_routine",
    ),
    Rule(
        "ResourceControl.stored-properties",
        REQUIRED,
        ("ResourceControl",),
        "A SET of private properties while the resource is online either takes effect at once "
        "(ERROR_SUCCESS) or returns ERROR_RESOURCE_PROPERTIES_STORED, and then the entity keeps "
        "the old values until the next Online.",
        "S:nc-resapi-presource_control_routine",
        ("RC-7",),
        policy=_PROBE_POLICY + " The probe is given the values the status says are in effect; "
        "a property the entity does not depend on passes either way.",
    ),
    Rule(
        "ResourceControl.declares-read-properties",
        RECOMMENDED,
        ("ResourceControl",),
        "Every private property the DLL reads under a resource's Parameters key is defined in "
        "its property table, so CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES (read/write) or "
        "CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES (read-only) lists it.",
        "W:defining-structures-and-constants",
        ("DS-4", "CC-8", "PL-9"),
        policy="Recommended, not required: DS-4 requires a property table for a type with "
        "private properties, and CC-8 that ENUM lists the read/write ones, but no page forbids "
        "a DLL to keep a value of its own under Parameters. A value read there that neither "
        "ENUM nor GET_RO lists is one an administrator can neither see nor set through the "
        "control codes. Judged only for a DLL that answers ENUM_PRIVATE_PROPERTIES itself "
        "(one that leaves the codes to the cluster's default processing has every value there "
        "listed and settable), on ClusterRegQueryValue of a resource's Parameters key, "
        "compared case-insensitively; control scripts are not judged (the Generic Script "
        "type's only declared property is ScriptFilePath; a script's are the administrator's).",
        script_class=NOT_FOR_SCRIPTS,
    ),
    *(
        Rule(
            "Script.health-checks",
            REQUIRED,
            ("LooksAlive", "IsAlive"),
            "A Generic Script control script implements LooksAlive and IsAlive.",
            "W:scripting-entry-points",
            ("GS-10", "GS-1"),
            policy="The page says the script 'must' implement both. Judged on the parse of the "
            "script (VBScript names are matched without regard to case).",
        ),
        Rule(
            "Script.no-parameters",
            REQUIRED,
            ("Open", "Online", "Offline", "Close", "Terminate", "LooksAlive", "IsAlive"),
            "Script entry points take no parameters.",
            "W:scripting-entry-points",
            ("GS-12",),
            policy="The page states as documented behaviour that script functions receive no "
            "parameters, without a level. A VBScript function that declares one fails with "
            "error 450 every time it is called, so rescheck treats a declared parameter as "
            "required.",
        ),
        Rule(
            "Script.boolean-health",
            RECOMMENDED,
            ("LooksAlive", "IsAlive"),
            "LooksAlive and IsAlive return Boolean true rather than numeric zero for success.",
            "W:scripting-entry-points",
            ("GS-14",),
            policy="'Should' in the docs. The page's own example returns a command's exit code "
            "(numeric zero) from LooksAlive, which this rule reports. Judged on every answer "
            "the run saw, and on the script's text: a LooksAlive or IsAlive that answers the "
            "literal 0, a constant of value 0, a command's exit code (.ExitCode, or what "
            "WScript.Shell's Run returns) or what a function of the script answering so returns "
            "gives numeric zero for success in any world where it succeeds, reached or not.",
        ),
        Rule(
            "Script.runtime-errors",
            RECOMMENDED,
            ("Open", "Online", "Offline", "Close", "Terminate", "LooksAlive", "IsAlive"),
            "Script-level code and the script's entry points complete without a runtime error.",
            "W:scripting-entry-points",
            ("GS-13", "GS-18", "GS-39"),
            policy="The docs say only that an error makes the function fail, and that a "
            "failure goes to the cluster log (GS-13); they give no level. rescheck reports each "
            "runtime error with the script's file, line and message as recommended; what the "
            "failure does to the resource (an Online that fails, a healthy resource reported "
            "failed) is judged by the lifecycle rules at their own level. Writing to a console "
            "(WScript.Echo, GS-39) and an Open that cannot run twice in one load (GS-21) show up "
            "here.",
        ),
        Rule(
            "Script.cluster-api",
            REQUIRED,
            ("Open", "Online", "Offline", "Close", "Terminate", "LooksAlive", "IsAlive"),
            "A control script uses neither the Cluster Automation Server (MSCluster.*) nor the "
            "cluster WMI provider (root\\MSCluster): all cluster interaction goes through the "
            "Resource object.",
            "W:scripting-entry-points",
            ("GS-38",),
            policy="The page says 'do not' (to avoid deadlocks); rescheck reads the prohibition "
            "as required. Seen in the script's text (a ProgID or moniker in a string literal, on "
            "a line a call can reach) and when the script creates such an object "
            "(CreateObject, ActiveXObject or GetObject); the stand-in then fails as the object "
            "would be refused.",
        ),
        Rule(
            "Script.no-console",
            RECOMMENDED,
            ("Open", "Online", "Offline", "Close", "Terminate", "LooksAlive", "IsAlive"),
            "A control script uses no console and no desktop: no WScript object (Echo, Sleep, "
            "Quit, ...), no MsgBox or InputBox; its output goes through Resource.LogInformation.",
            "W:scripted-resource-example",
            ("GS-39",),
            policy="The page says a scripted resource has no desktop, so writing to the console "
            "fails; it gives no level, and the failure is a runtime error, so rescheck reports "
            "it as recommended, like Script.runtime-errors. Found in the script's text, with "
            "line and column, on every line a call can reach (code in a function nothing calls "
            "is left out), and when a call used it.",
        ),
        Rule(
            "Script.resource-members",
            RECOMMENDED,
            ("Open", "Online", "Offline", "Close", "Terminate", "LooksAlive", "IsAlive"),
            "A control script calls only the members the Resource object has: LogInformation, "
            "AddProperty, RemoveProperty and Name (a private property is read or set as "
            "Resource.<Name>, never called).",
            "W:resource-object",
            ("GS-30", "GS-32", "GS-33", "GS-34", "GS-35", "GS-36", "GS-37"),
            policy="Calling a member the object lacks (Resource.LogError, say) is error 438 when "
            "the line runs, typically on an error path no test reaches; found in the text with "
            "line and column and reported as recommended, like Script.runtime-errors. "
            "PropertyExists is not in the object's method table but the docs' own example calls "
            "it (GS-37): rescheck accepts it.",
        ),
    ),
    *(
        Rule(
            "Arbitrate.with-release",
            REQUIRED,
            ("Arbitrate", "Release"),
            "Arbitrate and Release come together: a quorum-capable type exports both, any other "
            "type neither.",
            "S:ns-resapi-clres_function_table",
            ("AR-1", "AR-8", "FT-3"),
            policy="The docs make Arbitrate and Release required for quorum-capable types "
            "(AR-1) and let the Resource Monitor call a type quorum-capable only when it "
            "exports both (AR-8). A table with one of them is a quorum-capable type missing a "
            "required entry point, judged required.",
            script_class=NOT_FOR_SCRIPTS,
        ),
        Rule(
            "Arbitrate.exclusive",
            REQUIRED,
            ("Arbitrate",),
            "After a successful Arbitrate the node defends the quorum resource: no other node's "
            "Arbitrate succeeds while it owns it.",
            "S:nc-resapi-parbitrate_routine",
            ("AR-5", "AR-2", "AR-9"),
            policy="Judged on the quorum scenario's history (nodes arbitrating at once, while "
            "the owner defends, after Release, after the owner was killed or stopped): a node "
            "owns from its successful Arbitrate's return until its Release is asked, it calls "
            "LostQuorumResource or it is killed; an owner that was stopped is excused from "
            "then on (LostQuorumResource.prompt judges it).",
            script_class=NOT_FOR_SCRIPTS,
        ),
        Rule(
            "Arbitrate.takeover",
            REQUIRED,
            ("Arbitrate",),
            "A quorum resource nobody defends (at the start, after its owner was killed, or "
            "while its owner is stopped) is won by one of the arbitrating nodes within the "
            "type's arbitration time.",
            "S:nc-resapi-parbitrate_routine",
            ("AR-2", "AR-10", "AR-11"),
            policy="The docs give the bounds, not a sentence with a level: the arbitration time "
            "is what the type answers to CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT (default 60 s, "
            "AR-11), at most QuorumArbitrationTimeMax (20 s, AR-10), not scaled. A quorum "
            "that cannot be won leaves the cluster unable to form, so rescheck treats it as "
            "required. Owners are killed and stopped only with isolated hosting.",
            script_class=NOT_FOR_SCRIPTS,
        ),
        Rule(
            "Release.lets-go",
            REQUIRED,
            ("Release",),
            "After Release returns ERROR_SUCCESS the node no longer defends the quorum: another "
            "node's Arbitrate wins it within the arbitration time.",
            "S:nc-resapi-prelease_routine",
            ("RL-1",),
            policy="RL-1 is the return contract ('released and no longer defended'); rescheck "
            "judges the contract's meaning on another node, required.",
            script_class=NOT_FOR_SCRIPTS,
        ),
        Rule(
            "LostQuorumResource.prompt",
            REQUIRED,
            ("Arbitrate",),
            "A node that loses control of the quorum after winning it calls LostQuorumResource "
            "promptly: an owner stopped while another node took over says so within 2 s of "
            "running again.",
            "S:nc-resapi-pquorum_resource_lost",
            ("AR-6", "AR-5"),
            policy="The docs require the call when control is lost (AR-6) without a delay; "
            "rescheck allows two of the docs' example defence periods (a disk re-reserves once "
            "per second, AR-5) after the owner runs again. Judged with isolated hosting (the "
            "owner's host process is stopped with SIGSTOP).",
            script_class=NOT_FOR_SCRIPTS,
        ),
        Rule(
            "Online.not-available",
            REQUIRED,
            ("Online",),
            "Online of a quorum-capable resource on a node that lost arbitration returns "
            "ERROR_RESOURCE_NOT_AVAILABLE.",
            "S:nc-resapi-ponline_routine",
            ("AR-7",),
            script_class=NOT_FOR_SCRIPTS,
        ),
    ),
)
