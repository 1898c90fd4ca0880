/*
 * golden_io.h — helpers shared by the tensor tests: reading the golden files
 * that tools/gen_dequant_golden.py writes (format in that tool's header),
 * ulp distances, and a small deterministic RNG.  Header-only, test-only.
 */
#ifndef TG_TEST_GOLDEN_IO_H
#define TG_TEST_GOLDEN_IO_H

#include "tinglado.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The folder of the goldens; tests run from the repository root. */
static inline const char *golden_dir(void) {
    const char *d = getenv("TINGLADO_GOLDEN");
    return (d && *d) ? d : "tests/golden";
}

/* Reads a whole file; NULL (and a message on stderr) if it cannot. */
static inline uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s (run tools/gen_dequant_golden.py?)\n", path);
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *size = len;
    return buf;
}

static inline uint32_t rd_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* A golden .bin file: header fields and the payload after the header. */
typedef struct golden {
    uint8_t *buf;
    size_t size;
    uint32_t kind, type, count;
    const uint8_t *payload;
    size_t payload_size;
} golden;

/* Loads <golden_dir>/dequant/<prefix>_<type name in lower case>.bin and
 * checks its header; false (with a message) on any problem. */
static inline int golden_load(golden *g, const char *prefix, tg_type type, uint32_t kind) {
    char name[32], path[512];
    snprintf(name, sizeof name, "%s", tg_type_name(type));
    for (char *c = name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    snprintf(path, sizeof path, "%s/dequant/%s_%s.bin", golden_dir(), prefix, name);
    memset(g, 0, sizeof *g);
    g->buf = read_file(path, &g->size);
    if (!g->buf)
        return 0;
    if (g->size < 16 || memcmp(g->buf, "TGG1", 4) != 0) {
        fprintf(stderr, "%s: not a golden file\n", path);
        return 0;
    }
    g->kind = rd_u32(g->buf + 4);
    g->type = rd_u32(g->buf + 8);
    g->count = rd_u32(g->buf + 12);
    g->payload = g->buf + 16;
    g->payload_size = g->size - 16;
    if (g->kind != kind || g->type != (uint32_t)type) {
        fprintf(stderr, "%s: kind %u type %u, expected %u %u\n", path, g->kind, g->type, kind,
                (unsigned)type);
        return 0;
    }
    return 1;
}

static inline void golden_free(golden *g) {
    free(g->buf);
    g->buf = NULL;
}

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline int is_nan_bits(uint32_t u) {
    return (u & 0x7fffffffu) > 0x7f800000u;
}

/* Distance in units in the last place between two non-NaN floats, on the
 * line where consecutive floats are consecutive integers (+0 and -0 are the
 * same point). */
static inline uint64_t ulp_distance(float a, float b) {
    int64_t ia = (int32_t)f32_bits(a), ib = (int32_t)f32_bits(b);
    if (ia < 0)
        ia = (int64_t)INT32_MIN - ia;
    if (ib < 0)
        ib = (int64_t)INT32_MIN - ib;
    return (uint64_t)(ia > ib ? ia - ib : ib - ia);
}

/* splitmix64: a tiny deterministic generator for test inputs. */
static inline uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double rng_uniform(uint64_t *s) {
    return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard normal (Box-Muller). */
static inline double rng_normal(uint64_t *s) {
    double u1 = rng_uniform(s), u2 = rng_uniform(s);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#endif /* TG_TEST_GOLDEN_IO_H */
