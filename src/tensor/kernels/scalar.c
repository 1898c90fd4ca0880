/*
 * scalar.c — the scalar level of the kernel table: the reference functions
 * of the traits table (tensor/tensor.h) and of the matmul's activation
 * quantizer, plus mm as a loop over vec_dot.
 *
 * This level is what every SIMD level is tested against; it must never
 * hold anything but the references (and the plain loop around them).
 */
#include "tensor/fp16.h"
#include "tensor/kernels/kernels.h"
#include "tensor/matmul.h"
#include "tensor/ops.h"
#include "tensor/tensor.h"

#include <string.h>

void tg__mm_generic(tg_vec_dot_fn dot, int64_t n, const void *w, size_t w_stride, int64_t nw,
                    const void *a, size_t a_stride, int64_t na, float *y, int64_t y_stride) {
    const uint8_t *wb = w, *ab = a;
    for (int64_t o = 0; o < nw; o++)
        for (int64_t r = 0; r < na; r++)
            y[r * y_stride + o] = dot(n, wb + (size_t)o * w_stride, ab + (size_t)r * a_stride);
}

/* One mm per type, since tg__mm_fn carries no vec_dot pointer. */
#define SCALAR_MM(t)                                                                           \
    static void mm_##t(int64_t n, const void *w, size_t ws, int64_t nw, const void *a,          \
                       size_t as, int64_t na, float *y, int64_t ys) {                          \
        tg__mm_generic(tg__##t##_vec_dot, n, w, ws, nw, a, as, na, y, ys);                     \
    }

SCALAR_MM(f32)
SCALAR_MM(f16)
SCALAR_MM(bf16)
SCALAR_MM(q4_0)
SCALAR_MM(q4_1)
SCALAR_MM(q5_0)
SCALAR_MM(q5_1)
SCALAR_MM(q8_0)
SCALAR_MM(q2_K)
SCALAR_MM(q3_K)
SCALAR_MM(q4_K)
SCALAR_MM(q5_K)
SCALAR_MM(q6_K)

static void act_q8_0(const float *x, void *y, int64_t n) {
    tg__quantize_act_row(TG_TYPE_Q8_0, x, y, n);
}

static void act_q8_1(const float *x, void *y, int64_t n) {
    tg__quantize_act_row(TG_TYPE_Q8_1, x, y, n);
}

/* The attention reference: each dot in double, in cell order. */
static void att_scores_f16(const uint16_t *k, size_t stride, int32_t n, const float *q, int hd, float scale,
                           float *s) {
    for (int32_t c = 0; c < n; c++) {
        const uint16_t *kr = k + (size_t)c * stride;
        double acc = 0.0;
        for (int d = 0; d < hd; d++)
            acc += (double)(tg__fp16_to_f32(kr[d]) * q[d]);
        s[c] = (float)acc * scale;
    }
}

static void att_wsum_f16(const uint16_t *v, size_t stride, int32_t n, const float *p, int hdv, float *out) {
    for (int d = 0; d < hdv; d++) {
        double acc = 0.0;
        for (int32_t c = 0; c < n; c++)
            if (p[c] != 0.0f)
                acc += (double)(tg__fp16_to_f32(v[(size_t)c * stride + (size_t)d]) * p[c]);
        out[d] = (float)acc;
    }
}

static void att_scores2_f16(const uint16_t *k, size_t stride, int32_t n, const float *q0, const float *q1, int hd,
                            float scale, float *s0, float *s1) {
    att_scores_f16(k, stride, n, q0, hd, scale, s0);
    att_scores_f16(k, stride, n, q1, hd, scale, s1);
}

static void att_wsum2_f16(const uint16_t *v, size_t stride, int32_t n, const float *p0, const float *p1, int hdv,
                          float *out0, float *out1) {
    att_wsum_f16(v, stride, n, p0, hdv, out0);
    att_wsum_f16(v, stride, n, p1, hdv, out1);
}

void tg__kernels_fill_scalar(tg__kernels *k) {
    memset(k, 0, sizeof *k);
    k->level = TG__CPU_SCALAR;
    k->level_name = tg__cpu_level_name(TG__CPU_SCALAR);
#define SET(T, t) k->type[TG_TYPE_##T] = (tg__type_kernels){tg__##t##_vec_dot, mm_##t}
    SET(F32, f32);
    SET(F16, f16);
    SET(BF16, bf16);
    SET(Q4_0, q4_0);
    SET(Q4_1, q4_1);
    SET(Q5_0, q5_0);
    SET(Q5_1, q5_1);
    SET(Q8_0, q8_0);
    SET(Q2_K, q2_K);
    SET(Q3_K, q3_K);
    SET(Q4_K, q4_K);
    SET(Q5_K, q5_K);
    SET(Q6_K, q6_K);
#undef SET
    /* Any type's own encoder by default; the activation types as below. */
    for (uint32_t t = 0; t < TG_TYPE_COUNT; t++) {
        const tg_type_traits *tr = tg_type_get(t);
        if (tr && tr->from_float)
            k->quantize_act[t] = tr->from_float;
    }
    k->quantize_act[TG_TYPE_F32] = tg__f32_from_float;
    k->quantize_act[TG_TYPE_F16] = tg__f16_from_float;
    k->quantize_act[TG_TYPE_BF16] = tg__bf16_from_float;
    k->quantize_act[TG_TYPE_Q8_0] = act_q8_0;
    k->quantize_act[TG_TYPE_Q8_1] = act_q8_1;
    k->quantize_act[TG_TYPE_Q8_K] = tg__q8_K_from_float;
    k->f32_to_f16 = tg__f16_from_float;
    k->f16_to_f32 = tg__f16_to_float;
    k->att_scores_f16 = att_scores_f16;
    k->att_wsum_f16 = att_wsum_f16;
    k->att_scores2_f16 = att_scores2_f16;
    k->att_wsum2_f16 = att_wsum2_f16;
    k->geglu = tg__geglu;
    k->swiglu = tg__swiglu;
}
