/*
 * test_store.c — the reading library's store: canonical URLs, dates, CSV,
 * schema/migrations, items and tags, pipeline steps, search, and what bad
 * input does (errors, never crashes).
 */
#include "read/read.h"
#include "read/store.h"
#include "../test.h"

#include <unistd.h>

static char dbdir[] = "/tmp/tg_test_store_XXXXXX";

static void db_path(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", dbdir, name); }

static void canon_is(const char *in, const char *want) {
    char *c = tg__url_canonical(in, strlen(in));
    CHECK_MSG(c && want && strcmp(c, want) == 0, "%s -> %s, want %s", in, c ? c : "(null)", want ? want : "(null)");
    free(c);
}

static void test_canonical_url(void) {
    canon_is("HTTPS://Example.COM/Path?a=1&utm_source=x&b=2#frag", "https://example.com/Path?a=1&b=2");
    canon_is("http://example.com", "http://example.com/");
    canon_is("http://example.com:80/x", "http://example.com/x");
    canon_is("https://example.com:443/x", "https://example.com/x");
    canon_is("https://example.com:8443/x", "https://example.com:8443/x");
    canon_is("  https://example.com/a?fbclid=abc  ", "https://example.com/a");
    canon_is("https://example.com/a?gclid=1&UTM_CAMPAIGN=2&q=3", "https://example.com/a?q=3");
    canon_is("https://example.com./a", "https://example.com/a");
    canon_is("https://user@Example.com/a", "https://user@example.com/a");
    canon_is("https://[::1]:8080/a", "https://[::1]:8080/a");
    canon_is("https://example.com/a?utm_x", "https://example.com/a");
    canon_is("https://example.com/a?x=1&&y", "https://example.com/a?x=1&y");
    canon_is("https://example.com/caf\xE9/\xC3\xA9", "https://example.com/caf%E9/\xC3\xA9"); /* raw byte, UTF-8 */
    const char *bad[] = {"", "example.com", "ftp://x/y", "javascript:alert(1)", "https://", "https:///a",
                         "https://exa mple.com/", "https://example.com:80a/", "https://[::1/",
                         "https://\x7f.example.com/"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *c = tg__url_canonical(bad[i], strlen(bad[i]));
        CHECK_MSG(c == NULL, "accepted '%s' as %s", bad[i], c);
        free(c);
    }
}

static void resolve_is(const char *base, const char *href, const char *want) {
    char *r = tg__url_resolve(base, href);
    CHECK_MSG(r && strcmp(r, want) == 0, "%s + %s -> %s, want %s", base, href, r ? r : "(null)", want);
    free(r);
}

static void test_resolve(void) {
    /* RFC 3986 section 5.4.1 examples */
    const char *b = "http://a/b/c/d;p?q";
    resolve_is(b, "g", "http://a/b/c/g");
    resolve_is(b, "./g", "http://a/b/c/g");
    resolve_is(b, "g/", "http://a/b/c/g/");
    resolve_is(b, "/g", "http://a/g");
    resolve_is(b, "//g", "http://g");
    resolve_is(b, "?y", "http://a/b/c/d;p?y");
    resolve_is(b, "g?y", "http://a/b/c/g?y");
    resolve_is(b, "#s", "http://a/b/c/d;p?q#s");
    resolve_is(b, "..", "http://a/b/");
    resolve_is(b, "../g", "http://a/b/g");
    resolve_is(b, "../..", "http://a/");
    resolve_is(b, "../../g", "http://a/g");
    resolve_is(b, ".", "http://a/b/c/");
    resolve_is(b, "https://x/y", "https://x/y");
    CHECK(tg__url_resolve(NULL, "relative") == NULL);
}

static void test_dates(void) {
    int64_t t = 0;
    CHECK(tg__parse_date("2024-03-01T10:20:30Z", &t) && t == 1709288430);
    CHECK(tg__parse_date("2024-03-01T11:20:30+01:00", &t) && t == 1709288430);
    CHECK(tg__parse_date("2024-03-01T11:20:30+0100", &t) && t == 1709288430);
    CHECK(tg__parse_date("2024-03-01T10:20:30.123Z", &t) && t == 1709288430);
    CHECK(tg__parse_date("2024-03-01", &t) && t == 1709251200);
    CHECK(tg__parse_date("Fri, 01 Mar 2024 10:20:30 GMT", &t) && t == 1709288430);
    CHECK(tg__parse_date("1 Mar 2024 05:20:30 -0500", &t) && t == 1709288430);
    CHECK(tg__parse_date("1709288430", &t) && t == 1709288430);
    CHECK(!tg__parse_date("", &t));
    CHECK(!tg__parse_date("yesterday", &t));
    CHECK(!tg__parse_date("2024-13-01", &t));
    CHECK(!tg__parse_date("2024", &t));
    CHECK(!tg__parse_date("2024-03-01T25", &t));
    char buf[32];
    tg__format_date(1709288430, buf, sizeof buf);
    CHECK_EQ_STR(buf, "2024-03-01T10:20:30Z");
}

static void test_csv(void) {
    const char *in = "\xEF\xBB\xBF" "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n,,\nlast";
    tg__csv c;
    tg__csv_init(&c, in, strlen(in));
    CHECK_EQ_INT(tg__csv_next(&c), 1);
    CHECK_EQ_INT(c.n_fields, 3);
    CHECK_EQ_STR(c.fields[0], "a");
    CHECK_EQ_INT(tg__csv_next(&c), 1);
    CHECK_EQ_INT(c.n_fields, 3);
    CHECK_EQ_STR(c.fields[0], "x, y");
    CHECK_EQ_STR(c.fields[1], "say \"hi\"");
    CHECK_EQ_STR(c.fields[2], "two\nlines");
    CHECK_EQ_INT(tg__csv_next(&c), 1);
    CHECK_EQ_INT(c.n_fields, 3);
    CHECK_EQ_STR(c.fields[2], "");
    CHECK_EQ_INT(tg__csv_next(&c), 1);
    CHECK_EQ_STR(c.fields[0], "last");
    CHECK_EQ_INT(tg__csv_next(&c), 0);
    tg__csv_free(&c);
    /* unterminated quote: runs to the end, no crash */
    tg__csv_init(&c, "\"abc", 4);
    CHECK_EQ_INT(tg__csv_next(&c), 1);
    CHECK_EQ_STR(c.fields[0], "abc");
    tg__csv_free(&c);
    /* writer round-trip */
    tg__buf b = {0};
    tg__csv_put(&b, "plain", false);
    tg__csv_put(&b, "a,\"b\"\nc", true);
    char *s = tg__buf_take(&b);
    CHECK_EQ_STR(s, "plain,\"a,\"\"b\"\"\nc\"\r\n");
    tg__csv_init(&c, s, strlen(s));
    CHECK_EQ_INT(tg__csv_next(&c), 1);
    CHECK_EQ_STR(c.fields[1], "a,\"b\"\nc");
    tg__csv_free(&c);
    free(s);
}

static void test_zlib(void) {
    const char *page = "<html><body><p>hello hello hello hello</p></body></html>";
    size_t zl = 0;
    uint8_t *z = tg__deflate(page, strlen(page), &zl);
    CHECK(z && zl > 0);
    uint8_t *back = tg__inflate(z, zl, strlen(page));
    CHECK(back && strcmp((char *)back, page) == 0);
    free(back);
    CHECK(tg__inflate(z, zl, strlen(page) + 1) == NULL); /* wrong stored length */
    z[zl / 2] ^= 0x55;
    back = tg__inflate(z, zl, strlen(page)); /* corrupt: error or exact length, never overrun */
    free(back);
    free(z);
}

static void test_open_and_migrate(void) {
    char p[256];
    db_path(p, sizeof p, "m.db");
    tg_library *lib = tg_library_open(p);
    CHECK(lib != NULL);
    sqlite3_stmt *st = tg__lib_prepare(lib, "PRAGMA user_version");
    CHECK(st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == tg_library_schema_version());
    sqlite3_finalize(st);
    st = tg__lib_prepare(lib, "PRAGMA journal_mode");
    CHECK(st && sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "wal"));
    sqlite3_finalize(st);
    st = tg__lib_prepare(lib, "PRAGMA foreign_keys");
    CHECK(st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1);
    sqlite3_finalize(st);
    /* a database from the future is refused */
    CHECK(tg__lib_exec(lib, "PRAGMA user_version = 999") == TG_OK);
    tg_library_close(lib);
    CHECK(tg_library_open(p) == NULL);
    CHECK_ERROR_HAS("newer");
    /* not a database */
    db_path(p, sizeof p, "junk.db");
    FILE *f = fopen(p, "w");
    fputs("this is not an SQLite database, just some text that is long enough to matter...", f);
    fclose(f);
    CHECK(tg_library_open(p) == NULL);
    CHECK(tg_library_open("/nonexistent-dir/x/y.db") == NULL);
}

