/*
 * test_grammar_gemma.c — the grammar engine on the real default model's
 * vocabulary (Gemma 3: 262,144 tokens of arbitrary byte strings) and model:
 *
 *   masks: in states chosen to exercise every path (document start, inside
 *   free and length-bounded strings, enum literals, numbers, escapes, a
 *   split UTF-8 character, free and extra keys, a finished document), the
 *   allowed set equals a brute-force check of every token, cold and cached;
 *
 *   generation: for every schema of grammar_schemas.h, 200 documents of
 *   random token choices (biased to finish) and 10 through the real
 *   sampler with random logits all finish, parse and validate against
 *   the independent oracle (schema_oracle.h);
 *
 *   model: the default model (a small pretrained base model) writes a few
 *   documents under grammars; they must parse and validate;
 *
 *   timing (reported, never asserted): milliseconds per mask over the
 *   generation steps, median with a 95% bootstrap interval.  Under the
 *   sanitizers these are slow; docs/grammar.md has the optimised build's.
 *
 * TG_GRAMMAR_DOCS, TG_GRAMMAR_MODEL_DOCS override the document counts.
 */
#include "tinglado.h"
#include "gen/grammar.h"
#include "../test.h"
#include "grammar_schemas.h"
#include "grammar_util.h"
#include "schema_oracle.h"

#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int env_int(const char *name, int dflt) {
    const char *v = getenv(name);
    return v && *v ? atoi(v) : dflt;
}

static tg_grammar *compile(const gs_schema *s) {
    return s->text ? tg_grammar_from_json_schema(s->text, strlen(s->text)) : tg_grammar_json_object();
}

static const gs_schema *find_schema(const char *name) {
    for (size_t i = 0; i < GS_N; i++)
        if (strcmp(gs_schemas[i].name, name) == 0)
            return &gs_schemas[i];
    return NULL;
}

/* Every token checked one by one against the mask of a state. */
static void test_masks(const tg_vocab *v) {
    static const struct {
        const char *schema, *prefix;
    } states[] = {
        {"weather", ""},
        {"weather", "{\"location\": \"Mad"},
        {"weather", "{\"location\": \"0123456789012345678901234567890123456"},
        {"weather", "{\"location\": \"x\", \"unit\": \"cel"},
        {"weather", "{\"location\": \"x\", \"unit\": \"celsius\", \"days\": 1"},
        {"weather", "{\"location\": \"x\", \"unit\": \"celsius\"}"},
        {"tools", "{\"name\": \""},
        {"escapes", "{\"text\": \"abc\\u00"},
        {"escapes", "{\"text\": \"\xe2\x82"},
        {"escapes", "{\"text\": \"\", \"quoted\": \"a\\\""},
        {"json_object", "{\"k\": [1, {\""},
        {"extra", "{\"id\": 1, \""},
        {"numbers", "{\"p\": 0."},
        {"person", "{\"name\": \"a\", \"address\": {\"zip\": \"12"},
    };
    int32_t nv = tg_vocab_n_tokens(v);
    uint32_t *bits = calloc(((size_t)nv + 31) / 32, 4), *again = calloc(((size_t)nv + 31) / 32, 4);
    char piece[2048];
    for (size_t i = 0; i < TG_ARRAY_LEN(states); i++) {
        tg_grammar *g = compile(find_schema(states[i].schema));
        tg_grammar_state *st = g ? tg_grammar_state_new(g, v) : NULL;
        CHECK(st != NULL);
        if (!st) {
            tg_grammar_free(g);
            continue;
        }
        CHECK(tg_grammar_accept_text(st, states[i].prefix, strlen(states[i].prefix)) == TG_OK);
        CHECK(tg_grammar_allowed(st, bits) == TG_OK);
        CHECK(tg_grammar_allowed(st, again) == TG_OK); /* from the cache */
        CHECK(memcmp(bits, again, ((size_t)nv + 31) / 32 * 4) == 0);
        int wrong = 0, allowed = 0;
        for (int32_t t = 0; t < nv; t++) {
            bool want;
            if (tg_vocab_is_eog(v, t)) {
                want = tg_grammar_complete(st);
            } else {
                tg_token_type ty = tg_vocab_token_type(v, t);
                size_t pl = tg_token_to_piece(v, t, false, piece, sizeof piece);
                tg_str raw = tg_vocab_token_text(v, t);
                bool marker = ty == TG_TOKEN_USER_DEFINED && raw.len >= 2 &&
                              ((raw.ptr[0] == '<' && raw.ptr[raw.len - 1] == '>') ||
                               (raw.ptr[0] == '[' && raw.ptr[raw.len - 1] == ']'));
                bool eligible = (ty == TG_TOKEN_NORMAL || ty == TG_TOKEN_BYTE ||
                                 ty == TG_TOKEN_USER_DEFINED) && !marker && pl > 0 &&
                                pl <= TG__MAX_PIECE;
                want = eligible && tg__grammar_state_try(st, piece, pl);
            }
            allowed += want;
            if (want != (bool)GU_BIT(bits, t) && wrong++ < 3)
                fprintf(stderr, "  %s after %s: token %d %s\n", states[i].schema, states[i].prefix,
                        (int)t, want ? "missing" : "wrongly allowed");
        }
        fprintf(stderr, "  %-12s %-60s %6d allowed\n", states[i].schema, states[i].prefix, allowed);
        CHECK_EQ_INT(wrong, 0);
        tg_grammar_state_free(st);
        tg_grammar_free(g);
    }
    free(bits);
    free(again);
}

