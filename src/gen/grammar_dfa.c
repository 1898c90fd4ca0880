/*
 * grammar_dfa.c — regular expression trees (grammar_re.c) → byte-level DFAs.
 *
 * Thompson NFA, then subset construction over byte equivalence classes (the
 * coarsest partition of 0..255 that no set in the NFA splits), then removal
 * of every state that cannot reach an accepting one: a DFA state that exists
 * can always be completed, which is what lets the runtime promise that no
 * reachable grammar state is a dead end.
 *
 * What this file must never do: exceed TG__MAX_NFA_STATES NFA states or the
 * caller's DFA state budget (a message says which), or recurse along the
 * long left spines of concatenations and alternations (enum literals make
 * them as long as the text): those are walked with loops.
 */
#include "gen/grammar.h"

#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX
/* Subset construction touches NFA states per DFA transition; past this many
 * touches a pattern is refused ("too complex") rather than compiled.  A
 * request's schema is attacker-controlled, and classic blow-ups such as
 * (a|b)*a(a|b){16} otherwise take tens of seconds; 2e7 touches take about
 * 0.1 s optimised, ~2 s under the sanitizers, and every pattern of the
 * grammar tests stays far below it. */
#define TG__DFA_MAX_WORK 20000000u

/* ------------------------------------------------------------------ */
/* NFA                                                                 */
/* ------------------------------------------------------------------ */

typedef struct nstate {
    uint32_t out1, out2; /* ε edges, or out1 = the SET edge's target */
    int32_t set;         /* index into nfa.sets, -1 for an ε state */
} nstate;

typedef struct nfa {
    nstate *st;
    uint32_t n, cap;
    uint32_t (*sets)[8];
    uint32_t n_sets, sets_cap;
    tg_status err;
} nfa;

typedef struct frag {
    uint32_t s, e; /* start; end: an ε state without edges yet */
} frag;

static uint32_t nfa_add(nfa *m, int32_t set) {
    if (m->err)
        return NIL;
    if (m->n >= TG__MAX_NFA_STATES) {
        m->err = tg__fail(TG_ERR_RANGE, "expression too large (more than %u automaton states)",
                          TG__MAX_NFA_STATES);
        return NIL;
    }
    if (m->n == m->cap) {
        uint32_t nc = m->cap ? m->cap * 2 : 256;
        nstate *ns = tg__realloc(m->st, (size_t)nc * sizeof *ns);
        if (!ns) {
            m->err = TG_ERR_NOMEM;
            return NIL;
        }
        m->st = ns;
        m->cap = nc;
    }
    m->st[m->n] = (nstate){NIL, NIL, set};
    return m->n++;
}

static int32_t nfa_set(nfa *m, const uint32_t set[8]) {
    if (m->n_sets == m->sets_cap) {
        uint32_t nc = m->sets_cap ? m->sets_cap * 2 : 64;
        uint32_t(*ns)[8] = tg__realloc(m->sets, (size_t)nc * sizeof *ns);
        if (!ns) {
            m->err = TG_ERR_NOMEM;
            return -1;
        }
        m->sets = ns;
        m->sets_cap = nc;
    }
    memcpy(m->sets[m->n_sets], set, 32);
    return (int32_t)m->n_sets++;
}

static void nfa_link(nfa *m, uint32_t from, uint32_t to) {
    if (m->err || from == NIL)
        return;
    nstate *s = &m->st[from];
    if (s->out1 == NIL)
        s->out1 = to;
    else
        s->out2 = to;
}

static frag emit(nfa *m, const tg__re *r);

/* A concatenation chain, walked along its left spine without recursion. */
static frag emit_cat(nfa *m, const tg__re *r) {
    size_t n = 0;
    for (const tg__re *x = r; x->op == TG__RE_CAT; x = x->a)
        n++;
    const tg__re **right = tg__malloc(n * sizeof *right);
    if (!right) {
        m->err = TG_ERR_NOMEM;
        return (frag){NIL, NIL};
    }
    const tg__re *x = r;
    for (size_t k = n; k-- > 0; x = x->a)
        right[k] = x->b;
    frag f = emit(m, x);
    for (size_t k = 0; k < n && !m->err; k++) {
        frag g = emit(m, right[k]);
        nfa_link(m, f.e, g.s);
        f.e = g.e;
    }
    free(right);
    return f;
}

