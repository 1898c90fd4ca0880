/*
 * detok.c — tokens back to bytes, as llama.cpp renders them
 * (llama_token_to_piece / llama_detokenize), plus the streaming detokenizer.
 *
 * A token's piece, by its attributes:
 *   UNKNOWN / CONTROL  its text, only when `special` (else nothing);
 *   USER_DEFINED       its text, always;
 *   NORMAL             SPM (and ▁-escaping BPE): the text with ▁ → ' ';
 *                      byte-level BPE: each code point mapped back to its byte
 *                      (GPT-2 map); a code point outside the map is rendered
 *                      "[UNK_BYTE_0x<utf8 hex><token text>]" like llama.cpp;
 *   BYTE               the byte its "<0xXX>" text names;
 *   anything else      nothing (unused / undefined tokens).
 * Pieces are produced through a callback so that the streaming detokenizer
 * can consume them without a buffer of its own (no allocation per token).
 *
 * The stream never emits part of a UTF-8 character: a trailing incomplete
 * sequence waits for the next token; a sequence proven ill-formed becomes one
 * U+FFFD per maximal ill-formed subpart (what Python's decode(errors="replace")
 * does), so for any token list the stream's output equals the UTF-8 repair of
 * the concatenated pieces.
 */
#include "token/utf8.h"
#include "token/vocab.h"

#include <string.h>

typedef void (*emit_fn)(void *ctx, const char *p, size_t n);

/* A bounded writer that keeps counting past its capacity. */
typedef struct sink {
    char *buf;
    size_t cap, len;
} sink;

static void sink_put(void *ctx, const char *p, size_t n) {
    sink *s = ctx;
    if (s->len < s->cap && s->buf) {
        size_t k = TG_MIN(n, s->cap - s->len);
        memcpy(s->buf + s->len, p, k);
    }
    s->len += n;
}

/* llama.cpp reads a byte token's value with strtol over the two characters
 * after "<0x"; malformed texts give whatever leading hex digits there are. */
static uint8_t byte_of(tg_str t) {
    unsigned v = 0;
    for (size_t i = 3; i < 5 && i < t.len; i++) {
        char c = t.ptr[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            break;
        v = v * 16 + d;
    }
    return (uint8_t)v;
}

/* Text with every U+2581 replaced by a space. */
static void unescape(tg_str t, emit_fn emit, void *ctx) {
    size_t start = 0;
    for (size_t i = 0; i + 3 <= t.len; i++) {
        if (memcmp(t.ptr + i, "\xe2\x96\x81", 3) == 0) {
            emit(ctx, t.ptr + start, i - start);
            emit(ctx, " ", 1);
            start = i + 3;
            i += 2;
        }
    }
    emit(ctx, t.ptr + start, t.len - start);
}

/* Byte-level BPE text back to bytes (llama.cpp's llama_decode_text). */
static void gpt2_decode(tg_str t, emit_fn emit, void *ctx) {
    static const char hex[] = "0123456789abcdef";
    size_t pos = 0;
    while (pos < t.len) {
        uint32_t cp = tg__utf8_decode_lax(t.ptr, t.len, &pos);
        int b = tg__gpt2_cp_to_byte(cp);
        if (b >= 0) {
            char c = (char)b;
            emit(ctx, &c, 1);
            continue;
        }
        char u[4], h[8];
        size_t n = tg__utf8_encode(cp, u);
        for (size_t i = 0; i < n; i++) {
            h[2 * i] = hex[(uint8_t)u[i] >> 4];
            h[2 * i + 1] = hex[(uint8_t)u[i] & 15];
        }
        emit(ctx, "[UNK_BYTE_0x", 12);
        emit(ctx, h, 2 * n);
        emit(ctx, t.ptr, t.len);
        emit(ctx, "]", 1);
    }
}

/* Produces the piece of token t through emit. */
static void render(const tg_vocab *v, tg_token t, bool special, emit_fn emit, void *ctx) {
    if (t < 0 || t >= v->n_tokens)
        return;
    uint16_t attr = v->attrs[t];
    tg_str text = v->text[t];
    const uint16_t shown_if_special = TG__ATTR_UNKNOWN | TG__ATTR_CONTROL;
    if (attr & shown_if_special) {
        if (special)
            emit(ctx, text.ptr, text.len);
    } else if (attr & TG__ATTR_USER_DEFINED) {
        emit(ctx, text.ptr, text.len);
    } else if (attr & TG__ATTR_NORMAL) {
        if (v->kind == TG_VOCAB_SPM || v->escape_whitespaces)
            unescape(text, emit, ctx);
        else
            gpt2_decode(text, emit, ctx);
    } else if (attr & TG__ATTR_BYTE) {
        char c = (char)byte_of(text);
        emit(ctx, &c, 1);
    }
}

size_t tg_token_to_piece(const tg_vocab *v, tg_token t, bool special, char *buf, size_t cap) {
    sink s = {buf, buf ? cap : 0, 0};
    if (v)
        render(v, t, special, sink_put, &s);
    return s.len;
}

/* ------------------------------------------------------------------ */
/* Whole sequences (llama_detokenize with remove_special = false)      */
/* ------------------------------------------------------------------ */

/* Drops the first space of what passes through (the space SPM prepends). */
typedef struct lstrip_sink {
    sink *out;
    bool strip;
} lstrip_sink;

static void lstrip_put(void *ctx, const char *p, size_t n) {
    lstrip_sink *l = ctx;
    if (l->strip && n) {
        l->strip = false;
        if (p[0] == ' ') {
            p++;
            n--;
        }
    }
    sink_put(l->out, p, n);
}

/* Hugging Face's clean_up_tokenization_spaces, exactly as llama.cpp does it
 * in three in-place passes: no space before ? ! . , ; " ' " loses both
 * spaces; " 's" " 'm" " 're" " 've" lose the space.  Returns the new length. */
static size_t clean_spaces(char *t, size_t total) {
    size_t n1 = total, k = total ? 1 : 0;
    for (size_t i = 1; i < n1; i++) {
        char x = t[i];
        if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ','))
            k--;
        t[k++] = x;
    }
    size_t n2 = k;
    k = n2 ? 1 : 0;
    for (size_t i = 1; i < n2; i++) {
        char x = t[i];
        if (x == '\'' && i + 1 < n2 && t[i - 1] == ' ' && t[i + 1] == ' ') {
            k--;
            t[++i] = '\0';
        }
        t[k++] = x;
    }
    size_t n3 = k;
    k = n3 ? 1 : 0;
    for (size_t i = 1; i < n3; i++) {
        char x = t[i];
        if (t[i - 1] == ' ' && x == '\'' && i + 1 < n3) {
            char x1 = t[i + 1];
            if (x1 == 's' || x1 == 'm')
                k--;
            else if (i + 2 < n3 && ((x1 == 'r' && t[i + 2] == 'e') || (x1 == 'v' && t[i + 2] == 'e')))
                k--;
        }
        t[k++] = x;
    }
    return k;
}

