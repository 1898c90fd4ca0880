/*
 * test_sampler.c — the sampler (stop strings: test_stop.c).
 *
 * Sampling is random, so the tests are of two kinds: exact checks of what the
 * filters keep (through tg__sampler_candidates, which runs everything but the
 * draw) against hand-computed sets and llama.cpp's formulas; and frequency
 * checks over 100,000 draws against the softmax, within 5 binomial standard
 * deviations.  Every seed is fixed, so a run is deterministic: a failure is a
 * bug, not bad luck (a correct sampler lands outside 5 sigma once in ~2
 * million checks).
 */
#include "tinglado.h"
#include "gen/sampler.h"
#include "../test.h"

#include <math.h>

/* A small deterministic generator for test inputs (not the sampler's). */
static uint64_t lcg_state = 88172645463325252ull;
static uint32_t lcg(void) {
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(lcg_state >> 33);
}
static float rand_logit(void) {
    return (float)(lcg() % 20000) / 1000.0f - 10.0f; /* [-10, 10) */
}

static tg_sampler_params plain(float temp) {
    tg_sampler_params p = tg_sampler_defaults();
    p.temperature = temp;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = 42;
    return p;
}

/* softmax(logits / temp) over n, in double. */
static void softmax(const float *l, int n, double temp, double *p) {
    double mx = -INFINITY, sum = 0;
    for (int i = 0; i < n; i++)
        mx = fmax(mx, l[i] / temp);
    for (int i = 0; i < n; i++)
        sum += (p[i] = exp(l[i] / temp - mx));
    for (int i = 0; i < n; i++)
        p[i] /= sum;
}

/* Draws n_draws tokens and checks their frequencies against want[]. */
static void check_frequencies(tg_sampler *s, const float *logits, int n, const double *want,
                              int n_draws) {
    int counts[64] = {0};
    for (int i = 0; i < n_draws; i++) {
        tg_token t = tg_sampler_sample(s, logits, NULL);
        CHECK(t >= 0 && t < n);
        if (t >= 0 && t < n)
            counts[t]++;
    }
    for (int i = 0; i < n; i++) {
        double mean = n_draws * want[i], sd = sqrt(n_draws * want[i] * (1 - want[i]));
        CHECK_MSG(fabs(counts[i] - mean) <= 5 * sd + 1e-9,
                  "token %d drawn %d times, expected %.1f ± %.1f", i, counts[i], mean, 5 * sd);
    }
}

static bool same_set(const int32_t *ids, size_t n, const int32_t *want, size_t n_want) {
    if (n != n_want)
        return false;
    for (size_t i = 0; i < n_want; i++) {
        bool found = false;
        for (size_t j = 0; j < n; j++)
            found |= ids[j] == want[i];
        if (!found)
            return false;
    }
    return true;
}

/* ---- greedy --------------------------------------------------------------- */

static void test_greedy_is_argmax(void) {
    enum { N = 1000 };
    float l[N];
    tg_sampler_params p = plain(0.0f);
    p.top_k = 5; /* the filters cannot change an argmax */
    p.top_p = 0.5f;
    tg_sampler *s = tg_sampler_new(&p, N);
    CHECK(s != NULL);
    if (!s)
        return;
    for (int round = 0; round < 50; round++) {
        int best = 0;
        for (int i = 0; i < N; i++) {
            l[i] = rand_logit();
            if (l[i] > l[best])
                best = i;
        }
        tg_sample_info info;
        CHECK_EQ_INT(tg_sampler_sample(s, l, &info), best);
        CHECK_EQ_INT(info.n_candidates, 1);
    }
    /* Ties go to the lower id. */
    for (int i = 0; i < N; i++)
        l[i] = 0.0f;
    l[700] = l[20] = l[300] = 1.0f;
    CHECK_EQ_INT(tg_sampler_sample(s, l, NULL), 20);
    /* A negative temperature is greedy too. */
    tg_sampler_free(s);
    p.temperature = -1.0f;
    s = tg_sampler_new(&p, N);
    CHECK_EQ_INT(tg_sampler_sample(s, l, NULL), 20);
    tg_sampler_free(s);
}

/* ---- the draw ------------------------------------------------------------- */

