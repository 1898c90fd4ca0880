/*
 * extract.c — the main article of a web page, readability-style: score the
 * paragraphs, credit their ancestors, pick the best-scored container, add
 * the siblings that belong to it, clean it (extract_clean.c) and write text
 * and sanitised HTML.  If the result is short, try again with fewer
 * heuristics (unlikely-candidate stripping, class weights, conditional
 * cleaning), keeping the longest attempt.
 *
 * This follows the approach Mozilla's Readability documents (the page
 * scoring ideas, not its code).  It must never crash or loop on hostile
 * HTML: every walk is iterative, every tree is bounded by the page.
 */
#include "read/extract.h"
#include "token/utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { XN_BLOCK = 4096 };

static xn *xalloc(xdom *d) {
    if (d->used == 0 || d->used == XN_BLOCK) {
        xn **b = realloc(d->blocks, (d->n_blocks + 1) * sizeof *b);
        if (!b) {
            d->failed = true;
            return NULL;
        }
        d->blocks = b;
        b[d->n_blocks] = calloc(XN_BLOCK, sizeof(xn));
        if (!b[d->n_blocks]) {
            d->failed = true;
            return NULL;
        }
        d->n_blocks++;
        d->used = 0;
    }
    xn *n = &d->blocks[d->n_blocks - 1][d->used++];
    memset(n, 0, sizeof *n);
    return n;
}

static void xappend(xn *parent, xn *c) {
    c->parent = parent;
    c->prev = parent->last;
    c->next = NULL;
    if (parent->last)
        parent->last->next = c;
    else
        parent->first = c;
    parent->last = c;
}

void tg__xremove(xn *n) {
    xn *p = n->parent;
    if (!p)
        return;
    if (n->prev)
        n->prev->next = n->next;
    else
        p->first = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        p->last = n->prev;
    n->parent = n->prev = n->next = NULL;
}

/* Elements dropped while copying: never content. */
static bool dropped(GumboTag t) {
    switch (t) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_LINK:
    case GUMBO_TAG_META:
    case GUMBO_TAG_HEAD:
        return true;
    default:
        return false;
    }
}

/* Copies gumbo's tree under root (iteratively). */
static void xbuild(xdom *d, const GumboNode *groot) {
    typedef struct fr {
        const GumboNode *g;
        xn *x;
        unsigned int next;
    } fr;
    size_t cap = 256, n = 0;
    fr *st = malloc(cap * sizeof *st);
    d->root = xalloc(d);
    if (!st || !d->root) {
        free(st);
        d->failed = true;
        return;
    }
    d->root->tag = groot->v.element.tag;
    d->root->g = groot;
    st[n++] = (fr){groot, d->root, 0};
    while (n) {
        fr *top = &st[n - 1];
        const GumboVector *ch = &top->g->v.element.children;
        if (top->next >= ch->length) {
            n--;
            continue;
        }
        const GumboNode *c = ch->data[top->next++];
        xn *x = NULL;
        if (c->type == GUMBO_NODE_TEXT || c->type == GUMBO_NODE_WHITESPACE || c->type == GUMBO_NODE_CDATA) {
            if (!(x = xalloc(d)))
                break;
            x->is_text = true;
            x->text = c->v.text.text;
            xappend(top->x, x);
        } else if (c->type == GUMBO_NODE_ELEMENT || c->type == GUMBO_NODE_TEMPLATE) {
            if (dropped(c->v.element.tag))
                continue;
            if (!(x = xalloc(d)))
                break;
            x->tag = c->v.element.tag;
            x->g = c;
            xappend(top->x, x);
            if (d->root->tag == GUMBO_TAG_HTML && x->tag == GUMBO_TAG_BODY && !d->body)
                d->body = x;
            if (n == cap) {
                fr *s2 = realloc(st, cap * 2 * sizeof *s2);
                if (!s2) {
                    d->failed = true;
                    break;
                }
                st = s2;
                cap *= 2;
                top = &st[n - 1];
            }
            st[n++] = (fr){c, x, 0};
        }
    }
    free(st);
    if (!d->body)
        d->body = d->root;
}

static void xdom_free(xdom *d) {
    for (size_t i = 0; i < d->n_blocks; i++)
        free(d->blocks[i]);
    free(d->blocks);
    memset(d, 0, sizeof *d);
}

