/*
 * ask.c — questions answered from the library (`tinglado read ask`):
 * retrieve passages, give them numbered to a language model, and map the
 * numbers it cites back to items and passages.
 *
 * Retrieval is at passage level.  Two rankings of passages are fused by
 * reciprocal rank (score = sum of 1/(60 + rank), as hybrid search does):
 *   - meaning: the cosine between the question's vector and every stored
 *     chunk vector of the embedding model (brute force, as vector.c);
 *   - words: the items full-text search finds for any of the question's
 *     content words (FTS5, OR, BM25), their passages scored by the summed
 *     IDF of the question words each contains (a light stem: the first six
 *     bytes of a word, so "regrets" meets "regret").
 * No answer: with an embedder, when no passage reaches min_cosine (the
 * question is about something the library does not hold; the threshold is
 * measured in tests/read/test_read_ask.py and explained in docs/reading.md);
 * without one, when no passage holds at least half of the question's IDF
 * mass.  The model may also cite nothing, which also means "no answer".
 *
 * Never trusts the model's numbers: citations outside 1..k are dropped.
 */
#include "read/store.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RRF_K = 60, LEX_ITEMS = 20, VEC_DEPTH = 50, MAX_TERMS = 24, STEM = 6 };

static const char NO_ANSWER[] = "The library holds no answer to this question.";

tg_ask_params tg_ask_default_params(void) {
    return (tg_ask_params){.k = 4, .passage_words = 120, .min_cosine = 0.32f, .max_tokens = 100,
                           .max_answer_chars = 200};
}

void tg_answer_clear(tg_answer *a) {
    if (!a)
        return;
    free(a->text);
    free(a->citations);
    for (size_t i = 0; i < a->n_sources; i++) {
        free(a->sources[i].title);
        free(a->sources[i].url);
        free(a->sources[i].passage);
    }
    free(a->sources);
    memset(a, 0, sizeof *a);
}

/* ---- question words ------------------------------------------------------- */

static const char *const STOP[] = {
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "before", "but",
    "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "his", "how",
    "i", "if", "in", "into", "is", "it", "its", "many", "much", "of", "on", "one", "or", "our", "she", "should",
    "so", "than", "that", "the", "their", "them", "there", "they", "this", "to", "was", "we", "were", "what",
    "when", "where", "which", "who", "whom", "whose", "why", "will", "with", "would", "you", "your"};

static bool is_stop(const char *w) {
    for (size_t i = 0; i < sizeof STOP / sizeof *STOP; i++)
        if (!strcmp(STOP[i], w))
            return true;
    return false;
}

static bool word_byte(unsigned char c) { return isalnum(c) || c >= 0x80; }

typedef struct terms {
    char word[MAX_TERMS][64]; /* lower-case, as FTS5 matches it */
    double idf[MAX_TERMS];
    size_t n;
    double mass; /* sum of idf */
} terms;

/* The next word of s from *p (lower-cased ASCII) into w; false at the end. */
static bool next_word(const char *s, size_t len, size_t *p, char *w, size_t cap) {
    while (*p < len && !word_byte((unsigned char)s[*p]))
        (*p)++;
    if (*p >= len)
        return false;
    size_t n = 0;
    while (*p < len && word_byte((unsigned char)s[*p])) {
        if (n + 1 < cap)
            w[n++] = (char)tolower((unsigned char)s[*p]);
        (*p)++;
    }
    w[n] = '\0';
    return true;
}

static bool same_stem(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la < STEM || lb < STEM)
        return la == lb && !memcmp(a, b, la) ? true
               : (la >= 4 && lb >= 4 && TG_MIN(la, lb) + 2 >= TG_MAX(la, lb) && !memcmp(a, b, TG_MIN(la, lb)));
    return !memcmp(a, b, STEM);
}