static void test_distribution(void) {
    const float l[5] = {1.0f, 2.0f, 0.5f, -1.0f, 3.0f};
    const float temps[] = {1.0f, 0.5f, 2.0f};
    for (size_t k = 0; k < 3; k++) {
        tg_sampler_params p = plain(temps[k]);
        p.seed = 1000 + k;
        tg_sampler *s = tg_sampler_new(&p, 5);
        CHECK(s != NULL);
        if (!s)
            return;
        double want[5];
        softmax(l, 5, temps[k], want);
        check_frequencies(s, l, 5, want, 100000);
        tg_sampler_free(s);
    }
}

/* The generators are the published ones: splitmix64 from 0 and xoshiro256**
 * from the state {1, 2, 3, 4} give the reference implementations' outputs. */
static void test_prng_reference_vectors(void) {
    uint64_t x = 0;
    CHECK(tg__splitmix64(&x) == 0xe220a8397b1dcdafull);
    CHECK(tg__splitmix64(&x) == 0x6e789e6aa1b965f4ull);
    uint64_t s[4] = {1, 2, 3, 4};
    CHECK(tg__xoshiro256ss(s) == 11520u);
    CHECK(tg__xoshiro256ss(s) == 0u);
    CHECK(tg__xoshiro256ss(s) == 1509978240u);
    CHECK(tg__xoshiro256ss(s) == 1215971899390074240ull);
}

/* The stream of a seed is pinned: the same tokens on every machine, compiler
 * and thread count.  These values were produced by this implementation; if
 * they change, so does every seeded output users may have recorded. */
static void test_seed_stream_is_pinned(void) {
    const float l[5] = {1.0f, 2.0f, 0.5f, -1.0f, 3.0f};
    static const tg_token want[24] = {0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 1,
                                      4, 2, 4, 4, 4, 4, 4, 4, 1, 1, 4, 4};
    tg_sampler_params p = plain(1.0f);
    p.seed = 42;
    tg_sampler *s = tg_sampler_new(&p, 5);
    CHECK(s != NULL);
    if (!s)
        return;
    int same = 0;
    for (int i = 0; i < 24; i++)
        same += tg_sampler_sample(s, l, NULL) == want[i];
    CHECK_MSG(same == 24, "seed 42 stream changed (%d of 24 tokens agree)", same);
    CHECK_EQ_INT(tg_sampler_seed(s), 42);
    tg_sampler_free(s);
}

static void run_seq(tg_sampler *s, tg_token *out, int n, int n_vocab) {
    uint64_t save = lcg_state;
    lcg_state = 7; /* the same logits every time */
    float *l = malloc(sizeof(float) * (size_t)n_vocab);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n_vocab; j++)
            l[j] = rand_logit() * 0.3f;
        out[i] = tg_sampler_sample(s, l, NULL);
        tg_sampler_accept(s, out[i]);
    }
    free(l);
    lcg_state = save;
}

static void test_seeds(void) {
    enum { V = 2000, T = 200 };
    tg_token a[T], b[T], c[T], d[T];
    tg_sampler_params p = tg_sampler_defaults();
    p.seed = 1234;
    p.repeat_penalty = 1.1f;
    tg_sampler *s1 = tg_sampler_new(&p, V), *s2 = tg_sampler_new(&p, V);
    p.seed = 1235;
    tg_sampler *s3 = tg_sampler_new(&p, V);
    CHECK(s1 && s2 && s3);
    if (!s1 || !s2 || !s3)
        return;
    run_seq(s1, a, T, V);
    run_seq(s2, b, T, V);
    run_seq(s3, c, T, V);
    CHECK(memcmp(a, b, sizeof a) == 0);
    int differ = 0;
    for (int i = 0; i < T; i++)
        differ += a[i] != c[i];
    CHECK_MSG(differ > T / 4, "seeds 1234 and 1235 agree on %d of %d tokens", T - differ, T);
    /* reset: same history-free start, same stream. */
    tg_sampler_reset(s1);
    run_seq(s1, d, T, V);
    CHECK(memcmp(a, d, sizeof a) == 0);
    tg_sampler_free(s1);
    tg_sampler_free(s2);
    tg_sampler_free(s3);

    /* A random seed is reported and reproduces the run. */
    p.seed = TG_SEED_RANDOM;
    tg_sampler *r1 = tg_sampler_new(&p, V), *r2 = tg_sampler_new(&p, V);
    CHECK(r1 && r2);
    if (!r1 || !r2)
        return;
    CHECK(tg_sampler_seed(r1) != TG_SEED_RANDOM);
    CHECK(tg_sampler_seed(r1) != tg_sampler_seed(r2));
    run_seq(r1, a, T, V);
    p.seed = tg_sampler_seed(r1);
    tg_sampler *r3 = tg_sampler_new(&p, V);
    run_seq(r3, b, T, V);
    CHECK(memcmp(a, b, sizeof a) == 0);
    uint64_t before = tg_sampler_seed(r2);
    tg_sampler_reset(r2); /* a random seeded sampler draws a new seed */
    CHECK(tg_sampler_seed(r2) != before);
    tg_sampler_free(r1);
    tg_sampler_free(r2);
    tg_sampler_free(r3);
}

