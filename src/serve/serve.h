/*
 * serve.h — the internals of `tinglado serve`, shared by the files of
 * src/serve/ (nothing outside that folder includes this):
 *
 *   openai.c     an API request body (JSON) → a validated tg__sreq
 *   prompt.c     a chat request → prompt text (tools rendered server-side),
 *                the tool-call envelope schema, model output → tool calls
 *   respond.c    response, stream-chunk and error JSON in OpenAI's shapes
 *   job.c        one generation request as the scheduler and the HTTP
 *                thread share it (input, growing output, cancel flag)
 *   sched.c      continuous batching: slots of one tg_ctx, one decode per step
 *   metrics.c    counters and histograms, Prometheus text
 *   auth.c       API keys and listen-address checks
 *   accesslog.c  one line per request
 *   http.c       libmicrohttpd: routing, bodies, SSE streaming, disconnects
 *   server.c     tg_server: model + scheduler + HTTP, start, drain, stop
 *   web.c        the reading list's web page: auth cookie, CSRF rule,
 *                security headers, static files (web_assets.c embeds them)
 *   webapi.c     its JSON API under /library/api/ (validated parameters)
 *   reader.c     the library's background worker (fetch, extract, embed)
 *
 * Untrusted bytes (bodies, headers) enter only through openai.c and http.c,
 * which bound and validate them; everything behind them sees checked values.
 */
#ifndef TG_SERVE_H
#define TG_SERVE_H

#include "base/base.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

/* ---- parsed API requests (openai.c) ---------------------------------------- */

typedef enum tg__api { TG__API_CHAT, TG__API_COMPLETIONS } tg__api;

typedef enum tg__tool_mode {
    TG__TOOLS_NONE,     /* no tools, or tool_choice "none"                        */
    TG__TOOLS_AUTO,     /* the model may answer or call (lazy envelope grammar)   */
    TG__TOOLS_REQUIRED, /* the whole turn is a call to one of the tools           */
    TG__TOOLS_NAMED,    /* the whole turn is a call to tool_name                  */
} tg__tool_mode;

typedef enum tg__format {
    TG__FORMAT_TEXT,
    TG__FORMAT_JSON_OBJECT, /* any JSON object                        */
    TG__FORMAT_JSON_SCHEMA, /* JSON valid against format_schema       */
} tg__format;

#define TG__MAX_STOPS 4     /* OpenAI's limit */
#define TG__MAX_TOOLS 128
#define TG__MAX_MESSAGES 4096
#define TG__MAX_TOP_LOGPROBS 20

typedef struct tg__tool {
    const char *name;        /* [A-Za-z0-9_-]{1,64}, as OpenAI requires     */
    const char *description; /* "" if none                                  */
    json_t *parameters;      /* a JSON Schema object (borrowed from root)   */
} tg__tool;

/* One chat message.  role is system/user/assistant/tool ("developer" is
 * read as system); content may be "" (an assistant turn that only calls). */
typedef struct tg__msg {
    const char *role;
    const char *content;
    json_t *tool_calls;       /* assistant: the array as sent, or NULL */
    const char *tool_call_id; /* tool: the call it answers, or NULL    */
} tg__msg;

/* A request after validation.  Strings point into `root` or into `owned`
 * (both released by tg__sreq_free). */
typedef struct tg__sreq {
    tg__api api;
    json_t *root;
    /* chat */
    tg__msg *msgs;
    size_t n_msgs;
    /* completions: either text or token ids */
    const char *prompt;
    size_t prompt_len;
    tg_tokens prompt_ids;
    bool prompt_is_ids;
    /* sampling: the server's defaults overridden by the request */
    tg_sampler_params sp;
    int64_t max_tokens; /* -1: not given */
    const char *stops[TG__MAX_STOPS];
    size_t n_stops;
    bool stream, include_usage;
    bool logprobs;        /* chat: logprobs; completions: logprobs given      */
    int32_t top_logprobs; /* alternatives per token (0..20; completions 0..5) */
    /* tools and response format */
    tg__tool *tools;
    size_t n_tools;
    tg__tool_mode tool_mode;
    const char *tool_name; /* TG__TOOLS_NAMED */
    tg__format format;
    json_t *format_schema; /* TG__FORMAT_JSON_SCHEMA (borrowed) */
    /* logit_bias: token ids (checked against the vocabulary later) and biases */
    int64_t *bias_tokens;
    float *bias_values;
    size_t n_bias;
    /* memory owned by the request */
    char **owned;
    size_t n_owned, cap_owned;
    /* the offending field after a failed parse ("messages[2].role"), else "" */
    char param[96];
} tg__sreq;

