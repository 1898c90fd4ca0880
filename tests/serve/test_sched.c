/*
 * test_sched.c — continuous batching on a tiny random llama model written
 * by the test itself (so it runs in seconds under the sanitizers):
 *   - a job generates what a plain one-sequence decode loop generates;
 *   - jobs running together in one batch each generate exactly what they
 *     generate alone (greedy and seeded sampling), so batching never leaks
 *     between sequences;
 *   - a prompt sharing a prefix with a slot's cache reuses it and still gives
 *     the same output;
 *   - max_tokens, stop strings, logprobs, logit_bias;
 *   - grammar-constrained jobs (full and lazy) complete, parse and validate;
 *   - a cancelled job frees its slot; a full queue refuses; draining refuses.
 */
#include "serve/serve.h"
#include "../test.h"

#include <unistd.h>

enum { V = 300, E = 64, L = 2, NH = 4, NKV = 2, HD = 16, FF = 96, CTX = 1024 };

static uint64_t rng = 99;
static float frand(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng >> 40) & 0xFFFFFF) / (float)0xFFFFFF * 2.0f - 1.0f;
}

static void tensor(tg_gguf_writer *w, const char *name, int64_t n0, int64_t n1, float scale, float offset) {
    int64_t ne[2] = {n0, n1};
    size_t n = (size_t)(n0 * n1);
    float *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = offset + scale * frand();
    CHECK(tg_gguf_writer_add_tensor(w, name, TG_TYPE_F32, n1 > 1 ? 2 : 1, ne, d) == TG_OK);
    free(d);
}

