/*
 * extract_clean.c — what happens to the chosen article nodes: removing
 * what is not content (embeds, forms, share bars, link lists, empty
 * paragraphs; the conditional cleaning weighs images, list items, inputs
 * and link density of each container), then writing plain text and
 * sanitised HTML.
 *
 * The HTML writer is an allowlist: only the tags and attributes named here
 * come out, every URL is resolved and must be http(s) (or mailto: for
 * links), every text and attribute value is escaped.  Nothing from the page
 * can run script in a reader's browser.
 */
#include "read/extract.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- cleaning ----------------------------------------------------------- */

/* Every element with tag t under root, in document order (malloc'd). */
static xn **collect(xn *root, GumboTag t, size_t *n) {
    size_t cap = 0, k = 0;
    xn **v = NULL;
    for (xn *c = root->first ? root->first : NULL; c; c = tg__xnext(c, root, false)) {
        if (c->is_text || c->tag != t)
            continue;
        if (k == cap) {
            cap = cap ? cap * 2 : 32;
            xn **v2 = realloc(v, cap * sizeof *v2);
            if (!v2)
                break;
            v = v2;
        }
        v[k++] = c;
    }
    *n = k;
    return v;
}

static size_t count_tag(const xn *root, GumboTag t) {
    size_t n = 0;
    for (const xn *c = root->first ? root->first : NULL; c; c = tg__xnext(c, root, false))
        n += tg__xis(c, t);
    return n;
}

static void remove_all(xn *root, GumboTag t) {
    size_t n = 0;
    xn **v = collect(root, t, &n);
    for (size_t i = n; i-- > 0;)
        tg__xremove(v[i]);
    free(v);
}

/* A table that holds data (keep) rather than laying the page out. */
static bool is_data_table(const xn *t) {
    const char *role = tg__xattr(t, "role");
    if (role && !strcasecmp(role, "presentation"))
        return false;
    const char *dt = tg__xattr(t, "datatable");
    if (dt && !strcmp(dt, "0"))
        return false;
    if (tg__xattr(t, "summary"))
        return true;
    size_t rows = 0, cols = 0;
    for (const xn *c = t->first; c; c = tg__xnext(c, t, false)) {
        if (c->is_text)
            continue;
        switch (c->tag) {
        case GUMBO_TAG_CAPTION:
            if (tg__xtext_len(c) > 0)
                return true;
            break;
        case GUMBO_TAG_TH: case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT: case GUMBO_TAG_COLGROUP:
        case GUMBO_TAG_COL:
            return true;
        case GUMBO_TAG_TABLE:
            return false; /* nested tables lay out */
        case GUMBO_TAG_TR: {
            rows++;
            size_t k = 0;
            for (const xn *d = c->first; d; d = d->next)
                k += tg__xis(d, GUMBO_TAG_TD);
            cols = TG_MAX(cols, k);
            break;
        }
        default: break;
        }
    }
    return rows >= 10 || cols > 4 || rows * cols > 10;
}

static bool inside_data_table(const xn *n) {
    for (const xn *p = n->parent; p; p = p->parent)
        if (tg__xis(p, GUMBO_TAG_TABLE) && is_data_table(p))
            return true;
    return false;
}

static size_t count_commas_text(const xn *n) {
    char *t = tg__xtext_dup(n);
    size_t k = 0;
    for (const char *p = t; p && *p; p++)
        k += *p == ',';
    free(t);
    return k;
}

/* Removes a container that looks like navigation, a gallery of thumbnails,
 * a form or an ad block rather than prose. */
