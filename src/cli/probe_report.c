/*
 * probe_report.c — the Markdown report of `tinglado probe` and its SVG plot
 * of the K-extractable fraction against the prefix length K (one line per
 * corpus, Wilson 95% intervals as whiskers), written by hand: a plot is a
 * few dozen SVG elements, not worth a dependency.
 *
 * Every figure it writes carries its n and, where it is an estimate, its
 * interval; it must never write a number the run did not measure.
 */
#include "cli/probe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const colours[] = {"#c0392b", "#2471a3", "#229954", "#7d3c98", "#b9770e", "#566573",
                                      "#17a589", "#a04000"};

/* x (K) and y (fraction) to pixels. */
enum { W = 640, H = 400, L = 70, R = 190, T = 40, B = 60 };
static double px(double k, double kmax) { return L + (W - L - R) * k / kmax; }
static double py(double f) { return T + (H - T - B) * (1.0 - f); }

static void xml_text(FILE *f, const char *s) {
    for (; *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
}

static int write_svg(const char *path, const probe_run *r) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "tinglado: probe: cannot write %s\n", path);
        return 1;
    }
    double kmax = 1;
    for (int k = 0; k < r->n_ks; k++)
        if ((double)r->ks[k] > kmax)
            kmax = (double)r->ks[k];
    kmax *= 1.1;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H);
    fprintf(f, "<text x=\"%d\" y=\"22\" font-size=\"14\">K-extractable fraction (M = %ld), Wilson 95%% "
               "intervals</text>\n", L, r->m);
    for (int i = 0; i <= 5; i++) { /* y grid */
        double y = py(i / 5.0);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, y, W - R, y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n", L - 6, y + 4, i / 5.0);
    }
    for (int k = 0; k < r->n_ks; k++) { /* x ticks at the measured K */
        double x = px((double)r->ks[k], kmax);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>\n", x, H - B, x, H - B + 5);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%ld</text>\n", x, H - B + 18, r->ks[k]);
    }
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, H - B, W - R, H - B);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T, L, H - B);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">prefix length K (tokens)</text>\n", (L + W - R) / 2,
            H - 18);
    fprintf(f, "<text transform=\"translate(18,%d) rotate(-90)\" text-anchor=\"middle\">fraction extractable"
               "</text>\n", (T + H - B) / 2);
    for (int c = 0; c < r->n_corpora; c++) {
        const char *col = colours[c % 8];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
        for (int k = 0; k < r->n_ks; k++)
            fprintf(f, "%.1f,%.1f ", px((double)r->ks[k], kmax), py(r->extract[c][k].value));
        fputs("\"/>\n", f);
        for (int k = 0; k < r->n_ks; k++) {
            const tg_estimate *e = &r->extract[c][k];
            double x = px((double)r->ks[k], kmax) + (c - (r->n_corpora - 1) / 2.0) * 4; /* dodge overlaps */
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", x, py(e->lo), x,
                    py(e->hi), col);
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>K=%ld: %.3f [%.3f, %.3f] n=%zu"
                       "</title></circle>\n", x, py(e->value), col, r->ks[k], e->value, e->lo, e->hi, e->n);
        }
        const char *name = strrchr(r->corpus_path[c], '/') ? strrchr(r->corpus_path[c], '/') + 1 : r->corpus_path[c];
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", W - R + 14, T + 20 * c, col);
        fprintf(f, "<text x=\"%d\" y=\"%d\">", W - R + 32, T + 20 * c + 11);
        xml_text(f, name);
        fprintf(f, " (n = %zu)</text>\n", r->n_ks ? r->extract[c][0].n : (size_t)0);
    }
    fputs("</svg>\n", f);
    bool err = ferror(f) != 0;
    if (fclose(f) != 0 || err) {
        fprintf(stderr, "tinglado: probe: writing %s failed\n", path);
        return 1;
    }
    return 0;
}

/* A table cell: the first line of a text, with Markdown's pipes escaped. */
static void md_cell(FILE *f, const char *s, int width) {
    int n = 0;
    for (; s[n] && s[n] != '\n' && n < width; n++)
        ;
    while (n > 0 && (s[n] & 0xC0) == 0x80)
        n--;
    for (int i = 0; i < n; i++)
        fputs(s[i] == '|' ? "\\|" : (char[2]){s[i], 0}, f);
    if (s[n] && s[n] != '\n')
        fputs("…", f);
}

