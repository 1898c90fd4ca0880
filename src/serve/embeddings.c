/*
 * embeddings.c — POST /v1/embeddings with an embedding model loaded beside
 * the generative one (tinglado serve --embedding-model).
 *
 * Request (OpenAI's shape): {"input": string | [string…] | [id…] | [[id…]…],
 * "model": any, "encoding_format": "float" (default) | "base64",
 * "dimensions": must be absent or the model's own}.  Reply: {"object":"list",
 * "data":[{"object":"embedding","index":i,"embedding":[…] | "base64"}],
 * "model", "usage":{"prompt_tokens","total_tokens"}}.  base64 is the
 * little-endian float32 bytes of the vector, which is what the official SDKs
 * ask for by default and decode themselves.
 *
 * The embedder is not thread-safe and connections have a thread each, so
 * calls are serialised by app->embed_mu.  What this file must never do:
 * index outside the vocabulary, trust a count from the request for an
 * allocation without a bound, or answer 200 with fewer vectors than inputs.
 */
#include "serve/serve.h"

#include <stdlib.h>
#include <string.h>

#define MAX_INPUTS 2048

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64 of n bytes (NUL-terminated, malloc'd). */
char *tg__base64(const uint8_t *p, size_t n) {
    char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
    if (!out)
        return NULL;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        const uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = B64[v >> 18], *o++ = B64[(v >> 12) & 63], *o++ = B64[(v >> 6) & 63], *o++ = B64[v & 63];
    }
    if (n - i == 1) {
        const uint32_t v = (uint32_t)p[i] << 16;
        *o++ = B64[v >> 18], *o++ = B64[(v >> 12) & 63], *o++ = '=', *o++ = '=';
    } else if (n - i == 2) {
        const uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        *o++ = B64[v >> 18], *o++ = B64[(v >> 12) & 63], *o++ = B64[(v >> 6) & 63], *o++ = '=';
    }
    *o = 0;
    return out;
}

static int refuse(char **err, int status, const char *msg, const char *param, const char *code) {
    *err = tg__error_json(status, msg, param, code);
    return status;
}

/* One input given as token ids: every element an integer id of the
 * vocabulary, 1..max tokens.  Fills ids (malloc'd) and n. */
static int token_input(const json_t *arr, int32_t n_vocab, int32_t max_tokens, tg_token **ids, size_t *n,
                       char **err) {
    const size_t k = json_array_size(arr);
    if (k == 0 || k > (size_t)max_tokens) {
        char msg[160];
        snprintf(msg, sizeof msg, "a token-id input must hold 1 to %d ids; it holds %zu", (int)max_tokens, k);
        return refuse(err, 400, msg, "input", NULL);
    }
    *ids = malloc(k * sizeof **ids);
    if (!*ids)
        return refuse(err, 500, "out of memory", NULL, NULL);
    for (size_t i = 0; i < k; i++) {
        const json_t *v = json_array_get(arr, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= n_vocab) {
            char msg[160];
            snprintf(msg, sizeof msg, "token id %zu of an input is not an integer in 0..%d", i, (int)n_vocab - 1);
            free(*ids);
            *ids = NULL;
            return refuse(err, 400, msg, "input", NULL);
        }
        (*ids)[i] = (tg_token)json_integer_value(v);
    }
    *n = k;
    return 200;
}

void tg__embreq_free(tg__embreq *r) {
    if (r->ids)
        for (size_t i = 0; i < r->n; i++)
            free(r->ids[i]);
    free(r->ids);
    free(r->n_ids);
    free(r->texts);
    free(r->lens);
    json_decref(r->req);
    memset(r, 0, sizeof *r);
}

