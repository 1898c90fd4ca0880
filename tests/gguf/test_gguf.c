/*
 * test_gguf.c — the GGUF reader and writer: round trips of every value type,
 * the default model's real header, and one hand-made broken file per
 * validation rule (each must give its own message, through the library and
 * through `tinglado info` with exit code 1).
 */
#include "tinglado.h"
#include "../test.h"

#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];

/* ---- helpers to build images byte by byte ------------------------------ */

typedef struct img {
    uint8_t b[4096];
    size_t n;
} img;

static void put(img *m, const void *p, size_t n) {
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
static void u32(img *m, uint32_t v) { put(m, &v, 4); }
static void u64(img *m, uint64_t v) { put(m, &v, 8); }
static void str(img *m, const char *s) {
    u64(m, strlen(s));
    put(m, s, strlen(s));
}
static void header(img *m, uint64_t n_tensors, uint64_t n_kv) {
    put(m, "GGUF", 4);
    u32(m, 3);
    u64(m, n_tensors);
    u64(m, n_kv);
}
static void tensor_info(img *m, const char *name, uint32_t n_dims, const int64_t *ne, uint32_t type,
                        uint64_t off) {
    str(m, name);
    u32(m, n_dims);
    for (uint32_t i = 0; i < n_dims; i++)
        u64(m, (uint64_t)ne[i]);
    u32(m, type);
    u64(m, off);
}
static void pad(img *m, size_t a) {
    while (m->n % a)
        m->b[m->n++] = 0;
}

/* A valid image: one kv, two f32 tensors of 8 elements at offsets 0 and 32. */
static void valid_image(img *m) {
    memset(m, 0, sizeof *m);
    header(m, 2, 1);
    str(m, "general.architecture");
    u32(m, TG_GGUF_STRING);
    str(m, "llama");
    int64_t ne[1] = {8};
    tensor_info(m, "a", 1, ne, TG_TYPE_F32, 0);
    tensor_info(m, "b", 1, ne, TG_TYPE_F32, 32);
    pad(m, 32);
    for (int i = 0; i < 16; i++) {
        float f = (float)i;
        put(m, &f, 4);
    }
}

static const char *write_tmp(const char *name, const void *data, size_t n) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    fwrite(data, 1, n, f);
    fclose(f);
    return path;
}

