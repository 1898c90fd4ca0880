/*
 * bench/kernels.c — micro-benchmark of the dot-product kernels, per weight
 * type and SIMD level, on one thread, rows of 4096 elements:
 *
 *   dot     one vec_dot over and over on a weight row in L1: ns per row and
 *           GB/s of weight bytes (compute-bound speed of one row);
 *   gemv    mm with one activation row over 64 MiB of weight rows (every
 *           row streamed from memory once per pass, as in decoding): GB/s;
 *   gemv-L2 the same over 64 rows (in cache): GB/s, the compute limit of
 *           decoding on one core;
 *   gemm    mm of 64 weight rows x 64 activation rows, all in cache (the
 *           prefill shape): G multiply-adds per second.
 *
 * With TINGLADO_GGML_CPU=/path/to/libggml-cpu.so (llama.cpp's CPU backend,
 * e.g. the one llama-cpp-python built), the same rows also go through
 * ggml's vec_dot (gemv and gemm as a loop of it, which is llama.cpp's
 * generic mul_mat path), timed interleaved with ours, and the "=ggml"
 * column says how many of 64 dot products came out bit-identical.
 *
 * Each figure is the best of 9 timed runs of per-thread CPU time.  Timings only, no checks: the
 * correctness of every variant is tests/tensor/test_kernels.c's job.
 *
 * Build and run (no Makefile rule of its own yet):
 *   make BUILD=build-kern build-kern/rel/libtinglado.a build-kern/rel/bench/kernels.o
 *   cc -o build-kern/rel/bench/kernels build-kern/rel/bench/kernels.o \
 *      build-kern/rel/libtinglado.a -lpcre2-8 -lutf8proc -lcurl -ljansson -lm -pthread
 *   build-kern/rel/bench/kernels [type ...]      (default: every type)
 */
#include "base/cpu.h"
#include "tensor/kernels/kernels.h"
#include "tensor/tensor.h"
#include "tinglado.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_IN 4096
#define REPS 9

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: not counting preemption by other processes */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The fastest of the runs: on a shared machine the slower ones measure the
 * neighbours, not the kernel (timings are per-thread CPU time already). */
static double best(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[0];
}

