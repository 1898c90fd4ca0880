/*
 * grammar_re.c — regular expressions as syntax trees over bytes: the common
 * form of everything the grammar engine turns into DFAs (JSON Schema
 * patterns and formats, enum literals, JSON string characters, GBNF
 * character classes).
 *
 * Code points become bytes here, in one of two ways: plain UTF-8, or as
 * they must appear inside a JSON string literal (", \ and control
 * characters escaped).  Surrogates are never produced, and U+0000 is never
 * produced inside JSON strings (many parsers refuse it).
 *
 * What this file must never do: recurse without a depth bound on pattern
 * text, or build more than TG__MAX_RE_NODES nodes.
 */
#include "gen/grammar.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define POOL_CHUNK 1024
typedef struct pool_chunk {
    struct pool_chunk *next;
    tg__re nodes[POOL_CHUNK];
} pool_chunk;

struct tg__re_pool {
    pool_chunk *chunks;
    size_t used;  /* in the first chunk */
    size_t total; /* nodes handed out */
    tg__re *none, *empty;
};

tg__re_pool *tg__re_pool_new(void) { return tg__calloc(1, sizeof(tg__re_pool)); }

void tg__re_pool_free(tg__re_pool *p) {
    if (!p)
        return;
    while (p->chunks) {
        pool_chunk *n = p->chunks->next;
        free(p->chunks);
        p->chunks = n;
    }
    free(p);
}

static tg__re *node(tg__re_pool *p, int op) {
    if (p->total >= TG__MAX_RE_NODES) {
        tg__fail(TG_ERR_RANGE, "expression too large (more than %u nodes)", TG__MAX_RE_NODES);
        return NULL;
    }
    if (!p->chunks || p->used == POOL_CHUNK) {
        pool_chunk *c = tg__malloc(sizeof *c);
        if (!c)
            return NULL;
        c->next = p->chunks;
        p->chunks = c;
        p->used = 0;
    }
    tg__re *r = &p->chunks->nodes[p->used++];
    p->total++;
    memset(r, 0, sizeof *r);
    r->op = (uint8_t)op;
    return r;
}

tg__re *tg__re_none(tg__re_pool *p) {
    if (!p->none)
        p->none = node(p, TG__RE_NONE);
    return p->none;
}

tg__re *tg__re_empty(tg__re_pool *p) {
    if (!p->empty)
        p->empty = node(p, TG__RE_EMPTY);
    return p->empty;
}

tg__re *tg__re_set(tg__re_pool *p, const uint32_t set[8]) {
    uint32_t any = 0;
    for (int i = 0; i < 8; i++)
        any |= set[i];
    if (!any)
        return tg__re_none(p);
    tg__re *r = node(p, TG__RE_SET);
    if (r)
        memcpy(r->set, set, sizeof r->set);
    return r;
}

tg__re *tg__re_byte_range(tg__re_pool *p, uint8_t lo, uint8_t hi) {
    uint32_t set[8] = {0};
    for (unsigned c = lo; c <= hi; c++)
        set[c >> 5] |= 1u << (c & 31);
    return tg__re_set(p, set);
}

tg__re *tg__re_byte(tg__re_pool *p, uint8_t b) { return tg__re_byte_range(p, b, b); }

tg__re *tg__re_cat(tg__re_pool *p, tg__re *a, tg__re *b) {
    if (!a || !b)
        return NULL;
    if (a->op == TG__RE_NONE || b->op == TG__RE_NONE)
        return tg__re_none(p);
    if (a->op == TG__RE_EMPTY)
        return b;
    if (b->op == TG__RE_EMPTY)
        return a;
    tg__re *r = node(p, TG__RE_CAT);
    if (r) {
        r->a = a;
        r->b = b;
    }
    return r;
}

tg__re *tg__re_alt(tg__re_pool *p, tg__re *a, tg__re *b) {
    if (!a || !b)
        return NULL;
    if (a->op == TG__RE_NONE)
        return b;
    if (b->op == TG__RE_NONE)
        return a;
    if (a->op == TG__RE_SET && b->op == TG__RE_SET) { /* keeps byte classes as sets */
        uint32_t set[8];
        for (int i = 0; i < 8; i++)
            set[i] = a->set[i] | b->set[i];
        return tg__re_set(p, set);
    }
    tg__re *r = node(p, TG__RE_ALT);
    if (r) {
        r->a = a;
        r->b = b;
    }
    return r;
}

