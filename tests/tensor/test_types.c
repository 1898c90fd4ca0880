/*
 * test_types.c — the tensor types against their references:
 *   - decoding of random and edge-case blocks vs gguf-py's numpy dequantizers
 *     (bit for bit; the largest ulp difference per type is printed and more
 *     than 1 ulp fails);
 *   - f16/bf16 decoding of all 65536 inputs vs numpy, by hash;
 *   - encoding vs ggml's reference encoders (byte for byte) and numpy's
 *     f16/bf16 conversions;
 *   - every tensor of the default model decoded and hashed vs gguf-py.
 * The golden files and their generator are described in
 * tools/gen_dequant_golden.py.  Dot products and round-trip bounds are in
 * test_quant_math.c.
 */
#include "base/sha256.h"
#include "golden_io.h"
#include "../test.h"
#include "tinglado.h"

#include <strings.h>
#include <time.h>

/* Every type tinglado computes with, in the order results are printed. */
static const tg_type DECODE_TYPES[] = {
    TG_TYPE_F32,  TG_TYPE_Q4_0, TG_TYPE_Q4_1, TG_TYPE_Q5_0, TG_TYPE_Q5_1, TG_TYPE_Q8_0,
    TG_TYPE_Q2_K, TG_TYPE_Q3_K, TG_TYPE_Q4_K, TG_TYPE_Q5_K, TG_TYPE_Q6_K, TG_TYPE_Q8_K,
};
static const tg_type ENCODE_TYPES[] = {
    TG_TYPE_Q4_0, TG_TYPE_Q4_1, TG_TYPE_Q5_0, TG_TYPE_Q5_1, TG_TYPE_Q8_0, TG_TYPE_Q8_1,
    TG_TYPE_Q2_K, TG_TYPE_Q3_K, TG_TYPE_Q4_K, TG_TYPE_Q5_K, TG_TYPE_Q6_K, TG_TYPE_Q8_K,
};

/* Comparison tally of our floats against reference floats. */
typedef struct tally {
    size_t n, not_identical, nan_mismatch;
    uint64_t max_ulp;
} tally;

static void tally_add(tally *t, float got, float want) {
    const uint32_t g = f32_bits(got), w = f32_bits(want);
    t->n++;
    if (is_nan_bits(g) || is_nan_bits(w)) {
        /* NaN payloads are not part of the contract; NaN-ness is. */
        if (is_nan_bits(g) != is_nan_bits(w))
            t->nan_mismatch++;
        return;
    }
    if (g == w)
        return;
    t->not_identical++;
    const uint64_t u = ulp_distance(got, want);
    if (u > t->max_ulp)
        t->max_ulp = u;
}

static void test_traits_table(void) {
    static const struct {
        tg_type t, vdt;
    } want[] = {
        {TG_TYPE_F32, TG_TYPE_F32},   {TG_TYPE_F16, TG_TYPE_F16},   {TG_TYPE_BF16, TG_TYPE_BF16},
        {TG_TYPE_Q4_0, TG_TYPE_Q8_0}, {TG_TYPE_Q5_0, TG_TYPE_Q8_0}, {TG_TYPE_Q8_0, TG_TYPE_Q8_0},
        {TG_TYPE_Q4_1, TG_TYPE_Q8_1}, {TG_TYPE_Q5_1, TG_TYPE_Q8_1}, {TG_TYPE_Q2_K, TG_TYPE_Q8_K},
        {TG_TYPE_Q3_K, TG_TYPE_Q8_K}, {TG_TYPE_Q4_K, TG_TYPE_Q8_K}, {TG_TYPE_Q5_K, TG_TYPE_Q8_K},
        {TG_TYPE_Q6_K, TG_TYPE_Q8_K},
    };
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        const tg_type_traits *tr = tg_type_get(want[i].t);
        CHECK(tr && tr->to_float && tr->from_float && tr->vec_dot);
        CHECK_MSG(tr && tr->vec_dot_type == want[i].vdt, "%s", tg_type_name(want[i].t));
        /* The activation type must itself be encodable and decodable. */
        const tg_type_traits *vt = tg_type_get(want[i].vdt);
        CHECK(vt && vt->to_float && vt->from_float);
    }
    CHECK(tg_type_get(TG_TYPE_Q8_1)->vec_dot == NULL && tg_type_get(TG_TYPE_Q8_K)->vec_dot == NULL);
    CHECK(tg_type_get(TG_TYPE_IQ2_XXS)->to_float == NULL); /* not supported: NULL, not a crash */
    CHECK(tg_type_get(4) == NULL && tg_type_get(1000) == NULL);
}

