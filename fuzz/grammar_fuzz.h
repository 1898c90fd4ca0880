/*
 * grammar_fuzz.h — shared by the grammar fuzz targets (fuzz_json_schema.c,
 * fuzz_gbnf.c): a tiny synthetic vocabulary (the 256 byte tokens, an end
 * token and some multi-byte tokens that straddle JSON tokens), built once
 * per process, and a checker that walks a few random constrained
 * generations and traps on any broken promise: a state with no allowed
 * token, an allowed token that accept refuses, a finished text the grammar
 * does not accept, or (for JSON grammars) one that is not JSON.
 */
#ifndef TG_FUZZ_GRAMMAR_FUZZ_H
#define TG_FUZZ_GRAMMAR_FUZZ_H

#include "tinglado.h"
#include "gen/grammar.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tg_gguf *gf_file;
static tg_vocab *gf_vocab;

static const char *const gf_extra[] = {
    "{\"", "\":", "\",", "\"}", "},", "}]", "[{", "\xe2\x96\x81\"", "true", "false", "null",
    "12", "3.", "e-", "-1", "\\n", "\\\"", "\\u00", "\xc3\xa9", "ab", "\"\"", ",\"", "\"]",
    "\xe2\x96\x81", "\n", ":\xe2\x96\x81", "0.5", "\xf0\x9f\x98\x80", "e+", "\\u", "d8", "\\ud8",
};

static void gf_load_vocab(void) {
    if (gf_vocab)
        return;
    size_t n_extra = sizeof gf_extra / sizeof *gf_extra, n = 259 + n_extra;
    const char *texts[300];
    char bytes[256][8];
    float scores[300] = {0};
    int32_t types[300];
    texts[0] = "<unk>", types[0] = 2;
    texts[1] = "<s>", types[1] = 3;
    texts[2] = "</s>", types[2] = 3;
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        texts[3 + b] = bytes[b];
        types[3 + b] = 6;
    }
    for (size_t i = 0; i < n_extra; i++) {
        texts[259 + i] = gf_extra[i];
        types[259 + i] = 1;
    }
    char path[] = "/tmp/tg_fuzz_vocab_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
    tg_gguf_writer *w = tg_gguf_writer_new();
    tg_gguf_writer_set_str(w, "general.architecture", "llama");
    tg_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    tg_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", texts, n);
    tg_gguf_writer_set_array(w, "tokenizer.ggml.scores", TG_GGUF_FLOAT32, scores, n);
    tg_gguf_writer_set_array(w, "tokenizer.ggml.token_type", TG_GGUF_INT32, types, n);
    tg_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    tg_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    if (tg_gguf_writer_write(w, path) != TG_OK)
        abort();
    tg_gguf_writer_free(w);
    gf_file = tg_gguf_open(path);
    unlink(path);
    gf_vocab = gf_file ? tg_vocab_load(gf_file) : NULL;
    if (!gf_vocab)
        abort();
}

/* A few random walks under g; traps on a broken promise. */
static void gf_check(const tg_grammar *g, const uint8_t *seed_data, size_t seed_len, bool json) {
    gf_load_vocab();
    uint64_t rng = tg__hash(seed_data, seed_len) | 1;
    tg_grammar_state *st = tg_grammar_state_new(g, gf_vocab);
    if (!st)
        return; /* out of memory */
    int32_t nv = tg_vocab_n_tokens(gf_vocab);
    uint32_t bits[16];
    char text[4096], piece[64];
    for (int walk = 0; walk < 3; walk++) {
        tg_grammar_state_reset(st);
        size_t len = 0;
        bool ended = false;
        for (int step = 0; step < 150; step++) {
            if (tg_grammar_allowed(st, bits) != TG_OK)
                __builtin_trap(); /* a reachable state with nothing allowed */
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            if (tg_grammar_complete(st) && (rng % 3 == 0 || tg_grammar_finished(st))) {
                if (!(bits[0] >> 2 & 1u) || tg_grammar_accept(st, 2) != TG_OK)
                    __builtin_trap(); /* complete but the end is refused */
                ended = true;
                break;
            }
            int n = 0;
            for (int32_t t = 3; t < nv; t++)
                n += bits[t >> 5] >> (t & 31) & 1u;
            if (n == 0)
                __builtin_trap(); /* only the end allowed, yet not complete */
            int pick = (int)((rng >> 11) % (uint64_t)n);
            tg_token tok = -1;
            for (int32_t t = 3; t < nv && tok < 0; t++)
                if ((bits[t >> 5] >> (t & 31) & 1u) && pick-- == 0)
                    tok = t;
            size_t pl = tg_token_to_piece(gf_vocab, tok, false, piece, sizeof piece);
            if (tg_grammar_accept(st, tok) != TG_OK)
                __builtin_trap(); /* allowed but refused */
            if (len + pl > sizeof text)
                break;
            memcpy(text + len, piece, pl);
            len += pl;
        }
        if (!ended)
            continue;
        if (!tg__grammar_accepts(g, text, len))
            __builtin_trap(); /* generated, then not accepted from the start */
        if (json) {
            json_error_t e;
            json_t *v = json_loadb(text, len, JSON_DECODE_ANY, &e);
            if (!v)
                __builtin_trap(); /* not JSON */
            json_decref(v);
        }
    }
    tg_grammar_state_free(st);
}

#endif /* TG_FUZZ_GRAMMAR_FUZZ_H */
