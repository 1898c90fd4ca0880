/*
 * avx2.c — AVX2 + FMA + F16C kernels: dot products of every weight type the
 * models use against its activation type, register-tiled matrix blocks
 * (mm), the activation quantizers and f16 row conversion.
 *
 * Compiled with -mavx2 -mfma -mf16c -mbmi2 (Makefile KERNEL_FLAGS_avx2);
 * dispatch.c calls into this file only when the CPU has all of them.
 * Nothing else may include code compiled with these flags.
 *
 * Integer parts are exact (see kernels.h for the contract and what differs
 * in float).  The shape that all quantized kernels share:
 *   - a weight block's quants are widened to one byte per element, element
 *     j in byte j of a 256-bit vector (32 elements);
 *   - products with the int8 activations go through vpmaddubsw (u8 x s8
 *     pairs -> int16, saturating, so one operand must be small or
 *     non-negative: a weight in [0, 63], or |w| with the sign moved onto the
 *     activation, which is why activation quants must avoid -128) and
 *     vpmaddwd (pairs -> int32, times 1 or a sub-block scale); int32 lane k
 *     thus holds elements 4k..4k+3 of each 32;
 *   - K-quants: per super-block (256) the int32 lanes are converted to
 *     float and FMA'd with the block's scale into 8 float lanes, summed once
 *     at the end (hsum8);
 *   - 32-element types: each block's integer sum goes whole into float
 *     accumulator b % 8 (see "How every legacy-quant kernel ... sums"
 *     below), which lets the tiles put 8 activation rows in the lanes.
 * mm tiles run exactly the same per-pair float sequence as vec_dot, so
 * their outputs are bit-identical to it.
 */
#include "tensor/blocks.h"
#include "tensor/kernels/kernels.h"
#include "tensor/ops.h"
#include "tensor/tensor.h"

#include <immintrin.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/* An empty asm that "changes" v: the compiler may not move the sums that
 * produced v past it.  Without it GCC reassociates the integer sums of a
 * K-quant tile, computes every product first and spills them to the stack. */
#define KEEP(v) __asm__("" : "+x"(v))

/* ---- helpers ----------------------------------------------------------- */

INLINE uint16_t u16_at(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

INLINE float f16_at(const uint8_t *p) {
    return _cvtsh_ss(u16_at(p));
}

INLINE float f32_at(const uint8_t *p) {
    float f;
    memcpy(&f, p, 4);
    return f;
}

INLINE __m256i load256(const void *p) {
    return _mm256_loadu_si256((const __m256i *)p);
}

/* Weight rows stream from memory once per token in decoding.  The
 * hardware prefetchers stop at each 4 KiB page and ramp up again, so each
 * row asks for the bytes PREFETCH_AHEAD past its own: on a Zen 3, one
 * thread streaming the default model's output projection (Q8_0 rows of
 * 640) went from 9.1-9.7 to 12.9-13.2 GB/s, Q5_0 rows of 640 and 2048 from
 * 5.6-6.6 to 9.1-10.4 (1.5, 2.5, 4 and 6 KiB tried: 2.5-4 best). */
#define PREFETCH_AHEAD 3072

INLINE void prefetch_ahead(const uint8_t *row, size_t bytes) {
    for (size_t off = 0; off < bytes; off += 64)
        _mm_prefetch((const char *)(row + PREFETCH_AHEAD + off), _MM_HINT_T0);
}

/* The sum of 8 float lanes, in one fixed order: halves, then pairs. */
INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INLINE float hsum4(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* 16 packed bytes -> 32 nibbles: low nibbles are elements 0..15, high
 * nibbles elements 16..31 (the Q4_0/Q4_1/Q5_x layout).  The bytes are
 * broadcast to both halves and the high half shifted by 4. */
INLINE __m256i nibbles32(const uint8_t *qs) {
    const __m256i q = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    return _mm256_and_si256(_mm256_srlv_epi32(q, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(0x0f));
}

/* The 32 bits of qh (little-endian) as bytes: 0x10 where bit j is set. */
INLINE __m256i bits32_x16(const uint8_t *qh) {
    uint32_t bits;
    memcpy(&bits, qh, 4);
    /* Byte j takes byte j/8 of the bits (in-lane shuffle of a broadcast),
     * then tests its own bit j%8. */
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32((int)bits),
        _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3,
                         3, 3, 3, 3, 3, 3));
    const __m256i sel = _mm256_set1_epi64x(0x8040201008040201ll);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, sel), sel), _mm256_set1_epi8(0x10));
}

/* int32 lane k = sum of w[i] * a[i] over i in 4k..4k+3, for signed w (any
 * int8; aw = |w|) and a in [-127, 127]: |w| * (a with w's sign). */
INLINE __m256i dot_s8(__m256i w, __m256i aw, __m256i a) {
    const __m256i p16 = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(a, w));
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

/* ---- Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (32-element blocks) -------------------- */

/* Q8_0 weights are any int8 and go through the sign trick (dot_s8).  The
 * nibble types are unpacked to unsigned bytes u = w + K (0..31) and
 * multiplied as u8 x s8 directly; the offset comes off as K times the pair
 * sums of the activations, an int16 vector per activation block ("koff",
 * shared by every weight row):  sum (u - K) a = sum u a - K sum a.
 * K = 8 (Q4_0), 16 (Q5_0), 0 (Q4_1, Q5_1: their min goes through Q8_1's s).
 * Either way int32 lane k ends up with the exact sum over elements 4k..4k+3. */
enum { L_Q4_0, L_Q4_1, L_Q5_0, L_Q5_1, L_Q8_0 };

INLINE size_t legacy_bytes(int kind) {
    switch (kind) {
    case L_Q4_0: return sizeof(tg_block_q4_0);
    case L_Q4_1: return sizeof(tg_block_q4_1);
    case L_Q5_0: return sizeof(tg_block_q5_0);
    case L_Q5_1: return sizeof(tg_block_q5_1);
    default: return sizeof(tg_block_q8_0);
    }
}

/* Q4_1/Q5_1 have a min (activation Q8_1). */
INLINE int legacy_min(int kind) {
    return kind == L_Q4_1 || kind == L_Q5_1;
}

INLINE int legacy_offset(int kind) {
    return kind == L_Q4_0 ? 8 : kind == L_Q5_0 ? 16 : 0;
}

/* The quants of one weight block, element j in byte j: int8 for Q8_0,
 * unsigned w + K for the others. */
INLINE __m256i legacy_quants(int kind, const uint8_t *b) {
    switch (kind) {
    case L_Q4_0: return nibbles32(b + 2);
    case L_Q4_1: return nibbles32(b + 4);
    case L_Q5_0: return _mm256_or_si256(nibbles32(b + 6), bits32_x16(b + 2));
    case L_Q5_1: return _mm256_or_si256(nibbles32(b + 8), bits32_x16(b + 4));
    default: return load256(b + 2);
    }
}

/* K times the pair sums of 32 activations (int16, |.| <= 16 * 254). */
INLINE __m256i legacy_koff(int kind, __m256i a) {
    return _mm256_maddubs_epi16(_mm256_set1_epi8((char)legacy_offset(kind)), a);
}

/* The int32 lanes of one (weight block, activation block) pair. */
INLINE __m256i legacy_lanes(int kind, __m256i q, __m256i aq, __m256i a, __m256i koff) {
    if (kind == L_Q8_0)
        return dot_s8(q, aq, a);
    __m256i p16 = _mm256_maddubs_epi16(q, a); /* u <= 31: no saturation */
    if (legacy_offset(kind))
        p16 = _mm256_sub_epi16(p16, koff);
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

/* How every legacy-quant kernel of this file sums a (weight row, activation
 * row) pair, so that vec_dot, the one-row gemv and the many-row tiles give
 * the same bits whatever the batch (kernels.h's contract):
 *   - block b's exact integer sum s_b (offset and all);
 *   - acc[b % 8] = fma((float)s_b, dw_b * da_b, acc[b % 8]), then, for the
 *     kinds with a min, acc[b % 8] = fma(mw_b, sa_b, acc[b % 8]);
 *   - the result is hsum8 of the 8 accumulators.
 * The gemv holds the 8 accumulators as the lanes of one vector (blocks
 * b..b+7 side by side); the tiles hold 8 vectors whose lanes are 8
 * activation rows, so one weight block meets 8 activation rows in one go
 * and no horizontal sum is needed per block. */

/* The 8 int32 lanes of each of v[0..3] summed: lane m = total of v[m]
 * (exact; two levels of vphaddd, then the 128-bit halves). */
INLINE __m128i sum_lanes_4x8(const __m256i v[4]) {
    const __m256i x = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    return _mm_add_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
}

/* The f16 at p of nk (<= 4) consecutive blocks wb bytes apart, as floats,
 * 0 past nk (integer loads and shifts: the integer ports are idle here). */
INLINE __m128 gather4_f16(const uint8_t *p, size_t wb, int nk) {
    uint64_t h = 0;
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++)
        if (k < nk)
            h |= (uint64_t)u16_at(p + k * wb) << (16 * k);
    return _mm_cvtph_ps(_mm_cvtsi64_si128((long long)h));
}

