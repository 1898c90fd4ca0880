/*
 * test_grammar.c — the grammar engine byte by byte: JSON Schema compilation
 * (every refusal with its message), which texts a compiled schema accepts
 * and rejects, exact number ranges (exhaustive over small ranges, and the
 * int64 edges), JSON strings (escapes, surrogates, UTF-8, lengths in
 * characters), patterns against PCRE2 on random strings, GBNF grammars and
 * their errors, and the tg_grammar_state API over a byte-level vocabulary.
 * Random documents against an independent validator: test_grammar_oracle.c;
 * the real Gemma vocabulary and model: test_grammar_gemma.c.
 */
#include "tinglado.h"
#include "gen/grammar.h"
#include "../test.h"
#include "grammar_util.h"
#include "schema_oracle.h"

static tg_grammar *schema(const char *s) {
    tg_grammar *g = tg_grammar_from_json_schema(s, strlen(s));
    CHECK_MSG(g != NULL, "schema %s: %s", s, tg_last_error());
    return g;
}

static bool acc(const tg_grammar *g, const char *doc) {
    return g && tg__grammar_accepts(g, doc, strlen(doc));
}

/* Each schema compiles and accepts/rejects the listed documents. */
typedef struct accept_case {
    const char *schema;
    const char *yes[8];
    const char *no[10];
} accept_case;

