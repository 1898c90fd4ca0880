/*
 * fuzz_extract.c — libFuzzer target for article extraction (tg_extract:
 * gumbo's tree, the scoring, the cleaning, metadata, JSON-LD) and, above
 * all, for the sanitiser that writes its HTML.
 *
 * Input: the first line is the base URL (empty: none); the rest is the page.
 * Beyond "no crash", the sanitised HTML is parsed again with gumbo, as a
 * browser would read it, and every element and attribute must be on the
 * allowlist: no <script>, <style>, <iframe> …; no on* or style attribute;
 * href and src only http(s) (mailto: too for href), an in-page #anchor or
 * a scheme-less relative reference.  A violation aborts: that is a finding.
 * The text and metadata must be valid UTF-8 whatever the bytes were.
 */
#include "read/html.h"
#include "token/utf8.h"
#include "tinglado.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void violation(const char *what, const char *detail, const char *html) {
    fprintf(stderr, "fuzz_extract: %s (%s) in: %.300s\n", what, detail ? detail : "", html);
    abort();
}

/* What the extractor may write (extract_clean.c allowed_tag) plus the
 * document shell gumbo adds around a fragment. */
static bool tag_allowed(GumboTag t) {
    switch (t) {
    case GUMBO_TAG_HTML: case GUMBO_TAG_HEAD: case GUMBO_TAG_BODY:
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
        return true;
    default:
        return false;
    }
}

/* A URL a browser would not run or load from elsewhere than the web:
 * after dropping what browsers drop (C0 controls and spaces, tabs and
 * line breaks anywhere), its scheme must be http(s) (or mailto), or it
 * must have none. */
static bool url_safe(const char *u, bool mail) {
    char scheme[8];
    size_t j = 0;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++) {
        if (*p <= 0x20)
            continue;
        if (*p == '/' || *p == '?' || *p == '#')
            return true; /* no scheme: relative, stays on the page's site */
        if (*p == ':') {
            scheme[j < sizeof scheme ? j : sizeof scheme - 1] = '\0';
            return (j == 4 && !strcasecmp(scheme, "http")) || (j == 5 && !strcasecmp(scheme, "https")) ||
                   (mail && j == 6 && !strcasecmp(scheme, "mailto"));
        }
        if (j < sizeof scheme)
            scheme[j] = (char)*p;
        j++;
    }
    return true;
}

static bool check_el(GumboNode *el, void *user) {
    const char *html = user;
    const GumboElement *e = &el->v.element;
    if (!tag_allowed(e->tag))
        violation("a tag off the allowlist", gumbo_normalized_tagname(e->tag), html);
    for (unsigned i = 0; i < e->attributes.length; i++) {
        const GumboAttribute *a = e->attributes.data[i];
        const char *n = a->name;
        if (!strcasecmp(n, "href")) {
            if (e->tag != GUMBO_TAG_A || !url_safe(a->value, true))
                violation("an unsafe href", a->value, html);
        } else if (!strcasecmp(n, "src")) {
            if (e->tag != GUMBO_TAG_IMG || !url_safe(a->value, false))
                violation("an unsafe src", a->value, html);
        } else if (strcasecmp(n, "alt") && strcasecmp(n, "title") && strcasecmp(n, "colspan") &&
                   strcasecmp(n, "rowspan") && strcasecmp(n, "start")) {
            violation("an attribute off the allowlist", n, html);
        }
    }
    return true;
}

static void utf8_or_abort(const char *what, const char *s) {
    if (s && !tg__utf8_valid(s, strlen(s))) {
        fprintf(stderr, "fuzz_extract: %s is not valid UTF-8\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data, *nl = memchr(p, '\n', size);
    size_t ulen = nl ? (size_t)(nl - p) : 0;
    char *base = NULL;
    if (ulen > 0 && ulen < 2048) {
        base = malloc(ulen + 1);
        if (!base)
            return 0;
        memcpy(base, p, ulen);
        base[ulen] = '\0';
        if (memchr(base, '\0', ulen)) { /* a C string cannot hold a NUL: none */
            free(base);
            base = NULL;
        }
    }
    const char *page = nl ? nl + 1 : p;
    size_t len = size - (size_t)(page - p);
    tg_article a;
    if (tg_extract(page, len, base, &a) == TG_OK) {
        if (a.html) {
            GumboOutput *g = gumbo_parse(a.html);
            if (g) {
                tg__html_walk(g->root, check_el, a.html);
                gumbo_destroy_output(&kGumboDefaultOptions, g);
            }
        }
        utf8_or_abort("text", a.text);
        utf8_or_abort("html", a.html);
        utf8_or_abort("title", a.title);
        utf8_or_abort("byline", a.byline);
        utf8_or_abort("site_name", a.site_name);
        utf8_or_abort("excerpt", a.excerpt);
        tg_article_clear(&a);
    }
    free(base);
    return 0;
}
