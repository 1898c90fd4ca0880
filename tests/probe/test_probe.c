/*
 * test_probe.c — the memorisation probe's library parts:
 *   - Wilson intervals against Newcombe's (1998) published values, and the
 *     AUC against a hand count;
 *   - the scores (perplexity, Min-K%, longest match, extractability, zlib,
 *     lowercase) on small inputs worked out by hand;
 *   - the batched prober against a plain one-sequence teacher-forced pass,
 *     on a tiny random model written here with the GGUF writer;
 *   - extraction read from teacher forcing against real greedy decoding;
 *   - canary exposure, exact (enumerated through the shared-context
 *     shortcut) against brute-force ranking of every full sentence, and the
 *     sampled estimate's interval covering the true rank;
 *   - bad input: errors with messages, never crashes.
 * The Python side (test_probe_scores.py) checks the scores the CLI prints
 * against an independent computation on the same log-probabilities.
 */
#include "tinglado.h"
#include "../test.h"

#include <math.h>
#include <stdint.h>
#include <unistd.h>

/* ---- a tiny llama model ---------------------------------------------- */

enum { V = 300, E = 32, NL = 2, NH = 4, NKV = 2, HD = 8, FF = 48 };

static uint64_t rng = 99;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)(rng >> 40) / (float)(1ull << 24) * 2.0f - 1.0f;
}

static void tensor(tg_gguf_writer *w, const char *name, int64_t n0, int64_t n1, float scale, float offset) {
    int64_t ne[2] = {n0, n1};
    float *d = malloc((size_t)(n0 * n1) * sizeof *d);
    for (int64_t i = 0; i < n0 * n1; i++)
        d[i] = offset + scale * frand();
    CHECK(tg_gguf_writer_add_tensor(w, name, TG_TYPE_F32, n1 > 1 ? 2 : 1, ne, d) == TG_OK);
    free(d);
}

/* Byte tokens 3..258 after <unk> <s> </s>, then plain pieces: text is
 * spelled byte by byte, which keeps canary tokenization predictable. */
