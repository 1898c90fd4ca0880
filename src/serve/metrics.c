/*
 * metrics.c — what GET /metrics reports, in Prometheus' text format 0.0.4:
 *
 *   tinglado_requests_total{route,code}            counter
 *   tinglado_prompt_tokens_total                   counter (cached ones too, below)
 *   tinglado_prompt_tokens_cached_total            counter
 *   tinglado_completion_tokens_total               counter
 *   tinglado_time_to_first_token_seconds           histogram (queue wait included)
 *   tinglado_time_per_output_token_seconds         histogram (gap between a job's tokens)
 *   tinglado_decode_steps_total                    counter
 *   tinglado_decode_rows_total                     counter (generating rows summed over steps:
 *                                                  rows/steps is the mean decode batch)
 *   tinglado_queue_depth, tinglado_slots_active, tinglado_slots_total   gauges
 *   tinglado_energy_joules_total{source}           counter (forward steps, idle baseline
 *                                                  subtracted; source measured|estimated;
 *                                                  absent when the server does not meter)
 *
 * One mutex guards everything; observations are a few increments, so the
 * scheduler's per-step cost is negligible.  Labels come from a fixed table
 * (never from request data), so a client cannot grow the output.
 */
#include "serve/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const k_routes[] = {"chat", "completions", "embeddings", "models", "health", "metrics", "library",
                                            "other"};
enum { N_ROUTES = sizeof k_routes / sizeof k_routes[0], N_CODES = 16 };

static const double k_ttft_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
static const double k_gap_bounds[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
enum { N_TTFT = sizeof k_ttft_bounds / sizeof k_ttft_bounds[0], N_GAP = sizeof k_gap_bounds / sizeof k_gap_bounds[0] };

typedef struct hist {
    uint64_t bucket[16]; /* counts per upper bound (not cumulative); last = +Inf */
    uint64_t count;
    double sum;
} hist;

struct tg__metrics {
    pthread_mutex_t mu;
    int codes[N_CODES]; /* the distinct status codes seen (at most N_CODES) */
    int n_codes;
    uint64_t requests[N_ROUTES][N_CODES];
    uint64_t prompt, cached, completion, steps, rows;
    hist ttft, gap;
    double joules;
    int energy; /* 0: not metered, 1: measured, 2: estimated */
};

tg__metrics *tg__metrics_new(void) {
    tg__metrics *m = tg__calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->mu, NULL);
    return m;
}