/* Decoding of the random/edge blocks in dq_<type>.bin vs gguf-py. */
static void test_decode_goldens(void) {
    fprintf(stderr, "    decode vs gguf-py (dq_*.bin):\n");
    for (size_t k = 0; k < ARRAY_LEN(DECODE_TYPES); k++) {
        const tg_type type = DECODE_TYPES[k];
        const tg_type_traits *tr = tg_type_get(type);
        golden g;
        CHECK_MSG(golden_load(&g, "dq", type, 1), "golden for %s", tg_type_name(type));
        if (!g.buf)
            continue;
        const int64_t n = (int64_t)g.count * tr->block_size;
        const size_t nbytes = (size_t)g.count * tr->type_size;
        CHECK(g.payload_size == nbytes + (size_t)n * 4);
        if (g.payload_size != nbytes + (size_t)n * 4) {
            golden_free(&g);
            continue;
        }
        float *out = malloc((size_t)n * sizeof *out);
        tr->to_float(g.payload, out, n);
        tally t = {0};
        for (int64_t i = 0; i < n; i++) {
            float want;
            memcpy(&want, g.payload + nbytes + 4 * i, 4);
            tally_add(&t, out[i], want);
        }
        fprintf(stderr, "      %-5s %6zu values: %zu not bit-identical, max %llu ulp, %zu NaN mismatches\n",
                tr->name, t.n, t.not_identical, (unsigned long long)t.max_ulp, t.nan_mismatch);
        CHECK_MSG(t.max_ulp <= 1 && t.nan_mismatch == 0, "%s: max %llu ulp", tr->name,
                  (unsigned long long)t.max_ulp);
        free(out);
        golden_free(&g);
    }
}

/* The expected hash of a line "key <hex>" in fp_exhaustive.txt. */
static int read_hash_line(const char *file, const char *key, char hex[65]) {
    size_t size;
    uint8_t *buf = read_file(file, &size);
    if (!buf)
        return 0;
    int found = 0;
    const size_t klen = strlen(key);
    for (size_t i = 0; i + klen + 65 <= size; i++) {
        if ((i == 0 || buf[i - 1] == '\n') && memcmp(buf + i, key, klen) == 0 && buf[i + klen] == ' ') {
            memcpy(hex, buf + i + klen + 1, 64);
            hex[64] = '\0';
            found = 1;
            break;
        }
    }
    free(buf);
    return found;
}

/* All 65536 f16 and bf16 inputs decoded, NaNs canonicalised, hashed. */
static void test_decode_exhaustive(void) {
    char path[512], want[65], got[65];
    snprintf(path, sizeof path, "%s/dequant/fp_exhaustive.txt", golden_dir());
    for (int which = 0; which < 2; which++) {
        const char *key = which ? "bf16_to_f32" : "f16_to_f32";
        const tg_type_traits *tr = tg_type_get(which ? TG_TYPE_BF16 : TG_TYPE_F16);
        uint16_t *in = malloc(65536 * sizeof *in);
        float *out = malloc(65536 * sizeof *out);
        for (uint32_t i = 0; i < 65536; i++)
            in[i] = (uint16_t)i;
        tr->to_float(in, out, 65536);
        size_t n_nan = 0;
        for (uint32_t i = 0; i < 65536; i++) {
            /* The scalar API must agree with the row function. */
            const float s = which ? tg_bf16_to_f32((uint16_t)i) : tg_f16_to_f32((uint16_t)i);
            CHECK(f32_bits(s) == f32_bits(out[i]));
            if (is_nan_bits(f32_bits(out[i]))) {
                out[i] = bits_f32(0x7fc00000u);
                n_nan++;
            }
        }
        uint8_t d[32];
        tg__sha256(out, 65536 * sizeof *out, d);
        tg__sha256_hex(d, got);
        CHECK_MSG(read_hash_line(path, key, want), "%s: no %s line", path, key);
        CHECK_MSG(strcmp(got, want) == 0, "%s of all inputs: %s, numpy %s", key, got, want);
        fprintf(stderr, "    %s: all 65536 inputs %s numpy (%zu NaN)\n", key,
                strcmp(got, want) == 0 ? "bit-identical to" : "DIFFER from", n_nan);
        free(in);
        free(out);
    }
}

