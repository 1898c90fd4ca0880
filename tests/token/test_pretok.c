/*
 * test_pretok.c — the BPE pre-tokenizers (src/token/pretok.c).
 *
 * 1. Hand-checked cases: the class table on code points where Unicode 14
 *    (PCRE2 10.42) and 15.1 (llama.cpp) disagree, the stand-in characters
 *    PCRE2 must classify as intended, a few splits worked out by hand from
 *    the regexes, invalid UTF-8, unknown names.
 * 2. tests/golden/pretok/splits.jsonl (tools/gen_pretok_golden.py): every
 *    tokenizer.ggml.pre name llama.cpp knows, with its settings, and
 *    llama.cpp's own unicode_regex_split of ~1,600 strings under each
 *    distinct regex list.  Our settings must match name by name, and our
 *    pieces must have the same byte lengths and bytes.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "golden_util.h"
#include "../test.h"

#include "token/pretok.h"

#define SPLITS "tests/golden/pretok/splits.jsonl"

/* Splits text with the named pre-tokenizer and compares with the expected
 * pieces (a NULL-terminated list). */
static void expect_split(const char *pre, const char *text, size_t len, const char *const *want) {
    tg__pretok *p = NULL;
    tg_status s = tg__pretok_new(pre, strlen(pre), &p);
    CHECK_MSG(s == TG_OK, "%s: %s", pre, tg_last_error());
    if (s)
        return;
    tg__pieces pc = {0};
    CHECK_EQ_INT(tg__pretok_split(p, text, len, &pc), TG_OK);
    size_t k = 0, a = 0;
    for (; want[k]; k++) {
        if (k >= pc.n) {
            CHECK_MSG(0, "%s: piece %zu \"%s\" missing", pre, k, want[k]);
            break;
        }
        size_t n = pc.end[k] - a;
        CHECK_MSG(n == strlen(want[k]) && !memcmp(pc.text + a, want[k], n),
                  "%s: piece %zu is \"%.*s\", expected \"%s\"", pre, k, (int)n, pc.text + a,
                  want[k]);
        a = pc.end[k];
    }
    CHECK_MSG(k == pc.n, "%s: %zu pieces, expected %zu", pre, pc.n, k);
    tg__pieces_free(&pc);
    tg__pretok_free(p);
}

#define SPLIT(pre, text, ...)                                                                      \
    expect_split(pre, text, sizeof(text) - 1, (const char *const[]){__VA_ARGS__, NULL})

static void test_classes(void) {
    enum { O, L, N, P, M, S, W };
    static const struct {
        uint32_t cp;
        int cls;
    } cases[] = {
        {'a', L},      {'7', N},      {'!', P},      {'$', S},      {' ', W},     {'\t', W},
        {0x0B, W},     {0x1C, O},     {0x1F, O},     {0x85, W},     {0xA0, W},    {0x180E, O},
        {0x200B, O},   {0x3000, W},   {0x2028, W},   {0xB2, N},     {0x300, M},   {0xAD, O},
        {0x1123F, L},  {0x31350, L},  {0x2EBF0, L},  {0x11F50, N},  {0x11B00, P}, {0x0CF3, M},
        {0x2FFC, S},   {0x31EF, S},   {0x1CC00, O},  {0x10D40, O},  {0xD800, O},  {0xE000, O},
        {0x10FFFF, O}, {0x110000, O}, {0xFFFD, S},   {0x4E00, L},   {0x1F999, S},
    };
    for (size_t i = 0; i < TG_ARRAY_LEN(cases); i++)
        CHECK_MSG(tg__pretok_class(cases[i].cp) == cases[i].cls, "U+%04X: class %d, expected %d",
                  cases[i].cp, tg__pretok_class(cases[i].cp), cases[i].cls);
}

/* The stand-ins of pretok.c must be in exactly their class for the PCRE2
 * this runs with (UTF + UCP), and never \s except the whitespace one. */
static void test_standins(void) {
    static const uint32_t rep[7] = {0x80, 0xE0, 0xB2, 0xA1, 0x300, 0xA6, 0x0B};
    static const char *const cls[7] = {NULL, "\\p{L}", "\\p{N}", "\\p{P}", "\\p{M}", "\\p{S}", "\\s"};
    for (int c = 1; c < 7; c++) {
        int err;
        PCRE2_SIZE at;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)cls[c], PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED, &err, &at, NULL);
        CHECK(re != NULL);
        if (!re)
            continue;
        pcre2_match_data *md = pcre2_match_data_create(1, NULL);
        for (int r = 0; r < 7; r++) {
            char buf[4];
            uint32_t cp = rep[r];
            size_t n = cp < 0x80 ? (buf[0] = (char)cp, 1)
                                 : (buf[0] = (char)(0xC0 | (cp >> 6)), buf[1] = (char)(0x80 | (cp & 63)), 2);
            int hit = pcre2_match(re, (PCRE2_SPTR)buf, n, 0, 0, md, NULL) >= 0;
            CHECK_MSG(hit == (r == c), "stand-in U+%04X for class %d: %s gives %d", cp, r, cls[c],
                      hit);
        }
        pcre2_match_data_free(md);
        pcre2_code_free(re);
    }
}

