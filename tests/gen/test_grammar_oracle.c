/*
 * test_grammar_oracle.c — random documents against an independent
 * validator (schema_oracle.h), over the schemas of grammar_schemas.h:
 *
 *   soundness: documents generated under the grammar, token by token over
 *   a byte vocabulary with multi-byte tokens that straddle JSON tokens
 *   (`{"`, `":`, `"},` …), always finish, always parse, always validate;
 *
 *   exactness: each generated document, and mutants of it (a key dropped or
 *   added, a value replaced by one of another type, a number nudged, a
 *   string edited, an array item added or removed), written in canonical
 *   form, is accepted by the grammar exactly when the strict oracle (the
 *   standard semantics plus the engine's documented choices) says valid —
 *   for every schema whose constraints the engine enforces exactly.
 */
#include "tinglado.h"
#include "gen/grammar.h"
#include "../test.h"
#include "grammar_schemas.h"
#include "grammar_util.h"
#include "schema_oracle.h"

#define DOCS_PER_SCHEMA 120
#define MUTANTS_PER_DOC 4

/* ------------------------------------------------------------------ */
/* Canonical text: compact, keys in document order, strings escaped as
 * the engine writes them, reals in the shortest plain form that reads
 * back exactly                                                       */
/* ------------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void put_str(sbuf *b, const char *s, size_t n) {
    put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[8];
        const char *sh = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                         : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
        if (sh) {
            put(b, sh, 2);
        } else if (c < 0x20) {
            snprintf(e, sizeof e, "\\u%04x", c);
            put(b, e, 6);
        } else {
            put(b, (const char *)&c, 1);
        }
    }
    put(b, "\"", 1);
}

static void put_json(sbuf *b, json_t *v) {
    char num[64];
    switch (json_typeof(v)) {
    case JSON_NULL: put(b, "null", 4); break;
    case JSON_TRUE: put(b, "true", 4); break;
    case JSON_FALSE: put(b, "false", 5); break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        put(b, num, strlen(num));
        break;
    case JSON_REAL: {
        double x = json_real_value(v);
        int d;
        for (d = 1; d <= 17; d++) {
            snprintf(num, sizeof num, "%.*f", d, x);
            if (strtod(num, NULL) == x)
                break;
        }
        if (d > 17)
            snprintf(num, sizeof num, "%.17g", x);
        put(b, num, strlen(num));
        break;
    }
    case JSON_STRING: put_str(b, json_string_value(v), json_string_length(v)); break;
    case JSON_ARRAY:
        put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                put(b, ",", 1);
            put_json(b, json_array_get(v, i));
        }
        put(b, "]", 1);
        break;
    case JSON_OBJECT: {
        put(b, "{", 1);
        const char *k;
        json_t *x;
        bool first = true;
        json_object_foreach(v, k, x) {
            if (!first)
                put(b, ",", 1);
            first = false;
            put_str(b, k, strlen(k));
            put(b, ":", 1);
            put_json(b, x);
        }
        put(b, "}", 1);
        break;
    }
    }
}

/* ------------------------------------------------------------------ */
/* Mutations                                                           */
/* ------------------------------------------------------------------ */

static json_t *random_value(void) {
    static const char *const strs[] = {"", "a", "high", "celsius", "x\"y", "2024-02-29", "12345",
                                       "\xc3\xa9\xc3\xa9", "event", "add"};
    switch (gu_rand() % 8) {
    case 0: return json_null();
    case 1: return json_boolean(gu_rand() % 2);
    case 2: return json_integer((json_int_t)(gu_rand() % 41) - 20);
    case 3: return json_real((double)((int)(gu_rand() % 41) - 20) + 0.5);
    case 4: return json_string(strs[gu_rand() % 10]);
    case 5: return json_pack("[i]", (int)(gu_rand() % 3));
    case 6: return json_object();
    default: return json_pack("{s:i}", "k", 1);
    }
}

typedef struct site {
    json_t *parent; /* NULL: the root */
    const char *key;
    size_t index;
    json_t *node;
} site;

static void collect(json_t *parent, const char *key, size_t index, json_t *v, site *out, size_t *n,
                    size_t cap) {
    if (*n < cap)
        out[(*n)++] = (site){parent, key, index, v};
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) collect(v, k, 0, x, out, n, cap);
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            collect(v, NULL, i, json_array_get(v, i), out, n, cap);
    }
}

static json_t *replace(json_t *root, site *s, json_t *nv) {
    if (!s->parent) {
        json_decref(root);
        return nv;
    }
    if (json_is_object(s->parent))
        json_object_set_new(s->parent, s->key, nv);
    else
        json_array_set_new(s->parent, s->index, nv);
    return root;
}

