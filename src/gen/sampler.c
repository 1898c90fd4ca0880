/*
 * sampler.c — picks the next token from a row of logits.
 *
 * The filters and their order are those of llama.cpp's default sampler chain
 * (common/sampling.cpp with the default sampler list), so that a setting such
 * as "--top-p 0.9" means here what it means there:
 *
 *   mask/hook → penalties → top-k → top-p → min-p → temperature → draw
 *
 * What differs on purpose: the random numbers (our own xoshiro256**, seeded
 * through splitmix64, so a seed gives the same tokens on every machine and
 * thread count — llama.cpp uses std::mt19937, whose draws we could not match
 * anyway); ties between equal logits, which we break towards the lower token
 * id (llama.cpp leaves them to std::partial_sort); and tokens whose logit is
 * -inf or NaN, which are dropped before anything else instead of being
 * carried along with probability 0.
 *
 * What this file must never do: allocate, or spend more than O(n_vocab log k)
 * per sampled token.  Every buffer is sized for n_vocab when the sampler is
 * made; top-k is a bounded heap (O(n log k)); the rare full sort (top-p on a
 * flat distribution) is a linear-time radix sort.
 */
#include "base/base.h"
#include "gen/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* A candidate token: its id and its logit as the filters have left it. */
typedef struct cand {
    int32_t id;
    float logit;
} cand;

struct tg_sampler {
    tg_sampler_params par;
    int32_t n_vocab;
    uint64_t seed;   /* the seed in use (drawn when par.seed is TG_SEED_RANDOM) */
    uint64_t rng[4]; /* xoshiro256** state */

    cand *cand;  /* (n_vocab) the working candidate list */
    cand *tmp;   /* (n_vocab) the radix sort's other half */
    float *work; /* (n_vocab) logits changed by the hook and the penalties;
                    then the draw's exponentials */

    /* Penalty history.  count[t] is how often t occurs in the window.  With a
     * finite window (repeat_last_n > 0) the window is the ring; with -1 it is
     * the whole history and `distinct` lists each token seen once. */
    int32_t *count;    /* (n_vocab) */
    int32_t *ring;     /* (repeat_last_n) */
    size_t ring_cap, ring_head, ring_len;
    int32_t *distinct; /* (n_vocab) only for repeat_last_n == -1 */
    size_t n_distinct;

    cand *lp_heap;   /* (n_logprobs) the best raw logits, while selecting */
    tg_logprob *top; /* (n_logprobs) what tg_sample_info points to */

    tg_logit_hook hook;
    void *hook_user;
    const uint32_t *allowed;
};

/* ---- random numbers ------------------------------------------------------ */

/* splitmix64 spreads a 64-bit seed over the 256-bit xoshiro state, so nearby
 * seeds (0, 1, 2 …) give unrelated streams and the state is never all zero. */
uint64_t tg__splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman & Vigna): fast, 256 bits of state, passes BigCrush. */
uint64_t tg__xoshiro256ss(uint64_t s[4]) {
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 random bits: exactly representable, never 1. */
static double rng_uniform(uint64_t s[4]) {
    return (double)(tg__xoshiro256ss(s) >> 11) * 0x1.0p-53;
}

static uint64_t random_seed(void) {
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) == (ssize_t)sizeof v && v != TG_SEED_RANDOM)
        return v;
    /* No entropy source: the clock is enough to make runs differ. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
    v = tg__splitmix64(&x);
    return v == TG_SEED_RANDOM ? 0 : v;
}

static void reseed(tg_sampler *s) {
    s->seed = s->par.seed == TG_SEED_RANDOM ? random_seed() : s->par.seed;
    uint64_t x = s->seed;
    for (int i = 0; i < 4; i++)
        s->rng[i] = tg__splitmix64(&x);
}

/* ---- candidate ordering --------------------------------------------------- */

/* The order every selection uses: higher logit first, then lower id, so the
 * result never depends on where a token sat in the array. */