/* Parses and validates a body of len bytes (not NUL-terminated).  Unknown
 * fields are ignored; known ones must have OpenAI's types and ranges.
 * `defaults` are the server's sampling defaults.  TG_OK, or TG_ERR_FORMAT
 * (not JSON), TG_ERR_TYPE / TG_ERR_RANGE / TG_ERR_ARG / TG_ERR_UNSUPPORTED
 * (a field) with a message and r->param set.  r is always safe to free. */
tg_status tg__sreq_parse(tg__api api, const char *body, size_t len, const tg_sampler_params *defaults,
                         tg__sreq *r);
void tg__sreq_free(tg__sreq *r);
/* Keeps a malloc'd string alive as long as the request; false (and frees s)
 * on allocation failure. */
bool tg__sreq_own(tg__sreq *r, char *s);

/* ---- prompts and tool calls (prompt.c) --------------------------------------- */

/* The prompt text of a chat request: tools (when offered) described in a
 * system message, assistant tool calls and tool results rendered as text,
 * then the template.  *out is malloc'd. */
tg_status tg__prompt_chat(const tg__sreq *r, tg_chat_template t, char **out);
/* The JSON Schema a tool call must satisfy: {"name": <one of the allowed
 * names>, "arguments": <that tool's parameters>} (an anyOf over the tools).
 * NULL on allocation failure. */
json_t *tg__tools_envelope_schema(const tg__sreq *r);
/* Parses a generated envelope into the tool's name and its arguments as a
 * compact JSON string (both malloc'd).  TG_ERR_FORMAT if the text is not an
 * envelope for one of the request's tools. */
tg_status tg__tools_parse_call(const tg__sreq *r, const char *text, size_t len, char **name, char **args);

/* ---- jobs (job.c) ------------------------------------------------------------- */

typedef enum tg__finish {
    TG__FINISH_NONE,      /* still running                                      */
    TG__FINISH_STOP,      /* end of turn, a stop string, or a complete grammar  */
    TG__FINISH_LENGTH,    /* max_tokens or the context                          */
    TG__FINISH_CANCELLED, /* the client went away, or a forced shutdown         */
    TG__FINISH_ERROR,     /* decode or sampling failed (message in error)       */
} tg__finish;

typedef enum tg__constrain {
    TG__CONSTRAIN_NONE,
    TG__CONSTRAIN_FULL, /* every token of the turn is under the grammar          */
    TG__CONSTRAIN_LAZY, /* free until the first non-space character is '{', then
                           the rest of the turn is under the grammar            */
} tg__constrain;

/* One generated token, for logprobs. */
typedef struct tg__tokrec {
    tg_token token;
    float logprob;
} tg__tokrec;

/* What the HTTP side asks for. */
typedef struct tg__job_spec {
    const tg_token *prompt;
    size_t n_prompt;
    tg_sampler_params sp; /* n_logprobs = alternatives to record per token */
    int32_t max_tokens;   /* >= 1 */
    const char *const *stops;
    size_t n_stops;
    bool logprobs;
    tg__constrain constrain;
    bool tool_call; /* the constrained text is a tool-call envelope */
    json_t *schema; /* the grammar's JSON Schema (copied); NULL with
                       TG__CONSTRAIN_* != NONE means "any JSON object"  */
    const int64_t *bias_tokens; /* logit_bias (copied) */
    const float *bias_values;
    size_t n_bias;
} tg__job_spec;

typedef struct tg__grammar_slot tg__grammar_slot; /* job.c */
typedef struct tg__energy tg__energy;             /* energy.c */

