/*
 * export.c — the whole library out, so nothing is locked in: our JSON (every
 * field an import can restore), CSV (one row per item; tags joined by '|',
 * as Pocket does) and Netscape bookmark HTML (what browsers, Pinboard and
 * most read-later services import; TOREAD marks unread links the way
 * Pinboard does, FAVORITE and READ_AT are our own attributes).
 *
 * Every value is escaped for its format; no item field can break out of
 * a string, a CSV cell or an attribute.
 */
#include "read/store.h"

#include <stdlib.h>
#include <string.h>

typedef struct ex {
    tg__buf b;
    tg_export_format fmt;
    size_t n;
} ex;

static void json_field(tg__buf *b, const char *key, const char *v, bool comma) {
    tg__buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
    if (!v) {
        tg__buf_puts(b, "null");
        return;
    }
    tg__buf_append_u8(b, '"');
    tg__json_escape(b, v, strlen(v));
    tg__buf_append_u8(b, '"');
}

static void json_date(tg__buf *b, const char *key, int64_t t) {
    char d[32];
    if (t > 0)
        tg__format_date(t, d, sizeof d);
    json_field(b, key, t > 0 ? d : NULL, true);
}

static bool one(const tg_item *it, void *user) {
    ex *x = user;
    tg__buf *b = &x->b;
    char d[32];
    if (x->fmt == TG_EXPORT_JSON) {
        tg__buf_puts(b, x->n ? ",\n  {" : "\n  {");
        tg__buf_printf(b, "\"id\":%lld", (long long)it->id);
        json_field(b, "url", it->url, true);
        json_field(b, "title", it->title, true);
        json_field(b, "byline", it->byline, true);
        json_field(b, "site", it->site, true);
        json_field(b, "lang", it->lang, true);
        json_field(b, "excerpt", it->excerpt, true);
        json_date(b, "published", it->published);
        json_date(b, "saved", it->saved);
        json_date(b, "read_at", it->read_at);
        tg__buf_printf(b, ",\"archived\":%s,\"favorite\":%s", it->archived ? "true" : "false",
                       it->favorite ? "true" : "false");
        json_field(b, "state", tg_item_state_name(it->state), true);
        tg__buf_puts(b, ",\"tags\":[");
        for (size_t i = 0; i < it->n_tags; i++) {
            tg__buf_puts(b, i ? ",\"" : "\"");
            tg__json_escape(b, it->tags[i], strlen(it->tags[i]));
            tg__buf_append_u8(b, '"');
        }
        tg__buf_puts(b, "]}");
    } else if (x->fmt == TG_EXPORT_CSV) {
        tg__buf tags = {0};
        for (size_t i = 0; i < it->n_tags; i++) {
            if (i)
                tg__buf_append_u8(&tags, '|');
            tg__buf_puts(&tags, it->tags[i]);
        }
        char *t = tg__buf_take(&tags);
        tg__csv_put(b, it->url, false);
        tg__csv_put(b, it->title, false);
        tg__csv_put(b, t ? t : "", false);
        free(t);
        tg__format_date(it->saved, d, sizeof d);
        tg__csv_put(b, d, false);
        if (it->read_at > 0)
            tg__format_date(it->read_at, d, sizeof d);
        tg__csv_put(b, it->read_at > 0 ? d : "", false);
        tg__csv_put(b, it->archived ? "1" : "0", false);
        tg__csv_put(b, it->favorite ? "1" : "0", false);
        tg__csv_put(b, tg_item_state_name(it->state), true);
    } else {
        tg__buf_puts(b, "    <DT><A HREF=\"");
        tg__html_escape(b, it->url, strlen(it->url));
        tg__buf_printf(b, "\" ADD_DATE=\"%lld\"", (long long)it->saved);
        if (it->read_at > 0)
            tg__buf_printf(b, " READ_AT=\"%lld\"", (long long)it->read_at);
        tg__buf_puts(b, it->archived ? "" : " TOREAD=\"1\"");
        tg__buf_puts(b, it->favorite ? " FAVORITE=\"1\"" : "");
        if (it->n_tags) {
            tg__buf_puts(b, " TAGS=\"");
            for (size_t i = 0; i < it->n_tags; i++) {
                if (i)
                    tg__buf_append_u8(b, ',');
                tg__html_escape(b, it->tags[i], strlen(it->tags[i]));
            }
            tg__buf_append_u8(b, '"');
        }
        tg__buf_append_u8(b, '>');
        const char *title = it->title ? it->title : it->url;
        tg__html_escape(b, title, strlen(title));
        tg__buf_puts(b, "</A>\n");
    }
    x->n++;
    return !b->failed;
}

tg_status tg_library_export(tg_library *lib, tg_export_format fmt, char **out, size_t *len) {
    if (fmt != TG_EXPORT_JSON && fmt != TG_EXPORT_CSV && fmt != TG_EXPORT_NETSCAPE)
        return tg__fail(TG_ERR_ARG, "unknown export format %d", (int)fmt);
    ex x = {.fmt = fmt};
    if (fmt == TG_EXPORT_JSON)
        tg__buf_puts(&x.b, "{\"format\":\"tinglado-library\",\"version\":1,\"items\":[");
    else if (fmt == TG_EXPORT_CSV)
        tg__buf_puts(&x.b, "url,title,tags,saved,read_at,archived,favorite,state\r\n");
    else
        tg__buf_puts(&x.b, "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n"
                           "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=UTF-8\">\n"
                           "<TITLE>Bookmarks</TITLE>\n<H1>Bookmarks</H1>\n<DL><p>\n");
    /* A read transaction: the export is one consistent snapshot even while
     * a sync writes (WAL). */
    tg_status s = tg__lib_exec(lib, "BEGIN");
    tg_item_filter f = tg_item_filter_all();
    if (!s)
        s = tg_library_list(lib, &f, one, &x);
    tg__lib_exec(lib, "COMMIT");
    if (fmt == TG_EXPORT_JSON)
        tg__buf_puts(&x.b, x.n ? "\n]}\n" : "]}\n");
    else if (fmt == TG_EXPORT_NETSCAPE)
        tg__buf_puts(&x.b, "</DL><p>\n");
    if (s) {
        tg__buf_free(&x.b);
        return s;
    }
    size_t n = x.b.len;
    char *r = tg__buf_take(&x.b);
    if (!r)
        return tg__fail(TG_ERR_NOMEM, "export: out of memory");
    *out = r;
    if (len)
        *len = n;
    return TG_OK;
}
