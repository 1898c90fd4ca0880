/*
 * grammar_vocab.c — the token index a grammar state needs from a
 * vocabulary: what each token prints, which tokens may ever be allowed,
 * the end-of-generation set, and two byte tries of token texts (all of
 * them, and those that are not "plain" JSON-string text) for the
 * depth-first mask walk.
 *
 * Allowed at all: normal, byte and user-defined tokens whose text is not
 * empty, not longer than TG__MAX_PIECE, and (user-defined ones) not a
 * bracketed marker such as <start_of_image>.  Control, unknown and unused
 * tokens never are; end-of-generation tokens are handled apart.
 *
 * Indexes are shared: a small process-wide registry keyed by the vocabulary
 * pointer and a fingerprint of its contents (so a new vocabulary that
 * happens to reuse a freed one's address is not mistaken for it).
 *
 * What this file must never do: trust a token text's length, or keep an
 * index alive that no state and no registry slot refers to.
 */
#include "gen/grammar.h"
#include "token/vocab.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

bool tg__plain_text(const char *s, size_t n, uint32_t *chars) {
    const uint8_t *p = (const uint8_t *)s;
    uint32_t k = 0;
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c < 0x20 || c == '"' || c == '\\')
                return false;
            i++;
        } else {
            size_t len;
            uint8_t lo = 0x80, hi = 0xBF;
            if (c >= 0xC2 && c <= 0xDF)
                len = 2;
            else if (c >= 0xE0 && c <= 0xEF)
                len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
            else if (c >= 0xF0 && c <= 0xF4)
                len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
            else
                return false;
            if (i + len > n || p[i + 1] < lo || p[i + 1] > hi)
                return false;
            for (size_t j = 2; j < len; j++)
                if ((p[i + j] & 0xC0) != 0x80)
                    return false;
            i += len;
        }
        k++;
    }
    *chars = k;
    return true;
}

static bool allowed_kind(const tg_vocab *v, tg_token t) {
    uint16_t a = v->attrs[t];
    if (a & (TG__ATTR_CONTROL | TG__ATTR_UNKNOWN | TG__ATTR_UNUSED))
        return false;
    if (!(a & (TG__ATTR_NORMAL | TG__ATTR_BYTE | TG__ATTR_USER_DEFINED)))
        return false;
    if (a & TG__ATTR_USER_DEFINED) {
        tg_str s = v->text[t];
        if (s.len >= 2 && ((s.ptr[0] == '<' && s.ptr[s.len - 1] == '>') ||
                           (s.ptr[0] == '[' && s.ptr[s.len - 1] == ']')))
            return false; /* a marker like <start_of_image>, not text */
    }
    return true;
}

/* A 64-bit hash of n bytes, four independent lanes (it runs for every new
 * state over megabytes, so it must not be one long multiply chain). */
static uint64_t hash_blob(const void *data, size_t n, uint64_t seed) {
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    const uint8_t *p = data;
    uint64_t a = seed ^ k, b = seed + n, c = ~seed, d = seed * k;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, 32);
        a = (a ^ w[0]) * k;
        b = (b ^ w[1]) * k;
        c = (c ^ w[2]) * k;
        d = (d ^ w[3]) * k;
        a ^= a >> 31;
        b ^= b >> 31;
        c ^= c >> 31;
        d ^= d >> 31;
    }
    uint64_t tail[4] = {0, 0, 0, 0};
    memcpy(tail, p + i, n - i);
    a = (a ^ tail[0]) * k;
    b = (b ^ tail[1]) * k;
    c = (c ^ tail[2]) * k;
    d = (d ^ tail[3]) * k;
    uint64_t h = a ^ (b * 31) ^ (c * 961) ^ (d * 29791) ^ n;
    h ^= h >> 33;
    h *= k;
    return h ^ (h >> 29);
}

/* A hash of everything that decides what tokens print: kind, flags,
 * attributes and texts. */
