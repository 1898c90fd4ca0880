/*
 * test_detok.c — token pieces, whole-sequence detokenization and the
 * streaming detokenizer.  Hand-made vocabulary for each rendering rule; then,
 * for every golden file, the token ids of the corpus strings are streamed one
 * at a time and the output must equal what llama.cpp's pieces make (the
 * golden's st/dt, repaired to valid UTF-8 by Python), with every chunk valid
 * UTF-8 on its own — a character is never split across two pushes.
 */
#include "../test.h"
#include "golden_util.h"
#include "synth_vocab.h"
#include "token/utf8.h"

enum { UNK, BOS, EOS, HELLO, XE2, X96, X81, X41, HR, UNUSED, A_B, UNDEF, N_TOK };
static const synth_tok TOKS[N_TOK] = {
    [UNK] = {"<unk>", 0, TG_TOKEN_UNKNOWN},          [BOS] = {"<s>", 0, TG_TOKEN_CONTROL},
    [EOS] = {"</s>", 0, TG_TOKEN_CONTROL},           [HELLO] = {"\xe2\x96\x81hello", 0, TG_TOKEN_NORMAL},
    [XE2] = {"<0xE2>", 0, TG_TOKEN_BYTE},            [X96] = {"<0x96>", 0, TG_TOKEN_BYTE},
    [X81] = {"<0x81>", 0, TG_TOKEN_BYTE},            [X41] = {"<0x41>", 0, TG_TOKEN_BYTE},
    [HR] = {"<hr>", 0, TG_TOKEN_USER_DEFINED},       [UNUSED] = {"<unused0>", 0, TG_TOKEN_UNUSED},
    [A_B] = {"a\xe2\x96\x81" "b", 0, TG_TOKEN_NORMAL}, [UNDEF] = {"x", 0, TG_TOKEN_UNDEFINED},
};

static tg_vocab *load(void) {
    tg_vocab *v = NULL;
    CHECK_MSG(synth_load(TOKS, N_TOK, NULL, &v) == TG_OK, "%s", tg_last_error());
    return v;
}

#define PIECE_IS(v, t, special, want)                                                          \
    do {                                                                                       \
        char b_[64];                                                                           \
        size_t n_ = tg_token_to_piece((v), (t), (special), b_, sizeof b_);                     \
        CHECK_MSG(n_ == strlen(want) && !memcmp(b_, (want), n_), "token %d special=%d: '%.*s'", \
                  (t), (special), (int)TG_MIN(n_, sizeof b_), b_);                             \
    } while (0)

static void test_pieces(void) {
    tg_vocab *v = load();
    if (!v)
        return;
    PIECE_IS(v, HELLO, false, " hello");
    PIECE_IS(v, A_B, false, "a b");
    PIECE_IS(v, BOS, false, "");
    PIECE_IS(v, BOS, true, "<s>");
    PIECE_IS(v, UNK, false, "");
    PIECE_IS(v, UNK, true, "<unk>");
    PIECE_IS(v, HR, false, "<hr>"); /* user-defined: always shown */
    PIECE_IS(v, X41, false, "A");
    PIECE_IS(v, UNUSED, true, ""); /* unused and undefined tokens show nothing */
    PIECE_IS(v, UNDEF, true, "");
    PIECE_IS(v, -1, true, "");
    PIECE_IS(v, N_TOK, true, "");
    /* too small: the full length comes back, at most cap bytes are written */
    char b[8] = "#######";
    CHECK_EQ_INT(tg_token_to_piece(v, HELLO, false, b, 3), 6);
    CHECK(!memcmp(b, " he####", 7));
    CHECK_EQ_INT(tg_token_to_piece(v, HELLO, false, NULL, 0), 6);
    tg_vocab_free(v);
}