typedef struct tg__job {
    /* input: fixed before submission */
    tg_token *prompt;
    int32_t n_prompt;
    int32_t max_tokens;
    tg_sampler *sampler;
    tg_stop *stop;
    bool logprobs;
    int32_t n_top;
    tg__constrain constrain;
    tg__grammar_slot *grammar; /* NULL without a constraint */
    int64_t *bias_tokens;      /* logit_bias */
    float *bias_values;
    size_t n_bias;

    /* output, guarded by mu; cv signals every change */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *text; /* emitted text (stop strings held back, never emitted) */
    size_t text_len, text_cap;
    tg__tokrec *recs; /* logprobs: one per generated token            */
    tg_logprob *tops; /* n_top alternatives per record                */
    size_t n_recs, cap_recs;
    int64_t tool_at;  /* text offset where a tool call starts; -1 none */
    bool undecided;   /* lazy tool choice: nothing visible generated yet  */
    bool grammar_done; /* the constrained part completed              */
    int32_t n_cached; /* prompt tokens reused from the slot's cache    */
    int32_t n_gen;
    double joules;              /* energy of its share of the steps (< 0: unknown) */
    const tg__energy *energy;   /* the meter it was measured with; NULL: none      */
    tg__finish finish;
    char error[256];
    double t_submit, t_first, t_end; /* seconds, CLOCK_MONOTONIC */

    atomic_bool cancel;
    atomic_int refs;
} tg__job;

/* A job holding one reference (the caller's).  NULL on failure (bad sampling
 * parameters, a schema the grammar engine refuses, memory). */
tg__job *tg__job_new(const tg_model *m, const tg__job_spec *spec);
void tg__job_retain(tg__job *j);
void tg__job_release(tg__job *j);
/* Asks the scheduler to stop the job at its next step (any thread). */
void tg__job_cancel(tg__job *j);

/* Scheduler-side helpers (job.c), called with j->mu held. */
bool tg__job_append_text(tg__job *j, const char *s, size_t n);
bool tg__job_append_rec(tg__job *j, const tg_sample_info *info);
/* Grammar hooks (job.c): the mask to apply before sampling (NULL: none), and
 * the token just chosen.  accept returns false when the grammar refuses it. */
const uint32_t *tg__job_grammar_mask(tg__job *j);
bool tg__job_grammar_accept(tg__job *j, tg_token t);
/* The constrained text is a complete document and nothing may follow
 * (after an end-of-generation token the grammar accepted, too). */
bool tg__job_grammar_complete(const tg__job *j);
/* Starts the grammar of a lazy job (its trigger was seen). */
bool tg__job_grammar_trigger(tg__job *j);

double tg__now(void);

/* ---- metrics (metrics.c) ------------------------------------------------------ */

typedef struct tg__metrics tg__metrics;
tg__metrics *tg__metrics_new(void);
void tg__metrics_free(tg__metrics *m);
/* route: a short label ("chat", "completions", …); status: the HTTP code */
void tg__metrics_request(tg__metrics *m, const char *route, int status);
void tg__metrics_tokens(tg__metrics *m, int64_t prompt, int64_t cached, int64_t completion);
void tg__metrics_ttft(tg__metrics *m, double seconds);
void tg__metrics_token_gap(tg__metrics *m, double seconds);
void tg__metrics_step(tg__metrics *m, int32_t batch_tokens, int32_t generating);
/* Adds a step's joules to tinglado_energy_joules_total (shown from the first call). */
void tg__metrics_energy(tg__metrics *m, double joules, bool estimated);
/* Prometheus text exposition (version 0.0.4); gauges passed in. malloc'd. */
char *tg__metrics_render(tg__metrics *m, int queued, int active, int slots);

/* ---- scheduler (sched.c) ------------------------------------------------------ */

typedef struct tg__sched tg__sched;

typedef struct tg__sched_params {
    int n_slots;           /* = the context's n_seq                         */
    int queue_max;         /* jobs waiting for a slot before refusing       */
    int32_t prefill_chunk; /* prompt tokens per step, over all joining jobs */
    tg__energy *energy;    /* NULL: no energy metering                      */
} tg__sched_params;

typedef enum tg__submit { TG__SUBMIT_OK, TG__SUBMIT_FULL, TG__SUBMIT_DRAINING } tg__submit;