/* Random documents for every schema; timing of the masks on the way. */
static void test_generation(const tg_vocab *v) {
    gu_vinfo info = gu_vocab_info(v);
    int32_t nv = tg_vocab_n_tokens(v);
    uint32_t *bits = calloc(((size_t)nv + 31) / 32, 4);
    float *logits = malloc((size_t)nv * sizeof *logits);
    int docs = env_int("TG_GRAMMAR_DOCS", 200), sampled = docs / 20;
    size_t cap = 1 << 16, n_ms = 0;
    double *ms = malloc(cap * sizeof *ms);
    gu_rng = 77;
    for (size_t si = 0; si < GS_N; si++) {
        const gs_schema *sc = &gs_schemas[si];
        tg_grammar *g = compile(sc);
        CHECK_MSG(g != NULL, "%s: %s", sc->name, tg_last_error());
        json_t *js = json_loads(sc->text ? sc->text : "{\"type\":\"object\"}", 0, NULL);
        int bad = 0, unfinished = 0;
        size_t tokens = 0;
        bool timed = strcmp(sc->name, "tools") == 0 || strcmp(sc->name, "weather") == 0;
        tg_grammar_state *reused = g ? tg_grammar_state_new(g, v) : NULL;
        for (int d = 0; g && d < docs + sampled; d++) {
            /* timed schemas: a fresh state per document, as a server request
             * has (empty cache); the others reuse one */
            tg_grammar_state *st = timed ? tg_grammar_state_new(g, v) : reused;
            gu_doc doc = {0};
            if (d < docs) {
                double t0 = now_ms();
                doc = gu_generate(st, v, &info, bits, 2000);
                if (timed && doc.tokens && n_ms < cap)
                    ms[n_ms++] = (now_ms() - t0) / (double)(doc.tokens + 1);
            } else {
                /* the real sampler with random logits, structure favoured */
                tg_sampler_params sp = tg_sampler_defaults();
                sp.seed = (uint64_t)d;
                tg_sampler *smp = tg_sampler_new(&sp, nv);
                tg_sampler_set_allowed(smp, bits);
                tg_grammar_state_reset(st);
                for (;;) {
                    if (doc.tokens >= 2000) {
                        doc.truncated = true;
                        break;
                    }
                    if (tg_grammar_allowed(st, bits) != TG_OK) {
                        doc.stuck = true;
                        break;
                    }
                    for (int32_t t = 0; t < nv; t++)
                        logits[t] = (float)(gu_rand() % 1000) / 100.0f +
                                    ((info.flags[t] & (GU_CLOSER | GU_EOG)) ? 12.0f : 0.0f);
                    tg_token t = tg_sampler_sample(smp, logits, NULL);
                    if (t < 0 || !GU_BIT(bits, t)) {
                        doc.stuck = true;
                        break;
                    }
                    if (tg_grammar_accept(st, t) != TG_OK) {
                        doc.rejected = true;
                        break;
                    }
                    if (tg_vocab_is_eog(v, t))
                        break;
                    char piece[2048];
                    gu_doc_add(&doc, piece, tg_token_to_piece(v, t, false, piece, sizeof piece));
                    doc.tokens++;
                }
                tg_sampler_free(smp);
                if (!doc.text)
                    doc.text = calloc(1, 1);
            }
            tokens += doc.tokens;
            bool parsed;
            if (doc.stuck || doc.truncated || doc.rejected) {
                if (unfinished++ < 3)
                    fprintf(stderr, "  %s: unfinished (stuck %d, truncated %d, rejected %d): %.300s\n",
                            sc->name, doc.stuck, doc.truncated, doc.rejected, doc.text);
            } else if (!oracle_check(js, doc.text, doc.len, &parsed)) {
                if (bad++ < 3)
                    fprintf(stderr, "  %s: %s document %s\n", sc->name,
                            parsed ? "invalid" : "unparsable", doc.text);
            }
            if (d == 0)
                fprintf(stderr, "  %-12s e.g. %.160s\n", sc->name, doc.text);
            free(doc.text);
            if (st != reused)
                tg_grammar_state_free(st);
        }
        tg_grammar_state_free(reused);
        fprintf(stderr, "  %-12s %d documents (%d through the sampler), %.1f tokens on average: "
                "%d invalid, %d unfinished\n", sc->name, docs + sampled, sampled,
                (double)tokens / (docs + sampled), bad, unfinished);
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(unfinished, 0);
        tg_grammar_free(g);
        json_decref(js);
    }
    if (n_ms > 1) {
        tg_estimate e = tg_stats_median_boot(ms, n_ms, 2000, 1);
        fprintf(stderr, "  mask + accept, weather and tools schemas, fresh state per document: "
                "median %.3f ms per token, 95%% CI [%.3f, %.3f], n = %zu documents%s\n",
                e.value, e.lo, e.hi, e.n,
#if defined(__SANITIZE_ADDRESS__)
                " (sanitizer build)"
#else
                ""
#endif
        );
    }
    free(ms);
    free(bits);
    free(logits);
    gu_vinfo_free(&info);
}

