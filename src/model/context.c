/*
 * context.c — an inference context: the KV cache of its sequences, the
 * scratch memory of the forward pass (allocated once, sized for the largest
 * micro-batch, so decoding never allocates), and tg_ctx_decode(), which
 * validates a batch and feeds it to the forward pass in micro-batches.
 */
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

tg_ctx_params tg_ctx_default_params(void) {
    return (tg_ctx_params){.n_ctx = 0, .n_seq = 1, .n_ubatch = 512, .n_outputs = 0, .n_threads = 0,
                           .kv_type = TG_TYPE_F16};
}

/* Carves consecutive 64-byte-aligned pieces out of one allocation; the
 * first pass (base == NULL) only measures. */
typedef struct carver {
    uint8_t *base;
    size_t off;
    bool overflow;
} carver;

static void *carve(carver *cv, size_t count, size_t size) {
    size_t bytes;
    if (!tg__mul_size(count, size, &bytes) || !tg__add_size(cv->off, bytes + 63, &bytes)) {
        cv->overflow = true;
        return NULL;
    }
    size_t at = (cv->off + 63) & ~(size_t)63;
    cv->off = at + count * size;
    return cv->base ? cv->base + at : NULL;
}

static void layout(tg_ctx *c, carver *cv, int n_threads) {
    const tg__hparams *hp = &c->model->hp;
    const size_t U = (size_t)c->n_ubatch;
    const size_t E = (size_t)hp->n_embd;
    const size_t QD = (size_t)hp->n_head * (size_t)hp->head_dim_k;
    const size_t KD = (size_t)hp->n_head_kv * (size_t)hp->head_dim_k;
    const size_t VD = (size_t)hp->n_head_kv * (size_t)hp->head_dim_v;
    const size_t OD = (size_t)hp->n_head * (size_t)hp->head_dim_v;
    const size_t FF = (size_t)hp->n_ff;
    c->x = carve(cv, U * E, sizeof(float));
    c->xb = carve(cv, U * E, sizeof(float));
    c->xb2 = carve(cv, U * E, sizeof(float));
    c->q = carve(cv, U * QD, sizeof(float));
    c->k = carve(cv, U * KD, sizeof(float));
    c->v = carve(cv, U * VD, sizeof(float));
    c->att = carve(cv, U * OD, sizeof(float));
    c->hb = carve(cv, U * FF, sizeof(float));
    c->hb2 = carve(cv, U * FF, sizeof(float));
    /* Converted activations: the widest input of any matmul is n_ff or the
     * attention output; Q8/F16/F32 rows are at most 4 bytes per value plus
     * block headers, so 4·width + 64 bytes per row is always enough. */
    size_t width = TG_MAX(TG_MAX(E, OD), FF);
    c->act = carve(cv, U, 4 * width + 64);
    /* attention, per thread: scores over the context + an f16 copy of q +
     * a double accumulator over head_dim_v */
    /* scores and q of two heads (attention.c takes heads in pairs), hdv
     * doubles, and a row of f16 for the rounding of scores and q */
    const size_t f16_row = (size_t)(c->kv.n_ctx > hp->head_dim_k ? c->kv.n_ctx : hp->head_dim_k);
    c->att_scratch_stride = (2 * ((size_t)c->kv.n_ctx + (size_t)hp->head_dim_k) + 2 * (size_t)hp->head_dim_v + 16 +
                             (f16_row + 1) / 2 + 8) & ~(size_t)1;
    c->att_scratch = carve(cv, (size_t)n_threads * c->att_scratch_stride, sizeof(float));
    if (hp->n_expert) {
        const size_t NE = (size_t)hp->n_expert, K = (size_t)hp->n_expert_used;
        c->router = carve(cv, U * NE, sizeof(float));
        c->sel = carve(cv, U * K, sizeof(int32_t));
        c->sel_w = carve(cv, U * K, sizeof(float));
        c->rows = carve(cv, U * K, sizeof(int32_t));
        c->gx = carve(cv, U * E, sizeof(float));
        c->moe_out = carve(cv, U * K * E, sizeof(float));
        c->moe_counts = carve(cv, (size_t)hp->n_layer * NE, sizeof(uint64_t));
    }
    c->b_pos = carve(cv, U, sizeof(int32_t));
    c->b_seq = carve(cv, U, sizeof(int32_t));
    c->b_out = carve(cv, U, sizeof(int32_t));
    c->saved_len = carve(cv, (size_t)c->kv.n_seq, sizeof(int32_t));
    c->next_pos = carve(cv, (size_t)c->kv.n_seq, sizeof(int32_t));
    c->logits = carve(cv, (size_t)c->n_outputs_max * (size_t)hp->n_vocab, sizeof(float));
}