tg__re *tg__re_rep(tg__re_pool *p, tg__re *a, uint32_t min, uint32_t max) {
    if (!a)
        return NULL;
    if (max != TG__INF && (max < min || max > TG__MAX_REPEAT)) {
        tg__fail(TG_ERR_RANGE, "repetition {%u,%u} out of range (at most %u)", min, max,
                 TG__MAX_REPEAT);
        return NULL;
    }
    if (min > TG__MAX_REPEAT) {
        tg__fail(TG_ERR_RANGE, "repetition {%u,} out of range (at most %u)", min, TG__MAX_REPEAT);
        return NULL;
    }
    if (max == 0 || a->op == TG__RE_EMPTY)
        return tg__re_empty(p);
    if (a->op == TG__RE_NONE)
        return min == 0 ? tg__re_empty(p) : a;
    if (min == 1 && max == 1)
        return a;
    tg__re *r = node(p, TG__RE_REP);
    if (r) {
        r->a = a;
        r->min = min;
        r->max = max;
    }
    return r;
}

tg__re *tg__re_lit(tg__re_pool *p, const char *s, size_t n) {
    tg__re *r = tg__re_empty(p);
    for (size_t i = 0; i < n && r; i++)
        r = tg__re_cat(p, r, tg__re_byte(p, (uint8_t)s[i]));
    return r;
}

/* ------------------------------------------------------------------ */
/* Code point sets                                                     */
/* ------------------------------------------------------------------ */

bool tg__cpset_add(tg__cpset *s, uint32_t lo, uint32_t hi) {
    if (lo > hi)
        return true;
    /* insert keeping order, then merge overlapping/adjacent ranges */
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 8;
        tg__cprange *nr = tg__realloc(s->r, nc * sizeof *nr);
        if (!nr)
            return false;
        s->r = nr;
        s->cap = nc;
    }
    size_t i = s->n;
    while (i > 0 && s->r[i - 1].lo > lo) {
        s->r[i] = s->r[i - 1];
        i--;
    }
    s->r[i] = (tg__cprange){lo, hi};
    s->n++;
    size_t w = 0;
    for (size_t k = 1; k < s->n; k++) {
        if (s->r[k].lo <= s->r[w].hi || s->r[k].lo == s->r[w].hi + 1) {
            if (s->r[k].hi > s->r[w].hi)
                s->r[w].hi = s->r[k].hi;
        } else {
            s->r[++w] = s->r[k];
        }
    }
    s->n = w + 1;
    return true;
}

bool tg__cpset_negate(tg__cpset *s) {
    tg__cpset o = {0};
    uint32_t next = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->r[i].lo > next && !tg__cpset_add(&o, next, s->r[i].lo - 1)) {
            tg__cpset_free(&o);
            return false;
        }
        next = s->r[i].hi + 1;
    }
    if (next <= 0x10FFFF && !tg__cpset_add(&o, next, 0x10FFFF)) {
        tg__cpset_free(&o);
        return false;
    }
    tg__cpset_free(s);
    *s = o;
    return true;
}