static tg_library *fresh(const char *name) {
    char p[256];
    db_path(p, sizeof p, name);
    unlink(p);
    tg_library *lib = tg_library_open(p);
    CHECK(lib != NULL);
    return lib;
}

static void test_items_and_tags(void) {
    tg_library *lib = fresh("items.db");
    if (!lib)
        return;
    const char *tags[] = {"  Tech ", "C", "tech", ""};
    tg_item_new in = {.url = "https://Example.com/a?utm_source=rss#x", .title = "A", .saved = 1700000000,
                      .tags = tags, .n_tags = 4};
    int64_t id = 0, id2 = 0;
    bool added = false;
    CHECK(tg_library_add(lib, &in, &id, &added) == TG_OK && added && id > 0);
    /* the same article under another tracking link: nothing added, tags merged */
    const char *more[] = {"new"};
    tg_item_new again = {.url = "https://example.com/a?fbclid=zz", .title = "Other", .saved = 1800000000,
                         .archived = true, .tags = more, .n_tags = 1};
    CHECK(tg_library_add(lib, &again, &id2, &added) == TG_OK && !added && id2 == id);
    tg_item it;
    CHECK(tg_library_get(lib, id, &it) == TG_OK);
    CHECK_EQ_STR(it.url, "https://example.com/a");
    CHECK_EQ_STR(it.title, "A");
    CHECK_EQ_INT(it.saved, 1700000000);
    CHECK(!it.archived && it.state == TG_ITEM_PENDING);
    CHECK_EQ_INT(it.n_tags, 3);
    if (it.n_tags == 3) {
        CHECK_EQ_STR(it.tags[0], "c");
        CHECK_EQ_STR(it.tags[1], "new");
        CHECK_EQ_STR(it.tags[2], "tech");
    }
    tg_item_clear(&it);
    CHECK(tg_library_tag(lib, id, "C", true) == TG_OK);
    CHECK(tg_library_set_archived(lib, id, true) == TG_OK);
    CHECK(tg_library_set_favorite(lib, id, true) == TG_OK);
    CHECK(tg_library_get(lib, id, &it) == TG_OK);
    CHECK(it.archived && it.favorite && it.read_at > 0 && it.n_tags == 2);
    tg_item_clear(&it);
    CHECK(tg_library_set_archived(lib, 9999, true) == TG_ERR_NOT_FOUND);
    CHECK(tg_library_get(lib, 9999, &it) == TG_ERR_NOT_FOUND);
    tg_item_new bad = {.url = "mailto:x@y"};
    CHECK(tg_library_add(lib, &bad, NULL, NULL) == TG_ERR_FORMAT);
    int64_t found = 0;
    CHECK(tg_library_find(lib, "HTTPS://EXAMPLE.COM/a#top", &found) == TG_OK && found == id);
    tg_library_close(lib);
}

