/*
 * reader.c — the reading library behind `tinglado serve --library DB`: the
 * connection the request handlers share, and the one background worker
 * that turns URLs added on the page into articles.
 *
 * The worker has its own SQLite connection (WAL lets the page read while it
 * writes; a write waits on the other's lock through the busy timeout) and
 * works in passes: tg_library_sync over everything pending (fetch +
 * extract, one commit per step, one request per host at a time), then chunk
 * embeddings of extracted articles that lack them when an embedding model
 * is loaded.  A pass starts when the page adds something (tg__reader_kick)
 * or every WAKE_S seconds (failed items with attempts left are retried).
 *
 * When a generative model is served, a pass also enriches the extracted
 * articles (summary and tags, tg_enrich) through that model, one article
 * per LLM turn, so a question asked on the page waits for one article at
 * most; an article the model fails on is not retried until a restart.
 *
 * Shutdown: tg__reader_stop sets the flag the sync polls before each item
 * and that the embedding loop checks per article, then joins — the step in
 * flight finishes and commits (a fetch is bounded by FETCH_TIMEOUT_S).
 *
 * Must never: hold the handlers' connection while fetching, or embed
 * outside embed_mu (the embedder is single-threaded and /v1/embeddings
 * shares it).
 */
#include "serve/serve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    WAKE_S = 60,          /* a pass at least this often                     */
    FETCH_TIMEOUT_S = 20, /* bounds how long a shutdown waits on a fetch     */
    CHUNK_WORDS = 150,    /* as `read embed`: about 200 WordPiece tokens     */
};

static bool should_stop(void *user) {
    tg__reader *r = user;
    pthread_mutex_lock(&r->wmu);
    bool s = r->stop;
    pthread_mutex_unlock(&r->wmu);
    return s;
}

/* Embeds the passages of one article; false on failure (message set). */
static bool embed_one(tg__reader *r, tg_library *lib, int64_t id) {
    char *text = NULL;
    int32_t *offs = NULL, *lens = NULL;
    size_t k = 0;
    bool ok = false;
    if (tg_library_get_content(lib, id, &text, NULL) || !text || tg_read_chunk(text, CHUNK_WORDS, &offs, &lens, &k))
        goto done;
    const int32_t dim = tg_embedder_dim(r->embedder);
    const char **texts = tg__calloc(k + 1, sizeof *texts);
    size_t *tl = tg__calloc(k + 1, sizeof *tl);
    float *vecs = tg__calloc((k + 1) * (size_t)dim, sizeof *vecs);
    if (texts && tl && vecs) {
        for (size_t j = 0; j < k; j++)
            texts[j] = text + offs[j], tl[j] = (size_t)lens[j];
        tg_status s = TG_OK;
        if (k) {
            pthread_mutex_lock(r->embed_mu);
            s = tg_embed(r->embedder, texts, tl, k, vecs, NULL);
            pthread_mutex_unlock(r->embed_mu);
        }
        ok = !s && !tg_library_set_chunks(lib, id, r->embed_model, vecs, dim, offs, lens, k);
    }
    free(texts);
    free(tl);
    free(vecs);
done:
    free(offs);
    free(lens);
    free(text);
    return ok;
}

static void embed_all(tg__reader *r, tg_library *lib);

static bool no_enrich(const tg__reader *r, int64_t id) {
    for (size_t i = 0; i < r->n_no_enrich; i++)
        if (r->no_enrich[i] == id)
            return true;
    return false;
}

static void remember_no_enrich(tg__reader *r, int64_t id) {
    if (r->n_no_enrich == r->cap_no_enrich) {
        size_t cap = r->cap_no_enrich ? 2 * r->cap_no_enrich : 16;
        int64_t *v = tg__realloc(r->no_enrich, cap * sizeof *v);
        if (!v)
            return;
        r->no_enrich = v;
        r->cap_no_enrich = cap;
    }
    r->no_enrich[r->n_no_enrich++] = id;
}

static bool collect_extracted(const tg_item *it, void *user) {
    tg__reader *r = ((void **)user)[0];
    int64_t **ids = ((void **)user)[1];
    size_t *n = ((void **)user)[2];
    if (no_enrich(r, it->id))
        return true;
    int64_t *v = tg__realloc(*ids, (*n + 1) * sizeof *v);
    if (!v)
        return false;
    *ids = v;
    v[(*n)++] = it->id;
    return true;
}

