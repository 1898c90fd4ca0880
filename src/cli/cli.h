/*
 * cli.h — the subcommands of the `tinglado` binary.  Each lives in its own
 * file, takes argc/argv after the subcommand name, prints its own --help,
 * and returns the process exit code (0 ok, 1 failure, 2 usage error).
 */
#ifndef TG_CLI_H
#define TG_CLI_H

#include "tinglado.h"

#define TG_CLI_MIN(a, b) ((a) < (b) ? (a) : (b))

int tg_cli_info(int argc, char **argv);
int tg_cli_tokenize(int argc, char **argv);
int tg_cli_pull(int argc, char **argv);

/* A model argument (a path, "org/repo[:QUANT]" or a cached file stem) as the
 * path of a GGUF file; TG_ERR_NOT_FOUND suggests `tinglado pull`. */
tg_status tg_cli_resolve_model(const char *arg, char *out, size_t cap);

int tg_cli_logits(int argc, char **argv);
int tg_cli_perplexity(int argc, char **argv);
int tg_cli_run(int argc, char **argv);
int tg_cli_chat(int argc, char **argv);
int tg_cli_serve(int argc, char **argv);
int tg_cli_bench(int argc, char **argv);
int tg_cli_embed(int argc, char **argv);
int tg_cli_convert(int argc, char **argv);
int tg_cli_superpose(int argc, char **argv);
int tg_cli_read(int argc, char **argv);
int tg_cli_cost(int argc, char **argv);
int tg_cli_probe(int argc, char **argv);

/* Prints "tinglado: <what>: <tg_last_error()>" to stderr; returns 1. */
int tg_cli_fail(const char *what);

/* cli_util.c — each prints its own error ("tinglado: …") on failure. */
char *tg_cli_read_file(const char *path, size_t *len); /* NUL-terminated; "-" = stdin */
bool tg_cli_parse_int(const char *flag, const char *s, long lo, long hi, long *out);
bool tg_cli_parse_float(const char *flag, const char *s, double lo, double hi, double *out);
bool tg_cli_tokens_push(tg_tokens *t, tg_token id);
bool tg_cli_parse_kv_type(const char *s, tg_type *out); /* "f16" | "f32" */
/* `{"tokens":[…]}` or `[…]`, appended to out. */
bool tg_cli_parse_token_list(const char *text, size_t len, tg_tokens *out);

#endif
