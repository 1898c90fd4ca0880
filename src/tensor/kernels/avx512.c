/*
 * avx512.c — AVX-512 kernels (F, BW, VL, DQ, VNNI, BF16): the dot products
 * and register tiles of Q8_0, Q6_K, F16, BF16 and F32.  The activation
 * quantizers and f16 rows stay AVX2's (they are memory-bound and already
 * bit-identical to the scalar ones), and so do Q4_0, Q4_1, Q5_0, Q5_1,
 * Q4_K and Q5_K: AVX2's tiles, with 8 activation rows in the lanes, ran
 * as fast or faster on a Xeon with AVX-512 (Sapphire Rapids class, one
 * thread, bench/kernels.c, two runs): gemm Q4_0 34-47 vs 31-40 G
 * multiply-adds/s, Q5_0 30-38 vs 26-33, Q4_K 41-50 vs 41-46, Q5_K 43-47 vs
 * 37-41; streaming rows 5.1-8.1 vs 4.4-8.5 GB/s.  The kernels kept here
 * measured faster there: Q8_0 gemm 36-41 vs 21-28, Q6_K 47-49 vs 40-41
 * (streaming 7.6-9.9 vs 7.0-9.5 GB/s once they prefetched as avx2.c does),
 * BF16 3x.
 *
 * Compiled with the Makefile's KERNEL_FLAGS_avx512; dispatch.c calls into
 * this file only when the CPU has every extension in them and the OS saves
 * ZMM state.  Under TG_KERNELS_AVX512_EMULATED the test includes this file
 * against SIMDe's portable intrinsics instead, so the arithmetic can be
 * checked on a CPU without AVX-512 (see tests/tensor/test_kernels.c).
 *
 * How it differs from avx2.c (integer parts stay exact, kernels.h):
 *   - Q8_0 blocks go two at a time (block i in the low 256 bits, i+1 in
 *     the high), as unsigned bytes u = w + 128 (w xor 0x80) through
 *     vpdpbusd (u8 x s8, 4 products summed into int32, no saturation),
 *     starting from -128 * (sums of 4 activations) so the lanes hold
 *     sum(w * a) exactly.  This needs no sign trick, so any int8
 *     activation works.
 *   - Q6_K's sub-block scales are applied with vpdpwssd (int16 pairs).
 *   - The float accumulation has 16 lanes (even and odd blocks apart), so
 *     it rounds differently from avx2, within the same bound.
 *   - BF16 uses vdpbf16ps, which flushes denormal inputs and results.
 */
#ifndef TG_KERNELS_AVX512_EMULATED
#include <immintrin.h>
#endif

#include "tensor/blocks.h"
#include "tensor/kernels/kernels.h"
#include "tensor/tensor.h"

#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/* An empty asm that "changes" v, so the compiler cannot reassociate the
 * integer sums of a K-quant tile across it (GCC otherwise computes every
 * product first and spills them).  A no-op under emulation, where the
 * vector types are structs. */
#ifdef TG_KERNELS_AVX512_EMULATED
#define KEEP(v) ((void)0)
#else
#define KEEP(v) __asm__("" : "+v"(v))
#endif

/* ---- helpers ----------------------------------------------------------- */

INLINE uint16_t u16_at(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

INLINE float f32_at(const uint8_t *p) {
    float f;
    memcpy(&f, p, 4);
    return f;
}

INLINE float f16_at(const uint8_t *p) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(u16_at(p))));
}

/* [s0 x 8 | s1 x 8]: the scales of two blocks from their f16 bits. */
INLINE __m512 scale_pair(uint16_t h0, uint16_t h1) {
    const __m128 d = _mm_cvtph_ps(_mm_cvtsi32_si128((int)((uint32_t)h0 | ((uint32_t)h1 << 16))));
    const __m512i idx = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    return _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(d));
}

INLINE __m256i load256(const void *p) {
    return _mm256_loadu_si256((const __m256i *)p);
}

