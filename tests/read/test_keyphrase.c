/*
 * test_keyphrase.c — the candidate tags enrich.c offers the model
 * (src/read/keyphrase.c): the owner's tags the article mentions first,
 * frequent content words and phrases, no stop words, no lone title filler,
 * CJK pairs, bounds, and hostile input.
 */
#include "read/read.h"
#include "token/utf8.h"
#include "../test.h"

static bool has(char **v, size_t n, const char *s) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return true;
    return false;
}

static size_t pos(char **v, size_t n, const char *s) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return i;
    return n;
}

static void free_all(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void test_english(void) {
    const char *title = "A test of the Peanut Allergy study";
    const char *text = "Peanut allergy is on the rise. Children who ate peanut early had less peanut allergy. "
                       "The study followed 600 children for five years.\n\nThe children's parents fed them peanut "
                       "butter. Doctors said the study changes advice.";
    const char *known[] = {"health", "children", "cooking", "peanut butter"};
    size_t n = 0;
    char **c = tg__key_phrases(title, text, strlen(text), known, 4, 40, &n);
    CHECK(c != NULL && n >= 5);
    /* known tags the text mentions come first, in the owner's order */
    CHECK_EQ_STR(c[0], "children");
    CHECK_EQ_STR(c[1], "peanut butter");
    CHECK(!has(c, n, "health") && !has(c, n, "cooking")); /* not mentioned */
    CHECK(has(c, n, "peanut allergy"));                    /* a phrase of title and text */
    CHECK(has(c, n, "peanut") && has(c, n, "study"));
    CHECK(pos(c, n, "peanut allergy") < pos(c, n, "study"));
    CHECK(!has(c, n, "test"));                           /* a lone title word the text never uses */
    CHECK(!has(c, n, "the") && !has(c, n, "who") && !has(c, n, "600")); /* stop words, numbers */
    CHECK(!has(c, n, "doctors said"));                   /* said once */
    CHECK(!has(c, n, "rise children"));                  /* a phrase never spans a sentence end */
    for (size_t i = 0; i < n; i++) {
        CHECK(strlen(c[i]) <= 30 && strlen(c[i]) > 0);
        for (size_t j = 0; j < i; j++)
            CHECK_MSG(strcmp(c[i], c[j]), "%s twice", c[i]);
        for (const char *p = c[i]; *p; p++)
            CHECK_MSG(!(*p >= 'A' && *p <= 'Z'), "%s is not lower-case", c[i]);
    }
    free_all(c, n);
    /* at most max */
    c = tg__key_phrases(title, text, strlen(text), known, 4, 3, &n);
    CHECK(c && n == 3);
    free_all(c, n);
    /* only the first n bytes count */
    c = tg__key_phrases(NULL, text, 30, NULL, 0, 40, &n);
    CHECK(c && !has(c, n, "study"));
    free_all(c, n);
}

static void test_other_scripts(void) {
    /* Chinese: adjacent characters pair up; the frequent pair is offered */
    const char *zh = "\xe5\x8c\x97\xe4\xba\xac\xe7\x9a\x84\xe5\xa4\xa9\xe6\xb0\x94\xe3\x80\x82"
                     "\xe5\x8c\x97\xe4\xba\xac\xe5\xbe\x88\xe5\xa4\xa7\xe3\x80\x82"; /* 北京的天气。北京很大。 */
    size_t n = 0;
    char **c = tg__key_phrases(NULL, zh, strlen(zh), NULL, 0, 40, &n);
    CHECK(c && has(c, n, "\xe5\x8c\x97\xe4\xba\xac")); /* 北京 */
    CHECK(!has(c, n, "\xe6\xb0\x94\xe5\x8c\x97"));     /* 气北: across the full stop */
    free_all(c, n);
    /* accented letters are letters, and lower-cased */
    const char *fr = "L'\xc3\x89norme For\xc3\xaat. \xc3\x89norme for\xc3\xaat encore.";
    c = tg__key_phrases(NULL, fr, strlen(fr), NULL, 0, 40, &n);
    CHECK(c && has(c, n, "\xc3\xa9norme for\xc3\xaat")); /* énorme forêt */
    free_all(c, n);
}

static void test_hostile(void) {
    size_t n = 7;
    char **c = tg__key_phrases(NULL, "", 0, NULL, 0, 40, &n);
    CHECK(c && n == 0);
    free_all(c, n);
    /* invalid UTF-8, NULs inside the length, very long words */
    char junk[600];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i % 7 == 0 ? 0xFF : i % 11 == 0 ? 0 : 'a' + i % 3);
    c = tg__key_phrases("\xC3", junk, sizeof junk, NULL, 0, 40, &n);
    CHECK(c != NULL);
    for (size_t i = 0; c && i < n; i++)
        CHECK(strlen(c[i]) <= 30);
    free_all(c, n);
}