void tg__cpset_free(tg__cpset *s) {
    free(s->r);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ */
/* Code points → UTF-8 byte ranges                                     */
/* ------------------------------------------------------------------ */

static int utf8_len(uint32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }

static void utf8_put(uint32_t c, uint8_t *o) {
    switch (utf8_len(c)) {
    case 1: o[0] = (uint8_t)c; break;
    case 2: o[0] = (uint8_t)(0xC0 | c >> 6); o[1] = (uint8_t)(0x80 | (c & 63)); break;
    case 3:
        o[0] = (uint8_t)(0xE0 | c >> 12);
        o[1] = (uint8_t)(0x80 | (c >> 6 & 63));
        o[2] = (uint8_t)(0x80 | (c & 63));
        break;
    default:
        o[0] = (uint8_t)(0xF0 | c >> 18);
        o[1] = (uint8_t)(0x80 | (c >> 12 & 63));
        o[2] = (uint8_t)(0x80 | (c >> 6 & 63));
        o[3] = (uint8_t)(0x80 | (c & 63));
    }
}

/* [lo, hi] (no surrogates inside) as alternatives of byte-range sequences:
 * split where the encoded length changes, then where the low 6k bits of the
 * two ends are not full ranges, until each byte position is a plain range. */
static tg__re *utf8_ranges(tg__re_pool *p, uint32_t lo, uint32_t hi) {
    if (lo > hi)
        return tg__re_none(p);
    static const uint32_t len_edge[] = {0x7F, 0x7FF, 0xFFFF};
    for (int k = 0; k < 3; k++)
        if (lo <= len_edge[k] && len_edge[k] < hi)
            return tg__re_alt(p, utf8_ranges(p, lo, len_edge[k]),
                              utf8_ranges(p, len_edge[k] + 1, hi));
    if (hi < 0x80)
        return tg__re_byte_range(p, (uint8_t)lo, (uint8_t)hi);
    int n = utf8_len(lo);
    for (int i = 1; i < n; i++) {
        uint32_t m = (1u << (6 * i)) - 1;
        if ((lo & ~m) != (hi & ~m)) {
            if ((lo & m) != 0)
                return tg__re_alt(p, utf8_ranges(p, lo, lo | m), utf8_ranges(p, (lo | m) + 1, hi));
            if ((hi & m) != m)
                return tg__re_alt(p, utf8_ranges(p, lo, (hi & ~m) - 1),
                                  utf8_ranges(p, hi & ~m, hi));
        }
    }
    uint8_t a[4], b[4];
    utf8_put(lo, a);
    utf8_put(hi, b);
    tg__re *r = tg__re_empty(p);
    for (int i = 0; i < n; i++)
        r = tg__re_cat(p, r, tg__re_byte_range(p, a[i], b[i]));
    return r;
}

/* [lo, hi] minus the surrogates. */
static tg__re *utf8_cps(tg__re_pool *p, uint32_t lo, uint32_t hi) {
    if (hi > 0x10FFFF)
        hi = 0x10FFFF;
    if (lo > hi)
        return tg__re_none(p);
    if (hi < 0xD800 || lo > 0xDFFF)
        return utf8_ranges(p, lo, hi);
    tg__re *r = tg__re_none(p);
    if (lo < 0xD800)
        r = utf8_ranges(p, lo, 0xD7FF);
    if (hi > 0xDFFF)
        r = tg__re_alt(p, r, utf8_ranges(p, 0xE000, hi));
    return r;
}

/* The escaped form a JSON string literal must use for c (", \, controls). */
static tg__re *json_escape(tg__re_pool *p, uint32_t c) {
    char buf[8];
    switch (c) {
    case '"': return tg__re_lit(p, "\\\"", 2);
    case '\\': return tg__re_lit(p, "\\\\", 2);
    case '\b': return tg__re_lit(p, "\\b", 2);
    case '\t': return tg__re_lit(p, "\\t", 2);
    case '\n': return tg__re_lit(p, "\\n", 2);
    case '\f': return tg__re_lit(p, "\\f", 2);
    case '\r': return tg__re_lit(p, "\\r", 2);
    default: {
        static const char hex[] = "0123456789abcdef";
        memcpy(buf, "\\u00", 4);
        buf[4] = hex[c >> 4 & 15];
        buf[5] = hex[c & 15];
        return tg__re_lit(p, buf, 6);
    }
    }
}

static bool json_must_escape(uint32_t c) { return c < 0x20 || c == '"' || c == '\\'; }

tg__re *tg__re_cpset(tg__re_pool *p, const tg__cprange *r, size_t n, tg__cpmode mode) {
    tg__re *out = tg__re_none(p);
    for (size_t i = 0; i < n && out; i++) {
        uint32_t lo = r[i].lo, hi = r[i].hi;
        if (mode == TG__CP_UTF8) {
            out = tg__re_alt(p, out, utf8_cps(p, lo, hi));
            continue;
        }
        if (lo == 0)
            lo = 1; /* never U+0000 inside a JSON string */
        /* raw runs between the characters that need escapes */
        uint32_t c = lo;
        while (c <= hi && out) {
            if (json_must_escape(c)) {
                out = tg__re_alt(p, out, json_escape(p, c));
                c++;
                continue;
            }
            uint32_t e = c;
            while (e < hi && !json_must_escape(e + 1))
                e++;
            out = tg__re_alt(p, out, utf8_cps(p, c, e));
            if (e == hi)
                break;
            c = e + 1;
        }
    }
    return out;
}

/* ------------------------------------------------------------------ */
/* One JSON string character                                           */
/* ------------------------------------------------------------------ */

static tg__re *chars(tg__re_pool *p, const char *list) {
    uint32_t set[8] = {0};
    for (const char *c = list; *c; c++)
        set[(uint8_t)*c >> 5] |= 1u << ((uint8_t)*c & 31);
    return tg__re_set(p, set);
}

tg__re *tg__re_json_char(tg__re_pool *p) {
    tg__cprange raw[] = {{0x20, 0x21}, {0x23, 0x5B}, {0x5D, 0x10FFFF}};
    tg__re *r = tg__re_cpset(p, raw, 3, TG__CP_UTF8);
    const char *hexd = "0123456789abcdefABCDEF";
    tg__re *h = chars(p, hexd);
    tg__re *h2 = tg__re_cat(p, h, h);
    /* \uXXXX: not a surrogate and not 0000 */
    tg__re *u = tg__re_cat(p, tg__re_cat(p, chars(p, "123456789abcABCefEF"), h2), h);
    u = tg__re_alt(p, u, tg__re_cat(p, tg__re_cat(p, chars(p, "dD"), chars(p, "01234567")), h2));
    tg__re *nz = chars(p, "123456789abcdefABCDEF");
    tg__re *z3 = tg__re_alt(p, tg__re_cat(p, nz, h2),
                            tg__re_cat(p, tg__re_byte(p, '0'),
                                       tg__re_alt(p, tg__re_cat(p, nz, h),
                                                  tg__re_cat(p, tg__re_byte(p, '0'), nz))));
    u = tg__re_alt(p, u, tg__re_cat(p, tg__re_byte(p, '0'), z3));
    /* a surrogate pair */
    tg__re *hi_s = tg__re_cat(p, tg__re_cat(p, chars(p, "dD"), chars(p, "89abAB")), h2);
    tg__re *lo_s = tg__re_cat(p, tg__re_cat(p, chars(p, "dD"), chars(p, "cdefCDEF")), h2);
    u = tg__re_alt(p, u, tg__re_cat(p, hi_s, tg__re_cat(p, tg__re_lit(p, "\\u", 2), lo_s)));
    tg__re *esc = tg__re_alt(p, chars(p, "\"\\/bfnrt"), tg__re_cat(p, tg__re_byte(p, 'u'), u));
    return tg__re_alt(p, r, tg__re_cat(p, tg__re_byte(p, '\\'), esc));
}

/* ------------------------------------------------------------------ */
/* ECMA-262 patterns (the subset JSON Schema users write)              */
/* ------------------------------------------------------------------ */

typedef struct rp {
    tg__re_pool *p;
    const char *s;
    size_t n, i;
    tg_status st; /* first failure */
} rp;

#define RP_MAX_DEPTH 64

static tg__re *rp_fail(rp *r, tg_status s, const char *what) {
    if (r->st == TG_OK) {
        r->st = s;
        tg__fail(s, "%s (offset %zu)", what, r->i);
    }
    return NULL;
}

/* Next code point of the pattern text (UTF-8); -1 on bad UTF-8. */
static int64_t rp_cp(rp *r) {
    const uint8_t *s = (const uint8_t *)r->s;
    uint8_t c = s[r->i];
    if (c < 0x80) {
        r->i++;
        return c;
    }
    int n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (n == 0 || r->i + (size_t)n > r->n)
        return -1;
    uint32_t v = c & (0x7F >> n);
    for (int k = 1; k < n; k++) {
        if ((s[r->i + k] & 0xC0) != 0x80)
            return -1;
        v = v << 6 | (s[r->i + k] & 63);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF))
        return -1;
    r->i += (size_t)n;
    return v;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool rp_hex(rp *r, int digits, uint32_t *out) {
    uint32_t v = 0;
    for (int k = 0; k < digits; k++) {
        if (r->i >= r->n || hexval(r->s[r->i]) < 0)
            return false;
        v = v * 16 + (uint32_t)hexval(r->s[r->i++]);
    }
    *out = v;
    return true;
}

/* Validators disagree on \d \w \s: ECMA and PCRE2 read them as ASCII,
 * Python's re as Unicode (and \s differs again).  Output must match under
 * every reading, so where a set is used as is we take its smallest reading
 * and where it is complemented (\D, [^\d]) the complement of its largest. */
static tg__cpset wide_sets[3]; /* Unicode \d, \w, \s */
static pthread_once_t wide_once = PTHREAD_ONCE_INIT;
static bool wide_ok;

static void wide_init(void) {
    bool ok = true;
    /* runs of code points in each set, added as ranges when they end */
    uint32_t run_lo[2] = {0, 0};
    bool in_run[2] = {false, false};
    for (uint32_t c = 0; c <= 0x110000 && ok; c++) {
        bool member[2] = {false, false};
        if (c <= 0x10FFFF && (c < 0xD800 || c > 0xDFFF)) {
            utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
            member[0] = k == UTF8PROC_CATEGORY_ND;
            member[1] = k == UTF8PROC_CATEGORY_PC ||
                        (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_NO);
        }
        for (int i = 0; i < 2 && ok; i++) {
            if (member[i] && !in_run[i]) {
                run_lo[i] = c;
                in_run[i] = true;
            } else if (!member[i] && in_run[i]) {
                ok = tg__cpset_add(&wide_sets[i], run_lo[i], c - 1);
                in_run[i] = false;
            }
        }
    }
    static const tg__cprange sp[] = {{9, 13},          {0x1C, 0x20},     {0x85, 0x85},
                                     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
                                     {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F},
                                     {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
    for (size_t k = 0; k < TG_ARRAY_LEN(sp) && ok; k++)
        ok = tg__cpset_add(&wide_sets[2], sp[k].lo, sp[k].hi);
    wide_ok = ok;
}

/* Adds class escape c (d D w W s S) to s; `small`: the reading that is a
 * subset of every validator's (false: a superset, for complemented use). */
static bool add_class_escape(tg__cpset *s, char c, bool small) {
    static const tg__cprange d[] = {{'0', '9'}};
    static const tg__cprange w[] = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
    static const tg__cprange sp[] = {{9, 13}, {' ', ' '}};
    bool upper = c == 'D' || c == 'W' || c == 'S';
    int which = c == 'd' || c == 'D' ? 0 : c == 'w' || c == 'W' ? 1 : 2;
    /* \d small = ASCII; \D small = not(wide \d); and the reverse for large */
    bool wide = upper ? small : !small;
    tg__cpset t = {0};
    bool ok = true;
    if (wide) {
        pthread_once(&wide_once, wide_init);
        if (!wide_ok)
            return false;
        const tg__cpset *src = &wide_sets[which];
        for (size_t k = 0; k < src->n && ok; k++)
            ok = tg__cpset_add(&t, src->r[k].lo, src->r[k].hi);
    } else {
        const tg__cprange *src = which == 0 ? d : which == 1 ? w : sp;
        size_t n = which == 0 ? 1 : which == 1 ? 4 : 2;
        for (size_t k = 0; k < n && ok; k++)
            ok = tg__cpset_add(&t, src[k].lo, src[k].hi);
    }
    if (ok && upper)
        ok = tg__cpset_negate(&t);
    for (size_t k = 0; k < t.n && ok; k++)
        ok = tg__cpset_add(s, t.r[k].lo, t.r[k].hi);
    tg__cpset_free(&t);
    return ok;
}

/* An escape after '\': a class escape goes into *set (returns -2), a single
 * character is returned, -1 on error. */
static int64_t rp_escape(rp *r, tg__cpset *set, bool in_class, bool small) {
    if (r->i >= r->n)
        return rp_fail(r, TG_ERR_FORMAT, "pattern ends with a backslash"), -1;
    char c = r->s[r->i++];
    uint32_t v;
    switch (c) {
    case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
        if (!add_class_escape(set, c, small))
            return rp_fail(r, TG_ERR_NOMEM, "out of memory"), -1;
        return -2;
    case 't': return '\t';
    case 'n': return '\n';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'v': return '\v';
    case '0': return 0;
    case 'b':
        if (in_class)
            return '\b';
        return rp_fail(r, TG_ERR_UNSUPPORTED, "word boundary \\b is not supported"), -1;
    case 'x':
        if (!rp_hex(r, 2, &v))
            return rp_fail(r, TG_ERR_FORMAT, "bad \\x escape"), -1;
        return v;
    case 'u':
        if (r->i < r->n && r->s[r->i] == '{') {
            r->i++;
            v = 0;
            int nd = 0;
            while (r->i < r->n && hexval(r->s[r->i]) >= 0 && nd < 7) {
                v = v * 16 + (uint32_t)hexval(r->s[r->i++]);
                nd++;
            }
            if (nd == 0 || r->i >= r->n || r->s[r->i] != '}' || v > 0x10FFFF)
                return rp_fail(r, TG_ERR_FORMAT, "bad \\u{...} escape"), -1;
            r->i++;
            return v;
        }
        if (!rp_hex(r, 4, &v))
            return rp_fail(r, TG_ERR_FORMAT, "bad \\u escape"), -1;
        if (v >= 0xD800 && v <= 0xDBFF && r->i + 6 <= r->n && r->s[r->i] == '\\' &&
            r->s[r->i + 1] == 'u') {
            size_t save = r->i;
            uint32_t lo;
            r->i += 2;
            if (rp_hex(r, 4, &lo) && lo >= 0xDC00 && lo <= 0xDFFF)
                return 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            r->i = save;
        }
        if (v >= 0xD800 && v <= 0xDFFF)
            return rp_fail(r, TG_ERR_UNSUPPORTED, "lone surrogate escape"), -1;
        return v;
    default:
        if ((c >= '1' && c <= '9') || c == 'k')
            return rp_fail(r, TG_ERR_UNSUPPORTED, "back-references are not supported"), -1;
        if (c == 'p' || c == 'P')
            return rp_fail(r, TG_ERR_UNSUPPORTED, "Unicode property escapes are not supported"),
                   -1;
        if (c == 'c' || c == 'B')
            return rp_fail(r, TG_ERR_UNSUPPORTED, "this escape is not supported"), -1;
        if ((unsigned char)c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            return rp_fail(r, TG_ERR_FORMAT, "unknown escape"), -1;
        return (unsigned char)c; /* an escaped punctuation character */
    }
}

static tg__re *rp_from_set(rp *r, tg__cpset *s) {
    tg__re *x = tg__re_cpset(r->p, s->r, s->n, TG__CP_JSON);
    tg__cpset_free(s);
    if (!x)
        return rp_fail(r, TG_ERR_NOMEM, "expression too large");
    return x;
}

static tg__re *rp_class(rp *r) {
    tg__cpset s = {0};
    bool neg = false;
    if (r->i < r->n && r->s[r->i] == '^') {
        neg = true;
        r->i++;
    }
    for (;;) {
        if (r->i >= r->n) {
            tg__cpset_free(&s);
            return rp_fail(r, TG_ERR_FORMAT, "unterminated character class");
        }
        if (r->s[r->i] == ']') {
            r->i++;
            break;
        }
        int64_t lo;
        if (r->s[r->i] == '\\') {
            r->i++;
            lo = rp_escape(r, &s, true, !neg);
        } else {
            lo = rp_cp(r);
            if (lo < 0)
                rp_fail(r, TG_ERR_FORMAT, "invalid UTF-8");
        }
        if (lo == -1) {
            tg__cpset_free(&s);
            return NULL;
        }
        if (lo == -2)
            continue;
        int64_t hi = lo;
        if (r->i + 1 < r->n && r->s[r->i] == '-' && r->s[r->i + 1] != ']') {
            r->i++;
            if (r->s[r->i] == '\\') {
                r->i++;
                hi = rp_escape(r, &s, true, !neg);
                if (hi == -2) {
                    tg__cpset_free(&s);
                    return rp_fail(r, TG_ERR_FORMAT, "class escape as a range end");
                }
            } else {
                hi = rp_cp(r);
                if (hi < 0)
                    rp_fail(r, TG_ERR_FORMAT, "invalid UTF-8");
            }
            if (hi < 0) {
                tg__cpset_free(&s);
                return NULL;
            }
            if (hi < lo) {
                tg__cpset_free(&s);
                return rp_fail(r, TG_ERR_FORMAT, "character range out of order");
            }
        }
        if (!tg__cpset_add(&s, (uint32_t)lo, (uint32_t)hi)) {
            tg__cpset_free(&s);
            return rp_fail(r, TG_ERR_NOMEM, "out of memory");
        }
    }
    if (neg && !tg__cpset_negate(&s)) {
        tg__cpset_free(&s);
        return rp_fail(r, TG_ERR_NOMEM, "out of memory");
    }
    return rp_from_set(r, &s);
}

static tg__re *rp_alt(rp *r, int depth);

static tg__re *rp_atom(rp *r, int depth) {
    char c = r->s[r->i];
    tg__cpset s = {0};
    if (c == '(') {
        r->i++;
        if (r->i < r->n && r->s[r->i] == '?') {
            if (r->i + 1 < r->n && r->s[r->i + 1] == ':') {
                r->i += 2;
            } else if (r->i + 2 < r->n && r->s[r->i + 1] == '<' && r->s[r->i + 2] != '=' &&
                       r->s[r->i + 2] != '!') {
                /* a named group: the name does not change the language */
                while (r->i < r->n && r->s[r->i] != '>')
                    r->i++;
                if (r->i >= r->n)
                    return rp_fail(r, TG_ERR_FORMAT, "unterminated group name");
                r->i++;
            } else {
                return rp_fail(r, TG_ERR_UNSUPPORTED, "lookaround assertions are not supported");
            }
        }
        tg__re *x = rp_alt(r, depth + 1);
        if (!x)
            return NULL;
        if (r->i >= r->n || r->s[r->i] != ')')
            return rp_fail(r, TG_ERR_FORMAT, "missing )");
        r->i++;
        return x;
    }
    if (c == '[') {
        r->i++;
        return rp_class(r);
    }
    if (c == '.') {
        r->i++;
        /* any character but the line terminators */
        bool ok = tg__cpset_add(&s, '\n', '\n') && tg__cpset_add(&s, '\r', '\r') &&
                  tg__cpset_add(&s, 0x2028, 0x2029) && tg__cpset_negate(&s);
        if (!ok) {
            tg__cpset_free(&s);
            return rp_fail(r, TG_ERR_NOMEM, "out of memory");
        }
        return rp_from_set(r, &s);
    }
    if (c == '\\') {
        r->i++;
        int64_t v = rp_escape(r, &s, false, true);
        if (v == -1) {
            tg__cpset_free(&s);
            return NULL;
        }
        if (v >= 0 && !tg__cpset_add(&s, (uint32_t)v, (uint32_t)v)) {
            tg__cpset_free(&s);
            return rp_fail(r, TG_ERR_NOMEM, "out of memory");
        }
        return rp_from_set(r, &s);
    }
    if (c == '^' || c == '$')
        return rp_fail(r, TG_ERR_UNSUPPORTED,
                       "anchors are supported only at the start (^) and end ($) of the pattern");
    if (c == '*' || c == '+' || c == '?' || c == '{')
        return rp_fail(r, TG_ERR_FORMAT, "quantifier without an operand");
    int64_t v = rp_cp(r);
    if (v < 0)
        return rp_fail(r, TG_ERR_FORMAT, "invalid UTF-8");
    if (!tg__cpset_add(&s, (uint32_t)v, (uint32_t)v)) {
        tg__cpset_free(&s);
        return rp_fail(r, TG_ERR_NOMEM, "out of memory");
    }
    return rp_from_set(r, &s);
}

static bool rp_number(rp *r, uint32_t *out) {
    uint64_t v = 0;
    size_t start = r->i;
    while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9') {
        v = v * 10 + (uint64_t)(r->s[r->i++] - '0');
        if (v > TG__MAX_REPEAT)
            v = TG__MAX_REPEAT + 1; /* reported as out of range below */
    }
    *out = (uint32_t)v;
    return r->i > start;
}

/* A quantifier after an atom, if any. */
static tg__re *rp_quant(rp *r, tg__re *x) {
    while (x && r->i < r->n) {
        char c = r->s[r->i];
        uint32_t min, max;
        if (c == '*' || c == '+' || c == '?') {
            r->i++;
            min = c == '+' ? 1 : 0;
            max = c == '?' ? 1 : TG__INF;
        } else if (c == '{') {
            size_t save = r->i++;
            if (!rp_number(r, &min)) {
                r->i = save; /* ECMA (non-u) reads a lone { as a literal; we do not */
                return rp_fail(r, TG_ERR_FORMAT, "bad {m,n} quantifier");
            }
            max = min;
            if (r->i < r->n && r->s[r->i] == ',') {
                r->i++;
                if (!rp_number(r, &max))
                    max = TG__INF;
            }
            if (r->i >= r->n || r->s[r->i] != '}')
                return rp_fail(r, TG_ERR_FORMAT, "bad {m,n} quantifier");
            r->i++;
            if (min > TG__MAX_REPEAT || (max != TG__INF && max > TG__MAX_REPEAT))
                return rp_fail(r, TG_ERR_RANGE, "repetition bound too large");
            if (max < min)
                return rp_fail(r, TG_ERR_FORMAT, "{m,n} with n < m");
        } else {
            break;
        }
        if (r->i < r->n && r->s[r->i] == '?')
            r->i++; /* lazy: same language */
        x = tg__re_rep(r->p, x, min, max);
        if (!x)
            return rp_fail(r, TG_ERR_RANGE, "repetition too large");
    }
    return x;
}

static tg__re *rp_seq(rp *r, int depth) {
    tg__re *x = tg__re_empty(r->p);
    while (x && r->i < r->n && r->s[r->i] != '|' && r->s[r->i] != ')') {
        if (depth == 0 && r->s[r->i] == '$' && (r->i + 1 == r->n || r->s[r->i + 1] == '|'))
            break; /* a branch's end anchor, handled by the caller */
        tg__re *a = rp_quant(r, rp_atom(r, depth));
        if (!a)
            return NULL;
        x = tg__re_cat(r->p, x, a);
    }
    if (!x)
        return rp_fail(r, TG_ERR_NOMEM, "expression too large");
    return x;
}

static tg__re *rp_alt(rp *r, int depth) {
    if (depth > RP_MAX_DEPTH)
        return rp_fail(r, TG_ERR_RANGE, "groups nested too deeply");
    tg__re *x = rp_seq(r, depth);
    while (x && r->i < r->n && r->s[r->i] == '|') {
        r->i++;
        tg__re *y = rp_seq(r, depth);
        if (!y)
            return NULL;
        x = tg__re_alt(r->p, x, y);
    }
    return x;
}

tg_status tg__re_parse_pattern(tg__re_pool *p, const char *pat, size_t n, tg__re **out) {
    rp r = {p, pat, n, 0, TG_OK};
    *out = NULL;
    /* JSON Schema patterns are searches: each top-level branch not anchored
     * at an end may have any text on that side */
    tg__re *any = tg__re_rep(p, tg__re_json_char(p), 0, TG__INF);
    tg__re *all = tg__re_none(p);
    for (;;) {
        bool anchored_start = r.i < n && pat[r.i] == '^';
        if (anchored_start)
            r.i++;
        tg__re *body = rp_seq(&r, 0);
        if (!body)
            return r.st ? r.st : TG_ERR_NOMEM;
        bool anchored_end = r.i < n && pat[r.i] == '$';
        if (anchored_end)
            r.i++;
        if (r.i < n && pat[r.i] != '|') {
            if (pat[r.i] == ')')
                rp_fail(&r, TG_ERR_FORMAT, "unbalanced )");
            else
                rp_fail(&r, TG_ERR_UNSUPPORTED,
                        "anchors are supported only at the start (^) and end ($) of the pattern");
            return r.st;
        }
        if (!anchored_start)
            body = tg__re_cat(p, any, body);
        if (!anchored_end)
            body = tg__re_cat(p, body, any);
        all = tg__re_alt(p, all, body);
        if (!all)
            return TG_ERR_NOMEM;
        if (r.i >= n)
            break;
        r.i++; /* '|' */
    }
    *out = all;
    return TG_OK;
}
