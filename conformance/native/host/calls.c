/* Startup and the entry points, each on a call thread of its own, with the documented C
 * types; the answer goes from the call's own thread, after every callback it made. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

PCLRES_FUNCTION_TABLE function_table;
HMODULE target;

typedef struct {
    uint8_t *body;
    uint32_t length;
} request;

static const uint8_t CANARY = 0xCD;

/* --- values ------------------------------------------------------------------------------- */
static void put_ref(mp_writer *w, const void *pointer, const char *type) {
    mp_writer body;
    char text[64];
    snprintf(text, sizeof text, "%s 0x%llx", type, (unsigned long long)(uintptr_t)pointer);
    mp_writer_init(&body);
    mp_array(&body, 3);
    mp_uint(&body, (uintptr_t)pointer);
    mp_cstr(&body, text);
    mp_cstr(&body, type);
    mp_ext(w, EXT_REF, body.data, body.size);
    mp_writer_free(&body);
}

/* A pointer-sized value out of an argument: a REF's id (the host gave it: the pointer), an
 * HKEY's or RESOURCE_HANDLE's number, an int; nil is NULL. */
static uintptr_t arg_pointer(const mp_value *v) {
    if (v->type == MP_INT) return (uintptr_t)v->i;
    if (v->type == MP_UINT) return (uintptr_t)v->u;
    if (v->type != MP_EXT) return 0;
    mp_reader body = {v->bytes, v->length, 0};
    mp_value head, item;
    if (!mp_next(&body, &head) || head.type != MP_ARRAY || head.length == 0) return 0;
    if (!mp_next(&body, &item)) return 0;
    return item.type == MP_UINT ? (uintptr_t)item.u : (uintptr_t)item.i;
}

typedef struct {
    mp_value v[8];
    uint32_t count;
} arguments;

static int read_args(const mp_reader *message, arguments *args) {
    mp_reader at;
    mp_value head;
    if (!mp_find(message, "args", &at) || !mp_next(&at, &head) || head.type != MP_ARRAY ||
        head.length > 8)
        return 0;
    args->count = head.length;
    for (uint32_t i = 0; i < head.length; i++) {
        mp_reader item = at;
        if (!mp_next(&item, &args->v[i])) return 0;
        if (!mp_skip(&at)) return 0;
    }
    return 1;
}

static char *copy_str(const mp_reader *message, const char *key) {
    const uint8_t *text;
    uint32_t length;
    if (!mp_find_str(message, key, &text, &length)) return NULL;
    char *out = malloc(length + 1);
    if (!out) fail("out of memory");
    memcpy(out, text, length);
    out[length] = 0;
    return out;
}

/* --- the answer --------------------------------------------------------------------------- */
typedef struct {
    int64_t id;
    double start, end;
    mp_writer value;  /* the returned value, encoded */
    mp_writer table;  /* Startup's {shape, version}, encoded; empty: nil */
    mp_writer events; /* [index, number, text] items */
    uint32_t event_count;
    int buffer_index; /* -1: no OutBuffer */
    uint8_t *buffer;
    DWORD buffer_size;
} answer;

static void answer_init(answer *a, int64_t id) {
    memset(a, 0, sizeof *a);
    a->id = id;
    a->buffer_index = -1;
    mp_writer_init(&a->value);
    mp_writer_init(&a->table);
    mp_writer_init(&a->events);
}

