/*
 * extract_meta.c — an article's metadata from the page head: JSON-LD
 * (schema.org Article types), Dublin Core, Open Graph, Twitter and Parse.ly
 * meta tags, <html lang>, and the <title> with the site name trimmed off.
 *
 * Precedence follows what readers expect (the page's structured data, then
 * the most specific meta tags, then the title element).  Malformed JSON-LD
 * or meta tags are skipped, never an error.
 */
#include "read/extract.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Collapses whitespace and trims, in a malloc'd copy; NULL if empty. */
static char *clean_dup(const char *s) {
    if (!s)
        return NULL;
    tg__buf b = {0};
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isspace(*p)) {
            if (b.len && b.data[b.len - 1] != ' ')
                tg__buf_append_u8(&b, ' ');
        } else {
            tg__buf_append_u8(&b, *p);
        }
    }
    while (b.len && b.data[b.len - 1] == ' ')
        b.len--;
    if (!b.len) {
        tg__buf_free(&b);
        return NULL;
    }
    return tg__buf_take(&b);
}

/* Sets *dst to a cleaned copy of v unless it is already set. */
static void set_once(char **dst, const char *v) {
    if (*dst || !v)
        return;
    *dst = clean_dup(v);
}

/* meta values keyed by a normalised name ("og:title", "author" …) */
typedef struct kv {
    char key[64];
    char *val;
} kv;
typedef struct metas {
    kv *v;
    size_t n, cap;
} metas;

static const char *mget(const metas *m, const char *key) {
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->v[i].key, key))
            return m->v[i].val;
    return NULL;
}

static void mput(metas *m, const char *key, size_t klen, const char *val) {
    char k[64];
    size_t j = 0;
    for (size_t i = 0; i < klen && j + 1 < sizeof k; i++) {
        unsigned char c = (unsigned char)key[i];
        if (isspace(c))
            continue;
        k[j++] = c == '.' ? ':' : (char)tolower(c);
    }
    k[j] = '\0';
    if (!j)
        return;
    char *cv = clean_dup(val);
    if (!cv)
        return;
    /* a later tag for the same name wins (pages put the preferred,
     * property-style tags after the name-style ones) */
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->v[i].key, k)) {
            free(m->v[i].val);
            m->v[i].val = cv;
            return;
        }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 32;
        kv *v = realloc(m->v, cap * sizeof *v);
        if (!v) {
            free(cv);
            return;
        }
        m->v = v;
        m->cap = cap;
    }
    memcpy(m->v[m->n].key, k, j + 1);
    m->v[m->n++].val = cv;
}

/* Names we care about: [prefix sep] name, prefix in dc/dcterm/og/twitter/
 * parsely/weibo:article/weibo:webpage/article, name in a fixed list. */
static bool wanted_name(const char *k, size_t n) {
    static const char *const names[] = {"author", "creator", "pub-date", "description", "title", "site_name",
                                        "published_time", NULL};
    static const char *const prefixes[] = {"dc", "dcterm", "og", "twitter", "parsely", "weibo:article",
                                           "weibo:webpage", "article", NULL};
    for (int i = 0; names[i]; i++) {
        size_t nl = strlen(names[i]);
        if (n == nl && !strncasecmp(k, names[i], n))
            return true;
        if (n > nl + 1 && !strncasecmp(k + n - nl, names[i], nl)) {
            char sep = k[n - nl - 1];
            if (sep != ':' && sep != '.' && sep != '-')
                continue;
            for (int j = 0; prefixes[j]; j++)
                if (strlen(prefixes[j]) == n - nl - 1 && !strncasecmp(k, prefixes[j], n - nl - 1))
                    return true;
        }
    }
    return false;
}

static bool on_meta(GumboNode *el, void *user) {
    metas *m = user;
    if (el->v.element.tag != GUMBO_TAG_META)
        return true;
    const char *content = tg__html_attr(el, "content");
    if (!content)
        return false;
    const char *prop = tg__html_attr(el, "property");
    if (prop) {
        /* property may list several names separated by spaces */
        const char *p = prop;
        while (*p) {
            while (isspace((unsigned char)*p))
                p++;
            const char *s = p;
            while (*p && !isspace((unsigned char)*p))
                p++;
            if (p > s && wanted_name(s, (size_t)(p - s)))
                mput(m, s, (size_t)(p - s), content);
        }
    }
    const char *name = tg__html_attr(el, "name");
    if (name) {
        size_t n = strlen(name);
        while (n && isspace((unsigned char)name[n - 1]))
            n--;
        while (n && isspace((unsigned char)*name))
            name++, n--;
        if (wanted_name(name, n))
            mput(m, name, n, content);
    }
    return false;
}

