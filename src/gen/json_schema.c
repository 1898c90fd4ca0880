/*
 * json_schema.c — JSON Schema → grammar (tg_grammar_from_json_schema).
 *
 * Each schema node becomes one rule (compiled once, by node, so $ref cycles
 * become recursive rules).  The subset, and why each choice keeps output
 * valid, is in docs/grammar.md; in short:
 *   - objects write their declared properties in schema order, required
 *     ones always, optional ones maybe; without an explicit
 *     additionalProperties, an object with properties gets no others;
 *   - extra properties (additionalProperties true or a schema) come after
 *     the declared ones, with unescaped keys that differ from every
 *     declared name (so no key can repeat a declared one);
 *   - oneOf is compiled like anyOf (exact when branches cannot both match);
 *   - validation keywords we cannot enforce are errors naming the keyword
 *     and the JSON pointer; annotations and unknown keywords are ignored,
 *     since standard validators ignore them too.
 * The string, number, object and array builders are in json_schema_types.c.
 *
 * What this file must never do: recurse deeper than JS_MAX_DEPTH, follow a
 * $ref outside the document, or emit a rule that can produce a document the
 * schema rejects.
 */
#include "gen/json_schema.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t tg__js_fail(tg__js *j, tg_status s, const char *fmt, ...) {
    if (j->st == TG_OK) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        j->st = s;
        tg__fail(s, "json schema: %s at %s", msg, j->ptr_len ? j->ptr : "the root");
    }
    return TG__DEAD;
}

uint32_t tg__js_builder_failed(tg__js *j) {
    if (j->st == TG_OK) {
        j->st = TG_ERR_RANGE;
        tg__fail_prefix(TG_ERR_RANGE, "json schema: at %s", j->ptr_len ? j->ptr : "/");
    }
    return TG__DEAD;
}

/* JSON pointer bookkeeping: push a key (escaped ~0 ~1) or an index. */
size_t tg__js_push(tg__js *j, const char *key) {
    size_t old = j->ptr_len;
    if (j->ptr_len + 2 < sizeof j->ptr)
        j->ptr[j->ptr_len++] = '/';
    for (const char *c = key; *c && j->ptr_len + 3 < sizeof j->ptr; c++) {
        if (*c == '~' || *c == '/') {
            j->ptr[j->ptr_len++] = '~';
            j->ptr[j->ptr_len++] = *c == '~' ? '0' : '1';
        } else {
            j->ptr[j->ptr_len++] = *c;
        }
    }
    j->ptr[j->ptr_len] = '\0';
    return old;
}

size_t tg__js_push_index(tg__js *j, size_t i) {
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", i);
    return tg__js_push(j, buf);
}

void tg__js_pop(tg__js *j, size_t old) {
    j->ptr_len = old;
    j->ptr[old] = '\0';
}

/* ------------------------------------------------------------------ */
/* Keywords                                                            */
/* ------------------------------------------------------------------ */

/* Keywords that do not constrain a value (or only in ways we honour by
 * ignoring them, like OpenAPI's nullable, which validators skip). */
static const char *const annotations[] = {
    "title",       "description", "default",         "examples",        "example",
    "$schema",     "$id",         "$comment",        "deprecated",      "readOnly",
    "writeOnly",   "$anchor",     "$dynamicAnchor",  "$recursiveAnchor", "contentMediaType",
    "contentEncoding", "contentSchema", "nullable",  "discriminator",   "xml",
    "externalDocs", "$defs",      "definitions",     "$vocabulary",
};

/* Validation keywords that we cannot enforce: an error. */
static const char *const unsupported[] = {
    "multipleOf",        "contains",         "minContains",     "maxContains",
    "patternProperties", "propertyNames",    "dependentRequired", "dependentSchemas",
    "dependencies",      "if",               "then",            "else",
    "not",               "unevaluatedProperties", "unevaluatedItems", "minProperties",
    "maxProperties",     "$dynamicRef",      "$recursiveRef",
};

/* The value-constraining keywords we implement, by the JSON type they
 * speak about. */
static const char *const kw_object[] = {"properties", "required", "additionalProperties"};
static const char *const kw_array[] = {"items", "prefixItems", "additionalItems", "minItems",
                                       "maxItems", "uniqueItems"};
