/*
 * url.c — canonical URLs for the reading library, and relative-URL
 * resolution for the extractor.
 *
 * The canonical form is the library's identity of an item: two links that
 * differ only in tracking parameters, fragment, letter case of scheme/host
 * or a default port are the same article.  It must never change the path or
 * the meaningful query (order kept), and never accept a non-http(s) URL.
 */
#include "read/read.h"
#include "token/utf8.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Query parameters that only track the click (exact names; utm_* by prefix). */
static const char *const tracking[] = {
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid",
    "yclid", "igshid", "_hsenc", "_hsmi", "mkt_tok", "oly_enc_id", "oly_anon_id", "vero_id",
    "vero_conv", "__s", "_openstat", "twclid", "ttclid", "li_fat_id", "wickedid", "rb_clickid",
    "s_cid", "ncid", "spm", "share_id", "si",
};

static bool is_tracking(const char *name, size_t n) {
    if (n >= 4 && strncasecmp(name, "utm_", 4) == 0)
        return true;
    for (size_t i = 0; i < TG_ARRAY_LEN(tracking); i++)
        if (strlen(tracking[i]) == n && strncasecmp(name, tracking[i], n) == 0)
            return true;
    return false;
}

/* Splits "scheme://authority/rest": returns the scheme length (0 if none). */
static size_t scheme_len(const char *s, size_t n) {
    size_t i = 0;
    if (n == 0 || !isalpha((unsigned char)s[0]))
        return 0;
    while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    return i < n && s[i] == ':' ? i : 0;
}

static char *canonical(const char *url, size_t len) {
    /* trim surrounding whitespace */
    while (len && isspace((unsigned char)*url))
        url++, len--;
    while (len && isspace((unsigned char)url[len - 1]))
        len--;
    size_t sl = scheme_len(url, len);
    bool https = sl == 5 && strncasecmp(url, "https", 5) == 0;
    if (!(https || (sl == 4 && strncasecmp(url, "http", 4) == 0)) || len < sl + 3 || url[sl + 1] != '/' ||
        url[sl + 2] != '/') {
        tg__fail(TG_ERR_FORMAT, "not an http(s) URL: '%.*s'", (int)TG_MIN(len, 200), url);
        return NULL;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] < 0x20 || url[i] == ' ' || url[i] == 0x7f) { /* DEL too (fuzz_import) */
            tg__fail(TG_ERR_FORMAT, "URL contains a space or control character: '%.*s'", (int)TG_MIN(len, 200), url);
            return NULL;
        }
    const char *p = url + sl + 3, *end = url + len;
    const char *auth_end = p;
    while (auth_end < end && *auth_end != '/' && *auth_end != '?' && *auth_end != '#')
        auth_end++;
    /* host = after the last '@', up to the port */
    const char *host = p;
    for (const char *q = p; q < auth_end; q++)
        if (*q == '@')
            host = q + 1;
    const char *host_end = auth_end, *port = NULL;
    if (host < auth_end && *host == '[') { /* IPv6 literal */
        const char *rb = memchr(host, ']', (size_t)(auth_end - host));
        if (!rb) {
            tg__fail(TG_ERR_FORMAT, "URL has an unterminated IPv6 host: '%.*s'", (int)TG_MIN(len, 200), url);
            return NULL;
        }
        host_end = rb + 1;
        if (host_end < auth_end && *host_end == ':')
            port = host_end + 1;
    } else {
        const char *colon = memchr(host, ':', (size_t)(auth_end - host));
        if (colon)
            host_end = colon, port = colon + 1;
    }
    if (port)
        for (const char *q = port; q < auth_end; q++)
            if (!isdigit((unsigned char)*q)) {
                tg__fail(TG_ERR_FORMAT, "URL has a bad port: '%.*s'", (int)TG_MIN(len, 200), url);
                return NULL;
            }
    while (host_end > host && host_end[-1] == '.') /* "example.com." */
        host_end--;
    if (host_end == host) {
        tg__fail(TG_ERR_FORMAT, "URL has no host: '%.*s'", (int)TG_MIN(len, 200), url);
        return NULL;
    }
    tg__buf b = {0};
    tg__buf_puts(&b, https ? "https://" : "http://");
    tg__buf_append(&b, p, (size_t)(host - p)); /* userinfo@, kept as is */
    for (const char *q = host; q < host_end; q++)
        tg__buf_append_u8(&b, (uint8_t)tolower((unsigned char)*q));
    if (port && port < auth_end) {
        while (port + 1 < auth_end && *port == '0') /* ":0080" */
            port++;
        size_t pl = (size_t)(auth_end - port);
        bool dflt = (https && pl == 3 && !memcmp(port, "443", 3)) || (!https && pl == 2 && !memcmp(port, "80", 2));
        if (!dflt) {
            tg__buf_append_u8(&b, ':');
            tg__buf_append(&b, port, pl);
        }
    }
    const char *path = auth_end, *path_end = path;
    while (path_end < end && *path_end != '?' && *path_end != '#')
        path_end++;
    if (path_end == path)
        tg__buf_append_u8(&b, '/');
    else
        tg__buf_append(&b, path, (size_t)(path_end - path));
    if (path_end < end && *path_end == '?') {
        const char *q = path_end + 1, *q_end = q;
        while (q_end < end && *q_end != '#')
            q_end++;
        bool first = true;
        while (q < q_end) {
            const char *amp = memchr(q, '&', (size_t)(q_end - q));
            const char *pe = amp ? amp : q_end;
            const char *eq = memchr(q, '=', (size_t)(pe - q));
            size_t nl = (size_t)((eq ? eq : pe) - q);
            if (pe > q && !is_tracking(q, nl)) {
                tg__buf_append_u8(&b, first ? '?' : '&');
                tg__buf_append(&b, q, (size_t)(pe - q));
                first = false;
            }
            q = pe + 1;
        }
    }
    char *out = tg__buf_take(&b);
    if (!out)
        tg__fail(TG_ERR_NOMEM, "out of memory");
    return out;
}

