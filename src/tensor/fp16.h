/*
 * fp16.h — inline IEEE binary16 and bfloat16 <-> binary32 conversions, for
 * the row functions that decode a scale per block (the public wrappers are
 * tg_f16_to_f32 & co. in float.c).
 *
 * Integer-only, so the result never depends on the FPU mode or compiler
 * flags.  Rounding is to nearest, ties to even, as the F16C instructions and
 * ggml's scalar code do.  NaN handling follows ggml: f16->f32 keeps the
 * payload but sets the quiet bit; f32->f16 gives the canonical 0x7E00 (with
 * the sign); f32->bf16 keeps the top payload bits and sets the quiet bit.
 */
#ifndef TG_TENSOR_FP16_H
#define TG_TENSOR_FP16_H

#include <stdint.h>
#include <string.h>

static inline float tg__bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t tg__f32_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float tg__fp16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        /* Inf, or NaN made quiet (what a float multiply or vcvtph2ps does). */
        bits = sign | 0x7f800000u | (mant << 13) | (mant ? 0x00400000u : 0);
    } else if (exp != 0) {
        /* Rebias the exponent: 127 - 15 = 112. */
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else {
        /* Subnormal half: mant * 2^-24.  Shift the leading one up to the
         * implicit-bit position and lower the exponent to match. */
        uint32_t e = 113; /* exponent of 2^-14, the smallest normal half */
        while (!(mant & 0x400u)) {
            mant <<= 1;
            e--;
        }
        bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
    }
    return tg__bits_to_f32(bits);
}

static inline uint16_t tg__fp32_to_fp16(float f) {
    uint32_t x = tg__f32_to_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    x &= 0x7fffffffu;
    if (x > 0x7f800000u)
        return sign | 0x7e00u; /* NaN */
    if (x >= 0x477ff000u)      /* >= 65520: rounds (ties-to-even) past 65504 */
        return sign | 0x7c00u;
    if (x >= 0x38800000u) { /* normal half: |f| >= 2^-14 */
        /* Rebias the exponent (subtract 112<<23) and drop 13 mantissa bits,
         * rounding to nearest even; a carry into the exponent is correct. */
        uint32_t m = x - 0x38000000u;
        return sign | (uint16_t)((m + 0x0fffu + ((m >> 13) & 1u)) >> 13);
    }
    if (x <= 0x33000000u) /* <= 2^-25: rounds to zero (2^-25 is a tie -> 0) */
        return sign;
    /* Subnormal half: the value in units of 2^-24 is mant * 2^(e-126) with
     * e the f32 biased exponent (102..112 here, so the shift is 14..24). */
    uint32_t e = x >> 23;
    uint32_t mant = (x & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - e;
    uint32_t q = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u)))
        q++; /* may become 0x400, the smallest normal: still the right bits */
    return sign | (uint16_t)q;
}

static inline float tg__bf16_to_f32(uint16_t h) {
    return tg__bits_to_f32((uint32_t)h << 16);
}

static inline uint16_t tg__fp32_to_bf16(float f) {
    uint32_t x = tg__f32_to_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((x >> 16) | 0x40u); /* NaN: keep it quiet */
    /* Round to nearest even; 64-bit so 0x7f7fffff+... cannot wrap (it rounds
     * to Inf, 0x7f80, as it should). */
    return (uint16_t)(((uint64_t)x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

#endif /* TG_TENSOR_FP16_H */
