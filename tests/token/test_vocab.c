/*
 * test_vocab.c — loading vocabularies: the accessors on the default model's
 * Gemma 3 vocabulary, llama.cpp's load-time fix-ups on hand-made ones, and
 * malformed files (wrong types, inconsistent lengths, ids out of range,
 * duplicate texts, unsupported tokenizer models), each of which must be a
 * clear error — never a crash or a half-loaded vocabulary.
 */
#include "../test.h"
#include "golden_util.h"
#include "synth_vocab.h"

static const synth_tok BASE[] = {
    {"<unk>", 0, TG_TOKEN_UNKNOWN}, {"<s>", 0, TG_TOKEN_CONTROL}, {"</s>", 0, TG_TOKEN_CONTROL},
    {"a", -1, TG_TOKEN_NORMAL},     {"b", -1, TG_TOKEN_NORMAL},   {"\xe2\x96\x81", -1, TG_TOKEN_NORMAL},
};
#define N_BASE (sizeof BASE / sizeof BASE[0])

/* Loads BASE with one metadata change; returns the status. */
static tg_status load_with(synth_extra_fn extra, tg_vocab **v) {
    return synth_load(BASE, N_BASE, extra, v);
}

/* Expects loading to fail with status s and a message naming `needle`. */
#define EXPECT_LOAD_FAILS(extra, s, needle)                                                    \
    do {                                                                                       \
        tg_vocab *v_ = NULL;                                                                   \
        tg_status st_ = load_with((extra), &v_);                                               \
        CHECK_EQ_INT(st_, (s));                                                                \
        CHECK(v_ == NULL);                                                                     \
        CHECK_ERROR_HAS(needle);                                                               \
        tg_vocab_free(v_);                                                                     \
    } while (0)

/* ---- the default model ---------------------------------------------- */

static void test_gemma(void) {
    char path[GU_PATH];
    CHECK(gu_default_model(path) == 0);
    CHECK_MSG(gu_exists(path), "default model %s not found — run scripts/setup.sh (or set "
                               "TINGLADO_MODEL)", path);
    tg_gguf *g = tg_gguf_open(path);
    CHECK_MSG(g != NULL, "%s", tg_last_error());
    if (!g)
        return;
    tg_vocab *v = tg_vocab_load(g);
    CHECK_MSG(v != NULL, "%s", tg_last_error());
    tg_gguf_close(g); /* the vocabulary must not depend on the file */
    if (!v)
        return;
    CHECK_EQ_INT(tg_vocab_kind_of(v), TG_VOCAB_SPM);
    CHECK_EQ_STR(tg_vocab_model_name(v), "llama");
    CHECK_EQ_STR(tg_vocab_pre_name(v), "default");
    CHECK_EQ_INT(tg_vocab_n_tokens(v), 262144);
    CHECK_EQ_INT(tg_vocab_bos(v), 2);
    CHECK_EQ_INT(tg_vocab_eos(v), 1);
    /* not in the file: found by its text, as llama.cpp does */
    CHECK_EQ_INT(tg_vocab_eot(v), 106);
    CHECK(tg_vocab_add_bos(v));
    CHECK(!tg_vocab_add_eos(v));
    CHECK(!v->add_space_prefix);
    CHECK(tg_vocab_is_eog(v, 1) && tg_vocab_is_eog(v, 106));
    CHECK(!tg_vocab_is_eog(v, 2) && !tg_vocab_is_eog(v, -1) && !tg_vocab_is_eog(v, 1 << 30));
    CHECK_EQ_INT(tg_vocab_find(v, "<start_of_turn>", 15), 105);
    CHECK_EQ_INT(tg_vocab_find(v, "<start_of_turn", 14), -1);
    CHECK_EQ_INT(tg_vocab_find(v, "<0x0A>", 6), 248);
    CHECK_EQ_INT(tg_vocab_find(v, NULL, 0), -1);
    CHECK_EQ_INT(tg_vocab_token_type(v, 105), TG_TOKEN_CONTROL);
    CHECK_EQ_INT(tg_vocab_token_type(v, 248), TG_TOKEN_BYTE);
    CHECK_EQ_INT(tg_vocab_token_type(v, 107), TG_TOKEN_USER_DEFINED); /* "\n" */
    CHECK_EQ_INT(tg_vocab_token_type(v, -1), TG_TOKEN_UNDEFINED);
    CHECK_EQ_INT(tg_vocab_token_type(v, 262144), TG_TOKEN_UNDEFINED);
    tg_str t = tg_vocab_token_text(v, 2);
    CHECK(t.len == 5 && !memcmp(t.ptr, "<bos>", 5));
    t = tg_vocab_token_text(v, 262144);
    CHECK(t.ptr == NULL && t.len == 0);
    /* every token's text finds the token back */
    int bad = 0;
    for (int32_t id = 0; id < tg_vocab_n_tokens(v); id++) {
        tg_str s = tg_vocab_token_text(v, id);
        bad += tg_vocab_find(v, s.ptr, s.len) != id;
    }
    CHECK_EQ_INT(bad, 0);
    /* the special list is longest first */
    for (size_t i = 1; i < v->n_special; i++)
        CHECK(v->text[v->special[i - 1]].len >= v->text[v->special[i]].len);
    tg_vocab_free(v);
}

