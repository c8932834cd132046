/* The channel to the monitor, through the native host that loaded this DLL (RescheckAttach,
 * as for clusapi.dll): each call is a ResUtil note, made on the calling thread. */
#include "internal.h"

static rescheck_link channel;

__declspec(dllexport) BOOL WINAPI RescheckAttach(const rescheck_link *link) {
    if (!link || link->version != RESCHECK_LINK_VERSION) return FALSE;
    channel = *link;
    return TRUE;
}

void note_call(const char *function, DWORD result, const char *why) {
    mp_writer w;
    if (!channel.callback) return;
    DWORD error = GetLastError(); /* a note leaves the caller's last error as it was */
    mp_writer_init(&w);
    mp_cstr(&w, "function"); mp_cstr(&w, function);
    mp_cstr(&w, "result"); mp_uint(&w, result);
    mp_cstr(&w, "why");
    if (why) mp_cstr(&w, why); else mp_nil(&w);
    if (!w.failed) channel.callback("ResUtil", w.data, w.size, 3, NULL, NULL);
    mp_writer_free(&w);
    SetLastError(error);
}
