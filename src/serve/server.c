/*
 * server.c — tg_server: the model, one context with a sequence per slot,
 * the scheduler thread and the HTTP daemon, and their orderly end.
 *
 * Shutdown (tg_serve_stop, called from a signal handler):
 *   graceful — stop accepting connections, refuse new requests on open ones
 *              (503), let queued and running requests finish and their
 *              responses go out, then close;
 *   forced   — a second stop: cancel whatever runs and close now.
 * tg_serve_stop only writes a byte to a pipe, which is async-signal-safe;
 * tg_serve_run's thread does the work.
 *
 * Must never: listen on a non-loopback address without an API key unless
 * the caller said insecure.
 */
#include "serve/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

struct tg_server {
    tg_serve_params p;
    char model_id[128];
    char embed_model_id[128];
    tg_embedder *embedder;
    bool embed_mu_init;
    tg_model *model;
    tg_ctx *ctx;
    tg__metrics *metrics;
    tg__alog *alog;
    tg__energy *energy;
    tg__sched *sched;
    tg__http *http;
    tg__reader *reader;
    tg_llm *llm; /* the library's client of the model (enrichment, ask) */
    tg__app app;
    int pipe_rd, pipe_wr;
    _Atomic int stops;
};

tg_serve_params tg_serve_default_params(void) {
    return (tg_serve_params){
        .host = "127.0.0.1",
        .port = 8080,
        .parallel = 4,
        .queue = 64,
        .max_body = 4u << 20,
        .prefill_chunk = 128,
        .timeout_s = 60,
        .max_connections = 256,
        .kv_type = TG_TYPE_F16,
        .sampling = tg_sampler_defaults(),
        .energy_idle_s = 1.0,
        .pue = 1.0,
    };
}

/* The model's name in the API: the file name without directory and .gguf. */
static void stem(const char *path, char *out, size_t cap) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n > 5 && !strcmp(b + n - 5, ".gguf"))
        n -= 5;
    snprintf(out, cap, "%.*s", (int)TG_MIN(n, cap - 1), b);
}

/* The grammar engine indexes a vocabulary's tokens on first use; doing it
 * here keeps that one-time cost out of the first constrained request (and
 * off the scheduler's thread). */
static void warm_grammar(const tg_model *m) {
    tg_grammar *g = tg_grammar_json_object();
    tg_grammar_state *st = g ? tg_grammar_state_new(g, tg_model_vocab(m)) : NULL;
    uint32_t *bits = st ? calloc(((size_t)tg_model_n_vocab(m) + 31) / 32, sizeof *bits) : NULL;
    if (bits)
        (void)tg_grammar_allowed(st, bits);
    free(bits);
    tg_grammar_state_free(st);
    tg_grammar_free(g);
}

/* The generative model, its chat template, one context with a sequence per
 * slot, the energy meter; false on failure (message set). */
static bool load_model(tg_server *s, const tg_serve_params *p, tg_chat_template *tmpl) {
    if (!(s->model = tg_model_load(p->model)))
        return false;
    if (p->model_id && *p->model_id)
        snprintf(s->model_id, sizeof s->model_id, "%s", p->model_id);
    else
        stem(p->model, s->model_id, sizeof s->model_id);
    tg_status st = p->chat_template ? tg_chat_template_from_name(p->chat_template, tmpl)
                                    : tg_chat_template_detect_gguf(tg_model_gguf(s->model), tmpl);
    if (st)
        return false;
    tg_ctx_params cp = tg_ctx_default_params();
    cp.n_ctx = p->n_ctx;
    cp.n_seq = p->parallel;
    cp.n_outputs = p->parallel;
    cp.n_threads = p->n_threads;
    cp.kv_type = p->kv_type;
    if (!(s->ctx = tg_ctx_new(s->model, &cp)))
        return false;
    if (!p->no_energy && !(s->energy = tg__energy_new(p)))
        return false;
    warm_grammar(s->model);
    return true;
}

/* The page's login cookie: 32 random bytes as hex, new for every process
 * (a restart logs everyone out). */
