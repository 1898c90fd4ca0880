/*
 * json_schema_types.c — the rules for each JSON type of a schema node:
 * null, boolean, integer and number (NUM elements with exact bounds),
 * string (a counted JSON-character loop, or a DFA when a pattern or format
 * applies), object (declared properties in order, optional ones skippable,
 * extra ones after them) and array (prefixItems, then items, counted).
 *
 * Whitespace: bounded (tg__seq_ws) wherever JSON allows it.
 *
 * What this file must never do: accept a keyword value of the wrong JSON
 * type or out of range without an error, or build an object that can repeat
 * a key.
 */
#include "gen/json_schema.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool tg__js_count(tg__js *j, json_t *node, const char *kw, uint32_t dflt, uint32_t *out) {
    json_t *v = json_object_get(node, kw);
    *out = dflt;
    if (!v)
        return true;
    double x;
    if (json_is_integer(v))
        x = (double)json_integer_value(v);
    else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)))
        x = json_real_value(v);
    else
        return tg__js_fail(j, TG_ERR_TYPE, "\"%s\" must be a non-negative integer", kw), false;
    if (x < 0)
        return tg__js_fail(j, TG_ERR_RANGE, "\"%s\" must be a non-negative integer", kw), false;
    *out = x >= (double)TG__INF ? TG__INF - 1 : (uint32_t)x;
    return true;
}

bool tg__js_number(tg__js *j, json_t *node, const char *kw, double *out, bool *present) {
    json_t *v = json_object_get(node, kw);
    *present = v != NULL;
    if (!v)
        return true;
    if (!json_is_number(v))
        return tg__js_fail(j, TG_ERR_TYPE, "\"%s\" must be a number", kw), false;
    *out = json_number_value(v);
    return true;
}

