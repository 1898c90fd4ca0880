/*
 * import.c — reading other services' exports into the library: Pocket (CSV
 * and the older HTML), Instapaper CSV, Wallabag JSON, Netscape bookmark
 * HTML (browsers, Pinboard), OPML feed lists, plain URL lists and our own
 * JSON export.
 *
 * An import is one transaction: a file either goes in whole or not at all.
 * Entries without a usable http(s) URL are counted as skipped, never an
 * error; a malformed file is an error with a message, never a crash.
 * Idempotence comes from tg_library_add: an URL already there only gains
 * the tags it lacked.
 */
#include "read/html.h"
#include "read/store.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const format_names[] = {
    [TG_IMPORT_AUTO] = "auto",          [TG_IMPORT_POCKET_CSV] = "pocket-csv",
    [TG_IMPORT_POCKET_HTML] = "pocket-html", [TG_IMPORT_INSTAPAPER_CSV] = "instapaper",
    [TG_IMPORT_WALLABAG_JSON] = "wallabag", [TG_IMPORT_NETSCAPE_HTML] = "netscape",
    [TG_IMPORT_OPML] = "opml",          [TG_IMPORT_URLS] = "urls",
    [TG_IMPORT_JSON] = "json",          [TG_IMPORT_CSV] = "csv",
};

int tg_import_format_parse(const char *name) {
    for (size_t i = 0; i < TG_ARRAY_LEN(format_names); i++)
        if (format_names[i] && !strcasecmp(name, format_names[i]))
            return (int)i;
    return -1;
}

const char *tg_import_format_name(tg_import_format f) {
    return (unsigned)f < TG_ARRAY_LEN(format_names) && format_names[f] ? format_names[f] : "?";
}

/* Adds one entry, counting it; a bad URL is a skip, anything else fails. */
static tg_status add_one(tg_library *lib, const tg_item_new *in, tg_import_stats *st) {
    bool added = false;
    tg_status s = tg_library_add(lib, in, NULL, &added);
    if (s == TG_ERR_FORMAT || s == TG_ERR_ARG) {
        st->skipped++;
        return TG_OK;
    }
    if (!s)
        added ? st->added++ : st->existing++;
    return s;
}

/* Splits s at any of seps into at most cap trimmed, non-empty tags pointing
 * into s (which is modified). */
static size_t split_tags(char *s, const char *seps, const char **out, size_t cap) {
    size_t n = 0;
    for (char *tok = strtok(s, seps); tok && n < cap; tok = strtok(NULL, seps)) {
        while (isspace((unsigned char)*tok) || *tok == '"' || *tok == '[')
            tok++;
        char *e = tok + strlen(tok);
        while (e > tok && (isspace((unsigned char)e[-1]) || e[-1] == '"' || e[-1] == ']'))
            *--e = '\0';
        if (*tok)
            out[n++] = tok;
    }
    return n;
}

static int64_t date_or_zero(const char *s) {
    int64_t t = 0;
    return s && tg__parse_date(s, &t) && t > 0 ? t : 0;
}

/* ---- CSV formats ---------------------------------------------------- */

enum { MAX_TAGS = 64 };

/* Column index of a header name (case-insensitive), or -1. */
static int col(const tg__csv *c, const char *name) {
    for (size_t i = 0; i < c->n_fields; i++)
        if (!strcasecmp(c->fields[i], name))
            return (int)i;
    return -1;
}

static const char *field(const tg__csv *c, int i) { return i >= 0 && (size_t)i < c->n_fields ? c->fields[i] : NULL; }

