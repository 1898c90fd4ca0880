/*
 * test_model.c — model loading and the forward pass beyond numerical
 * parity (which tests/model/test_parity.c checks against llama.cpp):
 *   - tiny random models written with tinglado's GGUF writer, for every
 *     architecture: they load, and broken variants (unknown architecture,
 *     missing tensor, wrong shape)
 *     fail with a message naming the problem;
 *   - the forward pass is deterministic: batch vs one token at a time, and
 *     1 vs 2 threads, give bit-identical logits;
 *   - contexts and batches are validated (too long, bad positions, bad ids);
 *   - MoE routing counts add up.
 */
#include "tinglado.h"
#include "../test.h"

#include <math.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];

/* ---- a tiny model writer ------------------------------------------------- */

enum { V = 300, E = 64, L = 2, NH = 4, NKV = 2, HD = 16, FF = 96, NEXP = 4 };

typedef struct spec {
    const char *arch;
    bool moe, gemma, qk_norm, bias;
    const char *skip;        /* a tensor to leave out */
    const char *bad_shape;   /* a tensor written with a wrong shape */
    int32_t ctx_len;
} spec;

static uint64_t rng_state = 1;
static float frand(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) & 0xFFFFFF) / (float)0xFFFFFF * 2.0f - 1.0f;
}

static void add(tg_gguf_writer *w, const spec *s, const char *name, int64_t n0, int64_t n1, int64_t n2,
                float scale, float offset) {
    if (s->skip && !strcmp(name, s->skip))
        return;
    int64_t ne[3] = {n0, n1, n2};
    if (s->bad_shape && !strcmp(name, s->bad_shape))
        ne[0] += 32;
    uint32_t nd = n2 > 1 ? 3 : n1 > 1 ? 2 : 1;
    size_t n = (size_t)(ne[0] * ne[1] * ne[2]);
    float *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = offset + scale * frand();
    CHECK(tg_gguf_writer_add_tensor(w, name, TG_TYPE_F32, nd, ne, d) == TG_OK);
    free(d);
}

static const char *write_model(const spec *s, const char *file) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, file);
    rng_state = 12345;
    tg_gguf_writer *w = tg_gguf_writer_new();
    char k[128];
    tg_gguf_writer_set_str(w, "general.architecture", s->arch);
#define KEY(suffix) (snprintf(k, sizeof k, "%s." suffix, s->arch), k)
    tg_gguf_writer_set_u32(w, KEY("context_length"), (uint32_t)(s->ctx_len ? s->ctx_len : 256));
    tg_gguf_writer_set_u32(w, KEY("embedding_length"), E);
    tg_gguf_writer_set_u32(w, KEY("block_count"), L);
    tg_gguf_writer_set_u32(w, KEY("feed_forward_length"), FF);
    tg_gguf_writer_set_u32(w, KEY("attention.head_count"), NH);
    tg_gguf_writer_set_u32(w, KEY("attention.head_count_kv"), NKV);
    tg_gguf_writer_set_u32(w, KEY("attention.key_length"), HD);
    tg_gguf_writer_set_u32(w, KEY("attention.value_length"), HD);
    tg_gguf_writer_set_f32(w, KEY("attention.layer_norm_rms_epsilon"), 1e-6f);
    if (s->gemma)
        tg_gguf_writer_set_u32(w, KEY("attention.sliding_window"), 8);
    if (s->moe) {
        tg_gguf_writer_set_u32(w, KEY("expert_count"), NEXP);
        tg_gguf_writer_set_u32(w, KEY("expert_used_count"), 2);
    }
