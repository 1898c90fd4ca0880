/*
 * utf8.h — UTF-8 helpers shared by the tokenizers and the detokenizer.
 *
 * Two kinds of decoding live here on purpose:
 *   - the *lax* rules llama.cpp uses when it splits text (lead-byte length
 *     table, decoder that never checks overlongs/surrogates and turns each bad
 *     byte into U+FFFD) — tokenizers must copy those to produce the same ids;
 *   - a *strict* classifier (Unicode Table 3-7 well-formed sequences) for the
 *     streaming detokenizer, which must never emit a split or invalid
 *     character.
 * Plus the GPT-2 byte↔code point map used by byte-level BPE vocabularies.
 * Nothing here allocates or fails: every function works on (pointer, length).
 */
#ifndef TG_TOKEN_UTF8_H
#define TG_TOKEN_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the character a byte starts, from its high nibble alone
 * (0x0–0xB → 1, 0xC–0xD → 2, 0xE → 3, 0xF → 4): llama.cpp's symbol split.
 * A stray continuation byte counts as a 1-byte character. */
static inline size_t tg__utf8_len_lead(uint8_t c) {
    static const uint8_t len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return len[c >> 4];
}

/* Decodes one code point at s[*pos] (with *pos < n) the lax llama.cpp way:
 * structure is checked (lead byte, continuation bytes, enough bytes left) but
 * not overlongs, surrogates or the U+10FFFF limit.  On a bad sequence returns
 * U+FFFD and advances by one byte; otherwise advances past the sequence. */
uint32_t tg__utf8_decode_lax(const char *s, size_t n, size_t *pos);

/* Encodes a code point (≤ 0x10FFFF) into out; returns the byte count (1–4),
 * or 0 for a value beyond U+10FFFF (nothing written). */
size_t tg__utf8_encode(uint32_t cp, char out[4]);

/* Strict classification of the bytes at p[0..n) (n ≥ 1). */
typedef enum tg__utf8_class {
    TG__UTF8_OK,      /* *len bytes form one well-formed character           */
    TG__UTF8_PARTIAL, /* all n bytes are a proper prefix of a well-formed one */
    TG__UTF8_INVALID, /* the first *len bytes are a maximal ill-formed subpart:
                         one U+FFFD replaces them (Unicode's recommended
                         practice, the same as Python's errors="replace")    */
} tg__utf8_class;
tg__utf8_class tg__utf8_classify(const uint8_t *p, size_t n, size_t *len);

/* True if all n bytes are well-formed UTF-8. */
int tg__utf8_valid(const char *s, size_t n);

/* GPT-2's byte-level map: every byte has a printable code point
 * (0x21–0x7E, 0xA1–0xAC, 0xAE–0xFF map to themselves; the other 68 bytes go,
 * in increasing order, to U+0100…U+0143). */
uint32_t tg__gpt2_byte_to_cp(uint8_t b);
/* The inverse: the byte a code point stands for, or -1 if it is not one of
 * the 256 images. */
int tg__gpt2_cp_to_byte(uint32_t cp);

#endif /* TG_TOKEN_UTF8_H */
