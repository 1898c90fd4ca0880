/*
 * download.c — the HTTP engine of `tinglado pull` (libcurl).
 *
 * A download writes into "<dest>.part", hashing as it goes, and renames the
 * .part to dest only after the size and sha256 are checked: a file under its
 * final name is always complete.  A .part left by a dropped connection, a
 * Ctrl-C or a crash is resumed with "Range: bytes=N-" (append on 206, start
 * over on 200).  A flock on the .part keeps two pulls of one file apart.
 *
 * Responses are untrusted: bodies are capped, Content-Range must start where
 * we asked, a body longer than the expected size is cut off, and nothing a
 * server says chooses a path on disk.  Never aborts on a network failure.
 */
#include "net/download.h"

#include "base/sha256.h"
#include "net/progress.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define USER_AGENT "tinglado/" TG_VERSION
#define MAX_REDIRECTS 10L
#define CONNECT_TIMEOUT_S 30L
/* A transfer slower than LOW_SPEED_BYTES per second for LOW_SPEED_TIME_S is
 * treated as a dropped connection (and retried from where it stopped). */
#define LOW_SPEED_BYTES 1024L
#define LOW_SPEED_TIME_S 60L

static volatile sig_atomic_t cancelled;

void tg__net_cancel(void) { cancelled = 1; }

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static tg_status net_init(void) {
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return tg__fail(TG_ERR_IO, "libcurl failed to initialise: %s",
                        curl_easy_strerror(curl_init_rc));
    return TG_OK;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool tg__is_sha256_hex(const char *s) {
    if (!s)
        return false;
    size_t i = 0;
    for (; s[i]; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return i == 64;
}

/* ---- response headers --------------------------------------------------- */

/* What we keep from the headers.  Per-response fields are cleared at each
 * status line (every redirect hop starts one); linked_etag is not, because
 * the hub sends it on the 302 and the CDN's 200 does not repeat it. */
typedef struct headers {
    char error_code[64];
    char error_message[256];
    char content_range[128];
    char linked_etag[128];
    char *next_url;
    bool nomem;
} headers;

/* Copies [p, end) into dst (cap bytes), trimmed, control bytes replaced by
 * '?' so a hostile header cannot drive the terminal when we print it. */
static void copy_value(char *dst, size_t cap, const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t n = 0;
    for (; p < end && n + 1 < cap; p++)
        dst[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p;
    dst[n] = '\0';
}

/* Finds the URL of rel="next" in a Link header value (RFC 8288), as the hub
 * uses for paging its file listings.  Returns a heap copy or NULL. */
static char *parse_link_next(const char *p, const char *end) {
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt)
            return NULL;
        const char *gt = memchr(lt, '>', (size_t)(end - lt));
        if (!gt)
            return NULL;
        const char *params = gt + 1;
        const char *stop = memchr(params, '<', (size_t)(end - params));
        if (!stop)
            stop = end;
        for (const char *q = params; q + 3 < stop; q++) {
            if (strncasecmp(q, "rel=", 4) != 0)
                continue;
            const char *v = q + 4;
            if (v < stop && *v == '"')
                v++;
            if ((size_t)(stop - v) >= 4 && strncasecmp(v, "next", 4) == 0 &&
                (v + 4 == stop || v[4] == '"' || v[4] == ';' || v[4] == ',' || v[4] == ' ' ||
                 v[4] == '\r' || v[4] == '\n'))
                return strndup(lt + 1, (size_t)(gt - lt - 1));
        }
        p = stop;
    }
    return NULL;
}

static bool header_is(const char *line, size_t len, const char *name, const char **value) {
    size_t n = strlen(name);
    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return false;
    *value = line + n + 1;
    return true;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *userdata) {
    headers *h = userdata;
    size_t len = size * nitems; /* libcurl guarantees this does not overflow */
    const char *end = line + len, *v;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        h->error_code[0] = h->error_message[0] = h->content_range[0] = '\0';
        free(h->next_url);
        h->next_url = NULL;
    } else if (header_is(line, len, "x-error-code", &v)) {
        copy_value(h->error_code, sizeof h->error_code, v, end);
    } else if (header_is(line, len, "x-error-message", &v)) {
        copy_value(h->error_message, sizeof h->error_message, v, end);
    } else if (header_is(line, len, "content-range", &v)) {
        copy_value(h->content_range, sizeof h->content_range, v, end);
    } else if (header_is(line, len, "x-linked-etag", &v)) {
        copy_value(h->linked_etag, sizeof h->linked_etag, v, end);
    } else if (header_is(line, len, "link", &v)) {
        free(h->next_url);
        h->next_url = parse_link_next(v, end);
    }
    return len;
}

