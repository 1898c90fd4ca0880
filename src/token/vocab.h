/*
 * vocab.h — internal layout of a tokenizer vocabulary, shared by the files
 * of src/token/:
 *   vocab.c    loads tokens/scores/types/special ids from GGUF metadata,
 *              the text→id index, the special-token partition of input
 *              text, BOS/EOS handling, and tg_tokenize() itself;
 *   spm.c      the SentencePiece-style tokenizer ("llama");
 *   bpe.c      byte-level BPE ("gpt2") with its merges table;
 *   pretok.c   the PCRE2 pre-tokenizer regexes chosen by tokenizer.ggml.pre;
 *   detok.c    token → bytes and the streaming UTF-8-safe detokenizer.
 * The kind-specific files keep their own state behind the opaque pointers.
 */
#ifndef TG_TOKEN_VOCAB_H
#define TG_TOKEN_VOCAB_H

#include "base/base.h"

typedef struct tg__spm_state tg__spm_state;
typedef struct tg__bpe_state tg__bpe_state;

struct tg_vocab {
    tg_vocab_kind kind;
    char model_name[32]; /* tokenizer.ggml.model */
    char pre_name[64];   /* tokenizer.ggml.pre ("" if absent) */

    int32_t n_tokens;
    tg_str *text;    /* token strings, pointing into `strings` (NUL-terminated there) */
    char *strings;   /* one allocation holding every token string */
    float *scores;   /* NULL if the file has none */
    uint8_t *types;  /* tg_token_type per token */

    /* open-addressing hash index: text → id */
    int32_t *index;
    size_t index_cap; /* power of two */

    /* special ids, -1 when absent */
    tg_token bos, eos, eot, eom, unk, pad, sep, nl;
    bool add_bos, add_eos;
    bool add_space_prefix;
    bool remove_extra_whitespaces;
    bool ignore_merges;

    /* tokens recognised inside text: CONTROL / USER_DEFINED / UNKNOWN types,
     * sorted by decreasing text length (the longest match wins) */
    tg_token *special;
    size_t n_special;

    /* end-of-generation tokens (eos, eot, eom and ones named like <|im_end|>) */
    tg_token *eog;
    size_t n_eog;

    tg__spm_state *spm;
    tg__bpe_state *bpe;
};

/* Look a byte string up in the text index (-1 if absent). */
tg_token tg__vocab_lookup(const tg_vocab *v, const char *text, size_t len);

/* Appending to a tg_tokens; false (with an error set) on allocation failure. */
bool tg__tokens_push(tg_tokens *t, tg_token id);

/* Kind-specific hooks called by vocab.c. */
tg_status tg__spm_init(tg_vocab *v, const tg_gguf *g);
void tg__spm_free(tg_vocab *v);
/* Tokenizes one fragment of raw text (no special tokens inside), which the
 * caller has already prefixed/escaped as SentencePiece requires. */
tg_status tg__spm_tokenize(const tg_vocab *v, const char *text, size_t len, tg_tokens *out);

tg_status tg__bpe_init(tg_vocab *v, const tg_gguf *g);
void tg__bpe_free(tg_vocab *v);
tg_status tg__bpe_tokenize(const tg_vocab *v, const char *text, size_t len, tg_tokens *out);

#endif /* TG_TOKEN_VOCAB_H */
