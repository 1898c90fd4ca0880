/*
 * safetensors.c — reader of the safetensors container, the format Hugging
 * Face ships weights in.  The file is untrusted input: everything is checked
 * before a tensor is handed out, and nothing here ever reads past the image.
 *
 *   offset  size  meaning
 *   0       8     N: header length, u64 little-endian
 *   8       N     UTF-8 JSON object:
 *                   "<tensor name>": {"dtype": "F32"|"F16"|"BF16"|"I64"|…,
 *                                     "shape": [d0, d1, …],
 *                                     "data_offsets": [begin, end]}
 *                   "__metadata__": {"key": "value", …}   (optional)
 *   8+N     …     the data section; a tensor's bytes are [begin, end)
 *                 relative to its start, row-major, little-endian
 *
 * Limits (the reference implementation's and ours): N ≤ 100 MB, at most
 * 4 dimensions here (BERT needs 2), ranges inside the data section and not
 * overlapping, byte size = product(shape) × element size exactly.
 */
#include "convert/convert.h"
#include "tensor/fp16.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_HEADER (100u * 1000u * 1000u)

struct tg__safetensors {
    void *map; /* non-NULL when we own a mapping */
    size_t map_size;
    tg__st_tensor *t;
    size_t n;
};

static const struct {
    const char *name;
    tg__st_dtype dtype;
    size_t size;
} dtypes[] = {
    {"F32", TG_ST_F32, 4},  {"F16", TG_ST_F16, 2},   {"BF16", TG_ST_BF16, 2}, {"I64", TG_ST_I64, 8},
    {"F64", TG_ST_OTHER, 8}, {"I32", TG_ST_OTHER, 4}, {"I16", TG_ST_OTHER, 2}, {"I8", TG_ST_OTHER, 1},
    {"U8", TG_ST_OTHER, 1},  {"BOOL", TG_ST_OTHER, 1}, {"U16", TG_ST_OTHER, 2}, {"U32", TG_ST_OTHER, 4},
    {"U64", TG_ST_OTHER, 8}, {"F8_E4M3", TG_ST_OTHER, 1}, {"F8_E5M2", TG_ST_OTHER, 1},
};

void tg__st_close(tg__safetensors *st) {
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        free(st->t[i].name);
    free(st->t);
    if (st->map)
        munmap(st->map, st->map_size);
    free(st);
}

typedef struct range {
    uint64_t begin, end;
    size_t idx;
} range;

static int cmp_range(const void *a, const void *b) {
    const range *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

/* One header entry → st->t[st->n]. */
static tg_status parse_entry(tg__safetensors *st, const char *name, const char *key, json_t *e,
                             const uint8_t *data, uint64_t data_size) {
    if (!json_is_object(e))
        return tg__fail(TG_ERR_FORMAT, "%s: entry '%s' is not an object", name, key);
    json_t *jd = json_object_get(e, "dtype"), *js = json_object_get(e, "shape");
    json_t *jo = json_object_get(e, "data_offsets");
    if (!json_is_string(jd) || !json_is_array(js) || !json_is_array(jo) || json_object_size(e) != 3)
        return tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' needs exactly dtype, shape and data_offsets", name,
                        key);
    size_t esize = 0;
    tg__st_dtype dt = TG_ST_OTHER;
    bool known = false;
    for (size_t i = 0; i < TG_ARRAY_LEN(dtypes); i++)
        if (!strcmp(json_string_value(jd), dtypes[i].name)) {
            dt = dtypes[i].dtype, esize = dtypes[i].size, known = true;
            break;
        }
    if (!known)
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: tensor '%s' has unknown dtype '%.16s'", name, key,
                        json_string_value(jd));
    size_t nd = json_array_size(js);
    if (nd > TG_ST_MAX_DIMS)
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: tensor '%s' has %zu dimensions (at most %d)", name, key, nd,
                        TG_ST_MAX_DIMS);
    tg__st_tensor *t = &st->t[st->n];
    memset(t, 0, sizeof *t);
    t->dtype = dt;
    t->n_dims = (int)nd;
    int64_t ne = 1;
    for (size_t i = 0; i < nd; i++) {
        json_t *d = json_array_get(js, i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            return tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' has a bad dimension", name, key);
        t->shape[i] = (int64_t)json_integer_value(d);
        if (!tg__mul_i64(ne, t->shape[i], &ne))
            return tg__fail(TG_ERR_RANGE, "%s: tensor '%s' has too many elements", name, key);
    }
    t->n_elements = ne;
    json_t *b = json_array_get(jo, 0), *en = json_array_get(jo, 1);
    if (json_array_size(jo) != 2 || !json_is_integer(b) || !json_is_integer(en) || json_integer_value(b) < 0 ||
        json_integer_value(en) < json_integer_value(b))
        return tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' has bad data_offsets", name, key);
    uint64_t begin = (uint64_t)json_integer_value(b), end = (uint64_t)json_integer_value(en);
    size_t bytes;
    if (!tg__mul_size((size_t)ne, esize, &bytes) || bytes != end - begin)
        return tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' spans %llu bytes but its shape needs %lld × %zu", name,
                        key, (unsigned long long)(end - begin), (long long)ne, esize);
    if (end > data_size)
        return tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' data [%llu, %llu) lies outside the data section (%llu bytes)",
                        name, key, (unsigned long long)begin, (unsigned long long)end,
                        (unsigned long long)data_size);
    t->data = data + begin;
    t->nbytes = (size_t)bytes;
    t->name = tg__strndup(key, strlen(key));
    if (!t->name)
        return TG_ERR_NOMEM;
    st->n++;
    return TG_OK;
}

