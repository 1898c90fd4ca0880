/*
 * test_tokenizer_golden.c — tinglado's tokenizer against llama.cpp's, on every
 * golden file in tests/golden/tokenizer/ (see its README): for each corpus
 * string and each (add_special, parse_special) pair the ids must be
 * identical; so must the vocabulary facts (special ids, flags, the
 * end-of-generation set, every token's attribute bits), the sampled token
 * pieces and the detokenized texts.  Generic over vocabularies: a golden
 * names its vocabulary, so adding a file here adds its checks (the BPE
 * goldens come in through the same tool and this same test).
 *
 * A missing vocabulary fails (never skips) with what to run.
 * Argument: golden file names to restrict the run to (default: all).
 */
#include "golden_util.h"
#include "../test.h"

#include "token/vocab.h"

#define MAX_MISMATCH_REPORTS 8

typedef struct golden_stats {
    long texts, tokens, mismatches, pieces, detok;
} golden_stats;

static void check_meta(const tg_vocab *v, const char *p, const char *e, const char *name) {
    CHECK_EQ_INT(tg_vocab_n_tokens(v), gu_int(p, e, "n_vocab", -2));
    CHECK_EQ_INT(tg_vocab_bos(v), gu_int(p, e, "bos", -2));
    CHECK_EQ_INT(tg_vocab_eos(v), gu_int(p, e, "eos", -2));
    CHECK_EQ_INT(tg_vocab_eot(v), gu_int(p, e, "eot", -2));
    CHECK_EQ_INT(v->sep, gu_int(p, e, "sep", -2));
    CHECK_EQ_INT(v->pad, gu_int(p, e, "pad", -2));
    CHECK_EQ_INT(v->nl, gu_int(p, e, "nl", -2));
    CHECK_EQ_INT(tg_vocab_add_bos(v), gu_bool(p, e, "add_bos"));
    CHECK_EQ_INT(tg_vocab_add_eos(v), gu_bool(p, e, "add_eos"));
    CHECK_EQ_INT(v->add_sep, gu_bool(p, e, "add_sep"));
    int32_t *eog = NULL;
    long n_eog = gu_ints(p, e, "eog", &eog);
    CHECK_MSG(n_eog >= 0, "%s: meta has no eog list", name);
    long n_ours = 0;
    for (int32_t t = 0; t < tg_vocab_n_tokens(v); t++)
        n_ours += tg_vocab_is_eog(v, t);
    CHECK_EQ_INT(n_ours, n_eog);
    for (long i = 0; i < n_eog; i++)
        CHECK_MSG(tg_vocab_is_eog(v, eog[i]), "%s: token %d ends generation in llama.cpp", name,
                  eog[i]);
    free(eog);
}

/* Every token's attribute bits: the listed ones as given, all others NORMAL. */
static void check_attrs(const tg_vocab *v, const char *p, const char *e, const char *name) {
    int32_t *pairs = NULL;
    long n = gu_ints(p, e, "pairs", &pairs);
    CHECK(n >= 0 && n % 2 == 0);
    uint8_t *listed = calloc((size_t)v->n_tokens, 1);
    int bad = 0;
    for (long i = 0; i + 1 < n; i += 2) {
        int32_t id = pairs[i];
        if (id < 0 || id >= v->n_tokens) {
            CHECK_MSG(0, "%s: attrs lists token %d outside the vocabulary", name, id);
            continue;
        }
        listed[id] = 1;
        if (v->attrs[id] != pairs[i + 1] && bad++ < MAX_MISMATCH_REPORTS)
            CHECK_MSG(0, "%s: token %d '%s' attr 0x%x, llama.cpp 0x%x", name, id,
                      v->text[id].ptr, v->attrs[id], pairs[i + 1]);
    }
    for (int32_t id = 0; id < v->n_tokens; id++)
        if (!listed[id] && v->attrs[id] != TG__ATTR_NORMAL && bad++ < MAX_MISMATCH_REPORTS)
            CHECK_MSG(0, "%s: token %d '%s' attr 0x%x, llama.cpp NORMAL", name, id,
                      v->text[id].ptr, v->attrs[id]);
    CHECK_MSG(bad == 0, "%s: %d tokens with other attributes than llama.cpp", name, bad);
    free(listed);
    free(pairs);
}

