/*
 * sched.c — continuous batching: many requests share each forward step.
 *
 * One thread owns the context.  The context holds n_slots sequences; a slot
 * is a sequence plus the job generating in it.  Each step packs
 *
 *   - one token for every slot that is generating (its last sampled token),
 *   - then prompt tokens of slots that joined, at most prefill_chunk in all
 *     (so a long new prompt delays the running streams by one bounded chunk
 *     per step instead of stalling them for the whole prompt),
 *
 * runs tg_ctx_decode once (the weights are read once per step for all rows),
 * and samples every slot whose row asked for logits with its own sampler.
 * New jobs join between steps; a cancelled job (its client went away) leaves
 * its slot at the next step boundary.
 *
 * Prompt caching: a slot remembers the tokens its sequence holds.  A joining
 * job goes to the free slot whose cached tokens share the longest prefix with
 * its prompt, and only the rest of the prompt is evaluated (at least its last
 * token, whose logits start the reply).
 *
 * Energy: the meter is read around each tg_ctx_decode and the step's joules
 * are shared among the slots in the batch by their tokens in it.
 *
 * Must never: block on a client (it only appends to job buffers and signals),
 * allocate per token beyond the jobs' amortised output growth, or touch a job
 * after releasing its reference.
 */
#include "serve/serve.h"

#include <stdlib.h>
#include <string.h>

enum { PIECE_CAP = 64 * 1024 + 64 };

typedef enum slot_state { SLOT_FREE, SLOT_PROMPT, SLOT_GEN } slot_state;

typedef struct slot {
    int32_t seq;
    slot_state state;
    tg__job *job;
    tg_token *cache; /* tokens whose KV the sequence holds */
    int32_t n_cache;
    int32_t n_past;  /* prompt tokens of the job already in the cache */
    tg_token pending; /* SLOT_GEN: the sampled token to evaluate next */
    tg_detok detok;
    bool undecided;  /* TG__CONSTRAIN_LAZY: only white space so far */
    bool in_step;    /* a prompt chunk of this slot is in the step being built */
    bool constrained; /* the grammar is active */
    double t_last;
    uint64_t last_used;
    double joules;     /* the job's share of the steps so far       */
    bool energy_lost;  /* a step of the job could not be metered    */
} slot;

struct tg__sched {
    const tg_model *model;
    const tg_vocab *vocab;
    tg_ctx *ctx;
    int32_t n_ctx;
    tg__metrics *metrics;
    tg__energy *energy;
    int n_slots;
    slot *slots;
    int32_t prefill_chunk;
    /* the batch of one step, sized n_slots + prefill_chunk */
    tg_token *b_tok;
    int32_t *b_pos, *b_seq;
    int8_t *b_out;
    int *out_slot;
    char *piece;
    /* guarded by mu: the queue, the flags, which slots are taken */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    tg__job **queue; /* ring of ring_cap = n_slots + queue_max cells */
    int queue_max, ring_cap, q_head, q_len;
    int active;
    bool draining, quit;
    uint64_t clock;
    pthread_t thread;
    bool started;
};

/* ---- finishing ---------------------------------------------------------------- */

/* Ends a slot's job: flushes text still held (unless a stop string ended
 * it), publishes the reason, drops the scheduler's reference. */
static void finish(tg__sched *s, slot *sl, tg__finish why, bool flush, const char *error) {
    tg__job *j = sl->job;
    pthread_mutex_lock(&j->mu);
    if (flush) {
        size_t n = tg_detok_flush(&sl->detok, s->piece, PIECE_CAP);
        if (n > PIECE_CAP)
            n = 0;
        bool ok = true;
        if (sl->constrained) {
            ok = tg__job_append_text(j, s->piece, n);
        } else {
            tg_str shown;
            bool stopped = false;
            ok = tg_stop_feed(j->stop, s->piece, n, &shown, &stopped) == TG_OK &&
                 tg__job_append_text(j, shown.ptr, shown.len);
            if (ok && !stopped) {
                tg_str rest = tg_stop_flush(j->stop);
                ok = tg__job_append_text(j, rest.ptr, rest.len);
            }
        }
        if (!ok && why != TG__FINISH_ERROR) {
            why = TG__FINISH_ERROR;
            error = "out of memory";
        }
    }
    j->joules = sl->energy_lost ? -1.0 : sl->joules;
    j->energy = s->energy;
    sl->joules = 0.0;
    sl->energy_lost = false;
    j->finish = why;
    if (error)
        snprintf(j->error, sizeof j->error, "%s", error);
    j->t_end = tg__now();
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (s->metrics && why != TG__FINISH_CANCELLED)
        tg__metrics_tokens(s->metrics, j->n_prompt, j->n_cached, j->n_gen);
    sl->state = SLOT_FREE;
    pthread_mutex_lock(&s->mu);
    sl->job = NULL; /* under mu: tg__sched_cancel_all reads it */
    sl->last_used = ++s->clock;
    s->active--;
    pthread_mutex_unlock(&s->mu);
    tg__job_release(j);
}

