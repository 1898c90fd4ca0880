/*
 * extract.h — the extractor's working tree, shared by its files:
 * extract.c (the tree, scoring and choosing the article), extract_clean.c
 * (cleaning the chosen nodes, text and sanitised HTML output) and
 * extract_meta.c (title, byline, dates … from meta tags and JSON-LD).
 *
 * The tree is our own copy of gumbo's (gumbo's is read-only): nodes can be
 * detached, paragraphs synthesised and scores kept on the node.  Text
 * points into gumbo's strings, so the GumboOutput outlives the tree.
 */
#ifndef TG_READ_EXTRACT_H
#define TG_READ_EXTRACT_H

#include "read/html.h"

typedef struct xn {
    GumboTag tag;       /* GUMBO_TAG_UNKNOWN for text nodes too (see is_text) */
    bool is_text;
    bool scored;        /* score initialised (a candidate) */
    const char *text;   /* text nodes: gumbo's text */
    const GumboNode *g; /* elements: gumbo's node (attributes); NULL if synthesised */
    struct xn *parent, *first, *last, *next, *prev;
    double score;
} xn;

typedef struct xdom {
    xn **blocks;        /* node arena: blocks of XN_BLOCK nodes */
    size_t n_blocks, used;
    xn *root;           /* <html> */
    xn *body;
    bool failed;        /* an allocation failed */
} xdom;

/* extract.c */
const char *tg__xattr(const xn *n, const char *name);
size_t tg__xtext_len(const xn *n);                /* collapsed inner text length */
bool tg__xtext(const xn *n, tg__buf *b);          /* collapsed inner text */
char *tg__xtext_dup(const xn *n);                 /* trimmed; malloc'd */
double tg__xlink_density(const xn *n);
int tg__xclass_weight(const xn *n);
void tg__xremove(xn *n);                          /* detach from its parent */
xn *tg__xnext(const xn *n, const xn *stop, bool skip_children); /* document order */
bool tg__xis(const xn *n, GumboTag t);
bool tg__xhas_ancestor(const xn *n, GumboTag t, int max_depth);
bool tg__xmatch_any(const char *s, const char *const *words);

/* extract_clean.c: cleaning of the article nodes, then output */
typedef struct xflags {
    bool strip_unlikely, weight_classes, clean_conditionally;
} xflags;
void tg__xclean(xdom *d, xn *article, const xflags *f, const char *title);
tg_status tg__xoutput(const xn *article, const char *base_url, char **text, char **html);

/* extract_meta.c */
typedef struct xmeta {
    char *title, *byline, *excerpt, *site_name, *published, *lang;
} xmeta;
void tg__xmeta(const GumboOutput *out, xmeta *m);
void tg__xmeta_free(xmeta *m);
/* The <title>, trimmed of site names ("Story | Site" → "Story"); malloc'd. */
char *tg__xdoc_title(const GumboOutput *out);
/* Similarity of two strings by their words, 0..1 (1: b adds nothing new). */
double tg__xsimilarity(const char *a, const char *b);

#endif
