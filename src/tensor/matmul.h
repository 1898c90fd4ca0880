/*
 * matmul.h — weight matrices as views into the model file, and y = W·x for
 * a batch of activation rows, the way ggml's CPU backend computes it: the
 * activations are first converted to the weight type's vec_dot_type (Q8_0,
 * Q8_1, Q8_K, F16 …) and each output is one vec_dot of a weight row with a
 * converted activation row.
 */
#ifndef TG_TENSOR_MATMUL_H
#define TG_TENSOR_MATMUL_H

#include "base/pool.h"
#include "tinglado.h"

/* A weight matrix (or a stack of n_mat of them, e.g. MoE experts): n_out
 * rows of n_in elements, rows row_bytes apart, matrices n_out*row_bytes
 * apart.  A view into the mapped file: never owns its data. */
typedef struct tg__mat {
    tg_type type;
    int64_t n_in, n_out, n_mat;
    size_t row_bytes;
    const uint8_t *data;
} tg__mat;

/* Bytes needed to hold n_rows activation rows of n_in elements converted
 * for a weight of type `type`. */
size_t tg__matmul_act_bytes(tg_type type, int64_t n_in, int64_t n_rows);

/* Converts n_rows rows of x (n_in floats each, rows x_stride floats apart)
 * to the vec_dot_type of `type`, into act (tg__matmul_act_bytes bytes). */
void tg__matmul_prepare(tg_pool *pool, tg_type type, const float *x, int64_t n_in, int64_t x_stride,
                        int64_t n_rows, void *act);

/* y[r*y_stride + o] = dot(W[mat] row o, act row r) for o in [0, n_out), r in
 * [0, n_rows).  act comes from tg__matmul_prepare for W's type. */
void tg__matmul(tg_pool *pool, const tg__mat *w, int64_t mat, const void *act, int64_t n_rows, float *y,
                int64_t y_stride);

/* Several independent matmuls (as tg__matmul each) in one pool call: the
 * threads share out the output rows of all of them, so small matrices (a
 * mixture-of-experts layer's experts when decoding, a dense FFN's gate and
 * up) cost one wait for the slowest thread instead of one each. */
typedef struct tg__mm_task {
    const tg__mat *w;
    int64_t mat;
    const void *act;
    int64_t n_rows;
    float *y;
    int64_t y_stride;
} tg__mm_task;

void tg__matmul_tasks(tg_pool *pool, const tg__mm_task *tasks, int n_tasks);

/* Convenience: prepare + matmul, with act as scratch. */
void tg__matmul_f32(tg_pool *pool, const tg__mat *w, int64_t mat, const float *x, int64_t n_rows,
                    float *y, void *act);

/* Converts one activation row to the given activation type the way
 * llama.cpp's SIMD code does on x86 and ARM (Q8_0/Q8_1: scale 127/amax,
 * round half to even); other types use their from_float. */
void tg__quantize_act_row(tg_type act_type, const float *x, void *dst, int64_t n);

#endif
