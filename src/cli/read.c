/*
 * read.c — `tinglado read`: the reading library from the command line.
 * Subcommands: add, import, export, list, show, tag, archive, search,
 * extract (one page, no database) and sync (read_sync.c).
 *
 * Every subcommand takes --db PATH (default: the XDG data dir) and prints
 * its own --help.  Exit codes: 0 ok, 1 failure (the message names the
 * problem), 2 usage error.  Output meant for scripts is JSON (--json).
 */
#include "cli/read.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct {
    const char *name, *args, *what;
} subs[] = {
    {"add", "URL... [--tag T]", "save links (idempotent: a saved URL only gains tags)"},
    {"import", "FILE [--format F]", "import Pocket, Instapaper, Wallabag, bookmarks, OPML, URL lists"},
    {"export", "[--format json|csv|html] [-o FILE]", "the whole library, to move elsewhere"},
    {"list", "[--unread|--archived] [--tag T] [--site S] [--state S] [-n N] [--json]", "saved items"},
    {"show", "ID [--text] [--html] [--json]", "one item: metadata and extracted text"},
    {"tag", "ID TAG... [--remove]", "add or remove tags"},
    {"archive", "ID... [--undo]", "mark read (or unread again)"},
    {"search", "QUERY [-n N] [-m MODEL] [--json]", "full-text search (BM25), hybrid with -m"},
    {"embed", "-m MODEL [-t N]", "passage embeddings of extracted articles (for hybrid search)"},
    {"enrich", "[--llm-model M | --llm-url URL]", "summaries and tags from a language model"},
    {"sync", "[--jobs N] [--retries N] [--timeout S] [--no-llm]", "fetch, extract and enrich everything pending"},
    {"ask", "QUESTION [--k N] [--embed-model M] [--json]", "an answer from the library, with citations"},
    {"digest", "[--since 7d] [--format md|html]", "what was saved lately, by tag, with summaries"},
    {"extract", "FILE|URL [--url BASE] [--json]", "the article in one page or PDF (no database)"},
    {"feed", "add URL | list | sync", "RSS/Atom subscriptions; new entries become pending items"},
};

static void usage(FILE *f) {
    fputs("usage: tinglado read COMMAND [--db PATH] [options]\n\n"
          "The reading library: saved links in; extracted and searchable out.\n\ncommands:\n",
          f);
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        fprintf(f, "  %-8s %s\n           %s\n", subs[i].name, subs[i].args, subs[i].what);
    fputs("\n  --db PATH   the library (default: $XDG_DATA_HOME/tinglado/library.db)\n"
          "\n`tinglado read COMMAND --help` describes each command.\n",
          f);
}

static void sub_usage(FILE *f, const char *name, const char *more) {
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (!strcmp(subs[i].name, name))
            fprintf(f, "usage: tinglado read %s %s [--db PATH]\n\n%s.\n", name, subs[i].args, subs[i].what);
    if (more)
        fputs(more, f);
}

tg_library *tg__cli_read_open(const char *db) {
    char path[4096];
    if (!db) {
        if (tg_library_default_path(path, sizeof path)) {
            tg_cli_fail("read");
            return NULL;
        }
        db = path;
    }
    tg_library *lib = tg_library_open(db);
    if (!lib)
        tg_cli_fail("read");
    return lib;
}

static bool parse_id(const char *s, int64_t *id) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end || v <= 0) {
        fprintf(stderr, "tinglado read: '%s' is not an item id\n", s);
        return false;
    }
    *id = v;
    return true;
}

static const char *date_str(int64_t t, char *buf, size_t cap) {
    if (t <= 0)
        return "";
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, cap, "%Y-%m-%d", &tm);
    return buf;
}

/* The marker of a PDF item (its text came from poppler). */
static bool item_is_pdf(const tg_item *it) {
    return it->content_type && !strcmp(it->content_type, "application/pdf");
}

