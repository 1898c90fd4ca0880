/*
 * fuzz_openai_request.c — libFuzzer target for the server's untrusted-input
 * mapping: an API request body → tg__sreq (src/serve/openai.c), and for a
 * valid one the chat prompt with tools (prompt.c), the tool-call envelope
 * schema; then the same bytes as model output through the reply builders
 * (respond.c: full replies, stream chunks, tool-call parsing), and as header
 * and path through the key check and the access-log line.
 *
 * Input: byte 0 picks the endpoint (bit 0), the chat template (bits 1-3) and
 * how the "model output" is read (bits 4-5: plain text, a tool call from
 * offset 0, a tool call after the first half); the rest is the body.
 * Checks beyond "no crash": every produced JSON text parses back.
 */
#include "serve/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_parse(const char *what, const char *text) {
    if (!text)
        return; /* allocation failure is allowed, not a crash */
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v) {
        fprintf(stderr, "fuzz_openai_request: %s is not JSON (%s): %.200s\n", what, e.text, text);
        abort();
    }
    json_decref(v);
}

/* The reply builders over a job whose output is `text`. */
static void replies(const tg__sreq *r, const char *text, size_t len, int mode) {
    tg__job j;
    memset(&j, 0, sizeof j);
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    j.text = (char *)text;
    j.text_len = len;
    j.n_prompt = 3;
    j.n_gen = 2;
    j.tool_at = mode == 0 ? -1 : mode == 1 ? 0 : (int64_t)(len / 2);
    j.grammar_done = mode != 0;
    j.finish = (len & 1) ? TG__FINISH_STOP : TG__FINISH_LENGTH;
    tg__reply_ctx c = {.req = r, .vocab = NULL, .id = "chatcmpl-x", .model_id = "m", .created = 1};
    char *full = tg__reply_full(&c, &j);
    must_parse("reply", full);
    free(full);
    tg__buf out = {0};
    size_t to = 0, ro = 0;
    pthread_mutex_lock(&j.mu);
    tg__reply_stream(&c, &j, true, &to, &ro, &out);
    pthread_mutex_unlock(&j.mu);
    /* every "data: " line but [DONE] is one JSON object */
    tg__buf_append_u8(&out, 0);
    if (!out.failed) {
        char *p = (char *)out.data;
        while ((p = strstr(p, "data: ")) != NULL) {
            p += 6;
            char *end = strstr(p, "\n\n");
            if (!end)
                abort();
            *end = '\0';
            if (strcmp(p, "[DONE]") != 0)
                must_parse("stream chunk", p);
            p = end + 2;
        }
    }
    tg__buf_free(&out);
    pthread_mutex_destroy(&j.mu);
    pthread_cond_destroy(&j.cv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    const uint8_t sel = data[0];
    const char *body = (const char *)data + 1;
    const size_t len = size - 1;
    const tg__api api = (sel & 1) ? TG__API_COMPLETIONS : TG__API_CHAT;
    const tg_chat_template tmpl = (tg_chat_template)(((sel >> 1) & 7) % TG_CHAT_COUNT_);

    tg_sampler_params d = tg_sampler_defaults();
    tg__sreq r;
    if (tg__sreq_parse(api, body, len, &d, &r) == TG_OK) {
        if (api == TG__API_CHAT) {
            char *prompt = NULL;
            if (tg__prompt_chat(&r, tmpl, &prompt) == TG_OK && !prompt)
                abort();
            free(prompt);
            if (r.tool_mode != TG__TOOLS_NONE) {
                json_t *env = tg__tools_envelope_schema(&r);
                char *s = env ? json_dumps(env, JSON_COMPACT) : NULL;
                must_parse("envelope schema", s);
                free(s);
                json_decref(env);
            }
        }
        replies(&r, body, len, (sel >> 4) % 3);
    } else {
        /* a refused request still names a field inside its error body */
        char *e = tg__error_json(400, tg_last_error(), r.param, NULL);
        must_parse("error", e);
        free(e);
    }
    tg__sreq_free(&r);

    /* the same bytes as what clients control elsewhere */
    char *copy = malloc(len + 1);
    if (!copy)
        return 0;
    memcpy(copy, body, len);
    copy[len] = '\0';
    (void)tg__auth_ok(copy, "sk-fuzz-key");
    (void)tg__host_is_loopback(copy);
    tg__access a = {.remote = copy, .method = "POST", .path = copy, .id = copy, .status = 200, .finish = copy};
    char line[1536];
    size_t n = tg__alog_format(&a, 0, line, sizeof line);
    if (n >= sizeof line || strlen(line) != n || memchr(line, '\n', n))
        abort();
    free(copy);
    return 0;
}
