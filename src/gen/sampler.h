/*
 * sampler.h — internals of the sampler (src/gen/sampler.c) that its tests
 * look at.  Not part of the public API.
 */
#ifndef TG_GEN_SAMPLER_H
#define TG_GEN_SAMPLER_H

#include "tinglado.h"

/* Runs the sampler's filters on one row of logits without drawing: writes the
 * surviving candidates' ids and their final logits (after the mask, the
 * penalties and division by the temperature) to ids[] and logits_out[] (each
 * room for n_vocab, either may be NULL) and returns how many there are — in
 * no particular order unless top-k or top-p ran (then best first).  Greedy
 * samplers return just the argmax.  The random stream is not touched.
 * 0 with a message when nothing can be sampled. */
size_t tg__sampler_candidates(tg_sampler *s, const float *logits, int32_t *ids, float *logits_out);

/* The sampler's random numbers: splitmix64 (seed expansion) and xoshiro256**
 * (the stream), exposed so the tests can check them against the published
 * reference outputs — a seed must mean the same tokens everywhere. */
uint64_t tg__splitmix64(uint64_t *x);
uint64_t tg__xoshiro256ss(uint64_t s[4]);

#endif /* TG_GEN_SAMPLER_H */
