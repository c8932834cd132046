/* Property lists out of a RESUTIL_PROPERTY_ITEM table and a cluster database key (resapi.h):
 * ResUtilGetProperties (the table's items), ResUtilGetAllProperties (and the key's other
 * values, the "unknown" properties), ResUtilGetPrivateProperties (every value of the key),
 * ResUtilEnumProperties and ResUtilEnumPrivateProperties (a MULTI_SZ of names) and
 * ResUtilGetPropertyFormats (each item's format, as a CLUSPROP_FORMAT_WORD value). A buffer
 * too small is ERROR_MORE_DATA with *pcbRequired (proplist.c never writes past it).
 *
 * An item's value is read with ClusterRegQueryValue (KeyName, or Name), a missing one is its
 * Default: a DWORD or LONG; lpDefault for SZ and EXPAND_SZ (else ""); lpDefault and Minimum
 * bytes for MULTI_SZ and BINARY (else empty). An EXPAND_SZ comes with its EXPANDED_SZ value.
 * Items of other formats are answered when stored; without a stored value they are
 * ERROR_CALL_NOT_IMPLEMENTED (with why). RESUTIL_PROPITEM_IN_MEMORY items are left out. The
 * key's other values are read with ClusterRegEnumValue, as the cluster lists them, at most
 * VALUES_LIMIT of them. */
#include <string.h>
#include <wchar.h>

#include "internal.h"

#define VALUES_LIMIT 4096
#define NAME_LIMIT 255 /* characters of a value name, as the registry allows */

static LPCWSTR key_name(const RESUTIL_PROPERTY_ITEM *item) {
    return item->KeyName ? item->KeyName : item->Name;
}

const RESUTIL_PROPERTY_ITEM *find_item(const RESUTIL_PROPERTY_ITEM *table, LPCWSTR name) {
    for (DWORD i = 0; table && i < TABLE_LIMIT && table[i].Name; i++)
        if (_wcsicmp(table[i].Name, name) == 0) return &table[i];
    return NULL;
}

/* Is NAME a value the table's items are stored as? */
static BOOL in_table(const RESUTIL_PROPERTY_ITEM *table, LPCWSTR name) {
    for (DWORD i = 0; table && i < TABLE_LIMIT && table[i].Name; i++)
        if (_wcsicmp(key_name(&table[i]), name) == 0 || _wcsicmp(table[i].Name, name) == 0)
            return TRUE;
    return FALSE;
}

/* A string value of CHARS characters (its NUL is written apart: TEXT need not end). */
static void out_text(plist_out *o, DWORD format, LPCWSTR text, DWORD chars) {
    static const WCHAR nul = 0;
    DWORD length = (chars + 1) * sizeof(WCHAR);
    DWORD head[2] = {CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_LIST_VALUE, format), length};
    static const BYTE zeros[4];
    out_raw(o, head, sizeof head);
    out_raw(o, text, chars * sizeof(WCHAR));
    out_raw(o, &nul, sizeof nul);
    out_raw(o, zeros, ALIGN_CLUSPROP(length) - length);
}

/* An EXPAND_SZ, and its EXPANDED_SZ (PL-8). */
static DWORD out_expandable(plist_out *o, LPCWSTR text, DWORD chars) {
    out_text(o, CLUSPROP_FORMAT_EXPAND_SZ, text, chars);
    LPWSTR whole = LocalAlloc(LMEM_ZEROINIT, (chars + 1) * sizeof(WCHAR));
    if (!whole) return ERROR_NOT_ENOUGH_MEMORY;
    memcpy(whole, text, chars * sizeof(WCHAR));
    DWORD room = ExpandEnvironmentStringsW(whole, NULL, 0);
    LPWSTR expanded = room && room <= STRING_LIMIT ? LocalAlloc(LMEM_ZEROINIT, room * 2) : NULL;
    if (expanded && ExpandEnvironmentStringsW(whole, expanded, room) == room)
        out_text(o, CLUSPROP_FORMAT_EXPANDED_SZ, expanded, (DWORD)wcsnlen(expanded, room));
    else
        out_text(o, CLUSPROP_FORMAT_EXPANDED_SZ, whole, chars);
    if (expanded) LocalFree(expanded);
    LocalFree(whole);
    return ERROR_SUCCESS;
}

