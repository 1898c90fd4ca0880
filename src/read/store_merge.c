/*
 * store_merge.c — one article, one item: when two saved links lead to the
 * same page (a short link and the canonical link, an AMP copy, a tracking
 * redirect), the second one to be read is merged into the first.
 *
 * An item is named by its own canonical URL and by its aliases: the
 * canonical form of the URL its link redirected to, its page's
 * <link rel=canonical> (only on the same site — another site's claim is not
 * trusted — and never the site's front page, which careless sites name as
 * every page's canonical), and the links of items merged into it.  Saving a
 * link that is an alias adds nothing (store.c looks aliases up too).
 *
 * The merge keeps what the owner said about either item: the earliest saved
 * date, the earliest read date, archived / favourite if either was, every
 * tag; the title of the surviving item if it had one, else the page's, else
 * the one the merged item was saved with.  The survivor keeps
 * its own article if it has one, else takes this one (page and text).  All
 * of it, with the deletion of the merged item, is one transaction: a crash
 * leaves either two items (and the next sync merges them) or one.
 */
#include "read/store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *tg__lib_page_final_url(tg_library *lib, int64_t id) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT final_url FROM pages WHERE item = ?1");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    char *u = sqlite3_step(st) == SQLITE_ROW ? tg__col_text(st, 0) : NULL;
    sqlite3_finalize(st);
    return u;
}

/* The host of a canonical URL without a leading "www." (same site). */
static void site_of(const char *canon, char *out, size_t cap) {
    if (!tg__url_host(canon, out, cap))
        out[0] = '\0';
    if (!strncmp(out, "www.", 4))
        memmove(out, out + 4, strlen(out + 4) + 1);
}

/* "https://host/" with nothing after the slash. */
static bool front_page(const char *canon) {
    const char *p = strstr(canon, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    return p && p[1] == '\0';
}

/* Another item than self named canon (its own URL first, else an alias). */
static tg_status other_item(tg_library *lib, const char *canon, int64_t self, int64_t *other) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT id FROM (SELECT id, 0 AS k FROM items WHERE url = ?1 AND id != ?2 "
                                            "UNION ALL SELECT item, 1 FROM aliases WHERE url = ?1 AND item != ?2) "
                                            "ORDER BY k LIMIT 1");
    if (!st)
        return TG_ERR_IO;
    sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, self);
    int rc = sqlite3_step(st);
    tg_status s = TG_OK;
    if (rc == SQLITE_ROW)
        *other = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        s = TG_ERR_NOT_FOUND;
    else
        s = tg__lib_sqlfail(lib, "looking up a URL");
    sqlite3_finalize(st);
    return s;
}

/* Runs one statement with up to two integer parameters and one text. */
static tg_status exec3(tg_library *lib, const char *sql, int64_t a, int64_t b, const char *t, const char *what) {
    sqlite3_stmt *st = tg__lib_prepare(lib, sql);
    if (!st)
        return TG_ERR_IO;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    if (t)
        sqlite3_bind_text(st, 3, t, -1, SQLITE_STATIC);
    tg_status s = sqlite3_step(st) == SQLITE_DONE ? TG_OK : tg__lib_sqlfail(lib, what);
    sqlite3_finalize(st);
    return s;
}

/* canon becomes an alias of item, unless it is some item's own URL. */
static tg_status add_alias(tg_library *lib, int64_t item, const char *canon) {
    return exec3(lib,
                 "INSERT OR IGNORE INTO aliases(url, item) SELECT ?3, ?1 WHERE ?2 = ?2 AND NOT EXISTS "
                 "(SELECT 1 FROM items WHERE url = ?3)",
                 item, 0, canon, "adding an alias");
}

