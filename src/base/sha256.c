/*
 * sha256.c — SHA-256 as specified in FIPS 180-4: 64-byte blocks, a 64-entry
 * message schedule, big-endian words and length.  A portable compression
 * function, plus one using the x86 SHA extensions when the CPU has them
 * (chosen once, at the first call): hashing a multi-gigabyte model file, or
 * a gigabyte of dequantized floats in a sanitizer build, is otherwise the
 * slowest step of its job.
 */
#include "base/sha256.h"

#include <stdbool.h>
#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, int n) {
    return (x >> n) | (x << (32 - n));
}

static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Processes nblocks consecutive 64-byte blocks. */
typedef void (*compress_fn)(uint32_t h[8], const uint8_t *p, size_t nblocks);

static void compress_portable(uint32_t h[8], const uint8_t *p, size_t nblocks) {
    for (; nblocks--; p += 64) {
        uint32_t w[64];
        for (int t = 0; t < 16; t++)
            w[t] = load_be32(p + 4 * t);
        for (int t = 16; t < 64; t++) {
            const uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
            const uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
        for (int t = 0; t < 64; t++) {
            const uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
            const uint32_t ch = (e & f) ^ (~e & g);
            const uint32_t t1 = k + S1 + ch + K[t] + w[t];
            const uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
            const uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            const uint32_t t2 = S0 + maj;
            k = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += k;
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHANI_PATH 1

/* The SHA extensions keep the eight state words in two registers, ABEF and
 * CDGH (A in the top lane), and sha256rnds2 does two rounds: it takes CDGH
 * and ABEF and returns the new ABEF, while the new CDGH is simply the old
 * ABEF.  So two calls with the roles alternating do four rounds and leave
 * the registers in their original roles.  The message schedule is extended
 * four words at a time with sha256msg1/sha256msg2. */
__attribute__((target("sha,sse4.1,ssse3"))) static void compress_shani(uint32_t h[8],
                                                                     const uint8_t *p,
                                                                     size_t nblocks) {
    /* Byte swap within each 32-bit lane: the words are big-endian. */
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    /* Lanes are listed low to high. */
    __m128i abcd = _mm_loadu_si128((const __m128i *)&h[0]);   /* A B C D */
    __m128i efgh = _mm_loadu_si128((const __m128i *)&h[4]);   /* E F G H */
    abcd = _mm_shuffle_epi32(abcd, 0xB1);                      /* B A D C */
    efgh = _mm_shuffle_epi32(efgh, 0x1B);                      /* H G F E */
    __m128i abef = _mm_alignr_epi8(abcd, efgh, 8);             /* F E B A */
    __m128i cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);          /* H G D C */

/* Four rounds with schedule words w (+ their constants k); then, if more
 * are needed, w is replaced by the words 16 further on:
 * W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16].  With w = W[t-16..],
 * x1 = W[t-12..], x2 = W[t-8..], x3 = W[t-4..]: msg1 gives W[t-16] +
 * s0(W[t-15]), the alignr picks W[t-7..t-4], and msg2 adds the s1 terms. */
#define SHANI_4ROUNDS(w, kidx)                                                                 \
    do {                                                                                       \
        __m128i wk_ = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&K[kidx]));             \
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk_);                                          \
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk_, 0x0E));                 \
    } while (0)