/* Two 32-byte pieces as one 512-bit vector, lo in the low half. */
INLINE __m512i join(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

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

/* Halves added, then as hsum8. */
INLINE float hsum16(__m512 v) {
    const __m256 lo = _mm512_castps512_ps256(v);
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return hsum8(_mm256_add_ps(lo, hi));
}

/* ---- Q8_0 ---------------------------------------------------------------- */

#define Q80_BYTES sizeof(tg_block_q8_0)

/* The quants of one block as unsigned bytes w + 128, element j in byte j. */
INLINE __m256i q8_0_u8(const uint8_t *b) {
    return _mm256_xor_si256(load256(b + 2), _mm256_set1_epi8((char)0x80));
}

/* MR weight rows x NR activation rows, two blocks per step (an odd last
 * block runs with zeroed high halves, which adds exact zeros). */
INLINE void q8_0_tile(const int MR, const int NR, int64_t nb, const uint8_t *w, size_t ws, const uint8_t *a,
                      size_t as, float *y, int64_t ys) {
    const size_t wb = Q80_BYTES, ab = Q80_BYTES, aq = 2;
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int o = 0; o < MR; o++)
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++)
            acc[o][r] = _mm512_setzero_ps();
    for (int64_t ib = 0; ib < nb; ib += 2) {
        const int two = ib + 1 < nb;
        __m512i av[4], start[4];
        __m512 da[4];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            const uint8_t *p = a + (size_t)r * as + (size_t)ib * ab;
            av[r] = join(load256(p + aq), two ? load256(p + ab + aq) : _mm256_setzero_si256());
            da[r] = scale_pair(u16_at(p), two ? u16_at(p + ab) : 0);
            start[r] = _mm512_sub_epi32(_mm512_setzero_si512(),
                                        _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8((char)128), av[r]));
        }
#pragma GCC unroll 4
        for (int o = 0; o < MR; o++) {
            const uint8_t *p = w + (size_t)o * ws + (size_t)ib * wb;
            const __m512i q = join(q8_0_u8(p), two ? q8_0_u8(p + wb) : _mm256_setzero_si256());
            const __m512 dw = scale_pair(u16_at(p), two ? u16_at(p + wb) : 0);
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                const __m512i lanes = _mm512_dpbusd_epi32(start[r], q, av[r]);
                acc[o][r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(lanes), _mm512_mul_ps(dw, da[r]), acc[o][r]);
            }
        }
    }
#pragma GCC unroll 4
    for (int o = 0; o < MR; o++)
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++)
            y[r * ys + o] = hsum16(acc[o][r]);
}

/* Decoding streams each weight row from memory once: as in avx2.c, each
 * row asks for the bytes PREFETCH_AHEAD past it, since the hardware
 * prefetchers stop at every 4 KiB page (on a Xeon with AVX-512, one thread
 * streaming Q8_0 and Q6_K rows ran at 7.5 GB/s without, where AVX2's
 * kernels with it reached 9.0-9.6). */
#define PREFETCH_AHEAD 3072

INLINE void prefetch_ahead(const uint8_t *row, size_t bytes) {
#ifndef TG_KERNELS_AVX512_EMULATED
    for (size_t off = 0; off < bytes; off += 64)
        _mm_prefetch((const char *)(row + PREFETCH_AHEAD + off), _MM_HINT_T0);
#else
    (void)row, (void)bytes;
#endif
}

/* 4 weight rows x 4 activation rows: 16 accumulators of the 32 registers;
 * edges with fewer; one activation row goes row by row. */
#define L_MR 4
#define L_NR 4

INLINE void q8_0_tile_edge(const int MR, int64_t na, int64_t nb, const uint8_t *w, size_t ws,
                             const uint8_t *a, size_t as, float *y, int64_t ys) {
    switch (na) {
    case 1: q8_0_tile(MR, 1, nb, w, ws, a, as, y, ys); break;
    case 2: q8_0_tile(MR, 2, nb, w, ws, a, as, y, ys); break;
    default: q8_0_tile(MR, 3, nb, w, ws, a, as, y, ys); break;
    }
}

