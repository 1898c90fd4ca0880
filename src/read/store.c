/*
 * store.c — the reading library's SQLite database: opening, the schema and
 * its migrations, items and tags.
 *
 * One file holds everything (WAL, foreign keys on).  The schema version is
 * PRAGMA user_version; each migration runs in its own transaction, so an
 * interrupted upgrade leaves the previous version intact.  A database from
 * a newer tinglado is refused, never written.  Every public call is one
 * transaction: a crash or kill -9 loses at most the call in flight.
 */
#include "read/store.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Migration i brings the schema from version i to i + 1.  Never edit one
 * that has shipped: add another. */
static const char *const migrations[] = {
    /* 1: items, tags, pages, contents, chunks, feeds, full-text index */
    "CREATE TABLE items ("
    "  id INTEGER PRIMARY KEY,"
    "  url TEXT NOT NULL UNIQUE,"            /* canonical URL: the item's identity */
    "  host TEXT,"
    "  title TEXT, byline TEXT, site TEXT, lang TEXT, excerpt TEXT,"
    "  published INTEGER, saved INTEGER NOT NULL, read_at INTEGER,"
    "  archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),"
    "  favorite INTEGER NOT NULL DEFAULT 0 CHECK (favorite IN (0, 1)),"
    "  state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 4),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  updated INTEGER NOT NULL"
    ");"
    "CREATE INDEX items_saved ON items(saved DESC);"
    "CREATE INDEX items_state ON items(state);"
    "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE item_tags ("
    "  item INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,"
    "  tag INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (item, tag)) WITHOUT ROWID;"
    "CREATE INDEX item_tags_tag ON item_tags(tag);"
    "CREATE TABLE pages ("                   /* the raw page, zlib-compressed */
    "  item INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,"
    "  fetched INTEGER NOT NULL, final_url TEXT, content_type TEXT,"
    "  raw_len INTEGER NOT NULL, raw BLOB NOT NULL);"
    "CREATE TABLE contents ("
    "  item INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,"
    "  text TEXT NOT NULL, html TEXT, words INTEGER NOT NULL, summary TEXT);"
    "CREATE TABLE chunks ("                  /* embeddings of passages of the text */
    "  item INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL,"
    "  model TEXT, dim INTEGER NOT NULL, vec BLOB NOT NULL,"
    "  PRIMARY KEY (item, seq)) WITHOUT ROWID;"
    "CREATE TABLE feeds ("
    "  id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, title TEXT, site_url TEXT,"
    "  added INTEGER NOT NULL, checked INTEGER, etag TEXT, last_modified TEXT);"
    /* rowid = items.id; kept in step by tg__lib_index */
    "CREATE VIRTUAL TABLE search USING fts5(title, site, text,"
    "  tokenize = 'unicode61 remove_diacritics 2');",
    /* 2: other canonical URLs that name an item's article: where its link
     * redirected to, the page's rel=canonical, the links of items merged
     * into it (store_merge.c) */
    "CREATE TABLE aliases ("
    "  url TEXT PRIMARY KEY,"
    "  item INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE) WITHOUT ROWID;"
    "CREATE INDEX aliases_item ON aliases(item);",
    /* 3: who put a tag on an item: 0 the owner (import, read add/tag), 1 the
     * model's own choice when enriching, 2 filled in by tinglado to make up
     * three (the article's candidates, its title's words).  The owner's
     * mark wins when both put the same tag. */
    "ALTER TABLE item_tags ADD COLUMN origin INTEGER NOT NULL DEFAULT 0 CHECK (origin BETWEEN 0 AND 2);",
};

int tg_library_schema_version(void) { return (int)TG_ARRAY_LEN(migrations); }

const char *tg_item_state_name(tg_item_state s) {
    static const char *const names[] = {"pending", "fetched", "extracted", "enriched", "failed"};
    return (unsigned)s < TG_ARRAY_LEN(names) ? names[s] : "?";
}

