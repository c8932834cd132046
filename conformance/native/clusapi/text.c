/* Key paths and value names: the DLL's UTF-16 as the protocol's UTF-8, bounded (a path or
 * name the protocol cannot carry is refused, never cut), and back. */
#include <string.h>
#include <wchar.h>

#include "internal.h"

BOOL utf8_name(LPCWSTR name, char *out) {
    size_t length = name ? wcsnlen(name, PATH_LIMIT + 1) : 0;
    if (length > PATH_LIMIT) return FALSE;
    int bytes = length ? WideCharToMultiByte(CP_UTF8, 0, name, (int)length, out,
                                             PATH_BYTES - 1, NULL, NULL)
                       : 0;
    if (length && bytes <= 0) return FALSE;
    out[bytes] = 0;
    return TRUE;
}

static size_t characters(const char *utf8) {
    size_t count = 0;
    for (; *utf8; utf8++) count += ((unsigned char)*utf8 & 0xC0) != 0x80;
    return count;
}

BOOL child_place(const place *parent, LPCWSTR sub, place *out) {
    char name[PATH_BYTES];
    if (!utf8_name(sub, name)) return FALSE;
    size_t have = strlen(parent->path), add = strlen(name);
    if (characters(parent->path) + characters(name) + 1 > PATH_LIMIT) return FALSE;
    out->monitor = parent->monitor;
    memcpy(out->path, parent->path, have);
    if (have && add) out->path[have++] = '\\';
    memcpy(out->path + have, name, add + 1);
    return TRUE;
}

DWORD wide_of(const uint8_t *text, uint32_t length, WCHAR *out, DWORD capacity) {
    if (!length) return 0;
    int units = MultiByteToWideChar(CP_UTF8, 0, (const char *)text, (int)length, NULL, 0);
    if (out && units > 0 && (DWORD)units <= capacity)
        MultiByteToWideChar(CP_UTF8, 0, (const char *)text, (int)length, out, units);
    return units > 0 ? (DWORD)units : 0;
}
