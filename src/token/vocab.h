/*
 * vocab.h — internal layout of a tokenizer vocabulary, shared by the files
 * of src/token/:
 *   vocab.c    loads tokens/scores/types/special ids from GGUF metadata,
 *              the text→id index, the special-token partition of input
 *              text, BOS/EOS handling, and tg_tokenize() itself;
 *   spm.c      the SentencePiece-style tokenizer ("llama");
 *   bpe.c      byte-level BPE ("gpt2") with its merges table;
 *   wordpiece.c WordPiece ("bert"): BERT normalisation and greedy matching;
 *   ugm.c      SentencePiece Unigram ("t5"): charsmap normalisation, Viterbi;
 *   pretok.c   the PCRE2 pre-tokenizer regexes chosen by tokenizer.ggml.pre;
 *   detok.c    token → bytes and the streaming UTF-8-safe detokenizer.
 * The kind-specific files keep their own state behind the opaque pointers.
 */
#ifndef TG_TOKEN_VOCAB_H
#define TG_TOKEN_VOCAB_H

#include "base/base.h"

typedef struct tg__spm_state tg__spm_state;
typedef struct tg__bpe_state tg__bpe_state;
typedef struct tg__wpm_state tg__wpm_state;
typedef struct tg__ugm_state tg__ugm_state;

/* llama.cpp's token attribute bits (llama_token_attr), kept bit-identical. */
enum {
    TG__ATTR_UNKNOWN = 1 << 0,
    TG__ATTR_UNUSED = 1 << 1,
    TG__ATTR_NORMAL = 1 << 2,
    TG__ATTR_CONTROL = 1 << 3,
    TG__ATTR_USER_DEFINED = 1 << 4,
    TG__ATTR_BYTE = 1 << 5,
    TG__ATTR_NORMALIZED = 1 << 6,
    TG__ATTR_LSTRIP = 1 << 7, /* a match swallows the whitespace before it */
    TG__ATTR_RSTRIP = 1 << 8, /* ... and after it */
    TG__ATTR_SINGLE_WORD = 1 << 9,
};

struct tg_vocab {
    tg_vocab_kind kind;
    char model_name[32]; /* tokenizer.ggml.model */
    char pre_name[64];   /* tokenizer.ggml.pre ("" if absent) */

    int32_t n_tokens;
    tg_str *text;    /* token strings, pointing into `strings` (NUL-terminated there) */
    char *strings;   /* one allocation holding every token string */
    float *scores;   /* NULL if the file has none */
    uint8_t *types;  /* tg_token_type per token */
    uint16_t *attrs; /* TG__ATTR_* bits per token: llama.cpp's attributes after
                        its load-time fix-ups (these, not `types`, decide how a
                        token is matched in text and rendered) */
    size_t max_token_len; /* longest token text in bytes */

    /* open-addressing hash index: text → id */
    int32_t *index;
    size_t index_cap; /* power of two */

    /* special ids, -1 when absent */
    tg_token bos, eos, eot, eom, unk, pad, sep, nl;
    tg_token mask, fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
    bool add_bos, add_eos, add_sep;
    bool add_space_prefix;
    bool remove_extra_whitespaces;
    bool ignore_merges;
    bool escape_whitespaces; /* ' ' → U+2581 before tokenizing (SPM; gemma4 BPE) */
    bool clean_spaces;       /* detokenize: HF clean_up_tokenization_spaces */

    /* tokens recognised inside text: CONTROL / USER_DEFINED / UNKNOWN types,
     * sorted by decreasing text length (the longest match wins) */
    tg_token *special;
    size_t n_special;

    /* end-of-generation tokens (eos, eot, eom and ones named like <|im_end|>) */
    tg_token *eog;
    size_t n_eog;

    tg__spm_state *spm;
    tg__bpe_state *bpe;
    tg__wpm_state *wpm;
    tg__ugm_state *ugm;
};

/* tg_vocab_load with its status (tests tell "unsupported" from "broken"). */
tg_status tg__vocab_load(const tg_gguf *g, tg_vocab **out);

/* Look a byte string up in the text index (-1 if absent). */
tg_token tg__vocab_lookup(const tg_vocab *v, const char *text, size_t len);

/* Appending to a tg_tokens; false (with an error set) on allocation failure. */
bool tg__tokens_push(tg_tokens *t, tg_token id);

/* Kind-specific hooks called by vocab.c.
 * Order of loading in tg_vocab_load: kind defaults → tokens/scores/types and
 * the text index → tg__spm_init / tg__bpe_init (which may set pre-tokenizer
 * defaults: add_bos, ignore_merges, clean_spaces, escape_whitespaces, bos) →
 * the GGUF's own special ids and add_* flags, which override those defaults
 * (llama.cpp's order) → attribute fix-ups, special-token list, EOG set.
 * tg__bpe_tokenize receives each raw fragment already escaped (' ' → U+2581)
 * when v->escape_whitespaces is set; BOS/EOS are added by tg_tokenize. */
tg_status tg__spm_init(tg_vocab *v, const tg_gguf *g);
void tg__spm_free(tg_vocab *v);
/* Tokenizes one fragment of raw text (no special tokens inside), which the
 * caller has already prefixed/escaped as SentencePiece requires. */
tg_status tg__spm_tokenize(const tg_vocab *v, const char *text, size_t len, tg_tokens *out);

tg_status tg__bpe_init(tg_vocab *v, const tg_gguf *g);
void tg__bpe_free(tg_vocab *v);
tg_status tg__bpe_tokenize(const tg_vocab *v, const char *text, size_t len, tg_tokens *out);

/* WordPiece: reads the normalizer flags; tokenizes one raw fragment (no
 * special tokens inside, not escaped); [CLS]/[SEP] are added by tg_tokenize. */
tg_status tg__wpm_init(tg_vocab *v, const tg_gguf *g);
void tg__wpm_free(tg_vocab *v);
tg_status tg__wpm_tokenize(const tg_vocab *v, const char *text, size_t len, tg_tokens *out);
bool tg__wpm_lowercase(const tg_vocab *v);
/* Unigram: reads the precompiled charsmap (needs tokens, types and scores
 * loaded); tokenizes one raw fragment (normalisation included). */
tg_status tg__ugm_init(tg_vocab *v, const tg_gguf *g);
void tg__ugm_free(tg_vocab *v);
tg_status tg__ugm_tokenize(const tg_vocab *v, const char *text, size_t len, tg_tokens *out);

#endif /* TG_TOKEN_VOCAB_H */