static tg_status import_csv(tg_library *lib, const char *data, size_t len, tg_import_format fmt, tg_import_stats *st) {
    tg__csv c;
    tg__csv_init(&c, data, len);
    int rc = tg__csv_next(&c);
    if (rc <= 0) {
        tg__csv_free(&c);
        return rc < 0 ? tg__fail(TG_ERR_NOMEM, "out of memory") : tg__fail(TG_ERR_FORMAT, "empty CSV file");
    }
    /* columns by header name, so reordered or extra columns still work */
    int c_url = col(&c, "url"), c_title = col(&c, "title"), c_tags = col(&c, "tags");
    int c_saved = -1, c_status = -1, c_folder = -1, c_read = -1, c_arch = -1, c_fav = -1;
    if (fmt == TG_IMPORT_POCKET_CSV) {
        c_saved = col(&c, "time_added");
        c_status = col(&c, "status");
    } else if (fmt == TG_IMPORT_INSTAPAPER_CSV) {
        c_saved = col(&c, "timestamp");
        c_folder = col(&c, "folder");
    } else {
        c_saved = col(&c, "saved");
        c_read = col(&c, "read_at");
        c_arch = col(&c, "archived");
        c_fav = col(&c, "favorite");
    }
    if (c_url < 0) {
        tg__csv_free(&c);
        return tg__fail(TG_ERR_FORMAT, "CSV header has no 'url' column");
    }
    tg_status s = TG_OK;
    while (!s && (rc = tg__csv_next(&c)) > 0) {
        if (c.n_fields == 1 && !*c.fields[0])
            continue; /* blank line */
        const char *tags[MAX_TAGS];
        size_t n_tags = 0;
        char *tagbuf = field(&c, c_tags) ? strdup(field(&c, c_tags)) : NULL;
        if (tagbuf)
            /* Pocket separates tags with '|'; Instapaper writes a JSON-ish list */
            n_tags = split_tags(tagbuf, fmt == TG_IMPORT_INSTAPAPER_CSV ? ",|" : "|", tags, MAX_TAGS);
        tg_item_new in = {.url = field(&c, c_url), .title = field(&c, c_title),
                          .saved = date_or_zero(field(&c, c_saved)), .tags = tags, .n_tags = n_tags};
        const char *status = field(&c, c_status), *folder = field(&c, c_folder);
        if (status)
            in.archived = !strcasecmp(status, "archive") || !strcasecmp(status, "archived");
        if (folder) {
            if (!strcasecmp(folder, "archive"))
                in.archived = true;
            else if (!strcasecmp(folder, "starred"))
                in.favorite = true;
            else if (*folder && strcasecmp(folder, "unread") && n_tags < MAX_TAGS)
                tags[in.n_tags++] = folder; /* a custom folder becomes a tag */
        }
        if (c_arch >= 0)
            in.archived = field(&c, c_arch) && (!strcmp(field(&c, c_arch), "1") || !strcasecmp(field(&c, c_arch), "true"));
        if (c_fav >= 0)
            in.favorite = field(&c, c_fav) && (!strcmp(field(&c, c_fav), "1") || !strcasecmp(field(&c, c_fav), "true"));
        in.read_at = date_or_zero(field(&c, c_read));
        if (in.url && *in.url)
            s = add_one(lib, &in, st);
        else
            st->skipped++;
        free(tagbuf);
    }
    if (rc < 0)
        s = tg__fail(TG_ERR_NOMEM, "out of memory");
    tg__csv_free(&c);
    return s;
}

/* ---- HTML formats (gumbo) ----------------------------------------- */

typedef struct html_ctx {
    tg_library *lib;
    tg_import_stats *st;
    tg_import_format fmt;
    bool archived;  /* Pocket HTML: inside the "Read Archive" list        */
    bool has_toread; /* Netscape: the file marks unread links (Pinboard)   */
    tg_status s;
} html_ctx;

static bool any_toread(GumboNode *el, void *user) {
    if (el->v.element.tag == GUMBO_TAG_A && tg__html_attr(el, "toread"))
        *(bool *)user = true;
    return true;
}