static const accept_case accept_cases[] = {
    {"{\"type\":\"string\"}",
     {"\"\"", "\"abc\"", "\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\"", "\"\\u00e9\\uD83D\\uDE00\"",
      "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", " \n\"x\""},
     {"\"abc", "abc", "\"\\x\"", "\"\\u12\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\u0000\"",
      "\"a\x01\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\""}},
    {"{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}",
     {"\"ab\"", "\"abc\"", "\"\xc3\xa9\xc3\xa9\"", "\"\\u00e9x\"", "\"\\ud83d\\ude00\xf0\x9f\x98\x80\""},
     {"\"a\"", "\"abcd\"", "\"\xc3\xa9\"", "\"\\ud83d\\ude00\""}},
    {"{\"type\":\"integer\"}",
     {"0", "-1", "42", "9223372036854775807", "-9223372036854775807"},
     {"-0", "007", "1.0", "1e3", "9223372036854775808", "+1", "", "-"}},
    {"{\"type\":\"number\"}",
     {"0", "-0.5", "3.25e-7", "1E+99", "1234567890123456e1", "0.0000000000000001"},
     {"1.", ".5", "1e", "1e100", "01", "--1", "1e+"}},
    {"{\"type\":\"boolean\"}", {"true", "false"}, {"True", "tru", "1", "null"}},
    {"{\"type\":\"null\"}", {"null"}, {"nul", "\"null\"", "0"}},
    {"{\"type\":[\"string\",\"null\"]}", {"null", "\"x\""}, {"1", "true"}},
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"string\"}},"
     "\"required\":[\"b\"]}",
     {"{\"b\":\"x\"}", "{\"a\":1,\"b\":\"x\"}", "{ \"a\" : 1 ,\n  \"b\" : \"\" }"},
     {"{}", "{\"a\":1}", "{\"b\":\"x\",\"a\":1}", "{\"b\":\"x\",\"c\":1}", "{\"b\":1}",
      "{\"a\":1,\"b\":\"x\",}", "{\"b\":\"x\"", "{\"b\":\"x\",\"b\":\"y\"}"}},
    {"{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},"
     "\"additionalProperties\":{\"type\":\"boolean\"}}",
     {"{}", "{\"id\":1}", "{\"id\":1,\"x\":true,\"y\":false}", "{\"x\":true}", "{\"idx\":true}"},
     {"{\"x\":1}", "{\"id\":true}", "{\"id\":1,\"id\":true}", "{\"x\":true,\"id\":1}",
      "{\"i\\u0064\":true}"}},
    {"{\"type\":\"object\"}",
     {"{}", "{\"a\":[1,{\"b\":null}],\"a\":\"dup\"}", "{\"\":{}}"},
     {"[]", "{\"a\"}", "{a:1}", "{\"a\":1,}"}},
    {"{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":1,\"maxItems\":3}",
     {"[1]", "[1,2,3]", "[ 1 , 2 ]"},
     {"[]", "[1,2,3,4]", "[1,]", "[,1]", "[\"1\"]"}},
    {"{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}],"
     "\"items\":false,\"minItems\":1}",
     {"[\"a\"]", "[\"a\",1]"},
     {"[]", "[1]", "[\"a\",1,2]", "[\"a\",\"b\"]"}},
    {"{\"type\":\"array\",\"items\":[{\"type\":\"null\"}],\"additionalItems\":{\"type\":\"boolean\"}}",
     {"[]", "[null]", "[null,true,false]"},
     {"[true]", "[null,null]"}},
    {"{\"enum\":[\"red\",\"green\",3,null,{\"a\":[1]},1.5]}",
     {"\"red\"", "\"green\"", "3", "null", "{\"a\":[1]}", "1.5"},
     {"\"blue\"", "4", "\"3\"", "{\"a\":[2]}", "\"redd\""}},
    {"{\"const\":\"fixed\"}", {"\"fixed\""}, {"\"fixe\"", "\"fixedd\""}},
    {"{\"type\":\"string\",\"enum\":[\"a\",\"bb\",1],\"minLength\":2}",
     {"\"bb\""}, {"\"a\"", "1"}},
    {"{\"anyOf\":[{\"type\":\"integer\",\"maximum\":5},{\"type\":\"string\",\"maxLength\":1}]}",
     {"5", "-3", "\"x\"", "\"\""},
     {"6", "\"xy\"", "null"}},
    {"{\"$defs\":{\"n\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\"},"
     "\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/n\"}}},\"required\":[\"v\"]}},"
     "\"$ref\":\"#/$defs/n\"}",
     {"{\"v\":1}", "{\"v\":1,\"kids\":[]}", "{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[{\"v\":3}]}]}"},
     {"{\"kids\":[]}", "{\"v\":1,\"kids\":[{}]}"}},
    {"{\"type\":\"string\",\"format\":\"date\"}",
     {"\"2024-01-31\"", "\"1999-12-01\"", "\"2023-02-28\""},
     {"\"2024-02-30\"", "\"2024-13-01\"", "\"2024-1-01\"", "\"2024-04-31\"", "\"2024-02-29\""}},
    {"{\"type\":\"string\",\"format\":\"date-time\"}",
     {"\"2024-01-31T23:59:59Z\"", "\"2024-01-31T00:00:00.123+05:30\""},
     {"\"2024-01-31T24:00:00Z\"", "\"2024-01-31 10:00:00Z\"", "\"2024-01-31T10:00:00\""}},
    {"{\"type\":\"string\",\"format\":\"uuid\"}",
     {"\"123e4567-e89b-12d3-a456-426614174000\""},
     {"\"123e4567e89b12d3a456426614174000\"", "\"123E4567-e89b-12d3-a456-42661417400\""}},
    {"{\"type\":\"string\",\"format\":\"ipv4\"}",
     {"\"192.168.0.1\"", "\"0.0.0.0\"", "\"255.255.255.255\""},
     {"\"256.1.1.1\"", "\"1.2.3\"", "\"01.2.3.4\""}},
    {"{\"type\":\"string\",\"format\":\"hostname\"}", {"\"anything\""}, {"1"}},
    {"{\"type\":\"string\",\"pattern\":\"^[a-z]+-[0-9]{2}$\"}",
     {"\"abc-12\"", "\"z-00\""},
     {"\"abc-123\"", "\"-12\"", "\"ABC-12\""}},
    {"{\"type\":\"string\",\"pattern\":\"x\\\\d\"}",
     {"\"x1\"", "\"aax9bb\"", "\"\\\"x0\\\\\""},
     {"\"x\"", "\"xa1\""}},
    {"{\"type\":\"string\",\"pattern\":\"^[\\\"\\\\\\\\]+$\",\"maxLength\":3}",
     {"\"\\\"\"", "\"\\\\\\\"\\\\\""},
     {"\"\\\"\\\"\\\"\\\"\"", "\"a\""}},
    {"{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"array\",\"items\":{\"type\":\"null\"}}]}",
     {"\"s\"", "[null]"}, {"[1]", "1"}},
    {"{\"allOf\":[{\"type\":\"integer\",\"minimum\":1}],\"description\":\"x\"}",
     {"1", "99"}, {"0"}},
    {"true", {"1", "{\"a\":[]}", "\"x\""}, {"x"}},
    {"{}", {"null", "[true]"}, {""}},
    {"{\"properties\":{\"a\":{\"type\":\"integer\"}}}", {"{\"a\":1}", "{}"}, {"1", "{\"b\":1}"}},
};

