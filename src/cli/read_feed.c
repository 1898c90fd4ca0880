/*
 * read_feed.c — `tinglado read feed add|list|sync`: RSS and Atom
 * subscriptions.  `feed sync` fetches every feed (one at a time: feeds are
 * few) and saves new entries as pending items; `read sync` then reads them.
 * A feed that fails is reported and the others go on; the exit code is 1
 * if any failed.
 */
#include "cli/read.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: tinglado read feed COMMAND [--db PATH]\n\n"
          "  add URL [--title T]   subscribe to an RSS or Atom feed\n"
          "  list                  the subscriptions\n"
          "  sync [--timeout S]    fetch every feed; new entries become pending items\n"
          "                        (then `tinglado read sync` reads them)\n"
          "\nOPML files import as subscriptions: tinglado read import feeds.opml\n",
          f);
}

int tg__cli_read_feed(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, 'd'}, {"title", required_argument, 0, 't'},
                                         {"timeout", required_argument, 0, 'W'}, {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1], *db = NULL, *title = NULL;
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        usage(stdout);
        return 0;
    }
    long timeout = 30;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 't': title = optarg; break;
        case 'W':
            if (!tg_cli_parse_int("--timeout", optarg, 1, 3600, &timeout))
                return 2;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    int first = optind + 1, n_pos = argc - first; /* positional arguments after the command */
    bool add = !strcmp(cmd, "add"), list = !strcmp(cmd, "list"), sync = !strcmp(cmd, "sync");
    if ((!add && !list && !sync) || (add && n_pos != 1) || (!add && n_pos != 0)) {
        if (!add && !list && !sync)
            fprintf(stderr, "tinglado read feed: unknown command '%s'\n", cmd);
        usage(stderr);
        return 2;
    }
    tg_library *lib = tg__cli_read_open(db);
    if (!lib)
        return 1;
    int rc = 0;
    if (add) {
        bool added = false;
        if (tg_library_feed_add(lib, argv[first], title, &added))
            rc = tg_cli_fail("read feed add");
        else
            printf("%s %s\n", added ? "subscribed" : "already subscribed", argv[first]);
    } else {
        char **urls = NULL, **titles = NULL;
        size_t n = 0;
        if (tg_library_feeds(lib, &urls, &titles, &n)) {
            rc = tg_cli_fail("read feed");
        } else if (list) {
            for (size_t i = 0; i < n; i++)
                printf("%s%s%s\n", urls[i], titles[i] ? "  " : "", titles[i] ? titles[i] : "");
        } else {
            tg_fetch_params fp = tg_fetch_default_params();
            fp.accept_xml = true;
            fp.timeout_s = timeout;
            fp.connect_timeout_s = TG_CLI_MIN(timeout, 10);
            size_t total_added = 0, failed = 0;
            for (size_t i = 0; i < n; i++) {
                tg_fetch_result r;
                tg_feed_stats st;
                if (tg_fetch(urls[i], &fp, &r)) {
                    fprintf(stderr, "tinglado: read feed sync: %s\n", tg_last_error());
                    failed++;
                    continue;
                }
                if (tg_library_feed_read(lib, r.final_url ? r.final_url : urls[i], r.body, r.len, &st)) {
                    fprintf(stderr, "tinglado: read feed sync: %s\n", tg_last_error());
                    failed++;
                } else {
                    printf("%s: %zu entries, %zu new\n", urls[i], st.entries, st.added);
                    total_added += st.added;
                }
                tg_fetch_result_clear(&r);
            }
            printf("feed sync: %zu feeds, %zu new items, %zu feeds failed\n", n, total_added, failed);
            rc = failed ? 1 : 0;
        }
        for (size_t i = 0; i < n; i++) {
            free(urls[i]);
            free(titles[i]);
        }
        free(urls);
        free(titles);
    }
    tg_library_close(lib);
    return rc;
}
