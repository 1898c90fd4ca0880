/*
 * probe_eval.c — the part of `tinglado probe` that reads corpora and runs
 * the model over them: one teacher-forced pass per document gives the
 * log-probability of every true token and the greedy choice before it, from
 * which extraction and the membership scores are read (probe.c prints
 * them).  A lowercased pass and a --ref-model pass add the two ratio
 * scores.  Also the small shared helpers (progress line, JSON strings).
 *
 * Prints its own errors; never exits the process.
 */
#include "cli/probe.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const probe_score_names[PROBE_N_SCORES] = {"ppl", "zlib", "min_k", "lower", "llr"};

double probe_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void probe_progress_init(probe_progress *p, const char *label) {
    memset(p, 0, sizeof *p);
    p->label = label;
    p->t0 = p->t_last = probe_now();
    p->tty = isatty(2) != 0;
}

void probe_progress_cb(void *user, uint64_t done, uint64_t total) {
    probe_progress *p = user;
    double now = probe_now();
    if (done > p->done_last && now > p->t_last) {
        if (p->n_rates == p->cap_rates) {
            size_t nc = p->cap_rates ? 2 * p->cap_rates : 256;
            double *r = realloc(p->rates, nc * sizeof *r);
            if (r) {
                p->rates = r;
                p->cap_rates = nc;
            }
        }
        if (p->n_rates < p->cap_rates)
            p->rates[p->n_rates++] = (double)(done - p->done_last) / (now - p->t_last);
    }
    p->done_last = done;
    p->t_last = now;
    if (!p->tty || total == 0)
        return;
    double el = now - p->t0;
    int w = (int)(30.0 * (double)done / (double)total);
    fprintf(stderr, "\r%-10s [%.*s%*s] %llu/%llu tokens  %.0f tokens/s ", p->label, w,
            "##############################", 30 - w, "", (unsigned long long)done, (unsigned long long)total,
            el > 0 ? (double)done / el : 0.0);
}

void probe_progress_end(probe_progress *p) {
    if (p->tty)
        fputs("\r\033[K", stderr);
    free(p->rates);
    p->rates = NULL;
    p->n_rates = p->cap_rates = 0;
}

char *probe_detok(const tg_vocab *v, const tg_token *t, size_t n) {
    size_t cap = 64 + 16 * n;
    for (int tries = 0; tries < 2; tries++) {
        char *b = malloc(cap + 1);
        if (!b)
            return NULL;
        size_t got = tg_detokenize(v, t, n, false, b, cap);
        if (got <= cap) {
            b[got] = '\0';
            return b;
        }
        free(b);
        cap = got;
    }
    return NULL;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || len > n || (len == 2 && s[0] < 0xC2) || (len == 4 && s[0] > 0xF4))
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((len == 3 && s[0] == 0xE0 && s[1] < 0xA0) || (len == 3 && s[0] == 0xED && s[1] >= 0xA0) ||
        (len == 4 && s[0] == 0xF0 && s[1] < 0x90) || (len == 4 && s[0] == 0xF4 && s[1] >= 0x90))
        return 0; /* overlong, surrogate, beyond U+10FFFF */
    return len;
}

/* JSON must be valid UTF-8: a sampled or cut text may not be, so an invalid
 * byte becomes U+FFFD. */
void probe_json_str(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = utf8_len((const unsigned char *)s + i, n - i);
        if (k == 0) {
            fputs("\\ufffd", f);
            i++;
            continue;
        }
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fwrite(s + i, 1, k, f);
        i += k;
    }
    fputc('"', f);
}

/* ---- corpora ---------------------------------------------------------- */

static bool add_doc(probe_run *r, size_t *cap, const char *s, size_t n, int corpus) {
    if (r->n_docs == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        probe_doc *d = realloc(r->docs, nc * sizeof *d);
        if (!d)
            return false;
        r->docs = d;
        *cap = nc;
    }
    probe_doc *d = &r->docs[r->n_docs];
    memset(d, 0, sizeof *d);
    if (!(d->text = malloc(n + 1)))
        return false;
    memcpy(d->text, s, n);
    d->text[n] = '\0';
    d->len = n;
    d->corpus = corpus;
    for (int k = 0; k < PROBE_N_SCORES; k++)
        d->score[k] = NAN;
    r->n_docs++;
    return true;
}

