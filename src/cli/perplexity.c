/*
 * perplexity.c — `tinglado perplexity`: perplexity of a text, computed the
 * way llama.cpp's perplexity tool does so the two can be compared:
 *
 *   - the text is tokenized with BOS, then cut into non-overlapping chunks
 *     of n_ctx tokens (a trailing partial chunk is dropped);
 *   - each chunk is evaluated from an empty cache, its first token replaced
 *     by BOS when the vocabulary adds one;
 *   - only the second half is scored: positions n_ctx/2 … n_ctx−2 predict
 *     tokens n_ctx/2+1 … n_ctx−1 (every scored token has ≥ n_ctx/2 context);
 *   - PPL = exp(mean negative log-likelihood).
 *
 * The 95% interval is exp(mean NLL ± 1.96·sd/√n) over the scored tokens (a
 * normal approximation that treats tokens as independent, which understates
 * the width somewhat for correlated text: say so when reporting it).
 */
#include "cli/cli.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f) {
    fputs("usage: tinglado perplexity -m MODEL -f FILE [--ctx N] [-t THREADS] [--chunks K] [--kv-type f16|f32]\n"
          "\n"
          "Perplexity of a text with a 95% interval, by llama.cpp's method (non-overlapping\n"
          "chunks of N tokens, the second half of each scored).  Needs at least 2·N tokens.\n"
          "\n"
          "  -m, --model PATH      the GGUF model\n"
          "  -f, --file PATH       the text (- for stdin)\n"
          "      --ctx N           tokens per chunk (default 512)\n"
          "      --chunks K        score only the first K chunks\n"
          "      --kv-type T       KV cache precision, f16 (default, as llama.cpp) or f32\n"
          "      --json            print the result as one JSON object\n"
          "  -t, --threads N       threads (default: all CPUs)\n"
          "  -h, --help            this text\n",
          f);
}