static void test_hand_splits(void) {
    SPLIT("gpt-2", "Hello world", "Hello", " world");
    SPLIT("gpt-2", "I'm  here's", "I", "'m", " ", " here", "'s");
    SPLIT("gpt-2", "x\t\ty", "x", "\t", "\t", "y"); /* \s+(?!\S) leaves one, then \t alone */
    SPLIT("gpt-2", "a  ", "a", "  ");
    SPLIT("llama-bpe", "1234567", "123", "456", "7");
    SPLIT("llama-bpe", "DON'T", "DON", "'T");
    SPLIT("llama-bpe", " ...\n\nok", " ...\n\n", "ok");
    SPLIT("llama-bpe", "a \n b", "a", " \n", " b");
    SPLIT("qwen2", "x123", "x", "1", "2", "3");
    SPLIT("starcoder", "ab12 34", "ab", "1", "2", " ", "3", "4");
    /* default: punctuation runs first, then the gpt-2 regex, then digits */
    SPLIT("default", "a+b=1234", "a", "+", "b", "=", "123", "4");
    /* new in Unicode 15.0 (U+1123F, a letter): one word with the ASCII around it */
    SPLIT("gpt-2", "a\xf0\x91\x88\xbf" "b c", "a\xf0\x91\x88\xbf" "b", " c");
    /* U+180E is no whitespace for llama.cpp (PCRE2 10.42's \s says it is) */
    SPLIT("llama-bpe", "a\xe1\xa0\x8e" "b", "a", "\xe1\xa0\x8e" "b");
    /* invalid UTF-8: each bad byte is U+FFFD; an overlong NUL decodes to NUL */
    SPLIT("gpt-2", "a\xff" "b", "a", "\xef\xbf\xbd", "b");
    tg__pretok *p = NULL;
    tg__pieces pc = {0};
    CHECK_EQ_INT(tg__pretok_new("gpt-2", 5, &p), TG_OK);
    CHECK_EQ_INT(tg__pretok_split(p, "\xc0\x80" "a", 3, &pc), TG_OK);
    CHECK(pc.n == 2 && pc.end[0] == 1 && pc.text[0] == 0 && pc.end[1] == 2 && pc.text[1] == 'a');
    tg__pieces_free(&pc);
    tg__pretok_free(p);
    /* past U+10FFFF: llama.cpp aborts; tinglado reads one U+FFFD */
    SPLIT("gpt-2", "x\xf4\x90\x80\x80", "x", "\xef\xbf\xbd");
    /* a raw-code-point list: deepseek-llm's literal ranges */
    SPLIT("deepseek-llm", "ab\xe4\xb8\x80\xe4\xb8\x81 cd", "ab", "\xe4\xb8\x80\xe4\xb8\x81", " cd");
}

static void test_names(void) {
    tg__pretok *p = NULL;
    CHECK_EQ_INT(tg__pretok_new("", 0, &p), TG_OK);
    CHECK(p && tg__pretok_settings_of(p)->defaulted);
    CHECK(p && !strcmp(tg__pretok_settings_of(p)->group, "DEFAULT"));
    tg__pretok_free(p);
    CHECK_EQ_INT(tg__pretok_new("no-such-pre", 11, &p), TG_ERR_UNSUPPORTED);
    CHECK_ERROR_HAS("unknown pre-tokenizer type 'no-such-pre'");
    CHECK(p == NULL);
    CHECK_EQ_INT(tg__pretok_new("kimi-k2", 7, &p), TG_ERR_UNSUPPORTED);
    CHECK_ERROR_HAS("not supported");
    CHECK_EQ_INT(tg__pretok_new("llama3", 6, &p), TG_OK);
    CHECK(p && tg__pretok_settings_of(p)->ignore_merges && tg__pretok_settings_of(p)->add_bos);
    tg__pretok_free(p);
    CHECK_EQ_INT(tg__pretok_new("llama3x", 7, &p), TG_ERR_UNSUPPORTED);
    CHECK_EQ_INT(tg__pretok_new("llama", 5, &p), TG_ERR_UNSUPPORTED);
}

