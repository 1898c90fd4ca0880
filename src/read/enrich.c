/*
 * enrich.c — summaries and tags of articles from a language model (any
 * tg_llm: the embedded engine or an OpenAI-compatible endpoint), and
 * storing them.
 *
 * The reply is asked for as JSON under a JSON Schema, so a constrained
 * decoder — the embedded engine, tinglado serve — always returns something
 * that parses; it is still validated here (a summary, 3-7 tags, no
 * schema-valid junk) and anything else is an error that leaves the item as
 * it was.  The owner's existing tags are offered first so the library's
 * vocabulary stays small.  Long articles are cut to a byte budget (the
 * start of an article carries its point).  One worked example shows a
 * pretrained model the pattern to continue.
 */
#include "read/store.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void tg_enrichment_clear(tg_enrichment *e) {
    if (!e)
        return;
    free(e->summary);
    for (size_t i = 0; i < e->n_tags; i++)
        free(e->tags[i]);
    free(e->tags);
    memset(e, 0, sizeof *e);
}

/* The text cut to at most max bytes at a UTF-8 boundary, preferring a
 * paragraph end in the last quarter. */
static size_t cut(const char *text, size_t max) {
    size_t n = strlen(text);
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)text[k] & 0xC0) == 0x80)
        k--;
    for (size_t j = k; j > max * 3 / 4; j--)
        if (text[j] == '\n' && text[j - 1] == '\n')
            return j - 1;
    return k;
}

/* Case-blind search in the first n bytes of text. */
static bool memmem_ci(const char *text, size_t n, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = 0; m && i + m <= n; i++)
        if (!strncasecmp(text + i, needle, m))
            return true;
    return false;
}

static size_t words(const char *s);

/* A summary has at least this many words (CJK characters one each). */
enum { MIN_SUMMARY_WORDS = 6 };
/* A summary's sentence is the article's when at least this share of its
 * words are (grounding.c); the first that is not ends the summary. */
static const double MIN_GROUNDED = 0.5;

/* The text's words joined by single spaces, malloc'd. */
static char *one_line(const char *text) {
    tg__buf b = {0};
    for (const char *p = text; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        const char *e = p;
        while (*e && !isspace((unsigned char)*e))
            e++;
        if (e > p)
            tg__buf_printf(&b, "%s%.*s", b.len ? " " : "", (int)(e - p), p);
        p = e;
    }
    return tg__buf_take(&b);
}

/* Candidate tags offered to the model: fewer than 3 cannot fill the array
 * without repeats (then the free-form schema); 40 keep the grammar small. */
enum { MIN_CANDIDATES = 5, MAX_CANDIDATES = 40 };
/* The embedded engine never repeats a 4-gram of its reply (llm_engine.c):
 * a 270M greedy model otherwise loops until the token budget ends. */
enum { NO_REPEAT = 4 };
static size_t cjk_words(const char *s);

/* The reply's schema, malloc'd (NULL when out of memory): a summary of at
 * most max_summary characters (a bound keeps a greedy base model from
 * running a string past the token budget) and 3-7 tags, each one of the
 * n candidates (an enum) when n > 0, else any short string (for an
 * endpoint, and an article too short to offer candidates). */
static char *schema_for(char *const *cand, size_t n, int max_summary) {
    json_t *item = NULL;
    if (n) {
        json_t *e = json_array();
        for (size_t i = 0; e && i < n; i++)
            json_array_append_new(e, json_string(cand[i]));
        item = json_pack("{s:o}", "enum", e);
    } else {
        item = json_pack("{s:s, s:i}", "type", "string", "maxLength", 30);
    }
    json_t *sc = json_pack("{s:s, s:{s:{s:s, s:i}, s:{s:s, s:o, s:i, s:i}}, s:[s,s], s:b}", "type", "object",
                           "properties", "summary", "type", "string", "maxLength", max_summary, "tags", "type",
                           "array", "items", item, "minItems", 3, "maxItems", 7, "required", "summary", "tags",
                           "additionalProperties", 0);
    char *out = sc ? json_dumps(sc, JSON_COMPACT) : NULL;
    json_decref(sc);
    return out;
}

