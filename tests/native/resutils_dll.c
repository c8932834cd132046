/* Calls every function rescheck's resutils.dll provides, from Open, and logs each result as
 * "label=value" (tests/native/test_resutils.py). It imports resutils.dll and clusapi.dll as a
 * real resource DLL does (-lresutils -lclusapi). */
#include <wchar.h>

static PLOG_EVENT_ROUTINE log_event;
static RESOURCE_HANDLE current;
static volatile LONG saw_terminate;

static void say(LPCWSTR label, DWORD value) {
    log_event(current, LOG_INFORMATION, L"%ws=%lu", label, (unsigned long)value);
}

static void say_text(LPCWSTR label, LPCWSTR text) {
    log_event(current, LOG_INFORMATION, L"%ws=%ws", label, text ? text : L"(null)");
}

static void values(HKEY params) {
    DWORD number = 0;
    say(L"get-dword", ResUtilGetDwordValue(params, L"Count", &number, 5));
    say(L"get-dword-value", number);
    say(L"get-dword-missing", ResUtilGetDwordValue(params, L"Missing", &number, 5));
    say(L"get-dword-default", number);
    say(L"get-dword-wrong", ResUtilGetDwordValue(params, L"Name", &number, 5));

    LPWSTR text = ResUtilGetSzValue(params, L"Name");
    say_text(L"get-sz", text);
    if (text) LocalFree(text);
    text = ResUtilGetSzValue(params, L"Missing");
    say(L"get-sz-missing", text ? 0 : GetLastError());
    text = ResUtilGetSzValue(params, L"Count");
    say(L"get-sz-wrong", text ? 0 : GetLastError());

    DWORD out = 0;
    say(L"set-dword", ResUtilSetDwordValue(params, L"Out", 42, &out));
    say(L"set-dword-out", out);
    say(L"set-dword-same", ResUtilSetDwordValue(params, L"Out", 42, &out));
    say(L"set-dword-plain", ResUtilSetDwordValue(params, L"Plain", 9, NULL));

    LPWSTR kept = NULL;
    say(L"set-sz", ResUtilSetSzValue(params, L"Text", L"w\x00f6rld", &kept));
    say_text(L"set-sz-out", kept);
    say(L"set-sz-same", ResUtilSetSzValue(params, L"Text", L"w\x00f6rld", &kept));
    say(L"set-sz-again", ResUtilSetSzValue(params, L"Text", L"again", &kept));
    say_text(L"set-sz-again-out", kept);
    if (kept) LocalFree(kept);
    static WCHAR long_text[70001];
    wmemset(long_text, L'x', 70000);
    say(L"set-sz-long", ResUtilSetSzValue(params, L"Long", long_text, NULL));
}

typedef struct {
    DWORD Count;
    LPWSTR Name;
    DWORD Missing;
    LPWSTR Absent;
    LPWSTR Defaulted;
} PARAMETERS;

static RESUTIL_PROPERTY_ITEM properties[] = {
    {L"Count", NULL, CLUSPROP_FORMAT_DWORD, {0}, 0, 0xFFFFFFFF, 0, FIELD_OFFSET(PARAMETERS, Count)},
    {L"Name", NULL, CLUSPROP_FORMAT_SZ, {0}, 0, 0, 0, FIELD_OFFSET(PARAMETERS, Name)},
    {L"Missing", NULL, CLUSPROP_FORMAT_DWORD, {11}, 0, 100, 0, FIELD_OFFSET(PARAMETERS, Missing)},
    {L"Absent", NULL, CLUSPROP_FORMAT_SZ, {0}, 0, 0, 0, FIELD_OFFSET(PARAMETERS, Absent)},
    {L"Defaulted", NULL, CLUSPROP_FORMAT_EXPAND_SZ, {(DWORD_PTR)L"dflt"}, 0, 0, 0,
     FIELD_OFFSET(PARAMETERS, Defaulted)},
    {NULL, NULL, 0, {0}, 0, 0, 0, 0}};

static void one_item(LPCWSTR label, LPCWSTR label_name, LPWSTR name, DWORD format, DWORD flags,
                     HKEY params) {
    PARAMETERS block = {0};
    RESUTIL_PROPERTY_ITEM item[2] = {{name, NULL, format, {0}, 0, 0, flags, 0}, {0}};
    LPWSTR wrong = NULL;
    say(label, ResUtilGetPropertiesToParameterBlock(params, item, (LPBYTE)&block, TRUE, &wrong));
    say_text(label_name, wrong);
}

