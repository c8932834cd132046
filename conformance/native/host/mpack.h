/* MessagePack, as much of it as the host protocol uses (docs/host-protocol.md): a writer
 * into a bounded growing buffer and a reader over one frame. Every read is bounds-checked:
 * a malformed frame makes the reader fail, never read past the frame. */
#ifndef RESCHECK_MPACK_H
#define RESCHECK_MPACK_H
#include <stddef.h>
#include <stdint.h>

#define MP_MAX_FRAME (2u << 20)

typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
    int failed; /* ran past MP_MAX_FRAME or out of memory */
} mp_writer;

void mp_writer_init(mp_writer *w);
void mp_writer_free(mp_writer *w);
void mp_nil(mp_writer *w);
void mp_bool(mp_writer *w, int value);
void mp_int(mp_writer *w, int64_t value);
void mp_uint(mp_writer *w, uint64_t value);
void mp_double(mp_writer *w, double value);
void mp_str(mp_writer *w, const char *text, size_t length);
void mp_cstr(mp_writer *w, const char *text);
void mp_bin(mp_writer *w, const void *data, size_t length);
void mp_array(mp_writer *w, uint32_t count);
void mp_map(mp_writer *w, uint32_t count);
void mp_ext(mp_writer *w, int8_t code, const void *body, size_t length);
/* Appends values encoded elsewhere. */
void mp_raw(mp_writer *w, const void *encoded, size_t length);

enum mp_type { MP_NIL, MP_BOOL, MP_INT, MP_UINT, MP_DOUBLE, MP_STR, MP_BIN, MP_ARRAY, MP_MAP, MP_EXT, MP_BAD };

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t pos;
} mp_reader;

typedef struct {
    enum mp_type type;
    int64_t i;       /* MP_BOOL, MP_INT; MP_UINT when it fits */
    uint64_t u;      /* MP_UINT */
    double d;        /* MP_DOUBLE */
    const uint8_t *bytes; /* MP_STR, MP_BIN, MP_EXT body */
    uint32_t length; /* bytes, or items of MP_ARRAY / entries of MP_MAP */
    int8_t ext;      /* MP_EXT code */
} mp_value;

/* Reads the next value's head (an array's or map's items follow it). 0 on a bad frame. */
int mp_next(mp_reader *r, mp_value *v);
/* Skips the next value whole, nested ones included. 0 on a bad frame. */
int mp_skip(mp_reader *r);
/* In the map that starts at r (r is left unchanged), finds key and positions *out at its
 * value. 0 when absent or malformed. */
int mp_find(const mp_reader *r, const char *key, mp_reader *out);
/* Helpers over mp_find: the field as an integer / a string (not NUL-terminated). */
int mp_find_int(const mp_reader *r, const char *key, int64_t *out);
int mp_find_str(const mp_reader *r, const char *key, const uint8_t **text, uint32_t *length);
#endif
