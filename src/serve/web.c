/*
 * web.c — the front door of the reading list's web page (/library/): which
 * requests get in, and the headers every answer carries.  The JSON API
 * itself is webapi.c; the files are web_assets.c.
 *
 * Security model (docs/web.md):
 *   - Without an API key the server listens on loopback only (server.c
 *     refuses otherwise unless --insecure), and the page also requires a
 *     Host header naming a loopback address or --host: a page elsewhere
 *     that rebinds its DNS name to 127.0.0.1 is refused (its Host is its
 *     own name).  (--insecure on another address skips this rule too.)
 *   - With a key, every API call needs "Authorization: Bearer KEY" or the
 *     login cookie: POST /library/api/login {"key"} sets tg_session, a
 *     random per-process token (never the key), HttpOnly, SameSite=Strict.
 *     The static files are public: they hold no data.
 *   - CSRF: a mutating call is a POST with Content-Type application/json
 *     and the header X-Tinglado-CSRF — neither can be sent cross-origin
 *     without a CORS preflight, which this server never grants — and an
 *     Origin, when the browser sends one, must be this server's.
 *   - Every answer carries a strict Content-Security-Policy (scripts and
 *     styles only from our own files, no inline script, no framing of the
 *     page; images also from http(s) for article pictures), nosniff, and
 *     no referrer.  Articles are shown in a sandboxed iframe without
 *     allow-scripts (app.js), so extracted HTML stays inert even if the
 *     sanitiser missed something.
 *
 * Must never: echo request bytes into HTML, or accept a POST without the
 * CSRF checks.
 */
#include "serve/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const tg__web_headers[] = {
    "Content-Security-Policy",
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' http: https:; connect-src 'self'; "
    "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options", "nosniff",
    "X-Frame-Options", "DENY",
    "Referrer-Policy", "no-referrer",
    "Cross-Origin-Opener-Policy", "same-origin",
    "Cross-Origin-Resource-Policy", "same-origin",
    NULL, NULL,
};

bool tg__web_path(const char *path) {
    return !strcmp(path, "/") || !strcmp(path, "/library") || !strncmp(path, "/library/", 9);
}

void tg__web_json(tg__web_resp *out, int status, json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) {
        out->status = 500;
        out->ctype = "application/json";
        out->body = (char *)"{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\",\"param\":null,"
                            "\"code\":null}}";
        out->len = strlen(out->body);
        out->is_static = true;
        return;
    }
    out->status = status;
    out->ctype = "application/json";
    out->body = s;
    out->len = strlen(s);
    out->is_static = false;
}

void tg__web_error(tg__web_resp *out, int status, const char *msg, const char *param, const char *code) {
    char *s = tg__error_json(status, msg, param, code);
    out->status = s ? status : 500;
    out->ctype = "application/json";
    out->body = s ? s : (char *)"{\"error\":{\"message\":\"out of memory\"}}";
    out->len = strlen(out->body);
    out->is_static = !s;
}

static void redirect(tg__web_resp *out, const char *to) {
    out->status = 302;
    out->ctype = "text/plain; charset=utf-8";
    out->body = (char *)"";
    out->len = 0;
    out->is_static = true;
    snprintf(out->location, sizeof out->location, "%s", to);
}

/* Compares a secret in time independent of where it differs. */
static bool same_secret(const char *got, const char *want) {
    if (!got || !want || !*want)
        return false;
    size_t n = strlen(got), k = strlen(want);
    unsigned char d = (unsigned char)(n != k);
    for (size_t i = 0; i < k; i++)
        d |= (unsigned char)((i < n ? (unsigned char)got[i] : 0) ^ (unsigned char)want[i]);
    return d == 0;
}

/* The host part of a Host header ("127.0.0.1:8080", "[::1]:80", "localhost"). */
static void host_name(const char *h, char *out, size_t cap) {
    out[0] = 0;
    if (!h)
        return;
    size_t n;
    if (h[0] == '[') {
        const char *e = strchr(h, ']');
        if (!e)
            return;
        h++;
        n = (size_t)(e - h);
    } else {
        const char *c = strchr(h, ':');
        n = c ? (size_t)(c - h) : strlen(h);
    }
    if (n >= cap)
        return;
    memcpy(out, h, n);
    out[n] = 0;
}

/* Without a key: a Host the browser can only send when it really talks to
 * this machine's loopback (or the address we were told to listen on). */
static bool host_allowed(const tg__app *app, const char *host) {
    char name[256];
    host_name(host, name, sizeof name);
    if (!name[0])
        return false;
    if (tg__host_is_loopback(name))
        return true;
    return app->listen_host && !strcasecmp(name, app->listen_host) && strcmp(name, "0.0.0.0") && strcmp(name, "::");
}

