/*
 * util.c — small string-building helpers of the reading pipeline: JSON and
 * HTML escaping into a tg__buf, printf into a buffer.
 *
 * Escapers must never emit raw control characters or unescaped markup, and
 * never read past the given length.
 */
#include "read/read.h"
#include "token/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool tg__buf_puts(tg__buf *b, const char *s) { return tg__buf_append(b, s, strlen(s)); }

bool tg__buf_printf(tg__buf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    if ((size_t)n < sizeof tmp)
        return tg__buf_append(b, tmp, (size_t)n);
    if (!tg__buf_reserve(b, (size_t)n + 1))
        return false;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

char *tg__buf_take(tg__buf *b) {
    if (b->failed || !tg__buf_append_u8(b, 0)) {
        tg__buf_free(b);
        return NULL;
    }
    char *s = (char *)b->data;
    if (!s) { /* never allocated: cannot happen after an append, kept for safety */
        s = tg__strndup("", 0);
    }
    *b = (tg__buf){0};
    return s;
}

bool tg__json_escape(tg__buf *b, const char *s, size_t len) {
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char tmp[8];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20 || c == 0x7f) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            esc = tmp;
        }
        if (esc) {
            tg__buf_append(b, s + i - run, run);
            run = 0;
            tg__buf_puts(b, esc);
        } else {
            run++;
        }
    }
    tg__buf_append(b, s + len - run, run);
    return !b->failed;
}

bool tg__html_escape(tg__buf *b, const char *s, size_t len) {
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        const char *esc = NULL;
        switch (s[i]) {
        case '&': esc = "&amp;"; break;
        case '<': esc = "&lt;"; break;
        case '>': esc = "&gt;"; break;
        case '"': esc = "&quot;"; break;
        case '\'': esc = "&#39;"; break;
        default: break;
        }
        if (esc) {
            tg__buf_append(b, s + i - run, run);
            run = 0;
            tg__buf_puts(b, esc);
        } else {
            run++;
        }
    }
    tg__buf_append(b, s + len - run, run);
    return !b->failed;
}

char *tg__utf8_repair(const char *s, size_t len) {
    tg__buf b = {0};
    size_t i = 0;
    while (i < len) {
        size_t n = 1;
        tg__utf8_class c = tg__utf8_classify((const uint8_t *)s + i, len - i, &n);
        if (c == TG__UTF8_OK) {
            tg__buf_append(&b, s + i, n);
        } else {
            if (c == TG__UTF8_PARTIAL)
                n = len - i; /* a truncated character at the end */
            tg__buf_append(&b, "\xEF\xBF\xBD", 3);
        }
        i += n ? n : 1;
    }
    tg__buf_append_u8(&b, 0);
    if (b.failed) {
        tg__buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}