INLINE void q8_0_mm(int64_t n, const uint8_t *w, size_t ws, int64_t nw, const uint8_t *a,
                      size_t as, int64_t na, float *y, int64_t ys) {
    const int64_t nb = n / 32;
    const int64_t na_full = na - na % L_NR;
    int64_t o = 0;
    /* One activation row (decoding): row by row, which the hardware
     * prefetchers follow better than 4 interleaved rows (measured with the
     * AVX2 kernels on a Zen 3; unmeasured here). */
    for (; na > 1 && o + L_MR <= nw; o += L_MR) {
        prefetch_ahead(w + o * ws, L_MR * ws);
        for (int64_t r = 0; r < na_full; r += L_NR)
            q8_0_tile(L_MR, L_NR, nb, w + o * ws, ws, a + r * as, as, y + r * ys + o, ys);
        if (na_full < na)
            q8_0_tile_edge(L_MR, na - na_full, nb, w + o * ws, ws, a + na_full * as, as, y + na_full * ys + o, ys);
    }
    for (; o < nw; o++) {
        prefetch_ahead(w + o * ws, ws);
        for (int64_t r = 0; r < na_full; r += L_NR)
            q8_0_tile(1, L_NR, nb, w + o * ws, ws, a + r * as, as, y + r * ys + o, ys);
        if (na_full < na)
            q8_0_tile_edge(1, na - na_full, nb, w + o * ws, ws, a + na_full * as, as, y + na_full * ys + o, ys);
    }
}

static float vec_dot_q8_0(int64_t n, const void *x, const void *y) {
    float out;
    q8_0_tile(1, 1, n / 32, x, 0, y, 0, &out, 0);
    return out;
}

static void mm_q8_0(int64_t n, const void *w, size_t ws, int64_t nw, const void *a, size_t as, int64_t na, float *y,
                    int64_t ys) {
    q8_0_mm(n, w, ws, nw, a, as, na, y, ys);
}

/* ---- K-quants against Q8_K ------------------------------------------------ */

#define Q8K_BYTES sizeof(tg_block_q8_K)
#define Q8K_QS 4
#define Q8K_BSUMS 260

/* The 32-bit pattern of an in-lane byte shuffle that broadcasts int16
 * element k of a 128-bit lane. */
INLINE int bcast16_pat(int k) {
    const uint32_t h = (uint32_t)(2 * k) | ((uint32_t)(2 * k + 1) << 8);
    return (int)(h | (h << 16));
}

/* Shuffle mask broadcasting int16 element k_l within 128-bit lane l. */
INLINE __m512i bcast16_mask4(int k0, int k1, int k2, int k3) {
    const int p0 = bcast16_pat(k0), p1 = bcast16_pat(k1), p2 = bcast16_pat(k2), p3 = bcast16_pat(k3);
    return _mm512_setr_epi32(p0, p0, p0, p0, p1, p1, p1, p1, p2, p2, p2, p2, p3, p3, p3, p3);
}

/* 8 int16 in every 128-bit lane. */
INLINE __m512i bcast_128(__m128i v) {
    return _mm512_broadcast_i32x4(v);
}

/* 1 weight row x NR activation rows of Q6_K: per half, [q0|q1] holds
 * elements 0..63 and [q2|q3] elements 64..127, one scale per 16 elements,
 * i.e. per 128-bit lane. */
INLINE void q6K_tile(const int NR, int64_t nb, const uint8_t *w, const uint8_t *a, size_t as, float *y,
                     int64_t ys) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m512 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
        acc[r] = _mm512_setzero_ps();
    for (int64_t ib = 0; ib < nb; ib++) {
        const uint8_t *x = w + (size_t)ib * sizeof(tg_block_q6_K);
        const uint8_t *ql = x, *qh = x + 128, *scales = x + 192;
        const float dx = f16_at(x + 208);
        __m512i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++)
            isum[r] = _mm512_setzero_si512();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m512i sc = bcast_128(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(scales + 8 * h))));
            const __m256i l0 = load256(ql + 64 * h), l1 = load256(ql + 64 * h + 32);
            const __m256i hb = load256(qh + 32 * h);
            const __m256i q0 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(0x03)), 4));
            const __m256i q1 = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(0x0c)), 2));
            const __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, _mm256_set1_epi8(0x30)));
            const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_srli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8((char)0xc0)), 2));
            const __m512i qa = join(q0, q1), qb = join(q2, q3);
            const __m512i sa = _mm512_shuffle_epi8(sc, bcast16_mask4(0, 1, 2, 3));
            const __m512i sb = _mm512_shuffle_epi8(sc, bcast16_mask4(4, 5, 6, 7));
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                const uint8_t *q8 = a + (size_t)r * as + (size_t)ib * Q8K_BYTES + Q8K_QS + 128 * h;
                isum[r] = _mm512_dpwssd_epi32(isum[r], _mm512_maddubs_epi16(qa, _mm512_loadu_si512((const void *)q8)), sa);
                isum[r] = _mm512_dpwssd_epi32(isum[r], _mm512_maddubs_epi16(qb, _mm512_loadu_si512((const void *)(q8 + 64))), sb);
                KEEP(isum[r]);
            }
        }
        /* The -32 offset: 32 * sum_j scale_j * bsum_j (8 lanes, low half). */
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)scales));
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            const uint8_t *yb = a + (size_t)r * as + (size_t)ib * Q8K_BYTES;
            const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(sc16, load256(yb + Q8K_BSUMS)), 5);
            /* (a cast from 256 bits would leave the high half undefined) */
            const __m512i s = _mm512_sub_epi32(isum[r], _mm512_inserti64x4(_mm512_setzero_si512(), off, 0));
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(dx * f32_at(yb)), _mm512_cvtepi32_ps(s), acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
        y[r * ys] = hsum16(acc[r]);
}

