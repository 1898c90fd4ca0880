/*
 * tinglado.h — the public C API of libtinglado.
 *
 * This is the only header the CLI, the server and the applications include.
 * Everything here is stable-ish and documented; everything under src/ is
 * private.  Conventions:
 *   - Public names are tg_<module>_<verb>; types are tg_<thing>.
 *   - A function that can fail on input returns a tg_status (or NULL) and
 *     leaves a human-readable message in tg_last_error() (thread-local).
 *   - Nothing here ever aborts the process on bad input.
 */
#ifndef TINGLADO_H
#define TINGLADO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TG_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* Status codes and errors                                             */
/* ------------------------------------------------------------------ */

typedef enum tg_status {
    TG_OK = 0,
    TG_ERR_IO,          /* open/read/write/mmap failed                  */
    TG_ERR_FORMAT,      /* the input is malformed                       */
    TG_ERR_UNSUPPORTED, /* well-formed, but not something we handle     */
    TG_ERR_NOT_FOUND,   /* a key, tensor or token that is not there     */
    TG_ERR_TYPE,        /* a value of the wrong type                    */
    TG_ERR_RANGE,       /* a value out of range / would overflow        */
    TG_ERR_NOMEM,       /* allocation failed                            */
    TG_ERR_ARG,         /* the caller passed an invalid argument        */
    TG_ERR_COUNT_
} tg_status;

/* A short constant description of a status ("malformed input", …). */
const char *tg_strerror(tg_status s);

/* The message of the most recent failure on this thread ("" if none).
 * Messages name the file and the problem, e.g.
 * "model.gguf: tensor 'blk.0.attn_q.weight' data [4096, 8192) lies outside the file (size 6000)". */
const char *tg_last_error(void);

/* A string view: bytes that are not NUL-terminated (GGUF strings are not). */
typedef struct tg_str {
    const char *ptr;
    size_t len;
} tg_str;

/* ------------------------------------------------------------------ */
/* Tensor types (the ggml numbering, which GGUF files store)           */
/* ------------------------------------------------------------------ */

typedef enum tg_type {
    TG_TYPE_F32 = 0,
    TG_TYPE_F16 = 1,
    TG_TYPE_Q4_0 = 2,
    TG_TYPE_Q4_1 = 3,
    TG_TYPE_Q5_0 = 6,
    TG_TYPE_Q5_1 = 7,
    TG_TYPE_Q8_0 = 8,
    TG_TYPE_Q8_1 = 9,
    TG_TYPE_Q2_K = 10,
    TG_TYPE_Q3_K = 11,
    TG_TYPE_Q4_K = 12,
    TG_TYPE_Q5_K = 13,
    TG_TYPE_Q6_K = 14,
    TG_TYPE_Q8_K = 15,
    TG_TYPE_IQ2_XXS = 16,
    TG_TYPE_IQ2_XS = 17,
    TG_TYPE_IQ3_XXS = 18,
    TG_TYPE_IQ1_S = 19,
    TG_TYPE_IQ4_NL = 20,
    TG_TYPE_IQ3_S = 21,
    TG_TYPE_IQ2_S = 22,
    TG_TYPE_IQ4_XS = 23,
    TG_TYPE_I8 = 24,
    TG_TYPE_I16 = 25,
    TG_TYPE_I32 = 26,
    TG_TYPE_I64 = 27,
    TG_TYPE_F64 = 28,
    TG_TYPE_IQ1_M = 29,
    TG_TYPE_BF16 = 30,
    TG_TYPE_TQ1_0 = 34,
    TG_TYPE_TQ2_0 = 35,
    TG_TYPE_MXFP4 = 39,
    TG_TYPE_COUNT = 40 /* one past the largest value we know */
} tg_type;

/* Conversion of one row of n elements.  n is a multiple of the block size. */
typedef void (*tg_to_float_fn)(const void *src, float *dst, int64_t n);
typedef void (*tg_from_float_fn)(const float *src, void *dst, int64_t n);
/* Dot product of a row of this type with a row of its vec_dot_type. */
typedef float (*tg_vec_dot_fn)(int64_t n, const void *x, const void *y);

typedef struct tg_type_traits {
    const char *name;       /* "q4_K", "f16", … as ggml prints them */
    int64_t block_size;     /* elements per block (1 for scalars)    */
    size_t type_size;       /* bytes per block                       */
    bool is_quantized;
    tg_to_float_fn to_float;     /* NULL if tinglado cannot decode it    */
    tg_from_float_fn from_float; /* NULL if tinglado cannot encode it    */
    tg_vec_dot_fn vec_dot;       /* scalar reference; NULL if none       */
    tg_type vec_dot_type;        /* what the other operand must be       */
} tg_type_traits;

/* Traits of a type, or NULL if the value is not a known type. */
const tg_type_traits *tg_type_get(uint32_t type);
/* The name of a type ("?" if unknown). */
const char *tg_type_name(uint32_t type);
/* Bytes for a row of n elements; 0 (and an error) if n is not a multiple of the
 * block size or the type is unknown. */
size_t tg_type_row_size(tg_type type, int64_t n);

/* IEEE binary16 / bfloat16 conversions (exact where the value is representable). */
float tg_f16_to_f32(uint16_t h);
uint16_t tg_f32_to_f16(float f);
float tg_bf16_to_f32(uint16_t h);
uint16_t tg_f32_to_bf16(float f);

/* ------------------------------------------------------------------ */
/* GGUF files                                                          */
/* ------------------------------------------------------------------ */

typedef enum tg_gguf_type {
    TG_GGUF_UINT8 = 0,
    TG_GGUF_INT8 = 1,
    TG_GGUF_UINT16 = 2,
    TG_GGUF_INT16 = 3,
    TG_GGUF_UINT32 = 4,
    TG_GGUF_INT32 = 5,
    TG_GGUF_FLOAT32 = 6,
    TG_GGUF_BOOL = 7,
    TG_GGUF_STRING = 8,
    TG_GGUF_ARRAY = 9,
    TG_GGUF_UINT64 = 10,
    TG_GGUF_INT64 = 11,
    TG_GGUF_FLOAT64 = 12,
    TG_GGUF_TYPE_COUNT
} tg_gguf_type;

const char *tg_gguf_type_name(tg_gguf_type t);

/* A metadata value, viewed in place (nothing is copied from the file). */
typedef struct tg_gguf_value {
    tg_gguf_type type;
    union {
        uint64_t u64; /* UINT8, UINT16, UINT32, UINT64 */
        int64_t i64;  /* INT8, INT16, INT32, INT64      */
        double f64;   /* FLOAT32, FLOAT64               */
        bool b;       /* BOOL                           */
        tg_str str;   /* STRING                         */
        struct {
            tg_gguf_type type;   /* element type                      */
            uint64_t n;          /* number of elements                */
            const uint8_t *data; /* the packed elements (little-endian) */
            size_t nbytes;       /* their total size in bytes           */
            const tg_str *strs;  /* string arrays of a file: the n element
                                    views (O(1) access); NULL otherwise */
        } arr; /* ARRAY */
    } v;
} tg_gguf_value;

#define TG_GGUF_MAX_DIMS 4

typedef struct tg_gguf_tensor {
    tg_str name;
    uint32_t n_dims;
    int64_t ne[TG_GGUF_MAX_DIMS]; /* ne[0] is the row length; unused dims are 1 */
    tg_type type;
    uint64_t offset;  /* relative to the start of the data section */
    size_t nbytes;
    const void *data; /* points into the mapping */
} tg_gguf_tensor;

typedef struct tg_gguf tg_gguf;

/* Open and fully validate a GGUF file (mmap, read-only).  NULL on failure. */
tg_gguf *tg_gguf_open(const char *path);
/* Validate a GGUF image already in memory (not copied: it must outlive the
 * handle).  `name` is used in error messages.  NULL on failure. */
tg_gguf *tg_gguf_open_memory(const void *data, size_t size, const char *name);
void tg_gguf_close(tg_gguf *g);

uint32_t tg_gguf_version(const tg_gguf *g);
size_t tg_gguf_alignment(const tg_gguf *g);
size_t tg_gguf_file_size(const tg_gguf *g);
const char *tg_gguf_path(const tg_gguf *g);

size_t tg_gguf_n_kv(const tg_gguf *g);
tg_str tg_gguf_kv_key(const tg_gguf *g, size_t i);
const tg_gguf_value *tg_gguf_kv_value(const tg_gguf *g, size_t i);
/* Index of a key, or -1 if absent. */
int64_t tg_gguf_find_key(const tg_gguf *g, const char *key);

/* Typed getters.  TG_ERR_NOT_FOUND if the key is absent (no error message is
 * set, so callers can fall back to defaults), TG_ERR_TYPE if it holds another
 * kind of value, TG_ERR_RANGE if an integer does not fit. */
tg_status tg_gguf_get_int(const tg_gguf *g, const char *key, int64_t *out);
tg_status tg_gguf_get_uint(const tg_gguf *g, const char *key, uint64_t *out);
tg_status tg_gguf_get_float(const tg_gguf *g, const char *key, double *out);
tg_status tg_gguf_get_bool(const tg_gguf *g, const char *key, bool *out);
tg_status tg_gguf_get_str(const tg_gguf *g, const char *key, tg_str *out);
/* An array value; *out points into g.  Element access below. */
tg_status tg_gguf_get_array(const tg_gguf *g, const char *key, const tg_gguf_value **out);

/* Element i of an array value.  O(1) for fixed-size elements and for the
 * top-level string arrays of a file (indexed while validating), O(i) for
 * elements of nested arrays.  Strings are views into the file. */
tg_status tg_gguf_array_get(const tg_gguf_value *arr, uint64_t i, tg_gguf_value *out);

