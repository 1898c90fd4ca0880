/*
 * matmul.c — y = W·x over a batch of rows, threaded over output rows.
 *
 * Scalar: every output is the type's reference vec_dot.  This file is the
 * kernel boundary the SIMD work plugs into: the per-type dot products come
 * from the traits table, so faster variants replace them there, and tiled
 * matrix-matrix kernels replace tg__matmul's inner loops.
 */
#include "tensor/matmul.h"
#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/tensor.h"
#include "tensor/kernels/kernels.h"
#include "base/base.h"

#include <math.h>
#include <string.h>

size_t tg__matmul_act_bytes(tg_type type, int64_t n_in, int64_t n_rows) {
    const tg_type_traits *tr = tg_type_get((uint32_t)type);
    if (!tr)
        return 0;
    return tg_type_row_size(tr->vec_dot_type, n_in) * (size_t)n_rows;
}

/* Q8_0 as llama.cpp's x86/ARM SIMD code computes it: d = amax/127 stored as
 * f16, values scaled by 127/amax (not 1/d) and rounded half to even. */
static void quantize_q8_0_act(const float *x, void *dst, int64_t n) {
    tg_block_q8_0 *y = dst;
    for (int64_t b = 0; b < n / TG_QK8_0; b++, x += TG_QK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < TG_QK8_0; j++)
            amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[b].d = tg__fp32_to_fp16(d);
        for (int j = 0; j < TG_QK8_0; j++)
            y[b].qs[j] = (int8_t)nearbyintf(x[j] * id);
    }
}

static void quantize_q8_1_act(const float *x, void *dst, int64_t n) {
    tg_block_q8_1 *y = dst;
    for (int64_t b = 0; b < n / TG_QK8_1; b++, x += TG_QK8_1) {
        float amax = 0.0f;
        for (int j = 0; j < TG_QK8_1; j++)
            amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < TG_QK8_1; j++) {
            const int q = (int)nearbyintf(x[j] * id);
            y[b].qs[j] = (int8_t)q;
            sum += q;
        }
        y[b].d = tg__fp32_to_fp16(d);
        y[b].s = tg__fp32_to_fp16(d * (float)sum);
    }
}

void tg__quantize_act_row(tg_type act_type, const float *x, void *dst, int64_t n) {
    switch (act_type) {
    case TG_TYPE_F32: memcpy(dst, x, (size_t)n * sizeof(float)); break;
    case TG_TYPE_Q8_0: quantize_q8_0_act(x, dst, n); break;
    case TG_TYPE_Q8_1: quantize_q8_1_act(x, dst, n); break;
    default: tg_type_get((uint32_t)act_type)->from_float(x, dst, n); break;
    }
}

typedef struct prepare_job {
    tg_type act_type;
    const float *x;
    int64_t n_in, x_stride, n_rows;
    uint8_t *act;
    size_t act_row;
} prepare_job;

static void prepare_worker(void *arg, int ith, int nth) {
    prepare_job *j = arg;
    long r0, r1;
    tg_pool_split((long)j->n_rows, ith, nth, &r0, &r1);
    /* kernels: the dispatched quantizer gives the same bytes as tg__quantize_act_row. */
    const tg_from_float_fn quantize = tg__kernels_get()->quantize_act[j->act_type];
    for (long r = r0; r < r1; r++)
        quantize(j->x + r * j->x_stride, j->act + (size_t)r * j->act_row, j->n_in);
}

void tg__matmul_prepare(tg_pool *pool, tg_type type, const float *x, int64_t n_in, int64_t x_stride,
                        int64_t n_rows, void *act) {
    const tg_type_traits *tr = tg_type_get((uint32_t)type);
    prepare_job j = {tr->vec_dot_type, x, n_in, x_stride, n_rows, act, tg_type_row_size(tr->vec_dot_type, n_in)};
    /* a row or two (decoding; a MoE layer's two chosen experts) is a few
     * microseconds: cheaper here than a wake-up and wait of the pool */
    if (n_rows == 1 || n_rows * n_in <= 8192)
        prepare_worker(&j, 0, 1);
    else
        tg_pool_run(pool, prepare_worker, &j);
}

/* Output rows are handed out in units of MATMUL_ROW_UNIT (a multiple of
 * every kernel's register tile, so only a matrix's last unit has an edge). */