static void check_piece(const tg_vocab *v, const char *p, const char *e, const char *name,
                        golden_stats *st) {
    tg_token id = (tg_token)gu_int(p, e, "id", -1);
    for (int special = 0; special < 2; special++) {
        size_t n_want;
        unsigned char *want = gu_hex(p, e, special ? "ps" : "p", &n_want);
        char buf[512];
        size_t n = tg_token_to_piece(v, id, special, buf, sizeof buf);
        CHECK_MSG(want && n == n_want && n <= sizeof buf && !memcmp(buf, want, n),
                  "%s: piece of token %d (special=%d): %zu bytes '%.*s', llama.cpp %zu bytes",
                  name, id, special, n, (int)TG_MIN(n, sizeof buf), buf, n_want);
        free(want);
    }
    st->pieces++;
}

static bool same_ids(const tg_tokens *t, const int32_t *want, long n) {
    return (long)t->n == n && (n == 0 || !memcmp(t->ids, want, (size_t)n * sizeof *want));
}

static void check_text(const tg_vocab *v, const char *p, const char *e, const char *name,
                       golden_stats *st, bool add_bos, bool add_eos) {
    size_t len;
    unsigned char *text = gu_hex(p, e, "hex", &len);
    long idx = (long)gu_int(p, e, "i", -1);
    CHECK_MSG(text != NULL, "%s: text record without hex", name);
    if (!text)
        return;
    static const struct {
        const char *key, *base;
        bool add_special, parse_special;
    } cases[] = {{"ff", NULL, false, false},
                 {"tf", "ff", true, false},
                 {"ft", NULL, false, true},
                 {"tt", "ft", true, true}};
    int32_t *tt = NULL, *ff = NULL;
    long n_tt = -1, n_ff = -1;
    for (size_t c = 0; c < TG_ARRAY_LEN(cases); c++) {
        int32_t *want = NULL;
        long n = gu_ints(p, e, cases[c].key, &want);
        if (n < 0 && cases[c].base) {
            /* absent: llama.cpp's own ids without specials, wrapped as its
             * add_bos/add_eos flags say (the generator checked this holds) */
            int32_t *base = NULL;
            long nb = gu_ints(p, e, cases[c].base, &base);
            CHECK(nb >= 0);
            if (nb < 0)
                continue;
            want = malloc((size_t)(nb + 2) * sizeof *want);
            n = 0;
            if (add_bos)
                want[n++] = tg_vocab_bos(v);
            memcpy(want + n, base, (size_t)nb * sizeof *want);
            n += nb;
            if (add_eos)
                want[n++] = tg_vocab_eos(v);
            free(base);
        }
        CHECK_MSG(n >= 0, "%s: text %ld lacks %s", name, idx, cases[c].key);
        if (n < 0)
            continue;
        tg_tokens got = {0};
        tg_tokenize_opts o = {cases[c].add_special, cases[c].parse_special};
        tg_status s = tg_tokenize(v, (const char *)text, len, o, &got);
        st->tokens += n;
        if (s != TG_OK || !same_ids(&got, want, n)) {
            if (st->mismatches++ < MAX_MISMATCH_REPORTS) {
                char a[400], b[400];
                CHECK_MSG(0, "%s: text %ld (%s, %zu bytes '%.*s') add_special=%d parse_special=%d:\n"
                             "    tinglado %s %s\n    llama.cpp %s",
                          name, idx, cases[c].key, len, (int)TG_MIN(len, 60), text,
                          o.add_special, o.parse_special, s ? tg_last_error() : "",
                          gu_fmt_ids(got.ids, got.n, a, sizeof a), gu_fmt_ids(want, (size_t)n, b, sizeof b));
            } else {
                tg_test_failures++;
            }
        }
        if (!strcmp(cases[c].key, "tt")) {
            tt = want;
            n_tt = n;
            want = NULL;
        } else if (!strcmp(cases[c].key, "ff")) {
            ff = want;
            n_ff = n;
            want = NULL;
        }
        free(want);
        tg_tokens_free(&got);
    }
    /* whole detokenization (llama_detokenize) of the tt ids, special false
     * and true, and of the ff ids (no BOS: the prefix space is stripped) */
    static const struct {
        const char *key;
        bool ff, special;
    } dk[] = {{"dt", false, false}, {"dts", false, true}, {"df", true, false}};
    for (size_t k = 0; k < TG_ARRAY_LEN(dk); k++) {
        const int32_t *ids = dk[k].ff ? ff : tt;
        long n_ids = dk[k].ff ? n_ff : n_tt;
        size_t n_want;
        unsigned char *want = ids ? gu_hex(p, e, dk[k].key, &n_want) : NULL;
        if (!want)
            continue; /* only every few records carry one */
        size_t cap = n_want + 64;
        char *buf = malloc(cap);
        size_t n = tg_detokenize(v, ids, (size_t)n_ids, dk[k].special, buf, cap);
        CHECK_MSG(n == n_want && !memcmp(buf, want, n),
                  "%s: text %ld: detokenize(%s) gave %zu bytes '%.*s', llama.cpp %zu '%.*s'", name,
                  idx, dk[k].key, n, (int)TG_MIN(n, 80), buf, n_want, (int)TG_MIN(n_want, 80), want);
        st->detok++;
        free(buf);
        free(want);
    }
    free(tt);
    free(ff);
    free(text);
    st->texts++;
}