/* Starts the scheduler thread over ctx (which it owns from now on). */
tg__sched *tg__sched_new(const tg_model *m, tg_ctx *ctx, const tg__sched_params *p, tg__metrics *metrics);
/* Cancels whatever runs, stops the thread, frees the scheduler (not ctx). */
void tg__sched_free(tg__sched *s);
/* Queues a job (the scheduler takes its own reference). */
tg__submit tg__sched_submit(tg__sched *s, tg__job *j);
/* From now on submissions are refused with TG__SUBMIT_DRAINING. */
void tg__sched_drain(tg__sched *s);
bool tg__sched_idle(tg__sched *s);
void tg__sched_counts(tg__sched *s, int *queued, int *active, int *slots);
void tg__sched_cancel_all(tg__sched *s);

/* ---- energy (energy.c) -------------------------------------------------------- */

/* The meter and the price of its joules; NULL with p->no_energy, or on
 * failure (bad --watts; message set). */
tg__energy *tg__energy_new(const tg_serve_params *p);
void tg__energy_free(tg__energy *e);
const char *tg__energy_label(const tg__energy *e);
bool tg__energy_estimated(const tg__energy *e);
/* Around one forward step: begin reads the meter (false: off or failed),
 * end returns the step's joules, idle baseline subtracted (< 0: failed). */
bool tg__energy_begin(tg__energy *e, tg_meter_reading *a);
double tg__energy_end(tg__energy *e, const tg_meter_reading *a);
/* Adds energy_joules, energy_source and (with a price) energy_cost and
 * energy_cost_currency to a usage object; nothing when e is NULL or the
 * joules unknown. */
void tg__energy_usage(const tg__energy *e, double joules, json_t *usage);

/* ---- auth and addresses (auth.c) ---------------------------------------------- */

/* Does an Authorization header value carry the key ("Bearer KEY")?  The
 * comparison takes the same time wherever the first difference is. */
bool tg__auth_ok(const char *header, const char *key);
/* Is host (an IP literal or "localhost") a loopback address? */
bool tg__host_is_loopback(const char *host);

/* ---- access log (accesslog.c) ------------------------------------------------- */

typedef struct tg__access {
    const char *remote, *method, *path, *id;
    int status;
    uint64_t bytes;
    double seconds;
    int32_t prompt_tokens, cached_tokens, completion_tokens;
    const char *finish; /* "" if none */
} tg__access;

typedef struct tg__alog tg__alog;
tg__alog *tg__alog_open(const char *path); /* NULL or "-": stderr */
void tg__alog_close(tg__alog *l);
void tg__alog_write(tg__alog *l, const tg__access *a);
/* The line, without the newline, into buf (for tests); returns its length. */
size_t tg__alog_format(const tg__access *a, time_t when, char *buf, size_t cap);

/* ---- responses (respond.c) ---------------------------------------------------- */

/* What a finished (or streaming) generation needs to become JSON. */
typedef struct tg__reply_ctx {
    const tg__sreq *req;
    const tg_vocab *vocab;
    const char *id;       /* "chatcmpl-…" / "cmpl-…" */
    const char *model_id;
    int64_t created;
} tg__reply_ctx;

/* {"error": {"message", "type", "param", "code"}} as compact JSON (malloc'd). */
char *tg__error_json(int status, const char *message, const char *param, const char *code);
/* OpenAI's error "type" for an HTTP status. */
const char *tg__error_type(int status);

/* The whole response of a finished job. */
char *tg__reply_full(const tg__reply_ctx *c, tg__job *j);
/* Stream pieces: the chunk(s) for output [*text_off, text_len) and records
 * [*rec_off, n_recs) of a running job, as "data: …\n\n" lines appended to
 * out; on finish also the final chunk, the usage chunk and [DONE].  Called
 * with j->mu held.  Advances the offsets. */
bool tg__reply_stream(const tg__reply_ctx *c, tg__job *j, bool first, size_t *text_off, size_t *rec_off,
                      tg__buf *out);
/* usage object: prompt/completion/total and cached tokens (the hook where
 * the energy and cost meter will add its fields). */
json_t *tg__usage_json(const tg__job *j);
/* A JSON string from bytes that may not be valid UTF-8 (bad bytes become
 * U+FFFD), so a token's raw piece can always be reported. */
