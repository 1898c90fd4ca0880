/*
 * test_import.c — every import format on its fixture (tests/read/fixtures/,
 * written after each service's documented export), idempotence, format
 * detection, round trips through the three exports, and hostile inputs.
 */
#include "read/read.h"
#include "read/store.h"
#include "../test.h"

#include <unistd.h>

static char dbdir[] = "/tmp/tg_test_import_XXXXXX";
static const char *fixtures = "tests/read/fixtures";

static char *slurp(const char *name, size_t *len) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", fixtures, name);
    FILE *f = fopen(p, "rb");
    if (!f) {
        fprintf(stderr, "missing fixture %s\n", p);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n)
        n = 0;
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int db_seq;
static tg_library *fresh(void) {
    char p[256];
    snprintf(p, sizeof p, "%s/lib%d.db", dbdir, db_seq++);
    tg_library *lib = tg_library_open(p);
    CHECK(lib != NULL);
    return lib;
}

static bool has_tag(const tg_item *it, const char *t) {
    for (size_t i = 0; i < it->n_tags; i++)
        if (!strcmp(it->tags[i], t))
            return true;
    return false;
}

/* Imports a fixture twice (the second adds nothing); returns the library. */
static tg_library *import_fixture(const char *name, tg_import_format want, size_t added, size_t skipped) {
    size_t len = 0;
    char *data = slurp(name, &len);
    CHECK(data != NULL);
    if (!data)
        return NULL;
    tg_library *lib = fresh();
    tg_import_stats st;
    CHECK_MSG(tg_library_import(lib, data, len, TG_IMPORT_AUTO, &st) == TG_OK, "%s: %s", name, tg_last_error());
    CHECK_MSG(st.format == want, "%s detected as %s", name, tg_import_format_name(st.format));
    CHECK_MSG(st.added == added, "%s: %zu added, want %zu", name, st.added, added);
    CHECK_MSG(st.skipped == skipped, "%s: %zu skipped, want %zu", name, st.skipped, skipped);
    size_t seen = st.added + st.existing; /* a file may name one article twice */
    CHECK(tg_library_import(lib, data, len, want, &st) == TG_OK);
    CHECK_MSG(st.added == 0 && st.existing == seen, "%s again: %zu added, %zu existing", name, st.added, st.existing);
    free(data);
    return lib;
}

static tg_item get_url(tg_library *lib, const char *url) {
    tg_item it = {0};
    int64_t id = 0;
    CHECK_MSG(tg_library_find(lib, url, &id) == TG_OK, "%s not imported", url);
    if (id)
        CHECK(tg_library_get(lib, id, &it) == TG_OK);
    return it;
}

static void test_pocket_csv(void) {
    tg_library *lib = import_fixture("pocket.csv", TG_IMPORT_POCKET_CSV, 5, 1);
    if (!lib)
        return;
    tg_item it = get_url(lib, "https://example.org/bookmarks/");
    CHECK_EQ_STR(it.title, "A self-hostable bookmark app: links, notes and images");
    CHECK_EQ_INT(it.saved, 1728576000);
    CHECK(!it.archived && it.n_tags == 3 && has_tag(&it, "with space") && has_tag(&it, "umlaut-Äö"));
    tg_item_clear(&it);
    it = get_url(lib, "https://somewebsite.example/with,commas,in,the,url");
    CHECK(it.archived);
    tg_item_clear(&it);
    it = get_url(lib, "https://news.example.com/story/42");
    CHECK_EQ_STR(it.title, "Title with \"quotes\" inside");
    CHECK(it.archived && has_tag(&it, "news"));
    tg_item_clear(&it);
    it = get_url(lib, "https://github.com/example/hoarder");
    CHECK(it.url && !strcmp(it.url, "https://github.com/example/hoarder"));
    tg_item_clear(&it);
    tg_library_close(lib);
}

