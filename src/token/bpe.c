/*
 * bpe.c — byte-level BPE ("gpt2" vocabularies, and gemma4's byte-free
 * variant): the merges table and the merging of each pre-tokenized piece,
 * exactly as llama.cpp's llm_tokenizer_bpe_session does it:
 *
 *   1. pretok.c splits the text into pieces;
 *   2. each piece is byte-encoded with GPT-2's byte→code point map (skipped
 *      for the byte-free variants), then cut into characters by the lead
 *      byte's length;
 *   3. with ignore_merges (llama3 and a few others) a piece that is already a
 *      token is taken whole;
 *   4. otherwise the adjacent pair with the lowest merge rank is merged, the
 *      leftmost on ties, until no pair has a rank;
 *   5. each resulting symbol is looked up; one that is not a token falls back
 *      to one token per byte — the single byte as text for byte-level
 *      vocabularies (which usually has none, so the byte is dropped, as in
 *      llama.cpp), <0xXX> for the byte-free ones.
 *
 * tokenizer.ggml.merges holds "left right" strings; the split is at the first
 * space after the first byte, and the rank is the index in the array (the
 * first occurrence wins on duplicates).  A merge string without that space,
 * or with nothing after it, is a load error here (llama.cpp silently files it
 * under an empty pair).
 *
 * Never: trust a count or length from the file without checking it, or keep
 * a pointer into the GGUF mapping (the vocabulary outlives the file).
 */
#include <stdlib.h>
#include <string.h>

#include "token/pretok.h"
#include "token/utf8.h"
#include "token/vocab.h"

typedef struct merge {
    uint32_t off;  /* in pool: left bytes, then right bytes (no space) */
    uint32_t llen; /* bytes of the left part */
    uint32_t rlen; /* bytes of the right part */
} merge;

struct tg__bpe_state {
    tg__pretok *pre;
    bool byte_encode;
    bool newline_tokens;
    char *pool;
    merge *merges; /* by rank */
    uint32_t n_merges;
    uint32_t *table; /* open addressing: rank + 1, 0 = empty */
    size_t table_cap; /* power of two */
};

/* Hash of a (left, right) pair; the marker between the halves keeps "ab"+"c"
 * and "a"+"bc" apart. */
static uint64_t hash_pair(const char *l, size_t ln, const char *r, size_t rn) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < ln; i++)
        h = (h ^ (uint8_t)l[i]) * 1099511628211ull;
    h = (h ^ 0x100) * 1099511628211ull;
    for (size_t i = 0; i < rn; i++)
        h = (h ^ (uint8_t)r[i]) * 1099511628211ull;
    return h;
}

/* Rank of merging the symbol at p (ln bytes) with the one right after it
 * (rn bytes), or -1. */
static int64_t find_rank(const tg__bpe_state *st, const char *p, size_t ln, size_t rn) {
    size_t mask = st->table_cap - 1;
    for (size_t i = (size_t)hash_pair(p, ln, p + ln, rn) & mask;; i = (i + 1) & mask) {
        uint32_t slot = st->table[i];
        if (!slot)
            return -1;
        const merge *m = &st->merges[slot - 1];
        if (m->llen == ln && m->rlen == rn && !memcmp(st->pool + m->off, p, ln + rn))
            return slot - 1;
    }
}