static frag emit_alt(nfa *m, const tg__re *r) {
    uint32_t s = nfa_add(m, -1), e = nfa_add(m, -1);
    const tg__re *x = r;
    uint32_t hub = s;
    for (;;) {
        const tg__re *branch = x->op == TG__RE_ALT ? x->b : x;
        frag g = emit(m, branch);
        if (m->err)
            break;
        nfa_link(m, g.e, e);
        if (x->op != TG__RE_ALT) {
            nfa_link(m, hub, g.s);
            break;
        }
        uint32_t next = nfa_add(m, -1);
        nfa_link(m, hub, g.s);
        nfa_link(m, hub, next);
        hub = next;
        x = x->a;
    }
    return (frag){s, e};
}

static frag emit(nfa *m, const tg__re *r) {
    if (m->err)
        return (frag){NIL, NIL};
    switch (r->op) {
    case TG__RE_NONE: {
        uint32_t s = nfa_add(m, -1), e = nfa_add(m, -1);
        return (frag){s, e};
    }
    case TG__RE_EMPTY: {
        uint32_t s = nfa_add(m, -1);
        return (frag){s, s};
    }
    case TG__RE_SET: {
        int32_t k = nfa_set(m, r->set);
        uint32_t s = nfa_add(m, k), e = nfa_add(m, -1);
        if (!m->err)
            m->st[s].out1 = e;
        return (frag){s, e};
    }
    case TG__RE_CAT: return emit_cat(m, r);
    case TG__RE_ALT: return emit_alt(m, r);
    default: { /* TG__RE_REP */
        uint32_t s = nfa_add(m, -1);
        uint32_t cur = s;
        for (uint32_t k = 0; k < r->min && !m->err; k++) {
            frag g = emit(m, r->a);
            nfa_link(m, cur, g.s);
            cur = g.e;
        }
        uint32_t e = nfa_add(m, -1);
        if (r->max == TG__INF) {
            frag g = emit(m, r->a);
            uint32_t loop = nfa_add(m, -1);
            nfa_link(m, cur, loop);
            nfa_link(m, loop, g.s);
            nfa_link(m, loop, e);
            nfa_link(m, g.e, loop);
        } else {
            for (uint32_t k = r->min; k < r->max && !m->err; k++) {
                frag g = emit(m, r->a);
                nfa_link(m, cur, g.s);
                nfa_link(m, cur, e);
                cur = g.e;
            }
            nfa_link(m, cur, e);
        }
        return (frag){s, e};
    }
    }
}

/* ------------------------------------------------------------------ */
/* Subset construction                                                 */
/* ------------------------------------------------------------------ */

/* Byte classes: refine one partition by every distinct set. */
static uint32_t byte_classes(const uint32_t (*sets)[8], uint32_t n_sets, uint8_t cls[256]) {
    memset(cls, 0, 256);
    uint32_t ncls = 1;
    uint16_t remap[512];
    for (uint32_t k = 0; k < n_sets; k++) {
        if (k > 0 && memcmp(sets[k], sets[k - 1], 32) == 0)
            continue;
        for (uint32_t i = 0; i < 2 * ncls; i++)
            remap[i] = UINT16_MAX;
        uint32_t next = 0;
        for (int b = 0; b < 256; b++) {
            uint32_t key = cls[b] * 2u + (sets[k][b >> 5] >> (b & 31) & 1u);
            if (remap[key] == UINT16_MAX)
                remap[key] = (uint16_t)next++;
            cls[b] = (uint8_t)remap[key];
        }
        ncls = next;
    }
    return ncls;
}

