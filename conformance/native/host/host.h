/* rescheck's native host: loads a compiled resource DLL and serves the host protocol
 * (docs/host-protocol.md) on its standard input and output. One concern per file:
 * channel.c (frames), callbacks.c (what the DLL calls back), calls.c (entry points),
 * audit.c (threads, handles, children), main.c (start and the read loop). */
#ifndef RESCHECK_HOST_H
#define RESCHECK_HOST_H
#include <stdint.h>

#include "mpack.h"

#define PROTOCOL_VERSION 1
/* Extension types of the protocol's values. */
enum { EXT_REF = 1, EXT_ENUM, EXT_RESOURCE_HANDLE, EXT_HKEY, EXT_LPHANDLE, EXT_QUORUM_LOST,
       EXT_OUT_BUFFER };
/* The most of a LogEvent message kept, and of an OutBuffer sent back past its size. */
#define MESSAGE_LIMIT 8192
#define FORMAT_KEPT 4096
#define OVERRUN_KEPT 4096

/* channel.c */
void channel_open(void);
int channel_read(uint8_t **body, uint32_t *length); /* 1: a frame (free it); 0: the end */
void channel_send(mp_writer *w);                     /* sends and frees the message */
double host_clock(void);                             /* seconds, for start/end times */
void fail(const char *why);                          /* one line on stderr, exit 70 */

/* callbacks.c */
typedef struct { const char *entry; const char *resource; } call_context;
void callbacks_init(void);
void context_enter(const call_context *context);
void context_leave(void);
void callback_head(mp_writer *w, int64_t id, const char *name, uint32_t args);
int64_t callback_call(mp_writer *w, int64_t id, const char *name); /* waits for the reply */
uint8_t *callback_ask(mp_writer *w, int64_t id, size_t *size); /* the reply's value, encoded */
int64_t next_id(void);
void reply_arrived(const mp_reader *message);
void note_last_error(unsigned long code);
DWORD WINAPI rc_SetResourceStatus(RESOURCE_HANDLE handle, PRESOURCE_STATUS status);
void WINAPI rc_LogEvent(RESOURCE_HANDLE handle, LOG_LEVEL level, LPCWSTR format, ...);
void WINAPI rc_LostQuorumResource(RESOURCE_HANDLE handle);
void put_handle(mp_writer *w, RESOURCE_HANDLE handle);
void put_utf8(mp_writer *w, LPCWSTR text, size_t limit);
WCHAR *utf16(const uint8_t *text, uint32_t length); /* malloc'd, NUL-terminated */

/* logformat.c: the message, at most capacity characters and a NUL (out holds capacity + 1);
 * returns the full length the message would have */
size_t format_log(WCHAR *out, size_t capacity, LPCWSTR format, va_list args);

/* calls.c */
extern PCLRES_FUNCTION_TABLE function_table;
extern HMODULE target;
/* Run on the calling thread, which owns the frame's body from then on. */
void run_startup(uint8_t *body, uint32_t length);
void run_call(uint8_t *body, uint32_t length);

/* clusapi_link.c: rescheck's clusapi.dll and resutils.dll, loaded from the host's directory */
void clusapi_link(void);
HKEY monitor_key(const mp_value *value); /* Open's ResourceKey, as the DLL gets it */
void clusapi_connect(const mp_reader *startup); /* the startup message's cluster root */

/* audit.c */
void run_audit(const mp_reader *message);
void host_thread(DWORD id); /* a thread of the host's, not the DLL's (by its creator) */
HANDLE host_thread_start(LPTHREAD_START_ROUTINE routine, LPVOID parameter);
#endif
