/* What the DLL calls back (SetResourceStatus, LogEvent, LostQuorumResource) and what the
 * host reports for it (its last error), each a callback message stamped with the calling
 * thread, the entry point running on it and its last-error value. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "host.h"

#define REPLY_SLOTS 256

typedef struct {
    int64_t id; /* 0: free */
    HANDLE done;
    int64_t value;   /* the reply's value as an int (nil and non-ints: 0) */
    uint8_t *raw;    /* and encoded, when the caller asked for it (callback_ask) */
    size_t raw_size;
    int wants_raw;
} reply_slot;

static DWORD context_slot;
static CRITICAL_SECTION lock;
static reply_slot slots[REPLY_SLOTS];
static int64_t last_id;

void callbacks_init(void) {
    context_slot = TlsAlloc();
    InitializeCriticalSection(&lock);
    for (int i = 0; i < REPLY_SLOTS; i++) slots[i].done = CreateEventW(NULL, FALSE, FALSE, NULL);
}

int64_t next_id(void) {
    EnterCriticalSection(&lock);
    int64_t id = ++last_id;
    LeaveCriticalSection(&lock);
    return id;
}

void context_enter(const call_context *context) { TlsSetValue(context_slot, (LPVOID)context); }
void context_leave(void) { TlsSetValue(context_slot, NULL); }

WCHAR *utf16(const uint8_t *text, uint32_t length) {
    int count = MultiByteToWideChar(CP_UTF8, 0, (const char *)text, (int)length, NULL, 0);
    WCHAR *out = calloc((size_t)count + 1, sizeof(WCHAR));
    if (!out) fail("out of memory");
    MultiByteToWideChar(CP_UTF8, 0, (const char *)text, (int)length, out, count);
    return out;
}

void put_utf8(mp_writer *w, LPCWSTR text, size_t limit) {
    size_t length = wcsnlen(text, limit);
    int bytes = WideCharToMultiByte(CP_UTF8, 0, text, (int)length, NULL, 0, NULL, NULL);
    char *out = malloc((size_t)bytes + 1);
    if (!out) fail("out of memory");
    WideCharToMultiByte(CP_UTF8, 0, text, (int)length, out, bytes, NULL, NULL);
    mp_str(w, out, (size_t)bytes);
    free(out);
}

static void put_ext_int(mp_writer *w, int8_t code, int64_t value) {
    mp_writer body;
    mp_writer_init(&body);
    mp_array(&body, 1);
    mp_int(&body, value);
    mp_ext(w, code, body.data, body.size);
    mp_writer_free(&body);
}

void put_handle(mp_writer *w, RESOURCE_HANDLE handle) {
    put_ext_int(w, EXT_RESOURCE_HANDLE, (int64_t)(intptr_t)handle);
}

void callback_head(mp_writer *w, int64_t id, const char *name, uint32_t args) {
    DWORD last_error = GetLastError();
    const call_context *context = TlsGetValue(context_slot);
    char thread[32];
    DWORD tid = GetCurrentThreadId();
    snprintf(thread, sizeof thread, "thread %lu", (unsigned long)tid);
    mp_map(w, 8);
    mp_cstr(w, "type"); mp_cstr(w, "callback");
    mp_cstr(w, "id");
    if (id) mp_int(w, id); else mp_nil(w);
    mp_cstr(w, "name"); mp_cstr(w, name);
    mp_cstr(w, "thread"); mp_array(w, 2); mp_uint(w, tid); mp_cstr(w, thread);
    mp_cstr(w, "context");
    if (context) {
        mp_array(w, 2);
        mp_cstr(w, context->entry);
        if (context->resource) mp_cstr(w, context->resource); else mp_nil(w);
    } else {
        mp_nil(w);
    }
    mp_cstr(w, "last_error"); mp_uint(w, last_error);
    mp_cstr(w, "at"); mp_double(w, host_clock());
    mp_cstr(w, "args"); mp_map(w, args);
    SetLastError(last_error);
}

static reply_slot *wait_for_reply(mp_writer *w, int64_t id, int wants_raw) {
    reply_slot *slot = NULL;
    EnterCriticalSection(&lock);
    for (int i = 0; i < REPLY_SLOTS && !slot; i++)
        if (!slots[i].id) slot = &slots[i];
    if (slot) {
        slot->id = id;
        slot->wants_raw = wants_raw;
        slot->raw = NULL;
        slot->raw_size = 0;
    }
    LeaveCriticalSection(&lock);
    if (!slot) fail("more than 256 threads wait for the monitor's reply at once");
    channel_send(w);
    WaitForSingleObject(slot->done, INFINITE);
    return slot;
}

int64_t callback_call(mp_writer *w, int64_t id, const char *name) {
    (void)name;
    reply_slot *slot = wait_for_reply(w, id, 0);
    EnterCriticalSection(&lock);
    int64_t value = slot->value;
    slot->id = 0;
    LeaveCriticalSection(&lock);
    return value;
}

