/*
 * json_schema.h — internals shared by json_schema.c (nodes, keywords,
 * references, combinators, enum/const) and json_schema_types.c (the rules
 * for strings, numbers, objects and arrays).  Not public API.
 */
#ifndef TG_GEN_JSON_SCHEMA_H
#define TG_GEN_JSON_SCHEMA_H

#include "gen/grammar.h"

#include <jansson.h>

#define JS_MAX_DEPTH 64            /* schema nesting, $ref chains included */
#define JS_MAX_TEXT (4u << 20)     /* schema text bytes */
#define JS_MAX_ENUM 10000u         /* enum values */
#define JS_MAX_ENUM_BYTES (1u << 20) /* their total text */
#define JS_MAX_COUNT 100000u       /* minItems / minLength */

enum {
    JS_T_NULL = 1,
    JS_T_BOOLEAN = 2,
    JS_T_OBJECT = 4,
    JS_T_ARRAY = 8,
    JS_T_NUMBER = 16,
    JS_T_STRING = 32,
    JS_T_INTEGER = 64,
    JS_T_ALL = 127,
};

typedef struct tg__js {
    tg__gb *b;
    json_t *root;
    struct tg__js_memo {
        const json_t *node;
        uint32_t rule;
    } *memo; /* open addressing by node pointer (node NULL: empty) */
    size_t n_memo, cap_memo;
    int depth;
    char ptr[512]; /* JSON pointer of the node being compiled */
    size_t ptr_len;
    tg_status st; /* first failure */
} tg__js;

/* Records the first failure as "json schema: <message> at <pointer>";
 * returns TG__DEAD for convenience. */
uint32_t tg__js_fail(tg__js *j, tg_status s, const char *fmt, ...) TG_PRINTF(3, 4);
/* The builder failed (a limit or memory): its message, with the pointer. */
uint32_t tg__js_builder_failed(tg__js *j);
size_t tg__js_push(tg__js *j, const char *key);
size_t tg__js_push_index(tg__js *j, size_t i);
void tg__js_pop(tg__js *j, size_t old);
bool tg__js_is_annotation(const char *k);
/* The rule of a schema node (TG__DEAD after a failure). */
uint32_t tg__js_compile(tg__js *j, json_t *node);
bool tg__js_alt_ref(tg__js *j, uint32_t rule, uint32_t r);
/* Type bits a plain node may take (0 after a failure). */
uint32_t tg__js_types(tg__js *j, json_t *node);
/* Alternatives of rule for a node without combinators, by its types. */
void tg__js_typed(tg__js *j, json_t *node, uint32_t rule);
/* Alternatives of rule for a node with enum and/or const. */
void tg__js_enum(tg__js *j, json_t *node, uint32_t rule);
/* The DFA of a string body for the node's pattern / format (NULL if it
 * has neither, or after a failure: check j->st). */
bool tg__js_string_dfa(tg__js *j, json_t *node, uint32_t min_len, uint32_t max_len,
                       tg__dfa *out, bool *have);
/* Reads a count keyword (a non-negative integer); dflt if absent. */
bool tg__js_count(tg__js *j, json_t *node, const char *kw, uint32_t dflt, uint32_t *out);
/* A number keyword; *present false if absent. */
bool tg__js_number(tg__js *j, json_t *node, const char *kw, double *out, bool *present);

#endif /* TG_GEN_JSON_SCHEMA_H */
