/* ResUtilFindDwordProperty and ResUtilFindSzProperty (resapi.h): one property of a property
 * list the caller gave, read with its size (proplist.c): ERROR_FILE_NOT_FOUND when the list
 * has no property of that name, ERROR_INVALID_DATA when it is malformed or the property's
 * value is not of the format asked for. */
#include <string.h>

#include "internal.h"

static DWORD noted(const char *function, DWORD status, const char *why) {
    note_call(function, status, why);
    return status;
}

DWORD WINAPI ResUtilFindDwordProperty(const PVOID pPropertyList, DWORD cbPropertyListSize,
                                      LPCWSTR pszPropertyName, LPDWORD pdwPropertyValue) {
    static const char *function = "ResUtilFindDwordProperty";
    plist_value v;
    if (!pszPropertyName || !pdwPropertyValue)
        return noted(function, ERROR_INVALID_PARAMETER, "no name, or nowhere to put the value");
    DWORD status = in_find(pPropertyList, cbPropertyListSize, pszPropertyName, &v);
    if (status != ERROR_SUCCESS) return noted(function, status, NULL);
    if ((v.syntax & 0xFFFF) != CLUSPROP_FORMAT_DWORD)
        return noted(function, ERROR_INVALID_DATA, "the property's value is not a DWORD");
    memcpy(pdwPropertyValue, v.data, sizeof *pdwPropertyValue);
    return noted(function, ERROR_SUCCESS, NULL);
}

DWORD WINAPI ResUtilFindSzProperty(const PVOID pPropertyList, DWORD cbPropertyListSize,
                                   LPCWSTR pszPropertyName, LPWSTR *pszPropertyValue) {
    static const char *function = "ResUtilFindSzProperty";
    plist_value v;
    if (!pszPropertyName)
        return noted(function, ERROR_INVALID_PARAMETER, "no property name");
    DWORD status = in_find(pPropertyList, cbPropertyListSize, pszPropertyName, &v);
    if (status != ERROR_SUCCESS) return noted(function, status, NULL);
    DWORD format = v.syntax & 0xFFFF;
    if (format != CLUSPROP_FORMAT_SZ && format != CLUSPROP_FORMAT_EXPAND_SZ &&
        format != CLUSPROP_FORMAT_EXPANDED_SZ)
        return noted(function, ERROR_INVALID_DATA, "the property's value is not a string");
    if (pszPropertyValue) { /* the string ends with its NUL: proplist.c checked it */
        LPWSTR copy = LocalAlloc(LMEM_FIXED, v.length);
        if (!copy) return noted(function, ERROR_NOT_ENOUGH_MEMORY, NULL);
        memcpy(copy, v.data, v.length);
        *pszPropertyValue = copy;
    }
    return noted(function, ERROR_SUCCESS, NULL);
}