/* ---- the filters ----------------------------------------------------------- */

/* Probabilities 1/2, 1/4, 1/8, 1/16, 1/16, scattered over the ids so the
 * filters have to sort: id 3 is the best, then 0, 4, 1, 2 (1 and 2 tie). */
static void halving(float l[5]) {
    l[3] = logf(0.5f);
    l[0] = logf(0.25f);
    l[4] = logf(0.125f);
    l[1] = logf(0.0625f);
    l[2] = logf(0.0625f);
}

static void check_kept(tg_sampler_params p, const float *l, int n_vocab, const int32_t *want,
                       size_t n_want, const char *what) {
    tg_sampler *s = tg_sampler_new(&p, n_vocab);
    CHECK(s != NULL);
    if (!s)
        return;
    int32_t ids[64];
    size_t n = tg__sampler_candidates(s, l, ids, NULL);
    CHECK_MSG(same_set(ids, n, want, n_want), "%s: kept %zu tokens, expected %zu", what, n, n_want);
    /* Drawing many times only ever yields kept tokens. */
    for (int i = 0; i < 2000; i++) {
        tg_token t = tg_sampler_sample(s, l, NULL);
        bool ok = false;
        for (size_t j = 0; j < n_want; j++)
            ok |= t == want[j];
        CHECK_MSG(ok, "%s: drew %d", what, t);
        if (!ok)
            break;
    }
    tg_sampler_free(s);
}

static void test_top_k(void) {
    const float l[6] = {0.1f, 3.0f, 2.0f, -1.0f, 2.5f, 1.0f};
    tg_sampler_params p = plain(1.0f);
    p.top_k = 3;
    check_kept(p, l, 6, (const int32_t[]){1, 4, 2}, 3, "top-k 3");
    p.top_k = 1;
    check_kept(p, l, 6, (const int32_t[]){1}, 1, "top-k 1");
    p.top_k = 6;
    check_kept(p, l, 6, (const int32_t[]){0, 1, 2, 3, 4, 5}, 6, "top-k 6");
    p.top_k = 100; /* more than the vocabulary: off */
    check_kept(p, l, 6, (const int32_t[]){0, 1, 2, 3, 4, 5}, 6, "top-k 100");
    /* Best first, ties by id. */
    const float flat[6] = {1, 1, 1, 1, 1, 1};
    p.top_k = 2;
    check_kept(p, flat, 6, (const int32_t[]){0, 1}, 2, "top-k ties");
    tg_sampler *s = tg_sampler_new(&p, 6);
    int32_t ids[6];
    p.top_k = 3;
    tg_sampler_free(s);
    s = tg_sampler_new(&p, 6);
    CHECK_EQ_INT(tg__sampler_candidates(s, l, ids, NULL), 3);
    CHECK(ids[0] == 1 && ids[1] == 4 && ids[2] == 2);
    /* The frequencies are the softmax renormalised over the kept three. */
    const float kept[3] = {3.0f, 2.5f, 2.0f};
    double w3[3], want[6] = {0};
    softmax(kept, 3, 1.0, w3);
    want[1] = w3[0], want[4] = w3[1], want[2] = w3[2];
    check_frequencies(s, l, 6, want, 100000);
    tg_sampler_free(s);
}

