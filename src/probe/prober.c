/*
 * prober.c — teacher-forced scoring of many short texts through batched
 * prefill, the engine under every `tinglado probe` measurement.
 *
 * A context of n_seq sequences; each first receives the shared context
 * tokens (BOS, or a canary's text before the secret) once.  Continuations
 * are then packed, a few tokens of several sequences per forward pass, all
 * positions returning logits, and each sequence is cut back to the shared
 * context when its continuation is done, so the shared part is evaluated
 * n_seq times in all rather than once per text.  The row that predicts a
 * continuation's first token is the context's last, computed once.
 *
 * It must never keep per-row vocabulary-sized buffers beyond the one cached
 * context row: the logits of a pass are reduced (log-softmax at the true
 * token, argmax) as soon as the pass returns.
 */
#include "base/base.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct tg_prober {
    const tg_model *model;
    tg_ctx *ctx;
    int32_t n_ctx, n_seq, n_batch, n_vocab;
    tg_progress_fn progress;
    void *progress_user;
    /* one pass: the batch and, per entry, where its output goes */
    tg_token *b_tok;
    int32_t *b_pos, *b_seq;
    int8_t *b_out;
    size_t *b_text; /* which continuation the entry's output predicts for */
    size_t *b_next; /* the index (in that continuation) of the token predicted */
};

tg_prober_params tg_prober_default_params(void) {
    /* 128 tokens a pass: in interleaved runs on the default model 128 and 256
     * beat 64 by 5-40% and 16 ran at half speed; 128 keeps the logits buffer
     * at 134 MB for a 262,144-token vocabulary. */
    return (tg_prober_params){.n_ctx = 512, .n_seq = 8, .n_batch = 128, .n_threads = 0, .kv_type = TG_TYPE_F16};
}

tg_prober *tg_prober_new(const tg_model *m, const tg_prober_params *pp) {
    tg_prober_params p = pp ? *pp : tg_prober_default_params();
    if (!m) {
        tg__fail(TG_ERR_ARG, "prober: no model");
        return NULL;
    }
    if (p.n_ctx <= 0)
        p.n_ctx = 512;
    if (p.n_seq <= 0)
        p.n_seq = 8;
    if (p.n_batch <= 0)
        p.n_batch = 128;
    if (p.n_ctx < 2 || p.n_seq > 256 || p.n_batch > 4096) {
        tg__fail(TG_ERR_ARG, "prober: n_ctx %d, n_seq %d, n_batch %d out of range (n_ctx >= 2, n_seq <= 256, "
                             "n_batch <= 4096)", p.n_ctx, p.n_seq, p.n_batch);
        return NULL;
    }
    if (tg_model_n_ctx_train(m) > 0 && p.n_ctx > tg_model_n_ctx_train(m)) {
        tg__fail(TG_ERR_ARG, "prober: a context of %d tokens is longer than the model's %d", p.n_ctx,
                 tg_model_n_ctx_train(m));
        return NULL;
    }
    tg_prober *pr = tg__calloc(1, sizeof *pr);
    if (!pr)
        return NULL;
    pr->model = m;
    pr->n_ctx = p.n_ctx;
    pr->n_seq = p.n_seq;
    pr->n_batch = p.n_batch;
    pr->n_vocab = tg_model_n_vocab(m);
    tg_ctx_params cp = tg_ctx_default_params();
    cp.n_ctx = p.n_ctx;
    cp.n_seq = p.n_seq;
    /* the shared context is evaluated in all sequences in one decode */
    cp.n_ubatch = p.n_batch;
    cp.n_outputs = TG_MAX(p.n_batch, p.n_seq);
    cp.n_threads = p.n_threads;
    cp.kv_type = p.kv_type;
    size_t nb = (size_t)TG_MAX(p.n_batch, p.n_seq);
    pr->ctx = tg_ctx_new(m, &cp);
    pr->b_tok = tg__malloc(nb * sizeof *pr->b_tok);
    pr->b_pos = tg__malloc(nb * sizeof *pr->b_pos);
    pr->b_seq = tg__malloc(nb * sizeof *pr->b_seq);
    pr->b_out = tg__malloc(nb * sizeof *pr->b_out);
    pr->b_text = tg__malloc(nb * sizeof *pr->b_text);
    pr->b_next = tg__malloc(nb * sizeof *pr->b_next);
    if (!pr->ctx || !pr->b_tok || !pr->b_pos || !pr->b_seq || !pr->b_out || !pr->b_text || !pr->b_next) {
        tg__fail_prefix(TG_ERR_NOMEM, "prober");
        tg_prober_free(pr);
        return NULL;
    }
    return pr;
}

