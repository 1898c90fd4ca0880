/*
 * probe_canary.c — `tinglado probe canary`: exposure of a secret put into a
 * fixed sentence (The Secret Sharer, Carlini et al. 2019), computed by
 * tg_probe_canary: exact when the candidate space is small enough to
 * enumerate, else estimated from a uniform sample with an interval.
 * Prints the rank and exposure with their interval and n; never one alone.
 */
#include "cli/probe.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static void usage(FILE *f) {
    fputs("usage: tinglado probe canary -m MODEL --format TEXT [options]\n"
          "\n"
          "Exposure of a secret (The Secret Sharer): every candidate of the secret's shape\n"
          "is put into TEXT in its place and the whole text scored; the secret's rank among\n"
          "the |R| candidates by likelihood gives exposure = log2|R| - log2 rank bits.\n"
          "Enumerated when |R| <= --exact-max (exact rank), otherwise estimated from\n"
          "--samples uniform candidates (Wilson 95% interval on the share more likely than\n"
          "the secret) with the normal-fit extrapolation beside it.\n"
          "\n"
          "  -m, --model MODEL     a GGUF path or a cached model name\n"
          "      --format TEXT     the sentence, holding {secret} once,\n"
          "                        e.g. \"My phone number is {secret}.\"\n"
          "      --alphabet A      digits (default), lower, hex, alnum, or the characters\n"
          "      --length N        characters per secret (default 9)\n"
          "      --secret S        the secret (default: a fresh random one, printed)\n"
          "      --samples N       candidates to sample when not enumerating (default 2000)\n"
          "      --exact-max N     enumerate when |R| <= N (default 100000)\n"
          "      --seed N          seed of the sample (default 1)\n"
          "      --json            one JSON object\n"
          "      --report PATH     write a Markdown report (.html: an HTML page)\n"
          "  -t, --threads N       threads (default: all CPUs)\n"
          "  -h, --help            this text\n",
          f);
}

static const char *alphabet_of(const char *name) {
    if (!strcmp(name, "digits"))
        return "0123456789";
    if (!strcmp(name, "lower"))
        return "abcdefghijklmnopqrstuvwxyz";
    if (!strcmp(name, "hex"))
        return "0123456789abcdef";
    if (!strcmp(name, "alnum"))
        return "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    return name;
}

