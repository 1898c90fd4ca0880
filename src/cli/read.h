/*
 * read.h — what the files of `tinglado read` (read.c, read_feed.c) share.
 */
#ifndef TG_CLI_READ_H
#define TG_CLI_READ_H

#include "cli/cli.h"

/* `tinglado read feed …` (argv[0] = "feed"). */
int tg__cli_read_feed(int argc, char **argv);
/* `tinglado read enrich …` (read_enrich.c). */
int tg__cli_read_enrich(int argc, char **argv);
/* `tinglado read embed …` (read_embed.c). */
int tg__cli_read_embed(int argc, char **argv);
/* The model file's name, under which its vectors are stored. */
const char *tg__cli_read_model_name(const char *path);
/* The query's vector from an embedding model (path gets the resolved file). */
tg_status tg__cli_read_query_vec(const char *model, const char *query, char *path, size_t cap, float **vec,
                                 int32_t *dim);
/* Language-model flags of enrich, sync and ask (read_enrich.c): getopt
 * entries (codes >= 400) and their handler (1: taken, 0: not one of these,
 * -1: bad value, message printed). */
enum {
    TG__OPT_LLM_URL = 400, TG__OPT_LLM_MODEL, TG__OPT_LLM_KEY, TG__OPT_NO_LLM, TG__OPT_LLM_TIMEOUT,
    TG__OPT_LLM_THREADS,
};
#define TG__CLI_LLM_OPTIONS                                                                                    \
    {"llm-url", required_argument, 0, TG__OPT_LLM_URL}, {"llm-model", required_argument, 0, TG__OPT_LLM_MODEL}, \
        {"llm-key", required_argument, 0, TG__OPT_LLM_KEY}, {"no-llm", no_argument, 0, TG__OPT_NO_LLM},         \
        {"timeout", required_argument, 0, TG__OPT_LLM_TIMEOUT},                                                 \
        {"threads", required_argument, 0, TG__OPT_LLM_THREADS}
typedef struct tg__cli_llm {
    const char *url, *model, *key;
    long timeout;
    int threads;
    bool none; /* --no-llm */
} tg__cli_llm;
extern const char tg__cli_llm_help[];
void tg__cli_llm_init(tg__cli_llm *f);
int tg__cli_llm_flag(tg__cli_llm *f, int opt, const char *arg);
/* The endpoint (--llm-url) or the embedded engine; prints the error. */
tg_llm *tg__cli_llm_open(const tg__cli_llm *f);
/* Enriches up to limit (0: all) extracted items, printing one line per
 * item and each failure; returns 1 on a library error. */
int tg__cli_enrich_all(tg_library *lib, tg_llm *llm, size_t limit, size_t *done, size_t *failed);
/* `tinglado read ask …` (read_ask.c) and `read digest …` (read_digest.c). */
int tg__cli_read_ask(int argc, char **argv);
int tg__cli_read_digest(int argc, char **argv);

/* Opens the library at db (NULL: the default path), printing the error. */
tg_library *tg__cli_read_open(const char *db);

#endif