/* ---- helpers ---------------------------------------------------------- */

bool tg__xis(const xn *n, GumboTag t) { return n && !n->is_text && n->tag == t; }

const char *tg__xattr(const xn *n, const char *name) {
    return n && n->g ? tg__html_attr(n->g, name) : NULL;
}

xn *tg__xnext(const xn *n, const xn *stop, bool skip_children) {
    if (!skip_children && n->first)
        return n->first;
    while (n && n != stop) {
        if (n->next)
            return n->next;
        n = n->parent;
    }
    return NULL;
}

/* Appends collapsed text under n to b. */
bool tg__xtext(const xn *n, tg__buf *b) {
    for (const xn *c = n; c; c = tg__xnext(c, n, false)) {
        if (!c->is_text)
            continue;
        for (const unsigned char *p = (const unsigned char *)c->text; *p; p++) {
            if (isspace(*p)) {
                if (b->len && b->data[b->len - 1] != ' ')
                    tg__buf_append_u8(b, ' ');
            } else {
                tg__buf_append_u8(b, *p);
            }
        }
    }
    return !b->failed;
}

char *tg__xtext_dup(const xn *n) {
    tg__buf b = {0};
    tg__xtext(n, &b);
    while (b.len && b.data[b.len - 1] == ' ')
        b.len--;
    char *s = tg__buf_take(&b);
    if (s && *s == ' ')
        memmove(s, s + 1, strlen(s));
    return s;
}

/* Length of the collapsed, trimmed text (bytes). */
size_t tg__xtext_len(const xn *n) {
    size_t len = 0;
    bool space = true; /* at start: leading spaces are not counted */
    for (const xn *c = n; c; c = tg__xnext(c, n, false)) {
        if (!c->is_text)
            continue;
        for (const unsigned char *p = (const unsigned char *)c->text; *p; p++) {
            if (isspace(*p)) {
                if (!space)
                    len++, space = true;
            } else {
                len++, space = false;
            }
        }
    }
    return space && len ? len - 1 : len;
}

double tg__xlink_density(const xn *n) {
    size_t total = tg__xtext_len(n);
    if (!total)
        return 0;
    double links = 0;
    const xn *c = n;
    while (c) {
        if (c != n && tg__xis(c, GUMBO_TAG_A)) {
            const char *href = tg__xattr(c, "href");
            /* in-page anchors count less: a table of contents is content */
            double coef = href && href[0] == '#' && href[1] ? 0.3 : 1.0;
            links += coef * (double)tg__xtext_len(c);
            c = tg__xnext(c, n, true);
        } else {
            c = tg__xnext(c, n, false);
        }
    }
    return links / (double)total;
}

bool tg__xmatch_any(const char *s, const char *const *words) {
    if (!s || !*s)
        return false;
    for (; *words; words++)
        if (strcasestr(s, *words))
            return true;
    return false;
}

static const char *const negative_words[] = {
    "-ad-", "hidden", "banner", "combx", "comment", "com-", "contact", "footer", "gdpr", "masthead", "media",
    "meta", "outbrain", "promo", "related", "scroll", "share", "shoutbox", "sidebar", "skyscraper", "sponsor",
    "shopping", "tags", "widget", NULL};
static const char *const positive_words[] = {"article", "body", "content", "entry", "hentry", "h-entry", "main",
                                              "page", "pagination", "post", "text", "blog", "story", NULL};
static const char *const unlikely_words[] = {
    "-ad-", "ai2html", "banner", "breadcrumbs", "combx", "comment", "community", "cover-wrap", "disqus", "extra",
    "footer", "gdpr", "header", "legends", "menu", "related", "remark", "replies", "rss", "shoutbox", "sidebar",
    "skyscraper", "social", "sponsor", "supplemental", "ad-break", "agegate", "pagination", "pager", "popup",
    "yom-remote", NULL};
static const char *const maybe_words[] = {"and", "article", "body", "column", "content", "main", "mathjax", "shadow",
                                          NULL};
static const char *const byline_words[] = {"byline", "author", "dateline", "writtenby", "p-author", NULL};