static void test_pocket_html(void) {
    tg_library *lib = import_fixture("pocket.html", TG_IMPORT_POCKET_HTML, 4, 1);
    if (!lib)
        return;
    tg_item it = get_url(lib, "https://www.example.com/search?q=reading");
    CHECK_EQ_STR(it.title, "Search for reading");
    CHECK(!it.archived && it.saved == 1698568488 && it.n_tags == 3 && has_tag(&it, "something else"));
    tg_item_clear(&it);
    it = get_url(lib, "https://longreads.example/essay/the-ocean");
    CHECK(it.archived && it.saved == 1500000000 && has_tag(&it, "ocean"));
    tg_item_clear(&it);
    it = get_url(lib, "http://blog.example.net/2019/05/on-caching.html");
    CHECK_EQ_STR(it.title, "On caching & other hard things");
    tg_item_clear(&it);
    tg_library_close(lib);
}

static void test_instapaper(void) {
    tg_library *lib = import_fixture("instapaper.csv", TG_IMPORT_INSTAPAPER_CSV, 4, 1);
    if (!lib)
        return;
    tg_item it = get_url(lib, "https://essays.example.org/on-writing");
    CHECK(it.archived && it.saved == 1600000100 && it.n_tags == 2 && has_tag(&it, "craft"));
    tg_item_clear(&it);
    it = get_url(lib, "https://science.example.com/2020/08/mars");
    CHECK(it.favorite && !it.archived);
    tg_item_clear(&it);
    it = get_url(lib, "https://recipes.example.com/bread");
    CHECK(!it.archived && has_tag(&it, "cooking")); /* a custom folder becomes a tag */
    tg_item_clear(&it);
    tg_library_close(lib);
}

static void test_wallabag(void) {
    tg_library *lib = import_fixture("wallabag.json", TG_IMPORT_WALLABAG_JSON, 2, 1);
    if (!lib)
        return;
    tg_item it = get_url(lib, "https://homelab.example.com/posts/ten-years");
    CHECK(it.archived && !it.favorite && it.n_tags == 2 && has_tag(&it, "self-hosting"));
    CHECK_EQ_INT(it.saved, 1614878412); /* 2021-03-04T18:20:12+0100 */
    tg_item_clear(&it);
    it = get_url(lib, "https://cuisine.example.fr/marche");
    CHECK(!it.archived && it.favorite);
    CHECK_EQ_STR(it.title, "La cuisine du marché");
    tg_item_clear(&it);
    tg_library_close(lib);
}

static void test_netscape(void) {
    tg_library *lib = import_fixture("bookmarks.html", TG_IMPORT_NETSCAPE_HTML, 3, 1);
    if (!lib)
        return;
    tg_item it = get_url(lib, "https://www.example.com/long-read?ref=rss");
    CHECK(!it.archived && it.saved == 1610000000 && has_tag(&it, "to read"));
    CHECK_EQ_STR(it.title, "A long read");
    tg_item_clear(&it);
    it = get_url(lib, "https://docs.example.org/manual/");
    CHECK_EQ_STR(it.title, "The manual");
    tg_item_clear(&it);
    tg_library_close(lib);
}

static void test_opml(void) {
    size_t len = 0;
    char *data = slurp("feeds.opml", &len);
    if (!data)
        return;
    tg_library *lib = fresh();
    tg_import_stats st;
    CHECK(tg_library_import(lib, data, len, TG_IMPORT_AUTO, &st) == TG_OK);
    CHECK(st.format == TG_IMPORT_OPML && st.added == 3 && st.skipped == 1);
    CHECK(tg_library_import(lib, data, len, TG_IMPORT_AUTO, &st) == TG_OK && st.added == 0 && st.existing == 3);
    int64_t n = 0;
    CHECK(tg_library_feed_count(lib, &n) == TG_OK && n == 3);
    free(data);
    tg_library_close(lib);
}

