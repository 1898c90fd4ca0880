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
 * the previous request are kept and only the rest is evaluated.  The reply
 * is decoded with prompt lookup (decode_reply): several tokens per forward
 * pass where it copies the prompt, with exactly plain greedy's result.
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

/* Guessed tokens evaluated with each chosen one (prompt lookup), and the
 * lengths of the reply's tail looked up in the prompt.  4 rather than 8 or
 * 2: a batch's cost grows with its length (the output projection over the
 * 262k-token vocabulary runs for every row), and on 16 real pages 8 guessed
 * 2,344 tokens to keep 1,585 where 4 guessed 1,888 to keep 1,453; on 8
 * pages 4 and 2 took the same time (docs/reading.md). */
enum { DRAFT_MAX = 4, NGRAM_MAX = 3, NGRAM_MIN = 2 };

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
    tg_llm_stats stats; /* of the last request */
    size_t reply_from;  /* where the reply starts in held              */
    int32_t no_repeat;  /* the request's no_repeat_ngram               */
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
    e->stats.prompt = p->n;
    e->stats.reused = keep;
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

/* Clears from the allowed mask every token that would complete an n-gram
 * (n = no_repeat) the reply already holds: the tokens that followed each
 * earlier occurrence of the reply's last n-1 tokens.  If that leaves
 * nothing allowed (the grammar forces the repeat: a closing bracket, a
 * fixed key), the mask is left as it was.  held ends with the tokens
 * before the one being chosen, also when guesses are checked (pick runs
 * on each row with held up to that row). */
static void ban_repeats(engine *e) {
    size_t n = (size_t)e->no_repeat, len = e->held.n, from = e->reply_from;
    if (len < from + n)
        return;
    const tg_token *h = e->held.ids, *tail = h + len - (n - 1);
    tg_token banned[64];
    size_t nb = 0;
    for (size_t i = from; i + n <= len && nb < 64; i++)
        if (!memcmp(h + i, tail, (n - 1) * sizeof *h)) {
            tg_token t = h[i + n - 1];
            if (e->bits[t >> 5] >> (t & 31) & 1)
                banned[nb++] = t;
        }
    if (!nb)
        return;
    for (size_t i = 0; i < nb; i++)
        e->bits[banned[i] >> 5] &= ~(1u << (banned[i] & 31));
    size_t words = ((size_t)tg_model_n_vocab(e->model) + 31) / 32;
    for (size_t w = 0; w < words; w++)
        if (e->bits[w])
            return;
    for (size_t i = 0; i < nb; i++) /* only repeats are allowed: allow them */
        e->bits[banned[i] >> 5] |= 1u << (banned[i] & 31);
}

/* Chooses the next token from a row of logits (greedy under the grammar),
 * walks the grammar over it and appends its text; *done once it ends the
 * reply (end of generation, or nothing can follow). */
static tg_status pick(engine *e, const float *logits, tg_token *out, tg__buf *text, bool *done) {
    const tg_vocab *v = tg_model_vocab(e->model);
    tg_status s = tg_grammar_allowed(e->gst, e->bits);
    if (s)
        return s;
    if (e->no_repeat >= 2)
        ban_repeats(e);
    tg_sampler_set_allowed(e->sampler, e->bits);
    tg_token t = tg_sampler_sample(e->sampler, logits, NULL);
    if (t < 0)
        return tg__fail_prefix(TG_ERR_RANGE, "%s: no token can continue the reply", e->base.name);
    if ((s = tg_grammar_accept(e->gst, t)))
        return s;
    *out = t;
    if (tg_vocab_is_eog(v, t)) { /* allowed only once the JSON is complete */
        *done = true;
        return TG_OK;
    }
    char piece[256];
    size_t n = tg_token_to_piece(v, t, false, piece, sizeof piece);
    if (n > sizeof piece || !tg__buf_append(text, piece, n))
        return tg__fail(TG_ERR_NOMEM, "llm: out of memory");
    *done = tg_grammar_finished(e->gst); /* nothing can follow: no need to evaluate it */
    return TG_OK;
}

/* Prompt lookup: the tokens that followed the latest earlier occurrence of
 * the sequence's last n tokens (n = NGRAM_MAX down to NGRAM_MIN), at most
 * max of them, into out.  Returns how many (0: no occurrence). */
static size_t lookup(const tg_token *seq, size_t len, tg_token *out, size_t max) {
    for (size_t n = NGRAM_MAX; n >= NGRAM_MIN; n--) {
        if (len <= n)
            continue;
        const tg_token *tail = seq + len - n;
        for (size_t i = len - n; i-- > 0;) {
            if (memcmp(seq + i, tail, n * sizeof *seq))
                continue;
            size_t k = 0;
            for (; k < max && i + n + k < len; k++)
                out[k] = seq[i + n + k];
            return k;
        }
    }
    return 0;
}