#undef KEY
    /* vocabulary: byte tokens plus specials, SentencePiece style */
    const char *toks[V];
    float scores[V];
    int32_t types[V];
    static char names[V][16];
    for (int i = 0; i < V; i++) {
        if (i == 0) snprintf(names[i], 16, "<unk>");
        else if (i == 1) snprintf(names[i], 16, "<s>");
        else if (i == 2) snprintf(names[i], 16, "</s>");
        else if (i < 3 + 256) snprintf(names[i], 16, "<0x%02X>", i - 3);
        else snprintf(names[i], 16, "tok%d", i);
        toks[i] = names[i];
        scores[i] = -(float)i;
        types[i] = i == 0 ? TG_TOKEN_UNKNOWN : i < 3 ? TG_TOKEN_CONTROL : i < 259 ? TG_TOKEN_BYTE : TG_TOKEN_NORMAL;
    }
    tg_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    tg_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", toks, V);
    tg_gguf_writer_set_array(w, "tokenizer.ggml.scores", TG_GGUF_FLOAT32, scores, V);
    tg_gguf_writer_set_array(w, "tokenizer.ggml.token_type", TG_GGUF_INT32, types, V);
    tg_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    tg_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);

    add(w, s, "token_embd.weight", E, V, 1, 1.0f, 0.0f);
    add(w, s, "output_norm.weight", E, 1, 1, 0.1f, 1.0f);
    char n[96];
    for (int il = 0; il < L; il++) {
#define T(fmt) (snprintf(n, sizeof n, "blk.%d." fmt, il), n)
        add(w, s, T("attn_norm.weight"), E, 1, 1, 0.1f, 1.0f);
        add(w, s, T("attn_q.weight"), E, NH * HD, 1, 0.2f, 0.0f);
        add(w, s, T("attn_k.weight"), E, NKV * HD, 1, 0.2f, 0.0f);
        add(w, s, T("attn_v.weight"), E, NKV * HD, 1, 0.2f, 0.0f);
        add(w, s, T("attn_output.weight"), NH * HD, E, 1, 0.2f, 0.0f);
        if (s->bias) {
            add(w, s, T("attn_q.bias"), NH * HD, 1, 1, 0.1f, 0.0f);
            add(w, s, T("attn_k.bias"), NKV * HD, 1, 1, 0.1f, 0.0f);
            add(w, s, T("attn_v.bias"), NKV * HD, 1, 1, 0.1f, 0.0f);
        }
        if (s->qk_norm) {
            add(w, s, T("attn_q_norm.weight"), HD, 1, 1, 0.1f, 1.0f);
            add(w, s, T("attn_k_norm.weight"), HD, 1, 1, 0.1f, 1.0f);
        }
        if (s->gemma) {
            add(w, s, T("post_attention_norm.weight"), E, 1, 1, 0.1f, 1.0f);
            add(w, s, T("post_ffw_norm.weight"), E, 1, 1, 0.1f, 1.0f);
        }
        add(w, s, T("ffn_norm.weight"), E, 1, 1, 0.1f, 1.0f);
        if (s->moe) {
            add(w, s, T("ffn_gate_inp.weight"), E, NEXP, 1, 1.0f, 0.0f);
            add(w, s, T("ffn_gate_exps.weight"), E, FF, NEXP, 0.2f, 0.0f);
            add(w, s, T("ffn_up_exps.weight"), E, FF, NEXP, 0.2f, 0.0f);
            add(w, s, T("ffn_down_exps.weight"), FF, E, NEXP, 0.2f, 0.0f);
        } else {
            add(w, s, T("ffn_gate.weight"), E, FF, 1, 0.2f, 0.0f);
            add(w, s, T("ffn_up.weight"), E, FF, 1, 0.2f, 0.0f);
            add(w, s, T("ffn_down.weight"), FF, E, 1, 0.2f, 0.0f);
        }
#undef T
    }
    tg_status st = tg_gguf_writer_write(w, path);
    tg_gguf_writer_free(w);
    CHECK_MSG(st == TG_OK, "writing %s: %s", path, tg_last_error());
    return path;
}

static const spec LLAMA = {.arch = "llama"};
static const spec MOE = {.arch = "llama", .moe = true};
static const spec QWEN2 = {.arch = "qwen2", .bias = true};
static const spec QWEN3 = {.arch = "qwen3", .qk_norm = true};
static const spec GEMMA3 = {.arch = "gemma3", .gemma = true, .qk_norm = true};

/* ---- helpers --------------------------------------------------------------- */

static tg_ctx *make_ctx(const tg_model *m, int threads, int32_t n_ctx, int32_t n_outputs) {
    tg_ctx_params p = tg_ctx_default_params();
    p.n_threads = threads;
    p.n_ctx = n_ctx;
    p.n_outputs = n_outputs;
    p.n_ubatch = 16; /* several micro-batches for the longer inputs */
    return tg_ctx_new(m, &p);
}

