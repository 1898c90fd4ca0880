/*
 * test_kernels.c — every SIMD level of the kernel table against the scalar
 * references, and the dispatch itself.
 *
 * Levels: scalar and every level this CPU runs natively; levels it cannot
 * run are printed as "not run: CPU lacks ...", never skipped in silence.
 * Where SIMDe's headers are installed (Debian libsimde-dev), avx512.c is
 * also compiled into this program against SIMDe's portable intrinsics and
 * run as the level "avx512-emulated": the AVX-512 arithmetic checked on any
 * x86 CPU (SIMDe's emulation of vdpbf16ps rounds like a plain float
 * computation, so only tolerance checks apply to BF16 there anyway).
 *
 * What is checked, per level:
 *   1. integer-exact dot products: weight rows of random bytes (every quant
 *      and sub-scale pattern, -128 included) with scales +-1/+-2 and
 *      activations with scales 1/2, sized so that every value any
 *      implementation forms stays an integer below 2^24 (the test computes
 *      that bound and shrinks the activation range until it holds).  Then
 *      every float step is exact whatever its order, so the scalar
 *      reference must equal the exact sum and each level must equal the
 *      reference exactly: any slip in the integer part (a saturation, a
 *      wrong nibble, scale or block) shows;
 *   2. realistic dot products (weights encoded from random floats, or random
 *      bytes with random scales; activations quantized from random floats;
 *      rows at odd byte offsets; 1 block to 4096-wide rows) within
 *      4*(blocks+8)*2^-24*M, M the sum of the magnitudes of the terms (for
 *      float types blocks = n/32): the float steps differ only in
 *      accumulation order and FMA fusion.  The worst error seen is printed;
 *   3. mm equals vec_dot bit for bit for every (weight row, activation row)
 *      of blocks of every shape, with odd strides, and writes nothing else;
 *   4. the activation quantizers and f16 rows give the scalar bytes.
 */
#include "golden_io.h"
#include "../test.h"
#include "base/cpu.h"
#include "tensor/fp16.h"
#include "tensor/kernels/kernels.h"
#include "tensor/matmul.h"
#include "tensor/ops.h"
#include "tensor/tensor.h"
#include "tinglado.h"

/* ---- avx512.c under emulation ------------------------------------------ */

#if (defined(__x86_64__) || defined(__i386__)) && defined(__has_include)
#if __has_include(<simde/x86/avx512.h>)
#define HAVE_EMULATION 1
#endif
#endif

#ifdef HAVE_EMULATION
/* 512-bit vectors passed by value without -mavx512f: GCC notes an ABI
 * change (harmless inside one file); for the whole file, as the note is
 * issued where the inline functions are emitted. */
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wpedantic"
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>

/* Intrinsics this SIMDe version lacks, written from their definitions. */
static simde__m512 emu_cvtepi32_ps(simde__m512i a) {
    int32_t v[16];
    float f[16];
    memcpy(v, &a, sizeof v);
    for (int i = 0; i < 16; i++)
        f[i] = (float)v[i];
    simde__m512 r;
    memcpy(&r, f, sizeof r);
    return r;
}
static simde__m512 emu_cvtph_ps(simde__m256i a) {
    uint16_t h[16];
    float f[16];
    memcpy(h, &a, sizeof h);
    for (int i = 0; i < 16; i++)
        f[i] = tg__fp16_to_f32(h[i]); /* what vcvtph2ps gives, NaNs included */
    simde__m512 r;
    memcpy(&r, f, sizeof r);
    return r;
}
static simde__m256i emu_mask_add_epi8(simde__m256i src, uint32_t k, simde__m256i a, simde__m256i b) {
    uint8_t s[32], x[32], y[32];
    memcpy(s, &src, 32);
    memcpy(x, &a, 32);
    memcpy(y, &b, 32);
    for (int i = 0; i < 32; i++)
        if (k >> i & 1)
            s[i] = (uint8_t)(x[i] + y[i]);
    memcpy(&src, s, 32);
    return src;
}
#undef _mm512_cvtepi32_ps
#define _mm512_cvtepi32_ps emu_cvtepi32_ps
#define _mm256_mask_add_epi8 emu_mask_add_epi8
#define __mmask32 uint32_t
#undef _mm512_cvtph_ps
#define _mm512_cvtph_ps emu_cvtph_ps

#define TG_KERNELS_AVX512_EMULATED 1
#define tg__kernels_fill_avx512 tg__kernels_fill_avx512_emulated
void tg__kernels_fill_avx512_emulated(tg__kernels *k);
#include "../../src/tensor/kernels/avx512.c"
#undef tg__kernels_fill_avx512
#pragma GCC diagnostic pop
#endif

/* ---- the levels under test ---------------------------------------------- */

typedef struct level {
    const char *name;
    const tg__kernels *k;
} level;

static level levels[TG__CPU_LEVEL_COUNT + 1];
static int n_levels;
#ifdef HAVE_EMULATION
static tg__kernels emulated;
#endif

static void find_levels(void) {
    const tg__cpu_features *f = tg__cpu_features_get();
    fprintf(stderr, "  cpu: %s %s; level in use: %s\n", f->vendor, f->brand, tg__kernels_level());
    for (int l = 0; l < TG__CPU_LEVEL_COUNT; l++) {
        char missing[200];
        const tg__kernels *k = tg__kernels_for_level((tg__cpu_level)l);
        if (k) {
            levels[n_levels++] = (level){tg__cpu_level_name((tg__cpu_level)l), k};
            fprintf(stderr, "  level %-16s run (native)\n", tg__cpu_level_name((tg__cpu_level)l));
        } else {
            tg__cpu_level_ok(f, (tg__cpu_level)l, missing, sizeof missing);
            fprintf(stderr, "  level %-16s not run natively: CPU lacks %s\n", tg__cpu_level_name((tg__cpu_level)l),
                    missing);
        }
    }
#ifdef HAVE_EMULATION
    tg__kernels_fill_scalar(&emulated);
    tg__kernels_fill_avx512_emulated(&emulated);
    emulated.level_name = "avx512-emulated";
    levels[n_levels++] = (level){"avx512-emulated", &emulated};
    fprintf(stderr, "  level %-16s run (avx512.c on SIMDe's portable intrinsics)\n", "avx512-emulated");
#else
    fprintf(stderr, "  level %-16s not run: SIMDe headers (libsimde-dev) not installed\n", "avx512-emulated");
#endif
}

/* ---- data ---------------------------------------------------------------- */

static const tg_type QUANT_TYPES[] = {TG_TYPE_Q4_0, TG_TYPE_Q4_1, TG_TYPE_Q5_0, TG_TYPE_Q5_1, TG_TYPE_Q8_0,
                                      TG_TYPE_Q2_K, TG_TYPE_Q3_K, TG_TYPE_Q4_K, TG_TYPE_Q5_K, TG_TYPE_Q6_K};
