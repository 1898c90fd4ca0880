/*
 * read_enrich.c — `tinglado read enrich --llm-url URL`: a summary and 3-7
 * tags for every extracted article, from a language model behind an
 * OpenAI-compatible endpoint (for instance `tinglado serve`).
 *
 * One article at a time, each stored in its own transaction; an article
 * the model fails on keeps its state (extracted) and is tried again next
 * time.  The key comes from --llm-key or $TINGLADO_LLM_KEY (never printed).
 */
#include "cli/read.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: tinglado read enrich --llm-url URL [--llm-model M] [--llm-key K] [-n N] [--db PATH]\n\n"
          "Summarises and tags every extracted article with a language model behind an\n"
          "OpenAI-compatible endpoint (tinglado serve, llama.cpp, vLLM, a hosted API).\n"
          "The reply is asked for as JSON under a schema and checked: a summary of 2-4\n"
          "sentences and 3-7 tags, reusing the library's tags when they fit.\n\n"
          "  --llm-url URL     the API base, e.g. http://127.0.0.1:8080/v1\n"
          "  --llm-model M     model name sent in requests (default \"default\")\n"
          "  --llm-key K       bearer token (default: $TINGLADO_LLM_KEY)\n"
          "  -n, --limit N     at most N articles\n"
          "  --timeout S       per request (default 300)\n",
          f);
}

typedef struct todo {
    int64_t *ids;
    size_t n, cap, limit;
} todo;

static bool collect(const tg_item *it, void *user) {
    todo *t = user;
    if (t->limit && t->n >= t->limit)
        return false;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        int64_t *v = realloc(t->ids, cap * sizeof *v);
        if (!v)
            return false;
        t->ids = v;
        t->cap = cap;
    }
    t->ids[t->n++] = it->id;
    return true;
}

int tg__cli_read_enrich(int argc, char **argv) {
    static const struct option opts[] = {
        {"llm-url", required_argument, 0, 'u'}, {"llm-model", required_argument, 0, 'M'},
        {"llm-key", required_argument, 0, 'k'}, {"limit", required_argument, 0, 'n'},
        {"timeout", required_argument, 0, 'W'}, {"db", required_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    tg_llm_params lp = tg_llm_default_params();
    const char *db = NULL;
    long limit = 0, val;
    lp.key = getenv("TINGLADO_LLM_KEY");
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'u': lp.url = optarg; break;
        case 'M': lp.model = optarg; break;
        case 'k': lp.key = optarg; break;
        case 'd': db = optarg; break;
        case 'n':
            if (!tg_cli_parse_int("--limit", optarg, 1, 1000000000L, &limit))
                return 2;
            break;
        case 'W':
            if (!tg_cli_parse_int("--timeout", optarg, 1, 3600, &val))
                return 2;
            lp.timeout_s = val;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!lp.url || optind != argc) {
        fprintf(stderr, "tinglado read enrich: need --llm-url URL\n");
        usage(stderr);
        return 2;
    }
    tg_library *lib = tg__cli_read_open(db);
    if (!lib)
        return 1;
    todo t = {.limit = (size_t)limit};
    tg_item_filter f = tg_item_filter_all();
    f.state = TG_ITEM_EXTRACTED;
    int rc = 0;
    size_t done = 0, failed = 0;
    if (tg_library_list(lib, &f, collect, &t)) {
        rc = tg_cli_fail("read enrich");
        goto out;
    }
    for (size_t i = 0; i < t.n; i++) {
        tg_item it;
        char *text = NULL, **known = NULL;
        size_t n_known = 0;
        tg_enrichment e;
        if (tg_library_get(lib, t.ids[i], &it)) {
            rc = tg_cli_fail("read enrich");
            break;
        }
        tg_library_get_content(lib, it.id, &text, NULL);
        tg_library_tags(lib, &known, &n_known); /* refreshed: earlier articles' tags count */
        if (tg_enrich_openai(&lp, it.title, text ? text : "", (const char *const *)known, n_known, &e) ||
            tg_library_set_summary_tags(lib, it.id, &e)) {
            fprintf(stderr, "tinglado: read enrich: item %lld: %s\n", (long long)it.id, tg_last_error());
            failed++;
        } else {
            done++;
            printf("%6lld  ", (long long)it.id);
            for (size_t k = 0; k < e.n_tags; k++)
                printf(k ? ",%s" : "[%s", e.tags[k]);
            printf("]  %s\n", it.title ? it.title : it.url);
        }
        tg_enrichment_clear(&e);
        for (size_t k = 0; k < n_known; k++)
            free(known[k]);
        free(known);
        free(text);
        tg_item_clear(&it);
    }
    if (!rc) {
        printf("enrich: %zu articles: %zu enriched, %zu failed\n", t.n, done, failed);
        rc = failed ? 1 : 0;
    }
out:
    free(t.ids);
    tg_library_close(lib);
    return rc;
}