/* ---- llama.cpp's fix-ups on hand-made vocabularies ------------------- */

static const synth_tok CHAT[] = {
    {"<unk>", 0, TG_TOKEN_UNKNOWN},     {"<s>", 0, TG_TOKEN_CONTROL},
    {"</s>", 0, TG_TOKEN_CONTROL},      {"<|endoftext|>", 0, TG_TOKEN_NORMAL},
    {"<|im_end|>", 0, TG_TOKEN_NORMAL}, {"<unused3>", 0, TG_TOKEN_CONTROL},
    {"", 0, TG_TOKEN_NORMAL},           {"x", 0, 99 /* no such type */},
    {"\xe2\x96\x81", 0, TG_TOKEN_NORMAL},
};

static void test_fixups(void) {
    tg_vocab *v = NULL;
    tg_status s = synth_load(CHAT, TG_ARRAY_LEN(CHAT), NULL, &v);
    CHECK_MSG(s == TG_OK, "%s", tg_last_error());
    if (!v)
        return;
    /* EOT by text, the most specific name first; promoted to CONTROL */
    CHECK_EQ_INT(tg_vocab_eot(v), 4);
    CHECK_EQ_INT(tg_vocab_token_type(v, 4), TG_TOKEN_CONTROL);
    /* every end-of-generation name counts, and the EOS */
    CHECK(tg_vocab_is_eog(v, 2) && tg_vocab_is_eog(v, 3) && tg_vocab_is_eog(v, 4));
    CHECK(!tg_vocab_is_eog(v, 1));
    CHECK(v->attrs[3] & TG__ATTR_CONTROL);
    /* control tokens named "unused…" are unused */
    CHECK(v->attrs[5] & TG__ATTR_UNUSED);
    /* an empty token is renamed as llama.cpp does; an unknown type is undefined */
    tg_str t = tg_vocab_token_text(v, 6);
    CHECK(t.len == 9 && !memcmp(t.ptr, "[EMPTY_6]", 9));
    CHECK_EQ_INT(tg_vocab_token_type(v, 7), TG_TOKEN_UNDEFINED);
    /* "<|im_end|>" is now special text */
    tg_tokens ids = synth_tok_ids(v, "x<|im_end|>", false, true, &s);
    CHECK_MSG(s == TG_OK, "%s", tg_last_error());
    CHECK(synth_ids_are(&ids, IDS(8, 7, 4)));
    tg_tokens_free(&ids);
    tg_vocab_free(v);
}

/* ---- malformed vocabularies ----------------------------------------- */