static void write_corpus_sections(FILE *f, const probe_run *r, const char *svg_name) {
    fprintf(f, "## Extraction\n\nA document is *K-extractable* when greedy decoding from its first K tokens "
               "reproduces the next M = %ld tokens exactly (Carlini et al. 2022). The fraction is over the "
               "documents with at least K + M tokens (n); the interval is Wilson's 95%%.\n\n",
            r->m);
    fputs("| corpus | K | extractable | 95% interval | n |\n|---|---:|---:|---|---:|\n", f);
    for (int c = 0; c < r->n_corpora; c++)
        for (int k = 0; k < r->n_ks; k++) {
            const tg_estimate *e = &r->extract[c][k];
            fprintf(f, "| %s | %ld | %lld (%.1f%%) | %.1f%% – %.1f%% | %zu |\n", r->corpus_path[c], r->ks[k],
                    (long long)llround(e->value * (double)e->n), 100 * e->value, 100 * e->lo, 100 * e->hi, e->n);
        }
    fprintf(f, "\n![extractable fraction against K](%s)\n\n", svg_name);
    /* the ten longest matches (a partial selection sort: n is small) */
    size_t top[10], nt = 0;
    bool *taken = calloc(r->n_docs ? r->n_docs : 1, 1);
    for (; taken && nt < 10 && nt < r->n_docs; nt++) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < r->n_docs; i++)
            if (!taken[i] && (best == SIZE_MAX || r->docs[i].longest > r->docs[best].longest))
                best = i;
        taken[best] = true;
        top[nt] = best;
    }
    free(taken);
    fputs("Longest greedy match (true tokens reproduced in a row from the true prefix), the ten longest of "
          "all documents:\n\n| corpus | doc | match | of tokens | text |\n|---|---:|---:|---:|---|\n", f);
    for (size_t t = 0; t < nt; t++) {
        const probe_doc *d = &r->docs[top[t]];
        fprintf(f, "| %s | %zu | %zu | %zu | ", r->corpus_path[d->corpus], top[t] + 1, d->longest, d->n);
        md_cell(f, d->text, 60);
        fputs(" |\n", f);
    }
    if (!r->do_scores)
        return;
    fprintf(f, "\n## Membership scores\n\nPer document, from the same teacher-forced pass: perplexity, zlib "
               "(ln ppl ÷ zlib bytes, Carlini et al. 2021), Min-K%% Prob with k = %g%% (Shi et al. 2023), "
               "lowercase ratio (ln ppl ÷ ln ppl of the lowercased text)%s. Medians per corpus with a 95%% "
               "bootstrap interval:\n\n",
            r->k_percent, r->ref_arg ? " and the log-likelihood ratio against the reference model" : "");
    fputs("| corpus | n | ppl | zlib | min_k | lower |", f);
    fputs(r->ref_arg ? " llr (nats) |\n|---|---:|---|---|---|---|---|\n" : "\n|---|---:|---|---|---|---|\n", f);
    double *x = malloc((r->n_docs ? r->n_docs : 1) * sizeof *x);
    for (int c = 0; x && c < r->n_corpora; c++) {
        size_t n = 0;
        for (size_t i = 0; i < r->n_docs; i++)
            n += r->docs[i].corpus == c;
        fprintf(f, "| %s | %zu |", r->corpus_path[c], n);
        for (int s = 0; s < PROBE_N_SCORES; s++) {
            if (s == PS_LLR && !r->ref_arg)
                continue;
            size_t k = 0;
            for (size_t i = 0; i < r->n_docs; i++) {
                const probe_doc *d = &r->docs[i];
                if (d->corpus != c)
                    continue;
                double v = s == PS_PPL ? exp(d->log_ppl) : s == PS_ZLIB ? d->log_ppl / (double)d->zlib_len
                         : s == PS_MINK ? d->min_k : s == PS_LOWER ? d->log_ppl / d->log_ppl_lower : d->score[PS_LLR];
                if (isfinite(v))
                    x[k++] = v;
            }
            tg_estimate e = tg_stats_median_boot(x, k, 2000, 11);
            if (k)
                fprintf(f, " %.4g [%.4g, %.4g] |", e.value, e.lo, e.hi);
            else
                fputs(" — |", f);
        }
        fputc('\n', f);
    }
    free(x);
    if (r->n_corpora >= 2) {
        fprintf(f, "\nAUC of each score at telling `%s` (taken as seen in training) from `%s` (unseen); 0.5 is "
                   "chance. Interval: DeLong's 95%%.\n\n| score | AUC | 95%% interval | n |\n|---|---:|---|---:|\n",
                r->corpus_path[0], r->corpus_path[1]);
        for (int s = 0; s < PROBE_N_SCORES; s++)
            if (!isnan(r->auc[s].value))
                fprintf(f, "| %s | %.3f | %.3f – %.3f | %zu |\n", probe_score_names[s], r->auc[s].value, r->auc[s].lo,
                        r->auc[s].hi, r->auc[s].n);
    }
    fprintf(f, "\n## Throughput\n\n%llu tokens scored teacher-forced (every position's logits) in %.1f s: "
               "%.1f tokens/s overall; per forward pass the median is %.1f tokens/s (95%% bootstrap interval "
               "%.1f – %.1f, n = %zu passes).\n",
            (unsigned long long)r->n_tokens, r->seconds, r->seconds > 0 ? (double)r->n_tokens / r->seconds : 0.0,
            r->pass_rate.value, r->pass_rate.lo, r->pass_rate.hi, r->pass_rate.n);
}

