/*
 * pool.c — the persistent thread pool.
 *
 * A call is split into shares (as many as threads, unless the caller asks
 * for more); the caller publishes the work item under a new generation and
 * then every thread, the caller included, claims shares one at a time from
 * an atomic counter until none is left.  The caller waits only for shares
 * that were claimed and are still running — never for a worker that has not
 * woken up yet.  That matters on a busy machine (a home server runs other
 * things; a server runs its HTTP threads on the same cores): with a fixed
 * share per thread, each of the few hundred calls of a forward pass waited
 * for a descheduled worker, and decoding on 2 threads ran 4x slower than on
 * 1 under contention.  Here a late worker finds its share already done by
 * the others and goes back to waiting.
 *
 * The counter holds, in one 64-bit word, the generation (high 32 bits),
 * the call's share count (16 bits) and the shares claimed so far (low 16),
 * so "is there a share left, and which" is decided by one compare-and-swap
 * on one word: a worker that wakes late cannot claim a share of a newer
 * call under an older one's function or share count — its swap fails and
 * it rereads.  (With the count in a field of its own, a worker could read
 * the next call's larger count before the new generation was published and
 * claim a share past the end of the old one: a stress test caught it within
 * a few thousand calls.)  The function and argument are read only after a
 * successful claim; the caller cannot replace them before that share
 * completes.
 *
 * Waiting spins briefly (calls come microseconds apart in a forward pass)
 * and then sleeps on a condition variable, so an idle pool costs no CPU.
 */
#include "base/pool.h"
#include "base/base.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define SPIN_ITERS 20000

struct tg_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* workers: a new generation is available */
    pthread_cond_t done; /* caller: the last share completed */
    _Atomic uint64_t claim;       /* generation << 32 | shares << 16 | claimed */
    _Atomic int completed;        /* shares of the current call finished */
    _Atomic int caller_sleeping;  /* the caller sleeps on `done` */
    bool stop;                    /* under mu */
    /* the current call: written by the caller before the generation is
     * published, read by a thread only after it claimed a share */
    _Atomic(tg_pool_fn) fn;
    _Atomic(void *) ctx;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static inline unsigned gen_of(uint64_t c) { return (unsigned)(c >> 32); }
static inline int shares_of(uint64_t c) { return (int)((c >> 16) & 0xFFFF); }
static inline int claimed_of(uint64_t c) { return (int)(c & 0xFFFF); }

/* Claims and runs shares of generation g until none is left (or a newer
 * generation appeared, which means g's shares were all claimed). */
static void work(tg_pool *p, unsigned g) {
    uint64_t c = atomic_load_explicit(&p->claim, memory_order_acquire);
    for (;;) {
        if (gen_of(c) != g)
            return;
        const int shares = shares_of(c), k = claimed_of(c);
        if (k >= shares)
            return;
        if (!atomic_compare_exchange_weak_explicit(&p->claim, &c, c + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue; /* c was reloaded */
        tg_pool_fn fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
        fn(atomic_load_explicit(&p->ctx, memory_order_relaxed), k, shares);
        /* seq_cst on both sides: the caller stores caller_sleeping then
         * reads completed, we add to completed then read caller_sleeping;
         * at least one of us sees the other's write. */
        if (atomic_fetch_add(&p->completed, 1) + 1 == shares && atomic_load(&p->caller_sleeping)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
        c = atomic_load_explicit(&p->claim, memory_order_acquire);
    }
}

static void *worker_main(void *arg) {
    tg_pool *p = arg;
    unsigned seen = gen_of(atomic_load(&p->claim));
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = gen_of(atomic_load_explicit(&p->claim, memory_order_acquire))) == seen && spins < SPIN_ITERS) {
            cpu_relax();
            spins++;
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = gen_of(atomic_load_explicit(&p->claim, memory_order_acquire))) == seen && !p->stop)
                pthread_cond_wait(&p->wake, &p->mu);
            const bool stop = p->stop;
            pthread_mutex_unlock(&p->mu);
            if (stop)
                return NULL;
        }
        seen = g;
        work(p, g);
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
            p->n = 1;
            tg_pool_free(p);
            return NULL;
        }
    }
    for (int i = 1; i < n_threads; i++) {
        if (pthread_create(&p->threads[i - 1], NULL, worker_main, p) != 0) {
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

void tg_pool_run_shares(tg_pool *p, tg_pool_fn fn, void *ctx, int shares) {
    if (shares <= 0)
        return;
    if (shares > TG_POOL_MAX_SHARES)
        shares = TG_POOL_MAX_SHARES; /* fn splits its work by the count it is given */
    if (!p || p->n == 1) {
        for (int k = 0; k < shares; k++)
            fn(ctx, k, shares);
        return;
    }
    atomic_store_explicit(&p->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&p->ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&p->completed, 0, memory_order_relaxed);
    /* the new generation with nothing claimed; the release publishes the
     * fields above to whoever acquires it */
    const unsigned g = gen_of(atomic_load_explicit(&p->claim, memory_order_relaxed)) + 1;
    atomic_store_explicit(&p->claim, (uint64_t)g << 32 | (uint64_t)shares << 16, memory_order_release);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);

    work(p, g);

    int spins = 0;
    while (atomic_load_explicit(&p->completed, memory_order_acquire) != shares && spins < SPIN_ITERS) {
        cpu_relax();
        spins++;
    }
    if (atomic_load_explicit(&p->completed, memory_order_acquire) != shares) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->caller_sleeping, 1);
        while (atomic_load(&p->completed) != shares)
            pthread_cond_wait(&p->done, &p->mu);
        atomic_store_explicit(&p->caller_sleeping, 0, memory_order_relaxed);
        pthread_mutex_unlock(&p->mu);
    }
}

void tg_pool_run(tg_pool *p, tg_pool_fn fn, void *ctx) {
    tg_pool_run_shares(p, fn, ctx, tg_pool_size(p));
}
