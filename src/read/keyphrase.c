/*
 * keyphrase.c — the candidate tags of an article: the library's existing
 * tags that the article mentions, then its frequent content words and
 * two-word phrases (title and text, stop words left out), best first.
 *
 * Why: a small pretrained model asked for free-form tags copies the worked
 * example's ("transport", "cities") or repeats one word; offered as the
 * schema's enum, the candidates leave it the choice of which fit, and
 * nothing it can write is invented or copied from the example.
 *
 * Words are runs of letters and digits (utf8proc's categories, lower-cased);
 * CJK scripts have no spaces, so there each pair of adjacent characters is
 * a candidate instead (most Chinese words are two characters).
 */
#include "read/read.h"
#include "read/store.h"
#include "token/utf8.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Stop words of the languages the test pages use most (English, French,
 * German, Spanish, Italian; and Latin's commonest, for lorem ipsum).  Words
 * of one or two letters are never candidates alone, but may be half of a
 * phrase ("ai safety") unless listed here ("file by"). */
static const char *const STOP[] = {
    "a", "an", "as", "at", "be", "by", "do", "he", "if", "in", "is", "it", "me", "my", "no", "of", "on", "or", "so",
    "to", "up", "us", "we", "am", "de", "la", "le", "en", "et", "el", "un", "il", "da", "di", "du", "lo", "se",
    "si", "es", "al", "ut", "ex", "ea", "id", "ad", "im", "zu", "er", "ne", "au", "ce", "qu", "sa", "ma", "ou",
    "about", "above", "after", "again", "against", "all", "also", "although", "always", "among", "and", "another",
    "any", "are", "around", "because", "been", "before", "being", "below", "between", "both", "but", "can",
    "cannot", "could", "did", "does", "doing", "down", "during", "each", "either", "even", "ever", "every", "few",
    "first", "for", "from", "further", "get", "gets", "got", "had", "has", "have", "having", "her", "here", "hers",
    "him", "his", "how", "however", "into", "its", "itself", "just", "last", "least", "less", "like", "made",
    "make", "many", "may", "might", "more", "most", "much", "must", "never", "new", "next", "nor", "not", "now",
    "off", "often", "once", "one", "only", "other", "others", "our", "ours", "out", "over", "own", "per", "said",
    "same", "say", "says", "see", "seen", "she", "should", "since", "some", "still", "such", "than", "that", "the",
    "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "though", "three", "through",
    "too", "two", "under", "until", "upon", "use", "used", "using", "very", "via", "was", "way", "well", "were",
    "what", "when", "where", "whether", "which", "while", "who", "whom", "whose", "why", "will", "with", "within",
    "without", "would", "yet", "you", "your", "yours", "year", "years", "time", "times", "back", "know", "going",
    "want", "take", "come", "things", "thing", "really", "something", "anything", "nothing", "lot", "let", "put",
    "yes", "there's", "don", "didn", "doesn", "isn", "wasn", "aren", "won", "http", "https", "www", "com", "html",
    /* French */
    "les", "des", "une", "dans", "pour", "par", "sur", "avec", "qui", "que", "est", "sont", "pas", "plus", "aux",
    "son", "ses", "leur", "leurs", "cette", "ces", "mais", "ont", "été", "comme", "tout", "tous", "elle", "nous",
    "vous", "ils", "elles", "aussi", "être", "fait", "entre", "sans", "sous", "dont", "très", "lors", "alors",
    /* German */
    "der", "die", "das", "und", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "ist", "sind",
    "nicht", "mit", "auf", "für", "von", "sich", "auch", "wie", "bei", "aus", "oder", "nach", "noch", "wird",
    "werden", "wurde", "hat", "haben", "kann", "über", "zum", "zur", "nur", "aber", "wenn", "dass", "sie", "ich",
    /* Spanish, Italian, Portuguese */
    "los", "las", "del", "por", "con", "para", "una", "como", "más", "pero", "sus", "este", "esta", "están",
    "entre", "sobre", "también", "fue", "han", "que", "della", "delle", "degli", "nel", "nella", "che", "sono",
    "per", "non", "gli", "dos", "das", "uma", "não", "com", "mais",
};

enum { FILL = 10 };

static bool stop_word(const char *w, size_t n) {
    for (size_t i = 0; i < sizeof STOP / sizeof *STOP; i++)
        if (strlen(STOP[i]) == n && !memcmp(STOP[i], w, n))
            return true;
    return false;
}

