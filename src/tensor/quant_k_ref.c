/*
 * quant_k_ref.c — encoders for the K-quant weight types Q2_K, Q3_K, Q4_K,
 * Q5_K and Q6_K, reproducing ggml's reference encoders (quantize_row_*_ref,
 * the path llama-quantize takes when no importance matrix is given), so a
 * synthetic model written by tinglado holds the same bytes llama.cpp would
 * write for the same floats.
 *
 * They search for good scales (a few dozen candidate scales per sub-block),
 * so they are slow compared with decoding; they are for writing files, never
 * for activations.  The float arithmetic follows ggml's operation order
 * exactly (accumulation order included), because a different rounding in a
 * running sum can flip a candidate choice and change the output bytes.
 *
 * Deviation: ggml asserts that values handed to nearest_int are below 2^22
 * in magnitude; we clamp instead (tg__nearest_int), so NaN/Inf inputs give
 * garbage blocks rather than undefined behaviour.
 */
#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quant_util.h"
#include "tensor/tensor.h"

#include <math.h>
#include <string.h>

/* Below this, a group counts as all zeros. */
#define GROUP_MAX_EPS 1e-15f

static inline int clampi(int v, int lo, int hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

/*
 * Scale and min for n values x with codes 0..nmax and per-value weights:
 * starts from the plain min/max fit, then tries nstep+1 alternative scales
 * (iscale = (rmin + rdelta*is + nmax) / (max - min)), fitting scale and min
 * to each candidate rounding by weighted least squares, keeping the one of
 * least weighted error (absolute if use_mad, else squared).  Writes the codes
 * to L and -min (>= 0) to *the_min; returns the scale.  Laux is scratch.
 */
static float fit_scale_min(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                           float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                           int use_mad) {
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min)
            min = x[i];
        if (x[i] > max)
            max = x[i];
        const float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0)
        min = 0; /* the min term only ever subtracts */
    if (max == min) {
        for (int i = 0; i < n; i++)
            L[i] = 0;
        *the_min = -min;
        return 0.0f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        const int l = tg__nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)clampi(l, 0, nmax);
        float diff = scale * L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += weights[i] * diff;
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            const int l = clampi(tg__nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            const float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/*
 * Symmetric scale for n values with codes -nmax..nmax-1 (stored +nmax in L),
 * weighted by x^2 (ggml's make_qx_quants with rmse_type 1 and no importance
 * weights): least-squares scale for the plain rounding, then 18 nearby
 * scales, keeping the one that maximises sumlx^2/suml2.
 */
static float fit_symmetric(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        const float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++)
            L[i] = 0;
        return 0.0f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        const int l = clampi(tg__nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0)
            continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            const int l = clampi(tg__nearest_int(iscale * x[i]), -nmax, nmax - 1);
            const float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++)
                L[i] = (int8_t)(nmax + clampi(tg__nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/*
 * Q3_K's symmetric fit (ggml's make_q3_quants with do_rmse): codes -nmax..
 * nmax-1 in L (stored +nmax), then up to 5 passes of coordinate descent that
 * move single codes while that improves the x^2-weighted fit.
 */
static float fit_q3(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        const float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++)
            L[i] = 0;
        return 0.0f;
    }
    const float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        const int l = clampi(tg__nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        const float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; itry++) {
        int n_changed = 0;
        for (int i = 0; i < n; i++) {
            const float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * L[i];
            if (slx > 0) {
                float sl2 = suml2 - w * L[i] * L[i];
                const int new_l = clampi(tg__nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
                if (new_l != L[i]) {
                    slx += w * x[i] * new_l;
                    sl2 += w * new_l * new_l;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        n_changed++;
                    }
                }
            }
        }
        if (!n_changed)
            break;
    }
    for (int i = 0; i < n; i++)
        L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Packs 256 2-bit codes the Q2_K/Q3_K way: byte 32h+l holds elements
 * 128h+l, +32, +64, +96 at bit offsets 0, 2, 4, 6. */
static void pack_2bit(const uint8_t *L, uint8_t *qs) {
    for (int j = 0; j < TG_QK_K; j += 128)
        for (int l = 0; l < 32; l++)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                      (L[j + l + 96] << 6));
}

