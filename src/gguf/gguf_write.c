/*
 * gguf_write.c — the GGUF v3 writer, used by tests and by tools that make
 * synthetic or converted models.  It collects metadata and tensors in memory
 * and writes the file in one go, to a temporary name renamed into place, so
 * a crash never leaves a half-written model under the final name.
 *
 * Setting a key twice replaces the earlier value (tools copy metadata from
 * one file and override some of it).
 */
#include "gguf/gguf_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct wkv {
    char *key;
    tg__buf enc; /* value_type u32 + encoded value */
} wkv;

typedef struct wtensor {
    char *name;
    tg_type type;
    uint32_t n_dims;
    int64_t ne[TG_GGUF_MAX_DIMS];
    size_t nbytes;
    uint8_t *data;
} wtensor;

struct tg_gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
    uint32_t alignment;
};

tg_gguf_writer *tg_gguf_writer_new(void) {
    tg_gguf_writer *w = tg__calloc(1, sizeof *w);
    if (w)
        w->alignment = 32;
    return w;
}

void tg_gguf_writer_free(tg_gguf_writer *w) {
    if (!w)
        return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        tg__buf_free(&w->kv[i].enc);
    }
    for (size_t i = 0; i < w->n_t; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    free(w->kv);
    free(w->t);
    free(w);
}

/* Returns the entry for key, creating an empty one if needed (NULL on OOM). */
static wkv *kv_slot(tg_gguf_writer *w, const char *key) {
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key)) {
            tg__buf_free(&w->kv[i].enc);
            return &w->kv[i];
        }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? 2 * w->cap_kv : 16;
        wkv *nk = tg__realloc(w->kv, cap * sizeof *nk);
        if (!nk)
            return NULL;
        w->kv = nk;
        w->cap_kv = cap;
    }
    wkv *e = &w->kv[w->n_kv];
    *e = (wkv){0};
    e->key = tg__strndup(key, strlen(key));
    if (!e->key)
        return NULL;
    w->n_kv++;
    return e;
}

static bool put_str(tg__buf *b, const char *s, size_t len) {
    return tg__buf_append_u64(b, len) && tg__buf_append(b, s, len);
}

static bool put_scalar(tg__buf *b, const tg_gguf_value *v) {
    switch (v->type) {
    case TG_GGUF_UINT8: case TG_GGUF_INT8: return tg__buf_append_u8(b, (uint8_t)v->v.u64);
    case TG_GGUF_BOOL: return tg__buf_append_u8(b, v->v.b ? 1 : 0);
    case TG_GGUF_UINT16: case TG_GGUF_INT16: {
        uint8_t t[2] = {(uint8_t)v->v.u64, (uint8_t)(v->v.u64 >> 8)};
        return tg__buf_append(b, t, 2);
    }
    case TG_GGUF_UINT32: case TG_GGUF_INT32: return tg__buf_append_u32(b, (uint32_t)v->v.u64);
    case TG_GGUF_UINT64: case TG_GGUF_INT64: return tg__buf_append_u64(b, v->v.u64);
    case TG_GGUF_FLOAT32: {
        float f = (float)v->v.f64;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        return tg__buf_append_u32(b, bits);
    }
    case TG_GGUF_FLOAT64: {
        uint64_t bits;
        memcpy(&bits, &v->v.f64, 8);
        return tg__buf_append_u64(b, bits);
    }
    case TG_GGUF_STRING: return put_str(b, v->v.str.ptr, v->v.str.len);
    case TG_GGUF_ARRAY:
        /* The packed elements of an array read from a file are already in
         * the on-disk encoding, nested arrays included. */
        return tg__buf_append_u32(b, (uint32_t)v->v.arr.type) && tg__buf_append_u64(b, v->v.arr.n) &&
               tg__buf_append(b, v->v.arr.data, v->v.arr.nbytes);
    default: return false;
    }
}

static tg_status check_key(const char *key) {
    if (!key || !*key || strlen(key) > 65535)
        return tg__fail(TG_ERR_ARG, "gguf writer: invalid metadata key");
    return TG_OK;
}

