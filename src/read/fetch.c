/*
 * fetch.c — one web page over HTTP(S) with libcurl, as the reading
 * pipeline needs it: bounded redirects, compressed transfers (gzip, br,
 * zstd as libcurl supports), timeouts, a size cap, retries with exponential
 * backoff for what may pass (timeouts, refused connections, 429, 5xx), and
 * the body converted to UTF-8.
 *
 * Charset: a body that is valid UTF-8 is taken as UTF-8 whatever the page
 * claims (a lying meta charset is the common case: real Latin-1 text is
 * almost never valid UTF-8 by accident); otherwise the declared charset
 * (Content-Type header, then <meta>) is converted with iconv, and when
 * that is missing, unknown or fails, windows-1252 (the web's de facto
 * Latin-1).  Only http and https are ever followed, redirects included.
 * A PDF (served as application/pdf, or any body starting "%PDF-") is kept
 * as bytes for pdf.c.  Errors name the URL and the cause: "HTTP 404",
 * "timed out after 30 s", "not HTML (image/png)".
 */
#include "read/read.h"
#include "token/utf8.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

tg_fetch_params tg_fetch_default_params(void) {
    return (tg_fetch_params){
        .timeout_s = 30,
        .connect_timeout_s = 10,
        .max_redirects = 5,
        .max_bytes = 10u << 20,
        .retries = 2,
        .backoff_ms = 500,
        .user_agent = "tinglado/" TG_VERSION " (reading list; +https://github.com/tinglado)",
    };
}

void tg_fetch_result_clear(tg_fetch_result *r) {
    if (!r)
        return;
    free(r->body);
    free(r->final_url);
    free(r->content_type);
    free(r->charset);
    memset(r, 0, sizeof *r);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

typedef struct sink {
    tg__buf b;
    size_t cap;
    bool too_big;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *user) {
    sink *s = user;
    size_t len = size * n;
    if (s->b.len + len > s->cap) {
        s->too_big = true;
        return 0; /* aborts the transfer */
    }
    return tg__buf_append(&s->b, p, len) ? len : 0;
}

/* charset=... in a Content-Type value or a meta content attribute. */
static bool charset_param(const char *s, char *out, size_t cap) {
    const char *p = s ? strcasestr(s, "charset") : NULL;
    if (!p)
        return false;
    p += 7;
    while (*p == ' ' || *p == '=')
        p++;
    while (*p == '"' || *p == '\'')
        p++;
    size_t n = 0;
    while (p[n] && (isalnum((unsigned char)p[n]) || strchr("-_.:", p[n])) && n + 1 < cap) {
        out[n] = p[n];
        n++;
    }
    out[n] = '\0';
    return n > 0;
}

/* <meta charset=x> or <meta http-equiv content="…charset=x"> in the first
 * 2 KB (where the HTML spec says to look). */
static bool meta_charset(const char *body, size_t len, char *out, size_t cap) {
    size_t n = TG_MIN(len, 2048);
    char head[2049];
    memcpy(head, body, n);
    head[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!head[i])
            head[i] = ' ';
    for (char *p = strcasestr(head, "<meta"); p; p = strcasestr(p + 5, "<meta")) {
        char *end = strchr(p, '>');
        if (!end)
            break;
        *end = '\0';
        bool ok = charset_param(p, out, cap);
        *end = '>';
        if (ok)
            return true;
    }
    return false;
}

/* The bytes in charset `from` as UTF-8 (malloc'd), or NULL. */
static char *iconv_utf8(const char *from, const char *in, size_t len, size_t *out_len) {
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return NULL;
    size_t cap = len * 4 + 16;
    char *out = malloc(cap);
    if (!out) {
        iconv_close(cd);
        return NULL;
    }
    char *ip = (char *)in, *op = out;
    size_t il = len, ol = cap - 1;
    while (il > 0) {
        if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
            if (errno == EILSEQ || errno == EINVAL) {
                /* an undecodable byte: U+FFFD, go on */
                if (ol < 3)
                    break;
                memcpy(op, "\xEF\xBF\xBD", 3);
                op += 3;
                ol -= 3;
                ip++;
                il--;
                continue;
            }
            break;
        }
    }
    iconv_close(cd);
    if (il > 0) {
        free(out);
        return NULL;
    }
    *op = '\0';
    *out_len = (size_t)(op - out);
    return out;
}

static bool is_utf8_name(const char *c) {
    return !strcasecmp(c, "utf-8") || !strcasecmp(c, "utf8") || !strcasecmp(c, "unicode-1-1-utf-8");
}

/* Replaces r->body with its UTF-8 form; sets r->charset to what was used. */
static tg_status to_utf8(tg_fetch_result *r, const char *declared) {
    const char *b = r->body;
    size_t len = r->len;
    if (len >= 3 && !memcmp(b, "\xEF\xBB\xBF", 3)) {
        memmove(r->body, r->body + 3, len - 3 + 1);
        r->len -= 3;
        r->charset = tg__strndup("utf-8", 5);
        return TG_OK;
    }
    if (tg__utf8_valid(b, len)) {
        r->charset = tg__strndup("utf-8", 5);
        return TG_OK;
    }
    /* latin-1 labels mean windows-1252 on the web (WHATWG Encoding) */
    const char *from = declared && *declared && !is_utf8_name(declared) ? declared : "WINDOWS-1252";
    if (!strcasecmp(from, "iso-8859-1") || !strcasecmp(from, "latin1") || !strcasecmp(from, "us-ascii") ||
        !strcasecmp(from, "ascii"))
        from = "WINDOWS-1252";
    size_t n = 0;
    char *u = iconv_utf8(from, b, len, &n);
    if (!u && strcasecmp(from, "WINDOWS-1252")) {
        from = "WINDOWS-1252";
        u = iconv_utf8(from, b, len, &n);
    }
    if (!u)
        return tg__fail(TG_ERR_FORMAT, "cannot convert the page from %s to UTF-8", from);
    free(r->body);
    r->body = u;
    r->len = n;
    r->charset = tg__strndup(from, strlen(from));
    return TG_OK;
}

