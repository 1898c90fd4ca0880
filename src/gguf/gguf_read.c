/*
 * gguf_read.c — the GGUF reader: maps a file and validates every byte of its
 * header, metadata and tensor table before anyone may look at them.
 *
 * The format (all integers little-endian; "string" = u64 length + bytes, no NUL):
 *
 *   offset  size  field
 *   0       4     magic "GGUF" (47 47 55 46)
 *   4       4     version (u32): 2 or 3 (same layout); 1 used u32 counts and is refused
 *   8       8     tensor_count (u64)
 *   16      8     kv_count (u64)
 *   24      …     kv_count × { key: string, value_type: u32, value }
 *                 value: u8/i8/bool 1 byte, u16/i16 2, u32/i32/f32 4, u64/i64/f64 8,
 *                        string, or array = { elem_type: u32, n: u64, n × element }
 *                        (arrays of arrays are allowed here, nested at most
 *                        TG_GGUF_MAX_NESTING deep)
 *   …       …     tensor_count × { name: string (< 64 bytes), n_dims: u32 (≤ 4),
 *                                  n_dims × ne: u64, type: u32, offset: u64 }
 *   …       …     zero padding up to a multiple of the alignment
 *                 (general.alignment, u32 power of two; default 32)
 *   data    …     tensor data; each tensor at data + offset, offset a multiple of
 *                 the alignment, size = ne[0]/block · type_size · ne[1]·ne[2]·ne[3]
 *
 * What this file must never do: read outside [base, base+size), allocate
 * more than a small multiple of the file size, loop more than a small
 * multiple of the file size, or abort.  Every count is bounded by the bytes
 * left before it is used, and every failure names the file and the problem.
 */
#include "gguf/gguf_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define GGUF_MAGIC 0x46554747u /* "GGUF" read as a little-endian u32 */
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_NAME 64 /* ggml's limit: tensor names are shorter than this */
#define GGUF_MAX_KEY 65535

