/*
 * grammar.h — internals of the grammar engine (not public API), shared by:
 *   grammar_re.c    regular expressions (ECMA patterns, code point sets, byte
 *                   sets) as small syntax trees;
 *   grammar_dfa.c   those trees → byte-level DFAs (subset construction);
 *   grammar.c       the grammar builder and its compile-time checks
 *                   (productive rules, left recursion), json_object;
 *   json_schema.c   JSON Schema → grammar;
 *   grammar_gbnf.c  llama.cpp's GBNF → grammar;
 *   grammar_run.c   the pushdown runtime: sets of stacks stepped byte by byte;
 *   grammar_mask.c  the per-vocabulary token trie, allowed-token masks and the
 *                   public tg_grammar_state API.
 *
 * The model: a grammar is a set of rules; a rule is a list of alternatives;
 * an alternative is a sequence of elements ending in END.  Terminal elements
 * consume bytes: BYTES (one byte of a set), DFA (a regular language, repeated
 * min..max times) and NUM (a JSON number with exact range checks).  REF calls
 * a rule min..max times.  A running state is a set of stacks of frames; the
 * top frame of every stack sits on a terminal element.
 *
 * Invariants the builder establishes and the runtime relies on: every rule
 * that can be entered can complete (non-productive alternatives are
 * removed), no rule reaches itself without consuming a byte, a repeated DFA
 * is prefix-free and does not accept the empty string.  Together they mean
 * every reachable state can still be completed, and stepping terminates.
 */
#ifndef TG_GEN_GRAMMAR_H
#define TG_GEN_GRAMMAR_H

#include "base/base.h"

#define TG__INF UINT32_MAX  /* unbounded repetition */
#define TG__DEAD UINT32_MAX /* no DFA transition */
#define TG__DONE UINT32_MAX /* frame.elem of a stack that has matched everything */

/* Limits: a hostile grammar or schema fails fast with a message. */
#define TG__MAX_RULES 100000u
#define TG__MAX_ELEMS 2000000u
#define TG__MAX_DFA_STATES 20000u    /* per DFA */
#define TG__MAX_DFA_CELLS 4000000u   /* transition cells of all DFAs of a grammar */
#define TG__MAX_RE_NODES 400000u     /* syntax-tree nodes per tree pool */
#define TG__MAX_NFA_STATES 400000u   /* per DFA construction */
#define TG__MAX_HEADS 256u           /* stacks in one state (ambiguity bound) */
#define TG__MAX_DEPTH 512u           /* frames in one stack (nesting bound) */
#define TG__MAX_REPEAT 10000u        /* largest finite {m,n} bound */

/* ------------------------------------------------------------------ */
/* Regular expressions: syntax trees over bytes (grammar_re.c)         */
/* ------------------------------------------------------------------ */

enum { TG__RE_NONE, TG__RE_EMPTY, TG__RE_SET, TG__RE_CAT, TG__RE_ALT, TG__RE_REP };

/* A node: NONE (the empty language), EMPTY (the empty string), SET (one byte
 * of set), CAT (a then b), ALT (a or b), REP (a, min..max times). */
typedef struct tg__re {
    uint8_t op;
    uint32_t min, max;
    struct tg__re *a, *b;
    uint32_t set[8];
} tg__re;
typedef struct tg__re_pool tg__re_pool;

typedef struct tg__cprange {
    uint32_t lo, hi; /* inclusive code points */
} tg__cprange;

/* How code points become bytes: plain UTF-8 (GBNF), or the way they appear
 * inside a JSON string literal (", \ and control characters escaped; U+0000
 * never produced). */
typedef enum tg__cpmode { TG__CP_UTF8, TG__CP_JSON } tg__cpmode;

tg__re_pool *tg__re_pool_new(void);
void tg__re_pool_free(tg__re_pool *p);
/* Constructors return NULL (with a message) only when the pool is full or
 * memory runs out; they accept NULL operands and then return NULL. */
tg__re *tg__re_none(tg__re_pool *p);  /* the empty language */
tg__re *tg__re_empty(tg__re_pool *p); /* the empty string */
tg__re *tg__re_set(tg__re_pool *p, const uint32_t set[8]);
tg__re *tg__re_byte(tg__re_pool *p, uint8_t b);
tg__re *tg__re_byte_range(tg__re_pool *p, uint8_t lo, uint8_t hi);
tg__re *tg__re_lit(tg__re_pool *p, const char *s, size_t n);
tg__re *tg__re_cat(tg__re_pool *p, tg__re *a, tg__re *b);
tg__re *tg__re_alt(tg__re_pool *p, tg__re *a, tg__re *b);
tg__re *tg__re_rep(tg__re_pool *p, tg__re *a, uint32_t min, uint32_t max);
/* One code point out of a set of ranges (surrogates and, in JSON mode,
 * U+0000 are left out), as bytes. */
