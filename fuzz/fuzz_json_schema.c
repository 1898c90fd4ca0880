/*
 * fuzz_json_schema.c — libFuzzer target for the JSON Schema compiler:
 * arbitrary bytes as a schema must compile or be refused with a message,
 * quickly and within the limits; a schema that compiles is run through a
 * few random constrained generations over a tiny synthetic vocabulary
 * (grammar_fuzz.h), whose every document must finish properly and be JSON.
 * Seeds: the schemas of the grammar tests.
 */
#include "grammar_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_grammar *g = tg_grammar_from_json_schema((const char *)data, size);
    if (!g) {
        if (!tg_last_error()[0])
            __builtin_trap(); /* refused without saying why */
        return 0;
    }
    gf_check(g, data, size, true);
    tg_grammar_free(g);
    return 0;
}