int tg__xclass_weight(const xn *n) {
    int w = 0;
    const char *attrs[2] = {tg__xattr(n, "class"), tg__xattr(n, "id")};
    for (int i = 0; i < 2; i++) {
        if (!attrs[i] || !*attrs[i])
            continue;
        if (tg__xmatch_any(attrs[i], negative_words))
            w -= 25;
        if (tg__xmatch_any(attrs[i], positive_words))
            w += 25;
    }
    return w;
}

bool tg__xhas_ancestor(const xn *n, GumboTag t, int max_depth) {
    int depth = 0;
    for (const xn *p = n->parent; p; p = p->parent) {
        if (max_depth > 0 && ++depth > max_depth)
            return false;
        if (tg__xis(p, t))
            return true;
    }
    return false;
}

static void init_score(xn *n, bool weight_classes) {
    n->scored = true;
    n->score = 0;
    switch (n->tag) {
    case GUMBO_TAG_DIV: n->score += 5; break;
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_TD:
    case GUMBO_TAG_BLOCKQUOTE: n->score += 3; break;
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_FORM: n->score -= 3; break;
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_TH: n->score -= 5; break;
    default: break;
    }
    if (weight_classes)
        n->score += tg__xclass_weight(n);
}

/* Hidden by the page itself: never content. */
static bool is_hidden(const xn *n) {
    if (tg__xattr(n, "hidden"))
        return true;
    const char *aria = tg__xattr(n, "aria-hidden");
    if (aria && !strcmp(aria, "true")) {
        const char *cls = tg__xattr(n, "class");
        return !(cls && strstr(cls, "fallback-image"));
    }
    const char *style = tg__xattr(n, "style");
    if (style) {
        char compact[256];
        size_t j = 0;
        for (const char *p = style; *p && j + 1 < sizeof compact; p++)
            if (!isspace((unsigned char)*p))
                compact[j++] = (char)tolower((unsigned char)*p);
        compact[j] = '\0';
        if (strstr(compact, "display:none") || strstr(compact, "visibility:hidden"))
            return true;
    }
    return false;
}

static bool is_phrasing(const xn *n) {
    if (n->is_text)
        return true;
    switch (n->tag) {
    case GUMBO_TAG_ABBR: case GUMBO_TAG_AUDIO: case GUMBO_TAG_B: case GUMBO_TAG_BDO: case GUMBO_TAG_BR:
    case GUMBO_TAG_BUTTON: case GUMBO_TAG_CITE: case GUMBO_TAG_CODE: case GUMBO_TAG_DATA:
    case GUMBO_TAG_DATALIST: case GUMBO_TAG_DFN: case GUMBO_TAG_EM: case GUMBO_TAG_EMBED: case GUMBO_TAG_I:
    case GUMBO_TAG_IMG: case GUMBO_TAG_INPUT: case GUMBO_TAG_KBD: case GUMBO_TAG_LABEL: case GUMBO_TAG_MARK:
    case GUMBO_TAG_MATH: case GUMBO_TAG_METER: case GUMBO_TAG_OBJECT: case GUMBO_TAG_OUTPUT:
    case GUMBO_TAG_PROGRESS: case GUMBO_TAG_Q: case GUMBO_TAG_RUBY: case GUMBO_TAG_SAMP:
    case GUMBO_TAG_SELECT: case GUMBO_TAG_SMALL: case GUMBO_TAG_SPAN: case GUMBO_TAG_STRONG: case GUMBO_TAG_SUB:
    case GUMBO_TAG_SUP: case GUMBO_TAG_TEXTAREA: case GUMBO_TAG_TIME: case GUMBO_TAG_VAR: case GUMBO_TAG_WBR:
    case GUMBO_TAG_U: case GUMBO_TAG_S: case GUMBO_TAG_FONT: case GUMBO_TAG_BIG: case GUMBO_TAG_TT:
        return true;
    case GUMBO_TAG_A: case GUMBO_TAG_DEL: case GUMBO_TAG_INS:
        /* phrasing when everything inside is */
        for (const xn *c = n->first; c; c = c->next)
            if (!is_phrasing(c))
                return false;
        return true;
    default: return false;
    }
}

static bool is_whitespace_node(const xn *n) {
    if (n->is_text) {
        for (const char *p = n->text; *p; p++)
            if (!isspace((unsigned char)*p))
                return false;
        return true;
    }
    return tg__xis(n, GUMBO_TAG_BR);
}

