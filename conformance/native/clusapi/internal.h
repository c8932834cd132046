/* rescheck's own clusapi.dll: the Cluster API functions a resource DLL imports, served from
 * the run's cluster database through the native host's channel (docs/host-protocol.md:
 * ClusterDatabase callbacks, ClusterDatabaseAccess and ResUtil notes). One concern per file:
 * link.c (the channel), objects.c (open handles), text.c (paths and names), wire.c (values
 * between the registry's bytes and the protocol's), cluster.c (clusters and resources),
 * reg_keys.c and reg_values.c (the ClusterReg* functions). */
#ifndef RESCHECK_CLUSAPI_INTERNAL_H
#define RESCHECK_CLUSAPI_INTERNAL_H
#include <stdint.h>

#include "../host/mpack.h"
#include "../include/rescheck_link.h"

#define PATH_LIMIT 1000            /* characters of a key path or value name the protocol carries */
#define PATH_BYTES (3 * PATH_LIMIT + 4)
#define VALUE_LIMIT 65536          /* characters of a string value, bytes of a binary one */
#define MULTI_LIMIT 4096           /* strings of a REG_MULTI_SZ */
#define ENCODED_LIMIT (1u << 20)   /* bytes of a value, encoded: well inside a 2 MiB frame */

enum { KIND_KEY = 1, KIND_CLUSTER, KIND_RESOURCE };

/* Where a handle points: the monitor's key it is under, and the full key path (UTF-8). */
typedef struct {
    int64_t monitor;
    char path[PATH_BYTES];
} place;

/* objects.c: a handle is valid while it is in the table (a closed or foreign one is not) */
void *object_new(int kind, const place *where, BOOL monitors);
BOOL object_read(const void *handle, int kind, place *out);
BOOL object_close(void *handle, int kind); /* the monitor's keys stay open */

/* link.c */
BOOL linked(void);
/* One operation of the closed list on the database; *reply: the value, encoded (release
 * it). ERROR_INVALID_HANDLE: no channel, or the run's database is closed. */
DWORD db_ask(const place *where, const char *op, const char *path, const char *name,
             int64_t type, const mp_writer *value, uint8_t **reply, size_t *size);
void note_access(const place *where, const char *op, const char *name, BOOL write,
                 DWORD result);
void note_call(const char *function, DWORD result, const char *why);
DWORD bad_handle(const char *function); /* noted: ERROR_INVALID_HANDLE */
void release(void *memory);

/* text.c */
BOOL utf8_name(LPCWSTR name, char *out);                 /* FALSE: longer than PATH_LIMIT */
BOOL child_place(const place *parent, LPCWSTR sub, place *out); /* FALSE: too long */
/* UTF-8 as UTF-16 into out (capacity units, NULL: only count): the units it needs */
DWORD wide_of(const uint8_t *text, uint32_t length, WCHAR *out, DWORD capacity);

/* wire.c */
DWORD wire_from_reg(DWORD type, const BYTE *data, DWORD size, mp_writer *out);
/* The value (encoded at value) as the registry's bytes of type: *needed bytes, written to
 * out when capacity holds them. */
void reg_from_wire(const uint8_t *value, size_t size, DWORD type, BYTE *out, DWORD capacity,
                   DWORD *needed);
#endif