static bool is_cjk(uint32_t c) {
    return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF) ||
           (c >= 0xF900 && c <= 0xFAFF);
}

bool tg__is_word_char(uint32_t c) {
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ND:
        return true;
    default:
        return false;
    }
}

/* One word of the article, lower-cased, and whether a sentence or line
 * ended before it (a two-word phrase never spans one). */
typedef struct {
    char *s;
    size_t n;
    bool cjk, brk, title, stop, digits;
} word;

typedef struct {
    word *v;
    size_t n, cap;
} words;

static bool push(words *ws, const char *s, size_t n, bool cjk, bool brk, bool title) {
    if (ws->n == ws->cap) {
        size_t cap = ws->cap ? ws->cap * 2 : 256;
        word *v = tg__realloc(ws->v, cap * sizeof *v);
        if (!v)
            return false;
        ws->v = v;
        ws->cap = cap;
    }
    word *w = &ws->v[ws->n++];
    *w = (word){.s = tg__strndup(s, n), .n = n, .cjk = cjk, .brk = brk, .title = title};
    if (!w->s)
        return false;
    w->digits = true;
    for (size_t i = 0; i < n; i++)
        w->digits &= s[i] >= '0' && s[i] <= '9';
    w->stop = !cjk && stop_word(s, n);
    return true;
}

/* Splits n bytes of s into words (lower-cased). */
static bool split(words *ws, const char *s, size_t n, bool title) {
    tg__buf cur = {0};
    bool brk = true, ok = true;
    size_t i = 0;
    while (i < n && ok) {
        uint32_t c = tg__utf8_decode_lax(s, n, &i);
        /* the CJK blocks also hold punctuation (U+30FB ・) and symbols
         * (U+4DC0 ䷀), which are no more a word there than elsewhere */
        if (is_cjk(c) && tg__is_word_char(c)) {
            if (cur.len)
                ok = push(ws, (const char *)cur.data, cur.len, false, brk, title), brk = false;
            cur.len = 0;
            /* re-encoded, not copied: the lax decoder also reads an
             * overlong form (F0 84 80 80 for U+4000), which must not reach
             * a candidate */
            char enc[4];
            ok = ok && push(ws, enc, tg__utf8_encode(c, enc), true, brk, title);
            brk = false;
        } else if (tg__is_word_char(c)) {
            char enc[4];
            uint32_t lc = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
            ok = tg__buf_append(&cur, enc, tg__utf8_encode(lc, enc));
        } else {
            if (cur.len)
                ok = push(ws, (const char *)cur.data, cur.len, false, brk, title), brk = false;
            cur.len = 0;
            /* a phrase runs over spaces, hyphens and apostrophes only */
            if (c != ' ' && c != '-' && c != '\'' && c != 0x2019)
                brk = true;
        }
    }
    if (ok && cur.len)
        ok = push(ws, (const char *)cur.data, cur.len, false, brk, title);
    tg__buf_free(&cur);
    return ok;
}

typedef struct {
    char *s;
    double score;
    size_t first; /* position of the first occurrence: ties go to the earlier */
} cand;

typedef struct {
    cand *v;
    size_t n, cap;
} cands;

static bool count(cands *cs, const char *s, size_t n, double w, size_t pos) {
    for (size_t i = 0; i < cs->n; i++)
        if (strlen(cs->v[i].s) == n && !memcmp(cs->v[i].s, s, n)) {
            cs->v[i].score += w;
            return true;
        }
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 128;
        cand *v = tg__realloc(cs->v, cap * sizeof *v);
        if (!v)
            return false;
        cs->v = v;
        cs->cap = cap;
    }
    cs->v[cs->n] = (cand){.s = tg__strndup(s, n), .score = w, .first = pos};
    return cs->v[cs->n++].s != NULL;
}

static int by_score(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Whether two well-formed tags are the same once each character is
 * lower-cased ("École" and "école": the library lower-cases ASCII only). */
static bool same_tag(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b), i = 0, j = 0;
    while (i < na && j < nb)
        if (utf8proc_tolower((utf8proc_int32_t)tg__utf8_decode_lax(a, na, &i)) !=
            utf8proc_tolower((utf8proc_int32_t)tg__utf8_decode_lax(b, nb, &j)))
            return false;
    return i == na && j == nb;
}

static bool taken(char *const *out, size_t k, const char *s) {
    for (size_t j = 0; j < k; j++)
        if (same_tag(out[j], s))
            return true;
    return false;
}