size_t tg_detokenize(const tg_vocab *v, const tg_token *ids, size_t n, bool special, char *buf,
                     size_t cap) {
    sink s = {buf, buf ? cap : 0, 0};
    if (!v || (!ids && n))
        return 0;
    lstrip_sink l = {&s, v->add_space_prefix};
    for (size_t i = 0; i < n; i++) {
        render(v, ids[i], special, lstrip_put, &l);
        l.strip = false; /* only the first token, even when it renders nothing */
    }
    if (s.len > s.cap || !v->clean_spaces)
        return s.len;
    return clean_spaces(buf, s.len);
}

/* ------------------------------------------------------------------ */
/* Streaming                                                           */
/* ------------------------------------------------------------------ */

/* Feeds bytes through the UTF-8 repair state (d->pending) into a sink. */
typedef struct stream {
    unsigned char pending[8];
    size_t n_pending;
    bool strip; /* drop the first space still to come */
    sink *out;
} stream;

static void stream_drain(stream *st) {
    static const char fffd[] = "\xef\xbf\xbd";
    while (st->n_pending) {
        size_t len;
        tg__utf8_class c = tg__utf8_classify(st->pending, st->n_pending, &len);
        if (c == TG__UTF8_PARTIAL)
            return;
        if (c == TG__UTF8_OK)
            sink_put(st->out, (const char *)st->pending, len);
        else
            sink_put(st->out, fffd, 3);
        memmove(st->pending, st->pending + len, st->n_pending - len);
        st->n_pending -= len;
    }
}

static void stream_put(void *ctx, const char *p, size_t n) {
    stream *st = ctx;
    if (st->strip && n) {
        st->strip = false;
        if (p[0] == ' ') {
            p++;
            n--;
        }
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)p[i];
        if (st->n_pending == 0 && b < 0x80) {
            /* ASCII run: pass it through in one piece */
            size_t j = i;
            while (j < n && (unsigned char)p[j] < 0x80)
                j++;
            sink_put(st->out, p + i, j - i);
            i = j - 1;
            continue;
        }
        /* a partial sequence is at most 3 bytes, so this never overflows */
        st->pending[st->n_pending++] = b;
        stream_drain(st);
    }
}

void tg_detok_init(tg_detok *d, const tg_vocab *v, bool special) {
    memset(d, 0, sizeof *d);
    d->vocab = v;
    d->special = special;
    d->strip_leading_space = v && v->add_space_prefix;
}

/* Runs one token through a copy of the state; commits it only if the output
 * fits, so a too-small buffer consumes nothing. */
size_t tg_detok_push(tg_detok *d, tg_token t, char *buf, size_t cap) {
    sink s = {buf, buf ? cap : 0, 0};
    sink count = {NULL, 0, 0};
    stream st = {.n_pending = d->n_pending, .strip = d->strip_leading_space && !d->started,
                 .out = &count};
    memcpy(st.pending, d->pending, sizeof st.pending);
    if (!d->vocab)
        return 0;
    render(d->vocab, t, d->special, stream_put, &st);
    if (count.len > s.cap)
        return count.len;
    st = (stream){.n_pending = d->n_pending, .strip = d->strip_leading_space && !d->started,
                  .out = &s};
    memcpy(st.pending, d->pending, sizeof st.pending);
    render(d->vocab, t, d->special, stream_put, &st);
    memcpy(d->pending, st.pending, sizeof d->pending);
    d->n_pending = st.n_pending;
    d->started = true;
    return s.len;
}

size_t tg_detok_flush(tg_detok *d, char *buf, size_t cap) {
    size_t need = d->n_pending ? 3 : 0; /* a pending prefix is one bad subpart */
    if (need > cap || (need && !buf))
        return need;
    if (need)
        memcpy(buf, "\xef\xbf\xbd", 3);
    d->n_pending = 0;
    return need;
}
