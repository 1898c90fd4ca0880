/*
 * grammar.c — building grammars (the element/rule form of grammar.h) and the
 * checks that make them safe to run: rules that can never complete are cut
 * out (so no reachable state is a dead end), and rules that reach themselves
 * without consuming a byte, or repeat something that can be empty, are
 * refused (so stepping always terminates).  Also the shared pieces of JSON
 * (bounded whitespace, strings, any value) and tg_grammar_json_object.
 *
 * What this file must never do: let a grammar out that breaks those
 * invariants, or grow past the TG__MAX_* limits.
 */
#include "gen/grammar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tg__gb {
    bool failed;
    tg__gelem *elems;
    uint32_t n_elems, elems_cap;
    struct gb_alt {
        uint32_t rule, first; /* per committed alternative: its rule, first element */
    } *alts;
    uint32_t n_alts, alts_cap;
    uint32_t n_rules;
    char **names; /* optional rule names for messages (GBNF) */
    uint32_t names_cap;
    uint32_t (*classes)[8];
    uint32_t n_classes, classes_cap;
    uint32_t byte_class[256]; /* class of each single byte, TG__DEAD if none yet */
    tg__dfa *dfas;
    uint32_t n_dfas, dfas_cap;
    size_t dfa_cells;
    tg__num *nums;
    uint32_t n_nums, nums_cap;
    uint32_t json_char, ws, any_value, any_object; /* built on demand, TG__DEAD if not */
};

/* Grows *p (of *cap elements of size sz) to hold need elements. */
static bool grow(void *pp, uint32_t *cap, uint32_t need, size_t sz) {
    void **p = pp;
    if (need <= *cap)
        return true;
    uint32_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc = nc > UINT32_MAX / 2 ? need : nc * 2;
    size_t bytes;
    if (!tg__mul_size(nc, sz, &bytes)) {
        tg__fail(TG_ERR_NOMEM, "grammar too large");
        return false;
    }
    void *n = tg__realloc(*p, bytes);
    if (!n)
        return false;
    *p = n;
    *cap = nc;
    return true;
}

static bool gb_fail(tg__gb *b) {
    b->failed = true;
    return false;
}

tg__gb *tg__gb_new(void) {
    tg__gb *b = tg__calloc(1, sizeof *b);
    if (!b)
        return NULL;
    for (int i = 0; i < 256; i++)
        b->byte_class[i] = TG__DEAD;
    b->json_char = b->ws = b->any_value = b->any_object = TG__DEAD;
    return b;
}

void tg__gb_free(tg__gb *b) {
    if (!b)
        return;
    free(b->elems);
    free(b->alts);
    for (uint32_t i = 0; i < b->names_cap; i++)
        free(b->names[i]);
    free(b->names);
    free(b->classes);
    for (uint32_t i = 0; i < b->n_dfas; i++)
        tg__dfa_free(&b->dfas[i]);
    free(b->dfas);
    free(b->nums);
    free(b);
}

bool tg__gb_failed(const tg__gb *b) { return b->failed; }

uint32_t tg__gb_rule(tg__gb *b) {
    if (b->failed)
        return TG__DEAD;
    if (b->n_rules >= TG__MAX_RULES) {
        tg__fail(TG_ERR_RANGE, "grammar too large (more than %u rules)", TG__MAX_RULES);
        gb_fail(b);
        return TG__DEAD;
    }
    return b->n_rules++;
}

bool tg__gb_name(tg__gb *b, uint32_t rule, const char *name, size_t len) {
    if (b->failed || rule >= b->n_rules)
        return false;
    uint32_t old = b->names_cap;
    if (!grow(&b->names, &b->names_cap, rule + 1, sizeof *b->names))
        return gb_fail(b);
    memset(b->names + old, 0, (b->names_cap - old) * sizeof *b->names);
    free(b->names[rule]);
    b->names[rule] = tg__strndup(name, len);
    return b->names[rule] ? true : gb_fail(b);
}

static void rule_label(const tg__gb *b, uint32_t r, char *buf, size_t cap) {
    if (r < b->names_cap && b->names[r])
        snprintf(buf, cap, "rule '%s'", b->names[r]);
    else
        snprintf(buf, cap, "rule %u", r);
}