/* What the gemv needs of each activation block, computed once for all
 * weight rows: koff, and the scales (and s) as floats, GEMV_BLOCKS at a time. */
#define GEMV_BLOCKS 128

typedef struct gemv_act {
    __m256i koff[GEMV_BLOCKS];
    float da[GEMV_BLOCKS], sa[GEMV_BLOCKS];
} gemv_act;

/* Blocks [b0, b0 + nk) (nk <= 4) of one weight row into accumulator
 * lanes b % 8: acc holds lanes 0-3 or 4-7 (b0 % 8 is 0 or 4); lanes past
 * nk keep their value. */
INLINE __m128 legacy_row_step(const int kind, const uint8_t *row, const uint8_t *a, const gemv_act *pre, int64_t b0,
                              int nk, __m128 acc) {
    const size_t wb = legacy_bytes(kind);
    const int has_min = legacy_min(kind);
    const size_t ab = has_min ? sizeof(tg_block_q8_1) : sizeof(tg_block_q8_0);
    const size_t aoff = has_min ? 4 : 2;
    const int64_t pb = b0 % GEMV_BLOCKS; /* index into pre */
    const uint8_t *p = row + (size_t)b0 * wb;
    __m256i v[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        if (k < nk) {
            const __m256i q = legacy_quants(kind, p + (size_t)k * wb);
            const __m256i aq = kind == L_Q8_0 ? _mm256_abs_epi8(q) : q;
            v[k] = legacy_lanes(kind, q, aq, load256(a + (size_t)(b0 + k) * ab + aoff), pre->koff[pb + k]);
        } else
            v[k] = _mm256_setzero_si256();
    }
    const __m128 dd = _mm_mul_ps(gather4_f16(p, wb, nk), _mm_loadu_ps(pre->da + pb));
    __m128 r = _mm_fmadd_ps(_mm_cvtepi32_ps(sum_lanes_4x8(v)), dd, acc);
    if (has_min)
        r = _mm_fmadd_ps(gather4_f16(p + 2, wb, nk), _mm_loadu_ps(pre->sa + pb), r);
    if (nk == 4)
        return r;
    static const int32_t ramp[8] = {-1, -1, -1, -1, 0, 0, 0, 0};
    return _mm_blendv_ps(acc, r, _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)(ramp + 4 - nk))));
}

/* One activation row against nw weight rows, a row at a time: streaming
 * rows one after the other is what the hardware prefetchers follow best (on
 * a Zen 3, Q8_0 rows of 640 stream at 7.5 GB/s this way, 4.7 four rows
 * interleaved).  What comes from the activation is computed once for all
 * rows when the row has at most GEMV_BLOCKS blocks; longer rows go row by
 * row, GEMV_BLOCKS blocks at a time, refilling it for each row. */
INLINE void legacy_gemv(const int kind, int64_t nb, const uint8_t *w, size_t ws, int64_t nw, const uint8_t *a,
                        float *y) {
    const int has_min = legacy_min(kind);
    const size_t ab = has_min ? sizeof(tg_block_q8_1) : sizeof(tg_block_q8_0);
    const size_t aoff = has_min ? 4 : 2;
    gemv_act pre;
    const int64_t nbp = nb < GEMV_BLOCKS ? nb : GEMV_BLOCKS; /* blocks the buffer holds */
    const int64_t rows_per_pass = nb <= GEMV_BLOCKS ? nw : 1;
    for (int64_t o0 = 0; o0 < nw; o0 += rows_per_pass) {
        const int64_t o1 = o0 + rows_per_pass;
        __m128 acc_one[2] = {_mm_setzero_ps(), _mm_setzero_ps()};
        for (int64_t c0 = 0; c0 < nb; c0 += nbp) {
            const int64_t c1 = c0 + nbp < nb ? c0 + nbp : nb;
            if (c0 == 0 || nb > GEMV_BLOCKS) /* (re)fill the activation side of blocks [c0, c1) */
                for (int64_t ib = c0; ib < c1; ib++) {
                    const uint8_t *p = a + (size_t)ib * ab;
                    pre.koff[ib - c0] = legacy_offset(kind) ? legacy_koff(kind, load256(p + aoff)) : _mm256_setzero_si256();
                    pre.da[ib - c0] = f16_at(p);
                    pre.sa[ib - c0] = has_min ? f16_at(p + 2) : 0.0f;
                }
            for (int64_t ib = c1 - c0; ib < GEMV_BLOCKS && ib < c1 - c0 + 4; ib++) {
                pre.da[ib] = pre.sa[ib] = 0.0f; /* the lanes a short last step loads */
                pre.koff[ib] = _mm256_setzero_si256();
            }
            for (int64_t o = o0; o < o1; o++) {
                const uint8_t *row = w + (size_t)o * ws;
                prefetch_ahead(row, ws);
                /* accumulator lanes 0-3 and 4-7 */
                __m128 acc0 = rows_per_pass == 1 ? acc_one[0] : _mm_setzero_ps();
                __m128 acc1 = rows_per_pass == 1 ? acc_one[1] : _mm_setzero_ps();
                int64_t ib = c0;
                for (; ib + 8 <= c1; ib += 8) {
                    acc0 = legacy_row_step(kind, row, a, &pre, ib, 4, acc0);
                    acc1 = legacy_row_step(kind, row, a, &pre, ib + 4, 4, acc1);
                }
                if (ib + 4 <= c1) {
                    acc0 = legacy_row_step(kind, row, a, &pre, ib, 4, acc0);
                    ib += 4;
                }
                if (ib < c1) { /* c0 is a multiple of 8: ib % 8 says which half */
                    if (ib % 8)
                        acc1 = legacy_row_step(kind, row, a, &pre, ib, (int)(c1 - ib), acc1);
                    else
                        acc0 = legacy_row_step(kind, row, a, &pre, ib, (int)(c1 - ib), acc0);
                }
                if (rows_per_pass == 1) {
                    acc_one[0] = acc0;
                    acc_one[1] = acc1;
                } else
                    y[o] = hsum4(_mm_add_ps(acc0, acc1)); /* = hsum8 of the 8 lanes */
            }
        }
        if (rows_per_pass == 1)
            y[o0] = hsum4(_mm_add_ps(acc_one[0], acc_one[1]));
    }
}

/* ---- the tiles: one weight row against 8 activation rows at a time ---- */

/* One block of 8 activation rows, transposed so that a weight block's 4
 * bytes k (elements 4k..4k+3), broadcast to all lanes, meet the same 4
 * elements of each row: q[k] lane j = bytes 4k..4k+3 of row j.  With the
 * scales of the 8 rows, and K times each row's sum (offset kinds) or the
 * rows' s (kinds with a min).  Missing rows are zero. */
typedef struct packed_act {
    __m256i q[8];
    __m256 da;
    union {
        __m256i ks;
        __m256 sa;
    };
} packed_act;

/* Activation blocks a tile can hold (n <= 8192, 80 KiB on the stack);
 * longer rows go through the gemv, one activation row at a time. */
#define PACK_BLOCKS 256

/* 8 x 8 transpose of 32-bit elements: out[k] lane j = dword k of r[j]. */
INLINE void transpose8x8_epi32(const __m256i r[8], __m256i out[8]) {
    __m256i t[8], u[8];
    for (int j = 0; j < 8; j += 2) {
        t[j] = _mm256_unpacklo_epi32(r[j], r[j + 1]);
        t[j + 1] = _mm256_unpackhi_epi32(r[j], r[j + 1]);
    }
    for (int j = 0; j < 8; j += 4) {
        u[j] = _mm256_unpacklo_epi64(t[j], t[j + 2]);
        u[j + 1] = _mm256_unpackhi_epi64(t[j], t[j + 2]);
        u[j + 2] = _mm256_unpacklo_epi64(t[j + 1], t[j + 3]);
        u[j + 3] = _mm256_unpackhi_epi64(t[j + 1], t[j + 3]);
    }
    for (int k = 0; k < 4; k++) {
        out[k] = _mm256_permute2x128_si256(u[k], u[k + 4], 0x20);
        out[k + 4] = _mm256_permute2x128_si256(u[k], u[k + 4], 0x31);
    }
}

/* Per lane j, the 8 accumulators summed in hsum8's order, stored to the
 * first `rows` of y[j * ys] (one weight row's outputs for 8 activation rows). */
INLINE void store_hsum8_lanes(const __m256 acc[8], int rows, float *y, int64_t ys) {
    const __m256 r = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(acc[0], acc[4]), _mm256_add_ps(acc[2], acc[6])),
                                   _mm256_add_ps(_mm256_add_ps(acc[1], acc[5]), _mm256_add_ps(acc[3], acc[7])));
    float out[8];
    _mm256_storeu_ps(out, r);
    for (int j = 0; j < rows; j++)
        y[j * ys] = out[j];
}