/* Encoding of qz_<type>.bin inputs vs ggml's reference encoders. */
static void test_encode_goldens(void) {
    fprintf(stderr, "    encode vs ggml quantize_row_*_ref (qz_*.bin):\n");
    for (size_t k = 0; k < ARRAY_LEN(ENCODE_TYPES); k++) {
        const tg_type type = ENCODE_TYPES[k];
        const tg_type_traits *tr = tg_type_get(type);
        golden g;
        CHECK_MSG(golden_load(&g, "qz", type, 2), "golden for %s", tg_type_name(type));
        if (!g.buf)
            continue;
        const int64_t n = (int64_t)g.count * tr->block_size;
        const size_t nbytes = (size_t)g.count * tr->type_size;
        CHECK(g.payload_size == (size_t)n * 4 + nbytes);
        if (g.payload_size != (size_t)n * 4 + nbytes) {
            golden_free(&g);
            continue;
        }
        float *in = malloc((size_t)n * sizeof *in);
        memcpy(in, g.payload, (size_t)n * 4);
        uint8_t *out = malloc(nbytes);
        memset(out, 0xAA, nbytes); /* so unwritten bytes show up */
        tr->from_float(in, out, n);
        const uint8_t *want = g.payload + (size_t)n * 4;
        size_t bad_blocks = 0, first_bad = SIZE_MAX;
        for (uint32_t b = 0; b < g.count; b++) {
            if (memcmp(out + b * tr->type_size, want + b * tr->type_size, tr->type_size) != 0) {
                bad_blocks++;
                if (first_bad == SIZE_MAX)
                    first_bad = b;
            }
        }
        fprintf(stderr, "      %-5s %3u blocks: %zu differ\n", tr->name, g.count, bad_blocks);
        CHECK_MSG(bad_blocks == 0, "%s: %zu of %u blocks differ (first: %zu)", tr->name, bad_blocks,
                  g.count, first_bad);
        free(in);
        free(out);
        golden_free(&g);
    }
}

/* f32 -> f16/bf16 vs numpy / gguf-py on ties, boundaries and random bits. */
static void test_encode_float_goldens(void) {
    for (int which = 0; which < 2; which++) {
        const tg_type type = which ? TG_TYPE_BF16 : TG_TYPE_F16;
        const tg_type_traits *tr = tg_type_get(type);
        golden g;
        CHECK(golden_load(&g, "qz", type, 2));
        if (!g.buf)
            continue;
        const size_t n = g.count;
        CHECK(g.payload_size == n * 6);
        if (g.payload_size != n * 6) {
            golden_free(&g);
            continue;
        }
        float *in = malloc(n * sizeof *in);
        uint16_t *out = malloc(n * sizeof *out);
        memcpy(in, g.payload, n * 4);
        tr->from_float(in, out, (int64_t)n);
        size_t bad = 0, nan_in = 0;
        for (size_t i = 0; i < n; i++) {
            uint16_t want;
            memcpy(&want, g.payload + n * 4 + 2 * i, 2);
            const uint16_t scalar = which ? tg_f32_to_bf16(in[i]) : tg_f32_to_f16(in[i]);
            CHECK(scalar == out[i]);
            if (is_nan_bits(f32_bits(in[i]))) {
                /* Any NaN encoding is fine, as long as it stays NaN. */
                const uint16_t exp_mask = which ? 0x7f80 : 0x7c00;
                const uint16_t man_mask = which ? 0x007f : 0x03ff;
                CHECK((out[i] & exp_mask) == exp_mask && (out[i] & man_mask) != 0);
                nan_in++;
            } else if (out[i] != want) {
                if (bad++ < 5)
                    fprintf(stderr, "      %s(%a = 0x%08x) = 0x%04x, reference 0x%04x\n", tr->name,
                            (double)in[i], f32_bits(in[i]), out[i], want);
            }
        }
        fprintf(stderr, "    f32 -> %s: %zu inputs (%zu NaN), %zu differ from the reference\n",
                tr->name, n, nan_in, bad);
        CHECK(bad == 0);
        free(in);
        free(out);
        golden_free(&g);
    }
}

