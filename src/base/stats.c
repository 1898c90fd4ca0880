/*
 * stats.c — mean, median, bootstrap and Wilson intervals (declared in
 * tinglado.h): the one statistics module bench, meter, probe and perplexity
 * share.
 *
 * The bootstrap uses its own splitmix64 generator so a seed gives the same
 * interval on every machine; allocation is per call (these run after a
 * measurement, never inside one).
 */
#include "base/base.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define Z95 1.959963984540054

tg_estimate tg_stats_mean(const double *x, size_t n) {
    tg_estimate e = {.n = n};
    if (n == 0)
        return e;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    e.value = sum / (double)n;
    e.lo = e.hi = e.value;
    if (n < 2)
        return e;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - e.value) * (x[i] - e.value);
    double se = sqrt(ss / (double)(n - 1) / (double)n);
    e.lo = e.value - Z95 * se;
    e.hi = e.value + Z95 * se;
    return e;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_sorted(const double *s, size_t n) {
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

double tg_stats_median(const double *x, size_t n) {
    if (n == 0)
        return NAN;
    double *s = malloc(n * sizeof *s);
    if (!s)
        return NAN;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double m = median_sorted(s, n);
    free(s);
    return m;
}

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

tg_estimate tg_stats_median_boot(const double *x, size_t n, int resamples, uint64_t seed) {
    tg_estimate e = {.n = n, .value = tg_stats_median(x, n)};
    e.lo = e.hi = e.value;
    if (n < 2 || resamples < 10)
        return e;
    double *sample = malloc(n * sizeof *sample);
    double *meds = malloc((size_t)resamples * sizeof *meds);
    if (!sample || !meds) {
        free(sample);
        free(meds);
        return e;
    }
    uint64_t st = seed;
    for (int r = 0; r < resamples; r++) {
        for (size_t i = 0; i < n; i++)
            sample[i] = x[splitmix64(&st) % n];
        qsort(sample, n, sizeof *sample, cmp_double);
        meds[r] = median_sorted(sample, n);
    }
    qsort(meds, (size_t)resamples, sizeof *meds, cmp_double);
    /* percentile interval: the 2.5th and 97.5th percentiles */
    size_t lo = (size_t)floor(0.025 * (resamples - 1)), hi = (size_t)ceil(0.975 * (resamples - 1));
    e.lo = meds[lo];
    e.hi = meds[hi];
    free(sample);
    free(meds);
    return e;
}

tg_estimate tg_stats_wilson(size_t k, size_t n) {
    tg_estimate e = {.n = n};
    if (n == 0)
        return e;
    double p = (double)k / (double)n, z2 = Z95 * Z95, nn = (double)n;
    double denom = 1.0 + z2 / nn;
    double center = (p + z2 / (2.0 * nn)) / denom;
    double half = Z95 * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom;
    e.value = p;
    e.lo = center - half < 0.0 ? 0.0 : center - half;
    e.hi = center + half > 1.0 ? 1.0 : center + half;
    return e;
}

/* DeLong et al. (1988): each positive's share of negatives it beats (V10)
 * and each negative's share of positives that beat it (V01); the AUC is
 * their mean and its variance var(V10)/n_pos + var(V01)/n_neg.  Quadratic
 * in the set sizes, which is fine for the hundreds of texts it sees. */
tg_estimate tg_stats_auc(const double *pos, size_t n_pos, const double *neg, size_t n_neg) {
    tg_estimate e = {.n = n_pos + n_neg, .value = NAN, .lo = NAN, .hi = NAN};
    if (n_pos == 0 || n_neg == 0)
        return e;
    double *v10 = calloc(n_pos, sizeof *v10), *v01 = calloc(n_neg, sizeof *v01);
    if (!v10 || !v01) {
        free(v10);
        free(v01);
        return e;
    }
    for (size_t i = 0; i < n_pos; i++)
        for (size_t j = 0; j < n_neg; j++) {
            double psi = pos[i] > neg[j] ? 1.0 : pos[i] == neg[j] ? 0.5 : 0.0;
            v10[i] += psi;
            v01[j] += psi;
        }
    double auc = 0.0;
    for (size_t i = 0; i < n_pos; i++)
        auc += (v10[i] /= (double)n_neg);
    auc /= (double)n_pos;
    for (size_t j = 0; j < n_neg; j++)
        v01[j] /= (double)n_pos;
    double s10 = 0.0, s01 = 0.0;
    for (size_t i = 0; i < n_pos; i++)
        s10 += (v10[i] - auc) * (v10[i] - auc);
    for (size_t j = 0; j < n_neg; j++)
        s01 += (v01[j] - auc) * (v01[j] - auc);
    s10 = n_pos > 1 ? s10 / (double)(n_pos - 1) : 0.0;
    s01 = n_neg > 1 ? s01 / (double)(n_neg - 1) : 0.0;
    double se = sqrt(s10 / (double)n_pos + s01 / (double)n_neg);
    e.value = auc;
    e.lo = auc - Z95 * se < 0.0 ? 0.0 : auc - Z95 * se;
    e.hi = auc + Z95 * se > 1.0 ? 1.0 : auc + Z95 * se;
    free(v10);
    free(v01);
    return e;
}