#define K_NR 4

#define K_KERNELS(name, TILE)                                                                    \
    static float vec_dot_##name(int64_t n, const void *x, const void *y) {                      \
        float out;                                                                              \
        TILE(1, n / 256, x, y, 0, &out, 0);                                                     \
        return out;                                                                             \
    }                                                                                           \
    static void mm_##name(int64_t n, const void *w, size_t ws, int64_t nw, const void *a,        \
                          size_t as, int64_t na, float *y, int64_t ys) {                        \
        const uint8_t *wb = w, *abase = a;                                                      \
        const int64_t na_full = na - na % K_NR;                                                 \
        for (int64_t o = 0; o < nw; o++) {                                                      \
            prefetch_ahead(wb + o * ws, ws);                                                    \
            for (int64_t r = 0; r < na_full; r += K_NR)                                         \
                TILE(K_NR, n / 256, wb + o * ws, abase + r * as, as, y + r * ys + o, ys);       \
            const uint8_t *ar = abase + na_full * as;                                           \
            float *yr = y + na_full * ys + o;                                                   \
            switch (na - na_full) { /* the last 1..3 activation rows */                         \
            case 0: break;                                                                      \
            case 1: TILE(1, n / 256, wb + o * ws, ar, as, yr, ys); break;                       \
            case 2: TILE(2, n / 256, wb + o * ws, ar, as, yr, ys); break;                       \
            default: TILE(3, n / 256, wb + o * ws, ar, as, yr, ys); break;                      \
            }                                                                                   \
        }                                                                                       \
    }

#define Q6K_TILE(NR, ...) q6K_tile(NR, __VA_ARGS__)
K_KERNELS(q6_K, Q6K_TILE)

/* ---- F32, F16, BF16 ------------------------------------------------------ */

INLINE __m512 load16_f32(const uint8_t *p) {
    return _mm512_loadu_ps((const void *)p);
}
INLINE __m512 load16_f16(const uint8_t *p) {
    return _mm512_cvtph_ps(load256(p));
}

/* As avx2.c with 16 lanes: 4 accumulators over 64 elements a step, then 16
 * at a time into the first, then a zero-padded tail; ((a0+a1)+(a2+a3)). */
