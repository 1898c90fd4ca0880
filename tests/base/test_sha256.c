/*
 * test_sha256.c — SHA-256 against the FIPS 180-2 example digests ("abc",
 * the 448-bit message, a million 'a'), the empty message, and incremental
 * updates in awkward chunk sizes against the one-shot digest; each with the
 * portable code and with the accelerated path where the CPU has one.
 */
#include "base/sha256.h"
#include "../test.h"

static void hex_of(const void *data, size_t n, char hex[65]) {
    uint8_t d[32];
    tg__sha256(data, n, d);
    tg__sha256_hex(d, hex);
}

static void known_vectors(void) {
    char hex[65];
    hex_of("", 0, hex);
    CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, hex);
    CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(m448, strlen(m448), hex);
    CHECK_EQ_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *a = malloc(1000000);
    memset(a, 'a', 1000000);
    hex_of(a, 1000000, hex);
    CHECK_EQ_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

/* Feeding the same bytes in chunks of 1, 2, 3, ... 130 bytes must give the
 * one-shot digest, for lengths around the 55/56/64-byte padding edges. */
static void incremental(void) {
    uint8_t msg[1000];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 131 + 7);
    static const size_t lens[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 999, 1000};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        uint8_t want[32];
        tg__sha256(msg, lens[li], want);
        for (size_t chunk = 1; chunk <= 130; chunk += 7) {
            tg__sha256_ctx s;
            tg__sha256_init(&s);
            for (size_t off = 0; off < lens[li]; off += chunk)
                tg__sha256_update(&s, msg + off, lens[li] - off < chunk ? lens[li] - off : chunk);
            uint8_t got[32];
            tg__sha256_final(&s, got);
            CHECK_MSG(memcmp(got, want, 32) == 0, "length %zu in chunks of %zu", lens[li], chunk);
        }
    }
}

static void test_portable(void) {
    tg__sha256_use_portable(true);
    known_vectors();
    incremental();
}

static void test_accelerated(void) {
    const bool accel = tg__sha256_use_portable(false);
    fprintf(stderr, "    accelerated compression: %s\n", accel ? "yes (x86 SHA extensions)" : "not on this CPU");
    known_vectors();
    incremental();
}

int main(void) {
    RUN(test_portable);
    RUN(test_accelerated);
    return tg_test_finish("base/sha256");
}