/* ---- bulk checks by hash (bulk.txt) ---------------------------------------- */

/* The type whose lower-cased name is `name`, or -1. */
static int type_by_lower_name(const char *name) {
    for (int t = 0; t < TG_TYPE_COUNT; t++) {
        const tg_type_traits *tr = tg_type_get((uint32_t)t);
        if (tr && strcasecmp(tr->name, name) == 0)
            return t;
    }
    return -1;
}

/* Byte offsets of the f16 scale fields, as in the tool's F16_FIELDS. */
static int f16_fields(tg_type t, int off[2]) {
    switch (t) {
    case TG_TYPE_Q4_1: case TG_TYPE_Q5_1: case TG_TYPE_Q4_K: case TG_TYPE_Q5_K:
        off[0] = 0, off[1] = 2;
        return 2;
    case TG_TYPE_Q2_K:
        off[0] = 80, off[1] = 82;
        return 2;
    case TG_TYPE_Q3_K:
        off[0] = 108;
        return 1;
    case TG_TYPE_Q6_K:
        off[0] = 208;
        return 1;
    default: /* Q4_0, Q5_0, Q8_0 (f16) and Q8_K (f32) */
        off[0] = 0;
        return 1;
    }
}

/* m * 2^(e-23) from one draw: an exact float (see bulk_encode_input). */
static float bulk_scaled(uint64_t v, int e) {
    const int64_t m = (int64_t)(v >> 40) - (1 << 23);
    return (float)ldexp((double)m, e - 23);
}

/* The tool's bulk_decode_blocks: random bytes with finite scale fields. */
static void bulk_decode_blocks(uint64_t seed, tg_type t, uint32_t nblocks, uint8_t *out) {
    const tg_type_traits *tr = tg_type_get(t);
    const size_t ts = tr->type_size, nw = (ts + 7) / 8;
    int off[2];
    const int nf = f16_fields(t, off);
    uint64_t st = seed;
    for (uint32_t b = 0; b < nblocks; b++) {
        uint8_t *blk = out + (size_t)b * ts;
        for (size_t w = 0; w < nw; w++) {
            const uint64_t v = rng_next(&st);
            for (size_t k = 0; k < 8 && 8 * w + k < ts; k++)
                blk[8 * w + k] = (uint8_t)(v >> (8 * k));
        }
        for (int f = 0; f < nf; f++) {
            const uint64_t d = rng_next(&st);
            if (t == TG_TYPE_Q8_K) {
                const float x = bulk_scaled(d, (int)(d % 31) - 20);
                memcpy(blk, &x, 4);
            } else {
                uint16_t h = (uint16_t)d;
                if ((h & 0x7c00) == 0x7c00)
                    h &= (uint16_t)~0x4000;
                blk[off[f]] = (uint8_t)h;
                blk[off[f] + 1] = (uint8_t)(h >> 8);
            }
        }
    }
}

/* The tool's bulk_encode_input: per block an exponent and a mode, then
 * exact values: full range, non-negative, sparse, or half-integers. */
static void bulk_encode_input(uint64_t seed, uint32_t nblocks, int64_t bs, float *x) {
    uint64_t st = seed;
    for (uint32_t b = 0; b < nblocks; b++) {
        const uint64_t r = rng_next(&st);
        const int e = (int)(r % 31) - 20, mode = (int)((r >> 8) % 4);
        for (int64_t j = 0; j < bs; j++) {
            const uint64_t v = rng_next(&st);
            const int64_t m = (int64_t)(v >> 40) - (1 << 23);
            float val;
            if (mode == 0)
                val = bulk_scaled(v, e);
            else if (mode == 1)
                val = (float)ldexp((double)(m < 0 ? -m : m), e - 23);
            else if (mode == 2)
                val = (v & 3) == 0 ? bulk_scaled(v, e) : 0.0f;
            else /* floor(m / 2^19) * 0.5, without shifting a negative number */
                val = (float)((double)(((m + (1 << 23)) >> 19) - 16) * 0.5);
            x[(size_t)b * (size_t)bs + (size_t)j] = val;
        }
    }
}

