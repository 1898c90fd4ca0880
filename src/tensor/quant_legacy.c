/*
 * quant_legacy.c — the 32-element block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
 * and Q8_1: decode, ggml's reference encoders, and scalar dot products
 * against the activation types Q8_0 (for Q4_0/Q5_0/Q8_0) and Q8_1 (for
 * Q4_1/Q5_1).
 *
 * Every float expression is written in the order ggml's reference C (and,
 * for decoding, gguf-py's numpy) evaluates it, because the build forbids
 * contraction into FMA and we want bit-identical results, not just close
 * ones.  Encoders take floats the caller produced, but must still not hit
 * undefined behaviour on NaN/Inf: every float->int conversion is clamped
 * first (which changes nothing for finite inputs).
 */
#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quant_util.h"
#include "tensor/tensor.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---- decode ------------------------------------------------------------ */

void tg__q4_0_to_float(const void *src, float *dst, int64_t n) {
    const tg_block_q4_0 *x = src;
    for (int64_t i = 0; i < n / TG_QK4_0; i++, dst += TG_QK4_0) {
        const float d = tg__fp16_to_f32(x[i].d);
        for (int j = 0; j < TG_QK4_0 / 2; j++) {
            dst[j] = d * (float)((x[i].qs[j] & 0x0f) - 8);
            dst[j + TG_QK4_0 / 2] = d * (float)((x[i].qs[j] >> 4) - 8);
        }
    }
}

void tg__q4_1_to_float(const void *src, float *dst, int64_t n) {
    const tg_block_q4_1 *x = src;
    for (int64_t i = 0; i < n / TG_QK4_1; i++, dst += TG_QK4_1) {
        const float d = tg__fp16_to_f32(x[i].d);
        const float m = tg__fp16_to_f32(x[i].m);
        for (int j = 0; j < TG_QK4_1 / 2; j++) {
            dst[j] = d * (float)(x[i].qs[j] & 0x0f) + m;
            dst[j + TG_QK4_1 / 2] = d * (float)(x[i].qs[j] >> 4) + m;
        }
    }
}

/* The 32 high bits of a Q5 block, bit j for element j. */
static inline uint32_t q5_high_bits(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | ((uint32_t)qh[1] << 8) | ((uint32_t)qh[2] << 16) | ((uint32_t)qh[3] << 24);
}