/* Findings of fuzz/fuzz_keyphrase.c. */
static void test_fuzz_findings(void) {
    size_t n = 0;
    /* the lax decoder reads F0 84 80 80 as U+4000 (CJK): its pair was
     * offered as those raw, ill-formed bytes */
    const char *ov = "\xf0\x84\x80\x80\xf0\x84\x80\x80";
    char **c = tg__key_phrases(NULL, ov, strlen(ov), NULL, 0, 40, &n);
    CHECK(c != NULL && n == 1);
    for (size_t i = 0; c && i < n; i++)
        CHECK_MSG(tg__utf8_valid(c[i], strlen(c[i])), "candidate %zu is not well-formed UTF-8", i);
    CHECK(c && n == 1 && !strcmp(c[0], "\xe4\x80\x80\xe4\x80\x80")); /* 䀀䀀, well-formed */
    free_all(c, n);
    /* the library lower-cases ASCII only: its tag "École" and the word
     * "école" were both offered (strcasecmp is ASCII-only); a tag listed
     * twice was offered twice, and an ill-formed one ("caf" and a lone
     * C3, which the article's "caf" matched) as its raw bytes */
    const char *text = "\xc3\x89" "cole \xc3\xa9" "cole rust. caf, \xc3\xa9" "cole rust";
    const char *known[] = {"\xc3\x89" "cole", "rust", "rust", "caf\xc3", "\xc3\xa9" "cole"};
    c = tg__key_phrases(NULL, text, strlen(text), known, 5, 40, &n);
    CHECK(c && n >= 2);
    CHECK(c && !strcmp(c[0], "\xc3\x89" "cole") && !strcmp(c[1], "rust")); /* as the library spells them */
    CHECK(!has(c, n, "\xc3\xa9" "cole"));
    for (size_t i = 0; c && i < n; i++) {
        CHECK_MSG(tg__utf8_valid(c[i], strlen(c[i])), "candidate %zu is not well-formed UTF-8", i);
        for (size_t j = 0; j < i; j++)
            CHECK_MSG(strcmp(c[i], c[j]), "%s twice", c[i]);
    }
    free_all(c, n);
    /* U+30FB KATAKANA MIDDLE DOT is in a CJK block but punctuation: it
     * was paired as if a character of a word ("語・") */
    const char *dot = "\xe8\xaa\x9e\xe3\x83\xbb\xe8\xaa\x9e\xe3\x83\xbb"; /* 語・語・ */
    c = tg__key_phrases(NULL, dot, strlen(dot), NULL, 0, 40, &n);
    CHECK(c != NULL);
    for (size_t i = 0; c && i < n; i++)
        CHECK_MSG(!strstr(c[i], "\xe3\x83\xbb"), "candidate %zu holds the middle dot", i);
    free_all(c, n);
    /* max + 1 wrapped to 0 for SIZE_MAX: a one-slot array then */
    const char *many = "alpha beta gamma delta alpha beta gamma delta";
    c = tg__key_phrases(NULL, many, strlen(many), NULL, 0, SIZE_MAX, &n);
    CHECK(c && n >= 4 && has(c, n, "alpha beta"));
    free_all(c, n);
}

int main(void) {
    RUN(test_english);
    RUN(test_other_scripts);
    RUN(test_hostile);
    RUN(test_fuzz_findings);
    return tg_test_finish("keyphrase");
}
