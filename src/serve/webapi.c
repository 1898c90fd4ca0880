/*
 * webapi.c — the reading list's JSON API under /library/api/, what the page
 * (src/serve/web/app.js) calls.  web.c has already checked the caller (key
 * or cookie, CSRF rule for POST); this file validates every parameter and
 * answers JSON, errors in the OpenAI shape the rest of the server uses.
 *
 *   GET  status                      counts per state, worker, search mode
 *   GET  items?view=&tag=&site=&state=&limit=&offset=   the reading list
 *   POST items {"url", "tags"?}      save a URL (the worker fetches it)
 *   GET  items/ID                    one item with summary and sanitised HTML
 *   POST items/ID {"archived"?, "favorite"?, "add_tags"?, "remove_tags"?}
 *   GET  tags                        every tag, most used first
 *   GET  search?q=&limit=            hybrid with an embedding model, else FTS
 *   POST ask {"question"}            an answer with citations (needs -m MODEL)
 *
 * All library calls go through the handlers' one connection under
 * reader->mu; embedding a query happens outside it.  Must never: pass an
 * unchecked string or number to the library, or build SQL.
 */
#include "serve/serve.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_URL = 4096,
    MAX_TAG = 64,
    MAX_TAGS = 32,
    MAX_SITE = 253,
    MAX_QUERY = 1000,
    MAX_QUESTION = 2000,
    LIST_DEFAULT = 50,
    LIST_MAX = 200,
    SEARCH_DEFAULT = 20,
    SEARCH_MAX = 100,
};

/* ---- parameters ------------------------------------------------------------------- */

/* A positive decimal id of at most 15 digits (no sign, no spaces). */
static bool parse_id(const char *s, int64_t *id) {
    size_t n = strlen(s);
    if (n == 0 || n > 15)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *id = v;
    return v > 0;
}

/* An optional integer query argument in [lo, hi]; false with *out set to the error. */
static bool int_arg(const tg__web_req *rq, const char *name, long lo, long hi, long def, long *v,
                    tg__web_resp *out) {
    const char *s = rq->arg(rq->arg_ctx, name);
    *v = def;
    if (!s)
        return true;
    char *end;
    long x = strtol(s, &end, 10);
    if (!*s || *end || x < lo || x > hi || !isdigit((unsigned char)s[0])) {
        char msg[160];
        snprintf(msg, sizeof msg, "'%s' must be an integer from %ld to %ld.", name, lo, hi);
        tg__web_error(out, 400, msg, name, "invalid_value");
        return false;
    }
    *v = x;
    return true;
}

/* Valid UTF-8 (jansson guarantees that for JSON strings; query arguments
 * come from MHD as bytes) without control characters, 1..max bytes. */
static bool text_ok(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    json_t *j = json_string(s); /* NULL when not UTF-8 */
    json_decref(j);
    return j != NULL;
}

static bool str_arg(const tg__web_req *rq, const char *name, size_t max, const char **v, tg__web_resp *out) {
    *v = rq->arg(rq->arg_ctx, name);
    if (*v && !**v)
        *v = NULL; /* an empty filter is no filter */
    if (*v && !text_ok(*v, max)) {
        char msg[160];
        snprintf(msg, sizeof msg, "'%s' must be UTF-8 text of at most %zu bytes without control characters.", name,
                 max);
        tg__web_error(out, 400, msg, name, "invalid_value");
        return false;
    }
    return true;
}

/* The body as a JSON object; NULL with *out set. */
static json_t *body_object(const tg__web_req *rq, tg__web_resp *out) {
    json_error_t je;
    json_t *o = json_loadb(rq->body ? rq->body : "", rq->body_len, 0, &je);
    if (!o) {
        char msg[300];
        snprintf(msg, sizeof msg, "The body is not valid JSON (line %d, column %d: %.200s).", je.line, je.column,
                 je.text);
        tg__web_error(out, 400, msg, NULL, "invalid_json");
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        tg__web_error(out, 400, "The body must be a JSON object.", NULL, "invalid_json");
        return NULL;
    }
    return o;
}

