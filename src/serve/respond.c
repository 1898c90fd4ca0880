/*
 * respond.c — the JSON the server answers with, in the shapes of OpenAI's
 * API: chat.completion / text_completion objects, their stream chunks
 * (server-sent events ending with "data: [DONE]"), usage, logprobs, error
 * objects, and the ids.
 *
 * Text from the model is UTF-8 by construction (the streaming detokenizer
 * emits whole characters), but a single token's piece may be a fragment of
 * one, so every string built from model output goes through tg__json_text,
 * which never fails on bad bytes.  Must never: put a reply together from
 * anything but the job's published output (read under its mutex).
 */
#include "serve/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ---- small pieces ------------------------------------------------------------------ */

const char *tg__error_type(int status) {
    switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

char *tg__error_json(int status, const char *message, const char *param, const char *code) {
    json_t *e = json_pack("{s:{s:o, s:s, s:o, s:o}}", "error", "message", tg__json_text(message, strlen(message)),
                          "type", tg__error_type(status), "param",
                          (param && *param) ? tg__json_text(param, strlen(param)) : json_null(), "code",
                          code ? json_string(code) : json_null());
    char *s = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    return s;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    unsigned cp = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

json_t *tg__json_text(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    bool clean = true;
    while (i < n) {
        size_t l = p[i] ? utf8_seq(p + i, n - i) : 0; /* NUL is not allowed in our strings */
        if (!l) {
            clean = false;
            break;
        }
        i += l;
    }
    if (clean)
        return json_stringn(s, n);
    tg__buf b = {0};
    for (i = 0; i < n;) {
        size_t l = p[i] ? utf8_seq(p + i, n - i) : 0;
        if (l) {
            tg__buf_append(&b, p + i, l);
            i += l;
        } else {
            tg__buf_append(&b, "\xEF\xBF\xBD", 3); /* U+FFFD */
            i++;
        }
    }
    json_t *v = b.failed ? NULL : json_stringn((const char *)b.data, b.len);
    tg__buf_free(&b);
    return v;
}

void tg__random_id(const char *prefix, char *out, size_t cap) {
    static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[24];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        /* no entropy: ids need only be unique, not secret */
        static _Atomic uint64_t counter;
        uint64_t x = atomic_fetch_add(&counter, 1) ^ (uint64_t)(tg__now() * 1e9);
        for (size_t i = 0; i < sizeof r; i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
            r[i] = (unsigned char)(x >> 56);
    }
    char tail[sizeof r + 1];
    for (size_t i = 0; i < sizeof r; i++)
        tail[i] = al[r[i] % (sizeof al - 1)];
    tail[sizeof r] = '\0';
    snprintf(out, cap, "%s%s", prefix, tail);
}

json_t *tg__usage_json(const tg__job *j) {
    json_t *u = json_pack("{s:i, s:i, s:i, s:{s:i}}", "prompt_tokens", (json_int_t)j->n_prompt, "completion_tokens",
                          (json_int_t)j->n_gen, "total_tokens", (json_int_t)j->n_prompt + j->n_gen,
                          "prompt_tokens_details", "cached_tokens", (json_int_t)j->n_cached);
    /* the energy meter's extension fields (docs/API.md, "usage"; energy.c) */
    tg__energy_usage(j->energy, j->joules, u);
    return u;
}

static const char *finish_name(tg__finish f) {
    return f == TG__FINISH_LENGTH ? "length" : "stop";
}

/* ---- logprobs ------------------------------------------------------------------------ */

static json_t *bytes_array(const char *p, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_integer((unsigned char)p[i]));
    return a;
}

/* A token's text for logprobs (control tokens by their name). */
static size_t piece_of(const tg_vocab *v, tg_token t, char *buf, size_t cap) {
    size_t n = tg_token_to_piece(v, t, true, buf, cap);
    return n > cap ? cap : n;
}

/* Chat: [{"token", "logprob", "bytes", "top_logprobs": [...]}, …] for recs [from, to). */
static json_t *chat_logprobs(const tg__reply_ctx *c, const tg__job *j, size_t from, size_t to) {
    json_t *content = json_array();
    char piece[256];
    for (size_t i = from; content && i < to; i++) {
        const tg__tokrec *r = &j->recs[i];
        size_t n = piece_of(c->vocab, r->token, piece, sizeof piece);
        json_t *top = json_array();
        const tg_logprob *tp = j->tops + i * (size_t)TG_MAX(j->n_top, 1);
        for (int32_t k = 0; top && k < j->n_top && tp[k].token >= 0; k++) {
            size_t m = piece_of(c->vocab, tp[k].token, piece, sizeof piece);
            json_array_append_new(top, json_pack("{s:o, s:f, s:o}", "token", tg__json_text(piece, m), "logprob",
                                                 (double)tp[k].logprob, "bytes", bytes_array(piece, m)));
        }
        n = piece_of(c->vocab, r->token, piece, sizeof piece);
        json_array_append_new(content, json_pack("{s:o, s:f, s:o, s:o}", "token", tg__json_text(piece, n), "logprob",
                                                 (double)r->logprob, "bytes", bytes_array(piece, n), "top_logprobs",
                                                 top));
    }
    return json_pack("{s:o}", "content", content);
}

/* Completions: {"tokens", "token_logprobs", "top_logprobs", "text_offset"}. */
static json_t *text_logprobs(const tg__reply_ctx *c, const tg__job *j, size_t from, size_t to, size_t *offset) {
    json_t *toks = json_array(), *lps = json_array(), *tops = json_array(), *offs = json_array();
    char piece[256];
    for (size_t i = from; i < to; i++) {
        const tg__tokrec *r = &j->recs[i];
        size_t n = piece_of(c->vocab, r->token, piece, sizeof piece);
        json_array_append_new(toks, tg__json_text(piece, n));
        json_array_append_new(lps, json_real(r->logprob));
        json_array_append_new(offs, json_integer((json_int_t)*offset));
        *offset += n;
        json_t *top = json_object();
        const tg_logprob *tp = j->tops + i * (size_t)TG_MAX(j->n_top, 1);
        for (int32_t k = 0; k < j->n_top && tp[k].token >= 0; k++) {
            size_t m = piece_of(c->vocab, tp[k].token, piece, sizeof piece);
            piece[m < sizeof piece ? m : sizeof piece - 1] = '\0';
            json_t *key = tg__json_text(piece, strlen(piece));
            if (key)
                json_object_set_new(top, json_string_value(key), json_real(tp[k].logprob));
            json_decref(key);
        }
        json_array_append_new(tops, top);
    }
    return json_pack("{s:o, s:o, s:o, s:o}", "tokens", toks, "token_logprobs", lps, "top_logprobs", tops,
                     "text_offset", offs);
}

/* ---- tool calls ---------------------------------------------------------------------- */

/* The tool call a finished job made, as OpenAI's tool_calls array (with
 * index fields when streaming), or NULL when it made none. */
static json_t *tool_calls_of(const tg__reply_ctx *c, const tg__job *j, bool indexed) {
    if (j->tool_at < 0 || !j->grammar_done || (size_t)j->tool_at > j->text_len)
        return NULL;
    char *name, *args;
    if (tg__tools_parse_call(c->req, j->text + j->tool_at, j->text_len - (size_t)j->tool_at, &name, &args) != TG_OK)
        return NULL;
    char id[40];
    tg__random_id("call_", id, sizeof id);
    json_t *call = json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", id, "type", "function", "function", "name", name,
                             "arguments", args);
    if (call && indexed)
        json_object_set_new(call, "index", json_integer(0));
    free(name);
    free(args);
    return call ? json_pack("[o]", call) : NULL;
}

