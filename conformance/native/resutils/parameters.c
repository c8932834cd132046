/* ResUtilGetPropertiesToParameterBlock and ResUtilFreeParameterBlock (resapi.h) for the items
 * of a RESUTIL_PROPERTY_ITEM table rescheck reads yet: CLUSPROP_FORMAT_DWORD, _SZ and
 * _EXPAND_SZ (another format is ERROR_CALL_NOT_IMPLEMENTED, with why). Each item's value
 * (KeyName, or Name) is read from the key into the block at its Offset: a DWORD, or a
 * LocalAlloc'd string whose previous pointer there is freed; a missing value is the item's
 * Default (a DWORD, or a copy of the string lpDefault, else NULL); with
 * bCheckForRequiredProperties, a missing RESUTIL_PROPITEM_REQUIRED one is
 * ERROR_INVALID_PARAMETER and its Name. RESUTIL_PROPITEM_IN_MEMORY items are not in the
 * database: left as they are. A table is read up to its NULL Name, at most TABLE_LIMIT items. */
#include <string.h>
#include <wchar.h>

#include "internal.h"

static BOOL is_string(DWORD format) {
    return format == CLUSPROP_FORMAT_SZ || format == CLUSPROP_FORMAT_EXPAND_SZ;
}

static LPWSTR copy_of(LPCWSTR text) {
    size_t length = wcsnlen(text, STRING_LIMIT);
    LPWSTR copy = LocalAlloc(LMEM_ZEROINIT, (length + 1) * sizeof(WCHAR));
    if (copy) memcpy(copy, text, length * sizeof(WCHAR));
    return copy;
}

/* One item into the block: a status, and *why when rescheck refuses it. */
static DWORD read_item(HKEY key, const RESUTIL_PROPERTY_ITEM *item, LPBYTE block, BOOL check,
                       const char **why) {
    LPCWSTR name = item->KeyName ? item->KeyName : item->Name;
    BOOL required = check && (item->Flags & RESUTIL_PROPITEM_REQUIRED);
    *why = NULL;
    if (item->Flags & RESUTIL_PROPITEM_IN_MEMORY) return ERROR_SUCCESS;
    if (item->Format == CLUSPROP_FORMAT_DWORD) {
        DWORD value = 0, type = 0, size = sizeof value;
        DWORD status = ClusterRegQueryValue(key, name, &type, (LPBYTE)&value, &size);
        if (status == ERROR_FILE_NOT_FOUND && !required) {
            value = item->Default;
            status = ERROR_SUCCESS;
        } else if (status == ERROR_FILE_NOT_FOUND) {
            return ERROR_INVALID_PARAMETER;
        } else if ((status == ERROR_SUCCESS || status == ERROR_MORE_DATA) &&
                   (type != REG_DWORD || size != sizeof value)) {
            *why = "the value is not a REG_DWORD";
            return ERROR_INVALID_DATA;
        }
        if (status == ERROR_SUCCESS) memcpy(block + item->Offset, &value, sizeof value);
        return status;
    }
    if (!is_string(item->Format)) {
        *why = "rescheck's resutils.dll reads only CLUSPROP_FORMAT_DWORD, _SZ and _EXPAND_SZ "
               "items of a parameter block yet";
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
    LPWSTR text = NULL;
    DWORD status = read_string(key, name, &text, why);
    if (status == ERROR_FILE_NOT_FOUND && required) return ERROR_INVALID_PARAMETER;
    if (status == ERROR_FILE_NOT_FOUND) {
        status = ERROR_SUCCESS;
        if (item->lpDefault) {
            text = copy_of(item->lpDefault);
            if (!text) status = ERROR_NOT_ENOUGH_MEMORY;
        }
    } else if (status == ERROR_INVALID_PARAMETER && *why) {
        status = ERROR_INVALID_DATA; /* not a string, or too long for rescheck */
    }
    if (status != ERROR_SUCCESS) return status;
    LPWSTR old;
    memcpy(&old, block + item->Offset, sizeof old);
    if (old) LocalFree(old);
    memcpy(block + item->Offset, &text, sizeof text);
    return ERROR_SUCCESS;
}

DWORD WINAPI ResUtilGetPropertiesToParameterBlock(HKEY hkeyClusterKey,
                                                  const PRESUTIL_PROPERTY_ITEM pPropertyTable,
                                                  LPBYTE pOutParams,
                                                  BOOL bCheckForRequiredProperties,
                                                  LPWSTR *pszNameOfPropInError) {
    static const char *function = "ResUtilGetPropertiesToParameterBlock";
    const char *why = NULL;
    if (pszNameOfPropInError) *pszNameOfPropInError = NULL;
    if (!pPropertyTable || !pOutParams) {
        note_call(function, ERROR_INVALID_PARAMETER, "no property table or no parameter block");
        return ERROR_INVALID_PARAMETER;
    }
    for (DWORD i = 0; pPropertyTable[i].Name; i++) {
        if (i == TABLE_LIMIT) {
            note_call(function, ERROR_INVALID_PARAMETER,
                      "the property table has more than 1024 items (no NULL Name ends it?)");
            return ERROR_INVALID_PARAMETER;
        }
        DWORD status = read_item(hkeyClusterKey, &pPropertyTable[i], pOutParams,
                                 bCheckForRequiredProperties, &why);
        if (status != ERROR_SUCCESS) {
            if (pszNameOfPropInError) *pszNameOfPropInError = pPropertyTable[i].Name;
            note_call(function, status, why);
            return status;
        }
    }
    note_call(function, ERROR_SUCCESS, NULL);
    return ERROR_SUCCESS;
}

VOID WINAPI ResUtilFreeParameterBlock(LPBYTE pOutParams, const LPBYTE pInParams,
                                      const PRESUTIL_PROPERTY_ITEM pPropertyTable) {
    static const char *function = "ResUtilFreeParameterBlock";
    if (!pOutParams || !pPropertyTable) {
        note_call(function, ERROR_INVALID_PARAMETER, "no parameter block or no property table");
        return;
    }
    /* the strings of the out block not shared with the in block; their pointers are then NULL */
    for (DWORD i = 0; i < TABLE_LIMIT && pPropertyTable[i].Name; i++) {
        const RESUTIL_PROPERTY_ITEM *item = &pPropertyTable[i];
        if (!is_string(item->Format)) continue;
        LPWSTR out = NULL, in = NULL;
        memcpy(&out, pOutParams + item->Offset, sizeof out);
        if (pInParams) memcpy(&in, pInParams + item->Offset, sizeof in);
        if (out && out != in) LocalFree(out);
        out = NULL;
        memcpy(pOutParams + item->Offset, &out, sizeof out);
    }
    note_call(function, ERROR_SUCCESS, NULL);
}