INLINE void pack_act8(const int kind, int64_t nb, const uint8_t *a, size_t as, int rows, packed_act *pk) {
    const int has_min = legacy_min(kind);
    const size_t ab = has_min ? sizeof(tg_block_q8_1) : sizeof(tg_block_q8_0);
    const size_t aoff = has_min ? 4 : 2;
    for (int64_t ib = 0; ib < nb; ib++) {
        __m256i r[8];
        float d[8], s[8];
        for (int j = 0; j < 8; j++) {
            if (j < rows) {
                const uint8_t *p = a + (size_t)j * as + (size_t)ib * ab;
                r[j] = load256(p + aoff);
                d[j] = f16_at(p);
                s[j] = has_min ? f16_at(p + 2) : 0.0f;
            } else {
                r[j] = _mm256_setzero_si256();
                d[j] = s[j] = 0.0f;
            }
        }
        packed_act *P = pk + ib;
        transpose8x8_epi32(r, P->q);
        P->da = _mm256_loadu_ps(d);
        if (has_min)
            P->sa = _mm256_loadu_ps(s);
        else if (legacy_offset(kind)) {
            /* pairs of each row summed in int16 (|.| <= 8 * 254), then K
             * times the two halves of each lane */
            __m256i s16 = _mm256_setzero_si256();
            for (int k = 0; k < 8; k++)
                s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_set1_epi8(1), P->q[k]));
            P->ks = _mm256_madd_epi16(s16, _mm256_set1_epi16((short)legacy_offset(kind)));
        } else
            P->ks = _mm256_setzero_si256();
    }
}

/* Dword k of a weight block's quants in every lane. */
INLINE __m256i bcast_dword(__m256i lo, __m256i hi, int k) {
    switch (k & 3) {
    case 0: return _mm256_shuffle_epi32(k < 4 ? lo : hi, 0x00);
    case 1: return _mm256_shuffle_epi32(k < 4 ? lo : hi, 0x55);
    case 2: return _mm256_shuffle_epi32(k < 4 ? lo : hi, 0xaa);
    default: return _mm256_shuffle_epi32(k < 4 ? lo : hi, 0xff);
    }
}

/* Block ib of one weight row against the 8 packed activation rows: the
 * exact integer sums (lane j: row j), scaled into acc as the contract says. */
INLINE __m256 legacy_tile_step(const int kind, const uint8_t *p, const packed_act *P, __m256 acc) {
    const __m256i q = legacy_quants(kind, p);
    const __m256i lo = _mm256_permute2x128_si256(q, q, 0x00), hi = _mm256_permute2x128_si256(q, q, 0x11);
    const __m256i ones = _mm256_set1_epi16(1);
    /* unsigned quants <= 31: a pair is at most 2 * 31 * 127, four pairs
     * still fit int16 */
    __m256i h[2];
#pragma GCC unroll 2
    for (int g = 0; g < 2; g++) {
        const __m256i m0 = _mm256_maddubs_epi16(bcast_dword(lo, hi, 4 * g + 0), P->q[4 * g + 0]);
        const __m256i m1 = _mm256_maddubs_epi16(bcast_dword(lo, hi, 4 * g + 1), P->q[4 * g + 1]);
        const __m256i m2 = _mm256_maddubs_epi16(bcast_dword(lo, hi, 4 * g + 2), P->q[4 * g + 2]);
        const __m256i m3 = _mm256_maddubs_epi16(bcast_dword(lo, hi, 4 * g + 3), P->q[4 * g + 3]);
        h[g] = _mm256_madd_epi16(_mm256_add_epi16(_mm256_add_epi16(m0, m1), _mm256_add_epi16(m2, m3)), ones);
    }
    __m256i s = _mm256_add_epi32(h[0], h[1]);
    if (legacy_offset(kind))
        s = _mm256_sub_epi32(s, P->ks);
    const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(f16_at(p)), P->da);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, acc);
    if (legacy_min(kind))
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16_at(p + 2)), P->sa, acc);
    return acc;
}

/* nw weight rows against `rows` (<= 8) packed activation rows. */
INLINE void legacy_tile8(const int kind, int64_t nb, const uint8_t *w, size_t ws, int64_t nw, const packed_act *pk,
                         int rows, float *y, int64_t ys) {
    const size_t wb = legacy_bytes(kind);
    for (int64_t o = 0; o < nw; o++) {
        const uint8_t *row = w + (size_t)o * ws;
        __m256 acc[8];
#pragma GCC unroll 8
        for (int m = 0; m < 8; m++)
            acc[m] = _mm256_setzero_ps();
        int64_t ib = 0;
        for (; ib + 8 <= nb; ib += 8)
#pragma GCC unroll 8
            for (int m = 0; m < 8; m++)
                acc[m] = legacy_tile_step(kind, row + (size_t)(ib + m) * wb, pk + ib + m, acc[m]);
#pragma GCC unroll 7
        for (int m = 0; m < 7; m++)
            if (ib + m < nb)
                acc[m] = legacy_tile_step(kind, row + (size_t)(ib + m) * wb, pk + ib + m, acc[m]);
        store_hsum8_lanes(acc, rows, y + o, ys);
    }
}

INLINE void legacy_mm(const int kind, int64_t n, const uint8_t *w, size_t ws, int64_t nw, const uint8_t *a,
                      size_t as, int64_t na, float *y, int64_t ys) {
    const int64_t nb = n / 32;
    if (na == 1 || nb > PACK_BLOCKS) {
        for (int64_t r = 0; r < na; r++)
            legacy_gemv(kind, nb, w, ws, nw, a + (size_t)r * as, y + r * ys);
        return;
    }
    packed_act pk[PACK_BLOCKS];
    for (int64_t r = 0; r < na; r += 8) {
        const int rows = na - r < 8 ? (int)(na - r) : 8;
        pack_act8(kind, nb, a + (size_t)r * as, as, rows, pk);
        legacy_tile8(kind, nb, w, ws, nw, pk, rows, y + r * ys, ys);
    }
}

#define LEGACY_KERNELS(name, kind)                                                              \
    static float vec_dot_##name(int64_t n, const void *x, const void *y) {                     \
        float out;                                                                             \
        legacy_gemv(kind, n / 32, x, 0, 1, y, &out);                                           \
        return out;                                                                            \
    }                                                                                          \
    static void mm_##name(int64_t n, const void *w, size_t ws, int64_t nw, const void *a,       \
                          size_t as, int64_t na, float *y, int64_t ys) {                       \
        legacy_mm(kind, n, w, ws, nw, a, as, na, y, ys);                                       \
    }

LEGACY_KERNELS(q4_0, L_Q4_0)
LEGACY_KERNELS(q4_1, L_Q4_1)
LEGACY_KERNELS(q5_0, L_Q5_0)
LEGACY_KERNELS(q5_1, L_Q5_1)

/* Q8_0 keeps the float arithmetic of ggml's AVX2 dot product (each block's
 * 8 int32 lanes fma'd with its scale into 8 float lanes, hsum8 at the end):
 * on the synthetic all-Q8_0 models of the parity goldens, random weights
 * amplify any rounding difference, and the whole-block sums above doubled
 * the distance to llama.cpp (mean |dlogp| 0.024-0.036 -> 0.043-0.070).
 * The tile still puts 8 activation rows in the lanes, with one accumulator
 * per 4-element lane k of the block instead of per block. */
INLINE float q8_0_row_dot(int64_t nb, const uint8_t *row, const uint8_t *a) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < nb; ib++) {
        const uint8_t *p = row + (size_t)ib * sizeof(tg_block_q8_0), *q8 = a + (size_t)ib * sizeof(tg_block_q8_0);
        const __m256i q = load256(p + 2);
        const __m256i lanes = dot_s8(q, _mm256_abs_epi8(q), load256(q8 + 2));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), _mm256_set1_ps(f16_at(p) * f16_at(q8)), acc);
    }
    return hsum8(acc);
}

INLINE void q8_0_tile8(int64_t nb, const uint8_t *w, size_t ws, int64_t nw, const packed_act *pk, int rows, float *y,
                       int64_t ys) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t o = 0; o < nw; o++) {
        const uint8_t *row = w + (size_t)o * ws;
        prefetch_ahead(row, ws);
        __m256 acc[8];
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++)
            acc[k] = _mm256_setzero_ps();
        for (int64_t ib = 0; ib < nb; ib++) {
            const uint8_t *p = row + (size_t)ib * sizeof(tg_block_q8_0);
            const packed_act *P = pk + ib;
            const __m256i q = load256(p + 2);
            const __m256i lo = _mm256_permute2x128_si256(q, q, 0x00), hi = _mm256_permute2x128_si256(q, q, 0x11);
            const __m256i alo = _mm256_abs_epi8(lo), ahi = _mm256_abs_epi8(hi);
            const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(f16_at(p)), P->da);
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                const __m256i wk = bcast_dword(lo, hi, k), awk = bcast_dword(alo, ahi, k);
                const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(awk, _mm256_sign_epi8(P->q[k], wk)), ones);
                acc[k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, acc[k]);
            }
        }
        store_hsum8_lanes(acc, rows, y + o, ys);
    }
}

static float vec_dot_q8_0(int64_t n, const void *x, const void *y) {
    return q8_0_row_dot(n / 32, x, y);
}