static void test_accept_tables(void) {
    for (size_t c = 0; c < TG_ARRAY_LEN(accept_cases); c++) {
        const accept_case *k = &accept_cases[c];
        tg_grammar *g = schema(k->schema);
        for (int i = 0; i < 8 && k->yes[i]; i++)
            CHECK_MSG(acc(g, k->yes[i]), "%s should accept %s", k->schema, k->yes[i]);
        for (int i = 0; i < 10 && k->no[i]; i++)
            CHECK_MSG(!acc(g, k->no[i]), "%s should reject %s", k->schema, k->no[i]);
        tg_grammar_free(g);
    }
}

/* Refused schemas, each with the message it must give. */
static void test_compile_errors(void) {
    static const struct {
        const char *schema, *msg;
    } cases[] = {
        {"{\"type\":", "not valid JSON"},
        {"\"string\"", "a schema must be an object or a boolean at the root"},
        {"{\"type\":\"strin\"}", "unknown type \"strin\" at the root"},
        {"{\"type\":[]}", "\"type\" must not be an empty array"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"multipleOf\":2}}}",
         "keyword \"multipleOf\" is not supported at /properties/a/multipleOf"},
        {"{\"items\":{\"not\":{}}}", "keyword \"not\" is not supported at /items/not"},
        {"{\"uniqueItems\":true}", "keyword \"uniqueItems\" is not supported"},
        {"{\"patternProperties\":{}}", "\"patternProperties\" is not supported"},
        {"{\"if\":{},\"then\":{}}", "is not supported"},
        {"{\"minLength\":-1}", "\"minLength\" must be a non-negative integer at the root"},
        {"{\"maxItems\":1.5}", "\"maxItems\" must be a non-negative integer"},
        {"{\"minimum\":\"3\"}", "\"minimum\" must be a number"},
        {"{\"properties\":5}", "\"properties\" must be an object"},
        {"{\"required\":\"a\"}", "\"required\" must be an array of strings"},
        {"{\"$ref\":\"#/$defs/missing\"}", "$ref \"#/$defs/missing\" points at nothing at the root"},
        {"{\"$ref\":\"other.json#/a\"}", "is not local"},
        {"{\"$ref\":\"#anchor\"}", "anchors are not supported"},
        {"{\"$ref\":\"#/$defs/~2\",\"$defs\":{}}", "bad ~ escape"},
        {"{\"$ref\":\"#/$defs/a\",\"type\":\"string\",\"$defs\":{\"a\":{}}}",
         "keyword \"type\" beside \"$ref\""},
        {"{\"allOf\":[{},{}]}", "\"allOf\" with more than one schema"},
        {"{\"type\":\"string\",\"anyOf\":[{}]}", "keyword \"type\" beside \"anyOf\""},
        {"{\"anyOf\":[]}", "\"anyOf\" must be a non-empty array"},
        {"{\"enum\":[]}", "\"enum\" must be a non-empty array"},
        {"{\"enum\":[1],\"properties\":{}}", "keyword \"properties\" beside \"enum\""},
        {"{\"type\":\"string\",\"pattern\":\"(?<=a)b\"}", "lookaround assertions are not supported"},
        {"{\"pattern\":\"(a\"}", "pattern \"(a\": missing )"},
        {"{\"pattern\":\"a{5,2}\"}", "with n < m"},
        {"{\"pattern\":\"(a)\\\\1\"}", "back-references are not supported"},
        {"{\"pattern\":\"\\\\p{L}\"}", "Unicode property escapes are not supported"},
        {"{\"pattern\":\"a^b\"}", "anchors are supported only at the start"},
        {"{\"pattern\":\"\\\\bword\"}", "word boundary"},
        {"{\"pattern\":\"[z-a]\"}", "character range out of order"},
        {"{\"pattern\":\"(a|b)*a(a|b){16}\"}", "automaton states"},
        {"{\"type\":\"string\",\"pattern\":\"^a*$\",\"maxLength\":20000}",
         "minLength/maxLength with a pattern or format"},
        {"{\"type\":\"integer\",\"minimum\":10,\"maximum\":5}", "no JSON document satisfies"},
        {"{\"type\":\"number\",\"exclusiveMinimum\":1,\"exclusiveMaximum\":1}",
         "no JSON document satisfies"},
        {"{\"properties\":{\"a\":false},\"required\":[\"a\"]}", "no JSON document satisfies"},
        {"{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"x\"]}",
         "no JSON document satisfies"},
        {"{\"anyOf\":[{\"$ref\":\"#\"},{\"type\":\"null\"}]}", "left recursion"},
        {"{\"minItems\":1000000}", "\"minItems\" 1000000 is more than"},
    };
    for (size_t i = 0; i < TG_ARRAY_LEN(cases); i++) {
        tg_grammar *g = tg_grammar_from_json_schema(cases[i].schema, strlen(cases[i].schema));
        CHECK_MSG(g == NULL, "schema %s should be refused", cases[i].schema);
        CHECK_MSG(strstr(tg_last_error(), cases[i].msg) != NULL, "%s: message \"%s\" lacks \"%s\"",
                  cases[i].schema, tg_last_error(), cases[i].msg);
        tg_grammar_free(g);
    }
    /* nesting deeper than the limit, and an over-long text */
    char deep[2048] = "";
    for (int i = 0; i < 70; i++)
        strcat(deep, "{\"items\":");
    strcat(deep, "{}");
    for (int i = 0; i < 70; i++)
        strcat(deep, "}");
    CHECK(tg_grammar_from_json_schema(deep, strlen(deep)) == NULL);
    CHECK_ERROR_HAS("nested more than 64 levels deep at /items/items");
    size_t big = 5u << 20;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    CHECK(tg_grammar_from_json_schema(huge, big) == NULL);
    CHECK_ERROR_HAS("more than the");
    free(huge);
    /* a draft-4 style boolean exclusiveMinimum, and unknown keywords ignored */
    tg_grammar *g = schema("{\"type\":\"integer\",\"minimum\":3,\"exclusiveMinimum\":true,"
                           "\"x-vendor\":{\"anything\":1},\"nullable\":true}");
    CHECK(!acc(g, "3") && acc(g, "4") && !acc(g, "null"));
    tg_grammar_free(g);
}