size_t tg_gguf_n_tensors(const tg_gguf *g);
const tg_gguf_tensor *tg_gguf_tensor_at(const tg_gguf *g, size_t i);
/* The tensor of that name, or NULL (no error message set). */
const tg_gguf_tensor *tg_gguf_find_tensor(const tg_gguf *g, const char *name);
/* Number of elements of a tensor. */
int64_t tg_gguf_tensor_nelements(const tg_gguf_tensor *t);

/* Writer: collects metadata and tensors, then writes a GGUF v3 file.  Data
 * pointers given to add_tensor are copied at add time. */
typedef struct tg_gguf_writer tg_gguf_writer;

tg_gguf_writer *tg_gguf_writer_new(void);
void tg_gguf_writer_free(tg_gguf_writer *w);
tg_status tg_gguf_writer_set_alignment(tg_gguf_writer *w, uint32_t alignment);
/* Scalars: value holds the payload for the given type (STRING uses v.str). */
tg_status tg_gguf_writer_set(tg_gguf_writer *w, const char *key, const tg_gguf_value *value);
tg_status tg_gguf_writer_set_u32(tg_gguf_writer *w, const char *key, uint32_t v);
tg_status tg_gguf_writer_set_i32(tg_gguf_writer *w, const char *key, int32_t v);
tg_status tg_gguf_writer_set_f32(tg_gguf_writer *w, const char *key, float v);
tg_status tg_gguf_writer_set_bool(tg_gguf_writer *w, const char *key, bool v);
tg_status tg_gguf_writer_set_str(tg_gguf_writer *w, const char *key, const char *v);
/* Array of fixed-size elements (n packed little-endian values of elem_type). */
tg_status tg_gguf_writer_set_array(tg_gguf_writer *w, const char *key, tg_gguf_type elem_type,
                                   const void *data, uint64_t n);
tg_status tg_gguf_writer_set_str_array(tg_gguf_writer *w, const char *key,
                                       const char *const *strs, uint64_t n);
tg_status tg_gguf_writer_add_tensor(tg_gguf_writer *w, const char *name, tg_type type,
                                    uint32_t n_dims, const int64_t *ne, const void *data);
/* Writes to path atomically (a temporary file renamed into place). */
tg_status tg_gguf_writer_write(tg_gguf_writer *w, const char *path);

/* ------------------------------------------------------------------ */
/* Tokenizers                                                          */
/* ------------------------------------------------------------------ */

typedef int32_t tg_token;

typedef enum tg_vocab_kind {
    TG_VOCAB_SPM,  /* tokenizer.ggml.model = "llama": SentencePiece-style BPE */
    TG_VOCAB_BPE,  /* tokenizer.ggml.model = "gpt2": byte-level BPE           */
    TG_VOCAB_WPM,  /* tokenizer.ggml.model = "bert": WordPiece                */
    TG_VOCAB_UGM,  /* tokenizer.ggml.model = "t5": SentencePiece Unigram      */
} tg_vocab_kind;

/* Token attributes (tokenizer.ggml.token_type). */
typedef enum tg_token_type {
    TG_TOKEN_UNDEFINED = 0,
    TG_TOKEN_NORMAL = 1,
    TG_TOKEN_UNKNOWN = 2,
    TG_TOKEN_CONTROL = 3,
    TG_TOKEN_USER_DEFINED = 4,
    TG_TOKEN_UNUSED = 5,
    TG_TOKEN_BYTE = 6,
} tg_token_type;

typedef struct tg_vocab tg_vocab;

/* Load the tokenizer described by a GGUF's metadata (works on vocabulary-only
 * files).  NULL on failure with tg_last_error() set. */
tg_vocab *tg_vocab_load(const tg_gguf *g);
void tg_vocab_free(tg_vocab *v);

tg_vocab_kind tg_vocab_kind_of(const tg_vocab *v);
int32_t tg_vocab_n_tokens(const tg_vocab *v);
/* The model and pre-tokenizer names as stored ("llama", "gpt2"; "qwen2", …). */
const char *tg_vocab_model_name(const tg_vocab *v);
const char *tg_vocab_pre_name(const tg_vocab *v);
tg_token tg_vocab_bos(const tg_vocab *v); /* -1 if none */
tg_token tg_vocab_eos(const tg_vocab *v);
tg_token tg_vocab_eot(const tg_vocab *v);
bool tg_vocab_add_bos(const tg_vocab *v);
bool tg_vocab_add_eos(const tg_vocab *v);
tg_token_type tg_vocab_token_type(const tg_vocab *v, tg_token t);
/* The raw vocabulary string of a token (e.g. "▁the", "Ġthe", "<0x0A>"). */
tg_str tg_vocab_token_text(const tg_vocab *v, tg_token t);
/* Token id of an exact vocabulary string, or -1. */
tg_token tg_vocab_find(const tg_vocab *v, const char *text, size_t len);
/* True for tokens that end generation (eos, eot and the like). */
bool tg_vocab_is_eog(const tg_vocab *v, tg_token t);

/* A growable list of tokens. */
typedef struct tg_tokens {
    tg_token *ids;
    size_t n, cap;
} tg_tokens;
void tg_tokens_free(tg_tokens *t);

typedef struct tg_tokenize_opts {
    bool add_special;   /* add BOS/EOS as the vocabulary asks               */
    bool parse_special; /* recognise control-token text such as <start_of_turn> */
} tg_tokenize_opts;

/* Tokenize len bytes of text (need not be valid UTF-8), appending to out. */
tg_status tg_tokenize(const tg_vocab *v, const char *text, size_t len, tg_tokenize_opts opts,
                      tg_tokens *out);

/* The bytes a token stands for in output text (▁ → space, <0x0A> → "\n",
 * Ġ-mapping undone).  Control tokens yield their text only if `special`.
 * Writes at most cap bytes; returns the full length (which may exceed cap). */
size_t tg_token_to_piece(const tg_vocab *v, tg_token t, bool special, char *buf, size_t cap);

/* The text of a whole token list as llama.cpp's llama_detokenize renders it
 * (remove_special = false): the pieces concatenated, the first piece's leading
 * space dropped when the vocabulary prefixes one (SPM add_space_prefix), and,
 * for vocabularies that ask for it (most byte-level BPE ones), Hugging Face's
 * clean-up of spaces before punctuation and contractions.  Writes at most cap
 * bytes; returns the text's length, or, when that exceeds cap, an upper bound
 * of the bytes needed. */
size_t tg_detokenize(const tg_vocab *v, const tg_token *ids, size_t n, bool special, char *buf,
                     size_t cap);

/* Streaming detokenizer: feeds token pieces and emits only complete UTF-8
 * characters, holding back a trailing partial sequence until it completes
 * (or is proven invalid, in which case U+FFFD is emitted for it). */
typedef struct tg_detok {
    const tg_vocab *vocab;
    bool special;
    bool strip_leading_space; /* SPM: drop the space of the first piece */
    bool started;
    unsigned char pending[8];
    size_t n_pending;
} tg_detok;
void tg_detok_init(tg_detok *d, const tg_vocab *v, bool special);
/* Appends the complete text produced by token t to buf (at most cap bytes);
 * returns the number of bytes written, or the number needed if cap is too small
 * (in which case nothing is consumed). */
size_t tg_detok_push(tg_detok *d, tg_token t, char *buf, size_t cap);
/* Emits whatever is pending at the end of a stream (invalid tails as U+FFFD). */
size_t tg_detok_flush(tg_detok *d, char *buf, size_t cap);


/* ------------------------------------------------------------------ */
/* Models and inference contexts                                       */
/* ------------------------------------------------------------------ */

typedef struct tg_model tg_model;
typedef struct tg_ctx tg_ctx;

/* Loads a GGUF model: maps the file, loads its tokenizer, binds and checks
 * every weight (nothing is copied).  NULL on failure with a message naming
 * the file and the problem (unsupported architecture, missing tensor, wrong
 * shape or type …). */
tg_model *tg_model_load(const char *path);
void tg_model_free(tg_model *m);

const tg_vocab *tg_model_vocab(const tg_model *m);
const tg_gguf *tg_model_gguf(const tg_model *m);
const char *tg_model_arch(const tg_model *m); /* general.architecture */
int32_t tg_model_n_vocab(const tg_model *m);
int32_t tg_model_n_embd(const tg_model *m);
int32_t tg_model_n_layer(const tg_model *m);
int32_t tg_model_n_ctx_train(const tg_model *m);
int32_t tg_model_n_expert(const tg_model *m);      /* 0 for dense models */
/* Bytes of weights read per decoded token (for roofline estimates). */
uint64_t tg_model_weight_bytes(const tg_model *m);

typedef struct tg_ctx_params {
    int32_t n_ctx;     /* positions per sequence (0: min(4096, trained))   */
    int32_t n_seq;     /* independent sequences sharing the context (1)   */
    int32_t n_ubatch;  /* tokens per forward micro-batch (512)             */
    int32_t n_outputs; /* most rows of logits one decode may return (n_seq) */
    int n_threads;     /* 0: all online CPUs                               */
    tg_type kv_type;   /* KV cache precision: TG_TYPE_F16 (default, as
                          llama.cpp) or TG_TYPE_F32                        */
} tg_ctx_params;

tg_ctx_params tg_ctx_default_params(void);
tg_ctx *tg_ctx_new(const tg_model *m, const tg_ctx_params *p);
void tg_ctx_free(tg_ctx *c);
int32_t tg_ctx_n_ctx(const tg_ctx *c);
int tg_ctx_n_threads(const tg_ctx *c);
/* The SIMD level the kernels run at: "scalar", "avx2" or "avx512"
 * (TINGLADO_CPU=scalar|avx2|avx512 forces one). */
const char *tg_cpu_level(void);

/* A batch of tokens to evaluate.  Token i goes to sequence seq[i] (all 0 if
 * seq is NULL) at position pos[i] (if pos is NULL: each sequence's next
 * positions).  output[i] != 0 asks for its logits (if output is NULL: only
 * the batch's last token).  Within a sequence, positions must continue from
 * what the cache holds (earlier positions may be re-evaluated after
 * tg_ctx_seq_rm). */