/* Documents: runs of non-empty lines joined by "\n"; '#' lines are notes. */
static bool read_corpus(probe_run *r, size_t *cap, int corpus) {
    size_t len;
    char *buf = tg_cli_read_file(r->corpus_path[corpus], &len);
    if (!buf)
        return false;
    char *doc = malloc(len + 1);
    size_t dn = 0, before = r->n_docs;
    bool ok = doc != NULL;
    for (char *p = buf; ok && p <= buf + len;) {
        char *nl = memchr(p, '\n', (size_t)(buf + len - p));
        char *end = nl ? nl : buf + len;
        size_t ln = (size_t)(end - p);
        if (ln && p[ln - 1] == '\r')
            ln--;
        bool blank = strspn(p, " \t\r") >= ln;
        if (ln && p[0] == '#') {
            /* a note: neither text nor a separator */
        } else if (blank) {
            if (dn)
                ok = add_doc(r, cap, doc, dn, corpus);
            dn = 0;
        } else {
            if (dn)
                doc[dn++] = '\n';
            memcpy(doc + dn, p, ln);
            dn += ln;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    if (ok && dn)
        ok = add_doc(r, cap, doc, dn, corpus);
    free(doc);
    free(buf);
    if (!ok)
        fprintf(stderr, "tinglado: probe: out of memory reading %s\n", r->corpus_path[corpus]);
    else if (r->n_docs == before) {
        fprintf(stderr, "tinglado: probe: %s holds no document\n", r->corpus_path[corpus]);
        ok = false;
    }
    return ok;
}

void probe_run_free(probe_run *r) {
    for (size_t i = 0; i < r->n_docs; i++) {
        probe_doc *d = &r->docs[i];
        free(d->text);
        free(d->toks);
        free(d->lp);
        free(d->argmax);
        free(d->match);
    }
    free(r->docs);
    r->docs = NULL;
    r->n_docs = 0;
}

/* ---- evaluation ------------------------------------------------------- */

static tg_model *load_model(const char *arg) {
    char path[4096];
    if (tg_cli_resolve_model(arg, path, sizeof path) != TG_OK)
        return NULL;
    return tg_model_load(path);
}

/* Tokenizes texts[i] (with BOS), keeps at most max tokens after the first
 * and scores them; ll[i] = their summed log-probability, and the kept
 * tokens, lp and argmax when the pointers are given.  The first token (BOS,
 * or the text's first token for vocabularies without one) is the shared
 * context.  t_out gets the seconds of the passes, n_out the tokens. */
static int eval_texts(tg_model *m, const probe_run *r, char *const *texts, const size_t *lens, size_t n,
                      const char *label, double *ll, tg_token **toks_out, size_t *n_out_tok, size_t *n_full,
                      float **lp_out, tg_token **am_out, double *t_out, uint64_t *n_out, tg_estimate *rate) {
    const tg_vocab *v = tg_model_vocab(m);
    int rc = 1;
    tg_tokens *tk = calloc(n, sizeof *tk);
    const tg_token **conts = calloc(n, sizeof *conts);
    size_t *cl = calloc(n, sizeof *cl);
    float **lp = calloc(n, sizeof *lp);
    tg_token **am = calloc(n, sizeof *am);
    tg_prober *pr = NULL;
    if (!tk || !conts || !cl || !lp || !am) {
        fputs("tinglado: probe: out of memory\n", stderr);
        goto out;
    }
    tg_token first = -1;
    /* the model's trained context bounds what one text may take */
    size_t max_tok = (size_t)r->max_tokens;
    if (tg_model_n_ctx_train(m) > 1 && max_tok > (size_t)tg_model_n_ctx_train(m) - 1)
        max_tok = (size_t)tg_model_n_ctx_train(m) - 1;
    for (size_t i = 0; i < n; i++) {
        if (tg_tokenize(v, texts[i], lens[i], (tg_tokenize_opts){.add_special = true}, &tk[i]) != TG_OK) {
            tg_cli_fail("probe: tokenize");
            goto out;
        }
        if (tk[i].n < 2) {
            fprintf(stderr, "tinglado: probe: document %zu (\"%.40s\") has no token to score\n", i + 1, texts[i]);
            goto out;
        }
        if (tg_vocab_add_bos(v) && tg_vocab_bos(v) >= 0)
            first = tk[i].ids[0];
        else if (i == 0 || tk[i].ids[0] != first) {
            /* no BOS: each text's own first token is its context */
            first = -2;
        }
        if (n_full)
            n_full[i] = tk[i].n - 1;
        conts[i] = tk[i].ids + 1;
        cl[i] = TG_CLI_MIN(tk[i].n - 1, max_tok);
        if (!(lp[i] = malloc(cl[i] * sizeof **lp)) || !(am[i] = malloc(cl[i] * sizeof **am))) {
            fputs("tinglado: probe: out of memory\n", stderr);
            goto out;
        }
    }
    tg_prober_params pp = tg_prober_default_params();
    pp.n_ctx = (int32_t)max_tok + 1;
    pp.n_threads = (int)r->threads;
    if (r->batch > 0)
        pp.n_batch = (int32_t)r->batch;
    if (!(pr = tg_prober_new(m, &pp))) {
        tg_cli_fail("probe");
        goto out;
    }
    probe_progress prog;
    probe_progress_init(&prog, label);
    tg_prober_set_progress(pr, probe_progress_cb, &prog);
    uint64_t total = 0;
    double t0 = probe_now();
    if (first >= 0) { /* one shared context for all */
        if (tg_prober_eval(pr, &first, 1, conts, cl, n, lp, am) != TG_OK) {
            probe_progress_end(&prog);
            tg_cli_fail("probe");
            goto out;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            if (tg_prober_eval(pr, tk[i].ids, 1, &conts[i], &cl[i], 1, &lp[i], &am[i]) != TG_OK) {
                probe_progress_end(&prog);
                tg_cli_fail("probe");
                goto out;
            }
    }
    if (rate)
        *rate = tg_stats_median_boot(prog.rates, prog.n_rates, 1000, 7);
    probe_progress_end(&prog);
    double el = probe_now() - t0;
    for (size_t i = 0; i < n; i++) {
        total += cl[i];
        double s = 0.0;
        for (size_t j = 0; j < cl[i]; j++)
            s += (double)lp[i][j];
        ll[i] = s;
        if (n_out_tok)
            n_out_tok[i] = cl[i];
        if (toks_out) {
            toks_out[i] = malloc(cl[i] * sizeof **toks_out);
            if (!toks_out[i]) {
                fputs("tinglado: probe: out of memory\n", stderr);
                goto out;
            }
            memcpy(toks_out[i], conts[i], cl[i] * sizeof **toks_out);
        }
        if (lp_out) {
            lp_out[i] = lp[i];
            lp[i] = NULL;
        }
        if (am_out) {
            am_out[i] = am[i];
            am[i] = NULL;
        }
    }
    if (t_out)
        *t_out = el;
    if (n_out)
        *n_out = total;
    rc = 0;
out:
    for (size_t i = 0; tk && i < n; i++) {
        tg_tokens_free(&tk[i]);
        if (lp)
            free(lp[i]);
        if (am)
            free(am[i]);
    }
    free(tk);
    free(conts);
    free(cl);
    free(lp);
    free(am);
    tg_prober_free(pr);
    return rc;
}

static void compute_extraction(probe_run *r) {
    for (int c = 0; c < r->n_corpora; c++)
        for (int k = 0; k < r->n_ks; k++) {
            size_t ok = 0, eligible = 0;
            for (size_t i = 0; i < r->n_docs; i++) {
                const probe_doc *d = &r->docs[i];
                if (d->corpus != c || d->n < (size_t)(r->ks[k] + r->m))
                    continue;
                eligible++;
                ok += tg_probe_extractable(d->match, d->n, (size_t)r->ks[k], (size_t)r->m);
            }
            r->extract[c][k] = tg_stats_wilson(ok, eligible);
        }
}

static void compute_auc(probe_run *r) {
    for (int s = 0; s < PROBE_N_SCORES; s++)
        r->auc[s] = (tg_estimate){.value = NAN, .lo = NAN, .hi = NAN};
    if (r->n_corpora < 2)
        return;
    double *pos = malloc(r->n_docs * sizeof *pos), *neg = malloc(r->n_docs * sizeof *neg);
    for (int s = 0; pos && neg && s < PROBE_N_SCORES; s++) {
        size_t np = 0, nn = 0;
        for (size_t i = 0; i < r->n_docs; i++) {
            double x = r->docs[i].score[s];
            if (isnan(x))
                continue;
            if (r->docs[i].corpus == 0)
                pos[np++] = x;
            else if (r->docs[i].corpus == 1)
                neg[nn++] = x;
        }
        r->auc[s] = tg_stats_auc(pos, np, neg, nn);
    }
    free(pos);
    free(neg);
}

int probe_run_corpora(probe_run *r) {
    size_t cap = 0;
    for (int c = 0; c < r->n_corpora; c++)
        if (!read_corpus(r, &cap, c))
            return 1;
    return probe_run_evaluate(r);
}

bool probe_run_add(probe_run *r, const char *text, size_t len, int corpus) {
    size_t cap = r->n_docs; /* add_doc grows whenever n_docs == cap */
    return add_doc(r, &cap, text, len, corpus);
}

int probe_run_evaluate(probe_run *r) {
    tg_model *m = load_model(r->model_arg);
    if (!m)
        return tg_cli_fail("probe");
    int rc = 1;
    const size_t n = r->n_docs;
    char **texts = calloc(n, sizeof *texts);
    size_t *lens = calloc(n, sizeof *lens);
    double *ll = calloc(n, sizeof *ll);
    tg_token **toks = calloc(n, sizeof *toks);
    size_t *nt = calloc(n, sizeof *nt), *nf = calloc(n, sizeof *nf);
    float **lp = calloc(n, sizeof *lp);
    tg_token **am = calloc(n, sizeof *am);
    char **kept = calloc(n, sizeof *kept);
    if (!texts || !lens || !ll || !toks || !nt || !nf || !lp || !am || !kept) {
        fputs("tinglado: probe: out of memory\n", stderr);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        texts[i] = r->docs[i].text;
        lens[i] = r->docs[i].len;
    }
    if (eval_texts(m, r, texts, lens, n, "scoring", ll, toks, nt, nf, lp, am, &r->seconds, &r->n_tokens,
                   &r->pass_rate))
        goto out;
    const tg_vocab *v = tg_model_vocab(m);
    for (size_t i = 0; i < n; i++) {
        probe_doc *d = &r->docs[i];
        d->toks = toks[i];
        d->n = nt[i];
        d->n_full = nf[i];
        d->lp = lp[i];
        d->argmax = am[i];
        toks[i] = NULL, lp[i] = NULL, am[i] = NULL;
        if (!(d->match = malloc(d->n ? d->n : 1))) {
            fputs("tinglado: probe: out of memory\n", stderr);
            goto out;
        }
        for (size_t j = 0; j < d->n; j++)
            d->match[j] = d->argmax[j] == d->toks[j];
        d->longest = tg_probe_longest_match(d->match, d->n, &d->longest_at);
        d->log_ppl = tg_probe_log_ppl(d->lp, d->n);
        d->min_k = tg_probe_min_k(d->lp, d->n, r->k_percent);
        /* the other scores look at the text that was scored: all of it, or
         * the kept tokens' text when --max-tokens cut it */
        if (d->n < d->n_full) {
            if (!(kept[i] = probe_detok(v, d->toks, d->n))) {
                fputs("tinglado: probe: out of memory\n", stderr);
                goto out;
            }
        } else if (!(kept[i] = strdup(d->text))) {
            fputs("tinglado: probe: out of memory\n", stderr);
            goto out;
        }
        lens[i] = strlen(kept[i]);
        d->zlib_len = tg_probe_zlib_len(kept[i], lens[i]);
        d->score[PS_PPL] = -d->log_ppl;
        d->score[PS_ZLIB] = d->zlib_len ? -d->log_ppl / (double)d->zlib_len : NAN;
        d->score[PS_MINK] = d->min_k;
        d->log_ppl_lower = d->ll_ref = NAN;
    }
    compute_extraction(r);
    if (r->do_scores && r->lower) {
        char **low = calloc(n, sizeof *low);
        size_t *ll_len = calloc(n, sizeof *ll_len), *ln = calloc(n, sizeof *ln);
        bool ok = low && ll_len && ln;
        for (size_t i = 0; ok && i < n; i++)
            ok = tg_probe_lowercase(kept[i], lens[i], &low[i], &ll_len[i]) == TG_OK;
        if (!ok)
            tg_cli_fail("probe: lowercase");
        else {
            long keep_max = r->max_tokens;
            r->max_tokens = 4 * keep_max; /* lowercase text may take more tokens; score all of it */
            ok = eval_texts(m, r, low, ll_len, n, "lowercase", ll, NULL, ln, NULL, NULL, NULL, NULL, NULL, NULL) == 0;
            r->max_tokens = keep_max;
            for (size_t i = 0; ok && i < n; i++) {
                probe_doc *d = &r->docs[i];
                d->log_ppl_lower = ln[i] ? -ll[i] / (double)ln[i] : NAN;
                d->score[PS_LOWER] = -(d->log_ppl / d->log_ppl_lower);
            }
        }
        for (size_t i = 0; low && i < n; i++)
            free(low[i]);
        free(low);
        free(ll_len);
        free(ln);
        if (!ok)
            goto out;
    }
    if (r->do_scores && r->ref_arg) {
        tg_model *ref = load_model(r->ref_arg);
        if (!ref) {
            tg_cli_fail("probe: --ref-model");
            goto out;
        }
        long keep_max = r->max_tokens;
        r->max_tokens = 4 * keep_max;
        int e = eval_texts(ref, r, kept, lens, n, "reference", ll, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        r->max_tokens = keep_max;
        tg_model_free(ref);
        if (e)
            goto out;
        for (size_t i = 0; i < n; i++) {
            probe_doc *d = &r->docs[i];
            d->ll_ref = ll[i];
            d->score[PS_LLR] = -d->log_ppl * (double)d->n - ll[i];
        }
    }
    compute_auc(r);
    rc = 0;
out:
    for (size_t i = 0; i < n; i++) {
        if (toks)
            free(toks[i]);
        if (lp)
            free(lp[i]);
        if (am)
            free(am[i]);
        if (kept)
            free(kept[i]);
    }
    free(texts);
    free(lens);
    free(ll);
    free(toks);
    free(nt);
    free(nf);
    free(lp);
    free(am);
    free(kept);
    tg_model_free(m);
    return rc;
}

