/*
 * llm_openai.c — tg_llm over an OpenAI-compatible chat endpoint (tinglado
 * serve, llama.cpp's server, vLLM, a hosted API): one POST to
 * <url>/chat/completions per request, temperature 0, the schema sent as
 * response_format json_schema (strict), so a server that constrains
 * decoding — tinglado serve does — returns JSON that parses.
 *
 * The instructions become the system message and the input the user
 * message.  Worked examples are not sent: they are for completion-style
 * models, and an instruction-tuned endpoint follows the instructions (they
 * would only cost tokens).  The key is never put in an error message.
 */
#include "read/llm.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct openai {
    struct tg_llm base;
    char *url, *key, *model;
    long timeout_s;
    int32_t max_tokens;
} openai;

tg_llm_params tg_llm_default_params(void) {
    return (tg_llm_params){.model = "default", .timeout_s = 300, .max_chars = 6000, .max_tokens = 400};
}

static size_t on_body(char *p, size_t size, size_t n, void *user) {
    tg__buf *b = user;
    if (b->len + size * n > (4u << 20))
        return 0; /* a chat reply is small: 4 MiB is a broken server */
    return tg__buf_append(b, p, size * n) ? size * n : 0;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init_curl(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static tg_status complete_json(tg_llm *llm, const tg_llm_request *r, char **out) {
    openai *o = (openai *)llm;
    json_error_t err;
    json_t *schema = json_loads(r->schema, 0, &err);
    if (!schema)
        return tg__fail(TG_ERR_ARG, "llm: the JSON Schema does not parse: %s", err.text);
    int32_t max_tokens = r->max_tokens > 0 ? r->max_tokens : o->max_tokens > 0 ? o->max_tokens : 400;
    json_t *req = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:f, s:i, s:{s:s, s:{s:s, s:b, s:o}}}", "model",
                            o->model, "messages", "role", "system", "content",
                            r->instructions ? r->instructions : "Reply with JSON.", "role", "user", "content",
                            r->input, "temperature", 0.0, "max_tokens", max_tokens, "response_format", "type",
                            "json_schema", "json_schema", "name", "reply", "strict", 1, "schema", schema);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body)
        return tg__fail(TG_ERR_NOMEM, "llm: out of memory");

    pthread_once(&once, init_curl);
    CURL *h = curl_easy_init();
    char url[2048], auth[1024];
    snprintf(url, sizeof url, "%s%schat/completions", o->url, o->url[strlen(o->url) - 1] == '/' ? "" : "/");
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (o->key && *o->key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->key);
        hdr = curl_slist_append(hdr, auth);
    }
    tg__buf resp = {0};
    tg_status st = TG_OK;
    if (!h || !hdr) {
        st = tg__fail(TG_ERR_NOMEM, "llm: libcurl setup failed");
        goto done;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, o->timeout_s > 0 ? o->timeout_s : 300L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        st = tg__fail(TG_ERR_IO, "%s: %s", url, curl_easy_strerror(rc));
        goto done;
    }
    json_t *j = json_loadb((const char *)resp.data, resp.len, 0, &err);
    if (status != 200) {
        const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        st = tg__fail(TG_ERR_IO, "%s: HTTP %ld%s%s", url, status, msg ? ": " : "", msg ? msg : "");
        json_decref(j);
        goto done;
    }
    const char *content = json_string_value(
        json_object_get(json_object_get(json_array_get(json_object_get(j, "choices"), 0), "message"), "content"));
    if (!content)
        st = tg__fail(TG_ERR_FORMAT, "%s: no choices[0].message.content in the reply", url);
    else if (!(*out = tg__strndup(content, strlen(content))))
        st = TG_ERR_NOMEM;
    json_decref(j);
done:
    tg__buf_free(&resp);
    curl_slist_free_all(hdr);
    if (h)
        curl_easy_cleanup(h);
    free(body);
    return st;
}

static void openai_free(tg_llm *llm) {
    openai *o = (openai *)llm;
    free(o->base.name);
    free(o->url);
    free(o->key);
    free(o->model);
    free(o);
}

static const tg__llm_vt vt = {complete_json, openai_free};

tg_llm *tg_llm_openai(const tg_llm_params *p) {
    if (!p || !p->url || !*p->url) {
        tg__fail(TG_ERR_ARG, "llm: an OpenAI-compatible endpoint needs a URL");
        return NULL;
    }
    openai *o = tg__calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->base.vt = &vt;
    const char *model = p->model && *p->model ? p->model : "default";
    o->url = tg__strndup(p->url, strlen(p->url));
    o->key = p->key ? tg__strndup(p->key, strlen(p->key)) : NULL;
    o->model = tg__strndup(model, strlen(model));
    o->base.name = tg__strndup(p->url, strlen(p->url));
    o->timeout_s = p->timeout_s;
    o->max_tokens = p->max_tokens;
    if (!o->url || !o->model || !o->base.name || (p->key && !o->key)) {
        openai_free(&o->base);
        tg__fail(TG_ERR_NOMEM, "llm: out of memory");
        return NULL;
    }
    return &o->base;
}