/* Reads, validates and indexes tokenizer.ggml.merges. */
static tg_status load_merges(tg__bpe_state *st, const tg_gguf *g, const char *path) {
    const tg_gguf_value *arr;
    tg_status s = tg_gguf_get_array(g, "tokenizer.ggml.merges", &arr);
    if (s == TG_ERR_NOT_FOUND)
        return tg__fail(TG_ERR_NOT_FOUND, "%s: no BPE merges (tokenizer.ggml.merges)", path);
    if (s)
        return tg__fail_prefix(s, "%s", path);
    if (arr->v.arr.type != TG_GGUF_STRING)
        return tg__fail(TG_ERR_TYPE, "%s: tokenizer.ggml.merges is an array of %s, expected string",
                        path, tg_gguf_type_name(arr->v.arr.type));
    uint64_t n = arr->v.arr.n;
    if (n >= INT32_MAX)
        return tg__fail(TG_ERR_RANGE, "%s: %llu BPE merges is too many", path,
                        (unsigned long long)n);
    size_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        tg_gguf_value e;
        if ((s = tg_gguf_array_get(arr, i, &e)))
            return tg__fail_prefix(s, "%s: merge %llu", path, (unsigned long long)i);
        if (!tg__add_size(total, e.v.str.len, &total))
            return tg__fail(TG_ERR_RANGE, "%s: BPE merges too large", path);
    }
    if (total > UINT32_MAX)
        return tg__fail(TG_ERR_RANGE, "%s: BPE merges too large (%zu bytes)", path, total);
    size_t cap = 16;
    while (cap < 2 * (size_t)n)
        cap *= 2;
    st->pool = tg__malloc(total + 1);
    st->merges = tg__calloc(n ? (size_t)n : 1, sizeof *st->merges);
    st->table = tg__calloc(cap, sizeof *st->table);
    if (!st->pool || !st->merges || !st->table)
        return TG_ERR_NOMEM;
    st->table_cap = cap;
    size_t off = 0;
    for (uint64_t i = 0; i < n; i++) {
        tg_gguf_value e;
        tg_gguf_array_get(arr, i, &e); /* checked above */
        const char *str = e.v.str.ptr;
        size_t len = e.v.str.len;
        const char *sp = len > 1 ? memchr(str + 1, ' ', len - 1) : NULL;
        if (!sp || sp + 1 == str + len)
            return tg__fail(TG_ERR_FORMAT,
                            "%s: BPE merge %llu \"%.*s\" is malformed (expected \"left right\")",
                            path, (unsigned long long)i, (int)TG_MIN(len, 64), str);
        merge *m = &st->merges[i];
        m->off = (uint32_t)off;
        m->llen = (uint32_t)(sp - str);
        m->rlen = (uint32_t)(len - m->llen - 1);
        memcpy(st->pool + off, str, m->llen);
        memcpy(st->pool + off + m->llen, sp + 1, m->rlen);
        off += m->llen + m->rlen;
        /* insert unless the same pair came earlier (its lower rank wins) */
        size_t mask = cap - 1;
        for (size_t k = (size_t)hash_pair(str, m->llen, sp + 1, m->rlen) & mask;; k = (k + 1) & mask) {
            uint32_t slot = st->table[k];
            if (!slot) {
                st->table[k] = (uint32_t)i + 1;
                break;
            }
            const merge *o = &st->merges[slot - 1];
            if (o->llen == m->llen && o->rlen == m->rlen &&
                !memcmp(st->pool + o->off, st->pool + m->off, m->llen + m->rlen))
                break;
        }
    }
    st->n_merges = (uint32_t)n;
    return TG_OK;
}

void tg__bpe_free(tg_vocab *v) {
    tg__bpe_state *st = v->bpe;
    if (!st)
        return;
    tg__pretok_free(st->pre);
    free(st->pool);
    free(st->merges);
    free(st->table);
    free(st);
    v->bpe = NULL;
}

tg_status tg__bpe_init(tg_vocab *v, const tg_gguf *g) {
    const char *path = tg_gguf_path(g);
    if (!path)
        path = "(gguf)";
    tg__bpe_state *st = tg__calloc(1, sizeof *st);
    if (!st)
        return TG_ERR_NOMEM;
    v->bpe = st;
    tg_status s = tg__pretok_new(v->pre_name, strlen(v->pre_name), &st->pre);
    if (s) {
        tg__fail_prefix(s, "%s", path);
        tg__bpe_free(v);
        return s;
    }
    if ((s = load_merges(st, g, path))) {
        tg__bpe_free(v);
        return s;
    }
    /* the settings llama.cpp ties to the pre-tokenizer name; the GGUF's own
     * add_* flags and special ids are applied after this by vocab.c */
    const tg__pretok_settings *ps = tg__pretok_settings_of(st->pre);
    st->byte_encode = ps->byte_encode;
    st->newline_tokens = ps->newline_tokens;
    v->ignore_merges = ps->ignore_merges;
    v->clean_spaces = ps->clean_spaces;
    if (ps->add_bos)
        v->add_bos = true;
    if (ps->no_bos)
        v->bos = -1;
    if (ps->add_sep)
        v->add_sep = true;
    if (ps->escape_whitespaces)
        v->escape_whitespaces = true;
    return TG_OK;
}

/* ------------------------------------------------------------------ */
/* Merging one piece                                                   */
/* ------------------------------------------------------------------ */

typedef struct symbol {
    size_t start, n; /* bytes of the word; n = 0 once merged into the left */
    int64_t prev, next;
} symbol;

typedef struct bigram {
    int64_t rank;
    int64_t left, right;
    size_t ln, rn; /* the symbols' sizes when queued: stale if they changed */
} bigram;

typedef struct work {
    char *word; /* the byte-encoded piece */
    symbol *sym;
    bigram *heap;
    size_t n_heap;
} work;

static bool bigram_less(const bigram *a, const bigram *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void heap_push(work *w, bigram b) {
    size_t i = w->n_heap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!bigram_less(&b, &w->heap[parent]))
            break;
        w->heap[i] = w->heap[parent];
        i = parent;
    }
    w->heap[i] = b;
}

static bigram heap_pop(work *w) {
    bigram top = w->heap[0], last = w->heap[--w->n_heap];
    size_t i = 0, n = w->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && bigram_less(&w->heap[c + 1], &w->heap[c]))
            c++;
        if (!bigram_less(&w->heap[c], &last))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n)
        w->heap[i] = last;
    return top;
}

static void queue_pair(const tg__bpe_state *st, work *w, int64_t l, int64_t r) {
    if (l < 0 || r < 0)
        return;
    const symbol *a = &w->sym[l], *b = &w->sym[r];
    int64_t rank = find_rank(st, w->word + a->start, a->n, b->n);
    if (rank >= 0)
        heap_push(w, (bigram){rank, l, r, a->n, b->n});
}