static tg_status question_terms(tg_library *lib, const char *q, terms *t) {
    memset(t, 0, sizeof *t);
    char w[64];
    size_t p = 0, len = strlen(q);
    while (t->n < MAX_TERMS && next_word(q, len, &p, w, sizeof w)) {
        if (strlen(w) < 2 || is_stop(w))
            continue;
        bool dup = false;
        for (size_t i = 0; i < t->n && !dup; i++)
            dup = !strcmp(t->word[i], w);
        if (!dup)
            memcpy(t->word[t->n++], w, sizeof w);
    }
    /* document frequencies from the full-text index: rare words weigh more */
    sqlite3_stmt *nst = tg__lib_prepare(lib, "SELECT count(*) FROM search");
    sqlite3_stmt *dst = tg__lib_prepare(lib, "SELECT count(*) FROM search WHERE search MATCH ?1");
    if (!nst || !dst) {
        sqlite3_finalize(nst);
        sqlite3_finalize(dst);
        return TG_ERR_IO;
    }
    double N = sqlite3_step(nst) == SQLITE_ROW ? (double)sqlite3_column_int64(nst, 0) : 0;
    for (size_t i = 0; i < t->n; i++) {
        char m[80];
        snprintf(m, sizeof m, "\"%s\"", t->word[i]); /* a quoted string: never FTS5 syntax */
        sqlite3_reset(dst);
        sqlite3_bind_text(dst, 1, m, -1, SQLITE_TRANSIENT);
        double df = sqlite3_step(dst) == SQLITE_ROW ? (double)sqlite3_column_int64(dst, 0) : 0;
        t->idf[i] = log(1.0 + (N - df + 0.5) / (df + 0.5)); /* BM25's IDF: never negative */
        t->mass += t->idf[i];
    }
    sqlite3_finalize(nst);
    sqlite3_finalize(dst);
    return TG_OK;
}

/* Summed IDF of the question words the passage holds. */
static double overlap(const terms *t, const char *s, size_t len) {
    bool seen[MAX_TERMS] = {false};
    double score = 0;
    char w[64];
    size_t p = 0;
    while (next_word(s, len, &p, w, sizeof w))
        for (size_t i = 0; i < t->n; i++)
            if (!seen[i] && same_stem(w, t->word[i])) {
                seen[i] = true;
                score += t->idf[i];
            }
    return score;
}

/* ---- passages ------------------------------------------------------------ */

typedef struct cand {
    int64_t item;
    int32_t off, len;
    double cos, lex, fused;
    int vrank, lrank;
} cand;

typedef struct cands {
    cand *v;
    size_t n, cap;
} cands;

static bool push(cands *c, cand x) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        cand *v = tg__realloc(c->v, cap * sizeof *v);
        if (!v)
            return false;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = x;
    return true;
}

static bool push_chunk(void *user, int64_t item, int32_t off, int32_t len, double cos) {
    return push(user, (cand){.item = item, .off = off, .len = len, .cos = cos});
}

/* Every chunk of the model with its cosine to q. */
static tg_status vector_cands(tg_library *lib, const char *model, const float *q, int32_t dim, cands *c) {
    return tg__lib_chunk_cosines(lib, model, q, dim, push_chunk, c);
}

