/*
 * pull.c — `tinglado pull`: get a GGUF model from the Hugging Face hub (by
 * name, as `llama-cli -hf` and Ollama's hf.co/ names do) or from any URL,
 * into the model cache, with a progress bar, resume and a sha256 check.
 * `tinglado pull --list` shows what the cache holds.
 *
 * The work is in src/net/: hf.c (names, listings, choosing the file),
 * download.c (the transfer), cache.c (where files go).  This file is the
 * command line around them; it prints the final path on stdout, the rest on
 * stderr, so `m=$(tinglado pull org/repo)` works in scripts.
 */
#include "cli/cli.h"

#include "net/cache.h"
#include "net/download.h"
#include "net/hf.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_CAP 4096
#define DEFAULT_RETRIES 5

static void usage(FILE *f) {
    fputs("usage: tinglado pull SOURCE [-o DIR] [--sha256 HEX] [--force] [--retries N] [-q]\n"
          "       tinglado pull --list\n"
          "\n"
          "Download a GGUF model into the model cache (see docs/models.md), with a\n"
          "progress bar, resume after an interruption (run the same command again)\n"
          "and a sha256 check.  Prints the path of the file on stdout.\n"
          "\n"
          "SOURCE is one of\n"
          "  ORG/REPO[:QUANT]     a Hugging Face repository; QUANT picks the file by its\n"
          "                       quantization (case-insensitive, default Q4_K_M), or\n"
          "                       names it (ORG/REPO:FILE.gguf); hf.co/ORG/REPO works too\n"
          "  https://…/FILE.gguf  a direct link (http:// too)\n"
          "\n"
          "  -o, --output DIR     save into DIR instead of the cache\n"
          "      --sha256 HEX     the expected sha256 (a hub file's own is checked anyway)\n"
          "      --force          download again even if the file is already there\n"
          "      --retries N      attempts after a dropped connection (default 5)\n"
          "  -q, --quiet          no progress output\n"
          "      --list           list the cached models with their sizes\n"
          "  -h, --help           this text\n"
          "\n"
          "environment: HF_ENDPOINT (the hub, default https://huggingface.co), HF_TOKEN\n"
          "(sent to the hub for gated or private repositories), TINGLADO_CACHE or\n"
          "XDG_CACHE_HOME (where the cache is).\n",
          f);
}

static void on_signal(int sig) {
    (void)sig;
    tg__net_cancel();
}

static void install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- --list ------------------------------------------------------------------- */

typedef struct list_ctx {
    int n;
    uint64_t total;
} list_ctx;

static void print_entry(void *ctx, const char *name, const char *path, uint64_t size,
                        bool partial) {
    list_ctx *c = ctx;
    char sz[32];
    tg__fmt_bytes(sz, sizeof sz, size);
    printf("%-44s %10s  %s%s\n", name, sz, path, partial ? "  (partial: pull again to resume)" : "");
    c->n++;
    c->total += size;
}

static int list_models(void) {
    char models[PATH_CAP];
    if (tg__cache_models_dir(models, sizeof models) != TG_OK)
        return tg_cli_fail("pull --list");
    list_ctx c = {0};
    if (tg__cache_list(print_entry, &c) != TG_OK)
        return tg_cli_fail("pull --list");
    char sz[32];
    tg__fmt_bytes(sz, sizeof sz, c.total);
    fprintf(stderr, "%d file%s, %s, in %s\n", c.n, c.n == 1 ? "" : "s", sz, models);
    return 0;
}

/* ---- the download ---------------------------------------------------------------- */

typedef struct job {
    const char *out_dir;   /* -o, or NULL for the cache */
    const char *sha256;    /* --sha256 */
    bool force;
    int retries;
    tg__progress_mode progress;
} job;

/* A file name taken from a URL or a listing is safe to create in a directory
 * we chose: one component, not hidden, no control bytes. */
static bool safe_file_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 250 || s[0] == '.' || strchr(s, '/'))
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
            return false;
    return true;
}

/* If dest is already there: true (and the exit code in *rc) when nothing
 * needs downloading. */
static bool already_there(const char *dest, const char *want_sha, const job *j, int *rc) {
    struct stat s;
    if (j->force || stat(dest, &s) != 0 || !S_ISREG(s.st_mode))
        return false;
    if (!want_sha) {
        fprintf(stderr, "%s is already there (no published hash to compare; --force downloads "
                "it again)\n", dest);
        printf("%s\n", dest);
        *rc = 0;
        return true;
    }
    char have[65];
    if (tg__sha256_file_hex(dest, have) != TG_OK) {
        *rc = tg_cli_fail("pull");
        return true;
    }
    if (strcasecmp(have, want_sha) == 0) {
        fprintf(stderr, "%s is already there and up to date (sha256 %s)\n", dest, have);
        printf("%s\n", dest);
        *rc = 0;
        return true;
    }
    fprintf(stderr, "%s is there but its sha256 differs (%s, want %s): downloading again\n", dest,
            have, want_sha);
    return false;
}

