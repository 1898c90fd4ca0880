/*
 * probe.c — `tinglado probe`: what a model reproduces of the texts it was
 * trained on.  Subcommands:
 *   extract   K-extractable fraction (Carlini et al. 2022) per corpus, with
 *             Wilson intervals, and the longest greedy match per document;
 *   score     membership scores per document (perplexity, zlib, Min-K%,
 *             lowercase ratio, log-likelihood ratio against --ref-model),
 *             sorted, as a table, JSON or CSV, and, given two corpora, the
 *             AUC of each at telling the first (seen) from the second;
 *   report    both, written as a Markdown report with an SVG plot;
 *   canary, generate   (probe_canary.c, probe_generate.c).
 * The evaluation is probe_eval.c; this file parses flags and prints.
 * Exit codes: 0 ok, 1 failure, 2 usage error.  Never prints a figure
 * without its n and, for rates and AUCs, its interval.
 */
#include "cli/probe.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: tinglado probe COMMAND -m MODEL [options]   (tinglado probe COMMAND --help)\n"
          "\n"
          "Does the model reproduce its training data?  (docs/probe.md)\n"
          "\n"
          "  extract   K-extractable fraction per corpus (Wilson 95% intervals), longest match\n"
          "  score     membership scores per document, sorted; AUC between two corpora\n"
          "  report    extract + score, and a Markdown report with an SVG plot\n"
          "  canary    exposure of a secret in a fixed sentence (The Secret Sharer)\n"
          "  generate  sample texts, rank them by the scores, print the top candidates\n",
          f);
}

static void usage_corpus(FILE *f, const char *cmd) {
    fprintf(f, "usage: tinglado probe %s -m MODEL -f CORPUS [-f CORPUS2 …] [options]\n\n", cmd);
    fputs("A corpus is a text file of documents separated by blank lines; lines starting\n"
          "with '#' are notes and are skipped.  Each document is tokenized with BOS and\n"
          "scored teacher-forced in one pass (batched prefill); greedy extraction is read\n"
          "from the same pass: K tokens reproduce the next M exactly iff each true token\n"
          "is the argmax after the true prefix.\n"
          "\n"
          "  -m, --model MODEL      a GGUF path or a cached model name\n"
          "  -f, --file CORPUS      a corpus (up to 8); with two, the first is taken as seen in\n"
          "                         training and the second as unseen, and each score's AUC\n"
          "                         at telling them apart is reported (DeLong 95% interval)\n"
          "      --prefix K[,K…]    prefix lengths K in tokens (default 8,16,32)\n"
          "      --suffix M         continuation length M in tokens (default 32)\n"
          "      --max-tokens N     score at most N tokens of a document (default 256)\n"
          "      --min-k PCT        Min-K% Prob's k (default 20)\n"
          "      --ref-model MODEL  also the log-likelihood ratio against this model\n"
          "      --no-lower         skip the lowercase pass (its ratio score)\n"
          "      --sort NAME        order by ppl, zlib (default), min_k, lower or llr,\n"
          "                         most member-like first\n"
          "      --json             one JSON object (add --tokens for per-token log-probs)\n"
          "      --csv              one CSV row per document\n"
          "      --report PATH      write a Markdown report there and its plot beside it (PATH\n"
          "                         with .svg); PATH ending in .html: one page, plot inlined\n"
          "      --batch N          tokens per forward pass, each returning logits (default 128)\n"
          "  -t, --threads N        threads (default: all CPUs)\n"
          "  -h, --help             this text\n",
          f);
}

static int parse_ks(probe_run *r, const char *s) {
    r->n_ks = 0;
    for (const char *p = s; *p;) {
        char *end;
        long k = strtol(p, &end, 10);
        if (end == p || k < 1 || k > 4096 || (*end && *end != ',') || r->n_ks == PROBE_MAX_KS) {
            fprintf(stderr, "tinglado probe: --prefix takes up to %d lengths 1..4096, comma-separated: '%s'\n",
                    PROBE_MAX_KS, s);
            return 2;
        }
        r->ks[r->n_ks++] = k;
        p = *end ? end + 1 : end;
    }
    return r->n_ks ? 0 : 2;
}