/* A JSON array of tags (strings of 1..MAX_TAG bytes, at most MAX_TAGS). */
static bool tags_ok(json_t *a, const char *name, tg__web_resp *out) {
    char msg[200];
    if (!json_is_array(a) || json_array_size(a) > MAX_TAGS) {
        snprintf(msg, sizeof msg, "'%s' must be an array of at most %d tags.", name, MAX_TAGS);
        tg__web_error(out, 400, msg, name, "invalid_value");
        return false;
    }
    size_t i;
    json_t *t;
    json_array_foreach(a, i, t) {
        const char *s = json_string_value(t);
        bool blank = true;
        for (const char *c = s; c && *c; c++)
            blank = blank && (*c == ' ' || *c == '\t');
        if (!s || !text_ok(s, MAX_TAG) || blank) {
            snprintf(msg, sizeof msg, "'%s[%zu]' must be a tag: non-blank text of at most %d bytes.", name, i,
                     MAX_TAG);
            tg__web_error(out, 400, msg, name, "invalid_value");
            return false;
        }
    }
    return true;
}

/* ---- JSON of items ----------------------------------------------------------------- */

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

static json_t *item_json(const tg_item *it) {
    json_t *tags = json_array();
    for (size_t i = 0; tags && i < it->n_tags; i++)
        json_array_append_new(tags, json_string(it->tags[i]));
    return json_pack("{s:I, s:s?, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:b, s:b, s:s, s:i, s:o, s:o}", "id",
                     (json_int_t)it->id, "url", it->url, "title", str_or_null(it->title), "byline",
                     str_or_null(it->byline), "site", str_or_null(it->site), "lang", str_or_null(it->lang),
                     "excerpt", str_or_null(it->excerpt), "published", (json_int_t)it->published, "saved",
                     (json_int_t)it->saved, "read_at", (json_int_t)it->read_at, "archived", it->archived,
                     "favorite", it->favorite, "state", tg_item_state_name(it->state), "attempts",
                     (int)it->attempts, "error", str_or_null(it->error), "tags", tags ? tags : json_array());
}

static void lib_fail(tg__web_resp *out, tg_status s, const char *what) {
    char msg[400];
    snprintf(msg, sizeof msg, "%s: %.300s", what, tg_last_error());
    if (s == TG_ERR_NOT_FOUND)
        tg__web_error(out, 404, msg, "id", "not_found");
    else if (s == TG_ERR_ARG || s == TG_ERR_FORMAT)
        tg__web_error(out, 400, msg, NULL, "invalid_value");
    else
        tg__web_error(out, 500, msg, NULL, "server_error");
}

/* ---- routes ------------------------------------------------------------------------ */

static void status(tg__app *app, tg__web_resp *out) {
    tg__reader *r = app->reader;
    int64_t c[5], total = 0;
    pthread_mutex_lock(&r->mu);
    tg_status s = tg_library_count(r->lib, c, &total);
    pthread_mutex_unlock(&r->mu);
    if (s)
        return lib_fail(out, s, "counting items");
    pthread_mutex_lock(&r->wmu);
    bool busy = r->busy || r->kick;
    json_int_t passes = (json_int_t)r->passes;
    pthread_mutex_unlock(&r->wmu);
    json_t *counts = json_object();
    for (int i = 0; i < 5; i++)
        json_object_set_new(counts, tg_item_state_name((tg_item_state)i), json_integer(c[i]));
    tg__web_json(out, 200,
                 json_pack("{s:I, s:o, s:{s:b, s:I}, s:s, s:o, s:o, s:b, s:b}", "total", (json_int_t)total, "counts",
                           counts, "worker", "busy", busy, "passes", passes, "search",
                           r->embedder ? "hybrid" : "fts", "embedding_model", str_or_null(r->embedder ? r->embed_model : NULL),
                           "model", str_or_null(app->model ? app->model_id : NULL), "ask", r->llm != NULL, "auth",
                           app->api_key != NULL));
}

typedef struct list_ctx {
    json_t *items;
    size_t n;
} list_ctx;

static bool list_one(const tg_item *it, void *user) {
    list_ctx *l = user;
    json_array_append_new(l->items, item_json(it));
    l->n++;
    return true;
}