static bool should_remove(const xn *n, const xflags *f) {
    if (n->tag == GUMBO_TAG_TABLE && is_data_table(n))
        return false;
    if (inside_data_table(n) || tg__xhas_ancestor(n, GUMBO_TAG_CODE, 0))
        return false;
    int weight = f->weight_classes ? tg__xclass_weight(n) : 0;
    if (weight < 0)
        return true;
    if (count_commas_text(n) >= 10)
        return false;
    size_t content_len = tg__xtext_len(n);
    double p = (double)count_tag(n, GUMBO_TAG_P), img = (double)count_tag(n, GUMBO_TAG_IMG);
    double li = (double)count_tag(n, GUMBO_TAG_LI) - 100, input = (double)count_tag(n, GUMBO_TAG_INPUT);
    size_t heading_len = 0;
    for (const xn *c = n; c;) {
        if (c != n && !c->is_text && c->tag >= GUMBO_TAG_H1 && c->tag <= GUMBO_TAG_H6) {
            heading_len += tg__xtext_len(c);
            c = tg__xnext(c, n, true);
        } else {
            c = tg__xnext(c, n, false);
        }
    }
    double heading_density = content_len ? (double)heading_len / (double)content_len : 0;
    size_t embeds = count_tag(n, GUMBO_TAG_OBJECT) + count_tag(n, GUMBO_TAG_EMBED) + count_tag(n, GUMBO_TAG_IFRAME);
    double link_density = tg__xlink_density(n);
    bool is_list = n->tag == GUMBO_TAG_UL || n->tag == GUMBO_TAG_OL;
    if (!is_list) {
        size_t list_len = 0;
        for (const xn *c = n->first; c; c = c->next)
            if (tg__xis(c, GUMBO_TAG_UL) || tg__xis(c, GUMBO_TAG_OL))
                list_len += tg__xtext_len(c);
        is_list = content_len && (double)list_len / (double)content_len > 0.9;
    }
    bool in_figure = tg__xhas_ancestor(n, GUMBO_TAG_FIGURE, 0);
    bool remove = (img > 1 && p / img < 0.5 && !in_figure) || (!is_list && li > p) || (input > (double)(long)(p / 3)) ||
                  (!is_list && heading_density < 0.9 && content_len < 25 && (img == 0 || img > 2) && !in_figure) ||
                  (!is_list && weight < 25 && link_density > 0.2) || (weight >= 25 && link_density > 0.5) ||
                  ((embeds == 1 && content_len < 75) || embeds > 1);
    if (is_list && remove) {
        /* a list of images (a gallery) stays */
        bool all_img = true;
        for (const xn *c = n->first; c; c = c->next) {
            if (c->is_text)
                continue;
            size_t elems = 0;
            for (const xn *d = c->first; d; d = d->next)
                elems += !d->is_text;
            if (elems > 1) {
                all_img = false;
                break;
            }
        }
        if (all_img && img == (double)count_tag(n, GUMBO_TAG_LI))
            return false;
    }
    return remove;
}

static void clean_conditionally(xn *art, GumboTag t, const xflags *f) {
    if (!f->clean_conditionally)
        return;
    size_t n = 0;
    xn **v = collect(art, t, &n);
    for (size_t i = n; i-- > 0;) {
        /* skip nodes already detached with an ancestor */
        const xn *p = v[i];
        while (p && p != art)
            p = p->parent;
        if (p == art && should_remove(v[i], f))
            tg__xremove(v[i]);
    }
    free(v);
}

