/*
 * store_pipe.c — the pipeline's writes to the library (page → article →
 * enrichment, or failure), the work queue of a sync, full-text search and
 * feeds.
 *
 * Each step is one transaction that stores its result and moves the item's
 * state together, so after a crash an item is either fully at the new state
 * or fully at the old one; a re-run redoes only the steps not committed.
 */
#include "read/store.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Moves the item to state (error NULL, attempts reset) inside a transaction. */
static tg_status set_state(tg_library *lib, int64_t id, tg_item_state state) {
    sqlite3_stmt *st =
        tg__lib_prepare(lib, "UPDATE items SET state = ?2, error = NULL, attempts = 0, updated = ?3 WHERE id = ?1");
    if (!st)
        return TG_ERR_IO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, (int)state);
    sqlite3_bind_int64(st, 3, tg__read_now());
    tg_status s = TG_OK;
    if (sqlite3_step(st) != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "setting the state");
    else if (sqlite3_changes(lib->db) == 0)
        s = tg__fail(TG_ERR_NOT_FOUND, "no item %lld", (long long)id);
    sqlite3_finalize(st);
    return s;
}

tg_status tg_library_set_page(tg_library *lib, int64_t id, const void *raw, size_t len, const char *final_url,
                              const char *content_type) {
    size_t zlen = 0;
    uint8_t *z = tg__deflate(raw, len, &zlen);
    if (!z)
        return TG_ERR_NOMEM;
    tg_status s = tg__lib_begin(lib);
    if (s) {
        free(z);
        return s;
    }
    s = set_state(lib, id, TG_ITEM_FETCHED);
    sqlite3_stmt *st = s ? NULL
                         : tg__lib_prepare(lib, "INSERT OR REPLACE INTO pages(item, fetched, final_url, content_type, "
                                                "raw_len, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!s && !st)
        s = TG_ERR_IO;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, tg__read_now());
        sqlite3_bind_text(st, 3, final_url, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, content_type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (int64_t)len);
        sqlite3_bind_blob(st, 6, z, (int)zlen, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            s = tg__lib_sqlfail(lib, "storing a page");
        sqlite3_finalize(st);
    }
    free(z);
    return tg__lib_end(lib, s);
}

tg_status tg_library_get_page(tg_library *lib, int64_t id, char **raw, size_t *len) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT raw_len, raw FROM pages WHERE item = ?1");
    if (!st)
        return TG_ERR_IO;
    sqlite3_bind_int64(st, 1, id);
    tg_status s = TG_OK;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(st, 0);
        const void *z = sqlite3_column_blob(st, 1);
        int zn = sqlite3_column_bytes(st, 1);
        uint8_t *out = n >= 0 ? tg__inflate(z, (size_t)zn, (size_t)n) : NULL;
        if (!out)
            s = tg__fail_prefix(TG_ERR_FORMAT, "item %lld", (long long)id);
        else {
            *raw = (char *)out;
            *len = (size_t)n;
        }
    } else if (rc == SQLITE_DONE) {
        s = tg__fail(TG_ERR_NOT_FOUND, "item %lld has no stored page", (long long)id);
    } else {
        s = tg__lib_sqlfail(lib, "reading a page");
    }
    sqlite3_finalize(st);
    return s;
}

void tg_article_clear(tg_article *a) {
    if (!a)
        return;
    free(a->title);
    free(a->byline);
    free(a->site_name);
    free(a->published);
    free(a->lang);
    free(a->excerpt);
    free(a->text);
    free(a->html);
    free(a->canonical_url);
    memset(a, 0, sizeof *a);
}

static int64_t count_words(const char *t) {
    int64_t n = 0;
    bool in = false;
    for (; *t; t++) {
        bool sp = isspace((unsigned char)*t);
        if (!sp && !in)
            n++;
        in = !sp;
    }
    return n;
}

tg_status tg__lib_index(tg_library *lib, int64_t id) {
    sqlite3_stmt *d = tg__lib_prepare(lib, "DELETE FROM search WHERE rowid = ?1");
    sqlite3_stmt *i = tg__lib_prepare(lib, "INSERT INTO search(rowid, title, site, text) SELECT i.id, i.title, "
                                           "coalesce(i.site, i.host), c.text FROM items i LEFT JOIN contents c ON "
                                           "c.item = i.id WHERE i.id = ?1");
    tg_status s = TG_OK;
    if (!d || !i)
        s = TG_ERR_IO;
    else {
        sqlite3_bind_int64(d, 1, id);
        sqlite3_bind_int64(i, 1, id);
        if (sqlite3_step(d) != SQLITE_DONE || sqlite3_step(i) != SQLITE_DONE)
            s = tg__lib_sqlfail(lib, "indexing an item");
    }
    sqlite3_finalize(d);
    sqlite3_finalize(i);
    return s;
}

