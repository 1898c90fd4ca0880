/*
 * digest.c — the reading digest (`tinglado read digest`): the items saved,
 * or enriched, since a moment, grouped by tag, each with its title, link,
 * site, reading time and summary, as Markdown or HTML.
 *
 * An item appears under every tag it has (a digest is read by topic);
 * untagged items come last.  Every stored string is untrusted (it came
 * from a web page or a model): HTML output escapes all of them and links
 * only http(s) URLs; Markdown output escapes the characters that would
 * change its structure.
 */
#include "read/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { WORDS_PER_MINUTE = 230 }; /* as read show */

typedef struct entry {
    int64_t id, saved;
    char *title, *url, *site, *summary;
    int64_t words;
} entry;

typedef struct group {
    char *tag; /* NULL: untagged */
    size_t *items;
    size_t n;
} group;

/* Markdown: backslash-escape what could start markup or break a link. */
static void md_escape(tg__buf *b, const char *s) {
    for (; s && *s; s++) {
        if (strchr("\\`*_[]<>#|", *s))
            tg__buf_append(b, "\\", 1);
        if (*s == '\n' || *s == '\r')
            tg__buf_append(b, " ", 1);
        else
            tg__buf_append(b, s, 1);
    }
}

static bool http_url(const char *u) { return u && (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8)); }

static void put_entry(tg__buf *b, const entry *e, tg_digest_format fmt) {
    const char *title = e->title && *e->title ? e->title : e->url;
    int64_t minutes = (e->words + WORDS_PER_MINUTE - 1) / WORDS_PER_MINUTE;
    char date[32] = "";
    time_t t = (time_t)e->saved;
    struct tm tm;
    if (e->saved > 0 && gmtime_r(&t, &tm))
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
    if (fmt == TG_DIGEST_MD) {
        tg__buf_puts(b, "- [");
        md_escape(b, title);
        tg__buf_puts(b, "](<");
        for (const char *p = e->url; *p; p++) /* <…> holds any URL but these */
            if (*p != '<' && *p != '>' && *p != '\n')
                tg__buf_append(b, p, 1);
        tg__buf_puts(b, ">)");
        if (e->site) {
            tg__buf_puts(b, " — ");
            md_escape(b, e->site);
        }
        if (e->words > 0) /* not extracted yet: no reading time to give */
            tg__buf_printf(b, " · %lld min", (long long)minutes);
        tg__buf_printf(b, " · saved %s\n", date);
        if (e->summary) {
            tg__buf_puts(b, "  ");
            md_escape(b, e->summary);
            tg__buf_puts(b, "\n");
        }
    } else {
        tg__buf_puts(b, "<li><a href=\"");
        tg__html_escape(b, http_url(e->url) ? e->url : "#", strlen(http_url(e->url) ? e->url : "#"));
        tg__buf_puts(b, "\" rel=\"noopener noreferrer\">");
        tg__html_escape(b, title, strlen(title));
        tg__buf_puts(b, "</a>");
        if (e->site) {
            tg__buf_puts(b, " <span class=\"site\">");
            tg__html_escape(b, e->site, strlen(e->site));
            tg__buf_puts(b, "</span>");
        }
        tg__buf_puts(b, " <span class=\"meta\">");
        if (e->words > 0)
            tg__buf_printf(b, "%lld min · ", (long long)minutes);
        tg__buf_printf(b, "saved %s</span>", date);
        if (e->summary) {
            tg__buf_puts(b, "<p>");
            tg__html_escape(b, e->summary, strlen(e->summary));
            tg__buf_puts(b, "</p>");
        }
        tg__buf_puts(b, "</li>\n");
    }
}