static bool collect(const tg_item *it, void *user) {
    int64_t *ids = user;
    ids[++ids[0]] = it->id;
    return ids[0] < 15;
}

static void test_list_filters(void) {
    tg_library *lib = fresh("list.db");
    if (!lib)
        return;
    int64_t ids[8];
    for (int i = 0; i < 8; i++) {
        char url[64];
        snprintf(url, sizeof url, "https://%s.example/p%d", i % 2 ? "odd" : "even", i);
        const char *t[] = {i % 3 == 0 ? "three" : "other"};
        tg_item_new in = {.url = url, .saved = 1000 + i, .archived = i >= 6, .tags = t, .n_tags = 1};
        CHECK(tg_library_add(lib, &in, &ids[i], NULL) == TG_OK);
    }
    int64_t got[16] = {0};
    tg_item_filter f = tg_item_filter_all();
    CHECK(tg_library_list(lib, &f, collect, got) == TG_OK);
    CHECK_EQ_INT(got[0], 8);
    CHECK_EQ_INT(got[1], ids[7]); /* newest first */
    memset(got, 0, sizeof got);
    f.archived = 0;
    f.tag = "THREE";
    CHECK(tg_library_list(lib, &f, collect, got) == TG_OK);
    CHECK_EQ_INT(got[0], 2); /* 0 and 3 (6 is archived) */
    memset(got, 0, sizeof got);
    f = tg_item_filter_all();
    f.site = "odd.example";
    f.limit = 2;
    CHECK(tg_library_list(lib, &f, collect, got) == TG_OK);
    CHECK_EQ_INT(got[0], 2);
    CHECK_EQ_INT(got[1], ids[7]);
    int64_t counts[5], total = 0;
    CHECK(tg_library_count(lib, counts, &total) == TG_OK && total == 8 && counts[TG_ITEM_PENDING] == 8);
    tg_library_close(lib);
}