/* Integers and floats near every bound, checked against the range. */
static void test_number_ranges(void) {
    static const struct {
        const char *schema;
        double lo, hi;
        bool lo_ex, hi_ex;
    } cases[] = {
        {"{\"type\":\"integer\",\"minimum\":-17,\"maximum\":123}", -17, 123, false, false},
        {"{\"type\":\"integer\",\"exclusiveMinimum\":-17,\"exclusiveMaximum\":123}", -17, 123, true, true},
        {"{\"type\":\"integer\",\"minimum\":-250.5,\"maximum\":-3.2}", -250.5, -3.2, false, false},
        {"{\"type\":\"integer\",\"minimum\":0,\"maximum\":0}", 0, 0, false, false},
        {"{\"type\":\"integer\",\"minimum\":7,\"maximum\":7}", 7, 7, false, false},
        {"{\"type\":\"integer\",\"minimum\":100}", 100, 1e300, false, false},
    };
    char text[64];
    for (size_t c = 0; c < TG_ARRAY_LEN(cases); c++) {
        tg_grammar *g = schema(cases[c].schema);
        int wrong = 0;
        for (int v = -400; v <= 400; v++) {
            snprintf(text, sizeof text, "%d", v);
            bool in = (cases[c].lo_ex ? v > cases[c].lo : v >= cases[c].lo) &&
                      (cases[c].hi_ex ? v < cases[c].hi : v <= cases[c].hi);
            if (acc(g, text) != in) {
                if (wrong++ < 3)
                    fprintf(stderr, "  %s: %s %s\n", cases[c].schema, text, in ? "rejected" : "accepted");
            }
        }
        CHECK_EQ_INT(wrong, 0);
        tg_grammar_free(g);
    }
    /* floats: every 0.01 step in [-3, 3] with 2 and 6 decimals, plus integers */
    static const struct {
        const char *schema;
        double lo, hi;
        bool lo_ex, hi_ex;
    } fcases[] = {
        {"{\"type\":\"number\",\"minimum\":-1.5,\"exclusiveMaximum\":2.25}", -1.5, 2.25, false, true},
        {"{\"type\":\"number\",\"exclusiveMinimum\":0.1,\"maximum\":0.3}", 0.1, 0.3, true, false},
        {"{\"type\":\"number\",\"minimum\":-0.01,\"maximum\":-0.01}", -0.01, -0.01, false, false},
        {"{\"type\":\"number\",\"maximum\":1e-3}", -1e300, 1e-3, false, false},
    };
    for (size_t c = 0; c < TG_ARRAY_LEN(fcases); c++) {
        tg_grammar *g = schema(fcases[c].schema);
        int wrong = 0;
        for (int k = -300; k <= 300; k++) {
            for (int f = 0; f < 4; f++) {
                int prec = f == 0 ? 2 : f == 1 ? 6 : f == 2 ? 0 : 1;
                snprintf(text, sizeof text, "%.*f", prec, k / 100.0);
                if (strcmp(text, "-0") == 0 || strncmp(text, "-0.00", 5) == 0)
                    continue; /* negative zero: fine either way */
                double x = strtod(text, NULL);
                bool in = (fcases[c].lo_ex ? x > fcases[c].lo : x >= fcases[c].lo) &&
                          (fcases[c].hi_ex ? x < fcases[c].hi : x <= fcases[c].hi);
                if (acc(g, text) != in && wrong++ < 3)
                    fprintf(stderr, "  %s: %s %s\n", fcases[c].schema, text, in ? "rejected" : "accepted");
            }
        }
        CHECK_EQ_INT(wrong, 0);
        CHECK(!acc(g, "1e-5") && !acc(g, "0.0000001")); /* bounded: no exponent, 6 decimals */
        tg_grammar_free(g);
    }
    tg_grammar *g = schema("{\"type\":\"integer\",\"maximum\":9223372036854775807}");
    CHECK(acc(g, "9223372036854775807") && !acc(g, "9223372036854775808") &&
          !acc(g, "-9223372036854775808") && acc(g, "-9223372036854775807"));
    tg_grammar_free(g);
    g = tg_grammar_from_json_schema("{\"type\":\"integer\",\"minimum\":1e30}", 31);
    CHECK(g == NULL);
    tg_grammar_free(g);
}

