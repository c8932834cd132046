/* The channel: the host's standard input and output, taken over before the DLL loads (the
 * DLL's own output goes to standard error, kept by rescheck as evidence). Frames are a
 * little-endian u32 length and one MessagePack map; writes are whole under one lock. */
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>

#include "host.h"

static HANDLE channel_in, channel_out;
static CRITICAL_SECTION send_lock;
static LARGE_INTEGER frequency;

void fail(const char *why) {
    fprintf(stderr, "rescheck native host: %s\n", why);
    fflush(stderr);
    ExitProcess(70);
}

double host_clock(void) {
    LARGE_INTEGER now;
    QueryPerformanceCounter(&now);
    return (double)now.QuadPart / (double)frequency.QuadPart;
}

void channel_open(void) {
    HANDLE self = GetCurrentProcess();
    QueryPerformanceFrequency(&frequency);
    InitializeCriticalSection(&send_lock);
    if (!DuplicateHandle(self, GetStdHandle(STD_INPUT_HANDLE), self, &channel_in, 0, FALSE,
                         DUPLICATE_SAME_ACCESS) ||
        !DuplicateHandle(self, GetStdHandle(STD_OUTPUT_HANDLE), self, &channel_out, 0, FALSE,
                         DUPLICATE_SAME_ACCESS))
        fail("cannot take over standard input and output for the channel");
    /* what the DLL prints goes to standard error; it reads nothing from standard input */
    HANDLE nul = CreateFileA("NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                             OPEN_EXISTING, 0, NULL);
    SetStdHandle(STD_OUTPUT_HANDLE, GetStdHandle(STD_ERROR_HANDLE));
    SetStdHandle(STD_INPUT_HANDLE, nul);
    fflush(stdout);
    _dup2(_fileno(stderr), _fileno(stdout));
    int nul_fd = _open("NUL", _O_RDONLY);
    if (nul_fd >= 0) {
        _dup2(nul_fd, _fileno(stdin));
        _close(nul_fd);
    }
}

static int read_exact(void *buffer, DWORD length) {
    uint8_t *at = buffer;
    while (length) {
        DWORD got = 0;
        if (!ReadFile(channel_in, at, length, &got, NULL) || got == 0) return 0;
        at += got;
        length -= got;
    }
    return 1;
}

int channel_read(uint8_t **body, uint32_t *length) {
    uint8_t header[4];
    if (!read_exact(header, 4)) return 0;
    *length = header[0] | header[1] << 8 | header[2] << 16 | (uint32_t)header[3] << 24;
    if (*length == 0 || *length > MP_MAX_FRAME) fail("the monitor sent a frame of a bad size");
    *body = malloc(*length);
    if (!*body) fail("out of memory reading a frame");
    if (!read_exact(*body, *length)) {
        free(*body);
        return 0;
    }
    return 1;
}

void channel_send(mp_writer *w) {
    if (w->failed) fail("a message grew past the frame limit");
    uint8_t header[4] = {(uint8_t)w->size, (uint8_t)(w->size >> 8), (uint8_t)(w->size >> 16),
                         (uint8_t)(w->size >> 24)};
    EnterCriticalSection(&send_lock);
    DWORD wrote;
    const uint8_t *parts[2] = {header, w->data};
    DWORD sizes[2] = {4, (DWORD)w->size};
    for (int i = 0; i < 2; i++) {
        const uint8_t *at = parts[i];
        DWORD left = sizes[i];
        while (left) {
            if (!WriteFile(channel_out, at, left, &wrote, NULL) || wrote == 0) {
                LeaveCriticalSection(&send_lock);
                ExitProcess(0); /* the monitor is gone: so is this host */
            }
            at += wrote;
            left -= wrote;
        }
    }
    LeaveCriticalSection(&send_lock);
    mp_writer_free(w);
}