static tg_status load(tg_library *lib, int64_t since, entry **es, size_t *ne, group **gs, size_t *ng) {
    sqlite3_stmt *st = tg__lib_prepare(
        lib, "SELECT i.id, i.saved, i.title, i.url, i.site, c.summary, coalesce(c.words, 0) FROM items i "
             "LEFT JOIN contents c ON c.item = i.id WHERE i.saved >= ?1 OR (i.state = 3 AND i.updated >= ?1) "
             "ORDER BY i.saved DESC, i.id DESC");
    sqlite3_stmt *tg = tg__lib_prepare(lib, "SELECT t.name FROM tags t JOIN item_tags x ON x.tag = t.id "
                                            "WHERE x.item = ?1 ORDER BY t.name");
    tg_status s = st && tg ? TG_OK : TG_ERR_IO;
    size_t cap = 0, gcap = 0;
    int rc = SQLITE_DONE;
    if (!s)
        sqlite3_bind_int64(st, 1, since);
    while (!s && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*ne == cap) {
            cap = cap ? cap * 2 : 64;
            entry *v = tg__realloc(*es, cap * sizeof *v);
            if (!v) {
                s = TG_ERR_NOMEM;
                break;
            }
            *es = v;
        }
        entry *e = &(*es)[(*ne)++];
        *e = (entry){.id = sqlite3_column_int64(st, 0), .saved = sqlite3_column_int64(st, 1),
                     .title = tg__col_text(st, 2), .url = tg__col_text(st, 3), .site = tg__col_text(st, 4),
                     .summary = tg__col_text(st, 5), .words = sqlite3_column_int64(st, 6)};
        if (!e->url)
            e->url = tg__strndup("", 0);
        sqlite3_reset(tg);
        sqlite3_bind_int64(tg, 1, e->id);
        bool tagged = false;
        for (;;) {
            bool untagged_group = false;
            char *name = NULL;
            if (sqlite3_step(tg) == SQLITE_ROW) {
                name = tg__col_text(tg, 0);
                tagged = true;
            } else if (!tagged) {
                untagged_group = true;
            } else {
                break;
            }
            size_t g = 0;
            while (g < *ng && !(untagged_group ? !(*gs)[g].tag : (*gs)[g].tag && name && !strcmp((*gs)[g].tag, name)))
                g++;
            if (g == *ng) {
                if (*ng == gcap) {
                    gcap = gcap ? gcap * 2 : 16;
                    group *v = tg__realloc(*gs, gcap * sizeof *v);
                    if (!v) {
                        free(name);
                        s = TG_ERR_NOMEM;
                        break;
                    }
                    *gs = v;
                }
                (*gs)[(*ng)++] = (group){.tag = name};
                name = NULL;
            }
            free(name);
            group *gr = &(*gs)[g];
            size_t *v = tg__realloc(gr->items, (gr->n + 1) * sizeof *v);
            if (!v) {
                s = TG_ERR_NOMEM;
                break;
            }
            gr->items = v;
            gr->items[gr->n++] = *ne - 1;
            if (untagged_group)
                break;
        }
    }
    if (!s && rc != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "reading the digest");
    sqlite3_finalize(st);
    sqlite3_finalize(tg);
    return s;
}

static int by_tag(const void *a, const void *b) {
    const group *x = a, *y = b;
    if (!x->tag || !y->tag)
        return !x->tag - !y->tag; /* untagged last */
    return strcmp(x->tag, y->tag);
}

tg_status tg_library_digest(tg_library *lib, int64_t since, tg_digest_format fmt, char **out) {
    *out = NULL;
    if (fmt != TG_DIGEST_MD && fmt != TG_DIGEST_HTML)
        return tg__fail(TG_ERR_ARG, "digest: unknown format");
    entry *es = NULL;
    group *gs = NULL;
    size_t ne = 0, ng = 0;
    tg_status s = load(lib, since, &es, &ne, &gs, &ng);
    if (!s) {
        if (ng)
            qsort(gs, ng, sizeof *gs, by_tag);
        tg__buf b = {0};
        char date[32] = "";
        time_t t = (time_t)since;
        struct tm tm;
        if (since > 0 && gmtime_r(&t, &tm))
            strftime(date, sizeof date, "%Y-%m-%d", &tm);
        if (fmt == TG_DIGEST_MD) {
            tg__buf_printf(&b, "# Reading digest%s%s\n\n%zu item%s", *date ? " since " : "", date, ne,
                           ne == 1 ? "" : "s");
            tg__buf_puts(&b, " saved or enriched.\n");
        } else {
            tg__buf_printf(&b,
                           "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Reading digest</title>"
                           "</head>\n<body>\n<h1>Reading digest%s%s</h1>\n<p>%zu item%s saved or enriched.</p>\n",
                           *date ? " since " : "", date, ne, ne == 1 ? "" : "s");
        }
        for (size_t g = 0; g < ng; g++) {
            const char *tag = gs[g].tag ? gs[g].tag : "untagged";
            if (fmt == TG_DIGEST_MD) {
                tg__buf_puts(&b, "\n## ");
                md_escape(&b, tag);
                tg__buf_printf(&b, " (%zu)\n\n", gs[g].n);
            } else {
                tg__buf_puts(&b, "<h2>");
                tg__html_escape(&b, tag, strlen(tag));
                tg__buf_printf(&b, " (%zu)</h2>\n<ul>\n", gs[g].n);
            }
            for (size_t i = 0; i < gs[g].n; i++)
                put_entry(&b, &es[gs[g].items[i]], fmt);
            if (fmt == TG_DIGEST_HTML)
                tg__buf_puts(&b, "</ul>\n");
        }
        if (fmt == TG_DIGEST_HTML)
            tg__buf_puts(&b, "</body></html>\n");
        *out = tg__buf_take(&b);
        if (!*out)
            s = tg__fail(TG_ERR_NOMEM, "digest: out of memory");
    }
    for (size_t i = 0; i < ne; i++) {
        free(es[i].title);
        free(es[i].url);
        free(es[i].site);
        free(es[i].summary);
    }
    free(es);
    for (size_t g = 0; g < ng; g++) {
        free(gs[g].tag);
        free(gs[g].items);
    }
    free(gs);
    return s;
}