/* A MULTI_SZ of CHARS characters: its strings, one NUL each, and one more NUL. */
static void out_multi(plist_out *o, LPCWSTR text, DWORD chars) {
    static const WCHAR nuls[2];
    while (chars && !text[chars - 1]) chars--;
    DWORD length = (chars + 2) * sizeof(WCHAR);
    DWORD head[2] = {CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_LIST_VALUE, CLUSPROP_FORMAT_MULTI_SZ),
                     length};
    out_raw(o, head, sizeof head);
    out_raw(o, text, chars * sizeof(WCHAR));
    out_raw(o, nuls, sizeof nuls); /* a multiple of 4 bytes with the data: no padding */
    if (chars % 2) out_raw(o, nuls, sizeof nuls[0]);
}

/* A stored value (DATA has two zero WCHARs after its SIZE bytes), in its registry type's
 * format. */
static DWORD out_stored(plist_out *o, DWORD type, const BYTE *data, DWORD size) {
    LPCWSTR text = (LPCWSTR)data;
    DWORD chars = (DWORD)wcsnlen(text, size / sizeof(WCHAR));
    if (type == REG_DWORD && size == sizeof(DWORD))
        out_value(o, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, data, size);
    else if (type == REG_QWORD && size == sizeof(ULONGLONG))
        out_value(o, CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_LIST_VALUE,
                                           CLUSPROP_FORMAT_ULARGE_INTEGER), data, size);
    else if (type == REG_SZ)
        out_text(o, CLUSPROP_FORMAT_SZ, text, chars);
    else if (type == REG_EXPAND_SZ)
        return out_expandable(o, text, chars);
    else if (type == REG_MULTI_SZ)
        out_multi(o, text, size / sizeof(WCHAR));
    else
        out_value(o, CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_LIST_VALUE, CLUSPROP_FORMAT_BINARY),
                  data, size);
    return ERROR_SUCCESS;
}

/* An item's Default, for a value that is not stored. */
static DWORD out_default(plist_out *o, const RESUTIL_PROPERTY_ITEM *item, const char **why) {
    LPCWSTR text = item->lpDefault ? (LPCWSTR)item->lpDefault : L"";
    switch (item->Format) {
    case CLUSPROP_FORMAT_DWORD: case CLUSPROP_FORMAT_LONG:
        out_value(o, CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_LIST_VALUE, item->Format),
                  &item->Default, sizeof item->Default);
        return ERROR_SUCCESS;
    case CLUSPROP_FORMAT_SZ:
        out_text(o, CLUSPROP_FORMAT_SZ, text, (DWORD)wcsnlen(text, STRING_LIMIT));
        return ERROR_SUCCESS;
    case CLUSPROP_FORMAT_EXPAND_SZ:
        return out_expandable(o, text, (DWORD)wcsnlen(text, STRING_LIMIT));
    case CLUSPROP_FORMAT_MULTI_SZ:
        out_multi(o, text, item->lpDefault ? min(item->Minimum, RAW_LIMIT) / sizeof(WCHAR) : 0);
        return ERROR_SUCCESS;
    case CLUSPROP_FORMAT_BINARY:
        out_value(o, CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_LIST_VALUE, CLUSPROP_FORMAT_BINARY),
                  item->lpDefault, item->lpDefault ? min(item->Minimum, RAW_LIMIT) : 0);
        return ERROR_SUCCESS;
    default:
        *why = "rescheck's resutils.dll has no Default yet for an item of this format (only "
               "DWORD, LONG, SZ, EXPAND_SZ, MULTI_SZ and BINARY), and the value is not stored";
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

/* The table's items, with their stored values or Defaults. */
static DWORD out_items(plist_out *o, HKEY key, const RESUTIL_PROPERTY_ITEM *table,
                       const char **why) {
    for (DWORD i = 0; table[i].Name; i++) {
        const RESUTIL_PROPERTY_ITEM *item = &table[i];
        DWORD type = 0, size = 0, status;
        LPBYTE data = NULL;
        if (i == TABLE_LIMIT) {
            *why = "the property table has more than 1024 items (no NULL Name ends it?)";
            return ERROR_INVALID_PARAMETER;
        }
        if (item->Flags & RESUTIL_PROPITEM_IN_MEMORY) continue;
        status = read_raw(key, key_name(item), &type, &data, &size);
        if (status != ERROR_SUCCESS && status != ERROR_FILE_NOT_FOUND) return status;
        out_name(o, item->Name);
        status = data ? out_stored(o, type, data, size) : out_default(o, item, why);
        if (data) LocalFree(data);
        if (status != ERROR_SUCCESS) return status;
        out_endmark(o);
    }
    return ERROR_SUCCESS;
}

