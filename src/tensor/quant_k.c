/*
 * quant_k.c — the 256-element "K" super-block types Q2_K, Q3_K, Q4_K, Q5_K
 * and Q6_K (decode and scalar dot products against Q8_K), and Q8_K itself,
 * the activation type they are multiplied with (encode and decode).
 *
 * Decoding writes each float expression in the order gguf-py's numpy code
 * (and ggml's dequantize_row_*) evaluates it: the sub-block scale is formed
 * first as d*sc in float, then multiplied by the quant, then the min term is
 * subtracted.  With contraction off this makes our output bit-identical.
 *
 * The dot products mirror ggml's *_generic functions, including their
 * summation structure: integer products per element, accumulated into 8
 * lanes (element index mod 8) per super-block, each lane scaled by d in
 * float and kept in a per-lane float sum that is only reduced at the end.
 * That shape is what makes the result reproducible to the last bit, and it
 * is the reference the SIMD kernels will be compared against.  The encoders
 * of the weight types are in quant_k_ref.c.
 */
#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quant_util.h"
#include "tensor/tensor.h"

#include <math.h>
#include <string.h>

/* The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block.
 * Bytes 0-3 hold scales 0-3 (low 6 bits), bytes 4-7 mins 0-3; bytes 8-11
 * hold the low 4 bits of scale/min 4-7, whose top 2 bits sit in the spare
 * high bits of bytes 0-7. */
static inline void k4_scale_min(int j, const uint8_t *s, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* The signed 6-bit scale (-32..31) of sub-block j (0..15) of a Q3_K block:
 * low 4 bits from the nibbles of bytes 0-7, high 2 bits from bytes 8-11. */
static inline int k3_scale(int j, const uint8_t *s) {
    const int lo = j < 8 ? (s[j] & 0x0f) : (s[j - 8] >> 4);
    const int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (lo | (hi << 4)) - 32;
}

/* ---- decode ------------------------------------------------------------ */

void tg__q2_K_to_float(const void *src, float *y, int64_t n) {
    const tg_block_q2_K *x = src;
    for (int64_t i = 0; i < n / TG_QK_K; i++) {
        const float d = tg__fp16_to_f32(x[i].d);
        const float dmin = tg__fp16_to_f32(x[i].dmin);
        const uint8_t *q = x[i].qs;
        int is = 0;
        for (int h = 0; h < 2; h++, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    const uint8_t sc = x[i].scales[is++];
                    const float dl = d * (float)(sc & 0x0f);
                    const float ml = dmin * (float)(sc >> 4);
                    for (int l = 0; l < 16; l++)
                        *y++ = dl * (float)((q[16 * half + l] >> shift) & 3) - ml;
                }
            }
        }
    }
}

void tg__q3_K_to_float(const void *src, float *y, int64_t n) {
    const tg_block_q3_K *x = src;
    for (int64_t i = 0; i < n / TG_QK_K; i++) {
        const float d = tg__fp16_to_f32(x[i].d);
        const uint8_t *q = x[i].qs;
        const uint8_t *hm = x[i].hmask;
        int is = 0;
        uint8_t m = 1;
        for (int h = 0; h < 2; h++, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (int half = 0; half < 2; half++) {
                    const float dl = d * (float)k3_scale(is++, x[i].scales);
                    for (int l = 16 * half; l < 16 * half + 16; l++) {
                        /* A clear high bit means "subtract 4". */
                        const int v = ((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4);
                        *y++ = dl * (float)v;
                    }
                }
            }
        }
    }
}