static void free_list(char **v, size_t n) {
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* Whether a line ends a sentence somewhere: . ! ? before a space or the
 * line's end (not a decimal point: "42.066°S 174.067°E" is no sentence;
 * not an initial: "by Bradley M. Kuhn" is a byline), or a CJK full stop,
 * exclamation or question mark. */
static bool ends_a_sentence(const char *line) {
    for (const char *p = line; (p = strpbrk(p, ".!?")) != NULL; p++)
        if ((!p[1] || isspace((unsigned char)p[1])) && !tg__is_initial(line, (size_t)(p - line)))
            return true;
    return strstr(line, "\xe3\x80\x82") || strstr(line, "\xef\xbc\x81") || strstr(line, "\xef\xbc\x9f");
}

/* A line of at least 8 words with a sentence mark: not a date line or a
 * heading. */
static bool is_real_paragraph(const char *l, size_t len) {
    char *line = tg__strndup(l, len);
    bool real = line && words(line) >= 8 && ends_a_sentence(line);
    free(line);
    return real;
}

/* The first real paragraph that starts in text's first limit bytes, or NULL. */
static const char *first_real_paragraph(const char *text, size_t limit) {
    for (const char *l = text; *l && (size_t)(l - text) < limit;) {
        const char *e = strchr(l, '\n');
        if (is_real_paragraph(l, e ? (size_t)(e - l) : strlen(l)))
            return l;
        if (!e)
            break;
        l = e + 1;
    }
    return NULL;
}

/* How the reply starts: the first four words of the article's first real
 * paragraph — a line of at least 8 words with a sentence mark, not a date
 * line or a heading (the model continues whatever it is started with, and
 * a summary that is a date or a heading is no summary) — else of the first
 * line of 3+ words that is not the title (a list's first item), else of
 * the text.
 * A real paragraph is looked for in all n bytes the model is shown (an
 * encyclopedia's info box can fill the first half), starting 256 bytes
 * before their end at the latest, so that the model can go on from there;
 * the fallback line in the first half.  At most 48 bytes: a CJK paragraph
 * has no spaces to stop at. */
static const char *lead_start(const char *text, size_t n, const char *title) {
    const char *real = first_real_paragraph(text, n > 512 ? n - 256 : n / 2);
    if (real)
        return real;
    /* else the first line of 3+ words that is not the title */
    for (const char *l = text; *l && (size_t)(l - text) < n / 2;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        char *line = tg__strndup(l, len);
        bool other = line && words(line) >= 3 && !(title && !strcasecmp(line, title));
        free(line);
        if (other)
            return l;
        if (!e)
            break;
        l = e + 1;
    }
    return text;
}

static bool reply_prefix(tg__buf *pre, const char *text, size_t shown, const char *title) {
    tg__buf_puts(pre, "{\"summary\": \"");
    const char *w = lead_start(text, shown, title), *end = w;
    for (int k = 0; k < 4 && *end; k++) {
        while (*end && isspace((unsigned char)*end))
            end++;
        while (*end && !isspace((unsigned char)*end))
            end++;
    }
    while (*w && isspace((unsigned char)*w))
        w++;
    size_t n = (size_t)(end - w);
    if (n > 48) {
        n = 48;
        while (n && ((unsigned char)w[n] & 0xC0) == 0x80)
            n--;
    }
    /* inner runs of white space become one space, as the model writes them */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !isspace((unsigned char)w[j]))
            j++;
        tg__json_escape(pre, w + i, j - i);
        while (j < n && isspace((unsigned char)w[j]))
            j++;
        if (j < n)
            tg__buf_puts(pre, " ");
        i = j;
    }
    return !pre->failed;
}