/* ---- admission ---------------------------------------------------------------- */

static int32_t common_prefix(const tg_token *a, int32_t na, const tg_token *b, int32_t nb) {
    int32_t n = TG_MIN(na, nb), i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

/* Moves queued jobs into free slots.  Called with s->mu held. */
static void admit(tg__sched *s) {
    while (s->q_len > 0 && s->active < s->n_slots) {
        tg__job *j = s->queue[s->q_head];
        s->q_head = (s->q_head + 1) % s->ring_cap;
        s->q_len--;
        if (atomic_load(&j->cancel)) { /* its client left while it waited */
            pthread_mutex_lock(&j->mu);
            j->finish = TG__FINISH_CANCELLED;
            pthread_cond_broadcast(&j->cv);
            pthread_mutex_unlock(&j->mu);
            tg__job_release(j);
            continue;
        }
        /* the free slot sharing the longest prefix; ties: least recently used */
        slot *best = NULL;
        int32_t best_len = -1;
        for (int i = 0; i < s->n_slots; i++) {
            slot *sl = &s->slots[i];
            if (sl->state != SLOT_FREE)
                continue;
            int32_t l = common_prefix(sl->cache, sl->n_cache, j->prompt, j->n_prompt);
            if (l > best_len || (l == best_len && sl->last_used < best->last_used)) {
                best = sl;
                best_len = l;
            }
        }
        /* at least the last prompt token is evaluated: its logits start the reply */
        int32_t keep = TG_MIN(best_len, j->n_prompt - 1);
        tg_ctx_seq_truncate(s->ctx, best->seq, keep);
        best->n_cache = keep;
        best->n_past = keep;
        best->job = j;
        best->state = SLOT_PROMPT;
        best->undecided = j->constrain == TG__CONSTRAIN_LAZY;
        best->constrained = j->constrain == TG__CONSTRAIN_FULL;
        if (best->constrained)
            tg__job_grammar_trigger(j);
        tg_detok_init(&best->detok, s->vocab, false);
        tg_stop_reset(j->stop);
        tg_sampler_set_allowed(j->sampler, NULL);
        pthread_mutex_lock(&j->mu);
        j->n_cached = keep;
        pthread_mutex_unlock(&j->mu);
        s->active++;
    }
}

/* ---- one sampled token ------------------------------------------------------------- */

static bool is_space(char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

/* Samples the next token of a slot from its row of logits and routes it:
 * text to the job, or the end of the job. */
static void take_token(tg__sched *s, slot *sl, const float *logits) {
    tg__job *j = sl->job;
    /* the token's log-probability needs a pass over the whole vocabulary
     * (262,144 expf for Gemma 3), done on this thread while the pool waits:
     * only for jobs that asked for logprobs */
    tg_sample_info info;
    tg_sample_info *want = j->logprobs ? &info : NULL;
    if (sl->constrained)
        tg_sampler_set_allowed(j->sampler, tg__job_grammar_mask(j));
    tg_token t = tg_sampler_sample(j->sampler, logits, want);
    if (t >= 0 && sl->undecided) {
        /* a lazy tool call starts when the first visible character is '{':
         * the token is then drawn again under the envelope grammar */
        size_t n = tg_token_to_piece(s->vocab, t, false, s->piece, PIECE_CAP);
        size_t i = 0;
        while (i < n && i < PIECE_CAP && is_space(s->piece[i]))
            i++;
        if (i < n && i < PIECE_CAP) {
            sl->undecided = false;
            bool call = s->piece[i] == '{' && tg__job_grammar_trigger(j);
            pthread_mutex_lock(&j->mu);
            j->undecided = false;
            if (call) {
                tg_str rest = tg_stop_flush(j->stop);
                tg__job_append_text(j, rest.ptr, rest.len);
                j->tool_at = (int64_t)j->text_len;
            }
            pthread_cond_broadcast(&j->cv);
            pthread_mutex_unlock(&j->mu);
            if (call) {
                sl->constrained = true;
                tg_sampler_set_allowed(j->sampler, tg__job_grammar_mask(j));
                t = tg_sampler_sample(j->sampler, logits, want);
            }
        }
    }
    if (t < 0) {
        finish(s, sl, TG__FINISH_ERROR, false, tg_last_error());
        return;
    }
    if (sl->constrained && !tg__job_grammar_accept(j, t)) {
        finish(s, sl, TG__FINISH_ERROR, false, "the grammar refused a token it allowed");
        return;
    }
    tg_sampler_accept(j->sampler, t);
    double now = tg__now();
    pthread_mutex_lock(&j->mu);
    bool ok = !want || tg__job_append_rec(j, want);
    j->n_gen++;
    if (j->n_gen == 1) {
        j->t_first = now;
        if (s->metrics)
            tg__metrics_ttft(s->metrics, now - j->t_submit);
    } else if (s->metrics) {
        tg__metrics_token_gap(s->metrics, now - sl->t_last);
    }
    sl->t_last = now;
    pthread_mutex_unlock(&j->mu);
    if (!ok) {
        finish(s, sl, TG__FINISH_ERROR, false, "out of memory");
        return;
    }
    if (tg_vocab_is_eog(s->vocab, t)) {
        /* under a grammar, end-of-generation is allowed only once the
         * document is complete (and the grammar accepted it above) */
        if (sl->constrained && tg__job_grammar_complete(j)) {
            pthread_mutex_lock(&j->mu);
            j->grammar_done = true;
            pthread_mutex_unlock(&j->mu);
        }
        finish(s, sl, TG__FINISH_STOP, true, NULL);
        return;
    }
    size_t n = tg_detok_push(&sl->detok, t, s->piece, PIECE_CAP);
    if (n > PIECE_CAP) {
        finish(s, sl, TG__FINISH_ERROR, false, "a token's text is longer than 64 KiB");
        return;
    }
    bool stopped = false;
    pthread_mutex_lock(&j->mu);
    if (sl->constrained) {
        /* stop strings do not cut a constrained reply: it ends when the
         * grammar is complete */
        ok = tg__job_append_text(j, s->piece, n);
    } else {
        tg_str shown;
        ok = tg_stop_feed(j->stop, s->piece, n, &shown, &stopped) == TG_OK &&
             tg__job_append_text(j, shown.ptr, shown.len);
    }
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (!ok) {
        finish(s, sl, TG__FINISH_ERROR, false, "out of memory");
        return;
    }
    if (stopped) {
        finish(s, sl, TG__FINISH_STOP, false, NULL);
        return;
    }
    if (sl->constrained && tg__job_grammar_complete(j)) {
        pthread_mutex_lock(&j->mu);
        j->grammar_done = true;
        pthread_mutex_unlock(&j->mu);
        finish(s, sl, TG__FINISH_STOP, true, NULL);
        return;
    }
    if (j->n_gen >= j->max_tokens || sl->n_cache + 1 >= s->n_ctx) {
        finish(s, sl, TG__FINISH_LENGTH, true, NULL);
        return;
    }
    sl->pending = t;
    sl->state = SLOT_GEN;
}

/* ---- the step loop -------------------------------------------------------------- */

static void cancel_flagged(tg__sched *s) {
    for (int i = 0; i < s->n_slots; i++) {
        slot *sl = &s->slots[i];
        if (sl->state != SLOT_FREE && (atomic_load(&sl->job->cancel) || s->quit))
            finish(s, sl, TG__FINISH_CANCELLED, false, NULL);
    }
}

/* Shares a step's joules among the slots of its n batch rows, a row each;
 * a failed reading (< 0) leaves those jobs without a figure. */
static void attribute_energy(tg__sched *s, double joules, int32_t n) {
    for (int32_t k = 0; k < n; k++) {
        slot *sl = &s->slots[s->b_seq[k]];
        if (joules < 0)
            sl->energy_lost = true;
        else
            sl->joules += joules / n;
    }
    if (joules > 0 && s->metrics)
        tg__metrics_energy(s->metrics, joules, tg__energy_estimated(s->energy));
}

/* One forward step over every slot with work; false if there was none. */
static bool step(tg__sched *s) {
    int32_t n = 0;
    int n_out = 0, generating = 0;
    for (int i = 0; i < s->n_slots; i++) {
        slot *sl = &s->slots[i];
        if (sl->state != SLOT_GEN)
            continue;
        s->b_tok[n] = sl->pending;
        s->b_pos[n] = sl->n_cache;
        s->b_seq[n] = sl->seq;
        s->b_out[n] = 1;
        s->out_slot[n_out++] = i;
        n++;
        generating++;
    }
    /* prompt chunks: oldest job first, so a queue of prompts is served in order */
    int32_t budget = s->prefill_chunk;
    while (budget > 0) {
        slot *pick = NULL;
        int pick_i = -1;
        for (int i = 0; i < s->n_slots; i++) {
            slot *sl = &s->slots[i];
            /* one chunk per slot per step (chunked slots are marked) */
            if (sl->state == SLOT_PROMPT && !sl->in_step && sl->n_past < sl->job->n_prompt &&
                (!pick || sl->job->t_submit < pick->job->t_submit)) {
                pick = sl;
                pick_i = i;
            }
        }
        if (!pick)
            break;
        pick->in_step = true;
        int32_t take = TG_MIN(pick->job->n_prompt - pick->n_past, budget);
        for (int32_t k = 0; k < take; k++) {
            int32_t p = pick->n_past + k;
            s->b_tok[n] = pick->job->prompt[p];
            s->b_pos[n] = pick->n_cache + k;
            s->b_seq[n] = pick->seq;
            s->b_out[n] = p == pick->job->n_prompt - 1;
            if (s->b_out[n])
                s->out_slot[n_out++] = pick_i;
            n++;
        }
        budget -= take;
    }
    for (int i = 0; i < s->n_slots; i++)
        s->slots[i].in_step = false;
    if (n == 0)
        return false;
    tg_batch b = {.n = n, .token = s->b_tok, .pos = s->b_pos, .seq = s->b_seq, .output = s->b_out};
    tg_meter_reading e0;
    const bool metered = tg__energy_begin(s->energy, &e0);
    if (tg_ctx_decode(s->ctx, &b) != TG_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "decode failed: %s", tg_last_error());
        for (int32_t k = 0; k < n; k++) {
            slot *sl = &s->slots[s->b_seq[k]];
            if (sl->state != SLOT_FREE)
                finish(s, sl, TG__FINISH_ERROR, false, msg);
        }
        return true;
    }
    if (s->metrics)
        tg__metrics_step(s->metrics, n, generating);
    if (s->energy)
        attribute_energy(s, metered ? tg__energy_end(s->energy, &e0) : -1.0, n);
    /* the batch is in the cache now: record its tokens per slot */
    for (int32_t k = 0; k < n; k++) {
        slot *sl = &s->slots[s->b_seq[k]]; /* slot i holds sequence i */
        sl->cache[sl->n_cache++] = s->b_tok[k];
        if (sl->state == SLOT_PROMPT)
            sl->n_past++;
    }
    for (int o = 0; o < n_out; o++) {
        slot *sl = &s->slots[s->out_slot[o]];
        if (sl->state != SLOT_FREE)
            take_token(s, sl, tg_ctx_logits(s->ctx, o));
    }
    return true;
}

static void *run(void *arg) {
    tg__sched *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->quit && s->active == 0 && s->q_len == 0)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->quit) {
            pthread_mutex_unlock(&s->mu);
            cancel_flagged(s);
            return NULL;
        }
        admit(s);
        pthread_mutex_unlock(&s->mu);
        cancel_flagged(s);
        step(s);
    }
}

