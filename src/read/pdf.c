/*
 * pdf.c — the text of a PDF as an article, through poppler-glib (Debian's
 * libpoppler-glib-dev): title from the document's metadata (else its first
 * line of text), author as byline, creation date as published, and the text
 * page by page.
 *
 * Poppler gives lines, not paragraphs: lines are joined with a space, and a
 * blank line, or the end of a page, ends a paragraph (the library's text
 * convention: paragraphs separated by blank lines).  The HTML is one <p> per
 * paragraph, escaped: nothing of the PDF's own structure (links, forms,
 * JavaScript) is carried over.
 *
 * What this file must never do: trust the document's page count for an
 * allocation, run unbounded on a huge document (TG__PDF_MAX_PAGES pages and
 * TG__PDF_MAX_TEXT bytes at most; the size of the file is bounded by the
 * fetcher's cap), or succeed with an empty text — a scanned PDF without a
 * text layer is a clear per-item failure, as is a file poppler rejects.
 */
#include "read/read.h"
#include "tinglado.h"

#include <poppler.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* poppler's global state (GlobalParams, font caches) is set up on first use
 * and is not documented as safe across threads; sync runs several workers,
 * and PDFs are few: one document at a time. */
static pthread_mutex_t pdf_mu = PTHREAD_MUTEX_INITIALIZER;

bool tg__pdf_sniff(const char *data, size_t len) {
    /* only at the very start: readers accept junk before the header, but an
     * HTML page quoting "%PDF-" in its first kilobyte must stay HTML */
    return len >= 5 && !memcmp(data, "%PDF-", 5);
}

/* Appends one page's text: lines joined with a space, a blank line → a
 * paragraph break ("\n\n").  Control characters other than line breaks
 * (form feeds between columns, NULs) become spaces. */
static void add_page(tg__buf *t, const char *page) {
    bool blank_run = false;
    for (const char *line = page; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        size_t a = 0, b = n;
        while (a < b && ((unsigned char)line[a] <= ' '))
            a++;
        while (b > a && ((unsigned char)line[b - 1] <= ' '))
            b--;
        if (a == b) {
            blank_run = true;
        } else {
            if (t->len) {
                const bool para_end = t->data[t->len - 1] == '\n';
                if (blank_run && !para_end)
                    tg__buf_append(t, "\n\n", 2);
                else if (!para_end)
                    tg__buf_append_u8(t, ' ');
            }
            for (size_t i = a; i < b; i++) {
                unsigned char c = (unsigned char)line[i];
                tg__buf_append_u8(t, c < ' ' || c == 0x7f ? ' ' : c);
            }
            blank_run = false;
        }
        line += n + (nl ? 1 : 0);
    }
    if (t->len && t->data[t->len - 1] != '\n')
        tg__buf_append(t, "\n\n", 2); /* a page ends its paragraph */
}

/* One <p> per paragraph of text. */
static char *to_html(const char *text) {
    tg__buf h = {0};
    for (const char *p = text; *p;) {
        const char *e = strstr(p, "\n\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n) {
            tg__buf_puts(&h, "<p>");
            tg__html_escape(&h, p, n);
            tg__buf_puts(&h, "</p>\n");
        }
        p += n;
        while (*p == '\n')
            p++;
    }
    return tg__buf_take(&h);
}

/* A metadata string as clean UTF-8 with collapsed whitespace, or NULL. */
static char *meta(gchar *s) {
    if (!s)
        return NULL;
    char *fixed = tg__utf8_repair(s, strlen(s));
    g_free(s);
    if (!fixed)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; fixed[i]; i++) {
        unsigned char c = (unsigned char)fixed[i];
        if (c <= ' ' || c == 0x7f) {
            if (j && fixed[j - 1] != ' ')
                fixed[j++] = ' ';
        } else {
            fixed[j++] = (char)c;
        }
    }
    while (j && fixed[j - 1] == ' ')
        j--;
    fixed[j] = '\0';
    if (!j) {
        free(fixed);
        return NULL;
    }
    return fixed;
}

