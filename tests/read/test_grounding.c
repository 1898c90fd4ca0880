/*
 * test_grounding.c — a model's summary cut before it drifts from the
 * article (src/read/grounding.c): sentences kept while half their words are
 * the article's, blanks and invisible characters made single spaces, words
 * compared case-folded and whole, CJK characters one by one, decimal
 * points not taken for sentence ends, hostile input.
 */
#include "read/read.h"
#include "../test.h"

static void grounded_is(const char *summary, const char *article, const char *want) {
    char *got = tg__grounded_summary(summary, article, strlen(article), 0.5);
    CHECK(got != NULL);
    if (got && strcmp(got, want))
        fprintf(stderr, "  summary %s\n  want    [%s]\n  got     [%s]\n", summary, want, got);
    CHECK(got && !strcmp(got, want));
    free(got);
}

static void test_drift(void) {
    const char *art = "Daring Fireball is written and produced by John Gruber.\n\nThe website is hosted by Joyent.";
    /* the third sentence is the model's invention: it and what follows go */
    grounded_is("Daring Fireball is written and produced by John Gruber. It is hosted by Joyent. It is available "
                "for free on download sites. Free open source apps.",
                art, "Daring Fireball is written and produced by John Gruber. It is hosted by Joyent.");
    /* a first sentence that is not the article's leaves nothing */
    grounded_is("Bananas grow quickly in warm tropical countries.", art, "");
    /* all of it the article's: kept whole */
    grounded_is("The website is hosted by Joyent.", art, "The website is hosted by Joyent.");
}

static void test_blanks_and_junk(void) {
    const char *art = "Séries, documentaires et programmes: les recommandations de Libération pour la semaine.";
    /* zero-width spaces, a BOM, no-break spaces and line breaks become one space; symbols end it */
    grounded_is("S\xc3\xa9ries,\xe2\x80\x8b documentaires\xc2\xa0\xc2\xa0" "et programmes.\n\xef\xbb\xbf ... "
                "\xc2\xa1 \xc2\xaf \xc2\xa9 \xc2\xa8",
                art, "Séries, documentaires et programmes.");
    /* case-folded: upper-case accented letters match the article's */
    grounded_is("SÉRIES ET PROGRAMMES DE LIBÉRATION.", art, "SÉRIES ET PROGRAMMES DE LIBÉRATION.");
    /* words are whole: "art" is not in "documentaires" nor "programme" in "programmes" */
    grounded_is("Art programme pour la.", art, "Art programme pour la.");
    grounded_is("Art programme cinéma théâtre.", art, "");
}

static void test_sentences(void) {
    const char *art = "Prices rose 42.5 percent in 2015 across the region, the office said.";
    /* a decimal point does not end a sentence, so the sentence is judged whole */
    grounded_is("Prices rose 42.5 percent in 2015. Unicorns dance on rainbows tonight.", art,
                "Prices rose 42.5 percent in 2015.");
    /* an initial's full stop ends no sentence: the byline is judged whole, with its name */
    grounded_is("Unicorns by X. Kuhn wrote for the office.", "X. Kuhn wrote for the office.",
                "Unicorns by X. Kuhn wrote for the office.");
    CHECK(tg__is_initial("Bradley M. Kuhn", 9) && !tg__is_initial("at 5 PM. Then", 7) &&
          !tg__is_initial("The end.", 7) && tg__is_initial("J. Doe", 1));
    /* marks run together end one sentence; a question too */
    grounded_is("Prices rose?! The office said. Unicorns dance.", art, "Prices rose?! The office said.");
}

static void test_cjk(void) {
    const char *art = "图为马素湘在澳大利亚悉尼游玩时的近影。她说留学改变了她。";
    grounded_is("图为马素湘在悉尼。她说留学改变了她。", art, "图为马素湘在悉尼。她说留学改变了她。");
    /* a CJK full stop ends a sentence without a space; the second is not the article's */
    grounded_is("马素湘在悉尼。火星太空飞船发射成功。", art, "马素湘在悉尼。");
}

static void test_hostile(void) {
    /* an article that is not UTF-8: nothing to weigh against, blanks still made single */
    const char bad[] = "caf\xe9 \xff\xfe broken";
    char *got = tg__grounded_summary("Anything  at\tall.", bad, sizeof bad - 1, 0.5);
    CHECK(got && !strcmp(got, "Anything at all."));
    free(got);
    /* only n bytes of the article count */
    got = tg__grounded_summary("Hidden words here.", "Shown text. Hidden words here.", 11, 0.5);
    CHECK(got && !strcmp(got, ""));
    free(got);
    grounded_is("", "Some article.", "");
    grounded_is("   \xe2\x80\x8b  ", "Some article.", "");
    /* a long summary of one repeated word, without sentence marks */
    char *big = malloc(200001);
    if (big) {
        for (size_t i = 0; i < 200000; i++)
            big[i] = "word "[i % 5];
        big[200000] = '\0';
        got = tg__grounded_summary(big, "a word here", 11, 0.5);
        CHECK(got && strlen(got) == 199999);
        free(got);
        free(big);
    }
}

int main(void) {
    RUN(test_drift);
    RUN(test_blanks_and_junk);
    RUN(test_sentences);
    RUN(test_cjk);
    RUN(test_hostile);
    return tg_test_finish("grounding");
}
