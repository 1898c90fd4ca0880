/*
 * enrich.c — summaries and tags from a language model behind an
 * OpenAI-compatible chat endpoint (tinglado serve, llama.cpp's server,
 * vLLM, a hosted API), and storing them.
 *
 * The request asks for JSON under a JSON Schema (response_format
 * json_schema, strict), so a server that constrains decoding — tinglado
 * serve does — always returns something that parses; the reply is still
 * validated here (a summary, 3-7 tags) and anything else is an error that
 * leaves the item as it was.  The owner's existing tags are offered first so
 * the library's vocabulary stays small.  Long articles are cut to a
 * character budget (the start of an article carries its point).
 */
#include "read/store.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

tg_llm_params tg_llm_default_params(void) {
    return (tg_llm_params){.model = "default", .timeout_s = 300, .max_chars = 6000, .max_tokens = 400};
}

void tg_enrichment_clear(tg_enrichment *e) {
    if (!e)
        return;
    free(e->summary);
    for (size_t i = 0; i < e->n_tags; i++)
        free(e->tags[i]);
    free(e->tags);
    memset(e, 0, sizeof *e);
}

static size_t on_body(char *p, size_t size, size_t n, void *user) {
    tg__buf *b = user;
    if (b->len + size * n > (4u << 20))
        return 0; /* a chat reply is small: 4 MiB is a broken server */
    return tg__buf_append(b, p, size * n) ? size * n : 0;
}

/* The text cut to at most max bytes at a UTF-8 boundary, preferring a
 * paragraph end in the last quarter. */
static size_t cut(const char *text, size_t max) {
    size_t n = strlen(text);
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)text[k] & 0xC0) == 0x80)
        k--;
    for (size_t j = k; j > max * 3 / 4; j--)
        if (text[j] == '\n' && text[j - 1] == '\n')
            return j - 1;
    return k;
}

static json_t *schema(void) {
    return json_pack("{s:s, s:{s:{s:s}, s:{s:s, s:{s:s}, s:i, s:i}}, s:[s,s], s:b}", "type", "object",
                     "properties", "summary", "type", "string", "tags", "type", "array", "items", "type", "string",
                     "minItems", 3, "maxItems", 7, "required", "summary", "tags", "additionalProperties", 0);
}

static size_t words(const char *s) {
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += !isspace((unsigned char)*p) && (p == s || isspace((unsigned char)p[-1]));
    return n;
}

/* Every tag has a letter (any non-ASCII byte counts: scripts without case). */
static bool tags_have_letters(const json_t *tags) {
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) {
        const char *v = json_string_value(t);
        bool letter = false;
        for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p && !letter; p++)
            letter = isalpha(*p) || *p >= 0x80;
        if (!letter)
            return false;
    }
    return true;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init_curl(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

tg_status tg_enrich_openai(const tg_llm_params *p, const char *title, const char *text, const char *const *known,
                           size_t n_known, tg_enrichment *out) {
    memset(out, 0, sizeof *out);
    if (!p || !p->url || !*p->url || !text)
        return tg__fail(TG_ERR_ARG, "enrich: need an endpoint URL and a text");
    tg__buf sys = {0}, user = {0};
    tg__buf_puts(&sys, "You summarise articles for a personal reading list. Reply with JSON: \"summary\" is 2 to 4 "
                       "plain sentences saying what the article says (not what it is about), in the article's "
                       "language; \"tags\" are 3 to 7 short lower-case topic tags.");
    if (n_known) {
        tg__buf_puts(&sys, " Prefer these existing tags when they fit: ");
        for (size_t i = 0; i < n_known && i < 200; i++)
            tg__buf_printf(&sys, "%s%s", i ? ", " : "", known[i]);
        tg__buf_puts(&sys, ".");
    }
    size_t n = cut(text, p->max_chars ? (size_t)p->max_chars : 6000);
    tg__buf_printf(&user, "Title: %s\n\n", title ? title : "(none)");
    tg__buf_append(&user, text, n);
    if (n < strlen(text))
        tg__buf_puts(&user, "\n\n[… the rest of the article is cut]");
    char *s_sys = tg__buf_take(&sys), *s_user = tg__buf_take(&user);
    json_t *req = s_sys && s_user
                      ? json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:f, s:i, s:{s:s, s:{s:s, s:b, s:o}}}", "model",
                                  p->model ? p->model : "default", "messages", "role", "system", "content", s_sys,
                                  "role", "user", "content", s_user, "temperature", 0.0, "max_tokens",
                                  p->max_tokens > 0 ? p->max_tokens : 400, "response_format", "type", "json_schema",
                                  "json_schema", "name", "enrichment", "strict", 1, "schema", schema())
                      : NULL;
    free(s_sys);
    free(s_user);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body)
        return tg__fail(TG_ERR_NOMEM, "enrich: out of memory");

    pthread_once(&once, init_curl);
    CURL *h = curl_easy_init();
    char url[2048], auth[1024];
    snprintf(url, sizeof url, "%s%schat/completions", p->url, p->url[strlen(p->url) - 1] == '/' ? "" : "/");
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (p->key && *p->key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", p->key);
        hdr = curl_slist_append(hdr, auth);
    }
    tg__buf resp = {0};
    tg_status st = TG_OK;
    if (!h || !hdr) {
        st = tg__fail(TG_ERR_NOMEM, "enrich: libcurl setup failed");
        goto done;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, p->timeout_s > 0 ? p->timeout_s : 300L);
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
    json_error_t err;
    json_t *j = json_loadb((const char *)resp.data, resp.len, 0, &err);
    if (status != 200) {
        const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        st = tg__fail(TG_ERR_IO, "%s: HTTP %ld%s%s", url, status, msg ? ": " : "", msg ? msg : "");
        json_decref(j);
        goto done;
    }
    const char *content = json_string_value(
        json_object_get(json_object_get(json_array_get(json_object_get(j, "choices"), 0), "message"), "content"));
    json_t *c = content ? json_loads(content, 0, &err) : NULL;
    const char *summary = json_string_value(json_object_get(c, "summary"));
    json_t *tags = json_object_get(c, "tags");
    if (!content) {
        st = tg__fail(TG_ERR_FORMAT, "%s: no choices[0].message.content in the reply", url);
    } else if (!c || !summary || !*summary || !json_is_array(tags)) {
        st = tg__fail(TG_ERR_FORMAT, "%s: the reply is not {\"summary\", \"tags\"} JSON: %.120s", url, content);
    } else if (json_array_size(tags) < 3 || json_array_size(tags) > 7) {
        st = tg__fail(TG_ERR_FORMAT, "%s: %zu tags in the reply (want 3 to 7)", url, json_array_size(tags));
    } else if (words(summary) < 6 || !tags_have_letters(tags)) {
        /* schema-valid but empty: a base model fills a constrained reply with "1", "2" … */
        st = tg__fail(TG_ERR_FORMAT, "%s: the reply is not a usable summary and tags: %.120s", url, content);
    } else {
        out->summary = tg__strndup(summary, strlen(summary));
        out->tags = tg__calloc(json_array_size(tags), sizeof *out->tags);
        size_t i;
        json_t *t;
        json_array_foreach(tags, i, t) {
            if (json_is_string(t) && *json_string_value(t) && out->tags)
                out->tags[out->n_tags++] = tg__strndup(json_string_value(t), strlen(json_string_value(t)));
        }
        if (!out->summary || !out->tags)
            st = TG_ERR_NOMEM;
    }
    json_decref(c);
    json_decref(j);
