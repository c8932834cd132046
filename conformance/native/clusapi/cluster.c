/* The cluster and its resources: OpenCluster (the local cluster only, whose database root the
 * monitor hands the host with Startup), OpenClusterResource, GetClusterResourceKey, and the
 * monitor's own keys (Open's ResourceKey). */
#include <string.h>
#include <wchar.h>

#include "internal.h"

static HKEY root; /* NULL: no cluster to open */

__declspec(dllexport) HKEY WINAPI RescheckMonitorKey(int64_t key, const char *path,
                                                     uint32_t length) {
    place where;
    if (length >= PATH_BYTES) length = PATH_BYTES - 1;
    where.monitor = key;
    memcpy(where.path, path, length);
    where.path[length] = 0;
    return object_new(KIND_KEY, &where, TRUE);
}

__declspec(dllexport) VOID WINAPI RescheckConnect(HKEY cluster_root) { root = cluster_root; }

/* A handle, or NULL after SetLastError(error); both noted. */
static void *handed(const char *function, void *handle, DWORD error) {
    note_call(function, handle ? ERROR_SUCCESS : error, NULL);
    if (!handle) SetLastError(error);
    return handle;
}

HCLUSTER WINAPI OpenCluster(LPCWSTR lpszClusterName) {
    place where;
    if ((lpszClusterName && *lpszClusterName) || !object_read(root, KIND_KEY, &where))
        return handed("OpenCluster", NULL, RPC_S_SERVER_UNAVAILABLE);
    void *cluster = object_new(KIND_CLUSTER, &where, FALSE);
    return handed("OpenCluster", cluster, ERROR_NOT_ENOUGH_MEMORY);
}

BOOL WINAPI CloseCluster(HCLUSTER hCluster) {
    BOOL closed = object_close(hCluster, KIND_CLUSTER);
    note_call("CloseCluster", closed ? ERROR_SUCCESS : ERROR_INVALID_HANDLE,
              closed ? NULL : "not a handle this clusapi.dll has open");
    if (!closed) SetLastError(ERROR_INVALID_HANDLE);
    return closed;
}

HRESOURCE WINAPI OpenClusterResource(HCLUSTER hCluster, LPCWSTR lpszResourceName) {
    static const char *function = "OpenClusterResource";
    place cluster, where;
    uint8_t *reply;
    size_t size;
    mp_value found = {0};
    if (!object_read(hCluster, KIND_CLUSTER, &cluster))
        return handed(function, NULL, ERROR_INVALID_HANDLE);
    if (!lpszResourceName || !*lpszResourceName) return handed(function, NULL, ERROR_INVALID_PARAMETER);
    if (wcschr(lpszResourceName, L'\\')) return handed(function, NULL, ERROR_RESOURCE_NOT_FOUND);
    place resources = cluster;
    if (!child_place(&cluster, L"Resources", &resources) ||
        !child_place(&resources, lpszResourceName, &where))
        return handed(function, NULL, ERROR_RESOURCE_NOT_FOUND);
    DWORD status = db_ask(&where, "key_exists", where.path, NULL, -1, NULL, &reply, &size);
    if (status != ERROR_SUCCESS) return handed(function, NULL, status);
    mp_reader r = {reply, size, 0};
    BOOL exists = mp_next(&r, &found) && found.type == MP_BOOL && found.i;
    release(reply);
    if (!exists) return handed(function, NULL, ERROR_RESOURCE_NOT_FOUND);
    return handed(function, object_new(KIND_RESOURCE, &where, FALSE), ERROR_NOT_ENOUGH_MEMORY);
}

BOOL WINAPI CloseClusterResource(HRESOURCE hResource) {
    BOOL closed = object_close(hResource, KIND_RESOURCE);
    note_call("CloseClusterResource", closed ? ERROR_SUCCESS : ERROR_INVALID_HANDLE,
              closed ? NULL : "not a handle this clusapi.dll has open");
    if (!closed) SetLastError(ERROR_INVALID_HANDLE);
    return closed;
}

HKEY WINAPI GetClusterResourceKey(HRESOURCE hResource, REGSAM samDesired) {
    place where;
    (void)samDesired; /* the database grants every access (there is one process: the DLL's) */
    if (!object_read(hResource, KIND_RESOURCE, &where))
        return handed("GetClusterResourceKey", NULL, ERROR_INVALID_HANDLE);
    return handed("GetClusterResourceKey", object_new(KIND_KEY, &where, FALSE),
                  ERROR_NOT_ENOUGH_MEMORY);
}