static bool html_enter(GumboNode *el, void *user) {
    html_ctx *x = user;
    if (x->s)
        return false;
    GumboTag tag = el->v.element.tag;
    if (x->fmt == TG_IMPORT_POCKET_HTML && tag == GUMBO_TAG_H1) {
        char *t = tg__html_text_dup(el);
        x->archived = t && strcasestr(t, "archive");
        free(t);
        return false;
    }
    if (x->fmt == TG_IMPORT_OPML) {
        /* gumbo lower-cases attribute names: xmlUrl → xmlurl */
        const char *xml = tg__html_attr(el, "xmlurl");
        if (xml && el->v.element.tag == GUMBO_TAG_UNKNOWN) {
            const char *title = tg__html_attr(el, "title");
            if (!title)
                title = tg__html_attr(el, "text");
            bool added = false;
            tg_status s = tg_library_feed_add(x->lib, xml, title, &added);
            if (s == TG_ERR_FORMAT)
                x->st->skipped++;
            else if (s)
                x->s = s;
            else
                added ? x->st->added++ : x->st->existing++;
        }
        return true;
    }
    if (tag != GUMBO_TAG_A)
        return true;
    const char *href = tg__html_attr(el, "href");
    if (!href)
        return false;
    char *title = tg__html_text_dup(el);
    const char *tags[MAX_TAGS];
    char *tagbuf = NULL;
    size_t n_tags = 0;
    const char *tattr = tg__html_attr(el, "tags");
    if (tattr && (tagbuf = strdup(tattr)))
        n_tags = split_tags(tagbuf, ",", tags, MAX_TAGS);
    const char *added_at = tg__html_attr(el, x->fmt == TG_IMPORT_POCKET_HTML ? "time_added" : "add_date");
    tg_item_new in = {.url = href, .title = title, .saved = date_or_zero(added_at), .tags = tags, .n_tags = n_tags};
    if (x->fmt == TG_IMPORT_POCKET_HTML) {
        in.archived = x->archived;
    } else {
        const char *toread = tg__html_attr(el, "toread");
        in.archived = x->has_toread && !(toread && !strcmp(toread, "1"));
        const char *fav = tg__html_attr(el, "favorite");
        in.favorite = fav && !strcmp(fav, "1");
        in.read_at = date_or_zero(tg__html_attr(el, "read_at"));
    }
    x->s = add_one(x->lib, &in, x->st);
    free(title);
    free(tagbuf);
    return false;
}

static tg_status import_html(tg_library *lib, const char *data, size_t len, tg_import_format fmt, tg_import_stats *st) {
    GumboOutput *out = tg__html_parse(data, len);
    if (!out)
        return TG_ERR_UNSUPPORTED;
    html_ctx x = {.lib = lib, .st = st, .fmt = fmt};
    if (fmt == TG_IMPORT_NETSCAPE_HTML && !tg__html_walk(out->root, any_toread, &x.has_toread))
        x.s = tg__fail(TG_ERR_NOMEM, "out of memory");
    if (!x.s && !tg__html_walk(out->root, html_enter, &x))
        x.s = tg__fail(TG_ERR_NOMEM, "out of memory");
    gumbo_destroy_output(&kGumboDefaultOptions, out);
    return x.s;
}

/* ---- JSON formats (jansson) ------------------------------------------ */

static bool json_truthy(const json_t *v) {
    if (json_is_true(v))
        return true;
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    if (json_is_string(v))
        return !strcmp(json_string_value(v), "1") || !strcasecmp(json_string_value(v), "true");
    return false;
}

static const char *json_str(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t json_date(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? json_integer_value(v) : 0;
    return date_or_zero(json_is_string(v) ? json_string_value(v) : NULL);
}

static tg_status import_json(tg_library *lib, const char *data, size_t len, tg_import_format fmt, tg_import_stats *st) {
    json_error_t err;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return tg__fail(TG_ERR_FORMAT, "JSON line %d: %s", err.line, err.text);
    /* Wallabag: an array of entries; ours: {"items": [...]} */
    json_t *arr = json_is_array(root) ? root : json_object_get(root, "items");
    if (!json_is_array(arr)) {
        json_decref(root);
        return tg__fail(TG_ERR_FORMAT, "JSON export: expected an array of entries (or {\"items\": [...]})");
    }
    tg_status s = TG_OK;
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        if (s)
            break;
        if (!json_is_object(e)) {
            st->skipped++;
            continue;
        }
        const char *tags[MAX_TAGS];
        size_t n_tags = 0, j;
        json_t *t;
        json_array_foreach(json_object_get(e, "tags"), j, t) {
            /* Wallabag writes strings; its API writes {"label": …} objects */
            const char *name = json_is_string(t) ? json_string_value(t) : json_str(t, "label");
            if (name && n_tags < MAX_TAGS)
                tags[n_tags++] = name;
        }
        const char *url = json_str(e, "url");
        if (!url)
            url = json_str(e, "given_url");
        tg_item_new in = {.url = url, .title = json_str(e, "title"), .tags = tags, .n_tags = n_tags};
        if (fmt == TG_IMPORT_WALLABAG_JSON) {
            in.saved = json_date(e, "created_at");
            in.archived = json_truthy(json_object_get(e, "is_archived"));
            in.favorite = json_truthy(json_object_get(e, "is_starred"));
            in.read_at = json_date(e, "archived_at");
        } else {
            in.saved = json_date(e, "saved");
            in.read_at = json_date(e, "read_at");
            in.archived = json_truthy(json_object_get(e, "archived"));
            in.favorite = json_truthy(json_object_get(e, "favorite"));
        }
        if (url)
            s = add_one(lib, &in, st);
        else
            st->skipped++;
    }
    json_decref(root);
    return s;
}