static void test_detokenize(void) {
    tg_vocab *v = load();
    if (!v)
        return;
    char b[64];
    /* the space SentencePiece prefixed goes — only from the first token */
    size_t n = tg_detokenize(v, IDS(HELLO, HELLO), false, b, sizeof b);
    CHECK(n == 11 && !memcmp(b, "hello hello", n));
    /* a leading BOS takes the strip (llama_detokenize, remove_special=false) */
    n = tg_detokenize(v, IDS(BOS, HELLO, EOS), false, b, sizeof b);
    CHECK(n == 6 && !memcmp(b, " hello", n));
    n = tg_detokenize(v, IDS(BOS, HELLO, EOS), true, b, sizeof b);
    CHECK(n == 13 && !memcmp(b, "<s> hello</s>", n));
    n = tg_detokenize(v, IDS(XE2, X96, X81, X41), false, b, sizeof b);
    CHECK(n == 4 && !memcmp(b, "\xe2\x96\x81" "A", n));
    CHECK_EQ_INT(tg_detokenize(v, IDS(HELLO, HELLO), false, b, 4), 11);
    CHECK_EQ_INT(tg_detokenize(v, NULL, 0, false, b, sizeof b), 0);
    tg_vocab_free(v);
}

/* Pushes one token into buf; when the output needs at least one byte, first
 * checks that a too-small buffer consumes nothing (the same answer twice). */
static bool same_state(const tg_detok *a, const tg_detok *b) {
    return a->n_pending == b->n_pending && a->started == b->started &&
           !memcmp(a->pending, b->pending, sizeof a->pending);
}

static size_t push(tg_detok *d, tg_token t, char *buf, size_t cap) {
    tg_detok before = *d;
    size_t n = tg_detok_push(d, t, buf, 0);
    if (n == 0)
        return 0; /* fitted in 0 bytes: consumed */
    CHECK(same_state(&before, d));
    CHECK_EQ_INT(tg_detok_push(d, t, buf, n - 1), n);
    CHECK(same_state(&before, d));
    CHECK(n <= cap);
    return tg_detok_push(d, t, buf, cap);
}

static void test_stream(void) {
    tg_vocab *v = load();
    if (!v)
        return;
    tg_detok d;
    char b[64];
    tg_detok_init(&d, v, false);
    /* the three bytes of U+2581 come out together, at the last one */
    CHECK_EQ_INT(push(&d, XE2, b, sizeof b), 0);
    CHECK_EQ_INT(push(&d, X96, b, sizeof b), 0);
    CHECK_EQ_INT(push(&d, X81, b, sizeof b), 3);
    CHECK(!memcmp(b, "\xe2\x96\x81", 3));
    CHECK_EQ_INT(tg_detok_flush(&d, b, sizeof b), 0);

    /* the first piece loses its prefix space; later ones keep theirs */
    tg_detok_init(&d, v, false);
    CHECK_EQ_INT(push(&d, HELLO, b, sizeof b), 5);
    CHECK(!memcmp(b, "hello", 5));
    CHECK_EQ_INT(push(&d, HELLO, b, sizeof b), 6);
    CHECK(!memcmp(b, " hello", 6));

    /* a sequence proven broken by the next byte becomes U+FFFD */
    tg_detok_init(&d, v, true);
    CHECK_EQ_INT(push(&d, BOS, b, sizeof b), 3);
    CHECK(!memcmp(b, "<s>", 3));
    CHECK_EQ_INT(push(&d, XE2, b, sizeof b), 0);
    CHECK_EQ_INT(push(&d, HELLO, b, sizeof b), 9);
    CHECK(!memcmp(b, "\xef\xbf\xbd hello", 9));
    /* a partial sequence left at the end is flushed as U+FFFD */
    CHECK_EQ_INT(push(&d, XE2, b, sizeof b), 0);
    CHECK_EQ_INT(push(&d, X96, b, sizeof b), 0);
    CHECK_EQ_INT(tg_detok_flush(&d, b, 2), 3); /* too small: nothing lost */
    CHECK_EQ_INT(tg_detok_flush(&d, b, sizeof b), 3);
    CHECK(!memcmp(b, "\xef\xbf\xbd", 3));
    CHECK_EQ_INT(tg_detok_flush(&d, b, sizeof b), 0);
    /* a lone continuation byte is invalid at once */
    CHECK_EQ_INT(push(&d, X81, b, sizeof b), 3);
    CHECK(!memcmp(b, "\xef\xbf\xbd", 3));
    tg_vocab_free(v);
}