static void test_top_p(void) {
    float l[5];
    halving(l);
    tg_sampler_params p = plain(1.0f);
    p.top_p = 0.7f; /* 0.5 + 0.25 = 0.75 reaches it */
    check_kept(p, l, 5, (const int32_t[]){3, 0}, 2, "top-p 0.7");
    p.top_p = 0.8f;
    check_kept(p, l, 5, (const int32_t[]){3, 0, 4}, 3, "top-p 0.8");
    p.top_p = 0.9f; /* 0.9375 after four; the 1/16 tie goes to id 1 */
    check_kept(p, l, 5, (const int32_t[]){3, 0, 4, 1}, 4, "top-p 0.9");
    p.top_p = 0.95f;
    check_kept(p, l, 5, (const int32_t[]){3, 0, 4, 1, 2}, 5, "top-p 0.95");
    p.top_p = 0.0f; /* the first token always reaches 0 */
    check_kept(p, l, 5, (const int32_t[]){3}, 1, "top-p 0");
    p.top_p = 0.4f;
    check_kept(p, l, 5, (const int32_t[]){3}, 1, "top-p 0.4");

    /* A vocabulary of 5000 where the best 256 are not enough (flat logits:
     * the lazy sort has to finish the job), and one where they are. */
    enum { V = 5000 };
    static float big[V];
    static int32_t ids[V], want[V];
    for (int i = 0; i < V; i++)
        big[i] = 0.0f;
    p.top_p = 0.5f;
    tg_sampler *s = tg_sampler_new(&p, V);
    size_t n = tg__sampler_candidates(s, big, ids, NULL);
    CHECK_MSG(n >= 2495 && n <= 2505, "flat top-p 0.5 kept %zu of 5000", n);
    bool prefix = true; /* ties by id: exactly ids 0 .. n-1, in order */
    for (size_t i = 0; i < n; i++)
        prefix &= ids[i] == (int32_t)i;
    CHECK(prefix);
    for (int i = 0; i < 10; i++)
        big[i * 400 + 7] = 10.0f; /* each ~0.0978 of the mass */
    n = tg__sampler_candidates(s, big, ids, NULL);
    for (int i = 0; i < 6; i++)
        want[i] = i * 400 + 7;
    CHECK_MSG(same_set(ids, n, want, 6), "peaked top-p 0.5 kept %zu, expected 6", n);
    tg_sampler_free(s);
}

static void test_min_p(void) {
    float l[5];
    halving(l);
    tg_sampler_params p = plain(1.0f);
    p.min_p = 0.2f; /* keeps p >= 0.1 */
    check_kept(p, l, 5, (const int32_t[]){3, 0, 4}, 3, "min-p 0.2");
    p.min_p = 0.3f; /* p >= 0.15 */
    check_kept(p, l, 5, (const int32_t[]){3, 0}, 2, "min-p 0.3");
    p.min_p = 1.0f;
    check_kept(p, l, 5, (const int32_t[]){3}, 1, "min-p 1");
    p.min_p = 0.1f; /* p >= 0.05: everything */
    check_kept(p, l, 5, (const int32_t[]){0, 1, 2, 3, 4}, 5, "min-p 0.1");
    /* Close to the boundaries (4% either side). */
    p.min_p = 0.13f; /* p >= 0.065: not the 1/16s */
    check_kept(p, l, 5, (const int32_t[]){3, 0, 4}, 3, "min-p 0.13");
    p.min_p = 0.12f; /* p >= 0.06 */
    check_kept(p, l, 5, (const int32_t[]){0, 1, 2, 3, 4}, 5, "min-p 0.12");
    p.min_p = 0.24f; /* p >= 0.12 */
    check_kept(p, l, 5, (const int32_t[]){3, 0, 4}, 3, "min-p 0.24");
    p.min_p = 0.26f; /* p >= 0.13 */
    check_kept(p, l, 5, (const int32_t[]){3, 0}, 2, "min-p 0.26");
}

/* The chain's order: the filters see the untempered logits, the temperature
 * comes last (so a high temperature cannot widen top-p's set). */
static void test_chain_order(void) {
    float l[5];
    halving(l);
    tg_sampler_params p = plain(4.0f);
    p.top_p = 0.7f;
    tg_sampler *s = tg_sampler_new(&p, 5);
    int32_t ids[5];
    float out[5];
    size_t n = tg__sampler_candidates(s, l, ids, out);
    CHECK(same_set(ids, n, (const int32_t[]){3, 0}, 2));
    for (size_t i = 0; i < n; i++)
        CHECK(fabsf(out[i] - l[ids[i]] / 4.0f) < 1e-6f);
    tg_sampler_free(s);
    /* top-k then top-p: top-p's mass is renormalised over the top-k set.
     * Over {3, 0} alone the probabilities are 2/3 and 1/3. */
    p = plain(1.0f);
    p.top_k = 2;
    p.top_p = 0.6f;
    check_kept(p, l, 5, (const int32_t[]){3}, 1, "top-k 2 + top-p 0.6");
    p.top_p = 0.7f;
    check_kept(p, l, 5, (const int32_t[]){3, 0}, 2, "top-k 2 + top-p 0.7");
    /* top-p then min-p. */
    p = plain(1.0f);
    p.top_p = 0.9f;
    p.min_p = 0.3f;
    check_kept(p, l, 5, (const int32_t[]){3, 0}, 2, "top-p 0.9 + min-p 0.3");
}

