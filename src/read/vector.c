/*
 * vector.c — chunk embeddings and hybrid search.
 *
 * Articles are cut into passages (paragraphs packed up to a word budget,
 * long paragraphs split), each embedded by the caller's model and stored
 * as float BLOBs with their byte range in the text.  Vector search scans
 * every chunk of one model (brute force: a personal library holds
 * thousands of articles, not millions) and ranks items by their best
 * chunk.  Hybrid search fuses the BM25 ranking and the vector ranking by
 * reciprocal rank (score = sum of 1 / (60 + rank)), which needs no score
 * calibration between the two.
 */
#include "read/store.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

tg_status tg_read_chunk(const char *text, int32_t max_words, int32_t **offs, int32_t **lens, size_t *n) {
    *offs = *lens = NULL;
    *n = 0;
    if (max_words < 8)
        max_words = 8;
    size_t cap = 0, len = strlen(text);
    if (len > INT32_MAX)
        return tg__fail(TG_ERR_RANGE, "text too long to chunk");
    size_t start = 0;
    while (start < len) {
        /* skip blank space between chunks */
        while (start < len && isspace((unsigned char)text[start]))
            start++;
        if (start >= len)
            break;
        /* take words up to the budget, preferring to stop at a paragraph end */
        size_t p = start, end = start, para_end = 0;
        int32_t words = 0;
        while (p < len && words < max_words) {
            while (p < len && isspace((unsigned char)text[p])) {
                if (text[p] == '\n' && p + 1 < len && text[p + 1] == '\n' && words >= max_words / 2)
                    para_end = p;
                p++;
            }
            if (p >= len)
                break;
            while (p < len && !isspace((unsigned char)text[p]))
                p++;
            words++;
            end = p;
        }
        if (para_end > start && p < len)
            end = para_end;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            int32_t *o = tg__realloc(*offs, cap * sizeof *o);
            if (!o)
                goto nomem;
            *offs = o;
            int32_t *l = tg__realloc(*lens, cap * sizeof *l);
            if (!l)
                goto nomem;
            *lens = l;
        }
        (*offs)[*n] = (int32_t)start;
        (*lens)[*n] = (int32_t)(end - start);
        (*n)++;
        start = end;
    }
    return TG_OK;
nomem:
    free(*offs);
    free(*lens);
    *offs = *lens = NULL;
    *n = 0;
    return TG_ERR_NOMEM;
}

