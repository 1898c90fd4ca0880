/*
 * scores.c — what the memorisation probe computes from one text's
 * teacher-forced log-probabilities: perplexity, Min-K% Prob, the zlib
 * length and the lowercased text behind Carlini et al.'s (2021) ratios, and
 * extraction (Carlini et al. 2022) from greedy matches.
 *
 * Pure functions of their arguments (no model here), so tests can check
 * them against an independent computation on the same numbers.  They must
 * never guess: an undefined score is NAN, not 0.
 */
#include "base/base.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include <zlib.h>

double tg_probe_log_ppl(const float *lp, size_t n) {
    if (!lp || n == 0)
        return NAN;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)lp[i];
    return -s / (double)n;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

double tg_probe_min_k(const float *lp, size_t n, double k_percent) {
    if (!lp || n == 0 || !(k_percent > 0.0) || k_percent > 100.0)
        return NAN;
    /* Shi et al.'s reference code takes int(n·k) tokens; at least one, so a
     * short text still gets a score. */
    size_t k = (size_t)floor((double)n * k_percent / 100.0);
    if (k < 1)
        k = 1;
    float *s = malloc(n * sizeof *s);
    if (!s)
        return NAN;
    memcpy(s, lp, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_float);
    double sum = 0.0;
    for (size_t i = 0; i < k; i++)
        sum += (double)s[i];
    free(s);
    return sum / (double)k;
}

size_t tg_probe_zlib_len(const char *text, size_t len) {
    uLongf cap = compressBound((uLong)len);
    Bytef *buf = malloc(cap);
    if (!buf)
        return 0;
    /* level 6 = Z_DEFAULT_COMPRESSION, which is what Python's zlib.compress
     * (and so Carlini et al.'s code) uses */
    int rc = compress2(buf, &cap, (const Bytef *)text, (uLong)len, 6);
    free(buf);
    return rc == Z_OK ? (size_t)cap : 0;
}

tg_status tg_probe_lowercase(const char *text, size_t len, char **out, size_t *out_len) {
    if (!text || !out)
        return tg__fail(TG_ERR_ARG, "lowercase: no text");
    /* simple case mapping never needs more than 4 bytes per code point and
     * a code point takes at least one byte */
    size_t cap;
    if (!tg__mul_size(len, 4, &cap) || !tg__add_size(cap, 1, &cap))
        return tg__fail(TG_ERR_RANGE, "lowercase: text too long");
    char *o = tg__malloc(cap);
    if (!o)
        return TG_ERR_NOMEM;
    size_t w = 0;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(len - i), &c);
        if (k <= 0) { /* an invalid byte stays as it is */
            o[w++] = text[i++];
            continue;
        }
        w += (size_t)utf8proc_encode_char(utf8proc_tolower(c), (utf8proc_uint8_t *)o + w);
        i += (size_t)k;
    }
    o[w] = '\0';
    *out = o;
    if (out_len)
        *out_len = w;
    return TG_OK;
}

bool tg_probe_extractable(const bool *match, size_t n, size_t k, size_t m) {
    if (!match || m == 0 || k > n || n - k < m)
        return false;
    for (size_t j = k; j < k + m; j++)
        if (!match[j])
            return false;
    return true;
}

size_t tg_probe_longest_match(const bool *match, size_t n, size_t *start) {
    size_t best = 0, best_at = 0, run = 0;
    for (size_t j = 0; match && j < n; j++) {
        run = match[j] ? run + 1 : 0;
        if (run > best) {
            best = run;
            best_at = j + 1 - run;
        }
    }
    if (start)
        *start = best_at;
    return best;
}