/* Patterns against PCRE2 on random strings over an alphabet where the
 * dialects agree: the grammar must accept exactly the matches. */
static void test_patterns_vs_pcre2(void) {
    static const char *const pats[] = {
        "^[a-c]+$", "ab", "^a?b*c{2,3}$", "^(ab|cd)+e$", "^[^ab]{2}$", "x\\d+y", "^\\w+$",
        "^.{1,3}$", "^(?:a|\\\")+$", "[\\\\\\\"]", "^a|b$", "^$", "c+", "^\\S*$", "^\\s?a$",
        "^[\\u00e9-\\u00ff]b", "^(a(b(c)?)?)?$", "^[-+]?[0-9]{1,3}(\\.[0-9]+)?$",
    };
    const char alpha[] = "abcdexy019 +-.\"\\\t";
    const char *extra[] = {"\xc3\xa9", "\xc3\xbf", "\xe2\x82\xac"};
    gu_rng = 12345;
    int mismatches = 0;
    for (size_t p = 0; p < TG_ARRAY_LEN(pats); p++) {
        json_t *js = json_pack("{s:s,s:s}", "type", "string", "pattern", pats[p]);
        char *text = json_dumps(js, JSON_COMPACT);
        tg_grammar *g = schema(text);
        for (int trial = 0; g && trial < 400; trial++) {
            char s[64] = "";
            int len = (int)(gu_rand() % 7);
            for (int i = 0; i < len; i++) {
                if (gu_rand() % 8 == 0)
                    strcat(s, extra[gu_rand() % 3]);
                else
                    strncat(s, &alpha[gu_rand() % (sizeof alpha - 1)], 1);
            }
            json_t *str = json_string(s);
            char *doc = json_dumps(str, JSON_ENCODE_ANY);
            bool want = oracle_pattern(pats[p], s, strlen(s));
            if (acc(g, doc) != want && mismatches++ < 5)
                fprintf(stderr, "  pattern %s on %s: pcre2 %d\n", pats[p], doc, want);
            free(doc);
            json_decref(str);
        }
        tg_grammar_free(g);
        free(text);
        json_decref(js);
    }
    CHECK_EQ_INT(mismatches, 0);
}

