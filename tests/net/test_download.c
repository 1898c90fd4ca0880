/*
 * test_download.c — the parts of `tinglado pull` that need no server: hub
 * names, listing JSON (well-formed, hostile and broken), the choice of a file
 * by quantization tag, URL escaping, HF_ENDPOINT, the cache directory rule,
 * model-name resolution in a scratch cache, HTTP error wording, and a
 * download from a closed port (fails cleanly, leaves no .part).
 * The transfer itself is tested end to end by tests/net/test_pull.py.
 */
#include "net/cache.h"
#include "net/download.h"
#include "net/hf.h"
#include "../test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[256];

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK_MSG(f != NULL, "cannot create %s", path);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static bool exists(const char *path) {
    struct stat s;
    return stat(path, &s) == 0;
}

static void test_parse_ref(void) {
    tg__hf_ref r;
    CHECK_EQ_INT(tg__hf_parse_ref("unsloth/gemma-3-270m-it-GGUF", &r), TG_OK);
    CHECK_EQ_STR(r.org, "unsloth");
    CHECK_EQ_STR(r.repo, "gemma-3-270m-it-GGUF");
    CHECK_EQ_STR(r.quant, "");
    CHECK_EQ_INT(tg__hf_parse_ref("hf.co/bartowski/Qwen2.5-0.5B-Instruct-GGUF:q8_0", &r), TG_OK);
    CHECK_EQ_STR(r.org, "bartowski");
    CHECK_EQ_STR(r.repo, "Qwen2.5-0.5B-Instruct-GGUF");
    CHECK_EQ_STR(r.quant, "q8_0");
    CHECK_EQ_INT(tg__hf_parse_ref("huggingface.co/a/b:x-Q4_K_M.gguf", &r), TG_OK);
    CHECK_EQ_STR(r.quant, "x-Q4_K_M.gguf");

    static const char *const bad[] = {
        "", "gemma", "a/", "/b", "a/b/c", "../x", "a/..", "a/.hidden", "-a/b", "a b/c", "a/b:",
        "a/b:Q4/x", "a/b:..x", "a:b/c", "a/b\n", "a/b:Q4 K",
    };
    for (size_t i = 0; i < TG_ARRAY_LEN(bad); i++) {
        CHECK_MSG(tg__hf_parse_ref(bad[i], &r) == TG_ERR_ARG, "accepted '%s'", bad[i]);
        CHECK(tg_last_error()[0] != '\0');
    }
    char longname[200];
    memset(longname, 'a', sizeof longname);
    longname[99] = '/';
    longname[199] = '\0';
    CHECK_EQ_INT(tg__hf_parse_ref(longname, &r), TG_ERR_ARG); /* parts over 96 chars */
}

static void test_quant_match(void) {
    CHECK_EQ_INT(tg__quant_match("gemma-3-270m-it-Q4_K_M.gguf", "Q4_K_M"), 3);
    CHECK_EQ_INT(tg__quant_match("gemma-3-270m-it-Q4_K_M.gguf", "q4_k_m"), 3);
    CHECK_EQ_INT(tg__quant_match("sub/dir/model.Q8_0.gguf", "Q8_0"), 3);
    CHECK_EQ_INT(tg__quant_match("model-Q4_K_M-imat.gguf", "Q4_K_M"), 2);
    CHECK_EQ_INT(tg__quant_match("model-Q4_K_M.gguf", "Q4_K"), 1); /* followed by '_' */
    CHECK_EQ_INT(tg__quant_match("model-IQ4_XS.gguf", "Q4_XS"), 1); /* preceded by 'I' */
    CHECK_EQ_INT(tg__quant_match("model-Q8_0.gguf", "Q4_K_M"), 0);
    CHECK_EQ_INT(tg__quant_match("model-Q8_0.gguf", "model-q8_0.gguf"), 4);
    CHECK_EQ_INT(tg__quant_match("x", ""), 0);
    CHECK_EQ_INT(tg__quant_match("Q8_0/model-f16.gguf", "Q8_0"), 0); /* only the file name counts */
}