static void test_bulk_hashes(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/dequant/bulk.txt", golden_dir());
    size_t size;
    uint8_t *text = read_file(path, &size);
    CHECK(text != NULL);
    if (!text)
        return;
    char *buf = malloc(size + 1);
    memcpy(buf, text, size);
    buf[size] = '\0';
    free(text);
    int n_decode = 0, n_encode = 0, n_bad = 0;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char kind[16], tname[16], want[65], got[65];
        unsigned nblocks;
        unsigned long long seed;
        if (sscanf(line, "%15s %15s %u %llu %64s", kind, tname, &nblocks, &seed, want) != 5) {
            CHECK_MSG(0, "bad line in %s: %s", path, line);
            continue;
        }
        const int t = type_by_lower_name(tname);
        const tg_type_traits *tr = t >= 0 ? tg_type_get((uint32_t)t) : NULL;
        CHECK_MSG(tr && nblocks > 0 && nblocks <= 65536, "%s", line);
        if (!tr || nblocks == 0 || nblocks > 65536)
            continue;
        const int64_t n = (int64_t)nblocks * tr->block_size;
        const size_t nbytes = (size_t)nblocks * tr->type_size;
        uint8_t *q = malloc(nbytes);
        float *x = malloc((size_t)n * sizeof *x);
        uint8_t d[32];
        if (strcmp(kind, "decode") == 0) {
            bulk_decode_blocks(seed, (tg_type)t, nblocks, q);
            tr->to_float(q, x, n);
            tg__sha256(x, (size_t)n * sizeof *x, d);
            n_decode++;
        } else {
            bulk_encode_input(seed, nblocks, tr->block_size, x);
            tr->from_float(x, q, n);
            tg__sha256(q, nbytes, d);
            n_encode++;
        }
        tg__sha256_hex(d, got);
        if (strcmp(got, want) != 0) {
            n_bad++;
            CHECK_MSG(0, "%s %s (%u blocks, seed %llu): sha256 %s, reference %s", kind, tr->name,
                      nblocks, seed, got, want);
        }
        free(q);
        free(x);
    }
    free(buf);
    fprintf(stderr, "    bulk: %d decode and %d encode runs (128-256 Ki values each), %d differ\n",
            n_decode, n_encode, n_bad);
    CHECK(n_decode >= 11 && n_encode >= 12);
}

/* ---- the default model ---------------------------------------------------- */

static const char *model_path(char *buf, size_t cap) {
    const char *path = tg_test_env("TINGLADO_MODEL", NULL);
    if (path)
        return path;
    const char *cache = tg_test_env("TINGLADO_CACHE", NULL);
    if (cache)
        snprintf(buf, cap, "%s/models/gemma-3-270m-q4_k_m.gguf", cache);
    else
        snprintf(buf, cap, "%s/.cache/tinglado/models/gemma-3-270m-q4_k_m.gguf",
                 getenv("HOME") ? getenv("HOME") : "");
    return buf;
}

/* Decodes a whole tensor in chunks of rows, hashing the float32 bytes. */
static void hash_tensor(const tg_gguf_tensor *t, const tg_type_traits *tr, float *scratch,
                        size_t scratch_elems, char hex[65]) {
    const int64_t row = t->ne[0];
    const int64_t nrows = tg_gguf_tensor_nelements(t) / row;
    const size_t row_bytes = tg_type_row_size(t->type, row);
    int64_t rows_per_chunk = (int64_t)scratch_elems / row;
    if (rows_per_chunk < 1)
        rows_per_chunk = 1;
    tg__sha256_ctx s;
    tg__sha256_init(&s);
    for (int64_t r = 0; r < nrows; r += rows_per_chunk) {
        const int64_t nr = nrows - r < rows_per_chunk ? nrows - r : rows_per_chunk;
        tr->to_float((const uint8_t *)t->data + (size_t)r * row_bytes, scratch, nr * row);
        tg__sha256_update(&s, scratch, (size_t)(nr * row) * sizeof(float));
    }
    uint8_t d[32];
    tg__sha256_final(&s, d);
    tg__sha256_hex(d, hex);
}