bool tg__url_host(const char *url, char *out, size_t cap) {
    const char *p = strstr(url, "://");
    if (!p || cap == 0)
        return false;
    p += 3;
    const char *e = p;
    while (*e && *e != '/' && *e != '?' && *e != '#')
        e++;
    for (const char *q = p; q < e; q++)
        if (*q == '@')
            p = q + 1;
    const char *c = p;
    if (*c == '[') {
        while (c < e && *c != ']')
            c++;
        if (c < e)
            c++;
    } else {
        while (c < e && *c != ':')
            c++;
    }
    size_t n = (size_t)(c - p);
    if (n == 0 || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)p[i]);
    out[n] = '\0';
    return true;
}

/* RFC 3986 5.2.4: removes "." and ".." segments of path into b. */
static void remove_dots(tg__buf *b, const char *path, size_t n) {
    size_t start = b->len;
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && path[j] != '/')
            j++;
        /* segment is path[i..j), starting with '/' */
        size_t sl = j - i;
        if ((sl == 2 && path[i + 1] == '.') || (sl == 3 && path[i + 1] == '.' && path[i + 2] == '.')) {
            if (sl == 3) { /* drop the last output segment */
                while (b->len > start && b->data[b->len - 1] != '/')
                    b->len--;
                if (b->len > start)
                    b->len--;
            }
            if (j >= n)
                tg__buf_append_u8(b, '/');
        } else {
            tg__buf_append(b, path + i, sl);
        }
        i = j;
    }
}

char *tg__url_resolve(const char *base, const char *href) {
    while (*href && isspace((unsigned char)*href))
        href++;
    size_t hl = strlen(href);
    while (hl && isspace((unsigned char)href[hl - 1]))
        hl--;
    size_t sl = scheme_len(href, hl);
    if (sl)
        return tg__strndup(href, hl);
    if (!base || !scheme_len(base, strlen(base)))
        return NULL;
    size_t bsl = scheme_len(base, strlen(base));
    tg__buf b = {0};
    if (hl >= 2 && href[0] == '/' && href[1] == '/') { /* network-path reference */
        tg__buf_append(&b, base, bsl + 1);
        tg__buf_append(&b, href, hl);
        return tg__buf_take(&b);
    }
    const char *auth = base + bsl + 1;
    const char *path = auth;
    if (auth[0] == '/' && auth[1] == '/') {
        path = auth + 2;
        while (*path && *path != '/' && *path != '?' && *path != '#')
            path++;
    }
    const char *bpath_end = path;
    while (*bpath_end && *bpath_end != '?' && *bpath_end != '#')
        bpath_end++;
    tg__buf_append(&b, base, (size_t)(path - base));
    if (hl == 0 || href[0] == '#') {
        const char *q_end = bpath_end;
        while (*q_end && *q_end != '#')
            q_end++;
        tg__buf_append(&b, path, (size_t)(q_end - path));
        tg__buf_append(&b, href, hl);
        return tg__buf_take(&b);
    }
    if (href[0] == '?') {
        tg__buf_append(&b, path, (size_t)(bpath_end - path));
        tg__buf_append(&b, href, hl);
        return tg__buf_take(&b);
    }
    const char *h_end = href;
    while (h_end < href + hl && *h_end != '?' && *h_end != '#')
        h_end++;
    tg__buf merged = {0};
    if (href[0] == '/') {
        tg__buf_append(&merged, href, (size_t)(h_end - href));
    } else {
        const char *slash = bpath_end;
        while (slash > path && slash[-1] != '/')
            slash--;
        if (slash == path)
            tg__buf_append_u8(&merged, '/');
        else
            tg__buf_append(&merged, path, (size_t)(slash - path));
        tg__buf_append(&merged, href, (size_t)(h_end - href));
    }
    if (merged.failed) {
        tg__buf_free(&merged);
        tg__buf_free(&b);
        return NULL;
    }
    remove_dots(&b, (const char *)merged.data, merged.len);
    tg__buf_free(&merged);
    tg__buf_append(&b, h_end, (size_t)(href + hl - h_end));
    return tg__buf_take(&b);
}

char *tg__url_encode_invalid(const char *url, size_t len) {
    tg__buf b = {0};
    size_t i = 0;
    while (i < len) {
        size_t n = 1;
        if (tg__utf8_classify((const uint8_t *)url + i, len - i, &n) == TG__UTF8_OK) {
            tg__buf_append(&b, url + i, n);
        } else {
            n = 1; /* each byte of a bad sequence on its own */
            tg__buf_printf(&b, "%%%02X", (unsigned char)url[i]);
        }
        i += n ? n : 1;
    }
    tg__buf_append_u8(&b, 0);
    if (b.failed) {
        tg__buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}

char *tg__url_canonical(const char *url, size_t len) {
    if (tg__utf8_valid(url, len) || memchr(url, '\0', len))
        return canonical(url, len); /* (a NUL is refused there as a control character) */
    /* raw bytes from a server or a file: percent-encoded, as a browser sends them */
    char *fixed = tg__url_encode_invalid(url, len);
    if (!fixed) {
        tg__fail(TG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    char *c = canonical(fixed, strlen(fixed));
    free(fixed);
    return c;
}
