/*
 * stop.c — stop strings over a streamed text (tg_stop_*).
 *
 * Generated text arrives a token piece at a time.  A stop string may span
 * several pieces, so text that could be the start of one is held back until
 * it either completes the stop string (then it is never shown) or cannot
 * (then it is released).  The cut is where a byte-by-byte stream would have
 * stopped, whatever the chunking.
 *
 * What this file must never do: emit any part of a stop string, or hold back
 * more than the longest stop string minus one byte.
 */
#include "base/base.h"

#include <stdlib.h>
#include <string.h>

struct tg_stop {
    char **str;   /* the non-empty stop strings */
    size_t *len;
    int32_t *orig; /* their indexes in the caller's list */
    size_t n, max_len;
    char *buf; /* held-back text, then the new chunk */
    size_t start, end, cap; /* buf[start, end) is pending; before start was emitted */
    bool stopped;
    int32_t which;
};

tg_stop *tg_stop_new(const char *const *stops, size_t n) {
    if (n && !stops) {
        tg__fail(TG_ERR_ARG, "stop strings: NULL list");
        return NULL;
    }
    tg_stop *s = tg__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->which = -1;
    s->str = tg__calloc(n, sizeof *s->str);
    s->len = tg__calloc(n, sizeof *s->len);
    s->orig = tg__calloc(n, sizeof *s->orig);
    if (!s->str || !s->len || !s->orig)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (!stops[i] || !stops[i][0])
            continue;
        size_t l = strlen(stops[i]);
        if (!(s->str[s->n] = tg__strndup(stops[i], l)))
            goto fail;
        s->len[s->n] = l;
        s->orig[s->n] = (int32_t)i;
        s->n++;
        s->max_len = TG_MAX(s->max_len, l);
    }
    s->cap = s->max_len + 256;
    if (!(s->buf = tg__malloc(s->cap)))
        goto fail;
    return s;
fail:
    tg_stop_free(s);
    return NULL;
}

void tg_stop_free(tg_stop *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->str[i]);
    free(s->str);
    free(s->len);
    free(s->orig);
    free(s->buf);
    free(s);
}

void tg_stop_reset(tg_stop *s) {
    if (!s)
        return;
    s->start = s->end = 0;
    s->stopped = false;
    s->which = -1;
}

int32_t tg_stop_matched(const tg_stop *s) {
    return s ? s->which : -1;
}

/* Length of the longest suffix of t[0, n) that is a proper prefix of some
 * stop string: the bytes that must wait for more text. */
static size_t held_back(const tg_stop *s, const char *t, size_t n) {
    size_t h = TG_MIN(n, s->max_len ? s->max_len - 1 : 0);
    for (; h > 0; h--)
        for (size_t j = 0; j < s->n; j++)
            if (s->len[j] > h && memcmp(t + n - h, s->str[j], h) == 0)
                return h;
    return 0;
}

tg_status tg_stop_feed(tg_stop *s, const char *text, size_t len, tg_str *emit, bool *stopped) {
    if (!s || !emit || !stopped || (len && !text))
        return tg__fail(TG_ERR_ARG, "stop strings: NULL argument");
    *emit = (tg_str){"", 0};
    *stopped = s->stopped;
    if (s->stopped)
        return TG_OK;
    /* Move what was held back to the front; make room for the chunk. */
    size_t pending = s->end - s->start;
    memmove(s->buf, s->buf + s->start, pending);
    s->start = 0;
    s->end = pending;
    size_t need;
    if (!tg__add_size(pending, len, &need))
        return tg__fail(TG_ERR_RANGE, "stop strings: text too long");
    if (need > s->cap) {
        size_t cap = TG_MAX(need, s->cap * 2);
        char *b = tg__realloc(s->buf, cap);
        if (!b)
            return TG_ERR_NOMEM;
        s->buf = b;
        s->cap = cap;
    }
    if (len)
        memcpy(s->buf + s->end, text, len);
    s->end += len;

    /* The match that *ends* first wins (on a tie, the one that starts
     * first): that is where a byte-by-byte stream would have stopped, so the
     * cut does not depend on how the text was split into chunks.  A stop
     * string's first occurrence is also its earliest-ending one. */
    const char *t = s->buf;
    size_t n = s->end, best = SIZE_MAX, best_end = SIZE_MAX;
    for (size_t j = 0; j < s->n; j++) {
        const char *m = memmem(t, n, s->str[j], s->len[j]);
        if (!m)
            continue;
        size_t at = (size_t)(m - t), end = at + s->len[j];
        if (end < best_end || (end == best_end && at < best)) {
            best = at;
            best_end = end;
            s->which = s->orig[j];
        }
    }
    if (best != SIZE_MAX) {
        s->stopped = *stopped = true;
        *emit = (tg_str){t, best};
        s->start = s->end = 0;
        return TG_OK;
    }
    size_t h = held_back(s, t, n);
    *emit = (tg_str){t, n - h};
    s->start = n - h;
    return TG_OK;
}

tg_str tg_stop_flush(tg_stop *s) {
    if (!s || s->stopped)
        return (tg_str){"", 0};
    tg_str r = {s->buf + s->start, s->end - s->start};
    s->start = s->end = 0;
    return r;
}