/* Logits of every position of toks, evaluated as one batch. */
static float *all_logits(tg_ctx *c, const tg_token *toks, int32_t n, int32_t nv) {
    int8_t *want = malloc((size_t)n);
    memset(want, 1, (size_t)n);
    tg_batch b = {.n = n, .token = toks, .output = want};
    float *out = NULL;
    if (tg_ctx_decode(c, &b) == TG_OK) {
        out = malloc((size_t)n * (size_t)nv * sizeof *out);
        for (int32_t i = 0; i < n; i++)
            memcpy(out + (size_t)i * nv, tg_ctx_logits(c, i), (size_t)nv * sizeof *out);
    } else {
        fprintf(stderr, "decode: %s\n", tg_last_error());
    }
    free(want);
    return out;
}

/* ---- tests ------------------------------------------------------------------- */

static void check_architecture(const spec *s, const char *file, int32_t n_tok) {
    const char *path = write_model(s, file);
    tg_model *m = tg_model_load(path);
    CHECK_MSG(m != NULL, "%s: %s", file, tg_last_error());
    if (!m)
        return;
    const int32_t nv = tg_model_n_vocab(m);
    tg_token toks[64];
    for (int32_t i = 0; i < n_tok; i++)
        toks[i] = i == 0 ? 1 : (tg_token)(3 + (i * 37) % (V - 3));

    tg_ctx *a = make_ctx(m, 2, 64, 64), *b = make_ctx(m, 1, 64, 64);
    float *batch = all_logits(a, toks, n_tok, nv);
    CHECK(batch != NULL);
    /* one token at a time, one thread: identical bits */
    int mismatches = 0;
    bool finite = true;
    for (int32_t i = 0; batch && i < n_tok; i++) {
        tg_batch one = {.n = 1, .token = &toks[i]};
        CHECK(tg_ctx_decode(b, &one) == TG_OK);
        const float *l = tg_ctx_logits(b, 0);
        if (memcmp(l, batch + (size_t)i * nv, (size_t)nv * sizeof *l) != 0)
            mismatches++;
        for (int32_t t = 0; t < nv; t++)
            finite = finite && isfinite(l[t]);
    }
    CHECK_MSG(mismatches == 0, "%s: %d of %d positions differ between batch/2 threads and sequential/1 thread",
              file, mismatches, n_tok);
    CHECK_MSG(finite, "%s: non-finite logits", file);
    if (s->moe) {
        const uint64_t *counts = tg_ctx_moe_counts(b);
        CHECK(counts != NULL);
        for (int il = 0; counts && il < L; il++) {
            uint64_t sum = 0;
            int used = 0;
            for (int e = 0; e < NEXP; e++) {
                sum += counts[il * NEXP + e];
                used += counts[il * NEXP + e] > 0;
            }
            CHECK_MSG(sum == (uint64_t)n_tok * 2, "layer %d routed %llu tokens, want %d × 2", il,
                      (unsigned long long)sum, n_tok);
            CHECK_MSG(used >= 2, "layer %d used only %d experts", il, used);
        }
    } else {
        CHECK(tg_ctx_moe_counts(b) == NULL);
    }
    free(batch);
    tg_ctx_free(a);
    tg_ctx_free(b);
    tg_model_free(m);
}

static void test_llama(void) { check_architecture(&LLAMA, "llama.gguf", 40); }
static void test_moe(void) { check_architecture(&MOE, "moe.gguf", 40); }
static void test_qwen2(void) { check_architecture(&QWEN2, "qwen2.gguf", 40); }
static void test_qwen3(void) { check_architecture(&QWEN3, "qwen3.gguf", 40); }
/* 40 tokens cross gemma3's sliding window of 8 on the local layer */
static void test_gemma3(void) { check_architecture(&GEMMA3, "gemma3.gguf", 40); }

