/*
 * test_superpose.c — the superposition experiment's library part on
 * vectors whose answer is known: orthogonal directions (every sum gives its
 * members back), Gaussian directions in high and in very low dimension,
 * determinism for a seed, the intervals, bad arguments, and the SVG plot
 * (well-formed enough to hold one polyline per series, labels escaped).
 */
#include "tinglado.h"
#include "../test.h"

#include <unistd.h>

static const int32_t KS[] = {1, 2, 4, 8};

static void test_orthogonal(void) {
    enum { N = 100 };
    static float v[N * N];
    memset(v, 0, sizeof v);
    for (int i = 0; i < N; i++)
        v[i * N + i] = 1.0f;
    tg_superpose_result r[4];
    CHECK(tg_superpose(v, N, N, KS, 4, 50, 7, r) == TG_OK);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(r[i].k, KS[i]);
        CHECK(r[i].recall.value == 1.0 && r[i].exact.value == 1.0);
        CHECK_EQ_INT(r[i].recall.n, (size_t)KS[i] * 50);
        CHECK_EQ_INT(r[i].exact.n, 50);
        CHECK(r[i].recall.lo < 1.0 && r[i].recall.lo > 0.9 && r[i].recall.hi > 0.999999);
    }
}

static void test_gaussian(void) {
    tg_superpose_result hi[4], lo[4], again[4];
    CHECK(tg_superpose_gaussian(300, 2048, KS, 4, 40, 3, hi) == TG_OK);
    CHECK(tg_superpose_gaussian(300, 2, KS, 4, 40, 3, lo) == TG_OK);
    CHECK(tg_superpose_gaussian(300, 2, KS, 4, 40, 3, again) == TG_OK);
    CHECK(hi[3].recall.value == 1.0); /* 8 of 300 in 2048 dimensions: all come back */
    CHECK(lo[0].recall.value == 1.0); /* k = 1: a vector is its own nearest */
    CHECK(lo[2].recall.value < 0.3);  /* 4 in the plane: hopeless */
    for (int i = 0; i < 4; i++) /* the same seed gives the same draws */
        CHECK(lo[i].recall.value == again[i].recall.value && lo[i].exact.value == again[i].exact.value);
    for (int i = 0; i < 4; i++)
        CHECK(lo[i].recall.lo <= lo[i].recall.value && lo[i].recall.value <= lo[i].recall.hi);
}

static void test_bad_arguments(void) {
    float v[8] = {0};
    tg_superpose_result r[4];
    const int32_t big[1] = {4}, zero[1] = {0};
    CHECK(tg_superpose(v, 4, 2, big, 1, 10, 1, r) == TG_ERR_ARG); /* k must be < n */
    CHECK_ERROR_HAS("k = 4");
    CHECK(tg_superpose(v, 4, 2, zero, 1, 10, 1, r) == TG_ERR_ARG);
    CHECK(tg_superpose(NULL, 4, 2, KS, 1, 10, 1, r) == TG_ERR_ARG);
    CHECK(tg_superpose(v, 4, 2, KS, 1, 0, 1, r) == TG_ERR_ARG);
    CHECK(tg_superpose_gaussian(10, 0, KS, 1, 10, 1, r) == TG_ERR_ARG);
    CHECK(tg_superpose_svg("/nonexistent-dir/x.svg", "t", NULL, 0) == TG_ERR_ARG);
}

static void test_svg(void) {
    tg_superpose_result a[4], b[4];
    CHECK(tg_superpose_gaussian(200, 64, KS, 4, 20, 1, a) == TG_OK);
    CHECK(tg_superpose_gaussian(200, 8, KS, 4, 20, 1, b) == TG_OK);
    tg_superpose_series s[2] = {{"d = 8 <&>", b, 4, false}, {"model \"x\"", a, 4, true}};
    char path[64];
    snprintf(path, sizeof path, "/tmp/tg-test-superpose-%d.svg", (int)getpid());
    CHECK(tg_superpose_svg(path, "title & <more>", s, 2) == TG_OK);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    char buf[16384] = {0};
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    CHECK(n > 100 && !strncmp(buf, "<svg ", 5) && strstr(buf, "</svg>\n"));
    int lines = 0;
    for (const char *p = buf; (p = strstr(p, "<polyline")); p++)
        lines++;
    CHECK_EQ_INT(lines, 2);
    CHECK(strstr(buf, "d = 8 &lt;&amp;&gt;") && strstr(buf, "title &amp; &lt;more&gt;"));
    CHECK(strstr(buf, "<d") == NULL); /* nothing unescaped */
    CHECK(tg_superpose_svg("/nonexistent-dir/x.svg", "t", s, 2) == TG_ERR_IO);
    unlink(path);
}

int main(void) {
    RUN(test_orthogonal);
    RUN(test_gaussian);
    RUN(test_bad_arguments);
    RUN(test_svg);
    return tg_test_finish("test_superpose");
}