static uint64_t rng_state = 88172645463325252ull;
static double rnd(void) { /* xorshift64, uniform in [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 4503599627370496.0 - 1.0;
}

/* n_rows encoded rows of N_IN random values. */
static uint8_t *make_rows(tg_type t, int64_t n_rows, size_t *row_bytes) {
    const tg_type_traits *tr = tg_type_get(t);
    *row_bytes = tg_type_row_size(t, N_IN);
    uint8_t *p = malloc(*row_bytes * (size_t)n_rows);
    float x[N_IN];
    /* Encoding is slow for the K types: encode a few rows and repeat them
     * (the timing does not depend on the values). */
    for (int64_t r = 0; r < n_rows; r++) {
        if (r < 16) {
            for (int i = 0; i < N_IN; i++)
                x[i] = (float)rnd();
            tr->from_float(x, p + (size_t)r * *row_bytes, N_IN);
        } else {
            memcpy(p + (size_t)r * *row_bytes, p + (size_t)(r % 16) * *row_bytes, *row_bytes);
        }
    }
    return p;
}

static volatile float sink;

/* llama.cpp's CPU vec_dot, loaded at run time (ggml-cpu.h). */
typedef void (*ggml_vec_dot_fn)(int n, float *s, size_t bs, const void *x, size_t bx, const void *y, size_t by,
                                int nrc);
typedef struct {
    void *from_float;
    ggml_vec_dot_fn vec_dot;
    int vec_dot_type;
    int64_t nrows;
} ggml_traits_cpu;
static const ggml_traits_cpu *(*ggml_traits)(int type);

static float ggml_dot(ggml_vec_dot_fn f, int64_t n, const void *x, const void *y) {
    float s;
    f((int)n, &s, 0, x, 0, y, 0, 1);
    return s;
}

/* One implementation of a type: a table entry, or ggml's vec_dot. */
typedef struct impl {
    const char *name;
    tg_vec_dot_fn dot;
    tg__mm_fn mm;
    ggml_vec_dot_fn gdot;
} impl;

static float impl_dot(const impl *im, const uint8_t *w, const uint8_t *a) {
    return im->gdot ? ggml_dot(im->gdot, N_IN, w, a) : im->dot(N_IN, w, a);
}

static void impl_mm(const impl *im, const uint8_t *w, size_t ws, int64_t nw, const uint8_t *a, size_t as,
                    int64_t na, float *y, int64_t ys) {
    if (!im->gdot) {
        im->mm(N_IN, w, ws, nw, a, as, na, y, ys);
        return;
    }
    for (int64_t o = 0; o < nw; o++)
        for (int64_t r = 0; r < na; r++)
            y[r * ys + o] = ggml_dot(im->gdot, N_IN, w + (size_t)o * ws, a + (size_t)r * as);
}

static void bench_type(tg_type t) {
    const tg_type_traits *tr = tg_type_get(t);
    const tg_type at = tr->vec_dot_type;
    const size_t act_bytes = tg_type_row_size(at, N_IN);
    impl ims[TG__CPU_LEVEL_COUNT + 1];
    int n_im = 0;
    for (int l = 0; l < TG__CPU_LEVEL_COUNT; l++) {
        const tg__kernels *k = tg__kernels_for_level((tg__cpu_level)l);
        if (k)
            ims[n_im++] = (impl){k->level_name, k->type[t].vec_dot, k->type[t].mm, NULL};
        else
            printf("%-6s %-7s not run: this CPU cannot run it\n", tr->name, tg__cpu_level_name((tg__cpu_level)l));
    }
    if (ggml_traits && ggml_traits((int)t) && ggml_traits((int)t)->vec_dot && ggml_traits((int)t)->vec_dot_type == (int)at)
        ims[n_im++] = (impl){"ggml", NULL, NULL, ggml_traits((int)t)->vec_dot};

    /* 64 activation rows, quantized the scalar way (all levels agree). */
    float x[N_IN];
    uint8_t *act = malloc(act_bytes * 64);
    for (int r = 0; r < 64; r++) {
        for (int i = 0; i < N_IN; i++)
            x[i] = (float)rnd();
        tg__kernels_for_level(TG__CPU_SCALAR)->quantize_act[at](x, act + (size_t)r * act_bytes, N_IN);
    }
    size_t rb;
    uint8_t *w1 = make_rows(t, 64, &rb);
    const int64_t n_rows = (int64_t)((64u << 20) / rb);
    uint8_t *wbig = make_rows(t, n_rows, &rb);
    float *y = malloc(64 * 64 * sizeof *y), *ybig = malloc((size_t)n_rows * sizeof *ybig);
    double t_dot[8][REPS], t_gemv[8][REPS], t_gemm[8][REPS], t_hot[8][REPS];

    int iters = 1;
    for (;;) { /* about 20 ms per timed dot run, at the first level */
        const double t0 = now();
        for (int i = 0; i < iters; i++)
            sink = impl_dot(&ims[0], w1, act);
        if (now() - t0 > 0.02 || iters > (1 << 24))
            break;
        iters *= 2;
    }
    for (int m = 0; m < n_im; m++) /* fault the pages in */
        impl_mm(&ims[m], wbig, rb, n_rows, act, act_bytes, 1, ybig, n_rows);
    /* Interleaved: every implementation once per round. */
    for (int rep = 0; rep < REPS; rep++) {
        for (int m = 0; m < n_im; m++) {
            const int it = ims[m].dot == tr->vec_dot ? iters : iters * 4;
            double t0 = now();
            for (int i = 0; i < it; i++)
                sink = impl_dot(&ims[m], w1, act);
            t_dot[m][rep] = (now() - t0) / it;
            t0 = now();
            impl_mm(&ims[m], w1, rb, 64, act, act_bytes, 64, y, 64);
            t_gemm[m][rep] = now() - t0;
            const int hit = it / 64 + 1;
            t0 = now();
            for (int i = 0; i < hit; i++)
                impl_mm(&ims[m], w1, rb, 64, act, act_bytes, 1, y, 64);
            t_hot[m][rep] = (now() - t0) / hit;
            t0 = now();
            impl_mm(&ims[m], wbig, rb, n_rows, act, act_bytes, 1, ybig, n_rows);
            t_gemv[m][rep] = now() - t0;
        }
    }
    for (int m = 0; m < n_im; m++) {
        const double td = best(t_dot[m], REPS), tv = best(t_gemv[m], REPS), tm = best(t_gemm[m], REPS);
        const double th = best(t_hot[m], REPS);
        int same = 0;
        if (ggml_traits && ims[n_im - 1].gdot)
            for (int r = 0; r < 64; r++)
                same += impl_dot(&ims[m], w1 + (size_t)r * rb, act + (size_t)r * act_bytes) ==
                        impl_dot(&ims[n_im - 1], w1 + (size_t)r * rb, act + (size_t)r * act_bytes);
        printf("%-6s %-7s %8.1f %9.2f %9.2f %9.2f %9.2f", tr->name, ims[m].name, 1e9 * td, rb / td / 1e9,
               64.0 * rb / th / 1e9, (double)rb * n_rows / tv / 1e9, 64.0 * 64.0 * N_IN / tm / 1e9);
        if (ggml_traits && ims[n_im - 1].gdot)
            printf("  %2d/64", same);
        printf("\n");
    }
    fflush(stdout);
    free(act);
    free(w1);
    free(y);
    free(wbig);
    free(ybig);
}

int main(int argc, char **argv) {
    static const tg_type types[] = {TG_TYPE_Q8_0, TG_TYPE_Q5_0, TG_TYPE_Q4_0, TG_TYPE_Q4_1, TG_TYPE_Q5_1,
                                    TG_TYPE_Q4_K, TG_TYPE_Q5_K, TG_TYPE_Q6_K, TG_TYPE_Q2_K, TG_TYPE_Q3_K,
                                    TG_TYPE_F16,  TG_TYPE_BF16, TG_TYPE_F32};
    const tg__cpu_features *f = tg__cpu_features_get();
    const char *lib = getenv("TINGLADO_GGML_CPU");
    if (lib && *lib) {
        void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        void (*init)(void) = h ? (void (*)(void))dlsym(h, "ggml_cpu_init") : NULL;
        ggml_traits = h ? (const ggml_traits_cpu *(*)(int))dlsym(h, "ggml_get_type_traits_cpu") : NULL;
        if (init)
            init();
        if (!ggml_traits)
            fprintf(stderr, "cannot use %s: %s\n", lib, dlerror());
    }
    printf("cpu: %s; kernels in use: %s; rows of %d, one thread%s\n", f->brand, tg__kernels_level(), N_IN,
           ggml_traits ? "; ggml loaded" : "");
    printf("%-6s %-7s %8s %9s %9s %9s %9s%s\n", "type", "impl", "dot ns", "dot GB/s", "gemv-L2", "gemv GB/s",
           "gemm GMAC/s",
           ggml_traits ? "  =ggml" : "");
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted |= strcmp(argv[a], tg_type_name(types[i])) == 0;
        if (wanted)
            bench_type(types[i]);
    }
    return 0;
}
