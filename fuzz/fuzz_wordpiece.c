/*
 * fuzz_wordpiece.c — libFuzzer target for the WordPiece tokenizer on
 * arbitrary bytes (invalid UTF-8, NULs, control and combining characters,
 * CJK, huge words) with llama.cpp's bert-bge test vocabulary from the cache
 * that scripts/setup.sh fills.
 *
 * Input: byte 0 picks the flags (add_special, parse_special), the rest is
 * the text.  Checks beyond "no crash": every id is in range; with
 * add_special the list is [CLS] … [SEP]; two runs give the same ids; every
 * id renders as a piece.
 */
#include "tinglado.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tg_gguf *file;
static tg_vocab *vocab;

static void unload(void) {
    tg_vocab_free(vocab);
    tg_gguf_close(file);
}

static void load_once(void) {
    if (vocab)
        return;
    char dir[512], path[1024];
    const char *c = getenv("TINGLADO_CACHE"), *x = getenv("XDG_CACHE_HOME");
    if (c && *c)
        snprintf(dir, sizeof dir, "%s", c);
    else if (x && *x)
        snprintf(dir, sizeof dir, "%s/tinglado", x);
    else
        snprintf(dir, sizeof dir, "%s/.cache/tinglado", getenv("HOME") ? getenv("HOME") : "");
    snprintf(path, sizeof path, "%s/llama.cpp-vocab/ggml-vocab-bert-bge.gguf", dir);
    file = tg_gguf_open(path);
    vocab = file ? tg_vocab_load(file) : NULL;
    if (!vocab) {
        fprintf(stderr, "fuzz_wordpiece: cannot load %s (%s); run scripts/setup.sh\n", path, tg_last_error());
        abort();
    }
    atexit(unload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    load_once();
    if (size == 0)
        return 0;
    tg_tokenize_opts o = {.add_special = data[0] & 1, .parse_special = (data[0] >> 1) & 1};
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    tg_tokens a = {0}, b = {0};
    if (tg_tokenize(vocab, text, len, o, &a) != TG_OK || tg_tokenize(vocab, text, len, o, &b) != TG_OK)
        abort(); /* only allocation can fail, and the fuzzer does not run out */
    if (a.n != b.n || (a.n && memcmp(a.ids, b.ids, a.n * sizeof *a.ids)))
        abort();
    const int32_t nv = tg_vocab_n_tokens(vocab);
    for (size_t i = 0; i < a.n; i++)
        if (a.ids[i] < 0 || a.ids[i] >= nv)
            abort();
    if (o.add_special && (a.n < 2 || a.ids[0] != 101 || a.ids[a.n - 1] != 102))
        abort();
    char buf[256];
    for (size_t i = 0; i < a.n && i < 64; i++)
        (void)tg_token_to_piece(vocab, a.ids[i], true, buf, sizeof buf);
    tg_tokens_free(&a);
    tg_tokens_free(&b);
    return 0;
}
