/*
 * test_llama_suite.c — llama.cpp's own tokenizer test suite
 * (tests/test-tokenizer-0.cpp) run against tinglado: for every
 * ggml-vocab-NAME.gguf of the vocabulary directory that has NAME.gguf.inp and
 * NAME.gguf.out, each input (the .inp split on "\n__ggml_vocab_test__\n") is
 * tokenized without BOS/EOS and without special-token parsing and must give
 * exactly the ids of the matching .out line (ids separated by spaces, the
 * line stripped of surrounding whitespace).
 *
 * Every vocabulary is reported: supported and passing, unsupported (loading
 * says TG_ERR_UNSUPPORTED: its tokenizer or pre-tokenizer is not implemented),
 * or without test files.  Unsupported ones are listed, not failed — except
 * the ones tinglado promises (REQUIRED below), and any other load error fails.
 * The directory is $TINGLADO_VOCAB_DIR or <cache>/llama.cpp-vocab; if it is
 * missing the test fails and says to run scripts/setup.sh.
 */
#include "golden_util.h"
#include "../test.h"

#include "token/vocab.h"

#include <dirent.h>

/* Vocabularies whose whole suite must pass: the SentencePiece ones. */
static const char *const REQUIRED[] = {"ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf", NULL};

static const char SEP[] = "\n__ggml_vocab_test__\n";

static bool is_required(const char *name) {
    for (const char *const *r = REQUIRED; *r; r++)
        if (!strcmp(*r, name))
            return true;
    return false;
}

/* The k-th input of the .inp text (k counted from 0); false past the end. */
static bool next_input(const char **pos, const char *end, const char **s, size_t *n) {
    if (*pos >= end)
        return false;
    const char *p = *pos;
    const char *hit = NULL;
    size_t sl = sizeof SEP - 1;
    for (const char *q = p; q + sl <= end; q++)
        if (*q == '\n' && !memcmp(q, SEP, sl)) {
            hit = q;
            break;
        }
    *s = p;
    if (!hit) {
        *n = (size_t)(end - p);
        *pos = end;
    } else {
        *n = (size_t)(hit - p);
        *pos = hit + sl;
    }
    return true;
}

