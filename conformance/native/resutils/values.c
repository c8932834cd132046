/* ResUtilGetDwordValue, ResUtilGetSzValue, ResUtilSetDwordValue, ResUtilSetSzValue (resapi.h),
 * and read_raw (any value, for the property-list functions):
 * one value of a cluster database key, through rescheck's clusapi.dll (ClusterRegQueryValue,
 * ClusterRegSetValue), so each is also a ClusterDatabaseAccess note. Strings are bounded: at
 * most STRING_LIMIT characters are read or written (a longer one is ERROR_INVALID_PARAMETER). */
#include <string.h>
#include <wchar.h>

#include "internal.h"

static DWORD noted(const char *function, DWORD status, const char *why) {
    note_call(function, status, why);
    return status;
}

DWORD WINAPI ResUtilGetDwordValue(HKEY hkeyClusterKey, LPCWSTR pszValueName,
                                  LPDWORD pdwOutValue, DWORD dwDefaultValue) {
    static const char *function = "ResUtilGetDwordValue";
    DWORD value = 0, type = 0, size = sizeof value;
    if (!pdwOutValue) return noted(function, ERROR_INVALID_PARAMETER, "pdwOutValue is NULL");
    *pdwOutValue = dwDefaultValue; /* kept when the value is missing or not a DWORD */
    DWORD status = ClusterRegQueryValue(hkeyClusterKey, pszValueName, &type, (LPBYTE)&value,
                                        &size);
    /* a value of another type (ERROR_MORE_DATA when it is longer) is not a DWORD */
    if ((status == ERROR_SUCCESS || status == ERROR_MORE_DATA) &&
        (type != REG_DWORD || size != sizeof value))
        return noted(function, ERROR_INVALID_PARAMETER, "the value is not a REG_DWORD");
    if (status == ERROR_SUCCESS) *pdwOutValue = value;
    return noted(function, status, NULL);
}

DWORD read_string(HKEY key, LPCWSTR name, LPWSTR *out, const char **why) {
    const DWORD most = (STRING_LIMIT + 1) * sizeof(WCHAR);
    DWORD type = 0, size = 0, status = ERROR_SUCCESS;
    *out = NULL;
    *why = NULL;
    /* the size, then the value; again if it grew meanwhile (a bounded number of times) */
    for (int attempt = 0; attempt < 4; attempt++) {
        status = ClusterRegQueryValue(key, name, &type, NULL, &size);
        if (status != ERROR_SUCCESS) return status;
        if (type != REG_SZ && type != REG_EXPAND_SZ) {
            *why = "the value is not a REG_SZ";
            return ERROR_INVALID_PARAMETER;
        }
        if (size > most) {
            *why = "the value is longer than 65536 characters";
            return ERROR_INVALID_PARAMETER;
        }
        /* room for a NUL after the data, should it end without one */
        LPWSTR text = LocalAlloc(LMEM_ZEROINIT, size + 2 * sizeof(WCHAR));
        if (!text) return ERROR_NOT_ENOUGH_MEMORY;
        DWORD got = size;
        status = ClusterRegQueryValue(key, name, &type, (LPBYTE)text, &got);
        if (status == ERROR_SUCCESS && type != REG_SZ && type != REG_EXPAND_SZ) {
            *why = "the value is not a REG_SZ";
            status = ERROR_INVALID_PARAMETER;
        }
        if (status == ERROR_SUCCESS) {
            *out = text;
            return status;
        }
        LocalFree(text);
        if (status != ERROR_MORE_DATA) return status;
    }
    return status;
}

LPWSTR WINAPI ResUtilGetSzValue(HKEY hkeyClusterKey, LPCWSTR pszValueName) {
    LPWSTR text;
    const char *why;
    DWORD status = read_string(hkeyClusterKey, pszValueName, &text, &why);
    note_call("ResUtilGetSzValue", status, why);
    if (status != ERROR_SUCCESS) SetLastError(status);
    return text;
}

DWORD WINAPI ResUtilSetDwordValue(HKEY hkeyClusterKey, LPCWSTR pszValueName, DWORD dwNewValue,
                                  LPDWORD pdwOutValue) {
    static const char *function = "ResUtilSetDwordValue";
    if (pdwOutValue && *pdwOutValue == dwNewValue) return noted(function, ERROR_SUCCESS, NULL);
    DWORD status = ClusterRegSetValue(hkeyClusterKey, pszValueName, REG_DWORD,
                                      (const BYTE *)&dwNewValue, sizeof dwNewValue);
    if (status == ERROR_SUCCESS && pdwOutValue) *pdwOutValue = dwNewValue;
    return noted(function, status, NULL);
}

DWORD WINAPI ResUtilSetSzValue(HKEY hkeyClusterKey, LPCWSTR pszValueName, LPCWSTR pszNewValue,
                               LPWSTR *ppszOutString) {
    static const char *function = "ResUtilSetSzValue";
    if (!pszNewValue) return noted(function, ERROR_INVALID_PARAMETER, "pszNewValue is NULL");
    size_t length = wcsnlen(pszNewValue, STRING_LIMIT + 1);
    if (length > STRING_LIMIT)
        return noted(function, ERROR_INVALID_PARAMETER, "the string is longer than 65536 characters");
    DWORD bytes = (DWORD)((length + 1) * sizeof(WCHAR));
    if (ppszOutString && *ppszOutString && wcsncmp(*ppszOutString, pszNewValue, length + 1) == 0)
        return noted(function, ERROR_SUCCESS, NULL); /* unchanged: not written */
    LPWSTR copy = NULL;
    if (ppszOutString) {
        copy = LocalAlloc(LMEM_FIXED, bytes);
        if (!copy) return noted(function, ERROR_NOT_ENOUGH_MEMORY, NULL);
        memcpy(copy, pszNewValue, bytes);
    }
    DWORD status = ClusterRegSetValue(hkeyClusterKey, pszValueName, REG_SZ,
                                      (const BYTE *)pszNewValue, bytes);
    if (status != ERROR_SUCCESS) {
        if (copy) LocalFree(copy);
        return noted(function, status, NULL);
    }
    if (ppszOutString) {
        if (*ppszOutString) LocalFree(*ppszOutString);
        *ppszOutString = copy;
    }
    return noted(function, status, NULL);
}

DWORD read_raw(HKEY key, LPCWSTR name, DWORD *type, LPBYTE *out, DWORD *size) {
    DWORD status = ERROR_SUCCESS;
    *out = NULL;
    *size = 0;
    /* the size, then the value; again if it grew meanwhile (a bounded number of times) */
    for (int attempt = 0; attempt < 4; attempt++) {
        DWORD wanted = 0;
        status = ClusterRegQueryValue(key, name, type, NULL, &wanted);
        if (status != ERROR_SUCCESS) return status;
        if (wanted > RAW_LIMIT) return ERROR_INVALID_DATA;
        LPBYTE data = LocalAlloc(LMEM_ZEROINIT, wanted + 2 * sizeof(WCHAR));
        if (!data) return ERROR_NOT_ENOUGH_MEMORY;
        DWORD got = wanted;
        status = ClusterRegQueryValue(key, name, type, data, &got);
        if (status == ERROR_SUCCESS && got <= wanted) {
            *out = data;
            *size = got;
            return status;
        }
        LocalFree(data);
        if (status != ERROR_MORE_DATA && status != ERROR_SUCCESS) return status;
    }
    return ERROR_MORE_DATA;
}