static json_t *item_json(const tg_item *it) {
    json_t *o = json_object(), *tags = json_array();
    char d[32];
    json_object_set_new(o, "id", json_integer(it->id));
    json_object_set_new(o, "url", json_string(it->url));
#define STR(k, v) json_object_set_new(o, k, (v) ? json_string(v) : json_null())
    STR("title", it->title);
    STR("byline", it->byline);
    STR("site", it->site);
    STR("lang", it->lang);
    STR("excerpt", it->excerpt);
    STR("published", it->published > 0 ? date_str(it->published, d, sizeof d) : NULL);
    STR("saved", date_str(it->saved, d, sizeof d));
    STR("read_at", it->read_at > 0 ? date_str(it->read_at, d, sizeof d) : NULL);
    STR("state", tg_item_state_name(it->state));
    STR("error", it->error);
    STR("content_type", it->content_type);
#undef STR
    json_object_set_new(o, "pdf", json_boolean(item_is_pdf(it)));
    json_object_set_new(o, "archived", json_boolean(it->archived));
    json_object_set_new(o, "favorite", json_boolean(it->favorite));
    json_object_set_new(o, "attempts", json_integer(it->attempts));
    for (size_t i = 0; i < it->n_tags; i++)
        json_array_append_new(tags, json_string(it->tags[i]));
    json_object_set_new(o, "tags", tags);
    return o;
}

static void print_json(json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT);
    if (s) {
        puts(s);
        free(s);
    }
    json_decref(j);
}

/* ---- extract -------------------------------------------------------------- */

static int print_article(const char *page, size_t len, const char *base, bool json) {
    tg_article a;
    if (tg_extract(page, len, base, &a))
        return tg_cli_fail("read extract");
    if (json) {
        json_t *o = json_object();
#define STR(k, v) json_object_set_new(o, k, (v) ? json_string(v) : json_null())
        STR("title", a.title);
        STR("byline", a.byline);
        STR("site_name", a.site_name);
        STR("published", a.published);
        STR("lang", a.lang);
        STR("excerpt", a.excerpt);
        STR("text", a.text);
        STR("html", a.html);
#undef STR
        print_json(o);
    } else {
        if (a.title)
            printf("%s\n\n", a.title);
        puts(a.text ? a.text : "");
    }
    tg_article_clear(&a);
    return 0;
}

static int cmd_extract(int argc, char **argv) {
    static const struct option opts[] = {{"url", required_argument, 0, 'u'}, {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *base = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'u': base = optarg; break;
        case 'j': json = true; break;
        case 'h':
            sub_usage(stdout, "extract",
                      "\nPrints the article's title and text, or with --json {title, byline, site_name,\n"
                      "published, lang, excerpt, text, html} (html: sanitised, allowlisted tags).\n"
                      "--url BASE resolves relative links.  A URL argument is fetched first.\n"
                      "A PDF (a file starting with %PDF-) is read with poppler: its text, page by page.\n");
            return 0;
        default: sub_usage(stderr, "extract", NULL); return 2;
        }
    }
    if (optind + 1 != argc) {
        sub_usage(stderr, "extract", NULL);
        return 2;
    }
    const char *src = argv[optind];
    if (!strncmp(src, "http://", 7) || !strncmp(src, "https://", 8)) {
        tg_fetch_params fp = tg_fetch_default_params();
        tg_fetch_result r;
        if (tg_fetch(src, &fp, &r))
            return tg_cli_fail("read extract");
        int rc = print_article(r.body, r.len, base ? base : r.final_url, json);
        tg_fetch_result_clear(&r);
        return rc;
    }
    size_t len = 0;
    char *page = tg_cli_read_file(src, &len);
    if (!page)
        return 1;
    int rc = print_article(page, len, base, json);
    free(page);
    return rc;
}

/* ---- library commands ------------------------------------------------------ */

/* Options every library command shares; returns the index of the first
 * positional argument, or -1 (usage error, message printed) / -2 (--help). */
typedef struct common {
    const char *db, *format, *out, *tag, *site, *state, *model;
    bool json, text, html, remove, undo, unread, archived, favorite;
    long n;
    long jobs, retries, timeout;
    tg__cli_llm llm; /* sync: the enrichment model */
} common;

