/* rescheck's own resutils.dll: the Resource Utility functions published resource DLLs use
 * most (resapi.h). Values go through rescheck's clusapi.dll (ClusterReg*, imported as a DLL
 * would), so the database sees them as ClusterDatabaseAccess notes; every call is also a
 * ResUtil note (docs/host-protocol.md). One concern per file: link.c (the channel and its
 * notes), workers.c (ClusWorker*), values.c (ResUtilGet/Set*Value),
 * parameters.c (parameter blocks of a RESUTIL_PROPERTY_ITEM table), proplist.c (the
 * CLUSPROP wire format, bounded both ways), propertytable.c (property lists from a table and
 * the key: GET, ENUM, FMTS), propertyset.c (VALIDATE and SET of a property list against a
 * table), findproperty.c (ResUtilFind*Property). */
#ifndef RESCHECK_RESUTILS_INTERNAL_H
#define RESCHECK_RESUTILS_INTERNAL_H
#include "../host/mpack.h"
#include "../include/rescheck_link.h"

#define STRING_LIMIT 65536 /* characters of a string value, as clusapi.dll carries them */

/* link.c: a ResUtil note (function, result, why: nil or why rescheck refused the call) */
void note_call(const char *function, DWORD result, const char *why);

/* values.c: a REG_SZ or REG_EXPAND_SZ value, LocalAlloc'd into *out (NULL on failure; *why:
 * NULL, or why rescheck refused it), without a note */
DWORD read_string(HKEY key, LPCWSTR name, LPWSTR *out, const char **why);
/* values.c: any value, LocalAlloc'd into *out with two zero WCHARs after its *size bytes (so a
 * string in it always ends); at most RAW_LIMIT bytes (longer: ERROR_INVALID_DATA) */
#define RAW_LIMIT (1u << 20)
DWORD read_raw(HKEY key, LPCWSTR name, DWORD *type, LPBYTE *out, DWORD *size);

/* proplist.c: a property list written into the caller's buffer of `size` bytes: nothing is
 * written past it; once something does not fit nothing more is written, and `used` goes on
 * counting the bytes needed (ERROR_MORE_DATA with them, as ResUtil answers). */
typedef struct {
    LPBYTE data;
    DWORD size, used, count;
    BOOL short_of_room, too_big;
} plist_out;
void out_init(plist_out *o, PVOID buffer, DWORD size);
void out_raw(plist_out *o, const void *bytes, DWORD n);
/* one value entry: Syntax, Length, the data, zeros to ALIGN_CLUSPROP */
void out_value(plist_out *o, DWORD syntax, const void *data, DWORD length);
/* a CLUSPROP_SYNTAX_NAME entry (and one more property in the count) */
void out_name(plist_out *o, LPCWSTR name);
void out_endmark(plist_out *o);
/* the status; the count at the start when `counted`; the sizes as the SDK returns them */
DWORD out_finish(plist_out *o, BOOL counted, LPDWORD returned, LPDWORD required);

/* proplist.c: reading a property list the caller gave, with its size */
typedef struct {
    DWORD syntax, length;
    const BYTE *data;
} plist_value;
typedef struct {
    const BYTE *data;
    DWORD size, pos, left; /* left: properties the count still promises */
} plist_in;
typedef struct {
    LPCWSTR name; /* in the list, NUL-terminated (checked) */
    plist_value value; /* the first of its values */
} plist_property;
/* ERROR_INVALID_DATA for a NULL list or one too short for its count */
DWORD in_init(plist_in *r, const void *list, DWORD size);
/* the next property (FALSE when the count is done); *status ERROR_INVALID_DATA when the list
 * is malformed there */
BOOL in_next(plist_in *r, plist_property *p, DWORD *status);
/* the property NAME of a list, or ERROR_FILE_NOT_FOUND / ERROR_INVALID_DATA */
DWORD in_find(const void *list, DWORD size, LPCWSTR name, plist_value *value);

/* propertyset.c / propertytable.c: the item of a table named NAME, NULL if none */
#define TABLE_LIMIT 1024
const RESUTIL_PROPERTY_ITEM *find_item(const RESUTIL_PROPERTY_ITEM *table, LPCWSTR name);
#endif