static void test_shards_and_tags(void) {
    unsigned p = 0, c = 0;
    CHECK(tg__gguf_is_shard("big-Q2_K-00001-of-00003.gguf", &p, &c));
    CHECK_EQ_INT(p, 1);
    CHECK_EQ_INT(c, 3);
    CHECK(tg__gguf_is_shard("dir/big-00003-of-00003.GGUF", &p, &c));
    CHECK(!tg__gguf_is_shard("big-00004-of-00003.gguf", NULL, NULL));
    CHECK(!tg__gguf_is_shard("big-00000-of-00003.gguf", NULL, NULL));
    CHECK(!tg__gguf_is_shard("big-0001-of-0003.gguf", NULL, NULL));
    CHECK(!tg__gguf_is_shard("00001-of-00003.gguf", NULL, NULL));
    CHECK(!tg__gguf_is_shard("model-Q8_0.gguf", NULL, NULL));

    char q[64];
    tg__quant_of("gemma-3-270m-it-Q4_K_M.gguf", q, sizeof q);
    CHECK_EQ_STR(q, "Q4_K_M");
    tg__quant_of("tinyllama-1.1b-chat-v1.0.Q5_K_S.gguf", q, sizeof q);
    CHECK_EQ_STR(q, "Q5_K_S");
    tg__quant_of("dir/big-Q2_K-00001-of-00003.gguf", q, sizeof q);
    CHECK_EQ_STR(q, "Q2_K");
    tg__quant_of("model.gguf", q, sizeof q);
    CHECK_EQ_STR(q, "model");
    tg__quant_of("odd-.gguf", q, sizeof q);
    CHECK_EQ_STR(q, "odd-");
    tg__quant_of("x-Q8_0.gguf", q, 3); /* truncates, stays terminated */
    CHECK_EQ_STR(q, "Q8");
}

static void test_pick(void) {
    static const char *const repo[] = {
        "README.md",
        "mmproj-model-F16.gguf",
        "model-F16.gguf",
        "model-Q4_K_M.gguf",
        "model-Q4_K_S.gguf",
        "model-Q8_0.gguf",
        "model-IQ4_XS.gguf",
        "Q2_K/model-Q2_K-00001-of-00002.gguf",
        "Q2_K/model-Q2_K-00002-of-00002.gguf",
    };
    size_t n = TG_ARRAY_LEN(repo), i = 99;
    CHECK_EQ_INT(tg__pick_gguf(repo, n, NULL, "o/r", &i), TG_OK);
    CHECK_EQ_STR(repo[i], "model-Q4_K_M.gguf");
    CHECK_EQ_INT(tg__pick_gguf(repo, n, "q8_0", "o/r", &i), TG_OK);
    CHECK_EQ_STR(repo[i], "model-Q8_0.gguf");
    CHECK_EQ_INT(tg__pick_gguf(repo, n, "F16", "o/r", &i), TG_OK); /* not the mmproj */
    CHECK_EQ_STR(repo[i], "model-F16.gguf");
    CHECK_EQ_INT(tg__pick_gguf(repo, n, "IQ4_XS", "o/r", &i), TG_OK);
    CHECK_EQ_STR(repo[i], "model-IQ4_XS.gguf");
    CHECK_EQ_INT(tg__pick_gguf(repo, n, "model-Q4_K_S.gguf", "o/r", &i), TG_OK);
    CHECK_EQ_STR(repo[i], "model-Q4_K_S.gguf");

    /* "Q4_K" is a substring of two names: ambiguous, both named. */
    CHECK_EQ_INT(tg__pick_gguf(repo, n, "Q4_K", "o/r", &i), TG_ERR_ARG);
    CHECK_ERROR_HAS("model-Q4_K_M.gguf");
    CHECK_ERROR_HAS("model-Q4_K_S.gguf");
    /* Only split files carry it. */
    CHECK_EQ_INT(tg__pick_gguf(repo, n, "Q2_K", "o/r", &i), TG_ERR_UNSUPPORTED);
    CHECK_ERROR_HAS("split into 2 files");
    /* Missing: the message lists what there is, and not the projector. */
    CHECK_EQ_INT(tg__pick_gguf(repo, n, "Q5_K_M", "o/r", &i), TG_ERR_NOT_FOUND);
    CHECK_ERROR_HAS("no Q5_K_M file");
    CHECK_ERROR_HAS("available: F16, Q4_K_M, Q4_K_S, Q8_0, IQ4_XS, Q2_K (split)");
    CHECK_ERROR_HAS("o/r:QUANT");

    /* A repository with one model file: no tag takes it; a wrong tag does not. */
    static const char *const one[] = {"notes.txt", "only-BF16.gguf", "mmproj-x.gguf"};
    CHECK_EQ_INT(tg__pick_gguf(one, 3, NULL, "o/one", &i), TG_OK);
    CHECK_EQ_STR(one[i], "only-BF16.gguf");
    CHECK_EQ_INT(tg__pick_gguf(one, 3, "Q8_0", "o/one", &i), TG_ERR_NOT_FOUND);
    CHECK_ERROR_HAS("available: BF16");

    static const char *const none[] = {"README.md", "config.json"};
    CHECK_EQ_INT(tg__pick_gguf(none, 2, NULL, "o/none", &i), TG_ERR_NOT_FOUND);
    CHECK_ERROR_HAS("has no .gguf model file");
    CHECK_EQ_INT(tg__pick_gguf(NULL, 0, NULL, "o/empty", &i), TG_ERR_NOT_FOUND);

    /* Whole-word beats substring: "model-Q4_K_M-imat" and "model-Q4_K_M" →
     * the one where the tag ends the name wins. */
    static const char *const imat[] = {"m-Q4_K_M-imat.gguf", "m-Q4_K_M.gguf"};
    CHECK_EQ_INT(tg__pick_gguf(imat, 2, NULL, "o/i", &i), TG_OK);
    CHECK_EQ_INT(i, 1);
}