#define SHANI_NEXT(w, x1, x2, x3)                                                              \
    w = _mm_sha256msg2_epu32(                                                                  \
        _mm_add_epi32(_mm_sha256msg1_epu32(w, x1), _mm_alignr_epi8(x3, x2, 4)), x3)

    for (; nblocks--; p += 64) {
        const __m128i abef0 = abef, cdgh0 = cdgh;
        /* Registers, not an array: in sanitizer builds an indexed local
         * array is instrumented memory and the loop gets 5x slower. */
        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
        __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
        __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
        __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
        for (int t = 0; t < 64; t += 16) {
            SHANI_4ROUNDS(m0, t);
            SHANI_4ROUNDS(m1, t + 4);
            SHANI_4ROUNDS(m2, t + 8);
            SHANI_4ROUNDS(m3, t + 12);
            if (t < 48) {
                SHANI_NEXT(m0, m1, m2, m3);
                SHANI_NEXT(m1, m2, m3, m0);
                SHANI_NEXT(m2, m3, m0, m1);
                SHANI_NEXT(m3, m0, m1, m2);
            }
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
#undef SHANI_4ROUNDS
#undef SHANI_NEXT

    __m128i t = _mm_shuffle_epi32(abef, 0x1B);                 /* A B E F */
    cdgh = _mm_shuffle_epi32(cdgh, 0xB1);                      /* G H C D */
    _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, cdgh, 0xF0)); /* A B C D */
    _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(cdgh, t, 8));    /* E F G H */
}
#endif

static compress_fn pick_compress(void) {
#ifdef HAVE_SHANI_PATH
    /* cpuid directly: older compilers' __builtin_cpu_supports lacks "sha".
     * Leaf 1 ECX: bit 9 SSSE3, bit 19 SSE4.1; leaf 7 EBX: bit 29 SHA. */
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 9)) && (c & (1u << 19)) &&
        __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)))
        return compress_shani;
#endif
    return compress_portable;
}

/* Racing threads compute the same pointer; relaxed atomics keep that
 * benign. */
static compress_fn chosen;

static compress_fn compress(void) {
    compress_fn f = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (!f) {
        f = pick_compress();
        __atomic_store_n(&chosen, f, __ATOMIC_RELAXED);
    }
    return f;
}

bool tg__sha256_use_portable(bool portable) {
    __atomic_store_n(&chosen, portable ? compress_portable : pick_compress(), __ATOMIC_RELAXED);
    return __atomic_load_n(&chosen, __ATOMIC_RELAXED) != compress_portable;
}

void tg__sha256_init(tg__sha256_ctx *s) {
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof h0);
    s->nbytes = 0;
    s->nbuf = 0;
}

void tg__sha256_update(tg__sha256_ctx *s, const void *data, size_t n) {
    const uint8_t *p = data;
    s->nbytes += n;
    if (s->nbuf) {
        const size_t take = n < 64 - s->nbuf ? n : 64 - s->nbuf;
        memcpy(s->buf + s->nbuf, p, take);
        s->nbuf += take;
        p += take;
        n -= take;
        if (s->nbuf < 64)
            return;
        compress()(s->h, s->buf, 1);
        s->nbuf = 0;
    }
    if (n >= 64) {
        compress()(s->h, p, n / 64);
        p += n / 64 * 64;
        n %= 64;
    }
    if (n) {
        memcpy(s->buf, p, n);
        s->nbuf = n;
    }
}

void tg__sha256_final(tg__sha256_ctx *s, uint8_t digest[32]) {
    const uint64_t bits = s->nbytes * 8;
    uint8_t pad[72] = {0x80};
    /* Pad to 56 mod 64, then the 64-bit big-endian bit length. */
    const size_t npad = (s->nbuf < 56 ? 56 : 120) - s->nbuf;
    for (int i = 0; i < 8; i++)
        pad[npad + i] = (uint8_t)(bits >> (56 - 8 * i));
    const uint64_t keep = s->nbytes;
    tg__sha256_update(s, pad, npad + 8);
    s->nbytes = keep;
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(s->h[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        digest[4 * i + 3] = (uint8_t)s->h[i];
    }
}

void tg__sha256(const void *data, size_t n, uint8_t digest[32]) {
    tg__sha256_ctx s;
    tg__sha256_init(&s);
    tg__sha256_update(&s, data, n);
    tg__sha256_final(&s, digest);
}

void tg__sha256_hex(const uint8_t digest[32], char hex[65]) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[64] = '\0';
}
