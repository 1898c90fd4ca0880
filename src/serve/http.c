/*
 * http.c — the HTTP transport of `tinglado serve`, on libmicrohttpd.
 *
 * Threading: a thread per connection (MHD_USE_THREAD_PER_CONNECTION), so a
 * slow client — slow to send its body or slow to read a stream — holds only
 * its own thread.  The scheduler never writes to a socket: it appends to the
 * job's buffers, and the connection's thread turns them into bytes at the
 * pace its client reads.  Idle connections time out (timeout_s).
 *
 * Bounds: the request line and headers fit MHD's per-connection memory
 * (64 KiB), a body is refused with 413 as soon as its Content-Length, or
 * its bytes so far, pass max_body; connections are capped.
 *
 * Disconnects: while a request waits for its job (or streams it), its thread
 * checks every 100 ms whether the peer hung up (poll POLLRDHUP on the
 * socket) and, if so, cancels the job, which frees its slot at the
 * scheduler's next step.
 *
 * Must never: block the scheduler, read more body than max_body, or echo
 * request bytes anywhere but the access log (escaped there).
 */
#include "serve/serve.h"

#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct tg__http {
    struct MHD_Daemon *d;
    tg__app *app;
};

typedef struct conn {
    tg__app *app;
    struct MHD_Connection *mc;
    const char *route; /* metrics label */
    tg__api api;
    bool generate;     /* a POST to chat/completions (the body is read first) */
    bool embeddings;
    bool web;          /* the reading list's page or API (web.c) */
    char method[16];
    char path[256];
    char remote[64];
    double t0;
    int status;
    uint64_t bytes;
    tg__buf body;
    bool too_big;     /* the body passed max_body: the rest is dropped */
    size_t discarded;
    tg__gen gen;
    bool have_gen;
    /* streaming */
    tg__buf out;
    size_t out_pos, text_off, rec_off;
    bool first, finished;
} conn;

/* ---- responses -------------------------------------------------------------------- */

static enum MHD_Result send_body(conn *c, int status, const char *ctype, char *body) {
    if (!body) {
        status = 500;
        ctype = "application/json";
        body = strdup("{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\",\"param\":null,"
                      "\"code\":null}}");
        if (!body)
            return MHD_NO;
    }
    size_t len = strlen(body);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == 401)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (status == 429 || status == 503)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    c->status = status;
    c->bytes = len;
    enum MHD_Result ret = MHD_queue_response(c->mc, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(conn *c, int status, const char *msg, const char *param, const char *code) {
    return send_body(c, status, "application/json", tg__error_json(status, msg, param, code));
}

static enum MHD_Result send_json(conn *c, int status, json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return send_body(c, status, "application/json", s);
}

/* ---- the client's socket -------------------------------------------------------------- */

/* Has the peer closed its end?  (Pipelined bytes waiting to be read do not
 * count: only a hang-up or an error does.) */
static bool client_gone(conn *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return false;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* Waits on the job's condition for up to 100 ms.  Called with j->mu held. */
static void wait_a_little(tg__job *j) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 100 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&j->cv, &j->mu, &ts);
}

/* Blocks until the job ends; false if the client went away first (the job
 * is then cancelled). */