static inline bool better(cand a, cand b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

/* Sifts h[i] down a heap of n whose root is its *worst* element. */
static void sift_down(cand *h, size_t n, size_t i) {
    cand x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && better(h[c], h[c + 1]))
            c++; /* the worse child */
        if (!better(x, h[c]))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static void heapify(cand *h, size_t n) {
    for (size_t i = n / 2; i-- > 0;)
        sift_down(h, n, i);
}

/* Turns a heap of n into an array sorted best first: popping the worst to
 * the end until the heap is empty. */
static void heap_to_sorted(cand *h, size_t n) {
    for (size_t m = n; m > 1; m--) {
        cand t = h[0];
        h[0] = h[m - 1];
        h[m - 1] = t;
        sift_down(h, m - 1, 0);
    }
}

/* Moves the best k of a[0..n) to a[0..k), sorted best first, in place.
 * A heap of the k best so far, whose root is the one to evict: O(n log k),
 * and O(n) in practice since most elements lose the first comparison.  With
 * k == n it is a heapsort. */
static void select_top(cand *a, size_t n, size_t k) {
    if (k == 0 || n == 0)
        return;
    if (k > n)
        k = n;
    heapify(a, k);
    for (size_t j = k; j < n; j++) {
        if (better(a[j], a[0])) {
            cand t = a[0];
            a[0] = a[j];
            a[j] = t;
            sift_down(a, k, 0);
        }
    }
    heap_to_sorted(a, k);
}

/* The order of better() as an unsigned key: ascending key = descending
 * logit (the float's bits made monotonic, then inverted). */
static inline uint32_t desc_key(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return ~u;
}

/* Sorts a[0, n) best first, in the order of better(), whatever order it is
 * in: an LSD radix sort (11-bit digits) on the composite key (logit, id),
 * id digits first.  O(n) with `tmp` (room for n) as the other buffer — the
 * heap would take ~100 ms on a 262,144-token vocabulary, this a few ms.
 * Passes whose digit is the same for every element are skipped. */
static void sort_desc(cand *a, cand *tmp, size_t n) {
    cand *src = a, *dst = tmp;
    size_t hist[2048];
    for (int pass = 0; pass < 6; pass++) {
        const bool by_id = pass < 3;
        const int shift = 11 * (pass % 3);
        memset(hist, 0, sizeof hist);
        for (size_t i = 0; i < n; i++) {
            uint32_t k = by_id ? (uint32_t)src[i].id : desc_key(src[i].logit);
            hist[(k >> shift) & 2047]++;
        }
        size_t sum = 0;
        bool trivial = false;
        for (size_t d = 0; d < 2048; d++) {
            trivial |= hist[d] == n;
            size_t h = hist[d];
            hist[d] = sum;
            sum += h;
        }
        if (trivial)
            continue;
        for (size_t i = 0; i < n; i++) {
            uint32_t k = by_id ? (uint32_t)src[i].id : desc_key(src[i].logit);
            dst[hist[(k >> shift) & 2047]++] = src[i];
        }
        cand *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

/* ---- lifecycle -------------------------------------------------------------- */

tg_sampler_params tg_sampler_defaults(void) {
    return (tg_sampler_params){
        .temperature = 0.8f,
        .top_k = 40,
        .top_p = 0.95f,
        .min_p = 0.05f,
        .repeat_penalty = 1.0f,
        .repeat_last_n = 64,
        .presence_penalty = 0.0f,
        .frequency_penalty = 0.0f,
        .seed = TG_SEED_RANDOM,
        .n_logprobs = 0,
    };
}

static tg_status check_params(const tg_sampler_params *p, int32_t n_vocab) {
    if (n_vocab <= 0)
        return tg__fail(TG_ERR_ARG, "sampler: n_vocab must be positive (got %d)", n_vocab);
    if (isnan(p->temperature))
        return tg__fail(TG_ERR_ARG, "sampler: temperature is NaN");
    if (!(p->top_p >= 0.0f))
        return tg__fail(TG_ERR_ARG, "sampler: top_p must be >= 0 (got %g)", (double)p->top_p);
    if (!(p->min_p >= 0.0f && p->min_p <= 1.0f))
        return tg__fail(TG_ERR_ARG, "sampler: min_p must be in [0, 1] (got %g)", (double)p->min_p);
    if (!(p->repeat_penalty > 0.0f) || isinf(p->repeat_penalty))
        return tg__fail(TG_ERR_ARG, "sampler: repeat_penalty must be a positive number (got %g)",
                        (double)p->repeat_penalty);
    if (p->repeat_last_n < -1)
        return tg__fail(TG_ERR_ARG, "sampler: repeat_last_n must be >= -1 (got %d)",
                        p->repeat_last_n);
    if (!isfinite(p->presence_penalty) || !isfinite(p->frequency_penalty))
        return tg__fail(TG_ERR_ARG, "sampler: presence and frequency penalties must be finite");
    if (p->n_logprobs < 0 || p->n_logprobs > n_vocab)
        return tg__fail(TG_ERR_ARG, "sampler: n_logprobs must be in [0, n_vocab = %d] (got %d)",
                        n_vocab, p->n_logprobs);
    return TG_OK;
}

tg_sampler *tg_sampler_new(const tg_sampler_params *p, int32_t n_vocab) {
    if (!p) {
        tg__fail(TG_ERR_ARG, "sampler: no parameters");
        return NULL;
    }
    if (check_params(p, n_vocab) != TG_OK)
        return NULL;
    tg_sampler *s = tg__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->par = *p;
    s->n_vocab = n_vocab;
    size_t nv = (size_t)n_vocab;
    s->cand = tg__calloc(nv, sizeof *s->cand);
    s->tmp = tg__calloc(nv, sizeof *s->tmp);
    s->work = tg__calloc(nv, sizeof *s->work);
    s->count = tg__calloc(nv, sizeof *s->count);
    bool ok = s->cand && s->tmp && s->work && s->count;
    if (ok && p->repeat_last_n > 0) {
        s->ring_cap = (size_t)p->repeat_last_n;
        ok = (s->ring = tg__calloc(s->ring_cap, sizeof *s->ring)) != NULL;
    } else if (ok && p->repeat_last_n < 0) {
        ok = (s->distinct = tg__calloc(nv, sizeof *s->distinct)) != NULL;
    }
    if (ok && p->n_logprobs > 0) {
        s->lp_heap = tg__calloc((size_t)p->n_logprobs, sizeof *s->lp_heap);
        s->top = tg__calloc((size_t)p->n_logprobs, sizeof *s->top);
        ok = s->lp_heap && s->top;
    }
    if (!ok) {
        tg_sampler_free(s);
        return NULL;
    }
    reseed(s);
    return s;
}

void tg_sampler_free(tg_sampler *s) {
    if (!s)
        return;
    free(s->cand);
    free(s->tmp);
    free(s->work);
    free(s->count);
    free(s->ring);
    free(s->distinct);
    free(s->lp_heap);
    free(s->top);
    free(s);
}

void tg_sampler_reset(tg_sampler *s) {
    if (!s)
        return;
    /* Clear only the counts the history touched: O(history), not O(vocab). */
    for (size_t i = 0; i < s->ring_len; i++)
        s->count[s->ring[(s->ring_head + i) % s->ring_cap]] = 0;
    for (size_t i = 0; i < s->n_distinct; i++)
        s->count[s->distinct[i]] = 0;
    s->ring_head = s->ring_len = s->n_distinct = 0;
    reseed(s);
}

uint64_t tg_sampler_seed(const tg_sampler *s) {
    return s ? s->seed : 0;
}

tg_status tg_sampler_set_hook(tg_sampler *s, tg_logit_hook fn, void *user) {
    if (!s)
        return tg__fail(TG_ERR_ARG, "sampler: NULL sampler");
    s->hook = fn;
    s->hook_user = user;
    return TG_OK;
}

void tg_sampler_set_allowed(tg_sampler *s, const uint32_t *bits) {
    if (s)
        s->allowed = bits;
}

/* ---- penalties ---------------------------------------------------------------- */

tg_status tg_sampler_accept(tg_sampler *s, tg_token t) {
    if (!s)
        return tg__fail(TG_ERR_ARG, "sampler: NULL sampler");
    if (t < 0 || t >= s->n_vocab)
        return tg__fail(TG_ERR_ARG, "sampler: token %d is outside the vocabulary (%d tokens)", t,
                        s->n_vocab);
    if (s->par.repeat_last_n == 0)
        return TG_OK;
    if (s->par.repeat_last_n < 0) {
        if (s->count[t]++ == 0)
            s->distinct[s->n_distinct++] = t;
        return TG_OK;
    }
    if (s->ring_len == s->ring_cap) { /* the oldest token leaves the window */
        s->count[s->ring[s->ring_head]]--;
        s->ring[s->ring_head] = t;
        s->ring_head = (s->ring_head + 1) % s->ring_cap;
    } else {
        s->ring[(s->ring_head + s->ring_len) % s->ring_cap] = t;
        s->ring_len++;
    }
    s->count[t]++;
    return TG_OK;
}

/* llama.cpp's penalty for a token seen `c` times in the window: the repetition
 * penalty pushes the logit towards "less likely" whatever its sign (multiply a
 * negative logit, divide a positive one), then the OpenAI-style frequency and
 * presence terms are subtracted.  Float arithmetic in the same order. */
static inline float penalize(float logit, int32_t c, const tg_sampler_params *p) {
    if (logit <= 0.0f)
        logit *= p->repeat_penalty;
    else
        logit /= p->repeat_penalty;
    return logit - ((float)c * p->frequency_penalty + (float)(c > 0) * p->presence_penalty);
}

static bool penalties_active(const tg_sampler_params *p) {
    return p->repeat_last_n != 0 &&
           (p->repeat_penalty != 1.0f || p->frequency_penalty != 0.0f || p->presence_penalty != 0.0f);
}

/* Applies the penalties to a row of n_vocab logits.  Each distinct token is
 * penalised once: a finite window may hold it several times, so its count is
 * negated once handled and restored afterwards (no "seen" array needed). */
static void apply_penalties(tg_sampler *s, float *l) {
    const tg_sampler_params *p = &s->par;
    if (p->repeat_last_n < 0) {
        for (size_t i = 0; i < s->n_distinct; i++) {
            int32_t t = s->distinct[i];
            l[t] = penalize(l[t], s->count[t], p);
        }
        return;
    }
    for (size_t i = 0; i < s->ring_len; i++) {
        int32_t t = s->ring[(s->ring_head + i) % s->ring_cap];
        if (s->count[t] > 0) {
            l[t] = penalize(l[t], s->count[t], p);
            s->count[t] = -s->count[t];
        }
    }
    for (size_t i = 0; i < s->ring_len; i++) {
        int32_t t = s->ring[(s->ring_head + i) % s->ring_cap];
        if (s->count[t] < 0)
            s->count[t] = -s->count[t];
    }
}

/* ---- the filters -------------------------------------------------------------- */

/* top-p (nucleus): the smallest best-first prefix whose probability mass
 * reaches p, probabilities from a float softmax over the current candidates
 * (summed in the array's order, as llama.cpp does).  Sorting is lazy: the best
 * 256 first, everything only if they do not reach p.  Returns the new count. */
static size_t top_p_filter(cand *c, cand *tmp, size_t n, bool sorted, float top_p) {
    float max_l = c[0].logit;
    for (size_t i = 1; i < n; i++)
        max_l = c[i].logit > max_l ? c[i].logit : max_l;
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++)
        sum += expf(c[i].logit - max_l);
    size_t have = n;
    if (!sorted) {
        have = n < 256 ? n : 256;
        select_top(c, n, have);
    }
    float cum = 0.0f;
    for (size_t i = 0; i < n; i++) {
        if (i == have) { /* the best 256 were not enough: sort them all */
            sort_desc(c, tmp, n);
            have = n;
        }
        cum += expf(c[i].logit - max_l) / sum;
        if (cum >= top_p)
            return i + 1;
    }
    return n;
}

/* min-p: keeps the tokens whose probability is at least min_p times the best
 * one's, i.e. logit >= max + log(min_p).  Keeps the order. */
static size_t min_p_filter(cand *c, size_t n, float min_p) {
    float max_l = c[0].logit;
    for (size_t i = 1; i < n; i++)
        max_l = c[i].logit > max_l ? c[i].logit : max_l;
    const float min_logit = max_l + logf(min_p);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].logit >= min_logit)
            c[m++] = c[i];
    return m;
}