static void test_pipeline_and_search(void) {
    tg_library *lib = fresh("pipe.db");
    if (!lib)
        return;
    int64_t a = 0, b = 0;
    tg_item_new ia = {.url = "https://news.example/a", .saved = 10};
    tg_item_new ib = {.url = "https://blog.example/b", .title = "Owner's title", .saved = 20};
    CHECK(tg_library_add(lib, &ia, &a, NULL) == TG_OK);
    CHECK(tg_library_add(lib, &ib, &b, NULL) == TG_OK);
    int64_t *ids = NULL;
    size_t n = 0;
    CHECK(tg_library_pending(lib, 3, &ids, &n) == TG_OK && n == 2 && ids[0] == a);
    free(ids);
    const char *page = "<html><head><title>Sourdough</title></head><body>bread</body></html>";
    CHECK(tg_library_set_page(lib, a, page, strlen(page), "https://news.example/a", "text/html") == TG_OK);
    char *raw = NULL;
    size_t rl = 0;
    CHECK(tg_library_get_page(lib, a, &raw, &rl) == TG_OK && rl == strlen(page) && !strcmp(raw, page));
    free(raw);
    CHECK(tg_library_get_page(lib, b, &raw, &rl) == TG_ERR_NOT_FOUND);
    tg_article art = {.title = "Sourdough starters", .byline = "Ann Baker", .lang = "en",
                      .text = "A sourdough starter is flour and water fermented by wild yeast.",
                      .html = "<p>A sourdough starter …</p>", .published_time = 1600000000};
    CHECK(tg_library_set_article(lib, a, &art) == TG_OK);
    tg_article art_b = {.title = "Page title", .text = "Notes on the Rust borrow checker and lifetimes."};
    CHECK(tg_library_set_article(lib, b, &art_b) == TG_OK);
    tg_item it;
    CHECK(tg_library_get(lib, a, &it) == TG_OK);
    CHECK(it.state == TG_ITEM_EXTRACTED);
    CHECK_EQ_STR(it.title, "Sourdough starters");
    CHECK_EQ_STR(it.byline, "Ann Baker");
    CHECK_EQ_INT(it.published, 1600000000);
    tg_item_clear(&it);
    CHECK(tg_library_get(lib, b, &it) == TG_OK);
    CHECK_EQ_STR(it.title, "Owner's title"); /* the owner's title wins */
    tg_item_clear(&it);
    tg_search_hit *hits = NULL;
    CHECK(tg_library_search(lib, "wild yeast", 10, &hits, &n) == TG_OK && n == 1 && hits[0].id == a);
    if (n)
        CHECK(hits[0].snippet && strstr(hits[0].snippet, "[wild yeast]"));
    tg_search_hits_free(hits, n);
    CHECK(tg_library_search(lib, "borrow*", 10, &hits, &n) == TG_OK && n == 1 && hits[0].id == b);
    tg_search_hits_free(hits, n);
    /* the words as a phrase rank above the same words scattered, BM25 or not */
    int64_t d = 0, e = 0;
    tg_item_new id_ = {.url = "https://d.example/"}, ie_ = {.url = "https://e.example/"};
    CHECK(tg_library_add(lib, &id_, &d, NULL) == TG_OK && tg_library_add(lib, &ie_, &e, NULL) == TG_OK);
    tg_article ad = {.text = "checker borrow checker borrow checker borrow the rust"};
    tg_article ae = {.text = "a long text in which, somewhere, the borrow checker appears once among many other words"};
    CHECK(tg_library_set_article(lib, d, &ad) == TG_OK && tg_library_set_article(lib, e, &ae) == TG_OK);
    CHECK(tg_library_search(lib, "the borrow checker", 10, &hits, &n) == TG_OK && n == 3 && hits[0].id == e);
    tg_search_hits_free(hits, n);
    CHECK(tg_library_delete(lib, d) == TG_OK && tg_library_delete(lib, e) == TG_OK);
    /* FTS5 syntax is not an error: quotes, operators, column filters */
    const char *odd[] = {"\"unterminated", "title:x OR", "NEAR(", "*", "a AND AND b", "", "\xff\xfe"};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        CHECK_MSG(tg_library_search(lib, odd[i], 10, &hits, &n) == TG_OK, "query %s: %s", odd[i], tg_last_error());
        tg_search_hits_free(hits, n);
    }
    /* failure, retry bookkeeping, enrichment */
    CHECK(tg_library_set_failed(lib, b, "HTTP 404") == TG_OK);
    CHECK(tg_library_set_failed(lib, b, "HTTP 404") == TG_OK);
    CHECK(tg_library_get(lib, b, &it) == TG_OK);
    CHECK(it.state == TG_ITEM_FAILED && it.attempts == 2);
    CHECK_EQ_STR(it.error, "HTTP 404");
    tg_item_clear(&it);
    CHECK(tg_library_pending(lib, 3, &ids, &n) == TG_OK && n == 1 && ids[0] == b);
    free(ids);
    CHECK(tg_library_pending(lib, 2, &ids, &n) == TG_OK && n == 0);
    free(ids);
    float vecs[6] = {1, 0, 0, 0, 1, 0};
    int32_t off[2] = {0, 20}, len[2] = {20, 30};
    CHECK(tg_library_set_enrichment(lib, a, "About starters.", "minilm", vecs, 3, off, len, 2) == TG_OK);
    char *sum = NULL;
    CHECK(tg_library_get_summary(lib, a, &sum) == TG_OK && sum && !strcmp(sum, "About starters."));
    free(sum);
    CHECK(tg_library_get(lib, a, &it) == TG_OK && it.state == TG_ITEM_ENRICHED);
    tg_item_clear(&it);
    /* enriching an item without text is refused */
    int64_t c = 0;
    tg_item_new ic = {.url = "https://x.example/c"};
    CHECK(tg_library_add(lib, &ic, &c, NULL) == TG_OK);
    CHECK(tg_library_set_enrichment(lib, c, "s", NULL, NULL, 0, NULL, NULL, 0) == TG_ERR_ARG);
    CHECK(tg_library_get(lib, c, &it) == TG_OK && it.state == TG_ITEM_PENDING);
    tg_item_clear(&it);
    /* delete cascades to the page, content, chunks and index */
    CHECK(tg_library_delete(lib, a) == TG_OK);
    CHECK(tg_library_search(lib, "yeast", 10, &hits, &n) == TG_OK && n == 0);
    tg_search_hits_free(hits, n);
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT (SELECT count(*) FROM pages) + (SELECT count(*) FROM contents "
                                            "WHERE item = 1) + (SELECT count(*) FROM chunks)");
    CHECK(st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0);
    sqlite3_finalize(st);
    CHECK(tg_library_delete(lib, a) == TG_ERR_NOT_FOUND);
    tg_library_close(lib);
}