/* Applies one random mutation; returns the (possibly new) root. */
static json_t *mutate(json_t *root) {
    site sites[512];
    size_t n = 0;
    collect(NULL, NULL, 0, root, sites, &n, 512);
    site *s = &sites[gu_rand() % n];
    json_t *v = s->node;
    uint32_t r = gu_rand() % 4;
    if (r == 0)
        return replace(root, s, random_value());
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if (r == 1 && json_object_size(v) > 0) {
            size_t k = gu_rand() % json_object_size(v), i = 0;
            const char *key;
            json_t *x;
            json_object_foreach(v, key, x) {
                if (i++ == k) {
                    json_object_del(v, key);
                    break;
                }
            }
        } else {
            char key[16];
            snprintf(key, sizeof key, "zz%u", gu_rand() % 3);
            json_object_set_new(v, key, random_value());
        }
        return root;
    case JSON_ARRAY:
        if (r == 1 && json_array_size(v) > 0)
            json_array_remove(v, gu_rand() % json_array_size(v));
        else if (json_array_size(v) > 0)
            json_array_append_new(v, json_deep_copy(json_array_get(v, gu_rand() % json_array_size(v))));
        else
            json_array_append_new(v, random_value());
        return root;
    case JSON_INTEGER: {
        json_int_t x = json_integer_value(v);
        json_int_t d[] = {x + 1, x - 1, -x, x * 10};
        return replace(root, s, json_integer(d[gu_rand() % 4]));
    }
    case JSON_REAL: {
        double x = json_real_value(v);
        double d[] = {x + 0.25, x - 1, -x, x * 10, x + 0.000001};
        char t[64]; /* keep it writable with 6 decimals, as canonical text has */
        snprintf(t, sizeof t, "%.6f", d[gu_rand() % 5]);
        return replace(root, s, json_real(strtod(t, NULL)));
    }
    case JSON_STRING: {
        char buf[256];
        size_t len = json_string_length(v);
        if (len > 200)
            len = 200;
        memcpy(buf, json_string_value(v), len);
        const char alpha[] = "az09\"\\ -.";
        if (r == 1 && len > 0)
            memmove(buf + len / 2, buf + len / 2 + 1, len - len / 2 - 1), len--;
        else
            buf[len++] = alpha[gu_rand() % (sizeof alpha - 1)];
        json_t *nv = json_stringn(buf, len);
        return nv ? replace(root, s, nv) : root; /* a cut character: skip */
    }
    default: return replace(root, s, random_value());
    }
}

/* ------------------------------------------------------------------ */
/* The tests                                                           */
/* ------------------------------------------------------------------ */

static const char *const extra_tokens[] = {
    "{\"", "\":", "\",", "\"}", "},", "}]", "[{", "\u2581\"", "true", "false", "null", "12",
    "3.", "e-", "-1", "\\n", "\\\"", "\\u00", "\xc3\xa9", "ab", "\u2581the", "20", "\"\"", ",\"",
    "\"]", "\u2581", "\u2581\u2581", "\n", ":\u2581", "0.5", "-0", "\xf0\x9f\x98\x80", "e+",
};

static void test_random_documents(void) {
    tg_gguf *gg;
    tg_vocab *v = gu_synth_vocab(extra_tokens, TG_ARRAY_LEN(extra_tokens), &gg);
    CHECK(v != NULL);
    if (!v)
        return;
    gu_vinfo info = gu_vocab_info(v);
    uint32_t bits[32];
    gu_rng = 2024;
    for (size_t si = 0; si < GS_N; si++) {
        const gs_schema *sc = &gs_schemas[si];
        const char *text = sc->text ? sc->text : "{\"type\":\"object\"}";
        tg_grammar *g = sc->text ? tg_grammar_from_json_schema(text, strlen(text))
                                 : tg_grammar_json_object();
        CHECK_MSG(g != NULL, "%s: %s", sc->name, tg_last_error());
        json_t *js = json_loads(text, 0, NULL);
        tg_grammar_state *st = g ? tg_grammar_state_new(g, v) : NULL;
        int bad = 0, unfinished = 0, valid_mut = 0, invalid_mut = 0, mismatch = 0;
        size_t bytes = 0;
        for (int d = 0; st && d < DOCS_PER_SCHEMA; d++) {
            gu_doc doc = gu_generate(st, v, &info, bits, 3000);
            bytes += doc.len;
            bool parsed;
            oracle_strict = false;
            if (doc.stuck || doc.truncated || doc.rejected) {
                if (unfinished++ < 3)
                    fprintf(stderr, "  %s: unfinished (stuck %d, truncated %d, rejected %d): %.200s\n",
                            sc->name, doc.stuck, doc.truncated, doc.rejected, doc.text);
            } else if (!oracle_check(js, doc.text, doc.len, &parsed)) {
                if (bad++ < 3)
                    fprintf(stderr, "  %s: %s document %s %s\n", sc->name,
                            parsed ? "invalid" : "unparsable", doc.text, oracle_error);
            } else if (sc->exact) {
                json_t *root = json_loadb(doc.text, doc.len, JSON_DECODE_ANY, NULL);
                for (int m = 0; root && m < MUTANTS_PER_DOC; m++) {
                    json_t *mut = json_deep_copy(root);
                    if (m > 0)
                        mut = mutate(mut);
                    sbuf b = {0};
                    put_json(&b, mut);
                    oracle_strict = true;
                    bool want = oracle_valid(js, js, mut, 0);
                    oracle_strict = false;
                    bool got = tg__grammar_accepts(g, b.p, b.n);
                    valid_mut += want;
                    invalid_mut += !want;
                    if (want != got && mismatch++ < 3)
                        fprintf(stderr, "  %s: %s %s by the grammar, valid=%d\n", sc->name, b.p,
                                got ? "accepted" : "rejected", want);
                    free(b.p);
                    json_decref(mut);
                }
                json_decref(root);
            }
            free(doc.text);
        }
        fprintf(stderr, "  %-12s %d documents (%.0f bytes on average), %d invalid, %d unfinished; "
                "canonical mutants: %d valid, %d invalid, %d misjudged\n",
                sc->name, DOCS_PER_SCHEMA, (double)bytes / DOCS_PER_SCHEMA, bad, unfinished,
                valid_mut, invalid_mut, mismatch);
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(unfinished, 0);
        CHECK_EQ_INT(mismatch, 0);
        if (sc->exact)
            CHECK(valid_mut >= DOCS_PER_SCHEMA && invalid_mut >= DOCS_PER_SCHEMA);
        tg_grammar_state_free(st);
        tg_grammar_free(g);
        json_decref(js);
    }
    gu_vinfo_free(&info);
    tg_vocab_free(v);
    tg_gguf_close(gg);
}

int main(void) {
    RUN(test_random_documents);
    return tg_test_finish("test_grammar_oracle");
}