void tg_prober_free(tg_prober *p) {
    if (!p)
        return;
    tg_ctx_free(p->ctx);
    free(p->b_tok);
    free(p->b_pos);
    free(p->b_seq);
    free(p->b_out);
    free(p->b_text);
    free(p->b_next);
    free(p);
}

const tg_model *tg_prober_model(const tg_prober *p) { return p->model; }

void tg_prober_set_progress(tg_prober *p, tg_progress_fn fn, void *user) {
    p->progress = fn;
    p->progress_user = user;
}

/* ln softmax(row)[want] and the argmax (lowest id among equals, as the
 * greedy sampler).  Accumulated in double: the sum runs over the whole
 * vocabulary (262,144 terms for Gemma). */
static float row_logprob(const float *row, int32_t n_vocab, tg_token want, tg_token *argmax) {
    float max = -INFINITY;
    int32_t best = 0;
    for (int32_t t = 0; t < n_vocab; t++)
        if (row[t] > max) {
            max = row[t];
            best = t;
        }
    double sum = 0.0;
    for (int32_t t = 0; t < n_vocab; t++)
        sum += exp((double)row[t] - (double)max);
    if (argmax)
        *argmax = best;
    return (float)((double)row[want] - (double)max - log(sum));
}

/* Per sequence slot: the continuation it works on and how far it got. */
typedef struct slot {
    size_t text;   /* SIZE_MAX: free */
    size_t next;   /* tokens of it already in the cache */
} slot;

