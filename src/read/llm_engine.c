/*
 * llm_engine.c — tg_llm on the embedded engine: a GGUF model run in this
 * process (the default: the pretrained Gemma 3 270M from the model cache),
 * decoding greedily under the grammar compiled from the request's JSON
 * Schema (src/gen), so every finished reply is JSON that validates.
 *
 * A pretrained model continues text rather than following orders, so the
 * request becomes a completion document: the instructions, each worked
 * example as "<input>\nJSON:\n<output>", then the input and "JSON:\n" for
 * the model to continue.  Consecutive requests usually share their head
 * (instructions and examples): the tokens the KV cache already holds from
 * the previous request are kept and only the rest is evaluated.
 *
 * Never samples: greedy is reproducible, and a pretrained model's best
 * guess is what a constrained reply needs.  One request at a time.
 */
#include "read/llm.h"
#include "net/cache.h"
#include "token/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct engine {
    struct tg_llm base;
    tg_model *model;
    tg_ctx *ctx;
    tg_sampler *sampler;
    uint32_t *bits;      /* the allowed-token mask, n_vocab bits */
    tg_tokens held;      /* what sequence 0 of the KV cache holds */
    char *schema;        /* the schema of the cached grammar      */
    tg_grammar *grammar;
    tg_grammar_state *gst;
} engine;

tg_llm_engine_params tg_llm_engine_default_params(void) {
    return (tg_llm_engine_params){.model = TG_LLM_DEFAULT_MODEL, .n_threads = 0, .n_ctx = 0};
}

/* The grammar for this schema: compiled once and kept while requests use
 * the same schema (compiling costs more than a short reply). */
static tg_status use_schema(engine *e, const char *schema) {
    if (e->schema && !strcmp(e->schema, schema)) {
        tg_grammar_state_reset(e->gst);
        return TG_OK;
    }
    tg_grammar_state_free(e->gst);
    tg_grammar_free(e->grammar);
    free(e->schema);
    e->gst = NULL;
    e->schema = NULL;
    e->grammar = tg_grammar_from_json_schema(schema, strlen(schema));
    if (!e->grammar)
        return tg__fail_prefix(TG_ERR_ARG, "llm: the JSON Schema cannot be used");
    e->gst = tg_grammar_state_new(e->grammar, tg_model_vocab(e->model));
    e->schema = tg__strndup(schema, strlen(schema));
    return e->gst && e->schema ? TG_OK : tg__fail(TG_ERR_NOMEM, "llm: out of memory");
}

static char *render(const tg_llm_request *r) {
    tg__buf b = {0};
    if (r->instructions && *r->instructions)
        tg__buf_printf(&b, "%s\n\n", r->instructions);
    for (size_t i = 0; i < r->n_examples; i++)
        tg__buf_printf(&b, "%s\nJSON:\n%s\n\n", r->examples[i].input, r->examples[i].output);
    tg__buf_printf(&b, "%s\nJSON:\n%s", r->input, r->reply_prefix ? r->reply_prefix : "");
    return tg__buf_take(&b);
}

/* Evaluates the prompt, reusing the longest prefix the cache holds. */
static tg_status feed_prompt(engine *e, const tg_tokens *p) {
    size_t keep = 0;
    while (keep < e->held.n && keep < p->n && e->held.ids[keep] == p->ids[keep])
        keep++;
    if (keep == p->n)
        keep--; /* the last prompt token must be evaluated again for its logits */
    tg_ctx_seq_truncate(e->ctx, 0, (int32_t)keep);
    e->held.n = keep;
    tg_batch b = {.n = (int32_t)(p->n - keep), .token = p->ids + keep};
    tg_status s = tg_ctx_decode(e->ctx, &b);
    if (s) {
        tg_ctx_seq_truncate(e->ctx, 0, 0);
        e->held.n = 0;
        return s;
    }
    for (size_t i = keep; i < p->n; i++)
        if (!tg__tokens_push(&e->held, p->ids[i]))
            return tg__fail(TG_ERR_NOMEM, "llm: out of memory");
    return TG_OK;
}