typedef struct tg_batch {
    int32_t n;
    const tg_token *token;
    const int32_t *pos;
    const int32_t *seq;
    const int8_t *output;
} tg_batch;

/* Runs the model over the batch (split into micro-batches as needed).  On
 * failure nothing of the batch is kept. */
tg_status tg_ctx_decode(tg_ctx *c, const tg_batch *b);
/* Logits of the i-th token that asked for output in the last decode, in
 * batch order; NULL if out of range. */
const float *tg_ctx_logits(const tg_ctx *c, int32_t i);
int32_t tg_ctx_n_outputs(const tg_ctx *c);
/* Number of positions a sequence holds (its next position). */
int32_t tg_ctx_seq_len(const tg_ctx *c, int32_t seq);
/* Forgets positions [p0, end) of a sequence (p0 = 0 clears it). */
void tg_ctx_seq_truncate(tg_ctx *c, int32_t seq, int32_t p0);
/* Mixture-of-experts routing statistics: counts[layer * n_expert + e] =
 * how many tokens were routed to expert e in that layer since the context
 * was created (NULL for dense models). */
const uint64_t *tg_ctx_moe_counts(const tg_ctx *c);

/* ------------------------------------------------------------------ */
/* Sampling                                                            */
/* ------------------------------------------------------------------ */

/* How the next token is picked from a row of logits.  The filters run in the
 * order of llama.cpp's default chain, with its formulas:
 *   allowed-token mask / logit hook → repetition, frequency and presence
 *   penalties → top-k → top-p → min-p → temperature → a seeded draw.
 * temperature <= 0 is greedy: the argmax after the mask and the penalties. */
typedef struct tg_sampler_params {
    float temperature;       /* 0.8; <= 0: greedy                                   */
    int32_t top_k;           /* 40; <= 0: off                                       */
    float top_p;             /* 0.95; >= 1: off                                     */
    float min_p;             /* 0.05; 0: off; in [0, 1]                             */
    float repeat_penalty;    /* 1.0 (off); > 0                                      */
    int32_t repeat_last_n;   /* 64: tokens the penalties look back on; 0 off, -1 all */
    float presence_penalty;  /* 0.0 (off)                                           */
    float frequency_penalty; /* 0.0 (off)                                           */
    uint64_t seed;           /* TG_SEED_RANDOM: draw one from the OS at new/reset   */
    int32_t n_logprobs;      /* 0: how many best alternatives tg_sample_info lists  */
} tg_sampler_params;

#define TG_SEED_RANDOM UINT64_MAX

typedef struct tg_logprob {
    tg_token token;
    float logprob;
} tg_logprob;

/* What a call to tg_sampler_sample reports.  Log-probabilities are the
 * log-softmax of the raw logits the caller passed (before mask, penalties and
 * temperature), as OpenAI's API reports them. */
typedef struct tg_sample_info {
    tg_token token;
    float logprob;         /* of `token`                                        */
    const tg_logprob *top; /* the n_top most likely tokens, best first; owned by
                              the sampler, valid until its next call            */
    int32_t n_top;         /* = params.n_logprobs (at most n_vocab)             */
    int32_t n_candidates;  /* tokens the final draw chose among (1 if greedy)    */
} tg_sample_info;

typedef struct tg_sampler tg_sampler;

/* llama.cpp's defaults (temp 0.8, top-k 40, top-p 0.95, min-p 0.05, no
 * penalties over the last 64 tokens), a random seed and no logprobs. */
tg_sampler_params tg_sampler_defaults(void);
/* A sampler for a vocabulary of n_vocab tokens; everything the per-token path
 * needs is allocated here.  NULL on failure (bad parameters name the field). */
tg_sampler *tg_sampler_new(const tg_sampler_params *p, int32_t n_vocab);
void tg_sampler_free(tg_sampler *s);
/* Forgets the token history and restarts the random stream (a new random seed
 * if the seed was TG_SEED_RANDOM, else the same seed again). */
void tg_sampler_reset(tg_sampler *s);
/* The seed in use (the drawn one for TG_SEED_RANDOM), to reproduce a run. */
uint64_t tg_sampler_seed(const tg_sampler *s);
/* Records a token for the penalties: call it for each prompt token and each
 * token kept from tg_sampler_sample (sampling does not record by itself).
 * TG_ERR_ARG for a token outside the vocabulary. */
tg_status tg_sampler_accept(tg_sampler *s, tg_token t);
/* Picks the next token from logits[n_vocab]; fills *info if not NULL.
 * Returns -1 (with a message) when no token is left to pick: every token
 * masked out, or every logit NaN or -inf. */
tg_token tg_sampler_sample(tg_sampler *s, const float *logits, tg_sample_info *info);

/* Constraints for a grammar or an API's logit_bias, applied before everything
 * else.  The hook gets a scratch copy of the logits it may change (set a token
 * to -INFINITY to forbid it); the mask is a caller-owned bitset of n_vocab bits
 * (bit t of word t/32 set = token t allowed), read at every sample until
 * replaced; NULL removes either.  set_hook fails only if it cannot allocate
 * the scratch row. */
typedef void (*tg_logit_hook)(void *user, float *logits, int32_t n_vocab);
tg_status tg_sampler_set_hook(tg_sampler *s, tg_logit_hook fn, void *user);
void tg_sampler_set_allowed(tg_sampler *s, const uint32_t *bits);

/* Stop strings over a streamed text: text that might be the start of a stop
 * string is held back until it is known not to be, so a stop string is never
 * partly emitted.  Empty stop strings are ignored. */
typedef struct tg_stop tg_stop;
tg_stop *tg_stop_new(const char *const *stops, size_t n);
void tg_stop_free(tg_stop *s);
void tg_stop_reset(tg_stop *s);
/* Adds len bytes of generated text.  *emit is the text now safe to show (a
 * view into the object, valid until its next call); *stopped becomes true once
 * a stop string has matched: emit then ends just before it, and the caller
 * should end generation.  Where matches overlap, the one that ends first wins
 * (then the one that starts first), so the result does not depend on how the
 * text was cut into chunks.  Fails only on allocation failure. */
tg_status tg_stop_feed(tg_stop *s, const char *text, size_t len, tg_str *emit, bool *stopped);
/* At the end of a generation that did not stop: the held-back text. */
tg_str tg_stop_flush(tg_stop *s);
/* Index (into the list given to tg_stop_new) of the stop string that matched,
 * or -1. */
int32_t tg_stop_matched(const tg_stop *s);

/* ------------------------------------------------------------------ */
/* Chat templates                                                      */
/* ------------------------------------------------------------------ */

/* The conversation formats tinglado renders, byte for byte as llama.cpp's
 * built-in templates of the same name do (llama_chat_apply_template). */
typedef enum tg_chat_template {
    TG_CHAT_GEMMA,             /* "gemma"             Gemma 1/2/3                  */
    TG_CHAT_CHATML,            /* "chatml"            Qwen, SmolLM, Hermes …       */
    TG_CHAT_LLAMA3,            /* "llama3"            Llama 3.x                    */
    TG_CHAT_LLAMA2,            /* "llama2"            Llama 2, no system support   */
    TG_CHAT_LLAMA2_SYS,        /* "llama2-sys"        with <<SYS>>                 */
    TG_CHAT_LLAMA2_SYS_BOS,    /* "llama2-sys-bos"    <s> inside the history       */
    TG_CHAT_LLAMA2_SYS_STRIP,  /* "llama2-sys-strip"  contents trimmed             */
    TG_CHAT_MISTRAL_V1,        /* "mistral-v1"        Mistral 7B v0.1/v0.2, Mixtral */
    TG_CHAT_MISTRAL_V3,        /* "mistral-v3"        Mistral 7B v0.3              */
    TG_CHAT_MISTRAL_V3_TEKKEN, /* "mistral-v3-tekken" Mistral Nemo                 */
    TG_CHAT_MISTRAL_V7,        /* "mistral-v7"        [SYSTEM_PROMPT] era          */
    TG_CHAT_MISTRAL_V7_TEKKEN, /* "mistral-v7-tekken" Mistral Small 3.x            */
    TG_CHAT_COUNT_
} tg_chat_template;

/* One message.  role is "system", "user", "assistant" or "tool". */
typedef struct tg_chat_msg {
    const char *role;
    const char *content;
} tg_chat_msg;

/* The --chat-template name of a template ("?" if out of range). */
const char *tg_chat_template_name(tg_chat_template t);
/* All names, comma-separated, for help texts and error messages. */
const char *tg_chat_template_names(void);
/* A template by name; TG_ERR_NOT_FOUND (listing the names) if unknown. */
tg_status tg_chat_template_from_name(const char *name, tg_chat_template *out);
/* Picks the template from a GGUF's tokenizer.chat_template Jinja text by the
 * markers llama.cpp's detector looks for; when there is no template text
 * (jinja.ptr NULL or empty), from the architecture and the pre-tokenizer name
 * (tokenizer.ggml.pre; may be empty).  TG_ERR_UNSUPPORTED, naming the
 * --chat-template flag and the names, when neither settles it. */
tg_status tg_chat_template_detect(tg_str jinja, tg_str arch, tg_str tokenizer_pre,
                                  tg_chat_template *out);
/* The same, reading the three keys from a GGUF file. */
tg_status tg_chat_template_detect_gguf(const tg_gguf *g, tg_chat_template *out);
/* Renders n messages into the prompt text; with add_generation_prompt it ends
 * with the opening of the assistant's turn (where the template has one).
 * *out is a NUL-terminated string to release with free().  TG_ERR_ARG for a
 * NULL field or a role other than the four above. */
tg_status tg_chat_render(tg_chat_template t, const tg_chat_msg *msgs, size_t n,
                         bool add_generation_prompt, char **out);