typedef struct subset {
    nfa *m;
    uint32_t accept;   /* the NFA's final state */
    uint32_t *stamp;   /* per NFA state: generation last visited */
    uint32_t gen;
    uint32_t *stack;
    uint32_t *pool;    /* the member lists of all DFA states */
    size_t pool_n, pool_cap;
    size_t *off;       /* DFA state → its list in pool */
    uint32_t *len;
    uint32_t n_states, states_cap;
    uint32_t *table;   /* hash → DFA state + 1 (0 empty) */
    size_t table_cap;
    uint32_t *scratch; /* the list being built */
    uint32_t n_scratch;
} subset;

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* ε-closure of scratch's seeds, keeping SET states and the final state.
 * Returns the number of NFA states it visited (the caller's work count). */
static uint32_t closure(subset *c, uint32_t n_seeds) {
    nfa *m = c->m;
    c->gen++;
    uint32_t sp = 0;
    for (uint32_t k = 0; k < n_seeds; k++)
        if (c->stamp[c->scratch[k]] != c->gen) {
            c->stamp[c->scratch[k]] = c->gen;
            c->stack[sp++] = c->scratch[k];
        }
    c->n_scratch = 0;
    uint32_t visited = 0;
    while (sp) {
        uint32_t s = c->stack[--sp];
        visited++;
        const nstate *x = &m->st[s];
        if (x->set >= 0 || s == c->accept) {
            c->scratch[c->n_scratch++] = s;
            if (x->set >= 0)
                continue;
        }
        uint32_t outs[2] = {x->out1, x->out2};
        for (int k = 0; k < 2; k++)
            if (outs[k] != NIL && c->stamp[outs[k]] != c->gen) {
                c->stamp[outs[k]] = c->gen;
                c->stack[sp++] = outs[k];
            }
    }
    qsort(c->scratch, c->n_scratch, sizeof *c->scratch, cmp_u32);
    return visited + c->n_scratch;
}

static int cmp_set(const void *a, const void *b) { return memcmp(a, b, 32); }

static uint64_t list_hash(const uint32_t *l, uint32_t n) { return tg__hash(l, n * sizeof *l); }

/* The DFA state of scratch's list (added if new); NIL on failure. */
static uint32_t intern(subset *c, uint32_t max_states, tg_status *err) {
    uint64_t h = list_hash(c->scratch, c->n_scratch);
    size_t mask = c->table_cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint32_t v = c->table[i];
        if (v == 0)
            break;
        uint32_t d = v - 1;
        if (c->len[d] == c->n_scratch &&
            memcmp(c->pool + c->off[d], c->scratch, c->n_scratch * sizeof(uint32_t)) == 0)
            return d;
    }
    if (c->n_states >= max_states) {
        *err = tg__fail(TG_ERR_RANGE, "expression needs more than %u automaton states",
                        max_states);
        return NIL;
    }
    if (c->n_states == c->states_cap) {
        uint32_t nc = c->states_cap ? c->states_cap * 2 : 64;
        size_t *no = tg__realloc(c->off, nc * sizeof *no);
        if (no)
            c->off = no;
        uint32_t *nl = tg__realloc(c->len, nc * sizeof *nl);
        if (nl)
            c->len = nl;
        if (!no || !nl) {
            *err = TG_ERR_NOMEM;
            return NIL;
        }
        c->states_cap = nc;
    }
    if (c->pool_n + c->n_scratch > c->pool_cap) {
        size_t nc = (c->pool_cap ? c->pool_cap * 2 : 1024) + c->n_scratch;
        uint32_t *np = tg__realloc(c->pool, nc * sizeof *np);
        if (!np) {
            *err = TG_ERR_NOMEM;
            return NIL;
        }
        c->pool = np;
        c->pool_cap = nc;
    }
    uint32_t d = c->n_states++;
    c->off[d] = c->pool_n;
    c->len[d] = c->n_scratch;
    memcpy(c->pool + c->pool_n, c->scratch, c->n_scratch * sizeof(uint32_t));
    c->pool_n += c->n_scratch;
    /* grow the table at half load (rehash everything) */
    if ((size_t)c->n_states * 2 > c->table_cap) {
        size_t nc = c->table_cap * 2;
        uint32_t *nt = tg__calloc(nc, sizeof *nt);
        if (!nt) {
            *err = TG_ERR_NOMEM;
            return NIL;
        }
        for (uint32_t k = 0; k < c->n_states; k++) {
            uint64_t hk = list_hash(c->pool + c->off[k], c->len[k]);
            size_t i = (size_t)hk & (nc - 1);
            while (nt[i])
                i = (i + 1) & (nc - 1);
            nt[i] = k + 1;
        }
        free(c->table);
        c->table = nt;
        c->table_cap = nc;
    } else {
        size_t i = (size_t)h & mask;
        while (c->table[i])
            i = (i + 1) & mask;
        c->table[i] = d + 1;
    }
    return d;
}

