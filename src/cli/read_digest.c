/*
 * read_digest.c — `tinglado read digest [--since 7d] [--format md|html]`:
 * what was saved or enriched lately, grouped by tag (tg_library_digest).
 */
#include "cli/read.h"

#include <stdio.h>

int tg__cli_read_digest(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fputs("tinglado read digest: not implemented yet\n", stderr);
    return 1;
}
