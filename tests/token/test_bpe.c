/*
 * test_bpe.c — byte-level BPE (src/token/bpe.c) on tiny vocabularies written
 * with the GGUF writer, where every expected result is worked out by hand
 * from llama.cpp's rules: lowest merge rank first, leftmost on ties,
 * outdated pairs skipped, the first of duplicate merges wins,
 * ignore_merges (llama3-type names) takes a whole-token piece as is, a
 * symbol that is no token falls back to its single bytes (dropped when those
 * are no tokens either), and the byte-free gemma4 variant falls back to
 * <0xXX>.  Malformed or missing merges are load errors.
 * (Agreement with llama.cpp on real vocabularies is test_tokenizer_golden's
 * and test_llama_suite's job.)
 */
#include "../test.h"

#include <unistd.h>

#include "token/vocab.h"

/* Tokens every test vocabulary has; ids follow the order here. */
static const char *const BASE[] = {
    "a",  "b",   "c",   "d",    "ab",  "bc", "abc", "aa", "cd",       "\xc4\xa0" /* "Ġ" = ' ' */,
    ("\xc4\xa0" "a") /* "Ġa" */, "abd", "\xc3", "<pad>", "<0x65>", "\xe2\x96\x81" /* ▁ */,
};
enum { A, B, C, D, AB, BC, ABC, AA, CD, SP, SPA, ABD, RAW_C3, PAD, HEX65, LOWBAR, N_BASE };

/* Writes a vocabulary GGUF and loads it; NULL (with the error kept) if the
 * load fails.  merges == NULL leaves the key out. */