tg_status tg_library_set_chunks(tg_library *lib, int64_t id, const char *model, const float *vecs, int32_t dim,
                                const int32_t *offs, const int32_t *lens, size_t n) {
    if (!model || (n && (!vecs || dim <= 0 || dim > (1 << 16) || !offs || !lens)))
        return tg__fail(TG_ERR_ARG, "chunk embeddings need a model name, vectors, a dimension and offsets");
    tg_status s = tg__lib_begin(lib);
    if (s)
        return s;
    sqlite3_stmt *d = tg__lib_prepare(lib, "DELETE FROM chunks WHERE item = ?1");
    sqlite3_stmt *c = tg__lib_prepare(lib, "INSERT INTO chunks(item, seq, off, len, model, dim, vec) VALUES "
                                           "(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!d || !c)
        s = TG_ERR_IO;
    if (!s) {
        sqlite3_bind_int64(d, 1, id);
        if (sqlite3_step(d) != SQLITE_DONE)
            s = tg__lib_sqlfail(lib, "replacing embeddings");
    }
    for (size_t k = 0; !s && k < n; k++) {
        sqlite3_reset(c);
        sqlite3_bind_int64(c, 1, id);
        sqlite3_bind_int64(c, 2, (int64_t)k);
        sqlite3_bind_int(c, 3, offs[k]);
        sqlite3_bind_int(c, 4, lens[k]);
        sqlite3_bind_text(c, 5, model, -1, SQLITE_STATIC);
        sqlite3_bind_int(c, 6, dim);
        sqlite3_bind_blob(c, 7, vecs + k * (size_t)dim, dim * (int)sizeof(float), SQLITE_STATIC);
        if (sqlite3_step(c) != SQLITE_DONE)
            s = tg__lib_sqlfail(lib, "storing embeddings");
    }
    sqlite3_finalize(d);
    sqlite3_finalize(c);
    return tg__lib_end(lib, s);
}

tg_status tg_library_unembedded(tg_library *lib, const char *model, int64_t **ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT c.item FROM contents c WHERE NOT EXISTS (SELECT 1 FROM chunks k "
                                            "WHERE k.item = c.item AND k.model = ?1) ORDER BY c.item");
    if (!st)
        return TG_ERR_IO;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    size_t cap = 0;
    tg_status s = TG_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            int64_t *v = tg__realloc(*ids, cap * sizeof *v);
            if (!v) {
                s = TG_ERR_NOMEM;
                break;
            }
            *ids = v;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (!s && rc != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "listing items to embed");
    sqlite3_finalize(st);
    if (s) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return s;
}

typedef struct best {
    int64_t id;
    double score;
    int32_t off, len;
} best;

static int by_score(const void *a, const void *b) {
    double x = ((const best *)a)->score, y = ((const best *)b)->score;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* A passage of the item's text as a snippet (at most ~240 bytes, cut at a
 * UTF-8 boundary). */
static char *passage(tg_library *lib, int64_t id, int32_t off, int32_t len) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT substr(CAST(text AS BLOB), ?2, ?3) FROM contents WHERE item = ?1");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, off + 1);
    sqlite3_bind_int(st, 3, TG_MIN(len, 240));
    char *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *b = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        while (n > 0 && b && ((unsigned char)b[n - 1] & 0xC0) == 0x80)
            n--; /* drop a cut multi-byte character */
        if (n > 0 && b && (unsigned char)b[n - 1] >= 0xC0)
            n--;
        out = b ? tg__strndup(b, (size_t)n) : NULL;
        /* one line: paragraph breaks and runs of blanks become one space */
        if (out) {
            size_t j = 0;
            for (size_t i = 0; out[i]; i++) {
                bool sp = out[i] == '\n' || out[i] == '\t' || out[i] == '\r' || out[i] == ' ';
                if (sp && (j == 0 || out[j - 1] == ' '))
                    continue;
                out[j++] = sp ? ' ' : out[i];
            }
            out[j] = '\0';
        }
    }
    sqlite3_finalize(st);
    return out;
}

tg_status tg__lib_chunk_cosines(tg_library *lib, const char *model, const float *q, int32_t dim,
                                tg__chunk_cos_fn fn, void *user) {
    sqlite3_stmt *st = tg__lib_prepare(lib, "SELECT item, off, len, vec FROM chunks WHERE model = ?1 AND dim = ?2 "
                                            "ORDER BY item, seq");
    if (!st)
        return TG_ERR_IO;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, dim);
    double qn = 0;
    for (int32_t i = 0; i < dim; i++)
        qn += (double)q[i] * q[i];
    qn = sqrt(qn);
    tg_status s = TG_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *vec = sqlite3_column_blob(st, 3);
        if (!vec || sqlite3_column_bytes(st, 3) != dim * (int)sizeof(float))
            continue; /* a damaged row: skip it, never read past it */
        double dot = 0, vn = 0;
        for (int32_t i = 0; i < dim; i++) {
            float x;
            memcpy(&x, vec + (size_t)i * sizeof x, sizeof x); /* blobs are not aligned */
            dot += (double)x * q[i];
            vn += (double)x * x;
        }
        double cos = qn > 0 && vn > 0 ? dot / (qn * sqrt(vn)) : 0;
        if (!fn(user, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1), sqlite3_column_int(st, 2), cos)) {
            s = TG_ERR_NOMEM;
            break;
        }
    }
    if (!s && rc != SQLITE_DONE)
        s = tg__lib_sqlfail(lib, "reading chunk vectors");
    sqlite3_finalize(st);
    return s;
}

