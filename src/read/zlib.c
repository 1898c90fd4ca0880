/*
 * zlib.c — compression of stored raw pages (HTML compresses 4-8x, and the
 * raw page is kept so extraction can be re-run when the heuristics improve).
 *
 * Inflating checks the stored length exactly: a corrupt blob is an error,
 * never a short or overlong buffer.
 */
#include "read/read.h"

#include <stdlib.h>
#include <zlib.h>

uint8_t *tg__deflate(const void *data, size_t len, size_t *out_len) {
    if (len > (size_t)UINT32_MAX) {
        tg__fail(TG_ERR_RANGE, "page of %zu bytes is too large to store", len);
        return NULL;
    }
    uLongf cap = compressBound((uLong)len);
    uint8_t *out = tg__malloc(cap ? cap : 1);
    if (!out)
        return NULL;
    if (compress2(out, &cap, data, (uLong)len, 6) != Z_OK) {
        free(out);
        tg__fail(TG_ERR_IO, "zlib compression failed");
        return NULL;
    }
    *out_len = cap;
    return out;
}

uint8_t *tg__inflate(const void *data, size_t len, size_t raw_len) {
    if (raw_len > (size_t)UINT32_MAX || len > (size_t)UINT32_MAX) {
        tg__fail(TG_ERR_RANGE, "stored page is too large");
        return NULL;
    }
    uint8_t *out = tg__malloc(raw_len + 1);
    if (!out)
        return NULL;
    uLongf got = (uLongf)raw_len;
    int rc = uncompress(out, &got, data, (uLong)len);
    if (rc != Z_OK || got != raw_len) {
        free(out);
        tg__fail(TG_ERR_FORMAT, "stored page is corrupt (zlib %d, %lu of %zu bytes)", rc, (unsigned long)got, raw_len);
        return NULL;
    }
    out[raw_len] = 0;
    return out;
}
