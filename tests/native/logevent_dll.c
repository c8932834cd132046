/* Logs from Open in both styles a LogEvent FormatString comes in (tests/native/test_logevent.py). */
static PLOG_EVENT_ROUTINE log_event;

static RESID WINAPI LOpen(LPCWSTR name, HKEY key, RESOURCE_HANDLE handle) {
    (void)key;
    log_event(handle, LOG_INFORMATION, L"printf %ws %08x %u%%", name, 42, 7u);
    log_event(handle, LOG_INFORMATION, L"message %1!ws! %2!08x! %3!u!%% %1%n", name, 42, 7u);
    log_event(handle, LOG_INFORMATION, L"wide %1!300000000ws!", name);
    log_event(handle, LOG_INFORMATION, L"stop here%0(not this)");
    return (RESID)1;
}

static VOID WINAPI LClose(RESID resid) { (void)resid; }

static CLRES_FUNCTION_TABLE table = {
    CLRES_V1_FUNCTION_SIZE, CLRES_VERSION_V1_00,
    {{LOpen, LClose, NULL, NULL, LClose, NULL, NULL, NULL, NULL, NULL, NULL}}};

__declspec(dllexport) DWORD WINAPI Startup(LPCWSTR type, DWORD low, DWORD high,
                                           PSET_RESOURCE_STATUS_ROUTINE status,
                                           PLOG_EVENT_ROUTINE log, PCLRES_FUNCTION_TABLE *out) {
    (void)type; (void)low; (void)high; (void)status;
    log_event = log;
    *out = &table;
    return ERROR_SUCCESS;
}