static void test_model_tensors(void) {
    char pbuf[512], gpath[512];
    const char *path = model_path(pbuf, sizeof pbuf);
    tg_gguf *g = tg_gguf_open(path);
    CHECK_MSG(g != NULL, "cannot open the default model %s (%s); run scripts/setup.sh", path,
              tg_last_error());
    snprintf(gpath, sizeof gpath, "%s/dequant/model_gemma-3-270m-q4_k_m.txt", golden_dir());
    size_t size;
    uint8_t *text = read_file(gpath, &size);
    CHECK(text != NULL);
    if (!g || !text) {
        if (g)
            tg_gguf_close(g);
        free(text);
        return;
    }
    /* The scratch holds one row at least; 1 Mi floats keeps chunks large. */
    size_t scratch_elems = 1 << 20;
    for (size_t i = 0; i < tg_gguf_n_tensors(g); i++)
        if ((size_t)tg_gguf_tensor_at(g, i)->ne[0] > scratch_elems)
            scratch_elems = (size_t)tg_gguf_tensor_at(g, i)->ne[0];
    float *scratch = malloc(scratch_elems * sizeof *scratch);
    struct {
        char name[8];
        size_t tensors, identical;
        int64_t elems;
    } per_type[TG_TYPE_COUNT];
    memset(per_type, 0, sizeof per_type);
    size_t n_lines = 0, n_bad = 0;
    const clock_t t0 = clock();
    char *save = NULL;
    text = realloc(text, size + 1);
    text[size] = '\0';
    for (char *line = strtok_r((char *)text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char name[128], type[16], want[65];
        long long nel;
        if (sscanf(line, "%127s %15s %lld %64s", name, type, &nel, want) != 4) {
            CHECK_MSG(0, "bad line in %s: %s", gpath, line);
            continue;
        }
        n_lines++;
        const tg_gguf_tensor *t = tg_gguf_find_tensor(g, name);
        CHECK_MSG(t != NULL, "%s: no tensor %s (is this the right model?)", path, name);
        if (!t)
            continue;
        const tg_type_traits *tr = tg_type_get(t->type);
        CHECK_MSG(tr && strcmp(tr->name, type) == 0 && tg_gguf_tensor_nelements(t) == nel,
                  "%s: %s %lld, golden %s %lld", name, tr ? tr->name : "?",
                  (long long)tg_gguf_tensor_nelements(t), type, nel);
        if (!tr || !tr->to_float || strcmp(tr->name, type) != 0)
            continue;
        char got[65];
        hash_tensor(t, tr, scratch, scratch_elems, got);
        per_type[t->type].tensors++;
        per_type[t->type].elems += nel;
        snprintf(per_type[t->type].name, sizeof per_type[t->type].name, "%s", tr->name);
        if (strcmp(got, want) == 0) {
            per_type[t->type].identical++;
        } else {
            n_bad++;
            CHECK_MSG(0, "%s (%s): sha256 %s, gguf-py %s", name, type, got, want);
        }
    }
    const double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK_EQ_INT(n_lines, tg_gguf_n_tensors(g));
    fprintf(stderr, "    default model: %zu tensors hashed in %.2f s, %zu differ from gguf-py\n", n_lines,
            secs, n_bad);
    for (int k = 0; k < TG_TYPE_COUNT; k++)
        if (per_type[k].tensors)
            fprintf(stderr, "      %-5s %3zu tensors, %10lld values: %zu bit-identical (0 ulp)\n",
                    per_type[k].name, per_type[k].tensors, (long long)per_type[k].elems,
                    per_type[k].identical);
    free(scratch);
    free(text);
    tg_gguf_close(g);
}

int main(void) {
    RUN(test_traits_table);
    RUN(test_decode_goldens);
    RUN(test_decode_exhaustive);
    RUN(test_encode_goldens);
    RUN(test_encode_float_goldens);
    RUN(test_bulk_hashes);
    RUN(test_model_tensors);
    return tg_test_finish("tensor/types");
}