static void mm_q8_0(int64_t n, const void *w, size_t ws, int64_t nw, const void *a, size_t as, int64_t na, float *y,
                    int64_t ys) {
    const int64_t nb = n / 32;
    const uint8_t *wb = w, *ab = a;
    if (na == 1 || nb > PACK_BLOCKS) {
        for (int64_t r = 0; r < na; r++)
            for (int64_t o = 0; o < nw; o++) {
                prefetch_ahead(wb + (size_t)o * ws, ws);
                y[r * ys + o] = q8_0_row_dot(nb, wb + (size_t)o * ws, ab + (size_t)r * as);
            }
        return;
    }
    packed_act pk[PACK_BLOCKS];
    for (int64_t r = 0; r < na; r += 8) {
        const int rows = na - r < 8 ? (int)(na - r) : 8;
        pack_act8(L_Q8_0, nb, ab + (size_t)r * as, as, rows, pk);
        q8_0_tile8(nb, wb, ws, nw, pk, rows, y + r * ys, ys);
    }
}

/* ---- K-quants against Q8_K (256-element super-blocks) -------------------- */

/* Q8_K block: d f32 @0, qs[256] @4, bsums int16[16] @260. */
#define Q8K_BYTES sizeof(tg_block_q8_K)
#define Q8K_QS 4
#define Q8K_BSUMS 260

/* The 8 scales and 8 mins of a Q4_K/Q5_K block (6 bits each, packed in 12
 * bytes: see quant_k.c k4_scale_min) as two 8-byte words. */
INLINE void k4_unpack_scales(const uint8_t *s, uint64_t *sc, uint64_t *mn) {
    uint32_t u0, u1, u2;
    memcpy(&u0, s, 4);
    memcpy(&u1, s + 4, 4);
    memcpy(&u2, s + 8, 4);
    const uint32_t sc_lo = u0 & 0x3f3f3f3fu;
    const uint32_t mn_lo = u1 & 0x3f3f3f3fu;
    const uint32_t sc_hi = (u2 & 0x0f0f0f0fu) | (((u0 >> 6) & 0x03030303u) << 4);
    const uint32_t mn_hi = ((u2 >> 4) & 0x0f0f0f0fu) | (((u1 >> 6) & 0x03030303u) << 4);
    *sc = (uint64_t)sc_lo | ((uint64_t)sc_hi << 32);
    *mn = (uint64_t)mn_lo | ((uint64_t)mn_hi << 32);
}

/* Shuffle masks broadcasting int16 element k of each 128-bit lane. */
INLINE __m256i bcast16_mask(int k) {
    return _mm256_set1_epi16((short)((2 * k) | ((2 * k + 1) << 8)));
}

/* 1 weight row x NR activation rows of Q4_K (five = 0) or Q5_K (five = 1),
 * the float sums as q45K_mm describes; the one-row gemv and vec_dot, and
 * the tile for 1-3 activation rows. */
INLINE void q45K_tile(const int five, const int NR, int64_t nb, const uint8_t *w, const uint8_t *a,
                      size_t as, float *y, int64_t ys) {
    const size_t wb = five ? sizeof(tg_block_q5_K) : sizeof(tg_block_q4_K);
    const size_t qs_off = five ? 48 : 16;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m128 acc[4]; /* lanes 0 and 1: the pair's two float sums (see q45K_mm) */
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
        acc[r] = _mm_setzero_ps();
    for (int64_t ib = 0; ib < nb; ib++) {
        const uint8_t *x = w + (size_t)ib * wb;
        uint32_t dpair; /* d and dmin */
        memcpy(&dpair, x, 4);
        const __m128 dd = _mm_cvtph_ps(_mm_cvtsi32_si128((int)dpair));
        uint64_t sc, mn;
        k4_unpack_scales(x + 4, &sc, &mn);
        const __m256i scv = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)sc)));
        const __m128i mn16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)mn));
        const uint8_t *qs = x + qs_off;
        __m256i qh = five ? load256(x + 16) : _mm256_setzero_si256();
        __m256i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++)
            isum[r] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            const __m256i q = load256(qs + 32 * j);
            __m256i lo = _mm256_and_si256(q, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            if (five) {
                /* Bit 2j of qh[l] is the fifth bit of the low group, bit
                 * 2j+1 of the high one; qh is shifted down 2 per chunk. */
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(1)), 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(2)), 3));
                qh = _mm256_srli_epi16(qh, 2);
            }
            const __m256i s_lo = _mm256_shuffle_epi8(scv, bcast16_mask(2 * j));
            const __m256i s_hi = _mm256_shuffle_epi8(scv, bcast16_mask(2 * j + 1));
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                const uint8_t *q8 = a + (size_t)r * as + (size_t)ib * Q8K_BYTES + Q8K_QS + 64 * j;
                const __m256i p_lo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load256(q8)), s_lo);
                const __m256i p_hi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load256(q8 + 32)), s_hi);
                isum[r] = _mm256_add_epi32(isum[r], _mm256_add_epi32(p_lo, p_hi));
                KEEP(isum[r]);
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            const uint8_t *yb = a + (size_t)r * as + (size_t)ib * Q8K_BYTES;
            const float dy = f32_at(yb);
            /* Sums of 32 activations per sub-block, times the mins. */
            const __m256i bs = load256(yb + Q8K_BSUMS);
            const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
            const __m128i im = _mm_madd_epi16(mn16, pairs);
            const __m128i is = _mm_add_epi32(_mm256_castsi256_si128(isum[r]), _mm256_extracti128_si256(isum[r], 1));
            /* lane 0: S, lane 1: M (exact), each fma'd with its scale */
            const __m128i sm = _mm_hadd_epi32(_mm_hadd_epi32(is, im), _mm_setzero_si128());
            acc[r] = _mm_fmadd_ps(_mm_cvtepi32_ps(sm), _mm_mul_ps(dd, _mm_set1_ps(dy)), acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
        y[r * ys] = _mm_cvtss_f32(_mm_sub_ss(acc[r], _mm_movehdup_ps(acc[r])));
}

/* 1 weight row x NR activation rows of Q6_K. */
INLINE void q6K_tile(const int NR, int64_t nb, const uint8_t *w, const uint8_t *a, size_t as, float *y,
                     int64_t ys) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
        acc[r] = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < nb; ib++) {
        const uint8_t *x = w + (size_t)ib * sizeof(tg_block_q6_K);
        const uint8_t *ql = x, *qh = x + 128, *scales = x + 192;
        const float dx = f16_at(x + 208);
        __m256i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++)
            isum[r] = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            /* int16 scales 8h..8h+7 in both lanes; chunk c of this half uses
             * scale 2c in its low lane (elements 0-15), 2c+1 in its high. */
            const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(scales + 8 * h))));
            const __m256i l0 = load256(ql + 64 * h), l1 = load256(ql + 64 * h + 32);
            const __m256i hb = load256(qh + 32 * h);
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) {
                __m256i q;
                switch (c) { /* 6-bit quants 0..63 of elements 32c..32c+31 */
                case 0: q = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(0x03)), 4)); break;
                case 1: q = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(0x0c)), 2)); break;
                case 2: q = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, _mm256_set1_epi8(0x30))); break;
                default: q = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_srli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8((char)0xc0)), 2)); break;
                }
                const __m256i s = _mm256_shuffle_epi8(
                    sc, _mm256_set_m128i(_mm256_castsi256_si128(bcast16_mask(2 * c + 1)), _mm256_castsi256_si128(bcast16_mask(2 * c))));
#pragma GCC unroll 4
                for (int r = 0; r < NR; r++) {
                    const uint8_t *q8 = a + (size_t)r * as + (size_t)ib * Q8K_BYTES + Q8K_QS + 128 * h + 32 * c;
                    isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(_mm256_maddubs_epi16(q, load256(q8)), s));
                    KEEP(isum[r]);
                }
            }
        }
        /* The -32 offset of every quant: 32 * sum_j scale_j * bsum_j. */
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)scales));
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            const uint8_t *yb = a + (size_t)r * as + (size_t)ib * Q8K_BYTES;
            const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(sc16, load256(yb + Q8K_BSUMS)), 5);
            const __m256i s = _mm256_sub_epi32(isum[r], off);
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * f32_at(yb)), _mm256_cvtepi32_ps(s), acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
        y[r * ys] = hsum8(acc[r]);
}

/* Shuffle mask for a chunk of 32 elements whose two halves of 16 use int16
 * scales k (low 128 bits) and k+1 (high 128 bits) of a vector holding the
 * same 8 scales in both halves. */
INLINE __m256i scale_pair_mask(int k) {
    return _mm256_set_m128i(_mm256_castsi256_si128(bcast16_mask(k + 1)), _mm256_castsi256_si128(bcast16_mask(k)));
}

/* 1 weight row x NR activation rows of Q2_K: chunk c = 4h + j (elements
 * 32c..32c+31) holds bits 2j..2j+1 of qs[32h..32h+31], 4-bit scales 2c and
 * 2c+1 (low nibbles of scales[]), and the mins (high nibbles) multiply the
 * activation sums of 16. */