static bool html_type(const char *ct, const char *body, size_t len, bool xml) {
    if (xml && ct && strcasestr(ct, "xml"))
        return true; /* application/rss+xml, application/atom+xml, text/xml … */
    if (!ct || !*ct) {
        /* no type: sniff for markup */
        size_t i = 0;
        while (i < len && isspace((unsigned char)body[i]))
            i++;
        return i < len && body[i] == '<';
    }
    return !strncasecmp(ct, "text/html", 9) || !strncasecmp(ct, "application/xhtml+xml", 21) ||
           !strncasecmp(ct, "text/plain", 10);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* One attempt.  *retry says whether another attempt could succeed. */
static tg_status attempt(CURL *h, const char *url, const tg_fetch_params *p, tg_fetch_result *out, bool *retry) {
    sink s = {.cap = p->max_bytes};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)p->max_redirects);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding libcurl was built with */
    curl_easy_setopt(h, CURLOPT_TIMEOUT, p->timeout_s);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, p->connect_timeout_s);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)p->max_bytes);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_USERAGENT, p->user_agent);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    CURLcode rc = curl_easy_perform(h);
    *retry = false;
    if (rc != CURLE_OK) {
        tg__buf_free(&s.b);
        if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED)
            return tg__fail(TG_ERR_RANGE, "%s: larger than %zu bytes", url, p->max_bytes);
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            *retry = true;
            return tg__fail(TG_ERR_IO, "%s: timed out after %ld s", url, p->timeout_s);
        }
        if (rc == CURLE_TOO_MANY_REDIRECTS)
            return tg__fail(TG_ERR_IO, "%s: more than %d redirects", url, p->max_redirects);
        if (rc == CURLE_UNSUPPORTED_PROTOCOL)
            return tg__fail(TG_ERR_UNSUPPORTED, "%s: redirected to a scheme other than http(s)", url);
        *retry = rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
                 rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE || rc == CURLE_COULDNT_RESOLVE_HOST;
        return tg__fail(TG_ERR_IO, "%s: %s", url, *errbuf ? errbuf : curl_easy_strerror(rc));
    }
    long status = 0;
    char *eff = NULL, *ct = NULL;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    out->status = status;
    if (status >= 400) {
        tg__buf_free(&s.b);
        *retry = status == 429 || status >= 500;
        return tg__fail(status == 404 || status == 410 ? TG_ERR_NOT_FOUND : TG_ERR_IO, "%s: HTTP %ld", url, status);
    }
    size_t len = s.b.len;
    out->body = tg__buf_take(&s.b);
    if (!out->body)
        out->body = tg__strndup("", 0);
    out->len = out->body ? len : 0;
    out->final_url = tg__strndup(eff ? eff : url, strlen(eff ? eff : url));
    out->content_type = ct ? tg__strndup(ct, strlen(ct)) : NULL;
    if (!out->body || !out->final_url)
        return TG_ERR_NOMEM;
    if (!p->accept_xml && (tg__pdf_sniff(out->body, out->len) || (ct && (!strncasecmp(ct, "application/pdf", 15) ||
                                                                        !strncasecmp(ct, "application/x-pdf", 17))))) {
        /* a PDF stays bytes (extraction reads it with poppler); its type is
         * recorded as PDF even when the server said octet-stream */
        if (!tg__pdf_sniff(out->body, out->len))
            return tg__fail(TG_ERR_FORMAT, "%s: served as PDF (%s) but not a PDF", url, ct);
        free(out->content_type);
        out->content_type = tg__strndup("application/pdf", 15);
        return out->content_type ? TG_OK : TG_ERR_NOMEM;
    }
    if (!html_type(ct, out->body, out->len, p->accept_xml)) {
        char t[128];
        snprintf(t, sizeof t, "%s", ct ? ct : "unknown type");
        char *semi = strchr(t, ';');
        if (semi)
            *semi = '\0';
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: not HTML (%s)", url, t);
    }
    char declared[64] = "";
    if (!charset_param(ct, declared, sizeof declared))
        meta_charset(out->body, out->len, declared, sizeof declared);
    tg_status st = to_utf8(out, declared);
    return st ? tg__fail_prefix(st, "%s", url) : TG_OK;
}

tg_status tg_fetch(const char *url, const tg_fetch_params *params, tg_fetch_result *out) {
    memset(out, 0, sizeof *out);
    tg_fetch_params p = params ? *params : tg_fetch_default_params();
    if (!p.user_agent)
        p.user_agent = tg_fetch_default_params().user_agent;
    if (p.max_bytes == 0)
        p.max_bytes = tg_fetch_default_params().max_bytes;
    if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
        return tg__fail(TG_ERR_ARG, "%s: only http and https URLs are fetched", url);
    pthread_once(&curl_once, curl_init);
    CURL *h = curl_easy_init();
    if (!h)
        return tg__fail(TG_ERR_NOMEM, "libcurl: cannot create a handle");
    tg_status s = TG_OK;
    long backoff = p.backoff_ms;
    for (int a = 0;; a++) {
        bool retry = false;
        tg_fetch_result_clear(out);
        s = attempt(h, url, &p, out, &retry);
        if (!s || !retry || a >= p.retries)
            break;
        sleep_ms(backoff);
        backoff *= 2;
    }
    curl_easy_cleanup(h);
    if (s) {
        long status = out->status;
        tg_fetch_result_clear(out);
        out->status = status;
    }
    return s;
}