/* ---- public (to src/serve) ---------------------------------------------------- */

tg__sched *tg__sched_new(const tg_model *m, tg_ctx *ctx, const tg__sched_params *p, tg__metrics *metrics) {
    if (p->n_slots < 1 || p->queue_max < 0 || p->prefill_chunk < 1) {
        tg__fail(TG_ERR_ARG, "scheduler: need at least one slot and a positive prefill chunk");
        return NULL;
    }
    tg__sched *s = tg__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->model = m;
    s->vocab = tg_model_vocab(m);
    s->ctx = ctx;
    s->n_ctx = tg_ctx_n_ctx(ctx);
    s->metrics = metrics;
    s->energy = p->energy;
    if (s->energy && metrics) /* the counter shows from the start, at 0 */
        tg__metrics_energy(metrics, 0.0, tg__energy_estimated(s->energy));
    s->n_slots = p->n_slots;
    s->prefill_chunk = p->prefill_chunk;
    s->queue_max = p->queue_max;
    s->ring_cap = p->n_slots + p->queue_max;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    size_t cap = (size_t)p->n_slots + (size_t)p->prefill_chunk;
    s->slots = tg__calloc((size_t)p->n_slots, sizeof *s->slots);
    s->queue = tg__calloc((size_t)s->ring_cap, sizeof *s->queue);
    s->b_tok = tg__malloc(cap * sizeof *s->b_tok);
    s->b_pos = tg__malloc(cap * sizeof *s->b_pos);
    s->b_seq = tg__malloc(cap * sizeof *s->b_seq);
    s->b_out = tg__malloc(cap * sizeof *s->b_out);
    s->out_slot = tg__malloc(cap * sizeof *s->out_slot);
    s->piece = tg__malloc(PIECE_CAP);
    if (!s->slots || !s->queue || !s->b_tok || !s->b_pos || !s->b_seq || !s->b_out || !s->out_slot || !s->piece)
        goto fail;
    for (int i = 0; i < p->n_slots; i++) {
        s->slots[i].seq = i;
        if (!(s->slots[i].cache = tg__malloc((size_t)s->n_ctx * sizeof(tg_token))))
            goto fail;
    }
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        tg__fail(TG_ERR_NOMEM, "scheduler: cannot start its thread");
        goto fail;
    }
    s->started = true;
    return s;
