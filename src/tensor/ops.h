/*
 * ops.h — the element-wise and row operations of a transformer forward pass,
 * scalar reference versions that follow ggml's CPU arithmetic (what is
 * computed in float, what in double, where values are rounded to f16) so
 * that tinglado's logits track llama.cpp's on the same file.
 */
#ifndef TG_TENSOR_OPS_H
#define TG_TENSOR_OPS_H

#include <stdbool.h>
#include <stdint.h>

/* y = x / sqrt(mean(x²) + eps) ⊙ w (w may be NULL).  y may alias x. */
void tg__rms_norm(float *y, const float *x, const float *w, int64_t n, float eps);

/* y = (x − mean) / sqrt(var + eps) ⊙ w + b (w, b may be NULL; BERT). */
void tg__layer_norm(float *y, const float *x, const float *w, const float *b, int64_t n, float eps);

/* RoPE: fills cache with (cos, sin) pairs for the n_dims rotated dimensions
 * of a token at position pos; freq_factors (n_dims/2, may be NULL) divide
 * the angles (Llama 3.1 style). */
void tg__rope_cache(float *cache, int n_dims, int32_t pos, float freq_base, float freq_scale,
                    const float *freq_factors);
/* Rotates one head in place: NORM pairs (x[2i], x[2i+1]); NEOX pairs
 * (x[i], x[i + n_dims/2]).  Dimensions past n_dims are left alone. */
void tg__rope_apply(float *x, int n_dims, const float *cache, bool neox);

/* In-place softmax over n values (max-subtracted, sum in double). */
void tg__softmax(float *x, int64_t n);

/* y = gelu(gate) ⊙ up with ggml's f16 lookup table (tanh approximation);
 * y may alias gate or up. */
void tg__geglu(float *y, const float *gate, const float *up, int64_t n);
/* y = silu(gate) ⊙ up. */
void tg__swiglu(float *y, const float *gate, const float *up, int64_t n);
/* y = gelu(x) (tanh approximation, via the same table), in place allowed. */
void tg__gelu(float *y, const float *x, int64_t n);

/* Round each value to the nearest f16 and back (what storing to an f16
 * tensor and reading it again does). */
void tg__round_f16(float *x, int64_t n);

/* Builds the GELU table; called once before use (idempotent, thread-safe). */
void tg__ops_init(void);

/* GELU (tanh form) of every half value, as a half, indexed by its bits:
 * what tg__gelu/tg__geglu look up (llama.cpp's table too); 65538 entries,
 * the last two padding. */
const uint16_t *tg__gelu_table(void);

#endif
