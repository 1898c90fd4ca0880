/*
 * superpose.c — the superposition experiment of the blog post "Chocolatada
 * informacional": does the sum u + v of two embeddings still encode both?
 *
 * For a set of N unit vectors (the candidates) and a k: draw k distinct
 * members, add them up, rank all N candidates by their dot product with the
 * sum (= cosine ranking, the candidates being unit vectors), and count how
 * many of the k members are among the k best.  Over `trials` draws that
 * gives
 *   recall — the fraction of members recovered (Wilson interval over the
 *            k·trials members; members of one draw are not independent, so
 *            the interval is somewhat too narrow for large k), and
 *   exact  — the fraction of draws in which all k came back (Wilson over the
 *            draws, which are independent).
 * The baseline draws N random Gaussian vectors of a given dimension (then
 * normalised): in one dimension a sum says almost nothing, in thousands it
 * says nearly everything.  The SVG plot is written by hand (no library):
 * recall against k on a log2 axis, one line per series, the interval as
 * whiskers on the highlighted series.
 *
 * Deterministic for a seed (splitmix64).  Never allocates per trial.
 */
#include "base/base.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias. */
static size_t below(uint64_t *s, size_t n) {
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
    do
        x = next(s);
    while (x >= lim);
    return (size_t)(x % n);
}

tg_status tg_superpose(const float *vecs, size_t n, int32_t dim, const int32_t *ks, size_t n_ks, int32_t trials,
                       uint64_t seed, tg_superpose_result *out) {
    if (!vecs || !ks || !out || n < 2 || dim < 1 || trials < 1)
        return tg__fail(TG_ERR_ARG, "superpose: need at least 2 vectors, a dimension, k values and trials");
    for (size_t i = 0; i < n_ks; i++)
        if (ks[i] < 1 || (size_t)ks[i] >= n)
            return tg__fail(TG_ERR_ARG, "superpose: k = %d must be within 1..%zu (fewer than the vectors)", ks[i],
                            n - 1);
    size_t *perm = tg__malloc(n * sizeof *perm);
    double *sum = tg__malloc((size_t)dim * sizeof *sum);
    float *score = tg__malloc(n * sizeof *score);
    if (!perm || !sum || !score) {
        free(perm), free(sum), free(score);
        return TG_ERR_NOMEM;
    }
    uint64_t rng = seed;
    for (size_t ki = 0; ki < n_ks; ki++) {
        const size_t k = (size_t)ks[ki];
        size_t hits = 0, exact = 0;
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
        for (int32_t t = 0; t < trials; t++) {
            /* the first k of a partial Fisher–Yates shuffle are the members */
            for (size_t i = 0; i < k; i++) {
                size_t j = i + below(&rng, n - i), x = perm[i];
                perm[i] = perm[j], perm[j] = x;
            }
            for (int32_t d = 0; d < dim; d++)
                sum[d] = 0;
            for (size_t i = 0; i < k; i++)
                for (int32_t d = 0; d < dim; d++)
                    sum[d] += vecs[perm[i] * (size_t)dim + (size_t)d];
            for (size_t c = 0; c < n; c++) {
                double s = 0;
                const float *v = vecs + c * (size_t)dim;
                for (int32_t d = 0; d < dim; d++)
                    s += sum[d] * v[d];
                score[c] = (float)s;
            }
            /* a member is recovered when fewer than k candidates beat it */
            size_t got = 0;
            for (size_t i = 0; i < k; i++) {
                const float sm = score[perm[i]];
                size_t better = 0;
                for (size_t c = 0; c < n && better < k; c++)
                    better += score[c] > sm;
                got += better < k;
            }
            hits += got;
            exact += got == k;
        }
        out[ki].k = (int32_t)k;
        out[ki].recall = tg_stats_wilson(hits, k * (size_t)trials);
        out[ki].exact = tg_stats_wilson(exact, (size_t)trials);
    }
    free(perm);
    free(sum);
    free(score);
    return TG_OK;
}

