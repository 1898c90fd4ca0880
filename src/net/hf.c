/*
 * hf.c — Hugging Face hub names, listings and the choice of a .gguf file.
 *
 * The flow `tinglado pull org/repo:Q8_0` follows is the one llama.cpp's -hf
 * and Ollama's hf.co/ names offer users: list the repository's files through
 * the hub's JSON API, take the .gguf whose name carries the quantization tag
 * (Q4_K_M when none is given), download it from {endpoint}/{repo}/resolve/main/.
 * The listing also gives each LFS file's sha256, which the download checks.
 *
 * Listings are untrusted JSON (parsed with jansson): every field is type- and
 * range-checked, paths with NUL bytes, ".." or a leading '/' are refused.
 */
#include "net/hf.h"

#include "net/download.h"

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_LISTING_BYTES (64u << 20)
#define MAX_LISTING_PAGES 100
#define MAX_LISTING_FILES 200000
#define MAX_PATH_LEN 1024

/* ---- names ------------------------------------------------------------------ */

static bool name_char(char c) {
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/* Copies one name part [p, p+n) if it is in the hub's alphabet. */
static bool take_part(const char *p, size_t n, char *out, size_t cap) {
    if (n == 0 || n >= cap || p[0] == '.' || p[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!name_char(p[i]))
            return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

tg_status tg__hf_parse_ref(const char *s, tg__hf_ref *out) {
    *out = (tg__hf_ref){0};
    if (!s)
        return tg__fail(TG_ERR_ARG, "no model name");
    const char *name = s;
    static const char *const prefixes[] = {"hf.co/", "huggingface.co/"};
    for (size_t i = 0; i < TG_ARRAY_LEN(prefixes); i++)
        if (strncasecmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            name += strlen(prefixes[i]);
    const char *slash = strchr(name, '/');
    const char *colon = strchr(name, ':');
    if (!slash || (colon && colon < slash))
        return tg__fail(TG_ERR_ARG, "'%s' is not a hub name ORG/REPO[:QUANT]", s);
    const char *repo = slash + 1;
    size_t repo_len = colon ? (size_t)(colon - repo) : strlen(repo);
    if (!take_part(name, (size_t)(slash - name), out->org, sizeof out->org) ||
        !take_part(repo, repo_len, out->repo, sizeof out->repo))
        return tg__fail(TG_ERR_ARG,
                        "'%s' is not a hub name ORG/REPO[:QUANT] (names use letters, digits, "
                        "'-', '_' and '.')",
                        s);
    if (colon && !take_part(colon + 1, strlen(colon + 1), out->quant, sizeof out->quant))
        return tg__fail(TG_ERR_ARG, "'%s': bad quantization tag after ':'", s);
    return TG_OK;
}

/* ---- listings ----------------------------------------------------------------- */

void tg__hf_list_free(tg__hf_list *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->files[i].path);
    free(l->files);
    *l = (tg__hf_list){0};
}

/* A JSON size: a non-negative integer, else 0. */
static uint64_t json_size(const json_t *v) {
    if (!json_is_integer(v))
        return 0;
    json_int_t i = json_integer_value(v);
    return i > 0 ? (uint64_t)i : 0;
}

static bool safe_repo_path(const char *p, size_t len) {
    if (len == 0 || len > MAX_PATH_LEN || strlen(p) != len || p[0] == '/')
        return false;
    for (const char *q = p; *q;) {
        const char *e = strchr(q, '/');
        size_t n = e ? (size_t)(e - q) : strlen(q);
        if (n == 0 || (n == 1 && q[0] == '.') || (n == 2 && q[0] == '.' && q[1] == '.'))
            return false;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)q[i] < 0x20 || q[i] == 0x7f || q[i] == '\\')
                return false;
        q = e ? e + 1 : q + n;
    }
    return true;
}

/* Adds one entry; *skip is set for entries that are not plain files. */
static tg_status add_entry(tg__hf_list *out, const json_t *path, const json_t *size,
                           const json_t *lfs, const char *hash_key, const char *what) {
    if (!json_is_string(path))
        return tg__fail(TG_ERR_FORMAT, "%s: a file entry has no path", what);
    const char *p = json_string_value(path);
    if (!safe_repo_path(p, json_string_length(path)))
        return tg__fail(TG_ERR_FORMAT, "%s: unsafe or malformed file path in the listing", what);
    if (out->n >= MAX_LISTING_FILES)
        return tg__fail(TG_ERR_RANGE, "%s: more than %d files", what, MAX_LISTING_FILES);
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 64;
        tg__hf_file *f = tg__realloc(out->files, cap * sizeof *f);
        if (!f)
            return TG_ERR_NOMEM;
        out->files = f;
        out->cap = cap;
    }
    tg__hf_file *f = &out->files[out->n];
    *f = (tg__hf_file){0};
    f->size = json_size(size);
    if (json_is_object(lfs)) {
        const json_t *h = json_object_get(lfs, hash_key);
        if (json_is_string(h)) {
            const char *hv = json_string_value(h);
            if (strncmp(hv, "sha256:", 7) == 0)
                hv += 7;
            if (tg__is_sha256_hex(hv))
                for (int i = 0; i <= 64; i++)
                    f->sha256[i] = (char)tolower((unsigned char)hv[i]);
        }
        uint64_t ls = json_size(json_object_get(lfs, "size"));
        if (ls)
            f->size = ls;
    }
    f->path = strdup(p);
    if (!f->path)
        return tg__fail(TG_ERR_NOMEM, "out of memory");
    out->n++;
    return TG_OK;
}