static void test_chunks_and_hybrid(void) {
    /* chunking: budgets respected, ranges inside the text, nothing lost */
    const char *text = "one two three four five six seven eight nine ten\n\n"
                       "eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty "
                       "twentyone twentytwo";
    int32_t *offs = NULL, *lens = NULL;
    size_t n = 0;
    CHECK(tg_read_chunk(text, 12, &offs, &lens, &n) == TG_OK && n == 2);
    if (n == 2) {
        CHECK(offs[0] == 0 && !strncmp(text + offs[0] + lens[0] - 3, "ten", 3)); /* stops at the paragraph */
        CHECK(!strncmp(text + offs[1], "eleven", 6) && offs[1] + lens[1] == (int32_t)strlen(text));
    }
    free(offs);
    free(lens);
    CHECK(tg_read_chunk("", 12, &offs, &lens, &n) == TG_OK && n == 0);
    free(offs);
    free(lens);
    CHECK(tg_read_chunk("   \n\n  ", 12, &offs, &lens, &n) == TG_OK && n == 0);
    free(offs);
    free(lens);

    tg_library *lib = fresh("vec.db");
    if (!lib)
        return;
    int64_t a = 0, b = 0, c = 0;
    tg_item_new ia = {.url = "https://v.example/a"}, ib = {.url = "https://v.example/b"}, ic = {.url = "https://v.example/c"};
    CHECK(tg_library_add(lib, &ia, &a, NULL) == TG_OK && tg_library_add(lib, &ib, &b, NULL) == TG_OK &&
          tg_library_add(lib, &ic, &c, NULL) == TG_OK);
    tg_article aa = {.text = "apples and pears in the orchard"}, ab = {.text = "the quarterly revenue report"},
               ac = {.text = "orchard revenue"};
    CHECK(tg_library_set_article(lib, a, &aa) == TG_OK && tg_library_set_article(lib, b, &ab) == TG_OK &&
          tg_library_set_article(lib, c, &ac) == TG_OK);
    int64_t *ids = NULL;
    CHECK(tg_library_unembedded(lib, "m", &ids, &n) == TG_OK && n == 3);
    free(ids);
    /* a: two chunks, the second close to the query; b: far; c: none (BM25 only) */
    float va[6] = {0, 1, 0, 0.9f, 0.1f, 0}, vb[3] = {0, 0, 1};
    int32_t oa[2] = {0, 11}, la[2] = {10, 20}, ob[1] = {0}, lb[1] = {28};
    CHECK(tg_library_set_chunks(lib, a, "m", va, 3, oa, la, 2) == TG_OK);
    CHECK(tg_library_set_chunks(lib, b, "m", vb, 3, ob, lb, 1) == TG_OK);
    CHECK(tg_library_unembedded(lib, "m", &ids, &n) == TG_OK && n == 1 && ids[0] == c);
    free(ids);
    CHECK(tg_library_unembedded(lib, "other", &ids, &n) == TG_OK && n == 3);
    free(ids);
    tg_item it;
    CHECK(tg_library_get(lib, a, &it) == TG_OK && it.state == TG_ITEM_EXTRACTED); /* state untouched */
    tg_item_clear(&it);
    float q[3] = {1, 0, 0};
    tg_search_hit *hits = NULL;
    CHECK(tg_library_vector_search(lib, "m", q, 3, 10, &hits, &n) == TG_OK && n == 2);
    if (n == 2) {
        CHECK(hits[0].id == a && fabs(hits[0].score - 0.9 / sqrt(0.82)) < 1e-6 && hits[1].id == b);
        CHECK_EQ_STR(hits[0].snippet, "pears in the orchard"); /* the best chunk's passage */
    }
    tg_search_hits_free(hits, n);
    float q4[4] = {1, 0, 0, 0};
    CHECK(tg_library_vector_search(lib, "m", q4, 4, 10, &hits, &n) == TG_OK && n == 0); /* other dim: none */
    tg_search_hits_free(hits, n);
    /* hybrid: "revenue" ranks c then b by BM25; the vector ranks a then b: RRF puts b (in both) first */
    CHECK(tg_library_search_hybrid(lib, "revenue", "m", q, 3, 10, &hits, &n) == TG_OK && n == 3);
    if (n == 3) {
        CHECK(hits[0].id == b);
        CHECK(fabs(hits[0].score - (1.0 / 62 + 1.0 / 62)) < 1e-9);
        CHECK(hits[1].score == hits[2].score && hits[1].score > 0); /* a and c tie at 1/61 */
    }
    tg_search_hits_free(hits, n);
    CHECK(tg_library_search_hybrid(lib, "revenue", "m", NULL, 3, 10, &hits, &n) == TG_OK && n == 2);
    tg_search_hits_free(hits, n);
    CHECK(tg_library_set_chunks(lib, a, NULL, va, 3, oa, la, 2) == TG_ERR_ARG);
    tg_library_close(lib);
}