int64_t tg__read_now(void) {
    const char *e = getenv("TINGLADO_NOW");
    if (e && *e)
        return strtoll(e, NULL, 10);
    return (int64_t)time(NULL);
}

tg_status tg__lib_sqlfail(tg_library *lib, const char *what) {
    return tg__fail(TG_ERR_IO, "%s: %s: %s", lib->path, what, sqlite3_errmsg(lib->db));
}

tg_status tg__lib_exec(tg_library *lib, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(lib->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        tg__fail(TG_ERR_IO, "%s: %s", lib->path, err ? err : sqlite3_errmsg(lib->db));
        sqlite3_free(err);
        return TG_ERR_IO;
    }
    return TG_OK;
}

sqlite3_stmt *tg__lib_prepare(tg_library *lib, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(lib->db, sql, -1, &st, NULL) != SQLITE_OK) {
        tg__lib_sqlfail(lib, "prepare");
        return NULL;
    }
    return st;
}

char *tg__col_text(sqlite3_stmt *st, int col) {
    const unsigned char *t = sqlite3_column_text(st, col);
    if (!t)
        return NULL;
    return tg__strndup((const char *)t, (size_t)sqlite3_column_bytes(st, col));
}

tg_status tg__lib_begin(tg_library *lib) {
    if (lib->depth++ > 0)
        return TG_OK;
    lib->failed_inner = false;
    tg_status s = tg__lib_exec(lib, "BEGIN IMMEDIATE");
    if (s)
        lib->depth = 0;
    return s;
}

tg_status tg__lib_end(tg_library *lib, tg_status st) {
    if (st)
        lib->failed_inner = true;
    if (--lib->depth > 0)
        return st;
    if (lib->failed_inner) {
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", tg_last_error());
        sqlite3_exec(lib->db, "ROLLBACK", NULL, NULL, NULL);
        tg__fail(st ? st : TG_ERR_IO, "%s", keep);
        return st ? st : TG_ERR_IO;
    }
    return tg__lib_exec(lib, "COMMIT");
}

static tg_status migrate(tg_library *lib) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "PRAGMA user_version");
    if (!st)
        return TG_ERR_IO;
    int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (version < 0)
        return tg__lib_sqlfail(lib, "reading the schema version");
    if (version > tg_library_schema_version())
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: schema version %d is newer than this tinglado's (%d)", lib->path,
                        version, tg_library_schema_version());
    for (int v = version; v < tg_library_schema_version(); v++) {
        tg_status s = tg__lib_begin(lib);
        if (!s)
            s = tg__lib_exec(lib, migrations[v]);
        if (!s) {
            char sql[64];
            snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
            s = tg__lib_exec(lib, sql);
        }
        s = tg__lib_end(lib, s);
        if (s)
            return tg__fail_prefix(s, "migrating to schema version %d", v + 1);
    }
    return TG_OK;
}

