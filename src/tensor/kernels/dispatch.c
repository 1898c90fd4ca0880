/*
 * dispatch.c — picks the kernel level once, at first use: the best level
 * the CPU and OS can run (base/cpu.c), or the one TINGLADO_CPU names
 * (scalar, avx2, avx512), downgraded with a warning when the CPU lacks it.
 *
 * Tables are built for every level this CPU can run, so tests and
 * benchmarks can compare levels in one process; a level's table starts as
 * the scalar one and each SIMD file, in order, overrides what it has.  This
 * file must never call into a kernel file the CPU cannot run.
 */
#include "tensor/kernels/kernels.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static tg__kernels tables[TG__CPU_LEVEL_COUNT];
static bool runnable[TG__CPU_LEVEL_COUNT];
static tg__cpu_level selected;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void fill_level(tg__kernels *k, tg__cpu_level level) {
    tg__kernels_fill_scalar(k);
    if (level >= TG__CPU_AVX2)
        tg__kernels_fill_avx2(k);
    if (level >= TG__CPU_AVX512)
        tg__kernels_fill_avx512(k);
    k->level = level;
    k->level_name = tg__cpu_level_name(level);
}

static void init(void) {
    const tg__cpu_features *f = tg__cpu_features_get();
    for (int l = 0; l < TG__CPU_LEVEL_COUNT; l++) {
        runnable[l] = tg__cpu_level_ok(f, (tg__cpu_level)l, NULL, 0);
        if (runnable[l])
            fill_level(&tables[l], (tg__cpu_level)l);
    }
    char warn[256];
    selected = tg__cpu_select_level(f, getenv("TINGLADO_CPU"), warn, sizeof warn);
    if (warn[0])
        fprintf(stderr, "tinglado: %s\n", warn);
}

const tg__kernels *tg__kernels_get(void) {
    pthread_once(&once, init);
    return &tables[selected];
}

const char *tg__kernels_level(void) {
    return tg__kernels_get()->level_name;
}

const tg__kernels *tg__kernels_for_level(tg__cpu_level level) {
    pthread_once(&once, init);
    if ((int)level < 0 || level >= TG__CPU_LEVEL_COUNT || !runnable[level])
        return NULL;
    return &tables[level];
}