/* NULL-terminated list of strings that end an assistant turn when they show
 * up in the generated text (besides the model's end-of-generation tokens). */
const char *const *tg_chat_stop_strings(tg_chat_template t);


/* ------------------------------------------------------------------ */
/* Embeddings: BERT-family encoders (all-MiniLM, bge, e5 …)            */
/* ------------------------------------------------------------------ */

/* How token vectors become one text vector (llama.cpp's numbering, the
 * value of the GGUF key bert.pooling_type). */
typedef enum tg_pooling {
    TG_POOLING_NONE = 0, /* not used for text vectors: files without a
                            pooling type get MEAN                         */
    TG_POOLING_MEAN = 1, /* average of every token's vector, [CLS] and [SEP] included */
    TG_POOLING_CLS = 2,  /* the first token's vector                      */
    TG_POOLING_LAST = 3, /* the last token's vector                       */
} tg_pooling;

typedef struct tg_embedder tg_embedder;

typedef struct tg_embedder_params {
    int n_threads;          /* 0: all online CPUs                              */
    int32_t max_tokens;     /* tokens kept per text, [CLS]/[SEP] included (0: the
                               model's context length, e.g. 512); must not exceed it */
    int32_t n_batch_tokens; /* most tokens of all texts together in one forward
                               pass (0: 2048; raised to max_tokens if smaller)   */
    bool normalize;         /* L2-normalise every vector (default true)         */
} tg_embedder_params;

/* Per-text report of tg_embed. */
typedef struct tg_embed_info {
    int32_t n_tokens;      /* tokens the model saw, [CLS] and [SEP] included   */
    int32_t n_tokens_text; /* tokens the whole text gives; > n_tokens when cut  */
    bool truncated;        /* the text was longer than max_tokens               */
} tg_embed_info;

tg_embedder_params tg_embedder_default_params(void);
/* Loads a GGUF embedding model (general.architecture "bert"): maps the file,
 * loads its tokenizer, binds and checks every weight.  p may be NULL for the
 * defaults.  NULL on failure with a message. */
tg_embedder *tg_embedder_load(const char *path, const tg_embedder_params *p);
void tg_embedder_free(tg_embedder *e);
int32_t tg_embedder_dim(const tg_embedder *e);        /* floats per vector */
int32_t tg_embedder_max_tokens(const tg_embedder *e); /* after defaults    */
tg_pooling tg_embedder_pooling(const tg_embedder *e);
const tg_vocab *tg_embedder_vocab(const tg_embedder *e);

/* Embeds n texts into out[n * dim] (row i = text i).  lens[i] is the byte
 * length of texts[i] (lens NULL: NUL-terminated).  info, if not NULL, gets n
 * reports.  Defined behaviour on any input:
 *   - the text is tokenized as [CLS] text [SEP]; an empty (or all-whitespace,
 *     or all-invalid) text is just [CLS] [SEP] and still gets a vector;
 *   - a text longer than max_tokens keeps its first max_tokens − 1 tokens and
 *     then [SEP] (as Hugging Face truncates), and info says so;
 *   - invalid UTF-8 bytes are dropped (each is read as U+FFFD, which
 *     WordPiece removes), never an error.
 * Texts are packed into forward passes of up to n_batch_tokens tokens; each
 * token attends only to its own text (the padding mask of a padded batch).
 * Not thread-safe: one call at a time per embedder (scratch is shared). */
tg_status tg_embed(tg_embedder *e, const char *const *texts, const size_t *lens, size_t n, float *out,
                   tg_embed_info *info);
/* The same from token ids already framed as the model expects ([CLS] …
 * [SEP]); n_ids[i] must be 1..max_tokens and every id in the vocabulary. */
tg_status tg_embed_tokens(tg_embedder *e, const tg_token *const *ids, const size_t *n_ids, size_t n,
                          float *out);
/* Cosine similarity of two vectors of dim floats (accumulated in double;
 * 0 when either is all zeros). */
double tg_embed_cosine(const float *a, const float *b, int32_t dim);

/* Converting models into GGUF files.  The source is a Hugging Face BERT
 * model directory (config.json, model.safetensors, tokenizer.json and, for
 * sentence-transformers models, modules.json with its pooling config).
 * Weight matrices become `type` (F32, F16 or Q8_0; Q8_0 rows that are not
 * whole blocks stay F16); norms, biases, position and token-type embeddings
 * stay F32 — the choices of llama.cpp's converter, whose tensor names and
 * metadata the file carries, so llama.cpp loads it as well. */
typedef struct tg_convert_params {
    tg_type type; /* TG_TYPE_F16 by default */
} tg_convert_params;
tg_convert_params tg_convert_default_params(void);
tg_status tg_convert(const char *src, const char *dst, const tg_convert_params *p);

/* ------------------------------------------------------------------ */
/* Statistics: every figure tinglado reports comes with an interval   */
/* and the number of observations behind it                           */
/* ------------------------------------------------------------------ */

typedef struct tg_estimate {
    double value;  /* point estimate         */
    double lo, hi; /* 95% interval           */
    size_t n;      /* observations behind it */
} tg_estimate;

/* Mean with a normal-approximation 95% interval (mean ± 1.96·sd/√n);
 * lo = hi = value when n < 2. */
tg_estimate tg_stats_mean(const double *x, size_t n);
/* Median (average of the two middle values for even n); x is not changed. */
double tg_stats_median(const double *x, size_t n);
/* Median with a 95% percentile-bootstrap interval from `resamples`
 * resamples drawn with a seeded generator (same seed, same interval). */
tg_estimate tg_stats_median_boot(const double *x, size_t n, int resamples, uint64_t seed);
/* Wilson score 95% interval of a proportion k/n. */
tg_estimate tg_stats_wilson(size_t k, size_t n);
/* Area under the ROC curve of a score separating positives from negatives:
 * P(pos > neg) + ½·P(tie), with DeLong's 95% interval (normal, clipped to
 * [0, 1]; it collapses to a point at 0 or 1).  n = n_pos + n_neg; value NAN
 * when either set is empty. */
tg_estimate tg_stats_auc(const double *pos, size_t n_pos, const double *neg, size_t n_neg);

/* Memory read bandwidth in GB/s (10^9 bytes/s): n_threads stream through a
 * buffer of `bytes` (make it much larger than the caches), reps times;
 * median with a bootstrap interval.  value 0 on failure. */
tg_estimate tg_measure_read_bandwidth(int n_threads, size_t bytes, int reps);

/* ------------------------------------------------------------------ */
/* Energy and cost meter (docs/energy-and-cost.md)                     */
/* ------------------------------------------------------------------ */

/* Where the joules come from, chosen once by tg_meter_new:
 *   CPU: RAPL package and DRAM counters through the powercap sysfs tree
 *        (measured; the whole processor, every process on it), else an
 *        estimate: TDP ÷ hardware threads × this process's CPU seconds
 *        (CodeCarbon's TDP × utilisation; labelled "estimated");
 *   GPU: NVIDIA NVML loaded at run time, when it loads and finds a device.
 * tg_meter_label() names the sources (and why one was not used); print it
 * next to every figure. */
typedef struct tg_meter tg_meter;

typedef struct tg_meter_params {
    double watts;              /* > 0: full-load power of the CPUs this system
                                  shows, for the estimate (else a lookup by
                                  /proc/cpuinfo's model name)                  */
    bool estimate_only;        /* do not read RAPL                             */
    bool no_gpu;               /* do not load NVML                             */
    const char *powercap_root; /* NULL: $TINGLADO_POWERCAP_ROOT, else
                                  /sys/class/powercap                          */
    const char *cpuinfo;       /* NULL: /proc/cpuinfo                          */
    const char *nvml_lib;      /* NULL: $TINGLADO_NVML_LIB, else
                                  libnvidia-ml.so.1                            */
} tg_meter_params;

/* Cumulative figures since tg_meter_new. */
typedef struct tg_meter_reading {
    double seconds;     /* wall clock                                  */
    double cpu_seconds; /* CPU time of this process (all threads)      */
    double cpu_joules;  /* RAPL packages + DRAM, or the estimate       */
    double gpu_joules;  /* NVML (0 without a GPU)                      */
} tg_meter_reading;

tg_meter_params tg_meter_default_params(void);
/* Never fails for want of a source (it falls back to the estimate); NULL
 * only for invalid params or out of memory. */
tg_meter *tg_meter_new(const tg_meter_params *p);
void tg_meter_free(tg_meter *m);
/* Thread-safe.  Call at least once every few minutes under load: RAPL
 * counters wrap after their max_energy_range_uj.  A failed read (a counter
 * that vanished) returns a status and changes nothing. */
tg_status tg_meter_read(tg_meter *m, tg_meter_reading *out);
/* The energy the work between readings a and b used: per source, measured
 * energy minus the idle baseline power × (b − a) seconds, at least 0. */
double tg_meter_joules(const tg_meter *m, const tg_meter_reading *a, const tg_meter_reading *b);
/* Takes the idle baseline from an idle period between readings a and b,
 * or measures one by sleeping `seconds`. */
tg_status tg_meter_set_idle(tg_meter *m, const tg_meter_reading *a, const tg_meter_reading *b);
tg_status tg_meter_measure_idle(tg_meter *m, double seconds);
double tg_meter_idle_watts(const tg_meter *m); /* 0 until measured */
bool tg_meter_estimated(const tg_meter *m);    /* the CPU figure is an estimate */
bool tg_meter_has_gpu(const tg_meter *m);
/* One line: "CPU measured: RAPL (package-0, package-0/dram; …); no NVIDIA
 * GPU power: …; idle baseline 12.30 W subtracted". */
const char *tg_meter_label(const tg_meter *m);

/* Cost, in whatever currency the prices are in (formulas and a worked
 * example: docs/energy-and-cost.md). */
