/*
 * probe_generate.c — `tinglado probe generate`: the generation attack of
 * Carlini et al. (2021).  Sample N texts from BOS (or a prompt) with top-k
 * 40, and with a temperature decaying from 10 to 1 over the first 20 tokens
 * (more diverse openings, then likely continuations); score each with the
 * membership scores; print the top candidates, deduplicated, for a person
 * to inspect.  Samples are decoded side by side, one token of each sequence
 * per forward pass.
 *
 * The candidates are leads, not findings: it never claims a text is
 * memorised, it ranks them.
 */
#include "cli/probe.h"

#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: tinglado probe generate -m MODEL [-n N] [options]\n"
          "\n"
          "Sample N texts and rank them by the membership scores (the generation attack of\n"
          "Carlini et al. 2021): half with top-k 40, half with a temperature decaying from\n"
          "10 to 1 over the first 20 tokens (--mode picks one).  Duplicates (same text up to\n"
          "case and whitespace) are dropped; the --top best are printed.\n"
          "\n"
          "  -m, --model MODEL   a GGUF path or a cached model name\n"
          "  -n N                texts to sample (default 64)\n"
          "      --tokens L      tokens per text (default 64)\n"
          "      --mode M        topk, decay or both (default)\n"
          "  -p, --prompt TEXT   start every text with TEXT (default: only BOS)\n"
          "      --top T         candidates to print (default 20)\n"
          "      --sort NAME     rank by ppl, zlib (default), min_k or lower\n"
          "      --parallel P    sequences decoded side by side (default 8)\n"
          "      --seed S        seed of the first sampler (default 1; sequence i uses S + i)\n"
          "      --json          one JSON object\n"
          "  -t, --threads N     threads (default: all CPUs)\n"
          "  -h, --help          this text\n",
          f);
}

/* Decaying temperature: logits ÷ t, t = 10 → 1 linearly over 20 tokens. */
typedef struct decay {
    int32_t step;
} decay;
static void decay_hook(void *user, float *logits, int32_t n_vocab) {
    const decay *d = user;
    float t = d->step >= 20 ? 1.0f : 10.0f - 9.0f * (float)d->step / 20.0f;
    for (int32_t i = 0; i < n_vocab; i++)
        logits[i] /= t;
}

/* Lowercased, whitespace collapsed: the key duplicates share. */
static char *dedup_key(const char *s) {
    char *k = malloc(strlen(s) + 1);
    size_t n = 0;
    bool space = true;
    for (; k && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isspace(c)) {
            space = true;
            continue;
        }
        if (space && n)
            k[n++] = ' ';
        space = false;
        k[n++] = (char)tolower(c);
    }
    if (k)
        k[n] = '\0';
    return k;
}

