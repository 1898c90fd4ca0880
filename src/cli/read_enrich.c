/*
 * read_enrich.c — `tinglado read enrich`: a summary and 3-7 tags for every
 * extracted article, from the embedded engine (default: the default model)
 * or a language model behind an OpenAI-compatible endpoint (--llm-url).
 * Also the language-model flags and the enrichment loop that `read sync`
 * and `read ask` share.
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

/* Article bytes sent for a summary: the embedded engine evaluates every
 * prompt token on the CPU (≈ 260 tokens/s for the default model on two
 * cores), so it reads the start of an article; an endpoint reads more. */
enum { EMBEDDED_CHARS = 1500, REMOTE_CHARS = 6000 };

const char tg__cli_llm_help[] =
    "  --llm-model M     the embedded engine's model: a GGUF path or cached name\n"
    "                    (default " TG_LLM_DEFAULT_MODEL "); with --llm-url, the model name sent\n"
    "  --llm-url URL     use an OpenAI-compatible endpoint instead, e.g.\n"
    "                    http://127.0.0.1:8080/v1 (tinglado serve, llama.cpp, vLLM, a hosted API)\n"
    "  --llm-key K       its bearer token (default: $TINGLADO_LLM_KEY)\n"
    "  --timeout S       per request to the endpoint (default 300)\n"
    "  --threads N       the embedded engine's threads (default: all CPUs)\n";

void tg__cli_llm_init(tg__cli_llm *f) {
    memset(f, 0, sizeof *f);
    f->key = getenv("TINGLADO_LLM_KEY");
    f->timeout = 300;
}

int tg__cli_llm_flag(tg__cli_llm *f, int opt, const char *arg) {
    long v;
    switch (opt) {
    case TG__OPT_LLM_URL: f->url = arg; return 1;
    case TG__OPT_LLM_MODEL: f->model = arg; return 1;
    case TG__OPT_LLM_KEY: f->key = arg; return 1;
    case TG__OPT_NO_LLM: f->none = true; return 1;
    case TG__OPT_LLM_TIMEOUT:
        if (!tg_cli_parse_int("--timeout", arg, 1, 3600, &v))
            return -1;
        f->timeout = v;
        return 1;
    case TG__OPT_LLM_THREADS:
        if (!tg_cli_parse_int("--threads", arg, 1, 1024, &v))
            return -1;
        f->threads = (int)v;
        return 1;
    default: return 0;
    }
}