static const tg_type FLOAT_TYPES[] = {TG_TYPE_F32, TG_TYPE_F16, TG_TYPE_BF16};

#define EPS24 (1.0 / 16777216.0)

static void put16(uint8_t *p, uint16_t v) {
    memcpy(p, &v, 2);
}

static uint16_t get16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* Byte offsets of a weight block's f16 scale fields: the multiplier(s) d
 * and the min/dmin (-1 if none). */
static void scale_fields(tg_type t, int *d_off, int *m_off) {
    *m_off = -1;
    switch (t) {
    case TG_TYPE_Q4_1:
    case TG_TYPE_Q5_1:
    case TG_TYPE_Q4_K:
    case TG_TYPE_Q5_K: *d_off = 0; *m_off = 2; break;
    case TG_TYPE_Q2_K: *d_off = 80; *m_off = 82; break;
    case TG_TYPE_Q3_K: *d_off = 108; break;
    case TG_TYPE_Q6_K: *d_off = 208; break;
    default: *d_off = 0; break;
    }
}

/* A conservative bound on the sum of the magnitudes of everything a dot
 * product of these rows adds, in any implementation here:
 *   sum_i (|scale part of x_i| + |min part of x_i| + extra_i) * |y_i|,
 * the parts found by decoding copies of x with the min (resp. scale)
 * fields zeroed; extra_i = 64*|d*sc_i| for Q6_K, whose SIMD kernels sum
 * q+32 and subtract 32*sc*bsum separately, 8*|d*sc_i| for Q3_K (q+4).  Also returns the exact dot of
 * the decoded rows in *dot (exact when every term is a small integer). */
static double magnitude(tg_type t, const uint8_t *x, const uint8_t *y, int64_t n, double *dot) {
    const tg_type_traits *tw = tg_type_get(t), *tv = tg_type_get(tw->vec_dot_type);
    const size_t xb = tg_type_row_size(t, n);
    float *xs = malloc((size_t)n * sizeof *xs), *xm = malloc((size_t)n * sizeof *xm);
    float *xd = malloc((size_t)n * sizeof *xd), *yd = malloc((size_t)n * sizeof *yd);
    uint8_t *tmp = malloc(xb);
    tw->to_float(x, xd, n);
    tv->to_float(y, yd, n);
    int d_off, m_off;
    scale_fields(t, &d_off, &m_off);
    const int64_t nblk = n / tw->block_size;
    if (tw->is_quantized && m_off >= 0) {
        memcpy(tmp, x, xb);
        for (int64_t b = 0; b < nblk; b++)
            put16(tmp + b * tw->type_size + m_off, 0);
        tw->to_float(tmp, xs, n);
        memcpy(tmp, x, xb);
        for (int64_t b = 0; b < nblk; b++)
            put16(tmp + b * tw->type_size + d_off, 0);
        tw->to_float(tmp, xm, n);
    } else {
        memcpy(xs, xd, (size_t)n * sizeof *xs);
        memset(xm, 0, (size_t)n * sizeof *xm);
    }
    double mag = 0.0, sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double extra = 0.0;
        if (t == TG_TYPE_Q6_K) {
            const uint8_t *blk = x + (i / 256) * tw->type_size;
            extra = 64.0 * fabs(tg_f16_to_f32(get16(blk + 208)) * (double)(int8_t)blk[192 + (i % 256) / 16]);
        } else if (t == TG_TYPE_Q3_K) { /* its kernels sum q+4 and subtract 4*sc*bsum */
            const uint8_t *blk = x + (i / 256) * tw->type_size, *sc = blk + 96;
            const int j = (int)(i % 256) / 16;
            const int lo = j < 8 ? (sc[j] & 15) : (sc[j - 8] >> 4), hi = (sc[8 + j % 4] >> (2 * (j / 4))) & 3;
            extra = 8.0 * fabs(tg_f16_to_f32(get16(blk + 108)) * (double)((lo | (hi << 4)) - 32));
        }
        mag += (fabs((double)xs[i]) + fabs((double)xm[i]) + extra) * fabs((double)yd[i]);
        sum += (double)xd[i] * (double)yd[i];
    }
    free(xs);
    free(xm);
    free(xd);
    free(yd);
    free(tmp);
    *dot = sum;
    return mag;
}

static void random_bytes(uint64_t *rng, uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rng_next(rng);
}

/* An int in [lo, hi]. */
static int rand_int(uint64_t *rng, int lo, int hi) {
    return lo + (int)(rng_next(rng) % (uint64_t)(hi - lo + 1));
}

/* Activation row of type at (Q8_0, Q8_1, Q8_K) with quants in [-amp, amp]
 * (Q8_0/Q8_1 never -128), consistent sums, and scales 1 or 2 (exact) or
 * random (exact = 0).  Q8_1 blocks are redrawn until s = d*sum(q) is an
 * exact f16. */
static void make_act(uint64_t *rng, tg_type at, uint8_t *y, int64_t n, int amp, int exact) {
    const int lo = at == TG_TYPE_Q8_K ? -amp : -(amp > 127 ? 127 : amp), hi = amp > 127 ? 127 : amp;
    if (at == TG_TYPE_Q8_K) {
        for (int64_t b = 0; b < n / 256; b++) {
            uint8_t *blk = y + b * 292;
            const float d = exact ? (float)rand_int(rng, 1, 2) : (float)(rng_uniform(rng) * 0.01 + 1e-4);
            memcpy(blk, &d, 4);
            for (int j = 0; j < 16; j++) {
                int s = 0;
                for (int l = 0; l < 16; l++) {
                    const int q = rand_int(rng, lo, hi);
                    blk[4 + 16 * j + l] = (uint8_t)(int8_t)q;
                    s += q;
                }
                const int16_t s16 = (int16_t)s;
                memcpy(blk + 260 + 2 * j, &s16, 2);
            }
        }
        return;
    }
    const int q81 = at == TG_TYPE_Q8_1;
    const size_t bs = q81 ? 36 : 34;
    for (int64_t b = 0; b < n / 32; b++) {
        uint8_t *blk = y + b * bs;
        for (;;) {
            const float d = exact ? (float)rand_int(rng, 1, 2) : (float)(rng_uniform(rng) * 0.01 + 1e-4);
            int s = 0;
            for (int l = 0; l < 32; l++) {
                const int q = rand_int(rng, lo, hi);
                blk[(q81 ? 4 : 2) + l] = (uint8_t)(int8_t)q;
                s += q;
            }
            put16(blk, tg_f32_to_f16(d));
            if (!q81)
                break;
            const float sd = tg_f16_to_f32(get16(blk)) * (float)s;
            put16(blk + 2, tg_f32_to_f16(sd));
            if (!exact || tg_f16_to_f32(get16(blk + 2)) == sd)
                break;
        }
    }
}