static const char *const kw_string[] = {"minLength", "maxLength", "pattern", "format"};
static const char *const kw_number[] = {"minimum", "maximum", "exclusiveMinimum",
                                        "exclusiveMaximum"};
static const char *const kw_combine[] = {"type", "enum", "const", "anyOf", "oneOf", "allOf",
                                         "$ref"};

static bool in_list(const char *k, const char *const *l, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(k, l[i]) == 0)
            return true;
    return false;
}

#define IN(k, l) in_list((k), (l), TG_ARRAY_LEN(l))

bool tg__js_is_annotation(const char *k) { return IN(k, annotations); }

static int kw_family(const char *k) {
    if (IN(k, kw_object))
        return JS_T_OBJECT;
    if (IN(k, kw_array))
        return JS_T_ARRAY;
    if (IN(k, kw_string))
        return JS_T_STRING;
    if (IN(k, kw_number))
        return JS_T_NUMBER | JS_T_INTEGER;
    return 0;
}

/* The first keyword of node that constrains values, other than the ones
 * listed in `except` (NULL if none). */
static const char *first_constraint(json_t *node, const char *const *except, size_t n_except) {
    const char *k;
    json_t *v;
    json_object_foreach(node, k, v) {
        if (in_list(k, except, n_except) || tg__js_is_annotation(k))
            continue;
        if (kw_family(k) || IN(k, kw_combine) || IN(k, unsupported))
            return k;
    }
    return NULL;
}

static uint32_t parse_types(tg__js *j, json_t *t) {
    static const struct {
        const char *name;
        uint32_t bit;
    } names[] = {{"null", JS_T_NULL},       {"boolean", JS_T_BOOLEAN}, {"object", JS_T_OBJECT},
                 {"array", JS_T_ARRAY},     {"number", JS_T_NUMBER},   {"string", JS_T_STRING},
                 {"integer", JS_T_INTEGER}};
    json_t *one[1] = {t};
    size_t n = 1;
    if (json_is_array(t)) {
        n = json_array_size(t);
        if (n == 0) {
            tg__js_fail(j, TG_ERR_FORMAT, "\"type\" must not be an empty array");
            return 0;
        }
    }
    uint32_t bits = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_is_array(t) ? json_array_get(t, i) : one[0];
        if (!json_is_string(x)) {
            tg__js_fail(j, TG_ERR_TYPE, "\"type\" must be a string or an array of strings");
            return 0;
        }
        uint32_t bit = 0;
        for (size_t k = 0; k < TG_ARRAY_LEN(names); k++)
            if (strcmp(json_string_value(x), names[k].name) == 0)
                bit = names[k].bit;
        if (!bit) {
            tg__js_fail(j, TG_ERR_FORMAT, "unknown type \"%.40s\"", json_string_value(x));
            return 0;
        }
        bits |= bit;
    }
    return bits;
}

/* ------------------------------------------------------------------ */
/* $ref                                                                */
/* ------------------------------------------------------------------ */

static int hexv(char c) {
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The node a local reference ("#", "#/a/b~1c/0") points at, or NULL. */
static json_t *resolve(tg__js *j, const char *ref) {
    if (ref[0] != '#')
        return tg__js_fail(j, TG_ERR_UNSUPPORTED,
                           "$ref \"%.80s\" is not local (only \"#/...\" references are supported)",
                           ref),
               NULL;
    const char *p = ref + 1;
    if (*p && *p != '/')
        return tg__js_fail(j, TG_ERR_UNSUPPORTED,
                           "$ref \"%.80s\": anchors are not supported, use a JSON pointer", ref),
               NULL;
    json_t *cur = j->root;
    char seg[512];
    while (*p == '/') {
        p++;
        size_t n = 0;
        while (*p && *p != '/') {
            char c = *p++;
            if (c == '~') {
                if (*p != '0' && *p != '1')
                    return tg__js_fail(j, TG_ERR_FORMAT, "$ref \"%.80s\": bad ~ escape", ref), NULL;
                c = *p++ == '0' ? '~' : '/';
            } else if (c == '%' && hexv(p[0]) >= 0 && hexv(p[1]) >= 0) {
                c = (char)(hexv(p[0]) * 16 + hexv(p[1]));
                p += 2;
            }
            if (n + 1 >= sizeof seg || c == '\0')
                return tg__js_fail(j, TG_ERR_FORMAT, "$ref \"%.80s\": bad segment", ref), NULL;
            seg[n++] = c;
        }
        seg[n] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_get(cur, seg);
        } else if (json_is_array(cur)) {
            char *end;
            unsigned long long i = strtoull(seg, &end, 10);
            cur = (n && *end == '\0' && seg[0] != '-') ? json_array_get(cur, (size_t)i) : NULL;
        } else {
            cur = NULL;
        }
        if (!cur)
            return tg__js_fail(j, TG_ERR_NOT_FOUND, "$ref \"%.80s\" points at nothing", ref), NULL;
    }
    return cur;
}

