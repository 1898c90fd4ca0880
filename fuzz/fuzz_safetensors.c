/*
 * fuzz_safetensors.c — libFuzzer target for the safetensors reader
 * (src/convert/safetensors.c): arbitrary bytes as a whole file image.
 *
 * Checks beyond "no crash": every tensor the parser accepts lies inside the
 * image, its byte size matches its shape and dtype, and decoding all of a
 * float tensor (bounded to keep runs fast) stays inside it.
 */
#include "convert/convert.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg__safetensors *st = tg__st_parse(data, size, "fuzz");
    if (!st)
        return 0;
    float buf[4096];
    for (size_t i = 0; i < tg__st_n_tensors(st); i++) {
        const tg__st_tensor *t = tg__st_tensor_at(st, i);
        if (t->data < data || t->data + t->nbytes > data + size || t->n_dims < 0 || t->n_dims > TG_ST_MAX_DIMS)
            abort();
        if (tg__st_find(st, t->name) == NULL)
            abort();
        if (t->dtype == TG_ST_F32 || t->dtype == TG_ST_F16 || t->dtype == TG_ST_BF16) {
            int64_t n = t->n_elements < 4096 ? t->n_elements : 4096;
            if (tg__st_read_f32(t, 0, n, buf) != TG_OK)
                abort();
            if (tg__st_read_f32(t, t->n_elements, 1, buf) == TG_OK) /* one past the end */
                abort();
        }
    }
    tg__st_close(st);
    return 0;
}
