/*
 * cache.c — the model cache: its root directory, its layout (cache.h), and
 * the lookup that lets `run`, `serve` and `info` take "org/repo:Q8_0" or
 * "gemma-3-270m-q4_k_m" where they take a path.
 *
 * Only reads directories and stats files; never downloads and never deletes.
 * Names from the command line become path components only after
 * tg__hf_parse_ref (or the stem check below) has limited their alphabet, so
 * no argument can point the lookup outside the cache.
 */
#include "net/cache.h"

#include "net/hf.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_CAP 4096

static tg_status join(char *out, size_t cap, const char *a, const char *b) {
    if ((size_t)snprintf(out, cap, "%s/%s", a, b) >= cap)
        return tg__fail(TG_ERR_RANGE, "path too long: %s/%s", a, b);
    return TG_OK;
}

tg_status tg__cache_dir(char *out, size_t cap) {
    const char *v = getenv("TINGLADO_CACHE");
    int n;
    if (v && *v) {
        n = snprintf(out, cap, "%s", v);
    } else if ((v = getenv("XDG_CACHE_HOME")) && *v) {
        n = snprintf(out, cap, "%s/tinglado", v);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            struct passwd *pw = getpwuid(getuid());
            home = pw ? pw->pw_dir : NULL;
        }
        if (!home || !*home)
            return tg__fail(TG_ERR_NOT_FOUND,
                            "no cache directory: set TINGLADO_CACHE (or XDG_CACHE_HOME or HOME)");
        n = snprintf(out, cap, "%s/.cache/tinglado", home);
    }
    if (n < 0 || (size_t)n >= cap)
        return tg__fail(TG_ERR_RANGE, "the cache directory path is too long");
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    return TG_OK;
}

tg_status tg__cache_models_dir(char *out, size_t cap) {
    char root[PATH_CAP];
    tg_status st = tg__cache_dir(root, sizeof root);
    return st != TG_OK ? st : join(out, cap, root, "models");
}

static bool is_dir(const char *p) {
    struct stat s;
    return stat(p, &s) == 0 && S_ISDIR(s.st_mode);
}

static bool is_file(const char *p) {
    struct stat s;
    return stat(p, &s) == 0 && S_ISREG(s.st_mode);
}

/* dir/name, or dir/<an entry equal to name ignoring case> if that exists;
 * *found says whether anything exists there. */
static tg_status child_ci(const char *dir, const char *name, char *out, size_t cap, bool *found) {
    tg_status st = join(out, cap, dir, name);
    if (st != TG_OK)
        return st;
    struct stat s;
    *found = lstat(out, &s) == 0;
    if (*found)
        return TG_OK;
    DIR *d = opendir(dir);
    if (!d)
        return TG_OK;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcasecmp(e->d_name, name) == 0) {
            st = join(out, cap, dir, e->d_name);
            *found = true;
            break;
        }
    closedir(d);
    return st;
}

tg_status tg__cache_hf_dir(const char *org, const char *repo, char *out, size_t cap) {
    char models[PATH_CAP], hf[PATH_CAP], org_dir[PATH_CAP];
    bool found;
    tg_status st = tg__cache_models_dir(models, sizeof models);
    if (st == TG_OK) st = join(hf, sizeof hf, models, "hf");
    if (st == TG_OK) st = child_ci(hf, org, org_dir, sizeof org_dir, &found);
    if (st == TG_OK) st = child_ci(org_dir, repo, out, cap, &found);
    return st;
}

tg_status tg__mkdirs(const char *path) {
    char p[PATH_CAP];
    if ((size_t)snprintf(p, sizeof p, "%s", path) >= sizeof p)
        return tg__fail(TG_ERR_RANGE, "path too long: %s", path);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return tg__fail(TG_ERR_IO, "cannot create %s: %s", p, strerror(errno));
        if (!is_dir(p))
            return tg__fail(TG_ERR_IO, "%s exists and is not a directory", p);
        *s = c;
        if (!c)
            return TG_OK;
    }
}

/* ---- directory listings ------------------------------------------------------ */

typedef struct names {
    char **v;
    size_t n;
} names;