static const tg_llm_example EXAMPLE = {
    "Title: City buses switch to batteries\n\n"
    "The city of Lund replaced its last diesel buses with battery-electric ones this spring. The transport office "
    "says running costs fell by a third, mostly because electricity is cheaper than diesel and electric motors need "
    "less maintenance. Drivers report quieter rides, and the buses charge overnight at the depot.",
    "{\"summary\": \"Lund replaced its last diesel buses with battery-electric ones this spring. Running costs fell by "
    "a third because electricity is cheaper than diesel and the motors need less maintenance.\", \"tags\": "
    "[\"transport\", \"electric vehicles\", \"cities\"]}"};

/* A tag of the worked example that the article never mentions: a small
 * pretrained model repeats the example's tags when it has nothing better
 * (seen with Gemma 3 270M), which would tag every article "transport". */
static bool copied_tag(const char *tag, const char *title, const char *text, size_t n) {
    static const char *const example_tags[] = {"transport", "electric vehicles", "cities", "lund"};
    bool from_example = false;
    for (size_t i = 0; i < sizeof example_tags / sizeof *example_tags; i++)
        from_example |= !strcasecmp(tag, example_tags[i]);
    return from_example && !(title && strcasestr(title, tag)) && !memmem_ci(text, n, tag);
}

/* Drops sentences that repeat an earlier one word for word: a small greedy
 * model falls into loops ("A. B. A. B. A …") until the length limit. */
static void drop_repeats(char *s) {
    size_t w = 0, r = 0, n = strlen(s);
    while (r < n) {
        size_t e = r;
        while (e < n && !(strchr(".!?", s[e]) && (e + 1 == n || s[e + 1] == ' ')))
            e++;
        if (e < n)
            e++; /* the sentence with its mark */
        size_t len = e - r;
        bool seen = false;
        for (size_t p = 0; p + len <= w && !seen; p++)
            seen = (p == 0 || s[p - 1] == ' ') && !memcmp(s + p, s + r, len) && len > 1;
        if (!seen) {
            memmove(s + w, s + r, len);
            w += len;
        }
        r = e;
        while (r < n && s[r] == ' ')
            r++;
        if (!seen && r < n)
            s[w++] = ' ';
    }
    while (w && s[w - 1] == ' ')
        w--;
    s[w] = '\0';
}

/* The model's summary without repeated sentences, cut before it drifts
 * from the article (grounding.c); malloc'd, NULL when out of memory. */
static char *grounded(const char *summary, const char *text, size_t n, bool *cut) {
    char *s = tg__grounded_summary(summary, text, n, MIN_GROUNDED);
    *cut = s && words(s) < words(summary);
    if (s)
        drop_repeats(s);
    return s;
}