typedef struct tg_cost_params {
    double price_kwh;   /* electricity price per kWh (>= 0)                     */
    double pue;         /* power usage effectiveness (>= 1; 1 at home)          */
    double capex;       /* purchase price of the hardware (0: none)             */
    double years;       /* its lifetime, in years of 8,760 hours                */
    double utilisation; /* share of those hours it does paid work, (0, 1]       */
    double rent_hour;   /* > 0: a rented hour's price instead of capex (it
                           includes the power, so no energy cost is added)     */
    double idle_watts;  /* drawn also when not utilised                         */
} tg_cost_params;

typedef struct tg_cost {
    double energy;   /* electricity × PUE      */
    double hardware; /* amortisation, or rent  */
    double total;
} tg_cost;

tg_cost_params tg_cost_default_params(void); /* PUE 1, utilisation 1, the rest 0 */
/* Break-even price of one utilised hour of a device drawing `watts` at work. */
tg_status tg_cost_gpu_hour(const tg_cost_params *p, double watts, tg_cost *out);
/* Cost of a million tokens at joules_per_token (attributed, idle excluded)
 * and tokens_per_second (needed for hardware and idle shares; 0 if neither). */
tg_status tg_cost_per_mtok(const tg_cost_params *p, double joules_per_token, double tokens_per_second,
                           tg_cost *out);
/* The electricity cost of `joules`: price_kwh × PUE × joules / 3.6·10^6
 * (0 for invalid params or joules). */
double tg_cost_of_joules(const tg_cost_params *p, double joules);

/* ------------------------------------------------------------------ */
/* Memorisation probe (tinglado probe; docs/probe.md)                  */
/* ------------------------------------------------------------------ */

/* Teacher-forced scoring of many texts through batched prefill: a context
 * with n_seq sequences, each holding a copy of a shared context (BOS, or the
 * text before a canary's secret) evaluated once, to which continuations are
 * appended, scored and cut off again. */
typedef struct tg_prober tg_prober;

typedef struct tg_prober_params {
    int32_t n_ctx;   /* most tokens of shared context + one continuation (0: 512) */
    int32_t n_seq;   /* continuations evaluated side by side (0: 8)                 */
    int32_t n_batch; /* tokens per forward pass, every one returning logits (0: 128) */
    int n_threads;   /* 0: all online CPUs                                          */
    tg_type kv_type; /* TG_TYPE_F16                                                 */
} tg_prober_params;

/* Called after each forward pass with the tokens scored so far and in all. */
typedef void (*tg_progress_fn)(void *user, uint64_t done, uint64_t total);

tg_prober_params tg_prober_default_params(void);
tg_prober *tg_prober_new(const tg_model *m, const tg_prober_params *p);
void tg_prober_free(tg_prober *p);
const tg_model *tg_prober_model(const tg_prober *p);
void tg_prober_set_progress(tg_prober *p, tg_progress_fn fn, void *user);

/* Scores n continuations of one shared context (n_context >= 1 tokens, e.g.
 * just BOS).  For continuation i and j < lens[i]:
 *   lp[i][j]     = ln p(conts[i][j] | context, conts[i][0..j))
 *   argmax[i][j] = the greedy choice at that point (the lowest id among the
 *                  largest logits, as the greedy sampler picks); argmax may
 *                  be NULL.
 * n_context + lens[i] must not exceed n_ctx; lens[i] may be 0.  The result
 * does not depend on n_seq or n_batch beyond float rounding of the batch. */
tg_status tg_prober_eval(tg_prober *p, const tg_token *context, size_t n_context,
                         const tg_token *const *conts, const size_t *lens, size_t n, float *const *lp,
                         tg_token *const *argmax);

/* Membership scores of one text from its teacher-forced log-probabilities
 * lp[0..n) (natural log).  Each is NAN when undefined (n = 0, …). */
double tg_probe_log_ppl(const float *lp, size_t n); /* −mean lp = ln perplexity        */
/* Min-K% Prob (Shi et al. 2023): the mean of the max(1, ⌊n·k/100⌋) lowest
 * lp; higher means more likely seen in training. */
double tg_probe_min_k(const float *lp, size_t n, double k_percent);
/* Bytes of zlib's compression of text at level 6 (what Python's zlib.compress
 * gives); 0 on failure.  The zlib score of Carlini et al. 2021 is
 * ln ppl / zlib bytes. */
size_t tg_probe_zlib_len(const char *text, size_t len);
/* The text with every code point mapped to its simple lowercase (utf8proc);
 * invalid bytes are kept as they are.  *out is NUL-terminated, free() it. */
tg_status tg_probe_lowercase(const char *text, size_t len, char **out, size_t *out_len);

/* Extraction (Carlini et al. 2022) from greedy matches: match[j] says token
 * j of a text is what greedy decoding picks after the true tokens before it.
 * Greedy decoding from the first k tokens reproduces the next m exactly
 * when match[k..k+m) are all true (each greedy step then sees the true
 * prefix), so one teacher-forced pass decides every k.  False if n < k + m. */
bool tg_probe_extractable(const bool *match, size_t n, size_t k, size_t m);
/* The longest run of true matches (its start in *start, may be NULL). */
size_t tg_probe_longest_match(const bool *match, size_t n, size_t *start);

/* Canaries (Carlini et al. 2019, "The Secret Sharer"): the rank of a secret
 * among every candidate of the same shape by the likelihood of the text
 * around it, and exposure = log2 |R| − log2 rank. */
typedef struct tg_canary_params {
    const char *format;   /* a text with exactly one "{secret}"              */
    const char *alphabet; /* the characters a secret is made of (ASCII)      */
    int32_t length;       /* characters per secret                           */
    const char *secret;   /* the secret to rank (length characters of alphabet) */
    uint64_t max_exact;   /* enumerate every candidate when |R| ≤ this (100000) */
    uint64_t n_samples;   /* else draw this many uniformly (2000)            */
    uint64_t seed;        /* for the draw                                    */
} tg_canary_params;

typedef struct tg_canary_result {
    double log2_space;   /* log2 |R|                                         */
    bool exact;          /* every candidate scored                           */
    double secret_lp;    /* ln p of the text from the secret on, given before */
    uint64_t n_scored;   /* candidates scored (besides the secret)           */
    uint64_t n_better;   /* of them, strictly more likely than the secret    */
    tg_estimate rank;    /* 1 + |R|·p̂ (exact: 1 + better); interval from
                            Wilson's on p̂ (exact: lo = hi)                    */
    tg_estimate exposure;/* log2|R| − log2 rank, its interval from rank's   */
    tg_estimate extrapolated; /* exposure from a normal fit to the sampled
                            candidates' lp (the Secret Sharer's extrapolation
                            for ranks beyond the sample), bootstrap interval;
                            value NAN when exact                            */
    double *sample_lp;   /* the scored candidates' lp (n_scored), free()     */
} tg_canary_result;

tg_canary_params tg_canary_default_params(void);
/* Tokenizes each candidate text with BOS; the tokens the candidates share
 * (the text before {secret}, less its last token) are the shared context.
 * TG_ERR_ARG for a bad format, alphabet, secret or length; TG_ERR_UNSUPPORTED
 * when a candidate's tokens do not start with the shared context. */
tg_status tg_probe_canary(tg_prober *p, const tg_canary_params *cp, tg_canary_result *out);

/* ------------------------------------------------------------------ */
/* Grammar-constrained decoding                                        */
/* ------------------------------------------------------------------ */

/* A grammar restricts what a sequence may generate, byte by byte; a grammar
 * state applies it to a vocabulary, token by token.  A compiled grammar is
 * immutable and may be shared across threads; a state belongs to one
 * sequence (one thread at a time).  Supported JSON Schema subset, limits and
 * guarantees: docs/grammar.md.  The guarantee: every text a state accepts up
 * to completion is a JSON document that validates against the schema (for
 * the documented subset), and every state reachable by accepting allowed
 * tokens can still be completed. */
typedef struct tg_grammar tg_grammar;

/* Compiles a JSON Schema (len bytes of JSON text) into a grammar for one
 * JSON document.  NULL with a message naming the keyword and the JSON
 * pointer of the offending part when the schema is malformed, uses an
 * unsupported validation keyword, admits no document, or exceeds a limit. */
tg_grammar *tg_grammar_from_json_schema(const char *schema, size_t len);
/* Any JSON object (OpenAI's response_format {"type": "json_object"}). */
tg_grammar *tg_grammar_json_object(void);
/* A grammar in llama.cpp's GBNF notation, started at the rule `root`.
 * NULL with a message (line and column) on a syntax error, an undefined
 * rule, left recursion or a limit. */
tg_grammar *tg_grammar_from_gbnf(const char *text, size_t len);
void tg_grammar_free(tg_grammar *g);

/* One sequence's position in a grammar, bound to a vocabulary (the token
 * index it needs is built on first use and shared by states of the same
 * vocabulary).  The grammar and the vocabulary must outlive the state.
 * NULL on allocation failure. */
typedef struct tg_grammar_state tg_grammar_state;
tg_grammar_state *tg_grammar_state_new(const tg_grammar *g, const tg_vocab *v);
void tg_grammar_state_free(tg_grammar_state *st);
/* Back to the start of the grammar (nothing generated yet). */
void tg_grammar_state_reset(tg_grammar_state *st);
/* Fills bits (n_vocab bits: (n_vocab + 31) / 32 words, bit t of word t/32 =
 * token t) with the tokens that may come next: those whose text keeps the
 * grammar satisfiable, plus the end-of-generation tokens exactly when the
 * text so far is complete.  Control and other special tokens are never
 * allowed.  The result suits tg_sampler_set_allowed.  TG_ERR_RANGE (with a
 * message) if no token at all can continue, which only happens with a
 * vocabulary that cannot spell a byte the grammar requires. */
tg_status tg_grammar_allowed(tg_grammar_state *st, uint32_t *bits);
/* Advances over token t.  TG_ERR_ARG (state unchanged) if t is not allowed.
 * An end-of-generation token is accepted when the text is complete and
 * leaves the state finished. */
