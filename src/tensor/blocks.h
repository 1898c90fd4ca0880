/*
 * blocks.h — the byte layout of every quantized block type tinglado computes
 * with, one packed struct per type, each with a static assert on its size.
 *
 * These layouts are facts of the GGUF/ggml format (ggml-common.h); a struct
 * here must never gain padding or reorder a field, or every model file would
 * be misread.  All multi-byte fields are little-endian; like ggml we read
 * them natively, so tinglado assumes a little-endian host (asserted below).
 *
 * The structs are packed (alignment 1) because a block may sit at any byte
 * offset of a memory-mapped file (GGUF alignment may be as small as 1, and
 * an 18-byte Q4_0 block never lands on a 4-byte boundary anyway); the
 * compiler then emits unaligned-safe loads.  Never take the address of a
 * multi-byte member (e.g. &b->bsums[0]): read elements through the struct.
 *
 * "f16" fields hold IEEE binary16 bits, decoded with tg_f16_to_f32.
 */
#ifndef TG_TENSOR_BLOCKS_H
#define TG_TENSOR_BLOCKS_H

#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tinglado reads GGUF blocks in place and needs a little-endian host"
#endif

#define TG_QK4_0 32
#define TG_QK4_1 32
#define TG_QK5_0 32
#define TG_QK5_1 32
#define TG_QK8_0 32
#define TG_QK8_1 32
#define TG_QK_K 256
#define TG_K_SCALE_SIZE 12 /* packed 6-bit scales+mins of Q4_K/Q5_K */

#define TG_PACKED __attribute__((packed))

/* 32 weights: value = d * (nibble - 8).  Nibble j<16 is the low half of
 * qs[j], nibble j>=16 the high half of qs[j-16]. */
typedef struct TG_PACKED tg_block_q4_0 {
    uint16_t d; /* f16 scale */
    uint8_t qs[TG_QK4_0 / 2];
} tg_block_q4_0;
_Static_assert(sizeof(tg_block_q4_0) == 18, "q4_0 block is 18 bytes");

/* 32 weights: value = d * nibble + m. */
typedef struct TG_PACKED tg_block_q4_1 {
    uint16_t d; /* f16 scale   */
    uint16_t m; /* f16 minimum */
    uint8_t qs[TG_QK4_1 / 2];
} tg_block_q4_1;
_Static_assert(sizeof(tg_block_q4_1) == 20, "q4_1 block is 20 bytes");

/* 32 weights: value = d * (nibble + 16*hbit - 16); hbit j is bit j of qh
 * read as a little-endian u32. */
typedef struct TG_PACKED tg_block_q5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[TG_QK5_0 / 2];
} tg_block_q5_0;
_Static_assert(sizeof(tg_block_q5_0) == 22, "q5_0 block is 22 bytes");

/* 32 weights: value = d * (nibble + 16*hbit) + m. */
typedef struct TG_PACKED tg_block_q5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[TG_QK5_1 / 2];
} tg_block_q5_1;
_Static_assert(sizeof(tg_block_q5_1) == 24, "q5_1 block is 24 bytes");

/* 32 values: value = d * qs. */
typedef struct TG_PACKED tg_block_q8_0 {
    uint16_t d;
    int8_t qs[TG_QK8_0];
} tg_block_q8_0;
_Static_assert(sizeof(tg_block_q8_0) == 34, "q8_0 block is 34 bytes");

/* Q8_0 plus s = d * sum(qs), which lets Q4_1/Q5_1 dot products add the
 * minimum term without touching the quants again. */
typedef struct TG_PACKED tg_block_q8_1 {
    uint16_t d;
    uint16_t s; /* f16 of d * sum(qs) */
    int8_t qs[TG_QK8_1];
} tg_block_q8_1;
_Static_assert(sizeof(tg_block_q8_1) == 36, "q8_1 block is 36 bytes");

/* 256 weights in 16 groups of 16; each scales byte holds a 4-bit scale (low)
 * and a 4-bit min (high): value = d*(sc&15)*q - dmin*(sc>>4), q 2 bits. */
typedef struct TG_PACKED tg_block_q2_K {
    uint8_t scales[TG_QK_K / 16];
    uint8_t qs[TG_QK_K / 4];
    uint16_t d;
    uint16_t dmin;
} tg_block_q2_K;
_Static_assert(sizeof(tg_block_q2_K) == 84, "q2_K block is 84 bytes");

/* 256 weights in 16 groups of 16 with 6-bit signed scales (offset 32) packed
 * into 12 bytes; q = 2 low bits from qs minus 4 unless the hmask bit is set. */
typedef struct TG_PACKED tg_block_q3_K {
    uint8_t hmask[TG_QK_K / 8];
    uint8_t qs[TG_QK_K / 4];
    uint8_t scales[12];
    uint16_t d;
} tg_block_q3_K;
_Static_assert(sizeof(tg_block_q3_K) == 110, "q3_K block is 110 bytes");

/* 256 weights in 8 groups of 32 with 6-bit scales and mins (12 bytes):
 * value = d*sc*q - dmin*m, q 4 bits. */
typedef struct TG_PACKED tg_block_q4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[TG_K_SCALE_SIZE];
    uint8_t qs[TG_QK_K / 2];
} tg_block_q4_K;
_Static_assert(sizeof(tg_block_q4_K) == 144, "q4_K block is 144 bytes");

/* Q4_K plus a fifth bit per weight in qh. */
typedef struct TG_PACKED tg_block_q5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[TG_K_SCALE_SIZE];
    uint8_t qh[TG_QK_K / 8];
    uint8_t qs[TG_QK_K / 2];
} tg_block_q5_K;
_Static_assert(sizeof(tg_block_q5_K) == 176, "q5_K block is 176 bytes");

/* 256 weights in 16 groups of 16 with int8 scales: value = d*sc*(q - 32),
 * q 6 bits (4 in ql, 2 in qh). */
typedef struct TG_PACKED tg_block_q6_K {
    uint8_t ql[TG_QK_K / 2];
    uint8_t qh[TG_QK_K / 4];
    int8_t scales[TG_QK_K / 16];
    uint16_t d;
} tg_block_q6_K;
_Static_assert(sizeof(tg_block_q6_K) == 210, "q6_K block is 210 bytes");

/* The activation type of the K-quants: 256 int8 values with an f32 (not
 * f16) scale, plus the sums of each 16 values so the min terms of Q2_K,
 * Q4_K and Q5_K need no pass over the quants. */
typedef struct TG_PACKED tg_block_q8_K {
    float d;
    int8_t qs[TG_QK_K];
    int16_t bsums[TG_QK_K / 16];
} tg_block_q8_K;
_Static_assert(sizeof(tg_block_q8_K) == 292, "q8_K block is 292 bytes");

#endif /* TG_TENSOR_BLOCKS_H */