/* GBNF: grammars of our own, their languages, and the refusals. */
static void test_gbnf(void) {
    const char *arith = "root ::= expr\n"
                        "expr ::= term ((\"+\" | \"-\") term)*   # sums\n"
                        "term ::= num | \"(\" expr \")\"\n"
                        "num  ::= [0-9]+\n";
    tg_grammar *g = tg_grammar_from_gbnf(arith, strlen(arith));
    CHECK_MSG(g != NULL, "%s", tg_last_error());
    CHECK(acc(g, "1+(22-3)") && acc(g, "7") && !acc(g, "1+") && !acc(g, "(1") && !acc(g, ""));
    tg_grammar_free(g);
    const char *uni = "root ::= [^\\n\"]{2,4} \"\\u00e9\" . ( \"x\" | [\xe3\x81\x81-\xe3\x82\x9f] )? |\n"
                      "  \"multi\\n\" |\n  \"\\x41\"";
    g = tg_grammar_from_gbnf(uni, strlen(uni));
    CHECK_MSG(g != NULL, "%s", tg_last_error());
    CHECK(acc(g, "ab\xc3\xa9z") && acc(g, "\xe2\x82\xac\xe2\x82\xac\xc3\xa9\xf0\x9f\x98\x80x") &&
          acc(g, "abc\xc3\xa9q\xe3\x81\x82") && acc(g, "multi\n") && acc(g, "A"));
    CHECK(!acc(g, "a\xc3\xa9z") && !acc(g, "a\nb\xc3\xa9z") && !acc(g, "ab\xc3\xa9"));
    tg_grammar_free(g);
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"root ::= foo\n", "rule 'foo' is used but not defined (line 1, column 10)"},
        {"a ::= \"x\"\n", "no rule named root"},
        {"root ::= root \"x\" | \"y\"\n", "rule 'root' can reach itself without consuming input"},
        {"root ::= a\na ::= b? \"x\"\nb ::= a\n", "left recursion"},
        {"root ::= (\"x\"?)*\n", "is repeated but can match nothing"},
        {"root ::= \"x\"\nroot ::= \"y\"\n", "rule defined twice (line 2, column 1)"},
        {"root ::= \"abc\n", "unterminated literal"},
        {"root ::= [ab\n", "unterminated character class"},
        {"root ::= (\"a\"\n", "missing )"},
        {"root ::= \"a\"{3,1}\n", "with n < m"},
        {"root ::= <think>\n", "token matches (<...>) are not supported"},
        {"root = \"a\"\n", "expected ::="},
        {"root ::= \"\\q\"\n", "unknown escape"},
        {"root ::= [z-a]\n", "character range out of order"},
        {"root ::= \"a\" )\n", "unbalanced )"},
        {"root ::= \"a\"{99999}\n", "repetition bound too large"},
        {"root ::= \"\\xZZ\"\n", "bad hex escape"},
        {"root ::= \"\xff\"\n", "invalid UTF-8"},
    };
    for (size_t i = 0; i < TG_ARRAY_LEN(bad); i++) {
        g = tg_grammar_from_gbnf(bad[i].text, strlen(bad[i].text));
        CHECK_MSG(g == NULL, "gbnf %s should be refused", bad[i].text);
        CHECK_MSG(strstr(tg_last_error(), bad[i].msg) != NULL, "gbnf %s: \"%s\" lacks \"%s\"",
                  bad[i].text, tg_last_error(), bad[i].msg);
        tg_grammar_free(g);
    }
    /* deep parentheses fail with a message, not a crash */
    char deep[512] = "root ::= ";
    for (int i = 0; i < 150; i++)
        strcat(deep, "(");
    CHECK(tg_grammar_from_gbnf(deep, strlen(deep)) == NULL);
    CHECK_ERROR_HAS("nested too deeply");
}

