/*
 * grammar_mask.c — grammar states over a vocabulary (the tg_grammar_state
 * API): which tokens may come next, and advancing over a chosen one.
 *
 * The allowed set is found by walking the vocabulary's byte trie depth
 * first, stepping the state's stacks by each edge's byte and skipping a
 * whole subtree as soon as no stack survives.  Inside a free JSON string
 * almost every token fits, so that case is short-cut: a stack sitting
 * between characters of an unconstrained string accepts every "plain"
 * token (whole characters, no quote, backslash or control byte) outright,
 * up to its remaining length; only the few thousand other tokens are
 * walked.  Masks are also cached per state (the state's canonical stack
 * contents are the key), since JSON revisits the same states often.
 *
 * A state between tokens is kept canonical: its stacks serialized bottom to
 * top, sorted and deduplicated.  That text is both the cache key and what
 * the next step is rebuilt from.
 *
 * What this file must never do: allow a token that tg_grammar_accept would
 * refuse (both run the same stepping code), allow a control token, or
 * allocate per token once the state is warm (the arena, level buffers and
 * cache slots are kept).
 */
#include "gen/grammar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 64

typedef struct cache_slot {
    uint32_t *key;
    size_t key_len, key_cap;
    uint64_t hash, stamp;
    uint32_t *bits; /* NULL: empty slot */
} cache_slot;

struct tg_grammar_state {
    const tg_grammar *g;
    tg__tokidx *idx;
    tg__arena arena;
    uint32_t *key; /* the canonical state */
    size_t key_len, key_cap;
    uint64_t key_hash;
    bool complete, finished, ended;
    tg__frame *level; /* (max_depth + 1) × TG__MAX_HEADS heads for the walk */
    uint32_t *level_n;
    tg__arena_mark *level_mark;
    uint32_t levels;
    tg__frame *heads, *tmp, *roots_other; /* TG__MAX_HEADS each */
    uint32_t *scratch_words;              /* serialization scratch */
    size_t scratch_cap;
    cache_slot cache[CACHE_SLOTS];
    uint64_t clock;
};

/* ------------------------------------------------------------------ */
/* Canonical form                                                      */
/* ------------------------------------------------------------------ */

/* Words per frame in the serialization: elem, count, aux (2 words). */
#define FW 4

typedef struct stack_ref {
    const uint32_t *w; /* FW * len words */
    uint32_t len;
} stack_ref;

static int cmp_stack(const void *a, const void *b) {
    const stack_ref *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return memcmp(x->w, y->w, (size_t)x->len * FW * sizeof(uint32_t));
}

static bool reserve_words(uint32_t **p, size_t *cap, size_t need) {
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap : 256;
    while (nc < need)
        nc *= 2;
    uint32_t *n = tg__realloc(*p, nc * sizeof *n);
    if (!n)
        return false;
    *p = n;
    *cap = nc;
    return true;
}

/* Serializes heads into st->key: [n_stacks, then per stack: len, frames
 * bottom to top], stacks sorted and deduplicated. */
static bool serialize(tg_grammar_state *st, const tg__frame *h, uint32_t n) {
    size_t need = 0;
    for (uint32_t i = 0; i < n; i++)
        need += (size_t)(h[i].depth + 1) * FW;
    if (!reserve_words(&st->scratch_words, &st->scratch_cap, need + 1))
        return false;
    stack_ref refs[TG__MAX_HEADS];
    size_t w = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = h[i].depth + 1;
        uint32_t *out = st->scratch_words + w;
        const tg__frame *f = &h[i];
        for (uint32_t k = len; k-- > 0; f = f->parent) {
            out[k * FW + 0] = f->elem;
            out[k * FW + 1] = f->count;
            out[k * FW + 2] = (uint32_t)f->aux;
            out[k * FW + 3] = (uint32_t)(f->aux >> 32);
        }
        refs[i] = (stack_ref){out, len};
        w += (size_t)len * FW;
    }
    qsort(refs, n, sizeof *refs, cmp_stack);
    if (!reserve_words(&st->key, &st->key_cap, need + n + 1))
        return false;
    size_t k = 1;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0 && cmp_stack(&refs[i], &refs[i - 1]) == 0)
            continue;
        st->key[k++] = refs[i].len;
        memcpy(st->key + k, refs[i].w, (size_t)refs[i].len * FW * sizeof(uint32_t));
        k += (size_t)refs[i].len * FW;
        kept++;
    }
    st->key[0] = kept;
    st->key_len = k;
    st->key_hash = tg__hash(st->key, k * sizeof(uint32_t));
    return true;
}