/* Weight row of random bytes with scales +-1, +-2 and mins +-1, +-2 (K) or
 * 0..3 (Q4_1/Q5_1): all exact small integers. */
static void make_weights_exact(uint64_t *rng, tg_type t, uint8_t *x, int64_t n) {
    const tg_type_traits *tw = tg_type_get(t);
    random_bytes(rng, x, tg_type_row_size(t, n));
    int d_off, m_off;
    scale_fields(t, &d_off, &m_off);
    for (int64_t b = 0; b < n / tw->block_size; b++) {
        uint8_t *blk = x + b * tw->type_size;
        put16(blk + d_off, tg_f32_to_f16((float)(rand_int(rng, 1, 2) * (rng_next(rng) & 1 ? -1 : 1))));
        if (m_off >= 0) {
            const int k = (t == TG_TYPE_Q4_1 || t == TG_TYPE_Q5_1) ? rand_int(rng, -3, 3)
                                                                 : rand_int(rng, 1, 2) * (rng_next(rng) & 1 ? -1 : 1);
            put16(blk + m_off, tg_f32_to_f16((float)k));
        }
        /* Q6_K: mostly small sub-scales, some extreme, so that rows of a few
         * blocks stay exact despite the q+32 sums its kernels form. */
        if (t == TG_TYPE_Q6_K)
            for (int j = 0; j < 16; j++)
                blk[192 + j] = (uint8_t)(int8_t)(rng_next(rng) % 8 == 0 ? (rng_next(rng) & 1 ? 127 : -128)
                                                                       : rand_int(rng, -8, 8));
    }
}

/* Weight row of random bytes with random realistic scales. */
static void make_weights_bytes(uint64_t *rng, tg_type t, uint8_t *x, int64_t n) {
    const tg_type_traits *tw = tg_type_get(t);
    random_bytes(rng, x, tg_type_row_size(t, n));
    int d_off, m_off;
    scale_fields(t, &d_off, &m_off);
    for (int64_t b = 0; b < n / tw->block_size; b++) {
        uint8_t *blk = x + b * tw->type_size;
        put16(blk + d_off, tg_f32_to_f16((float)((rng_uniform(rng) - 0.3) * 0.02)));
        if (m_off >= 0)
            put16(blk + m_off, tg_f32_to_f16((float)((rng_uniform(rng) - 0.5) * 0.02)));
    }
}

static void random_floats(uint64_t *rng, float *x, int64_t n, int variant) {
    const double scale = variant % 3 == 0 ? 0.02 : (variant % 3 == 1 ? 1.0 : 30.0);
    const double shift = variant % 2 ? 0.5 * scale : 0.0;
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(rng_normal(rng) * scale + shift);
    if (variant % 4 == 3)
        x[rng_next(rng) % (uint64_t)n] = (float)(20.0 * scale);
}

/* The scalar activation quantizer of type at. */
static void ref_quantize_act(tg_type at, const float *x, void *y, int64_t n) {
    if (at == TG_TYPE_Q8_K)
        tg__q8_K_from_float(x, y, n);
    else if (at == TG_TYPE_Q8_0 || at == TG_TYPE_Q8_1 || at == TG_TYPE_F32)
        tg__quantize_act_row(at, x, y, n);
    else
        tg_type_get(at)->from_float(x, y, n);
}

/* ---- 1. integer-exact dot products --------------------------------------- */

static void test_dot_exact(void) {
    static const int64_t nb32[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33};
    static const int64_t nb256[] = {1, 2, 3, 5};
    for (int li = 0; li < n_levels; li++) {
        const level *L = &levels[li];
        for (size_t ti = 0; ti < ARRAY_LEN(QUANT_TYPES); ti++) {
            const tg_type t = QUANT_TYPES[ti];
            const tg_type_traits *tw = tg_type_get(t);
            const tg_type at = tw->vec_dot_type;
            const int k_type = tw->block_size == 256;
            const int64_t *nbs = k_type ? nb256 : nb32;
            const size_t n_nb = k_type ? ARRAY_LEN(nb256) : ARRAY_LEN(nb32);
            uint64_t rng = 1000 + ti;
            int cases = 0, equal = 0, min_amp = 128;
            for (size_t si = 0; si < n_nb; si++) {
                for (int rep = 0; rep < 6; rep++) {
                    const int64_t n = nbs[si] * tw->block_size;
                    const size_t xb = tg_type_row_size(t, n), yb = tg_type_row_size(at, n);
                    const size_t xo = (size_t)(rep * 7 + si) % 13, yo = (size_t)(rep * 5 + si) % 11;
                    uint8_t *xbuf = malloc(xb + 16), *ybuf = malloc(yb + 16);
                    uint8_t *x = xbuf + xo, *y = ybuf + yo;
                    double exact = 0.0, mag = 0.0;
                    int amp = 128;
                    for (;;) { /* shrink the activations until every sum is an exact integer */
                        make_weights_exact(&rng, t, x, n);
                        make_act(&rng, at, y, n, amp, 1);
                        mag = magnitude(t, x, y, n, &exact);
                        if (mag < 8388608.0 || amp == 1)
                            break;
                        amp = amp * 3 / 4;
                    }
                    if (amp < min_amp)
                        min_amp = amp;
                    CHECK_MSG(mag < 8388608.0, "%s: cannot make an exact case", tw->name);
                    const float ref = tw->vec_dot(n, x, y);
                    const float got = L->k->type[t].vec_dot(n, x, y);
                    CHECK_MSG((double)ref == exact, "%s n=%lld: scalar reference %.9g != exact %.9g", tw->name,
                              (long long)n, ref, exact);
                    CHECK_MSG(got == ref, "%s %s n=%lld: %.9g != scalar %.9g (exact %.9g)", L->name, tw->name,
                              (long long)n, got, ref, exact);
                    equal += got == ref;
                    cases++;
                    free(xbuf);
                    free(ybuf);
                }
            }
            if (L->k->type[t].vec_dot != tw->vec_dot)
                fprintf(stderr, "    %-16s %-5s exact: %3d/%3d equal (activations up to +-%d)\n", L->name, tw->name,
                        equal, cases, min_amp);
        }
    }
}

/* ---- 2. realistic dot products, within a tolerance ------------------------ */