static void test_json_object(void) {
    tg_grammar *g = tg_grammar_json_object();
    CHECK(g != NULL);
    CHECK(acc(g, "{}") && acc(g, "\n{\"a\": [1, 2.5e3, \"x\", {\"b\": null}], \"c\": true}"));
    CHECK(!acc(g, "[]") && !acc(g, "\"x\"") && !acc(g, "{\"a\":1} ") && !acc(g, "{'a':1}"));
    /* whitespace: one line break per gap, bounded runs of blanks */
    char ws[128] = "{";
    for (int i = 0; i < (int)TG__WS_INLINE; i++)
        strcat(ws, " ");
    strcat(ws, "\r\n");
    for (int i = 0; i < (int)TG__WS_INDENT; i++)
        strcat(ws, "\t");
    CHECK(acc(g, strcat(ws, "}")));
    strcpy(ws + strlen(ws) - 1, " }");
    CHECK(!acc(g, ws));
    CHECK(!acc(g, "{\n\n}") && !acc(g, "{         }") && acc(g, "{\n  \"a\": {\n    \"b\": 1\n  }\n}"));
    tg_grammar_free(g);
}

/* The state API over a byte vocabulary (ids 3..258 are the bytes, 2 ends). */
static void test_state_api(void) {
    static const char *const extra[] = {"{\"", "\":", "\u2581", "ab\"", "\"}", "12"};
    tg_gguf *gg;
    tg_vocab *v = gu_synth_vocab(extra, TG_ARRAY_LEN(extra), &gg);
    CHECK(v != NULL);
    if (!v)
        return;
    tg_grammar *g = schema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},"
                           "\"required\":[\"a\"]}");
    tg_grammar_state *st = tg_grammar_state_new(g, v);
    CHECK(st != NULL);
    int32_t nv = tg_vocab_n_tokens(v);
    uint32_t bits[16] = {0};