static void no_model(tg_gguf_writer *w) {
    tg_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    /* the writer cannot delete keys: overwrite with another type instead */
    tg_gguf_writer_set_u32(w, "tokenizer.ggml.model", 7);
}
static void model_bert(tg_gguf_writer *w) { tg_gguf_writer_set_str(w, "tokenizer.ggml.model", "rwkv"); }
static void model_t5(tg_gguf_writer *w) { tg_gguf_writer_set_str(w, "tokenizer.ggml.model", "plamo2"); }
static void model_odd(tg_gguf_writer *w) { tg_gguf_writer_set_str(w, "tokenizer.ggml.model", "klingon"); }
static void short_scores(tg_gguf_writer *w) {
    float sc[N_BASE - 1] = {0};
    tg_gguf_writer_set_array(w, "tokenizer.ggml.scores", TG_GGUF_FLOAT32, sc, N_BASE - 1);
}
static void long_types(tg_gguf_writer *w) {
    int32_t ty[N_BASE + 1] = {0};
    tg_gguf_writer_set_array(w, "tokenizer.ggml.token_type", TG_GGUF_INT32, ty, N_BASE + 1);
}
static void float_types(tg_gguf_writer *w) {
    float ty[N_BASE] = {0};
    tg_gguf_writer_set_array(w, "tokenizer.ggml.token_type", TG_GGUF_FLOAT32, ty, N_BASE);
}
static void string_scores(tg_gguf_writer *w) {
    const char *sc[N_BASE] = {"1", "2", "3", "4", "5", "6"};
    tg_gguf_writer_set_str_array(w, "tokenizer.ggml.scores", sc, N_BASE);
}
static void int_tokens(tg_gguf_writer *w) {
    int32_t t[N_BASE] = {0};
    tg_gguf_writer_set_array(w, "tokenizer.ggml.tokens", TG_GGUF_INT32, t, N_BASE);
}
static void scalar_tokens(tg_gguf_writer *w) { tg_gguf_writer_set_str(w, "tokenizer.ggml.tokens", "a"); }
static void no_tokens(tg_gguf_writer *w) {
    tg_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", NULL, 0);
    tg_gguf_writer_set_array(w, "tokenizer.ggml.scores", TG_GGUF_FLOAT32, NULL, 0);
    tg_gguf_writer_set_array(w, "tokenizer.ggml.token_type", TG_GGUF_INT32, NULL, 0);
}
static void dup_tokens(tg_gguf_writer *w) {
    const char *t[N_BASE] = {"<unk>", "<s>", "</s>", "a", "b", "a"};
    tg_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", t, N_BASE);
}
static void huge_token(tg_gguf_writer *w) {
    static char big[70000];
    memset(big, 'a', sizeof big - 1);
    const char *t[N_BASE] = {"<unk>", "<s>", "</s>", "a", "b", big};
    tg_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", t, N_BASE);
}
static void bos_out_of_range(tg_gguf_writer *w) { tg_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 6); }
static void bos_negative(tg_gguf_writer *w) { tg_gguf_writer_set_i32(w, "tokenizer.ggml.bos_token_id", -1); }
static void eos_string(tg_gguf_writer *w) { tg_gguf_writer_set_str(w, "tokenizer.ggml.eos_token_id", "2"); }
static void eot_far(tg_gguf_writer *w) { tg_gguf_writer_set_u32(w, "tokenizer.ggml.eot_token_id", 1u << 31); }
static void add_bos_int(tg_gguf_writer *w) { tg_gguf_writer_set_u32(w, "tokenizer.ggml.add_bos_token", 1); }
static void pre_int(tg_gguf_writer *w) { tg_gguf_writer_set_u32(w, "tokenizer.ggml.pre", 1); }