/* Adds a tag (lower-cased) unless the item has it already. */
static void add_tag(tg_enrichment *e, const char *s, size_t n) {
    char *t = tg__strndup(s, n);
    if (!t)
        return;
    for (char *c = t; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    for (size_t i = 0; i < e->n_tags; i++)
        if (!strcmp(e->tags[i], t)) {
            free(t);
            return;
        }
    e->tags[e->n_tags++] = t;
}

static bool title_stop(const char *w, size_t n) {
    static const char *const stop[] = {"about", "after", "also", "been", "does", "from", "have", "into", "more",
                                       "than", "that", "their", "them", "they", "this", "what", "when", "where",
                                       "which", "while", "will", "with", "your", "only", "over", "were"};
    for (size_t i = 0; i < sizeof stop / sizeof *stop; i++)
        if (strlen(stop[i]) == n && !strncasecmp(stop[i], w, n))
            return true;
    return false;
}

/* A CJK character (kana, ideographs, hangul): these scripts write no
 * spaces, so each counts as a word (a Chinese summary of 80 characters
 * is not "3 words"). */
static bool cjk_at(const char *p, size_t *len) {
    const unsigned char *u = (const unsigned char *)p;
    if ((u[0] & 0xF0) != 0xE0 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80)
        return false;
    uint32_t c = (uint32_t)(u[0] & 0x0F) << 12 | (uint32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3F);
    *len = 3;
    return tg__is_cjk_word(c);
}

static size_t cjk_words(const char *s) {
    size_t n = 0, cl;
    for (const char *p = s; *p;) {
        bool c = cjk_at(p, &cl);
        n += c;
        p += c ? cl : 1;
    }
    return n;
}

/* Words: runs of non-space bytes, with each CJK character one word on its
 * own (and a boundary between the runs around it). */
static size_t words(const char *s) {
    size_t n = 0, cl;
    bool in = false;
    for (const char *p = s; *p;) {
        if (cjk_at(p, &cl)) {
            n++;
            in = false;
            p += cl;
            continue;
        }
        bool space = isspace((unsigned char)*p);
        n += !space && !in;
        in = !space;
        p++;
    }
    return n;
}

/* Every tag has a letter (any non-ASCII byte counts: scripts without case). */
static bool tags_have_letters(const json_t *tags) {
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) {
        const char *v = json_string_value(t);
        bool letter = false;
        for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p && !letter; p++)
            letter = isalpha(*p) || *p >= 0x80;
        if (!letter)
            return false;
    }
    return true;
}

