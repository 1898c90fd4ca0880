/*
 * test.h — the test harness: a few CHECK macros and a runner, header-only.
 *
 * Why not cmocka/Criterion: each test program here is one file that runs
 * top to bottom under ASan+UBSan; a failed check prints file:line and the
 * values, the program keeps going and exits 1 at the end.  Forking runners
 * hide sanitizer reports and add a dependency for nothing we use.
 */
#ifndef TG_TEST_H
#define TG_TEST_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tg_test_failures;
static int tg_test_checks;
static const char *tg_test_current = "";

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        tg_test_checks++;                                                                      \
        if (!(cond)) {                                                                         \
            tg_test_failures++;                                                                \
            fprintf(stderr, "%s:%d: [%s] CHECK failed: %s\n", __FILE__, __LINE__,              \
                    tg_test_current, #cond);                                                   \
        }                                                                                      \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                   \
    do {                                                                                       \
        tg_test_checks++;                                                                      \
        if (!(cond)) {                                                                         \
            tg_test_failures++;                                                                \
            fprintf(stderr, "%s:%d: [%s] CHECK failed: %s: ", __FILE__, __LINE__,              \
                    tg_test_current, #cond);                                                   \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
        }                                                                                      \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                     \
    do {                                                                                       \
        long long tg_a_ = (long long)(a), tg_b_ = (long long)(b);                              \
        CHECK_MSG(tg_a_ == tg_b_, "%lld != %lld", tg_a_, tg_b_);                               \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                     \
    do {                                                                                       \
        const char *tg_a_ = (a), *tg_b_ = (b);                                                 \
        CHECK_MSG(tg_a_ && tg_b_ && strcmp(tg_a_, tg_b_) == 0, "\"%s\" != \"%s\"",             \
                  tg_a_ ? tg_a_ : "(null)", tg_b_ ? tg_b_ : "(null)");                         \
    } while (0)

/* The error message of the last failed call contains `needle`. */
#define CHECK_ERROR_HAS(needle)                                                                \
    CHECK_MSG(strstr(tg_last_error(), (needle)) != NULL, "message \"%s\" lacks \"%s\"",        \
              tg_last_error(), (needle))

#define RUN(fn)                                                                                \
    do {                                                                                       \
        tg_test_current = #fn;                                                                 \
        int tg_before_ = tg_test_failures;                                                     \
        fn();                                                                                  \
        fprintf(stderr, "  %-48s %s\n", #fn, tg_test_failures == tg_before_ ? "ok" : "FAIL");  \
    } while (0)

static inline int tg_test_finish(const char *suite) {
    fprintf(stderr, "%s: %d checks, %d failed\n", suite, tg_test_checks, tg_test_failures);
    return tg_test_failures ? 1 : 0;
}

/* Path of a test input from the environment, or a default; NULL if unset and
 * no default.  Tests that need data fail (never skip) when it is missing. */
static inline const char *tg_test_env(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return (v && *v) ? v : fallback;
}

/* A tg_str (from tinglado.h) equals a C string. */
#define tg_test_str_eq(s, cstr) ((s).len == strlen(cstr) && memcmp((s).ptr, (cstr), (s).len) == 0)

#endif /* TG_TEST_H */
