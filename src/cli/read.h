/*
 * read.h — what the files of `tinglado read` (read.c, read_feed.c) share.
 */
#ifndef TG_CLI_READ_H
#define TG_CLI_READ_H

#include "cli/cli.h"

/* `tinglado read feed …` (argv[0] = "feed"). */
int tg__cli_read_feed(int argc, char **argv);
/* Opens the library at db (NULL: the default path), printing the error. */
tg_library *tg__cli_read_open(const char *db);

#endif