/* A llama with a SentencePiece vocabulary of byte tokens and "tN" words. */
static const char *write_model(const char *dir) {
    static char path[512];
    snprintf(path, sizeof path, "%s/tiny.gguf", dir);
    tg_gguf_writer *w = tg_gguf_writer_new();
    tg_gguf_writer_set_str(w, "general.architecture", "llama");
    tg_gguf_writer_set_u32(w, "llama.context_length", CTX);
    tg_gguf_writer_set_u32(w, "llama.embedding_length", E);
    tg_gguf_writer_set_u32(w, "llama.block_count", L);
    tg_gguf_writer_set_u32(w, "llama.feed_forward_length", FF);
    tg_gguf_writer_set_u32(w, "llama.attention.head_count", NH);
    tg_gguf_writer_set_u32(w, "llama.attention.head_count_kv", NKV);
    tg_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-6f);
    static char names[V][16];
    const char *toks[V];
    float scores[V];
    int32_t types[V];
    for (int i = 0; i < V; i++) {
        if (i == 0)
            snprintf(names[i], 16, "<unk>");
        else if (i == 1)
            snprintf(names[i], 16, "<s>");
        else if (i == 2)
            snprintf(names[i], 16, "</s>");
        else if (i < 259)
            snprintf(names[i], 16, "<0x%02X>", i - 3);
        else
            snprintf(names[i], 16, "\xe2\x96\x81t%d", i); /* "▁tN": a word with a leading space */
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
    tensor(w, "token_embd.weight", E, V, 1.0f, 0.0f);
    tensor(w, "output_norm.weight", E, 1, 0.1f, 1.0f);
    char n[64];
    for (int il = 0; il < L; il++) {
#define T(s) (snprintf(n, sizeof n, "blk.%d." s, il), n)
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
    CHECK(tg_gguf_writer_write(w, path) == TG_OK);
    tg_gguf_writer_free(w);
    return path;
}

static tg_model *model;

/* ---- references: one sequence, one token at a time -------------------------- */

/* Generates n tokens for prompt with a fresh context and sampler. */
static void reference(const tg_token *prompt, int32_t np, const tg_sampler_params *sp, int32_t n, tg_token *out,
                      int32_t *n_out) {
    tg_ctx_params cp = tg_ctx_default_params();
    cp.n_ctx = CTX;
    cp.n_threads = 1;
    tg_ctx *c = tg_ctx_new(model, &cp);
    tg_sampler *s = tg_sampler_new(sp, tg_model_n_vocab(model));
    for (int32_t i = 0; i < np; i++)
        tg_sampler_accept(s, prompt[i]);
    tg_batch b = {.n = np, .token = prompt};
    CHECK(tg_ctx_decode(c, &b) == TG_OK);
    *n_out = 0;
    for (int32_t i = 0; i < n; i++) {
        tg_token t = tg_sampler_sample(s, tg_ctx_logits(c, 0), NULL);
        tg_sampler_accept(s, t);
        out[(*n_out)++] = t;
        if (tg_vocab_is_eog(tg_model_vocab(model), t))
            break;
        tg_batch nb = {.n = 1, .token = &t};
        CHECK(tg_ctx_decode(c, &nb) == TG_OK);
    }
    tg_sampler_free(s);
    tg_ctx_free(c);
}

static tg__job *make_job(const tg_token *prompt, int32_t np, const tg_sampler_params *sp, int32_t max_tokens,
                         const char *const *stops, size_t n_stops) {
    tg__job_spec spec = {.prompt = prompt, .n_prompt = (size_t)np, .sp = *sp, .max_tokens = max_tokens,
                         .stops = stops, .n_stops = n_stops, .logprobs = true};
    spec.sp.n_logprobs = 2;
    tg__job *j = tg__job_new(model, &spec);
    CHECK_MSG(j != NULL, "%s", tg_last_error());
    return j;
}

static tg__finish wait_job(tg__job *j) {
    pthread_mutex_lock(&j->mu);
    while (j->finish == TG__FINISH_NONE)
        pthread_cond_wait(&j->cv, &j->mu);
    tg__finish f = j->finish;
    pthread_mutex_unlock(&j->mu);
    return f;
}

static bool same_tokens(const tg__job *j, const tg_token *ref, int32_t n) {
    if ((int32_t)j->n_recs != n)
        return false;
    for (int32_t i = 0; i < n; i++)
        if (j->recs[i].token != ref[i])
            return false;
    return true;
}

static tg__sched *make_sched(tg_ctx **ctx, int slots, int queue) {
    tg_ctx_params cp = tg_ctx_default_params();
    cp.n_ctx = CTX;
    cp.n_seq = slots;
    cp.n_outputs = slots;
    cp.n_threads = 2;
    *ctx = tg_ctx_new(model, &cp);
    CHECK(*ctx != NULL);
    tg__sched_params p = {.n_slots = slots, .queue_max = queue, .prefill_chunk = 7};
    tg__sched *s = tg__sched_new(model, *ctx, &p, NULL);
    CHECK(s != NULL);
    return s;
}

static void prompt_of(int seed, tg_token *p, int32_t n) {
    p[0] = 1;
    for (int32_t i = 1; i < n; i++)
        p[i] = 259 + (tg_token)((seed * 31 + i * 7) % 41);
}

static void test_matches_reference(void) {
    tg_ctx *ctx;
    tg__sched *s = make_sched(&ctx, 3, 8);
    tg_sampler_params greedy = tg_sampler_defaults();
    greedy.temperature = 0;
    tg_sampler_params seeded = tg_sampler_defaults();
    seeded.seed = 1234;
    seeded.temperature = 1.5f;
    seeded.top_k = 0;
    seeded.min_p = 0;
    enum { NJ = 5, MAXT = 24 };
    tg_token prompts[NJ][40];
    int32_t lens[NJ] = {5, 33, 12, 20, 3};
    tg__job *jobs[NJ];
    /* five jobs, three slots: two wait in the queue, prompts are chunked (7
     * tokens per step), and generation steps batch up to three rows */
    for (int k = 0; k < NJ; k++) {
        prompt_of(k, prompts[k], lens[k]);
        jobs[k] = make_job(prompts[k], lens[k], k % 2 ? &seeded : &greedy, MAXT, NULL, 0);
        CHECK_EQ_INT(tg__sched_submit(s, jobs[k]), TG__SUBMIT_OK);
    }
    for (int k = 0; k < NJ; k++) {
        CHECK(wait_job(jobs[k]) == TG__FINISH_LENGTH || jobs[k]->finish == TG__FINISH_STOP);
        tg_token ref[MAXT];
        int32_t nref;
        reference(prompts[k], lens[k], k % 2 ? &seeded : &greedy, MAXT, ref, &nref);
        CHECK_MSG(same_tokens(jobs[k], ref, nref), "job %d differs from its reference (%zu vs %d tokens)", k,
                  jobs[k]->n_recs, nref);
        CHECK_EQ_INT(jobs[k]->n_gen, nref);
        CHECK(jobs[k]->text_len > 0);
        /* logprobs: the chosen token's, and 2 alternatives best first */
        CHECK(jobs[k]->recs[0].logprob <= 0.0f);
        CHECK(jobs[k]->tops[0].logprob >= jobs[k]->tops[1].logprob);
        tg__job_release(jobs[k]);
    }
    CHECK(tg__sched_idle(s));
    tg__sched_free(s);
    tg_ctx_free(ctx);
}

static void test_prefix_cache(void) {
    tg_ctx *ctx;
    tg__sched *s = make_sched(&ctx, 2, 4);
    tg_sampler_params greedy = tg_sampler_defaults();
    greedy.temperature = 0;
    tg_token p[40];
    prompt_of(7, p, 40);
    tg__job *a = make_job(p, 30, &greedy, 5, NULL, 0);
    CHECK_EQ_INT(tg__sched_submit(s, a), TG__SUBMIT_OK);
    wait_job(a);
    CHECK_EQ_INT(a->n_cached, 0);
    /* the same 30 tokens and 10 more: 30 come from the cache */
    tg__job *b = make_job(p, 40, &greedy, 6, NULL, 0);
    CHECK_EQ_INT(tg__sched_submit(s, b), TG__SUBMIT_OK);
    wait_job(b);
    CHECK_EQ_INT(b->n_cached, 30);
    tg_token ref[6];
    int32_t nref;
    reference(p, 40, &greedy, 6, ref, &nref);
    CHECK(same_tokens(b, ref, nref));
    /* the identical prompt again: all but its last token are reused */
    tg__job *c = make_job(p, 40, &greedy, 6, NULL, 0);
    CHECK_EQ_INT(tg__sched_submit(s, c), TG__SUBMIT_OK);
    wait_job(c);
    CHECK_EQ_INT(c->n_cached, 39);
    CHECK(same_tokens(c, ref, nref));
    /* a diverging prompt reuses only the common part */
    tg_token q[40];
    memcpy(q, p, sizeof q);
    q[10] = 299;
    tg__job *d = make_job(q, 40, &greedy, 6, NULL, 0);
    CHECK_EQ_INT(tg__sched_submit(s, d), TG__SUBMIT_OK);
    wait_job(d);
    CHECK_EQ_INT(d->n_cached, 10);
    reference(q, 40, &greedy, 6, ref, &nref);
    CHECK(same_tokens(d, ref, nref));
    tg__job_release(a);
    tg__job_release(b);
    tg__job_release(c);
    tg__job_release(d);
    tg__sched_free(s);
    tg_ctx_free(ctx);
}

static void test_stops_and_bias(void) {
    tg_ctx *ctx;
    tg__sched *s = make_sched(&ctx, 2, 4);
    tg_sampler_params greedy = tg_sampler_defaults();
    greedy.temperature = 0;
    tg_token p[12];
    prompt_of(3, p, 12);
    tg__job *a = make_job(p, 12, &greedy, 16, NULL, 0);
    tg__sched_submit(s, a);
    CHECK_EQ_INT(wait_job(a), TG__FINISH_LENGTH);
    CHECK_EQ_INT(a->n_gen, 16);
    /* stop at the text of a later word token ("▁tN" → "tN"): the text ends
     * just before its first occurrence and the job stops there */
    size_t k = 1;
    while (k < a->n_recs && a->recs[k].token < 259)
        k++;
    CHECK(k < a->n_recs);
    char stop[16];
    snprintf(stop, sizeof stop, "t%d", a->recs[k].token);
    const char *at = strstr(a->text, stop);
    CHECK(at != NULL);
    const char *stops[] = {stop};
    tg__job *b = make_job(p, 12, &greedy, 16, stops, 1);
    tg__sched_submit(s, b);
    CHECK_EQ_INT(wait_job(b), TG__FINISH_STOP);
    CHECK_MSG(at && b->text_len == (size_t)(at - a->text) && !memcmp(b->text, a->text, b->text_len),
              "'%s' vs '%s' (stop '%s')", b->text, a->text, stop);
    CHECK(b->n_gen <= (int32_t)k + 1);
    /* logit_bias: forbid the first greedy token; the first token changes */
    int64_t bt = a->recs[0].token;
    float bv = -100;
    tg__job_spec spec = {.prompt = p, .n_prompt = 12, .sp = greedy, .max_tokens = 2, .bias_tokens = &bt,
                         .bias_values = &bv, .n_bias = 1, .logprobs = true};
    tg__job *c = tg__job_new(model, &spec);
    CHECK(c != NULL);
    tg__sched_submit(s, c);
    wait_job(c);
    CHECK(c->n_recs >= 1 && c->recs[0].token != a->recs[0].token);
    /* a bias on a token outside the vocabulary is refused at creation */
    bt = V + 5;
    CHECK(tg__job_new(model, &spec) == NULL);
    CHECK_ERROR_HAS("logit_bias token 305");
    tg__job_release(a);
    tg__job_release(b);
    tg__job_release(c);
    tg__sched_free(s);
    tg_ctx_free(ctx);
}

static void test_cancel_queue_drain(void) {
    tg_ctx *ctx;
    tg__sched *s = make_sched(&ctx, 1, 1);
    tg_sampler_params sp = tg_sampler_defaults();
    sp.seed = 5;
    tg_token p[8];
    prompt_of(1, p, 8);
    /* long jobs: one runs, one waits, the third is refused */
    tg__job *a = make_job(p, 8, &sp, CTX - 16, NULL, 0);
    tg__job *b = make_job(p, 8, &sp, CTX - 16, NULL, 0);
    tg__job *c = make_job(p, 8, &sp, CTX - 16, NULL, 0);
    CHECK_EQ_INT(tg__sched_submit(s, a), TG__SUBMIT_OK);
    CHECK_EQ_INT(tg__sched_submit(s, b), TG__SUBMIT_OK);
    CHECK_EQ_INT(tg__sched_submit(s, c), TG__SUBMIT_FULL);
    int q, act, n;
    tg__sched_counts(s, &q, &act, &n);
    CHECK_EQ_INT(q + act, 2);
    CHECK_EQ_INT(n, 1);
    /* cancelling the waiting job, then the running one, frees everything */
    tg__job_cancel(b);
    tg__job_cancel(a);
    CHECK_EQ_INT(wait_job(a), TG__FINISH_CANCELLED);
    CHECK_EQ_INT(wait_job(b), TG__FINISH_CANCELLED);
    CHECK(a->n_gen < CTX - 16);
    for (int i = 0; i < 200 && !tg__sched_idle(s); i++)
        usleep(5000);
    CHECK(tg__sched_idle(s));
    /* now there is room again */
    CHECK_EQ_INT(tg__sched_submit(s, c), TG__SUBMIT_OK);
    tg__sched_drain(s);
    tg__job *d = make_job(p, 8, &sp, 4, NULL, 0);
    CHECK_EQ_INT(tg__sched_submit(s, d), TG__SUBMIT_DRAINING);
    /* freeing the scheduler with a job running cancels it */
    tg__sched_free(s);
    CHECK_EQ_INT(wait_job(c), TG__FINISH_CANCELLED);
    tg__job_release(a);
    tg__job_release(b);
    tg__job_release(c);
    tg__job_release(d);
    tg_ctx_free(ctx);
}

/* Constrained jobs on the tiny model (random weights: without the grammar
 * its text is never JSON): every reply completes, parses and validates. */
static void test_grammar(void) {
    tg_ctx *ctx;
    tg__sched *s = make_sched(&ctx, 3, 8);
    json_t *schema = json_loads("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"minimum\":0,"
                                "\"maximum\":9},\"b\":{\"enum\":[\"x\",\"yy\"]}},\"required\":[\"a\",\"b\"],"
                                "\"additionalProperties\":false}",
                                0, NULL);
    CHECK(schema != NULL);
    tg_token p[6];
    prompt_of(9, p, 6);
    enum { NJ = 6 };
    tg__job *jobs[NJ];
    for (int k = 0; k < NJ; k++) {
        tg__job_spec spec = {.prompt = p, .n_prompt = 6, .sp = tg_sampler_defaults(), .max_tokens = 300,
                             .constrain = k < 4 ? TG__CONSTRAIN_FULL : TG__CONSTRAIN_LAZY, .tool_call = k >= 2,
                             .schema = k == 3 ? NULL : schema};
        spec.sp.seed = 100 + (uint64_t)k;
        spec.sp.temperature = 1.0f;
        jobs[k] = tg__job_new(model, &spec);
        CHECK_MSG(jobs[k] != NULL, "%s", tg_last_error());
        CHECK_EQ_INT(tg__sched_submit(s, jobs[k]), TG__SUBMIT_OK);
    }
    for (int k = 0; k < NJ; k++) {
        tg__job *j = jobs[k];
        wait_job(j);
        if (k >= 4 && j->tool_at < 0) { /* lazy, and the model did not start with '{' */
            CHECK(!j->grammar_done);
            tg__job_release(j);
            continue;
        }
        CHECK_MSG(j->finish == TG__FINISH_STOP && j->grammar_done, "job %d: finish %d done %d text '%s'", k,
                  j->finish, j->grammar_done, j->text);
        CHECK_EQ_INT(j->tool_at, k < 2 ? -1 : k < 4 ? 0 : j->tool_at);
        json_error_t e;
        json_t *v = json_loads(j->text + (j->tool_at > 0 ? j->tool_at : 0), 0, &e);
        CHECK_MSG(json_is_object(v), "job %d: '%s' is not a JSON object (%s)", k, j->text, e.text);
        if (k != 3 && k < 4) {
            json_t *a = json_object_get(v, "a"), *b = json_object_get(v, "b");
            CHECK_MSG(json_is_integer(a) && json_integer_value(a) >= 0 && json_integer_value(a) <= 9 &&
                          json_is_string(b) && json_object_size(v) == 2,
                      "job %d: '%s' does not validate", k, j->text);
        }
        json_decref(v);
        tg__job_release(j);
    }
    /* a schema the engine refuses is refused at job creation */
    json_t *bad = json_loads("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"minLength\":5,"
                             "\"maxLength\":2}},\"required\":[\"a\"]}",
                             0, NULL);
    tg__job_spec spec = {.prompt = p, .n_prompt = 6, .sp = tg_sampler_defaults(), .max_tokens = 10,
                         .constrain = TG__CONSTRAIN_FULL, .schema = bad};
    CHECK(tg__job_new(model, &spec) == NULL);
    CHECK_ERROR_HAS("JSON Schema");
    json_decref(bad);
    json_decref(schema);
    tg__sched_free(s);
    tg_ctx_free(ctx);
}

static void test_job_errors(void) {
    tg_sampler_params sp = tg_sampler_defaults();
    tg_token bad[2] = {1, V};
    tg__job_spec spec = {.prompt = bad, .n_prompt = 2, .sp = sp, .max_tokens = 4};
    CHECK(tg__job_new(model, &spec) == NULL);
    CHECK_ERROR_HAS("not in the vocabulary");
    spec.n_prompt = 0;
    CHECK(tg__job_new(model, &spec) == NULL);
    spec.n_prompt = 1;
    spec.max_tokens = 0;
    CHECK(tg__job_new(model, &spec) == NULL);
    spec.max_tokens = 1;
    spec.sp.top_p = -1;
    CHECK(tg__job_new(model, &spec) == NULL);
}

int main(void) {
    char dir[] = "/tmp/tg_sched_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    model = tg_model_load(write_model(dir));
    CHECK_MSG(model != NULL, "%s", tg_last_error());
    if (model) {
        RUN(test_matches_reference);
        RUN(test_prefix_cache);
        RUN(test_stops_and_bias);
        RUN(test_cancel_queue_drain);
        RUN(test_grammar);
        RUN(test_job_errors);
    }
    tg_model_free(model);
    char path[600];
    snprintf(path, sizeof path, "%s/tiny.gguf", dir);
    unlink(path);
    rmdir(dir);
    return tg_test_finish("test_sched");
}
