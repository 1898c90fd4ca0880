/*
 * test_llm_engine.c — the embedded engine's replies are plain greedy
 * decoding's, bit for bit.
 *
 * The engine decodes with prompt lookup (several guessed tokens evaluated
 * per forward pass, kept while each is the greedy choice) and keeps the KV
 * cache of the prompt's head between requests.  Both must be pure speed:
 * here the same requests are decoded the plain way — the whole prompt
 * evaluated, then one token at a time, each the most likely token the
 * grammar allows — through the public model, grammar and sampler API, and
 * the texts must be equal.  The statistics show that the guesses were
 * actually used (fewer forward passes than tokens) and the head reused,
 * so the comparison covers those paths.  Uses the default model
 * (scripts/setup.sh fetches it).
 */
#include "tinglado.h"
#include "../test.h"

#include <stdint.h>

static const char SCHEMA[] =
    "{\"type\":\"object\",\"properties\":{\"summary\":{\"type\":\"string\",\"maxLength\":300},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":20},\"minItems\":3,\"maxItems\":3}},"
    "\"required\":[\"summary\",\"tags\"],\"additionalProperties\":false}";

static const char INSTRUCTIONS[] = "Summarise each article in one or two sentences and give three tags, as JSON.";

static const tg_llm_example EXAMPLE = {
    "The city of Lund replaced its last diesel buses with battery-electric ones this spring. Running costs fell "
    "by a third.",
    "{\"summary\": \"Lund replaced its last diesel buses with battery-electric ones.\", \"tags\": [\"transport\", "
    "\"buses\", \"cities\"]}"};

static const char *const INPUTS[] = {
    "The harbour of Visby reopened on Monday after a winter of repairs. The new quay is two metres higher than "
    "the old one, because storms flooded it three times last year, and ferries from the mainland can now dock "
    "in any weather. The town expects more visitors this summer.",
    "A bakery in Porto has sold the same custard tart for ninety years. The owners say the recipe is kept in a "
    "locked drawer and only three people have read it. Queues form before the shop opens at eight, and the tarts "
    "are sold out by noon on most days."};

/* The engine's completion document (llm_engine.c render): instructions,
 * each example as "input\nJSON:\noutput", then the input and "JSON:\n"
 * followed by the reply prefix. */
static void render(char *out, size_t cap, const char *input, const char *prefix) {
    snprintf(out, cap, "%s\n\n%s\nJSON:\n%s\n\n%s\nJSON:\n%s", INSTRUCTIONS, EXAMPLE.input, EXAMPLE.output, input,
             prefix);
}

/* The reply by plain greedy decoding under the schema's grammar, one token
 * per forward pass; NULL when the budget ends first.  no_repeat >= 2: a
 * token that would repeat an n-gram of the reply (tokens after the prefix)
 * is not allowed, unless nothing else is. */