tg_status tg_enrich(tg_llm *llm, const char *title, const char *text, const char *const *known, size_t n_known,
                    int32_t max_chars, tg_enrichment *out) {
    memset(out, 0, sizeof *out);
    if (!llm || !text)
        return tg__fail(TG_ERR_ARG, "enrich: need a language model and a text");
    const size_t n_words = words(text);
    if (!n_words)
        return tg__fail(TG_ERR_FORMAT, "enrich: the article has no text to summarise");
    /* An info box or a navigation list before the article's first real
     * paragraph can fill the bytes the model is shown (Wikipedia's New
     * Zealand page: 1,755 bytes of info box, more than the engine's 1,500):
     * it is shown the article from that paragraph on. */
    const size_t max = max_chars > 0 ? (size_t)max_chars : 6000;
    const char *first = first_real_paragraph(text, 4 * max);
    const char *whole = text;
    if (first && (size_t)(first - text) > max / 4)
        text = first;
    size_t n = cut(text, max);
    /* The embedded engine's tags are chosen from the article's candidates
     * (keyphrase.c) when it offers enough: the model picks, and can neither
     * copy the example's nor invent junk.  The library's tags that the
     * article mentions come first among them. */
    size_t n_cand = 0;
    char **cand = tg__key_phrases(title, text, n, known, n_known, MAX_CANDIDATES, &n_cand);
    size_t n_cand_use = n_cand;
    /* An endpoint's instruction-tuned model writes its own tags (a strict
     * endpoint would hold it to the list). */
    if (!cand || n_cand < MIN_CANDIDATES || !tg_llm_is_embedded(llm))
        n_cand_use = 0;
    tg__buf sys = {0}, user = {0};
    tg__buf_puts(&sys, "You summarise articles for a personal reading list. Reply with JSON: \"summary\" is 2 to 4 "
                       "plain sentences saying what the article says (not what it is about), in the article's "
                       "language; \"tags\" are 3 to 7 short lower-case topic tags.");
    /* The library's tags are listed only for free-form tags: under the
     * enum a tag the article never mentions cannot be chosen, and the list
     * (which grows with every article) would make each reply depend on
     * what was enriched before and keep the prompt from the KV cache. */
    if (n_known && !n_cand_use) {
        tg__buf_puts(&sys, " Prefer these existing tags when they fit: ");
        for (size_t i = 0; i < n_known && i < 200; i++)
            tg__buf_printf(&sys, "%s%s", i ? ", " : "", known[i]);
        tg__buf_puts(&sys, ".");
    }
    tg__buf_printf(&user, "Title: %s\n\n", title ? title : "(none)");
    tg__buf_append(&user, text, n);
    if (n < strlen(text))
        tg__buf_puts(&user, "\n\n[… the rest of the article is cut]");
    /* The summary starts with the words of the article's lead: a small
     * pretrained model otherwise copies the worked example's summary (Gemma
     * 3 270M did for 2 of 3 pages); anchored in the article, it continues
     * from it. */
    tg__buf pre = {0};
    reply_prefix(&pre, text, n, title);
    /* 500 characters are 2-4 sentences of English in about 120 tokens,
     * but 500 CJK characters are over 400 tokens: 200 say as much */
    char *shown = tg__strndup(text, n);
    bool cjk = shown && cjk_words(shown) * 2 > words(shown);
    free(shown);
    const int max_summary = cjk ? 200 : 500;
    char *schema = cand ? schema_for(cand, n_cand_use, max_summary) : NULL;
    /* The embedded engine's reply is bounded by its grammar (the summary's
     * length, 7 tags from the list, short white space): a budget above that
     * bound lets every reply finish, even one that drifts into a token per
     * character; a drifted end is cut off below (tg__grounded_summary). */
    const int32_t budget = tg_llm_is_embedded(llm) ? (cjk ? 2 : 1) * max_summary + 7 * 16 + 64 : 0;
    char *s_sys = tg__buf_take(&sys), *s_user = tg__buf_take(&user), *s_pre = tg__buf_take(&pre);
    tg_status st = TG_OK;
    char *content = NULL;
    if (!s_sys || !s_user || !s_pre || !schema)
        st = tg__fail(TG_ERR_NOMEM, "enrich: out of memory");
    else
        st = tg_llm_complete_json(llm, &(tg_llm_request){.instructions = s_sys, .examples = &EXAMPLE, .n_examples = 1,
                                                          .input = s_user, .schema = schema, .max_tokens = budget,
                                                          .reply_prefix = s_pre, .no_repeat_ngram = NO_REPEAT},
                                  &content);
    free(s_sys);
    free(s_user);
    free(s_pre);
    free(schema);
    if (st) {
        free_list(cand, n_cand);
        return st;
    }
    const char *who = tg_llm_name(llm);
    json_error_t err;
    json_t *c = json_loads(content, 0, &err);
    const char *summary = json_string_value(json_object_get(c, "summary"));
    json_t *tags = json_object_get(c, "tags");
    /* An article shorter than any summary ("abc def ghi") is its own
     * summary: the model still chooses its tags. */
    bool tiny = n_words < MIN_SUMMARY_WORDS;
    if (!c || !summary || (!*summary && !tiny) || !json_is_array(tags)) {
        st = tg__fail(TG_ERR_FORMAT, "%s: the reply is not {\"summary\", \"tags\"} JSON: %.120s", who, content);
    } else if (json_array_size(tags) < 3 || json_array_size(tags) > 7) {
        st = tg__fail(TG_ERR_FORMAT, "%s: %zu tags in the reply (want 3 to 7)", who, json_array_size(tags));
    } else if ((!tiny && words(summary) < MIN_SUMMARY_WORDS) || !tags_have_letters(tags)) {
        /* schema-valid but empty: a base model fills a constrained reply with "1", "2" … */
        st = tg__fail(TG_ERR_FORMAT, "%s: the reply is not a usable summary and tags: %.120s", who, content);
    } else if (!(out->summary = tiny ? one_line(whole) : grounded(summary, text, n, &out->cut))) {
        st = TG_ERR_NOMEM;
    } else if (!tiny && words(out->summary) < MIN_SUMMARY_WORDS) {
        st = tg__fail(TG_ERR_FORMAT, "%s: the summary is not drawn from the article: %.160s", who, summary);
    } else {
        size_t i;
        json_t *t;
        out->tags = tg__calloc(json_array_size(tags) + 3, sizeof *out->tags);
        json_array_foreach(tags, i, t) {
            const char *v = json_string_value(t);
            if (v && *v && out->tags && !copied_tag(v, title, text, n))
                add_tag(out, v, strlen(v));
        }
        out->n_chosen = out->n_tags;
        /* A small model may repeat one tag ("peanut" four times, "lorem
         * ipsum" three): the candidates it was offered, best first, make
         * up the three — then, with an endpoint's free-form tags or only
         * the example's copied, the title's own words (they name the
         * article's subject, and nothing is invented). */
        for (size_t k = 0; out->tags && k < n_cand_use && out->n_tags < 3; k++)
            add_tag(out, cand[k], strlen(cand[k]));
        const char *p = title ? title : "";
        while (out->tags && out->n_tags < 3 && *p) {
            while (*p && !isalnum((unsigned char)*p) && (unsigned char)*p < 0x80)
                p++;
            const char *e = p;
            while (*e && (isalnum((unsigned char)*e) || (unsigned char)*e >= 0x80))
                e++;
            if (e - p >= 4 && !title_stop(p, (size_t)(e - p)))
                add_tag(out, p, (size_t)(e - p));
            p = e;
        }
        if (!out->summary || !out->tags)
            st = TG_ERR_NOMEM;
        else if (out->n_tags < 3)
            st = tg__fail(TG_ERR_FORMAT, "%s: fewer than 3 usable tags in the reply: %.120s", who, content);
    }
    json_decref(c);
    free(content);
    free_list(cand, n_cand);
    if (st)
        tg_enrichment_clear(out);
    return st;
}