bool tg__gb_alt(tg__gb *b, uint32_t rule, tg__seq *s) {
    if (b->failed || rule >= b->n_rules) {
        tg__seq_free(s);
        return gb_fail(b);
    }
    uint32_t need = b->n_elems + (uint32_t)s->n + 1;
    if (s->n >= TG__MAX_ELEMS || need > TG__MAX_ELEMS) {
        tg__seq_free(s);
        tg__fail(TG_ERR_RANGE, "grammar too large (more than %u elements)", TG__MAX_ELEMS);
        return gb_fail(b);
    }
    if (!grow(&b->elems, &b->elems_cap, need, sizeof *b->elems) ||
        !grow(&b->alts, &b->alts_cap, b->n_alts + 1, sizeof *b->alts)) {
        tg__seq_free(s);
        return gb_fail(b);
    }
    b->alts[b->n_alts++] = (struct gb_alt){rule, b->n_elems};
    if (s->n)
        memcpy(b->elems + b->n_elems, s->e, s->n * sizeof *s->e);
    b->n_elems += (uint32_t)s->n;
    b->elems[b->n_elems++] = (tg__gelem){TG__G_END, rule, 0, 0};
    s->n = 0;
    return true;
}

uint32_t tg__gb_dfa(tg__gb *b, tg__dfa *d) {
    size_t cells = (size_t)d->n_states * d->n_cls;
    if (b->failed || b->dfa_cells + cells > TG__MAX_DFA_CELLS) {
        if (!b->failed)
            tg__fail(TG_ERR_RANGE, "grammar too large (its automata exceed %u table cells)",
                     TG__MAX_DFA_CELLS);
        tg__dfa_free(d);
        gb_fail(b);
        return TG__DEAD;
    }
    if (!grow(&b->dfas, &b->dfas_cap, b->n_dfas + 1, sizeof *b->dfas)) {
        tg__dfa_free(d);
        gb_fail(b);
        return TG__DEAD;
    }
    b->dfa_cells += cells;
    b->dfas[b->n_dfas] = *d;
    memset(d, 0, sizeof *d);
    return b->n_dfas++;
}

uint32_t tg__gb_num(tg__gb *b, const tg__num *n) {
    if (b->failed || !grow(&b->nums, &b->nums_cap, b->n_nums + 1, sizeof *b->nums)) {
        gb_fail(b);
        return TG__DEAD;
    }
    b->nums[b->n_nums] = *n;
    return b->n_nums++;
}

static uint32_t class_of(tg__gb *b, const uint32_t set[8]) {
    for (uint32_t i = b->n_classes; i-- > 0;)
        if (memcmp(b->classes[i], set, 32) == 0)
            return i;
    if (b->n_classes >= 65536) {
        tg__fail(TG_ERR_RANGE, "grammar too large (more than 65536 byte sets)");
        gb_fail(b);
        return TG__DEAD;
    }
    if (!grow(&b->classes, &b->classes_cap, b->n_classes + 1, sizeof *b->classes)) {
        gb_fail(b);
        return TG__DEAD;
    }
    memcpy(b->classes[b->n_classes], set, 32);
    return b->n_classes++;
}

bool tg__seq_elem(tg__gb *b, tg__seq *s, tg__gkind kind, uint32_t arg, uint32_t min, uint32_t max) {
    if (b->failed || arg == TG__DEAD)
        return gb_fail(b);
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        tg__gelem *ne = tg__realloc(s->e, nc * sizeof *ne);
        if (!ne)
            return gb_fail(b);
        s->e = ne;
        s->cap = nc;
    }
    s->e[s->n++] = (tg__gelem){kind, arg, min, max};
    return true;
}

bool tg__seq_set(tg__gb *b, tg__seq *s, const uint32_t set[8]) {
    return tg__seq_elem(b, s, TG__G_BYTES, class_of(b, set), 1, 1);
}

bool tg__seq_lit(tg__gb *b, tg__seq *s, const char *lit, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)lit[i];
        if (b->byte_class[c] == TG__DEAD) {
            uint32_t set[8] = {0};
            set[c >> 5] = 1u << (c & 31);
            b->byte_class[c] = class_of(b, set);
        }
        if (!tg__seq_elem(b, s, TG__G_BYTES, b->byte_class[c], 1, 1))
            return false;
    }
    return true;
}

