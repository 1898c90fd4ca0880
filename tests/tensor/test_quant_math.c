/*
 * test_quant_math.c — numerical properties of the tensor types that need no
 * byte-exact reference:
 *   - every scalar vec_dot against a double-precision dot product of the
 *     decoded operands, on random data encoded by our own encoders, with a
 *     stated tolerance (and the measured error printed per type);
 *   - every scalar vec_dot against ggml-cpu's optimized vec_dot on the rows
 *     in tests/golden/dequant/vd_*.bin (same tolerance);
 *   - encode -> decode error bounds of the activation types Q8_0, Q8_1, Q8_K;
 *   - f32 -> f16 rounding on every f16 value, every tie between neighbours
 *     and the floats next to each tie (exhaustive, reference-free).
 */
#include "golden_io.h"
#include "../test.h"
#include "tinglado.h"

static const tg_type WEIGHT_TYPES[] = {
    TG_TYPE_F32,  TG_TYPE_F16,  TG_TYPE_BF16, TG_TYPE_Q4_0, TG_TYPE_Q4_1, TG_TYPE_Q5_0, TG_TYPE_Q5_1,
    TG_TYPE_Q8_0, TG_TYPE_Q2_K, TG_TYPE_Q3_K, TG_TYPE_Q4_K, TG_TYPE_Q5_K, TG_TYPE_Q6_K,
};

#define EPS32 (1.0 / 8388608.0) /* 2^-23, one float ulp at 1 */

static uint16_t rd_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

/* The part of a Q4_1/Q5_1 . Q8_1 dot product that is not in the decoded
 * values: vec_dot adds m * s with s = f16(d * sum(q)) stored in the Q8_1
 * block, whereas decoding the Q8_1 block gives d16 * q exactly.  Returns
 * the sum over blocks of m * (s - d16 * sum(q)) (what vec_dot should differ
 * from the decoded dot by) and, in *abs_out, the sum of its magnitudes. */
static double q8_1_sum_term(tg_type wtype, const uint8_t *x, const uint8_t *y, int64_t n,
                            double *abs_out) {
    *abs_out = 0.0;
    if (wtype != TG_TYPE_Q4_1 && wtype != TG_TYPE_Q5_1)
        return 0.0;
    const size_t xs = tg_type_get(wtype)->type_size;
    double corr = 0.0;
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8_t *xb = x + (size_t)b * xs, *yb = y + (size_t)b * 36;
        const double m = tg_f16_to_f32(rd_u16(xb + 2));
        const double d = tg_f16_to_f32(rd_u16(yb)), s = tg_f16_to_f32(rd_u16(yb + 2));
        int sum = 0;
        for (int j = 0; j < 32; j++)
            sum += (int8_t)yb[4 + j];
        corr += m * (s - d * sum);
        *abs_out += fabs(m * (s - d * sum));
    }
    return corr;
}

/* Double dot of the decoded rows and the sum of |x_i * y_i|. */
static void decoded_dot(tg_type wtype, const void *x, const void *y, int64_t n, double *dot,
                        double *mag) {
    const tg_type_traits *tw = tg_type_get(wtype), *tv = tg_type_get(tw->vec_dot_type);
    float *xd = malloc((size_t)n * sizeof *xd), *yd = malloc((size_t)n * sizeof *yd);
    tw->to_float(x, xd, n);
    tv->to_float(y, yd, n);
    *dot = *mag = 0.0;
    for (int64_t i = 0; i < n; i++) {
        *dot += (double)xd[i] * yd[i];
        *mag += fabs((double)xd[i] * yd[i]);
    }
    free(xd);
    free(yd);
}

/* The tolerance for a vec_dot of n elements: every block's contribution is
 * formed with a few float roundings and the blocks are summed in float (for
 * the K types in 8 lanes, then reduced), so the error is below
 * (blocks + 16) * 2^-23 times the magnitude of the summed terms.  The terms
 * are the scale and min parts of each block separately, which can exceed
 * the decoded |x_i y_i| when they cancel; a factor 4 covers that for the
 * data here (the measured errors printed are far below it). */