static int64_t add_item(tg_library *lib, const char *url, int64_t saved, int64_t read_at, bool archived,
                        bool favorite, const char *tag) {
    const char *tags[1] = {tag};
    tg_item_new in = {.url = url, .saved = saved, .read_at = read_at, .archived = archived, .favorite = favorite,
                      .tags = tags, .n_tags = tag ? 1 : 0};
    int64_t id = 0;
    CHECK(tg_library_add(lib, &in, &id, NULL) == TG_OK);
    return id;
}

static tg_article article(const char *text, const char *canonical) {
    tg_article a = {0};
    a.text = text ? tg__strndup(text, strlen(text)) : NULL;
    a.canonical_url = canonical ? tg__strndup(canonical, strlen(canonical)) : NULL;
    return a;
}

/* store_merge.c: items whose pages are one article become one item. */
static void test_merge_duplicates(void) {
    char path[300];
    db_path(path, sizeof path, "merge.db");
    tg_library *lib = tg_library_open(path);
    CHECK(lib != NULL);
    const int64_t a = add_item(lib, "https://ex.com/story", 300, 0, false, false, "first");
    const int64_t b = add_item(lib, "https://sho.rt/x", 100, 150, true, false, "short");
    const int64_t c = add_item(lib, "https://ex.com/amp/story", 200, 120, false, true, "amp");
    int64_t into = -1;

    /* b's link redirected to a's page (with a tracking parameter) */
    tg_article art = article("The story.", NULL);
    CHECK(tg__lib_store_article(lib, b, &art, "https://ex.com/story?utm_source=x", &into) == TG_OK && into == a);
    tg_article_clear(&art);
    tg_item it;
    CHECK(tg_library_get(lib, b, &it) == TG_ERR_NOT_FOUND);
    CHECK(tg_library_get(lib, a, &it) == TG_OK);
    CHECK_EQ_INT(it.saved, 100);
    CHECK_EQ_INT(it.read_at, 150);
    CHECK(it.archived && !it.favorite && it.state == TG_ITEM_EXTRACTED && it.n_tags == 2);
    tg_item_clear(&it);
    int64_t found = 0;
    CHECK(tg_library_find(lib, "https://sho.rt/x?fbclid=1", &found) == TG_OK && found == a);
    bool added = true;
    tg_item_new again = {.url = "https://sho.rt/x"};
    CHECK(tg_library_add(lib, &again, &found, &added) == TG_OK && !added && found == a);

    /* c's page names a's as canonical (same site): earliest read date, favourite */
    art = article("The story, AMP.", "https://ex.com/story#top");
    CHECK(tg__lib_store_article(lib, c, &art, "https://ex.com/amp/story", &into) == TG_OK && into == a);
    tg_article_clear(&art);
    CHECK(tg_library_get(lib, a, &it) == TG_OK);
    CHECK_EQ_INT(it.read_at, 120);
    CHECK(it.favorite && it.archived && it.n_tags == 3);
    tg_item_clear(&it);
    char *text = NULL;
    CHECK(tg_library_get_content(lib, a, &text, NULL) == TG_OK && text && !strcmp(text, "The story."));
    free(text); /* a had its article: it keeps it */

    /* a canonical on another site, or the site's front page, is not trusted */
    const int64_t d = add_item(lib, "https://other.org/p", 400, 0, false, false, NULL);
    art = article("Other.", "https://ex.com/story");
    CHECK(tg__lib_store_article(lib, d, &art, "https://other.org/p", &into) == TG_OK && into == 0);
    tg_article_clear(&art);
    const int64_t e = add_item(lib, "https://ex.com/e", 400, 0, false, false, NULL);
    const int64_t home = add_item(lib, "https://ex.com/", 400, 0, false, false, NULL);
    art = article("E.", "https://ex.com/");
    CHECK(tg__lib_store_article(lib, e, &art, "https://ex.com/e", &into) == TG_OK && into == 0);
    tg_article_clear(&art);
    CHECK(tg_library_get(lib, home, &it) == TG_OK && it.state == TG_ITEM_PENDING);
    tg_item_clear(&it);

    /* one transaction: a merge that fails half-way leaves both items as they were */
    const int64_t f = add_item(lib, "https://ex.com/f", 500, 0, false, false, "f");
    const int64_t g = add_item(lib, "https://ex.com/g", 50, 0, true, true, "g");
    art = article(NULL, NULL); /* f has no article, so g's is stored on it: and fails */
    CHECK(tg__lib_store_article(lib, g, &art, "https://ex.com/f", &into) != TG_OK && into == 0);
    CHECK(tg_library_get(lib, g, &it) == TG_OK && it.state == TG_ITEM_PENDING);
    tg_item_clear(&it);
    CHECK(tg_library_get(lib, f, &it) == TG_OK && it.saved == 500 && !it.archived && it.n_tags == 1);
    tg_item_clear(&it);
    CHECK(tg_library_find(lib, "https://ex.com/g", &found) == TG_OK && found == g);
    /* … and succeeds whole: f takes g's article */
    art = article("F's page.", NULL);
    CHECK(tg__lib_store_article(lib, g, &art, "https://ex.com/f", &into) == TG_OK && into == f);
    tg_article_clear(&art);
    CHECK(tg_library_get(lib, f, &it) == TG_OK && it.saved == 50 && it.archived && it.favorite &&
          it.state == TG_ITEM_EXTRACTED && it.n_tags == 2);
    tg_item_clear(&it);
    int64_t counts[5], total = 0;
    CHECK(tg_library_count(lib, counts, &total) == TG_OK && total == 5);
    tg_library_close(lib);
}