tg_status tg_grammar_accept(tg_grammar_state *st, tg_token t);
/* Advances over raw text (for text the caller inserts itself, e.g. a forced
 * prefix).  TG_ERR_ARG (state unchanged) if the grammar rejects it. */
tg_status tg_grammar_accept_text(tg_grammar_state *st, const char *text, size_t len);
/* The text accepted so far is a complete document (it may still go on:
 * e.g. more digits of a number). */
bool tg_grammar_complete(const tg_grammar_state *st);
/* Complete, and no further byte can follow: generation should end. */
bool tg_grammar_finished(const tg_grammar_state *st);


/* ------------------------------------------------------------------ */
/* The OpenAI-compatible server (tinglado serve; docs/API.md)          */
/* ------------------------------------------------------------------ */

typedef struct tg_serve_params {
    const char *model;         /* path of the GGUF file (required)                  */
    const char *model_id;      /* its name in the API (NULL: the file's stem)       */
    const char *host;          /* "127.0.0.1"; a non-loopback host needs api_key
                                  or insecure                                       */
    int port;                  /* 8080; 0: any free port (see tg_serve_port)        */
    int parallel;              /* 4: slots, i.e. sequences decoded together         */
    int32_t n_ctx;             /* positions per slot (0: min(4096, trained))        */
    int queue;                 /* 64: requests that may wait for a slot; then 429   */
    const char *api_key;       /* NULL/"": no authentication                        */
    bool insecure;             /* allow a non-loopback host without a key           */
    size_t max_body;           /* 4 MiB: larger request bodies get 413              */
    int32_t max_tokens;        /* most tokens one request may generate (0: n_ctx-1) */
    int32_t prefill_chunk;     /* 128: prompt tokens evaluated per step, over all
                                  joining requests (bounds the stall of streams)   */
    int n_threads;             /* 0: all CPUs                                       */
    int timeout_s;             /* 60: idle connection timeout                       */
    int max_connections;       /* 256                                               */
    const char *chat_template; /* NULL: detect from the model                       */
    tg_type kv_type;           /* TG_TYPE_F16                                       */
    const char *access_log;    /* path, or NULL/"-" for stderr                      */
    tg_sampler_params sampling; /* defaults for what a request does not set        */
    /* energy (docs/energy-and-cost.md): usage.energy_* fields and a counter */
    bool no_energy;            /* do not meter                                      */
    double energy_watts;       /* > 0: CPU power at full load for the estimate      */
    double energy_idle_s;      /* 1: idle baseline measured at start (RAPL, NVML)   */
    double price_kwh;          /* > 0: usage also gets the energy's cost            */
    double pue;                /* 1: power usage effectiveness for that cost        */
    const char *currency;      /* "EUR": the label of price_kwh                     */
    /* an embedding model (a BERT-family GGUF, see tg_embedder_load) served at
     * /v1/embeddings beside the generative one; NULL: that endpoint says 400 */
    const char *embed_model;
    const char *embed_model_id; /* its name in replies (NULL: the file's stem)      */
    /* a reading library (tg_library_open) served as a web page under
     * /library/ with its JSON API, and synced by a background worker (fetch,
     * extract, chunk embeddings with embed_model); docs/web.md.  With a
     * library, model may be NULL: the page is served without /v1 generation */
    const char *library;
} tg_serve_params;

typedef struct tg_server tg_server;

tg_serve_params tg_serve_default_params(void);
/* Loads the model, creates the context and starts listening.  NULL on
 * failure (model, address in use, a non-loopback host without a key …). */
tg_server *tg_serve_new(const tg_serve_params *p);
/* The port it listens on (useful with port 0). */
int tg_serve_port(const tg_server *s);
const char *tg_serve_model_id(const tg_server *s);
/* The energy meter's sources (tg_meter_label), or NULL with no_energy. */
const char *tg_serve_energy_label(const tg_server *s);
int32_t tg_serve_n_ctx(const tg_server *s);
/* Serves until tg_serve_stop, then finishes the requests in flight (a
 * second stop cancels them) and returns. */
tg_status tg_serve_run(tg_server *s);
/* Async-signal-safe: asks tg_serve_run to drain (force: to cancel and stop). */
void tg_serve_stop(tg_server *s, bool force);
void tg_serve_free(tg_server *s);

/* ------------------------------------------------------------------ */
/* Embeddings, continued: the superposition experiment                 */
/* ------------------------------------------------------------------ */

/* The superposition experiment ("does u + v still encode both?"): for each
 * k, draw k of the n unit vectors (rows of vecs, dim floats each), add them,
 * rank all n by dot product with the sum, and count the members among the
 * k best.  Over `trials` draws: recall = members recovered (Wilson 95%
 * interval over k·trials members), exact = draws that recovered all k
 * (Wilson over draws).  Deterministic for a seed.  ks must lie in 1..n−1. */
typedef struct tg_superpose_result {
    int32_t k;
    tg_estimate recall;
    tg_estimate exact;
} tg_superpose_result;
tg_status tg_superpose(const float *vecs, size_t n, int32_t dim, const int32_t *ks, size_t n_ks, int32_t trials,
                       uint64_t seed, tg_superpose_result *out);
/* The same on n random Gaussian directions of dimension dim (the baseline). */
tg_status tg_superpose_gaussian(size_t n, int32_t dim, const int32_t *ks, size_t n_ks, int32_t trials,
                                uint64_t seed, tg_superpose_result *out);
/* An SVG plot of recall against k (log2 axis), one line per series. */
typedef struct tg_superpose_series {
    const char *label;
    const tg_superpose_result *r;
    size_t n;
    bool highlight; /* thick, red, with the 95% interval as whiskers */
} tg_superpose_series;
tg_status tg_superpose_svg(const char *path, const char *title, const tg_superpose_series *series, size_t n_series);

/* ------------------------------------------------------------------ */
/* The reading library (tinglado read; docs/reading.md)                */
/* ------------------------------------------------------------------ */

/* One SQLite database of saved articles.  Every call that changes it is
 * one transaction: a crash loses at most the call in flight. */
typedef struct tg_library tg_library;

/* Where an item is in the pipeline.  FAILED keeps the error and the number
 * of attempts; a later sync retries it. */
typedef enum tg_item_state {
    TG_ITEM_PENDING = 0,   /* saved, not fetched yet          */
    TG_ITEM_FETCHED = 1,   /* raw page stored                 */
    TG_ITEM_EXTRACTED = 2, /* article text stored             */
    TG_ITEM_ENRICHED = 3,  /* summary, tags, embeddings added */
    TG_ITEM_FAILED = 4,
} tg_item_state;
const char *tg_item_state_name(tg_item_state s); /* "pending", … */

/* An item as stored.  Strings are malloc'd (NULL = unknown); dates are
 * Unix seconds (0 = unknown).  tg_item_clear frees the fields. */
typedef struct tg_item {
    int64_t id;
    char *url;      /* canonical: tracking parameters and fragment removed */
    char *title, *byline, *site, *lang, *excerpt;
    int64_t published, saved, read_at;
    bool archived, favorite;
    tg_item_state state;
    int32_t attempts; /* failed fetch/extract attempts                     */
    char *error;      /* the last failure, NULL once a step succeeds       */
    char **tags;      /* sorted, lower-case */
    size_t n_tags;
    char *content_type; /* of the stored page, NULL before a fetch; "application/pdf"
                           marks a PDF (its text comes from poppler, not the HTML extractor) */
} tg_item;
void tg_item_clear(tg_item *it);

/* Opens (creating, or migrating to the current schema) a library.  NULL on
 * failure, e.g. a database written by a newer tinglado. */
tg_library *tg_library_open(const char *path);
void tg_library_close(tg_library *lib);
/* The schema version this build writes (PRAGMA user_version). */
int tg_library_schema_version(void);
/* The default path: $XDG_DATA_HOME/tinglado/library.db, else
 * ~/.local/share/tinglado/library.db (the folder is created). */
tg_status tg_library_default_path(char *out, size_t cap);

/* What to save: url is required; the rest may be NULL/0 (saved 0: now). */
typedef struct tg_item_new {
    const char *url, *title;
    int64_t saved, read_at;
    bool archived, favorite;
    const char *const *tags;
    size_t n_tags;
} tg_item_new;
/* Saves an item, or — when its canonical URL is already there, as an
 * item's URL or as an alias (a URL an item's link redirected to, its
 * rel=canonical, the link of an item merged into it) — only adds the tags
 * it lacks (dates and state of the first save win), so saving or
 * importing twice adds nothing.  *id and *added (either may be NULL) say
 * which.  TG_ERR_FORMAT for a URL that is not http(s). */
tg_status tg_library_add(tg_library *lib, const tg_item_new *in, int64_t *id, bool *added);
/* The item with this id (TG_ERR_NOT_FOUND if none) / this URL's canonical form. */
tg_status tg_library_get(tg_library *lib, int64_t id, tg_item *out);
tg_status tg_library_find(tg_library *lib, const char *url, int64_t *id);
tg_status tg_library_delete(tg_library *lib, int64_t id);
/* Adds (remove false) or removes a tag (trimmed, lower-cased). */
tg_status tg_library_tag(tg_library *lib, int64_t id, const char *tag, bool remove);
/* Archiving sets read_at to now when it is unknown. */
tg_status tg_library_set_archived(tg_library *lib, int64_t id, bool archived);
tg_status tg_library_set_favorite(tg_library *lib, int64_t id, bool favorite);

/* Items in a listing, newest saved first.  -1 = either for the booleans;
 * state -1 = any; NULL strings match all. */
