/* The ClusterReg* functions on values: query, set, delete, enumerate. Every buffer is bounded
 * by the size the DLL passed; a buffer too small is ERROR_MORE_DATA with the size needed. */
#include <string.h>

#include "internal.h"

/* The value's data into lpData (when it fits) and its size and type out, as documented for
 * ClusterRegQueryValue and ClusterRegEnumValue. value: the stored value, encoded. */
static DWORD data_out(const uint8_t *value, size_t size, DWORD type, LPDWORD lpdwType,
                      LPBYTE lpData, LPDWORD lpcbData) {
    DWORD needed;
    reg_from_wire(value, size, type, lpData, lpData ? *lpcbData : 0, &needed);
    if (lpdwType) *lpdwType = type;
    DWORD status = lpData && needed > *lpcbData ? ERROR_MORE_DATA : ERROR_SUCCESS;
    if (lpcbData) *lpcbData = needed;
    return status;
}

/* [type, value] at r: the type, and the value's encoding. */
static BOOL typed(mp_reader *r, DWORD *type, const uint8_t **value, size_t *size) {
    mp_value head, kind = {0};
    if (!mp_next(r, &head) || head.type != MP_ARRAY || head.length != 2 || !mp_next(r, &kind))
        return FALSE;
    *type = (DWORD)(kind.type == MP_UINT ? kind.u : (uint64_t)kind.i);
    *value = r->data + r->pos;
    size_t start = r->pos;
    if (!mp_skip(r)) return FALSE;
    *size = r->pos - start;
    return TRUE;
}

LONG WINAPI ClusterRegQueryValue(HKEY hKey, LPCWSTR lpszValueName, LPDWORD lpdwValueType,
                                 LPBYTE lpData, LPDWORD lpcbData) {
    place where;
    char name[PATH_BYTES];
    uint8_t *reply = NULL;
    size_t size, value_size;
    const uint8_t *value;
    DWORD type, status;
    if (!object_read(hKey, KIND_KEY, &where)) return bad_handle("ClusterRegQueryValue");
    BOOL named = utf8_name(lpszValueName, name);
    if (!named || (lpData && !lpcbData))
        status = ERROR_INVALID_PARAMETER;
    else
        status = db_ask(&where, "get_value", where.path, name, -1, NULL, &reply, &size);
    mp_reader r = {reply, reply ? size : 0, 0};
    if (status == ERROR_SUCCESS && !typed(&r, &type, &value, &value_size))
        status = ERROR_FILE_NOT_FOUND; /* nil: no such value */
    if (status == ERROR_SUCCESS)
        status = data_out(value, value_size, type, lpdwValueType, lpData, lpcbData);
    release(reply);
    note_access(&where, "ClusterRegQueryValue", named ? name : NULL, FALSE, status);
    return (LONG)status;
}

DWORD WINAPI ClusterRegSetValue(HKEY hKey, LPCWSTR lpszValueName, DWORD dwType,
                                CONST BYTE *lpData, DWORD cbData) {
    place where;
    char name[PATH_BYTES];
    mp_writer value;
    uint8_t *reply = NULL;
    size_t size;
    DWORD status = ERROR_INVALID_PARAMETER;
    if (!object_read(hKey, KIND_KEY, &where)) return bad_handle("ClusterRegSetValue");
    BOOL named = utf8_name(lpszValueName, name);
    mp_writer_init(&value);
    if (named && (lpData || !cbData)) status = wire_from_reg(dwType, lpData, cbData, &value);
    if (status == ERROR_SUCCESS && (value.failed || value.size > ENCODED_LIMIT))
        status = ERROR_INVALID_PARAMETER; /* more than one message can carry */
    if (status == ERROR_SUCCESS)
        status = db_ask(&where, "set_value", where.path, name, dwType, &value, &reply, &size);
    release(reply);
    mp_writer_free(&value);
    note_access(&where, "ClusterRegSetValue", named ? name : NULL, TRUE, status);
    return status;
}

DWORD WINAPI ClusterRegDeleteValue(HKEY hKey, LPCWSTR lpszValueName) {
    place where;
    char name[PATH_BYTES];
    uint8_t *reply = NULL;
    size_t size;
    mp_value deleted = {0};
    if (!object_read(hKey, KIND_KEY, &where)) return bad_handle("ClusterRegDeleteValue");
    BOOL named = utf8_name(lpszValueName, name);
    DWORD status = named ? db_ask(&where, "delete_value", where.path, name, -1, NULL, &reply,
                                  &size)
                         : ERROR_INVALID_PARAMETER;
    mp_reader r = {reply, reply ? size : 0, 0};
    if (status == ERROR_SUCCESS && !(mp_next(&r, &deleted) && deleted.type == MP_BOOL && deleted.i))
        status = ERROR_FILE_NOT_FOUND;
    release(reply);
    note_access(&where, "ClusterRegDeleteValue", named ? name : NULL, TRUE, status);
    return status;
}

DWORD WINAPI ClusterRegEnumValue(HKEY hKey, DWORD dwIndex, LPWSTR lpszValueName,
                                 LPDWORD lpcchValueName, LPDWORD lpdwType, LPBYTE lpData,
                                 LPDWORD lpcbData) {
    place where;
    uint8_t *reply = NULL;
    size_t size, value_size;
    const uint8_t *value;
    mp_value list = {0}, head = {0}, name = {0};
    DWORD type, status;
    if (!object_read(hKey, KIND_KEY, &where)) return bad_handle("ClusterRegEnumValue");
    if (!lpszValueName || !lpcchValueName || (lpData && !lpcbData))
        status = ERROR_INVALID_PARAMETER;
    else
        status = db_ask(&where, "values", where.path, NULL, -1, NULL, &reply, &size);
    mp_reader r = {reply, reply ? size : 0, 0};
    if (status == ERROR_SUCCESS &&
        (!mp_next(&r, &list) || list.type != MP_ARRAY || dwIndex >= list.length))
        status = ERROR_NO_MORE_ITEMS;
    for (DWORD i = 0; status == ERROR_SUCCESS && i < dwIndex; i++)
        if (!mp_skip(&r)) status = ERROR_NO_MORE_ITEMS;
    /* [name, type, value]: read as [type, value] after the name */
    if (status == ERROR_SUCCESS &&
        (!mp_next(&r, &head) || head.type != MP_ARRAY || head.length != 3 ||
         !mp_next(&r, &name) || name.type != MP_STR))
        status = ERROR_NO_MORE_ITEMS;
    if (status == ERROR_SUCCESS) {
        mp_value kind = {0};
        if (!mp_next(&r, &kind)) status = ERROR_NO_MORE_ITEMS;
        type = (DWORD)(kind.type == MP_UINT ? kind.u : (uint64_t)kind.i);
        value = r.data + r.pos;
        size_t start = r.pos;
        if (status == ERROR_SUCCESS && !mp_skip(&r)) status = ERROR_NO_MORE_ITEMS;
        value_size = r.pos - start;
    }
    if (status == ERROR_SUCCESS) {
        DWORD units = wide_of(name.bytes, name.length, NULL, 0);
        BOOL fits = units + 1 <= *lpcchValueName;
        if (fits) {
            wide_of(name.bytes, name.length, lpszValueName, units);
            lpszValueName[units] = 0;
        }
        *lpcchValueName = units;
        status = data_out(value, value_size, type, lpdwType, lpData, lpcbData);
        if (!fits) status = ERROR_MORE_DATA;
    }
    release(reply);
    note_access(&where, "ClusterRegEnumValue", NULL, FALSE, status);
    return status;
}
