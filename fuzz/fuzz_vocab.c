/*
 * fuzz_vocab.c — libFuzzer target for loading a tokenizer from an arbitrary
 * GGUF image (token tables, scores, types, merges, special ids, flags) and
 * using it: a malformed vocabulary must be refused with a message, a loaded
 * one must tokenize and detokenize without fault.  Seeds are small valid
 * vocabularies (SPM and BPE) written with tinglado's own writer.
 */
#include "tinglado.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sample[] = "Hello world! ¿Qué tal? <s> 12345 \xF0\x9F\x98\x80 \xFF\xFE tabs\t\tand\n\nlines";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_gguf *g = tg_gguf_open_memory(data, size, "fuzz");
    if (!g)
        return 0;
    tg_vocab *v = tg_vocab_load(g);
    if (v) {
        for (int flags = 0; flags < 4; flags++) {
            tg_tokens t = {0};
            tg_tokenize_opts o = {.add_special = flags & 1, .parse_special = flags & 2};
            if (tg_tokenize(v, sample, sizeof sample - 1, o, &t) == TG_OK) {
                char buf[4096];
                tg_detokenize(v, t.ids, t.n, flags & 1, buf, sizeof buf);
                for (size_t i = 0; i < t.n; i++)
                    tg_token_to_piece(v, t.ids[i], true, buf, sizeof buf);
            }
            tg_tokens_free(&t);
        }
        tg_vocab_free(v);
    }
    tg_gguf_close(g);
    return 0;
}