/* ---- penalties -------------------------------------------------------------- */

static void expect_logits(tg_sampler *s, const float *l, const float *want, int n,
                          const char *what) {
    int32_t ids[16];
    float out[16];
    size_t m = tg__sampler_candidates(s, l, ids, out);
    CHECK_MSG(m == (size_t)n, "%s: %zu candidates", what, m);
    for (size_t i = 0; i < m && i < 16; i++)
        CHECK_MSG(fabsf(out[i] - want[ids[i]]) <= 1e-6f * fmaxf(1.0f, fabsf(want[ids[i]])),
                  "%s: token %d has %.7f, expected %.7f", what, ids[i], (double)out[i],
                  (double)want[ids[i]]);
}

static void test_penalties(void) {
    const float l[6] = {2.0f, -1.0f, 0.5f, 0.0f, 3.0f, 1.0f};
    tg_sampler_params p = plain(1.0f);
    p.repeat_penalty = 1.5f;
    p.frequency_penalty = 0.25f;
    p.presence_penalty = 0.5f;
    p.repeat_last_n = 4;
    tg_sampler *s = tg_sampler_new(&p, 6);
    CHECK(s != NULL);
    if (!s)
        return;
    expect_logits(s, l, l, 6, "no history");
    /* History 0, 1, 1, 2.  llama.cpp: a positive logit is divided by the
     * repetition penalty, a non-positive one multiplied; then
     * count × frequency + presence is subtracted. */
    tg_sampler_accept(s, 0);
    tg_sampler_accept(s, 1);
    tg_sampler_accept(s, 1);
    tg_sampler_accept(s, 2);
    const float w1[6] = {
        2.0f / 1.5f - (0.25f + 0.5f),       /* 0.5833333 */
        -1.0f * 1.5f - (2 * 0.25f + 0.5f),  /* -2.5      */
        0.5f / 1.5f - (0.25f + 0.5f),       /* -0.4166667 */
        0.0f, 3.0f, 1.0f,
    };
    CHECK(fabsf(w1[0] - 0.5833333f) < 1e-6f && w1[1] == -2.5f && fabsf(w1[2] + 0.4166667f) < 1e-6f);
    expect_logits(s, l, w1, 6, "window 0 1 1 2");
    /* 4 enters, 0 leaves the window of 4. */
    tg_sampler_accept(s, 4);
    const float w2[6] = {2.0f, -2.5f, 0.5f / 1.5f - 0.75f, 0.0f, 3.0f / 1.5f - 0.75f, 1.0f};
    expect_logits(s, l, w2, 6, "window 1 1 2 4");
    /* A zero logit is multiplied (stays 0) and still pays presence+frequency. */
    tg_sampler_accept(s, 3);
    const float w3[6] = {2.0f, -1.0f * 1.5f - 0.75f, 0.5f / 1.5f - 0.75f, -0.75f, 3.0f / 1.5f - 0.75f,
                         1.0f};
    expect_logits(s, l, w3, 6, "window 1 2 4 3");
    /* The penalty decides greedy choices too. */
    tg_sampler_reset(s);
    expect_logits(s, l, l, 6, "after reset");
    tg_sampler_free(s);

    /* Window -1: the whole history. */
    p.repeat_last_n = -1;
    s = tg_sampler_new(&p, 6);
    for (int i = 0; i < 10; i++)
        tg_sampler_accept(s, 4);
    tg_sampler_accept(s, 0);
    const float w4[6] = {2.0f / 1.5f - 0.75f, -1.0f, 0.5f, 0.0f, 3.0f / 1.5f - (10 * 0.25f + 0.5f),
                         1.0f};
    expect_logits(s, l, w4, 6, "window all");
    tg_sampler_reset(s);
    expect_logits(s, l, l, 6, "window all, reset");
    tg_sampler_free(s);

    /* Window 0, or neutral values, disable the penalties. */
    p.repeat_last_n = 0;
    s = tg_sampler_new(&p, 6);
    tg_sampler_accept(s, 4);
    expect_logits(s, l, l, 6, "window 0");
    tg_sampler_free(s);
    p.repeat_last_n = 64;
    p.repeat_penalty = 1.0f;
    p.frequency_penalty = p.presence_penalty = 0.0f;
    s = tg_sampler_new(&p, 6);
    tg_sampler_accept(s, 4);
    expect_logits(s, l, l, 6, "neutral");
    tg_sampler_free(s);

    /* Greedy after the penalty: 4 (3.0) repeated loses to 0 (2.0). */
    p = plain(0.0f);
    p.repeat_penalty = 2.0f;
    s = tg_sampler_new(&p, 6);
    CHECK_EQ_INT(tg_sampler_sample(s, l, NULL), 4);
    tg_sampler_accept(s, 4);
    CHECK_EQ_INT(tg_sampler_sample(s, l, NULL), 0);
    CHECK_EQ_INT(tg_sampler_accept(s, 6), TG_ERR_ARG);
    CHECK_EQ_INT(tg_sampler_accept(s, -1), TG_ERR_ARG);
    CHECK_ERROR_HAS("outside the vocabulary");
    tg_sampler_free(s);
}