typedef struct tg_item_filter {
    int archived, favorite, state;
    const char *tag, *site;
    int64_t since; /* saved at or after (0: all) */
    size_t limit, offset; /* limit 0: no limit */
} tg_item_filter;
tg_item_filter tg_item_filter_all(void);
/* Calls fn for each matching item (stop early by returning false). */
typedef bool (*tg_item_fn)(const tg_item *it, void *user);
tg_status tg_library_list(tg_library *lib, const tg_item_filter *f, tg_item_fn fn, void *user);
/* Counts per state (indexed by tg_item_state) and in total. */
tg_status tg_library_count(tg_library *lib, int64_t counts[5], int64_t *total);

/* ---- pipeline steps: each is one transaction and moves the state ---- */

/* Stores the fetched page (compressed) → FETCHED. */
tg_status tg_library_set_page(tg_library *lib, int64_t id, const void *raw, size_t len, const char *final_url,
                              const char *content_type);
/* The stored page, decompressed, NUL-terminated (free()); TG_ERR_NOT_FOUND if none. */
tg_status tg_library_get_page(tg_library *lib, int64_t id, char **raw, size_t *len);

/* What extraction found in a page (tg_extract fills it; tg_article_clear frees). */
typedef struct tg_article {
    char *title, *byline, *site_name, *published, *lang, *excerpt;
    char *text; /* plain text, paragraphs separated by blank lines */
    char *html; /* sanitised simple HTML (allowlisted tags and attributes)  */
    int64_t published_time; /* parsed `published`, 0 if unknown */
    char *canonical_url;    /* the page's <link rel=canonical>, resolved (http(s) only), or NULL */
} tg_article;
void tg_article_clear(tg_article *a);
/* Stores the article's text and HTML, fills the item's unknown metadata,
 * indexes it for search → EXTRACTED. */
tg_status tg_library_set_article(tg_library *lib, int64_t id, const tg_article *a);
/* The stored text and HTML (either pointer may be NULL; free() each). */
tg_status tg_library_get_content(tg_library *lib, int64_t id, char **text, char **html);
/* Records a failed step → FAILED, attempts + 1. */
tg_status tg_library_set_failed(tg_library *lib, int64_t id, const char *error);
/* Enrichment results: summary, and the chunk embeddings (n_chunks × dim
 * floats; offsets/lengths into the text) → ENRICHED. */
tg_status tg_library_set_enrichment(tg_library *lib, int64_t id, const char *summary, const char *model,
                                    const float *vecs, int32_t dim, const int32_t *chunk_off,
                                    const int32_t *chunk_len, size_t n_chunks);
tg_status tg_library_get_summary(tg_library *lib, int64_t id, char **summary);
/* Ids of the items a sync should work on: PENDING or FETCHED, and FAILED
 * with fewer than max_attempts attempts, oldest first (free() *ids). */
tg_status tg_library_pending(tg_library *lib, int32_t max_attempts, int64_t **ids, size_t *n);

/* Full-text search (FTS5, BM25 over title and text; title weighs more).
 * Query words are matched as words (prefix with a trailing '*'); FTS5
 * syntax is not exposed, so any string is a valid query. */
typedef struct tg_search_hit {
    int64_t id;
    double score;  /* higher is better */
    char *snippet; /* a passage with the matches, malloc'd */
} tg_search_hit;
tg_status tg_library_search(tg_library *lib, const char *query, size_t limit, tg_search_hit **hits, size_t *n);
void tg_search_hits_free(tg_search_hit *hits, size_t n);

/* Feeds (RSS/Atom subscriptions; OPML imports them). */
tg_status tg_library_feed_add(tg_library *lib, const char *url, const char *title, bool *added);
tg_status tg_library_feed_count(tg_library *lib, int64_t *n);
/* Every subscribed feed: malloc'd arrays of malloc'd strings (a title may
 * be NULL); free each string and both arrays. */
tg_status tg_library_feeds(tg_library *lib, char ***urls, char ***titles, size_t *n);
typedef struct tg_feed_stats {
    size_t entries, added, existing, skipped;
} tg_feed_stats;
/* Reads a fetched RSS or Atom document: each entry's link becomes a pending
 * item dated by the entry (existing ones are left alone), in one
 * transaction; the feed's check time and title are recorded.
 * TG_ERR_FORMAT if the document has no <item> or <entry>. */
tg_status tg_library_feed_read(tg_library *lib, const char *feed_url, const char *xml, size_t len,
                               tg_feed_stats *st);

/* ---- import / export ------------------------------------------------ */

typedef enum tg_import_format {
    TG_IMPORT_AUTO = 0,      /* guessed from the content            */
    TG_IMPORT_POCKET_CSV,    /* title,url,time_added,tags,status     */
    TG_IMPORT_POCKET_HTML,   /* Pocket's older ril_export.html       */
    TG_IMPORT_INSTAPAPER_CSV,/* URL,Title,Selection,Folder,Timestamp */
    TG_IMPORT_WALLABAG_JSON,
    TG_IMPORT_NETSCAPE_HTML, /* browser / Pinboard bookmark files    */
    TG_IMPORT_OPML,          /* feed subscriptions                   */
    TG_IMPORT_URLS,          /* one URL a line, '#' comments         */
    TG_IMPORT_JSON,          /* tinglado's own JSON export           */
    TG_IMPORT_CSV,           /* tinglado's own CSV export            */
} tg_import_format;
/* "pocket-csv", "pocket-html", "instapaper", "wallabag", "netscape", "opml",
 * "urls", "json", "csv" (and "auto"); -1 if unknown. */
int tg_import_format_parse(const char *name);
const char *tg_import_format_name(tg_import_format f);

typedef struct tg_import_stats {
    size_t added;    /* new items (or feeds, for OPML)       */
    size_t existing; /* already there (tags merged)          */
    size_t skipped;  /* entries without a usable http(s) URL */
    tg_import_format format; /* the format read (AUTO resolved) */
} tg_import_stats;
/* Imports a whole file in one transaction (all or nothing). */
tg_status tg_library_import(tg_library *lib, const char *data, size_t len, tg_import_format fmt,
                            tg_import_stats *st);

typedef enum tg_export_format { TG_EXPORT_JSON, TG_EXPORT_CSV, TG_EXPORT_NETSCAPE } tg_export_format;
/* The whole library (items, tags, states, dates; not page content) as a
 * malloc'd NUL-terminated document; each format imports back losslessly
 * for what it can hold. */
tg_status tg_library_export(tg_library *lib, tg_export_format fmt, char **out, size_t *len);

/* ---- extraction ---------------------------------------------------- */

/* The main article of an HTML page (UTF-8; a byte-order mark is skipped):
 * metadata, plain text and sanitised HTML.  url (may be NULL) resolves
 * relative links and images.  Never touches a database. */
tg_status tg_extract(const char *html, size_t len, const char *url, tg_article *out);

/* ---- fetching and syncing ----------------------------------------------- */

typedef struct tg_fetch_params {
    long timeout_s;          /* whole transfer (30)                          */
    long connect_timeout_s;  /* (10)                                         */
    int max_redirects;       /* (5); only to http and https                  */
    size_t max_bytes;        /* body size cap after decompression (10 MiB)   */
    int retries;             /* extra tries after timeouts, refused or reset
                                connections, 429 and 5xx (2)                 */
    long backoff_ms;         /* first wait between tries, doubled each (500) */
    const char *user_agent;
    bool accept_xml;         /* also accept XML bodies (feeds); default: HTML only */
} tg_fetch_params;
tg_fetch_params tg_fetch_default_params(void);

typedef struct tg_fetch_result {
    long status;         /* HTTP status of the last response             */
    char *final_url;     /* after redirects                              */
    char *content_type;
    char *charset;       /* what the body was decoded from               */
    char *body;          /* UTF-8, NUL-terminated                        */
    size_t len;
} tg_fetch_result;
/* Fetches one page.  Errors (message names URL and cause): TG_ERR_NOT_FOUND
 * for HTTP 404/410, TG_ERR_UNSUPPORTED for a body that is not HTML (PDF,
 * images …), TG_ERR_RANGE over the size cap, TG_ERR_IO for timeouts,
 * other HTTP errors and network failures. */
tg_status tg_fetch(const char *url, const tg_fetch_params *p, tg_fetch_result *out);
void tg_fetch_result_clear(tg_fetch_result *r);

typedef struct tg_sync_progress {
    size_t done, total, extracted, failed;
    int64_t id;         /* the item just finished            */
    const char *error;  /* its error, NULL if it succeeded   */
    int64_t merged_into; /* not 0: its page is another item's, and it was merged into that one */
} tg_sync_progress;

typedef struct tg_sync_params {
    int jobs;               /* pages fetched at once, all hosts together (4)   */
    int32_t max_attempts;   /* failed items are retried until this many (3)    */
    double host_delay_s;    /* between two requests to one host (1.0); one
                               request per host at a time                      */
    tg_fetch_params fetch;
    void (*progress)(const tg_sync_progress *p, void *user); /* after each item */
    void *user;
    /* polled before each item (NULL: never): true ends the sync early, the
     * items in flight finishing first (a server's worker shutting down) */
    bool (*stop)(void *user);
} tg_sync_params;
tg_sync_params tg_sync_default_params(void);

typedef struct tg_sync_stats {
    size_t total, extracted, failed;
    size_t merged; /* of the extracted: duplicates merged into the item that had their page */
} tg_sync_stats;
/* Fetches and extracts every pending item (and failed ones with attempts
 * left): each step commits on its own, so an interrupted sync resumes
 * where it stopped; an item whose page is stored is not fetched again.
 * An item whose final URL (or same-site rel=canonical) another item already
 * has is merged into that item (dates, tags and states kept). */
tg_status tg_library_sync(tg_library *lib, const tg_sync_params *p, tg_sync_stats *st);

/* ---- chunk embeddings and hybrid search -------------------------------- */

/* Cuts text into passages of at most max_words words (paragraphs packed
 * together, a passage ending at a paragraph break when one falls in its
 * second half): byte offsets and lengths into text (free() both). */
tg_status tg_read_chunk(const char *text, int32_t max_words, int32_t **offs, int32_t **lens, size_t *n);
/* Replaces the item's chunk embeddings (n × dim floats, by `model`); the
 * pipeline state is left as it is. */