static bool wait_done(conn *c) {
    tg__job *j = c->gen.job;
    pthread_mutex_lock(&j->mu);
    while (j->finish == TG__FINISH_NONE) {
        wait_a_little(j);
        if (j->finish != TG__FINISH_NONE)
            break;
        pthread_mutex_unlock(&j->mu);
        if (client_gone(c)) {
            tg__job_cancel(j);
            return false;
        }
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return true;
}

/* ---- streaming -------------------------------------------------------------------- */

/* MHD asks for the next bytes of an SSE stream.  Blocks (in this
 * connection's own thread) until the job has something new. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    conn *c = cls;
    tg__job *j = c->gen.job;
    for (;;) {
        if (c->out_pos < c->out.len) {
            size_t n = TG_MIN(max, c->out.len - c->out_pos);
            memcpy(buf, c->out.data + c->out_pos, n);
            c->out_pos += n;
            if (c->out_pos == c->out.len)
                c->out.len = c->out_pos = 0;
            c->bytes += n;
            return (ssize_t)n;
        }
        if (c->finished)
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&j->mu);
        bool news = c->first || j->finish != TG__FINISH_NONE || j->text_len > c->text_off || j->n_recs > c->rec_off;
        if (!news) {
            wait_a_little(j);
            news = j->finish != TG__FINISH_NONE || j->text_len > c->text_off || j->n_recs > c->rec_off;
        }
        bool ok = true;
        if (news) {
            bool done = j->finish != TG__FINISH_NONE;
            ok = tg__reply_stream(&c->gen.rc, j, c->first, &c->text_off, &c->rec_off, &c->out);
            c->first = false;
            c->finished = done;
        }
        pthread_mutex_unlock(&j->mu);
        if (!ok) {
            tg__job_cancel(j);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (c->out.len == 0 && !c->finished && client_gone(c)) {
            tg__job_cancel(j);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
}

/* ---- routes ----------------------------------------------------------------------- */

static enum MHD_Result route_health(conn *c) {
    int q = 0, a = 0, n = 0;
    if (c->app->sched)
        tg__sched_counts(c->app->sched, &q, &a, &n);
    bool draining = atomic_load(&c->app->draining);
    return send_json(c, draining ? 503 : 200,
                     json_pack("{s:s, s:s?, s:i, s:i, s:i}", "status", draining ? "draining" : "ok", "model",
                               c->app->model ? c->app->model_id : NULL, "slots_total", n, "slots_active", a, "queue",
                               q));
}

static json_t *model_object(const tg__app *app) {
    return json_pack("{s:s, s:s, s:I, s:s, s:{s:i, s:s}}", "id", app->model_id, "object", "model", "created",
                     (json_int_t)app->created, "owned_by", "tinglado", "meta", "n_ctx", app->n_ctx, "arch",
                     tg_model_arch(app->model));
}

static enum MHD_Result route_models(conn *c, const char *id) {
    if (!id)
        return send_json(c, 200, json_pack("{s:s, s:[o]}", "object", "list", "data", model_object(c->app)));
    if (strcmp(id, c->app->model_id) != 0) {
        char msg[400];
        snprintf(msg, sizeof msg, "The model '%.200s' does not exist; this server runs '%.100s'", id,
                 c->app->model_id);
        return send_error(c, 404, msg, "model", "model_not_found");
    }
    return send_json(c, 200, model_object(c->app));
}

static enum MHD_Result route_metrics(conn *c) {
    int q = 0, a = 0, n = 0;
    if (c->app->sched)
        tg__sched_counts(c->app->sched, &q, &a, &n);
    return send_body(c, 200, "text/plain; version=0.0.4", tg__metrics_render(c->app->metrics, q, a, n));
}

/* Hook: an embedding model, once the embeddings issue lands, is served
 * here; until then every model answers that it cannot embed. */
static enum MHD_Result route_embeddings(conn *c) {
    if (c->app->embedder) {
        char *out = NULL;
        const int status = tg__embeddings(c->app, (const char *)c->body.data, c->body.len, &out);
        tg__buf_free(&c->body);
        return send_body(c, status, "application/json", out);
    }
    char msg[300];
    snprintf(msg, sizeof msg,
             "The model '%.100s' is a text generation model and does not support embeddings; start tinglado "
             "serve with --embedding-model to use /v1/embeddings.",
             c->app->model_id);
    return send_error(c, 400, msg, "model", "model_not_supported");
}

static const char *web_arg(void *ctx, const char *name) {
    return MHD_lookup_connection_value((struct MHD_Connection *)ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* A request for the reading list's page or API: web.c decides, this sends
 * its answer with the security headers every page response carries. */
static enum MHD_Result route_web(conn *c) {
    struct MHD_Connection *mc = c->mc;
    tg__web_req rq = {
        .method = c->method,
        .path = c->path,
        .arg = web_arg,
        .arg_ctx = mc,
        .host = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
        .origin = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Origin"),
        .csrf = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "X-Tinglado-CSRF"),
        .content_type = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .authorization = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .session = MHD_lookup_connection_value(mc, MHD_COOKIE_KIND, "tg_session"),
        .body = (const char *)c->body.data,
        .body_len = c->body.len,
    };
    tg__web_resp w;
    tg__web_handle(c->app, &rq, &w);
    tg__buf_free(&c->body);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        w.len, w.body, w.is_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
    if (!r) {
        if (!w.is_static)
            free(w.body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, w.ctype);
    for (size_t i = 0; tg__web_headers[i]; i += 2)
        MHD_add_response_header(r, tg__web_headers[i], tg__web_headers[i + 1]);
    if (w.set_cookie[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, w.set_cookie);
    if (w.location[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, w.location);
    if (w.cache)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, w.cache);
    c->status = w.status;
    c->bytes = w.len;
    enum MHD_Result ret = MHD_queue_response(c->mc, (unsigned)w.status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result route_generate(conn *c) {
    char *err = NULL;
    int status = tg__gen_start(c->app, c->api, (const char *)c->body.data, c->body.len, &c->gen, &err);
    c->have_gen = true;
    tg__buf_free(&c->body);
    if (status != 200)
        return send_body(c, status, "application/json", err);
    if (c->gen.req.stream) {
        c->first = true;
        struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, c, NULL);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        MHD_add_response_header(r, "X-Accel-Buffering", "no");
        c->status = 200;
        enum MHD_Result ret = MHD_queue_response(c->mc, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!wait_done(c)) {
        c->status = 499; /* the client closed the request (nginx's code) */
        return MHD_NO;
    }
    tg__job *j = c->gen.job;
    if (j->finish == TG__FINISH_ERROR)
        return send_error(c, 500, j->error[0] ? j->error : "generation failed", NULL, NULL);
    if (j->finish == TG__FINISH_CANCELLED)
        return send_error(c, 503, "The server is shutting down; the request was cancelled.", NULL, "shutting_down");
    return send_body(c, 200, "application/json", tg__reply_full(&c->gen.rc, j));
}

/* The first call for a request: headers are in, no body yet.  Decides the
 * route, checks the key and the announced body size. */
static enum MHD_Result on_headers(conn *c, const char *url, const char *method) {
    const bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    const bool is_v1 = !strncmp(url, "/v1/", 4);
    if (c->app->reader && tg__web_path(url)) {
        c->route = "library";
        c->web = true;
        if (!post)
            return route_web(c);
        const char *cl = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > TG__WEB_MAX_BODY) {
            char msg[160];
            snprintf(msg, sizeof msg, "The body is larger than the page's limit of %zu bytes.", TG__WEB_MAX_BODY);
            return send_error(c, 413, msg, NULL, "body_too_large");
        }
        return MHD_YES; /* read the body */
    }
    if (!c->app->model && is_v1 && strcmp(url, "/v1/embeddings") != 0) {
        c->route = "other";
        return send_error(c, 503, "No generative model is loaded (tinglado serve was started without -m).", NULL,
                          "no_model");
    }
    if (!strcmp(url, "/health")) {
        c->route = "health";
        return get ? route_health(c) : send_error(c, 405, "use GET /health", NULL, "method_not_allowed");
    }
    if (!strcmp(url, "/metrics"))
        c->route = "metrics";
    else if (!strcmp(url, "/v1/models") || !strncmp(url, "/v1/models/", 11))
        c->route = "models";
    else if (!strcmp(url, "/v1/chat/completions"))
        c->route = "chat", c->api = TG__API_CHAT, c->generate = true;
    else if (!strcmp(url, "/v1/completions"))
        c->route = "completions", c->api = TG__API_COMPLETIONS, c->generate = true;
    else if (!strcmp(url, "/v1/embeddings"))
        c->route = "embeddings", c->embeddings = true;
    else {
        char msg[320];
        snprintf(msg, sizeof msg, "Unknown path %s%.200s; see docs/API.md for the endpoints",
                 is_v1 ? "" : "(the API lives under /v1/) ", url);
        return send_error(c, 404, msg, NULL, "unknown_url");
    }
    const char *auth = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!tg__auth_ok(auth, c->app->api_key))
        return send_error(c, 401,
                          auth ? "Incorrect API key provided." : "Missing API key: send \"Authorization: Bearer KEY\".",
                          NULL, "invalid_api_key");
    if (c->generate || c->embeddings) {
        if (!post)
            return send_error(c, 405, "this endpoint takes POST", NULL, "method_not_allowed");
        const char *cl = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > c->app->max_body) {
            char msg[160];
            snprintf(msg, sizeof msg, "The body is larger than this server's limit of %zu bytes.", c->app->max_body);
            return send_error(c, 413, msg, NULL, "body_too_large");
        }
        return MHD_YES; /* read the body */
    }
    if (!get)
        return send_error(c, 405, "this endpoint takes GET", NULL, "method_not_allowed");
    if (!strcmp(c->route, "metrics"))
        return route_metrics(c);
    return route_models(c, url[10] == '/' ? url + 11 : NULL);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_data_size,
                               void **con_cls) {
    (void)version;
    tg__app *app = cls;
    conn *c = *con_cls;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return MHD_NO;
        *con_cls = c;
        atomic_fetch_add(&app->in_flight, 1);
        c->app = app;
        c->mc = mc;
        c->t0 = tg__now();
        c->route = "other";
        snprintf(c->method, sizeof c->method, "%s", method);
        snprintf(c->path, sizeof c->path, "%s", url);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr)
            getnameinfo(ci->client_addr,
                        ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                               : sizeof(struct sockaddr_in),
                        c->remote, sizeof c->remote, NULL, 0, NI_NUMERICHOST);
        return on_headers(c, url, method);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        const size_t max_body = c->web ? TG__WEB_MAX_BODY : c->app->max_body;
        if (c->too_big || c->body.len + n > max_body) {
            /* MHD cannot answer in the middle of a body: the rest is read
             * and dropped, up to as much again, then refused with 413 at
             * its end; past that the connection is closed */
            if (!c->too_big)
                c->discarded = c->body.len;
            tg__buf_free(&c->body);
            c->too_big = true;
            c->discarded += n;
            if (c->discarded > 2 * max_body) {
                c->status = 413;
                return MHD_NO;
            }
            return MHD_YES;
        }
        if (!tg__buf_append(&c->body, upload_data, n)) {
            c->status = 500;
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (c->too_big) {
        char msg[160];
        snprintf(msg, sizeof msg, "The body is larger than this server's limit of %zu bytes.",
                 c->web ? TG__WEB_MAX_BODY : c->app->max_body);
        return send_error(c, 413, msg, NULL, "body_too_large");
    }
    if (c->web)
        return route_web(c);
    if (c->embeddings)
        return route_embeddings(c);
    return route_generate(c);
}

static void completed(void *cls, struct MHD_Connection *mc, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)mc;
    tg__app *app = cls;
    conn *c = *con_cls;
    if (!c)
        return;
    *con_cls = NULL;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && c->status == 200)
        c->status = 499; /* the stream was cut: the client left (or timed out) */
    tg__access a = {.remote = c->remote[0] ? c->remote : "-", .method = c->method, .path = c->path,
                    .status = c->status ? c->status : 499, .bytes = c->bytes, .seconds = tg__now() - c->t0};
    tg__job *j = c->have_gen ? c->gen.job : NULL;
    if (j) {
        tg__job_cancel(j); /* no-op if it finished; frees the slot if not */
        pthread_mutex_lock(&j->mu);
        a.id = c->gen.id;
        a.prompt_tokens = j->n_prompt;
        a.cached_tokens = j->n_cached;
        a.completion_tokens = j->n_gen;
        a.finish = j->finish == TG__FINISH_STOP     ? (j->tool_at >= 0 && j->grammar_done ? "tool_calls" : "stop")
                   : j->finish == TG__FINISH_LENGTH ? "length"
                   : j->finish == TG__FINISH_ERROR  ? "error"
                                                    : "cancelled";
        pthread_mutex_unlock(&j->mu);
    }
    tg__alog_write(app->alog, &a);
    tg__metrics_request(app->metrics, c->route, a.status);
    if (c->have_gen)
        tg__gen_free(&c->gen);
    tg__buf_free(&c->body);
    tg__buf_free(&c->out);
    free(c);
    atomic_fetch_sub(&app->in_flight, 1);
}

/* MHD's messages, prefixed.  The format comes from libmicrohttpd itself. */
TG_PRINTF(2, 0)
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    fputs("tinglado serve: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* ---- the daemon ------------------------------------------------------------------- */

tg__http *tg__http_start(tg__app *app, const tg__http_params *p) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", p->port);
    int e = getaddrinfo(p->host, port, &hints, &ai);
    if (e != 0 || !ai) {
        tg__fail(TG_ERR_ARG, "cannot resolve the listen address '%s': %s", p->host, gai_strerror(e));
        return NULL;
    }
    tg__http *h = tg__calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(ai);
        return NULL;
    }
    h->app = app;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* the logger first: MHD reports options it parses before it */
    h->d = MHD_start_daemon(flags, (uint16_t)p->port, NULL, NULL, handler, app, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
                            NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_CONNECTION_LIMIT, p->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
                            p->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, app, MHD_OPTION_LISTEN_BACKLOG_SIZE, 128u, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->d) {
        free(h);
        tg__fail(TG_ERR_IO, "cannot listen on %s:%d (address in use, or not an address of this machine?)", p->host,
                 p->port);
        return NULL;
    }
    return h;
}

int tg__http_port(const tg__http *h) {
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    return di ? di->port : -1;
}

void tg__http_quiesce(tg__http *h) {
    MHD_socket s = MHD_quiesce_daemon(h->d);
    if (s != MHD_INVALID_SOCKET)
        close(s);
}

void tg__http_stop(tg__http *h) {
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}