static const char tree_json[] =
    "[{\"type\":\"file\",\"oid\":\"1111111111111111111111111111111111111111\",\"size\":1519,"
    "\"path\":\"README.md\"},"
    "{\"type\":\"directory\",\"oid\":\"x\",\"size\":0,\"path\":\"Q2_K\"},"
    "{\"type\":\"file\",\"oid\":\"2222222222222222222222222222222222222222\",\"size\":253114368,"
    "\"lfs\":{\"oid\":\"A5FD3B62230AA5EC60212297DC9D20EAA70578AC519E00D93A17E44C087A6818\","
    "\"size\":253114368,\"pointerSize\":135},\"path\":\"gemma-3-270m-it-Q4_K_M.gguf\"},"
    "{\"type\":\"file\",\"oid\":\"3\",\"size\":5,\"path\":\"Q2_K/x-00001-of-00002.gguf\","
    "\"lfs\":{\"oid\":\"sha256:bd0e2d5fdcdafd9b3ff2de8fcb20c71f0b0c7c6d2ed5e30e9e4bd2bd8a8b1c1a\","
    "\"size\":5}}]";

static const char info_json[] =
    "{\"id\":\"o/r\",\"siblings\":[{\"rfilename\":\"README.md\"},"
    "{\"rfilename\":\"m-Q8_0.gguf\",\"size\":42,\"lfs\":{\"sha256\":"
    "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"size\":42,"
    "\"pointerSize\":130}}]}";

