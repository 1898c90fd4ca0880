/*
 * ops.c — scalar reference row operations (norms, RoPE, softmax,
 * activations).  Each one follows the order of operations and precision of
 * ggml's CPU backend: sums of squares and softmax denominators in double,
 * the GELU through an f16-indexed table with an f16 result, RoPE angles
 * advanced by repeated multiplication in float.  Never allocates.
 */
#include "tensor/ops.h"
#include "tensor/fp16.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

void tg__rms_norm(float *y, const float *x, const float *w, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / (double)n);
    const float scale = 1.0f / sqrtf(mean + eps);
    if (w)
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] * scale * w[i];
    else
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] * scale;
}

void tg__layer_norm(float *y, const float *x, const float *w, const float *b, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)x[i];
    const float mean = (float)(sum / (double)n);
    double var = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float d = x[i] - mean;
        y[i] = d;
        var += (double)(d * d);
    }
    const float variance = (float)(var / (double)n);
    const float scale = 1.0f / sqrtf(variance + eps);
    for (int64_t i = 0; i < n; i++) {
        float v = y[i] * scale;
        if (w)
            v = v * w[i];
        if (b)
            v = v + b[i];
        y[i] = v;
    }
}

void tg__rope_cache(float *cache, int n_dims, int32_t pos, float freq_base, float freq_scale,
                    const float *freq_factors) {
    const float theta_scale = powf(freq_base, -2.0f / (float)n_dims);
    float theta = (float)pos;
    for (int i0 = 0; i0 < n_dims; i0 += 2) {
        const float ff = freq_factors ? freq_factors[i0 / 2] : 1.0f;
        const float t = freq_scale * (theta / ff);
        cache[i0] = cosf(t);
        cache[i0 + 1] = sinf(t);
        theta *= theta_scale;
    }
}

void tg__rope_apply(float *x, int n_dims, const float *cache, bool neox) {
    const int half = n_dims / 2;
    for (int i0 = 0; i0 < n_dims; i0 += 2) {
        const float c = cache[i0], s = cache[i0 + 1];
        float *a, *b;
        if (neox) {
            a = &x[i0 / 2];
            b = &x[i0 / 2 + half];
        } else {
            a = &x[i0];
            b = &x[i0 + 1];
        }
        const float x0 = *a, x1 = *b;
        *a = x0 * c - x1 * s;
        *b = x0 * s + x1 * c;
    }
}

void tg__softmax(float *x, int64_t n) {
    float max = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        if (x[i] > max)
            max = x[i];
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float e = expf(x[i] - max);
        x[i] = e;
        sum += (double)e;
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++)
        x[i] *= inv;
}

/* gelu(x) for every f16 value x, rounded to f16, as ggml tabulates it. */
/* two entries past the last: a SIMD gather reads 4 bytes at an entry */
static uint16_t gelu_table[(1 << 16) + 2];
static pthread_once_t gelu_once = PTHREAD_ONCE_INIT;

static float gelu_tanh(float x) {
    const float a = 0.044715f, s = 0.79788456080286535587989211986876f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + tanhf(s * x * (1.0f + a * x * x)));
}

static void build_gelu_table(void) {
    for (uint32_t i = 0; i < (1u << 16); i++)
        gelu_table[i] = tg__fp32_to_fp16(gelu_tanh(tg__fp16_to_f32((uint16_t)i)));
}

void tg__ops_init(void) { pthread_once(&gelu_once, build_gelu_table); }

const uint16_t *tg__gelu_table(void) {
    tg__ops_init();
    return gelu_table;
}

static inline float gelu_lookup(float x) {
    if (x <= -10.0f)
        return 0.0f;
    if (x >= 10.0f)
        return x;
    return tg__fp16_to_f32(gelu_table[tg__fp32_to_fp16(x)]);
}

void tg__gelu(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = gelu_lookup(x[i]);
}

void tg__geglu(float *y, const float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        if (g <= -10.0f)
            y[i] = 0.0f;
        else if (g >= 10.0f)
            y[i] = g * up[i];
        else
            y[i] = tg__fp16_to_f32(gelu_table[tg__fp32_to_fp16(g)]) * up[i];
    }
}

void tg__swiglu(float *y, const float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        y[i] = (g / (1.0f + expf(-g))) * up[i];
    }
}

void tg__round_f16(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        x[i] = tg__fp16_to_f32(tg__fp32_to_fp16(x[i]));
}
