/* A synchronous resource DLL that calls documented functions rescheck does not provide yet
 * (tests/native/test_unprovided.py): Open asks ResUtilGetResourceDependencyByName (NULL, last
 * error ERROR_CALL_NOT_IMPLEMENTED) and GetClusterResourceState (its Unknown state), and logs
 * what it got; IsAlive returns ResUtilVerifyService's status as its BOOL, a bug only the stub's
 * answer (120) shows: IsAlive.bool fails on it, and must be "not judged". With -DREFUSED it
 * also imports ClusterRegQueryAllValues, which rescheck neither provides nor stubs. */
#include <stdint.h>

#ifdef REFUSED
DWORD WINAPI ClusterRegQueryAllValues(void);
#endif

static PLOG_EVENT_ROUTINE log_event;
static volatile LONG online[64];
static LONG next_slot;

static volatile LONG *state(RESID resid) { return &online[((uintptr_t)resid - 1) % 64]; }

static RESID WINAPI UOpen(LPCWSTR name, HKEY key, RESOURCE_HANDLE handle) {
    (void)name; (void)key;
    SetLastError(0);
    HRESOURCE found = ResUtilGetResourceDependencyByName(NULL, NULL, L"IP Address", FALSE);
    log_event(handle, LOG_INFORMATION, L"dependency=%u\n", found ? 0u : GetLastError());
    SetLastError(0);
    CLUSTER_RESOURCE_STATE got = GetClusterResourceState(NULL, NULL, NULL, NULL, NULL);
    log_event(handle, LOG_INFORMATION, L"state=%d,%u\n", (int)got, GetLastError());
#ifdef REFUSED
    ClusterRegQueryAllValues();
#endif
    LONG slot = InterlockedIncrement(&next_slot) % 64;
    online[slot] = 0;
    return (RESID)(uintptr_t)(slot + 1);
}

static VOID WINAPI UClose(RESID resid) { (void)resid; }

static DWORD WINAPI UOnline(RESID resid, PHANDLE event) {
    (void)event;
    *state(resid) = 1;
    return ERROR_SUCCESS;
}

static DWORD WINAPI UOffline(RESID resid) {
    *state(resid) = 0;
    return ERROR_SUCCESS;
}

static VOID WINAPI UTerminate(RESID resid) { *state(resid) = 0; }

static BOOL WINAPI ULooksAlive(RESID resid) { return *state(resid) != 0; }

static BOOL WINAPI UIsAlive(RESID resid) {
    if (!*state(resid)) return FALSE;
    return (BOOL)ResUtilVerifyService(NULL); /* the bug: a status is not a BOOL */
}

static CLRES_FUNCTION_TABLE table = {
    CLRES_V1_FUNCTION_SIZE, CLRES_VERSION_V1_00,
    {{UOpen, UClose, UOnline, UOffline, UTerminate, ULooksAlive, UIsAlive, NULL, NULL, NULL, NULL}}};

__declspec(dllexport) DWORD WINAPI Startup(LPCWSTR type, DWORD low, DWORD high,
                                           PSET_RESOURCE_STATUS_ROUTINE status,
                                           PLOG_EVENT_ROUTINE log, PCLRES_FUNCTION_TABLE *out) {
    (void)type; (void)status;
    if (low > CLRES_VERSION_V1_00 || high < CLRES_VERSION_V1_00) return ERROR_REVISION_MISMATCH;
    log_event = log;
    *out = &table;
    return ERROR_SUCCESS;
}