/* The content part of the text: before a tool call (if any), and nothing
 * at all if that is only white space. */
static json_t *content_of(const tg__job *j, bool calls) {
    size_t n = calls ? (size_t)j->tool_at : j->text_len;
    if (calls) {
        size_t i = 0;
        while (i < n && (j->text[i] == ' ' || j->text[i] == '\n' || j->text[i] == '\t' || j->text[i] == '\r'))
            i++;
        if (i == n)
            return json_null();
    }
    return tg__json_text(j->text, n);
}

/* ---- whole replies ------------------------------------------------------------------- */

char *tg__reply_full(const tg__reply_ctx *c, tg__job *j) {
    pthread_mutex_lock(&j->mu);
    json_t *o;
    if (c->req->api == TG__API_CHAT) {
        json_t *calls = tool_calls_of(c, j, false);
        json_t *msg = json_pack("{s:s, s:o}", "role", "assistant", "content", content_of(j, calls != NULL));
        if (calls)
            json_object_set_new(msg, "tool_calls", calls);
        json_t *lp = j->logprobs ? chat_logprobs(c, j, 0, j->n_recs) : json_null();
        o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:[{s:i, s:o, s:o, s:s}], s:o}", "id", c->id, "object",
                      "chat.completion", "created", (json_int_t)c->created, "model", c->model_id,
                      "system_fingerprint", "tinglado-" TG_VERSION, "choices", "index", 0, "message", msg, "logprobs",
                      lp, "finish_reason", calls ? "tool_calls" : finish_name(j->finish), "usage",
                      tg__usage_json(j));
    } else {
        size_t off = 0;
        json_t *lp = j->logprobs ? text_logprobs(c, j, 0, j->n_recs, &off) : json_null();
        o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:[{s:o, s:i, s:o, s:s}], s:o}", "id", c->id, "object",
                      "text_completion", "created", (json_int_t)c->created, "model", c->model_id,
                      "system_fingerprint", "tinglado-" TG_VERSION, "choices", "text",
                      tg__json_text(j->text, j->text_len), "index", 0, "logprobs", lp, "finish_reason",
                      finish_name(j->finish), "usage", tg__usage_json(j));
    }
    pthread_mutex_unlock(&j->mu);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* ---- stream chunks ------------------------------------------------------------------- */