/* ---- JSON-LD ------------------------------------------------------------ */

static bool article_type(const json_t *t) {
    static const char *const types[] = {
        "Article", "AdvertiserContentArticle", "NewsArticle", "AnalysisNewsArticle", "AskPublicNewsArticle",
        "BackgroundNewsArticle", "OpinionNewsArticle", "ReportageNewsArticle", "ReviewNewsArticle", "Report",
        "SatiricalArticle", "ScholarlyArticle", "MedicalScholarlyArticle", "SocialMediaPosting", "BlogPosting",
        "LiveBlogPosting", "DiscussionForumPosting", "TechArticle", "APIReference", NULL};
    if (json_is_array(t)) {
        size_t i;
        json_t *x;
        json_array_foreach(t, i, x) if (article_type(x)) return true;
        return false;
    }
    if (!json_is_string(t))
        return false;
    for (int i = 0; types[i]; i++)
        if (!strcmp(json_string_value(t), types[i]))
            return true;
    return false;
}

static const char *jstr(const json_t *o, const char *k) {
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

typedef struct ld {
    char *title, *byline, *excerpt, *site_name, *published;
    const char *doc_title;
    bool done;
} ld;

static void ld_take(ld *x, const json_t *o) {
    const char *name = jstr(o, "name"), *headline = jstr(o, "headline");
    if (name && headline && strcmp(name, headline) && x->doc_title) {
        /* both: the one that reads like the page title */
        double sn = tg__xsimilarity(name, x->doc_title), sh = tg__xsimilarity(headline, x->doc_title);
        set_once(&x->title, sh > 0.75 && sh > sn ? headline : name);
    } else {
        set_once(&x->title, name ? name : headline);
    }
    const json_t *author = json_object_get(o, "author");
    if (json_is_object(author)) {
        set_once(&x->byline, jstr(author, "name"));
    } else if (json_is_array(author)) {
        tg__buf b = {0};
        size_t i;
        json_t *a;
        json_array_foreach(author, i, a) {
            const char *n = json_is_object(a) ? jstr(a, "name") : NULL;
            if (!n)
                continue;
            if (b.len)
                tg__buf_puts(&b, ", ");
            tg__buf_puts(&b, n);
        }
        if (b.len) {
            char *s = tg__buf_take(&b);
            set_once(&x->byline, s);
            free(s);
        } else {
            tg__buf_free(&b);
        }
    }
    set_once(&x->excerpt, jstr(o, "description"));
    const json_t *pub = json_object_get(o, "publisher");
    if (json_is_object(pub))
        set_once(&x->site_name, jstr(pub, "name"));
    set_once(&x->published, jstr(o, "datePublished"));
    x->done = true;
}

static void ld_scan(ld *x, const json_t *v, int depth) {
    if (x->done || depth > 8)
        return;
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) ld_scan(x, e, depth + 1);
        return;
    }
    if (!json_is_object(v))
        return;
    const char *ctx = jstr(v, "@context");
    if (article_type(json_object_get(v, "@type")) && (!ctx || strstr(ctx, "schema.org") || depth > 0)) {
        ld_take(x, v);
        return;
    }
    const json_t *graph = json_object_get(v, "@graph");
    if (graph)
        ld_scan(x, graph, depth + 1);
}

typedef struct ld_walk {
    ld *x;
} ld_walk;

static bool on_script(GumboNode *el, void *user) {
    ld *x = user;
    if (x->done)
        return false;
    if (el->v.element.tag != GUMBO_TAG_SCRIPT)
        return true;
    const char *type = tg__html_attr(el, "type");
    if (!type || strcasecmp(type, "application/ld+json") || el->v.element.children.length == 0)
        return false;
    const GumboNode *t = el->v.element.children.data[0];
    if (t->type != GUMBO_NODE_TEXT && t->type != GUMBO_NODE_WHITESPACE && t->type != GUMBO_NODE_CDATA)
        return false;
    const char *s = t->v.text.text;
    /* some sites wrap it in a CDATA comment */
    while (isspace((unsigned char)*s))
        s++;
    if (!strncmp(s, "<![CDATA[", 9))
        s += 9;
    json_t *j = json_loads(s, JSON_DISABLE_EOF_CHECK, NULL);
    if (j) {
        ld_scan(x, j, 0);
        json_decref(j);
    }
    return false;
}

