/*
 * fuzz_gbnf.c — libFuzzer target for the GBNF parser: arbitrary bytes as a
 * grammar must compile or be refused with a message; a grammar that
 * compiles is run through a few random constrained generations over a tiny
 * synthetic vocabulary (grammar_fuzz.h), which must never get stuck.
 * Seeds: the grammars of the grammar tests.
 */
#include "grammar_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_grammar *g = tg_grammar_from_gbnf((const char *)data, size);
    if (!g) {
        if (!tg_last_error()[0])
            __builtin_trap(); /* refused without saying why */
        return 0;
    }
    gf_check(g, data, size, false);
    tg_grammar_free(g);
    return 0;
}
