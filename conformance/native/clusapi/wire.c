/* A value between the registry's bytes and the protocol's values, as the run's database keeps
 * it (conformance/clusapi): REG_DWORD and REG_QWORD as ints, REG_SZ and REG_EXPAND_SZ as
 * strings, REG_MULTI_SZ as an array of strings, anything else as binary data. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The data's UTF-16 units, aligned (the DLL's buffer need not be); NULL: out of memory. */
static WCHAR *units_of(const BYTE *data, DWORD size, DWORD *count) {
    *count = size / sizeof(WCHAR);
    WCHAR *units = malloc((*count + 1) * sizeof(WCHAR));
    if (!units) return NULL;
    if (*count) memcpy(units, data, *count * sizeof(WCHAR));
    units[*count] = 0;
    return units;
}

static void put_wide(mp_writer *out, const WCHAR *text, DWORD length) {
    int bytes = length ? WideCharToMultiByte(CP_UTF8, 0, text, (int)length, NULL, 0, NULL, NULL) : 0;
    char *utf8 = malloc((size_t)bytes + 1);
    if (!utf8) {
        out->failed = 1;
        return;
    }
    if (bytes) WideCharToMultiByte(CP_UTF8, 0, text, (int)length, utf8, bytes, NULL, NULL);
    mp_str(out, utf8, (size_t)bytes);
    free(utf8);
}

static DWORD strings(const BYTE *data, DWORD size, BOOL multi, mp_writer *out) {
    DWORD count, items = 0;
    WCHAR *units = units_of(data, size, &count);
    if (!units) return ERROR_NOT_ENOUGH_MEMORY;
    if (!multi) {
        DWORD length = (DWORD)wcsnlen(units, count);
        if (length <= VALUE_LIMIT) put_wide(out, units, length);
        free(units);
        return length <= VALUE_LIMIT ? ERROR_SUCCESS : ERROR_INVALID_PARAMETER;
    }
    for (DWORD at = 0; at < count && units[at]; at += (DWORD)wcslen(units + at) + 1) items++;
    DWORD status = items <= MULTI_LIMIT ? ERROR_SUCCESS : ERROR_INVALID_PARAMETER;
    if (status == ERROR_SUCCESS) {
        mp_array(out, items);
        for (DWORD at = 0; at < count && units[at]; at += (DWORD)wcslen(units + at) + 1) {
            DWORD length = (DWORD)wcslen(units + at);
            if (length > VALUE_LIMIT) status = ERROR_INVALID_PARAMETER;
            put_wide(out, units + at, length);
        }
    }
    free(units);
    return status;
}

DWORD wire_from_reg(DWORD type, const BYTE *data, DWORD size, mp_writer *out) {
    uint64_t number = 0;
    switch (type) {
    case REG_DWORD:
    case REG_QWORD:
        if (size != (type == REG_DWORD ? 4u : 8u)) return ERROR_INVALID_PARAMETER;
        memcpy(&number, data, size);
        mp_uint(out, number);
        return ERROR_SUCCESS;
    case REG_SZ:
    case REG_EXPAND_SZ:
    case REG_MULTI_SZ:
        return strings(data, size, type == REG_MULTI_SZ, out);
    default:
        if (size > VALUE_LIMIT) return ERROR_INVALID_PARAMETER;
        mp_bin(out, data, size);
        return ERROR_SUCCESS;
    }
}

/* One string as UTF-16 and its NUL at out + *needed (when it fits), counted into *needed. */
static void put_string(const mp_value *v, BYTE *out, DWORD capacity, DWORD *needed) {
    DWORD units = wide_of(v->bytes, v->length, NULL, 0), bytes = (units + 1) * sizeof(WCHAR);
    if (out && *needed + bytes <= capacity) {
        WCHAR *text = malloc(bytes);
        if (text) {
            wide_of(v->bytes, v->length, text, units);
            text[units] = 0;
            memcpy(out + *needed, text, bytes);
            free(text);
        }
    }
    *needed += bytes;
}

void reg_from_wire(const uint8_t *value, size_t size, DWORD type, BYTE *out, DWORD capacity,
                   DWORD *needed) {
    mp_reader r = {value, size, 0};
    mp_value v, item;
    *needed = 0;
    if (!mp_next(&r, &v)) return;
    if (v.type == MP_INT || v.type == MP_UINT || v.type == MP_BOOL) {
        uint64_t number = v.type == MP_UINT ? v.u : (uint64_t)v.i;
        *needed = type == REG_QWORD ? 8 : 4;
        if (out && *needed <= capacity) memcpy(out, &number, *needed);
    } else if (v.type == MP_STR) {
        put_string(&v, out, capacity, needed);
    } else if (v.type == MP_BIN) {
        *needed = v.length;
        if (out && v.length <= capacity) memcpy(out, v.bytes, v.length);
    } else if (v.type == MP_ARRAY) {
        for (uint32_t i = 0; i < v.length; i++) {
            mp_reader at = r;
            if (!mp_next(&at, &item)) return;
            if (item.type == MP_STR) put_string(&item, out, capacity, needed);
            if (!mp_skip(&r)) return;
        }
        if (out && *needed + sizeof(WCHAR) <= capacity) memset(out + *needed, 0, sizeof(WCHAR));
        *needed += sizeof(WCHAR);
    }
}