/* A long whitespace run must not hit PCRE2's limits (the regexes backtrack
 * over it once per alternative). */
static void test_long_runs(void) {
    size_t n = 1 << 20;
    char *t = malloc(n + 1);
    memset(t, ' ', n);
    t[n - 1] = 'x';
    static const char *const pres[] = {"llama-bpe", "gpt-2", "deepseek-llm", "jais-2", "tekken"};
    for (size_t i = 0; i < TG_ARRAY_LEN(pres); i++) {
        tg__pretok *p = NULL;
        CHECK_EQ_INT(tg__pretok_new(pres[i], strlen(pres[i]), &p), TG_OK);
        tg__pieces pc = {0};
        tg_status s = tg__pretok_split(p, t, n, &pc);
        CHECK_MSG(s == TG_OK, "%s: %s", pres[i], tg_last_error());
        CHECK_MSG(s || pc.len == n, "%s: %zu bytes out", pres[i], pc.len);
        tg__pieces_free(&pc);
        tg__pretok_free(p);
    }
    free(t);
}

/* ---- the golden ---- */

static const char *skip(const char *p) {
    while (*p == ' ' || *p == ',')
        p++;
    return p;
}

static void check_name(const char *line) {
    const char *e = line + strlen(line);
    char name[80] = "", type[64] = "";
    sscanf(strstr(line, "\"name\": \"") + 9, "%79[^\"]", name);
    sscanf(strstr(line, "\"type\": \"") + 9, "%63[^\"]", type);
    tg__pretok *p = NULL;
    tg_status s = tg__pretok_new(name, strlen(name), &p);
    bool unsupported = !strcmp(type, "KIMI_K2") || !strcmp(type, "SUPERBPE") ||
                       !strcmp(type, "WHITESPACE");
    if (unsupported) {
        CHECK_MSG(s == TG_ERR_UNSUPPORTED, "%s: expected to be unsupported", name);
        tg__pretok_free(p);
        return;
    }
    CHECK_MSG(s == TG_OK, "%s (%s): %s", name, type, tg_last_error());
    if (s)
        return;
    const tg__pretok_settings *st = tg__pretok_settings_of(p);
    CHECK_MSG(st->ignore_merges == gu_bool(line, e, "ignore_merges"), "%s: ignore_merges", name);
    CHECK_MSG(st->add_bos == gu_bool(line, e, "add_bos"), "%s: add_bos", name);
    CHECK_MSG(st->no_bos == gu_bool(line, e, "no_bos"), "%s: no_bos", name);
    CHECK_MSG(st->add_sep == gu_bool(line, e, "add_sep"), "%s: add_sep", name);
    CHECK_MSG(st->clean_spaces == gu_bool(line, e, "clean_spaces"), "%s: clean_spaces", name);
    CHECK_MSG(st->escape_whitespaces == gu_bool(line, e, "escape_whitespaces"),
              "%s: escape_whitespaces", name);
    CHECK_MSG(st->byte_encode == gu_bool(line, e, "byte_encode"), "%s: byte_encode", name);
    tg__pretok_free(p);
}

typedef struct text {
    unsigned char *b;
    size_t n;
} text;

static size_t parse_texts(const char *line, text **out) {
    const char *p = strchr(strstr(line, "\"hex\":"), '[') + 1;
    size_t n = 0, cap = 0;
    text *t = NULL;
    for (p = skip(p); *p == '"'; p = skip(p)) {
        const char *q = strchr(p + 1, '"');
        if (n == cap)
            t = realloc(t, (cap = cap ? 2 * cap : 256) * sizeof *t);
        size_t len = (size_t)(q - p - 1) / 2;
        t[n].b = malloc(len + 1);
        t[n].n = len;
        for (size_t i = 0; i < len; i++) {
            unsigned v;
            sscanf(p + 1 + 2 * i, "%2x", &v);
            t[n].b[i] = (unsigned char)v;
        }
        n++;
        p = q + 1;
    }
    *out = t;
    return n;
}

/* A name of the given type from the golden's name lines, or NULL. */
static const char *name_for(char **lines, size_t n_lines, const char *type, char *buf) {
    char pat[96];
    snprintf(pat, sizeof pat, "\"type\": \"%s\"", type);
    for (size_t i = 0; i < n_lines; i++)
        if (strstr(lines[i], "\"t\": \"name\"") && strstr(lines[i], pat)) {
            sscanf(strstr(lines[i], "\"name\": \"") + 9, "%79[^\"]", buf);
            return buf;
        }
    return NULL;
}