void tg__metrics_free(tg__metrics *m) {
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void tg__metrics_request(tg__metrics *m, const char *route, int status) {
    size_t r = N_ROUTES - 1;
    for (size_t i = 0; i < N_ROUTES; i++)
        if (!strcmp(route, k_routes[i]))
            r = i;
    pthread_mutex_lock(&m->mu);
    int c = 0;
    while (c < m->n_codes && m->codes[c] != status)
        c++;
    if (c == m->n_codes && m->n_codes < N_CODES)
        m->codes[m->n_codes++] = status;
    if (c < m->n_codes) /* more than N_CODES distinct codes: the rest go uncounted */
        m->requests[r][c]++;
    pthread_mutex_unlock(&m->mu);
}

void tg__metrics_tokens(tg__metrics *m, int64_t prompt, int64_t cached, int64_t completion) {
    pthread_mutex_lock(&m->mu);
    m->prompt += (uint64_t)prompt;
    m->cached += (uint64_t)cached;
    m->completion += (uint64_t)completion;
    pthread_mutex_unlock(&m->mu);
}

static void observe(hist *h, const double *bounds, size_t n, double x) {
    size_t i = 0;
    while (i < n && x > bounds[i])
        i++;
    h->bucket[i]++;
    h->count++;
    h->sum += x;
}

void tg__metrics_ttft(tg__metrics *m, double s) {
    pthread_mutex_lock(&m->mu);
    observe(&m->ttft, k_ttft_bounds, N_TTFT, s);
    pthread_mutex_unlock(&m->mu);
}

void tg__metrics_token_gap(tg__metrics *m, double s) {
    pthread_mutex_lock(&m->mu);
    observe(&m->gap, k_gap_bounds, N_GAP, s);
    pthread_mutex_unlock(&m->mu);
}

void tg__metrics_step(tg__metrics *m, int32_t batch_tokens, int32_t generating) {
    (void)batch_tokens;
    pthread_mutex_lock(&m->mu);
    m->steps++;
    m->rows += (uint64_t)generating;
    pthread_mutex_unlock(&m->mu);
}

void tg__metrics_energy(tg__metrics *m, double joules, bool estimated) {
    pthread_mutex_lock(&m->mu);
    m->joules += joules;
    m->energy = estimated ? 2 : 1;
    pthread_mutex_unlock(&m->mu);
}

static void put_hist(tg__buf *b, const char *name, const char *help, const hist *h, const double *bounds, size_t n) {
    char line[256];
    int k = snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    tg__buf_append(b, line, (size_t)k);
    uint64_t cum = 0;
    for (size_t i = 0; i <= n; i++) {
        cum += h->bucket[i];
        if (i < n)
            k = snprintf(line, sizeof line, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cum);
        else
            k = snprintf(line, sizeof line, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
        tg__buf_append(b, line, (size_t)k);
    }
    k = snprintf(line, sizeof line, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name, (unsigned long long)h->count);
    tg__buf_append(b, line, (size_t)k);
}

static void put_scalar(tg__buf *b, const char *name, const char *type, const char *help, double v) {
    char line[256];
    int k = snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
    tg__buf_append(b, line, (size_t)k);
}

char *tg__metrics_render(tg__metrics *m, int queued, int active, int slots) {
    tg__buf b = {0};
    char line[256];
    pthread_mutex_lock(&m->mu);
    int k = snprintf(line, sizeof line, "# HELP tinglado_requests_total HTTP requests by route and status code\n"
                                        "# TYPE tinglado_requests_total counter\n");
    tg__buf_append(&b, line, (size_t)k);
    for (size_t r = 0; r < N_ROUTES; r++)
        for (int c = 0; c < m->n_codes; c++)
            if (m->requests[r][c]) {
                k = snprintf(line, sizeof line, "tinglado_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
                             k_routes[r], m->codes[c], (unsigned long long)m->requests[r][c]);
                tg__buf_append(&b, line, (size_t)k);
            }
    put_scalar(&b, "tinglado_prompt_tokens_total", "counter", "prompt tokens of finished requests",
               (double)m->prompt);
    put_scalar(&b, "tinglado_prompt_tokens_cached_total", "counter",
               "prompt tokens reused from a slot's cache instead of evaluated", (double)m->cached);
    put_scalar(&b, "tinglado_completion_tokens_total", "counter", "generated tokens of finished requests",
               (double)m->completion);
    put_hist(&b, "tinglado_time_to_first_token_seconds", "from submission (queue wait included) to the first token",
             &m->ttft, k_ttft_bounds, N_TTFT);
    put_hist(&b, "tinglado_time_per_output_token_seconds", "time between consecutive tokens of a request", &m->gap,
             k_gap_bounds, N_GAP);
    if (m->energy) {
        k = snprintf(line, sizeof line,
                     "# HELP tinglado_energy_joules_total energy of the forward steps, idle baseline subtracted\n"
                     "# TYPE tinglado_energy_joules_total counter\n"
                     "tinglado_energy_joules_total{source=\"%s\"} %.17g\n",
                     m->energy == 2 ? "estimated" : "measured", m->joules);
        tg__buf_append(&b, line, (size_t)k);
    }
    put_scalar(&b, "tinglado_decode_steps_total", "counter", "forward steps run by the scheduler", (double)m->steps);
    put_scalar(&b, "tinglado_decode_rows_total", "counter",
               "generating sequences summed over steps (divided by steps: the mean decode batch)", (double)m->rows);
    pthread_mutex_unlock(&m->mu);
    put_scalar(&b, "tinglado_queue_depth", "gauge", "requests waiting for a slot", queued);
    put_scalar(&b, "tinglado_slots_active", "gauge", "slots generating or reading a prompt", active);
    put_scalar(&b, "tinglado_slots_total", "gauge", "slots (sequences decoded together)", slots);
    tg__buf_append_u8(&b, 0);
    if (b.failed) {
        tg__buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}