/* Decodes the reply after the prompt (whose logits the context holds) until
 * the grammar ends it or budget tokens are chosen.
 *
 * Greedy decoding, sped up by prompt lookup: the default model's summaries
 * copy the article's sentences, so the tokens that followed the reply's
 * last few tokens in the prompt are a good guess of what comes next.  The
 * chosen token and up to DRAFT_MAX guessed ones are evaluated in one batch
 * (weights read once; logits for each); the guesses are kept while each
 * equals the greedy choice from the previous position's logits, and the
 * first choice that differs becomes the next token.  A batch's logits are
 * bit-identical to one token at a time (tests/model/test_model.c), so the
 * reply is exactly plain greedy decoding's, in fewer forward passes. */
static tg_status decode_reply(engine *e, int32_t budget, tg__buf *text, bool *done) {
    tg_token batch[1 + DRAFT_MAX];
    int8_t outputs[1 + DRAFT_MAX];
    memset(outputs, 1, sizeof outputs);
    int32_t chosen = 1;
    tg_status s = pick(e, tg_ctx_logits(e->ctx, 0), &batch[0], text, done);
    while (!s && !*done && chosen < budget) {
        /* batch[0] is chosen but not evaluated yet */
        if (!tg__tokens_push(&e->held, batch[0])) {
            s = tg__fail(TG_ERR_NOMEM, "llm: out of memory");
            break;
        }
        size_t room = (size_t)(budget - chosen) < DRAFT_MAX ? (size_t)(budget - chosen) : DRAFT_MAX;
        size_t nd = lookup(e->held.ids, e->held.n, batch + 1, room);
        tg_batch b = {.n = (int32_t)(1 + nd), .token = batch, .output = outputs};
        if ((s = tg_ctx_decode(e->ctx, &b)))
            break;
        e->stats.passes++;
        e->stats.guessed += nd;
        size_t before = e->held.n;
        /* row j holds the logits after batch[j] */
        for (size_t j = 0;; j++) {
            tg_token t;
            if ((s = pick(e, tg_ctx_logits(e->ctx, (int32_t)j), &t, text, done)))
                break;
            chosen++;
            batch[0] = t;
            if (*done || chosen == budget || j == nd || t != batch[1 + j])
                break;
            if (!tg__tokens_push(&e->held, t)) { /* a guess that held: the cache has it */
                s = tg__fail(TG_ERR_NOMEM, "llm: out of memory");
                break;
            }
        }
        e->stats.kept += e->held.n - before;
        tg_ctx_seq_truncate(e->ctx, 0, (int32_t)e->held.n); /* drop the guesses that failed */
    }
    e->stats.chosen = (size_t)chosen;
    if (s) {
        tg_ctx_seq_truncate(e->ctx, 0, 0);
        e->held.n = 0;
    }
    return s;
}

static tg_status complete_json(tg_llm *llm, const tg_llm_request *r, char **out) {
    engine *e = (engine *)llm;
    const tg_vocab *v = tg_model_vocab(e->model);
    int32_t budget = r->max_tokens > 0 ? r->max_tokens : 400;
    tg_status s = use_schema(e, r->schema);
    if (s)
        return s;
    memset(&e->stats, 0, sizeof e->stats);
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
    e->reply_from = e->held.n; /* the reply prefix is the prompt's tail: the reply is what follows */
    e->no_repeat = r->no_repeat_ngram;
    s = decode_reply(e, budget, &text, &done);
    if (!s && !done && !tg_grammar_complete(e->gst)) {
        /* its end says how it went wrong (a loop, a string run on); cut
         * anywhere, so mended into UTF-8 for the terminal and the database */
        size_t from = text.len > 100 ? text.len - 100 : 0;
        char *tail = text.data ? tg__utf8_repair((const char *)text.data + from, text.len - from) : NULL;
        s = tg__fail(TG_ERR_RANGE, "%s: the reply did not finish within %d tokens: …%s", e->base.name, budget,
                     tail ? tail : "");
        free(tail);
    }
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

tg_llm_stats tg_llm_last_stats(const tg_llm *llm) {
    return llm && llm->vt == &vt ? ((const engine *)llm)->stats : (tg_llm_stats){0};
}

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
    cp.n_outputs = 1 + DRAFT_MAX; /* logits for each token of a guessed batch */
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
