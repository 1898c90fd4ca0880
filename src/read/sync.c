/*
 * sync.c — `read sync`: fetch and extract every pending item, a few pages
 * at a time, politely.
 *
 * Workers (params.jobs threads) take the next item whose host is idle and
 * whose delay since that host's last request has passed, so no site sees
 * more than one request at a time or more than one per host_delay_s.  The
 * network and the extraction run outside any lock; each database step runs
 * under one mutex (one SQLite connection) and commits on its own, so a
 * kill -9 leaves every item at its last committed step and the next sync
 * resumes there (a stored page is never fetched again).  Storing the
 * article also merges the item into another that already has its page
 * (store_merge.c).
 */
#include "read/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

tg_sync_params tg_sync_default_params(void) {
    return (tg_sync_params){.jobs = 4, .max_attempts = 3, .host_delay_s = 1.0, .fetch = tg_fetch_default_params()};
}

typedef struct job {
    int64_t id;
    char *url;
    int host;   /* index into hosts */
    int status; /* 0 waiting, 1 running, 2 done */
} job;

typedef struct host {
    char name[256];
    bool busy;
    double next_ok; /* monotonic seconds */
} host;

typedef struct pool {
    tg_library *lib;
    const tg_sync_params *p;
    job *jobs;
    size_t n_jobs, n_done, first_waiting;
    host *hosts;
    size_t n_hosts;
    pthread_mutex_t m;  /* jobs, hosts, counters, progress */
    pthread_mutex_t db; /* the SQLite connection */
    pthread_cond_t c;
    tg_sync_stats st;
} pool;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs one item through the missing steps; returns its error (static per
 * thread) or NULL; *merged_into is the item it was merged into, or 0. */
static const char *process(pool *pl, job *j, int64_t *merged_into) {
    static _Thread_local char err[512];
    char *raw = NULL, *base = NULL;
    size_t len = 0;
    *merged_into = 0;
    pthread_mutex_lock(&pl->db);
    tg_status s = tg_library_get_page(pl->lib, j->id, &raw, &len);
    if (!s)
        base = tg__lib_page_final_url(pl->lib, j->id); /* a page from an interrupted sync */
    pthread_mutex_unlock(&pl->db);
    if (s == TG_ERR_NOT_FOUND) {
        tg_fetch_result r;
        s = tg_fetch(j->url, &pl->p->fetch, &r);
        if (s) {
            snprintf(err, sizeof err, "%s", tg_last_error());
            pthread_mutex_lock(&pl->db);
            tg_library_set_failed(pl->lib, j->id, err);
            pthread_mutex_unlock(&pl->db);
            return err;
        }
        pthread_mutex_lock(&pl->db);
        s = tg_library_set_page(pl->lib, j->id, r.body, r.len, r.final_url, r.content_type);
        pthread_mutex_unlock(&pl->db);
        raw = r.body;
        len = r.len;
        base = r.final_url;
        r.body = r.final_url = NULL;
        tg_fetch_result_clear(&r);
        if (s) {
            snprintf(err, sizeof err, "storing the page: %s", tg_last_error());
            free(raw);
            free(base);
            return err;
        }
    } else if (s) {
        snprintf(err, sizeof err, "%s", tg_last_error());
        return err;
    }
    tg_article a;
    s = tg_extract(raw, len, base ? base : j->url, &a);
    free(raw);
    const char *fail = NULL;
    if (s) {
        snprintf(err, sizeof err, "extraction: %s", tg_last_error());
        fail = err;
    } else if (!a.text || !*a.text) {
        snprintf(err, sizeof err, "no article text found in the page");
        fail = err;
    }
    pthread_mutex_lock(&pl->db);
    if (fail)
        tg_library_set_failed(pl->lib, j->id, fail);
    else if (tg__lib_store_article(pl->lib, j->id, &a, base ? base : j->url, merged_into)) {
        snprintf(err, sizeof err, "storing the article: %s", tg_last_error());
        fail = err;
    }
    pthread_mutex_unlock(&pl->db);
    free(base);
    tg_article_clear(&a);
    return fail;
}

