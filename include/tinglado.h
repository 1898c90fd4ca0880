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

#ifdef __cplusplus
}
#endif
#endif /* TINGLADO_H */
