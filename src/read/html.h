/*
 * html.h — gumbo helpers shared by the importers and the extractor:
 * iterative tree walks (a page nested 100,000 deep must not overflow the C
 * stack) and attribute/text access.
 */
#ifndef TG_READ_HTML_H
#define TG_READ_HTML_H

#include "read/read.h"

#include <gumbo.h>

/* Pre-order walk over elements under root (root included).  enter returns
 * false to skip the element's children.  false on allocation failure. */
typedef bool (*tg__html_enter_fn)(GumboNode *el, void *user);
bool tg__html_walk(GumboNode *root, tg__html_enter_fn enter, void *user);
/* The value of an attribute (names are lower-case in gumbo), or NULL. */
const char *tg__html_attr(const GumboNode *el, const char *name);
/* Appends the text under node, whitespace runs collapsed to one space
 * (a leading space is dropped when the buffer is empty or ends in one). */
bool tg__html_text(const GumboNode *node, tg__buf *b);
/* The collapsed, trimmed text under node as a malloc'd string. */
char *tg__html_text_dup(const GumboNode *node);
/* Parses a document (a UTF-8 byte-order mark is skipped).  NULL on failure,
 * including TG_ERR_UNSUPPORTED for a document nesting deeper than
 * TG__HTML_MAX_DEPTH (real pages stay below a few hundred). */
#define TG__HTML_MAX_DEPTH 4096
GumboOutput *tg__html_parse(const char *html, size_t len);

#endif
