/* A small synchronous resource DLL that misbehaves in one entry point, chosen when it is
 * built: -DMISCHIEF_<EntryPoint>=DO_HANG (never returns), DO_EXIT (ExitProcess) or DO_CRASH
 * (an access violation). Otherwise every entry point answers at once and correctly. */
#define DO_HANG for (;;) Sleep(1000)
#define DO_EXIT ExitProcess(9)
#define DO_CRASH (*(volatile int *)(uintptr_t)8 = 1)

static volatile LONG online[64];
static LONG next_slot;

static RESID WINAPI MOpen(LPCWSTR name, HKEY key, RESOURCE_HANDLE handle) {
    (void)name; (void)key; (void)handle;
#ifdef MISCHIEF_Open
    MISCHIEF_Open;
#endif
    LONG slot = InterlockedIncrement(&next_slot) % 64;
    online[slot] = 0;
    return (RESID)(uintptr_t)(slot + 1);
}

static volatile LONG *state(RESID resid) { return &online[((uintptr_t)resid - 1) % 64]; }

static VOID WINAPI MClose(RESID resid) {
    (void)resid;
#ifdef MISCHIEF_Close
    MISCHIEF_Close;
#endif
}

static DWORD WINAPI MOnline(RESID resid, PHANDLE event) {
    (void)event;
#ifdef MISCHIEF_Online
    MISCHIEF_Online;
#endif
    *state(resid) = 1;
    return ERROR_SUCCESS;
}

static DWORD WINAPI MOffline(RESID resid) {
#ifdef MISCHIEF_Offline
    MISCHIEF_Offline;
#endif
    *state(resid) = 0;
    return ERROR_SUCCESS;
}

static VOID WINAPI MTerminate(RESID resid) {
#ifdef MISCHIEF_Terminate
    MISCHIEF_Terminate;
#endif
    *state(resid) = 0;
}

static BOOL WINAPI MLooksAlive(RESID resid) {
#ifdef MISCHIEF_LooksAlive
    MISCHIEF_LooksAlive;
#endif
    return *state(resid) != 0;
}

static BOOL WINAPI MIsAlive(RESID resid) {
#ifdef MISCHIEF_IsAlive
    MISCHIEF_IsAlive;
#endif
    return *state(resid) != 0;
}

static CLRES_FUNCTION_TABLE table = {
    CLRES_V1_FUNCTION_SIZE, CLRES_VERSION_V1_00,
    {{MOpen, MClose, MOnline, MOffline, MTerminate, MLooksAlive, MIsAlive, NULL, NULL, NULL, NULL}}};

__declspec(dllexport) DWORD WINAPI Startup(LPCWSTR type, DWORD low, DWORD high,
                                           PSET_RESOURCE_STATUS_ROUTINE status,
                                           PLOG_EVENT_ROUTINE log, PCLRES_FUNCTION_TABLE *out) {
    (void)type; (void)status; (void)log;
    if (low > CLRES_VERSION_V1_00 || high < CLRES_VERSION_V1_00) return ERROR_REVISION_MISMATCH;
#ifdef MISCHIEF_Startup
    MISCHIEF_Startup;
#endif
    *out = &table;
    return ERROR_SUCCESS;
}