static void names_free(names *ns) {
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
    *ns = (names){0};
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir (sorted, without "." and ".."); a missing directory is
 * an empty list. */
static tg_status list_dir(const char *dir, names *out) {
    *out = (names){0};
    DIR *d = opendir(dir);
    if (!d)
        return TG_OK;
    size_t cap = 0;
    tg_status st = TG_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..", hidden files: none of them are ours */
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **v = tg__realloc(out->v, nc * sizeof *v);
            if (!v) {
                st = TG_ERR_NOMEM;
                break;
            }
            out->v = v;
            cap = nc;
        }
        if (!(out->v[out->n] = strdup(e->d_name))) {
            st = tg__fail(TG_ERR_NOMEM, "out of memory");
            break;
        }
        out->n++;
    }
    closedir(d);
    if (st != TG_OK)
        names_free(out);
    else if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return st;
}

static bool has_suffix_ci(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* The complete .gguf files of a directory. */
static tg_status list_ggufs(const char *dir, names *out) {
    tg_status st = list_dir(dir, out);
    if (st != TG_OK)
        return st;
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++) {
        char p[PATH_CAP];
        if (has_suffix_ci(out->v[i], ".gguf") && join(p, sizeof p, dir, out->v[i]) == TG_OK &&
            is_file(p))
            out->v[k++] = out->v[i];
        else
            free(out->v[i]);
    }
    out->n = k;
    return TG_OK;
}

/* ---- resolution --------------------------------------------------------------- */

static tg_status not_cached(const char *arg, const char *models, const char *why) {
    return tg__fail(TG_ERR_NOT_FOUND,
                    "'%s' is not a file, and %s in the model cache (%s); download it with "
                    "`tinglado pull %s` (`tinglado pull --list` shows what is there)",
                    arg, why, models, arg);
}

static tg_status copy_out(const char *path, char *out, size_t cap) {
    if ((size_t)snprintf(out, cap, "%s", path) >= cap)
        return tg__fail(TG_ERR_RANGE, "path too long: %s", path);
    return TG_OK;
}

static tg_status resolve_ref(const char *arg, const tg__hf_ref *ref, const char *models,
                             char *out, size_t cap) {
    char dir[PATH_CAP], where[200];
    tg_status st = tg__cache_hf_dir(ref->org, ref->repo, dir, sizeof dir);
    if (st != TG_OK)
        return st;
    names ns;
    if ((st = list_ggufs(dir, &ns)) != TG_OK)
        return st;
    if (ns.n == 0) {
        names_free(&ns);
        return not_cached(arg, models, "that repository is not");
    }
    snprintf(where, sizeof where, "%s/%s", ref->org, ref->repo);
    size_t i;
    st = tg__pick_gguf((const char *const *)ns.v, ns.n, ref->quant, where, &i);
    if (st == TG_OK) {
        char p[PATH_CAP];
        st = join(p, sizeof p, dir, ns.v[i]);
        if (st == TG_OK)
            st = copy_out(p, out, cap);
    } else if (st == TG_ERR_NOT_FOUND) {
        char why[1024];
        snprintf(why, sizeof why, "%s", tg_last_error());
        tg__fail(st, "%s (looked in the model cache, %s); download it with `tinglado pull %s`",
                 why, dir, arg);
    }
    names_free(&ns);
    return st;
}

/* A file stem (or file name) looked up in models/ and then in every
 * models/hf/<org>/<repo>/. */
static tg_status resolve_stem(const char *arg, const char *models, char *out, size_t cap) {
    char file[512];
    size_t n = strlen(arg);
    if (n == 0 || n >= sizeof file - 5 || arg[0] == '.' || strchr(arg, '/'))
        return not_cached(arg, models, "no model of that name is");
    snprintf(file, sizeof file, has_suffix_ci(arg, ".gguf") ? "%s" : "%s.gguf", arg);

    char p[PATH_CAP], hf[PATH_CAP];
    bool found;
    tg_status st = child_ci(models, file, p, sizeof p, &found);
    if (st != TG_OK)
        return st;
    if (found && is_file(p))
        return copy_out(p, out, cap);
    if ((st = join(hf, sizeof hf, models, "hf")) != TG_OK)
        return st;
    names orgs, repos;
    if ((st = list_dir(hf, &orgs)) != TG_OK)
        return st;
    bool hit = false;
    for (size_t i = 0; i < orgs.n && st == TG_OK && !hit; i++) {
        char od[PATH_CAP];
        if ((st = join(od, sizeof od, hf, orgs.v[i])) != TG_OK || (st = list_dir(od, &repos)) != TG_OK)
            break;
        for (size_t j = 0; j < repos.n && st == TG_OK && !hit; j++) {
            char rd[PATH_CAP];
            if ((st = join(rd, sizeof rd, od, repos.v[j])) != TG_OK)
                break;
            if ((st = child_ci(rd, file, p, sizeof p, &found)) == TG_OK && found && is_file(p))
                hit = true;
        }
        names_free(&repos);
    }
    names_free(&orgs);
    if (st != TG_OK)
        return st;
    if (hit)
        return copy_out(p, out, cap);
    return not_cached(arg, models, "no model of that name is");
}