#define MATMUL_ROW_UNIT 16
#define MATMUL_SHARES_PER_THREAD 4
#define MATMUL_INLINE_MACS 32768.0

static long task_units(const tg__mm_task *t) {
    return ((long)t->w->n_out + MATMUL_ROW_UNIT - 1) / MATMUL_ROW_UNIT;
}

/* Output rows [o0, o1) of one task. */
static void task_rows(const tg__mm_task *t, long o0, long o1) {
    const tg_type_traits *tr = tg_type_get((uint32_t)t->w->type);
    const size_t act_row = tg_type_row_size(tr->vec_dot_type, t->w->n_in);
    const uint8_t *wdata = t->w->data + (size_t)t->mat * (size_t)t->w->n_out * t->w->row_bytes;
    const uint8_t *act = t->act;
    /* kernels: dispatched (was tr->vec_dot) */
    const tg__mm_fn mm = tg__kernels_get()->type[t->w->type].mm;
    /* in chunks of activation rows that stay in L2 while the kernel sweeps
     * the weights, a multiple of the 8 rows the AVX2 tiles take at a time
     * (rows of 8192 Q8_K: 13 rows would be 8 + 5 in 16 lanes); each output
     * is bit-identical to the level's vec_dot whatever the chunking */
    const int64_t chunk = ((TG_MAX((int64_t)1, (int64_t)((128u << 10) / act_row)) + 7) / 8) * 8;
    for (int64_t r0 = 0; r0 < t->n_rows; r0 += chunk)
        mm(t->w->n_in, wdata + (size_t)o0 * t->w->row_bytes, t->w->row_bytes, o1 - o0, act + (size_t)r0 * act_row,
           act_row, TG_MIN(chunk, t->n_rows - r0), t->y + r0 * t->y_stride + o0, t->y_stride);
}

typedef struct tasks_job {
    const tg__mm_task *t;
    int n;
    long units;
} tasks_job;

/* Share ith of the units of all tasks, in task order. */
static void tasks_worker(void *arg, int ith, int nth) {
    const tasks_job *j = arg;
    long u0, u1;
    tg_pool_split(j->units, ith, nth, &u0, &u1);
    long base = 0;
    for (int i = 0; i < j->n && base < u1; i++) {
        const long nu = task_units(&j->t[i]);
        const long a = TG_MAX(u0, base) - base, b = TG_MIN(u1, base + nu) - base;
        if (a < b)
            task_rows(&j->t[i], a * MATMUL_ROW_UNIT, TG_MIN(b * MATMUL_ROW_UNIT, (long)j->t[i].w->n_out));
        base += nu;
    }
}

void tg__matmul_tasks(tg_pool *pool, const tg__mm_task *tasks, int n_tasks) {
    tasks_job j = {tasks, n_tasks, 0};
    double macs = 0;
    for (int i = 0; i < n_tasks; i++) {
        j.units += task_units(&tasks[i]);
        macs += (double)tasks[i].w->n_out * (double)tasks[i].w->n_in * (double)tasks[i].n_rows;
    }
    if (j.units == 0)
        return;
    /* a few microseconds of work (a MoE router: 8 x 1024 per token) costs
     * less on this thread than waking and waiting for the others */
    if (macs <= MATMUL_INLINE_MACS) {
        tasks_worker(&j, 0, 1);
        return;
    }
    /* several shares per thread, so a thread slowed down by something else
     * on the machine hands its unclaimed shares to the others */
    const int nt = tg_pool_size(pool);
    tg_pool_run_shares(pool, tasks_worker, &j, (int)TG_MAX(1L, TG_MIN((long)nt * MATMUL_SHARES_PER_THREAD, j.units)));
}

void tg__matmul(tg_pool *pool, const tg__mat *w, int64_t mat, const void *act, int64_t n_rows, float *y,
                int64_t y_stride) {
    const tg__mm_task t = {w, mat, act, n_rows, y, y_stride};
    tg__matmul_tasks(pool, &t, 1);
}

void tg__matmul_f32(tg_pool *pool, const tg__mat *w, int64_t mat, const float *x, int64_t n_rows,
                    float *y, void *act) {
    tg__matmul_prepare(pool, w->type, x, w->n_in, w->n_in, n_rows, act);
    tg__matmul(pool, w, mat, act, n_rows, y, w->n_out);
}
