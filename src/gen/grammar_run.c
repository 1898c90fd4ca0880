/*
 * grammar_run.c — the pushdown runtime: a state is a set of stacks, each
 * stack's top frame sitting on a terminal element; a byte steps every stack.
 *
 * Terminals are lazy about ending: a frame stays on its element after
 * taking a byte and only leaves it (returning to the rule's next element,
 * popping finished rules) when the next byte does not fit inside.  That way
 * a string body or a run of digits costs one table lookup per byte, and a
 * fork happens only where the text is actually ambiguous.  A rule called as
 * the last thing of an alternative replaces its caller's frame (tail call),
 * so chains like "the rest of the optional properties" keep stacks short.
 *
 * Every function here is deterministic in its input, so the token mask
 * (grammar_mask.c) and acceptance agree exactly — including where the
 * TG__MAX_HEADS / TG__MAX_DEPTH caps drop stacks (dropping only ever
 * removes options; each surviving stack can still complete).
 *
 * What this file must never do: allocate per byte once warm (frames come
 * from a chunked arena, the worklist is kept), or loop without consuming
 * (the builder refuses grammars that could).
 */
#include "gen/grammar.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Arena                                                               */
/* ------------------------------------------------------------------ */

#define CHUNK_FRAMES 4096
struct tg__arena_chunk {
    struct tg__arena_chunk *next;
    tg__frame frames[CHUNK_FRAMES];
};

void tg__arena_free(tg__arena *a) {
    while (a->head) {
        tg__arena_chunk *n = a->head->next;
        free(a->head);
        a->head = n;
    }
    free(a->work);
    memset(a, 0, sizeof *a);
}

void tg__arena_reset(tg__arena *a) {
    a->cur = a->head;
    a->used = 0;
}

tg__arena_mark tg__arena_mark_get(const tg__arena *a) { return (tg__arena_mark){a->cur, a->used}; }

void tg__arena_mark_reset(tg__arena *a, tg__arena_mark m) {
    a->cur = m.chunk;
    a->used = m.used;
}

tg__frame *tg__arena_frame(tg__arena *a) {
    if (!a->cur) {
        if (!a->head) {
            a->head = tg__malloc(sizeof *a->head);
            if (!a->head) {
                a->failed = true;
                return NULL;
            }
            a->head->next = NULL;
        }
        a->cur = a->head;
        a->used = 0;
    }
    if (a->used == CHUNK_FRAMES) {
        if (!a->cur->next) {
            tg__arena_chunk *c = tg__malloc(sizeof *c);
            if (!c) {
                a->failed = true;
                return NULL;
            }
            c->next = NULL;
            a->cur->next = c;
        }
        a->cur = a->cur->next;
        a->used = 0;
    }
    return &a->cur->frames[a->used++];
}

/* ------------------------------------------------------------------ */
/* Worklist and output sets                                            */
/* ------------------------------------------------------------------ */

/* Expansions allowed in one call: a bound on pathological ambiguity. */
#define WORK_BUDGET 20000u

typedef struct work {
    tg__arena *a;
    size_t n;
    uint32_t budget;
} work;

static bool work_push(work *w, const tg__frame *f) {
    if (w->budget == 0)
        return false;
    w->budget--;
    if (w->n == w->a->work_cap) {
        size_t nc = w->a->work_cap ? w->a->work_cap * 2 : 256;
        tg__frame *nw = realloc(w->a->work, nc * sizeof *nw);
        if (!nw) {
            w->a->failed = true;
            return false;
        }
        w->a->work = nw;
        w->a->work_cap = nc;
    }
    w->a->work[w->n++] = *f;
    return true;
}

static bool same(const tg__frame *x, const tg__frame *y) {
    return x->elem == y->elem && x->count == y->count && x->aux == y->aux && x->parent == y->parent;
}

/* Appends f to out[*n] unless present or full. */
static void emit(tg__frame *out, uint32_t *n, const tg__frame *f) {
    for (uint32_t i = 0; i < *n; i++)
        if (same(&out[i], f))
            return;
    if (*n < TG__MAX_HEADS)
        out[(*n)++] = *f;
}

static bool is_terminal(uint32_t kind) {
    return kind == TG__G_BYTES || kind == TG__G_DFA || kind == TG__G_NUM;
}