/* ---- logprobs ---------------------------------------------------------------- */

static void test_logprobs(void) {
    enum { V = 50 };
    float l[V];
    for (int i = 0; i < V; i++)
        l[i] = rand_logit();
    double sm[V];
    softmax(l, V, 1.0, sm);
    tg_sampler_params p = tg_sampler_defaults();
    p.seed = 3;
    p.n_logprobs = V;
    p.temperature = 0.3f; /* neither temperature nor penalties change them */
    p.repeat_penalty = 1.3f;
    tg_sampler *s = tg_sampler_new(&p, V);
    CHECK(s != NULL);
    if (!s)
        return;
    tg_sampler_accept(s, 7);
    for (int round = 0; round < 5; round++) {
        tg_sample_info info;
        tg_token t = tg_sampler_sample(s, l, &info);
        CHECK_EQ_INT(info.token, t);
        CHECK_EQ_INT(info.n_top, V);
        CHECK(fabs(info.logprob - log(sm[t])) < 1e-5);
        double sum = 0;
        for (int i = 0; i < info.n_top; i++) {
            sum += exp(info.top[i].logprob);
            CHECK(fabs(info.top[i].logprob - log(sm[info.top[i].token])) < 1e-5);
            if (i > 0)
                CHECK(info.top[i].logprob <= info.top[i - 1].logprob);
        }
        CHECK_MSG(fabs(sum - 1.0) < 1e-5, "logprobs sum to %.8f", sum);
    }
    tg_sampler_free(s);

    /* n_logprobs 3: the three best raw logits. */
    int b[3] = {-1, -1, -1};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < V; i++)
            if ((b[0] != i && b[1] != i) && (b[k] < 0 || l[i] > l[b[k]]))
                b[k] = i;
    p.n_logprobs = 3;
    s = tg_sampler_new(&p, V);
    tg_sample_info info;
    tg_sampler_sample(s, l, &info);
    CHECK_EQ_INT(info.n_top, 3);
    for (int k = 0; k < 3; k++)
        CHECK_EQ_INT(info.top[k].token, b[k]);
    tg_sampler_free(s);

    /* -inf and NaN logits get -inf; the rest still sum to 1. */
    l[5] = -INFINITY;
    l[6] = NAN;
    p.n_logprobs = V;
    s = tg_sampler_new(&p, V);
    tg_sampler_sample(s, l, &info);
    double sum = 0;
    for (int i = 0; i < V; i++) {
        sum += exp(info.top[i].logprob);
        if (info.top[i].token == 5 || info.top[i].token == 6)
            CHECK(isinf(info.top[i].logprob) && info.top[i].logprob < 0);
    }
    CHECK(fabs(sum - 1.0) < 1e-5);
    tg_sampler_free(s);
}

/* ---- masks, hooks, odd logits -------------------------------------------------- */

static void forbid_low_half(void *user, float *logits, int32_t n) {
    (*(int *)user)++;
    for (int32_t i = 0; i < n / 2; i++)
        logits[i] = -INFINITY;
}

