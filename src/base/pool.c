/*
 * pool.c — the persistent thread pool.
 *
 * Workers wait for a new "generation" number; the caller publishes the work
 * item and bumps the generation, works as thread 0, then waits until every
 * worker has reported done.  Waiting spins briefly (a forward pass issues
 * calls microseconds apart) and then sleeps on a condition variable, so an
 * idle pool costs no CPU.
 */
#include "base/pool.h"
#include "base/base.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define SPIN_ITERS 20000

struct tg_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* workers: a new generation is available */
    pthread_cond_t done; /* caller: the last worker finished */
    _Atomic unsigned generation;
    _Atomic int pending; /* workers still running the current item */
    _Atomic int sleepers_waiting; /* the caller sleeps on `done` */
    bool stop;
    tg_pool_fn fn;
    void *ctx;
};

typedef struct worker_arg {
    tg_pool *p;
    int ith;
} worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *arg) {
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    tg_pool *p = wa.p;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
               spins < SPIN_ITERS) {
            cpu_relax();
            spins++;
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen && !p->stop)
                pthread_cond_wait(&p->wake, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (p->stop)
            return NULL;
        seen = g;
        p->fn(p->ctx, wa.ith, p->n);
        /* seq_cst on both sides: the caller stores sleepers_waiting then
         * reads pending, we decrement pending then read sleepers_waiting;
         * at least one of us must see the other's write. */
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->sleepers_waiting)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

tg_pool *tg_pool_new(int n_threads) {
    if (n_threads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = c > 0 ? (int)c : 1;
    }
    if (n_threads > 512)
        n_threads = 512;
    tg_pool *p = tg__calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (n_threads > 1) {
        p->threads = tg__calloc((size_t)n_threads - 1, sizeof *p->threads);
        if (!p->threads) {
            tg_pool_free(p);
            return NULL;
        }
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = tg__malloc(sizeof *wa);
        if (!wa) {
            p->n = i;
            tg_pool_free(p);
            return NULL;
        }
        wa->p = p;
        wa->ith = i;
        if (pthread_create(&p->threads[i - 1], NULL, worker_main, wa) != 0) {
            free(wa);
            p->n = i;
            tg_pool_free(p);
            tg__fail(TG_ERR_NOMEM, "cannot create thread %d of %d", i, n_threads);
            return NULL;
        }
    }
    return p;
}

void tg_pool_free(tg_pool *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++)
        pthread_join(p->threads[i - 1], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

int tg_pool_size(const tg_pool *p) { return p ? p->n : 1; }

void tg_pool_run(tg_pool *p, tg_pool_fn fn, void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);

    fn(ctx, 0, p->n);

    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0 && spins < SPIN_ITERS) {
        cpu_relax();
        spins++;
    }
    if (atomic_load_explicit(&p->pending, memory_order_acquire) != 0) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->sleepers_waiting, 1);
        while (atomic_load(&p->pending) != 0)
            pthread_cond_wait(&p->done, &p->mu);
        atomic_store_explicit(&p->sleepers_waiting, 0, memory_order_release);
        pthread_mutex_unlock(&p->mu);
    }
}