/* ------------------------------------------------------------------ */
/* Nodes                                                               */
/* ------------------------------------------------------------------ */

static size_t memo_slot(const json_t *node, size_t cap) {
    uintptr_t h = (uintptr_t)node;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 7) & (cap - 1);
}

static bool memo_get(tg__js *j, const json_t *node, uint32_t *rule) {
    if (!j->cap_memo)
        return false;
    for (size_t i = memo_slot(node, j->cap_memo);; i = (i + 1) & (j->cap_memo - 1)) {
        if (!j->memo[i].node)
            return false;
        if (j->memo[i].node == node) {
            *rule = j->memo[i].rule;
            return true;
        }
    }
}

static bool memo_put(tg__js *j, const json_t *node, uint32_t rule) {
    if ((j->n_memo + 1) * 2 > j->cap_memo) {
        size_t nc = j->cap_memo ? j->cap_memo * 2 : 64;
        struct tg__js_memo *nm = tg__calloc(nc, sizeof *nm);
        if (!nm)
            return false;
        for (size_t k = 0; k < j->cap_memo; k++)
            if (j->memo[k].node) {
                size_t i = memo_slot(j->memo[k].node, nc);
                while (nm[i].node)
                    i = (i + 1) & (nc - 1);
                nm[i] = j->memo[k];
            }
        free(j->memo);
        j->memo = nm;
        j->cap_memo = nc;
    }
    size_t i = memo_slot(node, j->cap_memo);
    while (j->memo[i].node)
        i = (i + 1) & (j->cap_memo - 1);
    j->memo[i].node = node;
    j->memo[i].rule = rule;
    j->n_memo++;
    return true;
}

/* One alternative: REF r. */
bool tg__js_alt_ref(tg__js *j, uint32_t rule, uint32_t r) {
    tg__seq s = {0};
    bool ok = tg__seq_elem(j->b, &s, TG__G_REF, r, 1, 1) && tg__gb_alt(j->b, rule, &s);
    tg__seq_free(&s);
    return ok;
}

/* anyOf / oneOf: one alternative per branch. */
static bool compile_union(tg__js *j, uint32_t rule, json_t *list, const char *kw) {
    if (!json_is_array(list) || json_array_size(list) == 0) {
        tg__js_fail(j, TG_ERR_TYPE, "\"%s\" must be a non-empty array of schemas", kw);
        return false;
    }
    size_t o1 = tg__js_push(j, kw);
    for (size_t i = 0; i < json_array_size(list) && j->st == TG_OK; i++) {
        size_t o2 = tg__js_push_index(j, i);
        uint32_t r = tg__js_compile(j, json_array_get(list, i));
        if (r != TG__DEAD && !tg__js_alt_ref(j, rule, r))
            tg__js_builder_failed(j);
        tg__js_pop(j, o2);
    }
    tg__js_pop(j, o1);
    return j->st == TG_OK;
}

/* A node with "$ref", "allOf", "anyOf", "oneOf", "enum" or "const" as its
 * constraint; false if the node has none of them (nothing done). */
