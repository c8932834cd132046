/* MessagePack writer and bounded reader (see mpack.h). */
#include "mpack.h"

#include <stdlib.h>
#include <string.h>

void mp_writer_init(mp_writer *w) {
    w->data = NULL;
    w->size = w->capacity = 0;
    w->failed = 0;
}

void mp_writer_free(mp_writer *w) {
    free(w->data);
    mp_writer_init(w);
}

static void put(mp_writer *w, const void *bytes, size_t length) {
    if (w->failed) return;
    if (w->size + length > MP_MAX_FRAME) {
        w->failed = 1;
        return;
    }
    if (w->size + length > w->capacity) {
        size_t capacity = w->capacity ? w->capacity : 256;
        while (capacity < w->size + length) capacity *= 2;
        uint8_t *grown = realloc(w->data, capacity);
        if (!grown) {
            w->failed = 1;
            return;
        }
        w->data = grown;
        w->capacity = capacity;
    }
    memcpy(w->data + w->size, bytes, length);
    w->size += length;
}

static void put_be(mp_writer *w, uint8_t head, uint64_t value, int bytes) {
    uint8_t out[9];
    out[0] = head;
    for (int i = 0; i < bytes; i++) out[1 + i] = (uint8_t)(value >> (8 * (bytes - 1 - i)));
    put(w, out, 1 + (size_t)bytes);
}

void mp_nil(mp_writer *w) { put_be(w, 0xc0, 0, 0); }
void mp_bool(mp_writer *w, int value) { put_be(w, value ? 0xc3 : 0xc2, 0, 0); }

void mp_uint(mp_writer *w, uint64_t value) {
    if (value < 0x80) put_be(w, (uint8_t)value, 0, 0);
    else if (value <= 0xff) put_be(w, 0xcc, value, 1);
    else if (value <= 0xffff) put_be(w, 0xcd, value, 2);
    else if (value <= 0xffffffffu) put_be(w, 0xce, value, 4);
    else put_be(w, 0xcf, value, 8);
}

void mp_int(mp_writer *w, int64_t value) {
    if (value >= 0) mp_uint(w, (uint64_t)value);
    else if (value >= -32) put_be(w, (uint8_t)(int8_t)value, 0, 0);
    else if (value >= INT8_MIN) put_be(w, 0xd0, (uint8_t)value, 1);
    else if (value >= INT16_MIN) put_be(w, 0xd1, (uint16_t)value, 2);
    else if (value >= INT32_MIN) put_be(w, 0xd2, (uint32_t)value, 4);
    else put_be(w, 0xd3, (uint64_t)value, 8);
}

void mp_double(mp_writer *w, double value) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    put_be(w, 0xcb, bits, 8);
}

static void head(mp_writer *w, size_t length, uint8_t fix, uint8_t fix_max, uint8_t h8,
                 uint8_t h16, uint8_t h32) {
    if (fix && length <= fix_max) put_be(w, (uint8_t)(fix | length), 0, 0);
    else if (h8 && length <= 0xff) put_be(w, h8, length, 1);
    else if (length <= 0xffff) put_be(w, h16, length, 2);
    else put_be(w, h32, length, 4);
}

void mp_str(mp_writer *w, const char *text, size_t length) {
    head(w, length, 0xa0, 31, 0xd9, 0xda, 0xdb);
    put(w, text, length);
}

void mp_raw(mp_writer *w, const void *encoded, size_t length) { put(w, encoded, length); }

void mp_cstr(mp_writer *w, const char *text) { mp_str(w, text, strlen(text)); }

void mp_bin(mp_writer *w, const void *data, size_t length) {
    head(w, length, 0, 0, 0xc4, 0xc5, 0xc6);
    put(w, data, length);
}

void mp_array(mp_writer *w, uint32_t count) { head(w, count, 0x90, 15, 0, 0xdc, 0xdd); }
void mp_map(mp_writer *w, uint32_t count) { head(w, count, 0x80, 15, 0, 0xde, 0xdf); }

void mp_ext(mp_writer *w, int8_t code, const void *body, size_t length) {
    uint8_t type = (uint8_t)code;
    if (length <= 0xff) put_be(w, 0xc7, length, 1);
    else if (length <= 0xffff) put_be(w, 0xc8, length, 2);
    else put_be(w, 0xc9, length, 4);
    put(w, &type, 1);
    put(w, body, length);
}

/* --- reading ------------------------------------------------------------------------------ */
static int take(mp_reader *r, size_t n, const uint8_t **at) {
    if (n > r->size - r->pos) return 0;
    *at = r->data + r->pos;
    r->pos += n;
    return 1;
}

static int be(mp_reader *r, int bytes, uint64_t *out) {
    const uint8_t *at;
    if (!take(r, (size_t)bytes, &at)) return 0;
    uint64_t value = 0;
    for (int i = 0; i < bytes; i++) value = (value << 8) | at[i];
    *out = value;
    return 1;
}

static int sized(mp_reader *r, mp_value *v, enum mp_type type, int bytes, int body) {
    uint64_t length;
    if (!be(r, bytes, &length)) return 0;
    v->type = type;
    v->length = (uint32_t)length;
    if (body) return take(r, (size_t)length, &v->bytes);
    return 1;
}