/* ---- title -------------------------------------------------------------- */

static size_t word_count(const char *s) {
    size_t n = 0;
    bool in = false;
    for (; *s; s++) {
        bool sp = isspace((unsigned char)*s);
        n += !sp && !in;
        in = !sp;
    }
    return n;
}

/* Words of s, not counting tokens made only of | - \\ / > » characters. */
static size_t words_without_seps(const char *s) {
    size_t n = 0;
    const char *p = s;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        bool real = false;
        while (*p && !isspace((unsigned char)*p)) {
            if (!strncmp(p, "\xC2\xBB", 2)) {
                p += 2;
                continue;
            }
            if (!strchr("|-\\/>", *p))
                real = true;
            p++;
        }
        n += real;
    }
    return n;
}

typedef struct hfind {
    const char *want;
    bool found;
    int n_h1;
    char *h1;
} hfind;

static bool on_heading(GumboNode *el, void *user) {
    hfind *h = user;
    GumboTag t = el->v.element.tag;
    if (t != GUMBO_TAG_H1 && t != GUMBO_TAG_H2)
        return true;
    char *txt = tg__html_text_dup(el);
    if (txt && h->want && !strcmp(txt, h->want))
        h->found = true;
    if (t == GUMBO_TAG_H1) {
        h->n_h1++;
        if (!h->h1)
            h->h1 = txt, txt = NULL;
    }
    free(txt);
    return false;
}

static bool on_title(GumboNode *el, void *user) {
    char **t = user;
    if (*t)
        return false;
    if (el->v.element.tag == GUMBO_TAG_TITLE) {
        *t = tg__html_text_dup(el);
        return false;
    }
    return el->v.element.tag != GUMBO_TAG_SVG && el->v.element.tag != GUMBO_TAG_BODY;
}

/* Separators between a story's title and its site's name. */
static const char *const seps[] = {" | ", " - ", " \xE2\x80\x93 ", " \xE2\x80\x94 ", " \\ ", " / ", " > ",
                                   " \xC2\xBB ", NULL};

static const char *find_sep(const char *s, bool last, size_t *sep_len) {
    const char *best = NULL;
    for (int i = 0; seps[i]; i++) {
        for (const char *p = strstr(s, seps[i]); p; p = strstr(p + 1, seps[i])) {
            if (!best || (last ? p > best : p < best)) {
                best = p;
                *sep_len = strlen(seps[i]);
            }
            if (!last)
                break;
        }
    }
    return best;
}

char *tg__xdoc_title(const GumboOutput *out) {
    char *orig = NULL;
    tg__html_walk(out->root, on_title, &orig);
    if (!orig)
        return NULL;
    char *cur = tg__strndup(orig, strlen(orig));
    if (!cur)
        return orig;
    bool had_sep = false;
    size_t sl = 0;
    const char *sep = find_sep(orig, true, &sl);
    hfind h = {.want = orig};
    tg__html_walk(out->root, on_heading, &h);
    if (sep) {
        had_sep = true;
        free(cur);
        cur = tg__strndup(orig, (size_t)(sep - orig)); /* "Story | Site" → "Story" */
        if (cur && word_count(cur) < 3) {
            const char *first = find_sep(orig, false, &sl);
            free(cur);
            cur = tg__strndup(first + sl, strlen(first + sl)); /* "Site | Story" → "Story" */
        }
    } else if (strstr(orig, ": ")) {
        if (!h.found) {
            const char *lastc = strrchr(orig, ':');
            while (lastc && lastc[1] != ' ' && lastc > orig) {
                const char *q = lastc - 1;
                while (q > orig && *q != ':')
                    q--;
                lastc = *q == ':' ? q : NULL;
            }
            if (lastc) {
                free(cur);
                cur = clean_dup(lastc + 1);
                if (cur && word_count(cur) < 3) {
                    const char *firstc = strstr(orig, ": ");
                    free(cur);
                    cur = clean_dup(firstc + 1);
                } else if (cur) {
                    const char *firstc = strstr(orig, ": ");
                    char *pre = tg__strndup(orig, (size_t)(firstc - orig));
                    if (pre && word_count(pre) > 5) {
                        free(cur);
                        cur = tg__strndup(orig, strlen(orig));
                    }
                    free(pre);
                }
            }
        }
    } else if ((strlen(orig) > 150 || strlen(orig) < 15) && h.n_h1 == 1 && h.h1) {
        free(cur);
        cur = tg__strndup(h.h1, strlen(h.h1));
    }
    free(h.h1);
    char *c2 = clean_dup(cur);
    free(cur);
    cur = c2;
    /* Four words or fewer is probably just a site name: keep the whole
     * title, unless a hierarchical separator (\ / > ») cut off exactly one
     * word of it. */
    size_t wc = cur ? word_count(cur) : 0;
    if (wc <= 4) {
        bool hier = had_sep && (strstr(orig, " \\ ") || strstr(orig, " / ") || strstr(orig, " > ") ||
                                strstr(orig, " \xC2\xBB "));
        if (!hier || wc + 1 != words_without_seps(orig)) {
            free(cur);
            cur = clean_dup(orig);
        }
    }
    free(orig);
    return cur;
}