static bool random_token(char *out, size_t cap) {
    unsigned char b[32];
    if (cap < 2 * sizeof b + 1 || getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        tg__fail(TG_ERR_IO, "serve: no random bytes for the session token: %s", strerror(errno));
        return false;
    }
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return true;
}

tg_server *tg_serve_new(const tg_serve_params *params) {
    tg_serve_params p = params ? *params : tg_serve_default_params();
    if (!p.model && !p.library)
        return tg__fail(TG_ERR_ARG, "serve: no model given (-m MODEL, or --library DB to serve only the library)"),
               NULL;
    if (p.parallel < 1 || p.parallel > 256 || p.queue < 0 || p.queue > 65536 || p.prefill_chunk < 1 ||
        p.max_connections < 1 || p.port < 0 || p.port > 65535 || p.max_body < 1024)
        return tg__fail(TG_ERR_ARG, "serve: a parameter is out of range (parallel 1..256, queue 0..65536, "
                                    "port 0..65535, body >= 1 KiB)"), NULL;
    const char *key = (p.api_key && *p.api_key) ? p.api_key : NULL;
    if (!key && !p.insecure && !tg__host_is_loopback(p.host))
        return tg__fail(TG_ERR_ARG, "serve: refusing to listen on %s, which is not a loopback address, without an "
                                    "API key (--api-key or TINGLADO_API_KEY); --insecure overrides", p.host), NULL;
    tg_server *s = tg__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->p = p;
    s->pipe_rd = s->pipe_wr = -1;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        tg__fail(TG_ERR_IO, "serve: pipe: %s", strerror(errno));
        goto fail;
    }
    s->pipe_rd = fds[0];
    s->pipe_wr = fds[1];
    tg_chat_template tmpl = {0};
    if (p.model && !load_model(s, &p, &tmpl))
        goto fail;
    if (!(s->metrics = tg__metrics_new()) || !(s->alog = tg__alog_open(p.access_log)))
        goto fail;
    if (p.embed_model) {
        tg_embedder_params ep = tg_embedder_default_params();
        ep.n_threads = p.n_threads;
        if (!(s->embedder = tg_embedder_load(p.embed_model, &ep))) {
            tg__fail_prefix(TG_ERR_FORMAT, "embedding model");
            goto fail;
        }
        if (p.embed_model_id && *p.embed_model_id)
            snprintf(s->embed_model_id, sizeof s->embed_model_id, "%s", p.embed_model_id);
        else
            stem(p.embed_model, s->embed_model_id, sizeof s->embed_model_id);
    }
    tg__sched_params sp = {.n_slots = p.parallel, .queue_max = p.queue, .prefill_chunk = p.prefill_chunk};
    sp.energy = s->energy;
    if (s->model && !(s->sched = tg__sched_new(s->model, s->ctx, &sp, s->metrics)))
        goto fail;
    const int32_t n_ctx = s->ctx ? tg_ctx_n_ctx(s->ctx) : 0;
    s->app = (tg__app){
        .model = s->model,
        .vocab = s->model ? tg_model_vocab(s->model) : NULL,
        .tmpl = tmpl,
        .model_id = s->model_id,
        .created = (int64_t)time(NULL),
        .n_ctx = n_ctx,
        .max_tokens = p.max_tokens > 0 ? TG_MIN(p.max_tokens, n_ctx - 1) : n_ctx - 1,
        .defaults = p.sampling,
        .api_key = key,
        .max_body = p.max_body,
        .sched = s->sched,
        .metrics = s->metrics,
        .alog = s->alog,
        .embedder = s->embedder,
        .embed_model_id = s->embed_model_id,
    };
    pthread_mutex_init(&s->app.embed_mu, NULL);
    s->embed_mu_init = true;
    s->app.listen_host = p.host;
    if (p.library) {
        if (!random_token(s->app.session, sizeof s->app.session))
            goto fail;
        /* the served model also enriches and answers for the library: a
         * client of its own over the same file (the weights are one mmap
         * in the page cache; the context is its own), one request at a time */
        if (s->model) {
            tg_llm_engine_params lp = tg_llm_engine_default_params();
            lp.model = p.model;
            lp.n_threads = p.n_threads;
            if (!(s->llm = tg_llm_engine(&lp))) {
                tg__fail_prefix(TG_ERR_IO, "library's language model");
                goto fail;
            }
        }
        if (!(s->reader = tg__reader_open(p.library, s->embedder, s->embed_model_id, &s->app.embed_mu, s->llm))) {
            tg__fail_prefix(TG_ERR_IO, "library %s", p.library);
            goto fail;
        }
        s->app.reader = s->reader;
    }
    tg__http_params hp = {.host = p.host, .port = p.port, .max_connections = (unsigned)p.max_connections,
                          .timeout_s = (unsigned)(p.timeout_s > 0 ? p.timeout_s : 0)};
    if (!(s->http = tg__http_start(&s->app, &hp)))
        goto fail;
    return s;