/* The draw: softmax (float exponentials, double sum) and the first candidate
 * at which the running mass exceeds u × total, u uniform in [0, 1). */
static size_t draw(tg_sampler *s, const cand *c, size_t n) {
    const double u = rng_uniform(s->rng); /* one draw per sample, even if n == 1 */
    float max_l = c[0].logit;
    for (size_t i = 1; i < n; i++)
        max_l = c[i].logit > max_l ? c[i].logit : max_l;
    float *e = s->work;
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        total += (e[i] = expf(c[i].logit - max_l));
    const double target = total * u;
    /* Strictly greater: a candidate whose probability underflowed to 0 can
     * never be chosen, not even by u == 0. */
    double run = 0.0;
    size_t last = 0;
    for (size_t i = 0; i < n; i++) {
        run += e[i];
        if (run > target)
            return i;
        if (e[i] > 0.0f)
            last = i;
    }
    return last; /* rounding left the target just out of reach */
}

/* Log-softmax of the raw logits at the chosen token, and the n_logprobs best
 * raw logits (bounded heap).  NaN logits count as -inf. */
static void fill_info(tg_sampler *s, const float *logits, tg_token tok, size_t n_cand,
                      tg_sample_info *info) {
    const int32_t nv = s->n_vocab;
    float max_l = -INFINITY;
    for (int32_t i = 0; i < nv; i++)
        if (logits[i] > max_l)
            max_l = logits[i];
    double sum = 0.0;
    if (isfinite(max_l))
        for (int32_t i = 0; i < nv; i++)
            if (logits[i] > -INFINITY) /* false for NaN */
                sum += expf(logits[i] - max_l);
    /* Degenerate rows (all -inf/NaN, or a +inf) cannot normalise; the chosen
     * token then gets 0 and the others -inf. */
    const double log_z = isfinite(max_l) ? (double)max_l + log(sum) : 0.0;
#define LOGPROB(l)                                                                             \
    (isfinite(max_l) ? ((l) > -INFINITY ? (float)((double)(l) - log_z) : -INFINITY)            \
                     : ((l) == max_l ? 0.0f : -INFINITY))
    info->token = tok;
    info->logprob = LOGPROB(logits[tok]);
    info->n_candidates = (int32_t)n_cand;
    info->n_top = s->par.n_logprobs;
    info->top = s->top;
    const size_t k = (size_t)s->par.n_logprobs;
    if (k == 0)
        return;
    cand *h = s->lp_heap;
    for (size_t i = 0; i < k; i++)
        h[i] = (cand){(int32_t)i, isnan(logits[i]) ? -INFINITY : logits[i]};
    for (size_t i = k / 2; i-- > 0;)
        sift_down(h, k, i);
    for (int32_t i = (int32_t)k; i < nv; i++) {
        cand x = {i, isnan(logits[i]) ? -INFINITY : logits[i]};
        if (better(x, h[0])) {
            h[0] = x;
            sift_down(h, k, 0);
        }
    }
    select_top(h, k, k);
    for (size_t i = 0; i < k; i++)
        s->top[i] = (tg_logprob){h[i].id, LOGPROB(h[i].logit)};
#undef LOGPROB
}

