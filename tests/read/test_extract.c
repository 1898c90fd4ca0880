/*
 * test_extract.c — the extractor on hand-written pages: the article wins
 * over navigation and comments, metadata precedence (JSON-LD, meta tags,
 * <title>), relative URLs, and the sanitiser: script, event handlers,
 * javascript:/data: URLs and styles never reach the HTML output.  Hostile
 * input (junk bytes, deep nesting, empty pages) returns, never crashes.
 * Quality on real pages is tests/read/test_extract_quality.py.
 */
#include "read/read.h"
#include "token/utf8.h"
#include "../test.h"

#include <ctype.h>

static const char *para =
    "<p>The committee met on Tuesday to discuss the harbour, which has silted up over the years, and agreed "
    "that dredging, though expensive, could not wait another season. Fishermen, shop owners and the ferry "
    "company all spoke in favour.</p>\n";

static char *page(const char *head, const char *body_before, const char *body_after, int n_para) {
    tg__buf b = {0};
    tg__buf_printf(&b, "<!DOCTYPE html><html lang=\"en-GB\"><head>%s</head><body>%s<article><div class=\"content\">",
                   head, body_before);
    for (int i = 0; i < n_para; i++)
        tg__buf_puts(&b, para);
    tg__buf_printf(&b, "%s</div></article>", body_after);
    tg__buf_puts(&b, "<div class=\"comments\"><p>First! Great article, really great, I loved it, thanks.</p></div>"
                     "<footer><a href=\"/about\">About</a> <a href=\"/contact\">Contact</a></footer></body></html>");
    return tg__buf_take(&b);
}

static void test_article_and_metadata(void) {
    const char *head =
        "<title>Harbour to be dredged | The Coastal Gazette</title>"
        "<meta property=\"og:site_name\" content=\"The Coastal Gazette\">"
        "<meta name=\"author\" content=\"Meta Author\">"
        "<meta property=\"article:published_time\" content=\"2024-03-01T10:20:30Z\">"
        "<script type=\"application/ld+json\">{\"@context\":\"https://schema.org\",\"@type\":\"NewsArticle\","
        "\"headline\":\"Harbour to be dredged\",\"author\":[{\"@type\":\"Person\",\"name\":\"Ann Reporter\"},"
        "{\"@type\":\"Person\",\"name\":\"Bo Writer\"}],\"description\":\"The council agreed.\"}</script>";
    char *html = page(head, "<nav><ul><li><a href=\"/\">Home</a></li><li><a href=\"/news\">News</a></li></ul></nav>",
                      "", 6);
    tg_article a;
    CHECK(tg_extract(html, strlen(html), "https://gazette.example/news/harbour.html", &a) == TG_OK);
    CHECK_EQ_STR(a.title, "Harbour to be dredged");
    CHECK_EQ_STR(a.byline, "Ann Reporter, Bo Writer");
    CHECK_EQ_STR(a.site_name, "The Coastal Gazette");
    CHECK_EQ_STR(a.lang, "en-GB");
    CHECK_EQ_STR(a.excerpt, "The council agreed.");
    CHECK_EQ_INT(a.published_time, 1709288430);
    CHECK(a.text && strstr(a.text, "dredging, though expensive"));
    CHECK(a.text && !strstr(a.text, "First!"));  /* comments are not the article */
    CHECK(a.text && !strstr(a.text, "Contact")); /* nor the footer */
    CHECK(a.text && !strstr(a.text, "Home"));    /* nor the navigation */
    tg_article_clear(&a);
    free(html);
    /* without structured data: the title element, the site name cut off */
    char *p2 = page("<title>Harbour to be dredged after years of silting - The Coastal Gazette</title>", "", "", 4);
    CHECK(tg_extract(p2, strlen(p2), NULL, &a) == TG_OK);
    CHECK_EQ_STR(a.title, "Harbour to be dredged after years of silting");
    CHECK(a.byline == NULL && a.published_time == 0);
    CHECK(a.excerpt && !strncmp(a.excerpt, "The committee met", 17)); /* first paragraph */
    tg_article_clear(&a);
    free(p2);
}