tg_status tg__hf_parse_listing(const char *text, size_t len, const char *what, tg__hf_list *out) {
    json_error_t err;
    json_t *root = json_loadb(text, len, 0, &err);
    if (!root)
        return tg__fail(TG_ERR_FORMAT, "%s: the file listing is not valid JSON (line %d: %s)",
                        what, err.line, err.text);
    tg_status st = TG_OK;
    const json_t *arr = root;
    bool tree = true;
    if (json_is_object(root)) {
        arr = json_object_get(root, "siblings");
        tree = false;
    }
    if (!json_is_array(arr)) {
        st = tg__fail(TG_ERR_FORMAT, "%s: the file listing is neither a list of files nor an "
                      "object with \"siblings\"", what);
        goto out;
    }
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e) {
        if (!json_is_object(e)) {
            st = tg__fail(TG_ERR_FORMAT, "%s: file entry %zu is not an object", what, i);
            break;
        }
        if (tree) {
            const json_t *type = json_object_get(e, "type");
            if (json_is_string(type) && strcmp(json_string_value(type), "file") != 0)
                continue; /* a directory: recursive listings also give its files */
            st = add_entry(out, json_object_get(e, "path"), json_object_get(e, "size"),
                           json_object_get(e, "lfs"), "oid", what);
        } else {
            st = add_entry(out, json_object_get(e, "rfilename"), json_object_get(e, "size"),
                           json_object_get(e, "lfs"), "sha256", what);
        }
        if (st != TG_OK)
            break;
    }
out:
    json_decref(root);
    return st;
}

