/*
 * read.h — internals shared by the files of the reading pipeline (src/read/):
 * URL canonicalisation, date parsing, CSV, zlib, and the store's
 * transaction helpers.  Nothing here is public API; tinglado.h holds that.
 *
 * Every function that reads untrusted bytes (pages, export files, URLs)
 * takes an explicit length and never crashes on malformed input.
 */
#ifndef TG_READ_H
#define TG_READ_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- url.c -------------------------------------------------------- */

/* A malloc'd canonical form of an http(s) URL: scheme and host lower-cased,
 * default port, fragment and tracking parameters (utm_*, fbclid, gclid …)
 * removed, empty path "/".  NULL (TG_ERR_FORMAT) for anything that is not an
 * absolute http or https URL. */
char *tg__url_canonical(const char *url, size_t len);
/* A malloc'd copy of the len bytes at url with every byte of an ill-formed
 * UTF-8 sequence percent-encoded (%FF), so a URL from the wire can be
 * written into JSON, CSV or HTML; valid UTF-8 (IRIs) is kept as it is. */
char *tg__url_encode_invalid(const char *url, size_t len);
/* The host part of an absolute URL into out (lower-cased); false if none. */
bool tg__url_host(const char *url, char *out, size_t cap);
/* A malloc'd absolute URL for href relative to base (RFC 3986 section 5.2),
 * or NULL when href cannot be resolved.  base may be NULL (then only
 * absolute hrefs resolve). */
char *tg__url_resolve(const char *base, const char *href);

/* ---- date.c ------------------------------------------------------- */

/* Unix seconds of an ISO 8601 / RFC 3339 date ("2024-03-01", "2024-03-01T10:20:30+01:00",
 * "…Z", "…+0100", fractions ignored), an RFC 2822 date ("Fri, 01 Mar 2024
 * 10:20:30 GMT") or a plain decimal number of seconds; false if unparsable. */
bool tg__parse_date(const char *s, int64_t *out);
/* "2024-03-01T10:20:30Z" into out (cap >= 21). */
void tg__format_date(int64_t t, char *out, size_t cap);

/* ---- csv.c -------------------------------------------------------- */

/* An RFC 4180 reader over a buffer: quoted fields with "" escapes and line
 * breaks, CRLF or LF rows.  Fields point into a scratch buffer owned by the
 * reader and stay valid until the next call. */
typedef struct tg__csv {
    const char *p, *end;
    char *scratch;
    size_t scratch_cap;
    char **fields;
    size_t n_fields, fields_cap;
} tg__csv;
void tg__csv_init(tg__csv *c, const char *data, size_t len);
/* The next row into c->fields / c->n_fields; 0 at the end, 1 for a row,
 * -1 on allocation failure. */
int tg__csv_next(tg__csv *c);
void tg__csv_free(tg__csv *c);
/* Appends one field, quoted when it needs it. */
bool tg__csv_put(tg__buf *b, const char *s, bool last);

/* ---- zlib.c ------------------------------------------------------- */

/* zlib-compressed copy of data (malloc'd); NULL on failure. */
uint8_t *tg__deflate(const void *data, size_t len, size_t *out_len);
/* Inflates into a malloc'd buffer of exactly raw_len bytes (+1 NUL);
 * NULL (TG_ERR_FORMAT) if the stream is corrupt or has another length. */
uint8_t *tg__inflate(const void *data, size_t len, size_t raw_len);

/* ---- pdf.c -------------------------------------------------------- */

struct tg_article;
/* At most this many pages and bytes of text are read from one PDF. */
#define TG__PDF_MAX_PAGES 2000
#define TG__PDF_MAX_TEXT (8u << 20)
/* True if the bytes are a PDF (they start with "%PDF-"). */
bool tg__pdf_sniff(const char *data, size_t len);
/* The text of a PDF as an article (tg_extract calls it for PDF bytes):
 * TG_ERR_FORMAT "not a readable PDF (…)" when poppler rejects the file,
 * TG_ERR_UNSUPPORTED "PDF has no text layer …" when no page has text. */
tg_status tg__pdf_extract(const char *data, size_t len, struct tg_article *out);

/* ---- small string helpers (util.c) -------------------------------- */

/* A malloc'd copy of s with each ill-formed UTF-8 subpart replaced by
 * U+FFFD (what a browser shows), NUL-terminated; NULL when out of memory.
 * Titles and tags from import files go through it so that every export
 * (JSON above all) stays well-formed. */
char *tg__utf8_repair(const char *s, size_t len);

/* Appends s to b with JSON string escaping (no quotes added). */
bool tg__json_escape(tg__buf *b, const char *s, size_t len);
/* Appends s to b with HTML escaping of & < > " '. */
bool tg__html_escape(tg__buf *b, const char *s, size_t len);
bool tg__buf_puts(tg__buf *b, const char *s);
bool tg__buf_printf(tg__buf *b, const char *fmt, ...) TG_PRINTF(2, 3);
/* The buffer's bytes as a malloc'd NUL-terminated string (the buffer is
 * emptied); NULL if an append had failed. */
char *tg__buf_take(tg__buf *b);

/* ---- keyphrase.c -------------------------------------------------- */

/* Up to max candidate tags of an article (malloc'd array of malloc'd
 * well-formed UTF-8 strings, 1 to 30 bytes each, best first, no two the same
 * once lower-cased; *n of them): the known tags the first n bytes of text
 * or the title mention, as given (a known tag that is not well-formed UTF-8
 * is left out), then the frequent content words and two-word phrases of
 * title and text, lower-cased.  NULL (TG_ERR_NOMEM) only when out of
 * memory. */
/* A letter, mark or decimal digit: what a candidate's words are made of. */
bool tg__is_word_char(uint32_t c);
char **tg__key_phrases(const char *title, const char *text, size_t n, const char *const *known, size_t n_known,
                       size_t max, size_t *out_n);

/* ---- grounding.c -------------------------------------------------- */

/* A model's summary with its blanks (white space, zero-width characters)
 * made single spaces and cut before the first sentence fewer than
 * min_share of whose words (case-folded, whole; a CJK character each) are
 * in the first n bytes of the article: where a small model starts to
 * drift.  Malloc'd, maybe empty; NULL only when out of memory. */
char *tg__grounded_summary(const char *summary, const char *article, size_t n, double min_share);
/* A character of a script written without spaces (kana, CJK ideographs,
 * hangul), which counts as a word of its own in a summary's word count
 * (enrich.c) and its grounding. */
bool tg__is_cjk_word(uint32_t c);
/* Whether s[i] is the full stop of an initial ("M." in "Bradley M. Kuhn":
 * one capital letter after a non-letter), which ends no sentence. */
bool tg__is_initial(const char *s, size_t i);

#endif /* TG_READ_H */
