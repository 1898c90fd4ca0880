/*
 * pretok.h — the pre-tokenizers of byte-level BPE vocabularies: what
 * tokenizer.ggml.pre names (a list of regexes plus a few load-time settings,
 * as llama.cpp assigns them) and the splitting of raw text into the pieces
 * that BPE then merges inside.
 *
 * Splitting never fails on input: any bytes are accepted, and invalid UTF-8
 * is repaired the way llama.cpp does it (each bad byte becomes U+FFFD).
 */
#ifndef TG_TOKEN_PRETOK_H
#define TG_TOKEN_PRETOK_H

#include "base/base.h"

typedef struct tg__pretok tg__pretok;

/* Settings that llama.cpp ties to a pre-tokenizer name (llama_vocab::load). */
typedef struct tg__pretok_settings {
    const char *group;       /* llama.cpp's LLAMA_VOCAB_PRE_TYPE_<group>, e.g. "LLAMA3" */
    bool ignore_merges;      /* a piece that is a whole token is not merged       */
    bool add_bos;            /* the name turns add_bos on                         */
    bool no_bos;             /* ... or removes the BOS id (chatglm)               */
    bool add_sep;            /* the name turns add_sep on                         */
    bool clean_spaces;       /* detokenizer clean-up (BPE default: true)          */
    bool escape_whitespaces; /* ' ' → U+2581 before splitting (gemma4, sarvam)    */
    bool byte_encode;        /* pieces go through the GPT-2 byte map (all but the
                                SPM-style BPEs); without it unknown bytes fall
                                back to <0xXX> tokens                             */
    bool newline_tokens;     /* gemma4: a piece of only '\n' that is a token is
                                taken whole                                       */
    bool defaulted;          /* no name was given: "default" was used (llama.cpp
                                warns that quality will be degraded)              */
} tg__pretok_settings;

/* Compiles the pre-tokenizer for a tokenizer.ggml.pre value (len bytes; an
 * empty name means the key was absent and selects "default", as in llama.cpp).
 * A name llama.cpp does not know, or one whose splitter tinglado lacks, is
 * TG_ERR_UNSUPPORTED — llama.cpp refuses unknown names too. */
tg_status tg__pretok_new(const char *name, size_t len, tg__pretok **out);
void tg__pretok_free(tg__pretok *p);
const tg__pretok_settings *tg__pretok_settings_of(const tg__pretok *p);

/* Whether a name is one tinglado can split (for messages and tests). */
bool tg__pretok_known(const char *name, size_t len);
/* The i-th name tinglado knows, NULL past the end (for tests). */
const char *tg__pretok_name_at(size_t i);

/* The pieces of one text, back to back in `text` (valid UTF-8 except for
 * encoded surrogates, exactly the bytes llama.cpp rebuilds from its code
 * points); piece i is text[end[i-1] .. end[i]) with end[-1] = 0.  Reusable:
 * tg__pretok_split resets it; free with tg__pieces_free. */
typedef struct tg__pieces {
    char *text;
    size_t len, cap;
    size_t *end;
    size_t n, ncap;
} tg__pieces;
void tg__pieces_free(tg__pieces *p);

/* Splits len bytes of text (any bytes).  Fails only on allocation failure or
 * when the regex engine gives up (match limits), with an error set. */
tg_status tg__pretok_split(const tg__pretok *p, const char *text, size_t len, tg__pieces *out);

/* llama.cpp's code point class (pretok_ucd.inc plus the White_Space list),
 * exposed for tests: 0 other, 1 letter, 2 number, 3 punctuation, 4 mark,
 * 5 symbol, 6 whitespace. */
int tg__pretok_class(uint32_t cp);

#endif /* TG_TOKEN_PRETOK_H */