/* A POST's CSRF checks; false with *out set to the refusal. */
static bool csrf_ok(const tg__web_req *rq, tg__web_resp *out) {
    if (!rq->csrf || !*rq->csrf) {
        tg__web_error(out, 403, "Missing the X-Tinglado-CSRF header: state-changing calls come from the page.",
                      NULL, "csrf");
        return false;
    }
    if (!rq->content_type || strncasecmp(rq->content_type, "application/json", 16) != 0) {
        tg__web_error(out, 415, "The body must be JSON (Content-Type: application/json).", NULL, "bad_content_type");
        return false;
    }
    if (rq->origin) {
        char want[300];
        bool ok = false;
        if (rq->host && strlen(rq->host) < 256) {
            snprintf(want, sizeof want, "http://%s", rq->host);
            ok = !strcmp(rq->origin, want);
            snprintf(want, sizeof want, "https://%s", rq->host);
            ok = ok || !strcmp(rq->origin, want);
        }
        if (!ok) {
            tg__web_error(out, 403, "Cross-origin request refused (its Origin is not this server).", NULL, "csrf");
            return false;
        }
    }
    return true;
}

static void static_file(const char *name, tg__web_resp *out) {
    size_t len;
    const char *ctype;
    const char *data = tg__web_asset(name, &len, &ctype);
    if (!data) {
        tg__web_error(out, 404, "No such page.", NULL, "unknown_url");
        return;
    }
    out->status = 200;
    out->ctype = ctype;
    out->body = (char *)data;
    out->len = len;
    out->is_static = true;
    out->cache = "no-cache"; /* revalidate: a new binary may serve new files */
}

static void login(tg__app *app, const tg__web_req *rq, tg__web_resp *out) {
    if (!app->api_key) {
        tg__web_json(out, 200, json_pack("{s:b}", "auth", 0));
        return;
    }
    json_error_t je;
    json_t *o = json_loadb(rq->body ? rq->body : "", rq->body_len, 0, &je);
    const char *key = o ? json_string_value(json_object_get(o, "key")) : NULL;
    if (!key) {
        json_decref(o);
        tg__web_error(out, 400, "The body must be a JSON object with a string \"key\".", "key", "invalid_request");
        return;
    }
    bool ok = same_secret(key, app->api_key);
    json_decref(o);
    if (!ok) {
        tg__web_error(out, 401, "Incorrect API key.", "key", "invalid_api_key");
        return;
    }
    snprintf(out->set_cookie, sizeof out->set_cookie, "tg_session=%s; Path=/library; HttpOnly; SameSite=Strict",
             app->session);
    tg__web_json(out, 200, json_pack("{s:b}", "auth", 1));
}

void tg__web_handle(tg__app *app, const tg__web_req *rq, tg__web_resp *out) {
    memset(out, 0, sizeof *out);
    const char *p = rq->path;
    const bool get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
    const bool post = !strcmp(rq->method, "POST");
    /* the Host rule guards a keyless server on loopback; one listening
     * elsewhere without a key was started --insecure, on purpose */
    if (!app->api_key && tg__host_is_loopback(app->listen_host) && !host_allowed(app, rq->host)) {
        tg__web_error(out, 403, "This server answers only requests addressed to its loopback name or --host.", NULL,
                      "bad_host");
        return;
    }
    if (!strcmp(p, "/") || !strcmp(p, "/library")) {
        if (!get)
            { tg__web_error(out, 405, "Use GET.", NULL, "method_not_allowed"); return; }
        { redirect(out, "/library/"); return; }
    }
    p += 9; /* after "/library/" */
    if (strncmp(p, "api/", 4) != 0) {
        if (!get)
            { tg__web_error(out, 405, "Use GET.", NULL, "method_not_allowed"); return; }
        { static_file(*p ? p : "index.html", out); return; }
    }
    p += 4;
    if (!get && !post)
        { tg__web_error(out, 405, "The API takes GET and POST.", NULL, "method_not_allowed"); return; }
    if (post && !csrf_ok(rq, out))
        return;
    if (!strcmp(p, "login")) {
        if (!post)
            { tg__web_error(out, 405, "Use POST.", NULL, "method_not_allowed"); return; }
        { login(app, rq, out); return; }
    }
    if (!strcmp(p, "logout")) {
        if (!post)
            { tg__web_error(out, 405, "Use POST.", NULL, "method_not_allowed"); return; }
        snprintf(out->set_cookie, sizeof out->set_cookie,
                 "tg_session=; Path=/library; HttpOnly; SameSite=Strict; Max-Age=0");
        { tg__web_json(out, 200, json_pack("{s:b}", "auth", 0)); return; }
    }
    if (app->api_key && !tg__auth_ok(rq->authorization, app->api_key) && !same_secret(rq->session, app->session))
        { tg__web_error(out, 401, "Log in with the server's API key.", NULL, "login_required"); return; }
    out->cache = "no-store";
    tg__webapi(app, rq, p, out);
}