/* ---- choosing a file -------------------------------------------------------------- */

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static bool ends_with_ci(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static bool word_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

int tg__quant_match(const char *name, const char *tag) {
    const char *b = base_name(name);
    size_t n = strlen(b), m = strlen(tag);
    if (m == 0 || m > n)
        return 0;
    if (strcasecmp(b, tag) == 0)
        return 4;
    int best = 0;
    for (size_t i = 0; i + m <= n; i++) {
        if (strncasecmp(b + i, tag, m) != 0)
            continue;
        int score = 1;
        bool left = i == 0 || !word_char(b[i - 1]);
        bool right = i + m == n || !word_char(b[i + m]);
        if (left && right)
            score = strcasecmp(b + i + m, ".gguf") == 0 ? 3 : 2;
        if (score > best)
            best = score;
    }
    return best;
}

bool tg__gguf_is_shard(const char *name, unsigned *part, unsigned *count) {
    const char *b = base_name(name);
    size_t n = strlen(b);
    /* "-00001-of-00003.gguf" is 20 characters. */
    if (n < 20 || !ends_with_ci(b, ".gguf"))
        return false;
    const char *s = b + n - 20;
    if (s[0] != '-' || strncmp(s + 6, "-of-", 4) != 0)
        return false;
    unsigned p = 0, c = 0;
    for (int i = 0; i < 5; i++) {
        if (!isdigit((unsigned char)s[1 + i]) || !isdigit((unsigned char)s[10 + i]))
            return false;
        p = p * 10 + (unsigned)(s[1 + i] - '0');
        c = c * 10 + (unsigned)(s[10 + i] - '0');
    }
    if (p == 0 || c == 0 || p > c)
        return false;
    if (part) *part = p;
    if (count) *count = c;
    return true;
}

void tg__quant_of(const char *name, char *out, size_t cap) {
    if (cap == 0)
        return;
    const char *b = base_name(name);
    size_t n = strlen(b);
    if (ends_with_ci(b, ".gguf"))
        n -= 5;
    if (tg__gguf_is_shard(b, NULL, NULL))
        n -= 15; /* "-00001-of-00003" */
    size_t start = 0;
    for (size_t i = 0; i < n; i++)
        if (b[i] == '-' || b[i] == '.')
            start = i + 1;
    if (start == n) /* a name ending in a separator: show the whole stem */
        start = 0;
    snprintf(out, cap, "%.*s", (int)(n - start), b + start);
}

static bool is_model_file(const char *name) {
    const char *b = base_name(name);
    if (!ends_with_ci(b, ".gguf"))
        return false;
    /* Vision projectors sit beside the models in multimodal repositories. */
    for (const char *p = b; *p; p++)
        if (strncasecmp(p, "mmproj", 6) == 0)
            return false;
    return true;
}

/* Appends "a, b, c" of the distinct quantization tags among the model files
 * (split ones marked) to msg. */
static void list_quants(const char *const *names, size_t n, char *msg, size_t cap) {
    size_t used = strlen(msg);
    int shown = 0;
    for (size_t i = 0; i < n && used + 1 < cap; i++) {
        if (!is_model_file(names[i]))
            continue;
        unsigned part = 0, count = 0;
        bool shard = tg__gguf_is_shard(names[i], &part, &count);
        if (shard && part != 1)
            continue;
        char q[128];
        tg__quant_of(names[i], q, sizeof q);
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++) {
            char q2[128];
            if (!is_model_file(names[j]))
                continue;
            tg__quant_of(names[j], q2, sizeof q2);
            dup = strcasecmp(q, q2) == 0 &&
                  tg__gguf_is_shard(names[j], NULL, NULL) == shard;
        }
        if (dup)
            continue;
        int w = snprintf(msg + used, cap - used, "%s%s%s", shown ? ", " : "", q,
                         shard ? " (split)" : "");
        if (w < 0)
            break;
        used += (size_t)w;
        if (used >= cap)
            used = cap - 1;
        shown++;
    }
}

tg_status tg__pick_gguf(const char *const *names, size_t n, const char *tag, const char *where,
                        size_t *index) {
    bool given = tag && *tag;
    const char *t = given ? tag : TG__HF_DEFAULT_QUANT;
    size_t n_models = 0, only = 0;
    int best = 0, best_shard = 0;
    size_t shard_hit = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_model_file(names[i]))
            continue;
        int s = tg__quant_match(names[i], t);
        if (tg__gguf_is_shard(names[i], NULL, NULL)) {
            if (s > best_shard) {
                best_shard = s;
                shard_hit = i;
            }
            continue;
        }
        n_models++;
        only = i;
        if (s > best)
            best = s;
    }
    if (best > 0) {
        size_t hits = 0, hit = 0;
        for (size_t i = 0; i < n; i++)
            if (is_model_file(names[i]) && !tg__gguf_is_shard(names[i], NULL, NULL) &&
                tg__quant_match(names[i], t) == best) {
                if (!hits)
                    hit = i;
                hits++;
            }
        if (hits == 1) {
            *index = hit;
            return TG_OK;
        }
        char msg[1024];
        int used = snprintf(msg, sizeof msg, "%s: '%s' matches %zu files:", where, t, hits);
        for (size_t i = 0; i < n && used > 0 && (size_t)used < sizeof msg; i++)
            if (is_model_file(names[i]) && !tg__gguf_is_shard(names[i], NULL, NULL) &&
                tg__quant_match(names[i], t) == best)
                used += snprintf(msg + used, sizeof msg - (size_t)used, " %s", base_name(names[i]));
        return tg__fail(TG_ERR_ARG, "%s; name one exactly, as %s:FILE.gguf", msg, where);
    }
    if (best_shard > 0) {
        unsigned count = 0;
        tg__gguf_is_shard(names[shard_hit], NULL, &count);
        return tg__fail(TG_ERR_UNSUPPORTED,
                        "%s: the %s model is split into %u files (%s, …); tinglado cannot load "
                        "split GGUF files yet",
                        where, t, count, base_name(names[shard_hit]));
    }
    if (!given && n_models == 1) {
        *index = only;
        return TG_OK;
    }
    if (n_models == 0 && !best_shard) {
        char msg[1024] = "";
        list_quants(names, n, msg, sizeof msg);
        if (msg[0])
            return tg__fail(TG_ERR_NOT_FOUND, "%s: no %s file; there are only split models: %s",
                            where, t, msg);
        return tg__fail(TG_ERR_NOT_FOUND, "%s has no .gguf model file", where);
    }
    char msg[1024] = "";
    list_quants(names, n, msg, sizeof msg);
    return tg__fail(TG_ERR_NOT_FOUND, "%s: no %s file; available: %s (pick one with %s:QUANT)",
                    where, t, msg, where);
}

