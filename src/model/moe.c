/*
 * moe.c — the mixture-of-experts feed-forward block (Mixtral style).
 *
 * Per token: router logits = W_router·h over n_expert; softmax over all
 * experts; the top-k by probability (k = expert_used_count); their
 * probabilities renormalised to sum to 1 (the sum clamped below at the
 * smallest normal f16, as llama.cpp does) and scaled by
 * expert_weights_scale when that is neither 0 nor 1.  Then
 * out = Σ_slots w · down_e(silu(gate_e·h) ⊙ up_e·h), summed in slot order.
 *
 * Tokens are grouped by expert so each expert's matrices are read once per
 * micro-batch, however many tokens chose it.  Routing counts per layer and
 * expert are kept for `--moe-stats`.
 */
#include "model/model.h"
#include "tensor/ops.h"

#include <string.h>

/* Indices of the k largest of p[0..n) in decreasing order (ties: lower
 * index first). */
/* Experts one fused call can hold (more chosen in one batch: the loop). */
#define TG_MAX_EXPERTS_FUSED 64

static void top_k(const float *p, int n, int k, int32_t *out) {
    for (int s = 0; s < k; s++) {
        int best = -1;
        for (int e = 0; e < n; e++) {
            bool taken = false;
            for (int t = 0; t < s; t++)
                if (out[t] == e)
                    taken = true;
            if (!taken && (best < 0 || p[e] > p[best]))
                best = e;
        }
        out[s] = best;
    }
}

/* Appends the rows that chose expert e to gx (and their (row, slot) to
 * rows) from index m on; returns the new count. */
static int32_t gather_expert(tg_ctx *c, int e, int32_t n, int32_t m) {
    const tg__hparams *hp = &c->model->hp;
    const int64_t E = hp->n_embd;
    const int K = hp->n_expert_used;
    for (int32_t r = 0; r < n; r++)
        for (int s = 0; s < K; s++)
            if (c->sel[(size_t)r * K + s] == e) {
                c->rows[m] = r * K + s; /* (row, slot) */
                memcpy(c->gx + (size_t)m * E, c->xb + (size_t)r * E, (size_t)E * sizeof(float));
                m++;
            }
    return m;
}

/* The experts of a small batch (decoding: n * K <= n_ubatch rows in all)
 * in two pool calls, gate and up of every chosen expert, then every down,
 * instead of three calls per expert: each call waits for the slowest
 * thread, and an expert's matrices are small.  The rows of expert e sit
 * together in gx/act/hb.  Returns false (nothing done) where gate and up
 * want different activation types. */
static bool moe_fused(tg_ctx *c, const tg__layer *ly, int32_t n) {
    const tg__hparams *hp = &c->model->hp;
    const int64_t E = hp->n_embd, FF = hp->n_ff;
    const int NE = hp->n_expert;
    if (tg_type_get(ly->up_exps.type)->vec_dot_type != tg_type_get(ly->gate_exps.type)->vec_dot_type)
        return false;
    const size_t in_row = tg_type_row_size(tg_type_get(ly->gate_exps.type)->vec_dot_type, E);
    const size_t ff_row = tg_type_row_size(tg_type_get(ly->down_exps.type)->vec_dot_type, FF);
    tg__mm_task t[2 * TG_MAX_EXPERTS_FUSED];
    int nt = 0;
    int32_t m = 0, first[TG_MAX_EXPERTS_FUSED], count[TG_MAX_EXPERTS_FUSED], expert[TG_MAX_EXPERTS_FUSED];
    int ne = 0;
    for (int e = 0; e < NE; e++) {
        const int32_t m0 = m;
        m = gather_expert(c, e, n, m);
        if (m == m0)
            continue;
        if (ne == TG_MAX_EXPERTS_FUSED)
            return false; /* (nothing written that the loop would not rewrite) */
        first[ne] = m0;
        count[ne] = m - m0;
        expert[ne++] = e;
    }
    tg__matmul_prepare(c->pool, ly->gate_exps.type, c->gx, E, E, m, c->act);
    for (int i = 0; i < ne; i++) {
        const uint8_t *act = (const uint8_t *)c->act + (size_t)first[i] * in_row;
        t[nt++] = (tg__mm_task){&ly->gate_exps, expert[i], act, count[i], c->hb + (size_t)first[i] * FF, FF};
        t[nt++] = (tg__mm_task){&ly->up_exps, expert[i], act, count[i], c->hb2 + (size_t)first[i] * FF, FF};
    }
    tg__matmul_tasks(c->pool, t, nt);
    tg__ffn_gate_act(c, c->hb, c->hb2, (int64_t)m * FF, TG_FFN_SILU); /* SiLU's expf per value: both threads */
    /* every down projection into gx (its inputs are no longer needed) */
    tg__matmul_prepare(c->pool, ly->down_exps.type, c->hb, FF, FF, m, c->act);
    nt = 0;
    for (int i = 0; i < ne; i++)
        t[nt++] = (tg__mm_task){&ly->down_exps, expert[i], (const uint8_t *)c->act + (size_t)first[i] * ff_row,
                                count[i], c->gx + (size_t)first[i] * E, E};
    tg__matmul_tasks(c->pool, t, nt);
    for (int32_t i = 0; i < m; i++)
        memcpy(c->moe_out + (size_t)c->rows[i] * E, c->gx + (size_t)i * E, (size_t)E * sizeof(float));
    return true;
}