tg_ctx *tg_ctx_new(const tg_model *m, const tg_ctx_params *p) {
    tg_ctx_params d = tg_ctx_default_params();
    if (!p)
        p = &d;
    const tg__hparams *hp = &m->hp;
    tg_ctx *c = tg__calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->model = m;
    int32_t n_ctx = p->n_ctx > 0 ? p->n_ctx : TG_MIN(4096, hp->n_ctx_train > 0 ? hp->n_ctx_train : 4096);
    if (p->n_ctx < 0 || n_ctx > (1 << 24)) {
        tg__fail(TG_ERR_ARG, "context size %d is out of range", p->n_ctx);
        goto fail;
    }
    if (hp->n_ctx_train > 0 && n_ctx > hp->n_ctx_train) {
        tg__fail(TG_ERR_ARG, "context of %d tokens is longer than the %d the model was trained for", n_ctx,
                 hp->n_ctx_train);
        goto fail;
    }
    c->kv.n_ctx = n_ctx;
    c->kv.n_seq = p->n_seq > 0 ? p->n_seq : 1;
    c->n_ubatch = p->n_ubatch > 0 ? TG_MIN(p->n_ubatch, n_ctx) : TG_MIN(512, n_ctx);
    c->n_outputs_max = p->n_outputs > 0 ? p->n_outputs : c->kv.n_seq;
    if (c->kv.n_seq > 4096 || c->n_outputs_max > 65536) {
        tg__fail(TG_ERR_ARG, "too many sequences (%d) or outputs (%d)", c->kv.n_seq, c->n_outputs_max);
        goto fail;
    }
    c->pool = tg_pool_new(p->n_threads);
    if (!c->pool)
        goto fail;

    /* KV cache */
    c->kv.k_row = (size_t)hp->n_head_kv * (size_t)hp->head_dim_k;
    c->kv.v_row = (size_t)hp->n_head_kv * (size_t)hp->head_dim_v;
    size_t cells, kn, vn;
    if (!tg__mul_size((size_t)hp->n_layer * (size_t)c->kv.n_seq, (size_t)n_ctx, &cells) ||
        !tg__mul_size(cells, c->kv.k_row, &kn) || !tg__mul_size(cells, c->kv.v_row, &vn)) {
        tg__fail(TG_ERR_RANGE, "KV cache size overflows");
        goto fail;
    }
    if (p->kv_type != TG_TYPE_F16 && p->kv_type != TG_TYPE_F32) {
        tg__fail(TG_ERR_ARG, "KV cache type %s is not supported (f16 or f32)", tg_type_name(p->kv_type));
        goto fail;
    }
    c->kv.type = p->kv_type;
    const size_t esize = p->kv_type == TG_TYPE_F32 ? 4 : 2;
    if (!tg__mul_size(kn, esize, &kn) || !tg__mul_size(vn, esize, &vn)) {
        tg__fail(TG_ERR_RANGE, "KV cache size overflows");
        goto fail;
    }
    c->kv.k = malloc(kn);
    c->kv.v = malloc(vn);
    c->kv.len = tg__calloc((size_t)c->kv.n_seq, sizeof(int32_t));
    if (!c->kv.k || !c->kv.v || !c->kv.len) {
        tg__fail(TG_ERR_NOMEM, "out of memory for a KV cache of %d positions × %d sequences (%.1f MiB); "
                 "use a smaller context", n_ctx, c->kv.n_seq, (double)(kn + vn) / (1 << 20));
        goto fail;
    }

    carver cv = {0};
    layout(c, &cv, tg_pool_size(c->pool));
    if (cv.overflow) {
        tg__fail(TG_ERR_RANGE, "scratch memory size overflows");
        goto fail;
    }
    c->arena = aligned_alloc(64, (cv.off + 63) & ~(size_t)63);
    if (!c->arena) {
        tg__fail(TG_ERR_NOMEM, "out of memory for %.1f MiB of scratch", (double)cv.off / (1 << 20));
        goto fail;
    }
    cv = (carver){.base = c->arena};
    layout(c, &cv, tg_pool_size(c->pool));
    if (c->moe_counts)
        memset(c->moe_counts, 0, (size_t)hp->n_layer * (size_t)hp->n_expert * sizeof(uint64_t));
    return c;
fail:
    tg_ctx_free(c);
    return NULL;
}

void tg_ctx_free(tg_ctx *c) {
    if (!c)
        return;
    tg_pool_free(c->pool);
    free(c->kv.k);
    free(c->kv.v);
    free(c->kv.len);
    free(c->arena);
    free(c);
}

int32_t tg_ctx_n_ctx(const tg_ctx *c) { return c->kv.n_ctx; }
int tg_ctx_n_threads(const tg_ctx *c) { return tg_pool_size(c->pool); }
int32_t tg_ctx_n_outputs(const tg_ctx *c) { return c->n_outputs; }
const uint64_t *tg_ctx_moe_counts(const tg_ctx *c) { return c->moe_counts; }

const float *tg_ctx_logits(const tg_ctx *c, int32_t i) {
    if (i < 0 || i >= c->n_outputs)
        return NULL;
    return c->logits + (size_t)i * (size_t)c->model->hp.n_vocab;
}

int32_t tg_ctx_seq_len(const tg_ctx *c, int32_t seq) {
    return (seq >= 0 && seq < c->kv.n_seq) ? c->kv.len[seq] : 0;
}

