/*
 * gguf_internal.h — the layout of an open GGUF handle, shared by the reader
 * (gguf_read.c) and the writer (gguf_write.c).  Not public API.
 */
#ifndef TG_GGUF_INTERNAL_H
#define TG_GGUF_INTERNAL_H

#include "base/base.h"

/* How deep arrays of arrays may nest; deeper is refused as malformed, which
 * bounds the reader's recursion. */
#define TG_GGUF_MAX_NESTING 8

typedef struct tg__gguf_kv {
    tg_str key;
    tg_gguf_value value;
    tg_str *strs; /* owned element index of a string array, or NULL */
} tg__gguf_kv;

struct tg_gguf {
    char *path;          /* for messages */
    const uint8_t *base; /* the image */
    size_t size;
    bool mapped;         /* base is our mmap (unmapped on close) */

    uint32_t version;
    size_t alignment;
    size_t data_offset; /* start of the tensor data section */

    size_t n_kv;
    tg__gguf_kv *kv;
    uint32_t *kv_index; /* open addressing, entry+1; 0 = empty */
    size_t kv_index_cap;

    size_t n_tensors;
    tg_gguf_tensor *tensors;
    uint32_t *tensor_index;
    size_t tensor_index_cap;
};

/* Size in bytes of a fixed-size metadata value type; 0 for string/array. */
size_t tg__gguf_type_size(tg_gguf_type t);

#endif /* TG_GGUF_INTERNAL_H */
