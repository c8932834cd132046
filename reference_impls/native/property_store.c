/* property_store.c: the "Property Store" resource type, a compiled DLL whose private
 * properties are a RESUTIL_PROPERTY_ITEM table answered through resutils.dll, as the Windows
 * SDK's resource samples answer them: ENUM with ResUtilEnumProperties, GET with
 * ResUtilGetAllProperties, GET_RO with ResUtilGetProperties (no read-only ones), FMTS with
 * ResUtilGetPropertyFormats, VALIDATE with ResUtilVerifyPropertyTable and SET with
 * ResUtilSetPropertyTable into the instance's parameter block (each in effect at once:
 * ERROR_SUCCESS). Online reads the properties again (ResUtilGetPropertiesToParameterBlock);
 * the entity is the instance's own state (no process, so no probe). A buffer too small is
 * ERROR_MORE_DATA with the size needed. Imports resutils.dll and clusapi.dll. */
#include <windows.h>
#include <clusapi.h>
#include <resapi.h>

typedef struct {
    LPWSTR Greeting;
    DWORD Interval;
    LPWSTR Home;
} PARAMETERS;

static RESUTIL_PROPERTY_ITEM g_Properties[] = {
    {L"Greeting", NULL, CLUSPROP_FORMAT_SZ, {(DWORD_PTR)L"hello"}, 0, 0, 0,
     FIELD_OFFSET(PARAMETERS, Greeting)},
    {L"Interval", NULL, CLUSPROP_FORMAT_DWORD, {5}, 1, 3600, 0, FIELD_OFFSET(PARAMETERS, Interval)},
    {L"Home", NULL, CLUSPROP_FORMAT_EXPAND_SZ, {(DWORD_PTR)L"%SystemRoot%"}, 0, 0, 0,
     FIELD_OFFSET(PARAMETERS, Home)},
    {NULL, NULL, 0, {0}, 0, 0, 0, 0}};
static RESUTIL_PROPERTY_ITEM g_ReadOnly[] = {{NULL, NULL, 0, {0}, 0, 0, 0, 0}};

typedef struct {
    RESID Self;
    RESOURCE_HANDLE Handle;
    HKEY Parameters;
    CRITICAL_SECTION Lock; /* guards Params and Up (Terminate may overlap the others) */
    PARAMETERS Params;
    BOOL Up;
} INSTANCE;

static PSET_RESOURCE_STATUS_ROUTINE g_SetResourceStatus;
static PLOG_EVENT_ROUTINE g_LogEvent;

static INSTANCE *Lookup(RESID id) {
    INSTANCE *instance = id;
    return instance && instance->Self == id ? instance : NULL;
}

static RESID WINAPI StoreOpen(LPCWSTR name, HKEY key, RESOURCE_HANDLE handle) {
    (void)name;
    INSTANCE *instance = LocalAlloc(LMEM_ZEROINIT, sizeof *instance);
    if (!instance) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    DWORD status = ClusterRegOpenKey(key, L"Parameters", KEY_ALL_ACCESS, &instance->Parameters);
    if (status != ERROR_SUCCESS) {
        LocalFree(instance);
        SetLastError(status);
        return NULL;
    }
    InitializeCriticalSection(&instance->Lock);
    instance->Self = instance;
    instance->Handle = handle;
    return instance;
}

static VOID WINAPI StoreClose(RESID id) {
    INSTANCE *instance = Lookup(id);
    if (!instance) return;
    instance->Self = NULL;
    ResUtilFreeParameterBlock((LPBYTE)&instance->Params, NULL, g_Properties);
    ClusterRegCloseKey(instance->Parameters);
    DeleteCriticalSection(&instance->Lock);
    LocalFree(instance);
}

/* Reads the current values (ON-7), then is online at once. */
static DWORD WINAPI StoreOnline(RESID id, PHANDLE event) {
    INSTANCE *instance = Lookup(id);
    LPWSTR wrong = NULL;
    (void)event;
    if (!instance) return ERROR_RESOURCE_NOT_FOUND;
    EnterCriticalSection(&instance->Lock);
    DWORD status = ResUtilGetPropertiesToParameterBlock(instance->Parameters, g_Properties,
                                                        (LPBYTE)&instance->Params, TRUE, &wrong);
    instance->Up = status == ERROR_SUCCESS;
    LeaveCriticalSection(&instance->Lock);
    if (status != ERROR_SUCCESS)
        g_LogEvent(instance->Handle, LOG_ERROR, L"Online: property %ws: %u\n",
                   wrong ? wrong : L"?", status);
    return status;
}

static DWORD WINAPI StoreOffline(RESID id) {
    INSTANCE *instance = Lookup(id);
    if (!instance) return ERROR_RESOURCE_NOT_FOUND;
    EnterCriticalSection(&instance->Lock);
    instance->Up = FALSE;
    LeaveCriticalSection(&instance->Lock);
    return ERROR_SUCCESS;
}