/* top-k straight from the logits row, the common case: a heap of the k best
 * valid tokens in c[0, k) without first copying all n_vocab candidates out
 * (that copy and a second pass over it cost more than the selection).  The
 * row is scanned in id order, so a later token equal to the heap's worst is
 * never better than it: one float comparison decides.  Returns how many were
 * kept (fewer than k if fewer tokens are valid), sorted best first, and
 * whether a +inf logit was seen (the caller then takes the general path). */
static size_t stream_top_k(const float *src, const uint32_t *allowed, int32_t nv, size_t k,
                           cand *c, bool *pos_inf) {
    size_t m = 0;
    int32_t i = 0;
    for (; i < nv && m < k; i++) {
        if (allowed && !(allowed[i >> 5] >> (i & 31) & 1u))
            continue;
        float l = src[i];
        if (!(l > -INFINITY))
            continue;
        *pos_inf |= l == INFINITY;
        c[m++] = (cand){i, l + 0.0f};
    }
    if (m < k) {
        select_top(c, m, m);
        return m;
    }
    heapify(c, k);
    float worst = c[0].logit;
    for (; i < nv; i++) {
        float l = src[i];
        if (!(l > worst)) /* also false for NaN */
            continue;
        if (allowed && !(allowed[i >> 5] >> (i & 31) & 1u))
            continue;
        *pos_inf |= l == INFINITY;
        c[0] = (cand){i, l + 0.0f};
        sift_down(c, k, 0);
        worst = c[0].logit;
    }
    heap_to_sorted(c, k);
    return k;
}