static bool compile_combinator(tg__js *j, json_t *node, uint32_t rule) {
    json_t *ref = json_object_get(node, "$ref");
    json_t *all = json_object_get(node, "allOf");
    json_t *any = json_object_get(node, "anyOf");
    json_t *one = json_object_get(node, "oneOf");
    if (ref) {
        static const char *const ex[] = {"$ref"};
        const char *k = first_constraint(node, ex, 1);
        if (k)
            return tg__js_fail(j, TG_ERR_UNSUPPORTED, "keyword \"%s\" beside \"$ref\" is not "
                               "supported (wrap them in anyOf/allOf of one schema)", k), true;
        if (!json_is_string(ref))
            return tg__js_fail(j, TG_ERR_TYPE, "\"$ref\" must be a string"), true;
        json_t *target = resolve(j, json_string_value(ref));
        if (!target)
            return true;
        /* messages inside the target name the target's own pointer */
        char saved[sizeof j->ptr];
        size_t saved_len = j->ptr_len;
        memcpy(saved, j->ptr, sizeof saved);
        const char *frag = json_string_value(ref) + 1;
        snprintf(j->ptr, sizeof j->ptr, "%s", frag);
        j->ptr_len = strlen(j->ptr);
        uint32_t r = tg__js_compile(j, target);
        memcpy(j->ptr, saved, sizeof saved);
        j->ptr_len = saved_len;
        if (r != TG__DEAD && !tg__js_alt_ref(j, rule, r))
            tg__js_builder_failed(j);
        return true;
    }
    if (all) {
        static const char *const ex[] = {"allOf"};
        if (!json_is_array(all) || json_array_size(all) == 0)
            return tg__js_fail(j, TG_ERR_TYPE, "\"allOf\" must be a non-empty array"), true;
        if (json_array_size(all) > 1)
            return tg__js_fail(j, TG_ERR_UNSUPPORTED,
                               "\"allOf\" with more than one schema is not supported"), true;
        const char *k = first_constraint(node, ex, 1);
        if (k)
            return tg__js_fail(j, TG_ERR_UNSUPPORTED,
                               "keyword \"%s\" beside \"allOf\" is not supported", k), true;
        size_t o = tg__js_push(j, "allOf");
        size_t o2 = tg__js_push_index(j, 0);
        uint32_t r = tg__js_compile(j, json_array_get(all, 0));
        tg__js_pop(j, o2);
        tg__js_pop(j, o);
        if (r != TG__DEAD && !tg__js_alt_ref(j, rule, r))
            tg__js_builder_failed(j);
        return true;
    }
    if (any || one) {
        static const char *const ex[] = {"anyOf", "oneOf"};
        const char *k = first_constraint(node, ex, 2);
        if (k)
            return tg__js_fail(j, TG_ERR_UNSUPPORTED,
                               "keyword \"%s\" beside \"%s\" is not supported (move it into "
                               "each branch)", k, any ? "anyOf" : "oneOf"), true;
        if (any)
            compile_union(j, rule, any, "anyOf");
        if (one && j->st == TG_OK)
            compile_union(j, rule, one, "oneOf");
        return true;
    }
    if (json_object_get(node, "enum") || json_object_get(node, "const")) {
        tg__js_enum(j, node, rule);
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* enum / const                                                        */
/* ------------------------------------------------------------------ */

/* The body of a JSON string literal for s as the pattern DFAs expect it
 * (", \ and control characters escaped, short forms where JSON has them). */
static char *canonical_body(const char *s, size_t n) {
    char *o = tg__malloc(6 * n + 1);
    if (!o)
        return NULL;
    size_t w = 0;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *sh = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b"
                         : c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\f' ? "\\f"
                         : c == '\r' ? "\\r" : NULL;
        if (sh) {
            memcpy(o + w, sh, 2);
            w += 2;
        } else if (c < 0x20) {
            memcpy(o + w, "\\u00", 4);
            o[w + 4] = hex[c >> 4];
            o[w + 5] = hex[c & 15];
            w += 6;
        } else {
            o[w++] = (char)c;
        }
    }
    o[w] = '\0';
    return o;
}

static size_t utf8_chars(const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

/* Does value v satisfy the node's type and scalar keywords?  (enum/const
 * values are checked here instead of by intersecting automata.) */
static bool value_fits(tg__js *j, json_t *node, json_t *v, uint32_t types) {
    uint32_t t = json_is_null(v) ? JS_T_NULL : json_is_boolean(v) ? JS_T_BOOLEAN
               : json_is_object(v) ? JS_T_OBJECT : json_is_array(v) ? JS_T_ARRAY
               : json_is_string(v) ? JS_T_STRING : JS_T_NUMBER;
    bool integral = json_is_integer(v) ||
                    (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)));
    if (!(types & t) && !(t == JS_T_NUMBER && integral && (types & JS_T_INTEGER)))
        return false;
    if (t == JS_T_NUMBER) {
        double x = json_number_value(v);
        static const char *const kws[] = {"minimum", "exclusiveMinimum", "maximum",
                                          "exclusiveMaximum"};
        for (int k = 0; k < 4; k++) {
            json_t *b = json_object_get(node, kws[k]);
            if (!b || !json_is_number(b))
                continue;
            double y = json_number_value(b);
            bool lower = k < 2;
            bool excl = k == 1 || k == 3 ||
                        json_is_true(json_object_get(node, lower ? "exclusiveMinimum"
                                                                 : "exclusiveMaximum"));
            if (lower ? (excl ? !(x > y) : !(x >= y)) : (excl ? !(x < y) : !(x <= y)))
                return false;
        }
    }
    if (t == JS_T_STRING) {
        uint32_t mn, mx;
        if (!tg__js_count(j, node, "minLength", 0, &mn) ||
            !tg__js_count(j, node, "maxLength", TG__INF, &mx))
            return false;
        size_t len = json_string_length(v), n = utf8_chars(json_string_value(v), len);
        if (n < mn || n > mx)
            return false;
        tg__dfa d;
        bool have;
        if (!tg__js_string_dfa(j, node, 0, TG__INF, &d, &have))
            return false;
        if (have) {
            char *body = canonical_body(json_string_value(v), len);
            bool ok = body && tg__dfa_match(&d, body, strlen(body));
            free(body);
            tg__dfa_free(&d);
            if (!ok)
                return false;
        }
    }
    return true;
}