int tg_cli_perplexity(int argc, char **argv) {
    enum { OPT_CTX = 256, OPT_CHUNKS, OPT_KV, OPT_JSON };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},   {"file", required_argument, NULL, 'f'},
        {"ctx", required_argument, NULL, OPT_CTX}, {"chunks", required_argument, NULL, OPT_CHUNKS},
        {"kv-type", required_argument, NULL, OPT_KV}, {"json", no_argument, NULL, OPT_JSON},
        {"threads", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *model_path = NULL, *file = NULL;
    long n_ctx = 512, max_chunks = -1, threads = 0;
    tg_type kv_type = TG_TYPE_F16;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:f:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'f': file = optarg; break;
        case OPT_CTX:
            if (!tg_cli_parse_int("--ctx", optarg, 4, 1 << 20, &n_ctx))
                return 2;
            break;
        case OPT_CHUNKS:
            if (!tg_cli_parse_int("--chunks", optarg, 1, 1 << 30, &max_chunks))
                return 2;
            break;
        case OPT_KV:
            if (!tg_cli_parse_kv_type(optarg, &kv_type))
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
    if (!model_path || !file || optind != argc) {
        fputs("tinglado perplexity: give -m MODEL and -f FILE\n", stderr);
        usage(stderr);
        return 2;
    }

    int rc = 1;
    tg_model *m = NULL;
    tg_ctx *ctx = NULL;
    tg_tokens toks = {0};
    char *text = NULL;
    double *nll = NULL;
    int8_t *want = NULL;
    size_t len;

    char path[4096];
    if (tg_cli_resolve_model(model_path, path, sizeof path) != TG_OK) {
        rc = tg_cli_fail("perplexity");
        goto out;
    }
    if (!(m = tg_model_load(path))) {
        rc = tg_cli_fail("perplexity");
        goto out;
    }
    if (!(text = tg_cli_read_file(file, &len)))
        goto out;
    const tg_vocab *v = tg_model_vocab(m);
    if (tg_tokenize(v, text, len, (tg_tokenize_opts){.add_special = true}, &toks) != TG_OK) {
        rc = tg_cli_fail("perplexity: tokenize");
        goto out;
    }
    if (n_ctx > tg_model_n_ctx_train(m) && tg_model_n_ctx_train(m) > 0) {
        fprintf(stderr, "tinglado: perplexity: --ctx %ld is longer than the %d tokens the model was trained for\n",
                n_ctx, tg_model_n_ctx_train(m));
        goto out;
    }
    if ((long)toks.n < 2 * n_ctx) {
        fprintf(stderr, "tinglado: perplexity: the text has %zu tokens; a context of %ld needs at least %ld\n",
                toks.n, n_ctx, 2 * n_ctx);
        goto out;
    }
    long n_chunks = (long)toks.n / n_ctx;
    if (max_chunks > 0 && max_chunks < n_chunks)
        n_chunks = max_chunks;
    const long first = n_ctx / 2, per_chunk = n_ctx - 1 - first;

    tg_ctx_params cp = tg_ctx_default_params();
    cp.n_ctx = (int32_t)n_ctx;
    cp.n_ubatch = (int32_t)TG_CLI_MIN(n_ctx, 512);
    cp.n_outputs = cp.n_ubatch;
    cp.n_threads = (int)threads;
    cp.kv_type = kv_type;
    if (!(ctx = tg_ctx_new(m, &cp))) {
        rc = tg_cli_fail("perplexity");
        goto out;
    }
    nll = malloc((size_t)(n_chunks * per_chunk) * sizeof *nll);
    want = malloc((size_t)cp.n_ubatch);
    if (!nll || !want) {
        fputs("tinglado: perplexity: out of memory\n", stderr);
        goto out;
    }
    const int32_t n_vocab = tg_model_n_vocab(m);
    const tg_token bos = tg_vocab_bos(v);
    const bool add_bos = tg_vocab_add_bos(v) && bos >= 0;
    size_t n_scored = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    for (long ch = 0; ch < n_chunks; ch++) {
        tg_token *chunk = toks.ids + ch * n_ctx;
        if (add_bos)
            chunk[0] = bos;
        tg_ctx_seq_truncate(ctx, 0, 0);
        for (long b0 = 0; b0 < n_ctx; b0 += cp.n_ubatch) {
            int32_t n = (int32_t)TG_CLI_MIN(n_ctx - b0, cp.n_ubatch);
            for (int32_t k = 0; k < n; k++)
                want[k] = (b0 + k >= first && b0 + k < n_ctx - 1);
            tg_batch b = {.n = n, .token = chunk + b0, .output = want};
            if (tg_ctx_decode(ctx, &b) != TG_OK) {
                rc = tg_cli_fail("perplexity");
                goto out;
            }
            int32_t out_i = 0;
            for (int32_t k = 0; k < n; k++) {
                if (!want[k])
                    continue;
                const float *row = tg_ctx_logits(ctx, out_i++);
                float max = -INFINITY;
                for (int32_t t = 0; t < n_vocab; t++)
                    if (row[t] > max)
                        max = row[t];
                double sum = 0.0;
                for (int32_t t = 0; t < n_vocab; t++)
                    sum += exp((double)row[t] - (double)max);
                const tg_token next = chunk[b0 + k + 1];
                nll[n_scored++] = -((double)row[next] - (double)max - log(sum));
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double el = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        tg_estimate e = tg_stats_mean(nll, n_scored);
        fprintf(stderr, "\rchunk %ld/%ld  ppl %.4f  %.1f tokens/s  ", ch + 1, n_chunks, exp(e.value),
                (double)((ch + 1) * n_ctx) / el);
    }
    fputc('\n', stderr);
    tg_estimate e = tg_stats_mean(nll, n_scored);
    if (json)
        printf("{\"ppl\":%.6f,\"ppl_lo\":%.6f,\"ppl_hi\":%.6f,\"nll\":%.6f,\"n_tokens\":%zu,\"n_chunks\":%ld,"
               "\"ctx\":%ld}\n",
               exp(e.value), exp(e.lo), exp(e.hi), e.value, e.n, n_chunks, n_ctx);
    else
        printf("perplexity %.4f (95%% interval %.4f – %.4f; %zu tokens scored in %ld chunks of %ld)\n",
               exp(e.value), exp(e.lo), exp(e.hi), e.n, n_chunks, n_ctx);
    rc = 0;
out:
    free(nll);
    free(want);
    free(text);
    tg_tokens_free(&toks);
    tg_ctx_free(ctx);
    tg_model_free(m);
    return rc;
}