fail:
    tg__sched_free(s);
    return NULL;
}

void tg__sched_free(tg__sched *s) {
    if (!s)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->quit = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    /* jobs still queued never ran: tell their waiters */
    while (s->q_len > 0) {
        tg__job *j = s->queue[s->q_head];
        s->q_head = (s->q_head + 1) % s->ring_cap;
        s->q_len--;
        pthread_mutex_lock(&j->mu);
        j->finish = TG__FINISH_CANCELLED;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
        tg__job_release(j);
    }
    for (int i = 0; s->slots && i < s->n_slots; i++)
        free(s->slots[i].cache);
    free(s->slots);
    free(s->queue);
    free(s->b_tok);
    free(s->b_pos);
    free(s->b_seq);
    free(s->b_out);
    free(s->out_slot);
    free(s->piece);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

tg__submit tg__sched_submit(tg__sched *s, tg__job *j) {
    pthread_mutex_lock(&s->mu);
    tg__submit r = TG__SUBMIT_OK;
    if (s->draining || s->quit) {
        r = TG__SUBMIT_DRAINING;
    } else if (s->active + s->q_len >= s->n_slots + s->queue_max) {
        /* every slot busy and queue_max jobs already waiting */
        r = TG__SUBMIT_FULL;
    } else {
        tg__job_retain(j);
        j->t_submit = tg__now();
        s->queue[(s->q_head + s->q_len) % s->ring_cap] = j;
        s->q_len++;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

void tg__sched_drain(tg__sched *s) {
    pthread_mutex_lock(&s->mu);
    s->draining = true;
    pthread_mutex_unlock(&s->mu);
}

bool tg__sched_idle(tg__sched *s) {
    pthread_mutex_lock(&s->mu);
    bool idle = s->active == 0 && s->q_len == 0;
    pthread_mutex_unlock(&s->mu);
    return idle;
}

void tg__sched_counts(tg__sched *s, int *queued, int *active, int *slots) {
    pthread_mutex_lock(&s->mu);
    *queued = s->q_len;
    *active = s->active;
    *slots = s->n_slots;
    pthread_mutex_unlock(&s->mu);
}

void tg__sched_cancel_all(tg__sched *s) {
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->q_len; i++)
        tg__job_cancel(s->queue[(s->q_head + i) % s->ring_cap]);
    for (int i = 0; i < s->n_slots; i++)
        if (s->slots[i].job)
            tg__job_cancel(s->slots[i].job);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}
