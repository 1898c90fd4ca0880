/*
 * kernels.h — the table of compute kernels picked once at start-up for the
 * CPU's SIMD level (scalar, avx2, avx512), and the contract every variant
 * keeps.
 *
 * Numerical contract (tests/tensor/test_kernels.c checks all of it):
 *   - vec_dot of a quantized type equals the scalar reference of
 *     tensor/tensor.h in its integer part exactly: for every block the same
 *     integer sums of quant products.  Only the float steps after them may
 *     differ: SIMD variants fuse the scale multiply into the accumulation
 *     (FMA) and sum blocks in 8 (or 16) float lanes (AVX2's 32-element
 *     types: block b whole into lane b % 8), where the reference adds one
 *     block at a time (or per element-mod-8 lane for the K types).
 *     The difference is a few float roundings per block: bounded by about
 *     (blocks + 8) * 2^-24 times the sum of the magnitudes of the block
 *     terms; the test states the bound it applies and prints what it sees.
 *   - F32/F16/BF16 vec_dot: the reference forms products in float and sums
 *     in double; SIMD sums in float lanes (AVX-512 BF16: vdpbf16ps, which
 *     also treats denormal inputs and results as zero).  Tolerance as above
 *     with n/32 + 8 terms.
 *   - mm at a level gives, for every (weight row, activation row) pair,
 *     exactly (bit for bit) what that level's vec_dot gives: batch size
 *     never changes a result.
 *   - The activation quantizers give the same bytes as the scalar ones at
 *     every level (tg__quantize_act_row for Q8_0/Q8_1, i.e. llama.cpp's x86
 *     SIMD arithmetic; tg__q8_K_from_float for Q8_K), for finite inputs.
 *   - f32<->f16 row conversion equals tg_f32_to_f16/tg_f16_to_f32 for
 *     every non-NaN value (F16C rounds to nearest even, as fp16.h does).
 *
 * Preconditions all variants rely on (the callers guarantee them):
 *   - n is a multiple of the type's block size (any multiple, 1 block too);
 *   - rows may sit at any byte offset (memory-mapped files): no alignment;
 *   - Q8_0/Q8_1 activation quants are in [-127, 127] (what the quantizers
 *     produce; the weight operand may hold any int8, -128 included).
 */
#ifndef TG_TENSOR_KERNELS_H
#define TG_TENSOR_KERNELS_H

#include "base/cpu.h"
#include "tinglado.h"

#include <stddef.h>
#include <stdint.h>

/* A block of outputs at once: for o in [0, nw) and r in [0, na)
 *   y[r * y_stride + o] = vec_dot(n, w + o * w_stride, a + r * a_stride)
 * w rows are of the weight type, a rows of its vec_dot_type; strides are in
 * bytes (w, a) and floats (y).  Any nw, na >= 1.  The kernel tiles
 * registers (several weight rows times several activation rows, so each
 * loaded block is used more than once); the caller blocks for cache: keep
 * the na activation rows of one call within L2 (na * a_stride <= ~256 KiB)
 * and split the weight rows between threads. */
typedef void (*tg__mm_fn)(int64_t n, const void *w, size_t w_stride, int64_t nw, const void *a,
                          size_t a_stride, int64_t na, float *y, int64_t y_stride);

typedef struct tg__type_kernels {
    tg_vec_dot_fn vec_dot; /* NULL where the type has no scalar vec_dot either */
    tg__mm_fn mm;          /* non-NULL whenever vec_dot is                     */
} tg__type_kernels;

typedef struct tg__kernels {
    tg__cpu_level level;
    const char *level_name; /* "scalar", "avx2", "avx512" */
    tg__type_kernels type[TG_TYPE_COUNT];
    /* Converts a row of floats to activation type t (indexed by the
     * vec_dot_type: F32 copies, F16/BF16 convert, Q8_0/Q8_1/Q8_K quantize). */
    tg_from_float_fn quantize_act[TG_TYPE_COUNT];
    /* Plain row conversions (F16C where available). */
    void (*f32_to_f16)(const float *x, void *y, int64_t n);
    void (*f16_to_f32)(const void *x, float *y, int64_t n);
    /* Attention against an f16 KV cache (rows `stride` elements apart):
     * scores s[c] = scale * (K_c . q) for n rows of hd values, and
     * out = sum_c p[c] V_c over n rows of hdv values (rows with p[c] == 0
     * skipped).  q and p come already rounded to f16 values, as llama.cpp
     * rounds them.  The scalar twins accumulate in double (the reference);
     * the SIMD ones in float with FMA. */
    void (*att_scores_f16)(const uint16_t *k, size_t stride, int32_t n, const float *q, int hd, float scale,
                           float *s);
    void (*att_wsum_f16)(const uint16_t *v, size_t stride, int32_t n, const float *p, int hdv, float *out);
    /* The same for two query heads that read the same KV rows: each head's
     * results bit-identical to a call of the one-head kernel of the level
     * (the KV row is widened once for both). */
    void (*att_scores2_f16)(const uint16_t *k, size_t stride, int32_t n, const float *q0, const float *q1, int hd,
                            float scale, float *s0, float *s1);
    void (*att_wsum2_f16)(const uint16_t *v, size_t stride, int32_t n, const float *p0, const float *p1, int hdv,
                          float *out0, float *out1);
    /* y = gelu(gate) * up through the half-precision table (tg__geglu is
     * the reference; every level gives the same bits). */
    void (*geglu)(float *y, const float *gate, const float *up, int64_t n);
    /* y = silu(gate) * up = gate / (1 + exp(-gate)) * up (tg__swiglu, with
     * libm's expf, is the reference; the SIMD levels' exp is a polynomial
     * within a few ulp, so y is within 2^-21 of it, relatively). */
    void (*swiglu)(float *y, const float *gate, const float *up, int64_t n);
} tg__kernels;

/* The kernels of the selected level: the best the CPU runs, or the one
 * TINGLADO_CPU forces (downgraded, with a warning on stderr, if the CPU
 * lacks it).  Filled on first call (thread-safe), never changes after. */
const tg__kernels *tg__kernels_get(void);

/* Name of the level tg__kernels_get uses ("scalar", "avx2", "avx512"). */
const char *tg__kernels_level(void);

/* The table of one level, or NULL when this CPU cannot run it (for tests
 * and benchmarks that compare levels).  Filled on first call. */
const tg__kernels *tg__kernels_for_level(tg__cpu_level level);

/* ---- internal: how the table is filled -------------------------------- */

/* Each kernel file fills the entries it has; dispatch.c calls scalar, then
 * avx2, then avx512 up to the selected level, each overriding the last. */
void tg__kernels_fill_scalar(tg__kernels *k);
void tg__kernels_fill_avx2(tg__kernels *k);
void tg__kernels_fill_avx512(tg__kernels *k);

/* mm from any vec_dot, one pair at a time (weight row outer, so a weight
 * row is reused from L1 across the activation rows); the scalar level's mm
 * and the fallback for types a SIMD file gives only a vec_dot. */
void tg__mm_generic(tg_vec_dot_fn dot, int64_t n, const void *w, size_t w_stride, int64_t nw,
                    const void *a, size_t a_stride, int64_t na, float *y, int64_t y_stride);

#endif /* TG_TENSOR_KERNELS_H */