static void test_dot_random(void) {
    static const int64_t nb32[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 20, 31, 33, 64, 128};
    static const int64_t nb256[] = {1, 2, 3, 4, 5, 7, 8, 16};
    static const int64_t nflt[] = {1,  2,   3,   5,   7,   8,   9,   15,  16,  17,   31,   32,  33,
                                   63, 64,  65,  100, 127, 128, 129, 255, 256, 640, 1000, 2048, 4096};
    fprintf(stderr, "    realistic rows: |level - scalar| <= 4*(blocks+8)*2^-24*M, worst seen in units of 2^-24*M:\n");
    for (int li = 0; li < n_levels; li++) {
        const level *L = &levels[li];
        for (size_t ti = 0; ti < ARRAY_LEN(QUANT_TYPES) + ARRAY_LEN(FLOAT_TYPES); ti++) {
            const int is_float = ti >= ARRAY_LEN(QUANT_TYPES);
            const tg_type t = is_float ? FLOAT_TYPES[ti - ARRAY_LEN(QUANT_TYPES)] : QUANT_TYPES[ti];
            const tg_type_traits *tw = tg_type_get(t);
            const tg_type at = tw->vec_dot_type;
            if (L->k->type[t].vec_dot == tw->vec_dot)
                continue; /* this level uses the reference itself */
            const int64_t *sizes = is_float ? nflt : tw->block_size == 256 ? nb256 : nb32;
            const size_t n_sizes = is_float ? ARRAY_LEN(nflt) : tw->block_size == 256 ? ARRAY_LEN(nb256) : ARRAY_LEN(nb32);
            uint64_t rng = 5000 + ti;
            double worst = 0.0, worst_tol = 0.0;
            int cases = 0, identical = 0;
            for (size_t si = 0; si < n_sizes; si++) {
                const int64_t n = is_float ? sizes[si] : sizes[si] * tw->block_size;
                const size_t xb = tg_type_row_size(t, n), yb = tg_type_row_size(at, n);
                float *xf = malloc((size_t)n * sizeof *xf), *yf = malloc((size_t)n * sizeof *yf);
                uint8_t *xbuf = malloc(xb + 64), *ybuf = malloc(yb + 64);
                for (int variant = 0; variant < 8; variant++) {
                    uint8_t *x = xbuf + (variant * 7 + si) % 61, *y = ybuf + (variant * 3 + si) % 59;
                    random_floats(&rng, yf, n, variant + 1);
                    ref_quantize_act(at, yf, y, n);
                    if (!is_float && variant >= 6)
                        make_weights_bytes(&rng, t, x, n);
                    else {
                        random_floats(&rng, xf, n, variant);
                        tw->from_float(xf, x, n);
                    }
                    double dot;
                    const double mag = magnitude(t, x, y, n, &dot);
                    const double chain = is_float ? (double)n / 32.0 : (double)(n / tw->block_size);
                    const double tol = 4.0 * (chain + 8.0) * EPS24 * mag;
                    const float ref = tw->vec_dot(n, x, y);
                    const float got = L->k->type[t].vec_dot(n, x, y);
                    const double err = fabs((double)got - (double)ref);
                    CHECK_MSG(err <= tol, "%s %s n=%lld variant %d: %.9g vs scalar %.9g, |err| %.3g > tol %.3g",
                              L->name, tw->name, (long long)n, variant, got, ref, err, tol);
                    if (mag > 0 && err / (EPS24 * mag) > worst)
                        worst = err / (EPS24 * mag);
                    if (tol > 0 && err / tol > worst_tol)
                        worst_tol = err / tol;
                    identical += f32_bits(got) == f32_bits(ref);
                    cases++;
                }
                free(xf);
                free(yf);
                free(xbuf);
                free(ybuf);
            }
            fprintf(stderr, "    %-16s %-5s . %-5s %3d rows: worst %7.2f (%.3f of the bound), %3d bit-identical\n",
                    L->name, tw->name, tg_type_name(at), cases, worst, worst_tol, identical);
        }
    }
}

/* ---- 3. mm == vec_dot ------------------------------------------------------ */

static void test_mm(void) {
    static const int shapes[][2] = {{1, 1}, {1, 2}, {2, 1}, {3, 3}, {4, 1}, {4, 2}, {4, 3}, {5, 4},
                                    {7, 5}, {8, 2}, {9, 7}, {8, 8}, {1, 9}, {13, 3}, {3, 17}, {2, 16}};
    for (int li = 0; li < n_levels; li++) {
        const level *L = &levels[li];
        int checked_types = 0;
        for (size_t ti = 0; ti < ARRAY_LEN(QUANT_TYPES) + ARRAY_LEN(FLOAT_TYPES); ti++) {
            const int is_float = ti >= ARRAY_LEN(QUANT_TYPES);
            const tg_type t = is_float ? FLOAT_TYPES[ti - ARRAY_LEN(QUANT_TYPES)] : QUANT_TYPES[ti];
            const tg_type_traits *tw = tg_type_get(t);
            const tg_type at = tw->vec_dot_type;
            const tg__type_kernels *tk = &L->k->type[t];
            CHECK_MSG(tk->vec_dot && tk->mm, "%s %s: missing kernel", L->name, tw->name);
            if (!tk->vec_dot || !tk->mm)
                continue;
            checked_types++;
            uint64_t rng = 9000 + ti;
            const int64_t ns[] = {tw->block_size, 3 * tw->block_size, is_float ? 77 : 8 * tw->block_size};
            int bad = 0;
            for (size_t s = 0; s < ARRAY_LEN(shapes); s++) {
                const int64_t n = ns[s % 3], nw = shapes[s][0], na = shapes[s][1];
                const size_t ws = tg_type_row_size(t, n) + (size_t)(s % 5), as = tg_type_row_size(at, n) + (size_t)(s % 3);
                const int64_t ys = nw + (int64_t)(s % 4);
                uint8_t *wbuf = malloc(ws * (size_t)nw + 8), *abuf = malloc(as * (size_t)na + 8);
                uint8_t *w = wbuf + s % 7, *a = abuf + s % 5;
                float *xf = malloc((size_t)n * sizeof *xf);
                for (int64_t o = 0; o < nw; o++) {
                    random_floats(&rng, xf, n, (int)o);
                    tw->from_float(xf, w + (size_t)o * ws, n);
                }
                for (int64_t r = 0; r < na; r++) {
                    random_floats(&rng, xf, n, (int)r + 1);
                    ref_quantize_act(at, xf, a + (size_t)r * as, n);
                }
                const size_t ny = (size_t)(ys * na);
                float *y = malloc(ny * sizeof *y);
                for (size_t i = 0; i < ny; i++)
                    y[i] = bits_f32(0x7fc0dead);
                tk->mm(n, w, ws, nw, a, as, na, y, ys);
                for (int64_t r = 0; r < na; r++)
                    for (int64_t o = 0; o < ys; o++) {
                        const float got = y[r * ys + o];
                        if (o >= nw) {
                            bad += f32_bits(got) != 0x7fc0dead;
                            continue;
                        }
                        const float want = tk->vec_dot(n, w + (size_t)o * ws, a + (size_t)r * as);
                        bad += f32_bits(got) != f32_bits(want);
                    }
                free(wbuf);
                free(abuf);
                free(xf);
                free(y);
            }
            /* Long rows, with one activation row (decoding) and with 5:
             * the gemv keeps 128 blocks of activation data at a time and
             * the AVX2 tiles hold 256 blocks (32 super-blocks) of 8 activation rows
             * (longer rows go through the gemv); 20, 160 and 300 blocks. */
            for (int len = 0; len < 3; len++)
                for (int64_t na = 1; na <= 5; na += 4) {
                    static const int64_t blocks32[] = {20, 160, 300}, floats[] = {640, 5003, 9001}, k256[] = {3, 20, 37};
                    const int64_t n = is_float ? floats[len] : tw->block_size == 32 ? blocks32[len] * 32 : k256[len] * 256;
                    /* 130 weight rows once: more than the K tiles' group of 128 */
                    const int64_t nw = len == 1 ? 130 : 6;
                    const size_t ws = tg_type_row_size(t, n) + 3, as = tg_type_row_size(at, n) + 1;
                    uint8_t *w = malloc(ws * (size_t)nw + 1), *a = malloc(as * (size_t)na + 1);
                    float *xf = malloc((size_t)n * sizeof *xf), *y = malloc(sizeof *y * (size_t)(nw * na));
                    for (int64_t o = 0; o < nw; o++) {
                        random_floats(&rng, xf, n, (int)o);
                        tw->from_float(xf, w + 1 + (size_t)o * ws, n);
                    }
                    for (int64_t r = 0; r < na; r++) {
                        random_floats(&rng, xf, n, 2 + (int)r);
                        ref_quantize_act(at, xf, a + 1 + (size_t)r * as, n);
                    }
                    tk->mm(n, w + 1, ws, nw, a + 1, as, na, y, nw);
                    for (int64_t r = 0; r < na; r++)
                        for (int64_t o = 0; o < nw; o++)
                            bad += f32_bits(y[r * nw + o]) !=
                                   f32_bits(tk->vec_dot(n, w + 1 + (size_t)o * ws, a + 1 + (size_t)r * as));
                    free(w);
                    free(a);
                    free(xf);
                    free(y);
                }
            CHECK_MSG(bad == 0, "%s %s: %d mm outputs differ from vec_dot or overwrote padding", L->name, tw->name,
                      bad);
        }
        fprintf(stderr, "    %-16s mm == vec_dot bit for bit over %zu shapes and 6 long-row cases for %d types\n", L->name,
                ARRAY_LEN(shapes), checked_types);
    }
}