/* Runs everything but the draw: leaves the final candidates (logits divided
 * by the temperature) in s->cand[0, n) and returns n; for greedy sampling the
 * single best token.  0 (with a message) if no token can be picked. */
static size_t run_filters(tg_sampler *s, const float *logits) {
    const tg_sampler_params *p = &s->par;
    const int32_t nv = s->n_vocab;
    const uint32_t *allowed = s->allowed;
    const float *src = logits;
    if (s->hook) {
        memcpy(s->work, logits, (size_t)nv * sizeof *s->work);
        s->hook(s->hook_user, s->work, nv);
        src = s->work;
    }
    if (penalties_active(p) && (s->ring_len || s->n_distinct)) {
        if (src != s->work)
            memcpy(s->work, src, (size_t)nv * sizeof *s->work);
        apply_penalties(s, s->work);
        src = s->work;
    }
    cand *c = s->cand;

    if (p->temperature <= 0.0f) {
        /* Greedy: no filter can remove the best token, so skip them.  Strict
         * ">" keeps the lowest id among equals, and never takes NaN or -inf. */
        int32_t best = -1;
        float best_l = -INFINITY;
        for (int32_t i = 0; i < nv; i++) {
            if (!(src[i] > best_l))
                continue;
            if (allowed && !(allowed[i >> 5] >> (i & 31) & 1u))
                continue;
            best_l = src[i];
            best = i;
        }
        if (best < 0) {
            tg__fail(TG_ERR_RANGE, "sampler: no token can be sampled (all masked out, -inf or NaN)");
            return 0;
        }
        c[0] = (cand){best, best_l};
        return 1;
    }

    size_t n = 0;
    bool pos_inf = false, sorted = false;
    if (p->top_k > 0 && p->top_k <= 4096) {
        n = stream_top_k(src, allowed, nv, (size_t)p->top_k, c, &pos_inf);
        sorted = true;
        if (n == 0)
            goto none;
        if (!pos_inf)
            goto top_p;
        n = 0; /* +inf: take the general path below */
    }

    /* The tokens that can be picked at all, in id order.  "+ 0.0f" turns
     * -0.0 into 0.0, which the sort's bit keys would otherwise tell apart. */
    sorted = false;
    for (int32_t i = 0; i < nv; i++) {
        if (allowed && !(allowed[i >> 5] >> (i & 31) & 1u))
            continue;
        float l = src[i];
        if (!(l > -INFINITY)) /* -inf or NaN */
            continue;
        pos_inf |= l == INFINITY;
        c[n++] = (cand){i, l + 0.0f};
    }
    if (n == 0) {
    none:
        tg__fail(TG_ERR_RANGE, "sampler: no token can be sampled (all masked out, -inf or NaN)");
        return 0;
    }
    if (pos_inf) {
        /* +inf beats everything and the softmax of it is NaN: choose evenly
         * among the +inf tokens. */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (c[i].logit == INFINITY)
                c[m++] = (cand){c[i].id, 0.0f};
        n = m;
    }

    if (p->top_k > 0 && (size_t)p->top_k < n) {
        /* A bounded heap for the usual small k; a full sort when k is so
         * large that O(n log k) would lose to it. */
        if (p->top_k <= 4096)
            select_top(c, n, (size_t)p->top_k);
        else
            sort_desc(c, s->tmp, n);
        n = (size_t)p->top_k;
        sorted = true;
    }
top_p:
    if (p->top_p < 1.0f && n > 1) {
        n = top_p_filter(c, s->tmp, n, sorted, p->top_p);
        sorted = true;
    }
    if (p->min_p > 0.0f && n > 1)
        n = min_p_filter(c, n, p->min_p);
    if (p->temperature != 1.0f)
        for (size_t i = 0; i < n; i++)
            c[i].logit /= p->temperature;
    return n;
}

tg_token tg_sampler_sample(tg_sampler *s, const float *logits, tg_sample_info *info) {
    if (!s || !logits) {
        tg__fail(TG_ERR_ARG, "sampler: NULL sampler or logits");
        return -1;
    }
    size_t n = run_filters(s, logits);
    if (n == 0)
        return -1;
    size_t pick = s->par.temperature <= 0.0f ? 0 : draw(s, s->cand, n);
    tg_token tok = s->cand[pick].id;
    if (info)
        fill_info(s, logits, tok, n, info);
    return tok;
}

size_t tg__sampler_candidates(tg_sampler *s, const float *logits, int32_t *ids, float *out) {
    if (!s || !logits) {
        tg__fail(TG_ERR_ARG, "sampler: NULL sampler or logits");
        return 0;
    }
    size_t n = run_filters(s, logits);
    for (size_t i = 0; i < n; i++) {
        if (ids)
            ids[i] = s->cand[i].id;
        if (out)
            out[i] = s->cand[i].logit;
    }
    return n;
}
