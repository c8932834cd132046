/* LogEvent's FormatString, as the cluster log expands it, bounded: printf style (msvcrt's
 * _vsnwprintf: `%ws`, `%u`) or, when it holds numbered inserts, FormatMessage style (`%1`,
 * `%1!ws!`, `%2!08x!`, `%%`, `%n`, `%0`). Every argument of a varargs call is one 8-byte slot
 * on x64, so the inserts are read as slots in order and each is formatted with its own spec;
 * a width is built up to WIDTH_LIMIT characters and counted in full. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "host.h"

#define WIDTH_LIMIT 4096
#define INSERTS 99

typedef struct {
    WCHAR *out;
    size_t kept, capacity; /* characters built, and room for them */
    size_t length;         /* characters the whole message would have */
} message;

static void add(message *m, const WCHAR *text, size_t count, size_t counted) {
    size_t room = m->capacity - m->kept;
    size_t copied = count < room ? count : room;
    memcpy(m->out + m->kept, text, copied * sizeof(WCHAR));
    m->kept += copied;
    m->length += counted;
}

/* FormatMessage style when an insert is there: `%` and one or two digits, then `!` or a
 * character that cannot continue a printf spec (`%1 is online`; not `%10ws`, `%08x`). */
static int numbered(LPCWSTR format) {
    for (const WCHAR *at = format; *at; at++) {
        if (at[0] != L'%') continue;
        if (at[1] >= L'0' && at[1] <= L'9') { /* `%0` ends a message; `%08x` is printf's */
            const WCHAR *next = at + 2;
            if (at[1] != L'0' && *next >= L'0' && *next <= L'9') next++;
            const WCHAR *continues = at[1] == L'0' ? L"0123456789.-+ #hlLIwdiouxXcsSpeEfgGaAnZ"
                                                   : L"0123456789.hlLIwdiouxXcsSpeEfgGaAnZ";
            if (*next == L'!' || !*next || !wcschr(continues, *next)) return 1;
        }
        if (at[1]) at++; /* %% and the other escapes */
    }
    return 0;
}

/* One insert: `value` formatted with `spec` (the text between the !s, default "s"). */
static void insert(message *m, UINT64 value, const WCHAR *spec, size_t spec_length) {
    WCHAR printf_spec[40], built[WIDTH_LIMIT + 64];
    size_t asked = 0, at = 0;
    printf_spec[at++] = L'%';
    for (size_t i = 0; i < spec_length && at < 30; i++) {
        WCHAR c = spec[i];
        if (c >= L'0' && c <= L'9' && (i == 0 || spec[i - 1] != L'.')) {
            /* a width: clamp what is built, count what was asked */
            size_t width = 0, j = i;
            while (j < spec_length && spec[j] >= L'0' && spec[j] <= L'9' && width < 100000000)
                width = width * 10 + (size_t)(spec[j++] - L'0');
            if (spec[i] == L'0') printf_spec[at++] = L'0';
            asked = width;
            at += (size_t)_snwprintf(printf_spec + at, 12, L"%u",
                                     (unsigned)(width < WIDTH_LIMIT ? width : WIDTH_LIMIT));
            i = j - 1;
            continue;
        }
        printf_spec[at++] = c;
    }
    if (spec_length == 0) printf_spec[at++] = L's';
    printf_spec[at] = 0;
    WCHAR last = printf_spec[at - 1];
    int count;
    if (last == L's' || last == L'S' || last == L'Z')
        count = _snwprintf(built, WIDTH_LIMIT + 63, printf_spec, (const void *)(uintptr_t)value);
    else
        count = _snwprintf(built, WIDTH_LIMIT + 63, printf_spec, value);
    if (count < 0) count = (int)wcsnlen(built, WIDTH_LIMIT + 63);
    add(m, built, (size_t)count, asked > (size_t)count ? asked : (size_t)count);
}

static void format_message(message *m, LPCWSTR format, va_list args) {
    UINT64 slots[INSERTS];
    int highest = 0;
    for (const WCHAR *at = format; *at; at++) /* the highest insert: how many slots to read */
        if (at[0] == L'%' && at[1] >= L'1' && at[1] <= L'9') {
            int n = at[1] - L'0';
            if (at[2] >= L'0' && at[2] <= L'9') n = n * 10 + (at[2] - L'0');
            if (n > highest) highest = n;
        } else if (at[0] == L'%' && at[1]) {
            at++;
        }
    for (int i = 0; i < highest; i++) slots[i] = va_arg(args, UINT64);
    for (const WCHAR *at = format; *at;) {
        if (at[0] != L'%' || !at[1]) {
            add(m, at, 1, 1);
            at++;
            continue;
        }
        WCHAR c = at[1];
        if (c >= L'1' && c <= L'9') {
            int n = c - L'0';
            at += 2;
            if (*at >= L'0' && *at <= L'9') n = n * 10 + (*at++ - L'0');
            const WCHAR *spec = L"";
            size_t spec_length = 0;
            if (*at == L'!') {
                const WCHAR *end = wcschr(at + 1, L'!');
                if (end) {
                    spec = at + 1;
                    spec_length = (size_t)(end - spec);
                    at = end + 1;
                }
            }
            insert(m, slots[n - 1], spec, spec_length);
        } else if (c == L'0') {
            return; /* %0 ends the message */
        } else {
            static const WCHAR escapes[] = L"%%n\nr\rt\tb .!!  ";
            const WCHAR *found = NULL;
            for (int i = 0; escapes[i]; i += 2)
                if (escapes[i] == c) found = &escapes[i + 1];
            if (found) add(m, found, 1, 1); else add(m, at, 2, 2);
            at += 2;
        }
    }
}

size_t format_log(WCHAR *out, size_t capacity, LPCWSTR format, va_list args) {
    message m = {out, 0, capacity, 0};
    if (numbered(format)) {
        format_message(&m, format, args);
    } else {
        va_list counting;
        va_copy(counting, args);
        int length = _vscwprintf(format, counting);
        va_end(counting);
        if (length > 0) {
            _vsnwprintf(out, capacity, format, args);
            m.kept = (size_t)length < capacity ? (size_t)length : capacity;
            m.length = (size_t)length;
        }
    }
    out[m.kept] = 0; /* out holds capacity + 1 characters */
    return m.length;
}
