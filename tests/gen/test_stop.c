/*
 * test_stop.c — the stop-string matcher (tg_stop_*): hand-made streams with
 * the stop string split across chunks, false alarms and flushes; and a
 * randomised comparison with the obvious byte-by-byte reference.
 */
#include "tinglado.h"
#include "../test.h"

#define TG_TEST_MIN(a, b) ((a) < (b) ? (a) : (b))

/* A small deterministic generator for test inputs. */
static uint64_t lcg_state = 88172645463325252ull;
static uint32_t lcg(void) {
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(lcg_state >> 33);
}

/* Feeds chunks; appends what is emitted to out; returns whether it stopped. */
static bool feed_all(tg_stop *st, const char *const *chunks, char *out, size_t cap) {
    bool stopped = false;
    for (; *chunks; chunks++) {
        tg_str e;
        CHECK_EQ_INT(tg_stop_feed(st, *chunks, strlen(*chunks), &e, &stopped), TG_OK);
        strncat(out, e.ptr, TG_TEST_MIN(e.len, cap - strlen(out) - 1));
        if (stopped)
            break;
    }
    return stopped;
}
static void test_stop_holdback(void) {
    const char *stops[] = {"<end_of_turn>", "\n\nUser:"};
    tg_stop *st = tg_stop_new(stops, 2);
    CHECK(st != NULL);
    if (!st)
        return;
    tg_str e;
    bool stopped;
    CHECK_EQ_INT(tg_stop_feed(st, "Hello <end", 10, &e, &stopped), TG_OK);
    CHECK(!stopped && e.len == 6 && memcmp(e.ptr, "Hello ", 6) == 0);
    CHECK_EQ_INT(tg_stop_feed(st, "_of", 3, &e, &stopped), TG_OK);
    CHECK(!stopped && e.len == 0);
    CHECK_EQ_INT(tg_stop_feed(st, "_turn> more", 11, &e, &stopped), TG_OK);
    CHECK(stopped && e.len == 0);
    CHECK_EQ_INT(tg_stop_matched(st), 0);
    /* Once stopped, nothing more comes out. */
    CHECK_EQ_INT(tg_stop_feed(st, "x", 1, &e, &stopped), TG_OK);
    CHECK(stopped && e.len == 0);
    CHECK(tg_stop_flush(st).len == 0);

    /* A false alarm is released as soon as it cannot be a stop string. */
    tg_stop_reset(st);
    CHECK_EQ_INT(tg_stop_matched(st), -1);
    char out[256] = "";
    CHECK(!feed_all(st, (const char *[]){"a <en", "joy\n", "\nUs", "e", "d it", NULL}, out,
                    sizeof out));
    CHECK_EQ_STR(out, "a <enjoy\n\nUsed it");
    /* At the end of a generation, flush returns what was held back. */
    tg_stop_reset(st);
    out[0] = '\0';
    CHECK(!feed_all(st, (const char *[]){"bye\n", "\nUse", NULL}, out, sizeof out));
    CHECK_EQ_STR(out, "bye");
    tg_str f = tg_stop_flush(st);
    CHECK(f.len == 5 && memcmp(f.ptr, "\n\nUse", 5) == 0);
    CHECK(tg_stop_flush(st).len == 0);
    /* The second stop string, across three chunks, with text before it. */
    tg_stop_reset(st);
    out[0] = '\0';
    CHECK(feed_all(st, (const char *[]){"ok.\n", "\nUs", "er: hi", NULL}, out, sizeof out));
    CHECK_EQ_STR(out, "ok.");
    CHECK_EQ_INT(tg_stop_matched(st), 1);
    tg_stop_free(st);
}