static tg_status complete_json(tg_llm *llm, const tg_llm_request *r, char **out) {
    engine *e = (engine *)llm;
    const tg_vocab *v = tg_model_vocab(e->model);
    int32_t budget = r->max_tokens > 0 ? r->max_tokens : 400;
    tg_status s = use_schema(e, r->schema);
    if (s)
        return s;
    char *prompt = render(r);
    if (!prompt)
        return tg__fail(TG_ERR_NOMEM, "llm: out of memory");
    tg_tokens toks = {0};
    s = tg_tokenize(v, prompt, strlen(prompt), (tg_tokenize_opts){.add_special = true}, &toks);
    free(prompt);
    if (!s && (int64_t)toks.n + budget > tg_ctx_n_ctx(e->ctx))
        s = tg__fail(TG_ERR_RANGE, "%s: a prompt of %zu tokens and a reply of up to %d do not fit the context (%d)",
                     e->base.name, toks.n, budget, tg_ctx_n_ctx(e->ctx));
    if (!s && toks.n == 0)
        s = tg__fail(TG_ERR_ARG, "llm: empty prompt");
    if (!s)
        s = feed_prompt(e, &toks);
    tg_tokens_free(&toks);
    if (s)
        return s;

    tg__buf text = {0};
    bool done = false;
    if (r->reply_prefix && *r->reply_prefix) {
        if (tg_grammar_accept_text(e->gst, r->reply_prefix, strlen(r->reply_prefix)))
            return tg__fail(TG_ERR_ARG, "llm: the reply prefix does not fit the schema: %.80s", r->reply_prefix);
        tg__buf_puts(&text, r->reply_prefix);
    }
    char piece[256];
    for (int32_t i = 0; !s && !done && i < budget; i++) {
        if ((s = tg_grammar_allowed(e->gst, e->bits)))
            break;
        tg_sampler_set_allowed(e->sampler, e->bits);
        tg_token t = tg_sampler_sample(e->sampler, tg_ctx_logits(e->ctx, 0), NULL);
        if (t < 0) {
            s = tg__fail_prefix(TG_ERR_RANGE, "%s: no token can continue the reply", e->base.name);
            break;
        }
        if ((s = tg_grammar_accept(e->gst, t)))
            break;
        if (tg_vocab_is_eog(v, t)) { /* allowed only once the JSON is complete */
            done = true;
            break;
        }
        size_t n = tg_token_to_piece(v, t, false, piece, sizeof piece);
        if (n > sizeof piece || !tg__buf_append(&text, piece, n)) {
            s = tg__fail(TG_ERR_NOMEM, "llm: out of memory");
            break;
        }
        if (tg_grammar_finished(e->gst)) {
            done = true; /* nothing can follow: no need to evaluate it */
            break;
        }
        tg_batch b = {.n = 1, .token = &t};
        if ((s = tg_ctx_decode(e->ctx, &b)) || !tg__tokens_push(&e->held, t)) {
            s = s ? s : tg__fail(TG_ERR_NOMEM, "llm: out of memory");
            tg_ctx_seq_truncate(e->ctx, 0, 0);
            e->held.n = 0;
        }
    }
    if (!s && !done && !tg_grammar_complete(e->gst))
        s = tg__fail(TG_ERR_RANGE, "%s: the reply did not finish within %d tokens", e->base.name, budget);
    char *json = s ? NULL : tg__buf_take(&text);
    tg__buf_free(&text);
    if (!s && !json)
        s = tg__fail(TG_ERR_NOMEM, "llm: out of memory");
    *out = json;
    return s;
}

static void engine_free(tg_llm *llm) {
    engine *e = (engine *)llm;
    tg_grammar_state_free(e->gst);
    tg_grammar_free(e->grammar);
    free(e->schema);
    tg_tokens_free(&e->held);
    free(e->bits);
    tg_sampler_free(e->sampler);
    tg_ctx_free(e->ctx);
    tg_model_free(e->model);
    free(e->base.name);
    free(e);
}

static const tg__llm_vt vt = {complete_json, engine_free};

tg_llm *tg_llm_engine(const tg_llm_engine_params *p) {
    tg_llm_engine_params d = tg_llm_engine_default_params();
    if (!p)
        p = &d;
    char path[4096];
    if (tg__cache_resolve(p->model && *p->model ? p->model : TG_LLM_DEFAULT_MODEL, path, sizeof path))
        return NULL;
    engine *e = tg__calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->base.vt = &vt;
    e->base.embedded = true;
    const char *slash = strrchr(path, '/');
    size_t nlen = strlen("embedded ") + strlen(slash ? slash + 1 : path) + 1;
    e->base.name = tg__calloc(nlen, 1);
    if (e->base.name)
        snprintf(e->base.name, nlen, "embedded %s", slash ? slash + 1 : path);
    e->model = tg_model_load(path);
    if (!e->base.name || !e->model)
        goto fail;
    tg_ctx_params cp = tg_ctx_default_params();
    cp.n_ctx = p->n_ctx > 0 ? p->n_ctx : 4096;
    if (tg_model_n_ctx_train(e->model) > 0 && cp.n_ctx > tg_model_n_ctx_train(e->model))
        cp.n_ctx = tg_model_n_ctx_train(e->model);
    cp.n_threads = p->n_threads;
    tg_sampler_params sp = tg_sampler_defaults();
    sp.temperature = 0; /* greedy */
    sp.seed = 0;
    e->ctx = tg_ctx_new(e->model, &cp);
    e->sampler = e->ctx ? tg_sampler_new(&sp, tg_model_n_vocab(e->model)) : NULL;
    e->bits = tg__calloc(((size_t)tg_model_n_vocab(e->model) + 31) / 32, sizeof *e->bits);
    if (!e->ctx || !e->sampler || !e->bits)
        goto fail;
    return &e->base;
fail:
    engine_free(&e->base);
    return NULL;
}