void tg__xclean(xdom *d, xn *art, const xflags *f, const char *title) {
    (void)d;
    (void)title;
    static const GumboTag junk[] = {GUMBO_TAG_OBJECT, GUMBO_TAG_EMBED, GUMBO_TAG_FOOTER, GUMBO_TAG_ASIDE,
                                    GUMBO_TAG_IFRAME, GUMBO_TAG_INPUT, GUMBO_TAG_TEXTAREA, GUMBO_TAG_SELECT,
                                    GUMBO_TAG_BUTTON, GUMBO_TAG_SVG, GUMBO_TAG_CANVAS, GUMBO_TAG_APPLET};
    for (size_t i = 0; i < TG_ARRAY_LEN(junk); i++)
        remove_all(art, junk[i]);
    /* share bars */
    static const char *const share[] = {"share", "sharedaddy", NULL};
    for (xn *c = art->first; c;) {
        xn *nx = tg__xnext(c, art, false);
        if (!c->is_text) {
            const char *cls = tg__xattr(c, "class"), *id = tg__xattr(c, "id");
            if ((tg__xmatch_any(cls, share) || tg__xmatch_any(id, share)) && tg__xtext_len(c) < 500) {
                nx = tg__xnext(c, art, true);
                tg__xremove(c);
            }
        }
        c = nx;
    }
    static const GumboTag cond[] = {GUMBO_TAG_FORM, GUMBO_TAG_FIELDSET, GUMBO_TAG_TABLE, GUMBO_TAG_UL,
                                    GUMBO_TAG_DIV};
    for (size_t i = 0; i < TG_ARRAY_LEN(cond); i++)
        clean_conditionally(art, cond[i], f);
    /* headers that read as page furniture */
    if (f->weight_classes) {
        for (GumboTag t = GUMBO_TAG_H1; t <= GUMBO_TAG_H2; t++) {
            size_t n = 0;
            xn **v = collect(art, t, &n);
            for (size_t i = 0; i < n; i++)
                if (tg__xclass_weight(v[i]) < 0)
                    tg__xremove(v[i]);
            free(v);
        }
    }
    /* empty paragraphs */
    size_t n = 0;
    xn **v = collect(art, GUMBO_TAG_P, &n);
    for (size_t i = n; i-- > 0;)
        if (tg__xtext_len(v[i]) == 0 && !count_tag(v[i], GUMBO_TAG_IMG) && !count_tag(v[i], GUMBO_TAG_EMBED) &&
            !count_tag(v[i], GUMBO_TAG_OBJECT) && !count_tag(v[i], GUMBO_TAG_IFRAME))
            tg__xremove(v[i]);
    free(v);
}

/* ---- output ------------------------------------------------------------- */

static bool is_block(GumboTag t) {
    switch (t) {
    case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_H1:
    case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6:
    case GUMBO_TAG_LI: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_PRE: case GUMBO_TAG_TABLE: case GUMBO_TAG_TR:
    case GUMBO_TAG_UL: case GUMBO_TAG_OL: case GUMBO_TAG_DL: case GUMBO_TAG_DT: case GUMBO_TAG_DD:
    case GUMBO_TAG_FIGURE: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_HEADER: case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_HR: case GUMBO_TAG_ADDRESS: case GUMBO_TAG_MAIN: case GUMBO_TAG_NAV: case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_DETAILS: case GUMBO_TAG_SUMMARY: case GUMBO_TAG_ASIDE: case GUMBO_TAG_CENTER:
        return true;
    default: return false;
    }
}

/* Tags written as themselves; others are unwrapped (children only). */
static const char *allowed_tag(GumboTag t) {
    switch (t) {
    case GUMBO_TAG_H1: return "h2"; /* the title is the page's only h1 */
    case GUMBO_TAG_P: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5:
    case GUMBO_TAG_H6: case GUMBO_TAG_UL: case GUMBO_TAG_OL: case GUMBO_TAG_LI: case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_PRE: case GUMBO_TAG_CODE: case GUMBO_TAG_EM: case GUMBO_TAG_STRONG: case GUMBO_TAG_B:
    case GUMBO_TAG_I: case GUMBO_TAG_U: case GUMBO_TAG_S: case GUMBO_TAG_A: case GUMBO_TAG_IMG:
    case GUMBO_TAG_FIGURE: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_TABLE: case GUMBO_TAG_THEAD:
    case GUMBO_TAG_TBODY: case GUMBO_TAG_TFOOT: case GUMBO_TAG_TR: case GUMBO_TAG_TD: case GUMBO_TAG_TH:
    case GUMBO_TAG_CAPTION: case GUMBO_TAG_BR: case GUMBO_TAG_HR: case GUMBO_TAG_SUP: case GUMBO_TAG_SUB:
    case GUMBO_TAG_DL: case GUMBO_TAG_DT: case GUMBO_TAG_DD: case GUMBO_TAG_Q: case GUMBO_TAG_CITE:
    case GUMBO_TAG_ABBR: case GUMBO_TAG_MARK: case GUMBO_TAG_SMALL: case GUMBO_TAG_DEL: case GUMBO_TAG_INS:
    case GUMBO_TAG_KBD: case GUMBO_TAG_SAMP: case GUMBO_TAG_VAR: case GUMBO_TAG_DIV: case GUMBO_TAG_SECTION:
    case GUMBO_TAG_ARTICLE: case GUMBO_TAG_SPAN: case GUMBO_TAG_TIME:
        return gumbo_normalized_tagname(t);
    default: return NULL;
    }
}

