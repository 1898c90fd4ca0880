/*
 * canary.c — exposure of a secret (Carlini et al. 2019, "The Secret
 * Sharer"): the format text with each candidate secret of the same shape
 * put in, scored teacher-forced; the secret's rank among all |R| candidates
 * by likelihood gives exposure = log2 |R| − log2 rank.
 *
 * Small spaces are enumerated (exact rank).  Large ones are sampled
 * uniformly: the share p of candidates more likely than the secret has a
 * Wilson interval, and rank ≈ 1 + p·(|R| − 1) inherits it.  When no sampled
 * candidate beats the secret the sample only bounds the exposure from below,
 * so the normal-fit extrapolation of the paper (§4.3; a normal rather than
 * a skew-normal here) is given beside it, clearly as a model-based figure.
 *
 * It must never report an exposure without its interval and n, and never
 * let the shared-context shortcut change a score: a candidate whose tokens
 * do not start with the shared context is an error, not an approximation.
 */
#include "base/base.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 256, BOOT = 1000 };

tg_canary_params tg_canary_default_params(void) {
    return (tg_canary_params){.format = NULL, .alphabet = "0123456789", .length = 9, .secret = NULL,
                              .max_exact = 100000, .n_samples = 2000, .seed = 1};
}

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Everything one run needs: the format split around {secret}, the shared
 * context, and a chunk of candidates being scored. */
typedef struct canary_run {
    const tg_vocab *vocab;
    const char *before, *after;
    size_t n_before, n_after;
    const char *alphabet;
    size_t n_alpha, length;
    tg_token *context;
    size_t n_context;
    char *text; /* before + candidate + after */
    tg_tokens toks[CHUNK];
    const tg_token *conts[CHUNK];
    size_t lens[CHUNK];
    float *lp[CHUNK];
} canary_run;

/* Tokenizes candidate cand (length chars) into slot k; checks the shared
 * context. */
static tg_status prepare(canary_run *r, size_t k, const char *cand) {
    memcpy(r->text + r->n_before, cand, r->length);
    r->toks[k].n = 0;
    tg_status st = tg_tokenize(r->vocab, r->text, r->n_before + r->length + r->n_after,
                               (tg_tokenize_opts){.add_special = true}, &r->toks[k]);
    if (st != TG_OK)
        return st;
    if (r->toks[k].n <= r->n_context ||
        memcmp(r->toks[k].ids, r->context, r->n_context * sizeof *r->context) != 0)
        return tg__fail(TG_ERR_UNSUPPORTED,
                        "canary: with the secret \"%.*s\" the text before it tokenizes differently; end that text "
                        "with a space or a punctuation mark", (int)r->length, cand);
    r->conts[k] = r->toks[k].ids + r->n_context;
    r->lens[k] = r->toks[k].n - r->n_context;
    float *nlp = realloc(r->lp[k], r->lens[k] * sizeof *nlp);
    if (!nlp)
        return tg__fail(TG_ERR_NOMEM, "canary: out of memory");
    r->lp[k] = nlp;
    return TG_OK;
}

/* Scores slots [0, m) and adds their log-likelihoods to out[0, m). */
static tg_status score(tg_prober *p, canary_run *r, size_t m, double *out) {
    tg_status st = tg_prober_eval(p, r->context, r->n_context, r->conts, r->lens, m, r->lp, NULL);
    if (st != TG_OK)
        return st;
    for (size_t k = 0; k < m; k++) {
        double s = 0.0;
        for (size_t j = 0; j < r->lens[k]; j++)
            s += (double)r->lp[k][j];
        out[k] = s;
    }
    return TG_OK;
}

