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
/* Opens the library at db (NULL: the default path), printing the error. */
tg_library *tg__cli_read_open(const char *db);

#endif