static void list(tg__app *app, const tg__web_req *rq, tg__web_resp *out) {
    tg_item_filter f = tg_item_filter_all();
    const char *view, *state;
    long limit, offset;
    if (!str_arg(rq, "view", 16, &view, out) || !str_arg(rq, "tag", MAX_TAG, &f.tag, out) ||
        !str_arg(rq, "site", MAX_SITE, &f.site, out) || !str_arg(rq, "state", 16, &state, out) ||
        !int_arg(rq, "limit", 1, LIST_MAX, LIST_DEFAULT, &limit, out) ||
        !int_arg(rq, "offset", 0, 1000000, 0, &offset, out))
        return;
    if (!view || !strcmp(view, "unread"))
        f.archived = 0;
    else if (!strcmp(view, "archived"))
        f.archived = 1;
    else if (!strcmp(view, "favorites"))
        f.favorite = 1;
    else if (strcmp(view, "all") != 0)
        return tg__web_error(out, 400, "'view' must be unread, archived, favorites or all.", "view", "invalid_value");
    if (state) {
        f.state = -1;
        for (int i = 0; i < 5; i++)
            if (!strcmp(state, tg_item_state_name((tg_item_state)i)))
                f.state = i;
        if (f.state < 0)
            return tg__web_error(out, 400, "'state' must be pending, fetched, extracted, enriched or failed.",
                                 "state", "invalid_value");
    }
    f.limit = (size_t)limit + 1; /* one more says whether there is a next page */
    f.offset = (size_t)offset;
    list_ctx l = {.items = json_array()};
    if (!l.items)
        return tg__web_error(out, 500, "out of memory", NULL, "server_error");
    pthread_mutex_lock(&app->reader->mu);
    tg_status s = tg_library_list(app->reader->lib, &f, list_one, &l);
    pthread_mutex_unlock(&app->reader->mu);
    if (s) {
        json_decref(l.items);
        return lib_fail(out, s, "listing items");
    }
    bool more = l.n > (size_t)limit;
    if (more)
        json_array_remove(l.items, (size_t)limit);
    tg__web_json(out, 200, json_pack("{s:o, s:b}", "items", l.items, "more", more));
}