/* Block-level children: a div with none reads as a paragraph. */
static bool has_block_child(const xn *n) {
    for (const xn *c = n; c; c = tg__xnext(c, n, false)) {
        if (c == n || c->is_text)
            continue;
        switch (c->tag) {
        case GUMBO_TAG_A: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_DL: case GUMBO_TAG_DIV: case GUMBO_TAG_IMG:
        case GUMBO_TAG_OL: case GUMBO_TAG_P: case GUMBO_TAG_PRE: case GUMBO_TAG_TABLE: case GUMBO_TAG_UL:
        case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_FIGURE:
            return true;
        default: break;
        }
    }
    return false;
}

/* Wraps each run of phrasing children of div in a synthesised <p>, so text
 * sitting directly in a container scores like a paragraph. */
static void wrap_phrasing(xdom *d, xn *div) {
    xn *c = div->first;
    while (c) {
        if (!is_phrasing(c)) {
            c = c->next;
            continue;
        }
        xn *start = c, *end = c;
        bool any = !is_whitespace_node(c);
        while (end->next && is_phrasing(end->next)) {
            end = end->next;
            any |= !is_whitespace_node(end);
        }
        xn *after = end->next;
        if (any) {
            xn *p = xalloc(d);
            if (!p)
                return;
            p->tag = GUMBO_TAG_P;
            /* splice p in place of start..end */
            p->parent = div;
            p->prev = start->prev;
            p->next = after;
            if (start->prev)
                start->prev->next = p;
            else
                div->first = p;
            if (after)
                after->prev = p;
            else
                div->last = p;
            start->prev = NULL;
            end->next = NULL;
            p->first = start;
            p->last = end;
            for (xn *k = start; k; k = k->next)
                k->parent = p;
        }
        c = after;
    }
}

static size_t count_commas(const char *s) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == ',')
            n++;
        /* full-width and ideographic commas, Arabic comma */
        else if (p[0] == 0xEF && p[1] == 0xBC && p[2] == 0x8C)
            n++;
        else if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x81)
            n++;
        else if (p[0] == 0xD8 && p[1] == 0x8C)
            n++;
    }
    return n;
}

static bool roles_unlikely(const char *role) {
    static const char *const roles[] = {"menu", "menubar", "complementary", "navigation", "alert", "alertdialog",
                                        "dialog", NULL};
    if (!role)
        return false;
    for (int i = 0; roles[i]; i++)
        if (!strcasecmp(role, roles[i]))
            return true;
    return false;
}

static bool is_byline(const xn *n, const char *match) {
    const char *rel = tg__xattr(n, "rel"), *itemprop = tg__xattr(n, "itemprop");
    bool cand = (rel && !strcasecmp(rel, "author")) || (itemprop && strcasestr(itemprop, "author")) ||
                tg__xmatch_any(match, byline_words);
    if (!cand)
        return false;
    size_t len = tg__xtext_len(n);
    return len > 0 && len < 100;
}

static bool is_heading(const xn *n) {
    return !n->is_text && n->tag >= GUMBO_TAG_H1 && n->tag <= GUMBO_TAG_H6;
}

/* An element with nothing in it but whitespace and <br>/<hr>. */
static bool is_empty_element(const xn *n) {
    for (const xn *c = n->first; c; c = c->next) {
        if (c->is_text) {
            if (!is_whitespace_node(c))
                return false;
        } else if (c->tag != GUMBO_TAG_BR && c->tag != GUMBO_TAG_HR) {
            return false;
        }
    }
    return true;
}

typedef struct grab {
    xn *article;   /* a synthesised <div> holding the chosen nodes */
    size_t text_len;
    char *byline;
} grab;

