/* The native host's start and its read loop: hello, then the monitor's requests, each
 * answered by the file that owns it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

static void hello(void) {
    mp_writer w;
    mp_writer_init(&w);
    mp_map(&w, 5);
    mp_cstr(&w, "type"); mp_cstr(&w, "hello");
    mp_cstr(&w, "protocol"); mp_int(&w, PROTOCOL_VERSION);
    mp_cstr(&w, "host"); mp_cstr(&w, "rescheck-native");
    mp_cstr(&w, "pid"); mp_uint(&w, GetCurrentProcessId());
    mp_cstr(&w, "clock"); mp_double(&w, host_clock());
    channel_send(&w);
}

static void loaded(int64_t id, const char *error, double start, double end) {
    mp_writer w;
    mp_writer_init(&w);
    mp_map(&w, 6);
    mp_cstr(&w, "type"); mp_cstr(&w, "loaded");
    mp_cstr(&w, "id"); mp_int(&w, id);
    mp_cstr(&w, "error");
    if (error) mp_cstr(&w, error); else mp_nil(&w);
    mp_cstr(&w, "loaded"); mp_array(&w, 2); mp_double(&w, start); mp_double(&w, end);
    mp_cstr(&w, "declared_type"); mp_nil(&w);
    mp_cstr(&w, "companion"); mp_nil(&w);
    channel_send(&w);
}

static void load(const mp_reader *message) {
    mp_reader spec;
    const uint8_t *path;
    uint32_t length;
    int64_t id = 0;
    char error[600];
    mp_find_int(message, "id", &id);
    if (!mp_find(message, "target", &spec) || !mp_find_str(&spec, "path", &path, &length)) {
        loaded(id, "the load message names no DLL", 0, 0);
        return;
    }
    WCHAR *wide = utf16(path, length);
    UINT modes = SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOOPENFILEERRORBOX);
    double start = host_clock();
    HMODULE module = LoadLibraryW(wide); /* DllMain(DLL_PROCESS_ATTACH) runs here */
    double end = host_clock();
    DWORD code = GetLastError();
    SetErrorMode(modes);
    free(wide);
    if (!module) {
        snprintf(error, sizeof error, "%.*s: LoadLibrary failed with error %lu", (int)length,
                 (const char *)path, (unsigned long)code);
        loaded(id, error, start, end);
    } else if (!GetProcAddress(module, "Startup")) {
        snprintf(error, sizeof error, "%.*s exports no Startup entry point", (int)length,
                 (const char *)path);
        loaded(id, error, start, end);
    } else {
        target = module;
        loaded(id, NULL, start, end);
    }
}

static int is(const uint8_t *type, uint32_t length, const char *name) {
    return length == strlen(name) && !memcmp(type, name, length);
}

/* Leader and followers: the thread whose turn it is reads; when a call comes it passes the
 * turn on (to a waiting thread, a new one if none waits) and runs the call itself, so the call
 * starts at once and a call that never returns costs only its thread. */
static CRITICAL_SECTION reading;
static volatile LONG waiting;

static DWORD WINAPI follow(LPVOID unused);

static void start_follower(void) {
    HANDLE thread = host_thread_start(follow, NULL);
    if (!thread) fail("cannot start a call thread");
    CloseHandle(thread);
}

static void reply_companion(const mp_reader *message) {
    mp_writer w;
    int64_t id = 0;
    mp_find_int(message, "id", &id);
    mp_writer_init(&w);
    mp_map(&w, 4);
    mp_cstr(&w, "type"); mp_cstr(&w, "result");
    mp_cstr(&w, "id"); mp_int(&w, id);
    mp_cstr(&w, "status"); mp_cstr(&w, "raised");
    mp_cstr(&w, "value"); mp_cstr(&w, "the native host runs no companion code");
    channel_send(&w);
}

static DWORD WINAPI follow(LPVOID unused) {
    (void)unused;
    for (;;) {
        InterlockedIncrement(&waiting);
        EnterCriticalSection(&reading);
        InterlockedDecrement(&waiting);
        for (;;) {
            uint8_t *body;
            uint32_t size;
            const uint8_t *type;
            uint32_t length;
            if (!channel_read(&body, &size)) ExitProcess(0); /* the monitor is gone */
            mp_reader message = {body, size, 0};
            if (!mp_find_str(&message, "type", &type, &length)) fail("a message without a type");
            int startup = is(type, length, "startup");
            if (startup || is(type, length, "call")) {
                if (waiting == 0) start_follower();
                LeaveCriticalSection(&reading);
                if (startup) run_startup(body, size); else run_call(body, size);
                break;
            }
            if (is(type, length, "load")) load(&message);
            else if (is(type, length, "reply")) reply_arrived(&message);
            else if (is(type, length, "audit")) run_audit(&message);
            else if (is(type, length, "companion")) reply_companion(&message);
            else if (is(type, length, "shutdown")) ExitProcess(0);
            else fail("a message of an unknown type");
            free(body);
        }
    }
}

int main(void) {
    channel_open();
    callbacks_init();
    clusapi_link();
    InitializeCriticalSection(&reading);
    host_thread(GetCurrentThreadId());
    hello();
    follow(NULL);
    return 0;
}
