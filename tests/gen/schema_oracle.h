/*
 * schema_oracle.h — an independent JSON Schema validator for the grammar
 * tests (header-only, jansson + PCRE2): the documents the grammar engine
 * accepts are checked against it.  It shares no code with src/gen and
 * follows the standard semantics, not the engine's generation choices:
 * absent additionalProperties allows anything, oneOf means exactly one,
 * patterns are ECMA-style searches (PCRE2 with UTF), formats are checked
 * on their own terms (real calendar dates, leap years included).
 *
 * Supported: boolean schemas, type (and arrays of types), enum, const,
 * properties, required, additionalProperties, items / prefixItems /
 * additionalItems, minItems, maxItems, minLength, maxLength, pattern,
 * format (date, time, date-time, uuid, ipv4, email), minimum, maximum,
 * exclusiveMinimum / exclusiveMaximum (both drafts), anyOf, oneOf, allOf,
 * $ref (local pointers).  Anything else it does not know makes it fail
 * loudly (oracle_error), so a test cannot pass by ignoring a keyword.
 */
#ifndef TG_TESTS_SCHEMA_ORACLE_H
#define TG_TESTS_SCHEMA_ORACLE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char oracle_error[256];
/* Strict mode models the engine's documented generation choices, for the
 * exactness tests: without additionalProperties, an object with properties
 * admits only those (and the required ones); dates skip February 29, times
 * have no leap second and use upper-case T and Z; integers are not written
 * as reals. */
static bool oracle_strict;

static inline bool oracle_valid(json_t *root, json_t *schema, json_t *v, int depth);

static inline json_t *oracle_resolve(json_t *root, const char *ref) {
    if (ref[0] != '#')
        return NULL;
    json_t *cur = root;
    const char *p = ref + 1;
    while (*p == '/') {
        p++;
        char seg[256];
        size_t n = 0;
        while (*p && *p != '/' && n + 1 < sizeof seg) {
            if (p[0] == '~' && p[1] == '1') {
                seg[n++] = '/';
                p += 2;
            } else if (p[0] == '~' && p[1] == '0') {
                seg[n++] = '~';
                p += 2;
            } else {
                seg[n++] = *p++;
            }
        }
        seg[n] = 0;
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(seg)) : json_object_get(cur, seg);
        if (!cur)
            return NULL;
    }
    return cur;
}

/* Numeric equality across integer/real, as JSON Schema compares numbers. */
static inline bool oracle_equal(json_t *a, json_t *b) {
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!oracle_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a) && json_is_object(b)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        json_t *x;
        json_object_foreach(a, k, x) {
            json_t *y = json_object_get(b, k);
            if (!y || !oracle_equal(x, y))
                return false;
        }
        return true;
    }
    return json_equal(a, b);
}