/* One attempt at finding the article in a fresh tree. */
static void grab_article(xdom *d, const xflags *f, const char *title, grab *g) {
    size_t cap = 256, n_score = 0;
    xn **to_score = malloc(cap * sizeof *to_score);
    bool title_dup_removed = false;
    if (!to_score) {
        d->failed = true;
        return;
    }
    xn *node = d->body;
    while (node) {
        if (node->is_text) {
            node = tg__xnext(node, d->body, true);
            continue;
        }
        char match[512];
        const char *cls = tg__xattr(node, "class"), *id = tg__xattr(node, "id");
        snprintf(match, sizeof match, "%s %s", cls ? cls : "", id ? id : "");
        xn *nxt = tg__xnext(node, d->body, true);
        if (node != d->body) {
            if (is_hidden(node)) {
                tg__xremove(node);
                node = nxt;
                continue;
            }
            if (!g->byline && is_byline(node, match)) {
                g->byline = tg__xtext_dup(node);
                tg__xremove(node);
                node = nxt;
                continue;
            }
            if (!title_dup_removed && title && (tg__xis(node, GUMBO_TAG_H1) || tg__xis(node, GUMBO_TAG_H2))) {
                char *h = tg__xtext_dup(node);
                bool dup = h && *h && tg__xsimilarity(title, h) > 0.75;
                free(h);
                if (dup) {
                    title_dup_removed = true;
                    tg__xremove(node);
                    node = nxt;
                    continue;
                }
            }
            if (f->strip_unlikely) {
                if (tg__xmatch_any(match, unlikely_words) && !tg__xmatch_any(match, maybe_words) &&
                    !tg__xhas_ancestor(node, GUMBO_TAG_TABLE, 0) && !tg__xhas_ancestor(node, GUMBO_TAG_CODE, 0) &&
                    node->tag != GUMBO_TAG_A) {
                    tg__xremove(node);
                    node = nxt;
                    continue;
                }
                if (roles_unlikely(tg__xattr(node, "role"))) {
                    tg__xremove(node);
                    node = nxt;
                    continue;
                }
            }
            if ((node->tag == GUMBO_TAG_DIV || node->tag == GUMBO_TAG_SECTION || node->tag == GUMBO_TAG_HEADER ||
                 is_heading(node)) &&
                is_empty_element(node)) {
                tg__xremove(node);
                node = nxt;
                continue;
            }
        }
        bool score_it = false;
        switch (node->tag) {
        case GUMBO_TAG_SECTION: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5:
        case GUMBO_TAG_H6: case GUMBO_TAG_P: case GUMBO_TAG_TD: case GUMBO_TAG_PRE:
            score_it = true;
            break;
        case GUMBO_TAG_DIV:
            if (!has_block_child(node))
                score_it = true; /* a div of phrasing content is a paragraph */
            else
                wrap_phrasing(d, node);
            break;
        default: break;
        }
        if (score_it) {
            if (n_score == cap) {
                xn **t = realloc(to_score, cap * 2 * sizeof *t);
                if (!t) {
                    d->failed = true;
                    break;
                }
                to_score = t;
                cap *= 2;
            }
            to_score[n_score++] = node;
        }
        node = tg__xnext(node, d->body, false);
    }

    /* score paragraphs, crediting up to five ancestors */
    size_t ccap = 64, n_cand = 0;
    xn **cands = malloc(ccap * sizeof *cands);
    for (size_t i = 0; cands && i < n_score; i++) {
        xn *el = to_score[i];
        if (!el->parent)
            continue;
        size_t len = tg__xtext_len(el);
        if (len < 25)
            continue;
        char *text = tg__xtext_dup(el);
        double cs = 1.0 + (double)count_commas(text ? text : "") + (double)TG_MIN(len / 100, 3);
        free(text);
        int level = 0;
        for (xn *a = el->parent; a && level < 5; a = a->parent, level++) {
            if (a->is_text || !a->parent)
                break; /* the root is never a candidate */
            if (!a->scored) {
                init_score(a, f->weight_classes);
                if (n_cand == ccap) {
                    xn **t = realloc(cands, ccap * 2 * sizeof *t);
                    if (!t)
                        break;
                    cands = t;
                    ccap *= 2;
                }
                cands[n_cand++] = a;
            }
            double div = level == 0 ? 1.0 : level == 1 ? 2.0 : (double)level * 3.0;
            a->score += cs / div;
        }
    }
    free(to_score);

    /* top candidates, scaled by how little of their text is links */
    enum { N_TOP = 5 };
    xn *top[N_TOP] = {0};
    for (size_t i = 0; cands && i < n_cand; i++) {
        xn *c = cands[i];
        if (!c->parent)
            continue; /* removed meanwhile */
        c->score *= 1.0 - tg__xlink_density(c);
        for (int k = 0; k < N_TOP; k++) {
            if (!top[k] || c->score > top[k]->score) {
                memmove(&top[k + 1], &top[k], (size_t)(N_TOP - 1 - k) * sizeof *top);
                top[k] = c;
                break;
            }
        }
    }
    free(cands);

    xn *best = top[0];
    if (!best || best == d->body || tg__xis(best, GUMBO_TAG_BODY)) {
        best = d->body;
        if (!best->scored)
            init_score(best, f->weight_classes);
    } else {
        /* several near-best candidates under one ancestor: the ancestor is the article */
        int n_alt = 0;
        xn *alts[N_TOP];
        for (int k = 1; k < N_TOP && top[k]; k++)
            if (top[k]->score / best->score >= 0.75)
                alts[n_alt++] = top[k];
        if (n_alt >= 3) {
            for (xn *p = best->parent; p && p != d->body && !tg__xis(p, GUMBO_TAG_BODY); p = p->parent) {
                int contained = 0;
                for (int k = 0; k < n_alt; k++)
                    for (xn *q = alts[k]->parent; q; q = q->parent)
                        if (q == p) {
                            contained++;
                            break;
                        }
                if (contained >= 3) {
                    best = p;
                    break;
                }
            }
        }
        if (!best->scored)
            init_score(best, f->weight_classes);
        /* climb while the parent scores better (content split over siblings) */
        double last = best->score, threshold = last / 3.0;
        for (xn *p = best->parent; p && p != d->body && !tg__xis(p, GUMBO_TAG_BODY); p = p->parent) {
            if (!p->scored)
                continue;
            if (p->score < threshold)
                break;
            if (p->score > last) {
                best = p;
                break;
            }
            last = p->score;
        }
        /* an only child stands for its parent */
        for (xn *p = best->parent; p && p != d->body && !tg__xis(p, GUMBO_TAG_BODY); p = best->parent) {
            int elems = 0;
            for (xn *c = p->first; c; c = c->next)
                elems += !c->is_text;
            if (elems != 1)
                break;
            best = p;
        }
        if (!best->scored)
            init_score(best, f->weight_classes);
    }

    /* the article: best and its siblings that belong with it */
    xn *art = xalloc(d);
    if (!art)
        return;
    art->tag = GUMBO_TAG_DIV;
    g->article = art;
    if (best == d->body || !best->parent) {
        xn *c = best->first;
        while (c) {
            xn *nx = c->next;
            tg__xremove(c);
            xappend(art, c);
            c = nx;
        }
    } else {
        double threshold = TG_MAX(10.0, best->score * 0.2);
        const char *bcls = tg__xattr(best, "class");
        xn *s = best->parent->first;
        while (s) {
            xn *nx = s->next;
            bool take = s == best;
            if (!take && !s->is_text) {
                const char *scls = tg__xattr(s, "class");
                double bonus = bcls && *bcls && scls && !strcmp(bcls, scls) ? best->score * 0.2 : 0;
                if (s->scored && s->score + bonus >= threshold) {
                    take = true;
                } else if (s->tag == GUMBO_TAG_P) {
                    size_t len = tg__xtext_len(s);
                    double ld = tg__xlink_density(s);
                    if (len > 80 && ld < 0.25) {
                        take = true;
                    } else if (len > 0 && len < 80 && ld == 0) {
                        char *t = tg__xtext_dup(s);
                        take = t && (strstr(t, ". ") || (strlen(t) && t[strlen(t) - 1] == '.'));
                        free(t);
                    }
                }
            }
            if (take) {
                tg__xremove(s);
                xappend(art, s);
            }
            s = nx;
        }
    }
    tg__xclean(d, art, f, title);
    g->text_len = tg__xtext_len(art);
}