int probe_cmd_canary(int argc, char **argv) {
    enum { OPT_FORMAT = 256, OPT_ALPHA, OPT_LEN, OPT_SECRET, OPT_SAMPLES, OPT_EXACT, OPT_SEED, OPT_JSON, OPT_REPORT };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},          {"format", required_argument, NULL, OPT_FORMAT},
        {"alphabet", required_argument, NULL, OPT_ALPHA}, {"length", required_argument, NULL, OPT_LEN},
        {"secret", required_argument, NULL, OPT_SECRET},  {"samples", required_argument, NULL, OPT_SAMPLES},
        {"exact-max", required_argument, NULL, OPT_EXACT}, {"seed", required_argument, NULL, OPT_SEED},
        {"json", no_argument, NULL, OPT_JSON},            {"report", required_argument, NULL, OPT_REPORT},
        {"threads", required_argument, NULL, 't'},        {"help", no_argument, NULL, 'h'},
        {0},
    };
    tg_canary_params cp = tg_canary_default_params();
    const char *model_arg = NULL, *report = NULL;
    long len = 9, samples = 2000, exact_max = 100000, seed = 1, threads = 0;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_arg = optarg; break;
        case OPT_FORMAT: cp.format = optarg; break;
        case OPT_ALPHA: cp.alphabet = alphabet_of(optarg); break;
        case OPT_LEN:
            if (!tg_cli_parse_int("--length", optarg, 1, 64, &len))
                return 2;
            break;
        case OPT_SECRET: cp.secret = optarg; break;
        case OPT_SAMPLES:
            if (!tg_cli_parse_int("--samples", optarg, 2, 100000000, &samples))
                return 2;
            break;
        case OPT_EXACT:
            if (!tg_cli_parse_int("--exact-max", optarg, 0, 100000000, &exact_max))
                return 2;
            break;
        case OPT_SEED:
            if (!tg_cli_parse_int("--seed", optarg, 0, 1L << 62, &seed))
                return 2;
            break;
        case OPT_JSON: json = true; break;
        case OPT_REPORT: report = optarg; break;
        case 't':
            if (!tg_cli_parse_int("--threads", optarg, 1, 512, &threads))
                return 2;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!model_arg || !cp.format || optind != argc) {
        fputs("tinglado probe canary: give -m MODEL and --format TEXT\n", stderr);
        usage(stderr);
        return 2;
    }
    cp.length = (int32_t)len;
    cp.n_samples = (uint64_t)samples;
    cp.max_exact = (uint64_t)exact_max;
    cp.seed = (uint64_t)seed;
    char fresh[65];
    if (!cp.secret) { /* a fresh secret nobody has seen: from the OS */
        size_t na = strlen(cp.alphabet);
        for (long i = 0; i < len; i++) {
            uint32_t x = 0;
            if (na == 0 || getrandom(&x, sizeof x, 0) != (ssize_t)sizeof x) {
                fputs("tinglado probe canary: cannot draw a random secret\n", stderr);
                return 1;
            }
            fresh[i] = cp.alphabet[x % na];
        }
        fresh[len] = '\0';
        cp.secret = fresh;
    }
    char path[4096];
    if (tg_cli_resolve_model(model_arg, path, sizeof path) != TG_OK)
        return tg_cli_fail("probe canary");
    tg_model *m = tg_model_load(path);
    if (!m)
        return tg_cli_fail("probe canary");
    tg_prober_params pp = tg_prober_default_params();
    pp.n_ctx = (int32_t)(strlen(cp.format) + (size_t)len + 16); /* a token takes at least one byte */
    if (tg_model_n_ctx_train(m) > 0 && pp.n_ctx > tg_model_n_ctx_train(m))
        pp.n_ctx = tg_model_n_ctx_train(m);
    pp.n_threads = (int)threads;
    tg_prober *pr = tg_prober_new(m, &pp);
    if (!pr) {
        tg_model_free(m);
        return tg_cli_fail("probe canary");
    }
    probe_progress prog;
    probe_progress_init(&prog, "canary");
    tg_prober_set_progress(pr, probe_progress_cb, &prog);
    probe_canary_report cr = {.format = cp.format, .secret = cp.secret, .alphabet = cp.alphabet, .length = cp.length};
    double t0 = probe_now();
    tg_status st = tg_probe_canary(pr, &cp, &cr.res);
    double el = probe_now() - t0;
    probe_progress_end(&prog);
    int rc = 0;
    if (st != TG_OK)
        rc = tg_cli_fail("probe canary");
    else {
        const tg_canary_result *res = &cr.res;
        if (json) {
            fputs("{\"format\":", stdout);
            probe_json_str(stdout, cp.format, strlen(cp.format));
            fputs(",\"secret\":", stdout);
            probe_json_str(stdout, cp.secret, strlen(cp.secret));
            fputs(",\"alphabet\":", stdout);
            probe_json_str(stdout, cp.alphabet, strlen(cp.alphabet));
            printf(",\"length\":%d,\"log2_space\":%.6f,\"exact\":%s,\"secret_lp\":%.9g,\"n_scored\":%llu,"
                   "\"n_better\":%llu,\"rank\":%.9g,\"rank_lo\":%.9g,\"rank_hi\":%.9g,\"exposure\":%.6f,"
                   "\"exposure_lo\":%.6f,\"exposure_hi\":%.6f,\"extrapolated\":",
                   cp.length, res->log2_space, res->exact ? "true" : "false", res->secret_lp,
                   (unsigned long long)res->n_scored, (unsigned long long)res->n_better, res->rank.value,
                   res->rank.lo, res->rank.hi, res->exposure.value, res->exposure.lo, res->exposure.hi);
            if (isnan(res->extrapolated.value))
                fputs("null", stdout);
            else
                printf("{\"exposure\":%.6f,\"lo\":%.6f,\"hi\":%.6f}", res->extrapolated.value, res->extrapolated.lo,
                       res->extrapolated.hi);
            printf(",\"seconds\":%.3f,\"lp\":[", el);
            for (uint64_t i = 0; i < res->n_scored; i++)
                printf("%s%.9g", i ? "," : "", res->sample_lp[i]);
            puts("]}");
        } else {
            printf("canary   \"%s\" with secret %s (length %d over %zu characters: |R| = 2^%.2f)\n", cp.format,
                   cp.secret, cp.length, strlen(cp.alphabet), res->log2_space);
            printf("ln p of the text from the secret on: %.3f nats\n", res->secret_lp);
            printf("%s %llu candidates: %llu more likely than the secret\n", res->exact ? "enumerated" : "sampled",
                   (unsigned long long)res->n_scored, (unsigned long long)res->n_better);
            if (res->exact)
                printf("rank     %.0f of %.0f (exact)\nexposure %.2f bits of %.2f possible (exact, n = %zu)\n",
                       res->rank.value, exp2(res->log2_space), res->exposure.value, res->log2_space, res->exposure.n);
            else {
                printf("rank     %.3g  95%% interval [%.3g, %.3g]\n", res->rank.value, res->rank.lo, res->rank.hi);
                printf("exposure %.2f bits of %.2f possible, 95%% interval [%.2f, %.2f] (n = %zu sampled)%s\n",
                       res->exposure.value, res->log2_space, res->exposure.lo, res->exposure.hi, res->exposure.n,
                       res->n_better == 0 ? "\n         no sampled candidate beat it: only the lower end is "
                                            "informative" : "");
                printf("extrapolated (normal fit to the sample): %.2f bits, 95%% bootstrap interval [%.2f, %.2f]\n",
                       res->extrapolated.value, res->extrapolated.lo, res->extrapolated.hi);
            }
            printf("scored %llu candidates in %.1f s\n", (unsigned long long)res->n_scored + 1, el);
        }
        if (report)
            rc = probe_write_report(report, NULL, &cr, 1);
    }
    free(cr.res.sample_lp);
    tg_prober_free(pr);
    tg_model_free(m);
    return rc;
}