tg_status tg_library_set_chunks(tg_library *lib, int64_t id, const char *model, const float *vecs, int32_t dim,
                                const int32_t *offs, const int32_t *lens, size_t n);
/* Extracted items without chunks from `model` (free() *ids). */
tg_status tg_library_unembedded(tg_library *lib, const char *model, int64_t **ids, size_t *n);
/* Items ranked by their best chunk's cosine similarity to q (a passage of
 * that chunk as the snippet). */
tg_status tg_library_vector_search(tg_library *lib, const char *model, const float *q, int32_t dim, size_t limit,
                                   tg_search_hit **hits, size_t *n);
/* BM25 and vector rankings (top 50 each) fused by reciprocal rank,
 * score = sum of 1/(60 + rank).  qvec NULL: BM25 alone. */
tg_status tg_library_search_hybrid(tg_library *lib, const char *query, const char *model, const float *qvec,
                                   int32_t dim, size_t limit, tg_search_hit **hits, size_t *n);

/* ---- language-model clients --------------------------------------------- */

/* The reading pipeline talks to a language model through one call: "complete
 * this request into JSON under this JSON Schema".  Two implementations: the
 * embedded engine (a GGUF run in-process, decoding under the grammar compiled
 * from the schema) and any OpenAI-compatible chat endpoint (response_format
 * json_schema).  A client handles one request at a time. */
typedef struct tg_llm tg_llm;

/* An OpenAI-compatible chat endpoint (tinglado serve, llama.cpp, vLLM, a
 * hosted API). */
typedef struct tg_llm_params {
    const char *url;   /* base URL, e.g. "http://127.0.0.1:8080/v1"       */
    const char *key;   /* bearer token, NULL/"" for none                   */
    const char *model; /* "default"                                        */
    long timeout_s;    /* per request (300)                                */
    int32_t max_chars; /* article text sent for enrichment, cut at a paragraph (6000) */
    int32_t max_tokens; /* reply budget (400)                              */
} tg_llm_params;
tg_llm_params tg_llm_default_params(void);
/* A client for the endpoint (strings are copied).  NULL without a URL. */
tg_llm *tg_llm_openai(const tg_llm_params *p);

/* The embedded engine. */
typedef struct tg_llm_engine_params {
    const char *model;  /* GGUF path or cached model name (NULL: TG_LLM_DEFAULT_MODEL) */
    int n_threads;      /* 0: all CPUs                                     */
    int32_t n_ctx;      /* positions (0: 4096, at most the trained length)  */
} tg_llm_engine_params;
#define TG_LLM_DEFAULT_MODEL "gemma-3-270m-q4_k_m"
tg_llm_engine_params tg_llm_engine_default_params(void);
/* Loads the model.  NULL with a message (not in the cache, bad file). */
tg_llm *tg_llm_engine(const tg_llm_engine_params *p);
void tg_llm_free(tg_llm *llm);
/* "embedded gemma-3-270m-q4_k_m.gguf" or the endpoint URL, for messages. */
const char *tg_llm_name(const tg_llm *llm);
/* True for the embedded engine (callers size prompts to its speed). */
bool tg_llm_is_embedded(const tg_llm *llm);

/* A worked example of the task: an input and the JSON it should give. */
typedef struct tg_llm_example {
    const char *input, *output;
} tg_llm_example;

typedef struct tg_llm_request {
    const char *instructions; /* the task: a chat endpoint's system message; the
                                 head of the embedded engine's prompt        */
    const tg_llm_example *examples; /* shown to the embedded engine before the
                                 input (a pretrained model continues a pattern;
                                 an instruction-tuned endpoint gets none)    */
    size_t n_examples;
    const char *input;        /* the text to work on                         */
    const char *schema;       /* JSON Schema (text) the reply must satisfy    */
    int32_t max_tokens;       /* reply budget (0: 400)                        */
    const char *reply_prefix; /* NULL, or how the embedded engine's reply
                                 starts: evaluated as part of the prompt and
                                 walked through the grammar, then returned
                                 with the rest (it anchors a small model in
                                 the input; an endpoint is not sent it)     */
    int32_t no_repeat_ngram;  /* n >= 2: the embedded engine never picks a
                                 token that would make an n-gram the reply
                                 already holds (a small greedy model loops:
                                 "A. B. A. B …"); unless the grammar allows
                                 nothing else.  0: plain greedy decoding   */
} tg_llm_request;
/* The model's reply as malloc'd text.  The embedded engine decodes greedily
 * under the grammar compiled from the schema, so its reply is JSON that
 * validates (TG_ERR_RANGE when the budget ends before the JSON does); a
 * remote endpoint is asked for the schema but may not honour it, so callers
 * validate what they get.  Errors name the model or endpoint (HTTP status
 * and message, an unreachable host). */
tg_status tg_llm_complete_json(tg_llm *llm, const tg_llm_request *req, char **json);

/* What the last request cost the embedded engine (all zero for an endpoint):
 * prompt tokens, of which reused from the KV cache (the head consecutive
 * requests share); reply tokens chosen, in how many forward passes; tokens
 * guessed by prompt lookup and guesses kept (see llm_engine.c). */
typedef struct tg_llm_stats {
    size_t prompt, reused, chosen, passes, guessed, kept;
} tg_llm_stats;
tg_llm_stats tg_llm_last_stats(const tg_llm *llm);

/* ---- enrichment ------------------------------------------------------------ */

typedef struct tg_enrichment {
    char *summary;
    char **tags;
    size_t n_tags;
    size_t n_chosen; /* tags[0, n_chosen) are the model's own; the rest were
                        filled in to make up three (stored as such)      */
    bool cut;        /* the model's summary was cut where it left the
                        article (sentences not the article's dropped)    */
} tg_enrichment;
void tg_enrichment_clear(tg_enrichment *e);
/* A 2-4 sentence summary and 3-7 tags for one article (its text cut at a
 * paragraph within max_chars bytes; 0: 6000), asked for as JSON under a
 * JSON Schema and validated (a summary of at least 6 words, cut before
 * its first sentence that is not the article's; tags with a letter);
 * known tags (the library's, most used first) are offered for reuse.  An
 * article under 6 words is its own summary.  Errors name the model. */
tg_status tg_enrich(tg_llm *llm, const char *title, const char *text, const char *const *known, size_t n_known,
                    int32_t max_chars, tg_enrichment *out);
/* Stores the summary and adds the tags in one transaction → ENRICHED. */
tg_status tg_library_set_summary_tags(tg_library *lib, int64_t id, const tg_enrichment *e);
/* Every tag in use, most used first (free each and the array). */
tg_status tg_library_tags(tg_library *lib, char ***tags, size_t *n);

/* ---- questions answered from the library (read ask; docs/reading.md) ---- */

typedef struct tg_ask_params {
    const char *embed_model; /* the name the embedder's chunks are stored under
                                (read embed: the model file's name); needed
                                with an embedder                              */
    int32_t k;               /* passages given to the model (4)               */
    int32_t passage_words;   /* passage size without an embedder's chunks (120) */
    float min_cosine;        /* with an embedder: no passage this close to the
                                question means "no answer" (see reading.md)  */
    int32_t max_tokens;      /* reply budget (100)                            */
    int32_t max_answer_chars; /* the answer's length limit in the schema (200) */
} tg_ask_params;
tg_ask_params tg_ask_default_params(void);

/* A passage given to the model: sources are numbered 1..n in that order. */
typedef struct tg_ask_source {
    int64_t item;
    char *title, *url;  /* the item's (title may be NULL)                  */
    char *passage;      /* the passage text                                */
    int32_t offset, length; /* its byte range in the item's text           */
    double cosine;      /* to the question (0 without an embedder)         */
    bool cited;         /* the answer cites it                             */
} tg_ask_source;

typedef struct tg_answer {
    bool found;         /* false: the library holds no answer (no citation) */
    char *text;         /* the answer, or why there is none                 */
    int32_t *citations; /* source numbers (1-based) the answer cites        */
    size_t n_citations;
    tg_ask_source *sources; /* every passage given to the model (none when
                               retrieval found nothing relevant)            */
    size_t n_sources;
    double best_cosine; /* the closest passage's cosine (-1 without an embedder) */
} tg_answer;
void tg_answer_clear(tg_answer *a);

/* Answers a question from the library: retrieves the top k passages
 * (chunk-level: cosine to the question over every chunk of embed_model
 * fused by reciprocal rank with a word-overlap ranking of the passages of
 * the items full-text search finds; embedder NULL: word overlap alone),
 * gives them numbered to the model, and asks for {"citations", "answer"}
 * under a JSON Schema (citations are integers in 1..k).  When nothing
 * relevant is found, or the model cites nothing, out->found is false and
 * the answer says the library holds none. */
tg_status tg_library_ask(tg_library *lib, tg_llm *llm, tg_embedder *embedder, const tg_ask_params *p,
                         const char *question, tg_answer *out);
/* The answer as a malloc'd JSON object: {"question", "found", "answer",
 * "citations": [n…], "sources": [{"n", "item", "title", "url", "passage",
 * "cited", "cosine", "offset", "length"}…], "best_cosine"}. */
char *tg_answer_json(const tg_answer *a, const char *question);

/* ---- digest ---------------------------------------------------------------- */

typedef enum tg_digest_format { TG_DIGEST_MD, TG_DIGEST_HTML } tg_digest_format;
/* The items saved or enriched at or after `since` (Unix seconds), grouped
 * by tag (an item under each of its tags; untagged ones last): title, link,
 * site, reading time, summary.  HTML output escapes every stored string and
 * keeps only http(s) links.  A malloc'd document. */
tg_status tg_library_digest(tg_library *lib, int64_t since, tg_digest_format fmt, char **out);

#ifdef __cplusplus
}
#endif
#endif /* TINGLADO_H */
