/*
 * download.h — HTTP(S) for `tinglado pull`, built on libcurl: small GETs for
 * JSON APIs (bounded in size) and resumable file downloads that hash what they
 * write and only ever rename a verified file into its final name.
 *
 * Everything a server sends is untrusted: bodies are size-capped, headers are
 * parsed against their length, and no response can make us write outside the
 * destination path the caller chose.  Internal to the library and the CLI.
 */
#ifndef TG_NET_DOWNLOAD_H
#define TG_NET_DOWNLOAD_H

#include "base/base.h"
#include "net/progress.h"

#include <stdbool.h>
#include <stdint.h>

/* What the last response of a request said, beyond its body. */
typedef struct tg__http_reply {
    long code;               /* HTTP status of the final response (0: none) */
    char error_code[64];     /* the hub's X-Error-Code ("RepoNotFound", …) */
    char error_message[256]; /* the hub's X-Error-Message                */
    char *next_url;          /* Link: <…>; rel="next" (heap), or NULL      */
} tg__http_reply;

void tg__http_reply_free(tg__http_reply *r);

/* GETs url (following at most 10 redirects) into body, at most max_body
 * bytes.  token, if not NULL, goes out as "Authorization: Bearer …" (libcurl
 * drops it when a redirect leaves the host).  TG_OK means a response arrived,
 * whatever its status: the caller reads reply->code (see tg__http_fail). */
tg_status tg__http_get(const char *url, const char *token, size_t max_body, tg__buf *body,
                       tg__http_reply *reply);

/* Turns a failed HTTP status into a sentence about `what` (a repository, a
 * file): 404 → "no such repository or file", 401/403 → "needs a token
 * (HF_TOKEN)", with the hub's own error code when it sent one.  Returns the
 * status the caller should return (TG_ERR_NOT_FOUND, TG_ERR_IO, …). */
tg_status tg__http_fail(const char *what, long code, const char *error_code,
                        const char *error_message);

typedef struct tg__dl_opts {
    const char *url;
    const char *dest;            /* final path; bytes go to "<dest>.part" first */
    const char *expected_sha256; /* 64 hex digits, or NULL: then an LFS file's
                                    X-Linked-Etag is used if the server sends one */
    const char *sha256_source;   /* where expected_sha256 came from, for messages */
    const char *token;           /* bearer token or NULL */
    uint64_t expected_size;      /* 0 if unknown; used for the bar and a disk check */
    int retries;                 /* further attempts after a dropped connection */
    tg__progress_mode progress;
    const char *label;           /* what the progress lines call the file */
} tg__dl_opts;

typedef struct tg__dl_result {
    char sha256[65];          /* lower-case hex of the whole file          */
    bool verified;            /* it matched a known hash                    */
    const char *hash_source;  /* where that hash came from (static string)  */
    uint64_t bytes;           /* size of the file                           */
    uint64_t resumed_from;    /* bytes already in the .part at the start    */
    int attempts;             /* requests made                              */
    bool interrupted;         /* stopped by tg__net_cancel (the .part stays)*/
} tg__dl_result;

/* Downloads opts->url to opts->dest.  Resumes an existing "<dest>.part" with
 * a Range request (appending on 206, starting over on 200), retries dropped
 * connections from where they stopped, checks the sha256, then renames the
 * .part to dest.  On a hash mismatch the .part is deleted; on any other
 * failure it is kept for the next run.  dest's directory must exist. */
tg_status tg__download(const tg__dl_opts *opts, tg__dl_result *result);

/* Asks running transfers to stop as soon as possible.  Async-signal-safe: the
 * CLI calls it from its SIGINT handler. */
void tg__net_cancel(void);

/* True for a string of exactly 64 hex digits (either case). */
bool tg__is_sha256_hex(const char *s);

/* sha256 of a whole file, as lower-case hex.  Honours tg__net_cancel. */
tg_status tg__sha256_file_hex(const char *path, char hex[65]);

#endif /* TG_NET_DOWNLOAD_H */
