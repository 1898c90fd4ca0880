/*
 * cache.h — where models live on disk and how a name on the command line
 * becomes a file.  The cache root is $TINGLADO_CACHE, else
 * $XDG_CACHE_HOME/tinglado, else ~/.cache/tinglado (scripts/cache-dir.sh uses
 * the same rule); models sit under models/:
 *
 *   models/<file>.gguf                    the default model, and URL downloads
 *   models/hf/<org>/<repo>/<file>.gguf    `tinglado pull org/repo[:QUANT]`
 *
 * See docs/models.md.  Internal to the library and the CLI.
 */
#ifndef TG_NET_CACHE_H
#define TG_NET_CACHE_H

#include "base/base.h"

#include <stdbool.h>
#include <stdint.h>

/* The cache root, without a trailing '/'. */
tg_status tg__cache_dir(char *out, size_t cap);
/* <root>/models */
tg_status tg__cache_models_dir(char *out, size_t cap);
/* <root>/models/hf/<org>/<repo>, reusing the spelling of an existing
 * directory that differs only in case (the hub's names are case-blind). */
tg_status tg__cache_hf_dir(const char *org, const char *repo, char *out, size_t cap);

/* mkdir -p (mode 0755). */
tg_status tg__mkdirs(const char *path);

/* Turns a model argument into a path: an existing file wins; otherwise
 * "org/repo[:QUANT]" (or hf.co/…) or a file stem ("gemma-3-270m-q4_k_m") is
 * looked up in the cache.  Not found: TG_ERR_NOT_FOUND with a message that
 * suggests `tinglado pull`. */
tg_status tg__cache_resolve(const char *arg, char *out, size_t cap);

/* Calls fn for every model in the cache (and every unfinished .part):
 * `name` is what tg__cache_resolve accepts for it. */
typedef void (*tg__cache_visit_fn)(void *ctx, const char *name, const char *path, uint64_t size,
                                   bool partial);
tg_status tg__cache_list(tg__cache_visit_fn fn, void *ctx);

#endif /* TG_NET_CACHE_H */