/* ---- plain URL list ---------------------------------------------------- */

static tg_status import_urls(tg_library *lib, const char *data, size_t len, tg_import_stats *st) {
    tg_status s = TG_OK;
    const char *p = data, *end = data + len;
    while (!s && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *a = p, *b = le;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (a < b && *a != '#') {
            char *url = tg__strndup(a, (size_t)(b - a));
            if (!url)
                return TG_ERR_NOMEM;
            tg_item_new in = {.url = url};
            s = add_one(lib, &in, st);
            free(url);
        }
        p = le + 1;
    }
    return s;
}

/* ---- detection and entry point ------------------------------------------ */

static tg_import_format detect(const char *data, size_t len) {
    size_t i = 0;
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < len && isspace((unsigned char)data[i]))
        i++;
    const char *p = data + i;
    size_t n = len - i;
    char head[4096];
    size_t hn = TG_MIN(n, sizeof head - 1);
    memcpy(head, p, hn);
    head[hn] = '\0';
    for (size_t k = 0; k < hn; k++)
        if (!head[k])
            head[k] = ' ';
    if (n && (*p == '[' || *p == '{'))
        return *p == '{' && strstr(head, "\"items\"") ? TG_IMPORT_JSON : TG_IMPORT_WALLABAG_JSON;
    if (strcasestr(head, "<opml"))
        return TG_IMPORT_OPML;
    if (strcasestr(head, "NETSCAPE-Bookmark-file"))
        return TG_IMPORT_NETSCAPE_HTML;
    if (strcasestr(head, "Pocket Export") || strcasestr(head, "time_added=\""))
        return TG_IMPORT_POCKET_HTML;
    if (n && *p == '<')
        return TG_IMPORT_NETSCAPE_HTML; /* some other HTML page of links */
    /* CSV: look at the header line */
    char *nl = strpbrk(head, "\r\n");
    if (nl)
        *nl = '\0';
    if (strcasestr(head, "time_added") && strcasestr(head, "url"))
        return TG_IMPORT_POCKET_CSV;
    if (strcasestr(head, "url,title,selection") || strcasestr(head, "folder,timestamp"))
        return TG_IMPORT_INSTAPAPER_CSV;
    if (!strncasecmp(head, "url,", 4) && strcasestr(head, "saved"))
        return TG_IMPORT_CSV;
    return TG_IMPORT_URLS;
}

tg_status tg_library_import(tg_library *lib, const char *data, size_t len, tg_import_format fmt,
                            tg_import_stats *st) {
    tg_import_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    if (fmt == TG_IMPORT_AUTO)
        fmt = detect(data, len);
    st->format = fmt;
    tg_status s = tg__lib_begin(lib);
    if (s)
        return s;
    switch (fmt) {
    case TG_IMPORT_POCKET_CSV:
    case TG_IMPORT_INSTAPAPER_CSV:
    case TG_IMPORT_CSV: s = import_csv(lib, data, len, fmt, st); break;
    case TG_IMPORT_POCKET_HTML:
    case TG_IMPORT_NETSCAPE_HTML:
    case TG_IMPORT_OPML: s = import_html(lib, data, len, fmt, st); break;
    case TG_IMPORT_WALLABAG_JSON:
    case TG_IMPORT_JSON: s = import_json(lib, data, len, fmt, st); break;
    case TG_IMPORT_URLS: s = import_urls(lib, data, len, st); break;
    default: s = tg__fail(TG_ERR_ARG, "unknown import format %d", (int)fmt); break;
    }
    s = tg__lib_end(lib, s);
    if (s) {
        tg__fail_prefix(s, "import (%s)", tg_import_format_name(fmt));
        size_t keep = (size_t)st->format;
        memset(st, 0, sizeof *st);
        st->format = (tg_import_format)keep;
    }
    return s;
}