static void send_answer(answer *a) {
    mp_writer w;
    char thread[32];
    snprintf(thread, sizeof thread, "thread %lu", (unsigned long)GetCurrentThreadId());
    mp_writer_init(&w);
    mp_map(&w, 6);
    mp_cstr(&w, "type"); mp_cstr(&w, "answer");
    mp_cstr(&w, "id"); mp_int(&w, a->id);
    mp_cstr(&w, "outcome"); mp_map(&w, 6);
    mp_cstr(&w, "value");
    if (a->value.size) mp_raw(&w, a->value.data, a->value.size); else mp_nil(&w);
    mp_cstr(&w, "error"); mp_nil(&w);
    mp_cstr(&w, "traceback"); mp_nil(&w);
    mp_cstr(&w, "start"); mp_double(&w, a->start);
    mp_cstr(&w, "end"); mp_double(&w, a->end);
    mp_cstr(&w, "thread"); mp_cstr(&w, thread);
    mp_cstr(&w, "table");
    if (a->table.size) mp_raw(&w, a->table.data, a->table.size); else mp_nil(&w);
    mp_cstr(&w, "events"); mp_array(&w, a->event_count);
    mp_raw(&w, a->events.data, a->events.size);
    mp_cstr(&w, "buffers");
    if (a->buffer_index >= 0) {
        /* as the DLL left it: its size, and what it wrote past the end (the canary's fate) */
        DWORD kept = a->buffer_size + OVERRUN_KEPT;
        while (kept > a->buffer_size && a->buffer[kept - 1] == CANARY) kept--;
        mp_array(&w, 1);
        mp_array(&w, 2);
        mp_int(&w, a->buffer_index);
        mp_bin(&w, a->buffer, kept);
    } else {
        mp_array(&w, 0);
    }
    channel_send(&w);
    mp_writer_free(&a->value);
    mp_writer_free(&a->table);
    mp_writer_free(&a->events);
    free(a->buffer);
}

/* --- failure events ------------------------------------------------------------------------ */
typedef struct {
    HANDLE event;
    int64_t number;
} watched;

static DWORD WINAPI watch_event(LPVOID parameter) {
    watched *w = parameter;
    if (WaitForSingleObject(w->event, INFINITE) == WAIT_OBJECT_0) {
        mp_writer m;
        mp_writer_init(&m);
        mp_map(&m, 2);
        mp_cstr(&m, "type"); mp_cstr(&m, "event");
        mp_cstr(&m, "event"); mp_int(&m, w->number);
        channel_send(&m);
    }
    free(w);
    return 0;
}

static void hand_out(answer *a, int index, HANDLE event) {
    watched *w = malloc(sizeof *w);
    char text[40];
    if (!w) fail("out of memory");
    w->event = event;
    w->number = next_id();
    snprintf(text, sizeof text, "HANDLE 0x%llx", (unsigned long long)(uintptr_t)event);
    mp_array(&a->events, 3);
    mp_int(&a->events, index);
    mp_int(&a->events, w->number);
    mp_cstr(&a->events, text);
    a->event_count++;
    HANDLE thread = host_thread_start(watch_event, w);
    if (thread) CloseHandle(thread); else free(w);
}

/* --- Startup ------------------------------------------------------------------------------ */
/* The table as far as a V1 table reaches, copied without trusting the DLL's pointer (FT-1:
 * only TableSize and Version are at fixed offsets; a table smaller than its TableSize says, or
 * a pointer to nowhere, must not end the host). FALSE: the memory could not be read. */
static BOOL read_table(PCLRES_FUNCTION_TABLE table, CLRES_FUNCTION_TABLE *copy) {
    SIZE_T read = 0;
    ZeroMemory(copy, sizeof(*copy));
    return ReadProcessMemory(GetCurrentProcess(), table, copy,
                             offsetof(CLRES_FUNCTION_TABLE, V1Functions) + sizeof(CLRES_V1_FUNCTIONS),
                             &read) != 0;
}

static void table_shape(mp_writer *w, const CLRES_FUNCTION_TABLE *table) {
    static const char *names[] = {"Open", "Close", "Online", "Offline", "Terminate",
                                  "LooksAlive", "IsAlive", "Arbitrate", "Release",
                                  "ResourceControl", "ResourceTypeControl"};
    void *entries[11];
    const CLRES_V1_FUNCTIONS *f = &table->V1Functions;
    entries[0] = f->Open; entries[1] = f->Close; entries[2] = f->Online;
    entries[3] = f->Offline; entries[4] = f->Terminate; entries[5] = f->LooksAlive;
    entries[6] = f->IsAlive; entries[7] = f->Arbitrate; entries[8] = f->Release;
    entries[9] = f->ResourceControl; entries[10] = f->ResourceTypeControl;
    mp_map(w, 3);
    mp_cstr(w, "shape"); mp_map(w, 13);
    mp_cstr(w, "__type__"); mp_cstr(w, "CLRES_FUNCTION_TABLE");
    mp_cstr(w, "Version"); mp_cstr(w, "value:int");
    for (int i = 0; i < 11; i++) {
        mp_cstr(w, names[i]);
        mp_cstr(w, entries[i] ? "callable" : "none");
    }
    mp_cstr(w, "version"); mp_uint(w, table->Version);
    mp_cstr(w, "size"); mp_uint(w, table->TableSize);
}

