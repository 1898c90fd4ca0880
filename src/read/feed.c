/*
 * feed.c — RSS and Atom subscriptions: `read feed sync` fetches each feed
 * and saves its entries' links as pending items (so the next `read sync`
 * reads them), dated by the entry.
 *
 * Feeds are XML, but gumbo's forgiving HTML parser reads them well enough
 * for what we need (element names, attributes, text), and malformed feeds —
 * the common case — still yield their items.  Two HTML quirks matter: RSS
 * <link> is a void element in HTML, so its URL is the text node right after
 * it; CDATA sections become comments, so descriptions are not read (only
 * links, titles and dates are).  A feed that fails is reported and skipped;
 * the others go on.
 */
#include "read/html.h"
#include "read/store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The element's name as written ("pubDate", "dc:date"), lower-cased. */
static void tag_name(const GumboNode *el, char *out, size_t cap) {
    out[0] = '\0';
    if (el->v.element.tag != GUMBO_TAG_UNKNOWN) {
        snprintf(out, cap, "%s", gumbo_normalized_tagname(el->v.element.tag));
        return;
    }
    GumboStringPiece p = el->v.element.original_tag;
    size_t j = 0;
    for (size_t i = 1; i < p.length && j + 1 < cap; i++) {
        char c = p.data[i];
        if (!(isalnum((unsigned char)c) || c == ':' || c == '-' || c == '_'))
            break;
        out[j++] = (char)tolower((unsigned char)c);
    }
    out[j] = '\0';
}

typedef struct entry {
    char *link, *title;
    int64_t date;
} entry;

/* Collapsed text of the first text node after el (RSS <link>URL</link>). */
static char *text_after(const GumboNode *el) {
    const GumboNode *parent = el->parent;
    if (!parent || parent->type != GUMBO_NODE_ELEMENT)
        return NULL;
    const GumboVector *ch = &parent->v.element.children;
    for (unsigned int i = (unsigned int)el->index_within_parent + 1; i < ch->length; i++) {
        const GumboNode *c = ch->data[i];
        if (c->type == GUMBO_NODE_TEXT) {
            const char *t = c->v.text.text;
            while (isspace((unsigned char)*t))
                t++;
            size_t n = strlen(t);
            while (n && isspace((unsigned char)t[n - 1]))
                n--;
            return n ? tg__strndup(t, n) : NULL;
        }
        if (c->type == GUMBO_NODE_ELEMENT)
            break;
    }
    return NULL;
}

static bool on_entry_child(GumboNode *el, void *user) {
    entry *e = user;
    char name[64];
    tag_name(el, name, sizeof name);
    if (!strcmp(name, "link")) {
        const char *href = tg__html_attr(el, "href"), *rel = tg__html_attr(el, "rel");
        if (href && (!rel || !strcasecmp(rel, "alternate"))) { /* Atom */
            if (!e->link)
                e->link = tg__strndup(href, strlen(href));
        } else if (!href && !e->link) { /* RSS */
            e->link = el->v.element.children.length ? tg__html_text_dup(el) : text_after(el);
        }
        return false;
    }
    if (!strcmp(name, "title")) {
        if (!e->title)
            e->title = tg__html_text_dup(el);
        return false;
    }
    if (!strcmp(name, "guid") && !e->link) {
        char *g = tg__html_text_dup(el);
        const char *perma = tg__html_attr(el, "ispermalink");
        if (g && (!perma || strcasecmp(perma, "false")) && !strncasecmp(g, "http", 4))
            e->link = g;
        else
            free(g);
        return false;
    }
    if (!strcmp(name, "pubdate") || !strcmp(name, "published") || !strcmp(name, "updated") ||
        !strcmp(name, "dc:date")) {
        char *d = tg__html_text_dup(el);
        int64_t t = 0;
        if (d && tg__parse_date(d, &t) && (!e->date || !strcmp(name, "published") || !strcmp(name, "pubdate")))
            e->date = t;
        free(d);
        return false;
    }
    return true;
}