static void force_five(void *user, float *logits, int32_t n) {
    (void)user;
    (void)n;
    logits[5] += 100.0f; /* an OpenAI logit_bias of +100 */
}

static void forbid_all(void *user, float *logits, int32_t n) {
    (void)user;
    for (int32_t i = 0; i < n; i++)
        logits[i] = -INFINITY;
}

static void test_mask_and_hook(void) {
    enum { V = 64 };
    float l[V];
    for (int i = 0; i < V; i++)
        l[i] = 0.0f;
    l[0] = 5.0f; /* the favourite, about to be masked */
    tg_sampler_params p = plain(1.0f);
    tg_sampler *s = tg_sampler_new(&p, V);
    uint32_t bits[2] = {(1u << 3) | (1u << 7), 0};
    tg_sampler_set_allowed(s, bits);
    int seen3 = 0, seen7 = 0, other = 0;
    for (int i = 0; i < 2000; i++) {
        tg_token t = tg_sampler_sample(s, l, NULL);
        seen3 += t == 3, seen7 += t == 7, other += t != 3 && t != 7;
    }
    CHECK(other == 0 && seen3 > 800 && seen7 > 800);
    bits[0] = 0;
    CHECK_EQ_INT(tg_sampler_sample(s, l, NULL), -1);
    CHECK_ERROR_HAS("no token");
    tg_sampler_set_allowed(s, NULL);

    /* The hook sees a copy: the caller's logits stay as they were. */
    int calls = 0;
    CHECK_EQ_INT(tg_sampler_set_hook(s, forbid_low_half, &calls), TG_OK);
    for (int i = 0; i < 500; i++) {
        tg_token t = tg_sampler_sample(s, l, NULL);
        CHECK(t >= V / 2);
        if (t < V / 2)
            break;
    }
    CHECK_EQ_INT(calls, 500);
    CHECK(l[0] == 5.0f);
    tg_sampler_set_hook(s, force_five, NULL);
    for (int i = 0; i < 100; i++)
        CHECK_EQ_INT(tg_sampler_sample(s, l, NULL), 5);
    tg_sampler_set_hook(s, forbid_all, NULL);
    CHECK_EQ_INT(tg_sampler_sample(s, l, NULL), -1);
    tg_sampler_set_hook(s, NULL, NULL);
    CHECK(tg_sampler_sample(s, l, NULL) >= 0);
    tg_sampler_free(s);
}

static void test_nonfinite_logits(void) {
    enum { V = 8 };
    float l[V] = {NAN, 1.0f, -INFINITY, 1.0f, NAN, -INFINITY, 1.0f, 1.0f};
    tg_sampler_params p = plain(1.0f);
    tg_sampler *s = tg_sampler_new(&p, V);
    for (int i = 0; i < 1000; i++) {
        tg_token t = tg_sampler_sample(s, l, NULL);
        CHECK(t == 1 || t == 3 || t == 6 || t == 7);
        if (!(t == 1 || t == 3 || t == 6 || t == 7))
            break;
    }
    /* +inf wins outright; two of them share. */
    l[6] = INFINITY;
    for (int i = 0; i < 100; i++)
        CHECK_EQ_INT(tg_sampler_sample(s, l, NULL), 6);
    l[1] = INFINITY;
    int n1 = 0, n6 = 0;
    for (int i = 0; i < 1000; i++) {
        tg_token t = tg_sampler_sample(s, l, NULL);
        n1 += t == 1, n6 += t == 6;
    }
    CHECK(n1 + n6 == 1000 && n1 > 400 && n6 > 400);
    for (int i = 0; i < V; i++)
        l[i] = (i % 2) ? NAN : -INFINITY;
    CHECK_EQ_INT(tg_sampler_sample(s, l, NULL), -1);
    tg_sampler_free(s);
    /* Greedy skips NaN. */
    p = plain(0.0f);
    s = tg_sampler_new(&p, V);
    float g[V] = {NAN, 1.0f, NAN, 2.0f, NAN, 0.0f, NAN, -1.0f};
    CHECK_EQ_INT(tg_sampler_sample(s, g, NULL), 3);
    tg_sampler_free(s);
}