static void write_canary(FILE *f, const probe_canary_report *c) {
    const tg_canary_result *res = &c->res;
    fputs("\n## Canary\n\n", f);
    fputs("Exposure = log2 |R| − log2 rank of the secret among all candidates of its shape, by the likelihood "
          "of the sentence (Carlini et al. 2019).\n\n", f);
    fprintf(f, "- sentence: `%s`, secret `%s` (%d characters of `%s`, |R| = 2^%.2f)\n", c->format, c->secret,
            c->length, c->alphabet, res->log2_space);
    fprintf(f, "- %s %llu candidates, %llu more likely than the secret\n", res->exact ? "enumerated" : "sampled",
            (unsigned long long)res->n_scored, (unsigned long long)res->n_better);
    if (res->exact)
        fprintf(f, "- rank %.0f (exact), exposure **%.2f bits** of %.2f (exact; n = %zu candidates)\n", res->rank.value,
                res->exposure.value, res->log2_space, res->exposure.n);
    else {
        fprintf(f, "- rank ≈ %.3g (95%% interval %.3g – %.3g), exposure **%.2f bits** of %.2f (95%% interval "
                   "%.2f – %.2f, n = %zu sampled)%s\n",
                res->rank.value, res->rank.lo, res->rank.hi, res->exposure.value, res->log2_space, res->exposure.lo,
                res->exposure.hi, res->exposure.n,
                res->n_better == 0 ? "; no sampled candidate beat the secret, so only the lower end is informative"
                                   : "");
        fprintf(f, "- extrapolated from a normal fit to the sampled log-likelihoods: %.2f bits (95%% bootstrap "
                   "interval %.2f – %.2f, n = %zu)\n",
                res->extrapolated.value, res->extrapolated.lo, res->extrapolated.hi, res->extrapolated.n);
    }
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int probe_write_report(const char *path, const probe_run *r, const probe_canary_report *canaries, size_t n_canaries) {
    char svg[4096];
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
    if (stem + 5 > sizeof svg) {
        fputs("tinglado: probe: report path too long\n", stderr);
        return 1;
    }
    memcpy(svg, path, stem);
    strcpy(svg + stem, ".svg");
    const bool html = ends_with(path, ".html") || ends_with(path, ".htm");
    /* the Markdown is written to memory first: an HTML report converts it */
    char *md = NULL;
    size_t md_len = 0;
    FILE *f = open_memstream(&md, &md_len);
    if (!f) {
        fputs("tinglado: probe: out of memory\n", stderr);
        return 1;
    }
    time_t now = time(NULL);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    fprintf(f, "# Memorisation probe\n\n`tinglado probe`, %s.", date);
    if (r)
        fprintf(f, " Model `%s`; %zu documents in %d corpora.", r->model_arg, r->n_docs, r->n_corpora);
    fputs("\n\n", f);
    int rc = 0;
    if (r) {
        const char *svg_name = strrchr(svg, '/') ? strrchr(svg, '/') + 1 : svg;
        write_corpus_sections(f, r, svg_name);
        rc = write_svg(svg, r);
    }
    for (size_t i = 0; i < n_canaries; i++)
        write_canary(f, &canaries[i]);
    if (fclose(f) != 0) {
        free(md);
        fputs("tinglado: probe: out of memory\n", stderr);
        return 1;
    }
    FILE *out = fopen(path, "w");
    if (!out) {
        free(md);
        fprintf(stderr, "tinglado: probe: cannot write %s\n", path);
        return 1;
    }
    if (html)
        probe_md_to_html(md, md_len, r && rc == 0 ? svg : NULL, out);
    else
        fwrite(md, 1, md_len, out);
    free(md);
    bool err = ferror(out) != 0;
    if (fclose(out) != 0 || err) {
        fprintf(stderr, "tinglado: probe: writing %s failed\n", path);
        return 1;
    }
    if (rc == 0)
        fprintf(stderr, "report written to %s%s%s\n", path, r ? " and " : "", r ? svg : "");
    return rc;
}
