/*
 * read_embed.c — `tinglado read embed -m MODEL`: chunk embeddings of every
 * extracted article that lacks them (one transaction per article, so an
 * interrupted run resumes), and the query side of `read search -m MODEL`
 * (hybrid search).
 *
 * Vectors are stored under the model file's name; searching with another
 * model finds none of them rather than comparing unrelated spaces.
 */
#include "cli/read.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { CHUNK_WORDS = 150 }; /* ≈ 200 WordPiece tokens: inside MiniLM's 256 */

const char *tg__cli_read_model_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void usage(FILE *f) {
    fputs("usage: tinglado read embed -m MODEL [--chunk-words N] [--db PATH] [-t N]\n\n"
          "Embeds the passages of every extracted article that has no vectors from\n"
          "MODEL yet (a BERT-family GGUF, e.g. all-MiniLM-L6-v2 made by tinglado\n"
          "convert, or a cached model name).  Then `tinglado read search QUERY -m MODEL`\n"
          "fuses full-text and vector rankings.\n\n"
          "  -m, --model MODEL   the embedding model\n"
          "  -t, --threads N     threads (default: all CPUs)\n"
          "      --chunk-words N words per passage (default 150, at most 200: the model reads\n"
          "                      256 tokens); `read ask` hands passages to a language model,\n"
          "                      where shorter ones cost less\n"
          "      --db PATH       the library\n",
          f);
}

int tg__cli_read_embed(int argc, char **argv) {
    static const struct option opts[] = {{"model", required_argument, 0, 'm'}, {"db", required_argument, 0, 'd'},
                                         {"threads", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'},
                                         {"chunk-words", required_argument, 0, 'w'},
                                         {0, 0, 0, 0}};
    const char *model = NULL, *db = NULL;
    tg_embedder_params ep = tg_embedder_default_params();
    long val;
    int32_t chunk_words = CHUNK_WORDS;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'd': db = optarg; break;
        case 'w':
            if (!tg_cli_parse_int("--chunk-words", optarg, 16, 200, &val))
                return 2;
            chunk_words = (int32_t)val;
            break;
        case 't':
            if (!tg_cli_parse_int("--threads", optarg, 1, 1024, &val))
                return 2;
            ep.n_threads = (int)val;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!model || optind != argc) {
        usage(stderr);
        return 2;
    }
    char path[4096];
    if (tg_cli_resolve_model(model, path, sizeof path))
        return tg_cli_fail("read embed");
    tg_library *lib = tg__cli_read_open(db);
    if (!lib)
        return 1;
    int rc = 0;
    int64_t *ids = NULL;
    size_t n = 0, n_chunks = 0;
    tg_embedder *e = tg_embedder_load(path, &ep);
    if (!e || tg_library_unembedded(lib, tg__cli_read_model_name(path), &ids, &n)) {
        rc = tg_cli_fail("read embed");
        goto done;
    }
    const int32_t dim = tg_embedder_dim(e);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < n && !rc; i++) {
        char *text = NULL;
        int32_t *offs = NULL, *lens = NULL;
        size_t k = 0;
        if (tg_library_get_content(lib, ids[i], &text, NULL) || !text ||
            tg_read_chunk(text, chunk_words, &offs, &lens, &k)) {
            rc = tg_cli_fail("read embed");
            free(text);
            break;
        }
        const char **texts = calloc(k + 1, sizeof *texts);
        size_t *tl = calloc(k + 1, sizeof *tl);
        float *vecs = calloc((k + 1) * (size_t)dim, sizeof *vecs);
        if (!texts || !tl || !vecs) {
            fprintf(stderr, "tinglado read embed: out of memory\n");
            rc = 1;
        } else {
            for (size_t j = 0; j < k; j++) {
                texts[j] = text + offs[j];
                tl[j] = (size_t)lens[j];
            }
            if ((k && tg_embed(e, texts, tl, k, vecs, NULL)) ||
                tg_library_set_chunks(lib, ids[i], tg__cli_read_model_name(path), vecs, dim, offs, lens, k))
                rc = tg_cli_fail("read embed");
            n_chunks += k;
        }
        if (isatty(2))
            fprintf(stderr, "\r%zu/%zu articles, %zu passages", i + 1, n, n_chunks);
        free(texts);
        free(tl);
        free(vecs);
        free(offs);
        free(lens);
        free(text);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (isatty(2))
        fputs("\r\033[K", stderr);
    if (!rc)
        printf("embed: %zu articles, %zu passages in %.1f s (%s)\n", n, n_chunks,
               (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
               tg__cli_read_model_name(path));
done:
    free(ids);
    tg_embedder_free(e);
    tg_library_close(lib);
    return rc;
}

tg_status tg__cli_read_query_vec(const char *model, const char *query, char *path, size_t cap, float **vec,
                                 int32_t *dim) {
    *vec = NULL;
    tg_status s = tg_cli_resolve_model(model, path, cap);
    if (s)
        return s;
    tg_embedder *e = tg_embedder_load(path, NULL);
    if (!e)
        return TG_ERR_IO;
    *dim = tg_embedder_dim(e);
    *vec = malloc((size_t)*dim * sizeof **vec);
    s = *vec ? tg_embed(e, &query, NULL, 1, *vec, NULL) : TG_ERR_NOMEM;
    tg_embedder_free(e);
    if (s) {
        free(*vec);
        *vec = NULL;
    }
    return s;
}