static void test_listing(void) {
    tg__hf_list l = {0};
    CHECK_EQ_INT(tg__hf_parse_listing(tree_json, strlen(tree_json), "o/r", &l), TG_OK);
    CHECK_EQ_INT(l.n, 3);
    if (l.n == 3) {
        CHECK_EQ_STR(l.files[0].path, "README.md");
        CHECK_EQ_STR(l.files[0].sha256, "");
        CHECK_EQ_INT(l.files[0].size, 1519);
        CHECK_EQ_STR(l.files[1].path, "gemma-3-270m-it-Q4_K_M.gguf");
        CHECK_EQ_STR(l.files[1].sha256,
                     "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818");
        CHECK_EQ_INT(l.files[1].size, 253114368);
        CHECK_EQ_STR(l.files[2].sha256,
                     "bd0e2d5fdcdafd9b3ff2de8fcb20c71f0b0c7c6d2ed5e30e9e4bd2bd8a8b1c1a");
    }
    tg__hf_list_free(&l);

    CHECK_EQ_INT(tg__hf_parse_listing(info_json, strlen(info_json), "o/r", &l), TG_OK);
    CHECK_EQ_INT(l.n, 2);
    if (l.n == 2) {
        CHECK_EQ_STR(l.files[1].path, "m-Q8_0.gguf");
        CHECK_EQ_INT(l.files[1].size, 42);
        CHECK_EQ_STR(l.files[1].sha256,
                     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    }
    tg__hf_list_free(&l);

    /* Odd but harmless values: a short hash, a negative size, a non-object lfs. */
    const char *odd = "[{\"type\":\"file\",\"path\":\"a.gguf\",\"size\":-5,"
                      "\"lfs\":{\"oid\":\"abc\",\"size\":\"big\"}},"
                      "{\"type\":\"file\",\"path\":\"b.gguf\",\"lfs\":7}]";
    CHECK_EQ_INT(tg__hf_parse_listing(odd, strlen(odd), "o/r", &l), TG_OK);
    CHECK_EQ_INT(l.n, 2);
    if (l.n == 2) {
        CHECK_EQ_INT(l.files[0].size, 0);
        CHECK_EQ_STR(l.files[0].sha256, "");
    }
    tg__hf_list_free(&l);

    static const char *const bad[] = {
        "",
        "nope",
        "[{\"type\":\"file\",\"path\":\"a.gguf\"}",
        "{\"id\":\"x\"}",
        "42",
        "[1]",
        "[{\"type\":\"file\"}]",
        "[{\"type\":\"file\",\"path\":17}]",
        "[{\"type\":\"file\",\"path\":\"../../etc/passwd\"}]",
        "[{\"type\":\"file\",\"path\":\"/abs.gguf\"}]",
        "[{\"type\":\"file\",\"path\":\"a/./b.gguf\"}]",
        "[{\"type\":\"file\",\"path\":\"a//b.gguf\"}]",
        "[{\"type\":\"file\",\"path\":\"nul\\u0000.gguf\"}]",
        "[{\"type\":\"file\",\"path\":\"esc\\u001b[2J.gguf\"}]",
        "[{\"type\":\"file\",\"path\":\"\"}]",
    };
    for (size_t i = 0; i < TG_ARRAY_LEN(bad); i++) {
        tg_status st = tg__hf_parse_listing(bad[i], strlen(bad[i]), "o/r", &l);
        CHECK_MSG(st == TG_ERR_FORMAT, "listing %zu accepted (status %d)", i, (int)st);
        CHECK(strstr(tg_last_error(), "o/r") != NULL);
        tg__hf_list_free(&l);
    }
    /* Deep nesting is refused by the parser, not by a stack overflow. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    if (deep) {
        memset(deep, '[', depth);
        memset(deep + depth, ']', depth);
        deep[2 * depth] = '\0';
        CHECK_EQ_INT(tg__hf_parse_listing(deep, 2 * depth, "o/r", &l), TG_ERR_FORMAT);
        tg__hf_list_free(&l);
        free(deep);
    }
}

static void test_url_and_endpoint(void) {
    char *e = tg__url_escape_path("Q4_K_M/my model+v1 (ü).gguf");
    CHECK_EQ_STR(e, "Q4_K_M/my%20model%2Bv1%20%28%C3%BC%29.gguf");
    free(e);
    e = tg__url_escape_path("plain-Q8_0.gguf");
    CHECK_EQ_STR(e, "plain-Q8_0.gguf");
    free(e);

    char ep[256];
    unsetenv("HF_ENDPOINT");
    CHECK_EQ_INT(tg__hf_endpoint(ep, sizeof ep), TG_OK);
    CHECK_EQ_STR(ep, "https://huggingface.co");
    setenv("HF_ENDPOINT", "http://127.0.0.1:8080//", 1);
    CHECK_EQ_INT(tg__hf_endpoint(ep, sizeof ep), TG_OK);
    CHECK_EQ_STR(ep, "http://127.0.0.1:8080");
    setenv("HF_ENDPOINT", "ftp://mirror", 1);
    CHECK_EQ_INT(tg__hf_endpoint(ep, sizeof ep), TG_ERR_ARG);
    CHECK_ERROR_HAS("HF_ENDPOINT");
    setenv("HF_ENDPOINT", "", 1);
    CHECK_EQ_INT(tg__hf_endpoint(ep, sizeof ep), TG_OK);
    CHECK_EQ_STR(ep, "https://huggingface.co");
    unsetenv("HF_ENDPOINT");

    CHECK(tg__is_sha256_hex("a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"));
    CHECK(tg__is_sha256_hex("A5FD3B62230AA5EC60212297DC9D20EAA70578AC519E00D93A17E44C087A6818"));
    CHECK(!tg__is_sha256_hex("a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a681"));
    CHECK(!tg__is_sha256_hex("g5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"));
    CHECK(!tg__is_sha256_hex(NULL));
}

static void test_http_messages(void) {
    tg__http_fail("o/r", 404, "", "");
    CHECK_ERROR_HAS("no such repository or file");
    CHECK_EQ_INT(tg__http_fail("o/r", 401, "RepoNotFound", "Repository not found"),
                 TG_ERR_NOT_FOUND);
    CHECK_ERROR_HAS("no such repository");
    CHECK_ERROR_HAS("Repository not found");
    tg__http_fail("o/r", 401, "", "");
    CHECK_ERROR_HAS("needs a token (HF_TOKEN)");
    tg__http_fail("o/r", 403, "", "");
    CHECK_ERROR_HAS("needs a token (HF_TOKEN)");
    tg__http_fail("o/r", 403, "GatedRepo", "");
    CHECK_ERROR_HAS("gated");
    tg__http_fail("o/r", 404, "EntryNotFound", "");
    CHECK_ERROR_HAS("no such file");
    tg__http_fail("o/r", 503, "", "");
    CHECK_ERROR_HAS("server error (HTTP 503)");
}

static void test_cache_dir(void) {
    char d[512];
    setenv("TINGLADO_CACHE", "/tmp/tc/", 1);
    setenv("XDG_CACHE_HOME", "/tmp/xdg", 1);
    setenv("HOME", "/tmp/home", 1);
    CHECK_EQ_INT(tg__cache_dir(d, sizeof d), TG_OK);
    CHECK_EQ_STR(d, "/tmp/tc");
    unsetenv("TINGLADO_CACHE");
    CHECK_EQ_INT(tg__cache_dir(d, sizeof d), TG_OK);
    CHECK_EQ_STR(d, "/tmp/xdg/tinglado");
    setenv("XDG_CACHE_HOME", "", 1); /* empty counts as unset, as in the shell rule */
    CHECK_EQ_INT(tg__cache_dir(d, sizeof d), TG_OK);
    CHECK_EQ_STR(d, "/tmp/home/.cache/tinglado");
    CHECK_EQ_INT(tg__cache_models_dir(d, sizeof d), TG_OK);
    CHECK_EQ_STR(d, "/tmp/home/.cache/tinglado/models");
    CHECK_EQ_INT(tg__cache_dir(d, 8), TG_ERR_RANGE);
    unsetenv("XDG_CACHE_HOME");
}

typedef struct seen {
    char names[16][256];
    int n, partial;
} seen;

static void collect(void *ctx, const char *name, const char *path, uint64_t size, bool partial) {
    seen *s = ctx;
    if (s->n < 16)
        snprintf(s->names[s->n++], 256, "%s", name);
    s->partial += partial;
}

static bool seen_has(const seen *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name))
            return true;
    return false;
}

