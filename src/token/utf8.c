/*
 * utf8.c — the UTF-8 and GPT-2 byte-map helpers declared in utf8.h.
 * Pure functions over (pointer, length); they never read past n.
 */
#include "token/utf8.h"

uint32_t tg__utf8_decode_lax(const char *str, size_t n, size_t *pos) {
    const uint8_t *s = (const uint8_t *)str;
    size_t i = *pos;
    uint8_t c = s[i];
    size_t need;
    uint32_t cp;
    if (c < 0x80) {
        *pos = i + 1;
        return c;
    }
    /* The lead byte's bit pattern alone decides the length, as in llama.cpp:
     * 10xxxxxx and 11111xxx are errors, nothing else is checked but the
     * continuation bytes. */
    if (!(c & 0x40))
        goto bad;
    if (!(c & 0x20)) {
        need = 1;
        cp = c & 0x1f;
    } else if (!(c & 0x10)) {
        need = 2;
        cp = c & 0x0f;
    } else if (!(c & 0x08)) {
        need = 3;
        cp = c & 0x07;
    } else {
        goto bad;
    }
    if (n - i <= need)
        goto bad;
    for (size_t k = 1; k <= need; k++) {
        if ((s[i + k] & 0xc0) != 0x80)
            goto bad;
        cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    *pos = i + need + 1;
    return cp;
bad:
    *pos = i + 1;
    return 0xFFFD;
}

size_t tg__utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    if (cp <= 0x10FFFF) {
        out[0] = (char)(0xf0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
    }
    return 0;
}

tg__utf8_class tg__utf8_classify(const uint8_t *p, size_t n, size_t *len) {
    uint8_t c = p[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80) {
        *len = 1;
        return TG__UTF8_OK;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlongs */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90; /* no overlongs */
        else if (c == 0xF4)
            hi = 0x8F; /* nothing past U+10FFFF */
    } else {
        *len = 1; /* a continuation byte, C0/C1 or F5–FF: never a lead */
        return TG__UTF8_INVALID;
    }
    for (size_t k = 1; k < need; k++) {
        if (k >= n) {
            *len = n;
            return TG__UTF8_PARTIAL;
        }
        uint8_t b = p[k];
        uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (b < l || b > h) {
            *len = k;
            return TG__UTF8_INVALID;
        }
    }
    *len = need;
    return TG__UTF8_OK;
}

int tg__utf8_valid(const char *s, size_t n) {
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        size_t len;
        if (tg__utf8_classify(p + i, n - i, &len) != TG__UTF8_OK)
            return 0;
        i += len;
    }
    return 1;
}

/* The 68 bytes that are not printable Latin-1 are numbered in order:
 * 0x00–0x20 (33 of them), 0x7F–0xA0 (34), then 0xAD. */
uint32_t tg__gpt2_byte_to_cp(uint8_t b) {
    if (b <= 0x20)
        return 0x100 + b;
    if (b >= 0x7F && b <= 0xA0)
        return 0x100 + 33 + (uint32_t)(b - 0x7F);
    if (b == 0xAD)
        return 0x100 + 67;
    return b;
}

int tg__gpt2_cp_to_byte(uint32_t cp) {
    if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF))
        return (int)cp;
    if (cp >= 0x100 && cp < 0x100 + 33)
        return (int)(cp - 0x100);
    if (cp >= 0x100 + 33 && cp < 0x100 + 67)
        return (int)(0x7F + (cp - 0x100 - 33));
    if (cp == 0x100 + 67)
        return 0xAD;
    return -1;
}