static void test_malformed(void) {
    EXPECT_LOAD_FAILS(no_model, TG_ERR_TYPE, "tokenizer.ggml.model");
    EXPECT_LOAD_FAILS(model_bert, TG_ERR_UNSUPPORTED, "'rwkv'"); /* bert: wordpiece.c */
    EXPECT_LOAD_FAILS(model_t5, TG_ERR_UNSUPPORTED, "'plamo2'"); /* t5: ugm.c */
    EXPECT_LOAD_FAILS(model_odd, TG_ERR_UNSUPPORTED, "'klingon'");
    EXPECT_LOAD_FAILS(short_scores, TG_ERR_FORMAT, "5 scores for 6 tokens");
    EXPECT_LOAD_FAILS(long_types, TG_ERR_FORMAT, "7 token types for 6 tokens");
    EXPECT_LOAD_FAILS(float_types, TG_ERR_TYPE, "tokenizer.ggml.token_type");
    EXPECT_LOAD_FAILS(string_scores, TG_ERR_TYPE, "tokenizer.ggml.scores");
    EXPECT_LOAD_FAILS(int_tokens, TG_ERR_TYPE, "tokenizer.ggml.tokens");
    EXPECT_LOAD_FAILS(scalar_tokens, TG_ERR_TYPE, "tokenizer.ggml.tokens");
    EXPECT_LOAD_FAILS(no_tokens, TG_ERR_RANGE, "0 tokens");
    EXPECT_LOAD_FAILS(dup_tokens, TG_ERR_FORMAT, "tokens 3 and 5 have the same text 'a'");
    EXPECT_LOAD_FAILS(huge_token, TG_ERR_RANGE, "token 5 is 69999 bytes long");
    EXPECT_LOAD_FAILS(bos_out_of_range, TG_ERR_RANGE, "bos_token_id = 6");
    EXPECT_LOAD_FAILS(bos_negative, TG_ERR_RANGE, "bos_token_id = -1");
    EXPECT_LOAD_FAILS(eos_string, TG_ERR_TYPE, "eos_token_id");
    EXPECT_LOAD_FAILS(eot_far, TG_ERR_RANGE, "eot_token_id");
    EXPECT_LOAD_FAILS(add_bos_int, TG_ERR_TYPE, "add_bos_token");
    EXPECT_LOAD_FAILS(pre_int, TG_ERR_TYPE, "tokenizer.ggml.pre");
}

static void pad_out_of_range(tg_gguf_writer *w) { tg_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", 99); }
static void pad_ok(tg_gguf_writer *w) { tg_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", 4); }

/* Ids nothing depends on fall back to the default, as in llama.cpp. */
static void test_lenient_ids(void) {
    tg_vocab *v = NULL;
    CHECK_EQ_INT(load_with(pad_out_of_range, &v), TG_OK);
    if (v)
        CHECK_EQ_INT(v->pad, -1);
    tg_vocab_free(v);
    v = NULL;
    CHECK_EQ_INT(load_with(pad_ok, &v), TG_OK);
    if (v)
        CHECK_EQ_INT(v->pad, 4);
    tg_vocab_free(v);
}

/* A vocabulary too small for the default BOS: loads, but cannot add one. */
static void no_prefix(tg_gguf_writer *w) {
    tg_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", false);
}

static void test_missing_bos(void) {
    static const synth_tok ONE[] = {{"a", 0, TG_TOKEN_NORMAL}};
    tg_vocab *v = NULL;
    CHECK_EQ_INT(synth_load(ONE, 1, no_prefix, &v), TG_OK);
    if (!v)
        return;
    CHECK_EQ_INT(tg_vocab_bos(v), -1);
    tg_tokens t = {0};
    CHECK_EQ_INT(tg_tokenize(v, "a", 1, (tg_tokenize_opts){true, false}, &t), TG_ERR_FORMAT);
    CHECK_ERROR_HAS("BOS");
    CHECK_EQ_INT(t.n, 0);
    CHECK_EQ_INT(tg_tokenize(v, NULL, 1, (tg_tokenize_opts){false, false}, &t), TG_ERR_ARG);
    CHECK_EQ_INT(tg_tokenize(v, "a", 1, (tg_tokenize_opts){false, false}, &t), TG_OK);
    CHECK_EQ_INT(t.n, 1);
    tg_tokens_free(&t);
    tg_vocab_free(v);
    CHECK(tg_vocab_load(NULL) == NULL);
    tg_vocab_free(NULL);
}

int main(void) {
    RUN(test_gemma);
    RUN(test_fixups);
    RUN(test_malformed);
    RUN(test_lenient_ids);
    RUN(test_missing_bos);
    return tg_test_finish("test_vocab");
}