static inline size_t oracle_utf8_len(const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

static inline bool oracle_pattern(const char *pat, const char *s, size_t n) {
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX, &err, &off, NULL);
    if (!re) {
        snprintf(oracle_error, sizeof oracle_error, "oracle: bad pattern %s", pat);
        return false;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc >= 0;
}

static inline bool oracle_digits(const char *s, int n) {
    for (int i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static inline bool oracle_date(const char *s, size_t n) {
    if (n != 10 || s[4] != '-' || s[7] != '-' || !oracle_digits(s, 4) || !oracle_digits(s + 5, 2) ||
        !oracle_digits(s + 8, 2))
        return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return false;
    int max = mdays[m - 1] + (!oracle_strict && m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    return d <= max;
}

static inline bool oracle_time(const char *s, size_t n) {
    if (n < 9 || s[2] != ':' || s[5] != ':' || !oracle_digits(s, 2) || !oracle_digits(s + 3, 2) ||
        !oracle_digits(s + 6, 2))
        return false;
    if (atoi(s) > 23 || atoi(s + 3) > 59 || atoi(s + 6) > (oracle_strict ? 59 : 60))
        return false;
    size_t i = 8;
    if (s[i] == '.') {
        size_t k = ++i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == k || (oracle_strict && i - k > 6))
            return false;
    }
    if (i < n && (s[i] == 'Z' || (s[i] == 'z' && !oracle_strict)))
        return i + 1 == n;
    if (i + 6 != n || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':' ||
        !oracle_digits(s + i + 1, 2) || !oracle_digits(s + i + 4, 2))
        return false;
    return atoi(s + i + 1) <= 23 && atoi(s + i + 4) <= 59;
}

static inline bool oracle_format(const char *f, const char *s, size_t n) {
    if (strcmp(f, "date") == 0)
        return oracle_date(s, n);
    if (strcmp(f, "time") == 0)
        return oracle_time(s, n);
    if (strcmp(f, "date-time") == 0)
        return n > 11 && (s[10] == 'T' || (s[10] == 't' && !oracle_strict)) && oracle_date(s, 10) &&
               oracle_time(s + 11, n - 11);
    if (strcmp(f, "uuid") == 0) {
        if (n != 36)
            return false;
        for (size_t i = 0; i < n; i++) {
            bool dash = i == 8 || i == 13 || i == 18 || i == 23;
            if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
                return false;
        }
        return true;
    }
    if (strcmp(f, "ipv4") == 0) {
        int parts = 0;
        size_t i = 0;
        while (i < n) {
            size_t k = i;
            int v = 0;
            while (i < n && isdigit((unsigned char)s[i]) && i - k < 3)
                v = v * 10 + (s[i++] - '0');
            if (i == k || v > 255 || (i - k > 1 && s[k] == '0'))
                return false;
            parts++;
            if (i < n) {
                if (s[i] != '.' || parts == 4)
                    return false;
                i++;
                if (i == n)
                    return false;
            }
        }
        return parts == 4;
    }
    if (strcmp(f, "email") == 0) {
        const char *at = memchr(s, '@', n);
        if (!at || at == s || at == s + n - 1 || memchr(at + 1, '@', (size_t)(s + n - at - 1)))
            return false;
        const char *dot = memchr(at + 1, '.', (size_t)(s + n - at - 1));
        return dot && s[0] != '.' && at[-1] != '.' && s[n - 1] != '.' && at[1] != '.';
    }
    return true; /* other formats: annotations */
}

static inline bool oracle_type_ok(const char *t, json_t *v) {
    if (strcmp(t, "null") == 0)
        return json_is_null(v);
    if (strcmp(t, "boolean") == 0)
        return json_is_boolean(v);
    if (strcmp(t, "object") == 0)
        return json_is_object(v);
    if (strcmp(t, "array") == 0)
        return json_is_array(v);
    if (strcmp(t, "string") == 0)
        return json_is_string(v);
    if (strcmp(t, "number") == 0)
        return json_is_number(v);
    if (strcmp(t, "integer") == 0)
        return json_is_integer(v) || (!oracle_strict && json_is_real(v) &&
                                      json_real_value(v) == floor(json_real_value(v)));
    return false;
}

static const char *const oracle_known[] = {
    "type", "enum", "const", "properties", "required", "additionalProperties", "items",
    "prefixItems", "additionalItems", "minItems", "maxItems", "minLength", "maxLength",
    "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "anyOf",
    "oneOf", "allOf", "$ref", "$defs", "definitions", "title", "description", "default",
    "examples", "$schema", "$id", "uniqueItems"};

static inline bool oracle_valid(json_t *root, json_t *s, json_t *v, int depth) {
    if (depth > 200) {
        snprintf(oracle_error, sizeof oracle_error, "oracle: too deep");
        return false;
    }
    if (json_is_true(s))
        return true;
    if (json_is_false(s))
        return false;
    const char *k;
    json_t *x;
    json_object_foreach(s, k, x) {
        bool known = false;
        for (size_t i = 0; i < sizeof oracle_known / sizeof *oracle_known; i++)
            known |= strcmp(k, oracle_known[i]) == 0;
        if (!known || (strcmp(k, "uniqueItems") == 0 && json_is_true(x))) {
            snprintf(oracle_error, sizeof oracle_error, "oracle: unknown keyword %s", k);
            return false;
        }
    }
    if ((x = json_object_get(s, "$ref"))) {
        json_t *t = oracle_resolve(root, json_string_value(x));
        if (!t || !oracle_valid(root, t, v, depth + 1))
            return false;
    }
    if ((x = json_object_get(s, "type"))) {
        bool ok = false;
        if (json_is_string(x))
            ok = oracle_type_ok(json_string_value(x), v);
        for (size_t i = 0; json_is_array(x) && i < json_array_size(x); i++)
            ok |= oracle_type_ok(json_string_value(json_array_get(x, i)), v);
        if (!ok)
            return false;
    }
    if ((x = json_object_get(s, "enum"))) {
        bool ok = false;
        for (size_t i = 0; i < json_array_size(x); i++)
            ok |= oracle_equal(json_array_get(x, i), v);
        if (!ok)
            return false;
    }
    if ((x = json_object_get(s, "const")) && !oracle_equal(x, v))
        return false;
    if ((x = json_object_get(s, "allOf")))
        for (size_t i = 0; i < json_array_size(x); i++)
            if (!oracle_valid(root, json_array_get(x, i), v, depth + 1))
                return false;
    if ((x = json_object_get(s, "anyOf"))) {
        bool ok = false;
        for (size_t i = 0; i < json_array_size(x) && !ok; i++)
            ok = oracle_valid(root, json_array_get(x, i), v, depth + 1);
        if (!ok)
            return false;
    }
    if ((x = json_object_get(s, "oneOf"))) {
        int n = 0;
        for (size_t i = 0; i < json_array_size(x); i++)
            n += oracle_valid(root, json_array_get(x, i), v, depth + 1);
        if (n != 1)
            return false;
    }
    if (json_is_number(v)) {
        double d = json_number_value(v);
        json_t *mn = json_object_get(s, "minimum"), *mx = json_object_get(s, "maximum");
        json_t *emn = json_object_get(s, "exclusiveMinimum"), *emx = json_object_get(s, "exclusiveMaximum");
        if (mn && (json_is_true(emn) ? !(d > json_number_value(mn)) : !(d >= json_number_value(mn))))
            return false;
        if (mx && (json_is_true(emx) ? !(d < json_number_value(mx)) : !(d <= json_number_value(mx))))
            return false;
        if (json_is_number(emn) && !(d > json_number_value(emn)))
            return false;
        if (json_is_number(emx) && !(d < json_number_value(emx)))
            return false;
    }
    if (json_is_string(v)) {
        const char *str = json_string_value(v);
        size_t n = json_string_length(v), chars = oracle_utf8_len(str, n);
        if ((x = json_object_get(s, "minLength")) && chars < (size_t)json_integer_value(x))
            return false;
        if ((x = json_object_get(s, "maxLength")) && chars > (size_t)json_integer_value(x))
            return false;
        if ((x = json_object_get(s, "pattern")) && !oracle_pattern(json_string_value(x), str, n))
            return false;
        if ((x = json_object_get(s, "format")) && !oracle_format(json_string_value(x), str, n))
            return false;
    }
    if (json_is_array(v)) {
        size_t n = json_array_size(v), idx = 0;
        if ((x = json_object_get(s, "minItems")) && n < (size_t)json_integer_value(x))
            return false;
        if ((x = json_object_get(s, "maxItems")) && n > (size_t)json_integer_value(x))
            return false;
        json_t *items = json_object_get(s, "items"), *prefix = json_object_get(s, "prefixItems");
        json_t *rest = items;
        if (json_is_array(items)) {
            prefix = items;
            rest = json_object_get(s, "additionalItems");
        }
        for (; prefix && idx < json_array_size(prefix) && idx < n; idx++)
            if (!oracle_valid(root, json_array_get(prefix, idx), json_array_get(v, idx), depth + 1))
                return false;
        for (; rest && idx < n; idx++)
            if (!oracle_valid(root, rest, json_array_get(v, idx), depth + 1))
                return false;
    }
    if (json_is_object(v)) {
        json_t *props = json_object_get(s, "properties"), *req = json_object_get(s, "required");
        json_t *addl = json_object_get(s, "additionalProperties");
        for (size_t i = 0; req && i < json_array_size(req); i++)
            if (!json_object_get(v, json_string_value(json_array_get(req, i))))
                return false;
        const char *key;
        json_object_foreach(v, key, x) {
            json_t *ps = props ? json_object_get(props, key) : NULL;
            if (ps) {
                if (!oracle_valid(root, ps, x, depth + 1))
                    return false;
            } else if (addl && !oracle_valid(root, addl, x, depth + 1)) {
                return false;
            } else if (!addl && props && oracle_strict) {
                bool req_ok = false;
                for (size_t i = 0; req && i < json_array_size(req); i++)
                    req_ok |= strcmp(json_string_value(json_array_get(req, i)), key) == 0;
                if (!req_ok)
                    return false;
            }
        }
    }
    return true;
}

/* Parses doc (len bytes) and validates it; *parsed tells a JSON syntax error
 * from a schema violation. */
static inline bool oracle_check(json_t *schema, const char *doc, size_t len, bool *parsed) {
    json_error_t e;
    json_t *v = json_loadb(doc, len, JSON_DECODE_ANY, &e);
    *parsed = v != NULL;
    if (!v)
        return false;
    oracle_error[0] = 0;
    bool ok = oracle_valid(schema, schema, v, 0);
    json_decref(v);
    return ok;
}

#endif /* TG_TESTS_SCHEMA_ORACLE_H */