/* The item with its summary and content (under the handlers' lock). */
static void item_full(tg__app *app, int64_t id, int status, tg__web_resp *out) {
    tg__reader *r = app->reader;
    tg_item it;
    char *text = NULL, *html = NULL, *summary = NULL;
    pthread_mutex_lock(&r->mu);
    tg_status s = tg_library_get(r->lib, id, &it);
    if (!s) {
        tg_status c = tg_library_get_content(r->lib, id, &text, &html);
        if (c == TG_OK || c == TG_ERR_NOT_FOUND)
            c = tg_library_get_summary(r->lib, id, &summary);
        if (c != TG_OK && c != TG_ERR_NOT_FOUND) {
            s = c;
            tg_item_clear(&it);
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (s) {
        free(text);
        free(html);
        free(summary);
        return lib_fail(out, s, "reading the item");
    }
    int64_t words = 0;
    bool in_word = false;
    for (const char *p = text; p && *p; p++) {
        bool w = !isspace((unsigned char)*p);
        words += w && !in_word;
        in_word = w;
    }
    json_t *o = item_json(&it);
    tg_item_clear(&it);
    if (o) {
        json_object_set_new(o, "summary", str_or_null(summary));
        json_object_set_new(o, "html", str_or_null(html));
        json_object_set_new(o, "words", json_integer(words));
        /* 230 words a minute, as `read show` */
        json_object_set_new(o, "minutes", json_integer(words ? (words + 229) / 230 : 0));
    }
    free(text);
    free(html);
    free(summary);
    tg__web_json(out, status, o);
}

static void add(tg__app *app, const tg__web_req *rq, tg__web_resp *out) {
    json_t *o = body_object(rq, out);
    if (!o)
        return;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (strcmp(key, "url") && strcmp(key, "tags")) {
            char msg[200];
            snprintf(msg, sizeof msg, "Unknown field '%.100s' (known: url, tags).", key);
            tg__web_error(out, 400, msg, "body", "unknown_field");
            json_decref(o);
            return;
        }
    }
    const char *url = json_string_value(json_object_get(o, "url"));
    json_t *tags = json_object_get(o, "tags");
    if (!url || !text_ok(url, MAX_URL)) {
        json_decref(o);
        return tg__web_error(out, 400, "'url' must be an http(s) URL of at most 4096 bytes.", "url", "invalid_value");
    }
    if (tags && !tags_ok(tags, "tags", out)) {
        json_decref(o);
        return;
    }
    const char *tv[MAX_TAGS];
    size_t nt = 0;
    for (size_t i = 0; tags && i < json_array_size(tags); i++)
        tv[nt++] = json_string_value(json_array_get(tags, i));
    tg_item_new in = {.url = url, .tags = tv, .n_tags = nt};
    int64_t id = 0;
    bool added = false;
    pthread_mutex_lock(&app->reader->mu);
    tg_status s = tg_library_add(app->reader->lib, &in, &id, &added);
    pthread_mutex_unlock(&app->reader->mu);
    json_decref(o);
    if (s)
        return lib_fail(out, s, "saving the URL");
    tg__reader_kick(app->reader);
    item_full(app, id, added ? 201 : 200, out);
}

static void update(tg__app *app, const tg__web_req *rq, int64_t id, tg__web_resp *out) {
    json_t *o = body_object(rq, out);
    if (!o)
        return;
    const char *key;
    json_t *v;
    bool any = false;
    json_object_foreach(o, key, v) {
        bool is_bool = !strcmp(key, "archived") || !strcmp(key, "favorite");
        bool is_tags = !strcmp(key, "add_tags") || !strcmp(key, "remove_tags");
        if (!is_bool && !is_tags) {
            char msg[200];
            snprintf(msg, sizeof msg, "Unknown field '%.100s' (known: archived, favorite, add_tags, remove_tags).",
                     key);
            tg__web_error(out, 400, msg, key, "unknown_field");
            json_decref(o);
            return;
        }
        if (is_bool && !json_is_boolean(v)) {
            char msg[120];
            snprintf(msg, sizeof msg, "'%s' must be true or false.", key);
            tg__web_error(out, 400, msg, key, "invalid_value");
            json_decref(o);
            return;
        }
        if (is_tags && !tags_ok(v, key, out)) {
            json_decref(o);
            return;
        }
        any = true;
    }
    if (!any) {
        json_decref(o);
        return tg__web_error(out, 400, "Nothing to change: give archived, favorite, add_tags or remove_tags.", NULL,
                             "invalid_request");
    }
    tg__reader *r = app->reader;
    pthread_mutex_lock(&r->mu);
    tg_item it;
    tg_status s = tg_library_get(r->lib, id, &it); /* 404 before any change */
    if (!s)
        tg_item_clear(&it);
    json_t *a;
    if (!s && (a = json_object_get(o, "archived")))
        s = tg_library_set_archived(r->lib, id, json_is_true(a));
    if (!s && (a = json_object_get(o, "favorite")))
        s = tg_library_set_favorite(r->lib, id, json_is_true(a));
    for (int rm = 0; rm < 2 && !s; rm++) {
        json_t *tags = json_object_get(o, rm ? "remove_tags" : "add_tags");
        for (size_t i = 0; tags && i < json_array_size(tags) && !s; i++)
            s = tg_library_tag(r->lib, id, json_string_value(json_array_get(tags, i)), rm);
    }
    pthread_mutex_unlock(&r->mu);
    json_decref(o);
    if (s)
        return lib_fail(out, s, "updating the item");
    item_full(app, id, 200, out);
}

static void tags(tg__app *app, tg__web_resp *out) {
    char **t = NULL;
    size_t n = 0;
    pthread_mutex_lock(&app->reader->mu);
    tg_status s = tg_library_tags(app->reader->lib, &t, &n);
    pthread_mutex_unlock(&app->reader->mu);
    if (s)
        return lib_fail(out, s, "listing tags");
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(a, json_string(t[i]));
        free(t[i]);
    }
    free(t);
    tg__web_json(out, 200, json_pack("{s:o}", "tags", a));
}

