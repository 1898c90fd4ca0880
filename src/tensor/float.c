/*
 * float.c — the plain floating-point tensor types F32, F16 and BF16: the
 * public scalar conversions, row encode/decode, and their scalar dot
 * products.
 *
 * The dot products follow ggml's generic code: each product is formed in
 * float (from the widened operands) and accumulated in double, and the
 * total is rounded to float once at the end.  Nothing here may depend on
 * the CPU's float mode; the conversions are integer-only (fp16.h).
 */
#include "tensor/fp16.h"
#include "tensor/tensor.h"

#include <string.h>

float tg_f16_to_f32(uint16_t h) {
    return tg__fp16_to_f32(h);
}

uint16_t tg_f32_to_f16(float f) {
    return tg__fp32_to_fp16(f);
}

float tg_bf16_to_f32(uint16_t h) {
    return tg__bf16_to_f32(h);
}

uint16_t tg_f32_to_bf16(float f) {
    return tg__fp32_to_bf16(f);
}

/* Rows may come straight from a file mapping at any byte offset, so 16-bit
 * elements are loaded with memcpy rather than through a uint16_t pointer. */
static inline uint16_t load_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store_u16(uint8_t *p, uint16_t v) {
    memcpy(p, &v, sizeof v);
}

void tg__f32_to_float(const void *src, float *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void tg__f32_from_float(const float *src, void *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void tg__f16_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = tg__fp16_to_f32(load_u16(p + 2 * i));
}

void tg__f16_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *p = dst;
    for (int64_t i = 0; i < n; i++)
        store_u16(p + 2 * i, tg__fp32_to_fp16(src[i]));
}

void tg__bf16_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = tg__bf16_to_f32(load_u16(p + 2 * i));
}

void tg__bf16_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *p = dst;
    for (int64_t i = 0; i < n; i++)
        store_u16(p + 2 * i, tg__fp32_to_bf16(src[i]));
}

float tg__f32_vec_dot(int64_t n, const void *vx, const void *vy) {
    const uint8_t *x = vx, *y = vy;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float a, b;
        memcpy(&a, x + 4 * i, sizeof a);
        memcpy(&b, y + 4 * i, sizeof b);
        sum += (double)(a * b);
    }
    return (float)sum;
}

float tg__f16_vec_dot(int64_t n, const void *vx, const void *vy) {
    const uint8_t *x = vx, *y = vy;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)(tg__fp16_to_f32(load_u16(x + 2 * i)) * tg__fp16_to_f32(load_u16(y + 2 * i)));
    return (float)sum;
}

float tg__bf16_vec_dot(int64_t n, const void *vx, const void *vy) {
    const uint8_t *x = vx, *y = vy;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)(tg__bf16_to_f32(load_u16(x + 2 * i)) * tg__bf16_to_f32(load_u16(y + 2 * i)));
    return (float)sum;
}