static void check_split(const char *line, char **lines, size_t n_lines, const text *texts,
                        size_t n_texts, long *compared) {
    char type[64] = "", buf[80];
    sscanf(strstr(line, "\"type\":\"") + 8, "%63[^\"]", type);
    if (!strcmp(type, "KIMI_K2") || !strcmp(type, "SUPERBPE") || !strcmp(type, "WHITESPACE"))
        return;
    const char *name = name_for(lines, n_lines, type, buf);
    if (!name) { /* the type's aliases ("same") may carry the names */
        const char *same = strstr(line, "\"same\":[");
        char alias[64];
        for (const char *p = same ? same + 8 : ""; !name && *p == '"';) {
            sscanf(p + 1, "%63[^\"]", alias);
            name = name_for(lines, n_lines, alias, buf);
            p = skip(strchr(p + 1, '"') + 1);
        }
    }
    CHECK_MSG(name != NULL, "type %s has no name", type);
    if (!name)
        return;
    tg__pretok *pt = NULL;
    CHECK_MSG(tg__pretok_new(name, strlen(name), &pt) == TG_OK, "%s: %s", name, tg_last_error());
    if (!pt)
        return;
    const char *p = strchr(strstr(line, "\"lens\":"), '[') + 1;
    tg__pieces pc = {0};
    int reported = 0;
    for (size_t k = 0; k < n_texts; k++) {
        p = skip(p);
        if (!strncmp(p, "null", 4)) { /* llama.cpp throws on this text */
            p += 4;
            continue;
        }
        CHECK(*p == '[');
        p++;
        tg_status s = tg__pretok_split(pt, (const char *)texts[k].b, texts[k].n, &pc);
        CHECK_EQ_INT(s, TG_OK);
        size_t i = 0, a = 0;
        bool same = true;
        for (p = skip(p); *p != ']'; p = skip(p), i++) {
            char *e;
            long len = strtol(p, &e, 10);
            p = e;
            if (i >= pc.n || pc.end[i] - a != (size_t)len)
                same = false;
            if (i < pc.n)
                a = pc.end[i];
        }
        p++;
        same = same && i == pc.n;
        CHECK_MSG(same || reported >= 5, "%s (%s): text %zu split differs from llama.cpp", name,
                  type, k);
        reported += !same;
        (*compared)++;
    }
    tg__pieces_free(&pc);
    tg__pretok_free(pt);
}

static void test_golden(void) {
    size_t len;
    char *data = gu_read_file(SPLITS, &len);
    CHECK_MSG(data != NULL, "%s is missing (make it with tools/gen_pretok_golden.py)", SPLITS);
    if (!data)
        return;
    char **lines = NULL;
    size_t n = 0, cap = 0;
    for (char *p = data, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = '\0';
        if (n == cap)
            lines = realloc(lines, (cap = cap ? 2 * cap : 128) * sizeof *lines);
        lines[n++] = p;
    }
    text *texts = NULL;
    size_t n_texts = 0, n_names = 0, n_types = 0;
    long compared = 0;
    for (size_t i = 0; i < n; i++) {
        if (strstr(lines[i], "\"t\": \"name\"")) {
            check_name(lines[i]);
            n_names++;
        } else if (strstr(lines[i], "\"t\": \"texts\"")) {
            n_texts = parse_texts(lines[i], &texts);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (strstr(lines[i], "\"t\":\"split\"")) {
            check_split(lines[i], lines, n, texts, n_texts, &compared);
            n_types++;
        }
    /* every name tinglado knows is one llama.cpp knows */
    size_t ours = 0;
    for (const char *nm; (nm = tg__pretok_name_at(ours)); ours++) {
        char pat[96];
        snprintf(pat, sizeof pat, "\"name\": \"%s\"", nm);
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = strstr(lines[i], pat) != NULL;
        CHECK_MSG(found || !strcmp(nm, "default"), "%s is not a llama.cpp pre-tokenizer name", nm);
    }
    CHECK(n_names > 80 && n_texts > 1000 && n_types > 25);
    fprintf(stderr, "  %s: %zu names (%zu known here), %zu regex lists x %zu texts, %ld splits compared\n",
            SPLITS, n_names, ours, n_types, n_texts, compared);
    for (size_t i = 0; i < n_texts; i++)
        free(texts[i].b);
    free(texts);
    free(lines);
    free(data);
}

int main(void) {
    RUN(test_classes);
    RUN(test_standins);
    RUN(test_hand_splits);
    RUN(test_names);
    RUN(test_long_runs);
    RUN(test_golden);
    return tg_test_finish("test_pretok");
}