tg_library *tg_library_open(const char *path) {
    tg_library *lib = tg__calloc(1, sizeof *lib);
    if (!lib)
        return NULL;
    lib->path = tg__strndup(path, strlen(path));
    if (!lib->path) {
        free(lib);
        return NULL;
    }
    if (sqlite3_open_v2(path, &lib->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        tg__fail(TG_ERR_IO, "%s: cannot open: %s", path, lib->db ? sqlite3_errmsg(lib->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(lib->db, 10000);
    sqlite3_extended_result_codes(lib->db, 1);
    /* WAL: readers (the web page, search) never block the writer (sync);
     * synchronous=NORMAL in WAL mode is still durable across process
     * crashes, which is what kill -9 safety needs. */
    if (tg__lib_exec(lib, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"))
        goto fail;
    /* Is it a database at all?  (A text file named library.db fails here.) */
    if (tg__lib_exec(lib, "SELECT count(*) FROM sqlite_master"))
        goto fail;
    if (migrate(lib))
        goto fail;
    return lib;
fail:
    tg__fail_prefix(TG_ERR_IO, "opening the library");
    tg_library_close(lib);
    return NULL;
}

void tg_library_close(tg_library *lib) {
    if (!lib)
        return;
    if (lib->db)
        sqlite3_close_v2(lib->db);
    free(lib->path);
    free(lib);
}

tg_status tg_library_default_path(char *out, size_t cap) {
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char dir[4096];
    if (xdg && *xdg == '/')
        snprintf(dir, sizeof dir, "%s/tinglado", xdg);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/share/tinglado", home);
    else
        return tg__fail(TG_ERR_NOT_FOUND, "neither XDG_DATA_HOME nor HOME is set: pass --db PATH");
    /* create each missing component (mkdir -p) */
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST)
                return tg__fail(TG_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
            *p = c;
            if (!c)
                break;
        }
    }
    if ((size_t)snprintf(out, cap, "%s/library.db", dir) >= cap)
        return tg__fail(TG_ERR_RANGE, "library path too long");
    return TG_OK;
}

void tg_item_clear(tg_item *it) {
    if (!it)
        return;
    free(it->url);
    free(it->title);
    free(it->byline);
    free(it->site);
    free(it->lang);
    free(it->excerpt);
    free(it->error);
    free(it->content_type);
    for (size_t i = 0; i < it->n_tags; i++)
        free(it->tags[i]);
    free(it->tags);
    memset(it, 0, sizeof *it);
}

/* A tag as stored: trimmed, ASCII lower-cased, inner whitespace runs as one
 * space; NULL for an empty one. */
static char *norm_tag_utf8(const char *t) {
    while (isspace((unsigned char)*t))
        t++;
    size_t n = strlen(t);
    while (n && isspace((unsigned char)t[n - 1]))
        n--;
    if (!n)
        return NULL;
    char *o = tg__malloc(n + 1);
    if (!o)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (isspace(c)) {
            if (j && o[j - 1] != ' ')
                o[j++] = ' ';
        } else if (c >= 0x20) {
            o[j++] = (char)tolower(c);
        }
    }
    o[j] = '\0';
    return o;
}

static char *norm_tag(const char *raw) {
    char *fixed = tg__utf8_repair(raw, strlen(raw)); /* import files hold any bytes */
    if (!fixed)
        return NULL;
    char *o = norm_tag_utf8(fixed);
    free(fixed);
    return o;
}

tg_status tg__lib_add_tag(tg_library *lib, int64_t id, const char *tag) {
    return tg__lib_add_tag_from(lib, id, tag, TG_TAG_OWNER);
}

tg_status tg__lib_add_tag_from(tg_library *lib, int64_t id, const char *tag, tg_tag_origin origin) {
    char *t = norm_tag(tag);
    if (!t)
        return TG_OK; /* empty tags are ignored */
    tg_status s = TG_OK;
    sqlite3_stmt *a = tg__lib_prepare(lib, "INSERT OR IGNORE INTO tags(name) VALUES (?1)");
    sqlite3_stmt *b = tg__lib_prepare(
        lib, "INSERT INTO item_tags(item, tag, origin) SELECT ?1, id, ?3 FROM tags WHERE name = ?2 "
             "ON CONFLICT (item, tag) DO UPDATE SET origin = min(origin, excluded.origin)");
    if (!a || !b) {
        s = TG_ERR_IO;
        goto done;
    }
    sqlite3_bind_text(a, 1, t, -1, SQLITE_STATIC);
    sqlite3_bind_int64(b, 1, id);
    sqlite3_bind_text(b, 2, t, -1, SQLITE_STATIC);
    sqlite3_bind_int(b, 3, (int)origin);
    if (sqlite3_step(a) != SQLITE_DONE || sqlite3_step(b) != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "adding a tag");
done:
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    free(t);
    return s;
}

/* The item whose URL is canon, else the one that has it as an alias. */
tg_status tg__lib_find_url(tg_library *lib, const char *canon, int64_t *id) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT id FROM (SELECT id, 0 AS k FROM items WHERE url = ?1 UNION ALL "
                                            "SELECT item, 1 FROM aliases WHERE url = ?1) ORDER BY k LIMIT 1");
    if (!st)
        return TG_ERR_IO;
    sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    tg_status s = TG_OK;
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        s = tg__fail(TG_ERR_NOT_FOUND, "no item with URL %s", canon);
    else
        s = tg__lib_sqlfail(lib, "looking up a URL");
    sqlite3_finalize(st);
    return s;
}

tg_status tg_library_find(tg_library *lib, const char *url, int64_t *id) {
    char *canon = tg__url_canonical(url, strlen(url));
    if (!canon)
        return TG_ERR_FORMAT;
    tg_status s = tg__lib_find_url(lib, canon, id);
    free(canon);
    return s;
}

tg_status tg_library_add(tg_library *lib, const tg_item_new *in, int64_t *id_out, bool *added) {
    if (!in || !in->url)
        return tg__fail(TG_ERR_ARG, "an item needs a URL");
    char *canon = tg__url_canonical(in->url, strlen(in->url));
    if (!canon)
        return TG_ERR_FORMAT;
    tg_status s = tg__lib_begin(lib);
    if (s) {
        free(canon);
        return s;
    }
    int64_t id = 0;
    bool is_new = false;
    s = tg__lib_find_url(lib, canon, &id);
    if (s == TG_ERR_NOT_FOUND) {
        is_new = true;
        char host[256];
        sqlite3_stmt *st = tg__lib_prepare(lib,
                                           "INSERT INTO items(url, host, title, saved, read_at, archived, favorite, "
                                           "updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        if (!st) {
            s = TG_ERR_IO;
        } else {
            int64_t now = tg__read_now();
            sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC);
            if (tg__url_host(canon, host, sizeof host))
                sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
            if (in->title && *in->title) /* well-formed UTF-8, or the JSON export would not be */
                sqlite3_bind_text(st, 3, tg__utf8_repair(in->title, strlen(in->title)), -1, free);
            sqlite3_bind_int64(st, 4, in->saved > 0 ? in->saved : now);
            if (in->read_at > 0)
                sqlite3_bind_int64(st, 5, in->read_at);
            sqlite3_bind_int(st, 6, in->archived);
            sqlite3_bind_int(st, 7, in->favorite);
            sqlite3_bind_int64(st, 8, now);
            s = sqlite3_step(st) == SQLITE_DONE ? TG_OK : tg__lib_sqlfail(lib, "adding an item");
            id = sqlite3_last_insert_rowid(lib->db);
            sqlite3_finalize(st);
        }
    }
    for (size_t i = 0; !s && i < in->n_tags; i++)
        if (in->tags[i])
            s = tg__lib_add_tag(lib, id, in->tags[i]);
    if (!s && is_new)
        s = tg__lib_index(lib, id);
    s = tg__lib_end(lib, s);
    free(canon);
    if (!s) {
        if (id_out)
            *id_out = id;
        if (added)
            *added = is_new;
    }
    return s;
}

#define ITEM_COLS                                                                                            \
    "id, url, title, byline, site, lang, excerpt, published, saved, read_at, archived, favorite, state, "  \
    "attempts, error, (SELECT group_concat(t.name, char(31)) FROM item_tags x JOIN tags t ON t.id = x.tag " \
    "WHERE x.item = items.id), (SELECT content_type FROM pages WHERE item = items.id)"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Reads a row selected with ITEM_COLS. */
static tg_status read_row(sqlite3_stmt *st, tg_item *it) {
    memset(it, 0, sizeof *it);
    it->id = sqlite3_column_int64(st, 0);
    it->url = tg__col_text(st, 1);
    it->title = tg__col_text(st, 2);
    it->byline = tg__col_text(st, 3);
    it->site = tg__col_text(st, 4);
    it->lang = tg__col_text(st, 5);
    it->excerpt = tg__col_text(st, 6);
    it->published = sqlite3_column_int64(st, 7);
    it->saved = sqlite3_column_int64(st, 8);
    it->read_at = sqlite3_column_int64(st, 9);
    it->archived = sqlite3_column_int(st, 10) != 0;
    it->favorite = sqlite3_column_int(st, 11) != 0;
    it->state = (tg_item_state)sqlite3_column_int(st, 12);
    it->attempts = sqlite3_column_int(st, 13);
    it->error = tg__col_text(st, 14);
    char *tags = tg__col_text(st, 15);
    it->content_type = tg__col_text(st, 16);
    if (!it->url) {
        free(tags);
        tg_item_clear(it);
        return tg__fail(TG_ERR_NOMEM, "out of memory");
    }
    if (tags) {
        size_t n = 1;
        for (char *p = tags; *p; p++)
            n += *p == 31;
        it->tags = tg__calloc(n, sizeof *it->tags);
        if (!it->tags) {
            free(tags);
            tg_item_clear(it);
            return TG_ERR_NOMEM;
        }
        for (char *p = tags, *q;; p = q + 1) {
            q = strchr(p, 31);
            size_t len = q ? (size_t)(q - p) : strlen(p);
            it->tags[it->n_tags] = tg__strndup(p, len);
            if (it->tags[it->n_tags])
                it->n_tags++;
            if (!q)
                break;
        }
        qsort(it->tags, it->n_tags, sizeof *it->tags, cmp_str);
        free(tags);
    }
    return TG_OK;
}

tg_status tg_library_get(tg_library *lib, int64_t id, tg_item *out) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT " ITEM_COLS " FROM items WHERE id = ?1");
    if (!st)
        return TG_ERR_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    tg_status s;
    if (rc == SQLITE_ROW)
        s = read_row(st, out);
    else if (rc == SQLITE_DONE)
        s = tg__fail(TG_ERR_NOT_FOUND, "no item %lld", (long long)id);
    else
        s = tg__lib_sqlfail(lib, "reading an item");
    sqlite3_finalize(st);
    return s;
}