static void test_bad_params(void) {
    tg_sampler_params p = tg_sampler_defaults();
    CHECK(tg_sampler_new(&p, 0) == NULL);
    CHECK_ERROR_HAS("n_vocab");
    CHECK(tg_sampler_new(NULL, 10) == NULL);
    p.top_p = -0.1f;
    CHECK(tg_sampler_new(&p, 10) == NULL);
    CHECK_ERROR_HAS("top_p");
    p = tg_sampler_defaults();
    p.min_p = 1.5f;
    CHECK(tg_sampler_new(&p, 10) == NULL);
    CHECK_ERROR_HAS("min_p");
    p = tg_sampler_defaults();
    p.repeat_penalty = 0.0f;
    CHECK(tg_sampler_new(&p, 10) == NULL);
    CHECK_ERROR_HAS("repeat_penalty");
    p.repeat_penalty = NAN;
    CHECK(tg_sampler_new(&p, 10) == NULL);
    p = tg_sampler_defaults();
    p.repeat_last_n = -2;
    CHECK(tg_sampler_new(&p, 10) == NULL);
    CHECK_ERROR_HAS("repeat_last_n");
    p = tg_sampler_defaults();
    p.n_logprobs = 11;
    CHECK(tg_sampler_new(&p, 10) == NULL);
    CHECK_ERROR_HAS("n_logprobs");
    p = tg_sampler_defaults();
    p.temperature = NAN;
    CHECK(tg_sampler_new(&p, 10) == NULL);
    p = tg_sampler_defaults();
    p.presence_penalty = INFINITY;
    CHECK(tg_sampler_new(&p, 10) == NULL);
    /* Defaults are llama.cpp's. */
    p = tg_sampler_defaults();
    CHECK(p.temperature == 0.8f && p.top_k == 40 && p.top_p == 0.95f && p.min_p == 0.05f);
    CHECK(p.repeat_penalty == 1.0f && p.repeat_last_n == 64 && p.seed == TG_SEED_RANDOM);
    CHECK(tg_sampler_sample(NULL, (float[1]){0}, NULL) == -1);
    tg_sampler_free(NULL);
    tg_sampler_reset(NULL);
}

/* A Gemma-sized vocabulary with the default chain: every draw is among the
 * 40 best raw logits, and within min-p of the best. */
static void test_gemma_sized_vocab(void) {
    enum { V = 262144 };
    float *l = malloc(sizeof(float) * V);
    float *sorted = malloc(sizeof(float) * V);
    for (int i = 0; i < V; i++)
        l[i] = rand_logit() * 0.5f;
    for (int i = 0; i < 7; i++) /* a few strong candidates */
        l[lcg() % V] = 8.0f + (float)i * 0.3f;
    tg_sampler_params p = tg_sampler_defaults();
    p.seed = 99;
    p.n_logprobs = 5;
    tg_sampler *s = tg_sampler_new(&p, V);
    CHECK(s != NULL);
    if (s) {
        /* the 40th best raw logit */
        memcpy(sorted, l, sizeof(float) * V);
        float kth = -INFINITY, best = -INFINITY;
        for (int i = 0; i < V; i++)
            best = fmaxf(best, l[i]);
        int above = 0;
        for (float thr = best; above < 40; thr -= 0.01f) {
            above = 0;
            for (int i = 0; i < V; i++)
                above += l[i] >= thr;
            kth = thr;
        }
        for (int i = 0; i < 50; i++) {
            tg_sample_info info;
            tg_token t = tg_sampler_sample(s, l, &info);
            CHECK(t >= 0 && l[t] >= kth && l[t] >= best + logf(0.05f));
            CHECK(info.n_candidates >= 1 && info.n_candidates <= 40);
            CHECK(info.top[0].token >= 0 && l[info.top[0].token] == best);
            tg_sampler_accept(s, t);
        }
    }
    tg_sampler_free(s);
    free(l);
    free(sorted);
}

int main(void) {
    RUN(test_greedy_is_argmax);
    RUN(test_distribution);
    RUN(test_prng_reference_vectors);
    RUN(test_seed_stream_is_pinned);
    RUN(test_seeds);
    RUN(test_top_k);
    RUN(test_top_p);
    RUN(test_min_p);
    RUN(test_chain_order);
    RUN(test_penalties);
    RUN(test_logprobs);
    RUN(test_mask_and_hook);
    RUN(test_nonfinite_logits);
    RUN(test_bad_params);
    RUN(test_gemma_sized_vocab);
    return tg_test_finish("test_sampler");
}
