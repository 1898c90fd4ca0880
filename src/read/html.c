/*
 * html.c — gumbo helpers: iterative walks and text collection.
 *
 * Walks keep their own stack on the heap so hostile nesting depth cannot
 * overflow the C stack; nothing here writes to the tree.
 */
#include "read/html.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct frame {
    const GumboNode *node;
    unsigned int next; /* index of the next child to visit */
} frame;

typedef struct stack {
    frame *f;
    size_t n, cap;
} stack;

static bool push(stack *s, const GumboNode *n) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        frame *f = realloc(s->f, cap * sizeof *f);
        if (!f)
            return false;
        s->f = f;
        s->cap = cap;
    }
    s->f[s->n++] = (frame){n, 0};
    return true;
}

static const GumboVector *children(const GumboNode *n) {
    if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE)
        return &n->v.element.children;
    if (n->type == GUMBO_NODE_DOCUMENT)
        return &n->v.document.children;
    return NULL;
}

bool tg__html_walk(GumboNode *root, tg__html_enter_fn enter, void *user) {
    stack s = {0};
    bool ok = true;
    if (root->type == GUMBO_NODE_ELEMENT && !enter(root, user))
        return true;
    if (!push(&s, root))
        return false;
    while (s.n) {
        frame *top = &s.f[s.n - 1];
        const GumboVector *ch = children(top->node);
        if (!ch || top->next >= ch->length) {
            s.n--;
            continue;
        }
        GumboNode *c = ch->data[top->next++];
        if (c->type != GUMBO_NODE_ELEMENT && c->type != GUMBO_NODE_TEMPLATE)
            continue;
        if (enter(c, user) && !push(&s, c)) {
            ok = false;
            break;
        }
    }
    free(s.f);
    return ok;
}

const char *tg__html_attr(const GumboNode *el, const char *name) {
    if (el->type != GUMBO_NODE_ELEMENT && el->type != GUMBO_NODE_TEMPLATE)
        return NULL;
    const GumboAttribute *a = gumbo_get_attribute(&el->v.element.attributes, name);
    return a ? a->value : NULL;
}

static void append_collapsed(tg__buf *b, const char *t) {
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == '\f') {
            if (b->len && b->data[b->len - 1] != ' ')
                tg__buf_append_u8(b, ' ');
        } else {
            tg__buf_append_u8(b, *p);
        }
    }
}

bool tg__html_text(const GumboNode *node, tg__buf *b) {
    stack s = {0};
    if (!push(&s, node))
        return false;
    while (s.n) {
        frame *top = &s.f[s.n - 1];
        const GumboNode *n = top->node;
        if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
            append_collapsed(b, n->v.text.text);
            s.n--;
            continue;
        }
        const GumboVector *ch = children(n);
        if (!ch || top->next >= ch->length) {
            s.n--;
            continue;
        }
        if (n->type == GUMBO_NODE_ELEMENT &&
            (n->v.element.tag == GUMBO_TAG_SCRIPT || n->v.element.tag == GUMBO_TAG_STYLE)) {
            s.n--;
            continue;
        }
        if (!push(&s, ch->data[top->next++])) {
            free(s.f);
            return false;
        }
    }
    free(s.f);
    return !b->failed;
}

char *tg__html_text_dup(const GumboNode *node) {
    tg__buf b = {0};
    if (!tg__html_text(node, &b)) {
        tg__buf_free(&b);
        return NULL;
    }
    while (b.len && b.data[b.len - 1] == ' ')
        b.len--;
    size_t skip = b.len && b.data[0] == ' ' ? 1 : 0;
    char *s = tg__buf_take(&b);
    if (s && skip)
        memmove(s, s + 1, strlen(s));
    return s;
}

/* Elements that never nest: void elements, and those whose start tag
 * implicitly closes the previous one of their kind. */
static bool flat_tag(const char *name, size_t n) {
    static const char *const flat[] = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                                       "source", "track", "wbr", "param", "keygen", "p", "li", "td", "th", "tr",
                                       "option", "dt", "dd", "!doctype"};
    for (size_t i = 0; i < TG_ARRAY_LEN(flat); i++)
        if (strlen(flat[i]) == n && !strncasecmp(flat[i], name, n))
            return true;
    return false;
}

/* An upper estimate of how deep the document's elements nest, by counting
 * start and end tags (comments and script/style bodies skipped).  Gumbo's
 * tree builder is quadratic in nesting depth (every start tag walks the
 * stack of open elements), so 200,000 nested tags take minutes: hostile
 * input is refused up front instead. */
static size_t nesting_estimate(const char *s, size_t n) {
    size_t depth = 0, max = 0;
    const char *p = s, *end = s + n;
    while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        p++;
        if (end - p >= 3 && !memcmp(p, "!--", 3)) {
            const char *c = memmem(p + 3, (size_t)(end - p - 3), "-->", 3);
            p = c ? c + 3 : end;
            continue;
        }
        bool close = p < end && *p == '/';
        if (close)
            p++;
        const char *name = p;
        while (p < end && (isalnum((unsigned char)*p) || *p == '!' || *p == '-'))
            p++;
        size_t nl = (size_t)(p - name);
        if (!nl || flat_tag(name, nl))
            continue;
        if (close) {
            depth -= depth > 0;
            continue;
        }
        const char *gt = memchr(p, '>', (size_t)(end - p));
        if (gt && gt > p && gt[-1] == '/')
            continue; /* <x/> */
        if ((nl == 6 && !strncasecmp(name, "script", 6)) || (nl == 5 && !strncasecmp(name, "style", 5))) {
            const char *c = gt ? memmem(gt, (size_t)(end - gt), nl == 6 ? "</script" : "</style", nl + 2) : NULL;
            if (!c) /* case-insensitive fallback */
                c = gt ? memmem(gt, (size_t)(end - gt), nl == 6 ? "</SCRIPT" : "</STYLE", nl + 2) : NULL;
            p = c ? c : end;
            continue;
        }
        if (++depth > max)
            max = depth;
    }
    return max;
}

GumboOutput *tg__html_parse(const char *html, size_t len) {
    if (len >= 3 && !memcmp(html, "\xEF\xBB\xBF", 3))
        html += 3, len -= 3;
    size_t depth = nesting_estimate(html, len);
    if (depth > TG__HTML_MAX_DEPTH) {
        tg__fail(TG_ERR_UNSUPPORTED, "HTML nests %zu elements deep (more than %d): refused", depth,
                 TG__HTML_MAX_DEPTH);
        return NULL;
    }
    GumboOptions opt = kGumboDefaultOptions;
    opt.max_errors = 0; /* we never read the error list: don't spend memory on it */
    GumboOutput *out = gumbo_parse_with_options(&opt, html, len);
    if (!out)
        tg__fail(TG_ERR_NOMEM, "HTML parser: out of memory");
    return out;
}