static void expect_load_error(const spec *s, const char *file, const char *needle) {
    const char *path = write_model(s, file);
    tg_model *m = tg_model_load(path);
    CHECK_MSG(m == NULL, "%s: loaded", file);
    if (m) {
        tg_model_free(m);
        return;
    }
    CHECK_MSG(strstr(tg_last_error(), needle) != NULL, "%s: \"%s\" lacks \"%s\"", file, tg_last_error(), needle);
    CHECK_MSG(strstr(tg_last_error(), file) != NULL, "%s: message does not name the file", file);

    /* and through the CLI: exit code 1 with the same message */
    const char *bin = tg_test_env("TINGLADO_BIN", "build/asan/tinglado");
    char cmd[1024], out[2048];
    snprintf(cmd, sizeof cmd, "%s run -m '%s' --raw -p hello -n 1 2>&1 >/dev/null", bin, path);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = 0;
    int st = p ? pclose(p) : -1;
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: tinglado run exit status %d; output %s", file, st, out);
    CHECK_MSG(strstr(out, needle) != NULL, "%s: CLI said \"%s\"", file, out);
}

static void test_load_errors(void) {
    spec s = LLAMA;
    s.arch = "mamba";
    expect_load_error(&s, "unknown-arch.gguf", "architecture 'mamba' is not supported");
    s = LLAMA;
    s.skip = "blk.1.attn_k.weight";
    expect_load_error(&s, "missing-tensor.gguf", "missing tensor 'blk.1.attn_k.weight'");
    s = LLAMA;
    s.bad_shape = "blk.0.ffn_up.weight";
    expect_load_error(&s, "bad-shape.gguf", "tensor 'blk.0.ffn_up.weight' has shape");
    s = GEMMA3;
    s.skip = "blk.0.post_ffw_norm.weight";
    expect_load_error(&s, "gemma-missing-norm.gguf", "missing tensor 'blk.0.post_ffw_norm.weight'");
    s = QWEN3;
    s.skip = "blk.0.attn_q_norm.weight";
    expect_load_error(&s, "qwen3-missing-qnorm.gguf", "missing tensor 'blk.0.attn_q_norm.weight'");
    s = MOE;
    s.skip = "blk.1.ffn_down_exps.weight";
    expect_load_error(&s, "moe-missing-experts.gguf", "missing tensor 'blk.1.ffn_down_exps.weight'");
}

static void test_context_errors(void) {
    const char *path = write_model(&LLAMA, "ctx.gguf");
    tg_model *m = tg_model_load(path);
    CHECK(m != NULL);
    if (!m)
        return;
    /* a context longer than the model was trained for */
    tg_ctx_params p = tg_ctx_default_params();
    p.n_ctx = 100000;
    tg_ctx *c = tg_ctx_new(m, &p);
    CHECK(c == NULL);
    CHECK_ERROR_HAS("longer than the 256 the model was trained for");

    c = make_ctx(m, 1, 16, 1);
    CHECK(c != NULL);
    tg_token toks[20];
    for (int i = 0; i < 20; i++)
        toks[i] = (tg_token)(3 + i);
    tg_batch b = {.n = 20, .token = toks};
    CHECK(tg_ctx_decode(c, &b) == TG_ERR_RANGE); /* 20 tokens into 16 */
    CHECK_ERROR_HAS("context full");
    CHECK_EQ_INT(tg_ctx_seq_len(c, 0), 0);       /* nothing kept */

    tg_token bad = V + 5;
    b = (tg_batch){.n = 1, .token = &bad};
    CHECK(tg_ctx_decode(c, &b) == TG_ERR_ARG);
    CHECK_ERROR_HAS("not in the vocabulary");

    int32_t pos = 5;
    b = (tg_batch){.n = 1, .token = toks, .pos = &pos};
    CHECK(tg_ctx_decode(c, &b) == TG_ERR_ARG);
    CHECK_ERROR_HAS("skips ahead");

    int32_t seq = 3;
    b = (tg_batch){.n = 1, .token = toks, .seq = &seq};
    CHECK(tg_ctx_decode(c, &b) == TG_ERR_ARG);

    int8_t want[2] = {1, 1};
    b = (tg_batch){.n = 2, .token = toks, .output = want};
    CHECK(tg_ctx_decode(c, &b) == TG_ERR_ARG); /* the context returns at most 1 row */
    CHECK_ERROR_HAS("at most 1");

    /* a rejected batch leaves the cached positions as they were (it once
     * put back lengths saved by an earlier call: here 0, or garbage) */
    b = (tg_batch){.n = 3, .token = toks};
    CHECK(tg_ctx_decode(c, &b) == TG_OK);
    b = (tg_batch){.n = 1, .token = &bad};
    CHECK(tg_ctx_decode(c, &b) == TG_ERR_ARG);
    CHECK_EQ_INT(tg_ctx_seq_len(c, 0), 3);
    tg_ctx_seq_truncate(c, 0, 0);

    /* truncation and re-evaluation reproduce the same logits */
    b = (tg_batch){.n = 8, .token = toks};
    CHECK(tg_ctx_decode(c, &b) == TG_OK);
    float first[V];
    memcpy(first, tg_ctx_logits(c, 0), sizeof first);
    tg_ctx_seq_truncate(c, 0, 4);
    CHECK_EQ_INT(tg_ctx_seq_len(c, 0), 4);
    b = (tg_batch){.n = 4, .token = toks + 4};
    CHECK(tg_ctx_decode(c, &b) == TG_OK);
    CHECK(memcmp(first, tg_ctx_logits(c, 0), sizeof first) == 0);
    tg_ctx_free(c);
    tg_model_free(m);
}

