/*
 * spm.c — the SentencePiece-style tokenizer of "llama" vocabularies, as
 * llama.cpp runs it (llm_tokenizer_spm): not SentencePiece's unigram/BPE
 * trainer semantics, but a greedy bigram merge driven by token scores.
 *
 *   1. The fragment (already space-prefixed and ▁-escaped by vocab.c) is cut
 *      into characters by the lead byte's length alone, so invalid UTF-8 still
 *      yields symbols (a stray byte is a one-byte symbol; a truncated sequence
 *      at the end is shortened).
 *   2. Every adjacent pair whose concatenation is a vocabulary token goes into
 *      a max-heap keyed by that token's score, ties to the leftmost pair.
 *   3. Pop the best pair; skip it if either side has changed since it was
 *      pushed; merge; push the pairs the merged symbol forms with its
 *      neighbours.  Repeat until the heap is empty.
 *   4. Each final symbol is its token, or — when it is not one (only a single
 *      character can be, since merges only ever form tokens) — one byte token
 *      <0xXX> per byte, or the token whose text is that byte.
 *
 * The heap order matters only among valid pairs, and at most one valid pair
 * starts at a given symbol, so (score, left) totally orders them: any correct
 * heap reproduces llama.cpp's result.  Never fails on any input bytes; the
 * only error is a vocabulary with no way to spell some byte.
 */
#include "token/vocab.h"
#include "token/utf8.h"

#include <stdio.h>
#include <stdlib.h>

/* A run of the text, linked to its live neighbours.  n == 0 once merged away. */
typedef struct sym {
    int32_t prev, next;
    size_t off, n;
} sym;

/* A candidate merge of symbols left+right, recorded with its byte size so a
 * stale entry (either side changed) is recognised when popped. */
typedef struct bigram {
    float score;
    int32_t left, right;
    size_t size;
} bigram;

typedef struct spm_run {
    const tg_vocab *v;
    const char *text;
    sym *syms;
    bigram *heap;
    size_t n_heap, cap_heap;
} spm_run;

/* a comes out of the heap before b */
static bool before(const bigram *a, const bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static bool heap_push(spm_run *r, bigram b) {
    if (r->n_heap == r->cap_heap) {
        size_t cap = r->cap_heap ? r->cap_heap * 2 : 64, bytes;
        if (!tg__mul_size(cap, sizeof *r->heap, &bytes)) {
            tg__fail(TG_ERR_RANGE, "SPM: too many candidate merges");
            return false;
        }
        bigram *h = tg__realloc(r->heap, bytes);
        if (!h)
            return false;
        r->heap = h;
        r->cap_heap = cap;
    }
    size_t i = r->n_heap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&b, &r->heap[parent]))
            break;
        r->heap[i] = r->heap[parent];
        i = parent;
    }
    r->heap[i] = b;
    return true;
}

static bigram heap_pop(spm_run *r) {
    bigram top = r->heap[0], last = r->heap[--r->n_heap];
    size_t i = 0, n = r->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(&r->heap[c + 1], &r->heap[c]))
            c++;
        if (!before(&r->heap[c], &last))
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    if (n)
        r->heap[i] = last;
    return top;
}

/* Queues the merge of two neighbouring symbols if it forms a token. */
static bool try_pair(spm_run *r, int32_t left, int32_t right) {
    if (left < 0 || right < 0)
        return true;
    const sym *l = &r->syms[left], *rt = &r->syms[right];
    size_t size = l->n + rt->n;
    tg_token id = tg__vocab_lookup(r->v, r->text + l->off, size);
    if (id < 0)
        return true;
    float score = r->v->scores ? r->v->scores[id] : 0.0f;
    return heap_push(r, (bigram){score, left, right, size});
}

/* Emits a final symbol: its token, or its bytes one token each. */
static tg_status emit(const spm_run *r, const sym *s, tg_tokens *out) {
    const char *p = r->text + s->off;
    tg_token id = tg__vocab_lookup(r->v, p, s->n);
    if (id >= 0)
        return tg__tokens_push(out, id) ? TG_OK : TG_ERR_NOMEM;
    for (size_t i = 0; i < s->n; i++) {
        uint8_t byte = (uint8_t)p[i];
        char hex[7];
        snprintf(hex, sizeof hex, "<0x%02X>", byte);
        id = tg__vocab_lookup(r->v, hex, 6);
        if (id < 0)
            id = tg__vocab_lookup(r->v, p + i, 1);
        if (id < 0)
            return tg__fail(TG_ERR_NOT_FOUND,
                            "SPM vocabulary has neither a byte token %s nor a token for that "
                            "byte, so the text cannot be encoded",
                            hex);
        if (!tg__tokens_push(out, id))
            return TG_ERR_NOMEM;
    }
    return TG_OK;
}

tg_status tg__spm_tokenize(const tg_vocab *v, const char *text, size_t len, tg_tokens *out) {
    if (len == 0)
        return TG_OK;
    if (len > (size_t)INT32_MAX)
        return tg__fail(TG_ERR_RANGE, "SPM: text of %zu bytes is too long", len);
    spm_run r = {.v = v, .text = text};
    r.syms = tg__malloc(len * sizeof *r.syms); /* at most one symbol per byte */
    if (!r.syms)
        return TG_ERR_NOMEM;
    tg_status s = TG_ERR_NOMEM;

    int32_t n_syms = 0;
    for (size_t off = 0; off < len;) {
        size_t n = TG_MIN(tg__utf8_len_lead((uint8_t)text[off]), len - off);
        r.syms[n_syms] = (sym){n_syms - 1, off + n == len ? -1 : n_syms + 1, off, n};
        n_syms++;
        off += n;
    }
    for (int32_t i = 1; i < n_syms; i++)
        if (!try_pair(&r, i - 1, i))
            goto done;

    while (r.n_heap) {
        bigram b = heap_pop(&r);
        sym *l = &r.syms[b.left], *rt = &r.syms[b.right];
        if (l->n == 0 || rt->n == 0 || l->n + rt->n != b.size)
            continue; /* stale: one side was merged into something else */
        l->n += rt->n;
        rt->n = 0;
        l->next = rt->next;
        if (rt->next >= 0)
            r.syms[rt->next].prev = b.left;
        if (!try_pair(&r, l->prev, b.left) || !try_pair(&r, b.left, l->next))
            goto done;
    }

    size_t n0 = out->n;
    for (int32_t i = 0; i != -1; i = r.syms[i].next) {
        if ((s = emit(&r, &r.syms[i], out))) {
            out->n = n0;
            goto done;
        }
    }
    s = TG_OK;
done:
    free(r.syms);
    free(r.heap);
    return s;
}

/* SPM keeps no state beyond the vocabulary itself. */
tg_status tg__spm_init(tg_vocab *v, const tg_gguf *g) {
    (void)v;
    (void)g;
    return TG_OK;
}

void tg__spm_free(tg_vocab *v) {
    v->spm = NULL;
}