static void test_feeds(void) {
    tg_library *lib = fresh();
    const char *rss =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" "
        "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>A Blog</title>"
        "<link>https://blog.example/</link><description>d</description>"
        "<item><title>First &amp; best</title><link>https://blog.example/first?utm_source=rss</link>"
        "<description><![CDATA[<p>Some <b>html</b></p>]]></description>"
        "<pubDate>Fri, 01 Mar 2024 10:20:30 GMT</pubDate><guid>https://blog.example/first</guid></item>"
        "<item><title>Relative</title><link>/second</link><dc:date>2024-03-02T00:00:00Z</dc:date></item>"
        "<item><title>Only a guid</title><guid isPermaLink=\"true\">https://blog.example/third</guid></item>"
        "<item><title>No link at all</title></item>"
        "</channel></rss>";
    tg_feed_stats st;
    CHECK(tg_library_feed_read(lib, "https://blog.example/feed.xml", rss, strlen(rss), &st) == TG_OK);
    CHECK_MSG(st.entries == 4 && st.added == 3 && st.skipped == 1, "rss: %zu entries %zu added %zu skipped",
              st.entries, st.added, st.skipped);
    tg_item it = get_url(lib, "https://blog.example/first");
    CHECK_EQ_STR(it.title, "First & best");
    CHECK_EQ_INT(it.saved, 1709288430);
    tg_item_clear(&it);
    it = get_url(lib, "https://blog.example/second");
    CHECK_EQ_INT(it.saved, 1709337600);
    tg_item_clear(&it);
    CHECK(tg_library_feed_read(lib, "https://blog.example/feed.xml", rss, strlen(rss), &st) == TG_OK &&
          st.added == 0 && st.existing == 3);
    const char *atom =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">"
        "<title>Atom news</title><link href=\"https://news.example/\"/>"
        "<entry><title type=\"html\">Entry one</title><link rel=\"self\" href=\"https://news.example/api/1\"/>"
        "<link rel=\"alternate\" type=\"text/html\" href=\"https://news.example/one\"/>"
        "<id>tag:news.example,2024:1</id><updated>2024-04-02T00:00:00Z</updated>"
        "<published>2024-04-01T00:00:00Z</published></entry>"
        "<entry><title>Entry two</title><link href=\"two.html\"/><updated>2024-04-03T00:00:00+02:00</updated></entry>"
        "</feed>";
    CHECK(tg_library_feed_read(lib, "https://news.example/feeds/all.atom", atom, strlen(atom), &st) == TG_OK);
    CHECK(st.entries == 2 && st.added == 2);
    it = get_url(lib, "https://news.example/one");
    CHECK_EQ_INT(it.saved, 1711929600); /* published wins over updated */
    tg_item_clear(&it);
    it = get_url(lib, "https://news.example/feeds/two.html");
    CHECK_EQ_INT(it.saved, 1712095200);
    tg_item_clear(&it);
    /* not a feed, junk: errors, never a crash */
    CHECK(tg_library_feed_read(lib, "https://x.example/", "<html><p>hi</p></html>", 22, &st) == TG_ERR_FORMAT);
    CHECK_ERROR_HAS("no RSS");
    CHECK(tg_library_feed_read(lib, "https://x.example/", "", 0, &st) == TG_ERR_FORMAT);
    bool added = false;
    CHECK(tg_library_feed_add(lib, "https://blog.example/feed.xml", NULL, &added) == TG_OK && added);
    char **urls = NULL, **titles = NULL;
    size_t n = 0;
    CHECK(tg_library_feeds(lib, &urls, &titles, &n) == TG_OK && n == 1);
    for (size_t i = 0; i < n; i++) {
        free(urls[i]);
        free(titles[i]);
    }
    free(urls);
    free(titles);
    tg_library_close(lib);
}

static void test_urls(void) {
    tg_library *lib = import_fixture("urls.txt", TG_IMPORT_URLS, 3, 1);
    if (!lib)
        return;
    tg_item it = get_url(lib, "https://www.example.com/c");
    CHECK(it.state == TG_ITEM_PENDING && it.n_tags == 0);
    tg_item_clear(&it);
    tg_library_close(lib);
}

/* Everything an export format holds must come back equal. */
typedef struct snap {
    char url[256], title[256], tags[256];
    int64_t saved, read_at;
    bool archived, favorite;
} snap;
typedef struct snaps {
    snap s[64];
    int n;
} snaps;