tg__re *tg__re_cpset(tg__re_pool *p, const tg__cprange *r, size_t n, tg__cpmode mode);
/* One character of a JSON string body: any code point raw (except ", \ and
 * controls) or escaped (\" \\ \/ \b \f \n \r \t, \uXXXX other than \u0000
 * and lone surrogates, surrogate pairs). */
tg__re *tg__re_json_char(tg__re_pool *p);
/* An ECMA-262 pattern (JSON Schema's dialect: the documented subset) as the
 * JSON-escaped body of a string it matches; unanchored ends match anything.
 * TG_ERR_UNSUPPORTED / TG_ERR_FORMAT with a message naming the construct. */
tg_status tg__re_parse_pattern(tg__re_pool *p, const char *pat, size_t n, tg__re **out);

/* Code point sets as sorted, disjoint ranges (used by the parsers). */
typedef struct tg__cpset {
    tg__cprange *r;
    size_t n, cap;
} tg__cpset;
bool tg__cpset_add(tg__cpset *s, uint32_t lo, uint32_t hi); /* false: out of memory */
bool tg__cpset_negate(tg__cpset *s);                        /* complement in [0, 0x10FFFF] */
void tg__cpset_free(tg__cpset *s);

/* ------------------------------------------------------------------ */
/* DFAs (grammar_dfa.c)                                                */
/* ------------------------------------------------------------------ */

enum { TG__DFA_ACCEPT = 1, TG__DFA_OUT = 2 };

typedef struct tg__dfa {
    uint8_t cls[256];  /* byte → equivalence class */
    uint32_t n_cls, n_states;
    uint32_t *next;    /* [n_states * n_cls]: next state or TG__DEAD */
    uint8_t *flags;    /* per state: TG__DFA_ACCEPT, TG__DFA_OUT (a live transition) */
    bool json_char;    /* exactly tg__re_json_char: the mask's plain-token shortcut applies */
} tg__dfa;

/* Builds the DFA of a tree (start state 0; states that cannot reach an
 * accepting one are removed).  TG_ERR_RANGE if it needs more than
 * max_states states. */
tg_status tg__dfa_build(const tg__re *re, uint32_t max_states, tg__dfa *out);
/* The product automaton (both must accept). */
tg_status tg__dfa_intersect(const tg__dfa *a, const tg__dfa *b, uint32_t max_states,
                            tg__dfa *out);
/* What a accepts and b does not. */
tg_status tg__dfa_minus(const tg__dfa *a, const tg__dfa *b, uint32_t max_states, tg__dfa *out);
void tg__dfa_free(tg__dfa *d);
bool tg__dfa_is_empty(const tg__dfa *d);       /* accepts nothing */
bool tg__dfa_is_prefix_free(const tg__dfa *d); /* no accepting state has a way on */
/* Whole-string match. */
bool tg__dfa_match(const tg__dfa *d, const char *s, size_t n);

static inline uint32_t tg__dfa_next(const tg__dfa *d, uint32_t s, uint8_t b) {
    return d->next[(size_t)s * d->n_cls + d->cls[b]];
}

/* ------------------------------------------------------------------ */
/* Grammars (grammar.c)                                                */
/* ------------------------------------------------------------------ */

typedef enum tg__gkind {
    TG__G_END,   /* end of an alternative: return to the caller            */
    TG__G_BYTES, /* one byte of classes[arg]                               */
    TG__G_DFA,   /* dfas[arg], matched min..max times in a row             */
    TG__G_NUM,   /* a JSON number described by nums[arg]                   */
    TG__G_REF,   /* rule arg, min..max times                               */
} tg__gkind;

typedef struct tg__gelem {
    uint32_t kind;
    uint32_t arg;
    uint32_t min, max;
} tg__gelem;

/* A JSON number.  Bounded numbers are checked exactly: lo and hi are scaled
 * by 10^frac (integers: frac = 0), have no exponent, and floats carry at most
 * `frac` decimals.  Unbounded floats may have an exponent of exp_digits. */
typedef struct tg__num {
    bool integer;
    bool bounded;
    uint8_t frac;       /* decimals: exact (bounded) or at most (unbounded) */
    uint8_t int_digits; /* most digits before the point */
    uint8_t exp_digits; /* most exponent digits (0: no exponent) */
    int64_t lo, hi;     /* bounded: the range, scaled by 10^frac */
} tg__num;