tg_status tg_gguf_writer_set(tg_gguf_writer *w, const char *key, const tg_gguf_value *value) {
    tg_status s = check_key(key);
    if (s)
        return s;
    if ((unsigned)value->type >= TG_GGUF_TYPE_COUNT)
        return tg__fail(TG_ERR_ARG, "gguf writer: key '%s': unknown value type %d", key, (int)value->type);
    if (!strcmp(key, "general.alignment")) {
        if (value->type != TG_GGUF_UINT32 || value->v.u64 == 0 || (value->v.u64 & (value->v.u64 - 1)))
            return tg__fail(TG_ERR_ARG, "gguf writer: general.alignment must be a u32 power of two");
        w->alignment = (uint32_t)value->v.u64;
    }
    wkv *e = kv_slot(w, key);
    if (!e)
        return TG_ERR_NOMEM;
    if (!tg__buf_append_u32(&e->enc, (uint32_t)value->type) || !put_scalar(&e->enc, value))
        return TG_ERR_NOMEM;
    return TG_OK;
}

tg_status tg_gguf_writer_set_alignment(tg_gguf_writer *w, uint32_t alignment) {
    return tg_gguf_writer_set_u32(w, "general.alignment", alignment);
}

tg_status tg_gguf_writer_set_u32(tg_gguf_writer *w, const char *key, uint32_t v) {
    tg_gguf_value val = {.type = TG_GGUF_UINT32, .v.u64 = v};
    return tg_gguf_writer_set(w, key, &val);
}

tg_status tg_gguf_writer_set_i32(tg_gguf_writer *w, const char *key, int32_t v) {
    tg_gguf_value val = {.type = TG_GGUF_INT32, .v.u64 = (uint32_t)v};
    return tg_gguf_writer_set(w, key, &val);
}

tg_status tg_gguf_writer_set_f32(tg_gguf_writer *w, const char *key, float v) {
    tg_gguf_value val = {.type = TG_GGUF_FLOAT32, .v.f64 = v};
    return tg_gguf_writer_set(w, key, &val);
}

tg_status tg_gguf_writer_set_bool(tg_gguf_writer *w, const char *key, bool v) {
    tg_gguf_value val = {.type = TG_GGUF_BOOL, .v.b = v};
    return tg_gguf_writer_set(w, key, &val);
}

tg_status tg_gguf_writer_set_str(tg_gguf_writer *w, const char *key, const char *v) {
    tg_gguf_value val = {.type = TG_GGUF_STRING, .v.str = {v, strlen(v)}};
    return tg_gguf_writer_set(w, key, &val);
}

tg_status tg_gguf_writer_set_array(tg_gguf_writer *w, const char *key, tg_gguf_type elem_type,
                                   const void *data, uint64_t n) {
    size_t es = tg__gguf_type_size(elem_type);
    if (!es)
        return tg__fail(TG_ERR_ARG, "gguf writer: key '%s': set_array takes fixed-size elements; "
                        "use set_str_array for strings", key);
    size_t nbytes;
    if (n > SIZE_MAX || !tg__mul_size((size_t)n, es, &nbytes))
        return tg__fail(TG_ERR_RANGE, "gguf writer: key '%s': array too large", key);
    tg_gguf_value val = {.type = TG_GGUF_ARRAY};
    val.v.arr.type = elem_type;
    val.v.arr.n = n;
    val.v.arr.data = data;
    val.v.arr.nbytes = nbytes;
    return tg_gguf_writer_set(w, key, &val);
}

tg_status tg_gguf_writer_set_str_array(tg_gguf_writer *w, const char *key, const char *const *strs,
                                       uint64_t n) {
    tg_status s = check_key(key);
    if (s)
        return s;
    wkv *e = kv_slot(w, key);
    if (!e)
        return TG_ERR_NOMEM;
    bool ok = tg__buf_append_u32(&e->enc, TG_GGUF_ARRAY) && tg__buf_append_u32(&e->enc, TG_GGUF_STRING) &&
              tg__buf_append_u64(&e->enc, n);
    for (uint64_t i = 0; ok && i < n; i++)
        ok = put_str(&e->enc, strs[i], strlen(strs[i]));
    return ok ? TG_OK : TG_ERR_NOMEM;
}