static bool take(const tg_item *it, void *user) {
    snaps *ss = user;
    if (ss->n >= 64)
        return false;
    snap *s = &ss->s[ss->n++];
    snprintf(s->url, sizeof s->url, "%s", it->url);
    snprintf(s->title, sizeof s->title, "%s", it->title ? it->title : "");
    s->tags[0] = 0;
    for (size_t i = 0; i < it->n_tags; i++) {
        strncat(s->tags, it->tags[i], sizeof s->tags - strlen(s->tags) - 2);
        strcat(s->tags, "|");
    }
    s->saved = it->saved;
    s->read_at = it->read_at;
    s->archived = it->archived;
    s->favorite = it->favorite;
    return true;
}

static void round_trip(tg_library *src, tg_export_format fmt, tg_import_format back, const char *what) {
    char *doc = NULL;
    size_t len = 0;
    CHECK(tg_library_export(src, fmt, &doc, &len) == TG_OK && doc && strlen(doc) == len);
    if (!doc)
        return;
    tg_library *dst = fresh();
    tg_import_stats st;
    CHECK_MSG(tg_library_import(dst, doc, len, TG_IMPORT_AUTO, &st) == TG_OK, "%s: %s", what, tg_last_error());
    CHECK_MSG(st.format == back, "%s: re-import detected as %s", what, tg_import_format_name(st.format));
    snaps a = {0}, b = {0};
    tg_item_filter f = tg_item_filter_all();
    tg_library_list(src, &f, take, &a);
    tg_library_list(dst, &f, take, &b);
    CHECK_MSG(a.n == b.n && a.n > 0, "%s: %d items became %d", what, a.n, b.n);
    for (int i = 0; i < a.n && i < b.n; i++) {
        int j = 0;
        while (j < b.n && strcmp(a.s[i].url, b.s[j].url))
            j++;
        CHECK_MSG(j < b.n, "%s: %s lost", what, a.s[i].url);
        if (j == b.n)
            continue;
        snap *x = &a.s[i], *y = &b.s[j];
        CHECK_MSG(!strcmp(x->title, y->title) || (!*x->title && !strcmp(y->title, x->url)), "%s: title %s vs %s",
                  what, x->title, y->title);
        CHECK_MSG(!strcmp(x->tags, y->tags), "%s: %s tags %s vs %s", what, x->url, x->tags, y->tags);
        CHECK_MSG(x->saved == y->saved && x->archived == y->archived && x->favorite == y->favorite &&
                      x->read_at == y->read_at,
                  "%s: %s dates/state differ", what, x->url);
    }
    tg_library_close(dst);
    free(doc);
}

static void test_round_trips(void) {
    /* one library with every fixture in it */
    tg_library *lib = fresh();
    const char *names[] = {"pocket.csv", "pocket.html", "instapaper.csv", "wallabag.json", "bookmarks.html",
                           "urls.txt"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t len = 0;
        char *d = slurp(names[i], &len);
        if (d)
            CHECK(tg_library_import(lib, d, len, TG_IMPORT_AUTO, NULL) == TG_OK);
        free(d);
    }
    int64_t id = 0;
    CHECK(tg_library_find(lib, "https://www.example.com/a", &id) == TG_OK);
    CHECK(tg_library_set_archived(lib, id, true) == TG_OK); /* gains a read_at */
    round_trip(lib, TG_EXPORT_JSON, TG_IMPORT_JSON, "json");
    round_trip(lib, TG_EXPORT_CSV, TG_IMPORT_CSV, "csv");
    round_trip(lib, TG_EXPORT_NETSCAPE, TG_IMPORT_NETSCAPE_HTML, "netscape");
    /* an empty library exports and imports too */
    tg_library *empty = fresh();
    char *doc = NULL;
    for (int f = TG_EXPORT_JSON; f <= TG_EXPORT_NETSCAPE; f++) {
        CHECK(tg_library_export(empty, (tg_export_format)f, &doc, NULL) == TG_OK);
        tg_import_stats st;
        CHECK(tg_library_import(empty, doc, strlen(doc), TG_IMPORT_AUTO, &st) == TG_OK && st.added == 0);
        free(doc);
    }
    tg_library_close(empty);
    tg_library_close(lib);
}