int tg__embreq_parse(const char *body, size_t len, const tg__embed_limits *lim, tg__embreq *r, char **err) {
    memset(r, 0, sizeof *r);
    *err = NULL;
    json_error_t je;
    json_t *req = r->req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!req) {
        char msg[300];
        snprintf(msg, sizeof msg, "the body is not valid JSON: %s (line %d, column %d)", je.text, je.line,
                 je.column);
        return refuse(err, 400, msg, NULL, NULL);
    }
    if (!json_is_object(req))
        return refuse(err, 400, "the body must be a JSON object", NULL, NULL);
    const json_t *input = json_object_get(req, "input"), *fmt = json_object_get(req, "encoding_format"),
                 *dims = json_object_get(req, "dimensions");
    if (fmt && !json_is_null(fmt)) {
        const char *f = json_string_value(fmt);
        if (!f || (strcmp(f, "float") && strcmp(f, "base64")))
            return refuse(err, 400, "'encoding_format' must be \"float\" or \"base64\"", "encoding_format", NULL);
        r->b64 = !strcmp(f, "base64");
    }
    if (dims && !json_is_null(dims) && (!json_is_integer(dims) || json_integer_value(dims) != lim->dim)) {
        char msg[160];
        snprintf(msg, sizeof msg, "this model's vectors have %d dimensions and cannot be shortened", (int)lim->dim);
        return refuse(err, 400, msg, "dimensions", NULL);
    }
    /* the four shapes of input, as a list of items */
    bool one_ids = false; /* input is a single array of ids */
    if (json_is_string(input)) {
        r->n = 1;
    } else if (json_is_array(input) && json_array_size(input) > 0) {
        const json_t *first = json_array_get(input, 0);
        one_ids = json_is_integer(first);
        r->tokens = one_ids || json_is_array(first);
        r->n = one_ids ? 1 : json_array_size(input);
    } else {
        return refuse(err, 400, "'input' must be a non-empty string, array of strings, or array of token ids",
                      "input", NULL);
    }
    if (r->n > MAX_INPUTS) {
        char msg[120];
        snprintf(msg, sizeof msg, "'input' holds %zu items; at most %d per request", r->n, MAX_INPUTS);
        return refuse(err, 400, msg, "input", NULL);
    }
    const size_t n = r->n;
    if (!r->tokens) {
        r->texts = calloc(n, sizeof *r->texts);
        r->lens = calloc(n, sizeof *r->lens);
        if (!r->texts || !r->lens)
            return refuse(err, 500, "out of memory", NULL, NULL);
        for (size_t i = 0; i < n; i++) {
            const json_t *t = json_is_string(input) ? input : json_array_get(input, i);
            if (!json_is_string(t)) {
                char msg[120];
                snprintf(msg, sizeof msg, "'input[%zu]' is not a string (an array of inputs must be all strings "
                                          "or all token-id arrays)", i);
                return refuse(err, 400, msg, "input", NULL);
            }
            r->texts[i] = json_string_value(t);
            r->lens[i] = json_string_length(t);
        }
        return 200;
    }
    r->ids = calloc(n, sizeof *r->ids);
    r->n_ids = calloc(n, sizeof *r->n_ids);
    if (!r->ids || !r->n_ids)
        return refuse(err, 500, "out of memory", NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        const json_t *a = one_ids ? input : json_array_get(input, i);
        if (!json_is_array(a))
            return refuse(err, 400, "an array of token-id inputs must hold only arrays", "input", NULL);
        int status = token_input(a, lim->n_vocab, lim->max_tokens, &r->ids[i], &r->n_ids[i], err);
        if (status != 200)
            return status;
        r->n_tokens += (int64_t)r->n_ids[i];
    }
    return 200;
}

int tg__embeddings(tg__app *app, const char *body, size_t len, char **out) {
    *out = NULL;
    const tg__embed_limits lim = {.dim = tg_embedder_dim(app->embedder),
                                  .max_tokens = tg_embedder_max_tokens(app->embedder),
                                  .n_vocab = tg_vocab_n_tokens(tg_embedder_vocab(app->embedder))};
    const int32_t dim = lim.dim;
    tg__embreq r;
    json_t *reply = NULL;
    float *vec = NULL;
    tg_embed_info *info = NULL;
    int status = tg__embreq_parse(body, len, &lim, &r, out);
    if (status != 200)
        goto done;
    const size_t n = r.n;
    vec = malloc(n * (size_t)dim * sizeof *vec);
    info = calloc(n, sizeof *info);
    if (!vec || !info) {
        status = refuse(out, 500, "out of memory", NULL, NULL);
        goto done;
    }
    int64_t n_tokens = 0;
    tg_status st;
    pthread_mutex_lock(&app->embed_mu);
    if (!r.tokens) {
        st = tg_embed(app->embedder, r.texts, r.lens, n, vec, info);
        pthread_mutex_unlock(&app->embed_mu);
        for (size_t i = 0; i < n; i++)
            n_tokens += info[i].n_tokens;
    } else {
        st = tg_embed_tokens(app->embedder, (const tg_token *const *)r.ids, r.n_ids, n, vec);
        pthread_mutex_unlock(&app->embed_mu);
        n_tokens = r.n_tokens;
    }
    if (st != TG_OK) {
        status = refuse(out, st == TG_ERR_NOMEM ? 500 : 400, tg_last_error(), "input", NULL);
        goto done;
    }
    reply = json_object();
    json_t *data = json_array();
    json_object_set_new(reply, "object", json_string("list"));
    json_object_set_new(reply, "data", data);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_object(), *emb;
        const float *v = vec + i * (size_t)dim;
        if (r.b64) {
            char *s = tg__base64((const uint8_t *)v, (size_t)dim * sizeof *v); /* x86-64: little-endian */
            emb = s ? json_string(s) : NULL;
            free(s);
        } else {
            emb = json_array();
            for (int32_t d = 0; d < dim; d++)
                json_array_append_new(emb, json_real(v[d]));
        }
        if (!e || !emb) {
            json_decref(e);
            json_decref(emb);
            status = refuse(out, 500, "out of memory", NULL, NULL);
            goto done;
        }
        json_object_set_new(e, "object", json_string("embedding"));
        json_object_set_new(e, "index", json_integer((json_int_t)i));
        json_object_set_new(e, "embedding", emb);
        json_array_append_new(data, e);
    }
    json_object_set_new(reply, "model", json_string(app->embed_model_id));
    json_t *usage = json_object();
    json_object_set_new(usage, "prompt_tokens", json_integer(n_tokens));
    json_object_set_new(usage, "total_tokens", json_integer(n_tokens));
    json_object_set_new(reply, "usage", usage);
    *out = json_dumps(reply, JSON_COMPACT | JSON_REAL_PRECISION(9));
    if (!*out)
        status = refuse(out, 500, "out of memory", NULL, NULL);
done:
    tg__embreq_free(&r);
    free(vec);
    free(info);
    json_decref(reply);
    return status;
}
