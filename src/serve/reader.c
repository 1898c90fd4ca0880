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
    if (!r->embedder || should_stop(r))
        return;
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

tg__reader *tg__reader_open(const char *path, tg_embedder *e, const char *embed_model, pthread_mutex_t *embed_mu) {
    tg__reader *r = tg__calloc(1, sizeof *r);
    if (!r)
        return NULL;
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