/* Runs an UPDATE/DELETE with ?1 = id (and ?2 = v) that must touch one row. */
static tg_status update_one(tg_library *lib, const char *sql, int64_t id, int64_t v, const char *what) {
    tg_status s = tg__lib_begin(lib);
    if (s)
        return s;
    sqlite3_stmt *st = tg__lib_prepare(lib, sql);
    if (!st)
        return tg__lib_end(lib, TG_ERR_IO);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, v);
    sqlite3_bind_int64(st, 3, tg__read_now());
    if (sqlite3_step(st) != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, what);
    else if (sqlite3_changes(lib->db) == 0)
        s = tg__fail(TG_ERR_NOT_FOUND, "no item %lld", (long long)id);
    sqlite3_finalize(st);
    return tg__lib_end(lib, s);
}

tg_status tg_library_delete(tg_library *lib, int64_t id) {
    tg_status s = tg__lib_begin(lib);
    if (s)
        return s;
    sqlite3_stmt *st = tg__lib_prepare(lib, "DELETE FROM search WHERE rowid = ?1");
    if (!st)
        return tg__lib_end(lib, TG_ERR_IO);
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "deleting an item");
    sqlite3_finalize(st);
    if (!s)
        s = update_one(lib, "DELETE FROM items WHERE id = ?1 AND ?2 = ?2 AND ?3 = ?3", id, 0, "deleting an item");
    return tg__lib_end(lib, s);
}