tg_status tg_prober_eval(tg_prober *p, const tg_token *context, size_t n_context,
                         const tg_token *const *conts, const size_t *lens, size_t n, float *const *lp,
                         tg_token *const *argmax) {
    if (!p || !context || n_context == 0 || (n && (!conts || !lens || !lp)))
        return tg__fail(TG_ERR_ARG, "prober: give a context of at least one token and the outputs");
    if (n_context >= (size_t)p->n_ctx)
        return tg__fail(TG_ERR_RANGE, "prober: the shared context has %zu tokens; the context holds %d",
                        n_context, p->n_ctx);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] > (size_t)p->n_ctx - n_context)
            return tg__fail(TG_ERR_RANGE, "prober: text %zu has %zu tokens; with the %zu shared ones the context "
                                          "(%d) overflows", i, lens[i], n_context, p->n_ctx);
        for (size_t j = 0; j < lens[i]; j++)
            if (conts[i][j] < 0 || conts[i][j] >= p->n_vocab)
                return tg__fail(TG_ERR_RANGE, "prober: text %zu token %zu is %d, outside the vocabulary (%d)", i,
                                j, conts[i][j], p->n_vocab);
        total += lens[i];
    }
    for (size_t j = 0; j < n_context; j++)
        if (context[j] < 0 || context[j] >= p->n_vocab)
            return tg__fail(TG_ERR_RANGE, "prober: context token %zu is %d, outside the vocabulary", j, context[j]);

    float *ctx_row = tg__malloc((size_t)p->n_vocab * sizeof *ctx_row);
    slot *slots = tg__malloc((size_t)p->n_seq * sizeof *slots);
    if (!ctx_row || !slots) {
        free(ctx_row);
        free(slots);
        return TG_ERR_NOMEM;
    }
    tg_status st = TG_OK;
    /* 1. the shared context into every sequence: its last row, once */
    for (int32_t s = 0; s < p->n_seq; s++)
        tg_ctx_seq_truncate(p->ctx, s, 0);
    for (size_t j0 = 0; j0 < n_context; j0 += (size_t)p->n_batch) {
        /* sequence by sequence keeps the batch within n_batch tokens */
        for (int32_t s = 0; s < p->n_seq; s++) {
            int32_t m = (int32_t)TG_MIN(n_context - j0, (size_t)p->n_batch);
            for (int32_t k = 0; k < m; k++) {
                p->b_tok[k] = context[j0 + (size_t)k];
                p->b_pos[k] = (int32_t)j0 + k;
                p->b_seq[k] = s;
                p->b_out[k] = s == 0 && j0 + (size_t)k == n_context - 1;
            }
            tg_batch b = {.n = m, .token = p->b_tok, .pos = p->b_pos, .seq = p->b_seq, .output = p->b_out};
            if ((st = tg_ctx_decode(p->ctx, &b)) != TG_OK)
                goto out;
            if (s == 0 && j0 + (size_t)m == n_context)
                memcpy(ctx_row, tg_ctx_logits(p->ctx, 0), (size_t)p->n_vocab * sizeof *ctx_row);
        }
    }
    /* 2. every continuation's first token from the context's last row */
    {
        tg_token best = 0;
        float dummy = row_logprob(ctx_row, p->n_vocab, 0, &best);
        (void)dummy;
        for (size_t i = 0; i < n; i++) {
            if (!lens[i])
                continue;
            lp[i][0] = row_logprob(ctx_row, p->n_vocab, conts[i][0], NULL);
            if (argmax)
                argmax[i][0] = best;
        }
    }
    /* 3. the rest, packed.  A continuation of L tokens needs tokens
     * 0..L-2 evaluated (the last one predicts nothing). */
    for (int32_t s = 0; s < p->n_seq; s++)
        slots[s] = (slot){.text = SIZE_MAX};
    size_t next_text = 0;
    uint64_t done = 0;
    for (size_t i = 0; i < n; i++)
        done += lens[i] ? 1 : 0; /* first tokens are scored */
    for (;;) {
        int32_t m = 0;
        for (int32_t s = 0; s < p->n_seq && m < p->n_batch; s++) {
            slot *sl = &slots[s];
            if (sl->text == SIZE_MAX) {
                while (next_text < n && lens[next_text] < 2)
                    next_text++;
                if (next_text == n)
                    continue;
                sl->text = next_text++;
                sl->next = 0;
                tg_ctx_seq_truncate(p->ctx, s, (int32_t)n_context);
            }
            const size_t L = lens[sl->text];
            while (sl->next + 1 < L && m < p->n_batch) {
                p->b_tok[m] = conts[sl->text][sl->next];
                p->b_pos[m] = (int32_t)(n_context + sl->next);
                p->b_seq[m] = s;
                p->b_out[m] = 1;
                p->b_text[m] = sl->text;
                p->b_next[m] = sl->next + 1;
                sl->next++;
                m++;
            }
        }
        if (m == 0)
            break;
        tg_batch b = {.n = m, .token = p->b_tok, .pos = p->b_pos, .seq = p->b_seq, .output = p->b_out};
        if ((st = tg_ctx_decode(p->ctx, &b)) != TG_OK)
            goto out;
        for (int32_t k = 0; k < m; k++) {
            const size_t i = p->b_text[k], j = p->b_next[k];
            tg_token best;
            lp[i][j] = row_logprob(tg_ctx_logits(p->ctx, k), p->n_vocab, conts[i][j], &best);
            if (argmax)
                argmax[i][j] = best;
        }
        done += (uint64_t)m;
        /* free the slots whose continuation is complete */
        for (int32_t s = 0; s < p->n_seq; s++)
            if (slots[s].text != SIZE_MAX && slots[s].next + 1 >= lens[slots[s].text])
                slots[s].text = SIZE_MAX;
        if (p->progress)
            p->progress(p->progress_user, done, total);
    }
out:
    if (st != TG_OK)
        tg__fail_prefix(st, "prober");
    free(ctx_row);
    free(slots);
    return st;
}
