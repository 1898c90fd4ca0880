/*
 * test_pool.c — the thread pool runs every share of every call exactly
 * once, with the right share count, and returns only when all are done;
 * also when shares outnumber threads, when calls are microseconds apart,
 * when a share is slow (a descheduled thread) and when other threads
 * compete for the CPUs, and when a pool is freed right after a call.
 */
#include "base/pool.h"
#include "../test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define MAX_SHARES 64

typedef struct job {
    _Atomic int runs[MAX_SHARES];
    _Atomic int wrong_nth;
    int nth_expected;
    long call;             /* which call this is: a late runner of an old call would see a stale value */
    _Atomic long *current; /* the call the caller is in */
    _Atomic int stale;
    int slow_share;        /* this share sleeps a little (-1: none) */
} job;

static void count_fn(void *arg, int ith, int nth) {
    job *j = arg;
    if (nth != j->nth_expected)
        atomic_fetch_add(&j->wrong_nth, 1);
    if (atomic_load(j->current) != j->call)
        atomic_fetch_add(&j->stale, 1);
    if (ith == j->slow_share) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    if (ith >= 0 && ith < MAX_SHARES)
        atomic_fetch_add(&j->runs[ith], 1);
}

/* What went wrong over a run of calls. */
typedef struct tally {
    int bad_runs, bad_nth, stale;
} tally;

/* Call number c with `shares` shares (0: tg_pool_run), the share `slow`
 * sleeping (-1: none), and counts what went wrong. */
static void one_call(tg_pool *p, long c, int shares, int slow, _Atomic long *current, tally *t) {
    job j = {.nth_expected = shares ? shares : tg_pool_size(p), .call = c, .current = current, .slow_share = slow};
    atomic_store(current, c);
    if (shares)
        tg_pool_run_shares(p, count_fn, &j, shares);
    else
        tg_pool_run(p, count_fn, &j);
    /* after the call returns nothing of it may still be running: mark it over */
    atomic_store(current, -1);
    for (int k = 0; k < j.nth_expected; k++)
        t->bad_runs += atomic_load(&j.runs[k]) != 1;
    t->bad_nth += atomic_load(&j.wrong_nth);
    t->stale += atomic_load(&j.stale);
}

/* `calls` calls of `shares` shares (0: tg_pool_run); every share once. */
static void run_calls(tg_pool *p, int calls, int shares, int slow_every) {
    _Atomic long current = 0;
    tally t = {0};
    const int nth = shares ? shares : tg_pool_size(p);
    for (int c = 0; c < calls; c++)
        one_call(p, c, shares, slow_every && c % slow_every == 0 ? c % nth : -1, &current, &t);
    CHECK_MSG(t.bad_runs == 0, "%d shares not run exactly once (%d threads, %d shares, %d calls)", t.bad_runs,
              tg_pool_size(p), shares, calls);
    CHECK_EQ_INT(t.bad_nth, 0);
    CHECK_EQ_INT(t.stale, 0);
}

static void test_sizes(void) {
    for (int n = 1; n <= 5; n++) {
        tg_pool *p = tg_pool_new(n);
        CHECK(p != NULL);
        if (!p)
            continue;
        CHECK_EQ_INT(tg_pool_size(p), n);
        run_calls(p, 2000, 0, 0);
        run_calls(p, 500, 1, 0);
        run_calls(p, 500, 4 * n, 0);
        run_calls(p, 200, MAX_SHARES, 0);
        run_calls(p, 100, 3 * n + 1, 7);
        tg_pool_free(p);
    }
}

/* Consecutive calls with different share counts: a worker late from one
 * call must not claim a share of the next by the next one's count (the
 * first version of the counter let it: a share past the end of the old
 * call ran, and the next call's count went one over and never completed). */
static void test_varying_counts(void) {
    for (int n = 2; n <= 3; n++) {
        tg_pool *p = tg_pool_new(n);
        CHECK(p != NULL);
        if (!p)
            continue;
        _Atomic long current = 0;
        tally t = {0};
        for (long c = 0; c < 200000; c++)
            one_call(p, c, c % 3 == 0 ? 0 : (int)(1 + (c * 7) % 9), -1, &current, &t);
        CHECK_MSG(t.bad_runs == 0, "%d shares not run exactly once (%d threads)", t.bad_runs, n);
        CHECK_EQ_INT(t.bad_nth, 0);
        CHECK_EQ_INT(t.stale, 0);
        tg_pool_free(p);
    }
}

/* Threads that burn CPU beside the pool, so its workers get descheduled
 * in the middle of calls (what a busy home server does to it). */
static _Atomic int burn_stop;
static void *burn(void *arg) {
    (void)arg;
    volatile unsigned long x = 0;
    while (!atomic_load_explicit(&burn_stop, memory_order_relaxed)) {
        x++;
        if ((x & 0xFFFF) == 0)
            sched_yield();
    }
    return NULL;
}

static void test_contention(void) {
    pthread_t b[3];
    atomic_store(&burn_stop, 0);
    for (int i = 0; i < 3; i++)
        pthread_create(&b[i], NULL, burn, NULL);
    tg_pool *p = tg_pool_new(3);
    CHECK(p != NULL);
    if (p) {
        run_calls(p, 3000, 0, 0);
        run_calls(p, 1000, 12, 5);
        tg_pool_free(p);
    }
    atomic_store(&burn_stop, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(b[i], NULL);
}

/* Pools created, used once and freed at once: a worker still waking up for
 * the call must not touch the freed pool (ASan would say so). */
static void test_free_after_call(void) {
    for (int i = 0; i < 200; i++) {
        tg_pool *p = tg_pool_new(1 + i % 4);
        CHECK(p != NULL);
        if (!p)
            continue;
        run_calls(p, 1, 0, 0);
        tg_pool_free(p);
    }
    /* and a pool that never ran anything */
    tg_pool_free(tg_pool_new(3));
}

/* A pool that loses count waits forever: fail instead of hanging the run. */
static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "  FAIL: the pool hung (a call never saw all its shares complete)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(1);
}

int main(void) {
    signal(SIGALRM, on_alarm);
    alarm(120);
    RUN(test_sizes);
    RUN(test_varying_counts);
    RUN(test_contention);
    RUN(test_free_after_call);
    return tg_test_finish("base/pool");
}