#define FLOAT_DOT(name, esz, LOAD)                                                               \
    static float vec_dot_##name(int64_t n, const void *vx, const void *vy) {                    \
        const uint8_t *x = vx, *y = vy;                                                         \
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                              \
        int64_t i = 0;                                                                          \
        for (; i + 64 <= n; i += 64) {                                                          \
            a0 = _mm512_fmadd_ps(LOAD(x + (i + 0) * esz), LOAD(y + (i + 0) * esz), a0);         \
            a1 = _mm512_fmadd_ps(LOAD(x + (i + 16) * esz), LOAD(y + (i + 16) * esz), a1);       \
            a2 = _mm512_fmadd_ps(LOAD(x + (i + 32) * esz), LOAD(y + (i + 32) * esz), a2);       \
            a3 = _mm512_fmadd_ps(LOAD(x + (i + 48) * esz), LOAD(y + (i + 48) * esz), a3);       \
        }                                                                                       \
        for (; i + 16 <= n; i += 16)                                                            \
            a0 = _mm512_fmadd_ps(LOAD(x + i * esz), LOAD(y + i * esz), a0);                     \
        if (i < n) {                                                                            \
            uint8_t tx[16 * esz] = {0}, ty[16 * esz] = {0};                                     \
            memcpy(tx, x + i * esz, (size_t)(n - i) * esz);                                     \
            memcpy(ty, y + i * esz, (size_t)(n - i) * esz);                                     \
            a0 = _mm512_fmadd_ps(LOAD(tx), LOAD(ty), a0);                                       \
        }                                                                                       \
        return hsum16(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));             \
    }                                                                                           \
    static void mm_##name(int64_t n, const void *w, size_t ws, int64_t nw, const void *a,        \
                          size_t as, int64_t na, float *y, int64_t ys) {                        \
        tg__mm_generic(vec_dot_##name, n, w, ws, nw, a, as, na, y, ys);                         \
    }

FLOAT_DOT(f32, 4, load16_f32)
FLOAT_DOT(f16, 2, load16_f16)

/* bf16 bits reinterpreted for vdpbf16ps (a plain copy: the vector types
 * differ between compilers). */
INLINE __m512bh as_bh(__m512i v) {
    __m512bh r;
    memcpy(&r, &v, sizeof r);
    return r;
}

/* vdpbf16ps: each float lane gains x[2i]*y[2i] + x[2i+1]*y[2i+1]; 32
 * elements per instruction, 4 accumulators, tail zero-padded. */
static float vec_dot_bf16(int64_t n, const void *vx, const void *vy) {
    const uint8_t *x = vx, *y = vy;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 128 <= n; i += 128) {
        a0 = _mm512_dpbf16_ps(a0, as_bh(_mm512_loadu_si512((const void *)(x + 2 * i))), as_bh(_mm512_loadu_si512((const void *)(y + 2 * i))));
        a1 = _mm512_dpbf16_ps(a1, as_bh(_mm512_loadu_si512((const void *)(x + 2 * i + 64))), as_bh(_mm512_loadu_si512((const void *)(y + 2 * i + 64))));
        a2 = _mm512_dpbf16_ps(a2, as_bh(_mm512_loadu_si512((const void *)(x + 2 * i + 128))), as_bh(_mm512_loadu_si512((const void *)(y + 2 * i + 128))));
        a3 = _mm512_dpbf16_ps(a3, as_bh(_mm512_loadu_si512((const void *)(x + 2 * i + 192))), as_bh(_mm512_loadu_si512((const void *)(y + 2 * i + 192))));
    }
    for (; i + 32 <= n; i += 32)
        a0 = _mm512_dpbf16_ps(a0, as_bh(_mm512_loadu_si512((const void *)(x + 2 * i))), as_bh(_mm512_loadu_si512((const void *)(y + 2 * i))));
    if (i < n) {
        uint8_t tx[64] = {0}, ty[64] = {0};
        memcpy(tx, x + 2 * i, (size_t)(n - i) * 2);
        memcpy(ty, y + 2 * i, (size_t)(n - i) * 2);
        a0 = _mm512_dpbf16_ps(a0, as_bh(_mm512_loadu_si512((const void *)tx)), as_bh(_mm512_loadu_si512((const void *)ty)));
    }
    return hsum16(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static void mm_bf16(int64_t n, const void *w, size_t ws, int64_t nw, const void *a, size_t as, int64_t na,
                    float *y, int64_t ys) {
    tg__mm_generic(vec_dot_bf16, n, w, ws, nw, a, as, na, y, ys);
}

/* ---- the table ----------------------------------------------------------- */

void tg__kernels_fill_avx512(tg__kernels *k) {
#define SET(T, t) k->type[TG_TYPE_##T] = (tg__type_kernels){vec_dot_##t, mm_##t}
    SET(F32, f32);
    SET(F16, f16);
    SET(BF16, bf16);
    SET(Q8_0, q8_0);
    SET(Q6_K, q6_K);
#undef SET
}