/* The key's values that are not the table's items (all of them without a table), as
 * properties, or (NAMES) as a MULTI_SZ of their names. */
static DWORD out_unknown(plist_out *o, HKEY key, const RESUTIL_PROPERTY_ITEM *table, BOOL names) {
    WCHAR name[NAME_LIMIT + 1];
    for (DWORD i = 0; i < VALUES_LIMIT; i++) {
        DWORD chars = NAME_LIMIT + 1, type = 0, size = 0;
        DWORD status = ClusterRegEnumValue(key, i, name, &chars, &type, NULL, &size);
        if (status == ERROR_NO_MORE_ITEMS) return ERROR_SUCCESS;
        if (status == ERROR_MORE_DATA) continue; /* a name longer than the registry allows */
        if (status != ERROR_SUCCESS) return status;
        if (in_table(table, name)) continue;
        if (names) {
            out_raw(o, name, (chars + 1) * sizeof(WCHAR));
            continue;
        }
        if (size > RAW_LIMIT) return ERROR_INVALID_DATA;
        LPBYTE data = LocalAlloc(LMEM_ZEROINIT, size + 2 * sizeof(WCHAR));
        if (!data) return ERROR_NOT_ENOUGH_MEMORY;
        DWORD got = size;
        chars = NAME_LIMIT + 1;
        status = ClusterRegEnumValue(key, i, name, &chars, &type, data, &got);
        if (status == ERROR_SUCCESS && got <= size) {
            out_name(o, name);
            status = out_stored(o, type, data, got);
            out_endmark(o);
        }
        LocalFree(data);
        if (status != ERROR_SUCCESS) return status; /* changed meanwhile: ERROR_MORE_DATA */
    }
    return ERROR_SUCCESS;
}

/* What every function here answers: its status, noted. */
static DWORD finished(const char *function, plist_out *o, DWORD status, const char *why,
                      BOOL counted, LPDWORD returned, LPDWORD required) {
    if (status == ERROR_SUCCESS) status = out_finish(o, counted, returned, required);
    note_call(function, status, status == ERROR_MORE_DATA ? NULL : why);
    return status;
}

static DWORD get_list(const char *function, HKEY key, const RESUTIL_PROPERTY_ITEM *table,
                      BOOL items, BOOL unknown, PVOID out, DWORD size, LPDWORD returned,
                      LPDWORD required) {
    plist_out o;
    const char *why = NULL;
    DWORD count = 0, status = ERROR_SUCCESS;
    if (returned) *returned = 0;
    if (required) *required = 0;
    if ((items && !table) || !returned || !required) {
        note_call(function, ERROR_BAD_ARGUMENTS, "no property table, or no size to return");
        return ERROR_BAD_ARGUMENTS;
    }
    out_init(&o, out, size);
    out_raw(&o, &count, sizeof count); /* out_finish writes it */
    if (items) status = out_items(&o, key, table, &why);
    if (status == ERROR_SUCCESS && unknown) status = out_unknown(&o, key, table, FALSE);
    return finished(function, &o, status, why, TRUE, returned, required);
}

DWORD WINAPI ResUtilGetProperties(HKEY hkeyClusterKey, const PRESUTIL_PROPERTY_ITEM pPropertyTable,
                                  PVOID pOutPropertyList, DWORD cbOutPropertyListSize,
                                  LPDWORD pcbBytesReturned, LPDWORD pcbRequired) {
    return get_list("ResUtilGetProperties", hkeyClusterKey, pPropertyTable, TRUE, FALSE,
                    pOutPropertyList, cbOutPropertyListSize, pcbBytesReturned, pcbRequired);
}

DWORD WINAPI ResUtilGetAllProperties(HKEY hkeyClusterKey,
                                     const PRESUTIL_PROPERTY_ITEM pPropertyTable,
                                     PVOID pOutPropertyList, DWORD cbOutPropertyListSize,
                                     LPDWORD pcbBytesReturned, LPDWORD pcbRequired) {
    return get_list("ResUtilGetAllProperties", hkeyClusterKey, pPropertyTable, TRUE, TRUE,
                    pOutPropertyList, cbOutPropertyListSize, pcbBytesReturned, pcbRequired);
}

DWORD WINAPI ResUtilGetPrivateProperties(HKEY hkeyClusterKey, PVOID pOutPropertyList,
                                         DWORD cbOutPropertyListSize, LPDWORD pcbBytesReturned,
                                         LPDWORD pcbRequired) {
    return get_list("ResUtilGetPrivateProperties", hkeyClusterKey, NULL, FALSE, TRUE,
                    pOutPropertyList, cbOutPropertyListSize, pcbBytesReturned, pcbRequired);
}

