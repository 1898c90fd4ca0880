/*
 * grammar_util.h — helpers for the grammar tests (header-only):
 *   - a synthetic SentencePiece vocabulary of the 256 byte tokens, an end
 *     token and caller-chosen multi-byte tokens, written with tinglado's
 *     GGUF writer and loaded back (a byte-level "model" for the grammar);
 *   - the real default model's vocabulary;
 *   - a random constrained generator over any vocabulary, biased so that
 *     documents finish (it favours tokens with structure or escapes) and
 *     recording what it produced.
 */
#ifndef TG_TESTS_GRAMMAR_UTIL_H
#define TG_TESTS_GRAMMAR_UTIL_H

#include "tinglado.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t gu_rng = 0x9E3779B97F4A7C15ull;
static uint32_t gu_rand(void) {
    gu_rng ^= gu_rng << 13;
    gu_rng ^= gu_rng >> 7;
    gu_rng ^= gu_rng << 17;
    return (uint32_t)(gu_rng >> 11);
}

/* Loads a vocabulary: ids 0 <unk>, 1 <s>, 2 </s> (end), 3..258 the bytes,
 * then `extra` normal tokens (SentencePiece text: U+2581 is a space). */
static inline tg_vocab *gu_synth_vocab(const char *const *extra, size_t n_extra, tg_gguf **keep) {
    size_t n = 259 + n_extra;
    const char **texts = calloc(n, sizeof *texts);
    char(*bytes)[8] = calloc(256, sizeof *bytes);
    float *scores = calloc(n, sizeof *scores);
    int32_t *types = calloc(n, sizeof *types);
    texts[0] = "<unk>", types[0] = 2;
    texts[1] = "<s>", types[1] = 3;
    texts[2] = "</s>", types[2] = 3;
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        texts[3 + b] = bytes[b];
        types[3 + b] = 6;
    }
    for (size_t i = 0; i < n_extra; i++) {
        texts[259 + i] = extra[i];
        types[259 + i] = 1;
        scores[259 + i] = -(float)i;
    }
    char path[] = "/tmp/tg_grammar_vocab_XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0)
        close(fd);
    tg_gguf_writer *w = tg_gguf_writer_new();
    tg_gguf_writer_set_str(w, "general.architecture", "llama");
    tg_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    tg_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", texts, n);
    tg_gguf_writer_set_array(w, "tokenizer.ggml.scores", TG_GGUF_FLOAT32, scores, n);
    tg_gguf_writer_set_array(w, "tokenizer.ggml.token_type", TG_GGUF_INT32, types, n);
    tg_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    tg_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    tg_status s = fd >= 0 ? tg_gguf_writer_write(w, path) : TG_ERR_IO;
    tg_gguf_writer_free(w);
    free(texts);
    free(bytes);
    free(scores);
    free(types);
    tg_vocab *v = NULL;
    *keep = NULL;
    if (s == TG_OK) {
        *keep = tg_gguf_open(path);
        v = *keep ? tg_vocab_load(*keep) : NULL;
    }
    unlink(path);
    if (!v)
        fprintf(stderr, "gu_synth_vocab: %s\n", tg_last_error());
    return v;
}

/* The default model's path (TINGLADO_MODEL, else the model cache). */
static inline const char *gu_model_path(void) {
    static char buf[1024];
    const char *p = getenv("TINGLADO_MODEL");
    if (p && *p)
        return p;
    const char *cache = getenv("TINGLADO_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
    if (cache && *cache)
        snprintf(buf, sizeof buf, "%s/models/gemma-3-270m-q4_k_m.gguf", cache);
    else if (xdg && *xdg)
        snprintf(buf, sizeof buf, "%s/tinglado/models/gemma-3-270m-q4_k_m.gguf", xdg);
    else
        snprintf(buf, sizeof buf, "%s/.cache/tinglado/models/gemma-3-270m-q4_k_m.gguf",
                 getenv("HOME") ? getenv("HOME") : ".");
    return buf;
}

/* Does a token's text contain structure (quotes, brackets, commas,
 * escapes) or partial UTF-8?  Those are favoured so documents finish. */
static inline bool gu_structural(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (strchr("\"\\[]{},:", c) && c)
            return true;
        if (c >= 0x80) {
            size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
            if (need == 0 || i + need > n)
                return true; /* a split character */
            i += need - 1;
        }
    }
    return false;
}

/* Per-token facts the generator's choices use, computed once: flags, and
 * the ids of the structural tokens and of the closers. */
enum { GU_STRUCT = 1, GU_CLOSER = 2, GU_EOG = 4 };
typedef struct gu_vinfo {
    int32_t n_vocab;
    uint8_t *flags;
    int32_t *list[3]; /* 0: all ids, 1: structural, 2: closers */
    int32_t n_list[3];
} gu_vinfo;