tg_llm *tg__cli_llm_open(const tg__cli_llm *f) {
    tg_llm *llm;
    if (f->url) {
        tg_llm_params p = tg_llm_default_params();
        p.url = f->url;
        p.key = f->key;
        if (f->model)
            p.model = f->model;
        p.timeout_s = f->timeout;
        llm = tg_llm_openai(&p);
    } else {
        tg_llm_engine_params p = tg_llm_engine_default_params();
        if (f->model)
            p.model = f->model;
        p.n_threads = f->threads;
        llm = tg_llm_engine(&p);
    }
    if (!llm)
        tg_cli_fail("language model");
    return llm;
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

int tg__cli_enrich_all(tg_library *lib, tg_llm *llm, size_t limit, size_t *n_done, size_t *n_failed) {
    todo t = {.limit = limit};
    tg_item_filter f = tg_item_filter_all();
    f.state = TG_ITEM_EXTRACTED;
    int rc = 0;
    *n_done = *n_failed = 0;
    if (tg_library_list(lib, &f, collect, &t)) {
        free(t.ids);
        return tg_cli_fail("enrich");
    }
    int32_t max_chars = tg_llm_is_embedded(llm) ? EMBEDDED_CHARS : REMOTE_CHARS;
    tg_llm_stats sum = {0};
    size_t n_cut = 0;
    for (size_t i = 0; i < t.n; i++) {
        tg_item it;
        char *text = NULL, **known = NULL;
        size_t n_known = 0;
        tg_enrichment e;
        if (tg_library_get(lib, t.ids[i], &it)) {
            rc = tg_cli_fail("enrich");
            break;
        }
        tg_library_get_content(lib, it.id, &text, NULL);
        tg_library_tags(lib, &known, &n_known); /* refreshed: earlier articles' tags count */
        bool ok = !tg_enrich(llm, it.title, text ? text : "", (const char *const *)known, n_known, max_chars, &e) &&
                  !tg_library_set_summary_tags(lib, it.id, &e);
        if (!ok) {
            fprintf(stderr, "tinglado: enrich: item %lld: %s\n", (long long)it.id, tg_last_error());
            (*n_failed)++;
        } else {
            (*n_done)++;
            n_cut += e.cut;
            printf("%6lld  ", (long long)it.id);
            for (size_t k = 0; k < e.n_tags; k++)
                printf(k ? ",%s" : "[%s", e.tags[k]);
            printf("]  %s\n", it.title ? it.title : it.url);
            fflush(stdout);
        }
        tg_llm_stats one = tg_llm_last_stats(llm);
        sum.prompt += one.prompt;
        sum.reused += one.reused;
        sum.chosen += one.chosen;
        sum.passes += one.passes;
        sum.guessed += one.guessed;
        sum.kept += one.kept;
        tg_enrichment_clear(&e);
        for (size_t k = 0; k < n_known; k++)
            free(known[k]);
        free(known);
        free(text);
        tg_item_clear(&it);
    }
    free(t.ids);
    if (n_cut) /* how often the model drifted from the article (src/read/grounding.c) */
        fprintf(stderr, "enrich: %zu of %zu summaries cut before a sentence that was not the article's\n", n_cut,
                *n_done);
    /* what the articles cost the embedded engine: where its time goes */
    if (sum.prompt)
        fprintf(stderr,
                "enrich: engine: %zu prompt tokens (%zu reused from the cache), %zu reply tokens in %zu forward "
                "passes (%zu guessed by prompt lookup, %zu kept)\n",
                sum.prompt, sum.reused, sum.chosen, sum.passes, sum.guessed, sum.kept);
    return rc;
}

static void usage(FILE *f) {
    fputs("usage: tinglado read enrich [--llm-model M | --llm-url URL [--llm-model M] [--llm-key K]]\n"
          "                            [-n N] [--db PATH]\n\n"
          "Summarises and tags every extracted article with a language model: the\n"
          "embedded engine by default (few-shot prompts, greedy decoding under the\n"
          "schema's grammar), or an OpenAI-compatible endpoint.  The reply is asked\n"
          "for as JSON under a schema and checked: a summary of 2-4 sentences and\n"
          "3-7 tags, reusing the library's tags when they fit.  `read sync` does this\n"
          "too, after fetching and extracting.\n\n",
          f);
    fputs(tg__cli_llm_help, f);
    fputs("  -n, --limit N     at most N articles\n", f);
}

int tg__cli_read_enrich(int argc, char **argv) {
    static const struct option opts[] = {TG__CLI_LLM_OPTIONS,
                                         {"limit", required_argument, 0, 'n'},
                                         {"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    tg__cli_llm lf;
    tg__cli_llm_init(&lf);
    const char *db = NULL;
    long limit = 0;
    int c, took;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        if ((took = tg__cli_llm_flag(&lf, c, optarg)) < 0)
            return 2;
        if (took)
            continue;
        switch (c) {
        case 'd': db = optarg; break;
        case 'n':
            if (!tg_cli_parse_int("--limit", optarg, 1, 1000000000L, &limit))
                return 2;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (lf.none || optind != argc) {
        fprintf(stderr, "tinglado read enrich: %s\n", lf.none ? "--no-llm leaves nothing to do" : "unexpected argument");
        usage(stderr);
        return 2;
    }
    tg_library *lib = tg__cli_read_open(db);
    if (!lib)
        return 1;
    tg_llm *llm = tg__cli_llm_open(&lf);
    int rc = 1;
    size_t done = 0, failed = 0;
    if (llm && !(rc = tg__cli_enrich_all(lib, llm, (size_t)limit, &done, &failed))) {
        printf("enrich: %zu articles: %zu enriched, %zu failed\n", done + failed, done, failed);
        rc = failed ? 1 : 0;
    }
    tg_llm_free(llm);
    tg_library_close(lib);
    return rc;
}
