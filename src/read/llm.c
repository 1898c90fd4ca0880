/*
 * llm.c — the dispatch of tg_llm (one request at a time, through the
 * implementation's table) and the argument checks both implementations
 * rely on.  It never talks to a model itself.
 */
#include "read/llm.h"

#include <stdlib.h>

tg_status tg_llm_complete_json(tg_llm *llm, const tg_llm_request *req, char **json) {
    if (json)
        *json = NULL;
    if (!llm || !req || !json || !req->input || !req->schema)
        return tg__fail(TG_ERR_ARG, "llm: need a client, an input and a JSON Schema");
    for (size_t i = 0; i < req->n_examples; i++)
        if (!req->examples || !req->examples[i].input || !req->examples[i].output)
            return tg__fail(TG_ERR_ARG, "llm: example %zu lacks an input or an output", i);
    /* the reply's content is the caller's to validate: an endpoint need not
     * honour the schema, and each caller words its own error */
    return llm->vt->complete_json(llm, req, json);
}

void tg_llm_free(tg_llm *llm) {
    if (llm)
        llm->vt->free(llm);
}

const char *tg_llm_name(const tg_llm *llm) { return llm ? llm->name : ""; }

bool tg_llm_is_embedded(const tg_llm *llm) { return llm && llm->embedded; }
