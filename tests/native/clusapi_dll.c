/* Calls every Cluster API function rescheck's clusapi.dll provides, from Open, and logs each
 * result as "label=value" (tests/native/test_clusapi.py). It imports clusapi.dll as a real
 * resource DLL does (-lclusapi). */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static PLOG_EVENT_ROUTINE log_event;
static RESOURCE_HANDLE current;

static void say(LPCWSTR label, DWORD value) {
    log_event(current, LOG_INFORMATION, L"%ws=%lu", label, (unsigned long)value);
}

static void say_text(LPCWSTR label, LPCWSTR text) {
    log_event(current, LOG_INFORMATION, L"%ws=%ws", label, text);
}

static void values(HKEY params) {
    DWORD type = 0, size = 0, number = 0;
    WCHAR text[64];
    BYTE small[4];
    say(L"query-size", ClusterRegQueryValue(params, L"Name", &type, NULL, &size));
    say(L"query-size-type", type);
    say(L"query-size-bytes", size);
    size = sizeof small;
    say(L"query-small", ClusterRegQueryValue(params, L"Name", NULL, small, &size));
    say(L"query-small-bytes", size);
    size = sizeof text;
    say(L"query", ClusterRegQueryValue(params, L"name", &type, (LPBYTE)text, &size));
    say_text(L"query-text", text);
    size = sizeof number;
    say(L"query-dword", ClusterRegQueryValue(params, L"Count", &type, (LPBYTE)&number, &size));
    say(L"query-dword-value", number);
    size = sizeof number;
    say(L"query-missing", ClusterRegQueryValue(params, L"Missing", &type, (LPBYTE)&number, &size));

    DWORD answer = 42;
    static const WCHAR world[] = L"w\x00f6rld", multi[] = L"a\0bc\0";
    static const BYTE blob[] = {1, 2, 3};
    say(L"set-dword", ClusterRegSetValue(params, L"Out", REG_DWORD, (const BYTE *)&answer, 4));
    say(L"set-sz", ClusterRegSetValue(params, L"Text", REG_SZ, (const BYTE *)world, sizeof world));
    say(L"set-multi", ClusterRegSetValue(params, L"Multi", REG_MULTI_SZ, (const BYTE *)multi,
                                         sizeof multi));
    say(L"set-binary", ClusterRegSetValue(params, L"Blob", REG_BINARY, blob, sizeof blob));
    say(L"set-bad-dword", ClusterRegSetValue(params, L"Bad", REG_DWORD, (const BYTE *)&answer, 2));
    say(L"exists", ClusterRegQueryValue(params, L"Count", NULL, NULL, NULL));
    /* what the protocol cannot carry is refused, not cut: a name of 1001 characters, a string
     * of 70000 */
    static WCHAR long_text[70001];
    wmemset(long_text, L'x', 70000);
    size = sizeof number;
    say(L"query-long-name", ClusterRegQueryValue(params, long_text + 70000 - 1001, NULL,
                                                 (LPBYTE)&number, &size));
    say(L"set-long-sz", ClusterRegSetValue(params, L"Long", REG_SZ, (const BYTE *)long_text,
                                           sizeof long_text));
    DWORD strings = 40, each = 60000, units = strings * (each + 1) + 1; /* 2.4 MB of text */
    WCHAR *huge = malloc(units * sizeof(WCHAR));
    if (huge) {
        wmemset(huge, L'y', units);
        for (DWORD i = 1; i <= strings; i++) huge[i * (each + 1) - 1] = 0;
        huge[units - 1] = 0;
        say(L"set-huge-multi", ClusterRegSetValue(params, L"Huge", REG_MULTI_SZ,
                                                  (const BYTE *)huge, units * sizeof(WCHAR)));
        free(huge);
    }
    HKEY deep = NULL;
    say(L"open-long-path", ClusterRegOpenKey(params, long_text + 70000 - 990, KEY_READ, &deep));
    say(L"delete", ClusterRegDeleteValue(params, L"Blob"));
    say(L"delete-again", ClusterRegDeleteValue(params, L"Blob"));

    WCHAR multi_back[16];
    size = sizeof multi_back;
    say(L"query-multi", ClusterRegQueryValue(params, L"Multi", &type, (LPBYTE)multi_back, &size));
    say(L"query-multi-bytes", size);
    say(L"query-multi-same", size == sizeof multi && !memcmp(multi_back, multi, sizeof multi));

    DWORD count = 0, status;
    for (;; count++) {
        WCHAR name[64];
        DWORD chars = 64;
        size = sizeof text;
        status = ClusterRegEnumValue(params, count, name, &chars, &type, (LPBYTE)text, &size);
        if (status != ERROR_SUCCESS) break;
    }
    say(L"enum-values", count);
    say(L"enum-values-end", status);
    WCHAR tiny[2];
    DWORD chars = 2;
    say(L"enum-value-small", ClusterRegEnumValue(params, 0, tiny, &chars, NULL, NULL, NULL));
    say(L"enum-value-small-chars", chars);
}