uint8_t *callback_ask(mp_writer *w, int64_t id, size_t *size) {
    reply_slot *slot = wait_for_reply(w, id, 1);
    EnterCriticalSection(&lock);
    uint8_t *raw = slot->raw;
    *size = slot->raw_size;
    slot->raw = NULL;
    slot->id = 0;
    LeaveCriticalSection(&lock);
    return raw;
}

/* The encoding of the message's value field (nil when it has none), malloc'd. */
static uint8_t *copy_value(const mp_reader *message, size_t *size) {
    static const uint8_t nil = 0xc0;
    mp_reader at, end;
    const uint8_t *from = &nil;
    *size = 1;
    if (mp_find(message, "value", &at)) {
        end = at;
        if (!mp_skip(&end)) fail("a reply with a malformed value");
        from = at.data + at.pos;
        *size = end.pos - at.pos;
    }
    uint8_t *out = malloc(*size);
    if (!out) fail("out of memory");
    memcpy(out, from, *size);
    return out;
}

void reply_arrived(const mp_reader *message) {
    int64_t id, value = 0;
    if (!mp_find_int(message, "id", &id)) fail("a reply without an id");
    mp_find_int(message, "value", &value); /* nil: 0 */
    EnterCriticalSection(&lock);
    for (int i = 0; i < REPLY_SLOTS; i++)
        if (slots[i].id == id) {
            slots[i].value = value;
            if (slots[i].wants_raw && !slots[i].raw)
                slots[i].raw = copy_value(message, &slots[i].raw_size);
            SetEvent(slots[i].done);
        }
    LeaveCriticalSection(&lock);
}

void note_last_error(unsigned long code) {
    mp_writer w;
    mp_writer_init(&w);
    callback_head(&w, 0, "SetLastError", 1);
    mp_cstr(&w, "code"); mp_uint(&w, code);
    channel_send(&w);
}

DWORD WINAPI rc_SetResourceStatus(RESOURCE_HANDLE handle, PRESOURCE_STATUS status) {
    mp_writer w;
    int64_t id = next_id();
    mp_writer_init(&w);
    callback_head(&w, id, "SetResourceStatus", 2);
    mp_cstr(&w, "handle"); put_handle(&w, handle);
    mp_cstr(&w, "status"); mp_map(&w, 4); /* read as the DLL filled it: NULL faults, as in RHS */
    mp_cstr(&w, "ResourceState"); mp_int(&w, (int32_t)status->ResourceState); /* Unknown is -1 */
    mp_cstr(&w, "CheckPoint"); mp_uint(&w, status->CheckPoint);
    mp_cstr(&w, "WaitHint"); mp_uint(&w, status->WaitHint);
    mp_cstr(&w, "EventHandle");
    if (status->EventHandle) {
        mp_writer body;
        char text[40];
        snprintf(text, sizeof text, "HANDLE 0x%llx", (unsigned long long)(uintptr_t)status->EventHandle);
        mp_writer_init(&body);
        mp_array(&body, 3);
        mp_uint(&body, (uintptr_t)status->EventHandle);
        mp_cstr(&body, text);
        mp_cstr(&body, "HANDLE");
        mp_ext(&w, EXT_REF, body.data, body.size);
        mp_writer_free(&body);
    } else {
        mp_nil(&w);
    }
    return (DWORD)callback_call(&w, id, "SetResourceStatus");
}

void WINAPI rc_LogEvent(RESOURCE_HANDLE handle, LOG_LEVEL level, LPCWSTR format, ...) {
    static const WCHAR cut_marker[] = L"\x2026[cut: %d more characters]";
    DWORD last_error = GetLastError();
    WCHAR *message = calloc(MESSAGE_LIMIT + 64, sizeof(WCHAR));
    if (!message) fail("out of memory");
    va_list args;
    va_start(args, format);
    size_t length = format ? format_log(message, MESSAGE_LIMIT, format, args) : 0;
    va_end(args);
    if (length > wcslen(message))
        _snwprintf(message + wcslen(message), 63, cut_marker,
                   (int)(length - wcslen(message)));
    mp_writer w;
    mp_writer_init(&w);
    SetLastError(last_error);
    callback_head(&w, 0, "LogEvent", 5);
    mp_cstr(&w, "handle"); put_handle(&w, handle);
    mp_cstr(&w, "level"); mp_uint(&w, (DWORD)level);
    mp_cstr(&w, "format");
    if (format) put_utf8(&w, format, FORMAT_KEPT); else mp_cstr(&w, "(NULL)");
    mp_cstr(&w, "message"); put_utf8(&w, message, MESSAGE_LIMIT + 64);
    mp_cstr(&w, "length"); mp_uint(&w, (uint64_t)length);
    channel_send(&w);
    free(message);
}

void WINAPI rc_LostQuorumResource(RESOURCE_HANDLE handle) {
    mp_writer w;
    mp_writer_init(&w);
    callback_head(&w, 0, "LostQuorumResource", 1);
    mp_cstr(&w, "handle"); put_handle(&w, handle);
    channel_send(&w);
}