static void print_first_line(FILE *f, const char *text, int width) {
    int n = (int)strcspn(text, "\n");
    if (n > width)
        n = width;
    /* do not cut a UTF-8 character in two */
    while (n > 0 && (text[n] & 0xC0) == 0x80)
        n--;
    fprintf(f, "%.*s", n, text);
}

void probe_print_extract(const probe_run *r, FILE *f) {
    fprintf(f, "K-extractable: greedy decoding from the first K tokens reproduces the next M = %ld exactly\n"
               "(share of the documents with at least K + M tokens; Wilson 95%% interval)\n\n",
            r->m);
    for (int c = 0; c < r->n_corpora; c++) {
        fprintf(f, "%s\n", r->corpus_path[c]);
        for (int k = 0; k < r->n_ks; k++) {
            const tg_estimate *e = &r->extract[c][k];
            fprintf(f, "  K = %-4ld %5.1f%%  [%5.1f%%, %5.1f%%]  %lld of n = %zu\n", r->ks[k], 100.0 * e->value,
                    100.0 * e->lo, 100.0 * e->hi, (long long)llround(e->value * (double)e->n), e->n);
        }
    }
    fputs("\nlongest greedy match per document (true tokens reproduced in a row, of those scored):\n", f);
    for (size_t i = 0; i < r->n_docs; i++) {
        const probe_doc *d = &r->docs[i];
        fprintf(f, "  %d:%-4zu %4zu / %-4zu ", d->corpus + 1, i + 1, d->longest, d->n);
        print_first_line(f, d->text, 60);
        fputc('\n', f);
    }
}

static const probe_run *sort_run;
static int sort_key;
static int cmp_docs(const void *a, const void *b) {
    double x = sort_run->docs[*(const size_t *)a].score[sort_key];
    double y = sort_run->docs[*(const size_t *)b].score[sort_key];
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    return x > y ? -1 : x < y;
}

static void json_num(FILE *f, double x) {
    if (isfinite(x))
        fprintf(f, "%.9g", x);
    else
        fputs("null", f);
}

static void print_auc(const probe_run *r, FILE *f) {
    if (r->n_corpora < 2)
        return;
    fprintf(f, "\nAUC at telling %s (seen) from %s (unseen), DeLong 95%% interval:\n", r->corpus_path[0],
            r->corpus_path[1]);
    for (int s = 0; s < PROBE_N_SCORES; s++)
        if (!isnan(r->auc[s].value))
            fprintf(f, "  %-6s %.3f  [%.3f, %.3f]  n = %zu\n", probe_score_names[s], r->auc[s].value, r->auc[s].lo,
                    r->auc[s].hi, r->auc[s].n);
}

