/*
 * type.c — the type-traits table: for every ggml type a GGUF file may hold,
 * its name, block geometry, and (where tinglado supports it) the functions
 * that decode, encode and dot-product its rows.
 *
 * The block geometry of every known type is listed even when tinglado cannot
 * compute with it, so the GGUF reader can still validate tensor sizes of
 * files that use such types; the model loader rejects them later by name.
 * Sizes are facts of the format (ggml-common.h / gguf-py GGML_QUANT_SIZES).
 *
 * vec_dot_type is the type the other operand of vec_dot must be converted to
 * (ggml's CPU choice): activations are quantized to Q8_0/Q8_1/Q8_K so the
 * inner loops are integer.  Q8_1 and Q8_K exist only as such operands and
 * have no vec_dot of their own.
 */
#include "base/base.h"
#include "tensor/blocks.h"
#include "tensor/tensor.h"

#define QK_K 256

/* The table's sizes and the block structs must describe the same bytes. */
_Static_assert(sizeof(tg_block_q4_0) == 2 + 16, "q4_0");
_Static_assert(sizeof(tg_block_q4_1) == 2 + 2 + 16, "q4_1");
_Static_assert(sizeof(tg_block_q5_0) == 2 + 4 + 16, "q5_0");
_Static_assert(sizeof(tg_block_q5_1) == 2 + 2 + 4 + 16, "q5_1");
_Static_assert(sizeof(tg_block_q8_0) == 2 + 32, "q8_0");
_Static_assert(sizeof(tg_block_q8_1) == 2 + 2 + 32, "q8_1");
_Static_assert(sizeof(tg_block_q2_K) == 2 + 2 + QK_K / 16 + QK_K / 4, "q2_K");
_Static_assert(sizeof(tg_block_q3_K) == 2 + QK_K / 4 + QK_K / 8 + 12, "q3_K");
_Static_assert(sizeof(tg_block_q4_K) == 2 + 2 + QK_K / 2 + 12, "q4_K");
_Static_assert(sizeof(tg_block_q5_K) == 2 + 2 + QK_K / 2 + QK_K / 8 + 12, "q5_K");
_Static_assert(sizeof(tg_block_q6_K) == 2 + QK_K / 2 + QK_K / 4 + QK_K / 16, "q6_K");
_Static_assert(sizeof(tg_block_q8_K) == 4 + QK_K + QK_K / 8, "q8_K");

