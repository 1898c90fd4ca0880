/*
 * test_spm.c — the SentencePiece-style tokenizer on hand-made vocabularies,
 * one rule per test: score order of merges, leftmost tie-break, space
 * prefix, byte fallback (and its single-byte variant), the lead-byte split
 * of invalid UTF-8, special-token partition with and without parse_special,
 * rstrip, BOS/EOS.  Each expectation follows from llama.cpp's algorithm by
 * hand; the golden test (test_tokenizer_golden.c) checks real vocabularies.
 */
#include "../test.h"
#include "synth_vocab.h"

enum { UNK = 0, BOS, EOS, X41, XC3, XA9, SP, A, B, C, AB, BC, SP_A, AA, X61, X62, XF0, END, HR,
       LT, GT, S, RAW_B1, N_TOK };

static const synth_tok TOKS[N_TOK] = {
    [UNK] = {"<unk>", 0, TG_TOKEN_UNKNOWN},    [BOS] = {"<s>", 0, TG_TOKEN_CONTROL},
    [EOS] = {"</s>", 0, TG_TOKEN_CONTROL},     [X41] = {"<0x41>", 0, TG_TOKEN_BYTE},
    [XC3] = {"<0xC3>", 0, TG_TOKEN_BYTE},      [XA9] = {"<0xA9>", 0, TG_TOKEN_BYTE},
    [SP] = {"\xe2\x96\x81", -1, TG_TOKEN_NORMAL}, [A] = {"a", -2, TG_TOKEN_NORMAL},
    [B] = {"b", -2, TG_TOKEN_NORMAL},          [C] = {"c", -2, TG_TOKEN_NORMAL},
    [AB] = {"ab", -5, TG_TOKEN_NORMAL},        [BC] = {"bc", -3, TG_TOKEN_NORMAL},
    [SP_A] = {"\xe2\x96\x81" "a", -6, TG_TOKEN_NORMAL}, [AA] = {"aa", -1, TG_TOKEN_NORMAL},
    [X61] = {"<0x61>", 0, TG_TOKEN_BYTE},      [X62] = {"<0x62>", 0, TG_TOKEN_BYTE},
    [XF0] = {"<0xF0>", 0, TG_TOKEN_BYTE},      [END] = {"<|end|>", 0, TG_TOKEN_CONTROL},
    [HR] = {"<hr>", 0, TG_TOKEN_USER_DEFINED}, [LT] = {"<", -9, TG_TOKEN_NORMAL},
    [GT] = {">", -9, TG_TOKEN_NORMAL},         [S] = {"s", -9, TG_TOKEN_NORMAL},
    [RAW_B1] = {"\xb1", -9, TG_TOKEN_NORMAL},
};

static void no_prefix(tg_gguf_writer *w) {
    tg_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", false);
}
static void with_eos(tg_gguf_writer *w) {
    tg_gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", true);
}
static void phi3_name(tg_gguf_writer *w) {
    tg_gguf_writer_set_str(w, "general.name", "Phi3 mini");
}

static tg_vocab *load(synth_extra_fn extra) {
    tg_vocab *v = NULL;
    tg_status s = synth_load(TOKS, N_TOK, extra, &v);
    CHECK_MSG(s == TG_OK && v, "loading the test vocabulary: %s", tg_last_error());
    return v;
}

/* Tokenizes and compares; add_special/parse_special as given. */
#define EXPECT(v, text, add, parse, ...)                                                           \
    do {                                                                                       \
        tg_status st_;                                                                         \
        tg_tokens t_ = synth_tok_ids((v), (text), (add), (parse), &st_);                       \
        CHECK_MSG(st_ == TG_OK, "tokenize: %s", tg_last_error());                              \
        CHECK_MSG(synth_ids_are(&t_, IDS(__VA_ARGS__)), "text \"%s\"", (text));                \
        tg_tokens_free(&t_);                                                                   \
    } while (0)

static void test_defaults(void) {
    tg_vocab *v = load(NULL);
    if (!v)
        return;
    /* llama.cpp's SPM defaults: bos 1, eos 2, unk 0, BOS added, space prefix */
    CHECK_EQ_INT(tg_vocab_kind_of(v), TG_VOCAB_SPM);
    CHECK_EQ_INT(tg_vocab_bos(v), BOS);
    CHECK_EQ_INT(tg_vocab_eos(v), EOS);
    CHECK_EQ_INT(v->unk, UNK);
    CHECK(tg_vocab_add_bos(v));
    CHECK(!tg_vocab_add_eos(v));
    CHECK(v->add_space_prefix);
    tg_vocab_free(v);
}

static void test_merge_order(void) {
    tg_vocab *v = load(no_prefix);
    if (!v)
        return;
    /* "bc" scores higher than "ab": merged first, and no "abc" exists */
    EXPECT(v, "abc", false, false, A, BC);
    /* equal scores: the leftmost pair wins */
    EXPECT(v, "aaa", false, false, AA, A);
    EXPECT(v, "aaaa", false, false, AA, AA);
    tg_vocab_free(v);
}