static void run_golden(const char *file) {
    char path[GU_PATH], vpath[GU_PATH];
    GU_FMT(path, "%s/%s", GOLDEN_DIR, file);
    size_t size;
    char *data = gu_read_file(path, &size);
    CHECK_MSG(data != NULL, "cannot read %s (run the tests from the repository root)", path);
    if (!data)
        return;
    const char *end = data + size, *line = data;
    const char *nl = memchr(line, '\n', size);
    const char *le = nl ? nl : end;
    const char *loc;
    long loc_len = gu_str(line, le, "vocab", &loc);
    CHECK_MSG(loc_len > 0 && gu_key(line, le, "format"), "%s: first line is not a meta record", path);
    if (loc_len <= 0 || gu_locate(loc, (size_t)loc_len, vpath)) {
        CHECK_MSG(0, "%s: cannot resolve the vocabulary locator", file);
        free(data);
        return;
    }
    CHECK_MSG(gu_exists(vpath),
              "%s: vocabulary %s not found — run scripts/setup.sh (or set TINGLADO_MODEL / "
              "TINGLADO_VOCAB_DIR)",
              file, vpath);
    tg_gguf *g = gu_exists(vpath) ? tg_gguf_open(vpath) : NULL;
    tg_vocab *v = g ? tg_vocab_load(g) : NULL;
    CHECK_MSG(!gu_exists(vpath) || v != NULL, "%s: loading %s: %s", file, vpath, tg_last_error());
    if (!v) {
        tg_gguf_close(g);
        free(data);
        return;
    }
    check_meta(v, line, le, file);
    bool add_bos = gu_bool(line, le, "add_bos"), add_eos = gu_bool(line, le, "add_eos");
    long n_texts_meta = (long)gu_int(line, le, "n_texts", -1);

    golden_stats st = {0};
    for (line = nl ? nl + 1 : end; line < end; line = le + 1) {
        nl = memchr(line, '\n', (size_t)(end - line));
        le = nl ? nl : end;
        const char *t;
        long tl = gu_str(line, le, "t", &t);
        if (tl == 5 && !memcmp(t, "attrs", 5))
            check_attrs(v, line, le, file);
        else if (tl == 5 && !memcmp(t, "piece", 5))
            check_piece(v, line, le, file, &st);
        else if (tl == 4 && !memcmp(t, "text", 4))
            check_text(v, line, le, file, &st, add_bos, add_eos);
        else if (le > line)
            CHECK_MSG(0, "%s: unknown record '%.*s'", file, (int)TG_MIN(le - line, 40), line);
        if (!nl)
            break;
    }
    CHECK_EQ_INT(st.texts, n_texts_meta);
    fprintf(stderr,
            "  %s (%s, %s): %ld strings, %ld token ids compared, %ld mismatches; %ld pieces, "
            "%ld detokenizations\n",
            file, tg_vocab_model_name(v), vpath, st.texts, st.tokens, st.mismatches, st.pieces,
            st.detok);
    tg_vocab_free(v);
    tg_gguf_close(g);
    free(data);
}

static int n_only;
static char **only;

static void test_goldens(void) {
    static char names[64][256];
    int n = gu_list_goldens(names, 64);
    CHECK_MSG(n > 0, "no golden files in %s (run from the repository root)", GOLDEN_DIR);
    for (int i = 0; i < n; i++) {
        bool run = n_only == 0;
        for (int k = 0; k < n_only; k++)
            run |= !strcmp(only[k], names[i]);
        if (run)
            run_golden(names[i]);
    }
}

int main(int argc, char **argv) {
    n_only = argc - 1;
    only = argv + 1;
    RUN(test_goldens);
    return tg_test_finish("test_tokenizer_golden");
}