static void test_resolve(void) {
    char cache[300], p[600], out[1024], want[700];
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    setenv("TINGLADO_CACHE", cache, 1);
    snprintf(p, sizeof p, "%s/models/hf/Org/Repo-GGUF", cache);
    CHECK_EQ_INT(tg__mkdirs(p), TG_OK);
    CHECK_EQ_INT(tg__mkdirs(p), TG_OK); /* again: already there is fine */
    snprintf(p, sizeof p, "%s/models/hf/Org/Repo-GGUF/m-Q8_0.gguf", cache);
    write_file(p, "x");
    snprintf(p, sizeof p, "%s/models/hf/Org/Repo-GGUF/m-Q4_K_M.gguf", cache);
    write_file(p, "x");
    snprintf(p, sizeof p, "%s/models/hf/Org/Repo-GGUF/m-F16.gguf.part", cache);
    write_file(p, "x");
    snprintf(p, sizeof p, "%s/models/gemma-3-270m-q4_k_m.gguf", cache);
    write_file(p, "x");

    /* An existing path wins, whatever it looks like. */
    CHECK_EQ_INT(tg__cache_resolve(p, out, sizeof out), TG_OK);
    CHECK_EQ_STR(out, p);
    CHECK_EQ_INT(tg__cache_resolve(tmp, out, sizeof out), TG_ERR_ARG); /* a directory */

    CHECK_EQ_INT(tg__cache_resolve("org/repo-gguf:q8_0", out, sizeof out), TG_OK);
    snprintf(want, sizeof want, "%s/models/hf/Org/Repo-GGUF/m-Q8_0.gguf", cache);
    CHECK_EQ_STR(out, want);
    CHECK_EQ_INT(tg__cache_resolve("hf.co/Org/Repo-GGUF", out, sizeof out), TG_OK);
    snprintf(want, sizeof want, "%s/models/hf/Org/Repo-GGUF/m-Q4_K_M.gguf", cache);
    CHECK_EQ_STR(out, want);
    /* A .part is not a model. */
    CHECK_EQ_INT(tg__cache_resolve("Org/Repo-GGUF:F16", out, sizeof out), TG_ERR_NOT_FOUND);
    CHECK_ERROR_HAS("tinglado pull Org/Repo-GGUF:F16");
    CHECK_ERROR_HAS("available: Q4_K_M, Q8_0");
    CHECK_EQ_INT(tg__cache_resolve("other/repo", out, sizeof out), TG_ERR_NOT_FOUND);
    CHECK_ERROR_HAS("tinglado pull other/repo");

    /* Stems: the top level first, then the hub folders; case does not matter. */
    CHECK_EQ_INT(tg__cache_resolve("gemma-3-270m-q4_k_m", out, sizeof out), TG_OK);
    snprintf(want, sizeof want, "%s/models/gemma-3-270m-q4_k_m.gguf", cache);
    CHECK_EQ_STR(out, want);
    CHECK_EQ_INT(tg__cache_resolve("Gemma-3-270M-Q4_K_M.gguf", out, sizeof out), TG_OK);
    CHECK_EQ_INT(tg__cache_resolve("m-q8_0", out, sizeof out), TG_OK);
    snprintf(want, sizeof want, "%s/models/hf/Org/Repo-GGUF/m-Q8_0.gguf", cache);
    CHECK_EQ_STR(out, want);
    CHECK_EQ_INT(tg__cache_resolve("nothing-here", out, sizeof out), TG_ERR_NOT_FOUND);
    CHECK_ERROR_HAS("tinglado pull");
    CHECK_EQ_INT(tg__cache_resolve("./missing.gguf", out, sizeof out), TG_ERR_NOT_FOUND);
    CHECK_ERROR_HAS("no such file");
    CHECK_EQ_INT(tg__cache_resolve("dir/missing.gguf", out, sizeof out), TG_ERR_NOT_FOUND);
    CHECK_EQ_INT(tg__cache_resolve("..", out, sizeof out), TG_ERR_ARG); /* exists: a directory */
    CHECK_EQ_INT(tg__cache_resolve("", out, sizeof out), TG_ERR_ARG);
    CHECK_EQ_INT(tg__cache_resolve("m-q8_0", out, 10), TG_ERR_RANGE);

    /* A new pull of another spelling lands in the existing folder. */
    char dir[600];
    CHECK_EQ_INT(tg__cache_hf_dir("ORG", "repo-gguf", dir, sizeof dir), TG_OK);
    snprintf(want, sizeof want, "%s/models/hf/Org/Repo-GGUF", cache);
    CHECK_EQ_STR(dir, want);
    CHECK_EQ_INT(tg__cache_hf_dir("new", "one", dir, sizeof dir), TG_OK);
    snprintf(want, sizeof want, "%s/models/hf/new/one", cache);
    CHECK_EQ_STR(dir, want);

    seen s = {0};
    CHECK_EQ_INT(tg__cache_list(collect, &s), TG_OK);
    CHECK_EQ_INT(s.n, 4);
    CHECK_EQ_INT(s.partial, 1);
    CHECK(seen_has(&s, "gemma-3-270m-q4_k_m"));
    CHECK(seen_has(&s, "Org/Repo-GGUF:Q8_0"));
    CHECK(seen_has(&s, "Org/Repo-GGUF:Q4_K_M"));
    CHECK(seen_has(&s, "Org/Repo-GGUF:m-F16.gguf"));
    unsetenv("TINGLADO_CACHE");
}