/* The origin of a tag on an item (item_tags.origin), -1 if it has none. */
static int tag_origin(tg_library *lib, int64_t id, const char *tag) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT x.origin FROM item_tags x JOIN tags t ON t.id = x.tag "
                                            "WHERE x.item = ?1 AND t.name = ?2");
    int o = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            o = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return o;
}

/* Who put each tag: the owner's mark wins over the model's and the
 * fill-in's, whichever came first, and survives a merge. */
static void test_tag_origins(void) {
    tg_library *lib = fresh("origins.db");
    if (!lib)
        return;
    const int64_t a = add_item(lib, "https://ex.com/a", 100, 0, false, false, "mine");
    const int64_t b = add_item(lib, "https://ex.com/b", 200, 0, false, false, NULL);
    int64_t into = -1;
    tg_article art = article("An article about tags.", NULL);
    CHECK(tg__lib_store_article(lib, a, &art, "https://ex.com/a", &into) == TG_OK && into == 0);
    tg_article_clear(&art);
    char *tags[] = {"mine", "chosen", "filled"};
    tg_enrichment e = {.summary = "A summary of the article.", .tags = tags, .n_tags = 3, .n_chosen = 2};
    CHECK(tg_library_set_summary_tags(lib, a, &e) == TG_OK);
    CHECK_EQ_INT(tag_origin(lib, a, "mine"), TG_TAG_OWNER);
    CHECK_EQ_INT(tag_origin(lib, a, "chosen"), TG_TAG_MODEL);
    CHECK_EQ_INT(tag_origin(lib, a, "filled"), TG_TAG_FILLED);
    /* the owner tags it too: now the owner's */
    CHECK(tg_library_tag(lib, a, "filled", false) == TG_OK);
    CHECK_EQ_INT(tag_origin(lib, a, "filled"), TG_TAG_OWNER);
    /* b's page is a's article: the merged item keeps the origins */
    art = article("The same article.", "https://ex.com/a");
    CHECK(tg__lib_store_article(lib, b, &art, "https://ex.com/b", &into) == TG_OK && into == a);
    tg_article_clear(&art);
    CHECK_EQ_INT(tag_origin(lib, a, "chosen"), TG_TAG_MODEL);
    CHECK_EQ_INT(tag_origin(lib, a, "mine"), TG_TAG_OWNER);
    tg_library_close(lib);
}

int main(void) {
    if (!mkdtemp(dbdir)) {
        perror("mkdtemp");
        return 1;
    }
    setenv("TINGLADO_NOW", "1750000000", 1);
    RUN(test_canonical_url);
    RUN(test_resolve);
    RUN(test_dates);
    RUN(test_csv);
    RUN(test_zlib);
    RUN(test_open_and_migrate);
    RUN(test_items_and_tags);
    RUN(test_list_filters);
    RUN(test_pipeline_and_search);
    RUN(test_chunks_and_hybrid);
    RUN(test_merge_duplicates);
    RUN(test_tag_origins);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dbdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dbdir);
    return tg_test_finish("test_store");
}
