/*
 * golden_util.h — reading the tokenizer goldens (tests/golden/tokenizer/<name>.jsonl,
 * written by tools/gen_tokenizer_golden.py) and finding the vocabularies they
 * name.  Header-only, for the test programs of tests/token/.
 *
 * The goldens are JSON lines in a fixed shape we write ourselves, so a few
 * string searches read them; no JSON library is needed at test time.
 * Vocabulary locators: "model:<file>" is $TINGLADO_MODEL when its file name
 * matches, else <cache>/models/<file>; "vocab:<file>" is
 * ${TINGLADO_VOCAB_DIR:-<cache>/llama.cpp-vocab}/<file>, where <cache> is
 * $TINGLADO_CACHE, else $XDG_CACHE_HOME/tinglado, else ~/.cache/tinglado
 * (the rule of scripts/cache-dir.sh).
 */
#ifndef TG_TESTS_TOKEN_GOLDEN_UTIL_H
#define TG_TESTS_TOKEN_GOLDEN_UTIL_H

#include "tinglado.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_DIR "tests/golden/tokenizer"

/* Whole file into memory, NUL-terminated; NULL if unreadable. */
static inline char *gu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *b = realloc(buf, 2 * cap + 1);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}

#define GU_PATH 1024 /* size of every path buffer here */

/* snprintf that reports truncation as failure (-1). */
#define GU_FMT(out, ...) (snprintf((out), GU_PATH, __VA_ARGS__) >= GU_PATH ? -1 : 0)

