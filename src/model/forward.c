/*
 * forward.c — the transformer forward pass for one micro-batch.
 *
 *   x = embed(tokens) · embd_scale
 *   for each layer:
 *       h = rmsnorm(x; attn_norm)
 *       q, k, v = Wq·h (+b), Wk·h (+b), Wv·h (+b)
 *       q, k = rmsnorm per head (QK-norm models); RoPE(q, k); q ·= attn_q_scale
 *       k, v → KV cache (f16);  a = attention(q, cache)
 *       a = Wo·a (+b);  a = rmsnorm(a; post_attn_norm) (gemma)
 *       x = x + a
 *       h = rmsnorm(x; ffn_norm)
 *       f = Wdown·(act(Wgate·h) ⊙ Wup·h)   or the mixture of experts
 *       f = rmsnorm(f; post_ffn_norm) (gemma)
 *       x = x + f
 *   logits = Wout·rmsnorm(x; output_norm), for the rows that asked for them
 *
 * In the last layer only the rows whose logits are wanted go on past the
 * attention (the others only had to fill the KV cache), as llama.cpp does.
 * Shapes in comments are (rows, columns) of row-major float buffers.
 */
#include "model/model.h"
#include "tensor/fp16.h"
#include "tensor/kernels/kernels.h"
#include "tensor/ops.h"

#include <math.h>
#include <string.h>

/* ---- small parallel helpers ------------------------------------------------ */

typedef struct norm_job {
    float *y;
    const float *x;
    const float *w;
    int64_t n, stride;
    int32_t rows;
    float eps;
} norm_job;

static void norm_worker(void *arg, int ith, int nth) {
    norm_job *j = arg;
    long r0, r1;
    tg_pool_split(j->rows, ith, nth, &r0, &r1);
    for (long r = r0; r < r1; r++)
        tg__rms_norm(j->y + r * j->stride, j->x + r * j->stride, j->w, j->n, j->eps);
}

/* y[r] = rmsnorm(x[r]) ⊙ w for `rows` rows of n values, `stride` apart. */
static void rms_norm_rows(tg_ctx *c, float *y, const float *x, const float *w, int64_t n, int64_t stride,
                          int32_t rows) {
    norm_job j = {y, x, w, n, stride, rows, c->model->hp.norm_eps};
    if (rows * n < 16384)
        norm_worker(&j, 0, 1);
    else
        tg_pool_run(c->pool, norm_worker, &j);
}

static void add_bias(float *y, const float *b, int64_t n_out, int32_t rows) {
    if (!b)
        return;
    for (int32_t r = 0; r < rows; r++)
        for (int64_t o = 0; o < n_out; o++)
            y[r * n_out + o] += b[o];
}

/* y = W·x (+ b) for `rows` rows. */
static void linear(tg_ctx *c, const tg__mat *w, const float *b, const float *x, int32_t rows, float *y) {
    tg__matmul_f32(c->pool, w, 0, x, rows, y, c->act);
    add_bias(y, b, w->n_out, rows);
}

/* ---- attention block -------------------------------------------------------- */

/* q, k and v of xb.  They read the same input: where the three weights
 * take the same activation type it is converted once and the three
 * matmuls share one pool call (decoding, three calls per layer were three
 * wake-ups and waits for a few hundred microseconds of work). */
static void qkv_projections(tg_ctx *c, const tg__layer *ly, int32_t n) {
    const tg_type at = tg_type_get(ly->wq.type)->vec_dot_type;
    if (tg_type_get(ly->wk.type)->vec_dot_type != at || tg_type_get(ly->wv.type)->vec_dot_type != at) {
        linear(c, &ly->wq, ly->bq, c->xb, n, c->q);
        linear(c, &ly->wk, ly->bk, c->xb, n, c->k);
        linear(c, &ly->wv, ly->bv, c->xb, n, c->v);
        return;
    }
    const int64_t E = c->model->hp.n_embd;
    tg__matmul_prepare(c->pool, ly->wq.type, c->xb, E, E, n, c->act);
    const tg__mm_task t[3] = {{&ly->wq, 0, c->act, n, c->q, ly->wq.n_out},
                              {&ly->wk, 0, c->act, n, c->k, ly->wk.n_out},
                              {&ly->wv, 0, c->act, n, c->v, ly->wv.n_out}};
    tg__matmul_tasks(c->pool, t, 3);
    add_bias(c->q, ly->bq, ly->wq.n_out, n);
    add_bias(c->k, ly->bk, ly->wk.n_out, n);
    add_bias(c->v, ly->bv, ly->wv.n_out, n);
}

