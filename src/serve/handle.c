/*
 * handle.c — from a generation request's body to a running job, independent
 * of the HTTP library: parse and validate (openai.c), build the prompt
 * (prompt.c), tokenize, check it against the context and the token limits,
 * choose the decoding constraint (tools, response_format), create the job
 * and submit it to the scheduler.  Every refusal becomes an HTTP status and
 * an OpenAI error body; a context overflow says by how many tokens.
 *
 * Must never: submit a job whose prompt plus max_tokens does not fit a slot.
 */
#include "serve/serve.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

TG_PRINTF(5, 6)
static int refuse(char **err, int status, const char *param, const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    *err = tg__error_json(status, msg, param, code);
    return status;
}

static int status_of(tg_status s) {
    return s == TG_ERR_NOMEM ? 500 : 400;
}

/* Tokenizes rendered prompt text; control-token text (<start_of_turn>) is
 * read as tokens, and a BOS doubled by a template that writes its own is
 * dropped, as `tinglado run` does. */
static tg_status tokenize(const tg_vocab *v, const char *text, size_t len, tg_tokens *out) {
    tg_status s = tg_tokenize(v, text, len, (tg_tokenize_opts){.add_special = true, .parse_special = true}, out);
    if (s == TG_OK && out->n >= 2 && out->ids[0] == tg_vocab_bos(v) && out->ids[1] == out->ids[0]) {
        memmove(out->ids, out->ids + 1, (out->n - 1) * sizeof *out->ids);
        out->n--;
    }
    return s;
}

void tg__gen_free(tg__gen *g) {
    if (!g)
        return;
    tg__job_release(g->job);
    tg__sreq_free(&g->req);
    memset(g, 0, sizeof *g);
}