json_t *tg__json_text(const char *s, size_t n);
/* Random id "<prefix><24 alphanumerics>". */
void tg__random_id(const char *prefix, char *out, size_t cap);

/* ---- the reading library's worker (reader.c) ---------------------------------- */

/* The served library: the HTTP threads' connection (one at a time, under
 * mu) and a worker thread with its own connection that syncs pending items
 * (fetch + extract, one commit per step) and embeds the passages of
 * extracted ones when an embedder is given. */
typedef struct tg__reader {
    tg_library *lib;   /* for the request handlers, under mu */
    pthread_mutex_t mu;
    char *path;
    tg_embedder *embedder;      /* NULL: no chunk embeddings, FTS search only */
    const char *embed_model;    /* the name vectors are stored under          */
    pthread_mutex_t *embed_mu;  /* tg_embed is one call at a time             */
    tg_llm *llm;                /* the served model as a client (enrichment, ask);
                                   NULL without -m                            */
    pthread_mutex_t llm_mu;     /* one LLM request at a time; taken before
                                   embed_mu, never after                     */
    /* the worker */
    pthread_t thread;
    bool started;
    pthread_mutex_t wmu;
    pthread_cond_t wcv;
    bool kick, stop, busy;
    int64_t passes; /* completed sync passes (for /status)                    */
    int64_t *no_enrich; /* items enrichment failed on in this process: not
                           retried every pass (a restart or `read enrich` does) */
    size_t n_no_enrich, cap_no_enrich;
} tg__reader;

/* Opens the library twice (requests, worker) and starts the worker.  NULL
 * on failure (message set). */
tg__reader *tg__reader_open(const char *path, tg_embedder *e, const char *embed_model, pthread_mutex_t *embed_mu,
                            tg_llm *llm);
/* Answers a question from the library with the served model (tg_library_ask
 * on a connection of its own): the HTTP status, *out the JSON of
 * tg_answer_json or an error body (malloc'd). */
int tg__reader_ask(tg__reader *r, const char *question, char **out);
/* Wakes the worker: something was added. */
void tg__reader_kick(tg__reader *r);
/* Asks the worker to stop after the step in flight and joins it. */
void tg__reader_stop(tg__reader *r);
void tg__reader_free(tg__reader *r);
/* The query's vector for hybrid search (malloc'd, tg_embedder_dim floats),
 * or NULL without an embedder or on failure. */
float *tg__reader_query_vec(tg__reader *r, const char *query, int32_t *dim);

/* ---- the web page and its API (web.c, webapi.c, web_assets.c) -------------------- */

struct tg__app;

/* A request to /library… as the HTTP layer hands it over (headers looked up,
 * body read and bounded). */
typedef struct tg__web_req {
    const char *method;  /* "GET", "POST", … */
    const char *path;    /* the URL path, from "/library" on */
    const char *(*arg)(void *ctx, const char *name); /* a query-string value or NULL */
    void *arg_ctx;
    const char *host, *origin, *csrf, *content_type, *authorization, *session;
    const char *body;
    size_t body_len;
} tg__web_req;

/* The answer: status, content type, body (malloc'd unless is_static), and
 * optional Set-Cookie / Location / Cache-Control values. */
typedef struct tg__web_resp {
    int status;
    const char *ctype;
    char *body;
    size_t len;
    bool is_static;
    char set_cookie[160];
    char location[64];
    const char *cache;
} tg__web_resp;

/* Is this path the web page's?  ("/", "/library", "/library/…") */
bool tg__web_path(const char *path);
/* The largest body a page request may carry. */
#define TG__WEB_MAX_BODY ((size_t)64 * 1024)
/* Answers one page or API request (web.c). */
void tg__web_handle(struct tg__app *app, const tg__web_req *rq, tg__web_resp *out);
/* The JSON API, once auth and CSRF passed: rq->path starts after
 * "/library/api/" (webapi.c). */
void tg__webapi(struct tg__app *app, const tg__web_req *rq, const char *route, tg__web_resp *out);
/* A JSON error body {"error": {"message", "type", "param", "code"}}. */
void tg__web_error(tg__web_resp *out, int status, const char *msg, const char *param, const char *code);
void tg__web_json(tg__web_resp *out, int status, json_t *o); /* takes o */
/* The security headers every page response carries, as name/value pairs
 * ending with a NULL name. */