done:
    if (st)
        tg_enrichment_clear(out);
    tg__buf_free(&resp);
    curl_slist_free_all(hdr);
    if (h)
        curl_easy_cleanup(h);
    free(body);
    return st;
}

tg_status tg_library_set_summary_tags(tg_library *lib, int64_t id, const tg_enrichment *e) {
    if (!e || !e->summary)
        return tg__fail(TG_ERR_ARG, "an enrichment needs a summary");
    tg_status s = tg__lib_begin(lib);
    if (s)
        return s;
    sqlite3_stmt *u = tg__lib_prepare(lib, "UPDATE contents SET summary = ?2 WHERE item = ?1");
    sqlite3_stmt *st = tg__lib_prepare(lib, "UPDATE items SET state = 3, error = NULL, attempts = 0, updated = ?2 "
                                            "WHERE id = ?1");
    if (!u || !st)
        s = TG_ERR_IO;
    if (!s) {
        sqlite3_bind_int64(u, 1, id);
        sqlite3_bind_text(u, 2, e->summary, -1, SQLITE_STATIC);
        if (sqlite3_step(u) != SQLITE_DONE)
            s = tg__lib_sqlfail(lib, "storing a summary");
        else if (sqlite3_changes(lib->db) == 0)
            s = tg__fail(TG_ERR_ARG, "item %lld has no extracted text to enrich", (long long)id);
    }
    for (size_t i = 0; !s && i < e->n_tags; i++)
        s = tg__lib_add_tag(lib, id, e->tags[i]);
    if (!s) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, tg__read_now());
        if (sqlite3_step(st) != SQLITE_DONE)
            s = tg__lib_sqlfail(lib, "setting the state");
    }
    sqlite3_finalize(u);
    sqlite3_finalize(st);
    return tg__lib_end(lib, s);
}

tg_status tg_library_tags(tg_library *lib, char ***tags, size_t *n) {
    *tags = NULL;
    *n = 0;
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT t.name FROM tags t JOIN item_tags x ON x.tag = t.id GROUP BY t.id "
                                            "ORDER BY count(*) DESC, t.name");
    if (!st)
        return TG_ERR_IO;
    size_t cap = 0;
    tg_status s = TG_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **v = tg__realloc(*tags, cap * sizeof *v);
            if (!v) {
                s = TG_ERR_NOMEM;
                break;
            }
            *tags = v;
        }
        (*tags)[(*n)++] = tg__col_text(st, 0);
    }
    if (!s && rc != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "listing tags");
    sqlite3_finalize(st);
    return s;
}