static void test_sanitiser(void) {
    const char *evil =
        "<p>Evil paragraph one, with enough words in it to count as content, really, quite a lot of words.</p>"
        "<script>alert('s')</script><style>p{color:red}</style>"
        "<p onclick=\"alert('c')\" style=\"background:url(javascript:alert(1))\">Click paragraph, long enough to "
        "stay in the article, with commas, and more commas, and more.</p>"
        "<p><img src=\"x.png\" onerror=\"alert('e')\" alt=\"pic\"> <img src=\"javascript:alert('i')\">"
        "<a href=\"javascript:alert('a')\">js link</a> <a href=\" JaVa&#x09;ScRipt:alert('b')\">tab link</a> "
        "<a href=\"data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;\">data link</a> "
        "<a href=\"vbscript:msgbox\">vb</a> <a href=\"/relative/page?x=1&amp;y=2\">relative</a> "
        "<a href=\"mailto:editor@example.com\">mail</a> and some more words to keep this paragraph in.</p>"
        "<iframe src=\"https://evil.example/\"></iframe><object data=\"x.swf\"></object>"
        "<svg onload=\"alert('svg')\"><script>alert(2)</script></svg>"
        "<form action=\"https://evil.example/\"><input name=q><button onclick=\"x()\">Go</button></form>"
        "<p><a href=\"#sec\" onmouseover=\"alert(1)\">in-page</a> <b onfocus=alert(1)>bold</b> words words words "
        "words, words, words.</p>";
    char *html = page("<title>Evil page for the sanitiser test</title>", "", evil, 3);
    tg_article a;
    CHECK(tg_extract(html, strlen(html), "https://site.example/dir/page.html", &a) == TG_OK);
    CHECK(a.html != NULL);
    if (a.html) {
        const char *banned[] = {"<script", "alert(", "onerror", "onclick", "onload", "onmouseover", "onfocus",
                                "javascript:", "vbscript:", "data:text", "<iframe", "<object", "<svg", "<style",
                                "style=", "<form", "<input", "<button"};
        char *lower = strdup(a.html);
        for (char *p = lower; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        for (size_t i = 0; i < sizeof banned / sizeof *banned; i++)
            CHECK_MSG(!strstr(lower, banned[i]), "sanitised HTML contains %s: %s", banned[i], a.html);
        free(lower);
        CHECK(strstr(a.html, "href=\"https://site.example/relative/page?x=1&amp;y=2\""));
        CHECK(strstr(a.html, "src=\"https://site.example/dir/x.png\""));
        CHECK(strstr(a.html, "href=\"mailto:editor@example.com\""));
        CHECK(strstr(a.html, "alt=\"pic\""));
        CHECK(strstr(a.html, "href=\"#sec\""));
        CHECK(strstr(a.html, ">js link</a>")); /* the text stays, the URL goes */
    }
    CHECK(a.text && strstr(a.text, "Click paragraph") && !strstr(a.text, "alert"));
    tg_article_clear(&a);
    free(html);
}

static void test_hidden_and_entities(void) {
    const char *extra = "<p style=\"display: none\">Hidden text that must not appear anywhere in the output.</p>"
                        "<p hidden>Also hidden text that must not appear.</p>"
                        "<p aria-hidden=\"true\">Screen-reader hidden text.</p>"
                        "<p>Caf&eacute; &amp; cr&egrave;me &lt;b&gt; &#x1F600; &nbsp;spaced</p>";
    char *html = page("<title>Hidden things are not content at all</title>", "", extra, 3);
    tg_article a;
    CHECK(tg_extract(html, strlen(html), NULL, &a) == TG_OK);
    CHECK(a.text && !strstr(a.text, "Hidden text") && !strstr(a.text, "Also hidden") &&
          !strstr(a.text, "Screen-reader"));
    CHECK(a.text && strstr(a.text, "Café & crème <b> \xF0\x9F\x98\x80"));
    CHECK(a.html && strstr(a.html, "Café &amp; crème &lt;b&gt;"));
    tg_article_clear(&a);
    free(html);
}

static void test_hostile(void) {
    tg_article a;
    /* empty and tiny inputs give an empty article, not an error */
    CHECK(tg_extract("", 0, NULL, &a) == TG_OK && a.text && !*a.text);
    tg_article_clear(&a);
    CHECK(tg_extract("\xEF\xBB\xBF", 3, NULL, &a) == TG_OK);
    tg_article_clear(&a);
    CHECK(tg_extract("just text, no tags at all", 25, "not a url", &a) == TG_OK);
    CHECK(a.text && strstr(a.text, "just text"));
    tg_article_clear(&a);
    /* deep nesting is refused quickly */
    size_t n = 100000;
    char *deep = malloc(n * 5 + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(deep + i * 5, "<div>", 5);
    deep[n * 5] = 0;
    CHECK(tg_extract(deep, n * 5, NULL, &a) == TG_ERR_UNSUPPORTED);
    free(deep);
    /* random bytes and tag soup */
    unsigned seed = 7;
    char junk[8192];
    static const char *const bits[] = {"<p>", "</p>", "<div class=\"content\">", "</div>", "<a href=\"", "\">",
                                       "<script>", "</script>", "<table><tr><td>", "<!--", "-->", "&amp;", ",",
                                       "words and words ", "<br>", "<img src=x>", "<h1>", "<ul><li>", "\xff\xfe"};
    for (int round = 0; round < 300; round++) {
        size_t len = 0;
        while (len + 64 < sizeof junk) {
            if (rand_r(&seed) % 3) {
                const char *b = bits[rand_r(&seed) % (int)(sizeof bits / sizeof *bits)];
                memcpy(junk + len, b, strlen(b));
                len += strlen(b);
            } else {
                junk[len++] = (char)(rand_r(&seed) & 0xff);
            }
            if (rand_r(&seed) % 97 == 0)
                break;
        }
        tg_status s = tg_extract(junk, len, "https://x.example/", &a);
        CHECK(s == TG_OK || s == TG_ERR_UNSUPPORTED);
        tg_article_clear(&a);
    }
}

/* <link rel=canonical> in the head, resolved; a raw-byte base URL and the
 * fallback excerpt stay valid UTF-8 (both found by fuzz_extract). */
static void test_canonical_and_utf8(void) {
    const char *body = "<p>Un caf\xC3\xA9 cr\xC3\xA8me, tr\xC3\xA8s bon, with commas, and words; a <a href=x>link</a>.</p>";
    char html[2048];
    snprintf(html, sizeof html, "<html><head><link rel=\"alternate Canonical\" href=\"/story?id=1#c\"></head>"
                                "<body><article>%s</article></body></html>", body);
    tg_article a;
    CHECK(tg_extract(html, strlen(html), "https://ex.com/amp/story", &a) == TG_OK);
    CHECK_EQ_STR(a.canonical_url, "https://ex.com/story?id=1#c");
    tg_article_clear(&a);
    snprintf(html, sizeof html, "<head><link rel=canonical href=\"javascript:alert(1)\"></head><p>%s</p>", body);
    CHECK(tg_extract(html, strlen(html), "https://ex.com/a", &a) == TG_OK && a.canonical_url == NULL);
    tg_article_clear(&a);
    snprintf(html, sizeof html, "<body><link rel=canonical href=/elsewhere><p>%s</p></body>", body);
    CHECK(tg_extract(html, strlen(html), "https://ex.com/a", &a) == TG_OK && a.canonical_url == NULL);
    tg_article_clear(&a);
    /* a base URL holding raw bytes: the links come out percent-encoded */
    CHECK(tg_extract(html, strlen(html), "https://ex.com/\xFF\xFE/a", &a) == TG_OK);
    CHECK_MSG(a.html && strstr(a.html, "href=\"https://ex.com/%FF%FE/x\""), "html: %s", a.html ? a.html : "(null)");
    tg_article_clear(&a);
    /* an excerpt cut at 300 bytes never splits a character */
    char longp[1200] = "<p>x"; /* odd: byte 300 is inside a character */
    for (int i = 0; i < 200; i++)
        strcat(longp, "\xC3\xA9");
    strcat(longp, "</p>");
    CHECK(tg_extract(longp, strlen(longp), NULL, &a) == TG_OK && a.excerpt);
    CHECK(a.excerpt && strlen(a.excerpt) == 299 && tg__utf8_valid(a.excerpt, strlen(a.excerpt)));
    tg_article_clear(&a);
}

int main(void) {
    RUN(test_article_and_metadata);
    RUN(test_sanitiser);
    RUN(test_hidden_and_entities);
    RUN(test_hostile);
    RUN(test_canonical_and_utf8);
    return tg_test_finish("test_extract");
}