static void search(tg__app *app, const tg__web_req *rq, tg__web_resp *out) {
    const char *q;
    long limit;
    if (!str_arg(rq, "q", MAX_QUERY, &q, out) || !int_arg(rq, "limit", 1, SEARCH_MAX, SEARCH_DEFAULT, &limit, out))
        return;
    if (!q)
        return tg__web_error(out, 400, "'q' (the query) is required.", "q", "invalid_value");
    tg__reader *r = app->reader;
    int32_t dim = 0;
    float *qv = tg__reader_query_vec(r, q, &dim); /* outside the lock: embedding takes a while */
    tg_search_hit *hits = NULL;
    size_t n = 0;
    pthread_mutex_lock(&r->mu);
    tg_status s = qv ? tg_library_search_hybrid(r->lib, q, r->embed_model, qv, dim, (size_t)limit, &hits, &n)
                     : tg_library_search(r->lib, q, (size_t)limit, &hits, &n);
    json_t *a = json_array();
    for (size_t i = 0; !s && a && i < n; i++) {
        tg_item it;
        if (tg_library_get(r->lib, hits[i].id, &it))
            continue; /* deleted meanwhile */
        json_t *o = item_json(&it);
        tg_item_clear(&it);
        json_object_set_new(o, "snippet", str_or_null(hits[i].snippet));
        json_object_set_new(o, "score", json_real(hits[i].score));
        json_array_append_new(a, o);
    }
    pthread_mutex_unlock(&r->mu);
    const bool hybrid = qv != NULL;
    free(qv);
    tg_search_hits_free(hits, n);
    if (s) {
        json_decref(a);
        return lib_fail(out, s, "searching");
    }
    tg__web_json(out, 200, json_pack("{s:s, s:o}", "mode", hybrid ? "hybrid" : "fts", "hits", a));
}

/* POST ask {"question"}: tg_answer_json's object (answer, citations,
 * sources), from the served model.  Slow (seconds to minutes on a small
 * CPU): the page shows that it is thinking. */
static void ask(tg__app *app, const tg__web_req *rq, tg__web_resp *out) {
    json_t *o = body_object(rq, out);
    if (!o)
        return;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (strcmp(key, "question") != 0) {
            char msg[200];
            snprintf(msg, sizeof msg, "Unknown field '%.100s' (known: question).", key);
            tg__web_error(out, 400, msg, key, "unknown_field");
            json_decref(o);
            return;
        }
    }
    const char *question = json_string_value(json_object_get(o, "question"));
    if (!question || !text_ok(question, MAX_QUESTION)) {
        json_decref(o);
        return tg__web_error(out, 400, "'question' must be text of 1 to 2000 bytes without control characters.",
                             "question", "invalid_value");
    }
    char *body = NULL;
    int status = tg__reader_ask(app->reader, question, &body);
    json_decref(o);
    if (!body)
        return tg__web_error(out, 500, "out of memory", NULL, "server_error");
    out->status = status;
    out->ctype = "application/json";
    out->body = body;
    out->len = strlen(body);
    out->is_static = false;
}

void tg__webapi(tg__app *app, const tg__web_req *rq, const char *route, tg__web_resp *out) {
    const bool post = !strcmp(rq->method, "POST");
    int64_t id;
    if (!strcmp(route, "status") && !post)
        return status(app, out);
    if (!strcmp(route, "items"))
        return post ? add(app, rq, out) : list(app, rq, out);
    if (!strncmp(route, "items/", 6)) {
        if (!parse_id(route + 6, &id))
            return tg__web_error(out, 400, "An item id is a positive integer.", "id", "invalid_value");
        return post ? update(app, rq, id, out) : item_full(app, id, 200, out);
    }
    if (!strcmp(route, "tags") && !post)
        return tags(app, out);
    if (!strcmp(route, "search") && !post)
        return search(app, rq, out);
    if (!strcmp(route, "ask") && post)
        return ask(app, rq, out);
    if (!strcmp(route, "status") || !strcmp(route, "tags") || !strcmp(route, "search"))
        return tg__web_error(out, 405, "Use GET.", NULL, "method_not_allowed");
    if (!strcmp(route, "ask"))
        return tg__web_error(out, 405, "Use POST.", NULL, "method_not_allowed");
    tg__web_error(out, 404, "No such API call; see docs/web.md.", NULL, "unknown_url");
}