/* Runs `tinglado info -m path`, returns its exit code and its stderr in out. */
static int run_info(const char *path, char *out, size_t cap) {
    const char *bin = tg_test_env("TINGLADO_BIN", "build/asan/tinglado");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s info -m '%s' 2>&1 >/dev/null", bin, path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The image must be refused with a message containing `needle`, both by the
 * library and by the CLI (exit code 1, message on stderr). */
/* TG_GGUF_SEED_DIR=dir: save the images the tests build there, as seeds
 * for the fuzzer's corpus (tests/fuzz/gguf was started this way). */
static void save_seed(const char *label, const void *data, size_t n) {
    const char *seeds = getenv("TG_GGUF_SEED_DIR");
    if (!seeds)
        return;
    char sp[512];
    snprintf(sp, sizeof sp, "%s/%s.gguf", seeds, label);
    FILE *f = fopen(sp, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static void expect_broken(const char *label, const img *m, const char *needle) {
    save_seed(label, m->b, m->n);
    tg_gguf *g = tg_gguf_open_memory(m->b, m->n, label);
    CHECK_MSG(g == NULL, "%s: accepted", label);
    if (g) {
        tg_gguf_close(g);
        return;
    }
    CHECK_MSG(strstr(tg_last_error(), needle) != NULL, "%s: message \"%s\" lacks \"%s\"", label,
              tg_last_error(), needle);
    CHECK_MSG(strstr(tg_last_error(), label) != NULL, "%s: message \"%s\" does not name the file",
              label, tg_last_error());

    char name[128];
    snprintf(name, sizeof name, "%s.gguf", label);
    const char *path = write_tmp(name, m->b, m->n);
    CHECK(path != NULL);
    char out[2048];
    int code = run_info(path, out, sizeof out);
    CHECK_MSG(code == 1, "%s: tinglado info exit code %d (want 1); output: %s", label, code, out);
    CHECK_MSG(strstr(out, needle) != NULL, "%s: CLI message \"%s\" lacks \"%s\"", label, out, needle);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_valid_image(void) {
    img m;
    valid_image(&m);
    save_seed("valid", m.b, m.n);
    tg_gguf *g = tg_gguf_open_memory(m.b, m.n, "valid");
    CHECK(g != NULL);
    if (!g) {
        fprintf(stderr, "%s\n", tg_last_error());
        return;
    }
    CHECK_EQ_INT(tg_gguf_n_tensors(g), 2);
    const tg_gguf_tensor *b = tg_gguf_find_tensor(g, "b");
    CHECK(b && b->nbytes == 32 && ((const float *)b->data)[3] == 11.0f);
    CHECK(tg_gguf_find_tensor(g, "c") == NULL);
    tg_str s;
    CHECK(tg_gguf_get_str(g, "general.architecture", &s) == TG_OK && tg_test_str_eq(s, "llama"));
    tg_gguf_close(g);
}

static void test_round_trip(void) {
    tg_gguf_writer *w = tg_gguf_writer_new();
    CHECK(w != NULL);
    tg_gguf_value v;
    static const tg_gguf_type scalars[] = {TG_GGUF_UINT8, TG_GGUF_INT8, TG_GGUF_UINT16, TG_GGUF_INT16,
                                           TG_GGUF_UINT32, TG_GGUF_INT32, TG_GGUF_UINT64, TG_GGUF_INT64};
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        char key[32];
        snprintf(key, sizeof key, "test.%s", tg_gguf_type_name(scalars[i]));
        v = (tg_gguf_value){.type = scalars[i]};
        v.v.u64 = (scalars[i] == TG_GGUF_INT8 || scalars[i] == TG_GGUF_INT16 || scalars[i] == TG_GGUF_INT32 ||
                   scalars[i] == TG_GGUF_INT64)
                      ? (uint64_t)(int64_t)-5
                      : 200;
        CHECK(tg_gguf_writer_set(w, key, &v) == TG_OK);
    }
    CHECK(tg_gguf_writer_set_f32(w, "test.f32", 0.25f) == TG_OK);
    v = (tg_gguf_value){.type = TG_GGUF_FLOAT64, .v.f64 = -1e300};
    CHECK(tg_gguf_writer_set(w, "test.f64", &v) == TG_OK);
    CHECK(tg_gguf_writer_set_bool(w, "test.bool", true) == TG_OK);
    CHECK(tg_gguf_writer_set_str(w, "test.str", "héllo") == TG_OK);
    CHECK(tg_gguf_writer_set_str(w, "test.str", "replaced") == TG_OK); /* replaces */
    int32_t ints[5] = {1, -2, 3, -4, 5};
    CHECK(tg_gguf_writer_set_array(w, "test.ints", TG_GGUF_INT32, ints, 5) == TG_OK);
    const char *strs[3] = {"a", "", "▁the"};
    CHECK(tg_gguf_writer_set_str_array(w, "test.strs", strs, 3) == TG_OK);
    CHECK(tg_gguf_writer_set_alignment(w, 64) == TG_OK);

    /* An array of arrays, encoded by hand: [[1,2],[3]] of u16. */
    uint8_t nested[64];
    size_t nn = 0;
    uint32_t t16 = TG_GGUF_UINT16;
    uint64_t n2 = 2, n1 = 1;
    uint16_t e[3] = {1, 2, 3};
    memcpy(nested + nn, &t16, 4), nn += 4;
    memcpy(nested + nn, &n2, 8), nn += 8;
    memcpy(nested + nn, e, 4), nn += 4;
    memcpy(nested + nn, &t16, 4), nn += 4;
    memcpy(nested + nn, &n1, 8), nn += 8;
    memcpy(nested + nn, e + 2, 2), nn += 2;
    v = (tg_gguf_value){.type = TG_GGUF_ARRAY};
    v.v.arr.type = TG_GGUF_ARRAY;
    v.v.arr.n = 2;
    v.v.arr.data = nested;
    v.v.arr.nbytes = nn;
    CHECK(tg_gguf_writer_set(w, "test.nested", &v) == TG_OK);

    float data[3 * 32];
    for (int i = 0; i < 96; i++)
        data[i] = (float)i * 0.5f;
    int64_t ne[2] = {32, 3};
    CHECK(tg_gguf_writer_add_tensor(w, "t.weight", TG_TYPE_F32, 2, ne, data) == TG_OK);
    int64_t ne1[1] = {7};
    CHECK(tg_gguf_writer_add_tensor(w, "odd", TG_TYPE_F32, 1, ne1, data) == TG_OK);
    CHECK(tg_gguf_writer_add_tensor(w, "odd", TG_TYPE_F32, 1, ne1, data) != TG_OK);
    int64_t bad[1] = {33};
    CHECK(tg_gguf_writer_add_tensor(w, "q", TG_TYPE_Q8_0, 1, bad, data) != TG_OK);

    char path[512];
    snprintf(path, sizeof path, "%s/roundtrip.gguf", tmpdir);
    CHECK(tg_gguf_writer_write(w, path) == TG_OK);
    tg_gguf_writer_free(w);

    tg_gguf *g = tg_gguf_open(path);
    CHECK(g != NULL);
    if (!g) {
        fprintf(stderr, "%s\n", tg_last_error());
        return;
    }
    {
        static uint8_t bytes[8192];
        FILE *f = fopen(path, "rb");
        size_t n = f ? fread(bytes, 1, sizeof bytes, f) : 0;
        if (f)
            fclose(f);
        save_seed("roundtrip", bytes, n);
    }
    CHECK_EQ_INT(tg_gguf_version(g), 3);
    CHECK_EQ_INT(tg_gguf_alignment(g), 64);
    int64_t iv;
    uint64_t uv;
    double fv;
    bool bv;
    tg_str sv;
    CHECK(tg_gguf_get_int(g, "test.i8", &iv) == TG_OK && iv == -5);
    CHECK(tg_gguf_get_int(g, "test.i64", &iv) == TG_OK && iv == -5);
    CHECK(tg_gguf_get_uint(g, "test.u8", &uv) == TG_OK && uv == 200);
    CHECK(tg_gguf_get_uint(g, "test.u64", &uv) == TG_OK && uv == 200);
    CHECK(tg_gguf_get_uint(g, "test.i32", &uv) == TG_ERR_RANGE);
    CHECK(tg_gguf_get_float(g, "test.f32", &fv) == TG_OK && fv == 0.25);
    CHECK(tg_gguf_get_float(g, "test.f64", &fv) == TG_OK && fv == -1e300);
    CHECK(tg_gguf_get_bool(g, "test.bool", &bv) == TG_OK && bv);
    CHECK(tg_gguf_get_str(g, "test.str", &sv) == TG_OK && tg_test_str_eq(sv, "replaced"));
    CHECK(tg_gguf_get_str(g, "test.u8", &sv) == TG_ERR_TYPE);
    CHECK_ERROR_HAS("should be a string but is u8");
    CHECK(tg_gguf_get_str(g, "test.absent", &sv) == TG_ERR_NOT_FOUND);

    const tg_gguf_value *arr;
    tg_gguf_value el;
    CHECK(tg_gguf_get_array(g, "test.ints", &arr) == TG_OK && arr->v.arr.n == 5);
    CHECK(tg_gguf_array_get(arr, 3, &el) == TG_OK && el.v.i64 == -4);
    CHECK(tg_gguf_array_get(arr, 5, &el) == TG_ERR_RANGE);
    CHECK(tg_gguf_get_array(g, "test.strs", &arr) == TG_OK && arr->v.arr.n == 3 && arr->v.arr.strs);
    CHECK(tg_gguf_array_get(arr, 2, &el) == TG_OK && tg_test_str_eq(el.v.str, "▁the"));
    CHECK(tg_gguf_array_get(arr, 1, &el) == TG_OK && el.v.str.len == 0);
    CHECK(tg_gguf_get_array(g, "test.nested", &arr) == TG_OK && arr->v.arr.type == TG_GGUF_ARRAY);
    tg_gguf_value inner, x;
    CHECK(tg_gguf_array_get(arr, 1, &inner) == TG_OK && inner.v.arr.n == 1);
    CHECK(tg_gguf_array_get(&inner, 0, &x) == TG_OK && x.v.u64 == 3);
    CHECK(tg_gguf_array_get(arr, 0, &inner) == TG_OK && inner.v.arr.n == 2);
    CHECK(tg_gguf_array_get(&inner, 1, &x) == TG_OK && x.v.u64 == 2);

    const tg_gguf_tensor *t = tg_gguf_find_tensor(g, "t.weight");
    CHECK(t && t->type == TG_TYPE_F32 && t->ne[0] == 32 && t->ne[1] == 3 && t->n_dims == 2);
    CHECK(t && (uintptr_t)t->data % 64 == 0 && memcmp(t->data, data, sizeof data) == 0);
    CHECK(t && tg_gguf_tensor_nelements(t) == 96);
    t = tg_gguf_find_tensor(g, "odd");
    CHECK(t && t->offset % 64 == 0 && memcmp(t->data, data, 28) == 0);
    tg_gguf_close(g);
}

static void test_default_model(void) {
    const char *path = tg_test_env("TINGLADO_MODEL", NULL);
    char buf[512];
    if (!path) {
        const char *home = getenv("HOME");
        const char *cache = tg_test_env("TINGLADO_CACHE", NULL);
        if (cache)
            snprintf(buf, sizeof buf, "%s/models/gemma-3-270m-q4_k_m.gguf", cache);
        else
            snprintf(buf, sizeof buf, "%s/.cache/tinglado/models/gemma-3-270m-q4_k_m.gguf", home ? home : "");
        path = buf;
    }
    tg_gguf *g = tg_gguf_open(path);
    CHECK_MSG(g != NULL, "cannot open the default model (%s); run scripts/setup.sh", tg_last_error());
    if (!g)
        return;
    tg_str arch;
    CHECK(tg_gguf_get_str(g, "general.architecture", &arch) == TG_OK && tg_test_str_eq(arch, "gemma3"));
    CHECK_EQ_INT(tg_gguf_n_tensors(g), 236);
    const tg_gguf_tensor *t = tg_gguf_find_tensor(g, "token_embd.weight");
    CHECK(t && t->type == TG_TYPE_Q8_0 && t->ne[0] == 640 && t->ne[1] == 262144);
    int64_t n_layer;
    CHECK(tg_gguf_get_int(g, "gemma3.block_count", &n_layer) == TG_OK && n_layer == 18);
    const tg_gguf_value *toks;
    CHECK(tg_gguf_get_array(g, "tokenizer.ggml.tokens", &toks) == TG_OK && toks->v.arr.n == 262144);
    tg_gguf_close(g);
}

static void test_broken(void) {
    img m;

    valid_image(&m);
    memcpy(m.b, "GGUX", 4);
    expect_broken("bad-magic", &m, "not a GGUF file");

    valid_image(&m);
    uint32_t v1 = 1;
    memcpy(m.b + 4, &v1, 4);
    expect_broken("version-1", &m, "version 1 is obsolete");

    valid_image(&m);
    uint32_t v4 = 4;
    memcpy(m.b + 4, &v4, 4);
    expect_broken("version-4", &m, "version 4 is not supported");

    valid_image(&m);
    uint32_t vbe = 3u << 24;
    memcpy(m.b + 4, &vbe, 4);
    expect_broken("big-endian", &m, "big-endian");

    valid_image(&m);
    m.n = 20;
    expect_broken("truncated-header", &m, "truncated");

    valid_image(&m);
    m.n -= 1;
    expect_broken("truncated-data", &m, "outside the data section");

    valid_image(&m);
    uint64_t huge = UINT64_MAX / 2;
    memcpy(m.b + 16, &huge, 8);
    expect_broken("kv-count-overflow", &m, "metadata count");

    valid_image(&m);
    memcpy(m.b + 8, &huge, 8);
    expect_broken("tensor-count-overflow", &m, "tensor count");

    valid_image(&m);
    memcpy(m.b + 24, &huge, 8); /* the first key's length */
    expect_broken("string-length-overflow", &m, "claims");

    int64_t ne8[1] = {8};
    /* data outside the file */
    memset(&m, 0, sizeof m);
    header(&m, 1, 0);
    tensor_info(&m, "a", 1, ne8, TG_TYPE_F32, 1024);
    pad(&m, 32);
    m.n += 32;
    expect_broken("data-outside", &m, "outside the data section");

    /* overlapping tensors */
    memset(&m, 0, sizeof m);
    header(&m, 2, 0);
    tensor_info(&m, "a", 1, ne8, TG_TYPE_F32, 0);
    int64_t ne16[1] = {16};
    tensor_info(&m, "b", 1, ne16, TG_TYPE_F32, 0);
    pad(&m, 32);
    m.n += 64;
    expect_broken("overlap", &m, "overlap");

    /* misaligned offset */
    memset(&m, 0, sizeof m);
    header(&m, 1, 0);
    tensor_info(&m, "a", 1, ne8, TG_TYPE_F32, 4);
    pad(&m, 32);
    m.n += 64;
    expect_broken("misaligned", &m, "not a multiple of the alignment");

    /* unknown tensor type */
    memset(&m, 0, sizeof m);
    header(&m, 1, 0);
    tensor_info(&m, "a", 1, ne8, 99, 0);
    pad(&m, 32);
    m.n += 64;
    expect_broken("unknown-type", &m, "unknown type 99");

    /* dims whose product overflows */
    memset(&m, 0, sizeof m);
    header(&m, 1, 0);
    int64_t big[4] = {1ll << 32, 1ll << 32, 1, 1};
    tensor_info(&m, "a", 4, big, TG_TYPE_F32, 0);
    pad(&m, 32);
    expect_broken("dims-overflow", &m, "more elements than fit");

    /* byte size overflow although the element count fits */
    memset(&m, 0, sizeof m);
    header(&m, 1, 0);
    int64_t big2[2] = {1ll << 31, 1ll << 31};
    tensor_info(&m, "a", 2, big2, TG_TYPE_F64, 0);
    pad(&m, 32);
    expect_broken("bytes-overflow", &m, "larger than the address space");

    memset(&m, 0, sizeof m);
    header(&m, 1, 0);
    int64_t five[5] = {1, 1, 1, 1, 1};
    tensor_info(&m, "a", 5, five, TG_TYPE_F32, 0);
    expect_broken("too-many-dims", &m, "5 dimensions");

    memset(&m, 0, sizeof m);
    header(&m, 1, 0);
    int64_t neg[1] = {-32};
    tensor_info(&m, "a", 1, neg, TG_TYPE_F32, 0);
    expect_broken("negative-dim", &m, "negative");

    memset(&m, 0, sizeof m);
    header(&m, 1, 0);
    int64_t ne33[1] = {33};
    tensor_info(&m, "a", 1, ne33, TG_TYPE_Q8_0, 0);
    pad(&m, 32);
    m.n += 64;
    expect_broken("partial-block", &m, "not a whole number");

    memset(&m, 0, sizeof m);
    header(&m, 2, 0);
    tensor_info(&m, "a", 1, ne8, TG_TYPE_F32, 0);
    tensor_info(&m, "a", 1, ne8, TG_TYPE_F32, 32);
    pad(&m, 32);
    m.n += 64;
    expect_broken("duplicate-tensor", &m, "duplicate tensor name 'a'");

    memset(&m, 0, sizeof m);
    header(&m, 1, 0);
    tensor_info(&m, "a_name_that_is_far_too_long_for_ggml_because_it_has_sixty_four_chars", 1, ne8,
                TG_TYPE_F32, 0);
    expect_broken("long-name", &m, "the limit is 63");

    memset(&m, 0, sizeof m);
    header(&m, 0, 2);
    str(&m, "k");
    u32(&m, TG_GGUF_UINT8);
    m.b[m.n++] = 1;
    str(&m, "k");
    u32(&m, TG_GGUF_UINT8);
    m.b[m.n++] = 2;
    expect_broken("duplicate-key", &m, "duplicate metadata key 'k'");

    memset(&m, 0, sizeof m);
    header(&m, 0, 1);
    str(&m, "k");
    u32(&m, 13);
    m.b[m.n++] = 1;
    expect_broken("unknown-value-type", &m, "unknown value type 13");

    memset(&m, 0, sizeof m);
    header(&m, 0, 1);
    str(&m, "general.alignment");
    u32(&m, TG_GGUF_UINT32);
    u32(&m, 48);
    expect_broken("bad-alignment", &m, "not a power of two");

    memset(&m, 0, sizeof m);
    header(&m, 0, 1);
    str(&m, "general.alignment");
    u32(&m, TG_GGUF_UINT64);
    u64(&m, 32);
    expect_broken("alignment-type", &m, "must be a u32");

    memset(&m, 0, sizeof m);
    header(&m, 0, 1);
    str(&m, "b");
    u32(&m, TG_GGUF_BOOL);
    m.b[m.n++] = 7;
    expect_broken("bad-bool", &m, "neither 0 nor 1");

    /* an array claiming more elements than bytes remain */
    memset(&m, 0, sizeof m);
    header(&m, 0, 1);
    str(&m, "arr");
    u32(&m, TG_GGUF_ARRAY);
    u32(&m, TG_GGUF_UINT32);
    u64(&m, 1ull << 40);
    expect_broken("array-count-overflow", &m, "array of 1099511627776");

    /* arrays nested too deep */
    memset(&m, 0, sizeof m);
    header(&m, 0, 1);
    str(&m, "deep");
    u32(&m, TG_GGUF_ARRAY);
    for (int i = 0; i < 12; i++) {
        u32(&m, TG_GGUF_ARRAY);
        u64(&m, 1);
    }
    u32(&m, TG_GGUF_UINT8);
    u64(&m, 0);
    expect_broken("nested-too-deep", &m, "nested more than");

    memset(&m, 0, sizeof m);
    put(&m, "", 0);
    expect_broken("empty", &m, "not a GGUF file");

    /* Every proper prefix of a valid file must be refused cleanly. */
    valid_image(&m);
    size_t full = m.n;
    int accepted = 0;
    for (size_t n = 0; n < full; n++) {
        tg_gguf *g = tg_gguf_open_memory(m.b, n, "prefix");
        if (g) {
            accepted++;
            tg_gguf_close(g);
        }
    }
    CHECK_EQ_INT(accepted, 0);
}

static void test_cli_errors(void) {
    char out[2048];
    CHECK_EQ_INT(run_info("/nonexistent/model.gguf", out, sizeof out), 1);
    CHECK(strstr(out, "/nonexistent/model.gguf: no such file") != NULL);
    CHECK_EQ_INT(run_info(tmpdir, out, sizeof out), 1);
    CHECK(strstr(out, "is a directory") != NULL);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tg-test-gguf.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_valid_image);
    RUN(test_round_trip);
    RUN(test_default_model);
    RUN(test_broken);
    RUN(test_cli_errors);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return tg_test_finish("gguf");
}