/* The first line with text, trimmed, within a title's length (malloc'd). */
static char *first_text_line(const char *page) {
    for (const char *line = page; *line;) {
        size_t n = strcspn(line, "\n");
        size_t a = 0, b = n;
        while (a < b && (unsigned char)line[a] <= ' ')
            a++;
        while (b > a && (unsigned char)line[b - 1] <= ' ')
            b--;
        if (a < b) {
            size_t k = TG_MIN(b - a, (size_t)200);
            while (k < b - a && k && ((unsigned char)line[a + k] & 0xC0) == 0x80)
                k--; /* never cut a character in two */
            char *o = tg__strndup(line + a, k);
            for (size_t i = 0; o && o[i]; i++)
                if ((unsigned char)o[i] < ' ')
                    o[i] = ' ';
            return o;
        }
        line += n + (line[n] ? 1 : 0);
    }
    return NULL;
}

static tg_status extract_locked(const char *data, size_t len, tg_article *out) {
    GError *err = NULL;
    GBytes *bytes = g_bytes_new_static(data, len);
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &err);
    g_bytes_unref(bytes); /* the document holds its own reference */
    if (!doc) {
        tg_status s = tg__fail(TG_ERR_FORMAT, "not a readable PDF (%s)",
                               err && err->message ? err->message : "rejected by poppler");
        if (err)
            g_error_free(err);
        return s;
    }
    int n_pages = poppler_document_get_n_pages(doc);
    if (n_pages < 0)
        n_pages = 0;
    tg__buf t = {0};
    char *first_line = NULL; /* the title when the metadata has none */
    for (int i = 0; i < n_pages && i < TG__PDF_MAX_PAGES && t.len < TG__PDF_MAX_TEXT; i++) {
        PopplerPage *page = poppler_document_get_page(doc, i);
        if (!page)
            continue;
        gchar *txt = poppler_page_get_text(page);
        if (txt) {
            char *fixed = tg__utf8_repair(txt, strlen(txt));
            if (fixed) {
                add_page(&t, fixed);
                if (!first_line)
                    first_line = first_text_line(fixed);
            }
            free(fixed);
            g_free(txt);
        }
        g_object_unref(page);
    }
    while (t.len && (t.data[t.len - 1] == '\n' || t.data[t.len - 1] == ' '))
        t.len--;
    if (t.len > TG__PDF_MAX_TEXT) { /* cut at a character boundary */
        t.len = TG__PDF_MAX_TEXT;
        while (t.len && (t.data[t.len] & 0xC0) == 0x80)
            t.len--;
    }
    char *text = tg__buf_take(&t);
    if (!text) {
        free(first_line);
        g_object_unref(doc);
        return tg__fail(TG_ERR_NOMEM, "PDF: out of memory");
    }
    if (!*text) {
        free(first_line);
        free(text);
        g_object_unref(doc);
        return tg__fail(TG_ERR_UNSUPPORTED, "PDF has no text layer (%d page%s; a scanned document?)", n_pages,
                        n_pages == 1 ? "" : "s");
    }
    out->text = text;
    out->html = to_html(text);
    out->title = meta(poppler_document_get_title(doc));
    if (!out->title) {
        out->title = first_line;
        first_line = NULL;
    }
    free(first_line);
    out->byline = meta(poppler_document_get_author(doc));
    GDateTime *created = poppler_document_get_creation_date_time(doc);
    if (created) {
        out->published_time = g_date_time_to_unix(created);
        char iso[32];
        tg__format_date(out->published_time, iso, sizeof iso);
        out->published = tg__strndup(iso, strlen(iso));
        g_date_time_unref(created);
    }
    size_t n = strcspn(text, "\n");
    if (n > 300) {
        n = 300;
        while (n && (text[n] & 0xC0) == 0x80)
            n--;
    }
    out->excerpt = tg__strndup(text, n);
    g_object_unref(doc);
    if (!out->html || !out->title || !out->excerpt) {
        tg_article_clear(out);
        return tg__fail(TG_ERR_NOMEM, "PDF: out of memory");
    }
    return TG_OK;
}

tg_status tg__pdf_extract(const char *data, size_t len, tg_article *out) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&pdf_mu);
    tg_status s = extract_locked(data, len, out);
    pthread_mutex_unlock(&pdf_mu);
    return s;
}