static tg_status emit_symbol(const tg_vocab *v, const tg__bpe_state *st, const char *s, size_t n,
                             tg_tokens *out) {
    tg_token id = tg__vocab_lookup(v, s, n);
    if (id >= 0)
        return tg__tokens_push(out, id) ? TG_OK : TG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)s[i];
        if (st->byte_encode) {
            id = tg__vocab_lookup(v, s + i, 1);
        } else {
            static const char hex[] = "0123456789ABCDEF";
            char t[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
            id = tg__vocab_lookup(v, t, sizeof t);
        }
        if (id >= 0 && !tg__tokens_push(out, id))
            return TG_ERR_NOMEM;
    }
    return TG_OK;
}

static tg_status bpe_word(const tg_vocab *v, const tg__bpe_state *st, work *w, size_t len,
                          tg_tokens *out) {
    const char *word = w->word;
    if (v->ignore_merges || st->newline_tokens) {
        bool whole = v->ignore_merges;
        if (!whole) { /* gemma4: a run of newlines that is a token */
            whole = true;
            for (size_t i = 0; i < len && whole; i++)
                whole = word[i] == '\n';
        }
        if (whole) {
            tg_token id = tg__vocab_lookup(v, word, len);
            if (id >= 0)
                return tg__tokens_push(out, id) ? TG_OK : TG_ERR_NOMEM;
        }
    }
    size_t n = 0;
    for (size_t off = 0; off < len; n++) {
        size_t cl = TG_MIN(len - off, tg__utf8_len_lead((uint8_t)word[off]));
        w->sym[n] = (symbol){off, cl, (int64_t)n - 1, off + cl == len ? -1 : (int64_t)n + 1};
        off += cl;
    }
    w->n_heap = 0;
    for (size_t i = 1; i < n; i++)
        queue_pair(st, w, (int64_t)i - 1, (int64_t)i);
    while (w->n_heap) {
        bigram b = heap_pop(w);
        symbol *l = &w->sym[b.left], *r = &w->sym[b.right];
        if (l->n == 0 || r->n == 0 || l->n != b.ln || r->n != b.rn)
            continue; /* outdated: one side has changed since it was queued */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            w->sym[r->next].prev = b.left;
        queue_pair(st, w, l->prev, b.left);
        queue_pair(st, w, b.left, l->next);
    }
    for (size_t i = 0; i < n; i++) {
        if (!w->sym[i].n)
            continue;
        tg_status s = emit_symbol(v, st, word + w->sym[i].start, w->sym[i].n, out);
        if (s)
            return s;
    }
    return TG_OK;
}

/* Byte-encodes src into dst (2 bytes per input byte at most); returns the
 * length. */
static size_t byte_encode(const char *src, size_t n, char *dst) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += tg__utf8_encode(tg__gpt2_byte_to_cp((uint8_t)src[i]), dst + o);
    return o;
}

tg_status tg__bpe_tokenize(const tg_vocab *v, const char *text, size_t len, tg_tokens *out) {
    const tg__bpe_state *st = v->bpe;
    if (!st)
        return tg__fail(TG_ERR_ARG, "tokenize: the vocabulary has no BPE state");
    tg__pieces pc = {0};
    work w = {0};
    tg_status s = tg__pretok_split(st->pre, text, len, &pc);
    if (s)
        goto done;
    size_t longest = 0, a = 0;
    for (size_t k = 0; k < pc.n; a = pc.end[k++])
        longest = TG_MAX(longest, pc.end[k] - a);
    /* an encoded piece is at most twice as long; every symbol is ≥ 1 byte and
     * the heap holds at most 3 entries per symbol */
    size_t wbytes, syms, heap;
    if (!tg__mul_size(longest, 2, &wbytes) || !tg__mul_size(wbytes, sizeof *w.sym, &syms) ||
        !tg__mul_size(wbytes, 3 * sizeof *w.heap, &heap)) {
        s = tg__fail(TG_ERR_RANGE, "tokenize: text too long");
        goto done;
    }
    w.word = tg__malloc(wbytes + 1);
    w.sym = tg__malloc(syms + sizeof *w.sym);
    w.heap = tg__malloc(heap + sizeof *w.heap);
    if (!w.word || !w.sym || !w.heap) {
        s = TG_ERR_NOMEM;
        goto done;
    }
    a = 0;
    for (size_t k = 0; k < pc.n && !s; a = pc.end[k++]) {
        size_t n = pc.end[k] - a;
        if (st->byte_encode) {
            n = byte_encode(pc.text + a, n, w.word);
        } else {
            memcpy(w.word, pc.text + a, n);
        }
        s = bpe_word(v, st, &w, n, out);
    }
done:
    free(w.word);
    free(w.sym);
    free(w.heap);
    tg__pieces_free(&pc);
    return s;
}