/* Bytes of one fixed-size value; 0 for STRING/ARRAY/unknown. */
size_t tg__gguf_type_size(tg_gguf_type t) {
    switch (t) {
    case TG_GGUF_UINT8: case TG_GGUF_INT8: case TG_GGUF_BOOL: return 1;
    case TG_GGUF_UINT16: case TG_GGUF_INT16: return 2;
    case TG_GGUF_UINT32: case TG_GGUF_INT32: case TG_GGUF_FLOAT32: return 4;
    case TG_GGUF_UINT64: case TG_GGUF_INT64: case TG_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

const char *tg_gguf_type_name(tg_gguf_type t) {
    static const char *const names[TG_GGUF_TYPE_COUNT] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
    };
    return (unsigned)t < TG_GGUF_TYPE_COUNT ? names[t] : "?";
}

/* ---- a bounds-checked cursor over the image ---------------------------- */

typedef struct cursor {
    const uint8_t *base, *p, *end;
    const char *name; /* file name, for messages */
} cursor;

static size_t cur_off(const cursor *c) { return (size_t)(c->p - c->base); }
static size_t cur_left(const cursor *c) { return (size_t)(c->end - c->p); }

static tg_status truncated(const cursor *c, const char *what, size_t need) {
    return tg__fail(TG_ERR_FORMAT, "%s: file truncated: %s needs %zu bytes at offset %zu but only %zu remain",
                    c->name, what, need, cur_off(c), cur_left(c));
}

static tg_status read_u32(cursor *c, const char *what, uint32_t *out) {
    if (cur_left(c) < 4)
        return truncated(c, what, 4);
    *out = tg__load_u32(c->p);
    c->p += 4;
    return TG_OK;
}

static tg_status read_u64(cursor *c, const char *what, uint64_t *out) {
    if (cur_left(c) < 8)
        return truncated(c, what, 8);
    *out = tg__load_u64(c->p);
    c->p += 8;
    return TG_OK;
}

static tg_status read_str(cursor *c, const char *what, tg_str *out) {
    uint64_t len;
    tg_status s = read_u64(c, what, &len);
    if (s)
        return s;
    if (len > cur_left(c))
        return tg__fail(TG_ERR_FORMAT,
                        "%s: %s at offset %zu claims %llu bytes but only %zu remain in the file",
                        c->name, what, cur_off(c) - 8, (unsigned long long)len, cur_left(c));
    out->ptr = (const char *)c->p;
    out->len = (size_t)len;
    c->p += len;
    return TG_OK;
}

/* ---- metadata values ---------------------------------------------------- */

/* Decodes a fixed-size scalar of type t at p into v (p has enough bytes). */
static void decode_scalar(tg_gguf_type t, const uint8_t *p, tg_gguf_value *v) {
    v->type = t;
    switch (t) {
    case TG_GGUF_UINT8: v->v.u64 = p[0]; break;
    case TG_GGUF_INT8: v->v.i64 = (int8_t)p[0]; break;
    case TG_GGUF_UINT16: v->v.u64 = tg__load_u16(p); break;
    case TG_GGUF_INT16: v->v.i64 = (int16_t)tg__load_u16(p); break;
    case TG_GGUF_UINT32: v->v.u64 = tg__load_u32(p); break;
    case TG_GGUF_INT32: v->v.i64 = (int32_t)tg__load_u32(p); break;
    case TG_GGUF_UINT64: v->v.u64 = tg__load_u64(p); break;
    case TG_GGUF_INT64: v->v.i64 = (int64_t)tg__load_u64(p); break;
    case TG_GGUF_BOOL: v->v.b = p[0] != 0; break;
    case TG_GGUF_FLOAT32: {
        uint32_t bits = tg__load_u32(p);
        float f;
        memcpy(&f, &bits, 4);
        v->v.f64 = f;
        break;
    }
    case TG_GGUF_FLOAT64: {
        uint64_t bits = tg__load_u64(p);
        memcpy(&v->v.f64, &bits, 8);
        break;
    }
    default: break;
    }
}

/* Minimal encoded size of one value of type t (for bounding counts). */
static size_t min_value_size(tg_gguf_type t) {
    if (t == TG_GGUF_STRING)
        return 8;
    if (t == TG_GGUF_ARRAY)
        return 12;
    return tg__gguf_type_size(t);
}

/*
 * Parses a value of type t at the cursor into *out, validating it
 * completely (nested arrays included).  `depth` counts array nesting.  When
 * `strs` is non-NULL and the value is an array of strings, *strs receives a
 * freshly allocated array of element views (the caller owns it).
 */
static tg_status parse_value(cursor *c, tg_gguf_type t, int depth, const char *key,
                             tg_gguf_value *out, tg_str **strs) {
    memset(out, 0, sizeof *out);
    out->type = t;
    size_t fixed = tg__gguf_type_size(t);
    if (fixed) {
        if (cur_left(c) < fixed)
            return truncated(c, "a metadata value", fixed);
        if (t == TG_GGUF_BOOL && c->p[0] > 1)
            return tg__fail(TG_ERR_FORMAT, "%s: key '%s': bool value %u at offset %zu is neither 0 nor 1",
                            c->name, key, c->p[0], cur_off(c));
        decode_scalar(t, c->p, out);
        c->p += fixed;
        return TG_OK;
    }
    if (t == TG_GGUF_STRING)
        return read_str(c, "a string value", &out->v.str);
    if (t != TG_GGUF_ARRAY)
        return tg__fail(TG_ERR_FORMAT, "%s: key '%s' has unknown value type %u at offset %zu",
                        c->name, key, (unsigned)t, cur_off(c) - 4);

    if (depth >= TG_GGUF_MAX_NESTING)
        return tg__fail(TG_ERR_FORMAT, "%s: key '%s': arrays nested more than %d deep at offset %zu",
                        c->name, key, TG_GGUF_MAX_NESTING, cur_off(c));
    uint32_t et;
    uint64_t n;
    tg_status s = read_u32(c, "an array element type", &et);
    if (!s)
        s = read_u64(c, "an array length", &n);
    if (s)
        return s;
    if (et >= TG_GGUF_TYPE_COUNT)
        return tg__fail(TG_ERR_FORMAT, "%s: key '%s': array element type %u at offset %zu is unknown",
                        c->name, key, et, cur_off(c) - 12);
    size_t min = min_value_size((tg_gguf_type)et);
    if (n > cur_left(c) / min)
        return tg__fail(TG_ERR_FORMAT,
                        "%s: key '%s': array of %llu %s elements at offset %zu needs at least %llu bytes "
                        "but only %zu remain",
                        c->name, key, (unsigned long long)n, tg_gguf_type_name((tg_gguf_type)et),
                        cur_off(c) - 12, (unsigned long long)n * min, cur_left(c));
    out->v.arr.type = (tg_gguf_type)et;
    out->v.arr.n = n;
    out->v.arr.data = c->p;
    const uint8_t *start = c->p;

    if (tg__gguf_type_size((tg_gguf_type)et)) {
        size_t bytes = (size_t)n * min; /* cannot overflow: bounded by cur_left above */
        if (et == TG_GGUF_BOOL)
            for (size_t i = 0; i < bytes; i++)
                if (c->p[i] > 1)
                    return tg__fail(TG_ERR_FORMAT,
                                    "%s: key '%s': bool element %zu at offset %zu is neither 0 nor 1",
                                    c->name, key, i, cur_off(c) + i);
        c->p += bytes;
    } else if (et == TG_GGUF_STRING) {
        tg_str *views = NULL;
        if (strs && n) {
            views = tg__calloc((size_t)n, sizeof *views);
            if (!views)
                return TG_ERR_NOMEM;
        }
        for (uint64_t i = 0; i < n; i++) {
            tg_str e;
            s = read_str(c, "a string array element", &e);
            if (s) {
                free(views);
                return tg__fail_prefix(s, "%s: key '%s' element %llu", c->name, key,
                                       (unsigned long long)i);
            }
            if (views)
                views[i] = e;
        }
        if (strs)
            *strs = views;
        out->v.arr.strs = views;
    } else { /* nested arrays */
        for (uint64_t i = 0; i < n; i++) {
            tg_gguf_value inner;
            s = parse_value(c, TG_GGUF_ARRAY, depth + 1, key, &inner, NULL);
            if (s)
                return s;
        }
    }
    out->v.arr.nbytes = (size_t)(c->p - start);
    return TG_OK;
}

tg_status tg_gguf_array_get(const tg_gguf_value *arr, uint64_t i, tg_gguf_value *out) {
    if (!arr || arr->type != TG_GGUF_ARRAY)
        return tg__fail(TG_ERR_ARG, "tg_gguf_array_get: not an array value");
    if (i >= arr->v.arr.n)
        return tg__fail(TG_ERR_RANGE, "array index %llu out of range (length %llu)",
                        (unsigned long long)i, (unsigned long long)arr->v.arr.n);
    tg_gguf_type et = arr->v.arr.type;
    size_t fixed = tg__gguf_type_size(et);
    if (fixed) {
        memset(out, 0, sizeof *out);
        decode_scalar(et, arr->v.arr.data + (size_t)i * fixed, out);
        return TG_OK;
    }
    if (et == TG_GGUF_STRING && arr->v.arr.strs) {
        memset(out, 0, sizeof *out);
        out->type = TG_GGUF_STRING;
        out->v.str = arr->v.arr.strs[i];
        return TG_OK;
    }
    /* Walk the already-validated elements; still bounds-checked so that a
     * hand-made value cannot make us read out of range. */
    cursor c = {.base = arr->v.arr.data, .p = arr->v.arr.data,
                .end = arr->v.arr.data + arr->v.arr.nbytes, .name = "array"};
    tg_gguf_value tmp;
    for (uint64_t k = 0;; k++) {
        tg_status s = parse_value(&c, et, 0, "(element)", k == i ? out : &tmp, NULL);
        if (s)
            return s;
        if (k == i)
            return TG_OK;
    }
}

/* ---- hash index over names (keys, tensor names) ------------------------- */

static size_t index_cap_for(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    return cap;
}

/* Inserts entry `id` (0-based) named `name` into slots (value id+1, 0 = empty).
 * Returns the id of an existing entry of the same name, or -1 after inserting. */
static int64_t index_insert(uint32_t *slots, size_t cap, const tg_str *names, size_t stride,
                            size_t id) {
    const tg_str *nm = (const tg_str *)((const char *)names + id * stride);
    size_t h = (size_t)tg__hash(nm->ptr, nm->len) & (cap - 1);
    for (;;) {
        uint32_t e = slots[h];
        if (e == 0) {
            slots[h] = (uint32_t)(id + 1);
            return -1;
        }
        const tg_str *other = (const tg_str *)((const char *)names + (e - 1) * stride);
        if (tg__str_eq(*other, nm->ptr, nm->len))
            return (int64_t)(e - 1);
        h = (h + 1) & (cap - 1);
    }
}

static int64_t index_find(const uint32_t *slots, size_t cap, const tg_str *names, size_t stride,
                          const char *name) {
    if (!slots)
        return -1;
    size_t len = strlen(name);
    size_t h = (size_t)tg__hash(name, len) & (cap - 1);
    for (;;) {
        uint32_t e = slots[h];
        if (e == 0)
            return -1;
        const tg_str *other = (const tg_str *)((const char *)names + (e - 1) * stride);
        if (tg__str_eq(*other, name, len))
            return (int64_t)(e - 1);
        h = (h + 1) & (cap - 1);
    }
}

/* ---- the whole file ------------------------------------------------------ */

static tg_status parse_header(tg_gguf *g, cursor *c, uint64_t *n_tensors, uint64_t *n_kv) {
    if (g->size < 4)
        return tg__fail(TG_ERR_FORMAT, "%s: not a GGUF file (only %zu bytes)", g->path, g->size);
    uint32_t magic = tg__load_u32(c->p);
    if (magic != GGUF_MAGIC)
        return tg__fail(TG_ERR_FORMAT,
                        "%s: not a GGUF file (magic bytes %02x %02x %02x %02x, expected \"GGUF\")",
                        g->path, c->p[0], c->p[1], c->p[2], c->p[3]);
    c->p += 4;
    tg_status s = read_u32(c, "the version", &g->version);
    if (s)
        return s;
    if (g->version == 1)
        return tg__fail(TG_ERR_UNSUPPORTED,
                        "%s: GGUF version 1 is obsolete and not supported; re-convert the model "
                        "with a current converter", g->path);
    if (g->version != 2 && g->version != 3) {
        if ((g->version & 0xFFFFu) == 0 && g->version != 0)
            return tg__fail(TG_ERR_UNSUPPORTED,
                            "%s: GGUF version %u looks byte-swapped: a big-endian file? "
                            "only little-endian GGUF is supported", g->path, g->version);
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: GGUF version %u is not supported (expected 3)",
                        g->path, g->version);
    }
    if ((s = read_u64(c, "the tensor count", n_tensors)) || (s = read_u64(c, "the metadata count", n_kv)))
        return s;
    return TG_OK;
}