static VOID WINAPI StoreTerminate(RESID id) { StoreOffline(id); }

static BOOL WINAPI StoreIsAlive(RESID id) {
    INSTANCE *instance = Lookup(id);
    if (!instance) return FALSE;
    EnterCriticalSection(&instance->Lock);
    BOOL up = instance->Up;
    LeaveCriticalSection(&instance->Lock);
    return up;
}

/* The SDK's pattern: ERROR_MORE_DATA gives the size needed in BytesReturned. */
static DWORD Sized(DWORD status, DWORD required, LPDWORD BytesReturned) {
    if (status == ERROR_MORE_DATA) *BytesReturned = required;
    return status;
}

static DWORD PrivateProperties(INSTANCE *instance, DWORD code, PVOID in, DWORD inSize, PVOID out,
                               DWORD outSize, LPDWORD BytesReturned) {
    DWORD required = 0, status;
    switch (code) {
    case CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES:
        status = ResUtilEnumProperties(g_Properties, out, outSize, BytesReturned, &required);
        return Sized(status, required, BytesReturned);
    case CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES:
        status = ResUtilGetAllProperties(instance->Parameters, g_Properties, out, outSize,
                                         BytesReturned, &required);
        return Sized(status, required, BytesReturned);
    case CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES:
        status = ResUtilGetProperties(instance->Parameters, g_ReadOnly, out, outSize,
                                      BytesReturned, &required);
        return Sized(status, required, BytesReturned);
    case CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS:
        status = ResUtilGetPropertyFormats(g_Properties, out, outSize, BytesReturned, &required);
        return Sized(status, required, BytesReturned);
    case CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES:
        return ResUtilVerifyPropertyTable(g_Properties, NULL, FALSE, in, inSize, NULL);
    default: /* CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES */
        EnterCriticalSection(&instance->Lock);
        status = ResUtilSetPropertyTable(instance->Parameters, g_Properties, NULL, FALSE, in,
                                         inSize, (LPBYTE)&instance->Params);
        LeaveCriticalSection(&instance->Lock);
        return status;
    }
}

static DWORD WINAPI StoreResourceControl(RESID id, DWORD code, PVOID in, DWORD inSize, PVOID out,
                                         DWORD outSize, LPDWORD BytesReturned) {
    INSTANCE *instance = Lookup(id);
    DWORD unused;
    if (!BytesReturned) BytesReturned = &unused;
    *BytesReturned = 0;
    if (!instance) return ERROR_RESOURCE_NOT_FOUND;
    switch (code) {
    case CLUSCTL_RESOURCE_UNKNOWN:
        return ERROR_SUCCESS;
    case CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES:
    case CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES:
    case CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES:
    case CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS:
    case CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES:
    case CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES:
        return PrivateProperties(instance, code, in, inSize, out, outSize, BytesReturned);
    default:
        return ERROR_INVALID_FUNCTION;
    }
}

static DWORD WINAPI StoreResourceTypeControl(LPCWSTR type, DWORD code, PVOID in, DWORD inSize,
                                             PVOID out, DWORD outSize, LPDWORD BytesReturned) {
    (void)type; (void)in; (void)inSize; (void)out; (void)outSize;
    if (BytesReturned) *BytesReturned = 0;
    return code == CLUSCTL_RESOURCE_TYPE_UNKNOWN ? ERROR_SUCCESS : ERROR_INVALID_FUNCTION;
}

static CLRES_FUNCTION_TABLE g_FunctionTable = {
    .TableSize = CLRES_V1_FUNCTION_SIZE,
    .Version = CLRES_VERSION_V1_00,
    .V1Functions = {
        .Open = StoreOpen,
        .Close = StoreClose,
        .Online = StoreOnline,
        .Offline = StoreOffline,
        .Terminate = StoreTerminate,
        .LooksAlive = StoreIsAlive,
        .IsAlive = StoreIsAlive,
        .Arbitrate = NULL,
        .Release = NULL,
        .ResourceControl = StoreResourceControl,
        .ResourceTypeControl = StoreResourceTypeControl,
    },
};

__declspec(dllexport) DWORD WINAPI Startup(LPCWSTR ResourceType, DWORD MinVersionSupported,
                                           DWORD MaxVersionSupported,
                                           PSET_RESOURCE_STATUS_ROUTINE SetResourceStatus,
                                           PLOG_EVENT_ROUTINE LogEvent,
                                           PCLRES_FUNCTION_TABLE *FunctionTable) {
    (void)ResourceType;
    if (MinVersionSupported > CLRES_VERSION_V1_00 || MaxVersionSupported < CLRES_VERSION_V1_00)
        return ERROR_REVISION_MISMATCH;
    if (!SetResourceStatus || !LogEvent || !FunctionTable) return ERROR_INVALID_PARAMETER;
    g_SetResourceStatus = SetResourceStatus;
    g_LogEvent = LogEvent;
    *FunctionTable = &g_FunctionTable;
    return ERROR_SUCCESS;
}