static char *plain_greedy(tg_model *m, const char *input, const char *prefix, int32_t budget, int no_repeat) {
    const tg_vocab *v = tg_model_vocab(m);
    tg_ctx_params cp = tg_ctx_default_params();
    cp.n_ctx = 1024;
    cp.n_threads = 2;
    tg_ctx *c = tg_ctx_new(m, &cp);
    tg_sampler_params sp = tg_sampler_defaults();
    sp.temperature = 0;
    tg_sampler *smp = tg_sampler_new(&sp, tg_model_n_vocab(m));
    tg_grammar *g = tg_grammar_from_json_schema(SCHEMA, strlen(SCHEMA));
    tg_grammar_state *st = g ? tg_grammar_state_new(g, v) : NULL;
    uint32_t *bits = calloc(((size_t)tg_model_n_vocab(m) + 31) / 32, sizeof *bits);
    static char prompt[8192];
    render(prompt, sizeof prompt, input, prefix);
    tg_tokens toks = {0};
    char *text = calloc(1, 8192);
    size_t len = 0;
    tg_token reply[512];
    size_t n_reply = 0;
    bool done = false;
    if (!c || !smp || !st || !bits || !text ||
        tg_tokenize(v, prompt, strlen(prompt), (tg_tokenize_opts){.add_special = true}, &toks) ||
        tg_ctx_decode(c, &(tg_batch){.n = (int32_t)toks.n, .token = toks.ids}) ||
        tg_grammar_accept_text(st, prefix, strlen(prefix))) {
        CHECK_MSG(false, "reference decoder setup: %s", tg_last_error());
        budget = 0;
    } else {
        len = (size_t)snprintf(text, 8192, "%s", prefix);
    }
    for (int32_t i = 0; i < budget && !done; i++) {
        if (tg_grammar_allowed(st, bits))
            break;
        if (no_repeat >= 2 && n_reply >= (size_t)no_repeat - 1) {
            size_t k = (size_t)no_repeat - 1, words = ((size_t)tg_model_n_vocab(m) + 31) / 32;
            uint32_t *keep = malloc(words * sizeof *keep);
            memcpy(keep, bits, words * sizeof *keep);
            for (size_t j = 0; j + k < n_reply; j++)
                if (!memcmp(reply + j, reply + n_reply - k, k * sizeof *reply))
                    bits[reply[j + k] >> 5] &= ~(1u << (reply[j + k] & 31));
            bool any = false;
            for (size_t w = 0; w < words; w++)
                any |= bits[w] != 0;
            if (!any)
                memcpy(bits, keep, words * sizeof *keep);
            free(keep);
        }
        tg_sampler_set_allowed(smp, bits);
        tg_token t = tg_sampler_sample(smp, tg_ctx_logits(c, 0), NULL);
        if (t < 0 || tg_grammar_accept(st, t))
            break;
        if (tg_vocab_is_eog(v, t)) {
            done = true;
            break;
        }
        if (n_reply < sizeof reply / sizeof *reply)
            reply[n_reply++] = t;
        char piece[256];
        size_t n = tg_token_to_piece(v, t, false, piece, sizeof piece);
        if (n > sizeof piece || len + n >= 8192)
            break;
        memcpy(text + len, piece, n);
        len += n;
        if (tg_grammar_finished(st)) {
            done = true;
            break;
        }
        if (tg_ctx_decode(c, &(tg_batch){.n = 1, .token = &t}))
            break;
    }
    if (!done && !(st && tg_grammar_complete(st))) {
        free(text);
        text = NULL;
    }
    tg_tokens_free(&toks);
    free(bits);
    tg_grammar_state_free(st);
    tg_grammar_free(g);
    tg_sampler_free(smp);
    tg_ctx_free(c);
    return text;
}

