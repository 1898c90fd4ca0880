/*
 * grounding.c — how much of a model's summary the article supports, and
 * the summary cut to its supported start.
 *
 * Why: a small pretrained model (Gemma 3 270M) continues the article's
 * lead well, then drifts: it invents ("It is available for free on
 * Movable Type.") or, kept from looping by the no-repeat rule, writes
 * symbols and zero-width spaces.  The sentence whose words are mostly not
 * the article's is where the drift starts, so the summary keeps the
 * sentences before it.  Words are compared case-folded (utf8proc), whole
 * (a CJK character is a word of its own: those scripts have no spaces).
 */
#include "read/read.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

bool tg__is_cjk_word(uint32_t c) {
    return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF);
}

static bool is_word_cp(utf8proc_int32_t c) {
    utf8proc_category_t k = utf8proc_category(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_MN && k <= UTF8PROC_CATEGORY_ME) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

/* White space or an invisible format character (zero-width space, BOM,
 * soft hyphen): all become one space. */
static bool is_blank_cp(utf8proc_int32_t c) {
    if (c == ' ' || (c >= '\t' && c <= '\r'))
        return true;
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL || k == UTF8PROC_CATEGORY_ZP ||
           k == UTF8PROC_CATEGORY_CF;
}

static bool is_sentence_end(utf8proc_int32_t c) {
    return c == '.' || c == '!' || c == '?' || c == 0x2026 || c == 0x3002 || c == 0xFF01 || c == 0xFF1F;
}

/* The code point at s[i] (n bytes) and its length; -1 and 1 on a bad byte. */
static utf8proc_int32_t cp_at(const char *s, size_t i, size_t n, size_t *len) {
    utf8proc_int32_t c = -1;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &c);
    *len = k > 0 ? (size_t)k : 1;
    return k > 0 ? c : -1;
}

/* The code point that ends just before byte i of s (-1 at the start). */
static utf8proc_int32_t cp_before(const char *s, size_t i) {
    if (i == 0)
        return -1;
    size_t j = i - 1;
    while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80)
        j--;
    size_t len;
    return cp_at(s, j, i, &len);
}

/* Case-folded, composed copy of n bytes of s (malloc'd; NULL when s is not
 * UTF-8 or out of memory). */
static char *fold(const char *s, size_t n) {
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &out,
                                      UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    if (r < 0) {
        free(out);
        return NULL;
    }
    return (char *)out;
}

/* Whether the folded article holds the folded word w whole (a CJK
 * character anywhere). */
static bool article_has(const char *art, size_t art_n, const char *w, size_t wn, bool cjk) {
    for (const char *p = art; (p = memmem(p, art_n - (size_t)(p - art), w, wn)) != NULL; p++) {
        if (cjk)
            return true;
        size_t at = (size_t)(p - art), len;
        utf8proc_int32_t before = cp_before(art, at);
        utf8proc_int32_t after = at + wn < art_n ? cp_at(art, at + wn, art_n, &len) : -1;
        if (!(before >= 0 && is_word_cp(before)) && !(after >= 0 && is_word_cp(after)))
            return true;
    }
    return false;
}

/* Of the words in s[0, n), how many there are and how many the folded
 * article holds. */
static void count_words(const char *s, size_t n, const char *art, size_t art_n, size_t *words, size_t *found) {
    *words = *found = 0;
    for (size_t i = 0; i < n;) {
        size_t len;
        utf8proc_int32_t c = cp_at(s, i, n, &len);
        if (c < 0 || !is_word_cp(c)) {
            i += len;
            continue;
        }
        size_t e = i + len;
        bool cjk = c >= 0 && tg__is_cjk_word((uint32_t)c);
        while (!cjk && e < n) { /* a run of word characters, or one CJK character */
            size_t l2;
            utf8proc_int32_t d = cp_at(s, e, n, &l2);
            if (d < 0 || !is_word_cp(d) || tg__is_cjk_word((uint32_t)d))
                break;
            e += l2;
        }
        char *w = fold(s + i, e - i);
        (*words)++;
        *found += w && article_has(art, art_n, w, strlen(w), cjk);
        free(w);
        i = e;
    }
}

bool tg__is_initial(const char *s, size_t i) {
    return s[i] == '.' && i >= 1 && s[i - 1] >= 'A' && s[i - 1] <= 'Z' &&
           (i == 1 || !isalnum((unsigned char)s[i - 2]));
}

char *tg__grounded_summary(const char *summary, const char *article, size_t n, double min_share) {
    size_t sn = strlen(summary);
    /* 1. blanks of every kind become one space, none at the ends */
    tg__buf flat = {0};
    bool gap = false;
    for (size_t i = 0; i < sn;) {
        size_t len;
        utf8proc_int32_t c = cp_at(summary, i, sn, &len);
        if (c >= 0 && is_blank_cp(c)) {
            gap = flat.len > 0;
        } else {
            if (gap)
                tg__buf_append_u8(&flat, ' ');
            gap = false;
            tg__buf_append(&flat, summary + i, len);
        }
        i += len;
    }
    char *s = tg__buf_take(&flat);
    char *art = fold(article, n);
    if (!s || !art) { /* out of memory, or an article that is not UTF-8: nothing to weigh against */
        free(art);
        return s;
    }
    /* 2. the sentences, kept while their words are mostly the article's */
    size_t art_n = strlen(art), n_s = strlen(s), keep = 0;
    for (size_t start = 0; start < n_s;) {
        size_t end = start, len;
        while (end < n_s) { /* a sentence ends with its marks, before a space or the end */
            utf8proc_int32_t c = cp_at(s, end, n_s, &len);
            end += len;
            if (c >= 0 && is_sentence_end(c) && !tg__is_initial(s + start, end - len - start)) {
                utf8proc_int32_t mark = c, d;
                while (end < n_s && (d = cp_at(s, end, n_s, &len)) >= 0 && is_sentence_end(d)) {
                    mark = d;
                    end += len;
                }
                if (end == n_s || s[end] == ' ' || mark >= 0x3000) /* CJK marks need no space */
                    break;
            }
        }
        size_t words, found;
        count_words(s + start, end - start, art, art_n, &words, &found);
        if (!words || (double)found < min_share * (double)words)
            break;
        keep = end;
        start = end;
        while (start < n_s && s[start] == ' ')
            start++;
    }
    free(art);
    s[keep] = '\0';
    return s;
}
