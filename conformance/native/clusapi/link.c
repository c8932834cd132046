/* The channel to the monitor, through the native host that loaded this DLL (RescheckAttach):
 * each operation on the database is a ClusterDatabase callback that waits for its reply; each
 * ClusterReg* call is then a ClusterDatabaseAccess note with its result, and a call that
 * reaches no database a ResUtil note, so every call is in the trace. */
#include <string.h>

#include "internal.h"

static rescheck_link channel;

__declspec(dllexport) BOOL WINAPI RescheckAttach(const rescheck_link *link) {
    if (!link || link->version != RESCHECK_LINK_VERSION) return FALSE;
    channel = *link;
    return TRUE;
}

BOOL linked(void) { return channel.callback != NULL; }

void release(void *memory) {
    if (memory && channel.release) channel.release(memory);
}

static void put_text(mp_writer *w, const char *text) {
    if (text) mp_cstr(w, text); else mp_nil(w);
}

DWORD db_ask(const place *where, const char *op, const char *path, const char *name,
             int64_t type, const mp_writer *value, uint8_t **reply, size_t *size) {
    static const char closed[] = "\xa9" "db-closed"; /* the reply "db-closed", encoded */
    mp_writer w;
    *reply = NULL;
    if (!linked()) return ERROR_INVALID_HANDLE;
    mp_writer_init(&w);
    mp_cstr(&w, "key"); mp_int(&w, where->monitor);
    mp_cstr(&w, "op"); mp_cstr(&w, op);
    mp_cstr(&w, "path"); mp_cstr(&w, path);
    mp_cstr(&w, "name"); put_text(&w, name);
    mp_cstr(&w, "value_type");
    if (type >= 0) mp_int(&w, type); else mp_nil(&w);
    mp_cstr(&w, "value");
    if (value) mp_raw(&w, value->data, value->size); else mp_nil(&w);
    if (w.failed) {
        mp_writer_free(&w);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    channel.callback("ClusterDatabase", w.data, w.size, 6, reply, size);
    mp_writer_free(&w);
    if (!*reply) return ERROR_NOT_ENOUGH_MEMORY;
    if (*size == sizeof closed - 1 && !memcmp(*reply, closed, *size)) {
        release(*reply);
        *reply = NULL;
        return ERROR_INVALID_HANDLE;
    }
    return ERROR_SUCCESS;
}

void note_access(const place *where, const char *op, const char *name, BOOL write,
                 DWORD result) {
    mp_writer w;
    if (!linked()) return;
    mp_writer_init(&w);
    mp_cstr(&w, "key"); mp_int(&w, where->monitor);
    mp_cstr(&w, "op"); mp_cstr(&w, op);
    mp_cstr(&w, "path"); mp_cstr(&w, where->path);
    mp_cstr(&w, "name"); put_text(&w, name);
    mp_cstr(&w, "write"); mp_bool(&w, write);
    mp_cstr(&w, "result"); mp_uint(&w, result);
    if (!w.failed) channel.callback("ClusterDatabaseAccess", w.data, w.size, 6, NULL, NULL);
    mp_writer_free(&w);
}

void note_call(const char *function, DWORD result, const char *why) {
    mp_writer w;
    if (!linked()) return;
    mp_writer_init(&w);
    mp_cstr(&w, "function"); mp_cstr(&w, function);
    mp_cstr(&w, "result"); mp_uint(&w, result);
    mp_cstr(&w, "why"); put_text(&w, why);
    if (!w.failed) channel.callback("ResUtil", w.data, w.size, 3, NULL, NULL);
    mp_writer_free(&w);
}

DWORD bad_handle(const char *function) {
    note_call(function, ERROR_INVALID_HANDLE, "not a handle this clusapi.dll has open");
    return ERROR_INVALID_HANDLE;
}
