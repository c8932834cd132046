/* The CLUSPROP wire format of property lists (clusapi.h; the "Property lists" page): a DWORD
 * count, then per property a CLUSPROP_SYNTAX_NAME entry, its values and a
 * CLUSPROP_SYNTAX_ENDMARK. An entry is Syntax, Length (the data's size, a string's NUL
 * included), the data, and zeros to ALIGN_CLUSPROP. Writing never passes the caller's size;
 * reading trusts no Length or count past the size the caller gave: a malformed list is
 * ERROR_INVALID_DATA. */
#include <string.h>
#include <wchar.h>

#include "internal.h"

void out_init(plist_out *o, PVOID buffer, DWORD size) {
    memset(o, 0, sizeof *o);
    o->data = buffer;
    o->size = buffer ? size : 0;
}

void out_raw(plist_out *o, const void *bytes, DWORD n) {
    if (n > MAXDWORD - o->used) {
        o->too_big = TRUE;
        return;
    }
    if (!o->short_of_room && n <= o->size - o->used) {
        if (n) memcpy(o->data + o->used, bytes, n);
    } else {
        o->short_of_room = TRUE; /* from here on only counted */
    }
    o->used += n;
}

void out_value(plist_out *o, DWORD syntax, const void *data, DWORD length) {
    static const BYTE zeros[4];
    DWORD head[2] = {syntax, length};
    out_raw(o, head, sizeof head);
    out_raw(o, data, length);
    out_raw(o, zeros, ALIGN_CLUSPROP(length) - length);
}

void out_name(plist_out *o, LPCWSTR name) {
    static const BYTE zeros[4];
    /* a name longer than STRING_LIMIT is cut there, and still ends with its NUL */
    DWORD chars = (DWORD)wcsnlen(name, STRING_LIMIT), length = (chars + 1) * sizeof(WCHAR);
    DWORD head[2] = {CLUSPROP_SYNTAX_NAME, length};
    out_raw(o, head, sizeof head);
    out_raw(o, name, chars * sizeof(WCHAR));
    out_raw(o, zeros, sizeof(WCHAR));
    out_raw(o, zeros, ALIGN_CLUSPROP(length) - length);
    o->count++;
}

void out_endmark(plist_out *o) {
    DWORD endmark = CLUSPROP_SYNTAX_ENDMARK;
    out_raw(o, &endmark, sizeof endmark);
}

DWORD out_finish(plist_out *o, BOOL counted, LPDWORD returned, LPDWORD required) {
    if (o->too_big) return ERROR_NOT_ENOUGH_MEMORY;
    if (o->short_of_room) {
        if (returned) *returned = 0;
        if (required) *required = o->used;
        return ERROR_MORE_DATA;
    }
    if (counted) memcpy(o->data, &o->count, sizeof o->count); /* room: 4 bytes were counted */
    if (returned) *returned = o->used;
    if (required) *required = 0;
    return ERROR_SUCCESS;
}

DWORD in_init(plist_in *r, const void *list, DWORD size) {
    memset(r, 0, sizeof *r);
    if (!list || size < sizeof(DWORD)) return ERROR_INVALID_DATA;
    r->data = list;
    r->size = size;
    memcpy(&r->left, r->data, sizeof r->left);
    r->pos = sizeof(DWORD);
    /* a property takes at least 16 bytes: an empty name (12) and an ENDMARK (4) */
    return r->left > (size - r->pos) / 16 ? ERROR_INVALID_DATA : ERROR_SUCCESS;
}

/* The fixed size of a format's data; 0 for the variable ones. */
static DWORD fixed_size(DWORD format) {
    switch (format) {
    case CLUSPROP_FORMAT_DWORD: case CLUSPROP_FORMAT_LONG: return 4;
    case CLUSPROP_FORMAT_WORD: return 2;
    case CLUSPROP_FORMAT_ULARGE_INTEGER: case CLUSPROP_FORMAT_LARGE_INTEGER:
    case CLUSPROP_FORMAT_FILETIME: return 8;
    default: return 0;
    }
}

/* Does the data fit its format: fixed sizes, strings ending with their NUL? */
static BOOL well_formed(const plist_value *v) {
    DWORD format = v->syntax & 0xFFFF, fixed = fixed_size(format);
    WCHAR last = 0, before = 0;
    if (fixed) return v->length == fixed;
    BOOL text = format == CLUSPROP_FORMAT_SZ || format == CLUSPROP_FORMAT_EXPAND_SZ ||
                format == CLUSPROP_FORMAT_EXPANDED_SZ;
    if (!text && format != CLUSPROP_FORMAT_MULTI_SZ) return TRUE;
    if (v->length % sizeof(WCHAR)) return FALSE;
    if (v->length >= sizeof(WCHAR)) memcpy(&last, v->data + v->length - 2, sizeof last);
    if (v->length >= 2 * sizeof(WCHAR)) memcpy(&before, v->data + v->length - 4, sizeof before);
    if (text) return v->length >= sizeof(WCHAR) && last == 0;
    /* MULTI_SZ: empty, one NUL, or strings and one more NUL */
    return v->length <= sizeof(WCHAR) ? last == 0 : last == 0 && before == 0;
}

/* One entry at r->pos: FALSE when it does not fit in the list. */
static BOOL entry(plist_in *r, plist_value *v) {
    DWORD left = r->size - r->pos;
    if (left < sizeof(DWORD)) return FALSE;
    memcpy(&v->syntax, r->data + r->pos, sizeof v->syntax);
    v->length = 0;
    v->data = NULL;
    if (v->syntax == CLUSPROP_SYNTAX_ENDMARK) {
        r->pos += sizeof(DWORD);
        return TRUE;
    }
    if (left < 2 * sizeof(DWORD)) return FALSE;
    memcpy(&v->length, r->data + r->pos + 4, sizeof v->length);
    if (v->length > left - 8 || ALIGN_CLUSPROP((ULONGLONG)v->length) > left - 8) return FALSE;
    v->data = r->data + r->pos + 8;
    r->pos += 8 + ALIGN_CLUSPROP(v->length);
    return well_formed(v);
}

BOOL in_next(plist_in *r, plist_property *p, DWORD *status) {
    plist_value name, value;
    *status = ERROR_SUCCESS;
    if (!r->left) return FALSE;
    r->left--;
    *status = ERROR_INVALID_DATA;
    if (!entry(r, &name) || name.syntax != CLUSPROP_SYNTAX_NAME) return FALSE;
    p->name = (LPCWSTR)name.data;
    for (DWORD values = 0;; values++) {
        if (!entry(r, &value)) return FALSE;
        DWORD type = value.syntax >> 16;
        if (value.syntax == CLUSPROP_SYNTAX_ENDMARK) {
            if (!values) return FALSE; /* a property has a value */
            break;
        }
        if (type == CLUSPROP_TYPE_ENDMARK || type == CLUSPROP_TYPE_NAME) return FALSE;
        if (!values) p->value = value;
    }
    *status = ERROR_SUCCESS;
    return TRUE;
}

DWORD in_find(const void *list, DWORD size, LPCWSTR name, plist_value *value) {
    plist_in r;
    plist_property p;
    DWORD status = in_init(&r, list, size);
    if (status != ERROR_SUCCESS) return status;
    while (in_next(&r, &p, &status))
        if (name && _wcsicmp(p.name, name) == 0) {
            *value = p.value;
            return ERROR_SUCCESS;
        }
    return status == ERROR_SUCCESS ? ERROR_FILE_NOT_FOUND : status;
}
