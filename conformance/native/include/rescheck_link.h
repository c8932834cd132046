/* How rescheck's own clusapi.dll (conformance/native/clusapi/) reaches the native host's
 * channel: the host loads it from its own directory before the resource DLL, hands it the
 * callback service below (RescheckAttach), and turns the monitor's HKEY values (Open's
 * ResourceKey, Startup's cluster root) into keys of the DLL's (RescheckMonitorKey,
 * RescheckConnect). These three exports are rescheck's, not the Windows SDK's. */
#ifndef RESCHECK_LINK_H
#define RESCHECK_LINK_H
#include <stdint.h>
#include <windows.h>

#define RESCHECK_LINK_VERSION 1

typedef struct {
    DWORD version; /* RESCHECK_LINK_VERSION */
    /* A callback of the protocol's closed list (docs/host-protocol.md), made on the calling
     * thread with its context and last error: args is the encoding of count map entries.
     * reply NULL: a note. Otherwise it waits for the monitor's reply and returns the reply's
     * value, encoded, in *reply (free it with release). */
    void (*callback)(const char *name, const uint8_t *args, size_t size, uint32_t count,
                     uint8_t **reply, size_t *reply_size);
    void (*release)(void *memory);
} rescheck_link;

typedef BOOL(WINAPI *RESCHECK_ATTACH)(const rescheck_link *link);
/* The key the monitor handed out as [key, path] (path UTF-8, length bytes); it stays open
 * for the life of the process (ClusterRegCloseKey leaves it usable). NULL: out of memory. */
typedef HKEY(WINAPI *RESCHECK_MONITOR_KEY)(int64_t key, const char *path, uint32_t length);
/* The root of the cluster's database for OpenCluster (NULL: no cluster to open). */
typedef VOID(WINAPI *RESCHECK_CONNECT)(HKEY root);
#endif