/* An ETag value as a sha256: strips W/ and quotes; "" unless 64 hex digits. */
static void etag_sha256(const char *etag, char out[65]) {
    out[0] = '\0';
    const char *p = etag;
    if (strncmp(p, "W/", 2) == 0)
        p += 2;
    if (*p == '"')
        p++;
    char tmp[65];
    size_t n = 0;
    while (p[n] && p[n] != '"' && n < 64) {
        tmp[n] = p[n];
        n++;
    }
    tmp[n] = '\0';
    if ((p[n] == '\0' || p[n] == '"') && tg__is_sha256_hex(tmp))
        for (size_t i = 0; i <= n; i++)
            out[i] = (char)((tmp[i] >= 'A' && tmp[i] <= 'F') ? tmp[i] + 32 : tmp[i]);
}

/* ---- common handle set-up ------------------------------------------------ */

static int on_xferinfo(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    return cancelled ? 1 : 0;
}

static tg_status setup_handle(CURL *c, const char *url, struct curl_slist **hdrs,
                              const char *token, char *errbuf, headers *h) {
    *hdrs = NULL;
    if (token && *token) {
        size_t n = strlen(token);
        if (strpbrk(token, "\r\n"))
            return tg__fail(TG_ERR_ARG, "HF_TOKEN contains a line break");
        char *line = tg__malloc(n + 32);
        if (!line)
            return TG_ERR_NOMEM;
        snprintf(line, n + 32, "Authorization: Bearer %s", token);
        *hdrs = curl_slist_append(NULL, line);
        free(line);
        if (!*hdrs)
            return tg__fail(TG_ERR_NOMEM, "out of memory building request headers");
    }
    errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
    return TG_OK;
}

