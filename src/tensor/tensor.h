/*
 * tensor.h — internal declarations of the tensor layer: the per-type row
 * functions that fill the traits table in type.c.
 *
 * Every function takes n = the number of elements, a multiple of the type's
 * block size (the callers check that through tg_type_row_size); blocks are
 * the packed structs of tensor/blocks.h.  to_float decodes n values,
 * from_float encodes them, vec_dot returns the dot product of a row of the
 * type with a row of its vec_dot_type.  The vec_dot functions are the scalar
 * references: they follow ggml's generic C code operation for operation
 * (integer sums per block, then one scaled float add), so SIMD kernels can be
 * tested against them.
 */
#ifndef TG_TENSOR_H
#define TG_TENSOR_H

#include "tinglado.h"

#define TG__ROW_FNS(t)                                                                        \
    void tg__##t##_to_float(const void *src, float *dst, int64_t n);                          \
    void tg__##t##_from_float(const float *src, void *dst, int64_t n)

/* float.c: plain float types. */
TG__ROW_FNS(f32);
TG__ROW_FNS(f16);
TG__ROW_FNS(bf16);
float tg__f32_vec_dot(int64_t n, const void *x, const void *y);  /* f32 . f32   */
float tg__f16_vec_dot(int64_t n, const void *x, const void *y);  /* f16 . f16   */
float tg__bf16_vec_dot(int64_t n, const void *x, const void *y); /* bf16 . bf16 */

/* quant_legacy.c: 32-element blocks. */
TG__ROW_FNS(q4_0);
TG__ROW_FNS(q4_1);
TG__ROW_FNS(q5_0);
TG__ROW_FNS(q5_1);
TG__ROW_FNS(q8_0);
TG__ROW_FNS(q8_1);
float tg__q4_0_vec_dot(int64_t n, const void *x, const void *y); /* . q8_0 */
float tg__q4_1_vec_dot(int64_t n, const void *x, const void *y); /* . q8_1 */
float tg__q5_0_vec_dot(int64_t n, const void *x, const void *y); /* . q8_0 */
float tg__q5_1_vec_dot(int64_t n, const void *x, const void *y); /* . q8_1 */
float tg__q8_0_vec_dot(int64_t n, const void *x, const void *y); /* . q8_0 */

/* quant_k.c: 256-element super-blocks (dequantize, dot products, Q8_K). */
void tg__q2_K_to_float(const void *src, float *dst, int64_t n);
void tg__q3_K_to_float(const void *src, float *dst, int64_t n);
void tg__q4_K_to_float(const void *src, float *dst, int64_t n);
void tg__q5_K_to_float(const void *src, float *dst, int64_t n);
void tg__q6_K_to_float(const void *src, float *dst, int64_t n);
TG__ROW_FNS(q8_K);
float tg__q2_K_vec_dot(int64_t n, const void *x, const void *y); /* . q8_K */
float tg__q3_K_vec_dot(int64_t n, const void *x, const void *y); /* . q8_K */
float tg__q4_K_vec_dot(int64_t n, const void *x, const void *y); /* . q8_K */
float tg__q5_K_vec_dot(int64_t n, const void *x, const void *y); /* . q8_K */
float tg__q6_K_vec_dot(int64_t n, const void *x, const void *y); /* . q8_K */

/* quant_k_ref.c: ggml's reference (no importance matrix) K-quant encoders,
 * for writing model files; slow, not for activations. */
void tg__q2_K_from_float(const float *src, void *dst, int64_t n);
void tg__q3_K_from_float(const float *src, void *dst, int64_t n);
void tg__q4_K_from_float(const float *src, void *dst, int64_t n);
void tg__q5_K_from_float(const float *src, void *dst, int64_t n);
void tg__q6_K_from_float(const float *src, void *dst, int64_t n);

#undef TG__ROW_FNS

#endif /* TG_TENSOR_H */