tg_status tg_library_set_summary_tags(tg_library *lib, int64_t id, const tg_enrichment *e) {
    if (!e || !e->summary)
        return tg__fail(TG_ERR_ARG, "an enrichment needs a summary");
    tg_status s = tg__lib_begin(lib);
    if (s)
        return s;
    sqlite3_stmt *u = tg__lib_prepare(lib, "UPDATE contents SET summary = ?2 WHERE item = ?1");
    sqlite3_stmt *st = tg__lib_prepare(lib, "UPDATE items SET state = 3, error = NULL, attempts = 0, updated = ?2 "
                                            "WHERE id = ?1");
    if (!u || !st)
        s = TG_ERR_IO;
    if (!s) {
        sqlite3_bind_int64(u, 1, id);
        sqlite3_bind_text(u, 2, e->summary, -1, SQLITE_STATIC);
        if (sqlite3_step(u) != SQLITE_DONE)
            s = tg__lib_sqlfail(lib, "storing a summary");
        else if (sqlite3_changes(lib->db) == 0)
            s = tg__fail(TG_ERR_ARG, "item %lld has no extracted text to enrich", (long long)id);
    }
    for (size_t i = 0; !s && i < e->n_tags; i++)
        s = tg__lib_add_tag_from(lib, id, e->tags[i], i < e->n_chosen ? TG_TAG_MODEL : TG_TAG_FILLED);
    if (!s) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, tg__read_now());
        if (sqlite3_step(st) != SQLITE_DONE)
            s = tg__lib_sqlfail(lib, "setting the state");
    }
    sqlite3_finalize(u);
    sqlite3_finalize(st);
    return tg__lib_end(lib, s);
}

tg_status tg_library_tags(tg_library *lib, char ***tags, size_t *n) {
    *tags = NULL;
    *n = 0;
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT t.name FROM tags t JOIN item_tags x ON x.tag = t.id GROUP BY t.id "
                                            "ORDER BY count(*) DESC, t.name");
    if (!st)
        return TG_ERR_IO;
    size_t cap = 0;
    tg_status s = TG_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **v = tg__realloc(*tags, cap * sizeof *v);
            if (!v) {
                s = TG_ERR_NOMEM;
                break;
            }
            *tags = v;
        }
        (*tags)[(*n)++] = tg__col_text(st, 0);
    }
    if (!s && rc != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "listing tags");
    sqlite3_finalize(st);
    return s;
}
