/*
 * embed.c — `tinglado embed`: text vectors from a BERT-family GGUF model
 * (the library call behind the server's /v1/embeddings).
 *
 * -p gives one text; -f reads a file with one text per line (a trailing
 * "\r" is dropped, empty lines are texts too: they get the [CLS] [SEP]
 * vector).  Prints one line of space-separated floats per text, or with
 * --json {"model", "dim", "data": [{"index", "n_tokens", "truncated",
 * "embedding"}]}.  Texts longer than the model's limit are truncated and
 * named on stderr.  Exit codes: 0 ok, 1 failure, 2 usage error.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f) {
    fputs("usage: tinglado embed -m MODEL (-p TEXT | -f FILE) [--json] [options]\n"
          "\n"
          "Embed texts with a BERT-family GGUF model (all-MiniLM, bge, e5; see\n"
          "tinglado convert for safetensors models).\n"
          "\n"
          "  -m, --model MODEL     a GGUF embedding model, or a cached model name\n"
          "  -p, --prompt TEXT     one text\n"
          "  -f, --file FILE       one text per line (\"-\" = stdin)\n"
          "      --json            JSON output with token counts and truncation\n"
          "  -t, --threads N       threads (default: all CPUs)\n"
          "      --max-tokens N    tokens kept per text (default: the model's context)\n"
          "      --no-normalize    do not L2-normalise the vectors\n"
          "  -h, --help            this text\n"
          "\n"
          "An empty text gets the vector of [CLS] [SEP]; invalid UTF-8 bytes are\n"
          "dropped; a longer text keeps its first max-tokens - 1 tokens and [SEP].\n",
          f);
}

static void print_vec(const float *v, int32_t dim) {
    for (int32_t d = 0; d < dim; d++)
        printf(d ? " %.9g" : "%.9g", (double)v[d]);
}

int tg_cli_embed(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"prompt", required_argument, 0, 'p'},
        {"file", required_argument, 0, 'f'},  {"json", no_argument, 0, 'j'},
        {"threads", required_argument, 0, 't'}, {"max-tokens", required_argument, 0, 'x'},
        {"no-normalize", no_argument, 0, 'N'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *prompt = NULL, *file = NULL;
    bool json = false;
    tg_embedder_params ep = tg_embedder_default_params();
    long val;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:f:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'p': prompt = optarg; break;
        case 'f': file = optarg; break;
        case 'j': json = true; break;
        case 'N': ep.normalize = false; break;
        case 't':
            if (!tg_cli_parse_int("--threads", optarg, 1, 1024, &val))
                return 2;
            ep.n_threads = (int)val;
            break;
        case 'x':
            if (!tg_cli_parse_int("--max-tokens", optarg, 2, 1 << 20, &val))
                return 2;
            ep.max_tokens = (int32_t)val;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!model || (!prompt == !file) || optind != argc) {
        fprintf(stderr, "tinglado embed: need -m MODEL and exactly one of -p TEXT or -f FILE\n");
        usage(stderr);
        return 2;
    }
    char path[4096];
    if (tg_cli_resolve_model(model, path, sizeof path))
        return tg_cli_fail("embed");

    char *buf = NULL;
    size_t len = 0, n = 0, cap = 0;
    const char **texts = NULL;
    size_t *lens = NULL;
    int rc = 1;
    if (prompt) {
        buf = strdup(prompt);
        len = strlen(prompt);
    } else {
        buf = tg_cli_read_file(file, &len);
    }
    if (!buf)
        return 1;
    /* split into lines (a final newline does not start another text) */
    for (size_t i = 0, start = 0; prompt ? i == 0 : start < len || (len == 0 && i == 0); i++) {
        size_t end = start;
        if (prompt)
            end = len;
        else
            while (end < len && buf[end] != '\n')
                end++;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            const char **t = realloc(texts, cap * sizeof *t);
            size_t *l = t ? realloc(lens, cap * sizeof *l) : NULL;
            if (t)
                texts = t;
            if (!t || !l) {
                fprintf(stderr, "tinglado embed: out of memory\n");
                goto done;
            }
            lens = l;
        }
        size_t ll = end - start;
        if (!prompt && ll && buf[start + ll - 1] == '\r')
            ll--;
        texts[n] = buf + start;
        lens[n++] = ll;
        start = end + 1;
        if (prompt || len == 0)
            break;
    }

    tg_embedder *e = tg_embedder_load(path, &ep);
    if (!e) {
        rc = tg_cli_fail("embed");
        goto done;
    }
    const int32_t dim = tg_embedder_dim(e);
    float *out = malloc(n * (size_t)dim * sizeof *out);
    tg_embed_info *info = malloc(n * sizeof *info);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!out || !info || tg_embed(e, texts, lens, n, out, info)) {
        rc = out && info ? tg_cli_fail("embed") : 1;
        goto done2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    size_t n_tok = 0;
    for (size_t i = 0; i < n; i++) {
        n_tok += (size_t)info[i].n_tokens;
        if (info[i].truncated)
            fprintf(stderr, "tinglado embed: text %zu truncated: %d of its %d tokens kept\n", i, info[i].n_tokens,
                    info[i].n_tokens_text);
    }
    if (json) {
        const char *slash = strrchr(path, '/');
        printf("{\"model\":\"");
        for (const char *p = slash ? slash + 1 : path; *p; p++)
            if (*p == '"' || *p == '\\')
                printf("\\%c", *p);
            else if ((unsigned char)*p >= 0x20)
                putchar(*p);
        printf("\",\"dim\":%d,\"data\":[", dim);
        for (size_t i = 0; i < n; i++) {
            printf("%s{\"index\":%zu,\"n_tokens\":%d,\"truncated\":%s,\"embedding\":[", i ? "," : "", i,
                   info[i].n_tokens, info[i].truncated ? "true" : "false");
            for (int32_t d = 0; d < dim; d++)
                printf(d ? ",%.9g" : "%.9g", (double)out[i * (size_t)dim + d]);
            printf("]}");
        }
        printf("]}\n");
    } else {
        for (size_t i = 0; i < n; i++) {
            print_vec(out + i * (size_t)dim, dim);
            putchar('\n');
        }
    }
    fprintf(stderr, "tinglado embed: %zu texts, %zu tokens in %.3f s (%.1f texts/s)\n", n, n_tok, secs,
            secs > 0 ? (double)n / secs : 0.0);
    rc = 0;
done2:
    free(out);
    free(info);
    tg_embedder_free(e);
done:
    free(texts);
    free(lens);
    free(buf);
    return rc;
}
