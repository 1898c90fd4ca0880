/*
 * fuzz_keyphrase.c — libFuzzer target for the candidate tags of an article
 * (tg__key_phrases, src/read/keyphrase.c), whose text, title and the
 * library's tag names all come from untrusted pages and import files.
 *
 * Input: byte 0 picks max (0–62, or SIZE_MAX for 63), byte 1 how much of
 * the text is shown (n = len × byte / 255), byte 2 the number of known tags
 * (bits 0–2) and whether there is a title at all (bit 3); the rest is
 * title NUL tag1 NUL … tagK NUL text (the text keeps any further NULs; a
 * missing part is empty).  The text is copied into a buffer of exactly n
 * bytes, so ASan sees any read past the bytes the function was given.
 *
 * Checks beyond "no crash", from read.h's promise: at most max candidates,
 * each non-empty, at most 30 bytes, no NUL, well-formed UTF-8; the known
 * tags the result holds (verbatim) come first; every other candidate is a
 * lower-case word or two joined by one space; no two candidates are the
 * same once lower-cased; and a larger max only adds candidates at the end
 * (which also checks that two calls agree).
 */
#include "read/read.h"
#include "token/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_KNOWN = 7 };

static void check(bool ok, const char *what, const char *cand) {
    if (!ok) {
        fprintf(stderr, "fuzz_keyphrase: %s (\"%s\")\n", what, cand ? cand : "");
        abort();
    }
}

/* The next code point of well-formed s (checked before). */
static uint32_t next_cp(const char *s, size_t n, size_t *i) {
    return tg__utf8_decode_lax(s, n, i);
}

/* Whether a and b (well-formed) are equal once each code point is
 * lower-cased: what a user would call the same tag. */
static bool same_lower(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b), i = 0, j = 0;
    while (i < na && j < nb)
        if (utf8proc_tolower((utf8proc_int32_t)next_cp(a, na, &i)) !=
            utf8proc_tolower((utf8proc_int32_t)next_cp(b, nb, &j)))
            return false;
    return i == na && j == nb;
}

static void free_all(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3)
        return 0;
    const size_t max = (data[0] & 63) == 63 ? SIZE_MAX : (size_t)(data[0] & 63);
    const unsigned shown = data[1];
    const size_t n_known = data[2] & 7;
    const bool has_title = !(data[2] & 8);
    const char *p = (const char *)data + 3, *end = (const char *)data + size;

    /* title and tags: NUL-terminated parts, each its own allocation */
    char *title = NULL, *known[MAX_KNOWN] = {0};
    for (size_t part = 0; part <= n_known; part++) {
        const char *z = memchr(p, 0, (size_t)(end - p));
        size_t len = z ? (size_t)(z - p) : (size_t)(end - p);
        char *s = malloc(len + 1);
        check(s != NULL, "malloc", NULL);
        memcpy(s, p, len);
        s[len] = '\0';
        if (part == 0)
            title = s;
        else
            known[part - 1] = s;
        p += len + (z != NULL);
    }
    const size_t text_len = (size_t)(end - p);
    const size_t n = text_len * shown / 255;
    char *text = malloc(n ? n : 1); /* exactly n bytes, no terminator */
    check(text != NULL, "malloc", NULL);
    memcpy(text, p, n);

    size_t got = 0;
    char **c = tg__key_phrases(has_title ? title : NULL, text, n, (const char *const *)known, n_known, max, &got);
    check(c != NULL, "NULL without running out of memory", NULL);
    check(got <= max, "more candidates than max", NULL);
    bool past_known = false;
    for (size_t i = 0; i < got; i++) {
        const char *s = c[i];
        check(s != NULL, "a NULL candidate", NULL);
        size_t len = strlen(s);
        check(len > 0, "an empty candidate", s);
        check(len <= 30, "a candidate over 30 bytes", s);
        check(tg__utf8_valid(s, len), "a candidate that is not well-formed UTF-8", s);
        bool is_known = false;
        for (size_t k = 0; k < n_known && !is_known; k++)
            is_known = !strcmp(s, known[k]);
        if (is_known) {
            check(!past_known, "a known tag after the article's own candidates", s);
        } else {
            past_known = true;
            /* words of letters, digits and marks, lower-cased, one space
             * between two of them at most */
            size_t spaces = 0, j = 0;
            check(s[0] != ' ' && s[len - 1] != ' ', "a candidate with an outer space", s);
            while (j < len) {
                uint32_t cp = next_cp(s, len, &j);
                if (cp == ' ') {
                    spaces++;
                    continue;
                }
                check(tg__is_word_char(cp), "a candidate with a character that is not of a word", s);
                check((uint32_t)utf8proc_tolower((utf8proc_int32_t)cp) == cp, "a candidate not lower-case", s);
            }
            check(spaces <= 1, "a candidate of more than two words", s);
        }
        for (size_t j = 0; j < i; j++)
            check(!same_lower(s, c[j]), "the same candidate twice", s);
    }

    /* a larger max only appends */
    if (max < 1000) {
        size_t got2 = 0;
        char **c2 = tg__key_phrases(has_title ? title : NULL, text, n, (const char *const *)known, n_known, max + 9,
                                    &got2);
        check(c2 != NULL, "NULL without running out of memory", NULL);
        check(got2 >= got, "a larger max gave fewer candidates", NULL);
        for (size_t i = 0; i < got; i++)
            check(!strcmp(c[i], c2[i]), "a larger max changed the first candidates", c[i]);
        free_all(c2, got2);
    }
    free_all(c, got);
    free(text);
    free(title);
    for (size_t k = 0; k < n_known; k++)
        free(known[k]);
    return 0;
}