/* Nothing listens on port 1: the download fails at once, with the URL in the
 * message, and leaves no empty .part behind. */
static void test_download_refused(void) {
    char dest[400], part[420];
    snprintf(dest, sizeof dest, "%s/refused.gguf", tmp);
    snprintf(part, sizeof part, "%s.part", dest);
    tg__dl_opts o = {.url = "http://127.0.0.1:1/x.gguf", .dest = dest, .retries = 0,
                     .progress = TG__PROGRESS_NONE};
    tg__dl_result r;
    CHECK(tg__download(&o, &r) != TG_OK);
    CHECK_ERROR_HAS("http://127.0.0.1:1/x.gguf");
    CHECK(!exists(dest));
    CHECK(!exists(part));
    CHECK_EQ_INT(r.attempts, 1);

    o.expected_sha256 = "not-a-hash";
    CHECK_EQ_INT(tg__download(&o, &r), TG_ERR_ARG);

    /* A .part that already has the expected size is verified without any
     * request: a wrong hash deletes it; the right one renames it. */
    write_file(part, "hello");
    o.expected_sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
    o.expected_size = 5;
    CHECK_EQ_INT(tg__download(&o, &r), TG_ERR_FORMAT);
    CHECK_ERROR_HAS("sha256 mismatch");
    CHECK(!exists(part));
    CHECK(!exists(dest));
    write_file(part, "hello");
    o.expected_sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    CHECK_EQ_INT(tg__download(&o, &r), TG_OK);
    CHECK(r.verified);
    CHECK_EQ_INT(r.attempts, 0);
    CHECK_EQ_STR(r.sha256, o.expected_sha256);
    CHECK(exists(dest));
    CHECK(!exists(part));
    char hex[65];
    CHECK_EQ_INT(tg__sha256_file_hex(dest, hex), TG_OK);
    CHECK_EQ_STR(hex, o.expected_sha256);
    CHECK_EQ_INT(tg__sha256_file_hex("/nonexistent/x", hex), TG_ERR_IO);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/tg_test_download.XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_parse_ref);
    RUN(test_quant_match);
    RUN(test_shards_and_tags);
    RUN(test_pick);
    RUN(test_listing);
    RUN(test_url_and_endpoint);
    RUN(test_http_messages);
    RUN(test_cache_dir);
    RUN(test_resolve);
    RUN(test_download_refused);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    return tg_test_finish("test_download");
}
