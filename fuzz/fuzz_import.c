/*
 * fuzz_import.c — libFuzzer target for the reading library's importers
 * (src/read/import.c, csv.c and the gumbo walks of html.c): Pocket CSV and
 * HTML, Instapaper, Wallabag, Netscape bookmarks, OPML, URL lists, our own
 * JSON and CSV — and for the exporters through a round trip.
 *
 * Input: byte 0 picks the format (0: detected from the content, 1..9: the
 * tg_import_format values); the rest is the file.  One in-memory library
 * is emptied after each input, so inputs do not see each other (opening a
 * new one per input ran at 17 inputs a second; a rolled-back outer
 * transaction cannot hold the exports: they open read transactions).  Beyond "no crash": an accepted
 * file adds as many items as its stats say, and each of the three exports
 * of the result imports back adding nothing (tinglado's "importing twice
 * adds nothing" promise) and leaving the item count alone; the JSON export
 * parses and lists every item.
 */
#include "read/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_import: %s (%s)\n", what, tg_last_error());
        abort();
    }
}

static int64_t n_items(tg_library *lib) {
    int64_t counts[5], total = -1;
    check(tg_library_count(lib, counts, &total) == TG_OK, "counting items");
    return total;
}

static void round_trip(tg_library *lib, tg_export_format ef, tg_import_format back, int64_t total) {
    char *doc = NULL;
    size_t len = 0;
    tg_status s = tg_library_export(lib, ef, &doc, &len);
    if (s == TG_ERR_NOMEM)
        return;
    check(s == TG_OK && doc, "an export failed");
    if (ef == TG_EXPORT_JSON) {
        json_error_t e;
        json_t *v = json_loadb(doc, len, 0, &e);
        check(v != NULL, "the JSON export is not JSON");
        json_t *items = json_object_get(v, "items");
        check(json_is_array(items) && (int64_t)json_array_size(items) == total,
              "the JSON export does not list every item");
        json_decref(v);
    }
    tg_import_stats st;
    s = tg_library_import(lib, doc, len, back, &st);
    if (s != TG_OK) {
        fprintf(stderr, "export format %d:\n%.2000s\n", (int)ef, doc);
        check(false, "an export does not import back");
    }
    if (st.added != 0 || n_items(lib) != total) {
        fprintf(stderr, "export format %d added %zu (existing %zu, skipped %zu):\n%.2000s\n", (int)ef, st.added,
                st.existing, st.skipped, doc);
        check(false, "importing an export again added items");
    }
    free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tg_library *lib;
    if (!lib) {
        setenv("TINGLADO_NOW", "1700000000", 1); /* saved dates must not depend on the clock */
        lib = tg_library_open(":memory:");
        check(lib != NULL, "opening an in-memory library");
    }
    if (size < 1)
        return 0;
    const tg_import_format fmt = (tg_import_format)(data[0] % 10);
    const char *file = (const char *)data + 1;
    const size_t len = size - 1;

    tg_import_stats st;
    if (tg_library_import(lib, file, len, fmt, &st) == TG_OK && st.format != TG_IMPORT_OPML) {
        const int64_t total = n_items(lib);
        check(total == (int64_t)st.added, "the item count is not what the import says it added");
        round_trip(lib, TG_EXPORT_JSON, TG_IMPORT_JSON, total);
        round_trip(lib, TG_EXPORT_CSV, TG_IMPORT_CSV, total);
        round_trip(lib, TG_EXPORT_NETSCAPE, TG_IMPORT_NETSCAPE_HTML, total);
    }
    check(lib->depth == 0, "transaction depth");
    check(tg__lib_exec(lib, "DELETE FROM items; DELETE FROM tags; DELETE FROM feeds; DELETE FROM search;") == TG_OK,
          "emptying the library");
    check(n_items(lib) == 0, "an emptied library still has items");
    return 0;
}
