/*
 * synth_vocab.h — small hand-made vocabularies for the tokenizer unit tests:
 * a token table is written as a vocabulary-only GGUF with tinglado's writer,
 * reopened and loaded, so the tests go through the same path as real files.
 * A callback may add or overwrite metadata (to make the file malformed, or
 * to set special ids and flags).  Header-only, for tests/token/.
 */
#ifndef TG_TESTS_TOKEN_SYNTH_VOCAB_H
#define TG_TESTS_TOKEN_SYNTH_VOCAB_H

#include "tinglado.h"
#include "token/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct synth_tok {
    const char *text;
    float score;
    int32_t type; /* tg_token_type */
} synth_tok;

typedef void (*synth_extra_fn)(tg_gguf_writer *w);

/* Writes the tokens (model "llama" unless extra changes it) and loads the
 * result; returns the load status, *out the vocabulary on success. */
static inline tg_status synth_load(const synth_tok *toks, size_t n, synth_extra_fn extra,
                                   tg_vocab **out) {
    char path[] = "/tmp/tg_synth_vocab_XXXXXX";
    int fd = mkstemp(path);
    *out = NULL;
    if (fd < 0) {
        fprintf(stderr, "synth_load: mkstemp failed\n");
        return TG_ERR_IO;
    }
    close(fd);
    const char **texts = calloc(n ? n : 1, sizeof *texts);
    float *scores = calloc(n ? n : 1, sizeof *scores);
    int32_t *types = calloc(n ? n : 1, sizeof *types);
    for (size_t i = 0; i < n; i++) {
        texts[i] = toks[i].text;
        scores[i] = toks[i].score;
        types[i] = toks[i].type;
    }
    tg_gguf_writer *w = tg_gguf_writer_new();
    tg_gguf_writer_set_str(w, "general.architecture", "llama");
    tg_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    tg_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", texts, n);
    tg_gguf_writer_set_array(w, "tokenizer.ggml.scores", TG_GGUF_FLOAT32, scores, n);
    tg_gguf_writer_set_array(w, "tokenizer.ggml.token_type", TG_GGUF_INT32, types, n);
    if (extra)
        extra(w);
    tg_status s = tg_gguf_writer_write(w, path);
    tg_gguf_writer_free(w);
    free(texts);
    free(scores);
    free(types);
    if (s) {
        fprintf(stderr, "synth_load: writing %s: %s\n", path, tg_last_error());
        unlink(path);
        return s;
    }
    tg_gguf *g = tg_gguf_open(path);
    unlink(path);
    if (!g) {
        fprintf(stderr, "synth_load: reopening: %s\n", tg_last_error());
        return TG_ERR_IO;
    }
    s = tg__vocab_load(g, out);
    tg_gguf_close(g); /* the vocabulary keeps its own copies */
    return s;
}

/* Tokenizes a NUL-terminated text; returns the ids as a fresh list. */
static inline tg_tokens synth_tok_ids(const tg_vocab *v, const char *text, bool add_special,
                                      bool parse_special, tg_status *status) {
    tg_tokens t = {0};
    tg_status s = tg_tokenize(v, text, strlen(text), (tg_tokenize_opts){add_special, parse_special},
                              &t);
    if (status)
        *status = s;
    return t;
}

/* True if t holds exactly the n ids of want. */
static inline bool synth_ids_are(const tg_tokens *t, const tg_token *want, size_t n) {
    if (t->n != n) {
        fprintf(stderr, "    got %zu ids:", t->n);
        for (size_t i = 0; i < t->n; i++)
            fprintf(stderr, " %d", t->ids[i]);
        fprintf(stderr, "\n");
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (t->ids[i] != want[i]) {
            fprintf(stderr, "    id %zu is %d, want %d\n", i, t->ids[i], want[i]);
            return false;
        }
    return true;
}

#define IDS(...) ((const tg_token[]){__VA_ARGS__}), (sizeof((const tg_token[]){__VA_ARGS__}) / sizeof(tg_token))

#endif /* TG_TESTS_TOKEN_SYNTH_VOCAB_H */