static void *worker(void *arg) {
    pool *pl = arg;
    pthread_mutex_lock(&pl->m);
    for (;;) {
        double t = now_s(), wake = 0;
        job *pick = NULL;
        bool any_waiting = false;
        while (pl->first_waiting < pl->n_jobs && pl->jobs[pl->first_waiting].status != 0)
            pl->first_waiting++;
        for (size_t i = pl->first_waiting; i < pl->n_jobs; i++) {
            job *j = &pl->jobs[i];
            if (j->status != 0)
                continue;
            any_waiting = true;
            host *h = &pl->hosts[j->host];
            if (h->busy)
                continue;
            if (h->next_ok <= t) {
                pick = j;
                break;
            }
            if (!wake || h->next_ok < wake)
                wake = h->next_ok;
        }
        if (!any_waiting || (pl->p->stop && pl->p->stop(pl->p->user)))
            break;
        if (!pick) {
            if (wake) {
                double w = wake - t;
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += (time_t)w;
                ts.tv_nsec += (long)((w - (double)(time_t)w) * 1e9);
                if (ts.tv_nsec >= 1000000000L)
                    ts.tv_sec++, ts.tv_nsec -= 1000000000L;
                pthread_cond_timedwait(&pl->c, &pl->m, &ts);
            } else {
                pthread_cond_wait(&pl->c, &pl->m); /* every candidate's host is busy */
            }
            continue;
        }
        pick->status = 1;
        pl->hosts[pick->host].busy = true;
        pthread_mutex_unlock(&pl->m);
        int64_t merged_into = 0;
        const char *err = process(pl, pick, &merged_into);
        pthread_mutex_lock(&pl->m);
        host *h = &pl->hosts[pick->host];
        h->busy = false;
        h->next_ok = now_s() + pl->p->host_delay_s;
        pick->status = 2;
        pl->n_done++;
        err ? pl->st.failed++ : pl->st.extracted++;
        pl->st.merged += merged_into != 0;
        if (pl->p->progress) {
            tg_sync_progress pr = {.done = pl->n_done, .total = pl->n_jobs, .extracted = pl->st.extracted,
                                   .failed = pl->st.failed, .id = pick->id, .error = err,
                                   .merged_into = merged_into};
            pl->p->progress(&pr, pl->p->user);
        }
        pthread_cond_broadcast(&pl->c);
    }
    pthread_cond_broadcast(&pl->c);
    pthread_mutex_unlock(&pl->m);
    return NULL;
}

tg_status tg_library_sync(tg_library *lib, const tg_sync_params *params, tg_sync_stats *st) {
    tg_sync_params p = params ? *params : tg_sync_default_params();
    if (p.jobs < 1)
        p.jobs = 1;
    if (p.jobs > 64)
        p.jobs = 64;
    if (p.max_attempts < 1)
        p.max_attempts = 1;
    int64_t *ids = NULL;
    size_t n = 0;
    tg_status s = tg_library_pending(lib, p.max_attempts, &ids, &n);
    if (s)
        return s;
    pool pl = {.lib = lib, .p = &p};
    pl.jobs = tg__calloc(n ? n : 1, sizeof *pl.jobs);
    pl.hosts = tg__calloc(n ? n : 1, sizeof *pl.hosts);
    if (!pl.jobs || !pl.hosts) {
        free(ids);
        free(pl.jobs);
        free(pl.hosts);
        return TG_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        tg_item it;
        if ((s = tg_library_get(lib, ids[i], &it)))
            break;
        job *j = &pl.jobs[pl.n_jobs++];
        j->id = it.id;
        j->url = it.url;
        it.url = NULL;
        tg_item_clear(&it);
        char name[256];
        if (!tg__url_host(j->url, name, sizeof name))
            snprintf(name, sizeof name, "?");
        size_t h = 0;
        while (h < pl.n_hosts && strcmp(pl.hosts[h].name, name))
            h++;
        if (h == pl.n_hosts)
            snprintf(pl.hosts[pl.n_hosts++].name, sizeof pl.hosts[0].name, "%s", name);
        j->host = (int)h;
    }
    free(ids);
    pl.st.total = pl.n_jobs;
    if (!s && pl.n_jobs) {
        pthread_mutex_init(&pl.m, NULL);
        pthread_mutex_init(&pl.db, NULL);
        pthread_cond_init(&pl.c, NULL);
        int n_threads = (int)TG_MIN((size_t)p.jobs, pl.n_jobs);
        pthread_t th[64];
        int started = 0;
        for (; started < n_threads; started++)
            if (pthread_create(&th[started], NULL, worker, &pl))
                break;
        if (!started)
            worker(&pl); /* no threads: do it here */
        for (int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        pthread_cond_destroy(&pl.c);
        pthread_mutex_destroy(&pl.db);
        pthread_mutex_destroy(&pl.m);
    }
    for (size_t i = 0; i < pl.n_jobs; i++)
        free(pl.jobs[i].url);
    free(pl.jobs);
    free(pl.hosts);
    if (st)
        *st = pl.st;
    return s;
}
