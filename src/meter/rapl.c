/*
 * rapl.c — CPU package and DRAM energy from RAPL counters, read through the
 * Linux powercap sysfs tree (root /sys/class/powercap, or any directory the
 * caller names, so tests can build a fake one):
 *
 *   ROOT/intel-rapl:N/name                  "package-N" (or "psys": skipped,
 *                                           it already contains the packages)
 *   ROOT/intel-rapl:N/energy_uj             cumulative µJ, wraps to 0 …
 *   ROOT/intel-rapl:N/max_energy_range_uj   … after reaching this value
 *   ROOT/intel-rapl:N:M/name                "dram" counted; "core", "uncore"
 *                                           skipped (inside the package)
 *
 * AMD processors (Zen, Linux >= 5.11) expose their RAPL counters through the
 * same intel_rapl_msr driver and names, with package and core domains and no
 * DRAM domain.  intel-rapl-mmio:N duplicates a package domain and is skipped.
 *
 * This file must never double-count a domain and never return a made-up
 * number: any missing, unreadable or malformed file is an error that says
 * which file and why; the caller then falls back to the estimate.
 */
#include "meter/meter.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads a small sysfs file into buf (NUL-terminated, trailing newline cut). */
static tg_status read_small(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == EACCES || errno == EPERM)
            return tg__fail(TG_ERR_IO, "%s: permission denied (since Linux 5.10 RAPL counters are readable "
                                       "by root only)", path);
        return tg__fail(TG_ERR_IO, "%s: %s", path, strerror(errno));
    }
    ssize_t n = read(fd, buf, cap - 1);
    int err = errno;
    close(fd);
    if (n < 0)
        return tg__fail(TG_ERR_IO, "%s: %s", path, strerror(err));
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return TG_OK;
}

static tg_status read_u64(const char *dir, const char *file, uint64_t *out) {
    char path[640], buf[64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    tg_status s = read_small(path, buf, sizeof buf);
    if (s != TG_OK)
        return s;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (buf[0] < '0' || buf[0] > '9' || errno || *end)
        return tg__fail(TG_ERR_FORMAT, "%s: '%s' is not a counter value", path, buf);
    *out = v;
    return TG_OK;
}

uint64_t tg__rapl_wrap_delta(uint64_t last, uint64_t now, uint64_t max) {
    if (now >= last)
        return now - last;
    /* The counter passed max and started again from 0. */
    return (max - last) + now;
}

/* "intel-rapl:N" → 1 (a top-level zone), "intel-rapl:N:M" → 2, else 0. */
static int zone_depth(const char *name) {
    static const char prefix[] = "intel-rapl:";
    if (strncmp(name, prefix, sizeof prefix - 1))
        return 0;
    const char *p = name + sizeof prefix - 1;
    int depth = 0;
    for (;;) {
        if (*p < '0' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
        depth++;
        if (*p == '\0')
            return depth;
        if (*p++ != ':' || depth == 2)
            return 0;
    }
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds one domain after checking both of its counter files. */
static tg_status add_domain(tg__rapl *r, const char *dir, const char *label) {
    if (r->n == TG__RAPL_MAX_DOMAINS)
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: more than %d RAPL domains", dir, TG__RAPL_MAX_DOMAINS);
    tg__rapl_domain *d = &r->dom[r->n];
    snprintf(d->path, sizeof d->path, "%s", dir);
    snprintf(d->label, sizeof d->label, "%s", label);
    tg_status s = read_u64(dir, "max_energy_range_uj", &d->max_uj);
    if (s == TG_OK)
        s = read_u64(dir, "energy_uj", &d->last);
    if (s != TG_OK)
        return s;
    if (d->max_uj == 0 || d->last > d->max_uj)
        return tg__fail(TG_ERR_FORMAT, "%s: energy_uj %llu outside [0, max_energy_range_uj %llu]", dir,
                        (unsigned long long)d->last, (unsigned long long)d->max_uj);
    r->n++;
    return TG_OK;
}

tg_status tg__rapl_open(tg__rapl *r, const char *root) {
    memset(r, 0, sizeof *r);
    DIR *dir = opendir(root);
    if (!dir)
        return tg__fail(TG_ERR_NOT_FOUND, "no RAPL counters: %s: %s", root, strerror(errno));
    char *names[256];
    size_t n_names = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && n_names < TG_ARRAY_LEN(names)) {
        if (!zone_depth(e->d_name))
            continue;
        if (!(names[n_names] = strdup(e->d_name)))
            break;
        n_names++;
    }
    closedir(dir);
    qsort(names, n_names, sizeof *names, cmp_str);

    tg_status s = TG_OK;
    for (size_t i = 0; i < n_names && s == TG_OK; i++) {
        char zdir[600], name[64];
        snprintf(zdir, sizeof zdir, "%s/%s", root, names[i]);
        char npath[640];
        snprintf(npath, sizeof npath, "%s/name", zdir);
        if ((s = read_small(npath, name, sizeof name)) != TG_OK)
            break;
        if (zone_depth(names[i]) == 1) {
            if (!strncmp(name, "package", 7))
                s = add_domain(r, zdir, name);
        } else if (!strcmp(name, "dram")) {
            /* Label it with its package's name: "package-0/dram". */
            char parent[600], pname[64] = "?", label[64];
            snprintf(parent, sizeof parent, "%s/%.*s/name", root, (int)(strrchr(names[i], ':') - names[i]), names[i]);
            if (read_small(parent, pname, sizeof pname) != TG_OK)
                snprintf(pname, sizeof pname, "%.*s", (int)(strrchr(names[i], ':') - names[i]), names[i]);
            snprintf(label, sizeof label, "%.40s/dram", pname);
            s = add_domain(r, zdir, label);
        }
    }
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    if (s != TG_OK) {
        r->n = 0;
        return tg__fail_prefix(s, "RAPL unusable");
    }
    if (r->n == 0)
        return tg__fail(TG_ERR_NOT_FOUND, "no RAPL package domain under %s", root);
    return TG_OK;
}

tg_status tg__rapl_delta(tg__rapl *r, double *uj) {
    uint64_t now[TG__RAPL_MAX_DOMAINS];
    /* Read every domain before updating any, so a failure leaves all of
     * them at their previous reading. */
    for (int i = 0; i < r->n; i++) {
        tg_status s = read_u64(r->dom[i].path, "energy_uj", &now[i]);
        if (s != TG_OK)
            return tg__fail_prefix(s, "RAPL %s", r->dom[i].label);
        if (now[i] > r->dom[i].max_uj)
            return tg__fail(TG_ERR_FORMAT, "RAPL %s: energy_uj %llu above max_energy_range_uj %llu",
                            r->dom[i].label, (unsigned long long)now[i], (unsigned long long)r->dom[i].max_uj);
    }
    double sum = 0.0;
    for (int i = 0; i < r->n; i++) {
        sum += (double)tg__rapl_wrap_delta(r->dom[i].last, now[i], r->dom[i].max_uj);
        r->dom[i].last = now[i];
    }
    *uj = sum;
    return TG_OK;
}