void tg__js_enum(tg__js *j, json_t *node, uint32_t rule) {
    json_t *en = json_object_get(node, "enum"), *cn = json_object_get(node, "const");
    if (en && (!json_is_array(en) || json_array_size(en) == 0)) {
        tg__js_fail(j, TG_ERR_TYPE, "\"enum\" must be a non-empty array");
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(node, k, v) {
        if (tg__js_is_annotation(k) || strcmp(k, "enum") == 0 || strcmp(k, "const") == 0 ||
            strcmp(k, "type") == 0 || strcmp(k, "minLength") == 0 ||
            strcmp(k, "maxLength") == 0 || strcmp(k, "pattern") == 0 ||
            strcmp(k, "format") == 0 || strcmp(k, "minimum") == 0 ||
            strcmp(k, "maximum") == 0 || strcmp(k, "exclusiveMinimum") == 0 ||
            strcmp(k, "exclusiveMaximum") == 0)
            continue;
        if (kw_family(k) || IN(k, kw_combine)) {
            tg__js_fail(j, TG_ERR_UNSUPPORTED, "keyword \"%s\" beside \"%s\" is not supported",
                        k, en ? "enum" : "const");
            return;
        }
    }
    uint32_t types = json_object_get(node, "type") ? tg__js_types(j, node) : JS_T_ALL;
    if (j->st)
        return;
    size_t n = en ? json_array_size(en) : 1;
    if (n > JS_MAX_ENUM) {
        tg__js_fail(j, TG_ERR_RANGE, "\"enum\" has more than %u values", JS_MAX_ENUM);
        return;
    }
    tg__re_pool *p = tg__re_pool_new();
    if (!p) {
        tg__js_builder_failed(j);
        return;
    }
    tg__re *re = tg__re_none(p);
    size_t total = 0, kept = 0;
    for (size_t i = 0; i < n && re && j->st == TG_OK; i++) {
        json_t *x = en ? json_array_get(en, i) : cn;
        if ((en && cn && !json_equal(x, cn)) || !value_fits(j, node, x, types))
            continue;
        char *text = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text) {
            tg__js_builder_failed(j);
            break;
        }
        total += strlen(text);
        if (total > JS_MAX_ENUM_BYTES) {
            free(text);
            tg__js_fail(j, TG_ERR_RANGE, "\"enum\" values exceed %u bytes", JS_MAX_ENUM_BYTES);
            break;
        }
        re = tg__re_alt(p, re, tg__re_lit(p, text, strlen(text)));
        free(text);
        kept++;
    }
    tg__dfa d;
    if (j->st == TG_OK && kept) {
        tg_status st = re ? tg__dfa_build(re, TG__MAX_DFA_STATES, &d) : TG_ERR_RANGE;
        if (st) {
            tg__js_fail(j, st, "\"enum\": %s", tg_last_error());
        } else {
            tg__seq s = {0};
            if (!tg__seq_elem(j->b, &s, TG__G_DFA, tg__gb_dfa(j->b, &d), 1, 1) ||
                !tg__gb_alt(j->b, rule, &s))
                tg__js_builder_failed(j);
            tg__seq_free(&s);
        }
    }
    tg__re_pool_free(p);
}