static double vec_dot_tol(tg_type wtype, int64_t n, double mag) {
    const double blocks = (double)n / (double)tg_type_get(wtype)->block_size;
    return 4.0 * (blocks + 16.0) * EPS32 * mag;
}

/* Random rows for x: Gaussian with a per-row scale, sometimes shifted (so the
 * types with a min have something to do), sometimes with an outlier. */
static void random_row(uint64_t *rng, float *x, int64_t n, int variant) {
    const double scale = variant % 3 == 0 ? 0.02 : (variant % 3 == 1 ? 1.0 : 30.0);
    const double shift = variant % 2 ? 0.5 * scale : 0.0;
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(rng_normal(rng) * scale + shift);
    if (variant % 4 == 3)
        x[rng_next(rng) % (uint64_t)n] = (float)(20.0 * scale);
}

static void test_vec_dot_random(void) {
    static const int64_t sizes[] = {256, 1024, 4096};
    uint64_t rng = 12345;
    fprintf(stderr, "    vec_dot(x, encode(y)) vs double dot of the decoded rows; "
                    "tolerance 4*(blocks+16)*2^-23*sum|x_i*y_i|\n"
                    "    (q4_1/q5_1: plus sum|m*(s - d*sum(q))|, the f16 rounding of Q8_1's s):\n");
    for (size_t k = 0; k < ARRAY_LEN(WEIGHT_TYPES); k++) {
        const tg_type wt = WEIGHT_TYPES[k];
        const tg_type_traits *tw = tg_type_get(wt), *tv = tg_type_get(tw->vec_dot_type);
        double worst = 0.0;       /* max |err| / (2^-23 * sum|x_i*y_i|) */
        double worst_slack = 0.0; /* the same for the Q8_1 s term */
        int n_cases = 0;
        for (size_t si = 0; si < ARRAY_LEN(sizes); si++) {
            const int64_t n = sizes[si];
            float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
            uint8_t *xq = malloc(tg_type_row_size(wt, n));
            uint8_t *yq = malloc(tg_type_row_size(tw->vec_dot_type, n));
            for (int variant = 0; variant < 6; variant++) {
                random_row(&rng, x, n, variant);
                random_row(&rng, y, n, variant + 1);
                tw->from_float(x, xq, n);
                tv->from_float(y, yq, n);
                double ref, mag, slack;
                decoded_dot(wt, xq, yq, n, &ref, &mag);
                const double corr = q8_1_sum_term(wt, xq, yq, n, &slack);
                const double got = tw->vec_dot(n, xq, yq);
                const double tol = vec_dot_tol(wt, n, mag);
                /* Against the decoded dot, allowing for the s rounding ... */
                CHECK_MSG(fabs(got - ref) <= tol + slack,
                          "%s n=%lld variant %d: vec_dot %.9g, double %.9g, |err| %.3g > %.3g",
                          tw->name, (long long)n, variant, got, ref, fabs(got - ref), tol + slack);
                /* ... and, with that term put in, to rounding error only. */
                const double err = fabs(got - (ref + corr));
                CHECK_MSG(err <= tol, "%s n=%lld variant %d: vec_dot %.9g, corrected double %.9g",
                          tw->name, (long long)n, variant, got, ref + corr);
                if (mag > 0 && err / (EPS32 * mag) > worst)
                    worst = err / (EPS32 * mag);
                if (mag > 0 && slack / (EPS32 * mag) > worst_slack)
                    worst_slack = slack / (EPS32 * mag);
                n_cases++;
            }
            free(x);
            free(y);
            free(xq);
            free(yq);
        }
        fprintf(stderr, "      %-5s . %-5s %2d rows: max |err| = %5.2f * 2^-23 * sum|x_i*y_i|", tw->name,
                tv->name, n_cases, worst);
        if (worst_slack > 0)
            fprintf(stderr, " (after the s term, which is up to %.0f of those)", worst_slack);
        fputc('\n', stderr);
    }
}