/* Expands a non-terminal frame (END or REF) onto the worklist. */
static void expand(const tg_grammar *g, work *w, const tg__frame *x) {
    const tg__gelem *e = &g->elems[x->elem];
    if (e->kind == TG__G_END) {
        if (!x->parent) {
            tg__frame done = {NULL, TG__DONE, 0, 0, 0};
            work_push(w, &done);
            return;
        }
        const tg__frame *p = x->parent; /* sits on the REF that called us */
        const tg__gelem *pe = &g->elems[p->elem];
        uint32_t c = p->count + 1;
        if (pe->max == TG__INF && c > pe->min)
            c = pe->min; /* beyond the minimum, the count no longer matters */
        tg__frame y = {p->parent, p->elem, c, 0, p->depth};
        work_push(w, &y);
        return;
    }
    /* REF: push the alternatives (reversed, so the first is expanded first)
     * and/or move past it */
    if (x->count < e->max) {
        const tg__frame *parent;
        uint32_t depth;
        bool tail = e->min == 1 && e->max == 1 && g->elems[x->elem + 1].kind == TG__G_END;
        if (tail) {
            parent = x->parent;
            depth = x->depth;
        } else {
            if (x->depth >= TG__MAX_DEPTH)
                goto advance;
            tg__frame *f = tg__arena_frame(w->a);
            if (!f)
                return;
            *f = *x;
            parent = f;
            depth = x->depth + 1;
        }
        const struct tg__grule *r = &g->rules[e->arg];
        for (uint32_t k = r->n; k-- > 0;) {
            tg__frame c = {parent, g->alt_start[r->first + k], 0, 0, depth};
            work_push(w, &c);
        }
    }
advance:
    if (x->count >= e->min) {
        tg__frame y = {x->parent, x->elem + 1, 0, 0, x->depth};
        work_push(w, &y);
    }
}

/* ------------------------------------------------------------------ */
/* Terminals                                                           */
/* ------------------------------------------------------------------ */

static uint32_t dfa_canon(const tg__dfa *d, const tg__gelem *e, uint32_t *count, uint32_t s) {
    if ((d->flags[s] & TG__DFA_ACCEPT) && !(d->flags[s] & TG__DFA_OUT)) {
        uint32_t c = *count + 1;
        if (e->max == TG__INF && c > e->min)
            c = e->min;
        *count = c;
        return 0;
    }
    return s;
}

/* The frames x becomes by taking b inside its element (0, 1 or 2). */
static uint32_t take(const tg_grammar *g, const tg__frame *x, uint8_t b, tg__frame out[2]) {
    const tg__gelem *e = &g->elems[x->elem];
    uint32_t n = 0;
    if (e->max == 0)
        return 0;
    switch (e->kind) {
    case TG__G_BYTES:
        if (x->aux == 0 && (g->classes[e->arg][b >> 5] >> (b & 31) & 1u)) {
            out[0] = *x;
            out[0].aux = 1;
            n = 1;
        }
        break;
    case TG__G_DFA: {
        const tg__dfa *d = &g->dfas[e->arg];
        uint32_t s = (uint32_t)x->aux;
        if (s != 0 || x->count < e->max) {
            uint32_t t = tg__dfa_next(d, s, b);
            if (t != TG__DEAD) {
                out[n] = *x;
                out[n].aux = dfa_canon(d, e, &out[n].count, t);
                n++;
            }
        }
        /* end this repetition here and start the next one with b */
        if (s != 0 && (d->flags[s] & TG__DFA_ACCEPT) && x->count + 1 < e->max) {
            uint32_t t = tg__dfa_next(d, 0, b);
            if (t != TG__DEAD) {
                out[n] = *x;
                out[n].count = x->count + 1;
                out[n].aux = dfa_canon(d, e, &out[n].count, t);
                n++;
            }
        }
        break;
    }
    case TG__G_NUM: {
        uint32_t c = x->count;
        uint64_t m = x->aux;
        if (tg__num_take(&g->nums[e->arg], &c, &m, b)) {
            out[0] = *x;
            out[0].count = c;
            out[0].aux = m;
            n = 1;
        }
        break;
    }
    default: break;
    }
    return n;
}

static bool can_exit(const tg_grammar *g, const tg__frame *x) {
    const tg__gelem *e = &g->elems[x->elem];
    if (e->max == 0)
        return true;
    switch (e->kind) {
    case TG__G_BYTES: return x->aux != 0;
    case TG__G_DFA: {
        const tg__dfa *d = &g->dfas[e->arg];
        uint32_t s = (uint32_t)x->aux;
        if (s == 0)
            return x->count >= e->min || (d->flags[0] & TG__DFA_ACCEPT);
        return (d->flags[s] & TG__DFA_ACCEPT) && x->count + 1 >= e->min;
    }
    case TG__G_NUM: return tg__num_can_exit(&g->nums[e->arg], x->count, x->aux);
    default: return false;
    }
}

static bool can_take_any(const tg_grammar *g, const tg__frame *x) {
    tg__frame out[2];
    for (int b = 0; b < 256; b++)
        if (take(g, x, (uint8_t)b, out))
            return true;
    return false;
}