static tg_vocab *make_vocab(const char *model, const char *pre, const char *const *merges,
                            size_t n_merges) {
    char path[] = "/tmp/tg_test_bpe_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    close(fd);
    tg_gguf_writer *w = tg_gguf_writer_new();
    int32_t types[N_BASE];
    for (int i = 0; i < N_BASE; i++)
        types[i] = i == PAD ? TG_TOKEN_CONTROL : TG_TOKEN_NORMAL;
    CHECK_EQ_INT(tg_gguf_writer_set_str(w, "tokenizer.ggml.model", model), TG_OK);
    if (pre)
        CHECK_EQ_INT(tg_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre), TG_OK);
    CHECK_EQ_INT(tg_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", BASE, N_BASE), TG_OK);
    CHECK_EQ_INT(tg_gguf_writer_set_array(w, "tokenizer.ggml.token_type", TG_GGUF_INT32, types, N_BASE),
                 TG_OK);
    CHECK_EQ_INT(tg_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", PAD), TG_OK);
    CHECK_EQ_INT(tg_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", PAD), TG_OK);
    if (merges)
        CHECK_EQ_INT(tg_gguf_writer_set_str_array(w, "tokenizer.ggml.merges", merges, n_merges), TG_OK);
    CHECK_EQ_INT(tg_gguf_writer_write(w, path), TG_OK);
    tg_gguf_writer_free(w);
    tg_gguf *g = tg_gguf_open(path);
    CHECK_MSG(g != NULL, "%s", tg_last_error());
    tg_vocab *v = g ? tg_vocab_load(g) : NULL;
    tg_gguf_close(g);
    unlink(path);
    return v;
}

#define VOCAB(model, pre, ...)                                                                     \
    make_vocab(model, pre, (const char *const[]){__VA_ARGS__},                                     \
               sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* Tokenizes text (no BOS/EOS, no special parsing) and compares with ids. */
static void expect(const tg_vocab *v, const char *text, const tg_token *want, size_t n_want) {
    tg_tokens t = {0};
    tg_status s = tg_tokenize(v, text, strlen(text), (tg_tokenize_opts){false, false}, &t);
    CHECK_MSG(s == TG_OK, "\"%s\": %s", text, tg_last_error());
    bool same = t.n == n_want;
    for (size_t i = 0; same && i < n_want; i++)
        same = t.ids[i] == want[i];
    char got[128] = "";
    for (size_t i = 0, o = 0; i < t.n && o + 8 < sizeof got; i++)
        o += (size_t)snprintf(got + o, sizeof got - o, " %d", t.ids[i]);
    CHECK_MSG(same, "\"%s\" gave [%s ]", text, got);
    tg_tokens_free(&t);
}

#define EXPECT(v, text, ...)                                                                       \
    expect(v, text, (const tg_token[]){__VA_ARGS__},                                               \
           sizeof((const tg_token[]){__VA_ARGS__}) / sizeof(tg_token))

static void test_rank_order(void) {
    /* "b c" outranks "a b": abc → a + bc; the other way round: ab + c */
    tg_vocab *v = VOCAB("gpt2", "gpt-2", "b c", "a b");
    CHECK(v != NULL);
    if (v)
        EXPECT(v, "abc", A, BC);
    tg_vocab_free(v);
    v = VOCAB("gpt2", "gpt-2", "a b", "b c");
    if (v)
        EXPECT(v, "abc", AB, C);
    tg_vocab_free(v);
    /* with "ab c" too, the first merge decides which way it completes */
    v = VOCAB("gpt2", "gpt-2", "a b", "b c", "ab c");
    if (v)
        EXPECT(v, "abc", ABC);
    tg_vocab_free(v);
}

static void test_ties_and_stale(void) {
    /* equal ranks: the leftmost pair merges first, so "aaa" is aa + a */
    tg_vocab *v = VOCAB("gpt2", "gpt-2", "a a");
    CHECK(v != NULL);
    if (v) {
        EXPECT(v, "aaa", AA, A);
        EXPECT(v, "aaaa", AA, AA);
    }
    tg_vocab_free(v);
    /* after b+c merges, the queued pairs a|b and c|d are outdated and must
     * not fire; a|bc and bc|d have no rank */
    v = VOCAB("gpt2", "gpt-2", "b c", "a b", "c d");
    if (v)
        EXPECT(v, "abcd", A, BC, D);
    tg_vocab_free(v);
    /* a duplicate merge keeps its first (lower) rank: "a b" at 0 beats "b c" */
    v = VOCAB("gpt2", "gpt-2", "a b", "b c", "a b");
    if (v)
        EXPECT(v, "abc", AB, C);
    tg_vocab_free(v);
}

static void test_space_and_pieces(void) {
    /* ' ' is byte-encoded as U+0120 "Ġ"; " a" is one piece of the gpt-2 regex */
    tg_vocab *v = VOCAB("gpt2", "gpt-2", "\xc4\xa0 a", "a b");
    CHECK(v != NULL);
    if (v) {
        EXPECT(v, "ab a", AB, SPA);
        /* pieces never merge across: "a" + " a" from "a a" stay apart */
        EXPECT(v, "a a", A, SPA);
    }
    tg_vocab_free(v);
}

static void test_ignore_merges(void) {
    /* "abd" is a token no merge reaches; llama-bpe takes the piece whole */
    tg_vocab *v = VOCAB("gpt2", "llama-bpe", "a b");
    CHECK(v != NULL);
    if (v) {
        CHECK(v->ignore_merges && v->add_bos);
        EXPECT(v, "abd", ABD);
        EXPECT(v, "abcd", AB, C, D); /* no token: merged as usual */
    }
    tg_vocab_free(v);
    v = VOCAB("gpt2", "gpt-2", "a b");
    if (v) {
        CHECK(!v->ignore_merges && !v->add_bos);
        EXPECT(v, "abd", AB, D);
    }
    tg_vocab_free(v);
}

static void test_byte_fallback(void) {
    /* "é" = C3 A9 is byte-encoded as "Ã©" (C3 83 C2 A9); neither character is
     * a token, so each falls back to its single raw bytes: "\xc3" is one (a
     * token on purpose), 83, C2 and A9 are not and are dropped — llama.cpp's
     * behaviour, which loses text on vocabularies without every byte. */
    tg_vocab *v = VOCAB("gpt2", "gpt-2", "a b");
    CHECK(v != NULL);
    if (v) {
        EXPECT(v, "\xc3\xa9", RAW_C3);
        EXPECT(v, "a\xc3\xa9", A, RAW_C3); /* one piece "aé": a, then Ã's fallback */
    }
    tg_vocab_free(v);
    /* the byte-free variant (gemma4): ' ' → U+2581, unknown bytes → <0xXX> */
    v = VOCAB("gemma4", NULL, "a b");
    CHECK(v != NULL);
    if (v)
        EXPECT(v, " ab", LOWBAR, AB);
    tg_vocab_free(v);
    v = VOCAB("gemma4", NULL, "c d");
    if (v)
        EXPECT(v, "ae", A, HEX65); /* 'e' is no token: <0x65> */
    tg_vocab_free(v);
}

static void test_bad_merges(void) {
    tg_vocab *v = VOCAB("gpt2", "gpt-2", "a b", "ab");
    CHECK(v == NULL);
    CHECK_ERROR_HAS("merge 1 \"ab\" is malformed");
    v = VOCAB("gpt2", "gpt-2", "a ");
    CHECK(v == NULL);
    CHECK_ERROR_HAS("malformed");
    v = VOCAB("gpt2", "gpt-2", " a");
    CHECK(v == NULL); /* the split point is the first space after byte 0 */
    v = make_vocab("gpt2", "gpt-2", NULL, 0);
    CHECK(v == NULL);
    CHECK_ERROR_HAS("no BPE merges");
    /* an unknown pre-tokenizer fails to load, as in llama.cpp */
    v = VOCAB("gpt2", "not-a-pre", "a b");
    CHECK(v == NULL);
    CHECK_ERROR_HAS("unknown pre-tokenizer type 'not-a-pre'");
    /* a missing one means "default" */
    v = VOCAB("gpt2", NULL, "a b");
    CHECK(v != NULL);
    if (v)
        EXPECT(v, "ab+c", AB, C); /* "+" is a piece of its own, and no token */
    tg_vocab_free(v);
}

int main(void) {
    RUN(test_rank_order);
    RUN(test_ties_and_stale);
    RUN(test_space_and_pieces);
    RUN(test_ignore_merges);
    RUN(test_byte_fallback);
    RUN(test_bad_merges);
    return tg_test_finish("test_bpe");
}