static void test_vec_dot_vs_ggml(void) {
    fprintf(stderr, "    vec_dot vs ggml-cpu's optimized vec_dot (vd_*.bin), same tolerance:\n");
    for (size_t k = 0; k < ARRAY_LEN(WEIGHT_TYPES); k++) {
        const tg_type wt = WEIGHT_TYPES[k];
        const tg_type_traits *tw = tg_type_get(wt);
        golden g;
        CHECK_MSG(golden_load(&g, "vd", wt, 3), "golden for %s", tw->name);
        if (!g.buf)
            continue;
        const int64_t n = g.payload_size >= 4 ? rd_u32(g.payload) : 0;
        const size_t xs = tg_type_row_size(wt, n), ys = tg_type_row_size(tw->vec_dot_type, n);
        const size_t need = 4 + (size_t)g.count * (xs + ys + 4);
        CHECK(n > 0 && g.payload_size == need);
        if (n <= 0 || g.payload_size != need) {
            golden_free(&g);
            continue;
        }
        double worst = 0.0;
        int identical = 0;
        for (uint32_t r = 0; r < g.count; r++) {
            const uint8_t *x = g.payload + 4 + r * (xs + ys), *y = x + xs;
            float want;
            memcpy(&want, g.payload + 4 + g.count * (xs + ys) + 4 * r, 4);
            const float got = tw->vec_dot(n, x, y);
            /* Both sides use Q8_1's s the same way: no slack for it. */
            double ref, mag;
            decoded_dot(wt, x, y, n, &ref, &mag);
            const double tol = 2 * vec_dot_tol(wt, n, mag);
            const double err = fabs((double)got - want);
            CHECK_MSG(err <= tol, "%s row %u: ours %.9g, ggml %.9g (double %.9g)", tw->name, r, got,
                      want, ref);
            identical += f32_bits(got) == f32_bits(want);
            if (mag > 0 && err / (EPS32 * mag) > worst)
                worst = err / (EPS32 * mag);
        }
        fprintf(stderr, "      %-5s %u rows of %lld: %d bit-identical, max |ours-ggml| = %6.2f * 2^-23 * sum|x_i*y_i|\n",
                tw->name, g.count, (long long)n, identical, worst);
        golden_free(&g);
    }
}

/* Encode -> decode of the activation types on random rows at several
 * scales (all within f16's normal range for the Q8_0/Q8_1 scale):
 *   Q8_0, Q8_1: |x - x'| <= 0.5625 * amax/127 per block of 32 (half a step,
 *               plus up to 127 steps of the f16 rounding of d: 127*2^-11);
 *   Q8_K:       |x - x'| <= 0.5 * amax/127 + 2^-20 * amax per block of 256
 *               (d is kept in f32);
 * and the extreme value of each block must map to +-127.  Q8_1's s must be
 * d*sum(q) to f16 precision; Q8_K's bsums must be the sums of 16 quants. */
