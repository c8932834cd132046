/* ResUtilVerifyPropertyTable and ResUtilSetPropertyTable (resapi.h): a property list the
 * caller gave (parsed with its size by proplist.c: a malformed one is ERROR_INVALID_DATA)
 * checked against a RESUTIL_PROPERTY_ITEM table, every property before any is written, so a
 * refused list changes nothing. A property the table does not have is ignored with
 * bAllowUnknownProperties, else ERROR_INVALID_PARAMETER; so is a RESUTIL_PROPITEM_READ_ONLY
 * one, a value whose syntax is not CLUSPROP_TYPE_LIST_VALUE of the item's format, and a DWORD
 * or LONG outside Minimum..Maximum (when either is not 0; signed with RESUTIL_PROPITEM_SIGNED).
 * Items of DWORD, LONG, SZ, EXPAND_SZ and MULTI_SZ are handled (others:
 * ERROR_CALL_NOT_IMPLEMENTED, with why); the first value of each property is its value.
 * SET writes through rescheck's clusapi.dll (ClusterRegSetValue: the database trace sees it),
 * except RESUTIL_PROPITEM_IN_MEMORY items; with pOutParams, a value equal to the block's is
 * not written again, and the block gets each new value (a string LocalAlloc'd, the block's
 * previous one freed, as ResUtilFreeParameterBlock expects). */
#include <string.h>
#include <wchar.h>

#include "internal.h"

static BOOL is_text(DWORD format) {
    return format == CLUSPROP_FORMAT_SZ || format == CLUSPROP_FORMAT_EXPAND_SZ;
}

/* One property against the table: *item is its item (NULL: unknown and allowed). */
static DWORD check_property(const RESUTIL_PROPERTY_ITEM *table, BOOL allow_unknown,
                            const plist_property *p, const RESUTIL_PROPERTY_ITEM **item,
                            const char **why) {
    *item = find_item(table, p->name);
    if (!*item) {
        *why = allow_unknown ? NULL : "a property the property table does not have";
        return allow_unknown ? ERROR_SUCCESS : ERROR_INVALID_PARAMETER;
    }
    const RESUTIL_PROPERTY_ITEM *it = *item;
    const plist_value *v = &p->value;
    if (it->Flags & RESUTIL_PROPITEM_READ_ONLY) {
        *why = "a read-only property (RESUTIL_PROPITEM_READ_ONLY)";
        return ERROR_INVALID_PARAMETER;
    }
    if (v->syntax != CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_LIST_VALUE, it->Format)) {
        *why = "the value's syntax is not CLUSPROP_TYPE_LIST_VALUE of the item's format";
        return ERROR_INVALID_PARAMETER;
    }
    if (it->Format == CLUSPROP_FORMAT_DWORD || it->Format == CLUSPROP_FORMAT_LONG) {
        DWORD value;
        memcpy(&value, v->data, sizeof value);
        BOOL ranged = it->Minimum || it->Maximum, signed_ = it->Flags & RESUTIL_PROPITEM_SIGNED;
        BOOL below = signed_ ? (LONG)value < (LONG)it->Minimum : value < it->Minimum;
        BOOL above = signed_ ? (LONG)value > (LONG)it->Maximum : value > it->Maximum;
        *why = ranged && (below || above) ? "the value is outside the item's Minimum..Maximum"
                                          : NULL;
        return *why ? ERROR_INVALID_PARAMETER : ERROR_SUCCESS;
    }
    if (is_text(it->Format) || it->Format == CLUSPROP_FORMAT_MULTI_SZ) {
        *why = v->length > (STRING_LIMIT + 2) * sizeof(WCHAR)
                   ? "the value is longer than 65536 characters" : NULL;
        return *why ? ERROR_INVALID_PARAMETER : ERROR_SUCCESS;
    }
    *why = "rescheck's resutils.dll sets only DWORD, LONG, SZ, EXPAND_SZ and MULTI_SZ items yet";
    return ERROR_CALL_NOT_IMPLEMENTED;
}

/* Every property of the list against the table. */
static DWORD check_list(const RESUTIL_PROPERTY_ITEM *table, BOOL allow_unknown, const void *list,
                        DWORD size, const char **why) {
    plist_in r;
    plist_property p;
    const RESUTIL_PROPERTY_ITEM *item;
    DWORD status = in_init(&r, list, size);
    *why = NULL;
    while (status == ERROR_SUCCESS && in_next(&r, &p, &status)) {
        status = check_property(table, allow_unknown, &p, &item, why);
        if (status != ERROR_SUCCESS) return status;
    }
    if (status == ERROR_INVALID_DATA) *why = "the property list is malformed";
    return status;
}

/* Where the item's value lies in a parameter block. */
static LPBYTE at(LPBYTE block, const RESUTIL_PROPERTY_ITEM *item) { return block + item->Offset; }