/* Removes the states that cannot reach an accepting one and renumbers the
 * rest in breadth-first order from the start; sets the flags. */
static tg_status prune(tg__dfa *d) {
    uint32_t n = d->n_states, nc = d->n_cls;
    uint8_t *live = tg__calloc(n ? n : 1, 1);
    uint32_t *queue = tg__malloc((n ? n : 1) * sizeof *queue);
    uint32_t *newid = tg__malloc((n ? n : 1) * sizeof *newid);
    if (!live || !queue || !newid) {
        free(live);
        free(queue);
        free(newid);
        return TG_ERR_NOMEM;
    }
    /* backwards reachability by fixpoint (the tables are small) */
    for (uint32_t s = 0; s < n; s++)
        live[s] = d->flags[s] & TG__DFA_ACCEPT;
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t s = 0; s < n; s++) {
            if (live[s])
                continue;
            for (uint32_t c = 0; c < nc; c++) {
                uint32_t t = d->next[(size_t)s * nc + c];
                if (t != TG__DEAD && live[t]) {
                    live[s] = 1;
                    changed = true;
                    break;
                }
            }
        }
    }
    for (uint32_t s = 0; s < n; s++)
        newid[s] = TG__DEAD;
    uint32_t qn = 0;
    if (n && live[0]) {
        newid[0] = 0;
        queue[qn++] = 0;
    }
    for (uint32_t qi = 0; qi < qn; qi++)
        for (uint32_t c = 0; c < nc; c++) {
            uint32_t t = d->next[(size_t)queue[qi] * nc + c];
            if (t != TG__DEAD && live[t] && newid[t] == TG__DEAD) {
                newid[t] = qn;
                queue[qn++] = t;
            }
        }
    uint32_t out_n = qn ? qn : 1;
    uint32_t *next = tg__malloc((size_t)out_n * nc * sizeof *next);
    uint8_t *flags = tg__calloc(out_n, 1);
    if (!next || !flags) {
        free(next);
        free(flags);
        free(live);
        free(queue);
        free(newid);
        return TG_ERR_NOMEM;
    }
    for (size_t k = 0; k < (size_t)out_n * nc; k++)
        next[k] = TG__DEAD;
    for (uint32_t i = 0; i < qn; i++) {
        uint32_t s = queue[i];
        flags[i] = d->flags[s] & TG__DFA_ACCEPT;
        for (uint32_t c = 0; c < nc; c++) {
            uint32_t t = d->next[(size_t)s * nc + c];
            if (t != TG__DEAD && newid[t] != TG__DEAD) {
                next[(size_t)i * nc + c] = newid[t];
                flags[i] |= TG__DFA_OUT;
            }
        }
    }
    free(d->next);
    free(d->flags);
    d->next = next;
    d->flags = flags;
    d->n_states = out_n;
    free(live);
    free(queue);
    free(newid);
    return TG_OK;
}

