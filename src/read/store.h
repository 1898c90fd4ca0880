/*
 * store.h — the library handle and the helpers the store's files share
 * (store.c: schema, items and tags; store_pipe.c: pipeline steps, search,
 * feeds; import.c/export.c read and write through the same handle).
 *
 * Internal: nothing outside src/read/ sees sqlite3.
 */
#ifndef TG_READ_STORE_H
#define TG_READ_STORE_H

#include "read/read.h"

#include <sqlite3.h>

struct tg_library {
    sqlite3 *db;
    char *path;
    int depth; /* nesting of tg__lib_begin: only the outermost one commits */
    bool failed_inner; /* an inner step failed: the outermost rolls back  */
};

/* Fails with the database's message, prefixed by what was being done. */
tg_status tg__lib_sqlfail(tg_library *lib, const char *what);
/* Transactions that nest (import wraps many adds in one): begin/end pair;
 * end(ok=false) rolls the outermost back.  Writers take the lock at once
 * (BEGIN IMMEDIATE) so two processes never deadlock on an upgrade. */
tg_status tg__lib_begin(tg_library *lib);
tg_status tg__lib_end(tg_library *lib, tg_status st);
/* Runs SQL without results. */
tg_status tg__lib_exec(tg_library *lib, const char *sql);
sqlite3_stmt *tg__lib_prepare(tg_library *lib, const char *sql);
/* A malloc'd copy of a text column (NULL for SQL NULL). */
char *tg__col_text(sqlite3_stmt *st, int col);
/* Who put a tag on an item (item_tags.origin, migration 3). */
typedef enum { TG_TAG_OWNER = 0, TG_TAG_MODEL = 1, TG_TAG_FILLED = 2 } tg_tag_origin;
/* Adds a tag to an item inside the caller's transaction: the owner's, or
 * from an origin (a tag both put keeps the owner's mark). */
tg_status tg__lib_add_tag(tg_library *lib, int64_t id, const char *tag);
tg_status tg__lib_add_tag_from(tg_library *lib, int64_t id, const char *tag, tg_tag_origin origin);
/* Re-indexes an item for full-text search from its stored fields. */
tg_status tg__lib_index(tg_library *lib, int64_t id);
/* The item whose canonical URL is canon, else the item that has canon as an
 * alias (a URL it redirected to, its rel=canonical, a merged item's link);
 * TG_ERR_NOT_FOUND if none. */
tg_status tg__lib_find_url(tg_library *lib, const char *canon, int64_t *id);
/* The stored page's final URL (malloc'd), NULL if none. */
char *tg__lib_page_final_url(tg_library *lib, int64_t id);
/* Stores an extracted article, unless the page is one another item already
 * has (store_merge.c): final_url (after redirects) and a->canonical_url
 * (when on the same site and not the site's front page) are canonicalised
 * and looked up.  When another item has one of them, this item is merged
 * into that one — earliest saved date, union of tags, read/archived/
 * favourite OR'ed, its page and article moved over if the other has none,
 * its URLs kept as aliases — and deleted; *merged_into gets the other id.
 * Otherwise the article is stored (→ EXTRACTED), both URLs become aliases
 * of the item, and *merged_into is 0.  One transaction either way. */
tg_status tg__lib_store_article(tg_library *lib, int64_t id, const tg_article *a, const char *final_url,
                                int64_t *merged_into);
/* Calls fn with the item, offset, length and cosine to q (0 when either
 * vector is all zeros) of every stored chunk vector of model with dim
 * floats, in item order (vector.c); rows of another size are skipped, never
 * read.  fn returns false when it runs out of memory: the scan stops with
 * TG_ERR_NOMEM.  Search and `read ask` rank passages from it. */
typedef bool (*tg__chunk_cos_fn)(void *user, int64_t item, int32_t off, int32_t len, double cos);
tg_status tg__lib_chunk_cosines(tg_library *lib, const char *model, const float *q, int32_t dim,
                                tg__chunk_cos_fn fn, void *user);
/* Current time (seconds); TINGLADO_NOW overrides it for reproducible tests. */
int64_t tg__read_now(void);

#endif