static void parameter_block(HKEY params) {
    PARAMETERS block = {0};
    LPWSTR wrong = L"unset";
    say(L"block", ResUtilGetPropertiesToParameterBlock(params, properties, (LPBYTE)&block, TRUE, &wrong));
    say(L"block-error-name-null", wrong == NULL);
    say(L"block-count", block.Count);
    say_text(L"block-name", block.Name);
    say(L"block-missing", block.Missing);
    say(L"block-absent-null", block.Absent == NULL);
    say_text(L"block-defaulted", block.Defaulted);
    say(L"block-again", ResUtilGetPropertiesToParameterBlock(params, properties, (LPBYTE)&block, FALSE,
                                                             NULL));
    say_text(L"block-again-name", block.Name);
    ResUtilFreeParameterBlock((LPBYTE)&block, NULL, properties);
    say(L"block-freed", block.Name == NULL && block.Defaulted == NULL);
    one_item(L"block-required", L"block-required-name", L"Nowhere", CLUSPROP_FORMAT_DWORD,
             RESUTIL_PROPITEM_REQUIRED, params);
    one_item(L"block-wrong-type", L"block-wrong-type-name", L"Name", CLUSPROP_FORMAT_DWORD, 0,
             params);
    one_item(L"block-multi", L"block-multi-name", L"Name", CLUSPROP_FORMAT_MULTI_SZ, 0, params);
}

static DWORD WINAPI polling(PCLUS_WORKER worker, LPVOID parameter) {
    (void)parameter;
    while (!ClusWorkerCheckTerminate(worker)) Sleep(5);
    InterlockedIncrement(&saw_terminate);
    return ERROR_SUCCESS;
}

static DWORD WINAPI ending_itself(PCLUS_WORKER worker, LPVOID parameter) {
    ClusWorkerTerminate(worker); /* its own: no wait */
    *(volatile LONG *)parameter = worker->Terminate && worker->hThread != NULL;
    return ERROR_SUCCESS;
}

static void workers(void) {
    CLUS_WORKER worker = {0};
    say(L"create", ClusWorkerCreate(&worker, polling, NULL));
    say(L"create-thread", worker.hThread != NULL);
    Sleep(20);
    ClusWorkerTerminate(&worker);
    say(L"terminated-seen", (DWORD)saw_terminate);
    say(L"terminated-flag", worker.Terminate);
    say(L"terminated-handle", worker.hThread == NULL);
    say(L"create-reuse", ClusWorkerCreate(&worker, polling, NULL));
    ClusWorkerTerminate(&worker);
    say(L"reuse-seen", (DWORD)saw_terminate);
    ClusWorkerTerminate(&worker); /* again: nothing to wait for */

    CLUS_WORKER used = {0};
    used.hThread = GetCurrentThread(); /* not zero-initialised */
    say(L"create-used", ClusWorkerCreate(&used, polling, NULL));

    CLUS_WORKER unstarted = {0};
    ClusWorkerTerminate(&unstarted);
    say(L"terminate-unstarted", unstarted.Terminate);

    CLUS_WORKER self = {0};
    volatile LONG self_state = 0;
    say(L"create-self", ClusWorkerCreate(&self, ending_itself, (PVOID)&self_state));
    WaitForSingleObject(self.hThread, 5000);
    say(L"self-state", (DWORD)self_state);
    ClusWorkerTerminate(&self); /* from here: closes the handle */
    say(L"self-handle", self.hThread == NULL);
}

static RESID WINAPI ROpen(LPCWSTR name, HKEY key, RESOURCE_HANDLE handle) {
    HKEY params = NULL;
    (void)name;
    current = handle;
    say(L"open-key", ClusterRegOpenKey(key, L"Parameters", KEY_ALL_ACCESS, &params));
    values(params);
    parameter_block(params);
    ClusterRegCloseKey(params);
    workers();
    return (RESID)1;
}

static VOID WINAPI RClose(RESID resid) { (void)resid; }

static CLRES_FUNCTION_TABLE table = {
    CLRES_V1_FUNCTION_SIZE, CLRES_VERSION_V1_00,
    {{ROpen, RClose, NULL, NULL, RClose, NULL, NULL, NULL, NULL, NULL, NULL}}};

__declspec(dllexport) DWORD WINAPI Startup(LPCWSTR type, DWORD low, DWORD high,
                                           PSET_RESOURCE_STATUS_ROUTINE status,
                                           PLOG_EVENT_ROUTINE log, PCLRES_FUNCTION_TABLE *out) {
    (void)type; (void)low; (void)high; (void)status;
    log_event = log;
    *out = &table;
    return ERROR_SUCCESS;
}
