/*
 * arch.c — the architecture registry: the GGUF `general.architecture`
 * names tinglado can run, and the forward pass each maps to.  Adding an
 * architecture starts here.
 */
#include "model/model.h"

#include <string.h>

static const struct {
    const char *name;
    tg__arch arch;
} registry[] = {
    {"llama", TG_ARCH_LLAMA},   /* Llama 2/3, Mistral, SmolLM, Mixtral */
    {"qwen2", TG_ARCH_QWEN2},
    {"qwen3", TG_ARCH_QWEN3},
    {"gemma3", TG_ARCH_GEMMA3},
};

tg_status tg__arch_lookup(const char *name, tg__arch *out) {
    for (size_t i = 0; i < TG_ARRAY_LEN(registry); i++)
        if (!strcmp(name, registry[i].name)) {
            *out = registry[i].arch;
            return TG_OK;
        }
    return TG_ERR_UNSUPPORTED;
}

const char *tg__arch_supported_list(void) { return "llama (incl. Mixtral-style MoE), qwen2, qwen3, gemma3"; }
