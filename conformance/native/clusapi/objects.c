/* The open handles (keys, clusters, resources): a handle is valid while it is in the table,
 * so a closed, forged or foreign handle is ERROR_INVALID_HANDLE, never memory read. Callers
 * get a copy of where it points (object_read), never the object, so a handle closed on
 * another thread meanwhile is not used after it is freed. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct object {
    struct object *next;
    int kind;
    BOOL monitors; /* handed out by the monitor: open for the life of the process */
    place where;
} object;

static CRITICAL_SECTION lock;
static object *open_objects;

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved) {
    (void)instance;
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) InitializeCriticalSection(&lock);
    return TRUE;
}

static object *find(const void *handle, int kind) {
    for (object *o = open_objects; o; o = o->next)
        if (o == handle && o->kind == kind) return o;
    return NULL;
}

void *object_new(int kind, const place *where, BOOL monitors) {
    object *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->kind = kind;
    o->monitors = monitors;
    o->where = *where;
    EnterCriticalSection(&lock);
    o->next = open_objects;
    open_objects = o;
    LeaveCriticalSection(&lock);
    return o;
}

BOOL object_read(const void *handle, int kind, place *out) {
    EnterCriticalSection(&lock);
    object *o = handle ? find(handle, kind) : NULL;
    if (o) *out = o->where;
    LeaveCriticalSection(&lock);
    return o != NULL;
}

BOOL object_close(void *handle, int kind) {
    EnterCriticalSection(&lock);
    object *o = handle ? find(handle, kind) : NULL;
    BOOL found = o != NULL;
    if (o && o->monitors) {
        o = NULL; /* the monitor's: it stays open */
    } else if (o) {
        object **at = &open_objects;
        while (*at != o) at = &(*at)->next;
        *at = o->next;
    }
    LeaveCriticalSection(&lock);
    free(o);
    return found;
}