tg_status tg_library_set_archived(tg_library *lib, int64_t id, bool archived) {
    return update_one(lib,
                      "UPDATE items SET archived = ?2, read_at = CASE WHEN ?2 AND read_at IS NULL THEN ?3 ELSE "
                      "read_at END, updated = ?3 WHERE id = ?1",
                      id, archived, "archiving");
}

tg_status tg_library_set_favorite(tg_library *lib, int64_t id, bool favorite) {
    return update_one(lib, "UPDATE items SET favorite = ?2, updated = ?3 WHERE id = ?1", id, favorite,
                      "setting favourite");
}

tg_status tg_library_tag(tg_library *lib, int64_t id, const char *tag, bool remove) {
    tg_status s = tg__lib_begin(lib);
    if (s)
        return s;
    s = update_one(lib, "UPDATE items SET updated = ?3 WHERE id = ?1 AND ?2 = ?2", id, 0, "tagging");
    if (s) {
    } else if (!remove) {
        s = tg__lib_add_tag(lib, id, tag);
    } else {
        char *t = norm_tag(tag);
        sqlite3_stmt *st =
            t ? tg__lib_prepare(lib, "DELETE FROM item_tags WHERE item = ?1 AND tag = (SELECT id FROM tags WHERE "
                                     "name = ?2)")
              : NULL;
        if (!st) {
            s = t ? TG_ERR_IO : tg__fail(TG_ERR_ARG, "empty tag");
        } else {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_text(st, 2, t, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                s = tg__lib_sqlfail(lib, "removing a tag");
            sqlite3_finalize(st);
            /* a tag nobody uses any more goes too */
            if (!s)
                s = tg__lib_exec(lib, "DELETE FROM tags WHERE id NOT IN (SELECT tag FROM item_tags)");
        }
        free(t);
    }
    return tg__lib_end(lib, s);
}

tg_item_filter tg_item_filter_all(void) {
    return (tg_item_filter){.archived = -1, .favorite = -1, .state = -1};
}

tg_status tg_library_list(tg_library *lib, const tg_item_filter *f, tg_item_fn fn, void *user) {
    tg_item_filter all = tg_item_filter_all();
    if (!f)
        f = &all;
    char *tag = f->tag ? norm_tag(f->tag) : NULL;
    sqlite3_stmt *st = tg__lib_prepare(
        lib, "SELECT " ITEM_COLS " FROM items WHERE (?1 < 0 OR archived = ?1) AND (?2 < 0 OR favorite = ?2)"
             " AND (?3 < 0 OR state = ?3) AND (?4 IS NULL OR id IN (SELECT x.item FROM item_tags x JOIN tags t"
             " ON t.id = x.tag WHERE t.name = ?4)) AND (?5 IS NULL OR host = ?5 OR host LIKE '%.' || ?5"
             " OR site = ?5) AND saved >= ?6 ORDER BY saved DESC, id DESC LIMIT ?7 OFFSET ?8");
    if (!st) {
        free(tag);
        return TG_ERR_IO;
    }
    sqlite3_bind_int(st, 1, f->archived);
    sqlite3_bind_int(st, 2, f->favorite);
    sqlite3_bind_int(st, 3, f->state);
    if (tag)
        sqlite3_bind_text(st, 4, tag, -1, SQLITE_STATIC);
    if (f->site)
        sqlite3_bind_text(st, 5, f->site, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, f->since);
    sqlite3_bind_int64(st, 7, f->limit ? (int64_t)f->limit : -1);
    sqlite3_bind_int64(st, 8, (int64_t)f->offset);
    tg_status s = TG_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tg_item it;
        if ((s = read_row(st, &it)))
            break;
        bool go_on = fn(&it, user);
        tg_item_clear(&it);
        if (!go_on)
            break;
    }
    if (!s && rc != SQLITE_ROW && rc != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "listing items");
    sqlite3_finalize(st);
    free(tag);
    return s;
}

tg_status tg_library_count(tg_library *lib, int64_t counts[5], int64_t *total) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT state, count(*) FROM items GROUP BY state");
    if (!st)
        return TG_ERR_IO;
    for (int i = 0; i < 5; i++)
        counts[i] = 0;
    int64_t t = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int k = sqlite3_column_int(st, 0);
        int64_t c = sqlite3_column_int64(st, 1);
        if (k >= 0 && k < 5)
            counts[k] = c;
        t += c;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return tg__lib_sqlfail(lib, "counting items");
    if (total)
        *total = t;
    return TG_OK;
}
