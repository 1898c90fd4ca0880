/*
 * cli_util.c — small helpers shared by the subcommands: reading a whole
 * file, parsing numbers from flags with range checks, token-list files.
 * Like every CLI file it uses only the public API; errors are printed here
 * ("tinglado: …") and reported to the caller as false/NULL.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

char *tg_cli_read_file(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "tinglado: %s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 65536) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                fprintf(stderr, "tinglado: %s: out of memory reading it\n", path);
                free(buf);
                if (f != stdin)
                    fclose(f);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    bool err = ferror(f) != 0;
    if (f != stdin)
        fclose(f);
    if (err) {
        fprintf(stderr, "tinglado: %s: read error\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

bool tg_cli_tokens_push(tg_tokens *t, tg_token id) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        tg_token *ids = realloc(t->ids, cap * sizeof *ids);
        if (!ids) {
            fputs("tinglado: out of memory\n", stderr);
            return false;
        }
        t->ids = ids;
        t->cap = cap;
    }
    t->ids[t->n++] = id;
    return true;
}

bool tg_cli_parse_int(const char *flag, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "tinglado: %s expects an integer in [%ld, %ld], not '%s'\n", flag, lo, hi, s);
        return false;
    }
    *out = v;
    return true;
}

bool tg_cli_parse_float(const char *flag, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "tinglado: %s expects a number in [%g, %g], not '%s'\n", flag, lo, hi, s);
        return false;
    }
    *out = v;
    return true;
}

static bool token_list_error(const char *what, ptrdiff_t at) {
    fprintf(stderr, "tinglado: token list: %s at offset %td\n", what, at);
    return false;
}

/* Parses `{"tokens":[1,2,3]}` (or a bare `[1,2,3]`): whitespace allowed,
 * nothing else.  Strict: anything unexpected is an error with its offset. */
bool tg_cli_parse_token_list(const char *text, size_t len, tg_tokens *out) {
    const char *p = text, *end = text + len;
#define SKIP_WS() while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++
    SKIP_WS();
    bool object = p < end && *p == '{';
    if (object) {
        p++;
        SKIP_WS();
        static const char key[] = "\"tokens\"";
        if ((size_t)(end - p) < sizeof key - 1 || memcmp(p, key, sizeof key - 1))
            return token_list_error("expected \"tokens\"", p - text);
        p += sizeof key - 1;
        SKIP_WS();
        if (p >= end || *p++ != ':')
            return token_list_error("expected ':' at offset %td", p - text);
        SKIP_WS();
    }
    if (p >= end || *p++ != '[')
        return token_list_error("expected '[' at offset %td", p - text);
    SKIP_WS();
    if (p < end && *p == ']')
        p++;
    else
        for (;;) {
            SKIP_WS();
            char *e;
            errno = 0;
            long v = strtol(p, &e, 10);
            if (e == p || errno || v < 0 || v > INT32_MAX || e > end)
                return token_list_error("expected a token id at offset %td", p - text);
            if (!tg_cli_tokens_push(out, (tg_token)v))
                return false;
            p = e;
            SKIP_WS();
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            if (p < end && *p == ']') {
                p++;
                break;
            }
            return token_list_error("expected ',' or ']' at offset %td", p - text);
        }
    SKIP_WS();
    if (object) {
        if (p >= end || *p++ != '}')
            return token_list_error("expected '}' at offset %td", p - text);
        SKIP_WS();
    }
    if (p != end)
        return token_list_error("unexpected text at offset %td", p - text);
#undef SKIP_WS
    return true;
}

bool tg_cli_parse_kv_type(const char *s, tg_type *out) {
    if (!strcmp(s, "f16"))
        *out = TG_TYPE_F16;
    else if (!strcmp(s, "f32"))
        *out = TG_TYPE_F32;
    else {
        fprintf(stderr, "tinglado: --kv-type is f16 or f32, not '%s'\n", s);
        return false;
    }
    return true;
}