#define TG__NUM_FRAC 6       /* decimals of a bounded float */
#define TG__NUM_INT_FLOAT 12 /* integer-part digits of a bounded float */

struct tg_grammar {
    tg__gelem *elems;
    uint32_t n_elems;
    uint32_t *alt_start; /* first element of each alternative */
    uint32_t n_alts;
    struct tg__grule {
        uint32_t first, n; /* alternatives alt_start[first .. first + n) */
    } *rules;
    uint32_t n_rules;
    uint32_t start_elem; /* a REF to the root rule followed by END: the bottom frame */
    uint32_t (*classes)[8];
    uint32_t n_classes;
    tg__dfa *dfas;
    uint32_t n_dfas;
    tg__num *nums;
    uint32_t n_nums;
};

/* A grammar under construction.  Every call that fails leaves a message and
 * makes the builder fail for good (later calls return failure at once). */
typedef struct tg__gb tg__gb;

/* A sequence of elements being assembled into an alternative. */
typedef struct tg__seq {
    tg__gelem *e;
    size_t n, cap;
} tg__seq;

tg__gb *tg__gb_new(void);
void tg__gb_free(tg__gb *b);
bool tg__gb_failed(const tg__gb *b);
/* A new rule with no alternatives yet; TG__DEAD on failure. */
uint32_t tg__gb_rule(tg__gb *b);
/* Names a rule for messages (GBNF rule names). */
bool tg__gb_name(tg__gb *b, uint32_t rule, const char *name, size_t len);
/* Commits s as one more alternative of rule (s is emptied). */
bool tg__gb_alt(tg__gb *b, uint32_t rule, tg__seq *s);
/* Takes the DFA (its memory becomes the builder's, even on failure). */
uint32_t tg__gb_dfa(tg__gb *b, tg__dfa *d);
uint32_t tg__gb_num(tg__gb *b, const tg__num *n);
/* The shared DFA of one JSON string character (built once). */
uint32_t tg__gb_json_char_dfa(tg__gb *b);
bool tg__seq_lit(tg__gb *b, tg__seq *s, const char *lit, size_t n);
bool tg__seq_set(tg__gb *b, tg__seq *s, const uint32_t set[8]);
bool tg__seq_elem(tg__gb *b, tg__seq *s, tg__gkind kind, uint32_t arg, uint32_t min, uint32_t max);
void tg__seq_free(tg__seq *s);
/* Checks and freezes the grammar rooted at rule root; frees the builder.
 * NULL with a message if the root cannot produce any text or a rule is left
 * recursive.  `what` names the source in messages ("json schema", "gbnf"). */
tg_grammar *tg__gb_finish(tg__gb *b, uint32_t root, const char *what);

/* JSON whitespace allowed between tokens of a document: in each gap, up to
 * INLINE spaces or tabs, then optionally one line break and up to INDENT
 * spaces or tabs (pretty-printing 10 levels deep at 2 spaces).  Tight on
 * purpose: a sampled model (a base model above all) otherwise spends its
 * token budget on runs of blanks, and a reply cut off by max_tokens is not
 * a document. */
#define TG__WS_INLINE 1u
#define TG__WS_INDENT 20u
/* An element sequence piece: bounded JSON whitespace. */
bool tg__seq_ws(tg__gb *b, tg__seq *s);
/* Rules matching any JSON value / object / string (built once per builder). */
uint32_t tg__gb_any_value(tg__gb *b);
uint32_t tg__gb_any_object(tg__gb *b);
uint32_t tg__gb_any_string(tg__gb *b, uint32_t min_len, uint32_t max_len);

/* ------------------------------------------------------------------ */
/* Runtime (grammar_run.c)                                             */
/* ------------------------------------------------------------------ */

/* A frame of a stack.  The top frame of a stack is passed around by value
 * ("head"); the frames below it are immutable and shared. */
typedef struct tg__frame {
    const struct tg__frame *parent;
    uint32_t elem;  /* element the frame is at; TG__DONE: stack finished */
    uint32_t count; /* repetitions completed (NUM: its packed state) */
    uint64_t aux;   /* BYTES: consumed; DFA: state; NUM: digits so far */
    uint32_t depth; /* frames in the stack up to this one */
} tg__frame;

/* Scratch memory for stepping: a chunked arena for frames (reset per use,
 * chunks kept, so steady-state stepping does not allocate). */
typedef struct tg__arena_chunk tg__arena_chunk;
typedef struct tg__arena {
    tg__arena_chunk *head, *cur;
    size_t used; /* in cur */
    bool failed;
    tg__frame *work; /* the stepping worklist, kept between calls */
    size_t work_cap;
} tg__arena;
typedef struct tg__arena_mark {
    tg__arena_chunk *chunk;
    size_t used;
} tg__arena_mark;