/* Whether the lower-cased article words hold tag as a run of words. */
static bool mentions(const words *ws, const char *tag) {
    words t = {0};
    bool found = false;
    if (split(&t, tag, strlen(tag), false) && t.n) {
        for (size_t i = 0; i + t.n <= ws->n && !found; i++) {
            size_t k = 0;
            while (k < t.n && ws->v[i + k].n == t.v[k].n && !memcmp(ws->v[i + k].s, t.v[k].s, t.v[k].n))
                k++;
            found = k == t.n;
        }
    }
    for (size_t i = 0; i < t.n; i++)
        free(t.v[i].s);
    free(t.v);
    return found;
}

char **tg__key_phrases(const char *title, const char *text, size_t n, const char *const *known, size_t n_known,
                       size_t max, size_t *out_n) {
    *out_n = 0;
    words ws = {0};
    cands cs = {0};
    char **out = NULL;
    bool ok = split(&ws, title ? title : "", title ? strlen(title) : 0, true) && split(&ws, text, n, false);
    /* A phrase of the title weighs as two mentions (the title names the
     * subject), a word of it as one: a lone title word becomes a candidate
     * only if the text uses it too — titles carry filler ("test",
     * "update", "review") that tags nothing. */
    for (size_t i = 0; ok && i < ws.n; i++) {
        word *a = &ws.v[i];
        if (!a->cjk && !a->stop && !a->digits && a->n >= 3 && a->n <= 30)
            ok = count(&cs, a->s, a->n, 1, i);
        word *b = i + 1 < ws.n ? &ws.v[i + 1] : NULL;
        if (!ok || !b || b->brk || a->title != b->title || a->cjk != b->cjk)
            continue;
        char pair[64];
        if (a->cjk) { /* two CJK characters */
            if (a->n + b->n < sizeof pair) {
                memcpy(pair, a->s, a->n);
                memcpy(pair + a->n, b->s, b->n);
                ok = count(&cs, pair, a->n + b->n, a->title ? 2 : 1, i);
            }
        } else if (!a->stop && !b->stop && !a->digits && a->n >= 2 && b->n >= 2 && a->n + b->n + 1 <= 30) {
            memcpy(pair, a->s, a->n);
            pair[a->n] = ' ';
            memcpy(pair + a->n + 1, b->s, b->n);
            /* a phrase is worth more than its words: it says more */
            ok = count(&cs, pair, a->n + b->n + 1, a->title ? 2 : 1.5, i);
        }
    }
    size_t k = 0;
    /* sized by what can be offered, not by max (which may be SIZE_MAX) */
    if (max > n_known + cs.n)
        max = n_known + cs.n;
    if (ok)
        ok = (out = tg__calloc(max + 1, sizeof *out)) != NULL;
    /* The owner's tags that the article mentions come first, as the
     * library spells them, each once; one that is not well-formed UTF-8
     * could not be offered in a JSON schema. */
    for (size_t i = 0; ok && i < n_known && k < max; i++) {
        const char *t = known[i];
        if (t && *t && strlen(t) <= 30 && tg__utf8_valid(t, strlen(t)) && !taken(out, k, t) && mentions(&ws, t))
            ok = (out[k++] = tg__strndup(t, strlen(t))) != NULL;
    }
    if (ok && cs.n)
        qsort(cs.v, cs.n, sizeof *cs.v, by_score);
    /* A word or phrase said once is hardly a topic: those fill in only
     * when a short article offers fewer than FILL others (the model still
     * needs a choice, and the free-form schema lets it write junk). */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; ok && i < cs.n && k < max && (pass ? k < FILL : true); i++) {
            if (!cs.v[i].s || (pass == 0) != (cs.v[i].score >= 2))
                continue;
            if (!taken(out, k, cs.v[i].s)) {
                out[k++] = cs.v[i].s;
                cs.v[i].s = NULL;
            }
        }
    for (size_t i = 0; i < ws.n; i++)
        free(ws.v[i].s);
    free(ws.v);
    for (size_t i = 0; i < cs.n; i++)
        free(cs.v[i].s);
    free(cs.v);
    if (!ok) {
        for (size_t i = 0; out && i < k; i++)
            free(out[i]);
        free(out);
        tg__fail(TG_ERR_NOMEM, "enrich: out of memory");
        return NULL;
    }
    *out_n = k;
    return out;
}