static bool is_void(GumboTag t) { return t == GUMBO_TAG_IMG || t == GUMBO_TAG_BR || t == GUMBO_TAG_HR; }

/* A URL safe to write: resolved against base; http(s) (and mailto: when
 * mail is true) or a plain relative/fragment reference.  NULL otherwise. */
static char *safe_url(const char *u, const char *base, bool mail) {
    if (!u)
        return NULL;
    /* browsers ignore leading spaces/controls and tabs/newlines inside the
     * scheme ("java\tscript:"): strip them before looking at it */
    char clean[8192];
    size_t j = 0;
    const unsigned char *p = (const unsigned char *)u;
    for (; *p && j + 1 < sizeof clean; p++)
        if (*p > 0x20)
            clean[j++] = (char)*p;
    clean[j] = '\0';
    if (!j || *p)
        return NULL; /* empty, or too long to keep whole (a cut URL is a wrong one, and
                        could end inside a character: found by fuzz_extract) */
    if (clean[0] == '#')
        return tg__strndup(clean, j); /* in-page anchor: stays in the reader view */
    const char *colon = strchr(clean, ':');
    const char *stop = strpbrk(clean, "/?#");
    bool has_scheme = colon && (!stop || colon < stop);
    if (has_scheme) {
        size_t sl = (size_t)(colon - clean);
        bool ok = (sl == 4 && !strncasecmp(clean, "http", 4)) || (sl == 5 && !strncasecmp(clean, "https", 5)) ||
                  (mail && sl == 6 && !strncasecmp(clean, "mailto", 6));
        return ok ? tg__strndup(clean, j) : NULL;
    }
    char *r = base ? tg__url_resolve(base, clean) : NULL;
    if (r) {
        /* the base itself could be anything: check the result too */
        if (strncasecmp(r, "http://", 7) && strncasecmp(r, "https://", 8)) {
            free(r);
            return NULL;
        }
        return r;
    }
    return tg__strndup(clean, j); /* relative, scheme-less: harmless */
}

static void put_attr(tg__buf *b, const char *name, const char *v) {
    tg__buf_printf(b, " %s=\"", name);
    tg__html_escape(b, v, strlen(v));
    tg__buf_append_u8(b, '"');
}