/* A transport failure as a sentence, with libcurl's detail when it has one. */
static tg_status curl_fail(const char *url, CURLcode rc, const char *errbuf) {
    if (rc == CURLE_TOO_MANY_REDIRECTS)
        return tg__fail(TG_ERR_IO, "%s: more than %ld redirects", url, MAX_REDIRECTS);
    return tg__fail(TG_ERR_IO, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

tg_status tg__http_fail(const char *what, long code, const char *error_code,
                        const char *error_message) {
    char extra[300] = "";
    if (error_message && *error_message)
        snprintf(extra, sizeof extra, " (the hub says: %s)", error_message);
    const char *ec = error_code ? error_code : "";
    if (!strcmp(ec, "RepoNotFound"))
        return tg__fail(TG_ERR_NOT_FOUND,
                        "%s: no such repository on the hub (a private one needs a token: set "
                        "HF_TOKEN)%s",
                        what, extra);
    if (!strcmp(ec, "EntryNotFound"))
        return tg__fail(TG_ERR_NOT_FOUND, "%s: no such file in the repository%s", what, extra);
    if (!strcmp(ec, "RevisionNotFound"))
        return tg__fail(TG_ERR_NOT_FOUND, "%s: no such revision in the repository%s", what,
                        extra);
    if (!strcmp(ec, "GatedRepo"))
        return tg__fail(TG_ERR_IO,
                        "%s: the repository is gated: accept its terms on the hub, then set "
                        "HF_TOKEN to a token of that account (HTTP %ld)%s",
                        what, code, extra);
    if (code == 404 || code == 410)
        return tg__fail(TG_ERR_NOT_FOUND, "%s: no such repository or file (HTTP %ld)%s", what,
                        code, extra);
    if (code == 401 || code == 403)
        return tg__fail(TG_ERR_IO,
                        "%s: needs a token (HF_TOKEN), or the one given has no access (HTTP "
                        "%ld)%s",
                        what, code, extra);
    if (code == 429)
        return tg__fail(TG_ERR_IO, "%s: the server is rate-limiting us (HTTP 429); try again later%s",
                        what, extra);
    if (code >= 500)
        return tg__fail(TG_ERR_IO, "%s: server error (HTTP %ld); try again later%s", what, code,
                        extra);
    return tg__fail(TG_ERR_IO, "%s: unexpected HTTP status %ld%s", what, code, extra);
}

void tg__http_reply_free(tg__http_reply *r) {
    free(r->next_url);
    r->next_url = NULL;
}

/* ---- small GETs ----------------------------------------------------------- */

typedef struct get_sink {
    tg__buf *body;
    size_t max;
    bool too_big, nomem;
} get_sink;

static size_t on_get_body(char *data, size_t size, size_t nmemb, void *userdata) {
    get_sink *s = userdata;
    size_t n = size * nmemb;
    if (n > s->max - s->body->len) {
        s->too_big = true;
        return 0;
    }
    if (!tg__buf_append(s->body, data, n)) {
        s->nomem = true;
        return 0;
    }
    return n;
}

tg_status tg__http_get(const char *url, const char *token, size_t max_body, tg__buf *body,
                       tg__http_reply *reply) {
    *reply = (tg__http_reply){0};
    tg_status st = net_init();
    if (st != TG_OK)
        return st;
    CURL *c = curl_easy_init();
    if (!c)
        return tg__fail(TG_ERR_NOMEM, "%s: cannot create a libcurl handle", url);
    char errbuf[CURL_ERROR_SIZE];
    headers h = {0};
    struct curl_slist *hdrs = NULL;
    get_sink sink = {body, max_body, false, false};
    st = setup_handle(c, url, &hdrs, token, errbuf, &h);
    if (st == TG_OK) {
        /* JSON compresses well and nothing here resumes, so let the server
         * pick any encoding libcurl can decode. */
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_get_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
        CURLcode rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->code);
        if (cancelled)
            st = tg__fail(TG_ERR_IO, "%s: interrupted", url);
        else if (sink.too_big)
            st = tg__fail(TG_ERR_RANGE, "%s: the response is larger than %zu bytes", url,
                          max_body);
        else if (sink.nomem)
            st = TG_ERR_NOMEM;
        else if (rc != CURLE_OK)
            st = curl_fail(url, rc, errbuf);
    }
    snprintf(reply->error_code, sizeof reply->error_code, "%s", h.error_code);
    snprintf(reply->error_message, sizeof reply->error_message, "%s", h.error_message);
    reply->next_url = h.next_url;
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return st;
}

/* ---- the file download ------------------------------------------------------ */

typedef struct dl_state {
    int fd;
    const char *part;
    uint64_t offset;      /* where the current request's body starts in the file */
    uint64_t size;        /* bytes in the file now */
    uint64_t limit;       /* the most bytes the file may hold (0: no limit) */
    tg__sha256_ctx sha;
    CURL *curl;
    headers h;
    tg__progress prog;
    bool body_started;    /* the current response's first body byte arrived */
    long code;            /* its status */
    bool bad_range, too_big;
    int io_errno;
} dl_state;

static bool write_all(int fd, const char *p, size_t n, int *err) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            *err = errno;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Parses "bytes A-B/T" (T may be "*"); false if malformed. */
static bool parse_content_range(const char *s, uint64_t *first, uint64_t *total) {
    if (strncasecmp(s, "bytes ", 6) != 0)
        return false;
    s += 6;
    char *end;
    errno = 0;
    unsigned long long a = strtoull(s, &end, 10);
    if (end == s || *end != '-' || errno)
        return false;
    s = end + 1;
    unsigned long long b = strtoull(s, &end, 10);
    if (end == s || *end != '/' || errno || b < a)
        return false;
    s = end + 1;
    *first = a;
    *total = 0;
    if (*s == '*')
        return true;
    unsigned long long t = strtoull(s, &end, 10);
    if (end == s || errno || t <= b)
        return false;
    *total = t;
    return true;
}

static bool restart_file(dl_state *s) {
    if (ftruncate(s->fd, 0) != 0 || lseek(s->fd, 0, SEEK_SET) != 0) {
        s->io_errno = errno;
        return false;
    }
    s->offset = s->size = 0;
    tg__sha256_init(&s->sha);
    return true;
}

/* The first body byte of a response decides what happens to the file. */
static bool on_body_start(dl_state *s) {
    s->body_started = true;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->code);
    if (s->code == 206) {
        uint64_t first, total;
        if (!parse_content_range(s->h.content_range, &first, &total) || first != s->offset) {
            s->bad_range = true;
            return false;
        }
        if (total && !s->prog.total)
            s->prog.total = total;
    } else if (s->code == 200) {
        if (s->offset > 0) {
            /* The server ignored our Range: what it sends is the whole file. */
            if (!restart_file(s))
                return false;
            if (s->prog.mode != TG__PROGRESS_NONE) {
                tg__progress_break(&s->prog);
                fprintf(stderr, "%s: the server does not resume downloads; starting over\n",
                        s->prog.label);
            }
            tg__progress_restart(&s->prog);
        }
        curl_off_t len = -1;
        curl_easy_getinfo(s->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
        if (len > 0 && !s->prog.total)
            s->prog.total = (uint64_t)len;
    }
    return true;
}

static size_t on_file_body(char *data, size_t size, size_t nmemb, void *userdata) {
    dl_state *s = userdata;
    size_t n = size * nmemb;
    if (cancelled)
        return 0;
    if (!s->body_started && !on_body_start(s))
        return 0;
    if (s->code != 200 && s->code != 206) {
        /* An error page: the status and X-Error-* headers say enough. */
        return n;
    }
    if (s->limit && (n > s->limit || s->size > s->limit - n)) {
        s->too_big = true;
        return 0;
    }
    if (!write_all(s->fd, data, n, &s->io_errno))
        return 0;
    tg__sha256_update(&s->sha, data, n);
    s->size += n;
    tg__progress_update(&s->prog, s->size, false);
    return n;
}

/* Hashes the first n bytes of fd into sha (a .part being resumed). */
static tg_status hash_prefix(int fd, const char *path, uint64_t n, tg__sha256_ctx *sha) {
    static const size_t chunk = 1u << 20;
    char *buf = tg__malloc(chunk);
    if (!buf)
        return TG_ERR_NOMEM;
    uint64_t off = 0;
    tg_status st = TG_OK;
    while (off < n) {
        if (cancelled) {
            st = tg__fail(TG_ERR_IO, "%s: interrupted", path);
            break;
        }
        size_t want = (size_t)TG_MIN((uint64_t)chunk, n - off);
        ssize_t r = pread(fd, buf, want, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            st = tg__fail(TG_ERR_IO, "%s: read failed: %s", path,
                          r < 0 ? strerror(errno) : "unexpected end of file");
            break;
        }
        tg__sha256_update(sha, buf, (size_t)r);
        off += (uint64_t)r;
    }
    free(buf);
    return st;
}

tg_status tg__sha256_file_hex(const char *path, char hex[65]) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tg__fail(TG_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat stb;
    if (fstat(fd, &stb) != 0) {
        int e = errno;
        close(fd);
        return tg__fail(TG_ERR_IO, "%s: %s", path, strerror(e));
    }
    tg__sha256_ctx sha;
    tg__sha256_init(&sha);
    tg_status st = hash_prefix(fd, path, (uint64_t)stb.st_size, &sha);
    close(fd);
    if (st != TG_OK)
        return st;
    uint8_t d[32];
    tg__sha256_final(&sha, d);
    tg__sha256_hex(d, hex);
    return TG_OK;
}

/* Waits seconds, waking early on tg__net_cancel. */
static void backoff(double seconds) {
    double until = now_s() + seconds;
    while (!cancelled && now_s() < until) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static bool retryable(CURLcode rc) {
    switch (rc) {
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

/* Checks the free space under dest for `need` more bytes. */
static tg_status check_space(const char *dest, uint64_t need) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", dest);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    struct statvfs vfs;
    if (statvfs(dir, &vfs) != 0)
        return TG_OK; /* cannot tell: let the writes find out */
    uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
    if (vfs.f_frsize && avail / vfs.f_frsize != vfs.f_bavail)
        return TG_OK;
    if (need > avail) {
        char n[32], a[32];
        tg__fmt_bytes(n, sizeof n, need);
        tg__fmt_bytes(a, sizeof a, avail);
        return tg__fail(TG_ERR_IO, "%s: not enough disk space: the download needs %s more, %s free",
                        dir, n, a);
    }
    return TG_OK;
}

/* The outcome of one request. */
typedef enum { ATTEMPT_DONE, ATTEMPT_RETRY, ATTEMPT_FAIL, ATTEMPT_CANCEL } attempt_outcome;

static attempt_outcome one_attempt(dl_state *s, const tg__dl_opts *o, tg_status *st) {
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *hdrs = NULL;
    curl_easy_reset(s->curl);
    s->body_started = s->bad_range = s->too_big = false;
    s->code = 0;
    s->io_errno = 0;
    s->offset = s->size;
    *st = setup_handle(s->curl, o->url, &hdrs, o->token, errbuf, &s->h);
    if (*st != TG_OK)
        return ATTEMPT_FAIL;
    char range[48];
    if (s->offset > 0) {
        snprintf(range, sizeof range, "%" PRIu64 "-", s->offset);
        curl_easy_setopt(s->curl, CURLOPT_RANGE, range);
    }
    /* Large reads mean fewer write() calls on multi-gigabyte files. */
    curl_easy_setopt(s->curl, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_file_body);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
    CURLcode rc = curl_easy_perform(s->curl);
    curl_slist_free_all(hdrs);
    long code = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
    /* The bar stays on its line for the final redraw when all went well;
     * anything else gets a message on a line of its own. */
    if (cancelled || rc != CURLE_OK || (code != 200 && code != 206))
        tg__progress_break(&s->prog);

    if (cancelled)
        return ATTEMPT_CANCEL;
    if (s->io_errno) {
        *st = tg__fail(TG_ERR_IO, "%s: write failed: %s", s->part, strerror(s->io_errno));
        return ATTEMPT_FAIL;
    }
    if (s->too_big) {
        *st = tg__fail(TG_ERR_FORMAT, "%s: the server sent more than the expected %" PRIu64
                       " bytes", o->url, s->limit);
        return ATTEMPT_FAIL;
    }
    if (s->bad_range) {
        /* A 206 that does not start where we asked: trust nothing we have. */
        fprintf(stderr, "%s: the server answered the resume with a different range (%s); "
                "starting over\n", o->label, s->h.content_range[0] ? s->h.content_range : "none");
        if (!restart_file(s)) {
            *st = tg__fail(TG_ERR_IO, "%s: %s", s->part, strerror(s->io_errno));
            return ATTEMPT_FAIL;
        }
        return ATTEMPT_RETRY;
    }
    if (rc == CURLE_OK && (code == 200 || code == 206))
        return ATTEMPT_DONE;
    if (rc == CURLE_OK && code == 416 && s->offset > 0) {
        /* Our .part is at or past the end of what the server has.  If its
         * size is the expected one it may just be complete; the hash decides. */
        if (o->expected_size && s->size == o->expected_size)
            return ATTEMPT_DONE;
        fprintf(stderr, "%s: the server cannot resume at byte %" PRIu64 "; starting over\n",
                o->label, s->offset);
        if (!restart_file(s)) {
            *st = tg__fail(TG_ERR_IO, "%s: %s", s->part, strerror(s->io_errno));
            return ATTEMPT_FAIL;
        }
        return ATTEMPT_RETRY;
    }
    if (rc == CURLE_OK) {
        *st = tg__http_fail(o->url, code, s->h.error_code, s->h.error_message);
        return (code == 408 || code == 429 || code >= 500) ? ATTEMPT_RETRY : ATTEMPT_FAIL;
    }
    *st = curl_fail(o->url, rc, errbuf);
    return retryable(rc) ? ATTEMPT_RETRY : ATTEMPT_FAIL;
}

tg_status tg__download(const tg__dl_opts *o, tg__dl_result *r) {
    *r = (tg__dl_result){0};
    if (!o->url || !o->dest)
        return tg__fail(TG_ERR_ARG, "download: no URL or destination");
    if (o->expected_sha256 && !tg__is_sha256_hex(o->expected_sha256))
        return tg__fail(TG_ERR_ARG, "'%s' is not a sha256 (64 hex digits)", o->expected_sha256);
    tg_status st = net_init();
    if (st != TG_OK)
        return st;

    char part[4096];
    if ((size_t)snprintf(part, sizeof part, "%s.part", o->dest) >= sizeof part)
        return tg__fail(TG_ERR_RANGE, "%s: path too long", o->dest);
    int fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return tg__fail(TG_ERR_IO, "%s: %s", part, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return tg__fail(TG_ERR_IO, "%s: another tinglado pull is downloading this file", part);
        return tg__fail(TG_ERR_IO, "%s: cannot lock: %s", part, strerror(e));
    }

    dl_state s = {.fd = fd, .part = part, .limit = o->expected_size};
    tg__progress_start(&s.prog, o->progress, o->label ? o->label : o->dest, o->expected_size, 0);
    tg__sha256_init(&s.sha);

    struct stat stb;
    bool delete_part = false;
    if (fstat(fd, &stb) != 0) {
        st = tg__fail(TG_ERR_IO, "%s: %s", part, strerror(errno));
        goto out;
    }
    s.size = (uint64_t)stb.st_size;
    if (o->expected_size && s.size > o->expected_size) {
        if (!restart_file(&s)) {
            st = tg__fail(TG_ERR_IO, "%s: %s", part, strerror(s.io_errno));
            goto out;
        }
    }
    if (s.size > 0) {
        if (s.prog.mode != TG__PROGRESS_NONE)
            fprintf(stderr, "%s: resuming at byte %" PRIu64 "\n", s.prog.label, s.size);
        st = hash_prefix(fd, part, s.size, &s.sha);
        if (st != TG_OK)
            goto out;
        if (lseek(fd, (off_t)s.size, SEEK_SET) < 0) {
            st = tg__fail(TG_ERR_IO, "%s: %s", part, strerror(errno));
            goto out;
        }
    }
    r->resumed_from = s.size;
    if (o->expected_size && (st = check_space(o->dest, o->expected_size - s.size)) != TG_OK)
        goto out;

    s.curl = curl_easy_init();
    if (!s.curl) {
        st = tg__fail(TG_ERR_NOMEM, "cannot create a libcurl handle");
        goto out;
    }
    tg__progress_start(&s.prog, s.prog.mode, s.prog.label, s.prog.total, s.size);

    bool done = o->expected_size && s.size == o->expected_size;
    for (int attempt = 0; !done; attempt++) {
        r->attempts++;
        attempt_outcome a = one_attempt(&s, o, &st);
        if (a == ATTEMPT_DONE) {
            st = TG_OK;
            done = true;
        } else if (a == ATTEMPT_CANCEL) {
            r->interrupted = true;
            st = tg__fail(TG_ERR_IO, "%s: interrupted at byte %" PRIu64 "; run the same command "
                          "again to resume", o->label ? o->label : o->dest, s.size);
            break;
        } else if (a == ATTEMPT_FAIL) {
            if (s.too_big)
                delete_part = true;
            break;
        } else if (attempt >= o->retries) {
            tg__fail_prefix(st, "giving up after %d attempt%s (%" PRIu64 " bytes kept in %s; "
                            "run again to resume)", r->attempts, r->attempts == 1 ? "" : "s",
                            s.size, part);
            break;
        } else {
            double wait = attempt < 5 ? (double)(1 << attempt) : 30.0;
            fprintf(stderr, "%s: %s; retrying in %.0f s from byte %" PRIu64 "\n", s.prog.label,
                    tg_last_error(), wait, s.size);
            backoff(wait);
        }
    }
    if (!done)
        goto out;
    tg__progress_update(&s.prog, s.size, true);
    tg__progress_break(&s.prog);

    /* Verification: size, then hash; on a mismatch the bytes are worthless. */
    uint8_t digest[32];
    tg__sha256_final(&s.sha, digest);
    tg__sha256_hex(digest, r->sha256);
    r->bytes = s.size;
    if (o->expected_size && s.size != o->expected_size) {
        st = tg__fail(TG_ERR_FORMAT, "%s: got %" PRIu64 " bytes, expected %" PRIu64
                      "; the partial download was deleted", o->url, s.size, o->expected_size);
        delete_part = true;
        goto out;
    }
    char linked[65];
    etag_sha256(s.h.linked_etag, linked);
    const char *want = o->expected_sha256;
    r->hash_source = o->sha256_source ? o->sha256_source : "the caller";
    if (!want && linked[0]) {
        want = linked;
        r->hash_source = "the server's X-Linked-Etag";
    }
    if (want) {
        if (strcasecmp(want, r->sha256) != 0) {
            st = tg__fail(TG_ERR_FORMAT, "%s: sha256 mismatch: expected %s (from %s), got %s; "
                          "the partial download was deleted", o->url, want, r->hash_source,
                          r->sha256);
            delete_part = true;
            goto out;
        }
        r->verified = true;
    } else {
        r->hash_source = NULL;
    }
    if (fsync(fd) != 0) {
        st = tg__fail(TG_ERR_IO, "%s: fsync failed: %s", part, strerror(errno));
        goto out;
    }
    if (rename(part, o->dest) != 0) {
        st = tg__fail(TG_ERR_IO, "renaming %s to %s: %s", part, o->dest, strerror(errno));
        goto out;
    }
    /* Make the rename durable too (best effort: some filesystems refuse). */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", o->dest);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *(slash == dir ? slash + 1 : slash) = '\0';
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    st = TG_OK;

out:
    /* A .part is kept only when it holds bytes worth resuming. */
    if (delete_part || (st != TG_OK && s.size == 0))
        unlink(part);
    if (s.curl)
        curl_easy_cleanup(s.curl);
    free(s.h.next_url);
    close(fd); /* releases the lock */
    return st;
}
