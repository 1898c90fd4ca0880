/*
 * read_ask.c — `tinglado read ask QUESTION`: an answer from the library
 * with numbered citations to the items and passages that hold it
 * (tg_library_ask), or a plain statement that the library holds none.
 *
 * Prints the answer followed by its citation marks, then each cited source
 * (number, title, URL, the passage); --json prints tg_answer_json.
 */
#include "cli/read.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_K = 500, OPT_EMBED, OPT_MIN_COS, OPT_JSON, OPT_WORDS, OPT_FILE, OPT_CHARS };

/* One question: the answer and its cited sources, or one JSON line. */
static int answer_one(tg_library *lib, tg_llm *llm, tg_embedder *emb, const tg_ask_params *ap, const char *question,
                      bool json) {
    tg_answer a;
    if (tg_library_ask(lib, llm, emb, ap, question, &a))
        return tg_cli_fail("read ask");
    int rc = 0;
    if (json) {
        char *s = tg_answer_json(&a, question);
        if (s)
            puts(s);
        else
            rc = 1;
        free(s);
    } else {
        fputs(a.text, stdout);
        for (size_t i = 0; i < a.n_citations; i++)
            printf("%s[%d]", i ? "" : " ", a.citations[i]);
        putchar('\n');
        for (size_t i = 0; i < a.n_sources; i++) {
            const tg_ask_source *s = &a.sources[i];
            if (!s->cited)
                continue;
            printf("\n[%zu] %s\n    %s\n    \"%s\"\n", i + 1, s->title ? s->title : "(untitled)", s->url,
                   s->passage);
        }
    }
    fflush(stdout);
    tg_answer_clear(&a);
    return rc;
}

static void usage(FILE *f) {
    fputs("usage: tinglado read ask (QUESTION | --questions FILE) [--k N] [--embed-model M] [--json] [--db PATH]\n"
          "                         [--llm-model M | --llm-url URL [--llm-key K]]\n\n"
          "Answers a question from the library: the passages closest to it (by meaning\n"
          "with --embed-model, fused with word overlap) go numbered to a language model,\n"
          "which answers under a JSON Schema and cites the passages it used.  When no\n"
          "passage is close enough, or the model cites none, it says the library holds\n"
          "no answer.\n\n"
          "  --k N             passages given to the model (default 4, at most 20)\n"
          "  --embed-model M   the embedding model the library was embedded with\n"
          "                    (`tinglado read embed -m M`); without it, word overlap alone\n"
          "  --min-cosine X    with --embed-model: below this closeness no answer (default 0.32)\n"
          "  --passage-words N words of a passage shown to the model (default 120)\n"
          "  --max-answer-chars N  the answer's length limit (default 200); a small model\n"
          "                    rambles up to it, and each character costs decoding time\n"
          "  --json            {question, found, answer, citations, sources, best_cosine}\n"
          "  --questions FILE  ask each line of FILE instead ('#' lines skipped; with --json,\n"
          "                    one object a line); the model is loaded once\n",
          f);
    fputs(tg__cli_llm_help, f);
}

int tg__cli_read_ask(int argc, char **argv) {
    static const struct option opts[] = {TG__CLI_LLM_OPTIONS,
                                         {"k", required_argument, 0, OPT_K},
                                         {"embed-model", required_argument, 0, OPT_EMBED},
                                         {"min-cosine", required_argument, 0, OPT_MIN_COS},
                                         {"passage-words", required_argument, 0, OPT_WORDS},
                                         {"json", no_argument, 0, OPT_JSON},
                                         {"questions", required_argument, 0, OPT_FILE},
                                         {"max-answer-chars", required_argument, 0, OPT_CHARS},
                                         {"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    tg__cli_llm lf;
    tg__cli_llm_init(&lf);
    tg_ask_params ap = tg_ask_default_params();
    const char *db = NULL, *embed = NULL, *qfile = NULL;
    bool json = false;
    long v;
    double x;
    int c, took;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((took = tg__cli_llm_flag(&lf, c, optarg)) < 0)
            return 2;
        if (took)
            continue;
        switch (c) {
        case 'd': db = optarg; break;
        case OPT_EMBED: embed = optarg; break;
        case OPT_JSON: json = true; break;
        case OPT_FILE: qfile = optarg; break;
        case OPT_K:
            if (!tg_cli_parse_int("--k", optarg, 1, 20, &v))
                return 2;
            ap.k = (int32_t)v;
            break;
        case OPT_WORDS:
            if (!tg_cli_parse_int("--passage-words", optarg, 8, 2000, &v))
                return 2;
            ap.passage_words = (int32_t)v;
            break;
        case OPT_CHARS:
            if (!tg_cli_parse_int("--max-answer-chars", optarg, 20, 4000, &v))
                return 2;
            ap.max_answer_chars = (int32_t)v;
            ap.max_tokens = (int32_t)(v / 2 + 40); /* room for the longest answer and the JSON around it */
            break;
        case OPT_MIN_COS:
            if (!tg_cli_parse_float("--min-cosine", optarg, -1, 1, &x))
                return 2;
            ap.min_cosine = (float)x;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if ((optind >= argc) == !qfile || lf.none) {
        fprintf(stderr, "tinglado read ask: %s\n", lf.none ? "--no-llm: asking needs a language model"
                                                            : "need a question (or --questions FILE)");
        usage(stderr);
        return 2;
    }
    size_t qlen = 1;
    for (int i = optind; i < argc; i++)
        qlen += strlen(argv[i]) + 1;
    char *question = calloc(qlen, 1);
    for (int i = optind; question && i < argc; i++) {
        if (i > optind)
            strcat(question, " ");
        strcat(question, argv[i]);
    }
    char path[4096];
    tg_embedder *emb = NULL;
    tg_library *lib = NULL;
    tg_llm *llm = NULL;
    int rc = 1;
    if (!question) {
        fprintf(stderr, "tinglado read ask: out of memory\n");
        goto out;
    }
    if (embed) {
        if (tg_cli_resolve_model(embed, path, sizeof path) || !(emb = tg_embedder_load(path, NULL))) {
            tg_cli_fail("read ask");
            goto out;
        }
        ap.embed_model = tg__cli_read_model_name(path);
    }
    if (!(lib = tg__cli_read_open(db)) || !(llm = tg__cli_llm_open(&lf)))
        goto out;
    rc = 0;
    if (!qfile) {
        rc = answer_one(lib, llm, emb, &ap, question, json);
    } else {
        /* one question a line: the model stays loaded and the prompt's head cached */
        size_t len = 0;
        char *all = tg_cli_read_file(qfile, &len);
        if (!all) {
            rc = 1;
            goto out;
        }
        bool first_q = true;
        for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
            while (*line == ' ' || *line == '\t' || *line == '\r')
                line++;
            if (!*line || *line == '#')
                continue;
            if (!json && !first_q)
                puts("\n----\n");
            first_q = false;
            if (!json)
                printf("Q: %s\n", line);
            rc |= answer_one(lib, llm, emb, &ap, line, json);
        }
        free(all);
    }
out:
    free(question);
    tg_llm_free(llm);
    tg_library_close(lib);
    tg_embedder_free(emb);
    return rc;
}
