/*
 * wordpiece.c — the WordPiece tokenizer of "bert" vocabularies (BERT,
 * MiniLM, bge …), as llama.cpp runs it (llm_tokenizer_wpm), so that both
 * produce the same ids on the same GGUF file.
 *
 * The GGUF vocabulary is llama.cpp's "phantom space" form of the Hugging Face
 * one: a word-initial piece "the" is stored as "▁the", a continuation piece
 * "##ing" as "ing", control tokens ([CLS], [SEP] …) unchanged.
 *
 *   1. Normalise and split (BERT's BasicTokenizer):
 *        - decode code points the lax llama.cpp way (a bad byte is U+FFFD);
 *        - with strip_accents: map each code point to the first code point of
 *          its NFD decomposition (é → e), then drop combining marks (\p{M});
 *        - whitespace ends a word; NUL, U+FFFD and \p{C} (control, format,
 *          private use, surrogates) are dropped;
 *        - lowercase (simple one-to-one mapping) when the vocabulary asks;
 *        - punctuation, ASCII symbols and CJK ideographs stand alone as
 *          one-character words.
 *   2. For each word, "▁" + word is matched greedily from the left, longest
 *      vocabulary entry first (byte lengths up to the longest token); if some
 *      position has no match the whole word becomes [UNK].
 *   [CLS] … [SEP] are added by tg_tokenize (vocab.c) when asked.
 *
 * Character classes come from the same Unicode tables as the pre-tokenizer
 * (pretok_ucd.inc, checked against llama.cpp's); utf8proc supplies NFD,
 * lowercasing and the control/unassigned distinction.  Never fails on input
 * bytes: any byte string yields a (possibly empty) token list; the only
 * errors are allocation failures.
 */
#include "token/pretok.h"
#include "token/utf8.h"
#include "token/vocab.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

struct tg__wpm_state {
    bool lowercase;     /* tokenizer.ggml.normalizer.lowercase (default true)     */
    bool strip_accents; /* tokenizer.ggml.normalizer.strip_accents (default: lowercase) */
};

tg_status tg__wpm_init(tg_vocab *v, const tg_gguf *g) {
    tg__wpm_state *st = tg__calloc(1, sizeof *st);
    if (!st)
        return TG_ERR_NOMEM;
    v->wpm = st;
    const char *path = tg_gguf_path(g) ? tg_gguf_path(g) : "(gguf)";
    /* llama.cpp: lowercase defaults to true (BERT's uncased default, and
     * older files lack the key); strip_accents defaults to lowercase */
    st->lowercase = true;
    tg_status s = tg_gguf_get_bool(g, "tokenizer.ggml.normalizer.lowercase", &st->lowercase);
    if (s && s != TG_ERR_NOT_FOUND)
        return tg__fail_prefix(s, "%s", path);
    st->strip_accents = st->lowercase;
    s = tg_gguf_get_bool(g, "tokenizer.ggml.normalizer.strip_accents", &st->strip_accents);
    if (s && s != TG_ERR_NOT_FOUND)
        return tg__fail_prefix(s, "%s", path);
    return TG_OK;
}

void tg__wpm_free(tg_vocab *v) {
    free(v->wpm);
    v->wpm = NULL;
}

bool tg__wpm_lowercase(const tg_vocab *v) { return v->wpm && v->wpm->lowercase; }

/* BERT's (and llama.cpp's) CJK ideograph ranges; 0x2B920 rather than
 * 0x2B820 as in Hugging Face's Rust code, which llama.cpp copies. */
static bool is_cjk(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* \p{C} minus unassigned code points: llama.cpp's CONTROL flag. */
static bool is_control(uint32_t c) {
    if (c > 0x10FFFF)
        return false;
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
        return true;
    default:
        return false;
    }
}

/* The first code point of c's canonical decomposition (c itself if none). */
static uint32_t nfd_first(uint32_t c) {
    if (c > 0x10FFFF)
        return c;
    utf8proc_int32_t buf[8];
    int last = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)c, buf, 8, UTF8PROC_DECOMPOSE, &last);
    return n >= 1 ? (uint32_t)buf[0] : c;
}

static uint32_t lower(uint32_t c) {
    return c > 0x10FFFF ? c : (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
}

/* Greedy longest-match of one word (already "▁"-prefixed) into out;
 * [UNK] when some position matches nothing. */
static bool match_word(const tg_vocab *v, const char *w, size_t n, tg_tokens *out) {
    const size_t n0 = out->n;
    for (size_t i = 0; i < n;) {
        size_t j = n < i + v->max_token_len + 1 ? n : i + v->max_token_len + 1;
        tg_token id = -1;
        for (; j > i; j--)
            if ((id = tg__vocab_lookup(v, w + i, j - i)) >= 0)
                break;
        if (id < 0) {
            out->n = n0; /* discard the pieces found so far */
            break;
        }
        if (!tg__tokens_push(out, id))
            return false;
        i = j;
    }
    if (out->n == n0 && v->unk >= 0 && !tg__tokens_push(out, v->unk))
        return false;
    return true;
}

/* Ends the word in buf (if any): prefix already there, so a word is
 * non-empty when buf holds more than the 3 bytes of "▁". */
static bool flush_word(const tg_vocab *v, tg__buf *buf, tg_tokens *out) {
    bool ok = true;
    if (buf->len > 3)
        ok = match_word(v, (const char *)buf->data, buf->len, out);
    buf->len = 3;
    return ok;
}

tg_status tg__wpm_tokenize(const tg_vocab *v, const char *text, size_t len, tg_tokens *out) {
    const bool lc = v->wpm && v->wpm->lowercase, strip = v->wpm && v->wpm->strip_accents;
    tg__buf word = {0};
    const size_t n0 = out->n;
    if (!tg__buf_append(&word, "\xe2\x96\x81", 3))
        goto nomem;
    for (size_t pos = 0; pos < len;) {
        uint32_t c = tg__utf8_decode_lax(text, len, &pos);
        if (strip)
            c = nfd_first(c);
        const int cls = c > 0x10FFFF ? 0 : tg__pretok_class(c);
        if (cls == 6) { /* whitespace */
            if (!flush_word(v, &word, out))
                goto nomem;
            continue;
        }
        if (c == 0 || c == 0xFFFD || is_control(c) || c > 0x10FFFF)
            continue; /* beyond U+10FFFF llama.cpp throws; we drop it like U+FFFD */
        if (strip && cls == 4) /* combining mark */
            continue;
        char enc[4];
        const size_t ne = tg__utf8_encode(lc ? lower(c) : c, enc);
        if (cls == 3 || (c < 0x7F && cls == 5) || is_cjk(c)) {
            if (!flush_word(v, &word, out) || !tg__buf_append(&word, enc, ne) || !flush_word(v, &word, out))
                goto nomem;
        } else if (!tg__buf_append(&word, enc, ne)) {
            goto nomem;
        }
    }
    if (!flush_word(v, &word, out))
        goto nomem;
    tg__buf_free(&word);
    return TG_OK;
nomem:
    tg__buf_free(&word);
    out->n = n0;
    return TG_ERR_NOMEM;
}
