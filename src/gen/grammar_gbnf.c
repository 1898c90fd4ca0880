/*
 * grammar_gbnf.c — llama.cpp's GBNF notation → grammar (tg_grammar_from_gbnf).
 *
 *   rule     ::= name "::=" alternatives        (a newline ends a rule, except
 *                                                 inside parentheses or after |)
 *   element  ::= "literal" | [class] | [^class] | . | name | ( alternatives )
 *   quantity ::= * | + | ? | {m} | {m,} | {m,n}
 *   # comments run to the end of the line; the start rule is `root`.
 * Literals and classes are Unicode code points (escapes \x \u \U \t \r \n
 * \\ \" \[ \] \-), matched as UTF-8.  Token matches (<...>) are not
 * supported.  Rules that call themselves before consuming input, and
 * repetitions of something that can be empty, are refused by the builder.
 *
 * What this file must never do: read past the end of the text (every read
 * checks the end pointer), recurse deeper than GBNF_MAX_DEPTH, or accept a
 * grammar whose rule is used but never defined.
 */
#include "gen/grammar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GBNF_MAX_TEXT (1u << 20)
#define GBNF_MAX_DEPTH 100
#define GBNF_MAX_NAMES 50000u

typedef struct gp {
    tg__gb *b;
    tg__re_pool *pool;
    const char *s, *end, *start;
    tg_status st;
    struct gname {
        const char *p;
        size_t n;
        uint32_t rule;
        bool defined;
        const char *first_use;
    } *names;
    size_t n_names, cap_names;
    uint32_t any_char; /* the DFA of '.', once built */
} gp;