int mp_next(mp_reader *r, mp_value *v) {
    const uint8_t *at;
    uint64_t raw;
    memset(v, 0, sizeof *v);
    v->type = MP_BAD;
    if (!take(r, 1, &at)) return 0;
    uint8_t b = *at;
    if (b < 0x80 || b >= 0xe0) { /* positive and negative fixint */
        v->type = MP_INT;
        v->i = b < 0x80 ? (int64_t)b : (int64_t)(int8_t)b;
        return 1;
    }
    if ((b & 0xe0) == 0xa0) {
        v->type = MP_STR;
        v->length = b & 0x1f;
        return take(r, v->length, &v->bytes);
    }
    if ((b & 0xf0) == 0x90) { v->type = MP_ARRAY; v->length = b & 0x0f; return 1; }
    if ((b & 0xf0) == 0x80) { v->type = MP_MAP; v->length = b & 0x0f; return 1; }
    switch (b) {
    case 0xc0: v->type = MP_NIL; return 1;
    case 0xc2: case 0xc3: v->type = MP_BOOL; v->i = b == 0xc3; return 1;
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        if (!be(r, 1 << (b - 0xcc), &raw)) return 0;
        v->type = MP_UINT; v->u = raw; v->i = (int64_t)raw;
        if (raw <= INT64_MAX) v->type = MP_INT;
        return 1;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        int bytes = 1 << (b - 0xd0);
        if (!be(r, bytes, &raw)) return 0;
        int shift = 64 - 8 * bytes;
        v->type = MP_INT;
        v->i = shift ? ((int64_t)(raw << shift)) >> shift : (int64_t)raw;
        return 1;
    }
    case 0xca: {
        float f;
        uint32_t bits;
        if (!be(r, 4, &raw)) return 0;
        bits = (uint32_t)raw;
        memcpy(&f, &bits, 4);
        v->type = MP_DOUBLE; v->d = f;
        return 1;
    }
    case 0xcb:
        if (!be(r, 8, &raw)) return 0;
        memcpy(&v->d, &raw, 8);
        v->type = MP_DOUBLE;
        return 1;
    case 0xd9: return sized(r, v, MP_STR, 1, 1);
    case 0xda: return sized(r, v, MP_STR, 2, 1);
    case 0xdb: return sized(r, v, MP_STR, 4, 1);
    case 0xc4: return sized(r, v, MP_BIN, 1, 1);
    case 0xc5: return sized(r, v, MP_BIN, 2, 1);
    case 0xc6: return sized(r, v, MP_BIN, 4, 1);
    case 0xdc: return sized(r, v, MP_ARRAY, 2, 0);
    case 0xdd: return sized(r, v, MP_ARRAY, 4, 0);
    case 0xde: return sized(r, v, MP_MAP, 2, 0);
    case 0xdf: return sized(r, v, MP_MAP, 4, 0);
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: {
        const uint8_t *type;
        if (!take(r, 1, &type)) return 0;
        v->type = MP_EXT; v->ext = (int8_t)*type; v->length = 1u << (b - 0xd4);
        return take(r, v->length, &v->bytes);
    }
    case 0xc7: case 0xc8: case 0xc9: {
        const uint8_t *type;
        if (!be(r, 1 << (b - 0xc7), &raw) || !take(r, 1, &type)) return 0;
        v->type = MP_EXT; v->ext = (int8_t)*type; v->length = (uint32_t)raw;
        return take(r, v->length, &v->bytes);
    }
    default: return 0;
    }
}

static int skip_depth(mp_reader *r, int depth) {
    mp_value v;
    if (depth > 64 || !mp_next(r, &v)) return 0;
    uint64_t items = v.type == MP_ARRAY ? v.length : v.type == MP_MAP ? 2ull * v.length : 0;
    for (uint64_t i = 0; i < items; i++)
        if (!skip_depth(r, depth + 1)) return 0;
    return 1;
}

int mp_skip(mp_reader *r) { return skip_depth(r, 0); }

int mp_find(const mp_reader *r, const char *key, mp_reader *out) {
    mp_reader at = *r;
    mp_value map, name;
    size_t wanted = strlen(key);
    if (!mp_next(&at, &map) || map.type != MP_MAP) return 0;
    for (uint32_t i = 0; i < map.length; i++) {
        if (!mp_next(&at, &name)) return 0;
        if (name.type == MP_STR && name.length == wanted && !memcmp(name.bytes, key, wanted)) {
            *out = at;
            return 1;
        }
        if (name.type != MP_STR || !mp_skip(&at)) return 0;
    }
    return 0;
}

int mp_find_int(const mp_reader *r, const char *key, int64_t *out) {
    mp_reader at;
    mp_value v;
    if (!mp_find(r, key, &at) || !mp_next(&at, &v)) return 0;
    if (v.type == MP_EXT) { /* an ENUM [name, value] or RESOURCE_HANDLE [value]: the number */
        mp_reader body = {v.bytes, v.length, 0};
        mp_value head, item;
        if (!mp_next(&body, &head) || head.type != MP_ARRAY || head.length < 1) return 0;
        if (head.length == 2 && !mp_skip(&body)) return 0;
        if (!mp_next(&body, &item) || item.type != MP_INT) return 0;
        *out = item.i;
        return 1;
    }
    if (v.type != MP_INT && v.type != MP_BOOL) return 0;
    *out = v.i;
    return 1;
}

int mp_find_str(const mp_reader *r, const char *key, const uint8_t **text, uint32_t *length) {
    mp_reader at;
    mp_value v;
    if (!mp_find(r, key, &at) || !mp_next(&at, &v) || v.type != MP_STR) return 0;
    *text = v.bytes;
    *length = v.length;
    return 1;
}