void tg__seq_free(tg__seq *s) {
    free(s->e);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ */
/* Shared JSON pieces                                                  */
/* ------------------------------------------------------------------ */

static uint32_t build_dfa(tg__gb *b, tg__re_pool *p, tg__re *re, bool json_char) {
    tg__dfa d;
    if (!re || tg__dfa_build(re, TG__MAX_DFA_STATES, &d) != TG_OK) {
        gb_fail(b);
        return TG__DEAD;
    }
    d.json_char = json_char;
    return tg__gb_dfa(b, &d);
}

uint32_t tg__gb_json_char_dfa(tg__gb *b) {
    if (b->json_char == TG__DEAD && !b->failed) {
        tg__re_pool *p = tg__re_pool_new();
        if (!p) {
            gb_fail(b);
            return TG__DEAD;
        }
        b->json_char = build_dfa(b, p, tg__re_json_char(p), true);
        tg__re_pool_free(p);
    }
    return b->json_char;
}

bool tg__seq_ws(tg__gb *b, tg__seq *s) {
    if (b->ws == TG__DEAD && !b->failed) {
        /* [ \t]{0,INLINE} ( \r? \n ( " "{0,INDENT} | \t{0,INDENT} ) )? : at
         * most one line break per gap, so a model cannot stall on blank
         * lines, and an indent of one kind: a model that alternated spaces
         * and tabs spent a piece per byte and ran out of max_tokens */
        tg__re_pool *p = tg__re_pool_new();
        if (!p)
            return gb_fail(b);
        uint32_t blank[8] = {0};
        blank[' ' >> 5] |= 1u << (' ' & 31);
        blank['\t' >> 5] |= 1u << ('\t' & 31);
        tg__re *nl = tg__re_cat(p, tg__re_rep(p, tg__re_byte(p, '\r'), 0, 1), tg__re_byte(p, '\n'));
        tg__re *indent = tg__re_alt(p, tg__re_rep(p, tg__re_byte(p, ' '), 0, TG__WS_INDENT),
                                    tg__re_rep(p, tg__re_byte(p, '\t'), 0, TG__WS_INDENT));
        tg__re *re = tg__re_cat(p, tg__re_rep(p, tg__re_set(p, blank), 0, TG__WS_INLINE),
                                tg__re_rep(p, tg__re_cat(p, nl, indent), 0, 1));
        b->ws = build_dfa(b, p, re, false);
        tg__re_pool_free(p);
    }
    return tg__seq_elem(b, s, TG__G_DFA, b->ws, 1, 1);
}

uint32_t tg__gb_any_string(tg__gb *b, uint32_t min_len, uint32_t max_len) {
    uint32_t r = tg__gb_rule(b);
    tg__seq s = {0};
    tg__seq_lit(b, &s, "\"", 1);
    tg__seq_elem(b, &s, TG__G_DFA, tg__gb_json_char_dfa(b), min_len, max_len);
    tg__seq_lit(b, &s, "\"", 1);
    tg__gb_alt(b, r, &s);
    tg__seq_free(&s);
    return b->failed ? TG__DEAD : r;
}

/* "{" ws "}" | "{" ws key ws ":" ws value ws ("," ws key ws ":" ws value ws)* "}" */
static uint32_t any_object_with(tg__gb *b, uint32_t value) {
    uint32_t obj = tg__gb_rule(b), member = tg__gb_rule(b), more = tg__gb_rule(b);
    uint32_t key = tg__gb_any_string(b, 0, TG__INF);
    tg__seq s = {0};
    tg__seq_elem(b, &s, TG__G_REF, key, 1, 1);
    tg__seq_ws(b, &s);
    tg__seq_lit(b, &s, ":", 1);
    tg__seq_ws(b, &s);
    tg__seq_elem(b, &s, TG__G_REF, value, 1, 1);
    tg__seq_ws(b, &s);
    tg__gb_alt(b, member, &s);
    tg__seq_lit(b, &s, ",", 1);
    tg__seq_ws(b, &s);
    tg__seq_elem(b, &s, TG__G_REF, member, 1, 1);
    tg__gb_alt(b, more, &s);
    tg__seq_lit(b, &s, "{", 1);
    tg__seq_ws(b, &s);
    tg__seq_lit(b, &s, "}", 1);
    tg__gb_alt(b, obj, &s);
    tg__seq_lit(b, &s, "{", 1);
    tg__seq_ws(b, &s);
    tg__seq_elem(b, &s, TG__G_REF, member, 1, 1);
    tg__seq_elem(b, &s, TG__G_REF, more, 0, TG__INF);
    tg__seq_lit(b, &s, "}", 1);
    tg__gb_alt(b, obj, &s);
    tg__seq_free(&s);
    return b->failed ? TG__DEAD : obj;
}

uint32_t tg__gb_any_value(tg__gb *b) {
    if (b->any_value != TG__DEAD || b->failed)
        return b->any_value;
    uint32_t v = b->any_value = tg__gb_rule(b);
    uint32_t obj = any_object_with(b, v);
    uint32_t arr = tg__gb_rule(b), item = tg__gb_rule(b);
    tg__num num = {.integer = false, .bounded = false, .frac = 16, .int_digits = 16,
                   .exp_digits = 2};
    tg__seq s = {0};
    tg__seq_lit(b, &s, ",", 1);
    tg__seq_ws(b, &s);
    tg__seq_elem(b, &s, TG__G_REF, v, 1, 1);
    tg__seq_ws(b, &s);
    tg__gb_alt(b, item, &s);
    tg__seq_lit(b, &s, "[", 1);
    tg__seq_ws(b, &s);
    tg__seq_lit(b, &s, "]", 1);
    tg__gb_alt(b, arr, &s);
    tg__seq_lit(b, &s, "[", 1);
    tg__seq_ws(b, &s);
    tg__seq_elem(b, &s, TG__G_REF, v, 1, 1);
    tg__seq_ws(b, &s);
    tg__seq_elem(b, &s, TG__G_REF, item, 0, TG__INF);
    tg__seq_lit(b, &s, "]", 1);
    tg__gb_alt(b, arr, &s);
    const uint32_t refs[] = {obj, arr, tg__gb_any_string(b, 0, TG__INF)};
    for (int i = 0; i < 3; i++) {
        tg__seq_elem(b, &s, TG__G_REF, refs[i], 1, 1);
        tg__gb_alt(b, v, &s);
    }
    tg__seq_elem(b, &s, TG__G_NUM, tg__gb_num(b, &num), 1, 1);
    tg__gb_alt(b, v, &s);
    const char *lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        tg__seq_lit(b, &s, lits[i], strlen(lits[i]));
        tg__gb_alt(b, v, &s);
    }
    tg__seq_free(&s);
    b->any_object = obj;
    return b->failed ? TG__DEAD : v;
}