static int parse_common(int argc, char **argv, const char *name, const char *help, common *o) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},     {"format", required_argument, 0, 'f'},
        {"output", required_argument, 0, 'o'}, {"tag", required_argument, 0, 't'},
        {"site", required_argument, 0, 's'},   {"state", required_argument, 0, 'S'},
        {"json", no_argument, 0, 'j'},         {"text", no_argument, 0, 'T'},
        {"html", no_argument, 0, 'H'},         {"remove", no_argument, 0, 'r'},
        {"undo", no_argument, 0, 'u'},         {"unread", no_argument, 0, 'U'},
        {"archived", no_argument, 0, 'A'},     {"favorite", no_argument, 0, 'F'},
        {"limit", required_argument, 0, 'n'},  {"jobs", required_argument, 0, 'J'},
        {"retries", required_argument, 0, 'R'}, {"timeout", required_argument, 0, 'W'},
        {"model", required_argument, 0, 'm'},
        {"llm-url", required_argument, 0, TG__OPT_LLM_URL}, {"llm-model", required_argument, 0, TG__OPT_LLM_MODEL},
        {"llm-key", required_argument, 0, TG__OPT_LLM_KEY}, {"no-llm", no_argument, 0, TG__OPT_NO_LLM},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->n = -1;
    o->jobs = 4;
    o->retries = 3;
    o->timeout = 30;
    tg__cli_llm_init(&o->llm);
    int c, took;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hn:o:t:f:m:", opts, NULL)) != -1) {
        if ((took = tg__cli_llm_flag(&o->llm, c, optarg)) != 0) {
            if (took < 0)
                return -1;
            continue;
        }
        switch (c) {
        case 'd': o->db = optarg; break;
        case 'f': o->format = optarg; break;
        case 'o': o->out = optarg; break;
        case 'm': o->model = optarg; break;
        case 't': o->tag = optarg; break;
        case 's': o->site = optarg; break;
        case 'S': o->state = optarg; break;
        case 'j': o->json = true; break;
        case 'T': o->text = true; break;
        case 'H': o->html = true; break;
        case 'r': o->remove = true; break;
        case 'u': o->undo = true; break;
        case 'U': o->unread = true; break;
        case 'A': o->archived = true; break;
        case 'F': o->favorite = true; break;
        case 'n':
            if (!tg_cli_parse_int("--limit", optarg, 1, 1000000000L, &o->n))
                return -1;
            break;
        case 'J':
            if (!tg_cli_parse_int("--jobs", optarg, 1, 64, &o->jobs))
                return -1;
            break;
        case 'R':
            if (!tg_cli_parse_int("--retries", optarg, 1, 100, &o->retries))
                return -1;
            break;
        case 'W':
            if (!tg_cli_parse_int("--timeout", optarg, 1, 3600, &o->timeout))
                return -1;
            break;
        case 'h': sub_usage(stdout, name, help); return -2;
        default: sub_usage(stderr, name, NULL); return -1;
        }
    }
    return optind;
}

#define PARSE(name, help, min_pos, max_pos)                                                                   \
    common o;                                                                                                  \
    int first = parse_common(argc, argv, name, help, &o);                                                      \
    if (first == -2)                                                                                           \
        return 0;                                                                                              \
    if (first < 0)                                                                                             \
        return 2;                                                                                              \
    int n_pos = argc - first;                                                                                  \
    if (n_pos < (min_pos) || ((max_pos) >= 0 && n_pos > (max_pos))) {                                          \
        sub_usage(stderr, name, NULL);                                                                         \
        return 2;                                                                                              \
    }

static int cmd_add(int argc, char **argv) {
    PARSE("add", "\n  --tag T     tag every link with T\n", 1, -1);
    tg_library *lib = tg__cli_read_open(o.db);
    if (!lib)
        return 1;
    int rc = 0;
    const char *tags[1] = {o.tag};
    for (int i = first; i < argc; i++) {
        tg_item_new in = {.url = argv[i], .tags = tags, .n_tags = o.tag ? 1 : 0};
        int64_t id = 0;
        bool added = false;
        if (tg_library_add(lib, &in, &id, &added)) {
            rc = tg_cli_fail("read add");
            continue;
        }
        printf("%lld %s %s\n", (long long)id, added ? "added" : "exists", argv[i]);
    }
    tg_library_close(lib);
    return rc;
}