/* The default model: batch vs sequential and thread counts agree bit for bit. */
static void test_default_model(void) {
    char buf[512];
    const char *path = tg_test_env("TINGLADO_MODEL", NULL);
    if (!path) {
        const char *cache = tg_test_env("TINGLADO_CACHE", NULL);
        if (cache)
            snprintf(buf, sizeof buf, "%s/models/gemma-3-270m-q4_k_m.gguf", cache);
        else
            snprintf(buf, sizeof buf, "%s/.cache/tinglado/models/gemma-3-270m-q4_k_m.gguf", getenv("HOME"));
        path = buf;
    }
    tg_model *m = tg_model_load(path);
    CHECK_MSG(m != NULL, "default model: %s (run scripts/setup.sh)", tg_last_error());
    if (!m)
        return;
    const int32_t nv = tg_model_n_vocab(m);
    tg_tokens t = {0};
    const char *text = "The capital of France is Paris, and";
    CHECK(tg_tokenize(tg_model_vocab(m), text, strlen(text), (tg_tokenize_opts){.add_special = true}, &t) == TG_OK);
    tg_ctx *a = make_ctx(m, 2, 64, 16), *b = make_ctx(m, 1, 64, 16);
    float *batch = all_logits(a, t.ids, (int32_t)t.n, nv);
    CHECK(batch != NULL);
    int mismatches = 0;
    for (size_t i = 0; batch && i < t.n; i++) {
        tg_batch one = {.n = 1, .token = &t.ids[i]};
        CHECK(tg_ctx_decode(b, &one) == TG_OK);
        if (memcmp(tg_ctx_logits(b, 0), batch + i * (size_t)nv, (size_t)nv * sizeof(float)) != 0)
            mismatches++;
    }
    CHECK_EQ_INT(mismatches, 0);
    /* " Paris" is among the ten most likely continuations of "The capital of
     * France is" (the pretrained model prefers " a" and " the" first) */
    tg_token paris = -1;
    tg_tokens pt = {0};
    CHECK(tg_tokenize(tg_model_vocab(m), " Paris", 6, (tg_tokenize_opts){0}, &pt) == TG_OK && pt.n == 1);
    if (pt.n == 1)
        paris = pt.ids[0];
    const float *row = batch ? batch + (size_t)5 * nv : NULL; /* after "<bos>The capital of France is" */
    int rank = 0;
    for (int32_t k = 0; row && paris >= 0 && k < nv; k++)
        rank += row[k] > row[paris];
    CHECK_MSG(row && paris >= 0 && rank < 10, "' Paris' ranks %d after 'The capital of France is'", rank);
    tg_tokens_free(&pt);
    tg_tokens_free(&t);
    free(batch);
    tg_ctx_free(a);
    tg_ctx_free(b);
    tg_model_free(m);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tg-test-model.XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    RUN(test_llama);
    RUN(test_moe);
    RUN(test_qwen2);
    RUN(test_qwen3);
    RUN(test_gemma3);
    RUN(test_load_errors);
    RUN(test_context_errors);
    RUN(test_default_model);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return tg_test_finish("model");
}