/* The next .out line, stripped, parsed into ids; false past the end. */
static bool next_expected(const char **pos, const char *end, int32_t *ids, size_t cap, size_t *n) {
    if (*pos >= end)
        return false;
    const char *p = *pos, *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    *pos = nl ? nl + 1 : end;
    *n = 0;
    while (p < le) {
        while (p < le && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        if (p >= le)
            break;
        char *e;
        long v = strtol(p, &e, 10);
        if (e == p)
            break;
        if (*n < cap)
            ids[*n] = (int32_t)v;
        (*n)++;
        p = e;
    }
    return true;
}

typedef struct suite_result {
    int n_files, n_supported, n_unsupported, n_untested, n_broken;
    char unsupported[4096];
    char untested[2048];
} suite_result;

static void run_vocab(const char *dir, const char *name, suite_result *res) {
    char path[GU_PATH], inp[GU_PATH], outp[GU_PATH];
    if (GU_FMT(path, "%s/%s", dir, name) || GU_FMT(inp, "%s.inp", path) ||
        GU_FMT(outp, "%s.out", path)) {
        CHECK_MSG(0, "%s: path too long", name);
        return;
    }
    size_t n_in, n_out;
    char *in = gu_read_file(inp, &n_in), *out = gu_read_file(outp, &n_out);
    res->n_files++;
    if (!in || !out) {
        size_t l = strlen(res->untested);
        snprintf(res->untested + l, sizeof res->untested - l, " %s", name);
        res->n_untested++;
        free(in);
        free(out);
        return;
    }
    tg_gguf *g = tg_gguf_open(path);
    CHECK_MSG(g != NULL, "%s: %s", name, tg_last_error());
    tg_vocab *v = NULL;
    tg_status st_load = g ? tg__vocab_load(g, &v) : TG_ERR_IO;
    if (!v) {
        bool unsupported = g && st_load == TG_ERR_UNSUPPORTED;
        const char *why = tg_last_error();
        if (!unsupported) {
            CHECK_MSG(0, "%s: loading failed: %s", name, why);
            res->n_broken++;
        } else {
            CHECK_MSG(!is_required(name), "%s must be supported: %s", name, why);
            size_t l = strlen(res->unsupported);
            snprintf(res->unsupported + l, sizeof res->unsupported - l, "\n    %s: %s", name, why);
            res->n_unsupported++;
        }
        tg_gguf_close(g);
        free(in);
        free(out);
        return;
    }
    res->n_supported++;
    const char *ip = in, *ie = in + n_in, *op = out, *oe = out + n_out;
    const char *s;
    size_t len, n_want;
    int32_t want[4096];
    int n_cases = 0, n_fail = 0;
    long n_ids = 0;
    while (next_input(&ip, ie, &s, &len)) {
        if (!next_expected(&op, oe, want, TG_ARRAY_LEN(want), &n_want)) {
            CHECK_MSG(0, "%s: more inputs than output lines", name);
            break;
        }
        n_cases++;
        tg_tokens got = {0};
        tg_status st = tg_tokenize(v, s, len, (tg_tokenize_opts){false, false}, &got);
        bool ok = st == TG_OK && n_want <= TG_ARRAY_LEN(want) && got.n == n_want &&
                  (n_want == 0 || !memcmp(got.ids, want, n_want * sizeof *want));
        n_ids += (long)n_want;
        if (!ok) {
            char a[400], b[400];
            n_fail++;
            CHECK_MSG(0, "%s: case %d '%.*s':\n    tinglado  %s %s\n    llama.cpp %s", name, n_cases,
                      (int)TG_MIN(len, 60), s, st ? tg_last_error() : "",
                      gu_fmt_ids(got.ids, got.n, a, sizeof a),
                      gu_fmt_ids(want, TG_MIN(n_want, TG_ARRAY_LEN(want)), b, sizeof b));
        }
        tg_tokens_free(&got);
    }
    size_t extra;
    CHECK_MSG(!next_expected(&op, oe, want, TG_ARRAY_LEN(want), &extra), "%s: more output lines than inputs",
              name);
    CHECK_MSG(n_cases > 0, "%s: no test cases", name);
    fprintf(stderr, "  %-34s %-6s %-12s %3d/%d cases pass (%ld ids)\n", name, tg_vocab_model_name(v),
            tg_vocab_pre_name(v)[0] ? tg_vocab_pre_name(v) : "-", n_cases - n_fail, n_cases, n_ids);
    tg_vocab_free(v);
    tg_gguf_close(g);
    free(in);
    free(out);
}

static void test_suite(void) {
    char dir[GU_PATH];
    CHECK(gu_vocab_dir(dir) == 0);
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL,
              "vocabulary directory %s not found — run scripts/setup.sh (or set TINGLADO_VOCAB_DIR)",
              dir);
    if (!d)
        return;
    static char names[128][256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 128) {
        size_t l = strlen(e->d_name);
        if (l < 256 && !strncmp(e->d_name, "ggml-vocab-", 11) && l > 5 &&
            !strcmp(e->d_name + l - 5, ".gguf"))
            memcpy(names[n++], e->d_name, l + 1);
    }
    closedir(d);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[256];
            memcpy(t, names[j], 256);
            memcpy(names[j], names[j - 1], 256);
            memcpy(names[j - 1], t, 256);
        }
    for (const char *const *r = REQUIRED; *r; r++) {
        bool found = false;
        for (int i = 0; i < n; i++)
            found |= !strcmp(names[i], *r);
        CHECK_MSG(found, "%s is missing from %s — run scripts/setup.sh", *r, dir);
    }
    suite_result res = {0};
    fprintf(stderr, "  vocabularies in %s:\n", dir);
    for (int i = 0; i < n; i++)
        run_vocab(dir, names[i], &res);
    fprintf(stderr, "  %d vocabularies: %d supported (all cases compared above), %d unsupported, %d "
                    "failing to load, %d without .inp/.out\n",
            res.n_files, res.n_supported, res.n_unsupported, res.n_broken, res.n_untested);
    if (res.n_unsupported)
        fprintf(stderr, "  unsupported:%s\n", res.unsupported);
    if (res.n_untested)
        fprintf(stderr, "  without test files:%s\n", res.untested);
}

int main(void) {
    RUN(test_suite);
    return tg_test_finish("test_llama_suite");
}
