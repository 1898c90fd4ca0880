/*
 * sha256.h — SHA-256 (FIPS 180-4), incremental.  Used to verify downloaded
 * models (`tinglado pull`) and by the tests that compare our dequantized
 * tensors with reference hashes.  Not for secrets: no constant-time claims,
 * no key handling.
 */
#ifndef TG_BASE_SHA256_H
#define TG_BASE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tg__sha256_ctx {
    uint32_t h[8];
    uint64_t nbytes;  /* total message length so far */
    uint8_t buf[64];  /* a partial block waiting for more input */
    size_t nbuf;
} tg__sha256_ctx;

void tg__sha256_init(tg__sha256_ctx *s);
void tg__sha256_update(tg__sha256_ctx *s, const void *data, size_t n);
/* Pads, writes the 32-byte digest and leaves s unusable until re-init. */
void tg__sha256_final(tg__sha256_ctx *s, uint8_t digest[32]);
/* One-shot convenience. */
void tg__sha256(const void *data, size_t n, uint8_t digest[32]);
/* For tests: force the portable code (true) or the fastest the CPU allows
 * (false).  Returns true if an accelerated path is now in use. */
bool tg__sha256_use_portable(bool portable);
/* Lower-case hex of a digest, NUL-terminated (65 bytes). */
void tg__sha256_hex(const uint8_t digest[32], char hex[65]);

#endif /* TG_BASE_SHA256_H */