static tg_status parse_kv(tg_gguf *g, cursor *c, uint64_t n_kv) {
    /* Each pair is at least a key length, a type and a one-byte value. */
    if (n_kv > cur_left(c) / 13)
        return tg__fail(TG_ERR_FORMAT,
                        "%s: metadata count %llu is impossible: the file has only %zu bytes left for it",
                        g->path, (unsigned long long)n_kv, cur_left(c));
    if (n_kv >= UINT32_MAX)
        return tg__fail(TG_ERR_FORMAT, "%s: metadata count %llu is too large", g->path,
                        (unsigned long long)n_kv);
    g->n_kv = (size_t)n_kv;
    g->kv = tg__calloc(g->n_kv, sizeof *g->kv);
    g->kv_index_cap = index_cap_for(g->n_kv);
    g->kv_index = tg__calloc(g->kv_index_cap, sizeof *g->kv_index);
    if (!g->kv || !g->kv_index)
        return TG_ERR_NOMEM;

    for (size_t i = 0; i < g->n_kv; i++) {
        tg__gguf_kv *kv = &g->kv[i];
        size_t at = cur_off(c);
        tg_status s = read_str(c, "a metadata key", &kv->key);
        if (s)
            return tg__fail_prefix(s, "metadata pair %zu", i);
        if (kv->key.len == 0 || kv->key.len > GGUF_MAX_KEY)
            return tg__fail(TG_ERR_FORMAT, "%s: metadata key %zu at offset %zu has invalid length %zu",
                            g->path, i, at, kv->key.len);
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)TG_MIN(kv->key.len, 100), kv->key.ptr);
        int64_t dup = index_insert(g->kv_index, g->kv_index_cap, &g->kv[0].key, sizeof *g->kv, i);
        if (dup >= 0)
            return tg__fail(TG_ERR_FORMAT, "%s: duplicate metadata key '%s' (pairs %lld and %zu)",
                            g->path, key, (long long)dup, i);
        uint32_t type;
        if ((s = read_u32(c, "a metadata value type", &type)))
            return s;
        if (type >= TG_GGUF_TYPE_COUNT)
            return tg__fail(TG_ERR_FORMAT, "%s: key '%s' has unknown value type %u", g->path, key, type);
        tg_str *strs = NULL;
        s = parse_value(c, (tg_gguf_type)type, 0, key, &kv->value, &strs);
        kv->strs = strs;
        if (s)
            return s;
    }
    return TG_OK;
}