typedef struct qk_job {
    tg_ctx *c;
    const tg__layer *ly;
    const tg__ubatch *ub;
} qk_job;

/* Per row: QK-norm, RoPE and the Q scale, then K and V into the cache. */
static void qk_worker(void *arg, int ith, int nth) {
    qk_job *j = arg;
    tg_ctx *c = j->c;
    const tg__hparams *hp = &c->model->hp;
    const tg__layer *ly = j->ly;
    const int64_t hd = hp->head_dim_k, QD = (int64_t)hp->n_head * hd, KD = (int64_t)hp->n_head_kv * hd;
    const int64_t VD = (int64_t)hp->n_head_kv * hp->head_dim_v;
    const int il = (int)(ly - c->model->layers);
    float cache[2 * 4096];
    long r0, r1;
    tg_pool_split(j->ub->n, ith, nth, &r0, &r1);
    for (long r = r0; r < r1; r++) {
        float *q = c->q + r * QD, *k = c->k + r * KD;
        const float *v = c->v + r * VD;
        if (ly->q_norm) {
            for (int h = 0; h < hp->n_head; h++)
                tg__rms_norm(q + h * hd, q + h * hd, ly->q_norm, hd, hp->norm_eps);
            for (int h = 0; h < hp->n_head_kv; h++)
                tg__rms_norm(k + h * hd, k + h * hd, ly->k_norm, hd, hp->norm_eps);
        }
        tg__rope_cache(cache, hp->n_rot, j->ub->pos[r], ly->rope_base, ly->rope_scale, c->model->rope_freqs);
        for (int h = 0; h < hp->n_head; h++)
            tg__rope_apply(q + h * hd, hp->n_rot, cache, hp->rope_neox);
        for (int h = 0; h < hp->n_head_kv; h++)
            tg__rope_apply(k + h * hd, hp->n_rot, cache, hp->rope_neox);
        if (hp->attn_q_scale != 1.0f)
            for (int64_t i = 0; i < QD; i++)
                q[i] *= hp->attn_q_scale;
        const size_t cell = ((size_t)il * (size_t)c->kv.n_seq + (size_t)j->ub->seq[r]) * (size_t)c->kv.n_ctx +
                            (size_t)j->ub->pos[r];
        if (c->kv.type == TG_TYPE_F16) { /* llama.cpp's default KV type */
            uint16_t *kc = (uint16_t *)c->kv.k + cell * c->kv.k_row, *vc = (uint16_t *)c->kv.v + cell * c->kv.v_row;
            for (int64_t i = 0; i < KD; i++)
                kc[i] = tg__fp32_to_fp16(k[i]);
            for (int64_t i = 0; i < VD; i++)
                vc[i] = tg__fp32_to_fp16(v[i]);
        } else {
            memcpy((float *)c->kv.k + cell * c->kv.k_row, k, (size_t)KD * sizeof(float));
            memcpy((float *)c->kv.v + cell * c->kv.v_row, v, (size_t)VD * sizeof(float));
        }
    }
}

/* x += attention block; returns the number of rows that continue (all, or
 * only the output rows in the last layer). */
static int32_t attention_block(tg_ctx *c, int il, const tg__ubatch *ub) {
    const tg_model *m = c->model;
    const tg__hparams *hp = &m->hp;
    const tg__layer *ly = &m->layers[il];
    const int64_t E = hp->n_embd;
    int32_t n = ub->n;

    rms_norm_rows(c, c->xb, c->x, ly->attn_norm, E, E, n);
    qkv_projections(c, ly, n);
    qk_job qj = {c, ly, ub};
    if (n == 1)
        qk_worker(&qj, 0, 1);
    else
        tg_pool_run(c->pool, qk_worker, &qj);
    tg__attention(c, il, ub);
    linear(c, &ly->wo, ly->bo, c->att, n, c->xb2);

    if (il == hp->n_layer - 1) {
        /* keep only the rows whose logits are wanted */
        for (int32_t r = 0; r < ub->n_out; r++) {
            int32_t src = ub->out_rows[r];
            if (src != r) {
                memmove(c->x + r * E, c->x + (int64_t)src * E, (size_t)E * sizeof(float));
                memmove(c->xb2 + r * E, c->xb2 + (int64_t)src * E, (size_t)E * sizeof(float));
            }
        }
        n = ub->n_out;
    }
    if (ly->post_attn_norm)
        rms_norm_rows(c, c->xb2, c->xb2, ly->post_attn_norm, E, E, n);
    for (int64_t i = 0; i < (int64_t)n * E; i++)
        c->x[i] = c->xb2[i] + c->x[i];
    return n;
}

/* ---- feed-forward block ----------------------------------------------------- */

