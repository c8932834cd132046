/* The host test kit's target, in C: the twin of kit_dll.py, each behaviour asked for by the
 * resource's name (docs/host-protocol.md; tests/hostkit/test_hostkit.py). */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static PSET_RESOURCE_STATUS_ROUTINE set_status;
static PLOG_EVENT_ROUTINE log_event;

typedef struct {
    WCHAR name[64];
    RESOURCE_HANDLE handle;
} instance;

static int named(const instance *i, const WCHAR *name) { return !wcscmp(i->name, name); }

static RESID WINAPI KitOpen(LPCWSTR name, HKEY key, RESOURCE_HANDLE handle) {
    (void)key;
    if (!wcscmp(name, L"kit-fail")) {
        SetLastError(ERROR_ACCESS_DENIED);
        return NULL;
    }
    instance *i = calloc(1, sizeof *i);
    wcsncpy(i->name, name, 63);
    i->handle = handle;
    if (!wcscmp(name, L"kit-bomb"))
        log_event(handle, LOG_INFORMATION, L"%300000000ws", L"x");
    else
        log_event(handle, LOG_INFORMATION, L"opened %ws %08x", name, 42);
    return i;
}

static VOID WINAPI KitClose(RESID resid) { free(resid); }

static DWORD WINAPI report(LPVOID parameter) {
    instance *i = parameter;
    RESOURCE_STATUS status = {0};
    status.ResourceState = ClusterResourceOnlinePending;
    status.CheckPoint = 1;
    if (set_status(i->handle, &status) == ResourceExitStateContinue) {
        status.ResourceState = ClusterResourceOnline;
        status.CheckPoint = 2;
        set_status(i->handle, &status);
    }
    return 0;
}

static DWORD WINAPI signal_later(LPVOID event) {
    Sleep(100);
    SetEvent(event);
    return 0;
}

static DWORD WINAPI KitOnline(RESID resid, PHANDLE event) {
    instance *i = resid;
    if (named(i, L"kit-pending")) {
        CloseHandle(CreateThread(NULL, 0, report, i, 0, NULL));
        return ERROR_IO_PENDING;
    }
    if (named(i, L"kit-event")) {
        *event = CreateEventW(NULL, TRUE, FALSE, NULL);
        CloseHandle(CreateThread(NULL, 0, signal_later, *event, 0, NULL));
    }
    if (named(i, L"kit-hang"))
        for (;;) Sleep(1000);
    return ERROR_SUCCESS;
}

static DWORD WINAPI KitOffline(RESID resid) { (void)resid; return ERROR_SUCCESS; }
static VOID WINAPI KitTerminate(RESID resid) { (void)resid; }
static BOOL WINAPI KitLooksAlive(RESID resid) { (void)resid; return TRUE; }

static BOOL WINAPI KitIsAlive(RESID resid) {
    if (named(resid, L"kit-crash")) ExitProcess(3);
    return TRUE;
}

static DWORD WINAPI lose_later(LPVOID parameter) {
    void **pair = parameter;
    Sleep(50);
    ((PQUORUM_RESOURCE_LOST)pair[0])((RESOURCE_HANDLE)pair[1]);
    free(pair);
    return 0;
}

static DWORD WINAPI KitArbitrate(RESID resid, PQUORUM_RESOURCE_LOST lost) {
    void **pair = malloc(2 * sizeof *pair);
    pair[0] = (void *)lost;
    pair[1] = ((instance *)resid)->handle;
    CloseHandle(CreateThread(NULL, 0, lose_later, pair, 0, NULL));
    return ERROR_SUCCESS;
}

static DWORD WINAPI KitRelease(RESID resid) { (void)resid; return ERROR_SUCCESS; }

static DWORD WINAPI KitResourceControl(RESID resid, DWORD code, PVOID in, DWORD in_size,
                                       PVOID out, DWORD out_size, LPDWORD returned) {
    (void)resid; (void)code; (void)in; (void)in_size;
    if (!out || out_size < 4) {
        *returned = 0;
        return ERROR_SUCCESS;
    }
    memcpy(out, "\x01\x02\x03\x04", 4);
    *returned = 4;
    return ERROR_SUCCESS;
}

static DWORD WINAPI KitResourceTypeControl(LPCWSTR type, DWORD code, PVOID in, DWORD in_size,
                                           PVOID out, DWORD out_size, LPDWORD returned) {
    (void)type; (void)code; (void)in; (void)in_size; (void)out; (void)out_size;
    *returned = 0;
    return ERROR_INVALID_FUNCTION;
}

static CLRES_FUNCTION_TABLE table;

__declspec(dllexport) DWORD WINAPI Startup(LPCWSTR type, DWORD low, DWORD high,
                                           PSET_RESOURCE_STATUS_ROUTINE status,
                                           PLOG_EVENT_ROUTINE log, PCLRES_FUNCTION_TABLE *out) {
    (void)type; (void)low; (void)high;
    set_status = status;
    log_event = log;
    table.TableSize = CLRES_V1_FUNCTION_SIZE;
    table.Version = CLRES_VERSION_V1_00;
    table.V1Functions.Open = KitOpen;
    table.V1Functions.Close = KitClose;
    table.V1Functions.Online = KitOnline;
    table.V1Functions.Offline = KitOffline;
    table.V1Functions.Terminate = KitTerminate;
    table.V1Functions.LooksAlive = KitLooksAlive;
    table.V1Functions.IsAlive = KitIsAlive;
    table.V1Functions.Arbitrate = KitArbitrate;
    table.V1Functions.Release = KitRelease;
    table.V1Functions.ResourceControl = KitResourceControl;
    table.V1Functions.ResourceTypeControl = KitResourceTypeControl;
    *out = &table;
    return ERROR_SUCCESS;
}
