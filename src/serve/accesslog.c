/*
 * accesslog.c — one line per request, written when the request completes:
 *
 *   2025-05-01T10:00:00Z 127.0.0.1 "POST /v1/chat/completions" 200 1234B 0.532s
 *       prompt=12 cached=0 completion=30 finish=stop id=chatcmpl-…
 *
 * (one line; wrapped here).  Fields that come from the client (the path) are
 * escaped: control characters, quotes, backslashes and non-ASCII bytes are
 * written as \xHH, so a request cannot forge or split log lines.  Lines are
 * written whole under a mutex.  Must never: log bodies, headers or keys.
 */
#include "serve/serve.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tg__alog {
    FILE *f;
    bool own;
    pthread_mutex_t mu;
};

tg__alog *tg__alog_open(const char *path) {
    tg__alog *l = tg__calloc(1, sizeof *l);
    if (!l)
        return NULL;
    if (path && *path && strcmp(path, "-") != 0) {
        l->f = fopen(path, "a");
        if (!l->f) {
            tg__fail(TG_ERR_IO, "%s: cannot open the access log", path);
            free(l);
            return NULL;
        }
        l->own = true;
    } else {
        l->f = stderr;
    }
    pthread_mutex_init(&l->mu, NULL);
    return l;
}

void tg__alog_close(tg__alog *l) {
    if (!l)
        return;
    if (l->own)
        fclose(l->f);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* Appends s escaped; returns the new length (stops at cap). */
static size_t put_escaped(char *buf, size_t at, size_t cap, const char *s, size_t max_in) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; s && s[i] && i < max_in && at + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            buf[at++] = '\\';
            buf[at++] = 'x';
            buf[at++] = hex[c >> 4];
            buf[at++] = hex[c & 15];
        } else {
            buf[at++] = (char)c;
        }
    }
    buf[at] = '\0';
    return at;
}

/* printf at buf + at, never past cap; returns the new length. */
TG_PRINTF(4, 5)
static size_t put_fmt(char *buf, size_t at, size_t cap, const char *fmt, ...) {
    if (at + 1 >= cap)
        return at;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + at, cap - at, fmt, ap);
    va_end(ap);
    if (k < 0)
        return at;
    return TG_MIN(cap - 1, at + (size_t)k);
}

size_t tg__alog_format(const tg__access *a, time_t when, char *buf, size_t cap) {
    if (cap < 64) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    struct tm tm;
    gmtime_r(&when, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    n = put_escaped(buf, n, cap, a->remote ? a->remote : "-", 64);
    n = put_fmt(buf, n, cap, " \"");
    n = put_escaped(buf, n, cap, a->method ? a->method : "-", 16);
    n = put_fmt(buf, n, cap, " ");
    n = put_escaped(buf, n, cap, a->path ? a->path : "-", 256);
    n = put_fmt(buf, n, cap, "\" %d %lluB %.3fs", a->status, (unsigned long long)a->bytes, a->seconds);
    if (a->id && *a->id) {
        n = put_fmt(buf, n, cap, " prompt=%d cached=%d completion=%d finish=", a->prompt_tokens, a->cached_tokens,
                    a->completion_tokens);
        n = put_escaped(buf, n, cap, a->finish && *a->finish ? a->finish : "-", 16);
        n = put_fmt(buf, n, cap, " id=");
        n = put_escaped(buf, n, cap, a->id, 64);
    }
    return n;
}

void tg__alog_write(tg__alog *l, const tg__access *a) {
    if (!l)
        return;
    char line[1536];
    size_t n = tg__alog_format(a, time(NULL), line, sizeof line - 1);
    line[n++] = '\n';
    pthread_mutex_lock(&l->mu);
    fwrite(line, 1, n, l->f);
    fflush(l->f);
    pthread_mutex_unlock(&l->mu);
}
