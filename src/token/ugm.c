/*
 * ugm.c — the SentencePiece Unigram tokenizer of "t5" vocabularies (T5,
 * XLM-RoBERTa and the encoders built on it, such as multilingual-e5), as
 * llama.cpp runs it (llm_tokenizer_ugm), for identical ids on one file.
 *
 *   1. Normalise, one input prefix at a time:
 *        - a prefix that runs into a USER_DEFINED token's text is kept as it
 *          is, as far as it matches (llama.cpp walks its trie that deep);
 *        - else the longest prefix found in the precompiled charsmap (a
 *          SentencePiece XOR-compressed double array over UTF-8 bytes,
 *          tokenizer.ggml.precompiled_charsmap) is replaced by its string;
 *        - else one UTF-8 character is copied (an invalid byte becomes U+FFFD);
 *      spaces become "▁"; with remove_extra_whitespaces runs of spaces shrink
 *      to one and every run of non-spaces gets one before it (so leading and
 *      trailing spaces vanish); else add_space_prefix puts one at the start.
 *   2. Viterbi over the normalised bytes, one character at a time: every
 *      NORMAL, USER_DEFINED or UNUSED token starting there extends the best
 *      path (score sums in double; user-defined tokens score 0); a character
 *      no token covers alone costs min(NORMAL score) − 10 as [UNK].
 *   3. Backtrack; runs of [UNK] merge into one.
 *
 * Never crashes on input or on a broken charsmap: indexes into the double
 * array and the replacement strings are checked; a broken charsmap is a
 * TG_ERR_FORMAT error at tokenization (llama.cpp throws there too).
 */
#include "token/utf8.h"
#include "token/vocab.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

struct tg__ugm_state {
    const uint32_t *xcda; /* the double array (copied, aligned) */
    size_t n_xcda;
    const char *repl;     /* NUL-terminated replacement strings */
    size_t n_repl;
    uint8_t *charsmap;    /* owned copy of the whole blob */
    tg_token *user;       /* USER_DEFINED tokens */
    size_t n_user;
    double unk_score;
};

tg_status tg__ugm_init(tg_vocab *v, const tg_gguf *g) {
    tg__ugm_state *st = tg__calloc(1, sizeof *st);
    if (!st)
        return TG_ERR_NOMEM;
    v->ugm = st;
    const char *path = tg_gguf_path(g) ? tg_gguf_path(g) : "(gguf)";
    const tg_gguf_value *cm;
    tg_status s = tg_gguf_get_array(g, "tokenizer.ggml.precompiled_charsmap", &cm);
    if (s == TG_OK) {
        if (cm->v.arr.type != TG_GGUF_UINT8 && cm->v.arr.type != TG_GGUF_INT8)
            return tg__fail(TG_ERR_TYPE, "%s: precompiled_charsmap must be an array of bytes", path);
        size_t n = cm->v.arr.nbytes;
        if (n < 4)
            return tg__fail(TG_ERR_FORMAT, "%s: precompiled_charsmap too small", path);
        uint32_t blob = tg__load_u32(cm->v.arr.data);
        if (blob > n - 4 || blob % 4)
            return tg__fail(TG_ERR_FORMAT, "%s: precompiled_charsmap double array of %u bytes does not fit", path,
                            blob);
        /* copy: 4-byte alignment for the array, and a life of its own */
        if (!(st->charsmap = tg__malloc(n)))
            return TG_ERR_NOMEM;
        memcpy(st->charsmap, cm->v.arr.data, n);
        st->xcda = (const uint32_t *)(st->charsmap + 4);
        st->n_xcda = blob / 4;
        st->repl = (const char *)st->charsmap + 4 + blob;
        st->n_repl = n - 4 - blob;
    } else if (s != TG_ERR_NOT_FOUND) {
        return tg__fail_prefix(s, "%s", path);
    }
    float min = FLT_MAX;
    for (int32_t id = 0; id < v->n_tokens; id++) {
        if ((v->attrs[id] & TG__ATTR_NORMAL) && v->scores && v->scores[id] < min)
            min = v->scores[id];
        if (v->attrs[id] & TG__ATTR_USER_DEFINED)
            st->n_user++;
    }
    st->unk_score = (double)(min == FLT_MAX ? 0.0f : min) - 10.0; /* llama.cpp: float min − 10 */
    if (st->n_user) {
        if (!(st->user = tg__calloc(st->n_user, sizeof *st->user)))
            return TG_ERR_NOMEM;
        st->n_user = 0;
        for (int32_t id = 0; id < v->n_tokens; id++)
            if (v->attrs[id] & TG__ATTR_USER_DEFINED)
                st->user[st->n_user++] = id;
    }
    return TG_OK;
}

