/*
 * logits.c — `tinglado logits`: teacher-forced next-token distributions.
 * Feeds a text (or an exact token list) through the model and reports, at
 * every position, the log-probability the model gave the token that really
 * came next and its top alternatives — the raw material of parity checks
 * against llama.cpp, perplexity and the memorisation probe.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: tinglado logits -m MODEL (-p TEXT | -f FILE | --tokens FILE.json) [options]\n"
          "\n"
          "Teacher-forced next-token log-probabilities at every position.\n"
          "\n"
          "  -m, --model PATH        the GGUF model\n"
          "  -p, --prompt TEXT       the text to score\n"
          "  -f, --file PATH         read the text from a file (- for stdin)\n"
          "      --tokens PATH       exact token ids, {\"tokens\":[…]} (no tokenization, no BOS added)\n"
          "      --no-bos            do not add the BOS token to text\n"
          "      --top K             alternatives to list per position (default 5)\n"
          "      --json              one JSON object per line:\n"
          "                          {\"pos\":i,\"token\":id,\"logprob\":lp(next token),\"top\":[[id,lp],…]}\n"
          "      --dump-logits PATH  also write every position's raw logits (float32 LE, n_tokens × n_vocab)\n"
          "      --ctx N             context size (default: the number of tokens)\n"
          "      --kv-type f16|f32   KV cache precision (default f16, as llama.cpp)\n"
          "  -t, --threads N         threads (default: all CPUs)\n"
          "  -h, --help              this text\n",
          f);
}

/* The k largest logits of row (descending), as (id, logprob) pairs. */
static void top_k(const float *row, int32_t n_vocab, int k, double lse, int32_t *ids, double *lps) {
    int have = 0;
    if (k <= 0)
        return;
    for (int32_t t = 0; t < n_vocab; t++) {
        float v = row[t];
        if (have == k && v <= row[ids[k - 1]])
            continue;
        int at = have < k ? have++ : k - 1;
        while (at > 0 && row[ids[at - 1]] < v) {
            ids[at] = ids[at - 1];
            at--;
        }
        ids[at] = t;
    }
    for (int i = 0; i < have; i++)
        lps[i] = (double)row[ids[i]] - lse;
}

static double log_sum_exp(const float *row, int32_t n) {
    float max = -INFINITY;
    for (int32_t i = 0; i < n; i++)
        if (row[i] > max)
            max = row[i];
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++)
        sum += exp((double)row[i] - (double)max);
    return (double)max + log(sum);
}