extern const char *const tg__web_headers[];

/* An embedded file (web_assets.c): its bytes and type, or NULL. */
const char *tg__web_asset(const char *name, size_t *len, const char **ctype);

/* ---- the HTTP layer (http.c) -------------------------------------------------- */

/* What the request handlers need from the server, set up by server.c. */
typedef struct tg__app {
    const tg_model *model;
    const tg_vocab *vocab;
    tg_chat_template tmpl;
    const char *model_id;
    int64_t created;            /* unix time the model was loaded (for /v1/models) */
    int32_t n_ctx;              /* positions per slot                              */
    int32_t max_tokens;         /* the most tokens one request may ask for         */
    tg_sampler_params defaults; /* sampling when a request does not say            */
    const char *api_key;        /* NULL: no authentication                         */
    size_t max_body;
    tg__sched *sched;
    tg__metrics *metrics;
    tg__alog *alog;
    atomic_int in_flight;       /* requests between their first byte and completion */
    atomic_bool draining;
    tg_embedder *embedder;      /* NULL: /v1/embeddings refuses (embeddings.c)     */
    const char *embed_model_id;
    pthread_mutex_t embed_mu;   /* tg_embed is one call at a time                  */
    tg__reader *reader;         /* NULL: no --library, /library/ is 404            */
    char session[65];           /* the page's login cookie value (hex), with a key */
    const char *listen_host;    /* --host: also a valid Host header for the page   */
} tg__app;

/* A generation request in flight (handle.c). */
typedef struct tg__gen {
    tg__sreq req;
    tg__job *job;
    tg__reply_ctx rc;
    char id[48];
} tg__gen;

/* Validates a chat/completions body, builds and submits its job.  Returns
 * 200 with g->job running, or the HTTP status of the refusal with *err set
 * to its OpenAI error body (malloc'd).  tg__gen_free in either case. */
int tg__gen_start(tg__app *app, tg__api api, const char *body, size_t len, tg__gen *g, char **err);

/* POST /v1/embeddings with app->embedder set (embeddings.c): returns the
 * HTTP status and sets *out to the reply or the OpenAI error body (malloc'd). */
int tg__embeddings(tg__app *app, const char *body, size_t len, char **out);

/* An /v1/embeddings request body, validated against the model's limits but
 * not yet run: n inputs, either texts (texts[i], lens[i] point into req) or
 * token-id lists (ids[i], n_ids[i], malloc'd).  Split from tg__embeddings
 * so the parser can be fuzzed without a model (fuzz/fuzz_embed_req.c). */
typedef struct tg__embreq {
    json_t *req;      /* the parsed body; texts point into it */
    bool b64;         /* encoding_format "base64"             */
    bool tokens;      /* inputs are token ids                 */
    size_t n;
    const char **texts;
    size_t *lens;
    tg_token **ids;
    size_t *n_ids;
    int64_t n_tokens; /* of the token-id inputs               */
} tg__embreq;
typedef struct tg__embed_limits {
    int32_t dim, max_tokens, n_vocab;
} tg__embed_limits;
/* 200 with r filled, or the HTTP status with *err set to the OpenAI error
 * body (malloc'd).  tg__embreq_free(r) in either case. */
int tg__embreq_parse(const char *body, size_t len, const tg__embed_limits *lim, tg__embreq *r, char **err);
void tg__embreq_free(tg__embreq *r);
/* base64 of n bytes (NUL-terminated, malloc'd; NULL when out of memory). */
char *tg__base64(const uint8_t *p, size_t n);
void tg__gen_free(tg__gen *g);

typedef struct tg__http tg__http;
typedef struct tg__http_params {
    const char *host;
    int port;                 /* 0: any free port */
    unsigned max_connections;
    unsigned timeout_s;       /* idle connection timeout */
} tg__http_params;

/* Listens and serves (a thread per connection) until tg__http_stop. */
tg__http *tg__http_start(tg__app *app, const tg__http_params *p);
int tg__http_port(const tg__http *h);
/* Stops accepting connections; open ones continue. */
void tg__http_quiesce(tg__http *h);
/* Closes everything and frees h. */
void tg__http_stop(tg__http *h);

#endif
