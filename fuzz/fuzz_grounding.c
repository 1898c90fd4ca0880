/*
 * fuzz_grounding.c — libFuzzer target for cutting a model's summary where
 * it leaves the article (src/read/grounding.c): the summary comes from a
 * model, the article from any web page, both any bytes.
 *
 * Input: byte 0 picks the share of words a sentence needs (0, 1/4, 1/2,
 * 1); the rest is the summary, a NUL, then the article.  Beyond "no
 * crash": the result is never longer than the summary, holds no two
 * spaces in a row and none at its ends, a share of 0 keeps every sentence
 * that has a word, and the result cut again is itself (cutting is
 * idempotent).
 */
#include "read/read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_grounding: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    static const double shares[4] = {0.0, 0.25, 0.5, 1.0};
    double share = shares[data[0] & 3];
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    const char *nul = memchr(rest, 0, n);
    size_t sn = nul ? (size_t)(nul - rest) : n;
    char *summary = malloc(sn + 1);
    if (!summary)
        return 0;
    memcpy(summary, rest, sn);
    summary[sn] = '\0';
    const char *article = nul ? nul + 1 : "";
    size_t an = nul ? n - sn - 1 : 0;
    char *art = malloc(an + 1); /* the article as a string of its own, so reads past an are caught */
    if (!art) {
        free(summary);
        return 0;
    }
    memcpy(art, article, an);
    art[an] = '\0';
    char *got = tg__grounded_summary(summary, art, an, share);
    check(got != NULL, "no result (not out of memory here)");
    size_t gn = strlen(got);
    check(gn <= sn, "longer than the summary");
    check(!gn || (got[0] != ' ' && got[gn - 1] != ' '), "a space at an end");
    check(!strstr(got, "  "), "two spaces in a row");
    char *again = tg__grounded_summary(got, art, an, share);
    check(again != NULL && !strcmp(again, got), "cutting the result again changed it");
    free(again);
    free(got);
    free(art);
    free(summary);
    return 0;
}