static DWORD WINAPI startup_thread(LPVOID parameter) {
    request *r = parameter;
    mp_reader message = {r->body, r->length, 0};
    int64_t id = 0, low = 0, high = 0;
    const uint8_t *name;
    uint32_t name_length;
    mp_find_int(&message, "id", &id);
    mp_find_int(&message, "MinVersionSupported", &low);
    mp_find_int(&message, "MaxVersionSupported", &high);
    if (!mp_find_str(&message, "ResourceType", &name, &name_length)) fail("a bad startup");
    clusapi_connect(&message);
    WCHAR *type = utf16(name, name_length);
    PSTARTUP_ROUTINE startup = (PSTARTUP_ROUTINE)(void *)GetProcAddress(target, "Startup");
    PCLRES_FUNCTION_TABLE table = NULL;
    answer a;
    answer_init(&a, id);
    call_context context = {"Startup", NULL};
    context_enter(&context);
    a.start = host_clock();
    DWORD status = startup(type, (DWORD)low, (DWORD)high, rc_SetResourceStatus, rc_LogEvent, &table);
    a.end = host_clock();
    context_leave();
    CLRES_FUNCTION_TABLE copy;
    function_table = status == ERROR_SUCCESS && table && read_table(table, &copy) ? table : NULL;
    mp_array(&a.value, 2);
    mp_uint(&a.value, status);
    if (table) put_ref(&a.value, table, "CLRES_FUNCTION_TABLE"); else mp_nil(&a.value);
    if (function_table) table_shape(&a.table, &copy);
    send_answer(&a);
    free(type);
    free(r->body);
    free(r);
    return 0;
}

/* --- the entry points --------------------------------------------------------------------- */
static void control(answer *a, arguments *args, int type_control) {
    DWORD code = (DWORD)arg_pointer(&args->v[1]);
    mp_value *in = &args->v[2], *out = &args->v[3];
    void *in_buffer = in->type == MP_BIN ? (void *)in->bytes : NULL;
    DWORD in_size = in->type == MP_BIN ? in->length : 0, returned = 0, status;
    if (out->type == MP_EXT && out->ext == EXT_OUT_BUFFER) {
        mp_reader body = {out->bytes, out->length, 0};
        mp_value head, content;
        if (!mp_next(&body, &head) || !mp_next(&body, &content) || content.type != MP_BIN)
            fail("a bad OutBuffer");
        a->buffer_size = content.length;
        a->buffer = malloc((size_t)content.length + OVERRUN_KEPT);
        if (!a->buffer) fail("out of memory");
        memcpy(a->buffer, content.bytes, content.length);
        memset(a->buffer + content.length, CANARY, OVERRUN_KEPT);
        a->buffer_index = 3;
    }
    a->start = host_clock();
    if (type_control) {
        WCHAR *name = utf16(args->v[0].bytes, args->v[0].type == MP_STR ? args->v[0].length : 0);
        status = function_table->V1Functions.ResourceTypeControl(
            name, code, in_buffer, in_size, a->buffer, a->buffer_size, &returned);
        free(name);
    } else {
        status = function_table->V1Functions.ResourceControl(
            (RESID)arg_pointer(&args->v[0]), code, in_buffer, in_size, a->buffer,
            a->buffer_size, &returned);
    }
    a->end = host_clock();
    mp_array(&a->value, 2);
    mp_uint(&a->value, status);
    mp_uint(&a->value, returned);
}