tg_status tg_library_set_article(tg_library *lib, int64_t id, const tg_article *a) {
    if (!a || !a->text)
        return tg__fail(TG_ERR_ARG, "an article needs text");
    tg_status s = tg__lib_begin(lib);
    if (s)
        return s;
    s = set_state(lib, id, TG_ITEM_EXTRACTED);
    /* metadata the owner (or an import) gave wins over what the page says */
    sqlite3_stmt *u = s ? NULL
                        : tg__lib_prepare(lib, "UPDATE items SET title = coalesce(title, ?2), byline = coalesce(byline, "
                                               "?3), site = coalesce(site, ?4), lang = coalesce(lang, ?5), excerpt = "
                                               "coalesce(excerpt, ?6), published = coalesce(published, ?7) WHERE id = ?1");
    sqlite3_stmt *c = s ? NULL
                        : tg__lib_prepare(lib, "INSERT OR REPLACE INTO contents(item, text, html, words, summary) "
                                               "VALUES (?1, ?2, ?3, ?4, NULL)");
    sqlite3_stmt *k = s ? NULL : tg__lib_prepare(lib, "DELETE FROM chunks WHERE item = ?1");
    if (!s && (!u || !c || !k))
        s = TG_ERR_IO;
    if (!s) {
        const char *f[5] = {a->title, a->byline, a->site_name, a->lang, a->excerpt};
        sqlite3_bind_int64(u, 1, id);
        for (int j = 0; j < 5; j++)
            if (f[j] && *f[j])
                sqlite3_bind_text(u, 2 + j, f[j], -1, SQLITE_STATIC);
        if (a->published_time > 0)
            sqlite3_bind_int64(u, 7, a->published_time);
        sqlite3_bind_int64(c, 1, id);
        sqlite3_bind_text(c, 2, a->text, -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 3, a->html, -1, SQLITE_STATIC);
        sqlite3_bind_int64(c, 4, count_words(a->text));
        sqlite3_bind_int64(k, 1, id);
        if (sqlite3_step(u) != SQLITE_DONE || sqlite3_step(c) != SQLITE_DONE || sqlite3_step(k) != SQLITE_DONE)
            s = tg__lib_sqlfail(lib, "storing an article");
    }
    sqlite3_finalize(u);
    sqlite3_finalize(c);
    sqlite3_finalize(k);
    if (!s)
        s = tg__lib_index(lib, id);
    return tg__lib_end(lib, s);
}

tg_status tg_library_get_content(tg_library *lib, int64_t id, char **text, char **html) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT text, html FROM contents WHERE item = ?1");
    if (!st)
        return TG_ERR_IO;
    sqlite3_bind_int64(st, 1, id);
    tg_status s = TG_OK;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (text)
            *text = tg__col_text(st, 0);
        if (html)
            *html = tg__col_text(st, 1);
    } else if (rc == SQLITE_DONE) {
        s = tg__fail(TG_ERR_NOT_FOUND, "item %lld has no extracted text", (long long)id);
    } else {
        s = tg__lib_sqlfail(lib, "reading an article");
    }
    sqlite3_finalize(st);
    return s;
}

tg_status tg_library_set_failed(tg_library *lib, int64_t id, const char *error) {
    tg_status s = tg__lib_begin(lib);
    if (s)
        return s;
    sqlite3_stmt *st = tg__lib_prepare(
        lib, "UPDATE items SET state = 4, error = ?2, attempts = attempts + 1, updated = ?3 WHERE id = ?1");
    if (!st)
        return tg__lib_end(lib, TG_ERR_IO);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, error && *error ? error : "unknown error", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, tg__read_now());
    if (sqlite3_step(st) != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "recording a failure");
    else if (sqlite3_changes(lib->db) == 0)
        s = tg__fail(TG_ERR_NOT_FOUND, "no item %lld", (long long)id);
    sqlite3_finalize(st);
    return tg__lib_end(lib, s);
}