/* Rebuilds the heads of st->key (frames below the tops in the arena). */
static uint32_t deserialize(tg_grammar_state *st, tg__frame *out) {
    tg__arena_reset(&st->arena);
    const uint32_t *p = st->key + 1;
    uint32_t n = st->key[0];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = *p++;
        const tg__frame *parent = NULL;
        for (uint32_t k = 0; k < len; k++, p += FW) {
            tg__frame f = {parent, p[0], p[1], (uint64_t)p[2] | (uint64_t)p[3] << 32, k};
            if (k + 1 == len) {
                out[i] = f;
            } else {
                tg__frame *m = tg__arena_frame(&st->arena);
                if (!m)
                    return 0;
                *m = f;
                parent = m;
            }
        }
    }
    return n;
}

/* After a change of state: recompute complete / finished. */
static bool settle(tg_grammar_state *st, const tg__frame *h, uint32_t n) {
    if (!serialize(st, h, n))
        return false;
    uint32_t m = deserialize(st, st->heads);
    st->complete = tg__run_complete(st->g, &st->arena, st->heads, m);
    st->finished = st->complete && !tg__run_can_continue(st->g, &st->arena, st->heads, m);
    return !st->arena.failed;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

void tg_grammar_state_reset(tg_grammar_state *st) {
    if (!st)
        return;
    tg__arena_reset(&st->arena);
    uint32_t n = tg__run_start(st->g, &st->arena, st->tmp);
    st->ended = false;
    settle(st, st->tmp, n);
}

tg_grammar_state *tg_grammar_state_new(const tg_grammar *g, const tg_vocab *v) {
    tg__clear_error();
    if (!g || !v)
        return tg__fail(TG_ERR_ARG, "grammar state: NULL grammar or vocabulary"), NULL;
    tg_grammar_state *st = tg__calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->g = g;
    st->idx = tg__tokidx_get(v);
    if (!st->idx) {
        free(st);
        return NULL;
    }
    st->levels = st->idx->all.max_depth + 1;
    st->level = tg__malloc((size_t)st->levels * TG__MAX_HEADS * sizeof *st->level);
    st->level_n = tg__calloc(st->levels, sizeof *st->level_n);
    st->level_mark = tg__calloc(st->levels, sizeof *st->level_mark);
    st->heads = tg__malloc(3 * TG__MAX_HEADS * sizeof *st->heads);
    if (!st->level || !st->level_n || !st->level_mark || !st->heads) {
        tg_grammar_state_free(st);
        return NULL;
    }
    st->tmp = st->heads + TG__MAX_HEADS;
    st->roots_other = st->heads + 2 * TG__MAX_HEADS;
    tg_grammar_state_reset(st);
    if (st->key_len == 0 || st->arena.failed) {
        tg__fail(TG_ERR_NOMEM, "grammar state: out of memory");
        tg_grammar_state_free(st);
        return NULL;
    }
    return st;
}

void tg_grammar_state_free(tg_grammar_state *st) {
    if (!st)
        return;
    tg__tokidx_release(st->idx);
    tg__arena_free(&st->arena);
    free(st->key);
    free(st->level);
    free(st->level_n);
    free(st->level_mark);
    free(st->heads);
    free(st->scratch_words);
    for (int i = 0; i < CACHE_SLOTS; i++) {
        free(st->cache[i].key);
        free(st->cache[i].bits);
    }
    free(st);
}

bool tg_grammar_complete(const tg_grammar_state *st) { return st && (st->complete || st->ended); }

bool tg_grammar_finished(const tg_grammar_state *st) { return st && (st->finished || st->ended); }

/* ------------------------------------------------------------------ */
/* Advancing                                                           */
/* ------------------------------------------------------------------ */

static tg_status step_bytes(tg_grammar_state *st, const char *s, size_t n, const char *what) {
    uint32_t m = deserialize(st, st->heads);
    tg__frame *cur = st->heads, *nxt = st->tmp;
    for (size_t i = 0; i < n && m; i++) {
        m = tg__run_step(st->g, &st->arena, cur, m, (uint8_t)s[i], nxt);
        tg__frame *t = cur;
        cur = nxt;
        nxt = t;
    }
    if (st->arena.failed) {
        st->arena.failed = false;
        return tg__fail(TG_ERR_NOMEM, "grammar: out of memory");
    }
    if (m == 0)
        return tg__fail(TG_ERR_ARG, "grammar: %s does not fit the grammar here", what);
    if (!settle(st, cur, m))
        return tg__fail(TG_ERR_NOMEM, "grammar: out of memory");
    return TG_OK;
}

tg_status tg_grammar_accept(tg_grammar_state *st, tg_token t) {
    if (!st)
        return tg__fail(TG_ERR_ARG, "grammar: NULL state");
    const tg__tokidx *x = st->idx;
    if (t < 0 || t >= x->n_vocab)
        return tg__fail(TG_ERR_ARG, "grammar: token %d is outside the vocabulary", (int)t);
    if (st->ended)
        return tg__fail(TG_ERR_ARG, "grammar: token %d after the end of generation", (int)t);
    if (x->eog[t >> 5] >> (t & 31) & 1u) {
        if (!st->complete)
            return tg__fail(TG_ERR_ARG, "grammar: end of generation before the text is complete");
        st->ended = true;
        return TG_OK;
    }
    if (x->len[t] == 0)
        return tg__fail(TG_ERR_ARG, "grammar: token %d is never allowed (control or empty)",
                        (int)t);
    char what[48];
    snprintf(what, sizeof what, "token %d", (int)t);
    return step_bytes(st, x->blob + x->off[t], x->len[t], what);
}

void tg__grammar_state_drop_cache(tg_grammar_state *st) {
    for (int i = 0; i < CACHE_SLOTS; i++) {
        free(st->cache[i].bits);
        st->cache[i].bits = NULL;
    }
}

bool tg__grammar_state_try(tg_grammar_state *st, const char *s, size_t n) {
    uint32_t m = deserialize(st, st->heads);
    tg__frame *cur = st->heads, *nxt = st->tmp;
    for (size_t i = 0; i < n && m; i++) {
        m = tg__run_step(st->g, &st->arena, cur, m, (uint8_t)s[i], nxt);
        tg__frame *t = cur;
        cur = nxt;
        nxt = t;
    }
    return m > 0;
}

tg_status tg_grammar_accept_text(tg_grammar_state *st, const char *text, size_t len) {
    if (!st || (!text && len))
        return tg__fail(TG_ERR_ARG, "grammar: NULL state or text");
    if (st->ended)
        return tg__fail(TG_ERR_ARG, "grammar: text after the end of generation");
    return step_bytes(st, text, len, "the text");
}

/* ------------------------------------------------------------------ */
/* Masks                                                               */
/* ------------------------------------------------------------------ */

/* Depth-first walk of a trie from the given heads, setting the bits of
 * the tokens whose whole text some stack accepts. */
static void walk(tg_grammar_state *st, const tg__trie *t, const tg__frame *roots, uint32_t n,
                 uint32_t *bits) {
    if (!n || t->n <= 1)
        return;
    const tg_grammar *g = st->g;
    tg__frame *L = st->level;
    memcpy(L, roots, n * sizeof *roots);
    st->level_n[0] = n;
    st->level_mark[0] = tg__arena_mark_get(&st->arena);
    for (uint32_t i = 1; i < t->n;) {
        const tg__trie_node *nd = &t->nodes[i];
        uint32_t d = nd->depth;
        tg__arena_mark_reset(&st->arena, st->level_mark[d - 1]);
        uint32_t m = tg__run_step(g, &st->arena, L + (size_t)(d - 1) * TG__MAX_HEADS,
                                  st->level_n[d - 1], nd->byte, L + (size_t)d * TG__MAX_HEADS);
        if (m == 0) {
            i = nd->skip;
            continue;
        }
        st->level_n[d] = m;
        st->level_mark[d] = tg__arena_mark_get(&st->arena);
        for (uint32_t k = 0; k < nd->ntok; k++) {
            int32_t tok = t->toks[nd->tok + k];
            bits[tok >> 5] |= 1u << (tok & 31);
        }
        i++;
    }
}

/* A stack between characters of an unconstrained JSON string: the plain
 * tokens it takes are known without walking.  Returns the characters it
 * may still take (TG__INF: no limit), or 0 if the head is not one. */
static uint32_t string_room(const tg_grammar *g, const tg__frame *h) {
    if (h->elem == TG__DONE)
        return 0;
    const tg__gelem *e = &g->elems[h->elem];
    if (e->kind != TG__G_DFA || !g->dfas[e->arg].json_char || h->aux != 0 || h->count >= e->max)
        return 0;
    return e->max == TG__INF ? TG__INF : e->max - h->count;
}

static void compute(tg_grammar_state *st, uint32_t *bits) {
    const tg__tokidx *x = st->idx;
    memset(bits, 0, x->words * sizeof *bits);
    if (st->complete)
        for (uint32_t w = 0; w < x->words; w++)
            bits[w] |= x->eog[w];
    if (st->finished)
        return;
    uint32_t n = deserialize(st, st->heads);
    uint32_t room = 0, n_other = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = string_room(st->g, &st->heads[i]);
        if (r > room)
            room = r;
        if (!r)
            st->roots_other[n_other++] = st->heads[i];
    }
    if (room == 0) {
        walk(st, &x->all, st->heads, n, bits);
        return;
    }
    if (room == TG__INF || room >= x->max_plain_chars) {
        for (uint32_t w = 0; w < x->words; w++)
            bits[w] |= x->plain[w];
    } else {
        for (int32_t t = 0; t < x->n_vocab; t++)
            if ((x->plain[t >> 5] >> (t & 31) & 1u) && x->plain_chars[t] <= room)
                bits[t >> 5] |= 1u << (t & 31);
    }
    walk(st, &x->rest, st->heads, n, bits);
    if (n_other)
        walk(st, &x->all, st->roots_other, n_other, bits);
}