static bool write_tiny(const char *path, uint64_t seed) {
    rng = seed;
    tg_gguf_writer *w = tg_gguf_writer_new();
    tg_gguf_writer_set_str(w, "general.architecture", "llama");
    tg_gguf_writer_set_u32(w, "llama.context_length", 256);
    tg_gguf_writer_set_u32(w, "llama.embedding_length", E);
    tg_gguf_writer_set_u32(w, "llama.block_count", NL);
    tg_gguf_writer_set_u32(w, "llama.feed_forward_length", FF);
    tg_gguf_writer_set_u32(w, "llama.attention.head_count", NH);
    tg_gguf_writer_set_u32(w, "llama.attention.head_count_kv", NKV);
    tg_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    static char names[V][16];
    const char *toks[V];
    float scores[V];
    int32_t types[V];
    for (int i = 0; i < V; i++) {
        if (i < 3)
            snprintf(names[i], 16, "%s", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
        else if (i < 259)
            snprintf(names[i], 16, "<0x%02X>", i - 3);
        else
            snprintf(names[i], 16, "\xe2\x96\x81w%d", i); /* "▁w259" … never produced by plain text */
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
    /* large embeddings make the distributions peaked, so greedy runs and
     * ranks are not all ties of near-uniform noise */
    tensor(w, "token_embd.weight", E, V, 3.0f, 0.0f);
    tensor(w, "output_norm.weight", E, 1, 0.1f, 1.0f);
    char n[64];
    for (int l = 0; l < NL; l++) {
#define T(x) (snprintf(n, sizeof n, "blk.%d." x, l), n)
        tensor(w, T("attn_norm.weight"), E, 1, 0.1f, 1.0f);
        tensor(w, T("attn_q.weight"), E, NH * HD, 0.3f, 0.0f);
        tensor(w, T("attn_k.weight"), E, NKV * HD, 0.3f, 0.0f);
        tensor(w, T("attn_v.weight"), E, NKV * HD, 0.3f, 0.0f);
        tensor(w, T("attn_output.weight"), NH * HD, E, 0.3f, 0.0f);
        tensor(w, T("ffn_norm.weight"), E, 1, 0.1f, 1.0f);
        tensor(w, T("ffn_gate.weight"), E, FF, 0.3f, 0.0f);
        tensor(w, T("ffn_up.weight"), E, FF, 0.3f, 0.0f);
        tensor(w, T("ffn_down.weight"), FF, E, 0.3f, 0.0f);
#undef T
    }
    tg_status st = tg_gguf_writer_write(w, path);
    tg_gguf_writer_free(w);
    CHECK_MSG(st == TG_OK, "%s", tg_last_error());
    return st == TG_OK;
}

static char model_path[256];
static tg_model *model;

/* ln softmax(row)[t] the plain way */
static double ref_logprob(const float *row, int32_t nv, tg_token t, tg_token *argmax) {
    double mx = -INFINITY;
    int32_t best = 0;
    for (int32_t i = 0; i < nv; i++)
        if (row[i] > mx) {
            mx = row[i];
            best = i;
        }
    double s = 0.0;
    for (int32_t i = 0; i < nv; i++)
        s += exp(row[i] - mx);
    if (argmax)
        *argmax = best;
    return row[t] - mx - log(s);
}

/* log-probabilities of toks[1..n) given the ones before, one sequence, one
 * decode with every output */
static void ref_pass(const tg_token *toks, size_t n, double *lp, tg_token *am) {
    tg_ctx_params p = tg_ctx_default_params();
    p.n_ctx = 256;
    p.n_outputs = 256;
    p.n_threads = 1;
    tg_ctx *c = tg_ctx_new(model, &p);
    int8_t out[256];
    memset(out, 1, sizeof out);
    tg_batch b = {.n = (int32_t)n, .token = toks, .output = out};
    CHECK(tg_ctx_decode(c, &b) == TG_OK);
    for (size_t j = 0; j + 1 < n; j++)
        lp[j] = ref_logprob(tg_ctx_logits(c, (int32_t)j), tg_model_n_vocab(model), toks[j + 1], am ? &am[j] : NULL);
    tg_ctx_free(c);
}

/* ---- statistics and scores ------------------------------------------- */

static void test_wilson_known(void) {
    /* Newcombe (1998), Table I, method 3 (score without continuity) */
    static const struct { size_t k, n; double lo, hi; } known[] = {
        {81, 263, 0.2553, 0.3662}, {15, 148, 0.0624, 0.1605}, {0, 20, 0.0, 0.1611}, {1, 29, 0.0061, 0.1718},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        tg_estimate e = tg_stats_wilson(known[i].k, known[i].n);
        CHECK_MSG(fabs(e.lo - known[i].lo) < 6e-5 && fabs(e.hi - known[i].hi) < 6e-5, "%zu/%zu: [%.5f, %.5f]",
                  known[i].k, known[i].n, e.lo, e.hi);
        CHECK_EQ_INT(e.n, known[i].n);
    }
}

static void test_auc(void) {
    const double pos[] = {1, 2, 3}, neg[] = {0, 2};
    tg_estimate e = tg_stats_auc(pos, 3, neg, 2);
    CHECK(fabs(e.value - 0.75) < 1e-12); /* 4 wins and a tie of 6 pairs */
    CHECK(e.lo <= 0.75 && e.hi >= 0.75 && e.lo >= 0.0 && e.hi <= 1.0);
    CHECK_EQ_INT(e.n, 5);
    CHECK(isnan(tg_stats_auc(pos, 3, neg, 0).value));
    const double hi[] = {5, 6}, lo[] = {1, 2};
    CHECK(tg_stats_auc(hi, 2, lo, 2).value == 1.0);
    CHECK(tg_stats_auc(lo, 2, hi, 2).value == 0.0);
}

static void test_scores_by_hand(void) {
    const float lp[] = {-1.0f, -3.0f, -0.5f, -2.0f, -0.25f};
    CHECK(fabs(tg_probe_log_ppl(lp, 5) - 1.35) < 1e-6);
    CHECK(isnan(tg_probe_log_ppl(lp, 0)));
    /* 20% of 5 = 1 token: the lowest; 40% = 2: mean of -3, -2 */
    CHECK(fabs(tg_probe_min_k(lp, 5, 20.0) + 3.0) < 1e-9);
    CHECK(fabs(tg_probe_min_k(lp, 5, 40.0) + 2.5) < 1e-9);
    CHECK(fabs(tg_probe_min_k(lp, 5, 100.0) + 1.35) < 1e-6);
    CHECK(fabs(tg_probe_min_k(lp, 5, 1.0) + 3.0) < 1e-9); /* at least one token */
    CHECK(isnan(tg_probe_min_k(lp, 5, 0.0)));

    const bool m[] = {1, 0, 1, 1, 1, 0, 1, 1};
    size_t at = 99;
    CHECK_EQ_INT(tg_probe_longest_match(m, 8, &at), 3);
    CHECK_EQ_INT(at, 2);
    CHECK_EQ_INT(tg_probe_longest_match(m, 0, &at), 0);
    CHECK(tg_probe_extractable(m, 8, 2, 3));
    CHECK(!tg_probe_extractable(m, 8, 2, 4));
    CHECK(tg_probe_extractable(m, 8, 6, 2));
    CHECK(!tg_probe_extractable(m, 8, 6, 3)); /* runs past the end */
    CHECK(!tg_probe_extractable(m, 8, 9, 1));

    /* zlib: a repetitive text compresses far better than a varied one of the
     * same length, and the length round-trips through a real decompression
     * in the Python test */
    const char *rep = "abababababababababababababababababababababababababababababab";
    const char *var = "the quick brown fox jumps over the lazy dog while 7 owls hum";
    size_t zr = tg_probe_zlib_len(rep, strlen(rep)), zv = tg_probe_zlib_len(var, strlen(var));
    CHECK(zr > 0 && zv > 0 && zr < zv);
    CHECK_EQ_INT(tg_probe_zlib_len("", 0), 8); /* header, empty block, adler32 */

    char *low = NULL;
    size_t n = 0;
    const char *in = "\xc3\x80\xc3\x89\xc3\x8e Stra\xc3\x9f" "e \xd0\x94\xd0\x9e\xd0\x9c A\xff" "B";
    CHECK(tg_probe_lowercase(in, strlen(in), &low, &n) == TG_OK);
    CHECK_EQ_STR(low, "\xc3\xa0\xc3\xa9\xc3\xae stra\xc3\x9f" "e \xd0\xb4\xd0\xbe\xd0\xbc a\xff" "b");
    CHECK_EQ_INT(n, strlen(low));
    free(low);
}

/* ---- the prober ------------------------------------------------------- */

static void test_prober_matches_plain_pass(void) {
    const char *texts[] = {"hello world, hello tinglado", "a", "", "zzzz zzzz zzzz zzzz zzzz zzzz zzzz zzzz zzzz"
                           " zzzz zzzz zzzz zzzz zz", "0123456789"};
    const size_t n = sizeof texts / sizeof texts[0];
    const tg_vocab *v = tg_model_vocab(model);
    tg_tokens tk[5] = {{0}};
    const tg_token *conts[5];
    size_t lens[5];
    float *lp[5];
    tg_token *am[5];
    for (size_t i = 0; i < n; i++) {
        CHECK(tg_tokenize(v, texts[i], strlen(texts[i]), (tg_tokenize_opts){.add_special = true}, &tk[i]) == TG_OK);
        CHECK(tk[i].n >= 1 && tk[i].ids[0] == 1);
        conts[i] = tk[i].ids + 1;
        lens[i] = tk[i].n - 1;
        lp[i] = malloc((lens[i] + 1) * sizeof **lp);
        am[i] = malloc((lens[i] + 1) * sizeof **am);
    }
    /* small batches and few sequences: continuations span several passes */
    const int32_t shapes[][2] = {{1, 1}, {3, 5}, {8, 64}, {2, 7}};
    for (size_t s = 0; s < 4; s++) {
        tg_prober_params pp = tg_prober_default_params();
        pp.n_ctx = 128;
        pp.n_seq = shapes[s][0];
        pp.n_batch = shapes[s][1];
        pp.n_threads = 1;
        tg_prober *pr = tg_prober_new(model, &pp);
        CHECK(pr != NULL);
        tg_token bos = 1;
        CHECK_MSG(tg_prober_eval(pr, &bos, 1, conts, lens, n, lp, am) == TG_OK, "%s", tg_last_error());
        for (size_t i = 0; i < n; i++) {
            double ref[256];
            tg_token ram[256];
            if (tk[i].n < 2)
                continue;
            ref_pass(tk[i].ids, tk[i].n, ref, ram);
            double worst = 0.0;
            size_t am_bad = 0;
            for (size_t j = 0; j < lens[i]; j++) {
                worst = fmax(worst, fabs(ref[j] - (double)lp[i][j]));
                am_bad += ram[j] != am[i][j];
            }
            CHECK_MSG(worst < 1e-4, "shape %zu text %zu: |lp - ref| up to %g", s, i, worst);
            CHECK_MSG(am_bad == 0, "shape %zu text %zu: %zu argmax differ", s, i, am_bad);
        }
        tg_prober_free(pr);
    }
    for (size_t i = 0; i < n; i++) {
        tg_tokens_free(&tk[i]);
        free(lp[i]);
        free(am[i]);
    }
}

static void test_prober_errors(void) {
    tg_prober_params pp = tg_prober_default_params();
    pp.n_ctx = 16;
    pp.n_threads = 1;
    tg_prober *pr = tg_prober_new(model, &pp);
    CHECK(pr != NULL);
    tg_token ctx[1] = {1}, bad[3] = {5, V + 7, 6}, longer[20] = {0};
    const tg_token *c1[1] = {bad};
    size_t l1[1] = {3};
    float buf[32];
    float *lp[1] = {buf};
    CHECK(tg_prober_eval(pr, ctx, 1, c1, l1, 1, lp, NULL) == TG_ERR_RANGE);
    CHECK_ERROR_HAS("outside the vocabulary");
    c1[0] = longer;
    l1[0] = 20;
    CHECK(tg_prober_eval(pr, ctx, 1, c1, l1, 1, lp, NULL) == TG_ERR_RANGE);
    CHECK_ERROR_HAS("overflows");
    CHECK(tg_prober_eval(pr, ctx, 0, c1, l1, 1, lp, NULL) == TG_ERR_ARG);
    tg_prober_free(pr);
    pp.n_ctx = 100000; /* beyond the model's 256 */
    CHECK(tg_prober_new(model, &pp) == NULL);
    CHECK_ERROR_HAS("longer than the model");
}

/* Extraction from one teacher-forced pass equals real greedy decoding. */
static void test_extraction_is_greedy(void) {
    tg_sampler_params sp = tg_sampler_defaults();
    sp.temperature = 0.0f;
    tg_sampler *sm = tg_sampler_new(&sp, V);
    tg_ctx_params cp = tg_ctx_default_params();
    cp.n_ctx = 128;
    cp.n_threads = 1;
    tg_ctx *c = tg_ctx_new(model, &cp);
    tg_prober_params pp = tg_prober_default_params();
    pp.n_ctx = 128;
    pp.n_threads = 1;
    tg_prober *pr = tg_prober_new(model, &pp);
    enum { DOCS = 12, LEN = 40 };
    tg_token docs[DOCS][LEN + 1];
    size_t extractable = 0, cases = 0;
    /* documents: random prefixes, greedy continuations, some perturbed */
    for (int d = 0; d < DOCS; d++) {
        docs[d][0] = 1;
        for (int j = 1; j <= 6; j++)
            docs[d][j] = 3 + (tg_token)((uint32_t)(frand() * 1e6f + 1e6f) % 256);
        tg_ctx_seq_truncate(c, 0, 0);
        tg_batch b = {.n = 7, .token = docs[d]};
        CHECK(tg_ctx_decode(c, &b) == TG_OK);
        for (int j = 7; j <= LEN; j++) {
            docs[d][j] = tg_sampler_sample(sm, tg_ctx_logits(c, 0), NULL);
            tg_batch nb = {.n = 1, .token = &docs[d][j]};
            CHECK(tg_ctx_decode(c, &nb) == TG_OK);
        }
        if (d % 3 == 1)
            docs[d][12 + d] = docs[d][12 + d] == 40 ? 41 : 40; /* a wrong token mid-way */
    }
    float lp[DOCS][LEN];
    tg_token am[DOCS][LEN];
    const tg_token *conts[DOCS];
    size_t lens[DOCS];
    float *lpp[DOCS];
    tg_token *amp[DOCS];
    for (int d = 0; d < DOCS; d++) {
        conts[d] = docs[d] + 1;
        lens[d] = LEN;
        lpp[d] = lp[d];
        amp[d] = am[d];
    }
    tg_token bos = 1;
    CHECK(tg_prober_eval(pr, &bos, 1, conts, lens, DOCS, lpp, amp) == TG_OK);
    const size_t ks[] = {2, 6, 10, 20}, ms[] = {4, 8, 16};
    for (int d = 0; d < DOCS; d++) {
        bool match[LEN];
        for (int j = 0; j < LEN; j++)
            match[j] = am[d][j] == conts[d][j];
        for (size_t a = 0; a < 4; a++)
            for (size_t b = 0; b < 3; b++) {
                size_t k = ks[a], m = ms[b];
                if (k + m > LEN)
                    continue;
                /* real greedy decoding of m tokens after BOS + k tokens */
                tg_ctx_seq_truncate(c, 0, 0);
                tg_batch pb = {.n = (int32_t)(k + 1), .token = docs[d]};
                CHECK(tg_ctx_decode(c, &pb) == TG_OK);
                bool same = true;
                for (size_t j = 0; j < m && same; j++) {
                    tg_token t = tg_sampler_sample(sm, tg_ctx_logits(c, 0), NULL);
                    same = t == conts[d][k + j];
                    tg_batch nb = {.n = 1, .token = &t};
                    CHECK(tg_ctx_decode(c, &nb) == TG_OK);
                }
                bool got = tg_probe_extractable(match, LEN, k, m);
                CHECK_MSG(got == same, "doc %d k %zu m %zu: probe says %d, greedy decoding %d", d, k, m, got, same);
                extractable += same;
                cases++;
            }
    }
    /* the check must have seen both outcomes to mean anything */
    CHECK_MSG(extractable > 0 && extractable < cases, "%zu of %zu extractable", extractable, cases);
    tg_prober_free(pr);
    tg_ctx_free(c);
    tg_sampler_free(sm);
}

/* ---- canaries ----------------------------------------------------------- */

/* Full-sentence log-likelihood (every token after BOS), the brute force. */
static double sentence_ll(const char *text) {
    tg_tokens t = {0};
    CHECK(tg_tokenize(tg_model_vocab(model), text, strlen(text), (tg_tokenize_opts){.add_special = true}, &t) ==
          TG_OK);
    double lp[256], s = 0.0;
    ref_pass(t.ids, t.n, lp, NULL);
    for (size_t j = 0; j + 1 < t.n; j++)
        s += lp[j];
    tg_tokens_free(&t);
    return s;
}

static void test_canary_exact_vs_brute_force(void) {
    const char *alpha = "0123";
    enum { LEN = 3, N = 64 };
    double ll[N];
    char text[64], cand[LEN + 1];
    for (int i = 0; i < N; i++) {
        for (int d = 0; d < LEN; d++)
            cand[d] = alpha[(i >> (2 * (LEN - 1 - d))) & 3];
        cand[LEN] = 0;
        snprintf(text, sizeof text, "pin %s ok", cand);
        ll[i] = sentence_ll(text);
    }
    tg_prober_params pp = tg_prober_default_params();
    pp.n_ctx = 32;
    pp.n_seq = 4;
    pp.n_batch = 16;
    pp.n_threads = 1;
    tg_prober *pr = tg_prober_new(model, &pp);
    const int secrets[] = {0, 17, 42, 63};
    bool saw_top = false, saw_low = false;
    for (size_t s = 0; s < 4; s++) {
        int si = secrets[s];
        for (int d = 0; d < LEN; d++)
            cand[d] = alpha[(si >> (2 * (LEN - 1 - d))) & 3];
        size_t rank = 1;
        for (int i = 0; i < N; i++)
            rank += i != si && ll[i] > ll[si];
        saw_top |= rank == 1;
        saw_low |= rank > 8;
        tg_canary_params cp = tg_canary_default_params();
        cp.format = "pin {secret} ok";
        cp.alphabet = alpha;
        cp.length = LEN;
        cp.secret = cand;
        tg_canary_result r;
        CHECK_MSG(tg_probe_canary(pr, &cp, &r) == TG_OK, "%s", tg_last_error());
        CHECK(r.exact);
        CHECK_EQ_INT(r.n_scored, N - 1);
        CHECK_MSG((size_t)r.rank.value == rank, "secret %s: rank %g, brute force %zu", cand, r.rank.value, rank);
        CHECK(fabs(r.exposure.value - (6.0 - log2((double)rank))) < 1e-9);
        CHECK(fabs(r.log2_space - 6.0) < 1e-12);
        free(r.sample_lp);
        /* sampled: 2000 draws of the 64; the interval must hold the truth */
        cp.max_exact = 0;
        cp.n_samples = 2000;
        CHECK(tg_probe_canary(pr, &cp, &r) == TG_OK);
        CHECK(!r.exact);
        CHECK_MSG(r.rank.lo <= (double)rank && (double)rank <= r.rank.hi, "secret %s: true rank %zu outside [%g, %g]",
                  cand, rank, r.rank.lo, r.rank.hi);
        CHECK(r.exposure.lo <= r.exposure.value && r.exposure.value <= r.exposure.hi);
        CHECK(!isnan(r.extrapolated.value) && r.extrapolated.lo <= r.extrapolated.hi);
        free(r.sample_lp);
    }
    CHECK_MSG(saw_top || saw_low, "the secrets should include a top and a low rank");
    /* nothing before the secret: BOS alone is the shared context */
    {
        double l16[16];
        char t16[32], c16[5] = {0};
        for (int i = 0; i < 16; i++) {
            for (int d = 0; d < 4; d++)
                c16[d] = "01"[(i >> (3 - d)) & 1];
            snprintf(t16, sizeof t16, "%s ok", c16);
            l16[i] = sentence_ll(t16);
        }
        size_t rank = 1;
        for (int i = 0; i < 16; i++)
            rank += i != 6 && l16[i] > l16[6];
        tg_canary_params cp = tg_canary_default_params();
        cp.format = "{secret} ok";
        cp.alphabet = "01";
        cp.length = 4;
        cp.secret = "0110"; /* candidate 6 */
        tg_canary_result r;
        CHECK_MSG(tg_probe_canary(pr, &cp, &r) == TG_OK, "%s", tg_last_error());
        CHECK_MSG((size_t)r.rank.value == rank, "rank %g, brute force %zu", r.rank.value, rank);
        free(r.sample_lp);
    }
    /* a space larger than one scoring chunk: every candidate but the secret
     * once, whichever chunk the secret falls in */
    const char *secrets5[] = {"00000", "01000", "33333"};
    for (size_t s = 0; s < 3; s++) {
        tg_canary_params cp = tg_canary_default_params();
        cp.format = "pin {secret} ok";
        cp.alphabet = alpha;
        cp.length = 5;
        cp.secret = secrets5[s];
        tg_canary_result r;
        CHECK(tg_probe_canary(pr, &cp, &r) == TG_OK);
        CHECK_EQ_INT(r.n_scored, 1023);
        size_t better = 0;
        for (uint64_t i = 0; i < r.n_scored; i++)
            better += r.sample_lp[i] > r.secret_lp;
        CHECK_EQ_INT(better, r.n_better);
        CHECK((size_t)r.rank.value == better + 1);
        free(r.sample_lp);
    }
    tg_prober_free(pr);
}

static void test_canary_errors(void) {
    tg_prober_params pp = tg_prober_default_params();
    pp.n_ctx = 64;
    pp.n_threads = 1;
    tg_prober *pr = tg_prober_new(model, &pp);
    tg_canary_params cp = tg_canary_default_params();
    tg_canary_result r;
    cp.format = "no placeholder";
    cp.secret = "123456789";
    CHECK(tg_probe_canary(pr, &cp, &r) == TG_ERR_ARG);
    CHECK_ERROR_HAS("{secret}");
    cp.format = "a {secret} and {secret}";
    CHECK(tg_probe_canary(pr, &cp, &r) == TG_ERR_ARG);
    cp.format = "call {secret} now";
    cp.secret = "12345678x";
    CHECK(tg_probe_canary(pr, &cp, &r) == TG_ERR_ARG);
    CHECK_ERROR_HAS("not 9 characters");
    cp.secret = "123";
    CHECK(tg_probe_canary(pr, &cp, &r) == TG_ERR_ARG);
    cp.secret = "123456789";
    cp.alphabet = "1123";
    CHECK(tg_probe_canary(pr, &cp, &r) == TG_ERR_ARG);
    CHECK_ERROR_HAS("distinct");
    cp.alphabet = "0123456789";
    cp.length = 0;
    CHECK(tg_probe_canary(pr, &cp, &r) == TG_ERR_ARG);
    tg_prober_free(pr);
}

int main(void) {
    snprintf(model_path, sizeof model_path, "/tmp/tinglado-probe-%d.gguf", (int)getpid());
    RUN(test_wilson_known);
    RUN(test_auc);
    RUN(test_scores_by_hand);
    if (write_tiny(model_path, 99) && (model = tg_model_load(model_path)) != NULL) {
        RUN(test_prober_matches_plain_pass);
        RUN(test_prober_errors);
        RUN(test_extraction_is_greedy);
        RUN(test_canary_exact_vs_brute_force);
        RUN(test_canary_errors);
    } else
        CHECK_MSG(false, "tiny model: %s", tg_last_error());
    tg_model_free(model);
    unlink(model_path);
    return tg_test_finish("test_probe");
}