uint32_t tg__gb_any_object(tg__gb *b) {
    tg__gb_any_value(b);
    return b->failed ? TG__DEAD : b->any_object;
}

tg_grammar *tg_grammar_json_object(void) {
    tg__clear_error();
    tg__gb *b = tg__gb_new();
    if (!b)
        return NULL;
    uint32_t root = tg__gb_rule(b);
    tg__seq s = {0};
    tg__seq_ws(b, &s); /* a model may open with a newline */
    tg__seq_elem(b, &s, TG__G_REF, tg__gb_any_object(b), 1, 1);
    tg__gb_alt(b, root, &s);
    tg__seq_free(&s);
    return tg__gb_finish(b, root, "json object");
}

/* ------------------------------------------------------------------ */
/* Checks and freezing                                                 */
/* ------------------------------------------------------------------ */

static bool elem_productive(const tg__gb *b, const tg__gelem *e, const uint8_t *prod) {
    if (e->min == 0)
        return true;
    switch (e->kind) {
    case TG__G_BYTES: {
        uint32_t any = 0;
        for (int i = 0; i < 8; i++)
            any |= b->classes[e->arg][i];
        return any != 0;
    }
    case TG__G_DFA: return !tg__dfa_is_empty(&b->dfas[e->arg]);
    case TG__G_NUM: return tg__num_range_ok(&b->nums[e->arg]);
    case TG__G_REF: return prod[e->arg];
    default: return true;
    }
}