tg_status tg__cache_resolve(const char *arg, char *out, size_t cap) {
    if (!arg || !*arg)
        return tg__fail(TG_ERR_ARG, "no model given");
    struct stat s;
    if (stat(arg, &s) == 0) {
        if (S_ISDIR(s.st_mode))
            return tg__fail(TG_ERR_ARG, "%s is a directory, not a GGUF file", arg);
        return copy_out(arg, out, cap);
    }
    char models[PATH_CAP];
    tg_status st = tg__cache_models_dir(models, sizeof models);
    if (st != TG_OK)
        return st;
    tg__hf_ref ref;
    if (tg__hf_parse_ref(arg, &ref) == TG_OK && !has_suffix_ci(ref.repo, ".gguf"))
        return resolve_ref(arg, &ref, models, out, cap);
    tg__clear_error();
    if (strchr(arg, '/') || arg[0] == '~')
        return tg__fail(TG_ERR_NOT_FOUND, "%s: no such file", arg);
    return resolve_stem(arg, models, out, cap);
}

/* ---- listing ---------------------------------------------------------------------- */

static void visit_dir(const char *dir, const char *prefix, tg__cache_visit_fn fn, void *ctx) {
    names ns;
    if (list_dir(dir, &ns) != TG_OK)
        return;
    names models = {0};
    list_ggufs(dir, &models);
    for (size_t i = 0; i < ns.n; i++) {
        const char *f = ns.v[i];
        bool partial = has_suffix_ci(f, ".gguf.part");
        if (!partial && !has_suffix_ci(f, ".gguf"))
            continue;
        char p[PATH_CAP], name[PATH_CAP];
        struct stat s;
        if (join(p, sizeof p, dir, f) != TG_OK || stat(p, &s) != 0 || !S_ISREG(s.st_mode))
            continue;
        size_t stem = strlen(f) - (partial ? 10 : 5);
        if (!prefix) {
            snprintf(name, sizeof name, "%.*s", (int)stem, f);
        } else {
            /* The short name "org/repo:QUANT" when it picks this very file. */
            char q[128];
            size_t k;
            tg__quant_of(f, q, sizeof q);
            bool short_ok = !partial &&
                            tg__pick_gguf((const char *const *)models.v, models.n, q, prefix, &k) ==
                                TG_OK &&
                            strcmp(models.v[k], f) == 0;
            if (short_ok)
                snprintf(name, sizeof name, "%s:%s", prefix, q);
            else
                snprintf(name, sizeof name, "%s:%.*s.gguf", prefix, (int)stem, f);
        }
        fn(ctx, name, p, (uint64_t)s.st_size, partial);
    }
    tg__clear_error();
    names_free(&models);
    names_free(&ns);
}

tg_status tg__cache_list(tg__cache_visit_fn fn, void *ctx) {
    char models[PATH_CAP], hf[PATH_CAP];
    tg_status st = tg__cache_models_dir(models, sizeof models);
    if (st == TG_OK)
        st = join(hf, sizeof hf, models, "hf");
    if (st != TG_OK)
        return st;
    visit_dir(models, NULL, fn, ctx);
    names orgs, repos;
    if ((st = list_dir(hf, &orgs)) != TG_OK)
        return st;
    for (size_t i = 0; i < orgs.n; i++) {
        char od[PATH_CAP];
        if (join(od, sizeof od, hf, orgs.v[i]) != TG_OK || list_dir(od, &repos) != TG_OK)
            continue;
        for (size_t j = 0; j < repos.n; j++) {
            char rd[PATH_CAP], prefix[512];
            if (join(rd, sizeof rd, od, repos.v[j]) != TG_OK)
                continue;
            snprintf(prefix, sizeof prefix, "%s/%s", orgs.v[i], repos.v[j]);
            visit_dir(rd, prefix, fn, ctx);
        }
        names_free(&repos);
    }
    names_free(&orgs);
    return TG_OK;
}
