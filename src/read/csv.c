/*
 * csv.c — RFC 4180 CSV reading and writing for the Pocket and Instapaper
 * exports and our own CSV export.
 *
 * Reading is lenient where real exports are sloppy (a stray quote inside an
 * unquoted field is kept as a character; a missing final newline is fine;
 * an unterminated quote runs to the end) and never reads past the buffer.
 */
#include "read/read.h"

#include <stdlib.h>
#include <string.h>

void tg__csv_init(tg__csv *c, const char *data, size_t len) {
    memset(c, 0, sizeof *c);
    c->p = data;
    c->end = data + len;
    /* a UTF-8 byte-order mark is not part of the first header name */
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
        c->p += 3;
}

void tg__csv_free(tg__csv *c) {
    free(c->scratch);
    free(c->fields);
    memset(c, 0, sizeof *c);
}

int tg__csv_next(tg__csv *c) {
    if (c->p >= c->end)
        return 0;
    /* The row's fields are copied into scratch, each NUL-terminated; the
     * copy is never longer than the row itself plus one NUL per field. */
    size_t avail = (size_t)(c->end - c->p) * 2 + 2;
    if (c->scratch_cap < avail) {
        char *s = realloc(c->scratch, avail);
        if (!s)
            return -1;
        c->scratch = s;
        c->scratch_cap = avail;
    }
    size_t used = 0, n = 0;
    /* field offsets into scratch, turned into pointers once scratch is final */
    size_t offs_cap = 16, *offs = malloc(offs_cap * sizeof *offs);
    if (!offs)
        return -1;
    const char *p = c->p;
    for (;;) {
        if (n == offs_cap) {
            size_t *o = realloc(offs, offs_cap * 2 * sizeof *o);
            if (!o) {
                free(offs);
                return -1;
            }
            offs = o;
            offs_cap *= 2;
        }
        offs[n++] = used;
        if (p < c->end && *p == '"') {
            p++;
            while (p < c->end) {
                if (*p == '"') {
                    if (p + 1 < c->end && p[1] == '"') {
                        c->scratch[used++] = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                c->scratch[used++] = *p++;
            }
            /* anything after the closing quote up to the delimiter is kept */
            while (p < c->end && *p != ',' && *p != '\n' && *p != '\r')
                c->scratch[used++] = *p++;
        } else {
            while (p < c->end && *p != ',' && *p != '\n' && *p != '\r')
                c->scratch[used++] = *p++;
        }
        c->scratch[used++] = '\0';
        if (p < c->end && *p == ',') {
            p++;
            continue;
        }
        break;
    }
    if (p < c->end && *p == '\r')
        p++;
    if (p < c->end && *p == '\n')
        p++;
    c->p = p;
    if (c->fields_cap < n) {
        char **f = realloc(c->fields, n * sizeof *f);
        if (!f) {
            free(offs);
            return -1;
        }
        c->fields = f;
        c->fields_cap = n;
    }
    for (size_t i = 0; i < n; i++)
        c->fields[i] = c->scratch + offs[i];
    c->n_fields = n;
    free(offs);
    return 1;
}

bool tg__csv_put(tg__buf *b, const char *s, bool last) {
    if (!s)
        s = "";
    bool quote = strpbrk(s, ",\"\r\n") != NULL || (*s == ' ' || (*s && s[strlen(s) - 1] == ' '));
    if (quote) {
        tg__buf_append_u8(b, '"');
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                tg__buf_append_u8(b, '"');
            tg__buf_append_u8(b, (uint8_t)*p);
        }
        tg__buf_append_u8(b, '"');
    } else {
        tg__buf_puts(b, s);
    }
    tg__buf_puts(b, last ? "\r\n" : ",");
    return !b->failed;
}
