/*
 * fuzz_embed_req.c — libFuzzer target for the /v1/embeddings request body
 * parser (src/serve/embeddings.c, tg__embreq_parse), which runs before any
 * model is touched, and the base64 encoder of its replies.
 *
 * Input: byte 0 picks the model's limits (dimensions, maximum tokens per
 * input, vocabulary size — small ones, so that bounds are reached); the
 * rest is the body.  Checks beyond "no crash": an accepted request has 1 to
 * 2048 inputs, every text is there, every token id lies in the vocabulary,
 * every id list is 1..max long and the token count is their sum; a refused
 * one has an OpenAI error body that parses; base64 of the body decodes back
 * to the body.
 */
#include "serve/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_embed_req: %s\n", what);
        abort();
    }
}

static int b64_val(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes s and compares with the n bytes at p. */
static void base64_roundtrip(const uint8_t *p, size_t n) {
    char *s = tg__base64(p, n);
    if (!s)
        return;
    size_t len = strlen(s);
    check(len == 4 * ((n + 2) / 3), "base64 length");
    size_t k = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        for (int j = 0; j < 4; j++)
            v[j] = s[i + j] == '=' ? 0 : b64_val(s[i + j]);
        check(v[0] >= 0 && v[1] >= 0 && v[2] >= 0 && v[3] >= 0, "base64 alphabet");
        const uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        const uint8_t b[3] = {(uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w};
        for (int j = 0; j < 3 && k < n; j++, k++)
            check(b[j] == p[k], "base64 decodes to other bytes");
    }
    check(k == n, "base64 too short");
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    static const int32_t dims[4] = {384, 768, 1, 1024};
    static const int32_t max_tok[4] = {512, 8, 1, 64};
    static const int32_t vocab[4] = {30522, 250002, 1, 100};
    const uint8_t sel = data[0];
    const tg__embed_limits lim = {.dim = dims[sel & 3], .max_tokens = max_tok[(sel >> 2) & 3],
                                  .n_vocab = vocab[(sel >> 4) & 3]};
    const char *body = (const char *)data + 1;
    const size_t len = size - 1;

    tg__embreq r;
    char *err = NULL;
    int status = tg__embreq_parse(body, len, &lim, &r, &err);
    if (status == 200) {
        check(err == NULL, "an accepted request with an error body");
        check(r.n >= 1 && r.n <= 2048, "input count out of 1..2048");
        int64_t total = 0;
        for (size_t i = 0; i < r.n; i++) {
            if (r.tokens) {
                check(r.ids[i] != NULL && r.n_ids[i] >= 1 && r.n_ids[i] <= (size_t)lim.max_tokens,
                      "token-id input length out of 1..max");
                for (size_t j = 0; j < r.n_ids[i]; j++)
                    check(r.ids[i][j] >= 0 && r.ids[i][j] < lim.n_vocab, "token id outside the vocabulary");
                total += (int64_t)r.n_ids[i];
            } else {
                check(r.texts[i] != NULL, "a missing text");
                check(strlen(r.texts[i]) <= r.lens[i], "text length");
            }
        }
        check(total == r.n_tokens, "token count is not the sum of the inputs");
    } else {
        check(status == 400 || status == 500, "a refusal that is neither 400 nor 500");
        if (err) { /* NULL only when even the error body could not be allocated */
            json_error_t e;
            json_t *v = json_loads(err, 0, &e);
            check(v && json_is_string(json_object_get(json_object_get(v, "error"), "message")),
                  "the error body is not an OpenAI error object");
            json_decref(v);
        }
    }
    free(err);
    tg__embreq_free(&r);
    base64_roundtrip((const uint8_t *)body, len);
    return 0;
}