/* Per-step timing of the masks alone on the tool-call schema, every one
 * computed afresh (the cache emptied before each). */
static void test_mask_timing(const tg_vocab *v) {
    tg_grammar *g = compile(find_schema("tools"));
    int32_t nv = tg_vocab_n_tokens(v);
    uint32_t *bits = calloc(((size_t)nv + 31) / 32, 4);
    gu_vinfo info = gu_vocab_info(v);
    tg_grammar_state *st = tg_grammar_state_new(g, v);
    size_t cap = 8192, n = 0;
    double *ms = malloc(cap * sizeof *ms);
    gu_rng = 5;
    int docs = env_int("TG_GRAMMAR_DOCS", 200) / 4;
    for (int d = 0; d < docs && n < cap; d++) {
        tg_grammar_state_reset(st);
        for (int step = 0; step < 400 && n < cap; step++) {
            tg__grammar_state_drop_cache(st);
            double t0 = now_ms();
            tg_status s = tg_grammar_allowed(st, bits);
            ms[n++] = now_ms() - t0;
            if (s != TG_OK || tg_grammar_complete(st))
                break;
            int32_t t = gu_pick(&info, bits, gu_rand() % 2 ? 1 : 0);
            if (t < 0 || tg_grammar_accept(st, t) != TG_OK)
                break;
        }
    }
    if (n > 1) {
        tg_estimate e = tg_stats_median_boot(ms, n, 2000, 1);
        double mx = 0;
        for (size_t i = 0; i < n; i++)
            mx = ms[i] > mx ? ms[i] : mx;
        fprintf(stderr, "  tools schema, %d documents, uncached: mask median %.3f ms, 95%% CI "
                "[%.3f, %.3f], max %.3f ms, n = %zu steps\n", docs, e.value, e.lo, e.hi, mx, e.n);
    }
    free(ms);
    free(bits);
    gu_vinfo_free(&info);
    tg_grammar_state_free(st);
    tg_grammar_free(g);
}