/* Samples n texts into texts[]; returns 0 or 1 after printing the error. */
static int sample_texts(const char *model_arg, const char *prompt, long n, long len, const char *mode, long par,
                        long seed, long threads, char **texts) {
    char path[4096];
    if (tg_cli_resolve_model(model_arg, path, sizeof path) != TG_OK)
        return tg_cli_fail("probe generate");
    tg_model *m = tg_model_load(path);
    if (!m)
        return tg_cli_fail("probe generate");
    const tg_vocab *v = tg_model_vocab(m);
    int rc = 1;
    tg_tokens pt = {0};
    tg_ctx *ctx = NULL;
    tg_sampler *sm[256] = {0};
    decay dc[256] = {{0}};
    tg_tokens out[256] = {{0}};
    bool live[256];
    tg_token *btok = malloc((size_t)par * sizeof *btok);
    int32_t *bseq = malloc((size_t)par * sizeof *bseq);
    int32_t *idx = malloc((size_t)par * sizeof *idx); /* text each sequence is writing */
    if (!btok || !bseq || !idx) {
        fputs("tinglado: probe generate: out of memory\n", stderr);
        goto out;
    }
    if (tg_tokenize(v, prompt ? prompt : "", prompt ? strlen(prompt) : 0, (tg_tokenize_opts){.add_special = true},
                    &pt) != TG_OK) {
        tg_cli_fail("probe generate: tokenize");
        goto out;
    }
    if (pt.n == 0) {
        fputs("tinglado: probe generate: the model adds no BOS; give a --prompt\n", stderr);
        goto out;
    }
    tg_ctx_params cp = tg_ctx_default_params();
    cp.n_ctx = (int32_t)(pt.n + (size_t)len + 1);
    cp.n_seq = (int32_t)par;
    cp.n_outputs = (int32_t)par;
    cp.n_threads = (int)threads;
    if (!(ctx = tg_ctx_new(m, &cp))) {
        tg_cli_fail("probe generate");
        goto out;
    }
    probe_progress prog;
    probe_progress_init(&prog, "sampling");
    for (long base = 0; base < n; base += par) {
        int32_t np = (int32_t)TG_CLI_MIN(par, n - base);
        /* the prompt into each sequence, one decode per sequence */
        for (int32_t s = 0; s < np; s++) {
            long ti = base + s;
            bool dec = !strcmp(mode, "decay") || (!strcmp(mode, "both") && ti % 2 == 1);
            tg_sampler_params sp = tg_sampler_defaults();
            sp.top_k = dec ? 0 : 40;
            sp.top_p = 1.0f;
            sp.min_p = 0.0f;
            sp.temperature = 1.0f;
            sp.seed = (uint64_t)seed + (uint64_t)ti;
            tg_sampler_free(sm[s]);
            if (!(sm[s] = tg_sampler_new(&sp, tg_model_n_vocab(m)))) {
                tg_cli_fail("probe generate");
                goto out;
            }
            dc[s].step = 0;
            if (dec && tg_sampler_set_hook(sm[s], decay_hook, &dc[s]) != TG_OK) {
                tg_cli_fail("probe generate");
                goto out;
            }
            out[s].n = 0;
            live[s] = true;
            idx[s] = (int32_t)ti;
            tg_ctx_seq_truncate(ctx, s, 0);
            int32_t *seqs = malloc(pt.n * sizeof *seqs);
            if (!seqs) {
                fputs("tinglado: probe generate: out of memory\n", stderr);
                goto out;
            }
            for (size_t j = 0; j < pt.n; j++)
                seqs[j] = s;
            tg_batch b = {.n = (int32_t)pt.n, .token = pt.ids, .seq = seqs};
            tg_status st = tg_ctx_decode(ctx, &b);
            free(seqs);
            if (st != TG_OK) {
                tg_cli_fail("probe generate");
                goto out;
            }
            /* its last row becomes sequence s's first sample */
            tg_token t = tg_sampler_sample(sm[s], tg_ctx_logits(ctx, 0), NULL);
            if (t < 0 || !tg_cli_tokens_push(&out[s], t)) {
                tg_cli_fail("probe generate: sample");
                goto out;
            }
            dc[s].step++;
            live[s] = !tg_vocab_is_eog(v, t);
        }
        for (long step = 1; step < len; step++) {
            int32_t nb = 0;
            for (int32_t s = 0; s < np; s++)
                if (live[s]) {
                    btok[nb] = out[s].ids[out[s].n - 1];
                    bseq[nb++] = s;
                }
            if (nb == 0)
                break;
            int8_t want[256];
            memset(want, 1, sizeof want);
            tg_batch b = {.n = nb, .token = btok, .seq = bseq, .output = want};
            if (tg_ctx_decode(ctx, &b) != TG_OK) {
                tg_cli_fail("probe generate");
                goto out;
            }
            for (int32_t k = 0; k < nb; k++) {
                int32_t s = bseq[k];
                tg_token t = tg_sampler_sample(sm[s], tg_ctx_logits(ctx, k), NULL);
                if (t < 0 || !tg_cli_tokens_push(&out[s], t)) {
                    tg_cli_fail("probe generate: sample");
                    goto out;
                }
                dc[s].step++;
                if (tg_vocab_is_eog(v, t))
                    live[s] = false;
            }
            probe_progress_cb(&prog, (uint64_t)(base * len + step * np), (uint64_t)(n * len));
        }
        for (int32_t s = 0; s < np; s++) {
            size_t nt = out[s].n;
            if (nt && tg_vocab_is_eog(v, out[s].ids[nt - 1]))
                nt--;
            if (!(texts[idx[s]] = probe_detok(v, out[s].ids, nt))) {
                fputs("tinglado: probe generate: out of memory\n", stderr);
                goto out;
            }
        }
    }
    probe_progress_end(&prog);
    rc = 0;
out:
    for (int i = 0; i < 256; i++) {
        tg_sampler_free(sm[i]);
        tg_tokens_free(&out[i]);
    }
    free(btok);
    free(bseq);
    free(idx);
    tg_tokens_free(&pt);
    tg_ctx_free(ctx);
    tg_model_free(m);
    return rc;
}