void tg__moe_ffn(tg_ctx *c, int il, int32_t n) {
    const tg__hparams *hp = &c->model->hp;
    const tg__layer *ly = &c->model->layers[il];
    const int64_t E = hp->n_embd, FF = hp->n_ff;
    const int NE = hp->n_expert, K = hp->n_expert_used;

    /* routing */
    tg__matmul_f32(c->pool, &ly->ffn_router, 0, c->xb, n, c->router, c->act);
    for (int32_t r = 0; r < n; r++) {
        float *prob = c->router + (size_t)r * NE;
        tg__softmax(prob, NE);
        int32_t *sel = c->sel + (size_t)r * K;
        float *w = c->sel_w + (size_t)r * K;
        top_k(prob, NE, K, sel);
        double sum = 0.0;
        for (int s = 0; s < K; s++) {
            w[s] = prob[sel[s]];
            sum += (double)w[s];
        }
        float fsum = (float)sum;
        if (fsum < 6.103515625e-5f)
            fsum = 6.103515625e-5f;
        for (int s = 0; s < K; s++) {
            w[s] = w[s] / fsum;
            if (hp->expert_weights_scale != 0.0f && hp->expert_weights_scale != 1.0f)
                w[s] *= hp->expert_weights_scale;
            c->moe_counts[(size_t)il * NE + sel[s]]++;
        }
    }

    /* each expert over the tokens that chose it: fused for small batches,
     * else expert by expert */
    const bool fused = (int64_t)n * K <= c->n_ubatch && moe_fused(c, ly, n);
    for (int e = 0; !fused && e < NE; e++) {
        const int32_t m = gather_expert(c, e, n, 0);
        if (m == 0)
            continue;
        tg__matmul_prepare(c->pool, ly->gate_exps.type, c->gx, E, E, m, c->act);
        tg__matmul(c->pool, &ly->gate_exps, e, c->act, m, c->hb, FF);
        if (tg_type_get(ly->up_exps.type)->vec_dot_type != tg_type_get(ly->gate_exps.type)->vec_dot_type)
            tg__matmul_prepare(c->pool, ly->up_exps.type, c->gx, E, E, m, c->act);
        tg__matmul(c->pool, &ly->up_exps, e, c->act, m, c->hb2, FF);
        tg__ffn_gate_act(c, c->hb, c->hb2, (int64_t)m * FF, TG_FFN_SILU); /* SiLU's expf per value: both threads */
        /* down projection for all m rows (into gx, whose inputs are no
         * longer needed), then each row to its (row, slot) place */
        tg__matmul_f32(c->pool, &ly->down_exps, e, c->hb, m, c->gx, c->act);
        for (int32_t i = 0; i < m; i++)
            memcpy(c->moe_out + (size_t)c->rows[i] * E, c->gx + (size_t)i * E, (size_t)E * sizeof(float));
    }

    /* weighted sum in slot order */
    for (int32_t r = 0; r < n; r++) {
        float *y = c->xb2 + (size_t)r * E;
        for (int s = 0; s < K; s++) {
            const float w = c->sel_w[(size_t)r * K + s];
            const float *o = c->moe_out + ((size_t)r * K + s) * E;
            if (s == 0)
                for (int64_t i = 0; i < E; i++)
                    y[i] = o[i] * w;
            else
                for (int64_t i = 0; i < E; i++)
                    y[i] = y[i] + o[i] * w;
        }
    }
}