static bool lit_alt(tg__js *j, uint32_t rule, const char *lit) {
    tg__seq s = {0};
    bool ok = tg__seq_lit(j->b, &s, lit, strlen(lit)) && tg__gb_alt(j->b, rule, &s);
    tg__seq_free(&s);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Numbers                                                             */
/* ------------------------------------------------------------------ */

/* One bound of a node: the value, and whether it is exclusive (the
 * 2019-style numeric exclusiveMinimum, or draft 4's boolean). */
typedef struct bound {
    bool present, excl, is_int;
    double x;
    int64_t i;
} bound;

static bool read_bound(tg__js *j, json_t *node, const char *inc_kw, const char *exc_kw,
                       bool lower, bound *out) {
    memset(out, 0, sizeof *out);
    json_t *inc = json_object_get(node, inc_kw), *exc = json_object_get(node, exc_kw);
    if (inc && !json_is_number(inc))
        return tg__js_fail(j, TG_ERR_TYPE, "\"%s\" must be a number", inc_kw), false;
    if (exc && !json_is_number(exc) && !json_is_boolean(exc))
        return tg__js_fail(j, TG_ERR_TYPE, "\"%s\" must be a number", exc_kw), false;
    if (inc) {
        out->present = true;
        out->excl = exc && json_is_true(exc);
        out->is_int = json_is_integer(inc);
        out->x = json_number_value(inc);
        out->i = out->is_int ? json_integer_value(inc) : 0;
    }
    if (exc && json_is_number(exc)) {
        double x = json_number_value(exc);
        /* both given: keep the tighter one */
        bool tighter = !out->present || (lower ? x >= out->x : x <= out->x);
        if (tighter) {
            out->present = true;
            out->excl = true;
            out->is_int = json_is_integer(exc);
            out->x = x;
            out->i = out->is_int ? json_integer_value(exc) : 0;
        }
    }
    return true;
}

#define I64_SPAN INT64_MAX /* integers range over [-INT64_MAX, INT64_MAX] */

/* The integer bound as an int64; false if no integer can satisfy it. */
static bool int_bound(const bound *b, bool lower, int64_t *out) {
    if (b->is_int) {
        int64_t v = b->i;
        if (b->excl) {
            if (lower ? v == INT64_MAX : v == INT64_MIN)
                return false;
            v += lower ? 1 : -1;
        }
        *out = v < -I64_SPAN ? -I64_SPAN : v;
        return true;
    }
    double x = b->x;
    if (isnan(x))
        return false;
    double t = lower ? (b->excl ? floor(x) + 1 : ceil(x)) : (b->excl ? ceil(x) - 1 : floor(x));
    if (t >= 9223372036854775807.0) {
        if (lower)
            return false;
        t = (double)I64_SPAN;
        *out = I64_SPAN;
        return true;
    }
    if (t <= -9223372036854775807.0) {
        if (!lower)
            return false;
        *out = -I64_SPAN;
        return true;
    }
    *out = (int64_t)t;
    return true;
}

static bool num_alt(tg__js *j, json_t *node, uint32_t rule, bool integer) {
    bound lo, hi;
    if (!read_bound(j, node, "minimum", "exclusiveMinimum", true, &lo) ||
        !read_bound(j, node, "maximum", "exclusiveMaximum", false, &hi))
        return false;
    tg__num n = {0};
    bool possible = true;
    if (integer) {
        n = (tg__num){.integer = true, .bounded = true, .frac = 0, .int_digits = 19,
                      .lo = -I64_SPAN, .hi = I64_SPAN};
        if (lo.present)
            possible &= int_bound(&lo, true, &n.lo);
        if (hi.present)
            possible &= int_bound(&hi, false, &n.hi);
    } else if (!lo.present && !hi.present) {
        n = (tg__num){.integer = false, .bounded = false, .frac = 16, .int_digits = 16,
                      .exp_digits = 2};
    } else {
        const int64_t span = 999999999999999999LL;
        n = (tg__num){.integer = false, .bounded = true, .frac = TG__NUM_FRAC,
                      .int_digits = TG__NUM_INT_FLOAT, .lo = -span, .hi = span};
        if (lo.present)
            possible &= tg__num_lower(lo.x, lo.excl, TG__NUM_FRAC, &n.lo);
        if (hi.present)
            possible &= tg__num_upper(hi.x, hi.excl, TG__NUM_FRAC, &n.hi);
    }
    if (!possible || !tg__num_range_ok(&n))
        return true; /* no number fits: this alternative is simply absent */
    tg__seq s = {0};
    bool ok = tg__seq_elem(j->b, &s, TG__G_NUM, tg__gb_num(j->b, &n), 1, 1) &&
              tg__gb_alt(j->b, rule, &s);
    tg__seq_free(&s);
    return ok ? true : (tg__js_builder_failed(j), false);
}

/* ------------------------------------------------------------------ */
/* Strings                                                             */
/* ------------------------------------------------------------------ */

/* Formats we enforce, as anchored patterns over ASCII.  Dates never use
 * February 29 (leap years are not tracked); times have no leap second. */
static const struct {
    const char *name, *re;
} formats[] = {
    {"date", "^[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-"
             "(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))$"},
    {"time", "^(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,6})?"
             "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"},
    {"date-time", "^[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-"
                  "(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))T(?:[01][0-9]|2[0-3]):"
                  "[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"},
    {"uuid", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"},
    {"ipv4", "^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}"
             "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"},
    {"email", "^[A-Za-z0-9_%+-]{1,32}(?:\\.[A-Za-z0-9_%+-]{1,32}){0,3}@[A-Za-z0-9]"
              "(?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}"
              "[A-Za-z0-9])?){1,3}$"},
};

static bool pattern_dfa(tg__js *j, const char *what, const char *pat, size_t n, tg__dfa *out) {
    tg__re_pool *p = tg__re_pool_new();
    if (!p)
        return tg__js_builder_failed(j), false;
    tg__re *re;
    tg_status st = tg__re_parse_pattern(p, pat, n, &re);
    if (st == TG_OK)
        st = tg__dfa_build(re, TG__MAX_DFA_STATES, out);
    tg__re_pool_free(p);
    if (st)
        return tg__js_fail(j, st, "%s \"%.60s\": %s", what, pat, tg_last_error()), false;
    return true;
}

/* Intersects *acc (if *have) with d, consuming d. */
static bool narrow(tg__js *j, tg__dfa *acc, bool *have, tg__dfa *d) {
    if (!*have) {
        *acc = *d;
        *have = true;
        return true;
    }
    tg__dfa r;
    tg_status st = tg__dfa_intersect(acc, d, TG__MAX_DFA_STATES, &r);
    tg__dfa_free(acc);
    tg__dfa_free(d);
    if (st) {
        *have = false;
        return tg__js_fail(j, st, "string constraints combined: %s", tg_last_error()), false;
    }
    *acc = r;
    return true;
}

bool tg__js_string_dfa(tg__js *j, json_t *node, uint32_t min_len, uint32_t max_len,
                       tg__dfa *out, bool *have) {
    *have = false;
    json_t *pat = json_object_get(node, "pattern"), *fmt = json_object_get(node, "format");
    if (pat && !json_is_string(pat))
        return tg__js_fail(j, TG_ERR_TYPE, "\"pattern\" must be a string"), false;
    if (fmt && !json_is_string(fmt))
        return tg__js_fail(j, TG_ERR_TYPE, "\"format\" must be a string"), false;
    const char *fre = NULL;
    for (size_t i = 0; fmt && i < TG_ARRAY_LEN(formats); i++)
        if (strcmp(json_string_value(fmt), formats[i].name) == 0)
            fre = formats[i].re;
    if (!pat && !fre)
        return true; /* other formats are annotations: ignored */
    tg__dfa d;
    if (pat) {
        if (!pattern_dfa(j, "pattern", json_string_value(pat), json_string_length(pat), &d) ||
            !narrow(j, out, have, &d))
            return false;
    }
    if (fre) {
        if (!pattern_dfa(j, "format", fre, strlen(fre), &d) || !narrow(j, out, have, &d))
            goto fail;
    }
    if (min_len > 0 || max_len != TG__INF) {
        /* lengths count characters: intersect with char{min,max} */
        tg__re_pool *p = tg__re_pool_new();
        tg__re *re = p ? tg__re_rep(p, tg__re_json_char(p), min_len, max_len) : NULL;
        tg_status st = re ? tg__dfa_build(re, TG__MAX_DFA_STATES, &d) : TG_ERR_RANGE;
        tg__re_pool_free(p);
        if (st) {
            tg__js_fail(j, st, "minLength/maxLength with a pattern or format: %s",
                        tg_last_error());
            goto fail;
        }
        if (!narrow(j, out, have, &d))
            goto fail;
    }
    return true;
fail:
    if (*have)
        tg__dfa_free(out);
    *have = false;
    return false;
}

static bool string_alt(tg__js *j, json_t *node, uint32_t rule) {
    uint32_t min_len, max_len;
    if (!tg__js_count(j, node, "minLength", 0, &min_len) ||
        !tg__js_count(j, node, "maxLength", TG__INF, &max_len))
        return false;
    if (min_len > JS_MAX_COUNT)
        return tg__js_fail(j, TG_ERR_RANGE, "\"minLength\" %u is more than %u", min_len,
                           JS_MAX_COUNT),
               false;
    if (min_len > max_len)
        return true; /* no string fits */
    tg__dfa d;
    bool have;
    if (!tg__js_string_dfa(j, node, min_len, max_len, &d, &have))
        return false;
    tg__seq s = {0};
    bool ok = tg__seq_lit(j->b, &s, "\"", 1);
    if (have)
        ok = ok && tg__seq_elem(j->b, &s, TG__G_DFA, tg__gb_dfa(j->b, &d), 1, 1);
    else
        ok = ok && tg__seq_elem(j->b, &s, TG__G_DFA, tg__gb_json_char_dfa(j->b), min_len, max_len);
    ok = ok && tg__seq_lit(j->b, &s, "\"", 1) && tg__gb_alt(j->b, rule, &s);
    tg__seq_free(&s);
    return ok ? true : (tg__js_builder_failed(j), false);
}

/* ------------------------------------------------------------------ */
/* Objects                                                             */
/* ------------------------------------------------------------------ */

/* A JSON string literal of s (with quotes), escaped as JSON requires. */
static char *quote(const char *s) {
    json_t *js = json_string(s);
    char *q = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
    json_decref(js);
    return q;
}

/* `"key" ws ":" ws value` into s. */
static bool member(tg__js *j, tg__seq *s, const char *key, uint32_t value) {
    char *q = quote(key);
    if (!q)
        return tg__js_builder_failed(j), false;
    bool ok = tg__seq_lit(j->b, s, q, strlen(q)) && tg__seq_ws(j->b, s) &&
              tg__seq_lit(j->b, s, ":", 1) && tg__seq_ws(j->b, s) &&
              tg__seq_elem(j->b, s, TG__G_REF, value, 1, 1);
    free(q);
    return ok;
}

/* The rule of an extra member: a key that is none of the declared names
 * (written without escapes, so each key has one spelling), then a value. */
static uint32_t extra_member(tg__js *j, json_t *props, uint32_t value) {
    tg__re_pool *p = tg__re_pool_new();
    if (!p)
        return tg__js_builder_failed(j);
    tg__cprange raw[] = {{0x20, 0x21}, {0x23, 0x5B}, {0x5D, 0x10FFFF}};
    tg__re *key = tg__re_rep(p, tg__re_cpset(p, raw, 3, TG__CP_UTF8), 0, TG__INF);
    tg__re *names = tg__re_none(p);
    const char *k;
    json_t *v;
    json_object_foreach(props, k, v) names = tg__re_alt(p, names, tg__re_lit(p, k, strlen(k)));
    tg__dfa a, b, d;
    tg_status st = TG_ERR_NOMEM;
    if (key && names && (st = tg__dfa_build(key, TG__MAX_DFA_STATES, &a)) == TG_OK) {
        st = tg__dfa_build(names, TG__MAX_DFA_STATES, &b);
        if (st == TG_OK) {
            st = tg__dfa_minus(&a, &b, TG__MAX_DFA_STATES, &d);
            tg__dfa_free(&b);
        }
        tg__dfa_free(&a);
    }
    tg__re_pool_free(p);
    if (st)
        return tg__js_fail(j, st, "additional property keys: %s", tg_last_error());
    uint32_t r = tg__gb_rule(j->b);
    tg__seq s = {0};
    bool ok = tg__seq_lit(j->b, &s, "\"", 1) &&
              tg__seq_elem(j->b, &s, TG__G_DFA, tg__gb_dfa(j->b, &d), 1, 1) &&
              tg__seq_lit(j->b, &s, "\"", 1) && tg__seq_ws(j->b, &s) &&
              tg__seq_lit(j->b, &s, ":", 1) && tg__seq_ws(j->b, &s) &&
              tg__seq_elem(j->b, &s, TG__G_REF, value, 1, 1) && tg__seq_ws(j->b, &s) &&
              tg__gb_alt(j->b, r, &s);
    tg__seq_free(&s);
    return ok ? r : tg__js_builder_failed(j);
}

static bool object_alt(tg__js *j, json_t *node, uint32_t rule) {
    json_t *props = json_object_get(node, "properties");
    json_t *req = json_object_get(node, "required");
    json_t *addl = json_object_get(node, "additionalProperties");
    if (props && !json_is_object(props))
        return tg__js_fail(j, TG_ERR_TYPE, "\"properties\" must be an object"), false;
    if (req && !json_is_array(req))
        return tg__js_fail(j, TG_ERR_TYPE, "\"required\" must be an array of strings"), false;
    for (size_t i = 0; req && i < json_array_size(req); i++)
        if (!json_is_string(json_array_get(req, i)))
            return tg__js_fail(j, TG_ERR_TYPE, "\"required\" must be an array of strings"), false;
    if (addl && !json_is_object(addl) && !json_is_boolean(addl))
        return tg__js_fail(j, TG_ERR_TYPE, "\"additionalProperties\" must be a schema"), false;
    size_t n_props = props ? json_object_size(props) : 0;
    /* extra members: absent means none when properties are declared (the
     * strict choice), any otherwise */
    uint32_t extra_value = TG__DEAD;
    if (addl && json_is_object(addl)) {
        size_t o = tg__js_push(j, "additionalProperties");
        extra_value = tg__js_compile(j, addl);
        tg__js_pop(j, o);
        if (extra_value == TG__DEAD)
            return false;
    } else if ((addl && json_is_true(addl)) || (!addl && n_props == 0)) {
        extra_value = tg__gb_any_value(j->b);
    }
    /* required names without a declared schema are members too */
    json_t *all = json_object();
    if (!all)
        return tg__js_builder_failed(j), false;
    const char *k;
    json_t *v;
    if (props)
        json_object_foreach(props, k, v) json_object_set(all, k, v);
    for (size_t i = 0; req && i < json_array_size(req); i++) {
        const char *name = json_string_value(json_array_get(req, i));
        if (!json_object_get(all, name))
            json_object_set_new(all, name, addl ? json_incref(addl) : json_true());
    }
    size_t n = json_object_size(all);
    uint32_t *val = tg__calloc(n + 1, sizeof *val);
    bool *required = tg__calloc(n + 1, sizeof *required);
    const char **names = tg__calloc(n + 1, sizeof *names);
    bool ok = val && required && names;
    size_t i = 0;
    json_object_foreach(all, k, v) {
        if (!ok)
            break;
        names[i] = k;
        for (size_t r = 0; req && r < json_array_size(req); r++)
            if (strcmp(json_string_value(json_array_get(req, r)), k) == 0)
                required[i] = true;
        size_t o1 = 0, o2 = 0;
        bool declared = props && json_object_get(props, k);
        if (declared) {
            o1 = tg__js_push(j, "properties");
            o2 = tg__js_push(j, k);
        } else {
            o1 = tg__js_push(j, "required");
        }
        val[i] = tg__js_compile(j, v);
        if (declared)
            tg__js_pop(j, o2);
        tg__js_pop(j, o1);
        ok = val[i] != TG__DEAD;
        i++;
    }
    /* A[i]: members i.. with none written yet; B[i]: some written (so a
     * comma comes first).  A[n], B[n]: the extra members, if any. */
    uint32_t *A = ok ? tg__calloc(n + 1, sizeof *A) : NULL;
    uint32_t *B = ok ? tg__calloc(n + 1, sizeof *B) : NULL;
    ok = ok && A && B;
    for (size_t m = 0; ok && m <= n; m++) {
        A[m] = tg__gb_rule(j->b);
        B[m] = tg__gb_rule(j->b);
    }
    tg__seq s = {0};
    if (ok) {
        if (extra_value != TG__DEAD) {
            uint32_t em = extra_member(j, all, extra_value);
            uint32_t more = tg__gb_rule(j->b);
            ok = em != TG__DEAD && tg__seq_lit(j->b, &s, ",", 1) && tg__seq_ws(j->b, &s) &&
                 tg__seq_elem(j->b, &s, TG__G_REF, em, 1, 1) && tg__gb_alt(j->b, more, &s) &&
                 tg__gb_alt(j->b, A[n], &s) && /* none */
                 tg__seq_elem(j->b, &s, TG__G_REF, em, 1, 1) &&
                 tg__seq_elem(j->b, &s, TG__G_REF, more, 0, TG__INF) &&
                 tg__gb_alt(j->b, A[n], &s) &&
                 tg__seq_elem(j->b, &s, TG__G_REF, more, 0, TG__INF) &&
                 tg__gb_alt(j->b, B[n], &s);
        } else {
            ok = tg__gb_alt(j->b, A[n], &s) && tg__gb_alt(j->b, B[n], &s);
        }
    }
    for (size_t m = n; ok && m-- > 0;) {
        /* A[m]: member ws B[m+1]  |  A[m+1] (if optional) */
        ok = member(j, &s, names[m], val[m]) && tg__seq_ws(j->b, &s) &&
             tg__seq_elem(j->b, &s, TG__G_REF, B[m + 1], 1, 1) && tg__gb_alt(j->b, A[m], &s);
        if (ok && !required[m])
            ok = tg__seq_elem(j->b, &s, TG__G_REF, A[m + 1], 1, 1) && tg__gb_alt(j->b, A[m], &s);
        /* B[m]: "," ws member ws B[m+1]  |  B[m+1] (if optional) */
        ok = ok && tg__seq_lit(j->b, &s, ",", 1) && tg__seq_ws(j->b, &s) &&
             member(j, &s, names[m], val[m]) && tg__seq_ws(j->b, &s) &&
             tg__seq_elem(j->b, &s, TG__G_REF, B[m + 1], 1, 1) && tg__gb_alt(j->b, B[m], &s);
        if (ok && !required[m])
            ok = tg__seq_elem(j->b, &s, TG__G_REF, B[m + 1], 1, 1) && tg__gb_alt(j->b, B[m], &s);
    }
    uint32_t obj = ok ? tg__gb_rule(j->b) : TG__DEAD;
    ok = ok && tg__seq_lit(j->b, &s, "{", 1) && tg__seq_ws(j->b, &s) &&
         tg__seq_elem(j->b, &s, TG__G_REF, A[0], 1, 1) && tg__seq_lit(j->b, &s, "}", 1) &&
         tg__gb_alt(j->b, obj, &s) && tg__js_alt_ref(j, rule, obj);
    tg__seq_free(&s);
    free(A);
    free(B);
    free(val);
    free(required);
    free(names);
    json_decref(all);
    if (!ok && j->st == TG_OK)
        tg__js_builder_failed(j);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Arrays                                                              */
/* ------------------------------------------------------------------ */

static bool array_alt(tg__js *j, json_t *node, uint32_t rule) {
    json_t *items = json_object_get(node, "items");
    json_t *prefix = json_object_get(node, "prefixItems");
    json_t *rest = items;
    const char *rest_kw = "items";
    if (json_is_array(items) && !prefix) { /* draft 4..2019 tuples */
        prefix = items;
        rest = json_object_get(node, "additionalItems");
        rest_kw = "additionalItems";
    }
    if (prefix && !json_is_array(prefix))
        return tg__js_fail(j, TG_ERR_TYPE, "\"prefixItems\" must be an array of schemas"), false;
    if (rest && !json_is_object(rest) && !json_is_boolean(rest))
        return tg__js_fail(j, TG_ERR_TYPE, "\"%s\" must be a schema", rest_kw), false;
    uint32_t mn, mx;
    if (!tg__js_count(j, node, "minItems", 0, &mn) ||
        !tg__js_count(j, node, "maxItems", TG__INF, &mx))
        return false;
    if (mn > JS_MAX_COUNT)
        return tg__js_fail(j, TG_ERR_RANGE, "\"minItems\" %u is more than %u", mn, JS_MAX_COUNT),
               false;
    if (mn > mx)
        return true; /* no array fits */
    size_t k = prefix ? json_array_size(prefix) : 0;
    if (k > JS_MAX_COUNT)
        return tg__js_fail(j, TG_ERR_RANGE, "too many prefixItems"), false;
    uint32_t rest_rule = TG__DEAD;
    if (!rest || json_is_true(rest)) {
        rest_rule = tg__gb_any_value(j->b);
    } else if (!json_is_false(rest)) {
        size_t o = tg__js_push(j, rest_kw);
        rest_rule = tg__js_compile(j, rest);
        tg__js_pop(j, o);
        if (rest_rule == TG__DEAD)
            return false;
    }
    uint32_t *T = tg__calloc(k + 2, sizeof *T);
    if (!T)
        return tg__js_builder_failed(j), false;
    bool ok = true;
    for (size_t i = 0; i <= k && ok; i++)
        ok = (T[i] = tg__gb_rule(j->b)) != TG__DEAD;
    tg__seq s = {0};
    /* T[k]: the items after the prefix ("," before each unless first) */
    if (ok && rest_rule != TG__DEAD && (uint64_t)k < mx) {
        uint32_t more = tg__gb_rule(j->b);
        ok = tg__seq_lit(j->b, &s, ",", 1) && tg__seq_ws(j->b, &s) &&
             tg__seq_elem(j->b, &s, TG__G_REF, rest_rule, 1, 1) && tg__seq_ws(j->b, &s) &&
             tg__gb_alt(j->b, more, &s);
        uint32_t lo = mn > k ? (uint32_t)(mn - k) : 0;
        uint32_t hi = mx == TG__INF ? TG__INF : (uint32_t)(mx - k);
        if (ok && k == 0) {
            if (lo == 0)
                ok = tg__gb_alt(j->b, T[0], &s);
            ok = ok && tg__seq_elem(j->b, &s, TG__G_REF, rest_rule, 1, 1) &&
                 tg__seq_ws(j->b, &s) &&
                 tg__seq_elem(j->b, &s, TG__G_REF, more, lo ? lo - 1 : 0,
                              hi == TG__INF ? TG__INF : hi - 1) &&
                 tg__gb_alt(j->b, T[0], &s);
        } else if (ok) {
            ok = tg__seq_elem(j->b, &s, TG__G_REF, more, lo, hi) && tg__gb_alt(j->b, T[k], &s);
        }
    } else if (ok && mn <= k) {
        ok = tg__gb_alt(j->b, T[k], &s); /* nothing after the prefix */
    }
    size_t o1 = prefix ? tg__js_push(j, json_is_array(items) && prefix == items ? "items"
                                                                              : "prefixItems")
                       : 0;
    for (size_t i = k; ok && i-- > 0;) {
        size_t o2 = tg__js_push_index(j, i);
        uint32_t item = tg__js_compile(j, json_array_get(prefix, i));
        tg__js_pop(j, o2);
        ok = item != TG__DEAD;
        /* T[i]: i items written; stop here (if enough) or write item i */
        if (ok && i >= mn)
            ok = tg__gb_alt(j->b, T[i], &s);
        if (ok && (uint64_t)i < mx) {
            if (i > 0)
                ok = tg__seq_lit(j->b, &s, ",", 1) && tg__seq_ws(j->b, &s);
            ok = ok && tg__seq_elem(j->b, &s, TG__G_REF, item, 1, 1) && tg__seq_ws(j->b, &s) &&
                 tg__seq_elem(j->b, &s, TG__G_REF, T[i + 1], 1, 1) && tg__gb_alt(j->b, T[i], &s);
        }
    }
    if (prefix)
        tg__js_pop(j, o1);
    uint32_t arr = ok ? tg__gb_rule(j->b) : TG__DEAD;
    ok = ok && tg__seq_lit(j->b, &s, "[", 1) && tg__seq_ws(j->b, &s) &&
         tg__seq_elem(j->b, &s, TG__G_REF, T[0], 1, 1) && tg__seq_lit(j->b, &s, "]", 1) &&
         tg__gb_alt(j->b, arr, &s) && tg__js_alt_ref(j, rule, arr);
    tg__seq_free(&s);
    free(T);
    if (!ok && j->st == TG_OK)
        tg__js_builder_failed(j);
    return ok;
}

void tg__js_typed(tg__js *j, json_t *node, uint32_t rule) {
    uint32_t t = tg__js_types(j, node);
    if (t & JS_T_NUMBER)
        t &= ~(uint32_t)JS_T_INTEGER; /* every integer is a number */
    bool ok = true;
    if (ok && (t & JS_T_OBJECT))
        ok = object_alt(j, node, rule);
    if (ok && (t & JS_T_ARRAY))
        ok = array_alt(j, node, rule);
    if (ok && (t & JS_T_STRING))
        ok = string_alt(j, node, rule);
    if (ok && (t & JS_T_INTEGER))
        ok = num_alt(j, node, rule, true);
    if (ok && (t & JS_T_NUMBER))
        ok = num_alt(j, node, rule, false);
    if (ok && (t & JS_T_BOOLEAN))
        ok = lit_alt(j, rule, "true") && lit_alt(j, rule, "false");
    if (ok && (t & JS_T_NULL))
        ok = lit_alt(j, rule, "null");
    if (!ok && j->st == TG_OK)
        tg__js_builder_failed(j);
}