/* The default model writes documents under a few grammars. */
static void test_model(void) {
    tg_model *m = tg_model_load(gu_model_path());
    CHECK_MSG(m != NULL, "default model: %s (run scripts/setup.sh)", tg_last_error());
    if (!m)
        return;
    static const struct {
        const char *prompt, *schema;
    } jobs[] = {
        {"Answer as JSON. Is Paris the capital of France?\n",
         "{\"type\":\"object\",\"properties\":{\"answer\":{\"enum\":[\"yes\",\"no\"]},\"confidence\":"
         "{\"type\":\"integer\",\"minimum\":0,\"maximum\":100}},\"required\":[\"answer\","
         "\"confidence\"]}"},
        {"The weather tool call for Madrid in celsius, as JSON:\n", NULL /* weather */},
        {"A list of three primary colours as JSON:\n",
         "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":12},\"minItems\":3,"
         "\"maxItems\":3}"},
    };
    const tg_vocab *v = tg_model_vocab(m);
    int32_t nv = tg_model_n_vocab(m);
    uint32_t *bits = calloc(((size_t)nv + 31) / 32, 4);
    int per_job = env_int("TG_GRAMMAR_MODEL_DOCS", 1), ok = 0, total = 0;
    for (size_t j = 0; j < TG_ARRAY_LEN(jobs); j++) {
        const char *text = jobs[j].schema ? jobs[j].schema : find_schema("weather")->text;
        tg_grammar *g = tg_grammar_from_json_schema(text, strlen(text));
        json_t *js = json_loads(text, 0, NULL);
        tg_grammar_state *st = tg_grammar_state_new(g, v);
        for (int k = 0; k < per_job && st; k++) {
            tg_ctx_params cp = tg_ctx_default_params();
            cp.n_ctx = 512;
            tg_ctx *c = tg_ctx_new(m, &cp);
            tg_sampler_params sp = tg_sampler_defaults();
            sp.seed = 1000 + (uint64_t)k;
            tg_sampler *smp = tg_sampler_new(&sp, nv);
            tg_sampler_set_allowed(smp, bits);
            tg_tokens pt = {0};
            tg_tokenize(v, jobs[j].prompt, strlen(jobs[j].prompt),
                        (tg_tokenize_opts){.add_special = true}, &pt);
            tg_batch b = {.n = (int32_t)pt.n, .token = pt.ids};
            tg_status s = tg_ctx_decode(c, &b);
            tg_grammar_state_reset(st);
            gu_doc doc = {0};
            char piece[512];
            while (s == TG_OK && doc.tokens < 300) {
                if (tg_grammar_allowed(st, bits) != TG_OK) {
                    doc.stuck = true;
                    break;
                }
                tg_token t = tg_sampler_sample(smp, tg_ctx_logits(c, 0), NULL);
                if (t < 0 || tg_grammar_accept(st, t) != TG_OK) {
                    doc.rejected = true;
                    break;
                }
                if (tg_vocab_is_eog(v, t))
                    break;
                gu_doc_add(&doc, piece, tg_token_to_piece(v, t, false, piece, sizeof piece));
                doc.tokens++;
                tg_sampler_accept(smp, t);
                tg_batch one = {.n = 1, .token = &t};
                s = tg_ctx_decode(c, &one);
            }
            bool parsed, valid = doc.text && !doc.stuck && !doc.rejected &&
                                 oracle_check(js, doc.text, doc.len, &parsed);
            fprintf(stderr, "  model, %zu tokens: %s%s\n", doc.tokens, doc.text ? doc.text : "",
                    valid ? "" : "  <- INVALID");
            ok += valid;
            total++;
            free(doc.text);
            tg_tokens_free(&pt);
            tg_sampler_free(smp);
            tg_ctx_free(c);
        }
        tg_grammar_state_free(st);
        tg_grammar_free(g);
        json_decref(js);
    }
    CHECK_EQ_INT(ok, total);
    free(bits);
    tg_model_free(m);
}

static tg_vocab *gemma;
static void test_gemma_masks(void) { test_masks(gemma); }
static void test_gemma_generation(void) { test_generation(gemma); }
static void test_gemma_mask_timing(void) { test_mask_timing(gemma); }

int main(void) {
    tg_gguf *gg = tg_gguf_open(gu_model_path());
    double t0 = now_ms();
    tg_vocab *v = gemma = gg ? tg_vocab_load(gg) : NULL;
    CHECK_MSG(v != NULL, "default model's vocabulary: %s (run scripts/setup.sh)", tg_last_error());
    if (v) {
        /* the first state builds the vocabulary's token index */
        tg_grammar *g = tg_grammar_json_object();
        t0 = now_ms();
        tg_grammar_state *st = tg_grammar_state_new(g, v);
        fprintf(stderr, "  token index of %d tokens built in %.0f ms\n", tg_vocab_n_tokens(v),
                now_ms() - t0);
        RUN(test_gemma_masks);
        RUN(test_gemma_generation);
        RUN(test_gemma_mask_timing);
        tg_grammar_state_free(st);
        tg_grammar_free(g);
    }
    RUN(test_model);
    tg_vocab_free(v);
    tg_gguf_close(gg);
    return tg_test_finish("test_grammar_gemma");
}