static void test_space_prefix(void) {
    tg_vocab *v = load(NULL);
    if (!v)
        return;
    EXPECT(v, "a", false, false, SP_A);
    EXPECT(v, " a", false, false, SP, SP_A);
    tg_tokens t = synth_tok_ids(v, "", false, false, NULL);
    CHECK_EQ_INT(t.n, 0); /* nothing, not even the prefix space */
    tg_tokens_free(&t);
    tg_vocab_free(v);
    v = load(no_prefix);
    if (!v)
        return;
    EXPECT(v, "a", false, false, A);
    EXPECT(v, " a", false, false, SP_A);
    tg_vocab_free(v);
}

static void test_byte_fallback(void) {
    tg_vocab *v = load(no_prefix);
    if (!v)
        return;
    EXPECT(v, "A", false, false, X41);
    EXPECT(v, "\xc3\xa9", false, false, XC3, XA9);
    /* no <0xB1>: the token whose text is that byte */
    EXPECT(v, "\xc3\xb1", false, false, XC3, RAW_B1);
    /* the lead byte F0 claims 4 bytes, so "\xF0ab" is one unknown symbol
     * spelled in bytes even though "a" and "b" are tokens */
    EXPECT(v, "\xf0" "ab", false, false, XF0, X61, X62);
    EXPECT(v, "ab\xf0", false, false, AB, XF0);

    /* a byte with no way to spell it: an error, and nothing appended */
    tg_tokens t = {0};
    tg__tokens_push(&t, 42);
    tg_status s = tg_tokenize(v, "aq", 2, (tg_tokenize_opts){false, false}, &t);
    CHECK_EQ_INT(s, TG_ERR_NOT_FOUND);
    CHECK_ERROR_HAS("<0x71>");
    CHECK_EQ_INT(t.n, 1);
    tg_tokens_free(&t);
    tg_vocab_free(v);
}

static void test_special_partition(void) {
    tg_vocab *v = load(NULL);
    if (!v)
        return;
    /* text after a special token gets the space prefix again */
    EXPECT(v, "a<s>b", false, true, SP_A, BOS, SP, B);
    /* without parse_special, control-token text is plain text */
    EXPECT(v, "a<s>b", false, false, SP_A, LT, S, GT, B);
    /* user-defined tokens are matched either way */
    EXPECT(v, "a<hr>a", false, false, SP_A, HR, SP_A);
    EXPECT(v, "<hr><hr>", false, false, HR, HR);
    /* no rstrip without the phi-3 name: the spaces stay */
    EXPECT(v, "a<|end|>  b", false, true, SP_A, END, SP, SP, SP, B);
    tg_vocab_free(v);

    v = load(phi3_name);
    if (!v)
        return;
    /* llama.cpp gives phi-3's special tokens rstrip: the spaces after go */
    CHECK(v->attrs[END] & TG__ATTR_RSTRIP);
    CHECK(!(v->attrs[BOS] & TG__ATTR_RSTRIP)); /* "<s>" keeps its right side */
    EXPECT(v, "a<|end|>  b", false, true, SP_A, END, SP, B);
    EXPECT(v, "a<|end|>  ", false, true, SP_A, END);
    tg_vocab_free(v);
}

static void test_bos_eos(void) {
    tg_vocab *v = load(NULL);
    if (!v)
        return;
    EXPECT(v, "a", true, false, BOS, SP_A);
    EXPECT(v, "", true, false, BOS);
    tg_vocab_free(v);
    v = load(with_eos);
    if (!v)
        return;
    EXPECT(v, "a", true, false, BOS, SP_A, EOS);
    EXPECT(v, "a", false, false, SP_A);
    tg_vocab_free(v);
}

/* Long input of merges and bytes: exercises the heap, must not fail. */
static void test_long_input(void) {
    tg_vocab *v = load(NULL);
    if (!v)
        return;
    size_t n = 200000;
    char *text = malloc(n);
    unsigned x = 12345;
    static const char alphabet[] = "abc A";
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        text[i] = alphabet[(x >> 16) % 5];
    }
    tg_tokens t = {0};
    tg_status s = tg_tokenize(v, text, n, (tg_tokenize_opts){true, true}, &t);
    CHECK_MSG(s == TG_OK, "%s", tg_last_error());
    CHECK(t.n > n / 3 && t.n <= n + 2);
    /* decoding gives the text back (with the prefix space) */
    size_t cap = n + 16;
    char *back = malloc(cap);
    size_t m = tg_detokenize(v, t.ids, t.n, false, back, cap);
    CHECK_EQ_INT(m, n + 1); /* BOS stops the strip of the first space, as in llama.cpp */
    CHECK(m == n + 1 && back[0] == ' ' && !memcmp(back + 1, text, n));
    free(back);
    free(text);
    tg_tokens_free(&t);
    tg_vocab_free(v);
}

int main(void) {
    RUN(test_defaults);
    RUN(test_merge_order);
    RUN(test_space_prefix);
    RUN(test_byte_fallback);
    RUN(test_special_partition);
    RUN(test_bos_eos);
    RUN(test_long_input);
    return tg_test_finish("test_spm");
}