tg_status tg_gguf_writer_add_tensor(tg_gguf_writer *w, const char *name, tg_type type, uint32_t n_dims,
                                    const int64_t *ne, const void *data) {
    size_t nl = name ? strlen(name) : 0;
    if (nl == 0 || nl >= 64)
        return tg__fail(TG_ERR_ARG, "gguf writer: tensor name '%s' must have 1 to 63 bytes",
                        name ? name : "");
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name))
            return tg__fail(TG_ERR_ARG, "gguf writer: duplicate tensor '%s'", name);
    if (n_dims < 1 || n_dims > TG_GGUF_MAX_DIMS)
        return tg__fail(TG_ERR_ARG, "gguf writer: tensor '%s' must have 1 to 4 dimensions", name);
    const tg_type_traits *tr = tg_type_get((uint32_t)type);
    if (!tr)
        return tg__fail(TG_ERR_ARG, "gguf writer: tensor '%s' has unknown type %d", name, (int)type);
    wtensor t = {.type = type, .n_dims = n_dims, .ne = {1, 1, 1, 1}};
    int64_t nelem = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] < 0 || !tg__mul_i64(nelem, ne[d], &nelem))
            return tg__fail(TG_ERR_ARG, "gguf writer: tensor '%s' has an invalid shape", name);
        t.ne[d] = ne[d];
    }
    size_t row = tg_type_row_size(type, t.ne[0]);
    if (!row && t.ne[0] != 0)
        return tg__fail_prefix(TG_ERR_ARG, "gguf writer: tensor '%s'", name);
    if (!tg__mul_size((size_t)(nelem / tr->block_size), tr->type_size, &t.nbytes))
        return tg__fail(TG_ERR_RANGE, "gguf writer: tensor '%s' is too large", name);
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? 2 * w->cap_t : 16;
        wtensor *nt = tg__realloc(w->t, cap * sizeof *nt);
        if (!nt)
            return TG_ERR_NOMEM;
        w->t = nt;
        w->cap_t = cap;
    }
    t.name = tg__strndup(name, nl);
    t.data = tg__malloc(t.nbytes);
    if (!t.name || !t.data) {
        free(t.name);
        free(t.data);
        return TG_ERR_NOMEM;
    }
    if (t.nbytes)
        memcpy(t.data, data, t.nbytes);
    w->t[w->n_t++] = t;
    return TG_OK;
}

static size_t pad_to(size_t off, size_t a) { return (a - off % a) % a; }

static bool write_all(int fd, const void *data, size_t n) {
    const uint8_t *p = data;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += k;
        n -= (size_t)k;
    }
    return true;
}

tg_status tg_gguf_writer_write(tg_gguf_writer *w, const char *path) {
    /* Header, metadata and tensor table go into one buffer; tensor data is
     * streamed after it. */
    tg__buf h = {0};
    tg__buf_append_u32(&h, 0x46554747u);
    tg__buf_append_u32(&h, 3);
    tg__buf_append_u64(&h, w->n_t);
    tg__buf_append_u64(&h, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        put_str(&h, w->kv[i].key, strlen(w->kv[i].key));
        tg__buf_append(&h, w->kv[i].enc.data, w->kv[i].enc.len);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        put_str(&h, t->name, strlen(t->name));
        tg__buf_append_u32(&h, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++)
            tg__buf_append_u64(&h, (uint64_t)t->ne[d]);
        tg__buf_append_u32(&h, (uint32_t)t->type);
        tg__buf_append_u64(&h, off);
        off += t->nbytes + pad_to(t->nbytes, w->alignment);
    }
    tg__buf_append_zeros(&h, pad_to(h.len, w->alignment));
    if (h.failed) {
        tg__buf_free(&h);
        return TG_ERR_NOMEM;
    }

    size_t plen = strlen(path);
    char *tmp = tg__malloc(plen + 16);
    if (!tmp) {
        tg__buf_free(&h);
        return TG_ERR_NOMEM;
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        tg_status s = tg__fail(TG_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
        free(tmp);
        tg__buf_free(&h);
        return s;
    }
    static const uint8_t zeros[64];
    bool ok = write_all(fd, h.data, h.len);
    for (size_t i = 0; ok && i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        size_t pad = pad_to(t->nbytes, w->alignment);
        ok = write_all(fd, t->data, t->nbytes);
        while (ok && pad) {
            size_t k = TG_MIN(pad, sizeof zeros);
            ok = write_all(fd, zeros, k);
            pad -= k;
        }
    }
    ok = ok && fsync(fd) == 0;
    int err = errno;
    ok = (close(fd) == 0) && ok;
    tg_status s = TG_OK;
    if (!ok) {
        s = tg__fail(TG_ERR_IO, "%s: write failed: %s", path, strerror(err));
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        s = tg__fail(TG_ERR_IO, "%s: cannot rename the temporary file into place: %s", path,
                     strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    tg__buf_free(&h);
    return s;
}