tg_status tg_superpose_gaussian(size_t n, int32_t dim, const int32_t *ks, size_t n_ks, int32_t trials,
                                uint64_t seed, tg_superpose_result *out) {
    size_t count;
    if (dim < 1 || dim > (1 << 20) || !tg__mul_size(n, (size_t)dim, &count))
        return tg__fail(TG_ERR_ARG, "superpose: bad dimension %d", dim);
    float *v = tg__malloc(count * sizeof *v);
    if (!v)
        return TG_ERR_NOMEM;
    uint64_t rng = seed ^ ((uint64_t)dim << 32);
    for (size_t i = 0; i < n; i++) {
        double norm = 0;
        for (int32_t d = 0; d < dim; d++) { /* Box–Muller */
            double u1 = ((double)(next(&rng) >> 11) + 0.5) * 0x1p-53, u2 = (double)(next(&rng) >> 11) * 0x1p-53;
            double g = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
            v[i * (size_t)dim + (size_t)d] = (float)g;
            norm += g * g;
        }
        for (int32_t d = 0; d < dim; d++)
            v[i * (size_t)dim + (size_t)d] = (float)(v[i * (size_t)dim + (size_t)d] / sqrt(norm));
    }
    tg_status s = tg_superpose(v, n, dim, ks, n_ks, trials, seed, out);
    free(v);
    return s;
}

/* ---- the plot -------------------------------------------------------------------- */

static void xml_text(FILE *f, const char *s) {
    for (; s && *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
}

tg_status tg_superpose_svg(const char *path, const char *title, const tg_superpose_series *series, size_t n_series) {
    if (!path || !series || !n_series)
        return tg__fail(TG_ERR_ARG, "superpose_svg: nothing to plot");
    int32_t kmax = 1;
    for (size_t s = 0; s < n_series; s++)
        for (size_t i = 0; i < series[s].n; i++)
            kmax = TG_MAX(kmax, series[s].r[i].k);
    FILE *f = fopen(path, "w");
    if (!f)
        return tg__fail(TG_ERR_IO, "%s: cannot write", path);
    const double W = 800, Hh = 480, L = 70, R = 230, T = 50, B = 60;
    const double pw = W - L - R, ph = Hh - T - B, lx = log2((double)kmax > 1 ? kmax : 2);
#define X(k) (L + pw * (log2((double)(k)) / lx))
#define Y(v) (T + ph * (1.0 - (v)))
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", W, Hh);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"%.0f\" y=\"28\" "
               "font-size=\"15\">", L);
    xml_text(f, title);
    fputs("</text>\n", f);
    for (int g = 0; g <= 10; g++) { /* y grid: recall 0..1 */
        double y = Y(g / 10.0);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n",
                L, y, L + pw, y, L - 6, y + 4, g / 10.0);
    }
    for (int32_t k = 1; k <= kmax; k *= 2) { /* x grid: powers of two */
        double x = X(k);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n",
                x, T, x, T + ph, x, T + ph + 18, k);
    }
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#333\"/>\n", L, T,
            pw, ph);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">k, vectors added up (log scale)</text>\n",
            L + pw / 2, Hh - 18);
    fprintf(f, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">"
               "fraction of the k recovered as the k nearest</text>\n", T + ph / 2);
    for (size_t s = 0; s < n_series; s++) {
        const tg_superpose_series *se = &series[s];
        /* Gaussian series from light to dark blue; highlighted ones in red */
        char color[16];
        if (se->highlight)
            snprintf(color, sizeof color, "#c0392b");
        else {
            int shade = n_series > 1 ? (int)(200 - 170 * (double)s / (double)(n_series - 1)) : 120;
            snprintf(color, sizeof color, "#%02x%02xff", shade / 2, shade);
        }
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" points=\"", color,
                se->highlight ? "3" : "1.5");
        for (size_t i = 0; i < se->n; i++)
            fprintf(f, "%.1f,%.1f ", X(se->r[i].k), Y(se->r[i].recall.value));
        fputs("\"/>\n", f);
        for (size_t i = 0; se->highlight && i < se->n; i++) {
            double x = X(se->r[i].k);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
                       "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                    x, Y(se->r[i].recall.lo), x, Y(se->r[i].recall.hi), color, x, Y(se->r[i].recall.value), color);
        }
        double ly = T + 14 + 18.0 * (double)s;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%s\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\">",
                L + pw + 12, ly, L + pw + 36, ly, color, se->highlight ? "3" : "1.5", L + pw + 42, ly + 4);
        xml_text(f, se->label);
        fputs("</text>\n", f);
    }
#undef X
#undef Y
    fputs("</svg>\n", f);
    bool bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return tg__fail(TG_ERR_IO, "%s: write failed", path);
    return TG_OK;
}