tg_status tg_library_set_enrichment(tg_library *lib, int64_t id, const char *summary, const char *model,
                                    const float *vecs, int32_t dim, const int32_t *chunk_off,
                                    const int32_t *chunk_len, size_t n_chunks) {
    if (n_chunks && (!vecs || dim <= 0 || dim > (1 << 16) || !chunk_off || !chunk_len))
        return tg__fail(TG_ERR_ARG, "chunk embeddings need vectors, a dimension and offsets");
    tg_status s = tg__lib_begin(lib);
    if (s)
        return s;
    sqlite3_stmt *u = tg__lib_prepare(lib, "UPDATE contents SET summary = ?2 WHERE item = ?1");
    sqlite3_stmt *d = tg__lib_prepare(lib, "DELETE FROM chunks WHERE item = ?1");
    sqlite3_stmt *c = tg__lib_prepare(lib, "INSERT INTO chunks(item, seq, off, len, model, dim, vec) VALUES "
                                           "(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!u || !d || !c)
        s = TG_ERR_IO;
    if (!s) {
        sqlite3_bind_int64(u, 1, id);
        sqlite3_bind_text(u, 2, summary, -1, SQLITE_STATIC);
        sqlite3_bind_int64(d, 1, id);
        if (sqlite3_step(u) != SQLITE_DONE)
            s = tg__lib_sqlfail(lib, "storing a summary");
        else if (sqlite3_changes(lib->db) == 0)
            s = tg__fail(TG_ERR_ARG, "item %lld has no extracted text to enrich", (long long)id);
        else if (sqlite3_step(d) != SQLITE_DONE)
            s = tg__lib_sqlfail(lib, "replacing embeddings");
    }
    for (size_t k = 0; !s && k < n_chunks; k++) {
        sqlite3_reset(c);
        sqlite3_bind_int64(c, 1, id);
        sqlite3_bind_int64(c, 2, (int64_t)k);
        sqlite3_bind_int(c, 3, chunk_off[k]);
        sqlite3_bind_int(c, 4, chunk_len[k]);
        sqlite3_bind_text(c, 5, model, -1, SQLITE_STATIC);
        sqlite3_bind_int(c, 6, dim);
        sqlite3_bind_blob(c, 7, vecs + k * (size_t)dim, dim * (int)sizeof(float), SQLITE_STATIC);
        if (sqlite3_step(c) != SQLITE_DONE)
            s = tg__lib_sqlfail(lib, "storing embeddings");
    }
    if (!s)
        s = set_state(lib, id, TG_ITEM_ENRICHED);
    sqlite3_finalize(u);
    sqlite3_finalize(d);
    sqlite3_finalize(c);
    return tg__lib_end(lib, s);
}

tg_status tg_library_get_summary(tg_library *lib, int64_t id, char **summary) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT summary FROM contents WHERE item = ?1");
    if (!st)
        return TG_ERR_IO;
    sqlite3_bind_int64(st, 1, id);
    tg_status s = TG_OK;
    *summary = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *summary = tg__col_text(st, 0);
    else if (rc != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "reading a summary");
    sqlite3_finalize(st);
    return s;
}

tg_status tg_library_pending(tg_library *lib, int32_t max_attempts, int64_t **ids, size_t *n) {
    sqlite3_stmt *st = tg__lib_prepare(
        lib, "SELECT id FROM items WHERE state IN (0, 1) OR (state = 4 AND attempts < ?1) ORDER BY saved, id");
    if (!st)
        return TG_ERR_IO;
    sqlite3_bind_int(st, 1, max_attempts);
    size_t cap = 0, cnt = 0;
    int64_t *out = NULL;
    tg_status s = TG_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap = cap ? cap * 2 : 64;
            int64_t *o = tg__realloc(out, cap * sizeof *o);
            if (!o) {
                s = TG_ERR_NOMEM;
                break;
            }
            out = o;
        }
        out[cnt++] = sqlite3_column_int64(st, 0);
    }
    if (!s && rc != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "listing pending items");
    sqlite3_finalize(st);
    if (s) {
        free(out);
        return s;
    }
    *ids = out;
    *n = cnt;
    return TG_OK;
}

/* The user's words as an FTS5 query: every run of letters/digits (and any
 * non-ASCII byte) becomes a quoted term, a trailing '*' makes it a prefix;
 * terms are ANDed, or with phrase set, the terms in order as one phrase.
 * Quotes, operators and column filters of FTS5 syntax are never passed
 * through, so no query string is an error. */