void probe_print_scores(const probe_run *r, FILE *f, int sort, bool json, bool csv) {
    size_t *ord = malloc((r->n_docs ? r->n_docs : 1) * sizeof *ord);
    if (!ord)
        return;
    for (size_t i = 0; i < r->n_docs; i++)
        ord[i] = i;
    sort_run = r;
    sort_key = sort;
    qsort(ord, r->n_docs, sizeof *ord, cmp_docs);
    if (csv) {
        fputs("doc,corpus,n_tokens,ppl,zlib,zlib_bytes,min_k,lower,llr,longest_match,text\n", f);
        for (size_t o = 0; o < r->n_docs; o++) {
            const probe_doc *d = &r->docs[ord[o]];
            fprintf(f, "%zu,%s,%zu,%.6g,%.6g,%zu,%.6g,%.6g,%.6g,%zu,\"", ord[o] + 1, r->corpus_path[d->corpus], d->n,
                    exp(d->log_ppl), d->log_ppl / (double)d->zlib_len, d->zlib_len, d->min_k,
                    d->log_ppl / d->log_ppl_lower, d->score[PS_LLR], d->longest);
            for (const char *p = d->text; *p; p++)
                fputs(*p == '"' ? "\"\"" : (char[2]){*p, 0}, f);
            fputs("\"\n", f);
        }
    } else if (json) {
        fputs("{\"model\":", f);
        probe_json_str(f, r->model_arg, strlen(r->model_arg));
        fprintf(f, ",\"min_k_percent\":%g,\"sort\":\"%s\",\"tokens_scored\":%llu,\"seconds\":%.3f,"
                   "\"tokens_per_s\":%.2f,\"pass_tokens_per_s\":{\"median\":%.2f,\"lo\":%.2f,\"hi\":%.2f,"
                   "\"n\":%zu},\"documents\":[",
                r->k_percent, probe_score_names[sort], (unsigned long long)r->n_tokens, r->seconds,
                r->seconds > 0 ? (double)r->n_tokens / r->seconds : 0.0, r->pass_rate.value, r->pass_rate.lo,
                r->pass_rate.hi, r->pass_rate.n);
        for (size_t o = 0; o < r->n_docs; o++) {
            const probe_doc *d = &r->docs[ord[o]];
            fprintf(f, "%s{\"doc\":%zu,\"corpus\":", o ? "," : "", ord[o] + 1);
            probe_json_str(f, r->corpus_path[d->corpus], strlen(r->corpus_path[d->corpus]));
            fprintf(f, ",\"n_tokens\":%zu,\"n_tokens_text\":%zu,\"ppl\":", d->n, d->n_full);
            json_num(f, exp(d->log_ppl));
            fputs(",\"log_ppl\":", f);
            json_num(f, d->log_ppl);
            fprintf(f, ",\"zlib_bytes\":%zu,\"zlib\":", d->zlib_len);
            json_num(f, d->log_ppl / (double)d->zlib_len);
            fputs(",\"min_k\":", f);
            json_num(f, d->min_k);
            fputs(",\"log_ppl_lower\":", f);
            json_num(f, d->log_ppl_lower);
            fputs(",\"lower\":", f);
            json_num(f, d->log_ppl / d->log_ppl_lower);
            fputs(",\"ll_ref\":", f);
            json_num(f, d->ll_ref);
            fputs(",\"llr\":", f);
            json_num(f, d->score[PS_LLR]);
            fprintf(f, ",\"longest_match\":%zu,\"longest_match_at\":%zu,\"extractable\":{", d->longest, d->longest_at);
            for (int k = 0; k < r->n_ks; k++) {
                bool long_enough = d->n >= (size_t)(r->ks[k] + r->m);
                fprintf(f, "%s\"%ld\":%s", k ? "," : "", r->ks[k],
                        !long_enough ? "null"
                        : tg_probe_extractable(d->match, d->n, (size_t)r->ks[k], (size_t)r->m) ? "true"
                                                                                                 : "false");
            }
            fputs("},\"text\":", f);
            probe_json_str(f, d->text, d->len);
            if (r->tokens_json) {
                fputs(",\"tokens\":[", f);
                for (size_t j = 0; j < d->n; j++)
                    fprintf(f, "%s%d", j ? "," : "", d->toks[j]);
                fputs("],\"lp\":[", f);
                for (size_t j = 0; j < d->n; j++)
                    fprintf(f, "%s%.9g", j ? "," : "", (double)d->lp[j]);
                fputs("],\"argmax\":[", f);
                for (size_t j = 0; j < d->n; j++)
                    fprintf(f, "%s%d", j ? "," : "", d->argmax[j]);
                fputc(']', f);
            }
            fputc('}', f);
        }
        fputs("],\"extract\":[", f);
        for (int c = 0; c < r->n_corpora; c++)
            for (int k = 0; k < r->n_ks; k++) {
                const tg_estimate *e = &r->extract[c][k];
                fprintf(f, "%s{\"corpus\":", c || k ? "," : "");
                probe_json_str(f, r->corpus_path[c], strlen(r->corpus_path[c]));
                fprintf(f, ",\"k\":%ld,\"m\":%ld,\"fraction\":%.6f,\"lo\":%.6f,\"hi\":%.6f,\"n\":%zu}", r->ks[k], r->m,
                        e->value, e->lo, e->hi, e->n);
            }
        fputs("],\"auc\":{", f);
        bool first = true;
        for (int s = 0; s < PROBE_N_SCORES; s++) {
            if (isnan(r->auc[s].value))
                continue;
            fprintf(f, "%s\"%s\":{\"auc\":%.6f,\"lo\":%.6f,\"hi\":%.6f,\"n\":%zu}", first ? "" : ",",
                    probe_score_names[s], r->auc[s].value, r->auc[s].lo, r->auc[s].hi, r->auc[s].n);
            first = false;
        }
        fputs("}}\n", f);
    } else {
        fprintf(f, "membership scores, most member-like first by %s (ppl: lower = more familiar;\n"
                   "zlib = ln ppl / zlib bytes; min_k = mean of the lowest %g%% log-probs; lower =\n"
                   "ln ppl / ln ppl of the lowercased text; llr = LL − LL(ref) in nats)\n\n",
                probe_score_names[sort], r->k_percent);
        fprintf(f, "%5s %-3s %5s %9s %8s %8s %7s %8s %5s  %s\n", "rank", "set", "tok", "ppl", "zlib", "min_k",
                "lower", "llr", "match", "text");
        for (size_t o = 0; o < r->n_docs; o++) {
            const probe_doc *d = &r->docs[ord[o]];
            fprintf(f, "%5zu %-3d %5zu %9.2f %8.5f %8.3f %7.3f %8.2f %5zu  ", o + 1, d->corpus + 1, d->n,
                    exp(d->log_ppl), d->log_ppl / (double)d->zlib_len, d->min_k, d->log_ppl / d->log_ppl_lower,
                    d->score[PS_LLR], d->longest);
            print_first_line(f, d->text, 50);
            fputc('\n', f);
        }
        print_auc(r, f);
        fprintf(f, "\nscored %llu tokens in %.1f s (teacher-forced, every position's logits): %.1f tokens/s overall;\n"
                   "per forward pass median %.1f tokens/s, 95%% bootstrap interval %.1f - %.1f, n = %zu passes\n",
                (unsigned long long)r->n_tokens, r->seconds, r->seconds > 0 ? (double)r->n_tokens / r->seconds : 0.0,
                r->pass_rate.value, r->pass_rate.lo, r->pass_rate.hi, r->pass_rate.n);
    }
    free(ord);
}

