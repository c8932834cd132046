/* The ClusterReg* functions on keys: open, create, close, enumerate, delete. A key is a path
 * under one of the monitor's keys; the database decides whether it exists. */
#include <string.h>

#include "internal.h"

/* The database's boolean answer to op on where (key_exists). */
static DWORD ask_bool(const place *where, const char *op, BOOL *answer) {
    uint8_t *reply;
    size_t size;
    mp_value v = {0};
    DWORD status = db_ask(where, op, where->path, NULL, -1, NULL, &reply, &size);
    if (status != ERROR_SUCCESS) return status;
    mp_reader r = {reply, size, 0};
    *answer = mp_next(&r, &v) && v.type == MP_BOOL && v.i;
    release(reply);
    return ERROR_SUCCESS;
}

static LONG open_or_create(HKEY hKey, LPCWSTR lpszSubKey, PHKEY phkResult, LPDWORD disposition,
                           BOOL create) {
    const char *op = create ? "ClusterRegCreateKey" : "ClusterRegOpenKey";
    place parent, child;
    char name[PATH_BYTES];
    BOOL exists = FALSE;
    if (!object_read(hKey, KIND_KEY, &parent)) return bad_handle(op);
    if (!phkResult || !utf8_name(lpszSubKey, name) || !child_place(&parent, lpszSubKey, &child)) {
        note_access(&parent, op, NULL, create, ERROR_INVALID_PARAMETER);
        return ERROR_INVALID_PARAMETER;
    }
    DWORD status = ask_bool(&child, "key_exists", &exists);
    if (status == ERROR_SUCCESS && create && !exists) {
        uint8_t *reply;
        size_t size;
        status = db_ask(&child, "create_key", child.path, NULL, -1, NULL, &reply, &size);
        release(reply);
    } else if (status == ERROR_SUCCESS && !exists) {
        status = ERROR_FILE_NOT_FOUND;
    }
    if (status == ERROR_SUCCESS) {
        *phkResult = object_new(KIND_KEY, &child, FALSE);
        if (!*phkResult) status = ERROR_NOT_ENOUGH_MEMORY;
        if (disposition) *disposition = exists ? REG_OPENED_EXISTING_KEY : REG_CREATED_NEW_KEY;
    }
    note_access(&parent, op, name, create, status);
    return (LONG)status;
}

LONG WINAPI ClusterRegOpenKey(HKEY hKey, LPCWSTR lpszSubKey, REGSAM samDesired,
                              PHKEY phkResult) {
    (void)samDesired; /* every access is granted: the run's database has one user */
    return open_or_create(hKey, lpszSubKey, phkResult, NULL, FALSE);
}

LONG WINAPI ClusterRegCreateKey(HKEY hKey, LPCWSTR lpszSubKey, DWORD dwOptions,
                                REGSAM samDesired, LPSECURITY_ATTRIBUTES lpSecurityAttributes,
                                PHKEY phkResult, LPDWORD lpdwDisposition) {
    (void)dwOptions;
    (void)samDesired;
    (void)lpSecurityAttributes;
    return open_or_create(hKey, lpszSubKey, phkResult, lpdwDisposition, TRUE);
}

LONG WINAPI ClusterRegCloseKey(HKEY hKey) {
    if (!object_close(hKey, KIND_KEY)) return bad_handle("ClusterRegCloseKey");
    note_call("ClusterRegCloseKey", ERROR_SUCCESS, NULL);
    return ERROR_SUCCESS;
}

LONG WINAPI ClusterRegEnumKey(HKEY hKey, DWORD dwIndex, LPWSTR lpszName, LPDWORD lpcchName,
                              PFILETIME lpftLastWriteTime) {
    place where;
    uint8_t *reply = NULL;
    size_t size;
    mp_value list = {0}, name = {0};
    if (!object_read(hKey, KIND_KEY, &where)) return bad_handle("ClusterRegEnumKey");
    DWORD status = lpszName && lpcchName ? db_ask(&where, "subkeys", where.path, NULL, -1,
                                                  NULL, &reply, &size)
                                         : ERROR_INVALID_PARAMETER;
    mp_reader r = {reply, reply ? size : 0, 0};
    if (status == ERROR_SUCCESS &&
        (!mp_next(&r, &list) || list.type != MP_ARRAY || dwIndex >= list.length))
        status = ERROR_NO_MORE_ITEMS;
    for (DWORD i = 0; status == ERROR_SUCCESS && i < dwIndex; i++)
        if (!mp_skip(&r)) status = ERROR_NO_MORE_ITEMS;
    if (status == ERROR_SUCCESS && (!mp_next(&r, &name) || name.type != MP_STR))
        status = ERROR_NO_MORE_ITEMS;
    if (status == ERROR_SUCCESS) {
        DWORD units = wide_of(name.bytes, name.length, NULL, 0);
        if (units + 1 > *lpcchName) {
            status = ERROR_MORE_DATA;
        } else {
            wide_of(name.bytes, name.length, lpszName, units);
            lpszName[units] = 0;
            if (lpftLastWriteTime) memset(lpftLastWriteTime, 0, sizeof *lpftLastWriteTime);
        }
        *lpcchName = units; /* the name's length, also when the buffer is too small */
    }
    release(reply);
    note_access(&where, "ClusterRegEnumKey", NULL, FALSE, status);
    return (LONG)status;
}

/* Not provided yet: the run's database has no operation that removes a key. */
LONG WINAPI ClusterRegDeleteKey(HKEY hKey, LPCWSTR lpszSubKey) {
    place where;
    char name[PATH_BYTES];
    if (!object_read(hKey, KIND_KEY, &where)) return bad_handle("ClusterRegDeleteKey");
    note_access(&where, "ClusterRegDeleteKey", utf8_name(lpszSubKey, name) ? name : NULL, TRUE,
                ERROR_CALL_NOT_IMPLEMENTED);
    note_call("ClusterRegDeleteKey", ERROR_CALL_NOT_IMPLEMENTED,
              "rescheck does not provide ClusterRegDeleteKey yet");
    return ERROR_CALL_NOT_IMPLEMENTED;
}
