/*
 * membw.c — measures the machine's memory read bandwidth, the ceiling of
 * token generation (each decoded token reads every weight once).
 *
 * Every thread of the pool streams through its own slice of a buffer much
 * larger than the caches, summing 64-bit words (the sum is kept so the reads
 * cannot be optimised away); the figure is bytes read ÷ wall time of the
 * slowest thread.  Reported as a median with a bootstrap interval over
 * repetitions: on a shared host the bandwidth moves from minute to minute.
 */
#include "base/base.h"
#include "base/pool.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct bw_job {
    const uint64_t *buf;
    size_t words;
    uint64_t sums[512];
} bw_job;

static void bw_worker(void *arg, int ith, int nth) {
    bw_job *j = arg;
    long w0, w1;
    tg_pool_split((long)j->words, ith, nth, &w0, &w1);
    /* four independent accumulators keep several loads in flight */
    uint64_t a = 0, b = 0, c = 0, d = 0;
    long i = w0;
    for (; i + 4 <= w1; i += 4) {
        a += j->buf[i];
        b += j->buf[i + 1];
        c += j->buf[i + 2];
        d += j->buf[i + 3];
    }
    for (; i < w1; i++)
        a += j->buf[i];
    j->sums[ith & 511] = a + b + c + d;
}

static volatile uint64_t membw_sink;

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

tg_estimate tg_measure_read_bandwidth(int n_threads, size_t bytes, int reps) {
    tg_estimate e = {0};
    if (reps < 1)
        reps = 1;
    size_t words = bytes / sizeof(uint64_t);
    uint64_t *buf = malloc(words * sizeof *buf);
    double *gbs = malloc((size_t)reps * sizeof *gbs);
    tg_pool *pool = tg_pool_new(n_threads);
    if (!buf || !gbs || !pool) {
        free(buf);
        free(gbs);
        tg_pool_free(pool);
        tg__fail(TG_ERR_NOMEM, "cannot allocate %zu bytes to measure memory bandwidth", bytes);
        return e;
    }
    /* touch every page first (and give the words distinct values) */
    for (size_t i = 0; i < words; i++)
        buf[i] = i * 0x9E3779B97F4A7C15ull;
    bw_job j = {.buf = buf, .words = words};
    tg_pool_run(pool, bw_worker, &j); /* warm-up */
    for (int r = 0; r < reps; r++) {
        double t0 = seconds();
        tg_pool_run(pool, bw_worker, &j);
        double dt = seconds() - t0;
        gbs[r] = (double)(words * sizeof(uint64_t)) / dt / 1e9;
    }
    e = tg_stats_median_boot(gbs, (size_t)reps, 2000, 42);
    uint64_t sink = 0;
    for (int i = 0; i < 512; i++)
        sink += j.sums[i];
    membw_sink = sink; /* the sums are observable, so the reads happen */
    free(buf);
    free(gbs);
    tg_pool_free(pool);
    return e;
}