static int cmd_import(int argc, char **argv) {
    PARSE("import",
          "\n  --format F  pocket-csv, pocket-html, instapaper, wallabag, netscape, opml, urls,\n"
          "              json, csv (default: detected from the content)\n"
          "\nImporting the same file twice adds nothing.  \"-\" reads stdin.\n",
          1, 1);
    int fmt = TG_IMPORT_AUTO;
    if (o.format && (fmt = tg_import_format_parse(o.format)) < 0) {
        fprintf(stderr, "tinglado read import: unknown format '%s'\n", o.format);
        return 2;
    }
    size_t len = 0;
    char *data = tg_cli_read_file(argv[first], &len);
    if (!data)
        return 1;
    tg_library *lib = tg__cli_read_open(o.db);
    int rc = 1;
    if (lib) {
        tg_import_stats st;
        if (tg_library_import(lib, data, len, (tg_import_format)fmt, &st))
            rc = tg_cli_fail("read import");
        else {
            printf("%s: %zu added, %zu already there, %zu skipped (%s)\n", argv[first], st.added, st.existing,
                   st.skipped, tg_import_format_name(st.format));
            rc = 0;
        }
        tg_library_close(lib);
    }
    free(data);
    return rc;
}

static int cmd_export(int argc, char **argv) {
    PARSE("export", "\n  --format F  json (default), csv or html (Netscape bookmarks)\n  -o FILE     write there (default: stdout)\n", 0, 0);
    tg_export_format f = TG_EXPORT_JSON;
    if (o.format && !strcmp(o.format, "csv"))
        f = TG_EXPORT_CSV;
    else if (o.format && (!strcmp(o.format, "html") || !strcmp(o.format, "netscape")))
        f = TG_EXPORT_NETSCAPE;
    else if (o.format && strcmp(o.format, "json")) {
        fprintf(stderr, "tinglado read export: unknown format '%s'\n", o.format);
        return 2;
    }
    tg_library *lib = tg__cli_read_open(o.db);
    if (!lib)
        return 1;
    char *doc = NULL;
    size_t len = 0;
    int rc = 0;
    if (tg_library_export(lib, f, &doc, &len)) {
        rc = tg_cli_fail("read export");
    } else {
        FILE *out = o.out ? fopen(o.out, "wb") : stdout;
        if (!out || fwrite(doc, 1, len, out) != len || (o.out && fclose(out))) {
            fprintf(stderr, "tinglado read export: cannot write %s\n", o.out ? o.out : "stdout");
            rc = 1;
        }
    }
    free(doc);
    tg_library_close(lib);
    return rc;
}

static bool list_one(const tg_item *it, void *user) {
    json_t *arr = user;
    if (arr) {
        json_array_append_new(arr, item_json(it));
        return true;
    }
    char d[32];
    printf("%6lld  %-10s %s %s  %s%s", (long long)it->id, tg_item_state_name(it->state),
           date_str(it->saved, d, sizeof d), it->archived ? "A" : it->favorite ? "*" : " ",
           item_is_pdf(it) ? "[PDF] " : "", it->title ? it->title : it->url);
    for (size_t i = 0; i < it->n_tags; i++)
        printf(i ? ",%s" : "  [%s", it->tags[i]);
    puts(it->n_tags ? "]" : "");
    return true;
}

static int parse_state(const char *s) {
    for (int k = 0; k <= TG_ITEM_FAILED; k++)
        if (!strcmp(s, tg_item_state_name((tg_item_state)k)))
            return k;
    return -2;
}