/* Items holding any of the question words, best BM25 first. */
static tg_status lexical_items(tg_library *lib, const terms *t, int64_t *ids, size_t *n) {
    *n = 0;
    if (!t->n)
        return TG_OK;
    tg__buf q = {0};
    for (size_t i = 0; i < t->n; i++)
        tg__buf_printf(&q, "%s\"%s\"", i ? " OR " : "", t->word[i]);
    char *m = tg__buf_take(&q);
    sqlite3_stmt *st = m ? tg__lib_prepare(lib, "SELECT rowid FROM search WHERE search MATCH ?1 ORDER BY "
                                                "bm25(search, 5.0, 1.0, 1.0) LIMIT ?2")
                         : NULL;
    if (!st) {
        free(m);
        return m ? TG_ERR_IO : TG_ERR_NOMEM;
    }
    sqlite3_bind_text(st, 1, m, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, LEX_ITEMS);
    while (sqlite3_step(st) == SQLITE_ROW && *n < LEX_ITEMS)
        ids[(*n)++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    free(m);
    return TG_OK;
}

static int by_cos(const void *a, const void *b) {
    double x = ((const cand *)a)->cos, y = ((const cand *)b)->cos;
    return x < y ? 1 : x > y ? -1 : 0;
}
static int by_lex(const void *a, const void *b) {
    double x = ((const cand *)a)->lex, y = ((const cand *)b)->lex;
    return x < y ? 1 : x > y ? -1 : 0;
}
static int by_fused(const void *a, const void *b) {
    double x = ((const cand *)a)->fused, y = ((const cand *)b)->fused;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Item texts read once per question. */
typedef struct texts {
    int64_t *id;
    char **text;
    size_t n, cap;
} texts;

static const char *item_text(tg_library *lib, texts *t, int64_t id) {
    for (size_t i = 0; i < t->n; i++)
        if (t->id[i] == id)
            return t->text[i];
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        int64_t *a = tg__realloc(t->id, cap * sizeof *a);
        if (!a)
            return NULL;
        t->id = a;
        char **b = tg__realloc(t->text, cap * sizeof *b);
        if (!b)
            return NULL;
        t->text = b;
        t->cap = cap;
    }
    char *text = NULL;
    if (tg_library_get_content(lib, id, &text, NULL) || !text)
        return NULL;
    t->id[t->n] = id;
    t->text[t->n++] = text;
    return text;
}

static void texts_free(texts *t) {
    for (size_t i = 0; i < t->n; i++)
        free(t->text[i]);
    free(t->id);
    free(t->text);
}

/* The passage as one line of at most max_words words. */
static char *passage_text(const char *text, int32_t off, int32_t len, int32_t max_words) {
    size_t tl = strlen(text);
    if (off < 0 || len < 0 || (size_t)off > tl || (size_t)len > tl - (size_t)off)
        return tg__strndup("", 0); /* a chunk from an older text: show nothing rather than read past it */
    tg__buf b = {0};
    const char *p = text + off, *end = p + len;
    int32_t words = 0;
    while (p < end) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p >= end)
            break;
        if (words == max_words) {
            tg__buf_puts(&b, " …");
            break;
        }
        const char *w = p;
        while (p < end && !isspace((unsigned char)*p))
            p++;
        if (words++)
            tg__buf_append(&b, " ", 1);
        tg__buf_append(&b, w, (size_t)(p - w));
    }
    char *s = tg__buf_take(&b);
    return s ? s : tg__strndup("", 0);
}

/* The top k passages into *top (fused ranking); *best_cos and *best_lex
 * say how close the closest passage came. */