static int item_state(tg_library *lib, int64_t id) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT state FROM items WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* Merges item x into item y (inside the caller's transaction); a is x's
 * article, urls the canonical URLs x's page answers to. */
static tg_status merge(tg_library *lib, int64_t x, int64_t y, const tg_article *a, char *const *urls, size_t n_urls) {
    tg_status s = exec3(lib,
                        "UPDATE items SET "
                        "saved = min(saved, (SELECT saved FROM items WHERE id = ?2)), "
                        "read_at = CASE WHEN read_at IS NULL THEN (SELECT read_at FROM items WHERE id = ?2) "
                        "  WHEN (SELECT read_at FROM items WHERE id = ?2) IS NULL THEN read_at "
                        "  ELSE min(read_at, (SELECT read_at FROM items WHERE id = ?2)) END, "
                        "archived = max(archived, (SELECT archived FROM items WHERE id = ?2)), "
                        "favorite = max(favorite, (SELECT favorite FROM items WHERE id = ?2)), "
                        "title = coalesce(title, nullif(?3, ''), (SELECT title FROM items WHERE id = ?2)) "
                        "WHERE id = ?1",
                        y, x, a->title, "merging an item");
    if (!s)
        s = exec3(lib, "INSERT INTO item_tags(item, tag, origin) SELECT ?1, tag, origin FROM item_tags WHERE item = ?2 "
                  "ON CONFLICT (item, tag) DO UPDATE SET origin = min(origin, excluded.origin)", y, x,
                  NULL, "merging tags");
    if (!s)
        s = exec3(lib, "UPDATE OR IGNORE aliases SET item = ?1 WHERE item = ?2", y, x, NULL, "moving aliases");
    /* x's own link now names y: saving it again adds nothing */
    if (!s)
        s = exec3(lib, "INSERT OR IGNORE INTO aliases(url, item) SELECT url, ?1 FROM items WHERE id = ?2", y, x, NULL,
                  "keeping the merged link");
    for (size_t i = 0; !s && i < n_urls; i++)
        s = add_alias(lib, y, urls[i]);
    /* the survivor without an article takes this one, page and text */
    const int ys = s ? -1 : item_state(lib, y);
    if (!s && (ys == TG_ITEM_PENDING || ys == TG_ITEM_FETCHED || ys == TG_ITEM_FAILED)) {
        s = exec3(lib,
                  "INSERT OR REPLACE INTO pages(item, fetched, final_url, content_type, raw_len, raw) "
                  "SELECT ?1, fetched, final_url, content_type, raw_len, raw FROM pages WHERE item = ?2",
                  y, x, NULL, "moving the page");
        if (!s)
            s = tg_library_set_article(lib, y, a);
    }
    if (!s)
        s = exec3(lib, "DELETE FROM search WHERE rowid = ?2 AND ?1 = ?1", y, x, NULL, "deleting the merged item");
    if (!s)
        s = exec3(lib, "DELETE FROM items WHERE id = ?2 AND ?1 = ?1", y, x, NULL, "deleting the merged item");
    if (!s)
        s = tg__lib_index(lib, y); /* the title may have come from x */
    return s;
}

tg_status tg__lib_store_article(tg_library *lib, int64_t id, const tg_article *a, const char *final_url,
                                int64_t *merged_into) {
    *merged_into = 0;
    char *urls[2] = {NULL, NULL};
    size_t n = 0;
    if (final_url)
        urls[n] = tg__url_canonical(final_url, strlen(final_url));
    n += urls[n] != NULL;
    if (a->canonical_url) {
        char *c = tg__url_canonical(a->canonical_url, strlen(a->canonical_url));
        char s1[256], s2[256];
        if (c && n) {
            site_of(c, s1, sizeof s1);
            site_of(urls[0], s2, sizeof s2);
        }
        if (c && n && *s1 && !strcmp(s1, s2) && !(front_page(c) && !front_page(urls[0])) && strcmp(c, urls[0]))
            urls[n++] = c;
        else
            free(c);
    }
    tg_status s = tg__lib_begin(lib);
    if (s)
        goto done;
    int64_t other = 0;
    for (size_t i = 0; !s && !other && i < n; i++) {
        s = other_item(lib, urls[i], id, &other);
        if (s == TG_ERR_NOT_FOUND)
            s = TG_OK, other = 0;
    }
    if (!s && other) {
        s = merge(lib, id, other, a, urls, n);
        if (!s)
            *merged_into = other;
    } else if (!s) {
        s = tg_library_set_article(lib, id, a);
        for (size_t i = 0; !s && i < n; i++)
            s = add_alias(lib, id, urls[i]);
    }
    s = tg__lib_end(lib, s);
    if (s)
        *merged_into = 0;
done:
    free(urls[0]);
    free(urls[1]);
    return s;
}
