/*
 * base.h — internal helpers shared by every layer of libtinglado: error
 * reporting, overflow-checked size arithmetic, small growable buffers.
 *
 * Internal names carry the tg__ prefix; none of this is public API.
 */
#ifndef TG_BASE_H
#define TG_BASE_H

#include "tinglado.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TG_MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define TG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define TG_LIKELY(x) __builtin_expect(!!(x), 1)
#define TG_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define TG_PRINTF(fmt, args)
#define TG_LIKELY(x) (x)
#define TG_UNLIKELY(x) (x)
#endif

/* Records a formatted message for tg_last_error() and returns s, so callers
 * can write `return tg__fail(TG_ERR_FORMAT, "%s: bad magic", path);`. */
tg_status tg__fail(tg_status s, const char *fmt, ...) TG_PRINTF(2, 3);
tg_status tg__vfail(tg_status s, const char *fmt, va_list ap);
/* Prefixes the current message ("ctx: old message"), keeping the status. */
tg_status tg__fail_prefix(tg_status s, const char *fmt, ...) TG_PRINTF(2, 3);
void tg__clear_error(void);

/* Overflow-checked arithmetic: return false (and leave *out unspecified) when
 * the exact result does not fit. */
static inline bool tg__add_size(size_t a, size_t b, size_t *out) {
    return !__builtin_add_overflow(a, b, out);
}
static inline bool tg__mul_size(size_t a, size_t b, size_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool tg__mul_i64(int64_t a, int64_t b, int64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}

/* malloc/calloc/realloc that set a TG_ERR_NOMEM message on failure. */
void *tg__malloc(size_t n);
void *tg__calloc(size_t count, size_t size);
void *tg__realloc(void *p, size_t n);
char *tg__strndup(const char *s, size_t n);

/* A growable byte buffer (used by writers and serializers). */
typedef struct tg__buf {
    uint8_t *data;
    size_t len, cap;
    bool failed; /* sticky: an allocation failed, contents are incomplete */
} tg__buf;

void tg__buf_free(tg__buf *b);
bool tg__buf_reserve(tg__buf *b, size_t extra);
bool tg__buf_append(tg__buf *b, const void *data, size_t n);
bool tg__buf_append_u8(tg__buf *b, uint8_t v);
bool tg__buf_append_u32(tg__buf *b, uint32_t v); /* little-endian */
bool tg__buf_append_u64(tg__buf *b, uint64_t v); /* little-endian */
bool tg__buf_append_zeros(tg__buf *b, size_t n);

/* Little-endian loads from possibly unaligned memory. */
static inline uint16_t tg__load_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t tg__load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t tg__load_u64(const uint8_t *p) {
    return (uint64_t)tg__load_u32(p) | ((uint64_t)tg__load_u32(p + 4) << 32);
}

/* FNV-1a hash of a byte string (for the small hash indexes). */
static inline uint64_t tg__hash(const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static inline bool tg__str_eq(tg_str a, const char *b, size_t blen) {
    return a.len == blen && (blen == 0 || __builtin_memcmp(a.ptr, b, blen) == 0);
}

#endif /* TG_BASE_H */