void tg__q4_K_to_float(const void *src, float *y, int64_t n) {
    const tg_block_q4_K *x = src;
    for (int64_t i = 0; i < n / TG_QK_K; i++) {
        const float d = tg__fp16_to_f32(x[i].d);
        const float dmin = tg__fp16_to_f32(x[i].dmin);
        const uint8_t *q = x[i].qs;
        for (int c = 0; c < 4; c++, q += 32) {
            int sc, m;
            k4_scale_min(2 * c, x[i].scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            k4_scale_min(2 * c + 1, x[i].scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            for (int l = 0; l < 32; l++)
                *y++ = d1 * (float)(q[l] & 0x0f) - m1;
            for (int l = 0; l < 32; l++)
                *y++ = d2 * (float)(q[l] >> 4) - m2;
        }
    }
}

void tg__q5_K_to_float(const void *src, float *y, int64_t n) {
    const tg_block_q5_K *x = src;
    for (int64_t i = 0; i < n / TG_QK_K; i++) {
        const float d = tg__fp16_to_f32(x[i].d);
        const float dmin = tg__fp16_to_f32(x[i].dmin);
        const uint8_t *ql = x[i].qs;
        const uint8_t *qh = x[i].qh;
        uint8_t u1 = 1, u2 = 2;
        for (int c = 0; c < 4; c++, ql += 32, u1 <<= 2, u2 <<= 2) {
            int sc, m;
            k4_scale_min(2 * c, x[i].scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            k4_scale_min(2 * c + 1, x[i].scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            for (int l = 0; l < 32; l++)
                *y++ = d1 * (float)((ql[l] & 0x0f) + ((qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++)
                *y++ = d2 * (float)((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        }
    }
}

void tg__q6_K_to_float(const void *src, float *y, int64_t n) {
    const tg_block_q6_K *x = src;
    for (int64_t i = 0; i < n / TG_QK_K; i++) {
        const float d = tg__fp16_to_f32(x[i].d);
        const uint8_t *ql = x[i].ql;
        const uint8_t *qh = x[i].qh;
        for (int h = 0; h < 2; h++, y += 128, ql += 64, qh += 32) {
            const int8_t *sc = &x[i].scales[8 * h];
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * (float)sc[is + 0] * (float)q1;
                y[l + 32] = d * (float)sc[is + 2] * (float)q2;
                y[l + 64] = d * (float)sc[is + 4] * (float)q3;
                y[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
        }
    }
}

void tg__q8_K_to_float(const void *src, float *y, int64_t n) {
    const tg_block_q8_K *x = src;
    for (int64_t i = 0; i < n / TG_QK_K; i++) {
        const float d = x[i].d;
        for (int j = 0; j < TG_QK_K; j++)
            *y++ = d * (float)x[i].qs[j];
    }
}

/* ---- Q8_K encode (ggml's quantize_row_q8_K_ref) ------------------------ */

/* The scale is -127/max with max the signed value of largest magnitude, so
 * that value maps to exactly -127 or 127; rounding is ties-to-even
 * (nearest_int).  An all-zero block gets d = 0 and zero quants and sums
 * (ggml leaves the sums unwritten there; zero is what they would be). */
void tg__q8_K_from_float(const float *x, void *dst, int64_t n) {
    tg_block_q8_K *y = dst;
    for (int64_t i = 0; i < n / TG_QK_K; i++, x += TG_QK_K) {
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < TG_QK_K; j++) {
            const float ax = fabsf(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            y[i].d = 0.0f;
            memset(y[i].qs, 0, sizeof y[i].qs);
            for (int j = 0; j < TG_QK_K / 16; j++)
                y[i].bsums[j] = 0;
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < TG_QK_K; j++) {
            const int v = tg__nearest_int(iscale * x[j]);
            y[i].qs[j] = (int8_t)(v > 127 ? 127 : (v < -128 ? -128 : v));
        }
        for (int j = 0; j < TG_QK_K / 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++)
                sum += y[i].qs[16 * j + l];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}

/* ---- dot products against Q8_K (ggml's *_generic order) ---------------- */

/* Adds scale * q8[k] * a[k] for the n elements of one sub-block into the
 * 8 integer lanes (lane = element index mod 8; n is a multiple of 8). */
static inline void lanes_add(int32_t lanes[8], const int8_t *q8, const int8_t *a, int n, int scale) {
    for (int k = 0; k < n; k++)
        lanes[k % 8] += scale * (q8[k] * a[k]);
}

/* Folds one super-block's integer lanes into the float lane sums. */
static inline void lanes_fold(float sums[8], const int32_t lanes[8], float d) {
    for (int l = 0; l < 8; l++)
        sums[l] += d * (float)lanes[l];
}

float tg__q2_K_vec_dot(int64_t n, const void *vx, const void *vy) {
    const tg_block_q2_K *x = vx;
    const tg_block_q8_K *y = vy;
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / TG_QK_K; i++) {
        const uint8_t *q2 = x[i].qs;
        const int8_t *q8 = y[i].qs;
        const uint8_t *sc = x[i].scales;
        /* The min term needs only the per-16 sums of y. */
        int summs = 0;
        for (int j = 0; j < 16; j++)
            summs += y[i].bsums[j] * (sc[j] >> 4);
        const float dall = y[i].d * tg__fp16_to_f32(x[i].d);
        const float dmin = y[i].d * tg__fp16_to_f32(x[i].dmin);
        int isum = 0, is = 0;
        for (int h = 0; h < 2; h++, q2 += 32) {
            for (int shift = 0; shift < 8; shift += 2, q8 += 32) {
                for (int half = 0; half < 2; half++) {
                    int isuml = 0;
                    for (int l = 16 * half; l < 16 * half + 16; l++)
                        isuml += q8[l] * ((q2[l] >> shift) & 3);
                    isum += (sc[is++] & 0x0f) * isuml;
                }
            }
        }
        sumf += dall * (float)isum - dmin * (float)summs;
    }
    return sumf;
}

float tg__q3_K_vec_dot(int64_t n, const void *vx, const void *vy) {
    const tg_block_q3_K *x = vx;
    const tg_block_q8_K *y = vy;
    float sums[8] = {0};
    int8_t a[TG_QK_K];
    for (int64_t i = 0; i < n / TG_QK_K; i++) {
        const uint8_t *q3 = x[i].qs;
        const uint8_t *hm = x[i].hmask;
        int8_t *pa = a;
        uint8_t m = 1;
        for (int h = 0; h < 2; h++, q3 += 32) {
            for (int shift = 0; shift < 8; shift += 2, m <<= 1, pa += 32) {
                for (int l = 0; l < 32; l++)
                    pa[l] = (int8_t)(((q3[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
            }
        }
        int32_t lanes[8] = {0};
        for (int j = 0; j < TG_QK_K / 16; j++)
            lanes_add(lanes, y[i].qs + 16 * j, a + 16 * j, 16, k3_scale(j, x[i].scales));
        lanes_fold(sums, lanes, tg__fp16_to_f32(x[i].d) * y[i].d);
    }
    float sumf = 0.0f;
    for (int l = 0; l < 8; l++)
        sumf += sums[l];
    return sumf;
}

/* Q4_K and Q5_K share everything but the fifth bit. */
static float q45_K_vec_dot(int64_t n, const void *vx, const void *vy, int five_bits) {
    const tg_block_q8_K *y = vy;
    const size_t stride = five_bits ? sizeof(tg_block_q5_K) : sizeof(tg_block_q4_K);
    float sums[8] = {0};
    float sumf = 0.0f;
    int8_t a[TG_QK_K];
    for (int64_t i = 0; i < n / TG_QK_K; i++) {
        const uint8_t *blk = (const uint8_t *)vx + (size_t)i * stride;
        /* d, dmin and scales sit at the same offsets in both layouts. */
        const tg_block_q4_K *x4 = (const tg_block_q4_K *)blk;
        const uint8_t *q4, *qh = NULL;
        if (five_bits) {
            const tg_block_q5_K *x5 = (const tg_block_q5_K *)blk;
            q4 = x5->qs;
            qh = x5->qh;
        } else {
            q4 = x4->qs;
        }
        uint8_t m = 1;
        for (int c = 0; c < 4; c++, q4 += 32) {
            for (int l = 0; l < 32; l++)
                a[64 * c + l] = (int8_t)((q4[l] & 0x0f) + (qh && (qh[l] & m) ? 16 : 0));
            m <<= 1;
            for (int l = 0; l < 32; l++)
                a[64 * c + 32 + l] = (int8_t)((q4[l] >> 4) + (qh && (qh[l] & m) ? 16 : 0));
            m <<= 1;
        }
        int sc[8], mn[8];
        for (int j = 0; j < 8; j++)
            k4_scale_min(j, x4->scales, &sc[j], &mn[j]);
        int sumi = 0;
        for (int j = 0; j < TG_QK_K / 16; j++)
            sumi += y[i].bsums[j] * mn[j / 2];
        int32_t lanes[8] = {0};
        for (int j = 0; j < TG_QK_K / 32; j++)
            lanes_add(lanes, y[i].qs + 32 * j, a + 32 * j, 32, sc[j]);
        lanes_fold(sums, lanes, tg__fp16_to_f32(x4->d) * y[i].d);
        const float dmin = tg__fp16_to_f32(x4->dmin) * y[i].d;
        sumf -= dmin * (float)sumi;
    }
    for (int l = 0; l < 8; l++)
        sumf += sums[l];
    return sumf;
}

float tg__q4_K_vec_dot(int64_t n, const void *vx, const void *vy) {
    return q45_K_vec_dot(n, vx, vy, 0);
}

float tg__q5_K_vec_dot(int64_t n, const void *vx, const void *vy) {
    return q45_K_vec_dot(n, vx, vy, 1);
}

float tg__q6_K_vec_dot(int64_t n, const void *vx, const void *vy) {
    const tg_block_q6_K *x = vx;
    const tg_block_q8_K *y = vy;
    float sums[8] = {0};
    int8_t a[TG_QK_K];
    for (int64_t i = 0; i < n / TG_QK_K; i++) {
        const uint8_t *ql = x[i].ql;
        const uint8_t *qh = x[i].qh;
        for (int h = 0; h < 2; h++, ql += 64, qh += 32) {
            int8_t *pa = a + 128 * h;
            for (int l = 0; l < 32; l++) {
                pa[l + 0] = (int8_t)(((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32);
                pa[l + 32] = (int8_t)(((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32);
                pa[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                pa[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        int32_t lanes[8] = {0};
        for (int j = 0; j < TG_QK_K / 16; j++)
            lanes_add(lanes, y[i].qs + 16 * j, a + 16 * j, 16, x[i].scales[j]);
        lanes_fold(sums, lanes, tg__fp16_to_f32(x[i].d) * y[i].d);
    }
    float sumf = 0.0f;
    for (int l = 0; l < 8; l++)
        sumf += sums[l];
    return sumf;
}