static int cmd_list(int argc, char **argv) {
    PARSE("list",
          "\n  --unread / --archived   only those      --favorite   only favourites\n"
          "  --tag T / --site S      only those      --state S    pending, fetched, extracted, enriched, failed\n"
          "  -n, --limit N           at most N       --json       one JSON array\n",
          0, 0);
    tg_item_filter f = tg_item_filter_all();
    if (o.unread != o.archived)
        f.archived = o.archived;
    if (o.favorite)
        f.favorite = 1;
    f.tag = o.tag;
    f.site = o.site;
    if (o.state && (f.state = parse_state(o.state)) < -1) {
        fprintf(stderr, "tinglado read list: unknown state '%s'\n", o.state);
        return 2;
    }
    if (o.n > 0)
        f.limit = (size_t)o.n;
    tg_library *lib = tg__cli_read_open(o.db);
    if (!lib)
        return 1;
    json_t *arr = o.json ? json_array() : NULL;
    int rc = tg_library_list(lib, &f, list_one, arr) ? tg_cli_fail("read list") : 0;
    if (arr)
        print_json(arr);
    tg_library_close(lib);
    return rc;
}

static int cmd_show(int argc, char **argv) {
    PARSE("show", "\n  --text   the extracted text\n  --html   the sanitised article HTML\n  --json   everything as JSON\n", 1, 1);
    int64_t id;
    if (!parse_id(argv[first], &id))
        return 2;
    tg_library *lib = tg__cli_read_open(o.db);
    if (!lib)
        return 1;
    tg_item it;
    int rc = 0;
    if (tg_library_get(lib, id, &it)) {
        rc = tg_cli_fail("read show");
    } else {
        char *text = NULL, *html = NULL;
        tg_library_get_content(lib, id, &text, &html); /* none yet is fine */
        if (o.json) {
            json_t *j = item_json(&it);
            json_object_set_new(j, "text", text ? json_string(text) : json_null());
            json_object_set_new(j, "html", html ? json_string(html) : json_null());
            char *summary = NULL;
            tg_library_get_summary(lib, id, &summary);
            json_object_set_new(j, "summary", summary ? json_string(summary) : json_null());
            free(summary);
            print_json(j);
        } else if (o.text || o.html) {
            puts(o.html ? (html ? html : "") : (text ? text : ""));
        } else {
            char d[32];
            printf("%s\n%s\n", it.title ? it.title : "(untitled)", it.url);
            if (it.byline)
                printf("by %s\n", it.byline);
            printf("saved %s, %s%s, %s%s", date_str(it.saved, d, sizeof d), it.archived ? "archived" : "unread",
                   it.favorite ? ", favourite" : "", tg_item_state_name(it.state), item_is_pdf(&it) ? ", PDF" : "");
            if (it.error)
                printf(" (%s, %d attempts)", it.error, it.attempts);
            putchar('\n');
            for (size_t i = 0; i < it.n_tags; i++)
                printf(i ? ", %s" : "tags: %s", it.tags[i]);
            if (it.n_tags)
                putchar('\n');
            char *summary = NULL;
            tg_library_get_summary(lib, id, &summary);
            if (text) {
                size_t words = 0;
                for (const char *p = text; *p; p++)
                    words += (p == text || p[-1] == ' ' || p[-1] == '\n') && *p != ' ' && *p != '\n';
                printf("%zu words, %zu min read\n", words, (words + 229) / 230);
            }
            if (summary)
                printf("\nsummary: %s\n", summary);
            free(summary);
            if (text)
                printf("\n%s\n", text);
        }
        free(text);
        free(html);
        tg_item_clear(&it);
    }
    tg_library_close(lib);
    return rc;
}

static int cmd_tag(int argc, char **argv) {
    PARSE("tag", "\n  --remove   remove the tags instead\n", 2, -1);
    int64_t id;
    if (!parse_id(argv[first], &id))
        return 2;
    tg_library *lib = tg__cli_read_open(o.db);
    if (!lib)
        return 1;
    int rc = 0;
    for (int i = first + 1; i < argc && !rc; i++)
        if (tg_library_tag(lib, id, argv[i], o.remove))
            rc = tg_cli_fail("read tag");
    tg_library_close(lib);
    return rc;
}