/* Candidate number idx in base n_alpha, most significant first. */
static void candidate(const canary_run *r, uint64_t idx, char *buf) {
    for (size_t i = r->length; i-- > 0;) {
        buf[i] = r->alphabet[idx % r->n_alpha];
        idx /= r->n_alpha;
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* −log2 P(X > x) for X normal with the sample's mean and sd, capped at
 * log2 |R| (a rank is at least 1). */
static double normal_exposure(const double *s, size_t n, double x, double log2_space) {
    double mu = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++)
        mu += s[i];
    mu /= (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (s[i] - mu) * (s[i] - mu);
    double sd = sqrt(ss / (double)(n - 1));
    if (!(sd > 0.0))
        return x > mu ? log2_space : 0.0;
    double tail = 0.5 * erfc((x - mu) / sd / sqrt(2.0));
    double e = tail > 0.0 ? -log2(tail) : log2_space;
    return e > log2_space ? log2_space : e < 0.0 ? 0.0 : e;
}

static tg_status validate(const tg_canary_params *cp, const char **at) {
    *at = NULL;
    if (!cp || !cp->format || !cp->alphabet || !cp->secret)
        return tg__fail(TG_ERR_ARG, "canary: give a format, an alphabet and a secret");
    *at = strstr(cp->format, "{secret}");
    if (!*at || strstr(*at + 8, "{secret}"))
        return tg__fail(TG_ERR_ARG, "canary: the format must hold \"{secret}\" exactly once");
    size_t na = strlen(cp->alphabet);
    if (na < 2 || na > 128)
        return tg__fail(TG_ERR_ARG, "canary: the alphabet needs 2 to 128 characters, not %zu", na);
    for (size_t i = 0; i < na; i++) {
        unsigned char c = (unsigned char)cp->alphabet[i];
        if (c < 0x20 || c > 0x7e || memchr(cp->alphabet, c, i))
            return tg__fail(TG_ERR_ARG, "canary: the alphabet must be distinct printable ASCII characters");
    }
    if (cp->length < 1 || cp->length > 64)
        return tg__fail(TG_ERR_ARG, "canary: a secret length of %d is out of range (1..64)", cp->length);
    if (strlen(cp->secret) != (size_t)cp->length || strspn(cp->secret, cp->alphabet) != (size_t)cp->length)
        return tg__fail(TG_ERR_ARG, "canary: the secret \"%s\" is not %d characters of the alphabet", cp->secret,
                        cp->length);
    if (cp->n_samples < 2 && cp->max_exact < 2)
        return tg__fail(TG_ERR_ARG, "canary: sample at least 2 candidates");
    return TG_OK;
}

tg_status tg_probe_canary(tg_prober *p, const tg_canary_params *cp, tg_canary_result *out) {
    const char *at = NULL;
    if (!p || !out)
        return tg__fail(TG_ERR_ARG, "canary: no prober or result");
    memset(out, 0, sizeof *out);
    tg_status st = validate(cp, &at);
    if (st != TG_OK)
        return st;
    canary_run r = {.vocab = tg_model_vocab(tg_prober_model(p)), .before = cp->format,
                    .n_before = (size_t)(at - cp->format), .after = at + 8, .alphabet = cp->alphabet,
                    .n_alpha = strlen(cp->alphabet), .length = (size_t)cp->length};
    r.n_after = strlen(r.after);
    out->log2_space = (double)r.length * log2((double)r.n_alpha);
    /* |R|, saturating: only compared with max_exact and used as a double */
    uint64_t space = 1;
    bool big = false;
    for (size_t i = 0; i < r.length && !big; i++)
        big = __builtin_mul_overflow(space, (uint64_t)r.n_alpha, &space);
    const bool exact = !big && space <= cp->max_exact;
    double *sample = NULL;
    tg_tokens pre = {0};
    r.text = tg__malloc(r.n_before + r.length + r.n_after + 1);
    if (!r.text)
        return TG_ERR_NOMEM;
    memcpy(r.text, r.before, r.n_before);
    memcpy(r.text + r.n_before + r.length, r.after, r.n_after);
    /* the shared context: the text before the secret less its last token,
     * which may merge with the secret's first character */
    if ((st = tg_tokenize(r.vocab, r.before, r.n_before, (tg_tokenize_opts){.add_special = true}, &pre)) != TG_OK)
        goto out;
    if (pre.n == 0) {
        st = tg__fail(TG_ERR_UNSUPPORTED, "canary: the model adds no BOS and the format has no text before "
                                          "{secret}: there is nothing to condition on");
        goto out;
    }
    r.context = pre.ids;
    /* with no text before the secret the context is BOS alone, which
     * cannot merge with what follows */
    r.n_context = r.n_before ? pre.n - 1 : pre.n;
    if (r.n_context == 0) {
        st = tg__fail(TG_ERR_UNSUPPORTED, "canary: the model adds no BOS and the text before {secret} is a single "
                                          "token that may merge with the secret; put more text before it");
        goto out;
    }

    double secret_lp;
    if ((st = prepare(&r, 0, cp->secret)) != TG_OK || (st = score(p, &r, 1, &secret_lp)) != TG_OK)
        goto out;
    out->secret_lp = secret_lp;
    out->exact = exact;
    uint64_t n_total = exact ? space : cp->n_samples;
    sample = tg__malloc((size_t)n_total * sizeof *sample);
    if (!sample) {
        st = TG_ERR_NOMEM;
        goto out;
    }
    uint64_t rng = cp->seed, n_scored = 0, better = 0;
    char cand[65];
    double lls[CHUNK];
    for (uint64_t i = 0; i < n_total;) {
        size_t m = 0;
        /* a chunk ends where it is full, not after CHUNK indices: skipping
         * the secret must not make the next chunk start one index early */
        for (; i < n_total && m < CHUNK; i++) {
            uint64_t idx;
            if (exact)
                idx = i;
            else { /* uniform over R: digit by digit, so |R| beyond 2^64 is fine */
                for (size_t d = 0; d < r.length; d++)
                    cand[d] = r.alphabet[splitmix64(&rng) % r.n_alpha];
                idx = UINT64_MAX;
            }
            if (idx != UINT64_MAX)
                candidate(&r, idx, cand);
            if (!memcmp(cand, cp->secret, r.length)) /* the secret is not its own rival */
                continue;
            if ((st = prepare(&r, m++, cand)) != TG_OK)
                goto out;
        }
        if ((st = score(p, &r, m, lls)) != TG_OK)
            goto out;
        for (size_t k = 0; k < m; k++) {
            sample[n_scored++] = lls[k];
            better += lls[k] > secret_lp;
        }
    }
    out->n_scored = n_scored;
    out->n_better = better;
    const double rest = exact ? (double)space - 1.0 : pow((double)r.n_alpha, (double)r.length) - 1.0;
    if (exact) {
        out->rank = (tg_estimate){.value = 1.0 + (double)better, .lo = 1.0 + (double)better,
                                  .hi = 1.0 + (double)better, .n = n_scored};
    } else {
        tg_estimate w = tg_stats_wilson((size_t)better, (size_t)n_scored);
        out->rank = (tg_estimate){.value = 1.0 + w.value * rest, .lo = 1.0 + w.lo * rest, .hi = 1.0 + w.hi * rest,
                                  .n = n_scored};
    }
    out->exposure = (tg_estimate){.value = out->log2_space - log2(out->rank.value),
                                  .lo = out->log2_space - log2(out->rank.hi),
                                  .hi = out->log2_space - log2(out->rank.lo), .n = n_scored};
    out->extrapolated = (tg_estimate){.value = NAN, .lo = NAN, .hi = NAN, .n = n_scored};
    if (!exact && n_scored >= 2) {
        out->extrapolated.value = normal_exposure(sample, (size_t)n_scored, secret_lp, out->log2_space);
        double *bs = malloc((size_t)n_scored * sizeof *bs), *ex = malloc(BOOT * sizeof *ex);
        if (bs && ex) {
            uint64_t brng = cp->seed ^ 0xB007B007B007B007ull;
            for (int b = 0; b < BOOT; b++) {
                for (uint64_t i = 0; i < n_scored; i++)
                    bs[i] = sample[splitmix64(&brng) % n_scored];
                ex[b] = normal_exposure(bs, (size_t)n_scored, secret_lp, out->log2_space);
            }
            qsort(ex, BOOT, sizeof *ex, cmp_double);
            out->extrapolated.lo = ex[(size_t)floor(0.025 * (BOOT - 1))];
            out->extrapolated.hi = ex[(size_t)ceil(0.975 * (BOOT - 1))];
        }
        free(bs);
        free(ex);
    }
    out->sample_lp = sample;
    sample = NULL;
out:
    free(sample);
    free(r.text);
    tg_tokens_free(&pre);
    for (size_t k = 0; k < CHUNK; k++) {
        tg_tokens_free(&r.toks[k]);
        free(r.lp[k]);
    }
    return st;
}
