/*
 * bench.c — `tinglado bench`: prompt-processing and generation speed, each
 * a median with a 95% bootstrap interval over repetitions, and the decode
 * roofline: the bytes of weights one token reads ÷ this machine's measured
 * read bandwidth is the fastest generation can go; the fraction of it
 * reached says how much is left.
 *
 * As llama-bench does: pp = one batch of P random tokens from an empty
 * cache (logits of the last only); tg = N tokens one at a time from an
 * empty cache.  One untimed warm-up of each first.
 *
 * --energy reads the energy meter around every timed run; bench_energy.c
 * sets it up and reports joules per token and Wh per request.
 */
#include "cli/bench_energy.h"
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* the most sequences --batch decodes side by side (a server's slots) */
#define TG_BENCH_MAX_BATCH 64

static void usage(FILE *f) {
    fputs("usage: tinglado bench -m MODEL [-p 512] [-n 128] [-b 1] [-t THREADS] [-r 5] [--json]\n"
          "\n"
          "Prompt processing (pp) and generation (tg) speed in tokens/s, median with a 95%\n"
          "bootstrap interval over the repetitions, and the decode roofline (weight bytes per\n"
          "token ÷ the measured memory read bandwidth).\n"
          "\n"
          "  -m, --model NAME     a GGUF path or a cached model name\n"
          "  -p, --n-prompt P     prompt tokens per pp run (default 512; 0 skips pp)\n"
          "  -n, --n-gen N        generated tokens per tg run (default 128; 0 skips tg)\n"
          "  -b, --batch B        tg decodes B sequences side by side, a token each per step\n"
          "                       (as a server with B busy slots); tokens/s counts all B\n"
          "                       (default 1)\n"
          "  -t, --threads N      threads (default: all CPUs)\n"
          "  -r, --reps R         repetitions (default 5)\n"
          "      --no-roofline    skip the memory bandwidth measurement\n"
          "      --json           one JSON object on stdout\n"
          TG_CLI_ENERGY_USAGE
          "  -h, --help           this text\n",
          f);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Tokens/s of one pp run, or of one tg run when one_by_one: n steps of
 * n_seq tokens, one per sequence (n_seq > 1 is a server's batched decode);
 * with a meter, its attributed joules in *joules. */
static double timed_run(tg_ctx *ctx, const tg_token *toks, int32_t n, bool one_by_one, int32_t n_seq, bool *ok,
                        tg_meter *meter, double *joules) {
    for (int32_t q = 0; q < n_seq; q++)
        tg_ctx_seq_truncate(ctx, q, 0);
    tg_token step_tok[TG_BENCH_MAX_BATCH];
    int32_t step_seq[TG_BENCH_MAX_BATCH];
    int8_t step_out[TG_BENCH_MAX_BATCH];
    tg_meter_reading e0, e1;
    if (meter && tg_meter_read(meter, &e0) != TG_OK)
        *ok = false;
    double t0 = now_s();
    if (one_by_one) {
        for (int32_t i = 0; i < n && *ok; i++) {
            for (int32_t q = 0; q < n_seq; q++) {
                step_tok[q] = toks[(i + 7 * q) % n]; /* sequences differ, as real ones do */
                step_seq[q] = q;
                step_out[q] = 1;
            }
            tg_batch b = {.n = n_seq, .token = step_tok, .seq = step_seq, .output = step_out};
            *ok = tg_ctx_decode(ctx, &b) == TG_OK;
        }
    } else {
        tg_batch b = {.n = n, .token = toks};
        *ok = tg_ctx_decode(ctx, &b) == TG_OK;
    }
    double t1 = now_s();
    if (meter && *ok) {
        *ok = tg_meter_read(meter, &e1) == TG_OK;
        *joules = tg_meter_joules(meter, &e0, &e1);
    }
    return (double)n * (one_by_one ? n_seq : 1) / (t1 - t0);
}

static void print_json_est(const char *name, int32_t tokens, const tg_estimate *e, const double *samples) {
    printf("\"%s\":{\"tokens\":%d,\"median\":%.3f,\"lo\":%.3f,\"hi\":%.3f,\"n\":%zu,\"samples\":[", name, tokens,
           e->value, e->lo, e->hi, e->n);
    for (size_t i = 0; i < e->n; i++)
        printf("%s%.3f", i ? "," : "", samples[i]);
    printf("]}");
}

int tg_cli_bench(int argc, char **argv) {
    enum { OPT_JSON = 256, OPT_NO_ROOF, OPT_ENERGY, OPT_ESTIMATE, OPT_ENERGY_ARG };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"n-prompt", required_argument, NULL, 'p'},
        {"n-gen", required_argument, NULL, 'n'}, {"threads", required_argument, NULL, 't'},
        {"reps", required_argument, NULL, 'r'},  {"json", no_argument, NULL, OPT_JSON},
        {"batch", required_argument, NULL, 'b'},
        {"no-roofline", no_argument, NULL, OPT_NO_ROOF}, {"help", no_argument, NULL, 'h'},
        {"energy", no_argument, NULL, OPT_ENERGY}, {"estimate", no_argument, NULL, OPT_ESTIMATE},
        {"watts", required_argument, NULL, OPT_ENERGY_ARG}, {"idle-seconds", required_argument, NULL, OPT_ENERGY_ARG},
        {"request", required_argument, NULL, OPT_ENERGY_ARG},
        {0},
    };
    const char *model_arg = NULL;
    long n_prompt = 512, n_gen = 128, threads = 0, reps = 5, batch = 1;
    bool json = false, roofline = true;
    tg_cli_energy_opts eo = tg_cli_energy_defaults();
    int c, oi = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:n:b:t:r:h", opts, &oi)) != -1) {
        switch (c) {
        case 'm': model_arg = optarg; break;
        case 'p':
            if (!tg_cli_parse_int("--n-prompt", optarg, 0, 1 << 16, &n_prompt))
                return 2;
            break;
        case 'n':
            if (!tg_cli_parse_int("--n-gen", optarg, 0, 1 << 16, &n_gen))
                return 2;
            break;
        case 'b':
            if (!tg_cli_parse_int("--batch", optarg, 1, TG_BENCH_MAX_BATCH, &batch))
                return 2;
            break;
        case 't':
            if (!tg_cli_parse_int("--threads", optarg, 1, 512, &threads))
                return 2;
            break;
        case 'r':
            if (!tg_cli_parse_int("--reps", optarg, 1, 1000, &reps))
                return 2;
            break;
        case OPT_JSON: json = true; break;
        case OPT_NO_ROOF: roofline = false; break;
        case OPT_ENERGY: eo.on = true; break;
        case OPT_ESTIMATE: eo.estimate_only = eo.on = true; break;
        case OPT_ENERGY_ARG: { /* each of these implies --energy */
            eo.on = true;
            char flag[32];
            snprintf(flag, sizeof flag, "--%s", opts[oi].name);
            if (!tg_cli_energy_parse(&eo, flag, optarg))
                return 2;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!model_arg || optind != argc || (n_prompt == 0 && n_gen == 0)) {
        fputs("tinglado bench: give -m MODEL (and a non-zero -p or -n)\n", stderr);
        usage(stderr);
        return 2;
    }
    int rc = 1;
    tg_model *m = NULL;
    tg_ctx *ctx = NULL;
    tg_token *toks = NULL;
    double *pp = NULL, *tg = NULL, *jpp = NULL, *jtg = NULL;
    tg_meter *meter = NULL;
    char path[4096];
    if (tg_cli_resolve_model(model_arg, path, sizeof path) != TG_OK || !(m = tg_model_load(path))) {
        rc = tg_cli_fail("bench");
        goto out;
    }
    const long n_max = n_prompt > n_gen ? n_prompt : n_gen;
    tg_ctx_params cp = tg_ctx_default_params();
    cp.n_ctx = (int32_t)(n_max + 16);
    cp.n_ubatch = (int32_t)(n_prompt > batch ? n_prompt : batch);
    cp.n_threads = (int)threads;
    cp.n_seq = (int32_t)batch;
    if (!(ctx = tg_ctx_new(m, &cp))) {
        rc = tg_cli_fail("bench");
        goto out;
    }
    toks = malloc((size_t)n_max * sizeof *toks);
    pp = calloc((size_t)reps, sizeof *pp);
    tg = calloc((size_t)reps, sizeof *tg);
    jpp = calloc((size_t)reps, sizeof *jpp);
    jtg = calloc((size_t)reps, sizeof *jtg);
    if (!toks || !pp || !tg || !jpp || !jtg)
        goto out;
    if (eo.on && !(meter = tg_cli_energy_meter(&eo)))
        goto out;
    uint64_t st = 12345;
    for (long i = 0; i < n_max; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        toks[i] = (tg_token)((st >> 33) % (uint64_t)tg_model_n_vocab(m));
    }
    bool ok = true;
    if (n_prompt)
        timed_run(ctx, toks, (int32_t)n_prompt, false, 1, &ok, NULL, NULL);
    if (n_gen)
        timed_run(ctx, toks, (int32_t)(n_gen < 16 ? n_gen : 16), true, (int32_t)batch, &ok, NULL, NULL);
    for (long r = 0; r < reps && ok; r++) {
        if (n_prompt)
            pp[r] = timed_run(ctx, toks, (int32_t)n_prompt, false, 1, &ok, meter, &jpp[r]);
        if (n_gen)
            tg[r] = timed_run(ctx, toks, (int32_t)n_gen, true, (int32_t)batch, &ok, meter, &jtg[r]);
        if (!json)
            fprintf(stderr, "\rrep %ld/%ld", r + 1, reps);
    }
    if (!json)
        fputc('\n', stderr);
    if (!ok) {
        rc = tg_cli_fail("bench");
        goto out;
    }
    tg_estimate epp = tg_stats_median_boot(pp, (size_t)reps, 2000, 1);
    tg_estimate etg = tg_stats_median_boot(tg, (size_t)reps, 2000, 2);
    const uint64_t wbytes = tg_model_weight_bytes(m);
    tg_estimate bw = {0};
    if (roofline && n_gen && batch == 1) /* the roofline is one token per weight read */
        bw = tg_measure_read_bandwidth(tg_ctx_n_threads(ctx), (size_t)1 << 30, (int)(reps < 5 ? 5 : reps));
    const double roof = bw.value > 0 ? bw.value * 1e9 / (double)wbytes : 0.0;
    const int nt = tg_ctx_n_threads(ctx);

    if (json) {
        printf("{\"model\":\"%s\",\"arch\":\"%s\",\"threads\":%d,\"cpu_level\":\"%s\",\"weight_bytes_per_token\":%llu,",
               path, tg_model_arch(m), nt, tg_cpu_level(), (unsigned long long)wbytes);
        if (n_prompt) {
            print_json_est("pp", (int32_t)n_prompt, &epp, pp);
            putchar(',');
        }
        if (n_gen) {
            print_json_est("tg", (int32_t)n_gen, &etg, tg);
            printf(",\"batch\":%ld", batch);
            putchar(',');
        }
        if (bw.value > 0)
            printf("\"read_bandwidth_gbs\":{\"median\":%.3f,\"lo\":%.3f,\"hi\":%.3f,\"n\":%zu},"
                   "\"roofline_tps\":%.3f,\"roofline_fraction\":%.4f,",
                   bw.value, bw.lo, bw.hi, bw.n, roof, etg.value / roof);
        if (meter)
            tg_cli_energy_report(stdout, true, meter, &eo, n_prompt, n_gen, jpp, jtg, (size_t)reps);
        printf("\"reps\":%ld}\n", reps);
    } else {
        printf("model %s (%s), %d threads, CPU kernels %s\n", path, tg_model_arch(m), nt, tg_cpu_level());
        printf("%-8s %12s  %-22s %s\n", "test", "tokens/s", "95% interval", "n");
        if (n_prompt)
            printf("pp%-6ld %12.2f  [%8.2f, %8.2f]    %zu\n", n_prompt, epp.value, epp.lo, epp.hi, epp.n);
        if (n_gen)
            printf("tg%-6ld %12.2f  [%8.2f, %8.2f]    %zu%s\n", n_gen, etg.value, etg.lo, etg.hi, etg.n,
                   batch > 1 ? "    (all sequences of the batch)" : "");
        if (n_gen && batch > 1)
            printf("(tg: %ld sequences side by side, %ld tokens each per run)\n", batch, n_gen);
        if (bw.value > 0) {
            printf("memory read bandwidth %.1f GB/s [%.1f, %.1f] (n=%zu)\n", bw.value, bw.lo, bw.hi, bw.n);
            printf("decode roofline: %.1f MB of weights per token → %.1f tokens/s; tg reaches %.0f%% "
                   "[%.0f%%, %.0f%%] of it\n",
                   (double)wbytes / 1e6, roof, 100.0 * etg.value / roof, 100.0 * etg.lo / roof,
                   100.0 * etg.hi / roof);
        }
        if (meter)
            tg_cli_energy_report(stdout, false, meter, &eo, n_prompt, n_gen, jpp, jtg, (size_t)reps);
    }
    rc = 0;
out:
    tg_meter_free(meter);
    free(jpp);
    free(jtg);
    free(toks);
    free(pp);
    free(tg);
    tg_ctx_free(ctx);
    tg_model_free(m);
    return rc;
}