/* ---- 4. quantizers and f16 rows ------------------------------------------ */

/* Rows that probe the quantizers' corners, by case number: ties (values
 * k+0.5 after scaling by exactly 1), equal |max| with both signs, zero and
 * single-value blocks, tiny and huge magnitudes, -0.0. */
static void quantizer_row(uint64_t *rng, float *x, int64_t n, int c) {
    random_floats(rng, x, n, c);
    const int64_t bs = 32;
    for (int64_t b = 0; b < n / bs; b++) {
        float *p = x + b * bs;
        switch ((c + b) % 9) {
        case 0: /* ties: amax = 127 so 127/amax = 1 (and -127/max = 1 with max = -127) */
            for (int j = 0; j < bs; j++)
                p[j] = (float)rand_int(rng, -126, 125) + 0.5f;
            p[rand_int(rng, 0, 31)] = (b & 1) ? -127.0f : 127.0f;
            break;
        case 1: /* both signs at the max */
            p[3] = 5.0f;
            p[17] = -5.0f;
            for (int j = 0; j < bs; j++)
                if (j != 3 && j != 17)
                    p[j] = (float)(rng_normal(rng));
            break;
        case 2: memset(p, 0, bs * sizeof *p); break;
        case 3:
            memset(p, 0, bs * sizeof *p);
            p[rand_int(rng, 0, 31)] = -0.001f;
            p[0] = -0.0f;
            break;
        case 4:
            for (int j = 0; j < bs; j++)
                p[j] = (float)(rng_normal(rng) * 1e-30);
            break;
        case 5:
            for (int j = 0; j < bs; j++)
                p[j] = (float)(rng_normal(rng) * 1e20);
            break;
        default: break;
        }
    }
}

static void test_quantizers(void) {
    static const tg_type acts[] = {TG_TYPE_Q8_0, TG_TYPE_Q8_1, TG_TYPE_Q8_K, TG_TYPE_F32, TG_TYPE_F16, TG_TYPE_BF16};
    static const int64_t sizes[] = {256, 512, 1024, 4096, 256 * 9};
    for (int li = 0; li < n_levels; li++) {
        const level *L = &levels[li];
        for (size_t ai = 0; ai < ARRAY_LEN(acts); ai++) {
            const tg_type at = acts[ai];
            const tg_from_float_fn q = L->k->quantize_act[at];
            CHECK_MSG(q != NULL, "%s: no quantizer for %s", L->name, tg_type_name(at));
            if (!q)
                continue;
            uint64_t rng = 300 + ai;
            int rows = 0, bad = 0;
            for (size_t si = 0; si < ARRAY_LEN(sizes); si++) {
                const int64_t n = sizes[si];
                const size_t rb = tg_type_row_size(at, n);
                float *xbuf = malloc((size_t)n * sizeof(float) + 64);
                uint8_t *want = malloc(rb), *got = malloc(rb + 64);
                for (int c = 0; c < 12; c++, rows++) {
                    float *x = (float *)((uint8_t *)xbuf + 4 * (c % 5)); /* float-aligned, varying */
                    quantizer_row(&rng, x, n, c);
                    ref_quantize_act(at, x, want, n);
                    uint8_t *g = got + c % 13;
                    memset(got, 0xa5, rb + 64);
                    q(x, g, n);
                    bad += memcmp(want, g, rb) != 0;
                    for (size_t i = 0; i < (size_t)(c % 13); i++)
                        bad += got[i] != 0xa5;
                    for (size_t i = (size_t)(c % 13) + rb; i < rb + 64; i++)
                        bad += got[i] != 0xa5;
                }
                free(xbuf);
                free(want);
                free(got);
            }
            CHECK_MSG(bad == 0, "%s: quantize_act %s differs from the scalar bytes in %d rows", L->name,
                      tg_type_name(at), bad);
            if (q != tg__kernels_for_level(TG__CPU_SCALAR)->quantize_act[at])
                fprintf(stderr, "    %-16s quantize %-4s %3d rows byte-identical to scalar%s\n", L->name,
                        tg_type_name(at), rows - bad, bad ? " (SOME DIFFER)" : "");
        }
    }
}