static tg_status retrieve(tg_library *lib, tg_embedder *emb, const tg_ask_params *p, const char *question,
                          const terms *t, texts *tx, cands *all, double *best_cos, double *best_lex) {
    tg_status s = TG_OK;
    *best_cos = -1;
    *best_lex = 0;
    if (emb) {
        int32_t dim = tg_embedder_dim(emb);
        float *q = tg__calloc((size_t)dim, sizeof *q);
        if (!q)
            return TG_ERR_NOMEM;
        s = tg_embed(emb, &question, NULL, 1, q, NULL);
        if (!s)
            s = vector_cands(lib, p->embed_model, q, dim, all);
        free(q);
        if (s)
            return s;
        if (!all->n) /* else every question would get "no answer", silently */
            return tg__fail(TG_ERR_NOT_FOUND, "ask: no passage of the library is embedded with %s (run `tinglado "
                                              "read embed -m MODEL` first, or ask without an embedding model)",
                            p->embed_model);
        for (size_t i = 0; i < all->n; i++)
            *best_cos = TG_MAX(*best_cos, all->v[i].cos);
    }
    int64_t ids[LEX_ITEMS];
    size_t n_ids = 0;
    if ((s = lexical_items(lib, t, ids, &n_ids)))
        return s;
    size_t n_vec = all->n;
    for (size_t k = 0; k < n_ids; k++) {
        const char *text = item_text(lib, tx, ids[k]);
        if (!text)
            continue;
        bool had = false;
        for (size_t i = 0; i < n_vec; i++)
            if (all->v[i].item == ids[k]) {
                had = true;
                all->v[i].lex = overlap(t, text + all->v[i].off, (size_t)all->v[i].len);
            }
        if (had)
            continue;
        /* not embedded (or no embedder): its passages by word overlap alone */
        int32_t *offs = NULL, *lens = NULL;
        size_t n = 0;
        if ((s = tg_read_chunk(text, p->passage_words, &offs, &lens, &n)))
            return s;
        for (size_t i = 0; i < n && !s; i++)
            if (!push(all, (cand){.item = ids[k], .off = offs[i], .len = lens[i], .cos = -1,
                                  .lex = overlap(t, text + offs[i], (size_t)lens[i])}))
                s = TG_ERR_NOMEM;
        free(offs);
        free(lens);
        if (s)
            return s;
    }
    if (emb) {
        qsort(all->v, all->n, sizeof *all->v, by_cos);
        for (size_t i = 0; i < all->n && i < VEC_DEPTH; i++)
            if (all->v[i].cos > -1)
                all->v[i].fused += 1.0 / (RRF_K + (double)i + 1);
    }
    qsort(all->v, all->n, sizeof *all->v, by_lex);
    for (size_t i = 0; i < all->n && all->v[i].lex > 0; i++) {
        all->v[i].fused += 1.0 / (RRF_K + (double)i + 1);
        *best_lex = TG_MAX(*best_lex, all->v[i].lex);
    }
    qsort(all->v, all->n, sizeof *all->v, by_fused);
    while (all->n && all->v[all->n - 1].fused <= 0)
        all->n--;
    if (all->n > (size_t)p->k)
        all->n = (size_t)p->k;
    return TG_OK;
}

/* ---- the model ------------------------------------------------------------- */

static const char INSTRUCTIONS[] =
    "Answer the question from the numbered passages only. Reply with JSON: \"citations\" are the numbers of "
    "the passages that hold the answer; \"answer\" is a short answer in the passages' words. When no passage "
    "answers the question, the citations are empty and the answer says so.";

/* Worked examples: a pretrained model continues the pattern.  The answer is
 * in the second passage of one and the first of the other, so the pattern
 * is "cite where the answer is", not "cite [1]".  There is no example of
 * citing nothing: with one, Gemma 3 270M declined 10 of 25 questions whose
 * passages held the answer; the retrieval threshold decides "no answer"
 * far more reliably (docs/reading.md), and a capable model still may (the
 * instructions say how). */
static const tg_llm_example EXAMPLES[] = {
    {"Passages:\n[1] Sourdough: A starter of flour and water ferments for days before it can raise bread.\n[2] "
     "Chess engines: Stockfish searches millions of positions a second and scores them with a small neural "
     "network.\nQuestion: How does Stockfish judge a position?",
     "{\"citations\": [2], \"answer\": \"It scores positions with a small neural network.\"}"},
    {"Passages:\n[1] Tides: The pull of the Moon raises two bulges of water on opposite sides of the Earth, so "
     "most coasts see two high tides a day.\n[2] Iceland: The island sits on the Mid-Atlantic Ridge, where two "
     "plates drift apart by about two centimetres a year.\nQuestion: Why do most coasts get two high tides "
     "daily?",
     "{\"citations\": [1], \"answer\": \"The Moon's pull raises two bulges of water on opposite sides of the "
     "Earth.\"}"},
};

/* Citations first: the model commits to a passage while the question is
 * fresh, and the answer that follows is read from it (a rambling answer
 * then only runs into maxLength). */