uint32_t tg__js_compile(tg__js *j, json_t *node) {
    uint32_t rule;
    if (j->st)
        return TG__DEAD;
    if (memo_get(j, node, &rule))
        return rule;
    if (j->depth >= JS_MAX_DEPTH)
        return tg__js_fail(j, TG_ERR_RANGE, "schema nested more than %d levels deep",
                           JS_MAX_DEPTH);
    if (!json_is_object(node) && !json_is_boolean(node))
        return tg__js_fail(j, TG_ERR_TYPE, "a schema must be an object or a boolean");
    rule = tg__gb_rule(j->b);
    if (rule == TG__DEAD || !memo_put(j, node, rule))
        return tg__js_builder_failed(j);
    if (json_is_true(node))
        return tg__js_alt_ref(j, rule, tg__gb_any_value(j->b)) ? rule : tg__js_builder_failed(j);
    if (json_is_false(node))
        return rule; /* no alternatives: nothing matches */
    j->depth++;
    const char *k;
    json_t *v;
    json_object_foreach(node, k, v) {
        if (IN(k, unsupported) || (strcmp(k, "uniqueItems") == 0 && json_is_true(v))) {
            size_t o = tg__js_push(j, k);
            tg__js_fail(j, TG_ERR_UNSUPPORTED, "keyword \"%s\" is not supported", k);
            tg__js_pop(j, o);
            j->depth--;
            return TG__DEAD;
        }
    }
    if (!compile_combinator(j, node, rule))
        tg__js_typed(j, node, rule);
    j->depth--;
    if (j->st == TG_OK && tg__gb_failed(j->b))
        tg__js_builder_failed(j);
    return j->st ? TG__DEAD : rule;
}

/* The JSON types a node without enum/const/combinators may produce: its
 * "type", or the families of its keywords, or all. */
uint32_t tg__js_types(tg__js *j, json_t *node) {
    json_t *t = json_object_get(node, "type");
    if (t)
        return parse_types(j, t);
    uint32_t bits = 0;
    const char *k;
    json_t *v;
    json_object_foreach(node, k, v) bits |= (uint32_t)kw_family(k);
    if (bits & JS_T_NUMBER)
        bits &= ~(uint32_t)JS_T_INTEGER; /* number covers integer */
    return bits ? bits : JS_T_ALL;
}

/* ------------------------------------------------------------------ */
/* Entry point                                                         */
/* ------------------------------------------------------------------ */

tg_grammar *tg_grammar_from_json_schema(const char *schema, size_t len) {
    tg__clear_error();
    if (!schema && len)
        return tg__fail(TG_ERR_ARG, "json schema: NULL text"), NULL;
    if (len > JS_MAX_TEXT)
        return tg__fail(TG_ERR_RANGE, "json schema: %zu bytes is more than the %u allowed", len,
                        JS_MAX_TEXT),
               NULL;
    json_error_t jerr;
    json_t *root = json_loadb(schema ? schema : "", len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root)
        return tg__fail(TG_ERR_FORMAT, "json schema: not valid JSON: %s (line %d, column %d)",
                        jerr.text, jerr.line, jerr.column),
               NULL;
    tg__js j = {0};
    j.root = root;
    j.b = tg__gb_new();
    tg_grammar *g = NULL;
    if (j.b) {
        uint32_t r = tg__js_compile(&j, root);
        uint32_t top = tg__gb_rule(j.b);
        tg__seq s = {0};
        if (r != TG__DEAD && tg__seq_ws(j.b, &s) &&
            tg__seq_elem(j.b, &s, TG__G_REF, r, 1, 1) && tg__gb_alt(j.b, top, &s)) {
            g = tg__gb_finish(j.b, top, "json schema");
            j.b = NULL;
            if (!g && strstr(tg_last_error(), "no text can match"))
                tg__fail(TG_ERR_ARG, "json schema: no JSON document satisfies the schema "
                         "(its constraints contradict each other)");
        } else if (j.st == TG_OK) {
            tg__js_builder_failed(&j);
        }
        tg__seq_free(&s);
    }
    tg__gb_free(j.b);
    free(j.memo);
    json_decref(root);
    return g;
}
