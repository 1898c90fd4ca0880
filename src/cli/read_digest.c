/*
 * read_digest.c — `tinglado read digest [--since 7d] [--format md|html]`:
 * what was saved or enriched lately, grouped by tag (tg_library_digest).
 */
#include "cli/read.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f) {
    fputs("usage: tinglado read digest [--since 7d] [--format md|html] [-o FILE] [--db PATH]\n\n"
          "The items saved (or enriched) in the window, grouped by tag: title, link,\n"
          "site, reading time and summary.  HTML output escapes every stored string and\n"
          "links only http(s) URLs.\n\n"
          "  --since D        a window (30m, 12h, 7d, 2w) or a date (2025-06-01); default 7d\n"
          "  --format F       md (default) or html\n"
          "  -o, --output F   write to F instead of standard output\n",
          f);
}

/* "7d", "12h", "30m", "2w", or an ISO date, into Unix seconds. */
static bool parse_since(const char *s, int64_t now, int64_t *out) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end != s && v >= 0 && end[0] && !end[1]) {
        int64_t unit = end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : end[0] == 'd' ? 86400 : end[0] == 'w' ? 604800 : 0;
        if (unit && v <= 100LL * 366 * 86400 / unit) {
            *out = now - (int64_t)v * unit;
            return true;
        }
    }
    struct tm tm = {0};
    const char *rest = strptime(s, "%Y-%m-%d", &tm);
    if (rest && !*rest) {
        *out = (int64_t)timegm(&tm);
        return true;
    }
    fprintf(stderr, "tinglado read digest: --since '%s': want a window like 7d, 12h, 30m, 2w or a date YYYY-MM-DD\n",
            s);
    return false;
}

int tg__cli_read_digest(int argc, char **argv) {
    static const struct option opts[] = {{"since", required_argument, 0, 's'}, {"format", required_argument, 0, 'f'},
                                         {"output", required_argument, 0, 'o'}, {"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *db = NULL, *since_s = "7d", *format = "md", *outp = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': since_s = optarg; break;
        case 'f': format = optarg; break;
        case 'o': outp = optarg; break;
        case 'd': db = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    tg_digest_format fmt;
    if (!strcmp(format, "md") || !strcmp(format, "markdown"))
        fmt = TG_DIGEST_MD;
    else if (!strcmp(format, "html"))
        fmt = TG_DIGEST_HTML;
    else {
        fprintf(stderr, "tinglado read digest: --format '%s': want md or html\n", format);
        return 2;
    }
    /* TINGLADO_NOW: the same clock the library uses, for reproducible tests */
    const char *now_env = getenv("TINGLADO_NOW");
    int64_t now = now_env && *now_env ? strtoll(now_env, NULL, 10) : (int64_t)time(NULL), since;
    if (!parse_since(since_s, now, &since))
        return 2;
    tg_library *lib = tg__cli_read_open(db);
    if (!lib)
        return 1;
    char *doc = NULL;
    int rc = 0;
    if (tg_library_digest(lib, since, fmt, &doc)) {
        rc = tg_cli_fail("read digest");
    } else if (outp) {
        FILE *f = fopen(outp, "w");
        if (!f || fputs(doc, f) < 0 || fclose(f)) {
            fprintf(stderr, "tinglado read digest: cannot write %s\n", outp);
            rc = 1;
        }
    } else {
        fputs(doc, stdout);
    }
    free(doc);
    tg_library_close(lib);
    return rc;
}