INLINE void q2K_tile(const int NR, int64_t nb, const uint8_t *w, const uint8_t *a, size_t as, float *y,
                     int64_t ys) {
    const __m256i m3 = _mm256_set1_epi8(3), m4 = _mm256_set1_epi8(0x0f);
    __m256 acc[4], accm[4];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
        acc[r] = accm[r] = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < nb; ib++) {
        const uint8_t *x = w + (size_t)ib * sizeof(tg_block_q2_K);
        const float dx = f16_at(x + 80), dmx = f16_at(x + 82);
        const __m128i sb = _mm_loadu_si128((const __m128i *)x);
        const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sb, _mm256_castsi256_si128(m4)));
        const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sb, 4), _mm256_castsi256_si128(m4)));
        __m256i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++)
            isum[r] = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m256i sc = (h ? _mm256_permute2x128_si256(sc16, sc16, 0x11) : _mm256_permute2x128_si256(sc16, sc16, 0x00));
            const __m256i qb = load256(x + 16 + 32 * h);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                const __m256i q = _mm256_and_si256(_mm256_srli_epi16(qb, 2 * j), m3);
                const __m256i s = _mm256_shuffle_epi8(sc, scale_pair_mask(2 * j));
#pragma GCC unroll 4
                for (int r = 0; r < NR; r++) {
                    const uint8_t *q8 = a + (size_t)r * as + (size_t)ib * Q8K_BYTES + Q8K_QS + 128 * h + 32 * j;
                    isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(_mm256_maddubs_epi16(q, load256(q8)), s));
                    KEEP(isum[r]);
                }
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            const uint8_t *yb = a + (size_t)r * as + (size_t)ib * Q8K_BYTES;
            const float dy = f32_at(yb);
            const __m256i im = _mm256_madd_epi16(mn16, load256(yb + Q8K_BSUMS));
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dy * dx), _mm256_cvtepi32_ps(isum[r]), acc[r]);
            accm[r] = _mm256_fmadd_ps(_mm256_set1_ps(dy * dmx), _mm256_cvtepi32_ps(im), accm[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
        y[r * ys] = hsum8(acc[r]) - hsum8(accm[r]);
}

/* The 16 signed 6-bit scales of a Q3_K block (see quant_k.c k3_scale) as
 * int16: four bytes of low nibbles at a time with their 2 high bits. */
INLINE __m256i k3_scales16(const uint8_t *s) {
    uint32_t a0, a1, a2;
    memcpy(&a0, s, 4);
    memcpy(&a1, s + 4, 4);
    memcpy(&a2, s + 8, 4);
    const uint32_t w0 = (a0 & 0x0f0f0f0fu) | ((a2 & 0x03030303u) << 4);
    const uint32_t w1 = (a1 & 0x0f0f0f0fu) | (((a2 >> 2) & 0x03030303u) << 4);
    const uint32_t w2 = ((a0 >> 4) & 0x0f0f0f0fu) | (((a2 >> 4) & 0x03030303u) << 4);
    const uint32_t w3 = ((a1 >> 4) & 0x0f0f0f0fu) | (((a2 >> 6) & 0x03030303u) << 4);
    const __m128i b = _mm_sub_epi8(_mm_setr_epi32((int)w0, (int)w1, (int)w2, (int)w3), _mm_set1_epi8(32));
    return _mm256_cvtepi8_epi16(b);
}

/* 1 weight row x NR activation rows of Q3_K: as Q2_K's chunks, each quant
 * made unsigned as q2 + 4*hbit (0..7, hbit = bit c of hmask[l]), the -4
 * coming off as 4 * sum_j scale_j * bsum_j. */
INLINE void q3K_tile(const int NR, int64_t nb, const uint8_t *w, const uint8_t *a, size_t as, float *y,
                     int64_t ys) {
    const __m256i m3 = _mm256_set1_epi8(3), m1 = _mm256_set1_epi8(1);
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
        acc[r] = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < nb; ib++) {
        const uint8_t *x = w + (size_t)ib * sizeof(tg_block_q3_K);
        const float dx = f16_at(x + 108);
        const __m256i sc16 = k3_scales16(x + 96);
        __m256i hm = load256(x);
        __m256i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++)
            isum[r] = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m256i sc = (h ? _mm256_permute2x128_si256(sc16, sc16, 0x11) : _mm256_permute2x128_si256(sc16, sc16, 0x00));
            const __m256i qb = load256(x + 32 + 32 * h);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                /* hm is shifted down one bit per chunk: bit 0 is bit 4h+j. */
                const __m256i q = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qb, 2 * j), m3),
                                                  _mm256_slli_epi16(_mm256_and_si256(hm, m1), 2));
                hm = _mm256_srli_epi16(hm, 1);
                const __m256i s = _mm256_shuffle_epi8(sc, scale_pair_mask(2 * j));
#pragma GCC unroll 4
                for (int r = 0; r < NR; r++) {
                    const uint8_t *q8 = a + (size_t)r * as + (size_t)ib * Q8K_BYTES + Q8K_QS + 128 * h + 32 * j;
                    isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(_mm256_maddubs_epi16(q, load256(q8)), s));
                    KEEP(isum[r]);
                }
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            const uint8_t *yb = a + (size_t)r * as + (size_t)ib * Q8K_BYTES;
            const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(sc16, load256(yb + Q8K_BSUMS)), 2);
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * f32_at(yb)), _mm256_cvtepi32_ps(_mm256_sub_epi32(isum[r], off)), acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
        y[r * ys] = hsum8(acc[r]);
}

#define K_NR 4

/* K tiles are one weight row wide: the row's unpacking is shared by the NR
 * activation rows, and each weight row is swept over all activations while
 * it sits in L1.  K_MM_ROWS is mm through them. */
#define K_MM_ROWS(TILE, n, w, ws, nw, a, as, na, y, ys)                                           \
    do {                                                                                        \
        const uint8_t *wb_ = (w), *ab_ = (a);                                                   \
        const int64_t na_full_ = (na) - (na) % K_NR;                                            \
        for (int64_t o_ = 0; o_ < (nw); o_++) {                                                 \
            const uint8_t *wr_ = wb_ + o_ * (ws);                                               \
            prefetch_ahead(wr_, (ws));                                                          \
            for (int64_t r_ = 0; r_ < na_full_; r_ += K_NR)                                     \
                TILE(K_NR, (n) / 256, wr_, ab_ + r_ * (as), (as), (y) + r_ * (ys) + o_, (ys));  \
            const uint8_t *ar_ = ab_ + na_full_ * (as);                                         \
            float *yr_ = (y) + na_full_ * (ys) + o_;                                            \
            switch ((na) - na_full_) { /* the last 1..3 activation rows */                      \
            case 0: break;                                                                      \
            case 1: TILE(1, (n) / 256, wr_, ar_, (as), yr_, (ys)); break;                       \
            case 2: TILE(2, (n) / 256, wr_, ar_, (as), yr_, (ys)); break;                       \
            default: TILE(3, (n) / 256, wr_, ar_, (as), yr_, (ys)); break;                      \
            }                                                                                   \
        }                                                                                       \
    } while (0)

#define K_VEC_DOT(name, TILE)                                                                    \
    static float vec_dot_##name(int64_t n, const void *x, const void *y) {                      \
        float out;                                                                              \
        TILE(1, n / 256, x, y, 0, &out, 0);                                                     \
        return out;                                                                             \
    }

#define K_KERNELS(name, TILE)                                                                    \
    K_VEC_DOT(name, TILE)                                                                       \
    static void mm_##name(int64_t n, const void *w, size_t ws, int64_t nw, const void *a,        \
                          size_t as, int64_t na, float *y, int64_t ys) {                        \
        K_MM_ROWS(TILE, n, (const uint8_t *)w, ws, nw, (const uint8_t *)a, as, na, y, ys);       \
    }

#define Q4K_TILE(NR, ...) q45K_tile(0, NR, __VA_ARGS__)
#define Q5K_TILE(NR, ...) q45K_tile(1, NR, __VA_ARGS__)
#define Q6K_TILE(NR, ...) q6K_tile(NR, __VA_ARGS__)
#define Q2K_TILE(NR, ...) q2K_tile(NR, __VA_ARGS__)
#define Q3K_TILE(NR, ...) q3K_tile(NR, __VA_ARGS__)
K_KERNELS(q2_K, Q2K_TILE)
K_KERNELS(q3_K, Q3K_TILE)
K_KERNELS(q6_K, Q6K_TILE)

/* Q4_K/Q5_K against many activation rows.  Every kernel here sums a
 * (weight row, activation row) pair the same way, so mm is bit-identical
 * to vec_dot: per super-block b the exact integer sums S_b = sum_j sc_j *
 * (q . a over sub-block j) and M_b = sum_j m_j * (sum of a over
 * sub-block j), then acc = fma(S_b, d_b * dy_b, acc) and accm = fma(M_b,
 * dmin_b * dy_b, accm) in order, the result acc - accm.  The many-row tile
 * puts 8 activation rows in the lanes (as the legacy tiles do): a weight
 * dword broadcast meets the same 4 elements of each row, four products
 * of a sub-block add up in int16 before one vpmaddwd by its scale (1.25
 * multiplies per 32 elements and row instead of 2). */