void tg__q2_K_from_float(const float *x, void *dst, int64_t n) {
    tg_block_q2_K *y = dst;
    uint8_t L[TG_QK_K], Laux[16];
    float weights[16], mins[TG_QK_K / 16], scales[TG_QK_K / 16];
    const float q4scale = 15.f;
    for (int64_t i = 0; i < n / TG_QK_K; i++, x += TG_QK_K) {
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < TG_QK_K / 16; j++) {
            for (int l = 0; l < 16; l++)
                weights[l] = fabsf(x[16 * j + l]);
            scales[j] = fit_scale_min(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f,
                                      0.1f, 15, 1);
            if (scales[j] > max_scale)
                max_scale = scales[j];
            if (mins[j] > max_min)
                max_min = mins[j];
        }
        if (max_scale > 0) {
            const float iscale = q4scale / max_scale;
            for (int j = 0; j < TG_QK_K / 16; j++)
                y[i].scales[j] = (uint8_t)tg__nearest_int(iscale * scales[j]);
            y[i].d = tg__fp32_to_fp16(max_scale / q4scale);
        } else {
            memset(y[i].scales, 0, sizeof y[i].scales);
            y[i].d = tg__fp32_to_fp16(0.f);
        }
        if (max_min > 0) {
            const float iscale = q4scale / max_min;
            for (int j = 0; j < TG_QK_K / 16; j++)
                y[i].scales[j] |= (uint8_t)((unsigned)tg__nearest_int(iscale * mins[j]) << 4);
            y[i].dmin = tg__fp32_to_fp16(max_min / q4scale);
        } else {
            y[i].dmin = tg__fp32_to_fp16(0.f);
        }
        /* Re-round every value against the scales as stored (f16, 4 bits). */
        for (int j = 0; j < TG_QK_K / 16; j++) {
            const float d = tg__fp16_to_f32(y[i].d) * (y[i].scales[j] & 0xf);
            if (!d)
                continue;
            const float dm = tg__fp16_to_f32(y[i].dmin) * (y[i].scales[j] >> 4);
            for (int ii = 0; ii < 16; ii++)
                L[16 * j + ii] = (uint8_t)clampi(tg__nearest_int((x[16 * j + ii] + dm) / d), 0, 3);
        }
        pack_2bit(L, y[i].qs);
    }
}