static inline int gu_cache_dir(char out[GU_PATH]) {
    const char *c = getenv("TINGLADO_CACHE"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (c && *c)
        return GU_FMT(out, "%s", c);
    if (x && *x)
        return GU_FMT(out, "%s/tinglado", x);
    return GU_FMT(out, "%s/.cache/tinglado", h ? h : ".");
}

static inline int gu_vocab_dir(char out[GU_PATH]) {
    const char *d = getenv("TINGLADO_VOCAB_DIR");
    char cache[GU_PATH];
    if (d && *d)
        return GU_FMT(out, "%s", d);
    if (gu_cache_dir(cache))
        return -1;
    return GU_FMT(out, "%s/llama.cpp-vocab", cache);
}

/* The path of the default model (TINGLADO_MODEL or the cache). */
static inline int gu_default_model(char out[GU_PATH]) {
    const char *m = getenv("TINGLADO_MODEL");
    char cache[GU_PATH];
    if (m && *m)
        return GU_FMT(out, "%s", m);
    if (gu_cache_dir(cache))
        return -1;
    return GU_FMT(out, "%s/models/gemma-3-270m-q4_k_m.gguf", cache);
}

/* Resolves a golden's vocabulary locator into out; 0 on success. */
static inline int gu_locate(const char *loc, size_t loc_len, char out[GU_PATH]) {
    char name[256], dir[GU_PATH];
    if (loc_len < 6 || loc_len - 6 >= sizeof name)
        return -1;
    memcpy(name, loc + 6, loc_len - 6);
    name[loc_len - 6] = '\0';
    if (!strncmp(loc, "model:", 6)) {
        const char *m = getenv("TINGLADO_MODEL");
        if (m && *m) {
            const char *slash = strrchr(m, '/');
            if (!strcmp(slash ? slash + 1 : m, name))
                return GU_FMT(out, "%s", m);
        }
        if (gu_cache_dir(dir))
            return -1;
        return GU_FMT(out, "%s/models/%s", dir, name);
    }
    if (!strncmp(loc, "vocab:", 6)) {
        if (gu_vocab_dir(dir))
            return -1;
        return GU_FMT(out, "%s/%s", dir, name);
    }
    return -1;
}

static inline int gu_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* ---- the fixed-shape JSON of one line [p, end) ---- */

/* Points just after `"key":`, or NULL. */
static inline const char *gu_key(const char *p, const char *end, const char *key) {
    char pat[64];
    int n = snprintf(pat, sizeof pat, "\"%s\":", key);
    for (; p + n <= end; p++) {
        p = memchr(p, '"', (size_t)(end - p));
        if (!p || p + n > end)
            return NULL;
        if (!memcmp(p, pat, (size_t)n))
            return p + n;
    }
    return NULL;
}

static inline const char *gu_skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static inline long long gu_int(const char *p, const char *end, const char *key, long long dflt) {
    const char *v = gu_key(p, end, key);
    return v ? strtoll(gu_skip_ws(v, end), NULL, 10) : dflt;
}

static inline int gu_bool(const char *p, const char *end, const char *key) {
    const char *v = gu_key(p, end, key);
    return v && !strncmp(gu_skip_ws(v, end), "true", 4);
}

/* A string value: *s points at its first character; returns its length, -1 if absent. */
static inline long gu_str(const char *p, const char *end, const char *key, const char **s) {
    const char *v = gu_key(p, end, key);
    if (!v)
        return -1;
    v = gu_skip_ws(v, end);
    if (v >= end || *v != '"')
        return -1;
    const char *q = memchr(v + 1, '"', (size_t)(end - v - 1));
    if (!q)
        return -1;
    *s = v + 1;
    return (long)(q - v - 1);
}

/* A hex string value decoded into a fresh buffer; NULL if absent. */
static inline unsigned char *gu_hex(const char *p, const char *end, const char *key, size_t *n) {
    const char *s;
    long len = gu_str(p, end, key, &s);
    if (len < 0 || len % 2)
        return NULL;
    unsigned char *b = malloc((size_t)len / 2 + 1);
    for (long i = 0; i < len; i++) { /* not sscanf: it measures the whole file each call */
        char c = s[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 0;
        if (i % 2 == 0)
            b[i / 2] = (unsigned char)(d << 4);
        else
            b[i / 2] |= (unsigned char)d;
    }
    b[len / 2] = 0;
    *n = (size_t)len / 2;
    return b;
}

/* An array of integers; returns the count (ids malloc'd), -1 if absent. */
static inline long gu_ints(const char *p, const char *end, const char *key, int32_t **ids) {
    const char *v = gu_key(p, end, key);
    if (!v)
        return -1;
    v = gu_skip_ws(v, end);
    if (v >= end || *v != '[')
        return -1;
    size_t cap = 16, n = 0;
    int32_t *a = malloc(cap * sizeof *a);
    v++;
    for (;;) {
        while (v < end && (*v == ' ' || *v == ','))
            v++;
        if (v >= end || *v == ']')
            break;
        char *e;
        long long x = strtoll(v, &e, 10);
        if (e == v)
            break;
        if (n == cap)
            a = realloc(a, (cap *= 2) * sizeof *a);
        a[n++] = (int32_t)x;
        v = e;
    }
    *ids = a;
    return (long)n;
}

/* The golden files of the directory (sorted, corpus.jsonl excluded). */
static inline int gu_list_goldens(char names[][256], int max) {
    DIR *d = opendir(GOLDEN_DIR);
    int n = 0;
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t l = strlen(e->d_name);
        if (l > 6 && !strcmp(e->d_name + l - 6, ".jsonl") && strcmp(e->d_name, "corpus.jsonl") &&
            l < 256)
            snprintf(names[n++], 256, "%s", e->d_name);
    }
    closedir(d);
    for (int i = 1; i < n; i++) /* insertion sort: a handful of names */
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[256];
            memcpy(t, names[j], 256);
            memcpy(names[j], names[j - 1], 256);
            memcpy(names[j - 1], t, 256);
        }
    return n;
}

/* Formats ids for messages: "[1 2 3 …]" (at most 24). */
static inline const char *gu_fmt_ids(const int32_t *ids, size_t n, char *buf, size_t cap) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (size_t i = 0; i < n && i < 24 && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, i ? " %d" : "%d", ids[i]);
    if (k < cap)
        snprintf(buf + k, cap - k, n > 24 ? " … (%zu)]" : "]", n);
    return buf;
}

#endif /* TG_TESTS_TOKEN_GOLDEN_UTIL_H */