static void test_f16_rows(void) {
    for (int li = 0; li < n_levels; li++) {
        const level *L = &levels[li];
        /* Every half, as one row and as rows with tails of 0..7. */
        uint8_t *h = malloc(65536 * 2 + 16);
        float *f = malloc(65536 * sizeof *f + 16);
        for (uint32_t i = 0; i < 65536; i++)
            put16(h + 1 + 2 * i, (uint16_t)i);
        L->k->f16_to_f32(h + 1, f, 65536);
        int bad = 0;
        for (uint32_t i = 0; i < 65536; i++)
            bad += f32_bits(f[i]) != f32_bits(tg_f16_to_f32((uint16_t)i));
        for (int64_t n = 1; n < 20; n++) {
            L->k->f16_to_f32(h + 1 + 2 * 1000 * n, f, n);
            for (int64_t i = 0; i < n; i++)
                bad += f32_bits(f[i]) != f32_bits(tg_f16_to_f32((uint16_t)(1000 * n + i)));
        }
        CHECK_MSG(bad == 0, "%s: f16 -> f32 differs for %d halves", L->name, bad);
        /* f32 -> f16: special values, values next to every rounding tie of
         * a sample of halves, random bit patterns (NaNs left out). */
        const int64_t n = 1 << 16;
        float *x = malloc((size_t)n * sizeof *x + 16);
        uint8_t *out = malloc((size_t)n * 2 + 16);
        uint64_t rng = 4242;
        const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, 65504.0f, 65519.996f, 65520.0f, -65520.0f,
                                  5.96046448e-08f, 2.98023224e-08f, 2.98023253e-08f, 6.10351562e-05f, 1e-10f, 1e10f};
        int64_t k = 0;
        for (size_t i = 0; i < ARRAY_LEN(specials); i++)
            x[k++] = specials[i];
        while (k < n) {
            const uint32_t hb = (uint32_t)rng_next(&rng) & 0x7bffu; /* finite halves */
            const float lo = tg_f16_to_f32((uint16_t)hb), hi = tg_f16_to_f32((uint16_t)(hb + 1));
            const float mid = (float)(((double)lo + (double)hi) / 2.0);
            x[k++] = mid;
            if (k < n)
                x[k++] = nextafterf(mid, INFINITY);
            if (k < n)
                x[k++] = nextafterf(mid, -INFINITY);
            uint32_t u;
            do
                u = (uint32_t)rng_next(&rng);
            while (is_nan_bits(u));
            if (k < n)
                x[k++] = bits_f32(u);
        }
        int bad2 = 0;
        for (int64_t len = n; len > n - 9; len--) {
            L->k->f32_to_f16(x, out + 1, len);
            for (int64_t i = 0; i < len; i++)
                bad2 += get16(out + 1 + 2 * i) != tg_f32_to_f16(x[i]);
        }
        CHECK_MSG(bad2 == 0, "%s: f32 -> f16 differs for %d values", L->name, bad2);
        if (L->k->f16_to_f32 != tg__kernels_for_level(TG__CPU_SCALAR)->f16_to_f32)
            fprintf(stderr, "    %-16s f16 rows: all 65536 halves and %lld floats x 9 lengths identical\n", L->name,
                    (long long)n);
        free(h);
        free(f);
        free(x);
        free(out);
    }
}

/* ---- attention kernels ------------------------------------------------- */

/* A cache's f16 values in [-2, 2). */
static void random_kv_rows(uint16_t *kv, size_t count, uint64_t *rng) {
    for (size_t i = 0; i < count; i++)
        kv[i] = tg_f32_to_f16((float)(rng_uniform(rng) * 4.0 - 2.0));
}

/* Floats in [-1, 1) that are f16 values (a query as the cache rounds it). */
static void random_f16_values(float *x, int n, uint64_t *rng) {
    for (int i = 0; i < n; i++)
        x[i] = tg_f16_to_f32(tg_f32_to_f16((float)(rng_uniform(rng) * 2.0 - 1.0)));
}

/* Each level's att_scores_f16 / att_wsum_f16 against the scalar reference on
 * random f16 rows (strided, odd head sizes and tails, some zero weights).
 * The SIMD kernels sum in float in another order, so the bound is the
 * float summation error: (terms + 2) * 2^-24 * 2 * sum of |products|. */
static void test_attention(void) {
    const tg__kernels *ref = tg__kernels_for_level(TG__CPU_SCALAR);
    const int hds[] = {256, 128, 80, 64, 13, 8};
    const int32_t ns[] = {1, 2, 7, 33, 300};
    uint64_t rng = 777;
    for (int li = 0; li < n_levels; li++) {
        const level *L = &levels[li];
        if (L->k->att_scores_f16 == ref->att_scores_f16 && L->k->att_wsum_f16 == ref->att_wsum_f16)
            continue;
        double worst_s = 0.0, worst_o = 0.0;
        int bad = 0;
        for (size_t hi = 0; hi < ARRAY_LEN(hds); hi++)
            for (size_t ni = 0; ni < ARRAY_LEN(ns); ni++) {
                const int hd = hds[hi];
                const int32_t n = ns[ni];
                const size_t stride = (size_t)hd * 2 + 3;
                uint16_t *kv = malloc((size_t)n * stride * sizeof *kv);
                float *q = malloc((size_t)hd * sizeof *q), *p = malloc((size_t)n * sizeof *p);
                float *s0 = malloc((size_t)n * sizeof *s0), *s1 = malloc((size_t)n * sizeof *s1);
                float *o0 = malloc((size_t)hd * sizeof *o0), *o1 = malloc((size_t)hd * sizeof *o1);
                random_kv_rows(kv, (size_t)n * stride, &rng);
                random_f16_values(q, hd, &rng);
                for (int32_t c = 0; c < n; c++)
                    p[c] = (c % 5 == 3) ? 0.0f : tg_f16_to_f32(tg_f32_to_f16((float)rng_uniform(&rng) / (float)n));
                ref->att_scores_f16(kv, stride, n, q, hd, 0.125f, s0);
                L->k->att_scores_f16(kv, stride, n, q, hd, 0.125f, s1);
                ref->att_wsum_f16(kv, stride, n, p, hd, o0);
                L->k->att_wsum_f16(kv, stride, n, p, hd, o1);
                for (int32_t c = 0; c < n; c++) {
                    double mag = 0.0;
                    for (int d = 0; d < hd; d++)
                        mag += fabs((double)tg_f16_to_f32(kv[(size_t)c * stride + (size_t)d]) * q[d]);
                    const double tol = (hd + 2) * 2.0 * EPS24 * mag * 0.125 + 1e-30, e = fabs((double)s1[c] - s0[c]);
                    bad += !(e <= tol);
                    worst_s = fmax(worst_s, e / tol);
                }
                for (int d = 0; d < hd; d++) {
                    double mag = 0.0;
                    for (int32_t c = 0; c < n; c++)
                        mag += fabs((double)tg_f16_to_f32(kv[(size_t)c * stride + (size_t)d]) * p[c]);
                    const double tol = (n + 2) * 2.0 * EPS24 * mag + 1e-30, e = fabs((double)o1[d] - o0[d]);
                    bad += !(e <= tol);
                    worst_o = fmax(worst_o, e / tol);
                }
                free(kv), free(q), free(p), free(s0), free(s1), free(o0), free(o1);
            }
        CHECK_MSG(bad == 0, "%s: %d attention values outside the float summation bound", L->name, bad);
        fprintf(stderr, "    %-16s attention: scores at most %.3f of the bound, weighted sums %.3f\n", L->name, worst_s,
                worst_o);
    }
}