static char *ask_schema(int32_t k, int32_t max_chars) {
    char *s = NULL;
    json_t *j = json_pack("{s:s, s:{s:{s:s, s:{s:s, s:i, s:i}, s:i}, s:{s:s, s:i}}, s:[s,s], s:b}", "type",
                          "object", "properties", "citations", "type", "array", "items", "type", "integer",
                          "minimum", 1, "maximum", k, "maxItems", k, "answer", "type", "string", "maxLength",
                          max_chars, "required", "citations", "answer", "additionalProperties", 0);
    if (j)
        s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}

static tg_status not_found(tg_answer *out) {
    out->found = false;
    free(out->text);
    out->text = tg__strndup(NO_ANSWER, strlen(NO_ANSWER));
    free(out->citations);
    out->citations = NULL;
    out->n_citations = 0;
    for (size_t i = 0; i < out->n_sources; i++)
        out->sources[i].cited = false;
    return out->text ? TG_OK : TG_ERR_NOMEM;
}

tg_status tg_library_ask(tg_library *lib, tg_llm *llm, tg_embedder *embedder, const tg_ask_params *params,
                         const char *question, tg_answer *out) {
    memset(out, 0, sizeof *out);
    out->best_cosine = -1;
    tg_ask_params p = params ? *params : tg_ask_default_params();
    if (!lib || !llm || !question)
        return tg__fail(TG_ERR_ARG, "ask: need a library, a language model and a question");
    if (embedder && (!p.embed_model || !*p.embed_model))
        return tg__fail(TG_ERR_ARG, "ask: an embedder needs the name its chunks are stored under");
    if (p.k < 1 || p.k > 20)
        return tg__fail(TG_ERR_RANGE, "ask: k = %d passages (want 1 to 20)", p.k);
    if (p.passage_words < 8)
        p.passage_words = 8;
    if (p.max_answer_chars < 20)
        p.max_answer_chars = 20;
    const char *q = question;
    while (isspace((unsigned char)*q))
        q++;
    if (!*q)
        return tg__fail(TG_ERR_ARG, "ask: the question is empty");

    terms t;
    texts tx = {0};
    cands all = {0};
    double best_cos, best_lex;
    tg__buf in = {0};
    char *schema = NULL, *reply = NULL;
    json_t *j = NULL;
    tg_status s = question_terms(lib, q, &t);
    if (!s)
        s = retrieve(lib, embedder, &p, q, &t, &tx, &all, &best_cos, &best_lex);
    if (s)
        goto done;
    out->best_cosine = best_cos;
    bool relevant = all.n > 0 && (embedder ? best_cos >= p.min_cosine : t.mass > 0 && best_lex >= 0.5 * t.mass);
    if (!relevant) {
        s = not_found(out);
        goto done;
    }
    /* the sources, numbered as the model sees them */
    out->sources = tg__calloc(all.n, sizeof *out->sources);
    if (!out->sources) {
        s = TG_ERR_NOMEM;
        goto done;
    }
    tg__buf_puts(&in, "Passages:\n");
    for (size_t i = 0; i < all.n; i++) {
        tg_ask_source *src = &out->sources[out->n_sources++];
        tg_item it;
        const char *text = item_text(lib, &tx, all.v[i].item);
        if (!text || (s = tg_library_get(lib, all.v[i].item, &it))) {
            s = s ? s : tg__fail(TG_ERR_NOT_FOUND, "ask: item %lld has no text", (long long)all.v[i].item);
            goto done;
        }
        src->item = it.id;
        src->title = it.title;
        src->url = it.url;
        it.title = it.url = NULL;
        tg_item_clear(&it);
        src->offset = all.v[i].off;
        src->length = all.v[i].len;
        src->cosine = all.v[i].cos > -1 ? all.v[i].cos : 0;
        src->passage = passage_text(text, all.v[i].off, all.v[i].len, p.passage_words);
        if (!src->passage) {
            s = TG_ERR_NOMEM;
            goto done;
        }
        tg__buf_printf(&in, "[%zu] %s: %s\n", i + 1, src->title ? src->title : src->url, src->passage);
    }
    tg__buf_printf(&in, "Question: %s", q);
    char *input = tg__buf_take(&in);
    schema = ask_schema((int32_t)all.n, p.max_answer_chars);
    if (!input || !schema) {
        free(input);
        s = TG_ERR_NOMEM;
        goto done;
    }
    s = tg_llm_complete_json(llm, &(tg_llm_request){.instructions = INSTRUCTIONS, .examples = EXAMPLES,
                                                     .n_examples = sizeof EXAMPLES / sizeof *EXAMPLES,
                                                     .input = input, .schema = schema, .max_tokens = p.max_tokens},
                             &reply);
    free(input);
    if (s)
        goto done;
    json_error_t err;
    j = json_loads(reply, 0, &err);
    const char *answer = json_string_value(json_object_get(j, "answer"));
    json_t *cites = json_object_get(j, "citations");
    if (!answer || !json_is_array(cites)) {
        s = tg__fail(TG_ERR_FORMAT, "%s: the reply is not {\"answer\", \"citations\"} JSON: %.120s", tg_llm_name(llm),
                     reply);
        goto done;
    }
    out->citations = tg__calloc(json_array_size(cites) + 1, sizeof *out->citations);
    if (!out->citations) {
        s = TG_ERR_NOMEM;
        goto done;
    }
    size_t i;
    json_t *c;
    json_array_foreach(cites, i, c) {
        json_int_t n = json_is_integer(c) ? json_integer_value(c) : 0;
        if (n < 1 || (size_t)n > out->n_sources || out->sources[n - 1].cited)
            continue; /* out of range or repeated: an endpoint need not honour the schema */
        out->sources[n - 1].cited = true;
        out->citations[out->n_citations++] = (int32_t)n;
    }
    if (!out->n_citations) {
        s = not_found(out); /* the model found no passage that answers */
        goto done;
    }
    out->found = true;
    while (isspace((unsigned char)*answer))
        answer++;
    size_t alen = strlen(answer);
    while (alen && isspace((unsigned char)answer[alen - 1]))
        alen--;
    out->text = tg__strndup(answer, alen);
    if (!out->text)
        s = TG_ERR_NOMEM;
done:
    json_decref(j);
    free(reply);
    free(schema);
    tg__buf_free(&in);
    free(all.v);
    texts_free(&tx);
    if (s)
        tg_answer_clear(out);
    return s;
}