static cache_slot *cache_find(tg_grammar_state *st) {
    for (int i = 0; i < CACHE_SLOTS; i++) {
        cache_slot *c = &st->cache[i];
        if (c->bits && c->hash == st->key_hash && c->key_len == st->key_len &&
            memcmp(c->key, st->key, st->key_len * sizeof *st->key) == 0)
            return c;
    }
    return NULL;
}

static void cache_put(tg_grammar_state *st, const uint32_t *bits) {
    cache_slot *v = &st->cache[0];
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (!st->cache[i].bits) {
            v = &st->cache[i];
            break;
        }
        if (st->cache[i].stamp < v->stamp)
            v = &st->cache[i];
    }
    if (!v->bits && !(v->bits = malloc(st->idx->words * sizeof *v->bits)))
        return; /* a cache is optional */
    if (!reserve_words(&v->key, &v->key_cap, st->key_len)) {
        free(v->bits);
        v->bits = NULL;
        return;
    }
    memcpy(v->key, st->key, st->key_len * sizeof *st->key);
    v->key_len = st->key_len;
    v->hash = st->key_hash;
    v->stamp = ++st->clock;
    memcpy(v->bits, bits, st->idx->words * sizeof *bits);
}

tg_status tg_grammar_allowed(tg_grammar_state *st, uint32_t *bits) {
    if (!st || !bits)
        return tg__fail(TG_ERR_ARG, "grammar: NULL state or mask");
    const tg__tokidx *x = st->idx;
    if (st->ended) {
        memcpy(bits, x->eog, x->words * sizeof *bits);
        return TG_OK;
    }
    cache_slot *c = cache_find(st);
    if (c) {
        c->stamp = ++st->clock;
        memcpy(bits, c->bits, x->words * sizeof *bits);
    } else {
        compute(st, bits);
        if (st->arena.failed) {
            st->arena.failed = false;
            return tg__fail(TG_ERR_NOMEM, "grammar: out of memory");
        }
        cache_put(st, bits);
    }
    uint32_t any = 0;
    for (uint32_t w = 0; w < x->words; w++)
        any |= bits[w];
    if (!any)
        return tg__fail(TG_ERR_RANGE,
                        "grammar: no token of the vocabulary can continue the text here");
    return TG_OK;
}
