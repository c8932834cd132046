/* The trivial resource DLL in C, for the native host's figures: every entry point returns
 * at once (the twin of trivial_dll.py). */
static char instance;

static RESID WINAPI TrivialOpen(LPCWSTR name, HKEY key, RESOURCE_HANDLE handle) {
    (void)name; (void)key; (void)handle;
    return &instance;
}
static VOID WINAPI TrivialClose(RESID resid) { (void)resid; }
static DWORD WINAPI TrivialOnline(RESID resid, PHANDLE event) { (void)resid; (void)event; return ERROR_SUCCESS; }
static DWORD WINAPI TrivialOffline(RESID resid) { (void)resid; return ERROR_SUCCESS; }
static BOOL WINAPI TrivialAlive(RESID resid) { (void)resid; return TRUE; }

static CLRES_FUNCTION_TABLE table = {
    CLRES_V1_FUNCTION_SIZE, CLRES_VERSION_V1_00,
    {{TrivialOpen, TrivialClose, TrivialOnline, TrivialOffline, TrivialClose, TrivialAlive,
      TrivialAlive, NULL, NULL, NULL, NULL}}};

__declspec(dllexport) DWORD WINAPI Startup(LPCWSTR type, DWORD low, DWORD high,
                                           PSET_RESOURCE_STATUS_ROUTINE status,
                                           PLOG_EVENT_ROUTINE log, PCLRES_FUNCTION_TABLE *out) {
    (void)type; (void)low; (void)high; (void)status; (void)log;
    *out = &table;
    return ERROR_SUCCESS;
}