typedef struct act_job {
    float *g;
    const float *u;
    int64_t n;
    tg__ffn_act act;
} act_job;

static void act_worker(void *arg, int ith, int nth) {
    act_job *j = arg;
    long i0, i1;
    tg_pool_split((long)j->n, ith, nth, &i0, &i1);
    if (j->act == TG_FFN_GELU)
        tg__kernels_get()->geglu(j->g + i0, j->g + i0, j->u + i0, i1 - i0);
    else
        tg__kernels_get()->swiglu(j->g + i0, j->g + i0, j->u + i0, i1 - i0);
}

void tg__ffn_gate_act(tg_ctx *c, float *g, const float *u, int64_t n, tg__ffn_act act) {
    act_job aj = {g, u, n, act};
    tg_pool_run(c->pool, act_worker, &aj);
}

static void dense_ffn(tg_ctx *c, const tg__layer *ly, int32_t n) {
    const tg__hparams *hp = &c->model->hp;
    /* gate and up read the same input: convert it once */
    tg__matmul_prepare(c->pool, ly->ffn_gate.type, c->xb, hp->n_embd, hp->n_embd, n, c->act);
    if (tg_type_get(ly->ffn_up.type)->vec_dot_type == tg_type_get(ly->ffn_gate.type)->vec_dot_type) {
        /* one pool call for both */
        const tg__mm_task t[2] = {{&ly->ffn_gate, 0, c->act, n, c->hb, hp->n_ff}, {&ly->ffn_up, 0, c->act, n, c->hb2, hp->n_ff}};
        tg__matmul_tasks(c->pool, t, 2);
    } else {
        tg__matmul(c->pool, &ly->ffn_gate, 0, c->act, n, c->hb, hp->n_ff);
        tg__matmul_prepare(c->pool, ly->ffn_up.type, c->xb, hp->n_embd, hp->n_embd, n, c->act);
        tg__matmul(c->pool, &ly->ffn_up, 0, c->act, n, c->hb2, hp->n_ff);
    }
    add_bias(c->hb, ly->ffn_gate_b, hp->n_ff, n);
    add_bias(c->hb2, ly->ffn_up_b, hp->n_ff, n);
    tg__ffn_gate_act(c, c->hb, c->hb2, (int64_t)n * hp->n_ff, hp->ffn_act);
    linear(c, &ly->ffn_down, ly->ffn_down_b, c->hb, n, c->xb2);
}

static void ffn_block(tg_ctx *c, int il, int32_t n) {
    const tg__hparams *hp = &c->model->hp;
    const tg__layer *ly = &c->model->layers[il];
    const int64_t E = hp->n_embd;
    if (n == 0)
        return;
    rms_norm_rows(c, c->xb, c->x, ly->ffn_norm, E, E, n);
    if (hp->n_expert)
        tg__moe_ffn(c, il, n);
    else
        dense_ffn(c, ly, n);
    if (ly->post_ffn_norm)
        rms_norm_rows(c, c->xb2, c->xb2, ly->post_ffn_norm, E, E, n);
    for (int64_t i = 0; i < (int64_t)n * E; i++)
        c->x[i] = c->xb2[i] + c->x[i];
}

/* ---- the whole pass ------------------------------------------------------------ */

tg_status tg__forward(tg_ctx *c, const tg__ubatch *ub) {
    const tg_model *m = c->model;
    const tg__hparams *hp = &m->hp;
    const int64_t E = hp->n_embd;
    const tg_type_traits *et = tg_type_get(m->token_embd.type);

    for (int32_t i = 0; i < ub->n; i++) {
        float *x = c->x + i * E;
        et->to_float(m->token_embd.data + (size_t)ub->token[i] * m->token_embd.row_bytes, x, E);
        if (hp->embd_scale != 1.0f)
            for (int64_t k = 0; k < E; k++)
                x[k] *= hp->embd_scale;
    }

    int32_t n = ub->n;
    for (int il = 0; il < hp->n_layer; il++) {
        n = attention_block(c, il, ub);
        ffn_block(c, il, n);
    }

    if (ub->n_out == 0)
        return TG_OK;
    rms_norm_rows(c, c->xb, c->x, m->output_norm, E, E, ub->n_out);
    tg__matmul_f32(c->pool, &m->output, 0, c->xb, ub->n_out, ub->logits, c->act);
    if (hp->final_softcap > 0.0f) {
        const float cap = hp->final_softcap;
        for (int64_t i = 0; i < (int64_t)ub->n_out * hp->n_vocab; i++)
            ub->logits[i] = tanhf(ub->logits[i] * (1.0f / cap)) * cap;
    }
    return TG_OK;
}