static void test_hostile(void) {
    tg_library *lib = fresh();
    const char *bad_json[] = {"[", "{\"items\": 3}", "[1, \"x\", null, {\"url\": 5}]", "{\"a\":1,\"a\":2}"};
    tg_import_stats st;
    CHECK(tg_library_import(lib, bad_json[0], 1, TG_IMPORT_WALLABAG_JSON, &st) == TG_ERR_FORMAT);
    CHECK(tg_library_import(lib, bad_json[1], strlen(bad_json[1]), TG_IMPORT_JSON, &st) == TG_ERR_FORMAT);
    CHECK(tg_library_import(lib, bad_json[2], strlen(bad_json[2]), TG_IMPORT_WALLABAG_JSON, &st) == TG_OK &&
          st.skipped == 4);
    CHECK(tg_library_import(lib, bad_json[3], strlen(bad_json[3]), TG_IMPORT_JSON, &st) == TG_ERR_FORMAT);
    CHECK(tg_library_import(lib, "", 0, TG_IMPORT_POCKET_CSV, &st) == TG_ERR_FORMAT);
    CHECK(tg_library_import(lib, "a,b\n1,2\n", 8, TG_IMPORT_POCKET_CSV, &st) == TG_ERR_FORMAT);
    CHECK_ERROR_HAS("url");
    /* a failed import adds nothing (one transaction) */
    int64_t counts[5], total = -1;
    CHECK(tg_library_count(lib, counts, &total) == TG_OK && total == 0);
    const char *half = "https://ok.example/1\nhttps://ok.example/2\n";
    tg_library_import(lib, half, strlen(half), TG_IMPORT_URLS, &st);
    CHECK(tg_library_count(lib, counts, &total) == TG_OK && total == 2);
    /* deep nesting and random bytes: no crash, whatever the status */
    size_t n = 200000;
    char *deep = malloc(n * 5 + 64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        memcpy(deep + k, "<dl>", 4), k += 4;
    k += (size_t)sprintf(deep + k, "<a href=\"https://deep.example/\">x</a>");
    CHECK(tg_library_import(lib, deep, k, TG_IMPORT_NETSCAPE_HTML, &st) == TG_ERR_UNSUPPORTED);
    CHECK_ERROR_HAS("deep");
    /* nesting a real page might have still parses */
    k = 0;
    for (size_t i = 0; i < 1000; i++)
        memcpy(deep + k, "<dl>", 4), k += 4;
    k += (size_t)sprintf(deep + k, "<a href=\"https://deep.example/\">x</a>");
    CHECK(tg_library_import(lib, deep, k, TG_IMPORT_NETSCAPE_HTML, &st) == TG_OK && st.added == 1);
    free(deep);
    unsigned seed = 12345;
    char junk[4096];
    for (int round = 0; round < 200; round++) {
        size_t len = (size_t)(rand_r(&seed) % (int)sizeof junk);
        for (size_t i = 0; i < len; i++) {
            int r = rand_r(&seed) % 16;
            junk[i] = r < 4 ? ",\"\n<"[r] : r < 6 ? "{["[r - 4] : (char)(rand_r(&seed) & 0xff);
        }
        tg_library_import(lib, junk, len, (tg_import_format)(round % 10), &st);
    }
    tg_library_close(lib);
}

int main(void) {
    if (!mkdtemp(dbdir)) {
        perror("mkdtemp");
        return 1;
    }
    fixtures = tg_test_env("TG_READ_FIXTURES", fixtures);
    setenv("TINGLADO_NOW", "1750000000", 1);
    RUN(test_pocket_csv);
    RUN(test_pocket_html);
    RUN(test_instapaper);
    RUN(test_wallabag);
    RUN(test_netscape);
    RUN(test_opml);
    RUN(test_feeds);
    RUN(test_urls);
    RUN(test_round_trips);
    RUN(test_hostile);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dbdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dbdir);
    return tg_test_finish("test_import");
}
