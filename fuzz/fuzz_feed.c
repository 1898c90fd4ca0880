/*
 * fuzz_feed.c — libFuzzer target for the RSS/Atom reader (src/read/feed.c:
 * gumbo over XML, entry links resolved against the feed URL, entry dates).
 *
 * Input: byte 0 picks the feed's URL (a few shapes: a path, a query, a
 * port, none that resolves relative links oddly); the rest is the document.
 * It runs inside one transaction on an in-memory library, rolled back after
 * each input.  Beyond "no crash": every entry is counted once (added +
 * existing + skipped = entries), the new items are there, and reading the
 * same feed again adds nothing.
 */
#include "read/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_feed: %s (%s)\n", what, tg_last_error());
        abort();
    }
}

static int64_t n_items(tg_library *lib) {
    int64_t counts[5], total = -1;
    check(tg_library_count(lib, counts, &total) == TG_OK, "counting items");
    return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tg_library *lib;
    if (!lib) {
        setenv("TINGLADO_NOW", "1700000000", 1);
        lib = tg_library_open(":memory:");
        check(lib != NULL, "opening an in-memory library");
    }
    if (size < 1)
        return 0;
    static const char *const urls[4] = {"https://example.com/blog/feed.xml", "http://Example.ORG:8080/rss?x=1&y=2",
                                        "https://example.net", "http://127.0.0.1/a/b/c/atom"};
    const char *feed_url = urls[data[0] & 3];
    const char *xml = (const char *)data + 1;
    const size_t len = size - 1;

    check(tg__lib_begin(lib) == TG_OK, "begin");
    tg_feed_stats st;
    if (tg_library_feed_read(lib, feed_url, xml, len, &st) == TG_OK) {
        check(st.added + st.existing + st.skipped == st.entries, "entries counted other than once");
        check(n_items(lib) == (int64_t)st.added, "the item count is not what the feed added");
        tg_feed_stats again;
        check(tg_library_feed_read(lib, feed_url, xml, len, &again) == TG_OK, "a feed read once fails the second time");
        if (again.added != 0 || again.entries != st.entries) {
            fprintf(stderr, "first: %zu entries %zu added; again: %zu entries %zu added\n", st.entries, st.added,
                    again.entries, again.added);
            check(false, "reading a feed twice added items");
        }
    }
    tg__lib_end(lib, TG_ERR_ARG);
    check(lib->depth == 0, "transaction depth");
    return 0;
}
