/* rescheck's own clusapi.dll (conformance/native/clusapi/): loaded from the host's directory
 * before the resource DLL, so that the DLL's imports of clusapi.dll bind to it rather than to
 * Wine's stubs, and linked to the channel: its Cluster API calls become ClusterDatabase
 * callbacks and notes of the protocol, made on the DLL's calling thread. The monitor's HKEY
 * values become keys of clusapi.dll's. Without it (not built), the DLL gets the numbers.
 * rescheck's resutils.dll is loaded and linked the same way, after it. */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../include/rescheck_link.h"
#include "host.h"

static RESCHECK_MONITOR_KEY make_key;
static RESCHECK_CONNECT connect_root;

static void link_callback(const char *name, const uint8_t *args, size_t size, uint32_t count,
                          uint8_t **reply, size_t *reply_size) {
    mp_writer w;
    int64_t id = reply ? next_id() : 0;
    mp_writer_init(&w);
    callback_head(&w, id, name, count);
    mp_raw(&w, args, size);
    if (w.failed) { /* past the frame limit: not sent (a reply-waiting caller gets NULL) */
        mp_writer_free(&w);
        if (reply) *reply = NULL;
        return;
    }
    if (!reply) {
        channel_send(&w);
        return;
    }
    *reply = callback_ask(&w, id, reply_size);
}

static const rescheck_link link = {RESCHECK_LINK_VERSION, link_callback, free};

/* A DLL of rescheck's from the host's directory, loaded for the life of the process (as the
 * resource DLL's import) and attached to the channel; NULL: not there, or it refused. */
static HMODULE load_beside(LPCWSTR name) {
    WCHAR path[MAX_PATH + 32];
    DWORD length = GetModuleFileNameW(NULL, path, MAX_PATH);
    if (length == 0 || length >= MAX_PATH) return NULL;
    WCHAR *slash = wcsrchr(path, L'\\');
    if (!slash) return NULL;
    wcscpy(slash + 1, name);
    if (GetFileAttributesW(path) == INVALID_FILE_ATTRIBUTES) return NULL;
    HMODULE module = LoadLibraryW(path);
    if (!module) return NULL;
    RESCHECK_ATTACH attach = (RESCHECK_ATTACH)(void *)GetProcAddress(module, "RescheckAttach");
    return attach && attach(&link) ? module : NULL;
}

void clusapi_link(void) {
    HMODULE module = load_beside(L"clusapi.dll");
    if (!module) return;
    make_key = (RESCHECK_MONITOR_KEY)(void *)GetProcAddress(module, "RescheckMonitorKey");
    connect_root = (RESCHECK_CONNECT)(void *)GetProcAddress(module, "RescheckConnect");
    /* rescheck's resutils.dll (conformance/native/resutils/) after it: it imports clusapi.dll */
    load_beside(L"resutils.dll");
}

/* An HKEY value [key, path] as clusapi.dll's key; nil is NULL. */
HKEY monitor_key(const mp_value *value) {
    if (value->type != MP_EXT || value->ext != EXT_HKEY) return NULL;
    mp_reader body = {value->bytes, value->length, 0};
    mp_value head, key, path;
    if (!mp_next(&body, &head) || head.type != MP_ARRAY || head.length != 2 ||
        !mp_next(&body, &key) || !mp_next(&body, &path) || path.type != MP_STR)
        fail("a malformed HKEY value");
    int64_t number = key.type == MP_UINT ? (int64_t)key.u : key.i;
    if (!make_key) return (HKEY)(intptr_t)number;
    HKEY made = make_key(number, (const char *)path.bytes, path.length);
    if (!made) fail("out of memory");
    return made;
}

void clusapi_connect(const mp_reader *startup) {
    mp_reader at;
    mp_value root;
    if (!connect_root) return;
    if (!mp_find(startup, "cluster", &at) || !mp_next(&at, &root) || root.type == MP_NIL) {
        connect_root(NULL);
        return;
    }
    connect_root(monitor_key(&root));
}