typedef struct packed_k {
    __m256i q[64]; /* dword k of the super-block's quants: lane j = row j */
    __m256i bs[4]; /* lane j: row j's sums of sub-blocks 2i and 2i+1, int16 */
    __m256 dy;
} packed_k;

INLINE void pack_k8(int64_t nb, const uint8_t *a, size_t as, int rows, packed_k *pk) {
    for (int64_t ib = 0; ib < nb; ib++) {
        packed_k *P = pk + ib;
        for (int j = 0; j < 8; j++) { /* 32 elements of the 8 rows at a time */
            __m256i r[8];
            for (int i = 0; i < 8; i++)
                r[i] = i < rows ? load256(a + (size_t)i * as + (size_t)ib * Q8K_BYTES + Q8K_QS + 32 * j)
                                : _mm256_setzero_si256();
            transpose8x8_epi32(r, P->q + 8 * j);
        }
        int32_t bs[4][8] = {{0}};
        float dy[8] = {0};
        for (int i = 0; i < rows; i++) {
            const uint8_t *yb = a + (size_t)i * as + (size_t)ib * Q8K_BYTES;
            const __m256i b16 = load256(yb + Q8K_BSUMS); /* sums of 16 */
            int32_t s[4];
            _mm_storeu_si128((__m128i *)s, _mm_hadd_epi16(_mm256_castsi256_si128(b16), _mm256_extracti128_si256(b16, 1)));
            for (int k = 0; k < 4; k++)
                bs[k][i] = s[k];
            dy[i] = f32_at(yb);
        }
        for (int k = 0; k < 4; k++)
            P->bs[k] = _mm256_loadu_si256((const __m256i *)bs[k]);
        P->dy = _mm256_loadu_ps(dy);
    }
}

/* Sub-block j's 32 quants (element e in byte e, <= 31) against the packed
 * rows, times the sub-block's scale: int32 lane j = row j. */
INLINE __m256i k_sub_dot(__m256i u, const packed_k *P, int j, int scale) {
    const __m256i lo = _mm256_permute2x128_si256(u, u, 0x00), hi = _mm256_permute2x128_si256(u, u, 0x11);
    const __m256i sc = _mm256_set1_epi16((short)scale);
    __m256i g[2];
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m256i m0 = _mm256_maddubs_epi16(bcast_dword(lo, hi, 4 * h + 0), P->q[8 * j + 4 * h + 0]);
        const __m256i m1 = _mm256_maddubs_epi16(bcast_dword(lo, hi, 4 * h + 1), P->q[8 * j + 4 * h + 1]);
        const __m256i m2 = _mm256_maddubs_epi16(bcast_dword(lo, hi, 4 * h + 2), P->q[8 * j + 4 * h + 2]);
        const __m256i m3 = _mm256_maddubs_epi16(bcast_dword(lo, hi, 4 * h + 3), P->q[8 * j + 4 * h + 3]);
        g[h] = _mm256_madd_epi16(_mm256_add_epi16(_mm256_add_epi16(m0, m1), _mm256_add_epi16(m2, m3)), sc);
    }
    return _mm256_add_epi32(g[0], g[1]);
}

/* Super-block columns [c0, c0 + nc) of nw weight rows against the packed
 * rows, continuing each row's two float sums in st (zero when first). */
INLINE void q45K_tile8(const int five, int64_t c0, int64_t nc, const uint8_t *w, size_t ws, int64_t nw,
                       const packed_k *pk, __m256 (*st)[2], int first) {
    const size_t wb = five ? sizeof(tg_block_q5_K) : sizeof(tg_block_q4_K);
    const size_t qs_off = five ? 48 : 16;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    for (int64_t o = 0; o < nw; o++) {
        const uint8_t *row = w + (size_t)o * ws + (size_t)c0 * wb;
        /* the next row's columns, on their way while this one computes */
        for (size_t off = 0; off < (size_t)nc * wb; off += 64)
            _mm_prefetch((const char *)(row + ws + off), _MM_HINT_T0);
        __m256 acc = first ? _mm256_setzero_ps() : st[o][0], accm = first ? _mm256_setzero_ps() : st[o][1];
        for (int64_t ib = 0; ib < nc; ib++) {
            const uint8_t *x = row + (size_t)ib * wb;
            const packed_k *P = pk + ib;
            uint64_t sc, mn;
            k4_unpack_scales(x + 4, &sc, &mn);
            __m256i qh = five ? load256(x + 16) : _mm256_setzero_si256();
            __m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) {
                const __m256i q = load256(x + qs_off + 32 * c);
                __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                if (five) {
                    lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(1)), 4));
                    hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(2)), 3));
                    qh = _mm256_srli_epi16(qh, 2);
                }
                isum = _mm256_add_epi32(isum, k_sub_dot(lo, P, 2 * c, (int)((sc >> (16 * c)) & 0xff)));
                isum = _mm256_add_epi32(isum, k_sub_dot(hi, P, 2 * c + 1, (int)((sc >> (16 * c + 8)) & 0xff)));
            }
            /* the mins: int16 pairs (m_2i, m_2i+1) against the rows' sub-block sums */
            __m256i im = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++)
                im = _mm256_add_epi32(im, _mm256_madd_epi16(P->bs[i], _mm256_set1_epi32((int)(((mn >> (16 * i)) & 0xff) | (((mn >> (16 * i + 8)) & 0xff) << 16)))));
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(_mm256_set1_ps(f16_at(x)), P->dy), acc);
            accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(im), _mm256_mul_ps(_mm256_set1_ps(f16_at(x + 2)), P->dy), accm);
        }
        st[o][0] = acc;
        st[o][1] = accm;
    }
}

/* The packed activations are taken K_CHUNK super-blocks at a time, so they
 * stay in L1 (rows of 8192 packed whole, 70 KiB, streamed from L2 and
 * capped the tile at ~46 G multiply-adds/s); the weight rows go
 * K_ROW_GROUP at a time, their running sums kept in st meanwhile. */
#define K_CHUNK 8
#define K_ROW_GROUP 128

INLINE void q45K_mm(const int five, int64_t n, const uint8_t *w, size_t ws, int64_t nw, const uint8_t *a, size_t as,
                    int64_t na, float *y, int64_t ys) {
    const int64_t nb = n / 256;
    int64_t r = 0;
    if (na >= 4) {
        packed_k pk[K_CHUNK];
        __m256 st[K_ROW_GROUP][2];
        for (; na - r >= 4; r += 8) { /* groups of 8 rows, the last one 4-7 */
            const int rows = na - r < 8 ? (int)(na - r) : 8;
            for (int64_t o0 = 0; o0 < nw; o0 += K_ROW_GROUP) {
                const int64_t no = nw - o0 < K_ROW_GROUP ? nw - o0 : K_ROW_GROUP;
                for (int64_t c0 = 0; c0 < nb; c0 += K_CHUNK) {
                    const int64_t nc = nb - c0 < K_CHUNK ? nb - c0 : K_CHUNK;
                    pack_k8(nc, a + (size_t)r * as + (size_t)c0 * Q8K_BYTES, as, rows, pk);
                    q45K_tile8(five, c0, nc, w + (size_t)o0 * ws, ws, no, pk, st, c0 == 0);
                }
                for (int64_t o = 0; o < no; o++) {
                    float out[8];
                    _mm256_storeu_ps(out, _mm256_sub_ps(st[o][0], st[o][1]));
                    for (int j = 0; j < rows; j++)
                        y[(r + j) * ys + o0 + o] = out[j];
                }
            }
        }
        if (r > na)
            r = na;
    }
    if (r < na) { /* the rest through the one-row-wide tiles */
        if (five)
            K_MM_ROWS(Q5K_TILE, n, w, ws, nw, a + (size_t)r * as, as, na - r, y + r * ys, ys);
        else
            K_MM_ROWS(Q4K_TILE, n, w, ws, nw, a + (size_t)r * as, as, na - r, y + r * ys, ys);
    }
}

K_VEC_DOT(q4_K, Q4K_TILE)
K_VEC_DOT(q5_K, Q5K_TILE)

static void mm_q4_K(int64_t n, const void *w, size_t ws, int64_t nw, const void *a, size_t as, int64_t na, float *y,
                    int64_t ys) {
    q45K_mm(0, n, w, ws, nw, a, as, na, y, ys);
}

static void mm_q5_K(int64_t n, const void *w, size_t ws, int64_t nw, const void *a, size_t as, int64_t na, float *y,
                    int64_t ys) {
    q45K_mm(1, n, w, ws, nw, a, as, na, y, ys);
}

/* ---- F32, F16, BF16 ------------------------------------------------------ */

