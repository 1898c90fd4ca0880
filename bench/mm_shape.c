/*
 * bench/mm_shape.c — one thread, one matmul shape of real model size
 * through the dispatched mm kernel: how fast the weights stream from memory
 * (one activation row, decoding) or how many multiply-adds a batch gets.
 * Weights are random bytes (scales may be anything: timing only, no check).
 * Prints the best of 5 runs of per-thread CPU time.
 *
 *   make build/rel/libtinglado.a
 *   cc -O2 -Iinclude -Isrc -o build/rel/mm_shape bench/mm_shape.c build/rel/libtinglado.a \
 *      -lpcre2-8 -lutf8proc -lcurl -ljansson -lmicrohttpd -lsqlite3 -lz -lgumbo \
 *      $(pkg-config --libs poppler-glib) -lm -pthread
 *   build/rel/mm_shape N_IN N_OUT ROWS TYPE     e.g. 640 262144 1 q8_0
 *   (the default model's output projection, decoding one token)
 */
#include "tensor/kernels/kernels.h"
#include "tensor/tensor.h"
#include "tinglado.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: mm_shape N_IN N_OUT ROWS TYPE   (e.g. 640 262144 1 q8_0)\n");
        return 2;
    }
    const int64_t n = atoll(argv[1]), nw = atoll(argv[2]), na = atoll(argv[3]);
    int type = -1;
    for (int t = 0; t < TG_TYPE_COUNT; t++)
        if (tg_type_get((uint32_t)t) && tg_type_name((uint32_t)t) && !strcmp(tg_type_name((uint32_t)t), argv[4]))
            type = t;
    const tg_type_traits *tr = type >= 0 ? tg_type_get((uint32_t)type) : NULL;
    if (!tr || n <= 0 || nw <= 0 || na <= 0 || n % tr->block_size) {
        fprintf(stderr, "mm_shape: need positive sizes, N_IN a multiple of the block size, a known type\n");
        return 2;
    }
    const tg__kernels *k = tg__kernels_get();
    if (!k->type[type].mm || !k->quantize_act[tr->vec_dot_type]) {
        fprintf(stderr, "mm_shape: no kernel for %s\n", argv[4]);
        return 2;
    }
    const size_t ws = tg_type_row_size((tg_type)type, n), as = tg_type_row_size(tr->vec_dot_type, n);
    uint8_t *w = malloc(ws * (size_t)nw), *a = malloc(as * (size_t)na);
    float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)(nw * na));
    if (!w || !a || !x || !y) {
        fprintf(stderr, "mm_shape: out of memory\n");
        return 1;
    }
    srand(1);
    for (size_t i = 0; i < ws * (size_t)nw; i++)
        w[i] = (uint8_t)rand();
    for (int64_t r = 0; r < na; r++) {
        for (int64_t i = 0; i < n; i++)
            x[i] = (float)(rand() % 2001 - 1000) / 1000.0f;
        k->quantize_act[tr->vec_dot_type](x, a + (size_t)r * as, n);
    }
    double best = 1e30;
    for (int it = 0; it < 5; it++) {
        const double t0 = cpu_seconds();
        k->type[type].mm(n, w, ws, nw, a, as, na, y, nw);
        const double t = cpu_seconds() - t0;
        best = t < best ? t : best;
    }
    printf("%s %s, %lld x %lld, %lld rows: %.2f ms, %.2f GMAC/s, %.2f GB/s of weights\n", k->level_name, argv[4],
           (long long)nw, (long long)n, (long long)na, best * 1e3, (double)n * (double)nw * (double)na / best / 1e9,
           (double)ws * (double)nw / best / 1e9);
    free(w);
    free(a);
    free(x);
    free(y);
    return 0;
}