static tg_status parse_alignment(tg_gguf *g) {
    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    int64_t k = tg_gguf_find_key(g, "general.alignment");
    if (k < 0)
        return TG_OK;
    const tg_gguf_value *v = &g->kv[k].value;
    if (v->type != TG_GGUF_UINT32)
        return tg__fail(TG_ERR_FORMAT, "%s: general.alignment must be a u32, not %s", g->path,
                        tg_gguf_type_name(v->type));
    uint64_t a = v->v.u64;
    if (a == 0 || (a & (a - 1)) != 0)
        return tg__fail(TG_ERR_FORMAT, "%s: general.alignment %llu is not a power of two", g->path,
                        (unsigned long long)a);
    g->alignment = (size_t)a;
    return TG_OK;
}

static tg_status parse_tensor_info(tg_gguf *g, cursor *c, size_t i, tg_gguf_tensor *t) {
    tg_status s = read_str(c, "a tensor name", &t->name);
    if (s)
        return tg__fail_prefix(s, "tensor %zu", i);
    if (t->name.len >= GGUF_MAX_NAME)
        return tg__fail(TG_ERR_FORMAT, "%s: tensor %zu has a name of %zu bytes (the limit is %d)",
                        g->path, i, t->name.len, GGUF_MAX_NAME - 1);
    int nl = (int)t->name.len;
    const char *nm = t->name.ptr;
    if ((s = read_u32(c, "a tensor dimension count", &t->n_dims)))
        return s;
    if (t->n_dims > TG_GGUF_MAX_DIMS)
        return tg__fail(TG_ERR_FORMAT, "%s: tensor '%.*s' has %u dimensions (at most %d)", g->path, nl,
                        nm, t->n_dims, TG_GGUF_MAX_DIMS);
    int64_t nelem = 1;
    bool overflow = false;
    for (int d = 0; d < TG_GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if ((uint32_t)d >= t->n_dims)
            continue;
        uint64_t ne;
        if ((s = read_u64(c, "a tensor dimension", &ne)))
            return s;
        if (ne > (uint64_t)INT64_MAX)
            return tg__fail(TG_ERR_FORMAT, "%s: tensor '%.*s' dimension %d is %llu (negative as int64)",
                            g->path, nl, nm, d, (unsigned long long)ne);
        t->ne[d] = (int64_t)ne;
        if (!tg__mul_i64(nelem, t->ne[d], &nelem))
            overflow = true;
    }
    if (overflow)
        return tg__fail(TG_ERR_FORMAT,
                        "%s: tensor '%.*s' shape [%lld, %lld, %lld, %lld] has more elements than fit in int64",
                        g->path, nl, nm, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                        (long long)t->ne[3]);
    uint32_t type;
    if ((s = read_u32(c, "a tensor type", &type)) || (s = read_u64(c, "a tensor offset", &t->offset)))
        return s;
    const tg_type_traits *tr = tg_type_get(type);
    if (!tr)
        return tg__fail(TG_ERR_UNSUPPORTED, "%s: tensor '%.*s' has unknown type %u", g->path, nl, nm,
                        type);
    t->type = (tg_type)type;
    if (t->ne[0] % tr->block_size != 0)
        return tg__fail(TG_ERR_FORMAT,
                        "%s: tensor '%.*s' rows of %lld elements are not a whole number of %s blocks (%lld)",
                        g->path, nl, nm, (long long)t->ne[0], tr->name, (long long)tr->block_size);
    size_t nbytes;
    if (!tg__mul_size((size_t)(nelem / tr->block_size), tr->type_size, &nbytes))
        return tg__fail(TG_ERR_FORMAT, "%s: tensor '%.*s' is larger than the address space", g->path, nl,
                        nm);
    t->nbytes = nbytes;
    if (t->offset % g->alignment != 0)
        return tg__fail(TG_ERR_FORMAT, "%s: tensor '%.*s' offset %llu is not a multiple of the alignment %zu",
                        g->path, nl, nm, (unsigned long long)t->offset, g->alignment);
    return TG_OK;
}

