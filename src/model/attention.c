/*
 * attention.c — causal grouped-query attention of a micro-batch against the
 * f16 KV cache, with sliding windows for the layers that have one.
 *
 * For each (token, head): query head h reads KV head h / (n_head/n_head_kv);
 * scores s_c = K_c·q over the visible cells c (positions ≤ the token's, and
 * within the window on sliding-window layers), times kq_scale; softmax;
 * out = Σ_c p_c V_c.  Arithmetic as llama.cpp's default CPU path (no flash
 * attention): with the default f16 cache, q is rounded to f16 for K·q and the
 * probabilities to f16 for the V product.  The f16 products are the
 * dispatched kernels (tensor/kernels): double accumulation at the scalar
 * level, float FMA chains at the SIMD levels; the f32 cache stays scalar.
 *
 * Memory: scores for one (token, head) at a time, in per-thread scratch —
 * never the full (tokens × heads × context) matrix.
 */
#include "model/model.h"
#include "tensor/kernels/kernels.h"
#include "tensor/ops.h"

#include <string.h>

typedef struct att_job {
    tg_ctx *c;
    int il;
    const tg__ubatch *ub;
} att_job;

/* y = x rounded to f16 values (x and y may be the same row), through the
 * scratch row half. */
static void round_f16(const tg__kernels *kern, const float *x, float *y, uint16_t *half, int64_t n) {
    kern->f32_to_f16(x, half, n);
    kern->f16_to_f32(half, y, n);
}

static void att_worker(void *arg, int ith, int nth) {
    att_job *j = arg;
    tg_ctx *c = j->c;
    const tg__hparams *hp = &c->model->hp;
    const tg__layer *ly = &c->model->layers[j->il];
    const int hd = hp->head_dim_k, hdv = hp->head_dim_v;
    const int group = hp->n_head / hp->n_head_kv;
    const size_t k_row = c->kv.k_row, v_row = c->kv.v_row;
    /* With an f16 cache, llama.cpp converts the other operand of each
     * product to f16 too (q for K·q, the probabilities for V·p); with an f32
     * cache nothing is rounded. */
    const bool f16 = c->kv.type == TG_TYPE_F16;
    const tg__kernels *kern = tg__kernels_get();

    /* per head of a pair: scores over the context, then hd values of q
     * rounded like the cache */
    float *sc[2], *qrs[2];
    sc[0] = c->att_scratch + (size_t)ith * c->att_scratch_stride;
    qrs[0] = sc[0] + c->kv.n_ctx;
    sc[1] = qrs[0] + hd;
    qrs[1] = sc[1] + c->kv.n_ctx;
    float *scores = sc[0], *qr = qrs[0];
    /* hdv doubles after them; the offset is rounded up to an even number of
     * floats (and the stride is even), so they are 8-byte aligned */
    size_t acc_off = 2 * ((size_t)c->kv.n_ctx + (size_t)hd);
    acc_off += acc_off & 1;
    double *acc = (double *)(scores + acc_off);
    uint16_t *half = (uint16_t *)(scores + acc_off + 2 * (size_t)hdv); /* the rounding's f16 row */

    /* With an f16 cache, two query heads of one KV group at a time: each KV
     * row is widened to floats once for both (the kernels give each head
     * the bits of a one-head call).  Units are (token, head pair). */
    const int per = f16 && group % 2 == 0 ? 2 : 1;
    const int units_per_token = hp->n_head / per;
    long t0, t1;
    tg_pool_split((long)j->ub->n * units_per_token, ith, nth, &t0, &t1);
    for (long t = t0; t < t1; t++) {
        const int32_t i = (int32_t)(t / units_per_token);
        const int h = (int)(t % units_per_token) * per, kvh = h / group;
        const int32_t p = j->ub->pos[i];
        int32_t c0 = 0;
        if (ly->is_swa && hp->n_swa > 0 && p - hp->n_swa + 1 > 0)
            c0 = p - hp->n_swa + 1;
        const size_t base = ((size_t)j->il * (size_t)c->kv.n_seq + (size_t)j->ub->seq[i]) * (size_t)c->kv.n_ctx;
        const size_t k0 = base * k_row + (size_t)kvh * hd, v0 = base * v_row + (size_t)kvh * hdv;

        const float *q = c->q + (size_t)i * hp->n_head * hd + (size_t)h * hd;
        const int32_t n_vis = p - c0 + 1;
        float *out = c->att + (size_t)i * hp->n_head * hdv + (size_t)h * hdv;
        if (f16) {
            /* the dispatched kernels: the scalar level is the reference
             * arithmetic below, the SIMD levels the same products in float;
             * q and then the probabilities rounded through f16 with the
             * dispatched row conversions */
            const uint16_t *kc = (const uint16_t *)c->kv.k + k0 + (size_t)c0 * k_row;
            const uint16_t *vc = (const uint16_t *)c->kv.v + v0 + (size_t)c0 * v_row;
            for (int g = 0; g < per; g++)
                round_f16(kern, q + (size_t)g * hd, qrs[g], half, hd);
            if (per == 2)
                kern->att_scores2_f16(kc, k_row, n_vis, qrs[0], qrs[1], hd, hp->kq_scale, sc[0], sc[1]);
            else
                kern->att_scores_f16(kc, k_row, n_vis, qrs[0], hd, hp->kq_scale, sc[0]);
            for (int g = 0; g < per; g++) {
                tg__softmax(sc[g], n_vis);
                round_f16(kern, sc[g], sc[g], half, n_vis);
            }
            if (per == 2)
                kern->att_wsum2_f16(vc, v_row, n_vis, sc[0], sc[1], hdv, out, out + hdv);
            else
                kern->att_wsum_f16(vc, v_row, n_vis, sc[0], hdv, out);
            continue;
        }
        memcpy(qr, q, (size_t)hd * sizeof *qr);
        /* f32 cache: nothing rounded, dots in double */
        const float *kf = c->kv.k, *vf = c->kv.v;
        for (int32_t cc = 0; cc < n_vis; cc++) {
            const size_t kr = k0 + (size_t)(c0 + cc) * k_row;
            double s = 0.0;
            for (int d = 0; d < hd; d++)
                s += (double)(kf[kr + (size_t)d] * qr[d]);
            scores[cc] = (float)s * hp->kq_scale;
        }
        tg__softmax(scores, n_vis);

        for (int d = 0; d < hdv; d++)
            acc[d] = 0.0;
        for (int32_t cc = 0; cc < n_vis; cc++) {
            const float pw = scores[cc];
            if (pw == 0.0f)
                continue;
            const size_t vr = v0 + (size_t)(c0 + cc) * v_row;
            for (int d = 0; d < hdv; d++)
                acc[d] += (double)(vf[vr + (size_t)d] * pw);
        }
        for (int d = 0; d < hdv; d++)
            out[d] = (float)acc[d];
    }
}

void tg__attention(tg_ctx *c, int il, const tg__ubatch *ub) {
    att_job j = {c, il, ub};
    if ((long)ub->n * c->model->hp.n_head == 1)
        att_worker(&j, 0, 1);
    else
        tg_pool_run(c->pool, att_worker, &j);
}