static char *fts_query(const char *q, bool phrase, size_t *n_terms) {
    tg__buf b = {0};
    const unsigned char *p = (const unsigned char *)q;
    *n_terms = 0;
    if (phrase)
        tg__buf_append_u8(&b, '"');
    while (*p) {
        if (!(isalnum(*p) || *p >= 0x80)) {
            p++;
            continue;
        }
        const unsigned char *s = p;
        while (*p && (isalnum(*p) || *p >= 0x80 || *p == '_'))
            p++;
        if (*n_terms)
            tg__buf_append_u8(&b, ' ');
        if (!phrase)
            tg__buf_append_u8(&b, '"');
        tg__buf_append(&b, s, (size_t)(p - s));
        if (!phrase) {
            tg__buf_append_u8(&b, '"');
            if (*p == '*')
                tg__buf_append_u8(&b, '*');
        }
        (*n_terms)++;
    }
    if (phrase)
        tg__buf_append_u8(&b, '"');
    if (!*n_terms) {
        tg__buf_free(&b);
        return NULL;
    }
    return tg__buf_take(&b);
}

/* Appends the hits of one FTS5 query that are not in the list yet. */
static tg_status search_run(tg_library *lib, const char *q, size_t limit, tg_search_hit **hits, size_t *n,
                            size_t *cap) {
    /* bm25 weights: title 5, site 1, text 1 (bm25 is lower-is-better) */
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT rowid, -bm25(search, 5.0, 1.0, 1.0), snippet(search, 2, '[', "
                                            "']', '…', 16) FROM search WHERE search MATCH ?1 ORDER BY "
                                            "bm25(search, 5.0, 1.0, 1.0) LIMIT ?2");
    if (!st)
        return TG_ERR_IO;
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
    tg_status s = TG_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && (!limit || *n < limit)) {
        int64_t id = sqlite3_column_int64(st, 0);
        bool seen = false;
        for (size_t i = 0; i < *n && !seen; i++)
            seen = (*hits)[i].id == id;
        if (seen)
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            tg_search_hit *h = tg__realloc(*hits, *cap * sizeof *h);
            if (!h) {
                s = TG_ERR_NOMEM;
                break;
            }
            *hits = h;
        }
        tg_search_hit *h = &(*hits)[(*n)++];
        h->id = id;
        h->score = sqlite3_column_double(st, 1);
        h->snippet = tg__col_text(st, 2);
    }
    if (!s && rc != SQLITE_ROW && rc != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "searching");
    sqlite3_finalize(st);
    return s;
}

tg_status tg_library_search(tg_library *lib, const char *query, size_t limit, tg_search_hit **hits, size_t *n) {
    *hits = NULL;
    *n = 0;
    size_t terms = 0, cap = 0;
    /* Items holding the words as a phrase rank first (someone pasting a
     * sentence wants the page it came from), then every item holding all
     * of them, each group by BM25. */
    char *phrase = fts_query(query ? query : "", true, &terms);
    char *all = fts_query(query ? query : "", false, &terms);
    tg_status s = TG_OK;
    if (phrase && terms > 1 && !strchr(query, '*'))
        s = search_run(lib, phrase, limit, hits, n, &cap);
    if (!s && all && (!limit || *n < limit))
        s = search_run(lib, all, limit, hits, n, &cap);
    free(phrase);
    free(all);
    if (s) {
        tg_search_hits_free(*hits, *n);
        *hits = NULL;
        *n = 0;
    }
    return s;
}

void tg_search_hits_free(tg_search_hit *hits, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(hits[i].snippet);
    free(hits);
}

tg_status tg_library_feed_add(tg_library *lib, const char *url, const char *title, bool *added) {
    char *canon = tg__url_canonical(url, strlen(url));
    if (!canon)
        return TG_ERR_FORMAT;
    tg_status s = tg__lib_begin(lib);
    if (s) {
        free(canon);
        return s;
    }
    sqlite3_stmt *st = tg__lib_prepare(lib, "INSERT OR IGNORE INTO feeds(url, title, added) VALUES (?1, ?2, ?3)");
    if (!st)
        s = TG_ERR_IO;
    else {
        sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, title && *title ? title : NULL, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, tg__read_now());
        if (sqlite3_step(st) != SQLITE_DONE)
            s = tg__lib_sqlfail(lib, "adding a feed");
        else if (added)
            *added = sqlite3_changes(lib->db) > 0;
        sqlite3_finalize(st);
    }
    free(canon);
    return tg__lib_end(lib, s);
}

tg_status tg_library_feed_count(tg_library *lib, int64_t *n) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT count(*) FROM feeds");
    if (!st)
        return TG_ERR_IO;
    tg_status s = sqlite3_step(st) == SQLITE_ROW ? TG_OK : tg__lib_sqlfail(lib, "counting feeds");
    if (!s)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return s;
}
