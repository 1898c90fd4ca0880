/*
 * pool.h — a persistent thread pool for data-parallel work.
 *
 * tg_pool_run(pool, fn, ctx) calls fn(ctx, ith, nth) for each share ith of
 * nth = the pool's size, and returns when all have finished.  Shares are
 * claimed by whichever thread is free (the caller included), so a share's
 * index says which part of the work it is, not which thread runs it; no
 * two threads run the same share at once, so per-share scratch indexed by
 * ith is safe, but fn must not wait for another share (no barriers inside).
 * Threads are created once, at tg_pool_new, never per call: a forward pass
 * runs a few hundred such calls per token.
 */
#ifndef TG_BASE_POOL_H
#define TG_BASE_POOL_H

typedef struct tg_pool tg_pool;
typedef void (*tg_pool_fn)(void *ctx, int ith, int nth);

/* n_threads total, including the calling thread; n_threads <= 0 means the
 * number of online CPUs.  NULL on failure (tg_last_error set). */
tg_pool *tg_pool_new(int n_threads);
void tg_pool_free(tg_pool *p);
int tg_pool_size(const tg_pool *p);
void tg_pool_run(tg_pool *p, tg_pool_fn fn, void *ctx);
/* The same with `shares` shares (finer shares balance better when a thread
 * is slowed down; only for fn without per-share scratch sized by the pool).
 * At most TG_POOL_MAX_SHARES: more are run as that many. */
#define TG_POOL_MAX_SHARES 65535
void tg_pool_run_shares(tg_pool *p, tg_pool_fn fn, void *ctx, int shares);

/* The [begin, end) share of n items for thread ith of nth (contiguous,
 * sizes differing by at most one). */
static inline void tg_pool_split(long n, int ith, int nth, long *begin, long *end) {
    long per = n / nth, extra = n % nth;
    *begin = ith * per + (ith < extra ? ith : extra);
    *end = *begin + per + (ith < extra ? 1 : 0);
}

#endif