int tg__gen_start(tg__app *app, tg__api api, const char *body, size_t len, tg__gen *g, char **err) {
    memset(g, 0, sizeof *g);
    *err = NULL;
    tg__sreq *r = &g->req;
    tg_status s = tg__sreq_parse(api, body, len, &app->defaults, r);
    if (s)
        return refuse(err, status_of(s), r->param, NULL, "%s", tg_last_error());

    /* the prompt as tokens */
    tg_tokens toks = {0};
    if (api == TG__API_CHAT) {
        char *text = NULL;
        s = tg__prompt_chat(r, app->tmpl, &text);
        if (!s)
            s = tokenize(app->vocab, text, strlen(text), &toks);
        free(text);
    } else if (r->prompt_is_ids) {
        toks = r->prompt_ids;
        r->prompt_ids = (tg_tokens){0};
    } else {
        s = tokenize(app->vocab, r->prompt, r->prompt_len, &toks);
    }
    if (s) {
        tg_tokens_free(&toks);
        return refuse(err, status_of(s), api == TG__API_CHAT ? "messages" : "prompt", NULL, "%s", tg_last_error());
    }
    int status = 0;
    const int64_t n_prompt = (int64_t)toks.n, n_ctx = app->n_ctx;
    if (n_prompt == 0) {
        status = refuse(err, 400, "prompt", NULL, "the prompt is empty");
        goto out;
    }
    if (n_prompt >= n_ctx) {
        status = refuse(err, 400, api == TG__API_CHAT ? "messages" : "prompt", "context_length_exceeded",
                        "This model's context holds %lld tokens per request; the prompt is %lld tokens, %lld more "
                        "than fit with room for a reply. Shorten it by at least %lld tokens.",
                        (long long)n_ctx, (long long)n_prompt, (long long)(n_prompt - n_ctx + 1),
                        (long long)(n_prompt - n_ctx + 1));
        goto out;
    }
    int64_t max_tokens = r->max_tokens;
    const char *mt_param = api == TG__API_CHAT ? "max_completion_tokens" : "max_tokens";
    if (max_tokens < 0) {
        max_tokens = TG_MIN((int64_t)app->max_tokens, n_ctx - n_prompt);
    } else if (max_tokens > app->max_tokens) {
        status = refuse(err, 400, mt_param, NULL, "max_tokens is %lld; this server allows at most %d per request",
                        (long long)max_tokens, app->max_tokens);
        goto out;
    } else if (n_prompt + max_tokens > n_ctx) {
        status = refuse(err, 400, mt_param, "context_length_exceeded",
                        "This model's context holds %lld tokens per request; you asked for %lld (%lld in the "
                        "prompt, %lld for the completion), %lld too many. Shorten the prompt or lower max_tokens.",
                        (long long)n_ctx, (long long)(n_prompt + max_tokens), (long long)n_prompt,
                        (long long)max_tokens, (long long)(n_prompt + max_tokens - n_ctx));
        goto out;
    }

    /* stop strings: the request's, and for chat the template's end-of-turn
     * markers (for a model that writes them as text rather than as its
     * end-of-generation token) */
    const char *stops[TG__MAX_STOPS + 8];
    size_t n_stops = 0;
    for (size_t i = 0; i < r->n_stops; i++)
        stops[n_stops++] = r->stops[i];
    if (api == TG__API_CHAT)
        for (const char *const *t = tg_chat_stop_strings(app->tmpl); t && *t && n_stops < TG_ARRAY_LEN(stops); t++)
            stops[n_stops++] = *t;

    /* the constraint: a tool-call envelope, a response format, or none */
    tg__job_spec spec = {.prompt = toks.ids, .n_prompt = toks.n, .sp = r->sp, .max_tokens = (int32_t)max_tokens,
                         .stops = stops, .n_stops = n_stops, .logprobs = r->logprobs,
                         .bias_tokens = r->bias_tokens, .bias_values = r->bias_values, .n_bias = r->n_bias};
    json_t *schema = NULL;
    if (r->tool_mode != TG__TOOLS_NONE) {
        schema = tg__tools_envelope_schema(r);
        if (!schema) {
            status = refuse(err, 500, "tools", NULL, "out of memory building the tool-call schema");
            goto out;
        }
        spec.constrain = r->tool_mode == TG__TOOLS_AUTO ? TG__CONSTRAIN_LAZY : TG__CONSTRAIN_FULL;
        spec.tool_call = true;
    } else if (r->format == TG__FORMAT_JSON_OBJECT) {
        spec.constrain = TG__CONSTRAIN_FULL;
    } else if (r->format == TG__FORMAT_JSON_SCHEMA) {
        schema = json_incref(r->format_schema);
        spec.constrain = TG__CONSTRAIN_FULL;
    }
    spec.schema = schema;
    g->job = tg__job_new(app->model, &spec);
    json_decref(schema);
    if (!g->job) {
        const char *param = r->tool_mode != TG__TOOLS_NONE ? "tools"
                            : r->format != TG__FORMAT_TEXT ? "response_format"
                            : r->n_bias                   ? "logit_bias"
                                                          : "";
        status = refuse(err, status_of(TG_ERR_ARG), param, NULL, "%s", tg_last_error());
        goto out;
    }
    tg__random_id(api == TG__API_CHAT ? "chatcmpl-" : "cmpl-", g->id, sizeof g->id);
    g->rc = (tg__reply_ctx){.req = r, .vocab = app->vocab, .id = g->id, .model_id = app->model_id,
                            .created = (int64_t)time(NULL)};
    switch (tg__sched_submit(app->sched, g->job)) {
    case TG__SUBMIT_OK: status = 200; break;
    case TG__SUBMIT_FULL: {
        int q, a, n;
        tg__sched_counts(app->sched, &q, &a, &n);
        status = refuse(err, 429, NULL, "server_busy",
                        "The server is busy: all %d slots are generating and %d requests are waiting. Retry later.",
                        n, q);
        break;
    }
    case TG__SUBMIT_DRAINING:
        status = refuse(err, 503, NULL, "shutting_down", "The server is shutting down and takes no new requests.");
        break;
    }
out:
    tg_tokens_free(&toks);
    if (!*err && status != 200)
        *err = tg__error_json(500, "out of memory", NULL, NULL);
    return status;
}