/* 8 elements of each float type as floats (p may be unaligned). */
INLINE __m256 load8_f32(const uint8_t *p) {
    return _mm256_loadu_ps((const float *)p);
}
INLINE __m256 load8_f16(const uint8_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}
INLINE __m256 load8_bf16(const uint8_t *p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

/* Four accumulators over 32 elements a step, then 8 at a time into the
 * first, then the last n % 8 elements zero-padded through a buffer; the
 * sum is ((a0 + a1) + (a2 + a3)) reduced by hsum8.  esz: element bytes. */
#define FLOAT_DOT(name, esz, LOAD)                                                               \
    static float vec_dot_##name(int64_t n, const void *vx, const void *vy) {                    \
        const uint8_t *x = vx, *y = vy;                                                         \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                              \
        int64_t i = 0;                                                                          \
        for (; i + 32 <= n; i += 32) {                                                          \
            a0 = _mm256_fmadd_ps(LOAD(x + (i + 0) * esz), LOAD(y + (i + 0) * esz), a0);         \
            a1 = _mm256_fmadd_ps(LOAD(x + (i + 8) * esz), LOAD(y + (i + 8) * esz), a1);         \
            a2 = _mm256_fmadd_ps(LOAD(x + (i + 16) * esz), LOAD(y + (i + 16) * esz), a2);       \
            a3 = _mm256_fmadd_ps(LOAD(x + (i + 24) * esz), LOAD(y + (i + 24) * esz), a3);       \
        }                                                                                       \
        for (; i + 8 <= n; i += 8)                                                              \
            a0 = _mm256_fmadd_ps(LOAD(x + i * esz), LOAD(y + i * esz), a0);                     \
        if (i < n) {                                                                            \
            uint8_t tx[8 * esz] = {0}, ty[8 * esz] = {0};                                       \
            memcpy(tx, x + i * esz, (size_t)(n - i) * esz);                                     \
            memcpy(ty, y + i * esz, (size_t)(n - i) * esz);                                     \
            a0 = _mm256_fmadd_ps(LOAD(tx), LOAD(ty), a0);                                       \
        }                                                                                       \
        return hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));             \
    }                                                                                           \
    static void mm_##name(int64_t n, const void *w, size_t ws, int64_t nw, const void *a,        \
                          size_t as, int64_t na, float *y, int64_t ys) {                        \
        tg__mm_generic(vec_dot_##name, n, w, ws, nw, a, as, na, y, ys);                         \
    }

FLOAT_DOT(f32, 4, load8_f32)
FLOAT_DOT(f16, 2, load8_f16)
FLOAT_DOT(bf16, 2, load8_bf16)

/* ---- activation quantizers ----------------------------------------------- */

/* |x| of 8 floats. */
INLINE __m256 abs8(__m256 v) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

/* Max of 8 non-NaN floats. */
INLINE float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* Rounds 32 scaled floats half to even and packs them to int8 (saturating
 * as a cast of an in-range value would), element j in byte j.  NaN -> 0 when
 * zero_nan (what tg__nearest_int does). */
INLINE __m256i round_pack32(const float *x, __m256 scale, int zero_nan, __m256i *i32s) {
    __m256i v[4];
    for (int k = 0; k < 4; k++) {
        __m256 s = _mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), scale);
        if (zero_nan)
            s = _mm256_and_ps(s, _mm256_cmp_ps(s, s, _CMP_ORD_Q));
        s = _mm256_round_ps(s, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v[k] = _mm256_cvtps_epi32(s);
        if (i32s)
            i32s[k] = v[k];
    }
    /* packs work within 128-bit lanes: the dwords come out as 0,2,4,6,1,3,5,7 groups. */
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* The largest |x| of 32 floats (NaN ignored, like fmaxf). */
INLINE float amax32(const float *x) {
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < 4; k++)
        m = _mm256_max_ps(abs8(_mm256_loadu_ps(x + 8 * k)), m); /* NaN x -> keeps m */
    return hmax8(m);
}

/* Q8_0 the way tg__quantize_act_row does: d = amax/127 as f16, values
 * times 127/amax rounded half to even. */
static void quantize_q8_0(const float *x, void *dst, int64_t n) {
    uint8_t *out = dst;
    for (int64_t b = 0; b < n / 32; b++, x += 32, out += sizeof(tg_block_q8_0)) {
        const float amax = amax32(x);
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        const uint16_t dh = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        memcpy(out, &dh, 2);
        _mm256_storeu_si256((__m256i *)(out + 2), round_pack32(x, _mm256_set1_ps(id), 0, NULL));
    }
}

/* Q8_1: as Q8_0 plus s = f16(d * sum of the quants). */
static void quantize_q8_1(const float *x, void *dst, int64_t n) {
    uint8_t *out = dst;
    for (int64_t b = 0; b < n / 32; b++, x += 32, out += sizeof(tg_block_q8_1)) {
        const float amax = amax32(x);
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        __m256i q[4];
        _mm256_storeu_si256((__m256i *)(out + 4), round_pack32(x, _mm256_set1_ps(id), 0, q));
        const __m256i s8 = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
        const int sum = _mm_cvtsi128_si32(s4);
        const uint16_t dh = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        const uint16_t sh = _cvtss_sh(d * (float)sum, _MM_FROUND_TO_NEAREST_INT);
        memcpy(out, &dh, 2);
        memcpy(out + 2, &sh, 2);
    }
}

/* Q8_K as tg__q8_K_from_float: max = the first value of largest |x|,
 * iscale = -127/max, q = round-half-even(iscale*x) clamped to int8, d =
 * 1/iscale, bsums = sums of 16. */
static void quantize_q8_K(const float *x, void *dst, int64_t n) {
    uint8_t *out = dst;
    for (int64_t b = 0; b < n / 256; b++, x += 256, out += Q8K_BYTES) {
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < 32; k++)
            m = _mm256_max_ps(abs8(_mm256_loadu_ps(x + 8 * k)), m);
        const float amax = hmax8(m);
        if (amax == 0.0f) {
            memset(out, 0, Q8K_BYTES); /* d = 0.0f, quants and sums 0 */
            continue;
        }
        const __m256 va = _mm256_set1_ps(amax);
        int first = 0;
        for (int k = 0; k < 32; k++) {
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(abs8(_mm256_loadu_ps(x + 8 * k)), va, _CMP_EQ_OQ));
            if (hit) {
                first = 8 * k + __builtin_ctz((unsigned)hit);
                break;
            }
        }
        const float iscale = -127.0f / x[first];
        const __m256 vs = _mm256_set1_ps(iscale);
        for (int c = 0; c < 8; c++) {
            const __m256i q = round_pack32(x + 32 * c, vs, 1, NULL);
            _mm256_storeu_si256((__m256i *)(out + Q8K_QS + 32 * c), q);
            /* Sums of 16: pairs, quads, then within each 128-bit lane. */
            __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
            s = _mm256_hadd_epi32(s, s);
            s = _mm256_hadd_epi32(s, s);
            const int16_t s0 = (int16_t)_mm256_extract_epi32(s, 0), s1 = (int16_t)_mm256_extract_epi32(s, 4);
            memcpy(out + Q8K_BSUMS + 4 * c, &s0, 2);
            memcpy(out + Q8K_BSUMS + 4 * c + 2, &s1, 2);
        }
        const float d = 1 / iscale;
        memcpy(out, &d, 4);
    }
}

/* ---- f16 rows ------------------------------------------------------------ */

static void f32_to_f16_row(const float *x, void *dst, int64_t n) {
    uint8_t *y = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + 2 * i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) {
        const uint16_t h = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
        memcpy(y + 2 * i, &h, 2);
    }
}

static void f16_to_f32_row(const void *src, float *y, int64_t n) {
    const uint8_t *x = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, load8_f16(x + 2 * i));
    for (; i < n; i++)
        y[i] = f16_at(x + 2 * i);
}

/* ---- attention against an f16 cache ---------------------------------------- */

/* Scores of G (1 or 2) query heads against the same K rows: four
 * independent FMA chains per row and head (hd = 64..256 typically), the f16
 * row widened 8 values at a time, once for all heads.  Each head's
 * arithmetic is the same whatever G. */
INLINE void att_scores_g(const int G, const uint16_t *k, size_t stride, int32_t n, const float *const *q, int hd,
                         float scale, float *const *s) {
    for (int32_t c = 0; c < n; c++) {
        const uint8_t *kr = (const uint8_t *)(k + (size_t)c * stride);
        __m256 a[2][4];
#pragma GCC unroll 2
        for (int g = 0; g < G; g++)
            a[g][0] = a[g][1] = a[g][2] = a[g][3] = _mm256_setzero_ps();
        int d = 0;
        for (; d + 32 <= hd; d += 32) {
            const __m256 k0 = load8_f16(kr + 2 * d), k1 = load8_f16(kr + 2 * d + 16);
            const __m256 k2 = load8_f16(kr + 2 * d + 32), k3 = load8_f16(kr + 2 * d + 48);
#pragma GCC unroll 2
            for (int g = 0; g < G; g++) {
                a[g][0] = _mm256_fmadd_ps(k0, _mm256_loadu_ps(q[g] + d), a[g][0]);
                a[g][1] = _mm256_fmadd_ps(k1, _mm256_loadu_ps(q[g] + d + 8), a[g][1]);
                a[g][2] = _mm256_fmadd_ps(k2, _mm256_loadu_ps(q[g] + d + 16), a[g][2]);
                a[g][3] = _mm256_fmadd_ps(k3, _mm256_loadu_ps(q[g] + d + 24), a[g][3]);
            }
        }
        for (; d + 8 <= hd; d += 8) {
            const __m256 kk = load8_f16(kr + 2 * d);
#pragma GCC unroll 2
            for (int g = 0; g < G; g++)
                a[g][0] = _mm256_fmadd_ps(kk, _mm256_loadu_ps(q[g] + d), a[g][0]);
        }
#pragma GCC unroll 2
        for (int g = 0; g < G; g++) {
            float t = hsum8(_mm256_add_ps(_mm256_add_ps(a[g][0], a[g][1]), _mm256_add_ps(a[g][2], a[g][3])));
            for (int e = d; e < hd; e++)
                t += f16_at(kr + 2 * e) * q[g][e];
            s[g][c] = t * scale;
        }
    }
}