static void pos_of(const gp *g, const char *at, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (const char *c = g->start; c < at && c < g->end; c++) {
        if (*c == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static bool fail_at(gp *g, const char *at, tg_status s, const char *what) {
    if (g->st == TG_OK) {
        int line, col;
        pos_of(g, at, &line, &col);
        g->st = s;
        tg__fail(s, "gbnf: %s (line %d, column %d)", what, line, col);
    }
    return false;
}

static bool is_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* Skips blanks and comments; newlines too if nl. */
static void space(gp *g, bool nl) {
    while (g->s < g->end) {
        char c = *g->s;
        if (c == ' ' || c == '\t' || (nl && (c == '\n' || c == '\r'))) {
            g->s++;
        } else if (c == '#') {
            while (g->s < g->end && *g->s != '\n')
                g->s++;
        } else {
            break;
        }
    }
}

static uint32_t name_rule(gp *g, const char *p, size_t n, bool define) {
    for (size_t i = 0; i < g->n_names; i++)
        if (g->names[i].n == n && memcmp(g->names[i].p, p, n) == 0) {
            if (define) {
                if (g->names[i].defined) {
                    fail_at(g, p, TG_ERR_FORMAT, "rule defined twice");
                    return TG__DEAD;
                }
                g->names[i].defined = true;
            }
            return g->names[i].rule;
        }
    if (g->n_names >= GBNF_MAX_NAMES) {
        fail_at(g, p, TG_ERR_RANGE, "too many rules");
        return TG__DEAD;
    }
    if (g->n_names == g->cap_names) {
        size_t nc = g->cap_names ? g->cap_names * 2 : 32;
        struct gname *nn = tg__realloc(g->names, nc * sizeof *nn);
        if (!nn) {
            g->st = TG_ERR_NOMEM;
            return TG__DEAD;
        }
        g->names = nn;
        g->cap_names = nc;
    }
    uint32_t r = tg__gb_rule(g->b);
    if (r == TG__DEAD || !tg__gb_name(g->b, r, p, n)) {
        g->st = TG_ERR_RANGE;
        return TG__DEAD;
    }
    g->names[g->n_names++] = (struct gname){p, n, r, define, p};
    return r;
}

/* One (possibly escaped) code point of a literal or class; -1 on error. */
static int64_t char_at(gp *g) {
    const uint8_t *p = (const uint8_t *)g->s;
    if (g->s >= g->end)
        return fail_at(g, g->s, TG_ERR_FORMAT, "unexpected end of text"), -1;
    if (*p == '\\') {
        if (g->s + 1 >= g->end)
            return fail_at(g, g->s, TG_ERR_FORMAT, "escape at the end of the text"), -1;
        char e = (char)p[1];
        g->s += 2;
        int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
        if (digits) {
            uint32_t v = 0;
            for (int k = 0; k < digits; k++) {
                if (g->s >= g->end)
                    return fail_at(g, g->s, TG_ERR_FORMAT, "short hex escape"), -1;
                char c = *g->s++;
                int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (h < 0)
                    return fail_at(g, g->s - 1, TG_ERR_FORMAT, "bad hex escape"), -1;
                v = v * 16 + (uint32_t)h;
            }
            if (v > 0x10FFFF)
                return fail_at(g, g->s, TG_ERR_FORMAT, "code point beyond U+10FFFF"), -1;
            return v;
        }
        switch (e) {
        case 't': return '\t';
        case 'r': return '\r';
        case 'n': return '\n';
        case '\\': case '"': case '[': case ']': case '-': return e;
        default: return fail_at(g, g->s - 1, TG_ERR_FORMAT, "unknown escape"), -1;
        }
    }
    /* a UTF-8 character */
    int n = p[0] < 0x80 ? 1 : p[0] >= 0xC2 && p[0] <= 0xDF ? 2 : p[0] >= 0xE0 && p[0] <= 0xEF ? 3
            : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : 0;
    if (n == 0 || g->end - g->s < n)
        return fail_at(g, g->s, TG_ERR_FORMAT, "invalid UTF-8"), -1;
    uint32_t v = n == 1 ? p[0] : p[0] & (0x7F >> n);
    for (int k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return fail_at(g, g->s, TG_ERR_FORMAT, "invalid UTF-8"), -1;
        v = v << 6 | (p[k] & 63);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF))
        return fail_at(g, g->s, TG_ERR_FORMAT, "invalid UTF-8"), -1;
    g->s += n;
    return v;
}

static bool put_utf8(uint32_t c, char *o, size_t *n) {
    if (c < 0x80) {
        o[(*n)++] = (char)c;
    } else if (c < 0x800) {
        o[(*n)++] = (char)(0xC0 | c >> 6);
        o[(*n)++] = (char)(0x80 | (c & 63));
    } else if (c < 0x10000) {
        o[(*n)++] = (char)(0xE0 | c >> 12);
        o[(*n)++] = (char)(0x80 | (c >> 6 & 63));
        o[(*n)++] = (char)(0x80 | (c & 63));
    } else {
        o[(*n)++] = (char)(0xF0 | c >> 18);
        o[(*n)++] = (char)(0x80 | (c >> 12 & 63));
        o[(*n)++] = (char)(0x80 | (c >> 6 & 63));
        o[(*n)++] = (char)(0x80 | (c & 63));
    }
    return true;
}

/* A character class (after '[') as the DFA of one character. */
static uint32_t parse_class(gp *g) {
    tg__cpset set = {0};
    bool neg = false;
    const char *at = g->s - 1;
    if (g->s < g->end && *g->s == '^') {
        neg = true;
        g->s++;
    }
    while (g->s < g->end && *g->s != ']') {
        int64_t lo = char_at(g), hi = lo;
        if (lo < 0)
            goto fail;
        if (g->s + 1 < g->end && *g->s == '-' && g->s[1] != ']') {
            g->s++;
            hi = char_at(g);
            if (hi < 0)
                goto fail;
            if (hi < lo) {
                fail_at(g, g->s, TG_ERR_FORMAT, "character range out of order");
                goto fail;
            }
        }
        if (!tg__cpset_add(&set, (uint32_t)lo, (uint32_t)hi)) {
            g->st = TG_ERR_NOMEM;
            goto fail;
        }
    }
    if (g->s >= g->end) {
        fail_at(g, at, TG_ERR_FORMAT, "unterminated character class");
        goto fail;
    }
    g->s++;
    if (neg && !tg__cpset_negate(&set)) {
        g->st = TG_ERR_NOMEM;
        goto fail;
    }
    tg__re *re = tg__re_cpset(g->pool, set.r, set.n, TG__CP_UTF8);
    tg__cpset_free(&set);
    tg__dfa d;
    if (!re || tg__dfa_build(re, TG__MAX_DFA_STATES, &d) != TG_OK) {
        fail_at(g, at, TG_ERR_RANGE, "character class too large");
        return TG__DEAD;
    }
    return tg__gb_dfa(g->b, &d);
fail:
    tg__cpset_free(&set);
    return TG__DEAD;
}

static uint32_t parse_alternatives(gp *g, uint32_t rule, int depth, bool nested);

/* Reads a quantifier if one follows: min, max (1, 1 if none). */
static bool quantifier(gp *g, uint32_t *min, uint32_t *max) {
    *min = *max = 1;
    if (g->s >= g->end)
        return true;
    char c = *g->s;
    if (c == '*' || c == '+' || c == '?') {
        g->s++;
        *min = c == '+';
        *max = c == '?' ? 1 : TG__INF;
        return true;
    }
    if (c != '{')
        return true;
    const char *at = g->s++;
    uint64_t v[2] = {0, 0};
    bool have[2] = {false, false}, comma = false;
    for (int k = 0; k < 2; k++) {
        space(g, false);
        while (g->s < g->end && *g->s >= '0' && *g->s <= '9') {
            v[k] = v[k] * 10 + (uint64_t)(*g->s++ - '0');
            if (v[k] > TG__MAX_REPEAT)
                return fail_at(g, at, TG_ERR_RANGE, "repetition bound too large");
            have[k] = true;
        }
        space(g, false);
        if (k == 0 && g->s < g->end && *g->s == ',') {
            comma = true;
            g->s++;
        } else {
            break;
        }
    }
    if (g->s >= g->end || *g->s != '}' || !have[0])
        return fail_at(g, at, TG_ERR_FORMAT, "bad {m,n} repetition");
    g->s++;
    *min = (uint32_t)v[0];
    *max = !comma ? (uint32_t)v[0] : have[1] ? (uint32_t)v[1] : TG__INF;
    if (*max < *min)
        return fail_at(g, at, TG_ERR_FORMAT, "repetition {m,n} with n < m");
    return true;
}

/* Appends one element (with its quantifier) to s. */
static bool parse_element(gp *g, tg__seq *s, int depth) {
    const char *at = g->s;
    char c = *g->s;
    tg__seq lit = {0};
    uint32_t kind = TG__G_REF, arg = TG__DEAD;
    if (c == '"') {
        g->s++;
        char buf[4];
        while (g->s < g->end && *g->s != '"') {
            int64_t cp = char_at(g);
            size_t n = 0;
            if (cp < 0 || !put_utf8((uint32_t)cp, buf, &n) || !tg__seq_lit(g->b, &lit, buf, n)) {
                tg__seq_free(&lit);
                return false;
            }
        }
        if (g->s >= g->end) {
            tg__seq_free(&lit);
            return fail_at(g, at, TG_ERR_FORMAT, "unterminated literal");
        }
        g->s++;
    } else if (c == '[') {
        g->s++;
        kind = TG__G_DFA;
        arg = parse_class(g);
    } else if (c == '.') {
        g->s++;
        if (g->any_char == TG__DEAD) {
            tg__cprange any = {1, 0x10FFFF};
            tg__dfa d;
            tg__re *re = tg__re_cpset(g->pool, &any, 1, TG__CP_UTF8);
            if (!re || tg__dfa_build(re, TG__MAX_DFA_STATES, &d) != TG_OK)
                return fail_at(g, at, TG_ERR_NOMEM, "out of memory");
            g->any_char = tg__gb_dfa(g->b, &d);
        }
        kind = TG__G_DFA;
        arg = g->any_char;
    } else if (c == '(') {
        g->s++;
        arg = tg__gb_rule(g->b);
        if (arg == TG__DEAD || parse_alternatives(g, arg, depth + 1, true) == TG__DEAD)
            return false;
        if (g->s >= g->end || *g->s != ')')
            return fail_at(g, at, TG_ERR_FORMAT, "missing )");
        g->s++;
    } else if (is_word(c)) {
        const char *p = g->s;
        while (g->s < g->end && is_word(*g->s))
            g->s++;
        arg = name_rule(g, p, (size_t)(g->s - p), false);
    } else if (c == '<' || c == '!') {
        return fail_at(g, at, TG_ERR_UNSUPPORTED, "token matches (<...>) are not supported");
    } else {
        return fail_at(g, at, TG_ERR_FORMAT, "unexpected character");
    }
    if (g->st || (c != '"' && arg == TG__DEAD)) {
        tg__seq_free(&lit);
        return g->st ? false : fail_at(g, at, TG_ERR_RANGE, "grammar too large");
    }
    uint32_t min, max;
    if (!quantifier(g, &min, &max)) {
        tg__seq_free(&lit);
        return false;
    }
    bool ok;
    if (c == '"') {
        if (min == 1 && max == 1) { /* plain literal: its bytes in place */
            ok = true;
            for (size_t i = 0; i < lit.n && ok; i++)
                ok = tg__seq_elem(g->b, s, lit.e[i].kind, lit.e[i].arg, 1, 1);
        } else { /* a repeated literal is a rule of its own */
            uint32_t r = tg__gb_rule(g->b);
            ok = r != TG__DEAD && tg__gb_alt(g->b, r, &lit) &&
                 tg__seq_elem(g->b, s, TG__G_REF, r, min, max);
        }
    } else if (kind == TG__G_DFA && min == 1 && max == 1) {
        ok = tg__seq_elem(g->b, s, TG__G_DFA, arg, 1, 1);
    } else {
        ok = tg__seq_elem(g->b, s, kind, arg, min, max);
    }
    tg__seq_free(&lit);
    return ok ? true : fail_at(g, at, TG_ERR_RANGE, "grammar too large");
}

/* alternatives of rule; nested: inside parentheses (newlines are blanks). */
static uint32_t parse_alternatives(gp *g, uint32_t rule, int depth, bool nested) {
    if (depth > GBNF_MAX_DEPTH)
        return fail_at(g, g->s, TG_ERR_RANGE, "groups nested too deeply"), TG__DEAD;
    tg__seq s = {0};
    for (;;) {
        space(g, nested);
        if (g->s >= g->end || *g->s == '|' || *g->s == ')' || *g->s == '\n' || *g->s == '\r') {
            if (!tg__gb_alt(g->b, rule, &s)) {
                tg__seq_free(&s);
                return fail_at(g, g->s, TG_ERR_RANGE, "grammar too large"), TG__DEAD;
            }
            if (g->s < g->end && *g->s == '|') {
                g->s++;
                space(g, true);
                continue;
            }
            break;
        }
        if (!parse_element(g, &s, depth)) {
            tg__seq_free(&s);
            return TG__DEAD;
        }
    }
    tg__seq_free(&s);
    return rule;
}

tg_grammar *tg_grammar_from_gbnf(const char *text, size_t len) {
    tg__clear_error();
    if (!text && len)
        return tg__fail(TG_ERR_ARG, "gbnf: NULL text"), NULL;
    if (len > GBNF_MAX_TEXT)
        return tg__fail(TG_ERR_RANGE, "gbnf: %zu bytes is more than the %u allowed", len,
                        GBNF_MAX_TEXT),
               NULL;
    gp g = {0};
    g.any_char = TG__DEAD;
    g.s = g.start = text ? text : "";
    g.end = g.s + len;
    g.b = tg__gb_new();
    g.pool = tg__re_pool_new();
    if (!g.b || !g.pool) {
        tg__gb_free(g.b);
        tg__re_pool_free(g.pool);
        return NULL;
    }
    for (;;) {
        space(&g, true);
        if (g.s >= g.end || g.st)
            break;
        const char *p = g.s;
        while (g.s < g.end && is_word(*g.s))
            g.s++;
        if (g.s == p) {
            fail_at(&g, p, TG_ERR_FORMAT, "expected a rule name");
            break;
        }
        uint32_t r = name_rule(&g, p, (size_t)(g.s - p), true);
        space(&g, false);
        if (g.end - g.s < 3 || memcmp(g.s, "::=", 3) != 0) {
            fail_at(&g, g.s, TG_ERR_FORMAT, "expected ::=");
            break;
        }
        g.s += 3;
        if (r == TG__DEAD || parse_alternatives(&g, r, 0, false) == TG__DEAD)
            break;
        if (g.s < g.end && *g.s == ')') {
            fail_at(&g, g.s, TG_ERR_FORMAT, "unbalanced )");
            break;
        }
    }
    uint32_t root = TG__DEAD;
    for (size_t i = 0; i < g.n_names && g.st == TG_OK; i++) {
        if (!g.names[i].defined) {
            char msg[160];
            snprintf(msg, sizeof msg, "rule '%.*s' is used but not defined",
                     (int)(g.names[i].n > 64 ? 64 : g.names[i].n), g.names[i].p);
            fail_at(&g, g.names[i].first_use, TG_ERR_NOT_FOUND, msg);
        }
        if (g.names[i].n == 4 && memcmp(g.names[i].p, "root", 4) == 0)
            root = g.names[i].rule;
    }
    if (g.st == TG_OK && root == TG__DEAD)
        fail_at(&g, g.end, TG_ERR_NOT_FOUND, "no rule named root");
    tg_grammar *out = NULL;
    if (g.st == TG_OK && !tg__gb_failed(g.b)) {
        out = tg__gb_finish(g.b, root, "gbnf");
        g.b = NULL;
    } else if (g.st == TG_OK) {
        tg__fail_prefix(TG_ERR_RANGE, "gbnf");
    }
    tg__gb_free(g.b);
    tg__re_pool_free(g.pool);
    free(g.names);
    return out;
}