static bool all_digits(const char *s) {
    if (!s || !*s || strlen(s) > 4)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static void open_tag(tg__buf *h, const xn *n, const char *name, const char *base) {
    tg__buf_printf(h, "<%s", name);
    if (n->tag == GUMBO_TAG_A) {
        char *u = safe_url(tg__xattr(n, "href"), base, true);
        if (u)
            put_attr(h, "href", u);
        free(u);
        const char *t = tg__xattr(n, "title");
        if (t)
            put_attr(h, "title", t);
    } else if (n->tag == GUMBO_TAG_IMG) {
        const char *src = tg__xattr(n, "src");
        /* lazy loaders keep the real image elsewhere */
        static const char *const lazy[] = {"data-src", "data-original", "data-lazy-src", "data-url"};
        for (size_t i = 0; i < TG_ARRAY_LEN(lazy) && (!src || !*src || !strncasecmp(src, "data:", 5)); i++)
            if (tg__xattr(n, lazy[i]))
                src = tg__xattr(n, lazy[i]);
        char *u = safe_url(src, base, false);
        if (u)
            put_attr(h, "src", u);
        free(u);
        const char *alt = tg__xattr(n, "alt"), *t = tg__xattr(n, "title");
        if (alt)
            put_attr(h, "alt", alt);
        if (t)
            put_attr(h, "title", t);
    } else if (n->tag == GUMBO_TAG_TD || n->tag == GUMBO_TAG_TH) {
        const char *cs = tg__xattr(n, "colspan"), *rs = tg__xattr(n, "rowspan");
        if (all_digits(cs))
            put_attr(h, "colspan", cs);
        if (all_digits(rs))
            put_attr(h, "rowspan", rs);
    } else if (n->tag == GUMBO_TAG_OL) {
        const char *st = tg__xattr(n, "start");
        if (all_digits(st))
            put_attr(h, "start", st);
    }
    tg__buf_append_u8(h, '>');
}

typedef struct out {
    tg__buf t, h;
    const char *base;
    int pre;    /* inside <pre>: whitespace kept */
} out;

static void text_break(tg__buf *t, const char *brk) {
    while (t->len && t->data[t->len - 1] == ' ')
        t->len--;
    if (!t->len)
        return;
    size_t want = strlen(brk), have = 0;
    while (have < t->len && have < 2 && t->data[t->len - 1 - have] == '\n')
        have++;
    if (have < want)
        tg__buf_append(t, "\n\n", want - have);
}

static void enter(out *o, const xn *n) {
    if (n->is_text) {
        const char *s = n->text;
        tg__html_escape(&o->h, s, strlen(s));
        if (o->pre) {
            tg__buf_puts(&o->t, s);
            return;
        }
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
            if (isspace(*p)) {
                if (o->t.len && o->t.data[o->t.len - 1] != ' ' && o->t.data[o->t.len - 1] != '\n')
                    tg__buf_append_u8(&o->t, ' ');
            } else {
                tg__buf_append_u8(&o->t, *p);
            }
        }
        return;
    }
    if (n->tag == GUMBO_TAG_BR)
        text_break(&o->t, "\n");
    else if (is_block(n->tag))
        text_break(&o->t, "\n\n");
    else if ((n->tag == GUMBO_TAG_TD || n->tag == GUMBO_TAG_TH) && o->t.len && o->t.data[o->t.len - 1] != ' ' &&
             o->t.data[o->t.len - 1] != '\n')
        tg__buf_append_u8(&o->t, ' ');
    if (n->tag == GUMBO_TAG_PRE)
        o->pre++;
    const char *name = allowed_tag(n->tag);
    if (name)
        open_tag(&o->h, n, name, o->base);
}

static void leave(out *o, const xn *n) {
    if (n->is_text)
        return;
    if (is_block(n->tag))
        text_break(&o->t, "\n\n");
    if (n->tag == GUMBO_TAG_PRE && o->pre)
        o->pre--;
    const char *name = allowed_tag(n->tag);
    if (name && !is_void(n->tag))
        tg__buf_printf(&o->h, "</%s>", name);
}

tg_status tg__xoutput(const xn *article, const char *base_url, char **text, char **html) {
    out o = {.base = base_url};
    const xn *c = article->first;
    while (c) {
        enter(&o, c);
        if (c->first) {
            c = c->first;
            continue;
        }
        leave(&o, c);
        while (c && !c->next) {
            c = c->parent;
            if (!c || c == article) {
                c = NULL;
                break;
            }
            leave(&o, c);
        }
        if (c)
            c = c->next;
    }
    while (o.t.len && (o.t.data[o.t.len - 1] == '\n' || o.t.data[o.t.len - 1] == ' '))
        o.t.len--;
    *text = tg__buf_take(&o.t);
    *html = tg__buf_take(&o.h);
    if (!*text || !*html) {
        free(*text);
        free(*html);
        *text = *html = NULL;
        return tg__fail(TG_ERR_NOMEM, "extract: out of memory");
    }
    /* text never starts with a blank */
    size_t skip = 0;
    while ((*text)[skip] == ' ' || (*text)[skip] == '\n')
        skip++;
    if (skip)
        memmove(*text, *text + skip, strlen(*text + skip) + 1);
    return TG_OK;
}