static const tg_type_traits traits[TG_TYPE_COUNT] = {
    [TG_TYPE_F32] = {.name = "f32", .block_size = 1, .type_size = 4,
        .to_float = tg__f32_to_float, .from_float = tg__f32_from_float, .vec_dot = tg__f32_vec_dot, .vec_dot_type = TG_TYPE_F32},
    [TG_TYPE_F16] = {.name = "f16", .block_size = 1, .type_size = 2,
        .to_float = tg__f16_to_float, .from_float = tg__f16_from_float, .vec_dot = tg__f16_vec_dot, .vec_dot_type = TG_TYPE_F16},
    [TG_TYPE_Q4_0] = {.name = "q4_0", .block_size = 32, .type_size = 2 + 16, .is_quantized = true,
        .to_float = tg__q4_0_to_float, .from_float = tg__q4_0_from_float, .vec_dot = tg__q4_0_vec_dot, .vec_dot_type = TG_TYPE_Q8_0},
    [TG_TYPE_Q4_1] = {.name = "q4_1", .block_size = 32, .type_size = 2 + 2 + 16, .is_quantized = true,
        .to_float = tg__q4_1_to_float, .from_float = tg__q4_1_from_float, .vec_dot = tg__q4_1_vec_dot, .vec_dot_type = TG_TYPE_Q8_1},
    [TG_TYPE_Q5_0] = {.name = "q5_0", .block_size = 32, .type_size = 2 + 4 + 16, .is_quantized = true,
        .to_float = tg__q5_0_to_float, .from_float = tg__q5_0_from_float, .vec_dot = tg__q5_0_vec_dot, .vec_dot_type = TG_TYPE_Q8_0},
    [TG_TYPE_Q5_1] = {.name = "q5_1", .block_size = 32, .type_size = 2 + 2 + 4 + 16, .is_quantized = true,
        .to_float = tg__q5_1_to_float, .from_float = tg__q5_1_from_float, .vec_dot = tg__q5_1_vec_dot, .vec_dot_type = TG_TYPE_Q8_1},
    [TG_TYPE_Q8_0] = {.name = "q8_0", .block_size = 32, .type_size = 2 + 32, .is_quantized = true,
        .to_float = tg__q8_0_to_float, .from_float = tg__q8_0_from_float, .vec_dot = tg__q8_0_vec_dot, .vec_dot_type = TG_TYPE_Q8_0},
    [TG_TYPE_Q8_1] = {.name = "q8_1", .block_size = 32, .type_size = 2 + 2 + 32, .is_quantized = true,
        .to_float = tg__q8_1_to_float, .from_float = tg__q8_1_from_float, .vec_dot_type = TG_TYPE_Q8_1},
    [TG_TYPE_Q2_K] = {.name = "q2_K", .block_size = QK_K, .type_size = 2 + 2 + QK_K / 16 + QK_K / 4, .is_quantized = true,
        .to_float = tg__q2_K_to_float, .from_float = tg__q2_K_from_float, .vec_dot = tg__q2_K_vec_dot, .vec_dot_type = TG_TYPE_Q8_K},
    [TG_TYPE_Q3_K] = {.name = "q3_K", .block_size = QK_K, .type_size = 2 + QK_K / 4 + QK_K / 8 + 12, .is_quantized = true,
        .to_float = tg__q3_K_to_float, .from_float = tg__q3_K_from_float, .vec_dot = tg__q3_K_vec_dot, .vec_dot_type = TG_TYPE_Q8_K},
    [TG_TYPE_Q4_K] = {.name = "q4_K", .block_size = QK_K, .type_size = 2 + 2 + QK_K / 2 + 12, .is_quantized = true,
        .to_float = tg__q4_K_to_float, .from_float = tg__q4_K_from_float, .vec_dot = tg__q4_K_vec_dot, .vec_dot_type = TG_TYPE_Q8_K},
    [TG_TYPE_Q5_K] = {.name = "q5_K", .block_size = QK_K, .type_size = 2 + 2 + QK_K / 2 + QK_K / 8 + 12, .is_quantized = true,
        .to_float = tg__q5_K_to_float, .from_float = tg__q5_K_from_float, .vec_dot = tg__q5_K_vec_dot, .vec_dot_type = TG_TYPE_Q8_K},
    [TG_TYPE_Q6_K] = {.name = "q6_K", .block_size = QK_K, .type_size = 2 + QK_K / 2 + QK_K / 4 + QK_K / 16, .is_quantized = true,
        .to_float = tg__q6_K_to_float, .from_float = tg__q6_K_from_float, .vec_dot = tg__q6_K_vec_dot, .vec_dot_type = TG_TYPE_Q8_K},
    [TG_TYPE_Q8_K] = {.name = "q8_K", .block_size = QK_K, .type_size = 4 + QK_K + QK_K / 8, .is_quantized = true,
        .to_float = tg__q8_K_to_float, .from_float = tg__q8_K_from_float, .vec_dot_type = TG_TYPE_Q8_K},
    [TG_TYPE_IQ2_XXS] = {.name = "iq2_xxs", .block_size = QK_K, .type_size = 2 + QK_K / 4, .is_quantized = true},
    [TG_TYPE_IQ2_XS] = {.name = "iq2_xs", .block_size = QK_K, .type_size = 2 + QK_K / 4 + QK_K / 32, .is_quantized = true},
    [TG_TYPE_IQ3_XXS] = {.name = "iq3_xxs", .block_size = QK_K, .type_size = 2 + QK_K / 4 + QK_K / 8, .is_quantized = true},
    [TG_TYPE_IQ1_S] = {.name = "iq1_s", .block_size = QK_K, .type_size = 2 + QK_K / 8 + QK_K / 16, .is_quantized = true},
    [TG_TYPE_IQ4_NL] = {.name = "iq4_nl", .block_size = 32, .type_size = 2 + 16, .is_quantized = true},
    [TG_TYPE_IQ3_S] = {.name = "iq3_s", .block_size = QK_K, .type_size = 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4, .is_quantized = true},
    [TG_TYPE_IQ2_S] = {.name = "iq2_s", .block_size = QK_K, .type_size = 2 + QK_K / 4 + QK_K / 16, .is_quantized = true},
    [TG_TYPE_IQ4_XS] = {.name = "iq4_xs", .block_size = QK_K, .type_size = 2 + 2 + QK_K / 2 + QK_K / 64, .is_quantized = true},
    [TG_TYPE_I8] = {.name = "i8", .block_size = 1, .type_size = 1},
    [TG_TYPE_I16] = {.name = "i16", .block_size = 1, .type_size = 2},
    [TG_TYPE_I32] = {.name = "i32", .block_size = 1, .type_size = 4},
    [TG_TYPE_I64] = {.name = "i64", .block_size = 1, .type_size = 8},
    [TG_TYPE_F64] = {.name = "f64", .block_size = 1, .type_size = 8},
    [TG_TYPE_IQ1_M] = {.name = "iq1_m", .block_size = QK_K, .type_size = QK_K / 8 + QK_K / 16 + QK_K / 32, .is_quantized = true},
    [TG_TYPE_BF16] = {.name = "bf16", .block_size = 1, .type_size = 2,
        .to_float = tg__bf16_to_float, .from_float = tg__bf16_from_float, .vec_dot = tg__bf16_vec_dot, .vec_dot_type = TG_TYPE_BF16},
    [TG_TYPE_TQ1_0] = {.name = "tq1_0", .block_size = QK_K, .type_size = 2 + 4 * 13, .is_quantized = true},
    [TG_TYPE_TQ2_0] = {.name = "tq2_0", .block_size = QK_K, .type_size = 2 + 64, .is_quantized = true},
    [TG_TYPE_MXFP4] = {.name = "mxfp4", .block_size = 32, .type_size = 1 + 16, .is_quantized = true},
};

const tg_type_traits *tg_type_get(uint32_t type) {
    if (type >= TG_TYPE_COUNT || traits[type].name == NULL)
        return NULL;
    return &traits[type];
}

const char *tg_type_name(uint32_t type) {
    const tg_type_traits *t = tg_type_get(type);
    return t ? t->name : "?";
}

size_t tg_type_row_size(tg_type type, int64_t n) {
    const tg_type_traits *t = tg_type_get((uint32_t)type);
    if (!t) {
        tg__fail(TG_ERR_UNSUPPORTED, "unknown tensor type %u", (unsigned)type);
        return 0;
    }
    if (n < 0 || n % t->block_size != 0) {
        tg__fail(TG_ERR_FORMAT, "row of %lld elements is not a whole number of %s blocks (%lld)",
                 (long long)n, t->name, (long long)t->block_size);
        return 0;
    }
    size_t bytes;
    if (!tg__mul_size((size_t)(n / t->block_size), t->type_size, &bytes)) {
        tg__fail(TG_ERR_RANGE, "row of %lld %s elements overflows size_t", (long long)n, t->name);
        return 0;
    }
    return bytes;
}