/* Each level's two-head kernels give each head the bits of its one-head
 * kernel (the pair only shares the widening of each KV row). */
static void test_attention_pairs(void) {
    const int hds[] = {256, 64, 13};
    const int32_t ns[] = {1, 7, 300};
    uint64_t rng = 4242;
    for (int li = 0; li < n_levels; li++) {
        const level *L = &levels[li];
        int bad = 0, cmp = 0;
        for (size_t hi = 0; hi < ARRAY_LEN(hds); hi++)
            for (size_t ni = 0; ni < ARRAY_LEN(ns); ni++) {
                const int hd = hds[hi];
                const int32_t n = ns[ni];
                const size_t stride = (size_t)hd * 2 + 3;
                uint16_t *kv = malloc((size_t)n * stride * sizeof *kv);
                float *q = malloc(2 * (size_t)hd * sizeof *q), *p = malloc(2 * (size_t)n * sizeof *p);
                float *s = malloc(4 * (size_t)n * sizeof *s), *o = malloc(4 * (size_t)hd * sizeof *o);
                random_kv_rows(kv, (size_t)n * stride, &rng);
                random_f16_values(q, 2 * hd, &rng);
                /* zeros in one head only, in both, and in neither */
                for (int32_t c = 0; c < 2 * n; c++)
                    p[c] = (c % 5 == 3 || c % 7 == 2) ? 0.0f : tg_f16_to_f32(tg_f32_to_f16((float)rng_uniform(&rng)));
                L->k->att_scores_f16(kv, stride, n, q, hd, 0.125f, s);
                L->k->att_scores_f16(kv, stride, n, q + hd, hd, 0.125f, s + n);
                L->k->att_scores2_f16(kv, stride, n, q, q + hd, hd, 0.125f, s + 2 * n, s + 3 * n);
                L->k->att_wsum_f16(kv, stride, n, p, hd, o);
                L->k->att_wsum_f16(kv, stride, n, p + n, hd, o + hd);
                L->k->att_wsum2_f16(kv, stride, n, p, p + n, hd, o + 2 * hd, o + 3 * hd);
                bad += memcmp(s, s + 2 * n, 2 * (size_t)n * sizeof *s) != 0;
                bad += memcmp(o, o + 2 * hd, 2 * (size_t)hd * sizeof *o) != 0;
                cmp += 2;
                free(kv), free(q), free(p), free(s), free(o);
            }
        CHECK_MSG(bad == 0, "%s: %d of %d two-head attention results differ from the one-head kernel's bits", L->name,
                  bad, cmp);
    }
}

/* Each level's geglu gives tg__geglu's bits: gates around the +-10
 * cut-offs, halves' rounding midpoints, infinities, NaN (any NaN for a
 * NaN), over lengths with every tail. */
static void test_geglu(void) {
    enum { N = 4099 };
    float *g = malloc(N * sizeof *g), *u = malloc(N * sizeof *u), *y0 = malloc(N * sizeof *y0),
          *y1 = malloc(N * sizeof *y1);
    uint64_t rng = 99;
    const float specials[] = {-10.0f, 10.0f, nextafterf(-10.0f, 0.0f), nextafterf(10.0f, 0.0f), -10.001f, 10.001f,
                              0.0f, -0.0f, INFINITY, -INFINITY, NAN, 65519.0f, 65520.0f, -1e-8f, 3e-5f, 1e30f};
    for (int i = 0; i < N; i++) {
        g[i] = i < (int)ARRAY_LEN(specials) ? specials[i] : (float)(rng_uniform(&rng) * 24.0 - 12.0);
        if (i >= (int)ARRAY_LEN(specials) && i % 3 == 1) { /* a rounding midpoint between two halves */
            const uint16_t hb = (uint16_t)(rng_next(&rng) & 0x4bff);
            g[i] = (float)(((double)tg_f16_to_f32(hb) + (double)tg_f16_to_f32((uint16_t)(hb + 1))) / 2.0);
        }
        u[i] = (float)(rng_uniform(&rng) * 4.0 - 2.0);
    }
    u[0] = u[4] = INFINITY; /* gates -10 and below: 0 whatever up is */
    tg__ops_init(); /* the table (a model load builds it) */
    tg__geglu(y0, g, u, N);
    for (int li = 0; li < n_levels; li++) {
        const level *L = &levels[li];
        int bad = 0;
        for (int64_t len = N; len > N - 9; len--) {
            memset(y1, 0xff, N * sizeof *y1);
            L->k->geglu(y1, g, u, len);
            for (int64_t i = 0; i < len; i++)
                bad += isnan(y0[i]) ? !isnan(y1[i]) : memcmp(&y0[i], &y1[i], sizeof *y1) != 0;
        }
        CHECK_MSG(bad == 0, "%s: geglu differs from the reference for %d values", L->name, bad);
    }
    free(g), free(u), free(y0), free(y1);
}

/* Each level's swiglu against tg__swiglu (libm's expf): within 2^-21
 * relatively (the SIMD exp is a polynomial), the same zeros, infinities
 * and NaNs, over gates where exp over- and underflows; a value's result
 * does not depend on its position in the row (tails included). */
