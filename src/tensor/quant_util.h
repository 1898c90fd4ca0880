/*
 * quant_util.h — float-to-integer rounding helpers shared by the encoders.
 *
 * ggml's encoders cast floats straight to small integers; in C an
 * out-of-range or NaN cast is undefined behaviour, so these helpers clamp
 * first.  For every finite input ggml would handle, the result is the same
 * integer ggml's cast gives.
 */
#ifndef TG_TENSOR_QUANT_UTIL_H
#define TG_TENSOR_QUANT_UTIL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* (int)v truncated toward zero, clamped to [lo, hi]; NaN gives lo. */
static inline int tg__trunc_clamp(float v, int lo, int hi) {
    if (!(v > (float)lo))
        return lo;
    if (v >= (float)hi)
        return hi;
    return (int)v;
}

/* roundf(v) (ties away from zero) clamped to [lo, hi]; NaN gives 0. */
static inline int tg__round_clamp(float v, int lo, int hi) {
    if (v != v)
        return 0;
    if (v <= (float)lo)
        return lo;
    if (v >= (float)hi)
        return hi;
    return (int)roundf(v);
}

/* ggml's nearest_int: round to nearest, ties to even, by adding 1.5*2^23 so
 * the integer lands in the low mantissa bits.  Valid for |v| <= 2^22-1;
 * outside that (or NaN, which ggml asserts away) we clamp, so the result is
 * still an integer of the right sign and callers' own clamps apply. */
static inline int tg__nearest_int(float v) {
    if (!(fabsf(v) <= 4194303.0f))
        return v != v ? 0 : (v > 0 ? 4194303 : -4194303);
    float t = v + 12582912.0f;
    int32_t i;
    memcpy(&i, &t, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

#endif /* TG_TENSOR_QUANT_UTIL_H */