typedef struct fctx {
    tg_library *lib;
    const char *feed_url;
    size_t added, existing, skipped, entries;
    char *feed_title;
    tg_status s;
} fctx;

static bool on_feed(GumboNode *el, void *user) {
    fctx *x = user;
    if (x->s)
        return false;
    char name[64];
    tag_name(el, name, sizeof name);
    if (!x->feed_title && !strcmp(name, "title"))
        x->feed_title = tg__html_text_dup(el);
    if (strcmp(name, "item") && strcmp(name, "entry"))
        return true;
    entry e = {0};
    tg__html_walk(el, on_entry_child, &e);
    x->entries++;
    char *abs = e.link ? tg__url_resolve(x->feed_url, e.link) : NULL;
    if (abs) {
        tg_item_new in = {.url = abs, .title = e.title, .saved = e.date};
        bool added = false;
        tg_status s = tg_library_add(x->lib, &in, NULL, &added);
        if (s == TG_ERR_FORMAT)
            x->skipped++;
        else if (s)
            x->s = s;
        else
            added ? x->added++ : x->existing++;
    } else {
        x->skipped++;
    }
    free(abs);
    free(e.link);
    free(e.title);
    return false;
}

tg_status tg_library_feed_read(tg_library *lib, const char *feed_url, const char *xml, size_t len,
                               tg_feed_stats *st) {
    memset(st, 0, sizeof *st);
    GumboOutput *out = tg__html_parse(xml, len);
    if (!out)
        return tg__fail_prefix(TG_ERR_UNSUPPORTED, "%s", feed_url);
    fctx x = {.lib = lib, .feed_url = feed_url};
    tg_status s = tg__lib_begin(lib);
    if (!s) {
        if (!tg__html_walk(out->root, on_feed, &x))
            x.s = tg__fail(TG_ERR_NOMEM, "out of memory");
        s = x.s;
        if (!s && x.entries == 0)
            s = tg__fail(TG_ERR_FORMAT, "%s: no RSS <item> or Atom <entry> in it", feed_url);
        if (!s) {
            sqlite3_stmt *u = tg__lib_prepare(lib, "UPDATE feeds SET checked = ?2, title = coalesce(title, ?3) "
                                                   "WHERE url = ?1");
            if (!u) {
                s = TG_ERR_IO;
            } else {
                char *canon = tg__url_canonical(feed_url, strlen(feed_url));
                sqlite3_bind_text(u, 1, canon ? canon : feed_url, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(u, 2, tg__read_now());
                sqlite3_bind_text(u, 3, x.feed_title, -1, SQLITE_STATIC);
                if (sqlite3_step(u) != SQLITE_DONE)
                    s = tg__lib_sqlfail(lib, "updating a feed");
                sqlite3_finalize(u);
                free(canon);
            }
        }
        s = tg__lib_end(lib, s);
    }
    gumbo_destroy_output(&kGumboDefaultOptions, out);
    free(x.feed_title);
    if (!s) {
        st->entries = x.entries;
        st->added = x.added;
        st->existing = x.existing;
        st->skipped = x.skipped;
    }
    return s;
}

tg_status tg_library_feeds(tg_library *lib, char ***urls, char ***titles, size_t *n) {
    *urls = *titles = NULL;
    *n = 0;
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT url, title FROM feeds ORDER BY id");
    if (!st)
        return TG_ERR_IO;
    size_t cap = 0;
    tg_status s = TG_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **u = tg__realloc(*urls, cap * sizeof *u);
            if (!u) {
                s = TG_ERR_NOMEM;
                break;
            }
            *urls = u;
            char **t = tg__realloc(*titles, cap * sizeof *t);
            if (!t) {
                s = TG_ERR_NOMEM;
                break;
            }
            *titles = t;
        }
        (*urls)[*n] = tg__col_text(st, 0);
        (*titles)[*n] = tg__col_text(st, 1);
        (*n)++;
    }
    if (!s && rc != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "listing feeds");
    sqlite3_finalize(st);
    return s;
}
