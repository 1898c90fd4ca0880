/*
 * alloc.c — allocation wrappers that report failure through tg_last_error,
 * and the growable byte buffer used by writers.
 */
#include "base.h"

#include <stdlib.h>
#include <string.h>

void *tg__malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p)
        tg__fail(TG_ERR_NOMEM, "out of memory allocating %zu bytes", n);
    return p;
}

void *tg__calloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        tg__fail(TG_ERR_NOMEM, "out of memory allocating %zu × %zu bytes", count, size);
    return p;
}

void *tg__realloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q)
        tg__fail(TG_ERR_NOMEM, "out of memory growing a buffer to %zu bytes", n);
    return q;
}

char *tg__strndup(const char *s, size_t n) {
    char *p = tg__malloc(n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void tg__buf_free(tg__buf *b) {
    free(b->data);
    *b = (tg__buf){0};
}

bool tg__buf_reserve(tg__buf *b, size_t extra) {
    if (b->failed)
        return false;
    size_t need;
    if (!tg__add_size(b->len, extra, &need)) {
        b->failed = true;
        tg__fail(TG_ERR_RANGE, "buffer size overflow");
        return false;
    }
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    uint8_t *d = tg__realloc(b->data, cap);
    if (!d) {
        b->failed = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

bool tg__buf_append(tg__buf *b, const void *data, size_t n) {
    if (!tg__buf_reserve(b, n))
        return false;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    return true;
}

bool tg__buf_append_u8(tg__buf *b, uint8_t v) { return tg__buf_append(b, &v, 1); }

bool tg__buf_append_u32(tg__buf *b, uint32_t v) {
    uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return tg__buf_append(b, t, 4);
}

bool tg__buf_append_u64(tg__buf *b, uint64_t v) {
    return tg__buf_append_u32(b, (uint32_t)v) && tg__buf_append_u32(b, (uint32_t)(v >> 32));
}

bool tg__buf_append_zeros(tg__buf *b, size_t n) {
    if (!tg__buf_reserve(b, n))
        return false;
    memset(b->data + b->len, 0, n);
    b->len += n;
    return true;
}