/* The first <link rel="canonical" href> (rel is a token list). */
static bool on_link(GumboNode *el, void *user) {
    const char **href = user;
    if (*href)
        return false;
    if (el->v.element.tag == GUMBO_TAG_BODY)
        return false; /* only the head's links count (a canonical in the body is someone else's) */
    if (el->v.element.tag != GUMBO_TAG_LINK)
        return true;
    const char *rel = tg__html_attr(el, "rel"), *h = tg__html_attr(el, "href");
    if (!rel || !h || !*h)
        return false;
    for (const char *p = rel; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        const char *s = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (p - s == 9 && !strncasecmp(s, "canonical", 9)) {
            *href = h;
            break;
        }
    }
    return false;
}

/* The page's canonical URL resolved against base: malloc'd, http(s) only. */
static char *canonical_link(const GumboOutput *g, const char *base) {
    const char *href = NULL;
    tg__html_walk(g->root, on_link, &href);
    if (!href)
        return NULL;
    char *u = tg__url_resolve(base, href);
    if (u && strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8)) {
        free(u);
        u = NULL;
    }
    return u;
}

tg_status tg_extract(const char *html, size_t len, const char *url, tg_article *out) {
    memset(out, 0, sizeof *out);
    if (tg__pdf_sniff(html, len))
        return tg__pdf_extract(html, len, out); /* a fetched PDF is stored as it came */
    GumboOutput *g = tg__html_parse(html, len);
    if (!g)
        return tg__fail_prefix(TG_ERR_UNSUPPORTED, "extract");
    /* links resolved against a base holding raw bytes would carry them into
     * the HTML: percent-encode those first (found by fuzz_extract) */
    char *url_fixed = url && !tg__utf8_valid(url, strlen(url)) ? tg__url_encode_invalid(url, strlen(url)) : NULL;
    if (url_fixed)
        url = url_fixed;
    xmeta m = {0};
    tg__xmeta(g, &m);
    char *doc_title = tg__xdoc_title(g);
    const char *title = m.title ? m.title : doc_title;

    /* attempts with fewer heuristics each time; keep the first long enough, else the longest */
    static const xflags tries[] = {{true, true, true}, {false, true, true}, {false, false, true}, {false, false, false}};
    tg_status s = TG_OK;
    char *best_text = NULL, *best_html = NULL, *byline = NULL;
    size_t best_len = 0;
    for (size_t t = 0; t < TG_ARRAY_LEN(tries); t++) {
        xdom d = {0};
        xbuild(&d, g->root);
        grab gr = {0};
        if (!d.failed)
            grab_article(&d, &tries[t], title, &gr);
        if (d.failed || !gr.article) {
            xdom_free(&d);
            free(gr.byline);
            s = tg__fail(TG_ERR_NOMEM, "extract: out of memory");
            break;
        }
        bool better = !best_text || gr.text_len > best_len;
        if (better) {
            char *txt = NULL, *h = NULL;
            if (tg__xoutput(gr.article, url, &txt, &h)) {
                xdom_free(&d);
                free(gr.byline);
                s = TG_ERR_NOMEM;
                break;
            }
            free(best_text);
            free(best_html);
            best_text = txt;
            best_html = h;
            best_len = gr.text_len;
            free(byline);
            byline = gr.byline;
            gr.byline = NULL;
        }
        free(gr.byline);
        xdom_free(&d);
        if (best_len >= 500)
            break;
    }
    if (s) {
        free(best_text);
        free(best_html);
        free(byline);
        free(doc_title);
        tg__xmeta_free(&m);
        gumbo_destroy_output(&kGumboDefaultOptions, g);
        free(url_fixed);
        return s;
    }
    out->title = m.title ? m.title : doc_title;
    if (m.title)
        free(doc_title);
    m.title = NULL;
    out->byline = m.byline ? m.byline : byline;
    if (m.byline)
        free(byline);
    out->site_name = m.site_name;
    out->published = m.published;
    out->lang = m.lang;
    out->excerpt = m.excerpt;
    m.byline = m.site_name = m.published = m.lang = m.excerpt = NULL;
    out->text = best_text;
    out->html = best_html;
    if (!out->excerpt && best_text) {
        /* the first paragraph, as a fallback excerpt */
        const char *e = strstr(best_text, "\n\n");
        size_t n = e ? (size_t)(e - best_text) : strlen(best_text);
        if (n > 300) {
            n = 300;
            while (n > 0 && ((unsigned char)best_text[n] & 0xC0) == 0x80)
                n--; /* never cut a character in two */
        }
        out->excerpt = tg__strndup(best_text, n);
    }
    int64_t t = 0;
    if (out->published && tg__parse_date(out->published, &t))
        out->published_time = t;
    out->canonical_url = canonical_link(g, url);
    tg__xmeta_free(&m);
    gumbo_destroy_output(&kGumboDefaultOptions, g);
    free(url_fixed);
    return TG_OK;
}