static void keys(HKEY params) {
    HKEY sub = NULL, again = NULL;
    DWORD disposition = 0;
    say(L"create", ClusterRegCreateKey(params, L"Sub", 0, KEY_ALL_ACCESS, NULL, &sub, &disposition));
    say(L"create-new", disposition == REG_CREATED_NEW_KEY);
    say(L"create-again",
        ClusterRegCreateKey(params, L"Sub", 0, KEY_ALL_ACCESS, NULL, &again, &disposition));
    say(L"create-existing", disposition == REG_OPENED_EXISTING_KEY);
    WCHAR name[16];
    DWORD chars = 16;
    say(L"enum-key", ClusterRegEnumKey(params, 0, name, &chars, NULL));
    say_text(L"enum-key-name", name);
    chars = 16;
    say(L"enum-key-end", ClusterRegEnumKey(params, 1, name, &chars, NULL));
    chars = 2;
    say(L"enum-key-small", ClusterRegEnumKey(params, 0, name, &chars, NULL));
    say(L"enum-key-small-chars", chars);
    say(L"delete-key", ClusterRegDeleteKey(params, L"Sub"));
    say(L"close-sub", ClusterRegCloseKey(sub));
    say(L"close-again", ClusterRegCloseKey(again));
    say(L"close-closed", ClusterRegCloseKey(sub));
}

static void cluster(void) {
    HCLUSTER hcluster = OpenCluster(NULL);
    say(L"open-cluster", hcluster != NULL);
    if (!hcluster) {
        say(L"open-cluster-error", GetLastError());
        return;
    }
    HRESOURCE missing = OpenClusterResource(hcluster, L"no-such-resource");
    say(L"open-missing", missing == NULL ? GetLastError() : 0);
    HRESOURCE resource = OpenClusterResource(hcluster, L"res-1");
    say(L"open-resource", resource != NULL);
    HKEY key = GetClusterResourceKey(resource, KEY_READ), params = NULL;
    say(L"resource-key", key != NULL);
    say(L"resource-params", ClusterRegOpenKey(key, L"Parameters", KEY_READ, &params));
    DWORD number = 0, size = sizeof number;
    say(L"resource-count", ClusterRegQueryValue(params, L"Count", NULL, (LPBYTE)&number, &size));
    say(L"resource-count-value", number);
    say(L"close-params", ClusterRegCloseKey(params));
    say(L"close-res-key", ClusterRegCloseKey(key));
    say(L"close-resource", CloseClusterResource(resource));
    say(L"close-cluster", CloseCluster(hcluster));
    say(L"close-cluster-again", CloseCluster(hcluster));
}

static RESID WINAPI COpen(LPCWSTR name, HKEY key, RESOURCE_HANDLE handle) {
    HKEY params = NULL, missing = NULL;
    (void)name;
    current = handle;
    say(L"open-missing-key", ClusterRegOpenKey(key, L"Nothing", KEY_READ, &missing));
    say(L"open-key", ClusterRegOpenKey(key, L"Parameters", KEY_READ, &params));
    values(params);
    keys(params);
    say(L"close-key", ClusterRegCloseKey(params));
    say(L"close-resource-key", ClusterRegCloseKey(key));
    say(L"resource-key-usable", ClusterRegOpenKey(key, L"Parameters", KEY_READ, &params));
    ClusterRegCloseKey(params);
    cluster();
    return (RESID)1;
}

static VOID WINAPI CClose(RESID resid) { (void)resid; }

static CLRES_FUNCTION_TABLE table = {
    CLRES_V1_FUNCTION_SIZE, CLRES_VERSION_V1_00,
    {{COpen, CClose, NULL, NULL, CClose, NULL, NULL, NULL, NULL, NULL, NULL}}};

__declspec(dllexport) DWORD WINAPI Startup(LPCWSTR type, DWORD low, DWORD high,
                                           PSET_RESOURCE_STATUS_ROUTINE status,
                                           PLOG_EVENT_ROUTINE log, PCLRES_FUNCTION_TABLE *out) {
    (void)type; (void)low; (void)high; (void)status;
    log_event = log;
    *out = &table;
    return ERROR_SUCCESS;
}