DWORD WINAPI ResUtilEnumProperties(const PRESUTIL_PROPERTY_ITEM pPropertyTable,
                                   LPWSTR pszOutProperties, DWORD cbOutPropertiesSize,
                                   LPDWORD pcbBytesReturned, LPDWORD pcbRequired) {
    static const char *function = "ResUtilEnumProperties";
    static const WCHAR nul = 0;
    plist_out o;
    if (pcbBytesReturned) *pcbBytesReturned = 0;
    if (pcbRequired) *pcbRequired = 0;
    if (!pPropertyTable || !pcbBytesReturned || !pcbRequired) {
        note_call(function, ERROR_BAD_ARGUMENTS, "no property table, or no size to return");
        return ERROR_BAD_ARGUMENTS;
    }
    out_init(&o, pszOutProperties, cbOutPropertiesSize);
    for (DWORD i = 0; pPropertyTable[i].Name; i++) {
        if (i == TABLE_LIMIT)
            return finished(function, &o, ERROR_INVALID_PARAMETER,
                            "the property table has more than 1024 items (no NULL Name ends it?)",
                            FALSE, pcbBytesReturned, pcbRequired);
        LPCWSTR name = pPropertyTable[i].Name;
        out_raw(&o, name, (DWORD)wcsnlen(name, STRING_LIMIT) * sizeof(WCHAR));
        out_raw(&o, &nul, sizeof nul);
    }
    out_raw(&o, &nul, sizeof nul);
    return finished(function, &o, ERROR_SUCCESS, NULL, FALSE, pcbBytesReturned, pcbRequired);
}

DWORD WINAPI ResUtilEnumPrivateProperties(HKEY hkeyClusterKey, LPWSTR pszOutProperties,
                                          DWORD cbOutPropertiesSize, LPDWORD pcbBytesReturned,
                                          LPDWORD pcbRequired) {
    static const char *function = "ResUtilEnumPrivateProperties";
    static const WCHAR nul = 0;
    plist_out o;
    if (pcbBytesReturned) *pcbBytesReturned = 0;
    if (pcbRequired) *pcbRequired = 0;
    if (!pcbBytesReturned || !pcbRequired) {
        note_call(function, ERROR_BAD_ARGUMENTS, "no size to return");
        return ERROR_BAD_ARGUMENTS;
    }
    out_init(&o, pszOutProperties, cbOutPropertiesSize);
    DWORD status = out_unknown(&o, hkeyClusterKey, NULL, TRUE);
    out_raw(&o, &nul, sizeof nul);
    return finished(function, &o, status, NULL, FALSE, pcbBytesReturned, pcbRequired);
}

DWORD WINAPI ResUtilGetPropertyFormats(const PRESUTIL_PROPERTY_ITEM pPropertyTable,
                                       PVOID pOutPropertyFormatList,
                                       DWORD cbPropertyFormatListSize, LPDWORD pcbBytesReturned,
                                       LPDWORD pcbRequired) {
    static const char *function = "ResUtilGetPropertyFormats";
    plist_out o;
    DWORD count = 0;
    if (pcbBytesReturned) *pcbBytesReturned = 0;
    if (pcbRequired) *pcbRequired = 0;
    if (!pPropertyTable || !pcbBytesReturned || !pcbRequired) {
        note_call(function, ERROR_BAD_ARGUMENTS, "no property table, or no size to return");
        return ERROR_BAD_ARGUMENTS;
    }
    out_init(&o, pOutPropertyFormatList, cbPropertyFormatListSize);
    out_raw(&o, &count, sizeof count);
    for (DWORD i = 0; pPropertyTable[i].Name; i++) {
        if (i == TABLE_LIMIT)
            return finished(function, &o, ERROR_INVALID_PARAMETER,
                            "the property table has more than 1024 items (no NULL Name ends it?)",
                            TRUE, pcbBytesReturned, pcbRequired);
        WORD format = (WORD)pPropertyTable[i].Format;
        out_name(&o, pPropertyTable[i].Name);
        out_value(&o, CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_LIST_VALUE, CLUSPROP_FORMAT_WORD),
                  &format, sizeof format);
        out_endmark(&o);
    }
    return finished(function, &o, ERROR_SUCCESS, NULL, TRUE, pcbBytesReturned, pcbRequired);
}