void tg__q3_K_from_float(const float *x, void *dst, int64_t n) {
    tg_block_q3_K *y = dst;
    int8_t L[TG_QK_K];
    float scales[TG_QK_K / 16];
    for (int64_t i = 0; i < n / TG_QK_K; i++, x += TG_QK_K) {
        float max_scale = 0, amax = 0;
        for (int j = 0; j < TG_QK_K / 16; j++) {
            scales[j] = fit_q3(16, 4, x + 16 * j, L + 16 * j);
            const float scale = fabsf(scales[j]);
            if (scale > amax) {
                amax = scale;
                max_scale = scales[j];
            }
        }
        memset(y[i].scales, 0, sizeof y[i].scales);
        if (max_scale != 0.0f) {
            const float iscale = -32.f / max_scale;
            for (int j = 0; j < TG_QK_K / 16; j++) {
                /* 6-bit scale stored +32: low nibble in bytes 0-7 (low
                 * half for j<8, high half for j>=8), top 2 bits in 8-11. */
                int l = clampi((int8_t)tg__nearest_int(iscale * scales[j]), -32, 31) + 32;
                if (j < 8)
                    y[i].scales[j] = (uint8_t)(l & 0xf);
                else
                    y[i].scales[j - 8] |= (uint8_t)((l & 0xf) << 4);
                l >>= 4;
                y[i].scales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
            }
            y[i].d = tg__fp32_to_fp16(1 / iscale);
        } else {
            y[i].d = tg__fp32_to_fp16(0.f);
        }
        for (int j = 0; j < TG_QK_K / 16; j++) {
            const int sc = (j < 8 ? (y[i].scales[j] & 0xf) : (y[i].scales[j - 8] >> 4)) |
                           (((y[i].scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4);
            const float d = tg__fp16_to_f32(y[i].d) * (sc - 32);
            if (!d)
                continue;
            for (int ii = 0; ii < 16; ii++)
                L[16 * j + ii] = (int8_t)(clampi(tg__nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
        }
        /* Codes 4..7 set the high bit (element j -> bit j/32 of hmask[j%32])
         * and keep their low 2 bits in qs. */
        memset(y[i].hmask, 0, sizeof y[i].hmask);
        uint8_t L2[TG_QK_K];
        for (int j = 0; j < TG_QK_K; j++) {
            int l = L[j];
            if (l > 3) {
                y[i].hmask[j % 32] |= (uint8_t)(1u << (j / 32));
                l -= 4;
            }
            L2[j] = (uint8_t)l;
        }
        pack_2bit(L2, y[i].qs);
    }
}

/* Stores the 8 six-bit scales and mins of a Q4_K/Q5_K block (the inverse
 * of k4_scale_min in quant_k.c). */
static void pack_k4_scales(const uint8_t ls[8], const uint8_t lm[8], uint8_t s[12]) {
    memset(s, 0, 12);
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            s[j] = ls[j];
            s[j + 4] = lm[j];
        } else {
            s[j + 4] = (uint8_t)((ls[j] & 0xf) | ((lm[j] & 0xf) << 4));
            s[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            s[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

static void unpack_k4_scale(int j, const uint8_t *s, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* The shared part of the Q4_K and Q5_K encoders: per sub-block of 32 a
 * (scale, min) fit with codes 0..nmax, weights av_x + |x| where av_x is the
 * sub-block's RMS; the 8 scales and mins quantized to 6 bits against their
 * maxima; then every value re-rounded against the stored scales.  Fills
 * d, dmin, scales[12] and the 256 codes L. */
static void encode_k45(const float *x, int nmax, float rmin, float rdelta, int nstep, uint16_t *d_out,
                       uint16_t *dmin_out, uint8_t scales_out[12], uint8_t L[TG_QK_K]) {
    uint8_t Laux[32];
    float weights[32], mins[8], scales[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++)
            sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++)
            weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = fit_scale_min(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin,
                                  rdelta, nstep, 0);
        if (scales[j] > max_scale)
            max_scale = scales[j];
        if (mins[j] > max_min)
            max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; j++) {
        /* ggml stores nearest_int into a uint8_t before clamping to 63. */
        ls[j] = (uint8_t)tg__nearest_int(inv_scale * scales[j]);
        lm[j] = (uint8_t)tg__nearest_int(inv_min * mins[j]);
        if (ls[j] > 63)
            ls[j] = 63;
        if (lm[j] > 63)
            lm[j] = 63;
    }
    pack_k4_scales(ls, lm, scales_out);
    *d_out = tg__fp32_to_fp16(max_scale / 63.f);
    *dmin_out = tg__fp32_to_fp16(max_min / 63.f);
    for (int j = 0; j < 8; j++) {
        int sc, m;
        unpack_k4_scale(j, scales_out, &sc, &m);
        const float d = tg__fp16_to_f32(*d_out) * sc;
        if (!d)
            continue;
        const float dm = tg__fp16_to_f32(*dmin_out) * m;
        for (int ii = 0; ii < 32; ii++)
            L[32 * j + ii] = (uint8_t)clampi(tg__nearest_int((x[32 * j + ii] + dm) / d), 0, nmax);
    }
}

void tg__q4_K_from_float(const float *x, void *dst, int64_t n) {
    tg_block_q4_K *y = dst;
    uint8_t L[TG_QK_K];
    for (int64_t i = 0; i < n / TG_QK_K; i++, x += TG_QK_K) {
        uint16_t d, dmin;
        encode_k45(x, 15, -1.f, 0.1f, 20, &d, &dmin, y[i].scales, L);
        y[i].d = d;
        y[i].dmin = dmin;
        /* Byte 32c+l: element 64c+l in the low nibble, 64c+32+l high. */
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                y[i].qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + l + 32] << 4));
    }
}

void tg__q5_K_from_float(const float *x, void *dst, int64_t n) {
    tg_block_q5_K *y = dst;
    uint8_t L[TG_QK_K];
    for (int64_t i = 0; i < n / TG_QK_K; i++, x += TG_QK_K) {
        uint16_t d, dmin;
        encode_k45(x, 31, -0.5f, 0.1f, 15, &d, &dmin, y[i].scales, L);
        y[i].d = d;
        y[i].dmin = dmin;
        /* As Q4_K, with the fifth bit of element 64c+l in bit 2c of qh[l]
         * and that of element 64c+32+l in bit 2c+1. */
        memset(y[i].qh, 0, sizeof y[i].qh);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                int l1 = L[64 * c + l], l2 = L[64 * c + l + 32];
                if (l1 > 15) {
                    l1 -= 16;
                    y[i].qh[l] |= (uint8_t)(1u << (2 * c));
                }
                if (l2 > 15) {
                    l2 -= 16;
                    y[i].qh[l] |= (uint8_t)(2u << (2 * c));
                }
                y[i].qs[32 * c + l] = (uint8_t)(l1 | (l2 << 4));
            }
        }
    }
}

void tg__q6_K_from_float(const float *x, void *dst, int64_t n) {
    tg_block_q6_K *y = dst;
    int8_t L[TG_QK_K];
    float scales[TG_QK_K / 16];
    for (int64_t i = 0; i < n / TG_QK_K; i++, x += TG_QK_K) {
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < TG_QK_K / 16; ib++) {
            const float scale = fit_symmetric(16, 32, x + 16 * ib, L + 16 * ib);
            scales[ib] = scale;
            if (fabsf(scale) > max_abs_scale) {
                max_abs_scale = fabsf(scale);
                max_scale = scale;
            }
        }
        if (max_abs_scale < GROUP_MAX_EPS) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const float iscale = -128.f / max_scale;
        y[i].d = tg__fp32_to_fp16(1 / iscale);
        for (int ib = 0; ib < TG_QK_K / 16; ib++) {
            const int v = tg__nearest_int(iscale * scales[ib]);
            y[i].scales[ib] = (int8_t)(v > 127 ? 127 : v);
        }
        for (int j = 0; j < TG_QK_K / 16; j++) {
            const float d = tg__fp16_to_f32(y[i].d) * y[i].scales[j];
            if (!d)
                continue;
            for (int ii = 0; ii < 16; ii++)
                L[16 * j + ii] = (int8_t)(clampi(tg__nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
        }
        /* Low nibbles: byte 64h+l holds elements 128h+l (low) and +64
         * (high); byte 64h+32+l holds +32 and +96.  The top 2 bits of the
         * four go to qh[32h+l] at bit offsets 0, 2, 4, 6. */
        for (int h = 0; h < 2; h++) {
            const int8_t *Lh = L + 128 * h;
            for (int l = 0; l < 32; l++) {
                y[i].ql[64 * h + l] = (uint8_t)((Lh[l] & 0xf) | ((Lh[l + 64] & 0xf) << 4));
                y[i].ql[64 * h + l + 32] = (uint8_t)((Lh[l + 32] & 0xf) | ((Lh[l + 96] & 0xf) << 4));
                y[i].qh[32 * h + l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                                ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}