static int fetch(const job *j, const char *url, const char *dest, const char *want_sha,
                 const char *sha_source, uint64_t size, const char *token, const char *label) {
    tg__dl_opts o = {
        .url = url,
        .dest = dest,
        .expected_sha256 = want_sha,
        .sha256_source = sha_source,
        .token = token,
        .expected_size = size,
        .retries = j->retries,
        .progress = j->progress,
        .label = label,
    };
    tg__dl_result r;
    install_signals();
    tg_status st = tg__download(&o, &r);
    if (st != TG_OK) {
        tg_cli_fail("pull");
        return r.interrupted ? 130 : 1;
    }
    char sz[32];
    tg__fmt_bytes(sz, sizeof sz, r.bytes);
    if (j->progress == TG__PROGRESS_NONE)
        ;
    else if (r.verified)
        fprintf(stderr, "%s: %s, sha256 %s verified (from %s)\n", label, sz, r.sha256,
                r.hash_source);
    else
        fprintf(stderr, "%s: %s, sha256 %s (not verified: the server publishes no hash; pass "
                "--sha256 to check one)\n", label, sz, r.sha256);
    printf("%s\n", dest);
    return 0;
}

static int pull_hf(const job *j, const tg__hf_ref *ref) {
    char endpoint[1024], where[200];
    if (tg__hf_endpoint(endpoint, sizeof endpoint) != TG_OK)
        return tg_cli_fail("pull");
    snprintf(where, sizeof where, "%s/%s", ref->org, ref->repo);
    const char *token = getenv("HF_TOKEN");
    if (token && !*token)
        token = NULL;
    const char *tag = ref->quant[0] ? ref->quant : TG__HF_DEFAULT_QUANT;
    if (j->progress != TG__PROGRESS_NONE)
        fprintf(stderr, "pulling %s:%s from %s\n", where, tag, endpoint);

    tg__hf_list list = {0};
    install_signals();
    if (tg__hf_list_repo(endpoint, ref, token, &list) != TG_OK) {
        tg__hf_list_free(&list);
        return tg_cli_fail("pull");
    }
    const char **names = calloc(list.n ? list.n : 1, sizeof *names);
    if (!names) {
        tg__hf_list_free(&list);
        fputs("tinglado: pull: out of memory\n", stderr);
        return 1;
    }
    for (size_t i = 0; i < list.n; i++)
        names[i] = list.files[i].path;
    size_t k = 0;
    tg_status st = tg__pick_gguf(names, list.n, ref->quant, where, &k);
    free(names);
    if (st != TG_OK) {
        tg__hf_list_free(&list);
        return tg_cli_fail("pull");
    }
    const tg__hf_file *f = &list.files[k];
    const char *base = strrchr(f->path, '/') ? strrchr(f->path, '/') + 1 : f->path;

    int rc = 1;
    char dir[PATH_CAP], dest[PATH_CAP];
    char *url = NULL, *esc = NULL;
    const char *want = f->sha256[0] ? f->sha256 : NULL;
    if (j->sha256 && want && strcasecmp(j->sha256, want) != 0) {
        fprintf(stderr, "tinglado: pull: the hub lists sha256 %s for %s, but --sha256 says %s\n",
                want, f->path, j->sha256);
        goto out;
    }
    if (j->sha256)
        want = j->sha256;
    if (!safe_file_name(base)) {
        fprintf(stderr, "tinglado: pull: %s: the hub's file name '%s' is not usable here\n",
                where, base);
        goto out;
    }
    st = j->out_dir ? (snprintf(dir, sizeof dir, "%s", j->out_dir) < (int)sizeof dir ? TG_OK
                                                                                       : TG_ERR_RANGE)
                    : tg__cache_hf_dir(ref->org, ref->repo, dir, sizeof dir);
    if (st == TG_OK)
        st = tg__mkdirs(dir);
    if (st != TG_OK) {
        rc = tg_cli_fail("pull");
        goto out;
    }
    if ((size_t)snprintf(dest, sizeof dest, "%s/%s", dir, base) >= sizeof dest) {
        fputs("tinglado: pull: destination path too long\n", stderr);
        goto out;
    }
    if (already_there(dest, want, j, &rc))
        goto out;
    esc = tg__url_escape_path(f->path);
    size_t n = strlen(endpoint) + strlen(where) + (esc ? strlen(esc) : 0) + 32;
    url = esc ? malloc(n) : NULL;
    if (!url) {
        fputs("tinglado: pull: out of memory\n", stderr);
        goto out;
    }
    snprintf(url, n, "%s/%s/resolve/%s/%s", endpoint, where, TG__HF_REVISION, esc);
    if (j->progress != TG__PROGRESS_NONE) {
        char sz[32];
        tg__fmt_bytes(sz, sizeof sz, f->size);
        fprintf(stderr, "%s: %s (%s)\n", where, f->path, f->size ? sz : "size unknown");
    }
    rc = fetch(j, url, dest, want, j->sha256 ? "--sha256" : "the hub's file listing", f->size,
               token, base);
    if (rc == 0 && !j->out_dir && j->progress != TG__PROGRESS_NONE)
        fprintf(stderr, "use it as: tinglado run -m %s%s%s\n", where, ref->quant[0] ? ":" : "",
                ref->quant);
out:
    free(url);
    free(esc);
    tg__hf_list_free(&list);
    return rc;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int pull_url(const job *j, const char *url) {
    /* The file name is the URL's last path segment, percent-decoded. */
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *path = strchr(p, '/');
    const char *end = path ? path + strcspn(path, "?#") : NULL;
    char name[256] = "";
    size_t k = 0;
    if (path) {
        const char *seg = end;
        while (seg > path && seg[-1] != '/')
            seg--;
        for (const char *q = seg; q < end && k + 1 < sizeof name; q++) {
            if (*q == '%' && end - q >= 3 && hexval(q[1]) >= 0 && hexval(q[2]) >= 0) {
                name[k++] = (char)(hexval(q[1]) * 16 + hexval(q[2]));
                q += 2;
            } else {
                name[k++] = *q;
            }
        }
        name[k] = '\0';
    }
    if (!safe_file_name(name) || strlen(name) != k) { /* k differs after a "%00" */
        fprintf(stderr, "tinglado: pull: cannot take a file name from %s (it should end in "
                "/NAME.gguf)\n", url);
        return 1;
    }
    size_t nlen = strlen(name);
    if (nlen < 5 || strcasecmp(name + nlen - 5, ".gguf") != 0)
        fprintf(stderr, "tinglado: pull: warning: %s does not end in .gguf\n", name);

    char dir[PATH_CAP], dest[PATH_CAP];
    tg_status st = j->out_dir ? (snprintf(dir, sizeof dir, "%s", j->out_dir) < (int)sizeof dir
                                     ? TG_OK
                                     : TG_ERR_RANGE)
                              : tg__cache_models_dir(dir, sizeof dir);
    if (st == TG_OK)
        st = tg__mkdirs(dir);
    if (st != TG_OK)
        return tg_cli_fail("pull");
    if ((size_t)snprintf(dest, sizeof dest, "%s/%s", dir, name) >= sizeof dest) {
        fputs("tinglado: pull: destination path too long\n", stderr);
        return 1;
    }
    /* The token goes only to the hub itself (its resolve/ links are URLs too). */
    char endpoint[1024];
    const char *token = getenv("HF_TOKEN");
    if (!token || !*token || tg__hf_endpoint(endpoint, sizeof endpoint) != TG_OK ||
        strncmp(url, endpoint, strlen(endpoint)) != 0 || url[strlen(endpoint)] != '/')
        token = NULL;
    int rc;
    if (already_there(dest, j->sha256, j, &rc))
        return rc;
    return fetch(j, url, dest, j->sha256, "--sha256", 0, token, name);
}

int tg_cli_pull(int argc, char **argv) {
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"sha256", required_argument, NULL, 's'},
        {"force", no_argument, NULL, 'f'},
        {"retries", required_argument, NULL, 'r'},
        {"quiet", no_argument, NULL, 'q'},
        {"list", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    job j = {.retries = DEFAULT_RETRIES, .progress = TG__PROGRESS_AUTO};
    bool list = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': j.out_dir = optarg; break;
        case 's':
            if (!tg__is_sha256_hex(optarg)) {
                fprintf(stderr, "tinglado pull: --sha256 wants 64 hex digits, not '%s'\n", optarg);
                return 2;
            }
            j.sha256 = optarg;
            break;
        case 'f': j.force = true; break;
        case 'r': {
            char *e;
            long v = strtol(optarg, &e, 10);
            if (*optarg == '\0' || *e || v < 0 || v > 100) {
                fprintf(stderr, "tinglado pull: --retries wants a number from 0 to 100\n");
                return 2;
            }
            j.retries = (int)v;
            break;
        }
        case 'q': j.progress = TG__PROGRESS_NONE; break;
        case 'l': list = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (list) {
        if (optind != argc) {
            usage(stderr);
            return 2;
        }
        return list_models();
    }
    if (optind + 1 != argc) {
        fputs("tinglado pull: give one SOURCE (ORG/REPO[:QUANT] or a URL)\n", stderr);
        usage(stderr);
        return 2;
    }
    const char *source = argv[optind];
    if (strncasecmp(source, "https://", 8) == 0 || strncasecmp(source, "http://", 7) == 0)
        return pull_url(&j, source);
    tg__hf_ref ref;
    if (tg__hf_parse_ref(source, &ref) != TG_OK) {
        tg_cli_fail("pull");
        return 2;
    }
    return pull_hf(&j, &ref);
}