static int cmd_archive(int argc, char **argv) {
    PARSE("archive", "\n  --undo   back to unread\n", 1, -1);
    tg_library *lib = tg__cli_read_open(o.db);
    if (!lib)
        return 1;
    int rc = 0;
    for (int i = first; i < argc; i++) {
        int64_t id;
        if (!parse_id(argv[i], &id)) {
            rc = 2;
            continue;
        }
        if (tg_library_set_archived(lib, id, !o.undo))
            rc = tg_cli_fail("read archive");
    }
    tg_library_close(lib);
    return rc;
}

static int cmd_search(int argc, char **argv) {
    PARSE("search",
          "\n  -n, --limit N   at most N hits (default 10)\n  --json          hits as JSON\n"
          "  -m, --model MODEL  also rank by meaning with this embedding model (after\n"
          "                  `tinglado read embed -m MODEL`): BM25 and vector rankings fused\n"
          "\nWords are matched as words (a trailing * matches a prefix); all must occur.\n"
          "Items holding them as a phrase first, then by BM25 over title and text.\n",
          1, -1);
    size_t qcap = 1;
    for (int i = first; i < argc; i++)
        qcap += strlen(argv[i]) + 1;
    char *q = calloc(qcap, 1);
    if (!q)
        return 1;
    for (int i = first; i < argc; i++) {
        strcat(q, argv[i]);
        strcat(q, " ");
    }
    tg_library *lib = tg__cli_read_open(o.db);
    if (!lib) {
        free(q);
        return 1;
    }
    tg_search_hit *hits = NULL;
    size_t n = 0;
    int rc = 0;
    float *qvec = NULL;
    int32_t dim = 0;
    char mpath[4096] = "";
    tg_status ss;
    if (o.model) {
        ss = tg__cli_read_query_vec(o.model, q, mpath, sizeof mpath, &qvec, &dim);
        if (!ss)
            ss = tg_library_search_hybrid(lib, q, tg__cli_read_model_name(mpath), qvec, dim,
                                          o.n > 0 ? (size_t)o.n : 10, &hits, &n);
    } else {
        ss = tg_library_search(lib, q, o.n > 0 ? (size_t)o.n : 10, &hits, &n);
    }
    free(qvec);
    if (ss) {
        rc = tg_cli_fail("read search");
    } else {
        json_t *arr = o.json ? json_array() : NULL;
        for (size_t i = 0; i < n; i++) {
            tg_item it;
            if (tg_library_get(lib, hits[i].id, &it))
                continue;
            if (arr) {
                json_t *j = item_json(&it);
                json_object_set_new(j, "score", json_real(hits[i].score));
                json_object_set_new(j, "snippet", hits[i].snippet ? json_string(hits[i].snippet) : json_null());
                json_array_append_new(arr, j);
            } else {
                printf("%6lld  %.2f  %s\n        %s\n", (long long)it.id, hits[i].score, it.title ? it.title : it.url,
                       hits[i].snippet ? hits[i].snippet : "");
            }
            tg_item_clear(&it);
        }
        if (arr)
            print_json(arr);
    }
    tg_search_hits_free(hits, n);
    tg_library_close(lib);
    free(q);
    return rc;
}

/* ---- sync -------------------------------------------------------------------- */

typedef struct sync_ui {
    bool tty;
    size_t n_errors;
    struct timespec t0;
} sync_ui;

static void on_progress(const tg_sync_progress *p, void *user) {
    sync_ui *ui = user;
    if (p->error) {
        /* errors go above the bar, one line each */
        fprintf(stderr, "%s  item %lld: %s\n", ui->tty ? "\r\033[K" : "", (long long)p->id, p->error);
        ui->n_errors++;
    } else if (p->merged_into) {
        fprintf(stderr, "%s  item %lld: the same page as item %lld: merged into it\n", ui->tty ? "\r\033[K" : "",
                (long long)p->id, (long long)p->merged_into);
    }
    if (ui->tty) {
        int width = 30, fill = p->total ? (int)((double)width * (double)p->done / (double)p->total) : width;
        fprintf(stderr, "\r[%.*s%*s] %zu/%zu  %zu extracted, %zu failed", fill,
                "==============================", width - fill, "", p->done, p->total, p->extracted, p->failed);
        fflush(stderr);
    }
}