#define ALLOWED(t) ((bits[(t) >> 5] >> ((t)&31)) & 1u)
#define BYTE(c) (3 + (unsigned char)(c))
    CHECK(tg_grammar_allowed(st, bits) == TG_OK);
    CHECK(ALLOWED(BYTE('{')) && ALLOWED(BYTE(' ')) && ALLOWED(259) && ALLOWED(261));
    CHECK(!ALLOWED(BYTE('[')) && !ALLOWED(2) && !ALLOWED(0) && !ALLOWED(1) && !ALLOWED(262));
    CHECK(!tg_grammar_complete(st));
    CHECK(tg_grammar_accept(st, BYTE('[')) == TG_ERR_ARG);
    CHECK_ERROR_HAS("does not fit the grammar");
    CHECK(tg_grammar_accept(st, 2) == TG_ERR_ARG); /* end before complete */
    CHECK(tg_grammar_accept(st, 1) == TG_ERR_ARG); /* control */
    CHECK(tg_grammar_accept(st, nv) == TG_ERR_ARG);
    CHECK(tg_grammar_accept(st, 259) == TG_OK);           /* {"      */
    CHECK(tg_grammar_accept_text(st, "a\": 1", 5) == TG_OK);
    CHECK(tg_grammar_allowed(st, bits) == TG_OK);
    CHECK(ALLOWED(BYTE('2')) && ALLOWED(264) && ALLOWED(BYTE('}')) && !ALLOWED(2));
    CHECK(tg_grammar_accept_text(st, "x", 1) == TG_ERR_ARG);
    CHECK(tg_grammar_accept(st, 264) == TG_OK); /* 112 */
    CHECK(!tg_grammar_complete(st));
    CHECK(tg_grammar_accept(st, BYTE('}')) == TG_OK);
    CHECK(tg_grammar_complete(st) && tg_grammar_finished(st));
    CHECK(tg_grammar_allowed(st, bits) == TG_OK);
    int n_allowed = 0;
    for (int32_t t = 0; t < nv; t++)
        n_allowed += ALLOWED(t);
    CHECK(n_allowed == 1 && ALLOWED(2)); /* only the end */
    CHECK(tg_grammar_accept(st, 2) == TG_OK);
    CHECK(tg_grammar_accept(st, BYTE(' ')) == TG_ERR_ARG);
    tg_grammar_state_reset(st);
    CHECK(!tg_grammar_complete(st));
    CHECK(tg_grammar_accept_text(st, "{\"a\":7", 6) == TG_OK);
    CHECK(tg_grammar_complete(st) == false);
    tg_grammar_state_free(st);
    tg_grammar_free(g);

    /* a number at the top level is complete but may go on */
    g = schema("{\"type\":\"integer\",\"maximum\":500}");
    st = tg_grammar_state_new(g, v);
    CHECK(tg_grammar_accept_text(st, "4", 1) == TG_OK);
    CHECK(tg_grammar_complete(st) && !tg_grammar_finished(st));
    CHECK(tg_grammar_allowed(st, bits) == TG_OK);
    CHECK(ALLOWED(2) && ALLOWED(BYTE('9')) && ALLOWED(264)); /* "412" <= 500 */
    CHECK(tg_grammar_accept_text(st, "9", 1) == TG_OK);
    CHECK(tg_grammar_allowed(st, bits) == TG_OK);
    CHECK(ALLOWED(2) && ALLOWED(BYTE('9')) && !ALLOWED(264)); /* "4912" > 500 */
    tg_grammar_state_free(st);
    tg_grammar_free(g);
    tg_vocab_free(v);
    tg_gguf_close(gg);
}

int main(void) {
    RUN(test_accept_tables);
    RUN(test_compile_errors);
    RUN(test_number_ranges);
    RUN(test_patterns_vs_pcre2);
    RUN(test_gbnf);
    RUN(test_json_object);
    RUN(test_state_api);
    return tg_test_finish("test_grammar");
}
