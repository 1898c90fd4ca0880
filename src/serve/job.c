/*
 * job.c — one generation request as the HTTP thread and the scheduler share
 * it.  The HTTP thread builds it (prompt tokens, its own sampler, stop
 * strings, grammar: every allocation a request needs happens here, off the
 * scheduler's thread), submits it, then reads its growing output under the
 * job's mutex.  The scheduler appends text and logprob records and sets the
 * finish reason.  Two references (HTTP side, scheduler) decide when it is
 * freed, so either side may finish first.
 *
 * Must never: be touched by the scheduler after it dropped its reference,
 * or hand the scheduler anything it would have to allocate per token beyond
 * the amortised growth of the output buffers.
 */
#include "serve/serve.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

double tg__now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The grammar of a constrained job: the compiled grammar, its state and the
 * allowed-token bitset handed to the sampler (all allocated here, with the
 * job, so the scheduler's per-token path only fills and reads them). */
struct tg__grammar_slot {
    tg_grammar *g;
    tg_grammar_state *st;
    uint32_t *bits; /* (n_vocab + 31) / 32 words */
    size_t n_words;
    bool active;    /* a lazy grammar becomes active at its trigger */
};

static void grammar_free(tg__grammar_slot *gs) {
    if (!gs)
        return;
    tg_grammar_state_free(gs->st);
    tg_grammar_free(gs->g);
    free(gs->bits);
    free(gs);
}

/* Compiles the job's schema (NULL: any JSON object). */
static tg__grammar_slot *grammar_new(const tg_model *m, const json_t *schema) {
    tg__grammar_slot *gs = tg__calloc(1, sizeof *gs);
    if (!gs)
        return NULL;
    if (schema) {
        char *text = json_dumps(schema, JSON_COMPACT);
        if (!text) {
            tg__fail(TG_ERR_NOMEM, "out of memory");
            free(gs);
            return NULL;
        }
        gs->g = tg_grammar_from_json_schema(text, strlen(text));
        free(text);
    } else {
        gs->g = tg_grammar_json_object();
    }
    if (!gs->g) {
        tg__fail_prefix(TG_ERR_UNSUPPORTED, "the JSON Schema cannot be used");
        free(gs);
        return NULL;
    }
    gs->n_words = ((size_t)tg_model_n_vocab(m) + 31) / 32;
    gs->st = tg_grammar_state_new(gs->g, tg_model_vocab(m));
    gs->bits = tg__calloc(gs->n_words, sizeof *gs->bits);
    if (!gs->st || !gs->bits) {
        grammar_free(gs);
        return NULL;
    }
    return gs;
}

static void bias_hook(void *user, float *logits, int32_t n_vocab) {
    const tg__job *j = user;
    for (size_t i = 0; i < j->n_bias; i++)
        if (j->bias_tokens[i] < n_vocab)
            logits[j->bias_tokens[i]] += j->bias_values[i];
}

static void job_free(tg__job *j) {
    tg_sampler_free(j->sampler);
    tg_stop_free(j->stop);
    grammar_free(j->grammar);
    free(j->prompt);
    free(j->text);
    free(j->recs);
    free(j->tops);
    free(j->bias_tokens);
    free(j->bias_values);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

tg__job *tg__job_new(const tg_model *m, const tg__job_spec *spec) {
    const int32_t n_vocab = tg_model_n_vocab(m);
    if (spec->n_prompt == 0 || spec->n_prompt > INT32_MAX || spec->max_tokens < 1) {
        tg__fail(TG_ERR_ARG, "a job needs a prompt and max_tokens >= 1");
        return NULL;
    }
    for (size_t i = 0; i < spec->n_prompt; i++)
        if (spec->prompt[i] < 0 || spec->prompt[i] >= n_vocab) {
            tg__fail(TG_ERR_RANGE, "prompt token %d is not in the vocabulary (0..%d)", spec->prompt[i], n_vocab - 1);
            return NULL;
        }
    for (size_t i = 0; i < spec->n_bias; i++)
        if (spec->bias_tokens[i] < 0 || spec->bias_tokens[i] >= n_vocab) {
            tg__fail(TG_ERR_RANGE, "logit_bias token %lld is not in the vocabulary (0..%d)",
                     (long long)spec->bias_tokens[i], n_vocab - 1);
            return NULL;
        }
    tg__job *j = tg__calloc(1, sizeof *j);
    if (!j)
        return NULL;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    atomic_init(&j->refs, 1);
    atomic_init(&j->cancel, false);
    j->tool_at = -1;
    j->n_prompt = (int32_t)spec->n_prompt;
    j->max_tokens = spec->max_tokens;
    j->logprobs = spec->logprobs;
    j->n_top = spec->logprobs ? spec->sp.n_logprobs : 0;
    j->constrain = spec->constrain;
    j->undecided = spec->constrain == TG__CONSTRAIN_LAZY;
    if (spec->tool_call && spec->constrain == TG__CONSTRAIN_FULL)
        j->tool_at = 0; /* the whole turn is the call */
    j->prompt = tg__malloc(spec->n_prompt * sizeof *j->prompt);
    if (!j->prompt)
        goto fail;
    memcpy(j->prompt, spec->prompt, spec->n_prompt * sizeof *j->prompt);

    tg_sampler_params sp = spec->sp;
    if (!spec->logprobs)
        sp.n_logprobs = 0;
    if (!(j->sampler = tg_sampler_new(&sp, n_vocab)))
        goto fail;
    if (spec->n_bias) {
        j->bias_tokens = tg__malloc(spec->n_bias * sizeof *j->bias_tokens);
        j->bias_values = tg__malloc(spec->n_bias * sizeof *j->bias_values);
        if (!j->bias_tokens || !j->bias_values)
            goto fail;
        memcpy(j->bias_tokens, spec->bias_tokens, spec->n_bias * sizeof *j->bias_tokens);
        memcpy(j->bias_values, spec->bias_values, spec->n_bias * sizeof *j->bias_values);
        j->n_bias = spec->n_bias;
        if (tg_sampler_set_hook(j->sampler, bias_hook, j) != TG_OK)
            goto fail;
    }
    if (!(j->stop = tg_stop_new(spec->stops, spec->n_stops)))
        goto fail;
    if (spec->constrain != TG__CONSTRAIN_NONE && !(j->grammar = grammar_new(m, spec->schema)))
        goto fail;
    /* Output buffers sized for a typical reply up front, so the per-token
     * path rarely grows them. */
    size_t cap = (size_t)TG_MIN(spec->max_tokens, 4096) * 8 + 64;
    if (!(j->text = tg__malloc(cap)))
        goto fail;
    j->text_cap = cap;
    j->text[0] = '\0';
    if (j->logprobs) {
        size_t nr = (size_t)TG_MIN(spec->max_tokens, 1024);
        j->recs = tg__malloc(nr * sizeof *j->recs);
        j->tops = tg__malloc(nr * (size_t)TG_MAX(j->n_top, 1) * sizeof *j->tops);
        if (!j->recs || !j->tops)
            goto fail;
        j->cap_recs = nr;
    }
    return j;
fail:
    job_free(j);
    return NULL;
}

void tg__job_retain(tg__job *j) {
    atomic_fetch_add(&j->refs, 1);
}

void tg__job_release(tg__job *j) {
    if (j && atomic_fetch_sub(&j->refs, 1) == 1)
        job_free(j);
}

void tg__job_cancel(tg__job *j) {
    atomic_store(&j->cancel, true);
}

bool tg__job_append_text(tg__job *j, const char *s, size_t n) {
    if (n == 0)
        return true;
    if (j->text_len + n + 1 > j->text_cap) {
        size_t cap = j->text_cap;
        while (cap < j->text_len + n + 1) {
            if (!tg__mul_size(cap, 2, &cap))
                return false;
        }
        char *t = realloc(j->text, cap);
        if (!t)
            return false;
        j->text = t;
        j->text_cap = cap;
    }
    memcpy(j->text + j->text_len, s, n);
    j->text_len += n;
    j->text[j->text_len] = '\0';
    return true;
}

bool tg__job_append_rec(tg__job *j, const tg_sample_info *info) {
    if (!j->logprobs)
        return true;
    if (j->n_recs == j->cap_recs) {
        size_t cap = j->cap_recs * 2 + 16;
        tg__tokrec *r = realloc(j->recs, cap * sizeof *r);
        if (!r)
            return false;
        j->recs = r;
        tg_logprob *t = realloc(j->tops, cap * (size_t)TG_MAX(j->n_top, 1) * sizeof *t);
        if (!t)
            return false;
        j->tops = t;
        j->cap_recs = cap;
    }
    j->recs[j->n_recs] = (tg__tokrec){.token = info->token, .logprob = info->logprob};
    int32_t k = TG_MIN(j->n_top, info->n_top);
    tg_logprob *dst = j->tops + j->n_recs * (size_t)TG_MAX(j->n_top, 1);
    for (int32_t i = 0; i < j->n_top; i++)
        dst[i] = i < k ? info->top[i] : (tg_logprob){.token = -1, .logprob = 0};
    j->n_recs++;
    return true;
}

const uint32_t *tg__job_grammar_mask(tg__job *j) {
    tg__grammar_slot *gs = j->grammar;
    if (!gs || !gs->active)
        return NULL;
    /* no token can continue (a vocabulary that cannot spell a byte the
     * grammar needs): an empty mask, so sampling fails with a message
     * instead of leaving the grammar */
    if (tg_grammar_allowed(gs->st, gs->bits) != TG_OK)
        memset(gs->bits, 0, gs->n_words * sizeof *gs->bits);
    return gs->bits;
}

bool tg__job_grammar_accept(tg__job *j, tg_token t) {
    tg__grammar_slot *gs = j->grammar;
    return !gs || !gs->active || tg_grammar_accept(gs->st, t) == TG_OK;
}

bool tg__job_grammar_complete(const tg__job *j) {
    return j->grammar && j->grammar->active && tg_grammar_finished(j->grammar->st);
}

bool tg__job_grammar_trigger(tg__job *j) {
    if (!j->grammar)
        return false;
    tg_grammar_state_reset(j->grammar->st);
    j->grammar->active = true;
    return true;
}