static int cmd_sync(int argc, char **argv) {
    PARSE("sync",
          "\n  --jobs N      pages fetched at once, all sites together (default 4); one request\n"
          "                per site at a time, a second apart\n"
          "  --retries N   attempts before a failing item is left alone (default 3)\n"
          "  --timeout S   per page, whole transfer (default 30)\n"
          "  --no-llm      fetch and extract only (no summaries and tags)\n"
          "  --llm-model M the embedded engine's model (default " TG_LLM_DEFAULT_MODEL ")\n"
          "  --llm-url URL an OpenAI-compatible endpoint instead (--llm-key K, $TINGLADO_LLM_KEY)\n"
          "\nFetches and extracts every pending item, and failed ones with attempts left,\n"
          "then enriches every extracted article as `read enrich` does (summary and tags,\n"
          "by default from the embedded engine).  Each step is committed as it completes:\n"
          "an interrupted sync continues where it stopped.  Shows a progress bar on a\n"
          "terminal and ends with a summary line.\n"
          "An item whose link leads to a page another item already has (a short link and\n"
          "the canonical one) is merged into that item: earliest saved date, all tags,\n"
          "read/archived/favourite if either was.\n",
          0, 0);
    tg_library *lib = tg__cli_read_open(o.db);
    if (!lib)
        return 1;
    sync_ui ui = {.tty = isatty(2)};
    tg_sync_params sp = tg_sync_default_params();
    sp.jobs = (int)o.jobs;
    sp.max_attempts = (int32_t)o.retries;
    sp.fetch.timeout_s = o.timeout;
    sp.fetch.connect_timeout_s = TG_CLI_MIN(o.timeout, 10);
    sp.progress = on_progress;
    sp.user = &ui;
    const char *delay = getenv("TINGLADO_HOST_DELAY"); /* tests on loopback need no politeness */
    if (delay && *delay)
        sp.host_delay_s = atof(delay);
    clock_gettime(CLOCK_MONOTONIC, &ui.t0);
    tg_sync_stats st;
    int rc = 0;
    if (tg_library_sync(lib, &sp, &st)) {
        if (ui.tty)
            fputc('\n', stderr);
        rc = tg_cli_fail("read sync");
    } else {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - ui.t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - ui.t0.tv_nsec);
        if (ui.tty)
            fputs("\r\033[K", stderr);
        printf("sync: %zu items: %zu extracted, %zu failed", st.total, st.extracted, st.failed);
        if (st.merged)
            printf(", %zu merged into items with the same page", st.merged);
        printf(" in %.1f s\n", secs);
        fflush(stdout);
    }
    /* enrichment after every fetch: the model is loaded only when there is
     * something to enrich, and a failing article is left for the next run */
    int64_t counts[5] = {0}, total = 0;
    if (!rc && !o.llm.none && !tg_library_count(lib, counts, &total) && counts[TG_ITEM_EXTRACTED] > 0) {
        tg_llm *llm = tg__cli_llm_open(&o.llm);
        size_t done = 0, failed = 0;
        rc = !llm || tg__cli_enrich_all(lib, llm, 0, &done, &failed) ? 1 : 0;
        if (llm)
            printf("enrich: %zu articles: %zu enriched, %zu failed\n", done + failed, done, failed);
        tg_llm_free(llm); /* failed articles, like failed fetches, wait for the next sync */
    }
    tg_library_close(lib);
    return rc;
}

int tg_cli_read(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } table[] = {{"add", cmd_add},   {"import", cmd_import},   {"export", cmd_export}, {"list", cmd_list},
                 {"show", cmd_show}, {"tag", cmd_tag},         {"archive", cmd_archive}, {"search", cmd_search},
                 {"extract", cmd_extract}, {"sync", cmd_sync}, {"feed", tg__cli_read_feed},
                 {"embed", tg__cli_read_embed}, {"enrich", tg__cli_read_enrich}, {"ask", tg__cli_read_ask},
                 {"digest", tg__cli_read_digest}};
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (!strcmp(cmd, table[i].name))
            return table[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "tinglado read: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