tg_status tg__dfa_build(const tg__re *re, uint32_t max_states, tg__dfa *out) {
    memset(out, 0, sizeof *out);
    nfa m = {0};
    frag f = emit(&m, re);
    if (m.err) {
        free(m.st);
        free(m.sets);
        return m.err;
    }
    subset c = {.m = &m, .accept = f.e};
    tg_status err = TG_OK;
    /* sort the sets so equal ones are neighbours for byte_classes */
    uint32_t(*sorted)[8] = tg__malloc((m.n_sets ? m.n_sets : 1) * sizeof *sorted);
    c.stamp = tg__calloc(m.n, sizeof *c.stamp);
    c.stack = tg__malloc(m.n * sizeof *c.stack);
    c.scratch = tg__malloc(m.n * sizeof *c.scratch);
    c.table_cap = 64;
    c.table = tg__calloc(c.table_cap, sizeof *c.table);
    c.pool_cap = 1024;
    c.pool = tg__malloc(c.pool_cap * sizeof *c.pool);
    if (!c.pool || !sorted || !c.stamp || !c.stack || !c.scratch || !c.table) {
        err = TG_ERR_NOMEM;
        goto done;
    }
    if (m.n_sets)
        memcpy(sorted, m.sets, m.n_sets * sizeof *sorted);
    qsort(sorted, m.n_sets, sizeof *sorted, cmp_set);
    out->n_cls = byte_classes((const uint32_t(*)[8])sorted, m.n_sets, out->cls);
    uint8_t rep[256]; /* a byte of each class */
    for (int b = 255; b >= 0; b--)
        rep[out->cls[b]] = (uint8_t)b;

    c.scratch[0] = f.s;
    closure(&c, 1);
    if (intern(&c, max_states, &err) == NIL)
        goto done;
    size_t next_cap = 0;
    uint64_t work = 0;
    for (uint32_t d = 0; d < c.n_states; d++) {
        if ((size_t)(d + 1) * out->n_cls > next_cap) {
            size_t nc = next_cap ? next_cap * 2 : (size_t)64 * out->n_cls;
            uint32_t *nn = tg__realloc(out->next, nc * sizeof *nn);
            uint8_t *nf = tg__realloc(out->flags, nc / out->n_cls + 1);
            if (nn)
                out->next = nn;
            if (nf)
                out->flags = nf;
            if (!nn || !nf) {
                err = TG_ERR_NOMEM;
                goto done;
            }
            next_cap = nc;
        }
        out->flags[d] = 0;
        for (uint32_t k = 0; k < c.len[d]; k++)
            if (c.pool[c.off[d] + k] == c.accept)
                out->flags[d] = TG__DFA_ACCEPT;
        for (uint32_t cl = 0; cl < out->n_cls; cl++) {
            uint8_t b = rep[cl];
            uint32_t n_seeds = 0;
            for (uint32_t k = 0; k < c.len[d]; k++) {
                const nstate *x = &m.st[c.pool[c.off[d] + k]];
                if (x->set >= 0 && (m.sets[x->set][b >> 5] >> (b & 31) & 1u))
                    c.scratch[n_seeds++] = x->out1;
            }
            work += c.len[d] + n_seeds;
            if (work > TG__DFA_MAX_WORK) {
                err = tg__fail(TG_ERR_RANGE, "expression too complex to compile");
                goto done;
            }
            uint32_t t = TG__DEAD;
            if (n_seeds) {
                work += closure(&c, n_seeds);
                t = intern(&c, max_states, &err);
                if (t == NIL)
                    goto done;
            }
            out->next[(size_t)d * out->n_cls + cl] = t;
        }
    }
    out->n_states = c.n_states;
    err = prune(out);
done:
    free(sorted);
    free(c.stamp);
    free(c.stack);
    free(c.scratch);
    free(c.table);
    free(c.pool);
    free(c.off);
    free(c.len);
    free(m.st);
    free(m.sets);
    if (err)
        tg__dfa_free(out);
    return err;
}

/* The product automaton: both accept (minus = false), or a accepts and b
 * does not (minus = true; b's missing transitions go to a rejecting sink). */