/* Streams ids; returns the concatenated output (malloc'd). */
static char *stream_all(const tg_vocab *v, const int32_t *ids, long n, bool special, size_t *len,
                        int *bad_chunks) {
    size_t cap = 256, used = 0;
    char *out = malloc(cap);
    tg_detok d;
    tg_detok_init(&d, v, special);
    for (long i = 0; i <= n; i++) {
        size_t got;
        for (;;) { /* a return above the room left means "grow and call again" */
            got = i < n ? tg_detok_push(&d, ids[i], out + used, cap - used)
                        : tg_detok_flush(&d, out + used, cap - used);
            if (got <= cap - used)
                break;
            out = realloc(out, cap *= 2);
        }
        if (!tg__utf8_valid(out + used, got))
            (*bad_chunks)++;
        used += got;
    }
    *len = used;
    return out;
}

static void stream_golden(const char *file) {
    char path[GU_PATH], vpath[GU_PATH];
    GU_FMT(path, "%s/%s", GOLDEN_DIR, file);
    size_t size;
    char *data = gu_read_file(path, &size);
    CHECK_MSG(data != NULL, "cannot read %s", path);
    if (!data)
        return;
    const char *end = data + size, *nl = memchr(data, '\n', size), *loc;
    long loc_len = gu_str(data, nl ? nl : end, "vocab", &loc);
    if (loc_len <= 0 || gu_locate(loc, (size_t)loc_len, vpath) || !gu_exists(vpath)) {
        CHECK_MSG(0, "%s: vocabulary not found — run scripts/setup.sh", file);
        free(data);
        return;
    }
    tg_gguf *g = tg_gguf_open(vpath);
    tg_vocab *v = g ? tg_vocab_load(g) : NULL;
    CHECK_MSG(v != NULL, "%s: %s", vpath, tg_last_error());
    tg_gguf_close(g);
    bool add_bos = gu_bool(data, nl, "add_bos"), add_eos = gu_bool(data, nl, "add_eos");
    long n_streams = 0, n_bytes = 0, n_bad = 0;
    int bad_chunks = 0;
    for (const char *line = nl + 1; v && line < end;) {
        const char *le = memchr(line, '\n', (size_t)(end - line));
        if (!le)
            le = end;
        const char *t;
        if (gu_str(line, le, "t", &t) == 4 && !memcmp(t, "text", 4) && gu_key(line, le, "dt")) {
            int32_t *ids = NULL, *ff = NULL;
            long n = gu_ints(line, le, "tt", &ids), n_ff = gu_ints(line, le, "ff", &ff);
            if (n < 0) { /* tt = ft wrapped in BOS/EOS (see the golden README) */
                int32_t *ft = NULL;
                long nf = gu_ints(line, le, "ft", &ft);
                ids = malloc((size_t)(nf + 2) * sizeof *ids);
                n = 0;
                if (add_bos)
                    ids[n++] = tg_vocab_bos(v);
                memcpy(ids + n, ft, (size_t)nf * sizeof *ids);
                n += nf;
                if (add_eos)
                    ids[n++] = tg_vocab_eos(v);
                free(ft);
            }
            /* tt ids special false/true, and ff ids (where the golden has df) */
            for (int k = 0; k < 3; k++) {
                bool special = k == 1, use_ff = k == 2;
                static const char *const skey[] = {"st", "sts", "sf"}, *const dkey[] = {"dt", "dts", "df"};
                if (use_ff && (n_ff < 0 || !gu_key(line, le, "df")))
                    break;
                size_t n_want, n_got;
                unsigned char *want = gu_hex(line, le, skey[k], &n_want);
                if (!want)
                    want = gu_hex(line, le, dkey[k], &n_want);
                char *got = use_ff ? stream_all(v, ff, n_ff, special, &n_got, &bad_chunks)
                                   : stream_all(v, ids, n, special, &n_got, &bad_chunks);
                bool ok = want && n_got == n_want && !memcmp(got, want, n_got);
                if (!ok && n_bad++ < 5)
                    CHECK_MSG(0, "%s: text %lld (%s): stream gave %zu bytes '%.*s', want %zu '%.*s'",
                              file, gu_int(line, le, "i", -1), skey[k], n_got, (int)TG_MIN(n_got, 80),
                              got, n_want, (int)TG_MIN(n_want, 80), want ? (char *)want : "");
                n_streams++;
                n_bytes += (long)n_got;
                free(got);
                free(want);
            }
            free(ids);
            free(ff);
        }
        line = le + 1;
    }
    CHECK_EQ_INT(n_bad, 0);
    CHECK_EQ_INT(bad_chunks, 0);
    CHECK(n_streams > 0);
    fprintf(stderr, "  %s: %ld token streams (%ld bytes) equal llama.cpp's pieces, %ld differ\n",
            file, n_streams, n_bytes, n_bad);
    tg_vocab_free(v);
    free(data);
}

