/*
 * cli.h — the subcommands of the `tinglado` binary.  Each lives in its own
 * file, takes argc/argv after the subcommand name, prints its own --help,
 * and returns the process exit code (0 ok, 1 failure, 2 usage error).
 */
#ifndef TG_CLI_H
#define TG_CLI_H

#include "tinglado.h"

int tg_cli_info(int argc, char **argv);
int tg_cli_tokenize(int argc, char **argv);
int tg_cli_pull(int argc, char **argv);

/* A model argument (a path, "org/repo[:QUANT]" or a cached file stem) as the
 * path of a GGUF file; TG_ERR_NOT_FOUND suggests `tinglado pull`. */
tg_status tg_cli_resolve_model(const char *arg, char *out, size_t cap);

/* Prints "tinglado: <what>: <tg_last_error()>" to stderr; returns 1. */
int tg_cli_fail(const char *what);

#endif
