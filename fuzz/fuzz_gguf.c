/*
 * fuzz_gguf.c — libFuzzer target for the GGUF reader: any byte string must
 * either be refused with a message or yield a handle whose every accessor
 * stays in bounds.  Replayed over tests/fuzz/gguf/ by `make test`.
 */
#include "tinglado.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every element of an array (nested ones too), bounded so that a
 * huge array of empty arrays cannot make one input run for long. */
static void walk(const tg_gguf_value *v, int depth, size_t *budget) {
    if (v->type != TG_GGUF_ARRAY || depth > 10)
        return;
    for (uint64_t i = 0; i < v->v.arr.n && *budget; i++, (*budget)--) {
        tg_gguf_value e;
        if (tg_gguf_array_get(v, i, &e) != TG_OK)
            __builtin_trap(); /* a validated array must be readable */
        if (e.type == TG_GGUF_STRING && e.v.str.len)
            (void)*(volatile const char *)&e.v.str.ptr[e.v.str.len - 1];
        walk(&e, depth + 1, budget);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_gguf *g = tg_gguf_open_memory(data, size, "fuzz");
    if (!g)
        return 0;
    size_t budget = 100000;
    for (size_t i = 0; i < tg_gguf_n_kv(g); i++) {
        tg_str k = tg_gguf_kv_key(g, i);
        if (k.len)
            (void)*(volatile const char *)&k.ptr[k.len - 1];
        walk(tg_gguf_kv_value(g, i), 0, &budget);
    }
    volatile uint64_t sum = 0;
    for (size_t i = 0; i < tg_gguf_n_tensors(g); i++) {
        const tg_gguf_tensor *t = tg_gguf_tensor_at(g, i);
        if (t->nbytes) {
            const uint8_t *p = t->data;
            sum += p[0] + p[t->nbytes - 1];
        }
        char name[80];
        memcpy(name, t->name.ptr, t->name.len);
        name[t->name.len] = 0;
        if (strlen(name) == t->name.len && tg_gguf_find_tensor(g, name) == NULL)
            __builtin_trap(); /* every tensor must be found by its own name */
    }
    int64_t iv;
    double fv;
    tg_str sv;
    (void)tg_gguf_get_int(g, "general.alignment", &iv);
    (void)tg_gguf_get_float(g, "llama.rope.freq_base", &fv);
    (void)tg_gguf_get_str(g, "general.architecture", &sv);
    tg_gguf_close(g);
    return 0;
}