static int cmp_by_offset(const void *a, const void *b, void *ctx) {
    const tg_gguf_tensor *ts = ctx;
    const tg_gguf_tensor *x = &ts[*(const uint32_t *)a], *y = &ts[*(const uint32_t *)b];
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static tg_status parse_tensors(tg_gguf *g, cursor *c, uint64_t n_tensors) {
    /* A tensor info is at least 8 (name) + 4 + 4 + 8 bytes. */
    if (n_tensors > cur_left(c) / 24)
        return tg__fail(TG_ERR_FORMAT,
                        "%s: tensor count %llu is impossible: the file has only %zu bytes left for it",
                        g->path, (unsigned long long)n_tensors, cur_left(c));
    if (n_tensors >= UINT32_MAX)
        return tg__fail(TG_ERR_FORMAT, "%s: tensor count %llu is too large", g->path,
                        (unsigned long long)n_tensors);
    g->n_tensors = (size_t)n_tensors;
    g->tensors = tg__calloc(g->n_tensors, sizeof *g->tensors);
    g->tensor_index_cap = index_cap_for(g->n_tensors);
    g->tensor_index = tg__calloc(g->tensor_index_cap, sizeof *g->tensor_index);
    if (!g->tensors || !g->tensor_index)
        return TG_ERR_NOMEM;
    for (size_t i = 0; i < g->n_tensors; i++) {
        tg_status s = parse_tensor_info(g, c, i, &g->tensors[i]);
        if (s)
            return s;
        int64_t dup = index_insert(g->tensor_index, g->tensor_index_cap, &g->tensors[0].name,
                                   sizeof *g->tensors, i);
        if (dup >= 0)
            return tg__fail(TG_ERR_FORMAT, "%s: duplicate tensor name '%.*s' (tensors %lld and %zu)",
                            g->path, (int)g->tensors[i].name.len, g->tensors[i].name.ptr,
                            (long long)dup, i);
    }

    /* The data section starts at the next multiple of the alignment. */
    size_t end_of_info = cur_off(c);
    size_t pad = (g->alignment - end_of_info % g->alignment) % g->alignment;
    if (!tg__add_size(end_of_info, pad, &g->data_offset))
        return tg__fail(TG_ERR_FORMAT, "%s: data offset overflows", g->path);
    if (g->n_tensors == 0)
        return TG_OK;
    if (g->data_offset > g->size)
        return tg__fail(TG_ERR_FORMAT, "%s: file truncated: the tensor data section would start at %zu, "
                        "past the end of the file (%zu bytes)", g->path, g->data_offset, g->size);
    size_t data_size = g->size - g->data_offset;
    for (size_t i = 0; i < g->n_tensors; i++) {
        tg_gguf_tensor *t = &g->tensors[i];
        if (t->offset > data_size || t->nbytes > data_size - t->offset)
            return tg__fail(TG_ERR_FORMAT,
                            "%s: tensor '%.*s' data [%llu, %llu) lies outside the data section "
                            "(%zu bytes): file truncated or offset corrupt",
                            g->path, (int)t->name.len, t->name.ptr, (unsigned long long)t->offset,
                            (unsigned long long)t->offset + t->nbytes, data_size);
        t->data = g->base + g->data_offset + t->offset;
    }

    /* No two tensors may share bytes. */
    uint32_t *order = tg__malloc(g->n_tensors * sizeof *order);
    if (!order)
        return TG_ERR_NOMEM;
    for (size_t i = 0; i < g->n_tensors; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, g->n_tensors, sizeof *order, cmp_by_offset, g->tensors);
    tg_status s = TG_OK;
    for (size_t i = 1; i < g->n_tensors; i++) {
        const tg_gguf_tensor *a = &g->tensors[order[i - 1]], *b = &g->tensors[order[i]];
        if (a->nbytes && b->nbytes && a->offset + a->nbytes > b->offset) {
            s = tg__fail(TG_ERR_FORMAT, "%s: tensors '%.*s' [%llu, %llu) and '%.*s' [%llu, %llu) overlap",
                         g->path, (int)a->name.len, a->name.ptr, (unsigned long long)a->offset,
                         (unsigned long long)(a->offset + a->nbytes), (int)b->name.len, b->name.ptr,
                         (unsigned long long)b->offset, (unsigned long long)(b->offset + b->nbytes));
            break;
        }
    }
    free(order);
    return s;
}

static tg_status parse(tg_gguf *g) {
    cursor c = {.base = g->base, .p = g->base, .end = g->base + g->size, .name = g->path};
    uint64_t n_tensors, n_kv;
    tg_status s = parse_header(g, &c, &n_tensors, &n_kv);
    if (!s)
        s = parse_kv(g, &c, n_kv);
    if (!s)
        s = parse_alignment(g);
    if (!s)
        s = parse_tensors(g, &c, n_tensors);
    return s;
}

static tg_gguf *new_handle(const char *name) {
    tg_gguf *g = tg__calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->path = tg__strndup(name, strlen(name));
    if (!g->path) {
        free(g);
        return NULL;
    }
    return g;
}

tg_gguf *tg_gguf_open_memory(const void *data, size_t size, const char *name) {
    tg_gguf *g = new_handle(name ? name : "(memory)");
    if (!g)
        return NULL;
    g->base = data;
    g->size = size;
    if (!data && size) {
        tg__fail(TG_ERR_ARG, "tg_gguf_open_memory: NULL data");
        tg_gguf_close(g);
        return NULL;
    }
    if (parse(g)) {
        tg_gguf_close(g);
        return NULL;
    }
    return g;
}

tg_gguf *tg_gguf_open(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        tg__fail(TG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        tg__fail(TG_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        tg__fail(TG_ERR_IO, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if (st.st_size == 0) {
        tg__fail(TG_ERR_FORMAT, "%s: empty file, not a GGUF file", path);
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        tg__fail(TG_ERR_RANGE, "%s: too large to map", path);
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd); /* the mapping keeps the file alive */
    if (map == MAP_FAILED) {
        tg__fail(TG_ERR_IO, "%s: cannot map %zu bytes: %s", path, size, strerror(errno));
        return NULL;
    }
    tg_gguf *g = new_handle(path);
    if (!g) {
        munmap(map, size);
        return NULL;
    }
    g->base = map;
    g->size = size;
    g->mapped = true;
    if (parse(g)) {
        tg_gguf_close(g);
        return NULL;
    }
    return g;
}

void tg_gguf_close(tg_gguf *g) {
    if (!g)
        return;
    if (g->kv)
        for (size_t i = 0; i < g->n_kv; i++)
            free(g->kv[i].strs);
    free(g->kv);
    free(g->kv_index);
    free(g->tensors);
    free(g->tensor_index);
    if (g->mapped)
        munmap((void *)g->base, g->size);
    free(g->path);
    free(g);
}

/* ---- accessors ------------------------------------------------------------ */

uint32_t tg_gguf_version(const tg_gguf *g) { return g->version; }
size_t tg_gguf_alignment(const tg_gguf *g) { return g->alignment; }
size_t tg_gguf_file_size(const tg_gguf *g) { return g->size; }
const char *tg_gguf_path(const tg_gguf *g) { return g->path; }
size_t tg_gguf_n_kv(const tg_gguf *g) { return g->n_kv; }
size_t tg_gguf_n_tensors(const tg_gguf *g) { return g->n_tensors; }

tg_str tg_gguf_kv_key(const tg_gguf *g, size_t i) {
    return i < g->n_kv ? g->kv[i].key : (tg_str){"", 0};
}

const tg_gguf_value *tg_gguf_kv_value(const tg_gguf *g, size_t i) {
    return i < g->n_kv ? &g->kv[i].value : NULL;
}

int64_t tg_gguf_find_key(const tg_gguf *g, const char *key) {
    return index_find(g->kv_index, g->kv_index_cap, &g->kv[0].key, sizeof *g->kv, key);
}

const tg_gguf_tensor *tg_gguf_tensor_at(const tg_gguf *g, size_t i) {
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}

const tg_gguf_tensor *tg_gguf_find_tensor(const tg_gguf *g, const char *name) {
    if (g->n_tensors == 0)
        return NULL;
    int64_t i = index_find(g->tensor_index, g->tensor_index_cap, &g->tensors[0].name,
                           sizeof *g->tensors, name);
    return i < 0 ? NULL : &g->tensors[i];
}

int64_t tg_gguf_tensor_nelements(const tg_gguf_tensor *t) {
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]; /* validated not to overflow */
}

static const tg_gguf_value *lookup(const tg_gguf *g, const char *key) {
    int64_t i = tg_gguf_find_key(g, key);
    return i < 0 ? NULL : &g->kv[i].value;
}

static bool is_unsigned(tg_gguf_type t) {
    return t == TG_GGUF_UINT8 || t == TG_GGUF_UINT16 || t == TG_GGUF_UINT32 || t == TG_GGUF_UINT64;
}

static bool is_signed(tg_gguf_type t) {
    return t == TG_GGUF_INT8 || t == TG_GGUF_INT16 || t == TG_GGUF_INT32 || t == TG_GGUF_INT64;
}

static tg_status wrong_type(const tg_gguf *g, const char *key, const char *want, tg_gguf_type got) {
    return tg__fail(TG_ERR_TYPE, "%s: key '%s' should be %s but is %s", g->path, key, want,
                    tg_gguf_type_name(got));
}

tg_status tg_gguf_get_int(const tg_gguf *g, const char *key, int64_t *out) {
    const tg_gguf_value *v = lookup(g, key);
    if (!v)
        return TG_ERR_NOT_FOUND;
    if (is_signed(v->type)) {
        *out = v->v.i64;
        return TG_OK;
    }
    if (is_unsigned(v->type)) {
        if (v->v.u64 > (uint64_t)INT64_MAX)
            return tg__fail(TG_ERR_RANGE, "%s: key '%s' value %llu does not fit in int64", g->path, key,
                            (unsigned long long)v->v.u64);
        *out = (int64_t)v->v.u64;
        return TG_OK;
    }
    return wrong_type(g, key, "an integer", v->type);
}

tg_status tg_gguf_get_uint(const tg_gguf *g, const char *key, uint64_t *out) {
    const tg_gguf_value *v = lookup(g, key);
    if (!v)
        return TG_ERR_NOT_FOUND;
    if (is_unsigned(v->type)) {
        *out = v->v.u64;
        return TG_OK;
    }
    if (is_signed(v->type)) {
        if (v->v.i64 < 0)
            return tg__fail(TG_ERR_RANGE, "%s: key '%s' is negative (%lld)", g->path, key,
                            (long long)v->v.i64);
        *out = (uint64_t)v->v.i64;
        return TG_OK;
    }
    return wrong_type(g, key, "an unsigned integer", v->type);
}

tg_status tg_gguf_get_float(const tg_gguf *g, const char *key, double *out) {
    const tg_gguf_value *v = lookup(g, key);
    if (!v)
        return TG_ERR_NOT_FOUND;
    if (v->type == TG_GGUF_FLOAT32 || v->type == TG_GGUF_FLOAT64)
        *out = v->v.f64;
    else if (is_signed(v->type))
        *out = (double)v->v.i64;
    else if (is_unsigned(v->type))
        *out = (double)v->v.u64;
    else
        return wrong_type(g, key, "a number", v->type);
    return TG_OK;
}

tg_status tg_gguf_get_bool(const tg_gguf *g, const char *key, bool *out) {
    const tg_gguf_value *v = lookup(g, key);
    if (!v)
        return TG_ERR_NOT_FOUND;
    if (v->type != TG_GGUF_BOOL)
        return wrong_type(g, key, "a bool", v->type);
    *out = v->v.b;
    return TG_OK;
}

tg_status tg_gguf_get_str(const tg_gguf *g, const char *key, tg_str *out) {
    const tg_gguf_value *v = lookup(g, key);
    if (!v)
        return TG_ERR_NOT_FOUND;
    if (v->type != TG_GGUF_STRING)
        return wrong_type(g, key, "a string", v->type);
    *out = v->v.str;
    return TG_OK;
}

tg_status tg_gguf_get_array(const tg_gguf *g, const char *key, const tg_gguf_value **out) {
    const tg_gguf_value *v = lookup(g, key);
    if (!v)
        return TG_ERR_NOT_FOUND;
    if (v->type != TG_GGUF_ARRAY)
        return wrong_type(g, key, "an array", v->type);
    *out = v;
    return TG_OK;
}