int tg_cli_logits(int argc, char **argv) {
    enum { OPT_TOKENS = 256, OPT_NO_BOS, OPT_TOP, OPT_JSON, OPT_DUMP, OPT_CTX, OPT_KV };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},   {"prompt", required_argument, NULL, 'p'},
        {"file", required_argument, NULL, 'f'},    {"tokens", required_argument, NULL, OPT_TOKENS},
        {"no-bos", no_argument, NULL, OPT_NO_BOS}, {"top", required_argument, NULL, OPT_TOP},
        {"json", no_argument, NULL, OPT_JSON},     {"dump-logits", required_argument, NULL, OPT_DUMP},
        {"ctx", required_argument, NULL, OPT_CTX}, {"threads", required_argument, NULL, 't'},
        {"kv-type", required_argument, NULL, OPT_KV},
        {"help", no_argument, NULL, 'h'},          {0},
    };
    const char *model_path = NULL, *prompt = NULL, *file = NULL, *tokens_file = NULL, *dump = NULL;
    bool bos = true, json = false;
    tg_type kv_type = TG_TYPE_F16;
    long top = 5, n_ctx = 0, threads = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:f:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'p': prompt = optarg; break;
        case 'f': file = optarg; break;
        case OPT_TOKENS: tokens_file = optarg; break;
        case OPT_NO_BOS: bos = false; break;
        case OPT_JSON: json = true; break;
        case OPT_DUMP: dump = optarg; break;
        case OPT_TOP:
            if (!tg_cli_parse_int("--top", optarg, 0, 1000, &top))
                return 2;
            break;
        case OPT_CTX:
            if (!tg_cli_parse_int("--ctx", optarg, 1, 1 << 24, &n_ctx))
                return 2;
            break;
        case 't':
            if (!tg_cli_parse_int("--threads", optarg, 1, 512, &threads))
                return 2;
            break;
        case OPT_KV:
            if (!tg_cli_parse_kv_type(optarg, &kv_type))
                return 2;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!model_path || optind != argc || (!!prompt + !!file + !!tokens_file) != 1) {
        fputs("tinglado logits: give -m MODEL and exactly one of -p, -f, --tokens\n", stderr);
        usage(stderr);
        return 2;
    }

    int rc = 1;
    tg_model *m = NULL;
    tg_ctx *ctx = NULL;
    tg_tokens toks = {0};
    char *text = NULL;
    FILE *df = NULL;
    int8_t *want = NULL;
    int32_t *ids = NULL;
    double *lps = NULL;

    char path[4096];
    if (tg_cli_resolve_model(model_path, path, sizeof path) != TG_OK) {
        rc = tg_cli_fail("logits");
        goto out;
    }
    m = tg_model_load(path);
    if (!m) {
        rc = tg_cli_fail("logits");
        goto out;
    }
    const tg_vocab *v = tg_model_vocab(m);
    const int32_t n_vocab = tg_model_n_vocab(m);
    if (tokens_file) {
        size_t len;
        if (!(text = tg_cli_read_file(tokens_file, &len)) || !tg_cli_parse_token_list(text, len, &toks))
            goto out;
        for (size_t i = 0; i < toks.n; i++)
            if (toks.ids[i] >= n_vocab) {
                fprintf(stderr, "tinglado: logits: token %d is not in the vocabulary (%d tokens)\n", toks.ids[i],
                        n_vocab);
                goto out;
            }
    } else {
        size_t len = 0;
        if (file) {
            if (!(text = tg_cli_read_file(file, &len)))
                goto out;
        } else {
            len = strlen(prompt);
        }
        tg_tokenize_opts to = {.add_special = bos, .parse_special = false};
        if (tg_tokenize(v, file ? text : prompt, len, to, &toks) != TG_OK) {
            rc = tg_cli_fail("logits: tokenize");
            goto out;
        }
    }
    if (toks.n == 0) {
        fputs("tinglado: logits: nothing to score (no tokens)\n", stderr);
        goto out;
    }
    if (n_ctx == 0)
        n_ctx = (long)toks.n;
    if ((long)toks.n > n_ctx) {
        fprintf(stderr, "tinglado: logits: the text has %zu tokens but the context holds %ld; raise --ctx\n",
                toks.n, n_ctx);
        goto out;
    }
    tg_ctx_params cp = tg_ctx_default_params();
    cp.n_ctx = (int32_t)n_ctx;
    cp.n_ubatch = (int32_t)TG_CLI_MIN(n_ctx, 256);
    cp.n_outputs = cp.n_ubatch;
    cp.n_threads = (int)threads;
    cp.kv_type = kv_type;
    ctx = tg_ctx_new(m, &cp);
    if (!ctx) {
        rc = tg_cli_fail("logits");
        goto out;
    }
    if (dump && !(df = fopen(dump, "wb"))) {
        fprintf(stderr, "tinglado: logits: cannot create %s\n", dump);
        goto out;
    }
    want = malloc((size_t)cp.n_ubatch);
    ids = malloc((size_t)(top > 0 ? top : 1) * sizeof *ids);
    lps = malloc((size_t)(top > 0 ? top : 1) * sizeof *lps);
    if (!want || !ids || !lps)
        goto out;
    memset(want, 1, (size_t)cp.n_ubatch);

    for (size_t i0 = 0; i0 < toks.n; i0 += (size_t)cp.n_ubatch) {
        int32_t n = (int32_t)TG_CLI_MIN(toks.n - i0, (size_t)cp.n_ubatch);
        tg_batch b = {.n = n, .token = toks.ids + i0, .output = want};
        if (tg_ctx_decode(ctx, &b) != TG_OK) {
            rc = tg_cli_fail("logits");
            goto out;
        }
        for (int32_t r = 0; r < n; r++) {
            const float *row = tg_ctx_logits(ctx, r);
            size_t pos = i0 + (size_t)r;
            if (df && fwrite(row, sizeof(float), (size_t)n_vocab, df) != (size_t)n_vocab) {
                fprintf(stderr, "tinglado: logits: write error on %s\n", dump);
                goto out;
            }
            double lse = log_sum_exp(row, n_vocab);
            bool has_next = pos + 1 < toks.n;
            double lp = has_next ? (double)row[toks.ids[pos + 1]] - lse : 0.0;
            top_k(row, n_vocab, (int)top, lse, ids, lps);
            if (json) {
                printf("{\"pos\":%zu,\"token\":%d,\"logprob\":", pos, toks.ids[pos]);
                if (has_next)
                    printf("%.6f", lp);
                else
                    fputs("null", stdout);
                fputs(",\"top\":[", stdout);
                for (long k = 0; k < top; k++)
                    printf("%s[%d,%.6f]", k ? "," : "", ids[k], lps[k]);
                fputs("]}\n", stdout);
            } else {
                char piece[64];
                size_t pl = tg_token_to_piece(v, toks.ids[pos], true, piece, sizeof piece - 1);
                piece[pl < sizeof piece - 1 ? pl : sizeof piece - 1] = 0;
                for (char *q = piece; *q; q++)
                    if ((unsigned char)*q < 0x20)
                        *q = ' ';
                printf("%6zu %8d %-16s", pos, toks.ids[pos], piece);
                if (has_next)
                    printf(" next %8d lp %9.4f", toks.ids[pos + 1], lp);
                else
                    printf(" %26s", "");
                if (top > 0)
                    printf("  top %d (%.4f)", ids[0], lps[0]);
                putchar('\n');
            }
        }
    }
    rc = 0;
out:
    if (df && fclose(df) != 0 && rc == 0) {
        fprintf(stderr, "tinglado: logits: write error on %s\n", dump);
        rc = 1;
    }
    free(want);
    free(ids);
    free(lps);
    free(text);
    tg_tokens_free(&toks);
    tg_ctx_free(ctx);
    tg_model_free(m);
    return rc;
}