void tg__q5_0_to_float(const void *src, float *dst, int64_t n) {
    const tg_block_q5_0 *x = src;
    for (int64_t i = 0; i < n / TG_QK5_0; i++, dst += TG_QK5_0) {
        const float d = tg__fp16_to_f32(x[i].d);
        const uint32_t qh = q5_high_bits(x[i].qh);
        for (int j = 0; j < TG_QK5_0 / 2; j++) {
            const int lo = (x[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            const int hi = (x[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            dst[j] = d * (float)(lo - 16);
            dst[j + TG_QK5_0 / 2] = d * (float)(hi - 16);
        }
    }
}

void tg__q5_1_to_float(const void *src, float *dst, int64_t n) {
    const tg_block_q5_1 *x = src;
    for (int64_t i = 0; i < n / TG_QK5_1; i++, dst += TG_QK5_1) {
        const float d = tg__fp16_to_f32(x[i].d);
        const float m = tg__fp16_to_f32(x[i].m);
        const uint32_t qh = q5_high_bits(x[i].qh);
        for (int j = 0; j < TG_QK5_1 / 2; j++) {
            const int lo = (x[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            const int hi = (x[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            dst[j] = d * (float)lo + m;
            dst[j + TG_QK5_1 / 2] = d * (float)hi + m;
        }
    }
}

void tg__q8_0_to_float(const void *src, float *dst, int64_t n) {
    const tg_block_q8_0 *x = src;
    for (int64_t i = 0; i < n / TG_QK8_0; i++, dst += TG_QK8_0) {
        const float d = tg__fp16_to_f32(x[i].d);
        for (int j = 0; j < TG_QK8_0; j++)
            dst[j] = (float)x[i].qs[j] * d;
    }
}

void tg__q8_1_to_float(const void *src, float *dst, int64_t n) {
    const tg_block_q8_1 *x = src;
    for (int64_t i = 0; i < n / TG_QK8_1; i++, dst += TG_QK8_1) {
        const float d = tg__fp16_to_f32(x[i].d);
        for (int j = 0; j < TG_QK8_1; j++)
            dst[j] = (float)x[i].qs[j] * d;
    }
}

/* ---- encode (ggml's quantize_row_*_ref) -------------------------------- */

/* The value of largest magnitude (first one on ties), with its sign. */
static float signed_absmax(const float *x, int n, float *amax_out) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    *amax_out = amax;
    return max;
}

void tg__q4_0_from_float(const float *x, void *dst, int64_t n) {
    tg_block_q4_0 *y = dst;
    for (int64_t i = 0; i < n / TG_QK4_0; i++, x += TG_QK4_0) {
        float amax;
        const float max = signed_absmax(x, TG_QK4_0, &amax);
        /* Dividing by -8 maps the extreme value to nibble 0, so the other
         * side gets the full +7 and no code is wasted. */
        const float d = max / -8;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = tg__fp32_to_fp16(d);
        for (int j = 0; j < TG_QK4_0 / 2; j++) {
            const int q0 = tg__trunc_clamp(x[j] * id + 8.5f, 0, 15);
            const int q1 = tg__trunc_clamp(x[j + TG_QK4_0 / 2] * id + 8.5f, 0, 15);
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

/* Minimum and maximum of a block, as ggml's Q4_1/Q5_1 encoders find them. */
static void block_min_max(const float *x, int n, float *min_out, float *max_out) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < n; j++) {
        if (x[j] < min)
            min = x[j];
        if (x[j] > max)
            max = x[j];
    }
    *min_out = min;
    *max_out = max;
}

void tg__q4_1_from_float(const float *x, void *dst, int64_t n) {
    tg_block_q4_1 *y = dst;
    for (int64_t i = 0; i < n / TG_QK4_1; i++, x += TG_QK4_1) {
        float min, max;
        block_min_max(x, TG_QK4_1, &min, &max);
        const float d = (max - min) / 15;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = tg__fp32_to_fp16(d);
        y[i].m = tg__fp32_to_fp16(min);
        for (int j = 0; j < TG_QK4_1 / 2; j++) {
            const int q0 = tg__trunc_clamp((x[j] - min) * id + 0.5f, 0, 15);
            const int q1 = tg__trunc_clamp((x[j + TG_QK4_1 / 2] - min) * id + 0.5f, 0, 15);
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

/* Packs 32 five-bit codes: low nibbles into qs, fifth bits into qh (u32 LE). */
static void q5_pack(const int q[32], uint8_t qs[16], uint8_t qh[4]) {
    uint32_t h = 0;
    for (int j = 0; j < 16; j++) {
        qs[j] = (uint8_t)((q[j] & 0x0f) | ((q[j + 16] & 0x0f) << 4));
        h |= (uint32_t)((q[j] >> 4) & 1) << j;
        h |= (uint32_t)((q[j + 16] >> 4) & 1) << (j + 16);
    }
    for (int b = 0; b < 4; b++)
        qh[b] = (uint8_t)(h >> (8 * b));
}

void tg__q5_0_from_float(const float *x, void *dst, int64_t n) {
    tg_block_q5_0 *y = dst;
    for (int64_t i = 0; i < n / TG_QK5_0; i++, x += TG_QK5_0) {
        float amax;
        const float max = signed_absmax(x, TG_QK5_0, &amax);
        const float d = max / -16;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = tg__fp32_to_fp16(d);
        int q[32];
        for (int j = 0; j < TG_QK5_0; j++)
            q[j] = tg__trunc_clamp(x[j] * id + 16.5f, 0, 31);
        q5_pack(q, y[i].qs, y[i].qh);
    }
}

void tg__q5_1_from_float(const float *x, void *dst, int64_t n) {
    tg_block_q5_1 *y = dst;
    for (int64_t i = 0; i < n / TG_QK5_1; i++, x += TG_QK5_1) {
        float min, max;
        block_min_max(x, TG_QK5_1, &min, &max);
        const float d = (max - min) / 31;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = tg__fp32_to_fp16(d);
        y[i].m = tg__fp32_to_fp16(min);
        int q[32];
        for (int j = 0; j < TG_QK5_1; j++)
            q[j] = tg__trunc_clamp((x[j] - min) * id + 0.5f, 0, 31);
        q5_pack(q, y[i].qs, y[i].qh);
    }
}

/* Q8_0 the reference way: d = amax/127, q = roundf(x * (1/d)) (ties away
 * from zero).  ggml's AVX2 path instead multiplies by 127/amax and rounds
 * ties to even, which can differ in the last code; we keep the reference. */
void tg__q8_0_from_float(const float *x, void *dst, int64_t n) {
    tg_block_q8_0 *y = dst;
    for (int64_t i = 0; i < n / TG_QK8_0; i++, x += TG_QK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < TG_QK8_0; j++)
            amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = tg__fp32_to_fp16(d);
        for (int j = 0; j < TG_QK8_0; j++)
            y[i].qs[j] = (int8_t)tg__round_clamp(x[j] * id, -127, 127);
    }
}

void tg__q8_1_from_float(const float *x, void *dst, int64_t n) {
    tg_block_q8_1 *y = dst;
    for (int64_t i = 0; i < n / TG_QK8_1; i++, x += TG_QK8_1) {
        float amax = 0.0f;
        for (int j = 0; j < TG_QK8_1; j++)
            amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = tg__fp32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < TG_QK8_1; j++) {
            y[i].qs[j] = (int8_t)tg__round_clamp(x[j] * id, -127, 127);
            sum += y[i].qs[j];
        }
        /* s uses the f32 d, not its f16 rounding, as ggml does. */
        y[i].s = tg__fp32_to_fp16((float)sum * d);
    }
}

/* ---- dot products (ggml's *_generic order) ------------------------------ */

float tg__q4_0_vec_dot(int64_t n, const void *vx, const void *vy) {
    const tg_block_q4_0 *x = vx;
    const tg_block_q8_0 *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / TG_QK8_0; i++) {
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < TG_QK8_0 / 2; j++) {
            sumi0 += ((x[i].qs[j] & 0x0f) - 8) * y[i].qs[j];
            sumi1 += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + TG_QK8_0 / 2];
        }
        const int sumi = sumi0 + sumi1;
        sum += (float)sumi * tg__fp16_to_f32(x[i].d) * tg__fp16_to_f32(y[i].d);
    }
    return sum;
}

float tg__q4_1_vec_dot(int64_t n, const void *vx, const void *vy) {
    const tg_block_q4_1 *x = vx;
    const tg_block_q8_1 *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / TG_QK8_1; i++) {
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < TG_QK8_1 / 2; j++) {
            sumi0 += (x[i].qs[j] & 0x0f) * y[i].qs[j];
            sumi1 += (x[i].qs[j] >> 4) * y[i].qs[j + TG_QK8_1 / 2];
        }
        const int sumi = sumi0 + sumi1;
        /* The min term: m * sum(y) = m * s, with s precomputed in y. */
        sum += (tg__fp16_to_f32(x[i].d) * tg__fp16_to_f32(y[i].d)) * (float)sumi +
               tg__fp16_to_f32(x[i].m) * tg__fp16_to_f32(y[i].s);
    }
    return sum;
}

float tg__q5_0_vec_dot(int64_t n, const void *vx, const void *vy) {
    const tg_block_q5_0 *x = vx;
    const tg_block_q8_0 *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / TG_QK8_0; i++) {
        const uint32_t qh = q5_high_bits(x[i].qh);
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < TG_QK8_0 / 2; j++) {
            const int x0 = ((x[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4)) - 16;
            const int x1 = ((x[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4)) - 16;
            sumi0 += x0 * y[i].qs[j];
            sumi1 += x1 * y[i].qs[j + TG_QK8_0 / 2];
        }
        const int sumi = sumi0 + sumi1;
        sum += (tg__fp16_to_f32(x[i].d) * tg__fp16_to_f32(y[i].d)) * (float)sumi;
    }
    return sum;
}

float tg__q5_1_vec_dot(int64_t n, const void *vx, const void *vy) {
    const tg_block_q5_1 *x = vx;
    const tg_block_q8_1 *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / TG_QK8_1; i++) {
        const uint32_t qh = q5_high_bits(x[i].qh);
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < TG_QK8_1 / 2; j++) {
            const int x0 = (x[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            const int x1 = (x[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            sumi0 += x0 * y[i].qs[j];
            sumi1 += x1 * y[i].qs[j + TG_QK8_1 / 2];
        }
        const int sumi = sumi0 + sumi1;
        sum += (tg__fp16_to_f32(x[i].d) * tg__fp16_to_f32(y[i].d)) * (float)sumi +
               tg__fp16_to_f32(x[i].m) * tg__fp16_to_f32(y[i].s);
    }
    return sum;
}

float tg__q8_0_vec_dot(int64_t n, const void *vx, const void *vy) {
    const tg_block_q8_0 *x = vx;
    const tg_block_q8_0 *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / TG_QK8_0; i++) {
        int sumi = 0;
        for (int j = 0; j < TG_QK8_0; j++)
            sumi += x[i].qs[j] * y[i].qs[j];
        sum += (float)sumi * (tg__fp16_to_f32(x[i].d) * tg__fp16_to_f32(y[i].d));
    }
    return sum;
}