char *tg_answer_json(const tg_answer *a, const char *question) {
    json_t *o = json_object(), *cites = json_array(), *srcs = json_array();
    if (!o || !cites || !srcs) {
        json_decref(o);
        json_decref(cites);
        json_decref(srcs);
        return NULL;
    }
    json_object_set_new(o, "question", question ? json_string(question) : json_null());
    json_object_set_new(o, "found", json_boolean(a->found));
    json_object_set_new(o, "answer", json_string(a->text ? a->text : ""));
    for (size_t i = 0; i < a->n_citations; i++)
        json_array_append_new(cites, json_integer(a->citations[i]));
    json_object_set_new(o, "citations", cites);
    for (size_t i = 0; i < a->n_sources; i++) {
        const tg_ask_source *s = &a->sources[i];
        json_array_append_new(srcs, json_pack("{s:i, s:I, s:o, s:s, s:s, s:b, s:f, s:i, s:i}", "n", (int)i + 1,
                                              "item", (json_int_t)s->item, "title",
                                              s->title ? json_string(s->title) : json_null(), "url",
                                              s->url ? s->url : "", "passage", s->passage ? s->passage : "",
                                              "cited", s->cited, "cosine", s->cosine, "offset", s->offset,
                                              "length", s->length));
    }
    json_object_set_new(o, "sources", srcs);
    json_object_set_new(o, "best_cosine", a->best_cosine >= -1 ? json_real(a->best_cosine) : json_null());
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}