static void test_swiglu(void) {
    enum { N = 4099 };
    float *g = malloc(N * sizeof *g), *u = malloc(N * sizeof *u), *y0 = malloc(N * sizeof *y0),
          *y1 = malloc(N * sizeof *y1), *y2 = malloc(N * sizeof *y2);
    uint64_t rng = 31337;
    const float specials[] = {0.0f, -0.0f, 88.0f, -88.0f, 88.7f, -88.7f, 89.0f, -89.0f, 103.0f, -103.0f, 110.0f,
                              -110.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e-30f, 3.0e38f, -3.0e38f, 0.5f};
    for (int i = 0; i < N; i++) {
        g[i] = i < (int)ARRAY_LEN(specials) ? specials[i] : (float)((rng_uniform(&rng) - 0.5) * (i % 4 ? 24.0 : 200.0));
        u[i] = (float)(rng_uniform(&rng) * 4.0 - 2.0);
    }
    tg__swiglu(y0, g, u, N);
    for (int li = 0; li < n_levels; li++) {
        const level *L = &levels[li];
        int bad = 0, moved = 0, same = 0;
        double worst = 0.0;
        L->k->swiglu(y1, g, u, N);
        for (int64_t i = 0; i < N; i++) {
            if (isnan(y0[i]) || isnan(y1[i]) || isinf(y0[i]) || y0[i] == 0.0f) {
                bad += isnan(y0[i]) != isnan(y1[i]) || (!isnan(y0[i]) && y0[i] != y1[i]);
                continue;
            }
            const double rel = fabs((double)y1[i] - y0[i]) / fabs((double)y0[i]);
            worst = fmax(worst, rel);
            bad += !(rel <= 0x1p-21);
            same += y1[i] == y0[i];
        }
        /* shifted starts and every tail length: the same bits per value */
        for (int64_t off = 1; off < 9; off++) {
            L->k->swiglu(y2, g + off, u + off, N - off - (off % 3));
            for (int64_t i = 0; i < N - off - (off % 3); i++)
                moved += memcmp(&y2[i], &y1[i + off], sizeof *y2) != 0 && !(isnan(y2[i]) && isnan(y1[i + off]));
        }
        CHECK_MSG(bad == 0, "%s: swiglu off the reference for %d values (worst relative %.3g)", L->name, bad, worst);
        CHECK_MSG(moved == 0, "%s: swiglu gives %d values other bits at other positions", L->name, moved);
        if (L->k->swiglu != tg__swiglu)
            fprintf(stderr, "    %-16s swiglu: worst relative error %.3g (bound 4.8e-7), %d of %d bit-identical\n", L->name,
                    worst, same, N);
    }
    free(g), free(u), free(y0), free(y1), free(y2);
}

/* ---- dispatch ---------------------------------------------------------- */

static void test_dispatch(void) {
    tg__cpu_features all, none, no_bf16;
    memset(&all, 1, sizeof all); /* every bool true */
    memset(&none, 0, sizeof none);
    no_bf16 = all;
    no_bf16.avx512_bf16 = false;
    char warn[256];

    CHECK_EQ_INT(tg__cpu_best_level(&all), TG__CPU_AVX512);
    CHECK_EQ_INT(tg__cpu_best_level(&none), TG__CPU_SCALAR);
    CHECK_EQ_INT(tg__cpu_best_level(&no_bf16), TG__CPU_AVX2);
    CHECK_EQ_INT(tg__cpu_select_level(&all, NULL, warn, sizeof warn), TG__CPU_AVX512);
    CHECK(warn[0] == '\0');
    CHECK_EQ_INT(tg__cpu_select_level(&all, "avx2", warn, sizeof warn), TG__CPU_AVX2);
    CHECK(warn[0] == '\0');
    CHECK_EQ_INT(tg__cpu_select_level(&all, "scalar", warn, sizeof warn), TG__CPU_SCALAR);
    CHECK_EQ_INT(tg__cpu_select_level(&no_bf16, "avx512", warn, sizeof warn), TG__CPU_AVX2);
    CHECK_MSG(strstr(warn, "lacks AVX512_BF16") && strstr(warn, "using avx2"), "warning: %s", warn);
    CHECK_EQ_INT(tg__cpu_select_level(&none, "avx2", warn, sizeof warn), TG__CPU_SCALAR);
    CHECK_MSG(strstr(warn, "AVX2, FMA, F16C, BMI2, YMM state (OS)") && strstr(warn, "using scalar"), "warning: %s",
              warn);
    CHECK_EQ_INT(tg__cpu_select_level(&all, "sse9", warn, sizeof warn), TG__CPU_AVX512);
    CHECK_MSG(strstr(warn, "TINGLADO_CPU=sse9 is not"), "warning: %s", warn);
    all.os_zmm = false; /* AVX-512 in the CPU but not saved by the OS */
    CHECK_EQ_INT(tg__cpu_best_level(&all), TG__CPU_AVX2);

    /* The process's own choice follows TINGLADO_CPU and the CPU. */
    const tg__cpu_features *f = tg__cpu_features_get();
    const tg__cpu_level want = tg__cpu_select_level(f, getenv("TINGLADO_CPU"), warn, sizeof warn);
    CHECK_EQ_INT(tg__kernels_get()->level, want);
    CHECK_EQ_STR(tg__kernels_level(), tg__cpu_level_name(want));
    for (int l = 0; l < TG__CPU_LEVEL_COUNT; l++)
        CHECK((tg__kernels_for_level((tg__cpu_level)l) != NULL) == tg__cpu_level_ok(f, (tg__cpu_level)l, NULL, 0));
    CHECK(tg__kernels_for_level(TG__CPU_SCALAR) != NULL);
    CHECK(tg__kernels_for_level((tg__cpu_level)7) == NULL);

    /* Every level has a kernel for every type with a reference. */
    for (int li = 0; li < n_levels; li++) {
        const tg__kernels *k = levels[li].k;
        for (uint32_t t = 0; t < TG_TYPE_COUNT; t++) {
            const tg_type_traits *tr = tg_type_get(t);
            if (tr && tr->vec_dot)
                CHECK_MSG(k->type[t].vec_dot && k->type[t].mm, "%s: %s", levels[li].name, tr->name);
        }
        CHECK(k->f16_to_f32 && k->f32_to_f16);
    }
    /* The scalar level is the references themselves. */
    const tg__kernels *s = tg__kernels_for_level(TG__CPU_SCALAR);
    CHECK(s->type[TG_TYPE_Q8_0].vec_dot == tg_type_get(TG_TYPE_Q8_0)->vec_dot);
    CHECK(s->type[TG_TYPE_Q4_K].vec_dot == tg_type_get(TG_TYPE_Q4_K)->vec_dot);
}

int main(void) {
    find_levels();
    RUN(test_dispatch);
    RUN(test_dot_exact);
    RUN(test_dot_random);
    RUN(test_mm);
    RUN(test_quantizers);
    RUN(test_f16_rows);
    RUN(test_attention);
    RUN(test_attention_pairs);
    RUN(test_geglu);
    RUN(test_swiglu);
    return tg_test_finish("test_kernels");
}