static void test_activation_round_trip(void) {
    static const tg_type types[] = {TG_TYPE_Q8_0, TG_TYPE_Q8_1, TG_TYPE_Q8_K};
    static const double scales[] = {0.01, 1.0, 50.0, 1000.0};
    uint64_t rng = 777;
    const int64_t n = 4096;
    float *x = malloc(n * sizeof *x), *xd = malloc(n * sizeof *xd);
    for (size_t k = 0; k < ARRAY_LEN(types); k++) {
        const tg_type_traits *tr = tg_type_get(types[k]);
        const int64_t bs = tr->block_size;
        const double bound = types[k] == TG_TYPE_Q8_K ? 0.5 : 0.5625;
        uint8_t *q = malloc(tg_type_row_size(types[k], n));
        double worst = 0.0;
        size_t bad_extreme = 0, bad_aux = 0;
        for (size_t si = 0; si < ARRAY_LEN(scales); si++) {
            for (int64_t i = 0; i < n; i++)
                x[i] = (float)(rng_normal(&rng) * scales[si]);
            tr->from_float(x, q, n);
            tr->to_float(q, xd, n);
            for (int64_t b = 0; b < n / bs; b++) {
                const uint8_t *blk = q + (size_t)b * tr->type_size;
                double amax = 0.0;
                int64_t imax = 0;
                for (int64_t i = b * bs; i < (b + 1) * bs; i++)
                    if (fabs(x[i]) > amax) {
                        amax = fabs(x[i]);
                        imax = i;
                    }
                const double step = amax / 127.0;
                const double tol = bound * step + (types[k] == TG_TYPE_Q8_K ? amax / 1048576.0 : 0.0);
                for (int64_t i = b * bs; i < (b + 1) * bs; i++) {
                    const double e = fabs((double)x[i] - xd[i]);
                    CHECK_MSG(e <= tol, "%s: x=%g decoded %g (step %g)", tr->name, x[i], xd[i], step);
                    if (e / step > worst)
                        worst = e / step;
                }
                const int qoff = types[k] == TG_TYPE_Q8_0 ? 2 : 4;
                const int qmax = (int8_t)blk[qoff + (imax - b * bs)];
                bad_extreme += qmax != 127 && qmax != -127;
                if (types[k] == TG_TYPE_Q8_1) {
                    int sum = 0;
                    for (int j = 0; j < 32; j++)
                        sum += (int8_t)blk[4 + j];
                    const double d = tg_f16_to_f32(rd_u16(blk)), s = tg_f16_to_f32(rd_u16(blk + 2));
                    bad_aux += fabs(s - d * sum) > fabs(d * sum) / 512.0 + 1e-7;
                } else if (types[k] == TG_TYPE_Q8_K) {
                    for (int j = 0; j < 16; j++) {
                        int sum = 0;
                        for (int l = 0; l < 16; l++)
                            sum += (int8_t)blk[4 + 16 * j + l];
                        bad_aux += (int16_t)rd_u16(blk + 260 + 2 * j) != sum;
                    }
                }
            }
        }
        CHECK_EQ_INT(bad_extreme, 0);
        CHECK_EQ_INT(bad_aux, 0);
        fprintf(stderr, "    %s round trip: max |x - decode(encode(x))| = %.4f * amax/127 (bound %.4f)\n",
                tr->name, worst, bound);
        free(q);
    }
    free(x);
    free(xd);
}

/* f32 -> f16 on every finite f16 value, every midpoint between neighbours
 * (a tie: must go to the even one) and the floats just above and below each
 * midpoint, for both signs.  Reference-free and exhaustive. */
static void test_f16_rounding_exhaustive(void) {
    size_t bad = 0, n = 0;
    for (uint32_t h = 0; h < 0x7c00; h++) {
        const float lo = tg_f16_to_f32((uint16_t)h);
        /* Above the largest finite value the next step would be 65536. */
        const double hi = h == 0x7bff ? 65536.0 : (double)tg_f16_to_f32((uint16_t)(h + 1));
        const float mid = (float)(((double)lo + hi) / 2); /* exact: 12 significant bits */
        const uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        const struct {
            float v;
            uint16_t want;
        } cases[] = {
            {lo, (uint16_t)h},
            {mid, even},
            {nextafterf(mid, INFINITY), (uint16_t)(h + 1)},
            {nextafterf(mid, 0.0f), (uint16_t)h},
        };
        for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
            for (int sign = 0; sign < 2; sign++) {
                const float v = sign ? -cases[c].v : cases[c].v;
                const uint16_t want = (uint16_t)(cases[c].want | (sign ? 0x8000 : 0));
                const uint16_t got = tg_f32_to_f16(v);
                n++;
                if (got != want && bad++ < 5)
                    fprintf(stderr, "    f32_to_f16(%a) = 0x%04x, want 0x%04x\n", (double)v, got, want);
            }
        }
    }
    fprintf(stderr, "    f32 -> f16: %zu values, ties and neighbours: %zu wrong\n", n, bad);
    CHECK_EQ_INT(bad, 0);
    CHECK(tg_f32_to_f16(INFINITY) == 0x7c00 && tg_f32_to_f16(-INFINITY) == 0xfc00);
    CHECK(tg_f32_to_f16(1e30f) == 0x7c00);
    CHECK((tg_f32_to_f16(NAN) & 0x7fff) == 0x7e00);
}

int main(void) {
    RUN(test_vec_dot_random);
    RUN(test_vec_dot_vs_ggml);
    RUN(test_activation_round_trip);
    RUN(test_f16_rounding_exhaustive);
    return tg_test_finish("tensor/quant_math");
}