fail:
    tg_serve_free(s);
    return NULL;
}

int tg_serve_port(const tg_server *s) {
    return s->http ? tg__http_port(s->http) : -1;
}

const char *tg_serve_model_id(const tg_server *s) {
    return s->model_id;
}

const char *tg_serve_energy_label(const tg_server *s) {
    return s->energy ? tg__energy_label(s->energy) : NULL;
}

int32_t tg_serve_n_ctx(const tg_server *s) {
    return s->app.n_ctx;
}

void tg_serve_stop(tg_server *s, bool force) {
    char b = force ? 'F' : 'S';
    int saved = errno; /* a signal handler must leave errno as it found it */
    ssize_t r = write(s->pipe_wr, &b, 1);
    (void)r;
    errno = saved;
}

/* Waits for a stop byte; returns 'S', 'F', or 0 on a poll error. */
static char wait_stop(tg_server *s, int timeout_ms) {
    struct pollfd p = {.fd = s->pipe_rd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno != EINTR)
        return 'F';
    char b = 0, last = 0;
    while (read(s->pipe_rd, &b, 1) == 1)
        last = (last == 'F') ? 'F' : b;
    return last;
}

tg_status tg_serve_run(tg_server *s) {
    char why;
    while (!(why = wait_stop(s, -1)))
        ;
    atomic_store(&s->app.draining, true);
    if (s->sched)
        tg__sched_drain(s->sched);
    tg__http_quiesce(s->http);
    if (why != 'F') {
        fprintf(stderr, "tinglado serve: stopping: finishing %d request(s) in flight (signal again to cancel them)\n",
                atomic_load(&s->app.in_flight));
        /* until every request has been answered, or a second stop */
        while (atomic_load(&s->app.in_flight) > 0 || (s->sched && !tg__sched_idle(s->sched))) {
            if (wait_stop(s, 50)) {
                why = 'F';
                break;
            }
        }
    }
    if (why == 'F') {
        if (s->sched)
            tg__sched_cancel_all(s->sched);
        for (int i = 0; i < 100 && (atomic_load(&s->app.in_flight) > 0 || (s->sched && !tg__sched_idle(s->sched)));
             i++)
            wait_stop(s, 20);
    }
    tg__http_stop(s->http);
    s->http = NULL;
    /* the library's worker finishes the step in flight (it commits per step) */
    tg__reader_stop(s->reader);
    return TG_OK;
}

void tg_serve_free(tg_server *s) {
    if (!s)
        return;
    tg__http_stop(s->http);
    tg__reader_free(s->reader);
    tg_llm_free(s->llm);
    tg__sched_free(s->sched);
    tg__energy_free(s->energy);
    tg__alog_close(s->alog);
    tg__metrics_free(s->metrics);
    tg_ctx_free(s->ctx);
    tg_model_free(s->model);
    tg_embedder_free(s->embedder);
    if (s->embed_mu_init)
        pthread_mutex_destroy(&s->app.embed_mu);
    if (s->pipe_rd >= 0)
        close(s->pipe_rd);
    if (s->pipe_wr >= 0)
        close(s->pipe_wr);
    free(s);
}