void tg__ugm_free(tg_vocab *v) {
    if (!v->ugm)
        return;
    free(v->ugm->charsmap);
    free(v->ugm->user);
    free(v->ugm);
    v->ugm = NULL;
}

/* A unit of the double array; out of bounds clears *ok. */
static inline uint32_t unit_at(const tg__ugm_state *st, size_t i, bool *ok) {
    if (i >= st->n_xcda) {
        *ok = false;
        return 0;
    }
    return st->xcda[i];
}

/* BASE: bits 10–30, shifted left by 8 more when bit 9 is set. */
static inline uint32_t unit_base(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

/* The replacement of the longest charsmap key at s[0..n): its length in
 * *key (0 if none) and the string in *out.  -1 on a broken charsmap. */
static int charsmap_match(const tg__ugm_state *st, const uint8_t *s, size_t n, size_t *key, const char **out,
                          size_t *out_len) {
    *key = 0;
    if (!st->n_xcda)
        return 0;
    bool ok = true;
    size_t best_off = 0;
    uint32_t node = unit_base(unit_at(st, 0, &ok));
    for (size_t i = 0; i < n && ok; i++) {
        if (s[i] == 0)
            break;
        node ^= s[i];
        const uint32_t u = unit_at(st, node, &ok);
        if (!ok || (u & ((1u << 31) | 0xffu)) != s[i])
            break;
        const bool leaf = (u >> 8) & 1;
        node ^= unit_base(u);
        if (leaf) {
            const uint32_t val = unit_at(st, node, &ok);
            *key = i + 1;
            best_off = val & ((1u << 31) - 1);
        }
    }
    if (!ok)
        return -1;
    if (*key) {
        if (best_off >= st->n_repl)
            return -1;
        const char *r = st->repl + best_off;
        size_t len = strnlen(r, st->n_repl - best_off);
        if (len == st->n_repl - best_off)
            return -1; /* unterminated */
        *out = r;
        *out_len = len;
    }
    return 0;
}

/* Step 1: the normalised text (escaped spaces) into buf. */
static tg_status normalize(const tg_vocab *v, const char *text, size_t len, tg__buf *buf) {
    const tg__ugm_state *st = v->ugm;
    const char *space = v->escape_whitespaces ? "\xe2\x96\x81" : " ";
    const size_t sl = v->escape_whitespaces ? 3 : 1;
    const bool merge = v->remove_extra_whitespaces, prepend = v->add_space_prefix;
    bool prepended = false, in_word = false;
    for (size_t off = 0; off < len;) {
        const char *piece = text + off;
        size_t plen = 0, consumed = 0;
        /* user-defined tokens: as deep as the trie of their texts goes */
        for (size_t k = 0; k < st->n_user; k++) {
            tg_str t = v->text[st->user[k]];
            size_t m = 0;
            while (m < t.len && off + m < len && t.ptr[m] == text[off + m])
                m++;
            plen = TG_MAX(plen, m);
        }
        consumed = plen;
        if (!plen) {
            size_t key;
            const char *r = NULL;
            size_t rl = 0;
            if (charsmap_match(st, (const uint8_t *)text + off, len - off, &key, &r, &rl) < 0)
                return tg__fail(TG_ERR_FORMAT, "the vocabulary's precompiled charsmap is corrupt");
            if (key) {
                piece = r, plen = rl, consumed = key;
            } else {
                size_t p = off;
                uint32_t cp = tg__utf8_decode_lax(text, len, &p);
                if (cp == 0xFFFD && p - off == 1)
                    piece = "\xef\xbf\xbd", plen = 3, consumed = 1;
                else
                    plen = consumed = p - off;
            }
        }
        for (size_t i = 0; i < plen; i++) {
            if (piece[i] != ' ') {
                if (!in_word) {
                    in_word = true;
                    if (((prepend && !prepended) || merge) && !tg__buf_append(buf, space, sl))
                        return TG_ERR_NOMEM;
                    prepended = true;
                }
                if (!tg__buf_append_u8(buf, (uint8_t)piece[i]))
                    return TG_ERR_NOMEM;
            } else {
                in_word = false;
                if (!merge && !tg__buf_append(buf, space, sl))
                    return TG_ERR_NOMEM;
            }
        }
        off += consumed;
    }
    return TG_OK;
}

typedef struct best {
    tg_token id;
    size_t from;
    double score;
} best;

tg_status tg__ugm_tokenize(const tg_vocab *v, const char *text, size_t len, tg_tokens *out) {
    tg__buf nb = {0};
    best *b = NULL;
    if (v->unk < 0)
        return tg__fail(TG_ERR_FORMAT, "the Unigram vocabulary has no unknown token");
    tg_status s = normalize(v, text, len, &nb);
    const size_t n = nb.len, n0 = out->n;
    if (s || n == 0)
        goto done;
    s = TG_ERR_NOMEM;
    size_t count;
    if (!tg__add_size(n, 1, &count) || !(b = tg__malloc(count * sizeof *b)))
        goto done;
    for (size_t i = 0; i <= n; i++)
        b[i] = (best){v->unk, 0, -DBL_MAX};
    b[0].score = 0;
    const char *t = (const char *)nb.data;
    const uint16_t matchable = TG__ATTR_NORMAL | TG__ATTR_USER_DEFINED | TG__ATTR_UNUSED;
    for (size_t i = 0; i < n;) {
        const size_t cl = TG_MIN(tg__utf8_len_lead((uint8_t)t[i]), n - i);
        bool single = false;
        const size_t maxl = TG_MIN(v->max_token_len, n - i);
        for (size_t l = 1; l <= maxl; l++) {
            tg_token id = tg__vocab_lookup(v, t + i, l);
            if (id < 0 || !(v->attrs[id] & matchable))
                continue;
            single |= l == cl;
            double sc = b[i].score + ((v->attrs[id] & TG__ATTR_USER_DEFINED) || !v->scores ? 0.0 : v->scores[id]);
            if (sc > b[i + l].score)
                b[i + l] = (best){id, i, sc};
        }
        if (!single) {
            double sc = b[i].score + v->ugm->unk_score;
            if (sc > b[i + cl].score)
                b[i + cl] = (best){v->unk, i, sc};
        }
        i += cl;
    }
    /* backtrack, merging runs of [UNK] */
    bool prev_unk = false;
    for (size_t at = n;;) {
        const best *r = &b[at];
        const bool unk = r->id == v->unk;
        if (!(prev_unk && unk) && !tg__tokens_push(out, r->id)) {
            out->n = n0;
            goto done;
        }
        if (r->from == 0)
            break;
        prev_unk = unk;
        at = r->from;
    }
    for (size_t i = n0, j = out->n - 1; i < j; i++, j--) {
        tg_token x = out->ids[i];
        out->ids[i] = out->ids[j];
        out->ids[j] = x;
    }
    s = TG_OK;
done:
    free(b);
    tg__buf_free(&nb);
    return s;
}