tg__safetensors *tg__st_parse(const void *image, size_t size, const char *name) {
    const uint8_t *p = image;
    if (!name)
        name = "(safetensors)";
    if (!p || size < 8) {
        tg__fail(TG_ERR_FORMAT, "%s: too short for a safetensors file (%zu bytes)", name, size);
        return NULL;
    }
    uint64_t hlen = tg__load_u64(p);
    if (hlen > ST_MAX_HEADER || hlen > size - 8) {
        tg__fail(TG_ERR_FORMAT, "%s: header length %llu exceeds the file (%zu bytes) or the 100 MB limit", name,
                 (unsigned long long)hlen, size);
        return NULL;
    }
    const uint8_t *data = p + 8 + hlen;
    const uint64_t data_size = size - 8 - hlen;
    json_error_t jerr;
    json_t *root = json_loadb((const char *)p + 8, (size_t)hlen, JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK, &jerr);
    tg__safetensors *st = tg__calloc(1, sizeof *st);
    range *r = NULL;
    if (!st)
        goto fail;
    if (!root) {
        tg__fail(TG_ERR_FORMAT, "%s: header is not valid JSON (%s at byte %d)", name, jerr.text, jerr.position);
        goto fail;
    }
    if (!json_is_object(root)) {
        tg__fail(TG_ERR_FORMAT, "%s: header is not a JSON object", name);
        goto fail;
    }
    size_t cap = json_object_size(root);
    st->t = tg__calloc(cap ? cap : 1, sizeof *st->t);
    if (!st->t)
        goto fail;
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (!strcmp(key, "__metadata__")) {
            const char *mk;
            json_t *mv;
            if (!json_is_object(val)) {
                tg__fail(TG_ERR_FORMAT, "%s: __metadata__ is not an object", name);
                goto fail;
            }
            json_object_foreach(val, mk, mv) if (!json_is_string(mv)) {
                tg__fail(TG_ERR_FORMAT, "%s: __metadata__ value of '%s' is not a string", name, mk);
                goto fail;
            }
            continue;
        }
        if (parse_entry(st, name, key, val, data, data_size))
            goto fail;
    }
    /* ranges must not overlap (empty tensors may sit anywhere) */
    r = tg__calloc(st->n ? st->n : 1, sizeof *r);
    if (!r)
        goto fail;
    for (size_t i = 0; i < st->n; i++)
        r[i] = (range){(uint64_t)(st->t[i].data - data), (uint64_t)(st->t[i].data - data) + st->t[i].nbytes, i};
    qsort(r, st->n, sizeof *r, cmp_range);
    uint64_t reach = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (r[i].begin == r[i].end)
            continue;
        if (r[i].begin < reach) {
            tg__fail(TG_ERR_FORMAT, "%s: tensor '%s' overlaps another tensor's data", name, st->t[r[i].idx].name);
            goto fail;
        }
        reach = r[i].end;
    }
    free(r);
    json_decref(root);
    return st;
fail:
    free(r);
    if (root)
        json_decref(root);
    tg__st_close(st);
    return NULL;
}

tg__safetensors *tg__st_open(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        tg__fail(TG_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 8) {
        tg__fail(TG_ERR_FORMAT, "%s: not a regular file of at least 8 bytes", path);
        close(fd);
        return NULL;
    }
    size_t size = (size_t)sb.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        tg__fail(TG_ERR_IO, "%s: mmap: %s", path, strerror(errno));
        return NULL;
    }
    tg__safetensors *st = tg__st_parse(map, size, path);
    if (!st) {
        munmap(map, size);
        return NULL;
    }
    st->map = map;
    st->map_size = size;
    return st;
}

size_t tg__st_n_tensors(const tg__safetensors *st) { return st->n; }

const tg__st_tensor *tg__st_tensor_at(const tg__safetensors *st, size_t i) {
    return i < st->n ? &st->t[i] : NULL;
}

const tg__st_tensor *tg__st_find(const tg__safetensors *st, const char *name) {
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->t[i].name, name))
            return &st->t[i];
    return NULL;
}

tg_status tg__st_read_f32(const tg__st_tensor *t, int64_t first, int64_t n, float *dst) {
    if (first < 0 || n < 0 || first > t->n_elements || n > t->n_elements - first)
        return tg__fail(TG_ERR_RANGE, "tensor '%s': elements [%lld, +%lld) out of range", t->name,
                        (long long)first, (long long)n);
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case TG_ST_F32:
        memcpy(dst, p + (size_t)first * 4, (size_t)n * 4); /* little-endian host */
        return TG_OK;
    case TG_ST_F16:
        for (int64_t i = 0; i < n; i++)
            dst[i] = tg__fp16_to_f32(tg__load_u16(p + (size_t)(first + i) * 2));
        return TG_OK;
    case TG_ST_BF16:
        for (int64_t i = 0; i < n; i++)
            dst[i] = tg_bf16_to_f32(tg__load_u16(p + (size_t)(first + i) * 2));
        return TG_OK;
    default:
        return tg__fail(TG_ERR_TYPE, "tensor '%s' is not a float tensor", t->name);
    }
}