static uint64_t fingerprint(const tg_vocab *v) {
    int32_t n = v->n_tokens;
    uint64_t h = hash_blob(v->attrs, (size_t)n * sizeof *v->attrs,
                           (uint64_t)v->kind << 48 ^ (uint64_t)n ^ (uint64_t)v->escape_whitespaces << 40);
    /* the texts: the (pointer, length) table and the bytes it points at,
     * which vocab.c keeps in one block, in order */
    h = hash_blob(v->text, (size_t)n * sizeof *v->text, h);
    if (n > 0 && v->text[0].ptr == v->strings) {
        const char *end = v->text[n - 1].ptr + v->text[n - 1].len;
        return hash_blob(v->strings, (size_t)(end - v->strings), h);
    }
    for (int32_t t = 0; t < n; t++) /* another layout: token by token */
        h = hash_blob(v->text[t].ptr, v->text[t].len, h);
    return h;
}

static int cmp_piece(const void *a, const void *b, void *ctx) {
    const tg__tokidx *x = ctx;
    int32_t s = *(const int32_t *)a, t = *(const int32_t *)b;
    size_t ls = x->len[s], lt = x->len[t];
    int c = memcmp(x->blob + x->off[s], x->blob + x->off[t], ls < lt ? ls : lt);
    if (c)
        return c;
    if (ls != lt)
        return ls < lt ? -1 : 1;
    return s < t ? -1 : s > t;
}

/* Builds a trie from token ids sorted by text. */
static bool build_trie(const tg__tokidx *x, const int32_t *ids, uint32_t n, tg__trie *t) {
    memset(t, 0, sizeof *t);
    size_t cap = 1024, nn = 1;
    t->nodes = tg__malloc(cap * sizeof *t->nodes);
    t->toks = tg__malloc((n ? n : 1) * sizeof *t->toks);
    uint32_t path[TG__MAX_PIECE + 1];
    if (!t->nodes || !t->toks)
        return false;
    t->nodes[0] = (tg__trie_node){0, 0, 0, 0, 0};
    path[0] = 0;
    uint32_t depth = 0, k = 0;
    const char *prev = NULL;
    size_t prev_len = 0;
    for (uint32_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        const char *p = x->blob + x->off[id];
        size_t len = x->len[id];
        size_t lcp = 0;
        while (prev && lcp < len && lcp < prev_len && prev[lcp] == p[lcp])
            lcp++;
        for (; depth > lcp; depth--)
            t->nodes[path[depth]].skip = (uint32_t)nn;
        for (size_t d = lcp + 1; d <= len; d++) {
            if (nn == cap) {
                cap *= 2;
                tg__trie_node *nw = tg__realloc(t->nodes, cap * sizeof *nw);
                if (!nw)
                    return false;
                t->nodes = nw;
            }
            t->nodes[nn] = (tg__trie_node){0, 0, 0, (uint16_t)d, (uint8_t)p[d - 1]};
            path[d] = (uint32_t)nn++;
            depth = (uint32_t)d;
        }
        tg__trie_node *node = &t->nodes[path[len]];
        if (node->ntok == 0)
            node->tok = k;
        node->ntok++;
        t->toks[k++] = id;
        if (len > t->max_depth)
            t->max_depth = (uint32_t)len;
        prev = p;
        prev_len = len;
    }
    for (; depth > 0; depth--)
        t->nodes[path[depth]].skip = (uint32_t)nn;
    t->nodes[0].skip = (uint32_t)nn;
    t->n = (uint32_t)nn;
    return true;
}

static void free_index(tg__tokidx *x) {
    if (!x)
        return;
    free(x->blob);
    free(x->off);
    free(x->len);
    free(x->eog);
    free(x->plain);
    free(x->plain_chars);
    free(x->all.nodes);
    free(x->all.toks);
    free(x->rest.nodes);
    free(x->rest.toks);
    free(x);
}