static inline gu_vinfo gu_vocab_info(const tg_vocab *v) {
    gu_vinfo in = {0};
    int32_t nv = in.n_vocab = tg_vocab_n_tokens(v);
    in.flags = calloc((size_t)nv, 1);
    for (int k = 0; k < 3; k++)
        in.list[k] = malloc((size_t)nv * sizeof(int32_t));
    char piece[2048];
    for (int32_t t = 0; t < nv; t++) {
        size_t pl = tg_token_to_piece(v, t, false, piece, sizeof piece);
        if (pl > sizeof piece)
            pl = sizeof piece;
        if (gu_structural(piece, pl))
            in.flags[t] |= GU_STRUCT;
        if (memchr(piece, '"', pl) || memchr(piece, ']', pl) || memchr(piece, '}', pl))
            in.flags[t] |= GU_CLOSER;
        if (tg_vocab_is_eog(v, t))
            in.flags[t] |= GU_EOG;
        in.list[0][in.n_list[0]++] = t;
        if (in.flags[t] & GU_STRUCT)
            in.list[1][in.n_list[1]++] = t;
        if (in.flags[t] & GU_CLOSER)
            in.list[2][in.n_list[2]++] = t;
    }
    return in;
}

static inline void gu_vinfo_free(gu_vinfo *in) {
    free(in->flags);
    for (int k = 0; k < 3; k++)
        free(in->list[k]);
}

#define GU_BIT(bits, t) (((bits)[(t) >> 5] >> ((t)&31)) & 1u)

/* A uniformly random allowed token of list k (not an end token): by
 * rejection first, then by counting (over the bitset for the full list). */
static inline int32_t gu_pick(const gu_vinfo *in, const uint32_t *bits, int k) {
    for (int tries = 0; tries < 64 && in->n_list[k] > 0; tries++) {
        int32_t t = in->list[k][gu_rand() % (uint32_t)in->n_list[k]];
        if (GU_BIT(bits, t) && !(in->flags[t] & GU_EOG))
            return t;
    }
    int32_t words = (in->n_vocab + 31) / 32, n = 0;
    if (k == 0) {
        for (int32_t w = 0; w < words; w++)
            for (uint32_t x = bits[w]; x; x &= x - 1)
                n += !(in->flags[w * 32 + __builtin_ctz(x)] & GU_EOG);
    } else {
        for (int32_t i = 0; i < in->n_list[k]; i++)
            n += GU_BIT(bits, in->list[k][i]) && !(in->flags[in->list[k][i]] & GU_EOG);
    }
    if (n == 0)
        return -1;
    int32_t pick = (int32_t)(gu_rand() % (uint32_t)n);
    if (k == 0) {
        for (int32_t w = 0; w < words; w++)
            for (uint32_t x = bits[w]; x; x &= x - 1) {
                int32_t t = w * 32 + __builtin_ctz(x);
                if (!(in->flags[t] & GU_EOG) && pick-- == 0)
                    return t;
            }
    }
    for (int32_t i = 0; i < in->n_list[k]; i++) {
        int32_t t = in->list[k][i];
        if (GU_BIT(bits, t) && !(in->flags[t] & GU_EOG) && pick-- == 0)
            return t;
    }
    return -1;
}

typedef struct gu_doc {
    char *text;
    size_t len, cap;
    size_t tokens;
    bool stuck;     /* allowed() failed or gave nothing */
    bool truncated; /* hit the token limit */
    bool rejected;  /* accept() refused an allowed token */
} gu_doc;

static inline void gu_doc_add(gu_doc *d, const char *p, size_t n) {
    if (d->len + n + 1 > d->cap) {
        d->cap = (d->len + n + 1) * 2;
        d->text = realloc(d->text, d->cap);
    }
    memcpy(d->text + d->len, p, n);
    d->len += n;
    d->text[d->len] = 0;
}

/* Generates one document under the grammar with random token choices:
 * about half the time among tokens with structure, and only closers once
 * the document is long, so that documents finish.  An end token is taken
 * (most of the time) as soon as it is allowed. */
static inline gu_doc gu_generate(tg_grammar_state *st, const tg_vocab *v, const gu_vinfo *in,
                                 uint32_t *bits, size_t max_tokens) {
    gu_doc d = {0};
    char piece[2048];
    tg_grammar_state_reset(st);
    for (;;) {
        if (d.tokens >= max_tokens) {
            d.truncated = true;
            break;
        }
        if (tg_grammar_allowed(st, bits) != TG_OK) {
            d.stuck = true;
            break;
        }
        if (tg_grammar_complete(st) && gu_rand() % 4 != 0) {
            tg_token eog = tg_vocab_eos(v);
            if (!GU_BIT(bits, eog) || tg_grammar_accept(st, eog) != TG_OK)
                d.rejected = true;
            break;
        }
        int k = d.tokens > max_tokens / 4 ? 2 : gu_rand() % 100 < 55 ? 1 : 0;
        int32_t t = gu_pick(in, bits, k);
        if (t < 0 && k)
            t = gu_pick(in, bits, 0);
        if (t < 0) {
            if (tg_grammar_complete(st) && tg_grammar_accept(st, tg_vocab_eos(v)) == TG_OK)
                break;
            d.stuck = true;
            break;
        }
        size_t pl = tg_token_to_piece(v, t, false, piece, sizeof piece);
        if (tg_grammar_accept(st, t) != TG_OK) {
            d.rejected = true;
            break;
        }
        d.tokens++;
        gu_doc_add(&d, piece, pl);
    }
    if (!d.text)
        d.text = calloc(1, 1);
    return d;
}

#endif /* TG_TESTS_GRAMMAR_UTIL_H */