/* ------------------------------------------------------------------ */
/* Public-to-the-engine operations                                     */
/* ------------------------------------------------------------------ */

/* Drains the worklist: non-terminals are expanded; terminals and finished
 * stacks go to `visit`, which may push more. */
typedef bool (*visit_fn)(const tg_grammar *g, work *w, const tg__frame *x, void *ctx);

static bool drain(const tg_grammar *g, work *w, visit_fn visit, void *ctx) {
    while (w->n) {
        tg__frame x = w->a->work[--w->n];
        if (x.elem != TG__DONE && !is_terminal(g->elems[x.elem].kind)) {
            expand(g, w, &x);
            continue;
        }
        if (visit(g, w, &x, ctx))
            return true;
    }
    return false;
}

typedef struct collect {
    tg__frame *out;
    uint32_t n;
    uint8_t byte;
} collect;

static bool visit_normalize(const tg_grammar *g, work *w, const tg__frame *x, void *ctx) {
    collect *c = ctx;
    emit(c->out, &c->n, x);
    return false;
}

uint32_t tg__run_start(const tg_grammar *g, tg__arena *a, tg__frame *out) {
    work w = {a, 0, WORK_BUDGET};
    tg__frame s = {NULL, g->start_elem, 0, 0, 0};
    work_push(&w, &s);
    collect c = {out, 0, 0};
    drain(g, &w, visit_normalize, &c);
    return a->failed ? 0 : c.n;
}

static bool visit_step(const tg_grammar *g, work *w, const tg__frame *x, void *ctx) {
    collect *c = ctx;
    if (x->elem == TG__DONE)
        return false;
    tg__frame t[2];
    uint32_t n = take(g, x, c->byte, t);
    for (uint32_t i = 0; i < n; i++)
        emit(c->out, &c->n, &t[i]);
    if (can_exit(g, x)) {
        tg__frame y = {x->parent, x->elem + 1, 0, 0, x->depth};
        work_push(w, &y);
    }
    return false;
}

uint32_t tg__run_step(const tg_grammar *g, tg__arena *a, const tg__frame *in, uint32_t n,
                      uint8_t b, tg__frame *out) {
    collect c = {out, 0, b};
    work w = {a, 0, WORK_BUDGET};
    /* last pushed is drained first: push in reverse to keep the order */
    for (uint32_t i = n; i-- > 0;)
        work_push(&w, &in[i]);
    drain(g, &w, visit_step, &c);
    return c.n;
}

static bool visit_complete(const tg_grammar *g, work *w, const tg__frame *x, void *ctx) {
    if (x->elem == TG__DONE)
        return true;
    if (can_exit(g, x)) {
        tg__frame y = {x->parent, x->elem + 1, 0, 0, x->depth};
        work_push(w, &y);
    }
    return false;
}

bool tg__run_complete(const tg_grammar *g, tg__arena *a, const tg__frame *in, uint32_t n) {
    work w = {a, 0, WORK_BUDGET};
    for (uint32_t i = n; i-- > 0;)
        work_push(&w, &in[i]);
    return drain(g, &w, visit_complete, NULL);
}

static bool visit_continue(const tg_grammar *g, work *w, const tg__frame *x, void *ctx) {
    if (x->elem == TG__DONE)
        return false;
    if (can_take_any(g, x))
        return true;
    if (can_exit(g, x)) {
        tg__frame y = {x->parent, x->elem + 1, 0, 0, x->depth};
        work_push(w, &y);
    }
    return false;
}

bool tg__run_can_continue(const tg_grammar *g, tg__arena *a, const tg__frame *in, uint32_t n) {
    work w = {a, 0, WORK_BUDGET};
    for (uint32_t i = n; i-- > 0;)
        work_push(&w, &in[i]);
    return drain(g, &w, visit_continue, NULL);
}

bool tg__grammar_accepts(const tg_grammar *g, const char *text, size_t len) {
    tg__arena a = {0};
    tg__frame *buf = tg__malloc(2 * TG__MAX_HEADS * sizeof *buf);
    bool ok = false;
    if (!buf)
        return false;
    tg__frame *cur = buf, *nxt = buf + TG__MAX_HEADS;
    uint32_t n = tg__run_start(g, &a, cur);
    for (size_t i = 0; i < len && n; i++) {
        n = tg__run_step(g, &a, cur, n, (uint8_t)text[i], nxt);
        tg__frame *t = cur;
        cur = nxt;
        nxt = t;
    }
    ok = n && tg__run_complete(g, &a, cur, n);
    tg__arena_free(&a);
    free(buf);
    return ok;
}