static int cmd_corpus(const char *cmd, int argc, char **argv) {
    enum { OPT_PREFIX = 256, OPT_SUFFIX, OPT_MAXTOK, OPT_MINK, OPT_REF, OPT_NOLOWER, OPT_SORT, OPT_JSON, OPT_CSV,
           OPT_REPORT, OPT_TOKENS, OPT_BATCH };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},        {"file", required_argument, NULL, 'f'},
        {"prefix", required_argument, NULL, OPT_PREFIX}, {"suffix", required_argument, NULL, OPT_SUFFIX},
        {"max-tokens", required_argument, NULL, OPT_MAXTOK}, {"min-k", required_argument, NULL, OPT_MINK},
        {"ref-model", required_argument, NULL, OPT_REF}, {"no-lower", no_argument, NULL, OPT_NOLOWER},
        {"sort", required_argument, NULL, OPT_SORT},     {"json", no_argument, NULL, OPT_JSON},
        {"csv", no_argument, NULL, OPT_CSV},             {"report", required_argument, NULL, OPT_REPORT},
        {"tokens", no_argument, NULL, OPT_TOKENS},       {"threads", required_argument, NULL, 't'},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"help", no_argument, NULL, 'h'},                {0},
    };
    probe_run r = {.m = 32, .k_percent = 20.0, .lower = true, .max_tokens = 256, .n_ks = 3, .ks = {8, 16, 32}};
    const bool is_extract = !strcmp(cmd, "extract"), is_report = !strcmp(cmd, "report");
    r.do_scores = !is_extract;
    const char *report = NULL;
    bool json = false, csv = false;
    int sort = PS_ZLIB, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:f:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': r.model_arg = optarg; break;
        case 'f':
            if (r.n_corpora == PROBE_MAX_CORPORA) {
                fprintf(stderr, "tinglado probe: at most %d corpora\n", PROBE_MAX_CORPORA);
                return 2;
            }
            r.corpus_path[r.n_corpora++] = optarg;
            break;
        case OPT_PREFIX:
            if (parse_ks(&r, optarg))
                return 2;
            break;
        case OPT_SUFFIX:
            if (!tg_cli_parse_int("--suffix", optarg, 1, 4096, &r.m))
                return 2;
            break;
        case OPT_MAXTOK:
            if (!tg_cli_parse_int("--max-tokens", optarg, 2, 1 << 16, &r.max_tokens))
                return 2;
            break;
        case OPT_MINK:
            if (!tg_cli_parse_float("--min-k", optarg, 0.001, 100.0, &r.k_percent))
                return 2;
            break;
        case OPT_REF: r.ref_arg = optarg; break;
        case OPT_NOLOWER: r.lower = false; break;
        case OPT_SORT:
            sort = -1;
            for (int s = 0; s < PROBE_N_SCORES; s++)
                if (!strcmp(optarg, probe_score_names[s]))
                    sort = s;
            if (sort < 0) {
                fprintf(stderr, "tinglado probe: --sort takes ppl, zlib, min_k, lower or llr, not '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_JSON: json = true; break;
        case OPT_CSV: csv = true; break;
        case OPT_REPORT: report = optarg; break;
        case OPT_TOKENS: r.tokens_json = true; break;
        case OPT_BATCH:
            if (!tg_cli_parse_int("--batch", optarg, 1, 4096, &r.batch))
                return 2;
            break;
        case 't':
            if (!tg_cli_parse_int("--threads", optarg, 1, 512, &r.threads))
                return 2;
            break;
        case 'h': usage_corpus(stdout, cmd); return 0;
        default: usage_corpus(stderr, cmd); return 2;
        }
    }
    if (!r.model_arg || !r.n_corpora || optind != argc || (json && csv)) {
        fprintf(stderr, "tinglado probe %s: give -m MODEL and at least one -f CORPUS (and not both --json and --csv)\n",
                cmd);
        usage_corpus(stderr, cmd);
        return 2;
    }
    if (sort == PS_LLR && !r.ref_arg) {
        fputs("tinglado probe: --sort llr needs --ref-model\n", stderr);
        return 2;
    }
    if (sort == PS_LOWER && !r.lower) {
        fputs("tinglado probe: --sort lower needs the lowercase pass (drop --no-lower)\n", stderr);
        return 2;
    }
    if (is_report && !report) {
        fputs("tinglado probe report: give --report PATH\n", stderr);
        return 2;
    }
    int rc = probe_run_corpora(&r);
    if (rc == 0) {
        if (is_extract && !json && !csv)
            probe_print_extract(&r, stdout);
        else if (is_report && !json && !csv) {
            probe_print_extract(&r, stdout);
            fputc('\n', stdout);
            probe_print_scores(&r, stdout, sort, false, false);
        } else
            probe_print_scores(&r, stdout, sort, json, csv);
        fflush(stdout); /* the report's notice on stderr comes after the table */
        if (report)
            rc = probe_write_report(report, &r, NULL, 0);
    }
    probe_run_free(&r);
    return rc;
}

int tg_cli_probe(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "extract") || !strcmp(cmd, "score") || !strcmp(cmd, "report"))
        return cmd_corpus(cmd, argc - 1, argv + 1);
    if (!strcmp(cmd, "canary"))
        return probe_cmd_canary(argc - 1, argv + 1);
    if (!strcmp(cmd, "generate"))
        return probe_cmd_generate(argc - 1, argv + 1);
    fprintf(stderr, "tinglado probe: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