int probe_cmd_generate(int argc, char **argv) {
    enum { OPT_TOKENS = 256, OPT_MODE, OPT_TOP, OPT_SORT, OPT_PAR, OPT_SEED, OPT_JSON };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},      {"prompt", required_argument, NULL, 'p'},
        {"tokens", required_argument, NULL, OPT_TOKENS}, {"mode", required_argument, NULL, OPT_MODE},
        {"top", required_argument, NULL, OPT_TOP},    {"sort", required_argument, NULL, OPT_SORT},
        {"parallel", required_argument, NULL, OPT_PAR}, {"seed", required_argument, NULL, OPT_SEED},
        {"json", no_argument, NULL, OPT_JSON},        {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},             {0},
    };
    const char *model_arg = NULL, *prompt = NULL, *mode = "both";
    long n = 64, len = 64, top = 20, par = 8, seed = 1, threads = 0;
    int sort = PS_ZLIB, c;
    bool json = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:n:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_arg = optarg; break;
        case 'p': prompt = optarg; break;
        case 'n':
            if (!tg_cli_parse_int("-n", optarg, 1, 1000000, &n))
                return 2;
            break;
        case OPT_TOKENS:
            if (!tg_cli_parse_int("--tokens", optarg, 2, 4096, &len))
                return 2;
            break;
        case OPT_MODE:
            if (strcmp(optarg, "topk") && strcmp(optarg, "decay") && strcmp(optarg, "both")) {
                fprintf(stderr, "tinglado probe generate: --mode takes topk, decay or both, not '%s'\n", optarg);
                return 2;
            }
            mode = optarg;
            break;
        case OPT_TOP:
            if (!tg_cli_parse_int("--top", optarg, 1, 1000000, &top))
                return 2;
            break;
        case OPT_SORT:
            sort = -1;
            for (int s = 0; s < PS_LLR; s++)
                if (!strcmp(optarg, probe_score_names[s]))
                    sort = s;
            if (sort < 0) {
                fprintf(stderr, "tinglado probe generate: --sort takes ppl, zlib, min_k or lower, not '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_PAR:
            if (!tg_cli_parse_int("--parallel", optarg, 1, 256, &par))
                return 2;
            break;
        case OPT_SEED:
            if (!tg_cli_parse_int("--seed", optarg, 0, 1L << 62, &seed))
                return 2;
            break;
        case OPT_JSON: json = true; break;
        case 't':
            if (!tg_cli_parse_int("--threads", optarg, 1, 512, &threads))
                return 2;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!model_arg || optind != argc) {
        fputs("tinglado probe generate: give -m MODEL\n", stderr);
        usage(stderr);
        return 2;
    }
    char **texts = calloc((size_t)n, sizeof *texts);
    if (!texts) {
        fputs("tinglado: probe generate: out of memory\n", stderr);
        return 1;
    }
    int rc = sample_texts(model_arg, prompt, n, len, mode, par, seed, threads, texts);
    probe_run r = {.model_arg = model_arg, .corpus_path = {"generated"}, .n_corpora = 1, .m = 32,
                   .k_percent = 20.0, .lower = true, .do_scores = true, .max_tokens = 4 * len, .threads = threads,
                   .n_ks = 1, .ks = {8}};
    /* deduplicate before scoring: a repeated text is one lead */
    char **keys = calloc((size_t)n, sizeof *keys);
    size_t n_dup = 0, n_empty = 0;
    for (long i = 0; rc == 0 && i < n; i++) {
        if (!keys || !(keys[i] = dedup_key(texts[i]))) {
            fputs("tinglado: probe generate: out of memory\n", stderr);
            rc = 1;
            break;
        }
        bool dup = !keys[i][0];
        n_empty += dup;
        for (long j = 0; j < i && !dup; j++)
            dup = !strcmp(keys[i], keys[j]);
        n_dup += dup && keys[i][0];
        if (!dup && !probe_run_add(&r, texts[i], strlen(texts[i]), 0)) {
            fputs("tinglado: probe generate: out of memory\n", stderr);
            rc = 1;
        }
    }
    if (rc == 0 && r.n_docs == 0) {
        fputs("tinglado: probe generate: every sample was empty\n", stderr);
        rc = 1;
    }
    if (rc == 0)
        rc = probe_run_evaluate(&r);
    if (rc == 0) {
        if (r.n_docs > (size_t)top)
            fprintf(stderr, "%ld samples, %zu duplicates and %zu empty dropped; the best %ld of %zu by %s:\n", n,
                    n_dup, n_empty, top, r.n_docs, probe_score_names[sort]);
        size_t keep = r.n_docs;
        /* print only the top: sort by hand through probe_print_scores, then cut */
        if (keep > (size_t)top) {
            /* drop the worst beyond --top: order them first */
            for (size_t i = 0; i < r.n_docs; i++)
                for (size_t j = i + 1; j < r.n_docs; j++) {
                    double a = r.docs[i].score[sort], b = r.docs[j].score[sort];
                    if (isnan(a) || (!isnan(b) && b > a)) {
                        probe_doc t = r.docs[i];
                        r.docs[i] = r.docs[j];
                        r.docs[j] = t;
                    }
                }
            for (size_t i = (size_t)top; i < r.n_docs; i++) {
                probe_doc *d = &r.docs[i];
                free(d->text), free(d->toks), free(d->lp), free(d->argmax), free(d->match);
            }
            r.n_docs = (size_t)top;
        }
        probe_print_scores(&r, stdout, sort, json, false);
    }
    for (long i = 0; i < n; i++) {
        free(texts[i]);
        if (keys)
            free(keys[i]);
    }
    free(texts);
    free(keys);
    probe_run_free(&r);
    return rc;
}