static void test_same_as_plain_greedy(void) {
    const char *path = tg_test_env("TINGLADO_MODEL", NULL);
    char buf[512];
    if (!path) {
        const char *cache = tg_test_env("TINGLADO_CACHE", NULL);
        if (cache)
            snprintf(buf, sizeof buf, "%s/models/gemma-3-270m-q4_k_m.gguf", cache);
        else
            snprintf(buf, sizeof buf, "%s/.cache/tinglado/models/gemma-3-270m-q4_k_m.gguf", getenv("HOME"));
        path = buf;
    }
    tg_model *m = tg_model_load(path);
    tg_llm *llm = tg_llm_engine(&(tg_llm_engine_params){.model = path, .n_threads = 2, .n_ctx = 1024});
    CHECK_MSG(m && llm, "default model: %s (run scripts/setup.sh)", tg_last_error());
    if (!m || !llm) {
        tg_llm_free(llm);
        tg_model_free(m);
        return;
    }
    size_t kept = 0;
    for (size_t i = 0; i < sizeof INPUTS / sizeof *INPUTS; i++) {
        char prefix[64];
        /* the reply starts with the article's first words, as enrich.c does */
        snprintf(prefix, sizeof prefix, "{\"summary\": \"%.*s", (int)(strchr(INPUTS[i] + 4, ' ') - INPUTS[i]),
                 INPUTS[i]);
        char *got = NULL;
        tg_status s = tg_llm_complete_json(llm, &(tg_llm_request){.instructions = INSTRUCTIONS, .examples = &EXAMPLE,
                                                                   .n_examples = 1, .input = INPUTS[i],
                                                                   .schema = SCHEMA, .max_tokens = 120,
                                                                   .reply_prefix = prefix},
                                           &got);
        CHECK_MSG(s == TG_OK, "request %zu: %s", i, tg_last_error());
        tg_llm_stats st = tg_llm_last_stats(llm);
        char *want = plain_greedy(m, INPUTS[i], prefix, 120, 0);
        CHECK_MSG(got && want && !strcmp(got, want), "request %zu:\n  engine %s\n  plain  %s", i,
                  got ? got : "(none)", want ? want : "(none)");
        fprintf(stderr, "    request %zu: %zu prompt tokens (%zu reused), %zu reply tokens in %zu passes, %zu of %zu "
                        "guesses kept\n",
                i, st.prompt, st.reused, st.chosen, st.passes, st.kept, st.guessed);
        /* the first token comes from the prompt's logits; each pass then
         * yields the guesses it kept and one token of its own choice */
        CHECK_MSG(st.chosen > 10 && st.chosen == 1 + st.passes + st.kept, "%zu tokens, %zu passes, %zu kept",
                  st.chosen, st.passes, st.kept);
        kept += st.kept;
        if (i > 0)
            CHECK_MSG(st.reused > 50, "the second request reuses the shared head: %zu tokens", st.reused);
        free(got);
        free(want);
    }
    CHECK_MSG(kept > 10, "prompt lookup kept only %zu guesses: the comparison did not cover it", kept);

    /* a budget that ends inside the JSON fails the same way */
    char *got = NULL;
    tg_status s = tg_llm_complete_json(llm, &(tg_llm_request){.instructions = INSTRUCTIONS, .examples = &EXAMPLE,
                                                               .n_examples = 1, .input = INPUTS[0], .schema = SCHEMA,
                                                               .max_tokens = 6, .reply_prefix = "{\"summary\": \"The"},
                                       &got);
    CHECK(s == TG_ERR_RANGE && got == NULL);
    CHECK_ERROR_HAS("did not finish within 6 tokens");
    CHECK_EQ_INT(tg_llm_last_stats(llm).chosen, 6);
    char *want = plain_greedy(m, INPUTS[0], "{\"summary\": \"The", 6, 0);
    CHECK(want == NULL);
    free(want);

    /* No repeated n-grams (enrich.c asks for 4): the engine's reply is the
     * reference decoder's with the same rule.  n = 2 forbids any repeated
     * pair of tokens, so the rule surely acts (the reply differs from plain
     * greedy's) and prompt lookup's guesses go through it too. */
    bool differs = false;
    for (size_t i = 0; i < sizeof INPUTS / sizeof *INPUTS; i++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "{\"summary\": \"%.*s", (int)(strchr(INPUTS[i] + 4, ' ') - INPUTS[i]),
                 INPUTS[i]);
        got = NULL;
        s = tg_llm_complete_json(llm, &(tg_llm_request){.instructions = INSTRUCTIONS, .examples = &EXAMPLE,
                                                         .n_examples = 1, .input = INPUTS[i], .schema = SCHEMA,
                                                         .max_tokens = 120, .reply_prefix = prefix,
                                                         .no_repeat_ngram = 2},
                                 &got);
        want = plain_greedy(m, INPUTS[i], prefix, 120, 2);
        char *plain = plain_greedy(m, INPUTS[i], prefix, 120, 0);
        CHECK_MSG(s == TG_OK && got && want && !strcmp(got, want), "no repeats, request %zu:\n  engine %s\n  plain  %s",
                  i, got ? got : tg_last_error(), want ? want : "(none)");
        differs |= got && plain && strcmp(got, plain);
        fprintf(stderr, "    no repeated pairs, request %zu: %s\n", i, got ? got : "(none)");
        free(got);
        free(want);
        free(plain);
    }
    CHECK_MSG(differs, "forbidding repeated token pairs changed no reply: the rule was not exercised");
    tg_llm_free(llm);
    tg_model_free(m);
}

int main(void) {
    RUN(test_same_as_plain_greedy);
    return tg_test_finish("llm_engine");
}