static BOOL same_in_block(const RESUTIL_PROPERTY_ITEM *item, const plist_value *v, LPBYTE block) {
    LPBYTE old = NULL;
    DWORD old_size = 0;
    if (item->Format == CLUSPROP_FORMAT_DWORD || item->Format == CLUSPROP_FORMAT_LONG)
        return memcmp(at(block, item), v->data, sizeof(DWORD)) == 0;
    memcpy(&old, at(block, item), sizeof old);
    if (!old) return FALSE;
    if (is_text(item->Format))
        old_size = (DWORD)(wcsnlen((LPCWSTR)old, STRING_LIMIT + 1) + 1) * sizeof(WCHAR);
    else
        memcpy(&old_size, at(block, item) + sizeof old, sizeof old_size);
    return old_size == v->length && memcmp(old, v->data, v->length) == 0;
}

static DWORD to_block(const RESUTIL_PROPERTY_ITEM *item, const plist_value *v, LPBYTE block) {
    LPBYTE old = NULL;
    if (item->Format == CLUSPROP_FORMAT_DWORD || item->Format == CLUSPROP_FORMAT_LONG) {
        memcpy(at(block, item), v->data, sizeof(DWORD));
        return ERROR_SUCCESS;
    }
    LPBYTE copy = LocalAlloc(LMEM_ZEROINIT, v->length + 2 * sizeof(WCHAR));
    if (!copy) return ERROR_NOT_ENOUGH_MEMORY;
    memcpy(copy, v->data, v->length);
    memcpy(&old, at(block, item), sizeof old);
    if (old) LocalFree(old);
    memcpy(at(block, item), &copy, sizeof copy);
    if (item->Format == CLUSPROP_FORMAT_MULTI_SZ) /* its size follows the pointer */
        memcpy(at(block, item) + sizeof copy, &v->length, sizeof v->length);
    return ERROR_SUCCESS;
}

static DWORD to_database(HKEY key, const RESUTIL_PROPERTY_ITEM *item, const plist_value *v) {
    DWORD type = item->Format == CLUSPROP_FORMAT_SZ          ? REG_SZ
                 : item->Format == CLUSPROP_FORMAT_EXPAND_SZ ? REG_EXPAND_SZ
                 : item->Format == CLUSPROP_FORMAT_MULTI_SZ  ? REG_MULTI_SZ
                                                             : REG_DWORD;
    LPCWSTR name = item->KeyName ? item->KeyName : item->Name;
    return ClusterRegSetValue(key, name, type, v->data, v->length);
}

/* Verify, then (KEY or BLOCK given) apply every property. */
static DWORD set_list(const char *function, HKEY key, BOOL write, const RESUTIL_PROPERTY_ITEM *table,
                      BOOL allow_unknown, const void *list, DWORD size, LPBYTE block) {
    const char *why = NULL;
    plist_in r;
    plist_property p;
    const RESUTIL_PROPERTY_ITEM *item;
    if (!table) {
        note_call(function, ERROR_INVALID_PARAMETER, "no property table");
        return ERROR_INVALID_PARAMETER;
    }
    DWORD status = check_list(table, allow_unknown, list, size, &why);
    if (status == ERROR_SUCCESS) in_init(&r, list, size); /* well-formed: it was just read */
    while (status == ERROR_SUCCESS && in_next(&r, &p, &status)) {
        check_property(table, allow_unknown, &p, &item, &why);
        if (!item || (block && same_in_block(item, &p.value, block))) continue;
        if (write && !(item->Flags & RESUTIL_PROPITEM_IN_MEMORY))
            status = to_database(key, item, &p.value);
        if (status == ERROR_SUCCESS && block) status = to_block(item, &p.value, block);
    }
    note_call(function, status, status == ERROR_SUCCESS ? NULL : why);
    return status;
}

DWORD WINAPI ResUtilVerifyPropertyTable(const PRESUTIL_PROPERTY_ITEM pPropertyTable,
                                        PVOID Reserved, BOOL bAllowUnknownProperties,
                                        const PVOID pInPropertyList, DWORD cbInPropertyListSize,
                                        LPBYTE pOutParams) {
    (void)Reserved;
    return set_list("ResUtilVerifyPropertyTable", NULL, FALSE, pPropertyTable,
                    bAllowUnknownProperties, pInPropertyList, cbInPropertyListSize, pOutParams);
}

DWORD WINAPI ResUtilSetPropertyTable(HKEY hkeyClusterKey,
                                     const PRESUTIL_PROPERTY_ITEM pPropertyTable, PVOID Reserved,
                                     BOOL bAllowUnknownProperties, const PVOID pInPropertyList,
                                     DWORD cbInPropertyListSize, LPBYTE pOutParams) {
    (void)Reserved;
    return set_list("ResUtilSetPropertyTable", hkeyClusterKey, TRUE, pPropertyTable,
                    bAllowUnknownProperties, pInPropertyList, cbInPropertyListSize, pOutParams);
}