double tg__xsimilarity(const char *a, const char *b) {
    /* words of b not in a, as a share of b's text */
    if (!a || !b || !*a || !*b)
        return 0;
    size_t total = 0, uniq = 0, nb = 0;
    const char *p = b;
    while (*p) {
        while (*p && !isalnum((unsigned char)*p) && (unsigned char)*p < 0x80)
            p++;
        const char *s = p;
        while (*p && (isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80))
            p++;
        size_t n = (size_t)(p - s);
        if (!n)
            continue;
        nb++;
        total += n + 1;
        /* is this word in a (as a whole word, case-insensitive)? */
        bool found = false;
        for (const char *q = a; *q && !found;) {
            while (*q && !isalnum((unsigned char)*q) && (unsigned char)*q < 0x80)
                q++;
            const char *qs = q;
            while (*q && (isalnum((unsigned char)*q) || (unsigned char)*q >= 0x80))
                q++;
            found = (size_t)(q - qs) == n && !strncasecmp(qs, s, n);
        }
        if (!found)
            uniq += n + 1;
    }
    if (!nb)
        return 0;
    return 1.0 - (double)uniq / (double)total;
}

/* ---- everything together ----------------------------------------------- */

static bool is_url(const char *s) { return s && (!strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8)); }

void tg__xmeta(const GumboOutput *out, xmeta *m) {
    memset(m, 0, sizeof *m);
    metas mm = {0};
    tg__html_walk(out->root, on_meta, &mm);
    char *doc_title = tg__xdoc_title(out);
    ld x = {.doc_title = doc_title};
    tg__html_walk(out->root, on_script, &x);

    const char *t_keys[] = {"dc:title", "dcterm:title", "og:title", "weibo:article:title", "weibo:webpage:title",
                            "title", "twitter:title", "parsely-title", NULL};
    const char *b_keys[] = {"dc:creator", "dcterm:creator", "author", "parsely-author", NULL};
    const char *e_keys[] = {"dc:description", "dcterm:description", "og:description", "weibo:article:description",
                            "weibo:webpage:description", "description", "twitter:description", NULL};
    m->title = x.title;
    for (int i = 0; !m->title && t_keys[i]; i++)
        set_once(&m->title, mget(&mm, t_keys[i]));
    m->byline = x.byline;
    for (int i = 0; !m->byline && b_keys[i]; i++)
        set_once(&m->byline, mget(&mm, b_keys[i]));
    if (!m->byline && !is_url(mget(&mm, "article:author")))
        set_once(&m->byline, mget(&mm, "article:author"));
    m->excerpt = x.excerpt;
    for (int i = 0; !m->excerpt && e_keys[i]; i++)
        set_once(&m->excerpt, mget(&mm, e_keys[i]));
    m->site_name = x.site_name;
    set_once(&m->site_name, mget(&mm, "og:site_name"));
    m->published = x.published;
    set_once(&m->published, mget(&mm, "article:published_time"));
    set_once(&m->published, mget(&mm, "parsely-pub-date"));
    const char *lang = tg__html_attr(out->root, "lang");
    if (lang && *lang)
        m->lang = clean_dup(lang);
    for (size_t i = 0; i < mm.n; i++)
        free(mm.v[i].val);
    free(mm.v);
    free(doc_title);
}

void tg__xmeta_free(xmeta *m) {
    free(m->title);
    free(m->byline);
    free(m->excerpt);
    free(m->site_name);
    free(m->published);
    free(m->lang);
    memset(m, 0, sizeof *m);
}