static tg__tokidx *build_index(const tg_vocab *v, uint64_t fp) {
    tg__tokidx *x = tg__calloc(1, sizeof *x);
    if (!x)
        return NULL;
    int32_t n = v->n_tokens;
    x->vocab = v;
    x->fingerprint = fp;
    x->n_vocab = n;
    x->words = (uint32_t)(((size_t)n + 31) / 32);
    size_t blob_cap = 1 << 20, blob_n = 0;
    x->blob = tg__malloc(blob_cap);
    x->off = tg__calloc((size_t)n + 1, sizeof *x->off);
    x->len = tg__calloc((size_t)n + 1, sizeof *x->len);
    x->eog = tg__calloc(x->words + 1, sizeof *x->eog);
    x->plain = tg__calloc(x->words + 1, sizeof *x->plain);
    x->plain_chars = tg__calloc((size_t)n + 1, 1);
    int32_t *ids = tg__malloc(((size_t)n + 1) * sizeof *ids);
    int32_t *rest = tg__malloc(((size_t)n + 1) * sizeof *rest);
    char piece[TG__MAX_PIECE + 1];
    bool ok = x->blob && x->off && x->len && x->eog && x->plain && x->plain_chars && ids && rest;
    uint32_t n_ids = 0, n_rest = 0;
    for (int32_t t = 0; ok && t < n; t++) {
        if (tg_vocab_is_eog(v, t)) {
            x->eog[t >> 5] |= 1u << (t & 31);
            continue;
        }
        if (!allowed_kind(v, t))
            continue;
        size_t len = tg_token_to_piece(v, t, false, piece, sizeof piece);
        if (len == 0 || len > TG__MAX_PIECE)
            continue;
        if (blob_n + len > blob_cap) {
            blob_cap = blob_cap * 2 + len;
            char *nb = tg__realloc(x->blob, blob_cap);
            if (!nb) {
                ok = false;
                break;
            }
            x->blob = nb;
        }
        memcpy(x->blob + blob_n, piece, len);
        x->off[t] = (uint32_t)blob_n;
        x->len[t] = (uint16_t)len;
        blob_n += len;
        ids[n_ids++] = t;
        uint32_t chars;
        if (tg__plain_text(piece, len, &chars)) {
            x->plain[t >> 5] |= 1u << (t & 31);
            x->plain_chars[t] = (uint8_t)(chars > 255 ? 255 : chars);
            if (chars > x->max_plain_chars)
                x->max_plain_chars = chars;
        }
    }
    if (ok) {
        qsort_r(ids, n_ids, sizeof *ids, cmp_piece, x);
        for (uint32_t i = 0; i < n_ids; i++)
            if (!(x->plain[ids[i] >> 5] >> (ids[i] & 31) & 1u))
                rest[n_rest++] = ids[i];
        ok = build_trie(x, ids, n_ids, &x->all) && build_trie(x, rest, n_rest, &x->rest);
    }
    free(ids);
    free(rest);
    if (!ok) {
        free_index(x);
        return NULL;
    }
    return x;
}

/* ------------------------------------------------------------------ */
/* Registry                                                            */
/* ------------------------------------------------------------------ */

#define REG_SLOTS 4
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static tg__tokidx *reg[REG_SLOTS]; /* kept even when unused, for the next request */

tg__tokidx *tg__tokidx_get(const tg_vocab *v) {
    uint64_t fp = fingerprint(v);
    pthread_mutex_lock(&reg_lock);
    for (int i = 0; i < REG_SLOTS; i++)
        if (reg[i] && reg[i]->vocab == v && reg[i]->fingerprint == fp &&
            reg[i]->n_vocab == v->n_tokens) {
            reg[i]->refs++;
            pthread_mutex_unlock(&reg_lock);
            return reg[i];
        }
    tg__tokidx *x = build_index(v, fp);
    if (x) {
        x->refs = 1;
        int slot = -1;
        for (int i = 0; i < REG_SLOTS && slot < 0; i++)
            if (!reg[i])
                slot = i;
        for (int i = 0; i < REG_SLOTS && slot < 0; i++)
            if (reg[i]->refs == 0) {
                free_index(reg[i]);
                reg[i] = NULL;
                slot = i;
            }
        if (slot >= 0)
            reg[slot] = x;
    }
    pthread_mutex_unlock(&reg_lock);
    return x;
}

void tg__tokidx_release(tg__tokidx *x) {
    if (!x)
        return;
    pthread_mutex_lock(&reg_lock);
    x->refs--;
    bool registered = false;
    for (int i = 0; i < REG_SLOTS; i++)
        registered |= reg[i] == x;
    if (!registered && x->refs == 0)
        free_index(x);
    pthread_mutex_unlock(&reg_lock);
}