static bool elem_nullable(const tg__gb *b, const tg__gelem *e, const uint8_t *nul) {
    if (e->min == 0 || e->max == 0)
        return true;
    switch (e->kind) {
    case TG__G_DFA: return b->dfas[e->arg].flags[0] & TG__DFA_ACCEPT;
    case TG__G_REF: return nul[e->arg];
    case TG__G_END: return true;
    default: return false;
    }
}

tg_grammar *tg__gb_finish(tg__gb *b, uint32_t root, const char *what) {
    tg_grammar *g = NULL;
    uint8_t *prod = NULL, *nul = NULL, *color = NULL;
    uint32_t *stack = NULL, *pos = NULL;
    if (b->failed || root >= b->n_rules)
        goto fail;
    uint32_t nr = b->n_rules;
    prod = tg__calloc(nr, 1);
    nul = tg__calloc(nr, 1);
    color = tg__calloc(nr, 1);
    stack = tg__malloc((size_t)nr * sizeof *stack);
    pos = tg__malloc((size_t)nr * sizeof *pos);
    if (!prod || !nul || !color || !stack || !pos)
        goto fail;

    /* productive rules: some alternative of only productive elements */
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t a = 0; a < b->n_alts; a++) {
            uint32_t r = b->alts[a].rule;
            if (prod[r])
                continue;
            bool ok = true;
            for (uint32_t i = b->alts[a].first; b->elems[i].kind != TG__G_END && ok; i++)
                ok = elem_productive(b, &b->elems[i], prod);
            if (ok) {
                prod[r] = 1;
                changed = true;
            }
        }
    }
    if (!prod[root]) {
        tg__fail(TG_ERR_ARG, "%s: no text can match it (every alternative is impossible)", what);
        goto fail;
    }
    /* cut what can never complete: optional parts are switched off, and
     * alternatives with a required impossible part are dropped */
    uint32_t kept = 0;
    for (uint32_t a = 0; a < b->n_alts; a++) {
        bool ok = true;
        for (uint32_t i = b->alts[a].first; b->elems[i].kind != TG__G_END; i++) {
            tg__gelem *e = &b->elems[i];
            tg__gelem probe = *e;
            probe.min = 1;
            if (!elem_productive(b, &probe, prod)) {
                if (e->min > 0)
                    ok = false;
                e->max = 0;
            }
        }
        if (ok) {
            b->alts[kept] = b->alts[a];
            kept++;
        }
    }
    b->n_alts = kept;

    /* nullable rules */
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t a = 0; a < b->n_alts; a++) {
            uint32_t r = b->alts[a].rule;
            if (nul[r])
                continue;
            bool ok = true;
            for (uint32_t i = b->alts[a].first; b->elems[i].kind != TG__G_END && ok; i++)
                ok = elem_nullable(b, &b->elems[i], nul);
            if (ok) {
                nul[r] = 1;
                changed = true;
            }
        }
    }
    /* repetitions that could spin without consuming */
    for (uint32_t a = 0; a < b->n_alts; a++)
        for (uint32_t i = b->alts[a].first; b->elems[i].kind != TG__G_END; i++) {
            const tg__gelem *e = &b->elems[i];
            if (e->max <= 1)
                continue;
            char lab[96];
            if (e->kind == TG__G_REF && nul[e->arg]) {
                rule_label(b, e->arg, lab, sizeof lab);
                tg__fail(TG_ERR_ARG, "%s: %s is repeated but can match nothing", what, lab);
                goto fail;
            }
            if (e->kind == TG__G_DFA && ((b->dfas[e->arg].flags[0] & TG__DFA_ACCEPT) ||
                                         !tg__dfa_is_prefix_free(&b->dfas[e->arg]))) {
                rule_label(b, b->alts[a].rule, lab, sizeof lab);
                tg__fail(TG_ERR_ARG, "%s: %s repeats an ambiguous pattern", what, lab);
                goto fail;
            }
        }

    /* flatten: alternatives grouped by rule (counting sort, stable) */
    g = tg__calloc(1, sizeof *g);
    if (!g)
        goto fail;
    g->rules = tg__calloc(nr, sizeof *g->rules);
    g->alt_start = tg__malloc(((size_t)b->n_alts + 1) * sizeof *g->alt_start);
    if (!g->rules || !g->alt_start)
        goto fail;
    for (uint32_t a = 0; a < b->n_alts; a++)
        g->rules[b->alts[a].rule].n++;
    uint32_t acc = 0;
    for (uint32_t r = 0; r < nr; r++) {
        g->rules[r].first = acc;
        acc += g->rules[r].n;
        g->rules[r].n = 0;
    }
    for (uint32_t a = 0; a < b->n_alts; a++) {
        struct tg__grule *ru = &g->rules[b->alts[a].rule];
        g->alt_start[ru->first + ru->n++] = b->alts[a].first;
    }
    g->n_rules = nr;
    g->n_alts = b->n_alts;

    /* left recursion: a rule that can call itself before consuming a byte
     * (depth-first search over those calls, iterative) */
    for (uint32_t r0 = 0; r0 < nr; r0++) {
        if (color[r0])
            continue;
        uint32_t sp = 0;
        stack[sp] = r0;
        pos[sp++] = 0;
        color[r0] = 1;
        while (sp) {
            uint32_t r = stack[sp - 1];
            /* pos enumerates (alternative, element) pairs of r as one index */
            uint32_t next_rule = TG__DEAD;
            while (next_rule == TG__DEAD && pos[sp - 1] < g->rules[r].n) {
                uint32_t first = g->alt_start[g->rules[r].first + pos[sp - 1]];
                pos[sp - 1]++;
                for (uint32_t i = first; b->elems[i].kind != TG__G_END; i++) {
                    const tg__gelem *e = &b->elems[i];
                    if (e->kind == TG__G_REF && e->max > 0) {
                        if (color[e->arg] == 1) {
                            char lab[96];
                            rule_label(b, e->arg, lab, sizeof lab);
                            tg__fail(TG_ERR_ARG,
                                     "%s: %s can reach itself without consuming input "
                                     "(left recursion)",
                                     what, lab);
                            goto fail;
                        }
                        if (color[e->arg] == 0) {
                            /* visit it after this alternative's scan */
                            next_rule = e->arg;
                            pos[sp - 1]--; /* rescan this alternative for more calls */
                            color[e->arg] = 1;
                            break;
                        }
                    }
                    if (!elem_nullable(b, e, nul))
                        break;
                }
            }
            if (next_rule != TG__DEAD) {
                stack[sp] = next_rule;
                pos[sp++] = 0;
            } else {
                color[r] = 2;
                sp--;
            }
        }
    }

    /* the bottom frame: REF root, END */
    if (!grow(&b->elems, &b->elems_cap, b->n_elems + 2, sizeof *b->elems))
        goto fail;
    g->start_elem = b->n_elems;
    b->elems[b->n_elems++] = (tg__gelem){TG__G_REF, root, 1, 1};
    b->elems[b->n_elems++] = (tg__gelem){TG__G_END, TG__DEAD, 0, 0};
    g->elems = b->elems;
    g->n_elems = b->n_elems;
    b->elems = NULL;
    g->classes = b->classes;
    g->n_classes = b->n_classes;
    b->classes = NULL;
    g->dfas = b->dfas;
    g->n_dfas = b->n_dfas;
    b->dfas = NULL;
    b->n_dfas = 0;
    g->nums = b->nums;
    g->n_nums = b->n_nums;
    b->nums = NULL;
    free(prod);
    free(nul);
    free(color);
    free(stack);
    free(pos);
    tg__gb_free(b);
    return g;
fail:
    if (b && b->failed && !tg_last_error()[0])
        tg__fail(TG_ERR_NOMEM, "%s: out of memory", what);
    free(prod);
    free(nul);
    free(color);
    free(stack);
    free(pos);
    tg_grammar_free(g);
    tg__gb_free(b);
    return NULL;
}

void tg_grammar_free(tg_grammar *g) {
    if (!g)
        return;
    free(g->elems);
    free(g->alt_start);
    free(g->rules);
    free(g->classes);
    for (uint32_t i = 0; i < g->n_dfas; i++)
        tg__dfa_free(&g->dfas[i]);
    free(g->dfas);
    free(g->nums);
    free(g);
}
