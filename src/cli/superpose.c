/*
 * superpose.c — `tinglado superpose`: the superposition experiment on real
 * embeddings (a corpus file, one sentence per line, embedded with -m) and on
 * random Gaussian vectors of dimension 2…4096 as the theoretical baseline.
 * Prints a table with 95% intervals (Wilson) and writes an SVG plot.
 * Exit codes: 0 ok, 1 failure, 2 usage error.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: tinglado superpose [-m MODEL -f CORPUS] [options]\n"
          "\n"
          "Add k random embeddings and ask whether the k nearest neighbours of the\n"
          "sum are exactly those k, for k = 1…64: on the sentences of CORPUS (one\n"
          "per line, embedded with MODEL; empty and repeated lines are skipped) and\n"
          "on random Gaussian vectors of dimension 2…4096 (as many as the corpus\n"
          "has sentences, or -n).\n"
          "\n"
          "  -m, --model MODEL   a GGUF embedding model (see tinglado embed)\n"
          "  -f, --file CORPUS   one sentence per line\n"
          "      --prefix TEXT   put TEXT before every sentence (e5: \"passage: \")\n"
          "  -n N                candidates for the Gaussian baseline without a corpus (1000)\n"
          "      --trials N      draws per k (200)\n"
          "      --seed N        random seed (1)\n"
          "      --svg FILE      write the plot (default superpose.svg)\n"
          "  -t, --threads N     threads for embedding\n"
          "  -h, --help          this text\n",
          f);
}

static const int32_t KS[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};
#define N_KS (sizeof KS / sizeof KS[0])

static void print_row(const char *label, const tg_superpose_result *r) {
    printf("%-22s", label);
    for (size_t i = 0; i < N_KS; i++)
        printf(" %5.3f", r[i].recall.value);
    putchar('\n');
}

int tg_cli_superpose(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"file", required_argument, 0, 'f'},
        {"prefix", required_argument, 0, 'P'}, {"trials", required_argument, 0, 'T'},
        {"seed", required_argument, 0, 'S'}, {"svg", required_argument, 0, 'G'},
        {"threads", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *corpus = NULL, *prefix = "", *svg = "superpose.svg";
    long trials = 200, seed = 1, n_gauss = 1000, val;
    tg_embedder_params ep = tg_embedder_default_params();
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:f:n:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'f': corpus = optarg; break;
        case 'P': prefix = optarg; break;
        case 'G': svg = optarg; break;
        case 'T':
            if (!tg_cli_parse_int("--trials", optarg, 1, 100000, &trials))
                return 2;
            break;
        case 'S':
            if (!tg_cli_parse_int("--seed", optarg, 0, 1L << 62, &seed))
                return 2;
            break;
        case 'n':
            if (!tg_cli_parse_int("-n", optarg, 65, 1000000, &n_gauss))
                return 2;
            break;
        case 't':
            if (!tg_cli_parse_int("--threads", optarg, 1, 1024, &val))
                return 2;
            ep.n_threads = (int)val;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!model != !corpus || optind != argc) {
        fprintf(stderr, "tinglado superpose: -m and -f go together\n");
        usage(stderr);
        return 2;
    }
    int rc = 1;
    char *buf = NULL, **texts = NULL;
    float *vecs = NULL;
    size_t n = 0;
    int32_t dim = 0;
    tg_superpose_result model_r[N_KS];
    tg_embedder *e = NULL;
    if (corpus) {
        char path[4096];
        size_t len;
        if (tg_cli_resolve_model(model, path, sizeof path))
            return tg_cli_fail("superpose");
        if (!(buf = tg_cli_read_file(corpus, &len)))
            return 1;
        texts = calloc(len / 2 + 2, sizeof *texts);
        for (char *p = buf, *nl; texts && p < buf + len; p = nl + 1) {
            nl = memchr(p, '\n', (size_t)(buf + len - p));
            if (!nl)
                nl = buf + len;
            *nl = 0;
            if (nl > p && nl[-1] == '\r')
                nl[-1] = 0;
            bool dup = !*p;
            for (size_t i = 0; i < n && !dup; i++) /* small corpora: quadratic is fine */
                dup = !strcmp(texts[i] + strlen(prefix), p);
            if (dup)
                continue;
            texts[n] = malloc(strlen(prefix) + strlen(p) + 1);
            if (!texts[n])
                break;
            strcat(strcpy(texts[n], prefix), p);
            n++;
        }
        if (!texts || n < 65) {
            fprintf(stderr, "tinglado superpose: %s has %zu distinct sentences; need at least 65\n", corpus, n);
            goto done;
        }
        if (!(e = tg_embedder_load(path, &ep))) {
            rc = tg_cli_fail("superpose");
            goto done;
        }
        dim = tg_embedder_dim(e);
        vecs = malloc(n * (size_t)dim * sizeof *vecs);
        fprintf(stderr, "tinglado superpose: embedding %zu sentences (dim %d)\n", n, dim);
        if (!vecs || tg_embed(e, (const char *const *)texts, NULL, n, vecs, NULL) ||
            tg_superpose(vecs, n, dim, KS, N_KS, (int32_t)trials, (uint64_t)seed, model_r)) {
            rc = tg_cli_fail("superpose");
            goto done;
        }
        n_gauss = (long)n;
    }

    /* Gaussian baselines: powers of two, and the model's own dimension */
    int32_t dims[16];
    size_t nd = 0;
    for (int32_t d = 2; d <= 4096; d *= 2) {
        if (dim && d > dim && (nd == 0 || dims[nd - 1] < dim))
            dims[nd++] = dim;
        if (d != dim)
            dims[nd++] = d;
    }
    tg_superpose_result gr[16][N_KS];
    for (size_t i = 0; i < nd; i++) {
        fprintf(stderr, "\rtinglado superpose: Gaussian baseline, dimension %d   ", dims[i]);
        if (tg_superpose_gaussian((size_t)n_gauss, dims[i], KS, N_KS, (int32_t)trials, (uint64_t)seed, gr[i])) {
            rc = tg_cli_fail("superpose");
            goto done;
        }
    }
    fputc('\n', stderr);

    printf("Superposition: the k nearest of %ld candidates to the sum of k of them; %ld draws per k, seed %ld\n\n",
           n_gauss, trials, seed);
    if (corpus) {
        printf("%s (dim %d), %zu sentences of %s\n", model, dim, n, corpus);
        printf("%4s  %-26s  %-26s\n", "k", "recall [95% Wilson]", "all k recovered [95%]");
        for (size_t i = 0; i < N_KS; i++)
            printf("%4d  %.3f [%.3f, %.3f] n=%-6zu %.3f [%.3f, %.3f] n=%zu\n", KS[i], model_r[i].recall.value,
                   model_r[i].recall.lo, model_r[i].recall.hi, model_r[i].recall.n, model_r[i].exact.value,
                   model_r[i].exact.lo, model_r[i].exact.hi, model_r[i].exact.n);
        putchar('\n');
    }
    printf("recall by k (rows: vectors; Wilson 95%% half-width at most %.3f)\n",
           1.96 * 0.5 / __builtin_sqrt((double)trials));
    printf("%-22s", "k =");
    for (size_t i = 0; i < N_KS; i++)
        printf(" %5d", KS[i]);
    putchar('\n');
    if (corpus)
        print_row("model", model_r);
    for (size_t i = 0; i < nd; i++) {
        char label[40];
        snprintf(label, sizeof label, "gaussian d=%d", dims[i]);
        print_row(label, gr[i]);
    }

    tg_superpose_series series[17];
    char labels[17][48];
    size_t ns = 0;
    for (size_t i = 0; i < nd; i++) {
        snprintf(labels[ns], sizeof labels[ns], "Gaussian, d = %d", dims[i]);
        series[ns] = (tg_superpose_series){labels[ns], gr[i], N_KS, false};
        ns++;
    }
    if (corpus) {
        const char *slash = strrchr(model, '/'), *base = slash ? slash + 1 : model;
        const char *dot = strstr(base, ".gguf");
        snprintf(labels[ns], sizeof labels[ns], "%.*s (d = %d)", (int)(dot ? TG_CLI_MIN(dot - base, 26) : 26), base,
                 dim);
        series[ns] = (tg_superpose_series){labels[ns], model_r, N_KS, true};
        ns++;
    }
    char title[160];
    snprintf(title, sizeof title, "Is a sum of k embeddings still its k parts? (%ld candidates, %ld draws per k)",
             n_gauss, trials);
    if (tg_superpose_svg(svg, title, series, ns)) {
        rc = tg_cli_fail("superpose");
        goto done;
    }
    fprintf(stderr, "tinglado superpose: plot written to %s\n", svg);
    rc = 0;
done:
    tg_embedder_free(e);
    for (size_t i = 0; texts && i < n; i++)
        free(texts[i]);
    free(texts);
    free(buf);
    free(vecs);
    return rc;
}