/* ---- the hub's API ------------------------------------------------------------------ */

tg_status tg__hf_endpoint(char *out, size_t cap) {
    const char *e = getenv("HF_ENDPOINT");
    if (!e || !*e)
        e = TG__HF_DEFAULT_ENDPOINT;
    if (strncasecmp(e, "http://", 7) != 0 && strncasecmp(e, "https://", 8) != 0)
        return tg__fail(TG_ERR_ARG, "HF_ENDPOINT '%s' is not an http:// or https:// address", e);
    size_t n = strlen(e);
    while (n > 0 && e[n - 1] == '/')
        n--;
    if (n >= cap)
        return tg__fail(TG_ERR_RANGE, "HF_ENDPOINT is too long");
    memcpy(out, e, n);
    out[n] = '\0';
    return TG_OK;
}

char *tg__url_escape_path(const char *path) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path), cap;
    if (!tg__mul_size(n, 3, &cap) || !tg__add_size(cap, 1, &cap)) {
        tg__fail(TG_ERR_RANGE, "path too long");
        return NULL;
    }
    char *out = tg__malloc(cap), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == '/') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

/* One GET of a listing page; TG_OK with the body, or a message. */
static tg_status get_page(const char *url, const char *token, const char *what, tg__buf *body,
                          tg__http_reply *reply) {
    body->len = 0;
    tg_status st = tg__http_get(url, token, MAX_LISTING_BYTES, body, reply);
    if (st != TG_OK)
        return st;
    if (reply->code != 200)
        return tg__http_fail(what, reply->code, reply->error_code, reply->error_message);
    return TG_OK;
}

tg_status tg__hf_list_repo(const char *endpoint, const tg__hf_ref *ref, const char *token,
                           tg__hf_list *out) {
    char what[200], url[2048];
    snprintf(what, sizeof what, "%s/%s", ref->org, ref->repo);
    snprintf(url, sizeof url, "%s/api/models/%s/%s/tree/%s?recursive=true", endpoint, ref->org,
             ref->repo, TG__HF_REVISION);
    tg__buf body = {0};
    tg__http_reply reply = {0};
    tg_status st = tg__http_get(url, token, MAX_LISTING_BYTES, &body, &reply);
    if (st == TG_OK && reply.code == 404 && !reply.error_code[0]) {
        /* A plain 404 (no hub error code): perhaps a mirror without the tree
         * API.  The model-info call lists the files too. */
        tg__http_reply_free(&reply);
        snprintf(url, sizeof url, "%s/api/models/%s/%s?blobs=true", endpoint, ref->org, ref->repo);
        st = get_page(url, token, what, &body, &reply);
    } else if (st == TG_OK && reply.code != 200) {
        st = tg__http_fail(what, reply.code, reply.error_code, reply.error_message);
    }
    size_t prefix = strlen(endpoint);
    for (int page = 0; st == TG_OK; page++) {
        st = tg__hf_parse_listing((const char *)body.data, body.len, what, out);
        if (st != TG_OK || !reply.next_url)
            break;
        /* Follow pages only on the hub itself: the token goes with them. */
        if (strncmp(reply.next_url, endpoint, prefix) != 0 || reply.next_url[prefix] != '/') {
            st = tg__fail(TG_ERR_FORMAT, "%s: the listing's next page is on another site", what);
            break;
        }
        if (page + 1 >= MAX_LISTING_PAGES) {
            st = tg__fail(TG_ERR_RANGE, "%s: the listing has more than %d pages", what,
                          MAX_LISTING_PAGES);
            break;
        }
        char *next = reply.next_url;
        reply.next_url = NULL;
        tg__http_reply_free(&reply);
        st = get_page(next, token, what, &body, &reply);
        free(next);
    }
    tg__http_reply_free(&reply);
    tg__buf_free(&body);
    return st;
}