void tg_ctx_seq_truncate(tg_ctx *c, int32_t seq, int32_t p0) {
    if (seq < 0 || seq >= c->kv.n_seq || p0 < 0)
        return;
    if (p0 < c->kv.len[seq])
        c->kv.len[seq] = p0;
}

/* Checks every token, sequence and position before anything is computed,
 * so a bad batch changes nothing. */
static tg_status validate(tg_ctx *c, const tg_batch *b, int32_t *pos, int32_t *seq, int32_t *n_out) {
    const int32_t n_vocab = c->model->hp.n_vocab;
    int32_t *next = c->next_pos;
    memcpy(next, c->kv.len, (size_t)c->kv.n_seq * sizeof *next);
    tg_status s = TG_OK;
    *n_out = 0;
    for (int32_t i = 0; i < b->n; i++) {
        if (b->token[i] < 0 || b->token[i] >= n_vocab) {
            s = tg__fail(TG_ERR_ARG, "token %d at batch index %d is not in the vocabulary (0..%d)", b->token[i], i,
                         n_vocab - 1);
            break;
        }
        seq[i] = b->seq ? b->seq[i] : 0;
        if (seq[i] < 0 || seq[i] >= c->kv.n_seq) {
            s = tg__fail(TG_ERR_ARG, "sequence %d out of range (the context has %d)", seq[i], c->kv.n_seq);
            break;
        }
        pos[i] = b->pos ? b->pos[i] : next[seq[i]];
        if (pos[i] < 0 || pos[i] > next[seq[i]]) {
            s = tg__fail(TG_ERR_ARG, "position %d of sequence %d skips ahead of its %d cached positions", pos[i],
                         seq[i], next[seq[i]]);
            break;
        }
        if (pos[i] >= c->kv.n_ctx) {
            s = tg__fail(TG_ERR_RANGE, "context full: position %d does not fit a context of %d tokens", pos[i],
                         c->kv.n_ctx);
            break;
        }
        next[seq[i]] = pos[i] + 1;
        if (b->output ? b->output[i] != 0 : i == b->n - 1)
            (*n_out)++;
    }
    if (!s && *n_out > c->n_outputs_max)
        s = tg__fail(TG_ERR_ARG, "batch asks for %d rows of logits; the context was created for at most %d",
                     *n_out, c->n_outputs_max);
    return s;
}

tg_status tg_ctx_decode(tg_ctx *c, const tg_batch *b) {
    c->n_outputs = 0;
    if (!b || b->n <= 0 || !b->token)
        return tg__fail(TG_ERR_ARG, "empty batch");
    /* Batches that fit one micro-batch (every decoding step) use the
     * context's own buffers: no allocation per token. */
    const bool small = b->n <= c->n_ubatch;
    int32_t *pos = small ? c->b_pos : tg__malloc((size_t)b->n * sizeof *pos);
    int32_t *seq = small ? c->b_seq : tg__malloc((size_t)b->n * sizeof *seq);
    int32_t *out_rows = c->b_out;
    int32_t *saved_len = c->saved_len;
    int32_t n_out = 0;
    tg_status s = (!pos || !seq) ? TG_ERR_NOMEM : validate(c, b, pos, seq, &n_out);
    /* a rejected batch changed nothing: only a failure while computing
     * puts the lengths back (saved_len is not written otherwise) */
    const bool validated = !s;
    if (validated)
        memcpy(saved_len, c->kv.len, (size_t)c->kv.n_seq * sizeof *saved_len);
    int32_t done_out = 0;
    for (int32_t i0 = 0; !s && i0 < b->n; i0 += c->n_ubatch) {
        tg__ubatch ub = {.n = TG_MIN(c->n_ubatch, b->n - i0), .token = b->token + i0, .pos = pos + i0, .seq = seq + i0};
        for (int32_t i = 0; i < ub.n; i++)
            if (b->output ? b->output[i0 + i] != 0 : i0 + i == b->n - 1)
                out_rows[ub.n_out++] = i;
        ub.out_rows = out_rows;
        ub.logits = c->logits + (size_t)done_out * (size_t)c->model->hp.n_vocab;
        /* positions from the earliest one rewritten onwards are replaced */
        for (int32_t i = 0; i < ub.n; i++)
            if (ub.pos[i] < c->kv.len[ub.seq[i]])
                c->kv.len[ub.seq[i]] = ub.pos[i];
        s = tg__forward(c, &ub);
        if (!s)
            for (int32_t i = 0; i < ub.n; i++)
                if (ub.pos[i] + 1 > c->kv.len[ub.seq[i]])
                    c->kv.len[ub.seq[i]] = ub.pos[i] + 1;
        done_out += ub.n_out;
    }
    if (s && validated)
        memcpy(c->kv.len, saved_len, (size_t)c->kv.n_seq * sizeof *saved_len);
    c->n_outputs = s ? 0 : done_out;
    if (!small) {
        free(pos);
        free(seq);
    }
    return s;
}
