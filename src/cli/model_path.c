/*
 * model_path.c — what every subcommand that takes a model (-m) calls first:
 * a path, a hub name "org/repo[:QUANT]" or a cached file stem becomes the
 * path of a GGUF file.  The rules live in src/net/cache.c (where the unit
 * tests reach them); this is the CLI's entry point to them.
 */
#include "cli/cli.h"

#include "net/cache.h"

tg_status tg_cli_resolve_model(const char *arg, char *out, size_t cap) {
    return tg__cache_resolve(arg, out, cap);
}