static bool sse(tg__buf *out, json_t *o) {
    if (!o)
        return false;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return false;
    tg__buf_append(out, "data: ", 6);
    tg__buf_append(out, s, strlen(s));
    tg__buf_append(out, "\n\n", 2);
    free(s);
    return !out->failed;
}

/* A chat chunk with one choice: delta, logprobs, finish_reason (NULL: null). */
static json_t *chat_chunk(const tg__reply_ctx *c, json_t *delta, json_t *logprobs, const char *finish) {
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:[{s:i, s:o, s:o, s:o}]}", "id", c->id, "object",
                          "chat.completion.chunk", "created", (json_int_t)c->created, "model", c->model_id,
                          "system_fingerprint", "tinglado-" TG_VERSION, "choices", "index", 0, "delta", delta,
                          "logprobs", logprobs ? logprobs : json_null(), "finish_reason",
                          finish ? json_string(finish) : json_null());
    if (o && c->req->include_usage)
        json_object_set_new(o, "usage", json_null());
    return o;
}

static json_t *text_chunk(const tg__reply_ctx *c, json_t *text, json_t *logprobs, const char *finish) {
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:[{s:o, s:i, s:o, s:o}]}", "id", c->id, "object",
                          "text_completion", "created", (json_int_t)c->created, "model", c->model_id,
                          "system_fingerprint", "tinglado-" TG_VERSION, "choices", "text", text, "index", 0,
                          "logprobs", logprobs ? logprobs : json_null(), "finish_reason",
                          finish ? json_string(finish) : json_null());
    if (o && c->req->include_usage)
        json_object_set_new(o, "usage", json_null());
    return o;
}

bool tg__reply_stream(const tg__reply_ctx *c, tg__job *j, bool first, size_t *text_off, size_t *rec_off,
                      tg__buf *out) {
    const bool chat = c->req->api == TG__API_CHAT;
    const bool done = j->finish != TG__FINISH_NONE;
    bool ok = true;
    if (first && chat)
        ok = sse(out, chat_chunk(c, json_pack("{s:s, s:s}", "role", "assistant", "content", ""), NULL, NULL));
    if (j->finish == TG__FINISH_ERROR) {
        char *e = tg__error_json(500, j->error[0] ? j->error : "generation failed", NULL, NULL);
        if (e) {
            tg__buf_append(out, "data: ", 6);
            tg__buf_append(out, e, strlen(e));
            tg__buf_append(out, "\n\ndata: [DONE]\n\n", 16);
            free(e);
        }
        return !out->failed;
    }
    /* text that is content now: not while a lazy tool choice is undecided,
     * and never the tool call itself */
    size_t limit = j->text_len;
    if (j->undecided && !done)
        limit = *text_off;
    if (j->tool_at >= 0 && (size_t)j->tool_at < limit && (j->grammar_done || !done))
        limit = (size_t)j->tool_at;
    size_t to_rec = j->n_recs;
    if (ok && (limit > *text_off || (j->logprobs && to_rec > *rec_off))) {
        json_t *text = tg__json_text(j->text + *text_off, limit - *text_off);
        if (chat) {
            json_t *lp = j->logprobs ? chat_logprobs(c, j, *rec_off, to_rec) : NULL;
            ok = sse(out, chat_chunk(c, json_pack("{s:o}", "content", text), lp, NULL));
        } else {
            size_t off = *text_off;
            json_t *lp = j->logprobs ? text_logprobs(c, j, *rec_off, to_rec, &off) : NULL;
            ok = sse(out, text_chunk(c, text, lp, NULL));
        }
        *text_off = limit;
        *rec_off = to_rec;
    }
    if (!ok || !done)
        return ok && !out->failed;
    if (j->finish == TG__FINISH_CANCELLED)
        return !out->failed;
    const char *reason = finish_name(j->finish);
    if (chat) {
        json_t *calls = tool_calls_of(c, j, true);
        if (calls) {
            ok = sse(out, chat_chunk(c, json_pack("{s:o}", "tool_calls", calls), NULL, NULL));
            reason = "tool_calls";
        }
        ok = ok && sse(out, chat_chunk(c, json_object(), NULL, reason));
    } else {
        ok = sse(out, text_chunk(c, json_string(""), NULL, reason));
    }
    if (ok && c->req->include_usage) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:[], s:o}", "id", c->id, "object",
                              chat ? "chat.completion.chunk" : "text_completion", "created", (json_int_t)c->created,
                              "model", c->model_id, "system_fingerprint", "tinglado-" TG_VERSION, "choices", "usage",
                              tg__usage_json(j));
        ok = sse(out, o);
    }
    tg__buf_append(out, "data: [DONE]\n\n", 14);
    return ok && !out->failed;
}