/* Weighted sums of G (1 or 2) heads over the same V rows: 32 output values
 * per head in registers at a time, over every row (a head skips the rows it
 * gives weight 0; the row is widened once for the heads that use it). */
INLINE void att_wsum_g(const int G, const uint16_t *v, size_t stride, int32_t n, const float *const *p, int hdv,
                       float *const *out) {
    int d = 0;
    for (; d + 32 <= hdv; d += 32) {
        __m256 a[2][4];
#pragma GCC unroll 2
        for (int g = 0; g < G; g++)
            a[g][0] = a[g][1] = a[g][2] = a[g][3] = _mm256_setzero_ps();
        for (int32_t c = 0; c < n; c++) {
            bool any = false;
#pragma GCC unroll 2
            for (int g = 0; g < G; g++)
                any |= p[g][c] != 0.0f;
            if (!any)
                continue;
            const uint8_t *vr = (const uint8_t *)(v + (size_t)c * stride + (size_t)d);
            const __m256 v0 = load8_f16(vr), v1 = load8_f16(vr + 16), v2 = load8_f16(vr + 32), v3 = load8_f16(vr + 48);
#pragma GCC unroll 2
            for (int g = 0; g < G; g++) {
                if (p[g][c] == 0.0f)
                    continue;
                const __m256 pc = _mm256_set1_ps(p[g][c]);
                a[g][0] = _mm256_fmadd_ps(v0, pc, a[g][0]);
                a[g][1] = _mm256_fmadd_ps(v1, pc, a[g][1]);
                a[g][2] = _mm256_fmadd_ps(v2, pc, a[g][2]);
                a[g][3] = _mm256_fmadd_ps(v3, pc, a[g][3]);
            }
        }
#pragma GCC unroll 2
        for (int g = 0; g < G; g++) {
            _mm256_storeu_ps(out[g] + d, a[g][0]);
            _mm256_storeu_ps(out[g] + d + 8, a[g][1]);
            _mm256_storeu_ps(out[g] + d + 16, a[g][2]);
            _mm256_storeu_ps(out[g] + d + 24, a[g][3]);
        }
    }
    for (; d + 8 <= hdv; d += 8)
#pragma GCC unroll 2
        for (int g = 0; g < G; g++) {
            __m256 a = _mm256_setzero_ps();
            for (int32_t c = 0; c < n; c++)
                if (p[g][c] != 0.0f)
                    a = _mm256_fmadd_ps(load8_f16((const uint8_t *)(v + (size_t)c * stride + (size_t)d)),
                                        _mm256_set1_ps(p[g][c]), a);
            _mm256_storeu_ps(out[g] + d, a);
        }
    for (; d < hdv; d++)
#pragma GCC unroll 2
        for (int g = 0; g < G; g++) {
            float a = 0.0f;
            for (int32_t c = 0; c < n; c++)
                if (p[g][c] != 0.0f)
                    a += f16_at((const uint8_t *)(v + (size_t)c * stride + (size_t)d)) * p[g][c];
            out[g][d] = a;
        }
}

static void att_scores_f16(const uint16_t *k, size_t stride, int32_t n, const float *q, int hd, float scale,
                           float *s) {
    att_scores_g(1, k, stride, n, &q, hd, scale, &s);
}

static void att_scores2_f16(const uint16_t *k, size_t stride, int32_t n, const float *q0, const float *q1, int hd,
                            float scale, float *s0, float *s1) {
    const float *q[2] = {q0, q1};
    float *s[2] = {s0, s1};
    att_scores_g(2, k, stride, n, q, hd, scale, s);
}

static void att_wsum_f16(const uint16_t *v, size_t stride, int32_t n, const float *p, int hdv, float *out) {
    att_wsum_g(1, v, stride, n, &p, hdv, &out);
}

static void att_wsum2_f16(const uint16_t *v, size_t stride, int32_t n, const float *p0, const float *p1, int hdv,
                          float *out0, float *out1) {
    const float *p[2] = {p0, p1};
    float *o[2] = {out0, out1};
    att_wsum_g(2, v, stride, n, p, hdv, o);
}

/* ---- GEGLU through the half-precision GELU table --------------------------- */

/* Eight gates at a time: converted to halves (F16C, rounding as
 * tg__fp32_to_fp16), the table entries gathered, the +-10 cut-offs of
 * tg__geglu applied by mask; the same bits as the reference. */
static void geglu(float *y, const float *gate, const float *up, int64_t n) {
    const int *tab = (const int *)(const void *)tg__gelu_table(); /* 4 bytes read at each 2-byte entry */
    const __m256 lo = _mm256_set1_ps(-10.0f), hi = _mm256_set1_ps(10.0f);
    const __m256i m16 = _mm256_set1_epi32(0xffff);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256i idx = _mm256_cvtepu16_epi32(_mm256_cvtps_ph(g, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        const __m256i t = _mm256_and_si256(_mm256_i32gather_epi32(tab, idx, 2), m16);
        /* dwords to words: packus within lanes, then qwords 0 and 2 */
        const __m128i h = _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi32(t, t), 0x08));
        __m256 r = _mm256_blendv_ps(_mm256_cvtph_ps(h), g, _mm256_cmp_ps(g, hi, _CMP_GE_OQ));
        r = _mm256_mul_ps(r, _mm256_loadu_ps(up + i));
        /* 0 where g <= -10 (a NaN gate keeps its NaN, as the reference) */
        _mm256_storeu_ps(y + i, _mm256_and_ps(r, _mm256_cmp_ps(g, lo, _CMP_NLE_UQ)));
    }
    if (i < n)
        tg__geglu(y + i, gate + i, up + i, n - i);
}

/* ---- SwiGLU ------------------------------------------------------------------ */

/* exp of 8 floats: x = n ln2 + r with |r| <= ln2/2, e^r by Cephes' expf
 * polynomial (degree 7, about 1 ulp), times 2^n applied in two halves so
 * that n = 128 (x up to 88.72) still comes out finite and larger x
 * overflows to inf as expf does; x below -104 gives 0. */
INLINE __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-104.0f)), _mm256_set1_ps(89.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    /* ln2 split in two so n * ln2_hi is exact */
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

INLINE __m256 swiglu8(__m256 g, __m256 u) {
    __m256 e = exp8(_mm256_xor_ps(g, _mm256_set1_ps(-0.0f)));
    e = _mm256_blendv_ps(e, g, _mm256_cmp_ps(g, g, _CMP_UNORD_Q)); /* NaN stays NaN */
    return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

/* gate / (1 + exp(-gate)) * up, as tg__swiglu computes it but for exp.
 * The last n % 8 values go through the same arithmetic (padded), so a
 * value's result does not depend on where a thread's share starts. */
static void swiglu(float *y, const float *gate, const float *up, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, swiglu8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
    if (i < n) {
        float g[8] = {0}, u[8] = {0}, r[8];
        memcpy(g, gate + i, (size_t)(n - i) * sizeof *g);
        memcpy(u, up + i, (size_t)(n - i) * sizeof *u);
        _mm256_storeu_ps(r, swiglu8(_mm256_loadu_ps(g), _mm256_loadu_ps(u)));
        memcpy(y + i, r, (size_t)(n - i) * sizeof *r);
    }
}

/* ---- the table ----------------------------------------------------------- */

void tg__kernels_fill_avx2(tg__kernels *k) {
#define SET(T, t) k->type[TG_TYPE_##T] = (tg__type_kernels){vec_dot_##t, mm_##t}
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
    k->quantize_act[TG_TYPE_F16] = f32_to_f16_row;
    k->quantize_act[TG_TYPE_Q8_0] = quantize_q8_0;
    k->quantize_act[TG_TYPE_Q8_1] = quantize_q8_1;
    k->quantize_act[TG_TYPE_Q8_K] = quantize_q8_K;
    k->f32_to_f16 = f32_to_f16_row;
    k->f16_to_f32 = f16_to_f32_row;
    k->att_scores_f16 = att_scores_f16;
    k->att_wsum_f16 = att_wsum_f16;
    k->att_scores2_f16 = att_scores2_f16;
    k->att_wsum2_f16 = att_wsum2_f16;
    k->geglu = geglu;
    k->swiglu = swiglu;
}
