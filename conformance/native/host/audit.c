/* What the DLL holds in the host: its threads (Toolhelp), handles (GetProcessHandleCount)
 * and child processes, for the leak audit (CL-4) and the stops-workers rules; the threads'
 * list when a call hangs (Wine gives no stacks to a process about itself). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tlhelp32.h>

#include "host.h"

#define MAX_THREADS 4096
#define MAX_HOST_THREADS 1024

/* The host's own threads (readers, call threads, event watchers): never the DLL's. */
static volatile LONG host_count;
static DWORD host_threads[MAX_HOST_THREADS];

void host_thread(DWORD id) {
    LONG at = InterlockedIncrement(&host_count) - 1;
    if (at < MAX_HOST_THREADS) host_threads[at] = id;
}

/* Started and counted as the host's before it runs: an audit never takes it for the DLL's. */
HANDLE host_thread_start(LPTHREAD_START_ROUTINE routine, LPVOID parameter) {
    DWORD id;
    HANDLE thread = CreateThread(NULL, 0, routine, parameter, CREATE_SUSPENDED, &id);
    if (thread) {
        host_thread(id);
        ResumeThread(thread);
    }
    return thread;
}

static int is_host_thread(DWORD id) {
    LONG count = host_count < MAX_HOST_THREADS ? host_count : MAX_HOST_THREADS;
    for (LONG i = 0; i < count; i++)
        if (host_threads[i] == id) return 1;
    return 0;
}

static int thread_ids(DWORD *ids, int capacity) {
    HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    THREADENTRY32 entry = {.dwSize = sizeof entry};
    int count = 0;
    if (snapshot == INVALID_HANDLE_VALUE) return 0;
    for (BOOL more = Thread32First(snapshot, &entry); more && count < capacity;
         more = Thread32Next(snapshot, &entry))
        if (entry.th32OwnerProcessID == GetCurrentProcessId() && !is_host_thread(entry.th32ThreadID))
            ids[count++] = entry.th32ThreadID;
    CloseHandle(snapshot);
    return count;
}

static int children(void) {
    HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    PROCESSENTRY32 entry = {.dwSize = sizeof entry};
    int count = 0;
    if (snapshot == INVALID_HANDLE_VALUE) return 0;
    for (BOOL more = Process32First(snapshot, &entry); more; more = Process32Next(snapshot, &entry))
        if (entry.th32ParentProcessID == GetCurrentProcessId()) count++;
    CloseHandle(snapshot);
    return count;
}

/* The process's open handles. Wine's GetProcessHandleCount answers 0 whatever is open, so the
 * system's handle table is asked (SystemExtendedHandleInformation), counting our entries. */
typedef struct {
    PVOID Object;
    ULONG_PTR UniqueProcessId;
    ULONG_PTR HandleValue;
    ULONG GrantedAccess;
    USHORT CreatorBackTraceIndex;
    USHORT ObjectTypeIndex;
    ULONG HandleAttributes;
    ULONG Reserved;
} handle_entry;

typedef struct {
    ULONG_PTR NumberOfHandles;
    ULONG_PTR Reserved;
    handle_entry Handles[1];
} handle_table;

typedef LONG(WINAPI *query_system)(ULONG, PVOID, ULONG, PULONG);
#define SYSTEM_EXTENDED_HANDLE_INFORMATION 64
#define HANDLE_TABLE_LIMIT (64u << 20)

static DWORD handle_count(void) {
    query_system query =
        (query_system)(void *)GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQuerySystemInformation");
    DWORD count = 0;
    if (query) {
        for (ULONG size = 1u << 16; size <= HANDLE_TABLE_LIMIT; size *= 2) {
            handle_table *table = malloc(size);
            ULONG needed = 0;
            if (!table) break;
            LONG status = query(SYSTEM_EXTENDED_HANDLE_INFORMATION, table, size, &needed);
            if (status == 0) {
                ULONG_PTR fits = (size - 2 * sizeof(ULONG_PTR)) / sizeof(handle_entry);
                ULONG_PTR total = table->NumberOfHandles < fits ? table->NumberOfHandles : fits;
                for (ULONG_PTR i = 0; i < total; i++)
                    count += table->Handles[i].UniqueProcessId == GetCurrentProcessId();
                free(table);
                return count;
            }
            free(table);
        }
    }
    GetProcessHandleCount(GetCurrentProcess(), &count);
    return count;
}

/* The thread ids of a baseline (an array of [id, id] pairs, as the Python host sends). */
static int baseline_ids(const mp_reader *message, DWORD *ids, int capacity) {
    mp_reader at;
    mp_value head, pair, id;
    int count = 0;
    if (!mp_find(message, "baseline", &at) || !mp_next(&at, &head) || head.type != MP_ARRAY)
        return 0;
    for (uint32_t i = 0; i < head.length && count < capacity; i++) {
        if (!mp_next(&at, &pair) || pair.type != MP_ARRAY || pair.length != 2) return count;
        if (!mp_next(&at, &id) || !mp_skip(&at)) return count;
        ids[count++] = (DWORD)id.i;
    }
    return count;
}

static int known(const DWORD *ids, int count, DWORD id) {
    for (int i = 0; i < count; i++)
        if (ids[i] == id) return 1;
    return 0;
}

void run_audit(const mp_reader *message) {
    static DWORD now[MAX_THREADS], before[MAX_THREADS];
    const uint8_t *what;
    uint32_t what_length;
    int64_t id = 0;
    mp_writer w;
    mp_find_int(message, "id", &id);
    if (!mp_find_str(message, "what", &what, &what_length)) fail("a bad audit");
    int count = thread_ids(now, MAX_THREADS);
    int old = baseline_ids(message, before, MAX_THREADS), fresh = 0;
    for (int i = 0; i < count; i++) fresh += !known(before, old, now[i]);
    mp_writer_init(&w);
    mp_map(&w, 4);
    mp_cstr(&w, "type"); mp_cstr(&w, "result");
    mp_cstr(&w, "id"); mp_int(&w, id);
    mp_cstr(&w, "status"); mp_cstr(&w, "ok");
    mp_cstr(&w, "value");
    if (what_length == 8 && !memcmp(what, "baseline", 8)) {
        mp_array(&w, (uint32_t)count);
        for (int i = 0; i < count; i++) {
            mp_array(&w, 2);
            mp_uint(&w, now[i]);
            mp_uint(&w, now[i]);
        }
    } else if (what_length == 9 && !memcmp(what, "lingering", 9)) {
        mp_array(&w, (uint32_t)(fresh < 200 ? fresh : 200));
        for (int i = 0, sent = 0; i < count && sent < 200; i++) {
            char line[80];
            if (known(before, old, now[i])) continue;
            snprintf(line, sizeof line, "thread %lu (no stack: not available under the native host)",
                     (unsigned long)now[i]);
            mp_cstr(&w, line);
            sent++;
        }
    } else if (what_length == 5 && !memcmp(what, "usage", 5)) {
        DWORD handles = handle_count();
        mp_map(&w, 3);
        mp_cstr(&w, "threads"); mp_uint(&w, (uint64_t)fresh);
        mp_cstr(&w, "fds"); mp_uint(&w, handles);
        mp_cstr(&w, "children"); mp_uint(&w, (uint64_t)children());
    } else {
        char text[160];
        snprintf(text, sizeof text,
                 "no stacks from inside the host (under Wine, rescheck asks winedbg): the DLL has "
                 "%d threads of its own in the host, besides the host's %ld", count,
                 (long)host_count);
        mp_cstr(&w, text);
    }
    channel_send(&w);
}
