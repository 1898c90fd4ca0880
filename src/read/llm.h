/*
 * llm.h — the language-model client behind tg_llm (tinglado.h): a table of
 * two functions per implementation (llm_openai.c: an OpenAI-compatible
 * endpoint over libcurl; llm_engine.c: the embedded engine).  llm.c holds
 * what both share.  Internal to src/read/.
 */
#ifndef TG_READ_LLM_H
#define TG_READ_LLM_H

#include "read/read.h"

typedef struct tg__llm_vt {
    /* The reply as malloc'd JSON text (the caller validates its content). */
    tg_status (*complete_json)(tg_llm *llm, const tg_llm_request *req, char **json);
    void (*free)(tg_llm *llm);
} tg__llm_vt;

/* Every implementation's struct starts with this. */
struct tg_llm {
    const tg__llm_vt *vt;
    char *name;
    bool embedded;
};

#endif