void tg__arena_free(tg__arena *a);
void tg__arena_reset(tg__arena *a);
tg__arena_mark tg__arena_mark_get(const tg__arena *a);
void tg__arena_mark_reset(tg__arena *a, tg__arena_mark m);
tg__frame *tg__arena_frame(tg__arena *a);

/* The normalized heads of the start state; returns how many (0 only if
 * memory failed). */
uint32_t tg__run_start(const tg_grammar *g, tg__arena *a, tg__frame *out);
/* Steps n heads over byte b into out (room for TG__MAX_HEADS); returns how
 * many heads survive (0: the byte is rejected). */
uint32_t tg__run_step(const tg_grammar *g, tg__arena *a, const tg__frame *in, uint32_t n,
                      uint8_t b, tg__frame *out);
/* Some stack can finish without consuming more. */
bool tg__run_complete(const tg_grammar *g, tg__arena *a, const tg__frame *in, uint32_t n);
/* Some stack can take some byte. */
bool tg__run_can_continue(const tg_grammar *g, tg__arena *a, const tg__frame *in, uint32_t n);
/* Forgets the cached masks (for timing the computation). */
void tg__grammar_state_drop_cache(tg_grammar_state *st);
/* Would the state take these bytes?  (Nothing changes; for tests.) */
bool tg__grammar_state_try(tg_grammar_state *st, const char *s, size_t n);
/* Whole-text acceptance from the start (tests, enum filtering). */
bool tg__grammar_accepts(const tg_grammar *g, const char *text, size_t len);

/* NUM elements (grammar_num.c, used by grammar_run.c). */
bool tg__num_take(const tg__num *s, uint32_t *count, uint64_t *aux, uint8_t b);
bool tg__num_can_exit(const tg__num *s, uint32_t count, uint64_t aux);
bool tg__num_range_ok(const tg__num *s); /* some number satisfies it */
/* Scaled bounds from a schema's doubles: the smallest scaled value whose
 * decimal text parses (strtod) to >= x (> x if exclusive), and the largest
 * whose text parses to <= x (< x); false if out of the representable span. */
bool tg__num_lower(double x, bool exclusive, uint8_t frac, int64_t *out);
bool tg__num_upper(double x, bool exclusive, uint8_t frac, int64_t *out);

/* ------------------------------------------------------------------ */
/* Token index of a vocabulary (grammar_vocab.c)                       */
/* ------------------------------------------------------------------ */

#define TG__MAX_PIECE 1024 /* longer token texts are never allowed */

/* A byte trie of token texts in depth-first order: the children of node i
 * are the nodes i+1 .. skip-1; node 0 is the root (the empty text). */
typedef struct tg__trie_node {
    uint32_t skip;  /* the next node after this subtree */
    uint32_t tok;   /* first of the tokens whose text ends here (in toks) */
    uint16_t ntok;  /* how many */
    uint16_t depth; /* text length */
    uint8_t byte;   /* the byte leading here */
} tg__trie_node;

typedef struct tg__trie {
    tg__trie_node *nodes;
    uint32_t n;
    int32_t *toks;
    uint32_t max_depth;
} tg__trie;

/* Everything the masks need from a vocabulary, built once and shared by
 * the states of every grammar over it (immutable once built). */
typedef struct tg__tokidx {
    const tg_vocab *vocab;
    uint64_t fingerprint;
    int32_t n_vocab;
    uint32_t words;           /* (n_vocab + 31) / 32 */
    char *blob;               /* token texts */
    uint32_t *off;            /* text of token t: blob + off[t], len[t] bytes */
    uint16_t *len;            /* 0: the token is never allowed */
    uint32_t *eog;            /* bitset: end-of-generation tokens */
    uint32_t *plain;          /* bitset: texts of whole JSON-string characters only */
    uint8_t *plain_chars;     /* characters in each plain text (255: 255 or more) */
    uint32_t max_plain_chars;
    tg__trie all;             /* every allowed token */
    tg__trie rest;            /* the allowed tokens that are not plain */
    int refs;                 /* states using it (under the registry lock) */
} tg__tokidx;

/* The index of v, built on first use (NULL with a message on failure);
 * release when done.  Thread-safe. */
tg__tokidx *tg__tokidx_get(const tg_vocab *v);
void tg__tokidx_release(tg__tokidx *x);
/* Strict UTF-8 text of JSON-string characters that need no escape. */
bool tg__plain_text(const char *s, size_t n, uint32_t *chars);

#endif /* TG_GEN_GRAMMAR_H */