typedef struct bests {
    best *v;
    size_t n, cap;
} bests;

/* Keeps each item's best chunk (chunks come ordered by item). */
static bool keep_best(void *user, int64_t id, int32_t off, int32_t len, double cos) {
    bests *b = user;
    if (b->n && b->v[b->n - 1].id == id) {
        if (cos > b->v[b->n - 1].score)
            b->v[b->n - 1] = (best){id, cos, off, len};
        return true;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        best *v = tg__realloc(b->v, cap * sizeof *v);
        if (!v)
            return false;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = (best){id, cos, off, len};
    return true;
}

tg_status tg_library_vector_search(tg_library *lib, const char *model, const float *q, int32_t dim, size_t limit,
                                   tg_search_hit **hits, size_t *n) {
    *hits = NULL;
    *n = 0;
    bests bs = {0};
    tg_status s = tg__lib_chunk_cosines(lib, model, q, dim, keep_best, &bs);
    best *v = bs.v;
    size_t nv = bs.n;
    if (s) {
        free(v);
        return s;
    }
    if (nv)
        qsort(v, nv, sizeof *v, by_score);
    size_t m = limit && limit < nv ? limit : nv;
    if (m) {
        *hits = tg__calloc(m, sizeof **hits);
        if (!*hits) {
            free(v);
            return TG_ERR_NOMEM;
        }
    }
    for (size_t i = 0; i < m; i++) {
        (*hits)[i].id = v[i].id;
        (*hits)[i].score = v[i].score;
        (*hits)[i].snippet = passage(lib, v[i].id, v[i].off, v[i].len);
    }
    *n = m;
    free(v);
    return TG_OK;
}

typedef struct fused {
    int64_t id;
    double score;
    char *snippet;
} fused;

static int by_fused(const void *a, const void *b) {
    double x = ((const fused *)a)->score, y = ((const fused *)b)->score;
    return x < y ? 1 : x > y ? -1 : 0;
}

tg_status tg_library_search_hybrid(tg_library *lib, const char *query, const char *model, const float *qvec,
                                   int32_t dim, size_t limit, tg_search_hit **hits, size_t *n) {
    *hits = NULL;
    *n = 0;
    enum { DEPTH = 50, K = 60 };
    tg_search_hit *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    tg_status s = tg_library_search(lib, query, DEPTH, &a, &na);
    if (!s && qvec)
        s = tg_library_vector_search(lib, model, qvec, dim, DEPTH, &b, &nb);
    fused *f = s ? NULL : tg__calloc(na + nb + 1, sizeof *f);
    if (!s && !f)
        s = TG_ERR_NOMEM;
    size_t nf = 0;
    for (int list = 0; !s && list < 2; list++) {
        tg_search_hit *h = list ? b : a;
        size_t nh = list ? nb : na;
        for (size_t r = 0; r < nh; r++) {
            size_t j = 0;
            while (j < nf && f[j].id != h[r].id)
                j++;
            if (j == nf) {
                f[nf].id = h[r].id;
                f[nf].snippet = h[r].snippet; /* the BM25 snippet if it has one */
                h[r].snippet = NULL;
                nf++;
            }
            f[j].score += 1.0 / (double)(K + r + 1);
        }
    }
    tg_search_hits_free(a, na);
    tg_search_hits_free(b, nb);
    if (s) {
        free(f);
        return s;
    }
    if (nf)
        qsort(f, nf, sizeof *f, by_fused);
    size_t m = limit && limit < nf ? limit : nf;
    if (m) {
        *hits = tg__calloc(m, sizeof **hits);
        if (!*hits)
            s = TG_ERR_NOMEM;
    }
    for (size_t i = 0; i < nf; i++) {
        if (!s && i < m) {
            (*hits)[i] = (tg_search_hit){f[i].id, f[i].score, f[i].snippet};
        } else {
            free(f[i].snippet);
        }
    }
    free(f);
    if (!s)
        *n = m;
    return s;
}