/* Summary and tags for each extracted article, through the served model. */
static void enrich_all(tg__reader *r, tg_library *lib) {
    tg_item_filter f = tg_item_filter_all();
    f.state = TG_ITEM_EXTRACTED;
    int64_t *ids = NULL;
    size_t n = 0;
    void *ctx[3] = {r, &ids, &n};
    if (tg_library_list(lib, &f, collect_extracted, ctx)) {
        fprintf(stderr, "tinglado serve: library enrichment: %s\n", tg_last_error());
        free(ids);
        return;
    }
    for (size_t i = 0; i < n && !should_stop(r); i++) {
        tg_item it;
        char *text = NULL, **known = NULL;
        size_t n_known = 0;
        tg_enrichment e = {0};
        if (tg_library_get(lib, ids[i], &it))
            continue;
        tg_library_get_content(lib, it.id, &text, NULL);
        tg_library_tags(lib, &known, &n_known); /* refreshed: earlier articles' tags count */
        pthread_mutex_lock(&r->llm_mu);
        /* the embedded engine is slow: it gets the article's first 1500 bytes, as `read enrich` */
        tg_status s = tg_enrich(r->llm, it.title, text ? text : "", (const char *const *)known, n_known,
                                tg_llm_is_embedded(r->llm) ? 1500 : 0, &e);
        pthread_mutex_unlock(&r->llm_mu);
        if (!s)
            s = tg_library_set_summary_tags(lib, it.id, &e);
        if (s) {
            fprintf(stderr, "tinglado serve: library: enriching item %lld: %s\n", (long long)it.id, tg_last_error());
            remember_no_enrich(r, it.id);
        }
        tg_enrichment_clear(&e);
        for (size_t k = 0; k < n_known; k++)
            free(known[k]);
        free(known);
        free(text);
        tg_item_clear(&it);
    }
    free(ids);
}

static void pass(tg__reader *r, tg_library *lib) {
    tg_sync_params sp = tg_sync_default_params();
    sp.jobs = 1; /* one fetch at a time: a home server's worker, not a crawler */
    sp.fetch.timeout_s = FETCH_TIMEOUT_S;
    sp.stop = should_stop;
    sp.user = r;
    const char *delay = getenv("TINGLADO_HOST_DELAY"); /* tests on loopback need no politeness */
    if (delay && *delay)
        sp.host_delay_s = strtod(delay, NULL);
    tg_sync_stats st;
    if (tg_library_sync(lib, &sp, &st))
        fprintf(stderr, "tinglado serve: library sync: %s\n", tg_last_error());
    else if (st.total)
        fprintf(stderr, "tinglado serve: library: %zu item(s) processed, %zu extracted, %zu failed\n", st.total,
                st.extracted, st.failed);
    if (r->embedder && !should_stop(r))
        embed_all(r, lib);
    if (r->llm && !should_stop(r))
        enrich_all(r, lib);
}

/* Chunk embeddings of every extracted article that lacks them. */
static void embed_all(tg__reader *r, tg_library *lib) {
    int64_t *ids = NULL;
    size_t n = 0;
    if (tg_library_unembedded(lib, r->embed_model, &ids, &n)) {
        fprintf(stderr, "tinglado serve: library embeddings: %s\n", tg_last_error());
        return;
    }
    for (size_t i = 0; i < n && !should_stop(r); i++)
        if (!embed_one(r, lib, ids[i]))
            fprintf(stderr, "tinglado serve: library: embedding item %lld: %s\n", (long long)ids[i],
                    tg_last_error());
    free(ids);
}

static void *worker(void *arg) {
    tg__reader *r = arg;
    tg_library *lib = tg_library_open(r->path);
    if (!lib) {
        fprintf(stderr, "tinglado serve: library worker: %s\n", tg_last_error());
        return NULL;
    }
    pthread_mutex_lock(&r->wmu);
    while (!r->stop) {
        r->kick = false;
        r->busy = true;
        pthread_mutex_unlock(&r->wmu);
        pass(r, lib);
        pthread_mutex_lock(&r->wmu);
        r->busy = false;
        r->passes++;
        pthread_cond_broadcast(&r->wcv);
        if (r->stop || r->kick)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += WAKE_S;
        while (!r->stop && !r->kick)
            if (pthread_cond_timedwait(&r->wcv, &r->wmu, &ts) == ETIMEDOUT)
                break;
    }
    pthread_mutex_unlock(&r->wmu);
    tg_library_close(lib);
    return NULL;
}