static void test_stop_earliest_and_edge_cases(void) {
    /* "lo w" ends first. */
    const char *stops[] = {"world", "", NULL, "lo w"};
    tg_stop *st = tg_stop_new(stops, 4);
    tg_str e;
    bool stopped;
    CHECK_EQ_INT(tg_stop_feed(st, "hello world", 11, &e, &stopped), TG_OK);
    CHECK(stopped && e.len == 3 && memcmp(e.ptr, "hel", 3) == 0);
    CHECK_EQ_INT(tg_stop_matched(st), 3); /* index in the caller's list */
    tg_stop_free(st);
    /* "a" ends before "caa" does, whether "caa" comes in one chunk or three;
     * at the same end, the longer one (starting first) wins. */
    const char *overlap[] = {"a", "caa", "xca"};
    char out[64] = "";
    st = tg_stop_new(overlap, 3);
    CHECK(feed_all(st, (const char *[]){"bbcaa", NULL}, out, sizeof out));
    CHECK_EQ_STR(out, "bbc");
    tg_stop_reset(st);
    out[0] = '\0';
    CHECK(feed_all(st, (const char *[]){"bb", "c", "a", "a", NULL}, out, sizeof out));
    CHECK_EQ_STR(out, "bbc");
    tg_stop_reset(st);
    out[0] = '\0';
    CHECK(feed_all(st, (const char *[]){"bbxca", NULL}, out, sizeof out));
    CHECK_EQ_STR(out, "bb");
    CHECK_EQ_INT(tg_stop_matched(st), 2);
    tg_stop_free(st);

    /* No stop strings: everything goes straight through. */
    st = tg_stop_new(NULL, 0);
    CHECK_EQ_INT(tg_stop_feed(st, "abc", 3, &e, &stopped), TG_OK);
    CHECK(!stopped && e.len == 3);
    CHECK_EQ_INT(tg_stop_feed(st, NULL, 0, &e, &stopped), TG_OK);
    CHECK(!stopped && e.len == 0);
    tg_stop_free(st);

    /* A chunk far larger than the initial buffer. */
    const char *one[] = {"STOP"};
    st = tg_stop_new(one, 1);
    enum { BIG = 100000 };
    char *big = malloc(BIG + 1);
    memset(big, 'x', BIG);
    memcpy(big + BIG - 10, "STOP", 4);
    big[BIG] = '\0';
    CHECK_EQ_INT(tg_stop_feed(st, big, 50000, &e, &stopped), TG_OK);
    CHECK(!stopped && e.len == 50000);
    CHECK_EQ_INT(tg_stop_feed(st, big + 50000, BIG - 50000, &e, &stopped), TG_OK);
    CHECK(stopped && e.len == BIG - 10 - 50000);
    free(big);
    CHECK_EQ_INT(tg_stop_feed(NULL, "a", 1, &e, &stopped), TG_ERR_ARG);
    tg_stop_free(st);
}

/* Random texts over a small alphabet, random stop strings, random chunking:
 * what comes out must be the text up to the first stop string (or all of it,
 * after a flush), and nothing may be held back that could not start one. */
static void test_stop_random(void) {
    for (int round = 0; round < 400; round++) {
        char stops_buf[3][6];
        const char *stops[3];
        size_t n_stops = 1 + lcg() % 3;
        for (size_t j = 0; j < n_stops; j++) {
            size_t len = 1 + lcg() % 4;
            for (size_t k = 0; k < len; k++)
                stops_buf[j][k] = (char)('a' + lcg() % 3);
            stops_buf[j][len] = '\0';
            stops[j] = stops_buf[j];
        }
        char text[64];
        size_t n = lcg() % 60;
        for (size_t k = 0; k < n; k++)
            text[k] = (char)('a' + lcg() % 4);
        text[n] = '\0';
        /* The reference: where a byte-by-byte stream stops — the first
         * prefix of the text that ends with a stop string, cut before the
         * longest stop string it ends with. */
        size_t cut = n;
        for (size_t e = 1; e <= n && cut == n; e++)
            for (size_t j = 0; j < n_stops; j++) {
                size_t sl = strlen(stops[j]);
                if (sl <= e && memcmp(text + e - sl, stops[j], sl) == 0 && e - sl < cut)
                    cut = e - sl;
            }
        tg_stop *st = tg_stop_new(stops, n_stops);
        char out[128] = "";
        size_t pos = 0, out_len = 0;
        bool stopped = false;
        while (pos < n && !stopped) {
            size_t want = lcg() % 5; /* (the macro evaluates twice) */
            size_t len = TG_TEST_MIN(n - pos, want);
            tg_str e;
            CHECK_EQ_INT(tg_stop_feed(st, text + pos, len, &e, &stopped), TG_OK);
            memcpy(out + out_len, e.ptr, e.len);
            out_len += e.len;
            pos += len;
            if (!stopped) {
                /* Held back = the longest suffix of text[0, pos) that is a
                 * proper prefix of a stop string, no more. */
                size_t held = 0;
                for (size_t h = 1; h <= pos; h++)
                    for (size_t j = 0; j < n_stops; j++)
                        if (strlen(stops[j]) > h && memcmp(text + pos - h, stops[j], h) == 0)
                            held = h;
                CHECK_MSG(out_len == pos - held, "round %d: emitted %zu of %zu, held %zu", round,
                          out_len, pos, held);
            }
        }
        if (!stopped) {
            tg_str f = tg_stop_flush(st);
            memcpy(out + out_len, f.ptr, f.len);
            out_len += f.len;
        }
        CHECK_MSG(stopped == (cut < n) && out_len == cut && memcmp(out, text, cut) == 0,
                  "round %d: text \"%s\", cut %zu, got %zu bytes", round, text, cut, out_len);
        tg_stop_free(st);
    }
}

int main(void) {
    RUN(test_stop_holdback);
    RUN(test_stop_earliest_and_edge_cases);
    RUN(test_stop_random);
    return tg_test_finish("test_stop");
}