static void entry_point(answer *a, const char *entry, arguments *args) {
    CLRES_V1_FUNCTIONS *f = &function_table->V1Functions;
    RESID resid = (RESID)arg_pointer(&args->v[0]);
    if (!strcmp(entry, "Open")) {
        WCHAR *name = utf16(args->v[0].bytes, args->v[0].type == MP_STR ? args->v[0].length : 0);
        mp_value *given = &args->v[1];
        HKEY key = given->type == MP_EXT && given->ext == EXT_HKEY ? monitor_key(given)
                                                                   : (HKEY)arg_pointer(given);
        RESOURCE_HANDLE handle = (RESOURCE_HANDLE)arg_pointer(&args->v[2]);
        SetLastError(0);
        a->start = host_clock();
        RESID opened = f->Open(name, key, handle);
        DWORD error = GetLastError(); /* on the calling thread, right after Open returned */
        a->end = host_clock();
        free(name);
        if (opened) put_ref(&a->value, opened, "RESID"); else note_last_error(error);
    } else if (!strcmp(entry, "Online")) {
        HANDLE event = NULL;
        a->start = host_clock();
        DWORD status = f->Online(resid, &event);
        a->end = host_clock();
        mp_uint(&a->value, status);
        if (event) hand_out(a, 1, event);
    } else if (!strcmp(entry, "Close") || !strcmp(entry, "Terminate")) {
        PCLOSE_ROUTINE routine = !strcmp(entry, "Close") ? f->Close : f->Terminate;
        a->start = host_clock();
        routine(resid);
        a->end = host_clock();
    } else if (!strcmp(entry, "LooksAlive") || !strcmp(entry, "IsAlive")) {
        PIS_ALIVE_ROUTINE routine = !strcmp(entry, "IsAlive") ? f->IsAlive : f->LooksAlive;
        a->start = host_clock();
        BOOL alive = routine(resid);
        a->end = host_clock();
        mp_int(&a->value, alive);
    } else if (!strcmp(entry, "Offline") || !strcmp(entry, "Release")) {
        POFFLINE_ROUTINE routine = !strcmp(entry, "Offline") ? f->Offline : f->Release;
        a->start = host_clock();
        DWORD status = routine(resid);
        a->end = host_clock();
        mp_uint(&a->value, status);
    } else if (!strcmp(entry, "Arbitrate")) {
        a->start = host_clock();
        DWORD status = f->Arbitrate(resid, rc_LostQuorumResource);
        a->end = host_clock();
        mp_uint(&a->value, status);
    } else if (!strcmp(entry, "ResourceControl") || !strcmp(entry, "ResourceTypeControl")) {
        if (args->count != 4) fail("a control call needs four arguments");
        control(a, args, !strcmp(entry, "ResourceTypeControl"));
    } else {
        fail("a call of an unknown entry point");
    }
}

static DWORD WINAPI call_thread(LPVOID parameter) {
    request *r = parameter;
    mp_reader message = {r->body, r->length, 0};
    arguments args;
    int64_t id = 0;
    char *entry = copy_str(&message, "entry"), *resource = copy_str(&message, "resource");
    if (!mp_find_int(&message, "id", &id) || !entry || !read_args(&message, &args) ||
        args.count == 0 || !function_table)
        fail("a bad call");
    answer a;
    answer_init(&a, id);
    call_context context = {entry, resource};
    context_enter(&context);
    entry_point(&a, entry, &args);
    context_leave();
    send_answer(&a);
    free(entry);
    free(resource);
    free(r->body);
    free(r);
    return 0;
}

/* The frame's body is the request's from here on: the call frees it. */
static void run(LPTHREAD_START_ROUTINE routine, uint8_t *body, uint32_t length) {
    request *r = malloc(sizeof *r);
    if (!r) fail("out of memory");
    r->body = body;
    r->length = length;
    routine(r);
}

void run_startup(uint8_t *body, uint32_t length) { run(startup_thread, body, length); }
void run_call(uint8_t *body, uint32_t length) { run(call_thread, body, length); }
