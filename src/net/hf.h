/*
 * hf.h — Hugging Face hub names ("org/repo[:QUANT]"), the hub's file
 * listings, and the choice of one .gguf among a repository's files by its
 * quantization tag.  The choice works on plain names, so the model cache
 * (cache.c) picks among the files on disk with the same rules.
 */
#ifndef TG_NET_HF_H
#define TG_NET_HF_H

#include "base/base.h"

#include <stdbool.h>
#include <stdint.h>

#define TG__HF_DEFAULT_ENDPOINT "https://huggingface.co"
#define TG__HF_DEFAULT_QUANT "Q4_K_M"
#define TG__HF_REVISION "main"

/* A repository name as the user wrote it.  org and repo use the hub's
 * alphabet ([A-Za-z0-9._-], not starting with '.' or '-'), so they are also
 * safe as directory names. */
typedef struct tg__hf_ref {
    char org[97];
    char repo[97];
    char quant[129]; /* "" when not given; a tag ("Q8_0") or a file name ("x.gguf") */
} tg__hf_ref;

/* Parses "org/repo[:QUANT]", optionally written "hf.co/org/repo…" or
 * "huggingface.co/org/repo…" (as Ollama does).  TG_ERR_ARG with a message
 * if s is not such a name. */
tg_status tg__hf_parse_ref(const char *s, tg__hf_ref *out);

/* One file of a repository listing. */
typedef struct tg__hf_file {
    char *path;        /* relative to the repository root, e.g. "Q4_K_M/x.gguf" */
    uint64_t size;     /* bytes; 0 if the listing did not say */
    char sha256[65];   /* from the LFS metadata; "" if none */
} tg__hf_file;

typedef struct tg__hf_list {
    tg__hf_file *files;
    size_t n, cap;
} tg__hf_list;

void tg__hf_list_free(tg__hf_list *l);

/* Appends the files of one listing page: either the tree format
 * (GET /api/models/{repo}/tree/{rev}: an array of {type, path, size,
 * lfs:{oid,size}}) or the model-info format (GET /api/models/{repo}?blobs=true:
 * an object whose "siblings" are {rfilename, size, lfs:{sha256,size}}).
 * `what` names the source in error messages. */
tg_status tg__hf_parse_listing(const char *json, size_t len, const char *what, tg__hf_list *out);

/* How well a file name (a path: only its last component counts) carries a
 * quantization tag, case-insensitively: 0 not at all, 1 as a substring,
 * 2 as a whole word (not next to a letter, digit or '_'), 3 as a whole word
 * right before ".gguf", 4 the tag is the file name itself. */
int tg__quant_match(const char *name, const char *tag);

/* True for split-GGUF parts "…-00001-of-00003.gguf"; *part and *count set. */
bool tg__gguf_is_shard(const char *name, unsigned *part, unsigned *count);

/* The quantization tag a file name carries: the last '-' or '.' separated
 * word of its stem ("x-Q4_K_M.gguf" → "Q4_K_M"), split suffix ignored. */
void tg__quant_of(const char *name, char *out, size_t cap);

/* Picks the model file for `tag` (NULL or "": the default Q4_K_M, and a
 * repository with a single model file gives that one) among n names.
 * Ignores files that are not .gguf and vision projectors (mmproj).  The
 * best-scoring match wins; a tie is an error naming the candidates; no match
 * is an error listing the quantizations there are.  `where` names the
 * repository in messages. */
tg_status tg__pick_gguf(const char *const *names, size_t n, const char *tag, const char *where,
                        size_t *index);

/* The hub's address: $HF_ENDPOINT (as huggingface_hub reads it) without a
 * trailing '/', else https://huggingface.co. */
tg_status tg__hf_endpoint(char *out, size_t cap);

/* Percent-encodes a repository path for a URL, keeping '/' between parts.
 * Returns a heap string or NULL (NOMEM). */
char *tg__url_escape_path(const char *path);

/* Lists a repository's files through the hub's API (following the listing's
 * pages).  token may be NULL. */
tg_status tg__hf_list_repo(const char *endpoint, const tg__hf_ref *ref, const char *token,
                           tg__hf_list *out);

#endif /* TG_NET_HF_H */