static tg_status product(const tg__dfa *a, const tg__dfa *b, bool minus, uint32_t max_states,
                         tg__dfa *out) {
    memset(out, 0, sizeof *out);
    /* classes: pairs of the two partitions */
    uint32_t ncls = 0;
    uint8_t ca[256], cb[256];
    for (int x = 0; x < 256; x++) {
        int found = -1;
        for (uint32_t k = 0; k < ncls; k++)
            if (ca[k] == a->cls[x] && cb[k] == b->cls[x]) {
                found = (int)k;
                break;
            }
        if (found < 0) {
            found = (int)ncls;
            ca[ncls] = a->cls[x];
            cb[ncls] = b->cls[x];
            ncls++;
        }
        out->cls[x] = (uint8_t)found;
    }
    out->n_cls = ncls;
    /* states: pairs, discovered breadth-first; id map over a × b */
    size_t n_pairs;
    uint32_t nb = b->n_states + (minus ? 1u : 0u); /* + the sink */
    if (!tg__mul_size(a->n_states, nb, &n_pairs))
        return tg__fail(TG_ERR_RANGE, "automaton product too large");
    uint32_t *id = tg__malloc((n_pairs ? n_pairs : 1) * sizeof *id);
    uint32_t *qa = tg__malloc((size_t)max_states * sizeof *qa);
    uint32_t *qb = tg__malloc((size_t)max_states * sizeof *qb);
    tg_status err = TG_OK;
    if (!id || !qa || !qb) {
        err = TG_ERR_NOMEM;
        goto done;
    }
    for (size_t k = 0; k < n_pairs; k++)
        id[k] = NIL;
    uint32_t n = 0;
    id[0] = 0;
    qa[0] = qb[0] = 0;
    n = 1;
    size_t cap = 0;
    for (uint32_t d = 0; d < n; d++) {
        if ((size_t)(d + 1) * ncls > cap) {
            size_t nc = cap ? cap * 2 : (size_t)64 * ncls;
            uint32_t *nn = tg__realloc(out->next, nc * sizeof *nn);
            uint8_t *nf = tg__realloc(out->flags, nc / ncls + 1);
            if (nn)
                out->next = nn;
            if (nf)
                out->flags = nf;
            if (!nn || !nf) {
                err = TG_ERR_NOMEM;
                goto done;
            }
            cap = nc;
        }
        bool sink = qb[d] == b->n_states;
        bool b_acc = !sink && (b->flags[qb[d]] & TG__DFA_ACCEPT);
        out->flags[d] = (a->flags[qa[d]] & TG__DFA_ACCEPT) && (minus ? !b_acc : b_acc)
                            ? TG__DFA_ACCEPT
                            : 0;
        for (uint32_t c = 0; c < ncls; c++) {
            uint32_t ta = a->next[(size_t)qa[d] * a->n_cls + ca[c]];
            uint32_t tb = sink ? TG__DEAD : b->next[(size_t)qb[d] * b->n_cls + cb[c]];
            if (tb == TG__DEAD && minus)
                tb = b->n_states;
            uint32_t t = TG__DEAD;
            if (ta != TG__DEAD && tb != TG__DEAD) {
                size_t k = (size_t)ta * nb + tb;
                if (id[k] == NIL) {
                    if (n >= max_states) {
                        err = tg__fail(TG_ERR_RANGE,
                                       "combined constraints need more than %u automaton states",
                                       max_states);
                        goto done;
                    }
                    id[k] = n;
                    qa[n] = ta;
                    qb[n] = tb;
                    n++;
                }
                t = id[k];
            }
            out->next[(size_t)d * ncls + c] = t;
        }
    }
    out->n_states = n;
    err = prune(out);
done:
    free(id);
    free(qa);
    free(qb);
    if (err)
        tg__dfa_free(out);
    return err;
}

tg_status tg__dfa_intersect(const tg__dfa *a, const tg__dfa *b, uint32_t max_states,
                            tg__dfa *out) {
    return product(a, b, false, max_states, out);
}

tg_status tg__dfa_minus(const tg__dfa *a, const tg__dfa *b, uint32_t max_states, tg__dfa *out) {
    return product(a, b, true, max_states, out);
}

void tg__dfa_free(tg__dfa *d) {
    if (!d)
        return;
    free(d->next);
    free(d->flags);
    d->next = NULL;
    d->flags = NULL;
    d->n_states = 0;
}

bool tg__dfa_is_empty(const tg__dfa *d) {
    return d->n_states == 0 || !(d->flags[0] & (TG__DFA_ACCEPT | TG__DFA_OUT));
}

bool tg__dfa_is_prefix_free(const tg__dfa *d) {
    for (uint32_t s = 0; s < d->n_states; s++)
        if ((d->flags[s] & TG__DFA_ACCEPT) && (d->flags[s] & TG__DFA_OUT))
            return false;
    return true;
}

bool tg__dfa_match(const tg__dfa *d, const char *s, size_t n) {
    if (tg__dfa_is_empty(d))
        return false;
    uint32_t q = 0;
    for (size_t i = 0; i < n; i++) {
        q = tg__dfa_next(d, q, (uint8_t)s[i]);
        if (q == TG__DEAD)
            return false;
    }
    return d->flags[q] & TG__DFA_ACCEPT;
}