static void test_stream_goldens(void) {
    static char names[64][256];
    int n = gu_list_goldens(names, 64);
    CHECK_MSG(n > 0, "no golden files in %s (run from the repository root)", GOLDEN_DIR);
    for (int i = 0; i < n; i++)
        stream_golden(names[i]);
}

/* Random text through the default model's vocabulary: tokenizing never
 * fails (every byte has a byte token) and detokenizing gives the bytes back
 * — for ASCII soup, random valid UTF-8, and random bytes without spaces.
 * (Not for spaces next to broken UTF-8: the escaped space's bytes can end up
 * inside a byte-spelled symbol and come back as U+2581, in llama.cpp too; and
 * a literal U+2581 comes back as a space.)  Random ids stream as valid
 * UTF-8 chunks. */
static uint64_t next_rand(uint64_t *x) {
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

static void test_roundtrip_random(void) {
    char path[GU_PATH];
    CHECK(gu_default_model(path) == 0);
    tg_gguf *g = gu_exists(path) ? tg_gguf_open(path) : NULL;
    CHECK_MSG(g != NULL, "default model %s: run scripts/setup.sh (or set TINGLADO_MODEL)", path);
    tg_vocab *v = g ? tg_vocab_load(g) : NULL;
    tg_gguf_close(g);
    if (!v)
        return;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char text[1300], back[8192];
    int bad = 0, bad_chunks = 0;
    for (int round = 0; round < 300; round++) {
        size_t n = 0, len = 1 + (size_t)round % 300;
        while (n < len) {
            uint64_t r = next_rand(&x);
            if (round % 3 == 0) { /* ASCII soup with specials' characters */
                text[n++] = "ab <>\n\t_s/|"[r % 12];
            } else if (round % 3 == 1) { /* a random scalar value, not U+2581 */
                uint32_t cp = (uint32_t)(r % 0x110000);
                if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0x2581 || cp == 0)
                    continue;
                n += tg__utf8_encode(cp, text + n);
            } else { /* any byte but a space */
                char c = (char)(r >> 24);
                if (c == ' ' || (n >= 2 && (unsigned char)text[n - 2] == 0xE2 &&
                                 (unsigned char)text[n - 1] == 0x96 && (unsigned char)c == 0x81))
                    continue;
                text[n++] = c;
            }
        }
        tg_tokens t = {0};
        bool special = round % 2 == 0;
        tg_status s = tg_tokenize(v, text, n, (tg_tokenize_opts){false, special}, &t);
        size_t m = s ? 0 : tg_detokenize(v, t.ids, t.n, special, back, sizeof back);
        if (s || m != n || memcmp(back, text, n)) {
            if (bad++ < 3)
                CHECK_MSG(0, "round %d: %zu bytes gave %zu tokens, back %zu bytes (%s)", round, n,
                          t.n, m, s ? tg_last_error() : "");
        }
        tg_tokens_free(&t);
        /* random ids (some out of range), streamed */
        int32_t ids[16];
        for (int i = 0; i < 16; i++)
            ids[i] = (int32_t)(next_rand(&x) % (uint64_t)(tg_vocab_n_tokens(v) + 10)) - 5;
        size_t got;
        free(stream_all(v, ids, 16, special, &got, &bad_chunks));
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(bad_chunks, 0);
    tg_vocab_free(v);
}

int main(void) {
    RUN(test_pieces);
    RUN(test_detokenize);
    RUN(test_stream);
    RUN(test_stream_goldens);
    RUN(test_roundtrip_random);
    return tg_test_finish("test_detok");
}