tg__reader *tg__reader_open(const char *path, tg_embedder *e, const char *embed_model, pthread_mutex_t *embed_mu,
                            tg_llm *llm) {
    tg__reader *r = tg__calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->llm = llm;
    pthread_mutex_init(&r->llm_mu, NULL);
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->wmu, NULL);
    pthread_cond_init(&r->wcv, NULL);
    r->embedder = e;
    r->embed_model = embed_model;
    r->embed_mu = embed_mu;
    if (!(r->path = strdup(path)) || !(r->lib = tg_library_open(path))) {
        if (!r->path)
            tg__fail(TG_ERR_NOMEM, "out of memory");
        tg__reader_free(r);
        return NULL;
    }
    int err = pthread_create(&r->thread, NULL, worker, r);
    if (err) {
        tg__fail(TG_ERR_IO, "library worker: pthread_create: %s", strerror(err));
        tg__reader_free(r);
        return NULL;
    }
    r->started = true;
    return r;
}

void tg__reader_kick(tg__reader *r) {
    pthread_mutex_lock(&r->wmu);
    r->kick = true;
    pthread_cond_broadcast(&r->wcv);
    pthread_mutex_unlock(&r->wmu);
}

void tg__reader_stop(tg__reader *r) {
    if (!r || !r->started)
        return;
    pthread_mutex_lock(&r->wmu);
    r->stop = true;
    pthread_cond_broadcast(&r->wcv);
    pthread_mutex_unlock(&r->wmu);
    pthread_join(r->thread, NULL);
    r->started = false;
}

void tg__reader_free(tg__reader *r) {
    if (!r)
        return;
    tg__reader_stop(r);
    tg_library_close(r->lib);
    free(r->path);
    pthread_cond_destroy(&r->wcv);
    pthread_mutex_destroy(&r->wmu);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->llm_mu);
    free(r->no_enrich);
    free(r);
}

float *tg__reader_query_vec(tg__reader *r, const char *query, int32_t *dim) {
    if (!r->embedder)
        return NULL;
    *dim = tg_embedder_dim(r->embedder);
    float *v = tg__malloc((size_t)*dim * sizeof *v);
    if (!v)
        return NULL;
    pthread_mutex_lock(r->embed_mu);
    tg_status s = tg_embed(r->embedder, &query, NULL, 1, v, NULL);
    pthread_mutex_unlock(r->embed_mu);
    if (s) {
        free(v);
        return NULL;
    }
    return v;
}

int tg__reader_ask(tg__reader *r, const char *question, char **out) {
    *out = NULL;
    if (!r->llm) {
        *out = tg__error_json(400, "No generative model is served: start tinglado serve with -m MODEL to ask.", NULL,
                              "no_model");
        return 400;
    }
    /* a connection of its own: an answer takes seconds, and the page's
     * other calls must not wait on it */
    tg_library *lib = tg_library_open(r->path);
    tg_answer a = {0};
    tg_status s = lib ? TG_OK : TG_ERR_IO;
    if (!s) {
        tg_ask_params ap = tg_ask_default_params();
        ap.embed_model = r->embedder ? r->embed_model : NULL;
        pthread_mutex_lock(&r->llm_mu);
        if (r->embedder)
            pthread_mutex_lock(r->embed_mu);
        s = tg_library_ask(lib, r->llm, r->embedder, &ap, question, &a);
        if (r->embedder)
            pthread_mutex_unlock(r->embed_mu);
        pthread_mutex_unlock(&r->llm_mu);
    }
    int status = 200;
    if (s) {
        char msg[400];
        snprintf(msg, sizeof msg, "Could not answer: %.350s", tg_last_error());
        status = s == TG_ERR_ARG ? 400 : 500;
        *out = tg__error_json(status, msg, "question", s == TG_ERR_ARG ? "invalid_value" : "server_error");
    } else {
        *out = tg_answer_json(&a, question);
    }
    tg_answer_clear(&a);
    tg_library_close(lib);
    return *out ? status : 500;
}
